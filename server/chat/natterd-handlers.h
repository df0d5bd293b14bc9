/* natterd-handlers.h: the dispatch table, after Redis's command table.
 * Adding a request type is adding a row and a handler.
 */
#pragma once

#include "natterd-request.h"

G_BEGIN_DECLS

typedef enum {
  NATTERD_HANDLER_NEEDS_AUTH     = 1 << 0, /* not_authenticated before login */
  NATTERD_HANDLER_BEFORE_AUTH    = 1 << 1, /* already_authenticated after login */
  NATTERD_HANDLER_PAUSES         = 1 << 2, /* later frames wait until it finishes */
} NatterdHandlerFlags;

typedef void (*NatterdHandlerFunc) (NatterdRequest *request);

typedef struct {
  const char          *type;
  NatterdHandlerFunc   func;
  NatterdHandlerFlags  flags;
} NatterdHandler;

/* Looks up @type in the table (every request type of the contract but
 * "ping"/"pong", which the connection answers itself). NULL: unknown_type. */
const NatterdHandler *natterd_handlers_lookup (const char *type);

G_END_DECLS
