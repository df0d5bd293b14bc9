/* natterd-features.h: the "features" of a login or registration
 * (docs/protocol.md, Session, Features): which extensions of protocol 1 a
 * connection turns on. The connection keeps them
 * (natterd_connection_get_features); a logout turns them off.
 */
#pragma once

#include "natter-features.h"
#include "natter-json.h"
#include "natterd-request.h"

G_BEGIN_DECLS

/* Reads the request's optional "features": *out_features the offered
 * ones it names, *out_present whether it has the field. FALSE after
 * answering invalid_argument (not an array of at most
 * NATTER_FEATURES_MAX strings of 1 to NATTER_FEATURE_NAME_MAX bytes). */
gboolean natterd_features_read  (NatterdRequest   *request,
                                 guint            *out_features,
                                 gboolean         *out_present);
/* Writes "features":[…] (the names in @features, in the server's order). */
void     natterd_features_write (NatterJsonWriter *writer,
                                 guint             features);
/* TRUE when @connection has message actions on. */
#define natterd_has_actions(connection) \
  ((natterd_connection_get_features (connection) & NATTER_FEATURE_MESSAGE_ACTIONS) != 0)

G_END_DECLS
