/* natter-conversation.h: a direct conversation ("@bob") or a room ("#general").
 *
 * Its messages are a GListModel of NatterMessage in id order, with the
 * messages still being sent at the end. Events, sync and paging of older
 * history all merge into that one model by id, so a message never shows
 * twice.
 */
#pragma once

#include <gio/gio.h>

#include "natter-message.h"
#include "natter-room.h"
#include "natter-user.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CONVERSATION (natter_conversation_get_type ())
G_DECLARE_FINAL_TYPE (NatterConversation, natter_conversation, NATTER, CONVERSATION, GObject)

/* "@bob" or "#general". */
const char    *natter_conversation_get_address          (NatterConversation *self);
/* The peer's display name, or the room name. */
const char    *natter_conversation_get_title            (NatterConversation *self);
/* The peer of a direct conversation; NULL for a room. */
NatterUser    *natter_conversation_get_peer             (NatterConversation *self);
/* The room; NULL for a direct conversation (and for a room we are not in). */
NatterRoom    *natter_conversation_get_room             (NatterConversation *self);
gboolean       natter_conversation_is_room              (NatterConversation *self);
/* The newest message (sent or sending); NULL when there is none. */
NatterMessage *natter_conversation_get_last_message     (NatterConversation *self);
/* Who wrote it (the client's interned user, so its display name), or NULL. */
NatterUser    *natter_conversation_get_last_sender      (NatterConversation *self);
/* ms since the epoch of the newest message, 0 when none. */
gint64         natter_conversation_get_last_activity    (NatterConversation *self);
guint          natter_conversation_get_unread           (NatterConversation *self);
/* The highest message id we have read. */
gint64         natter_conversation_get_read_up_to       (NatterConversation *self);
/* The highest message id another member has read (drives "seen"). */
gint64         natter_conversation_get_peer_read_up_to  (NatterConversation *self);
/* Human text such as "bob is typing…"; NULL when nobody types. */
const char    *natter_conversation_get_typing           (NatterConversation *self);
/* How the conversation notifies us (feature message_actions; ALL
 * without it). */
NatterNotifyLevel natter_conversation_get_notify_level   (NatterConversation *self);
/* TRUE while older history may exist on the server. */
gboolean       natter_conversation_get_has_more_history (NatterConversation *self);

/* A GListModel of NatterMessage, oldest first (transfer none; lives as long
 * as the conversation). */
GListModel    *natter_conversation_get_messages         (NatterConversation *self);

/* Fetches the 50 messages before the oldest one the model holds and merges
 * them in. Fails with NATTER_CLIENT_ERROR_NOT_CONNECTED when offline. */
void           natter_conversation_load_older_async     (NatterConversation  *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
/* Returns the number of messages added (0 at the beginning of history), or
 * -1 with @error set. */
gint           natter_conversation_load_older_finish    (NatterConversation  *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

G_END_DECLS
