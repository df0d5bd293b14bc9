/* natterd-handlers.h: the chat layer's dispatch table (natterd-requests.def).
 */
#pragma once

#include "natterd-service.h"

G_BEGIN_DECLS

/* Looks up @type in the table (every request type of the contract but
 * "ping"/"pong", which the connection answers itself). NULL: unknown_type. */
const NatterdHandler *natterd_handlers_lookup (const char *type);

/* TRUE when the table is sorted, as bsearch needs (a unit test asks). */
gboolean              natterd_handlers_check_sorted (void);

G_END_DECLS
