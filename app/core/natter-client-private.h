/* natter-client-private.h: what the other core classes ask of the client. */
#pragma once

#include "natter-client.h"

G_BEGIN_DECLS

/* Pages older history of @conversation into its model (see
 * natter_conversation_load_older_async()). */
void  natter_client_load_history_async  (NatterClient        *self,
                                         NatterConversation  *conversation,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gint  natter_client_load_history_finish (NatterClient        *self,
                                         GAsyncResult        *result,
                                         GError             **error);

G_END_DECLS
