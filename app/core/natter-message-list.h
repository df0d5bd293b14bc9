/* natter-message-list.h: the GListModel of one conversation's messages.
 *
 * A plain array sorted by id, with the messages still being sent (id 0)
 * at the end in the order they were written. Notices (a room's "bob
 * joined", natter_message_is_notice()) stand among the stored messages
 * after the message id they came after; the getters of messages below
 * (oldest, newest, last, count) skip them. New messages almost always
 * land at the end of the stored part, so an insert is a binary search and
 * a short move; a batch of newer messages (sync) is one items-changed.
 * Lookups by id are binary searches; by client_msg_id a hash table.
 */
#pragma once

#include <gio/gio.h>

#include "natter-message.h"

G_BEGIN_DECLS

#define NATTER_TYPE_MESSAGE_LIST (natter_message_list_get_type ())
G_DECLARE_FINAL_TYPE (NatterMessageList, natter_message_list, NATTER, MESSAGE_LIST, GObject)

NatterMessageList *natter_message_list_new            (void);

/* Adds a stored message (id > 0) in id order. FALSE (and nothing changes)
 * when a message with that id is already there. */
gboolean           natter_message_list_insert         (NatterMessageList *self,
                                                       NatterMessage     *message);
/* Adds stored messages (any order, duplicates skipped) with as few
 * items-changed emissions as possible. Returns how many were new. */
guint              natter_message_list_merge          (NatterMessageList *self,
                                                       GPtrArray         *messages);
/* Appends a message being sent (id 0) at the end. */
void               natter_message_list_append_pending (NatterMessageList *self,
                                                       NatterMessage     *message);
/* A pending message got its id (natter_message_set_sent() was called):
 * moves it into the stored part. If a stored message with that id is
 * already there, the pending one is dropped and FALSE returned. */
gboolean           natter_message_list_settle         (NatterMessageList *self,
                                                       NatterMessage     *pending);

/* Removes a message still pending (id 0: being sent, or failed). FALSE
 * when @pending is not one of this list's pending messages. */
gboolean           natter_message_list_remove_pending (NatterMessageList *self,
                                                       NatterMessage     *pending);

NatterMessage     *natter_message_list_find_id        (NatterMessageList *self,
                                                       gint64             id);
/* The position of the stored message @id, or -1. */
gint               natter_message_list_find_position  (NatterMessageList *self,
                                                       gint64             id);
/* Adds a notice in its place among the stored messages. */
void               natter_message_list_insert_notice  (NatterMessageList *self,
                                                       NatterMessage     *notice);
/* Pending messages only. */
NatterMessage     *natter_message_list_find_pending   (NatterMessageList *self,
                                                       const char        *client_msg_id);
/* The stored message with the smallest / largest id, or NULL. */
NatterMessage     *natter_message_list_get_oldest     (NatterMessageList *self);
NatterMessage     *natter_message_list_get_newest_stored (NatterMessageList *self);
/* The last item (a pending one if any), or NULL. */
NatterMessage     *natter_message_list_get_last       (NatterMessageList *self);
/* Stored messages with id > @after_id not sent by @me. */
guint              natter_message_list_count_after    (NatterMessageList *self,
                                                       gint64             after_id,
                                                       const char        *me);
void               natter_message_list_clear          (NatterMessageList *self);

G_END_DECLS
