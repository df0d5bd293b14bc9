/* natter-client-messages.c: messages into their conversations, merged by id:
 * "message" events, acks, sync pages and history; history paging and search.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-message-private.h"

#define HISTORY_PAGE_LIMIT     50

/* Our own message (from an ack, sync or another device) that matches one
 * still in the outbox: the pending copy becomes the stored one. */
gboolean
natter_client_messages_settle_pending (NatterClient  *self,
                                       NatterMessage *stored)
{
  const char *client_msg_id = natter_message_get_client_msg_id (stored);
  g_autoptr(GError) error = NULL;
  NatterConversation *conv;
  NatterMessage *pending;

  if (client_msg_id == NULL || !natter_message_get_outgoing (stored))
    return FALSE;
  pending = g_hash_table_lookup (self->sending, client_msg_id);
  if (pending == NULL)
    return FALSE;

  conv = natter_client_lookup_conversation (self, natter_message_get_conversation (pending), TRUE);
  natter_message_set_sent (pending, natter_message_get_id (stored),
                           natter_message_get_timestamp (stored));
  natter_message_list_settle (natter_conversation_get_list (conv), pending);
  natter_conversation_refresh (conv, me_name (self));

  natter_client_files_drop_previews (self, client_msg_id);
  if (!natter_outbox_remove (self->outbox, client_msg_id, &error))
    g_warning ("Cannot update the outbox: %s", error->message);
  g_hash_table_remove (self->in_flight, client_msg_id);
  g_hash_table_remove (self->sending, client_msg_id);
  return TRUE;
}

gboolean
natter_client_messages_put (NatterClient       *self,
                            NatterConversation *conv,
                            NatterMessage      *msg)
{
  NatterMessageList *list = natter_conversation_get_list (conv);

  if (natter_message_list_find_id (list, natter_message_get_id (msg)) != NULL)
    {
      natter_client_actions_apply_server (self, conv, msg);
      return FALSE;
    }
  natter_client_actions_prepare_new (self, conv, msg);
  return natter_message_list_insert (list, msg);
}

/* One message that arrived alone: an event, an ack, or a conversation's
 * newest message that raced ahead of its event. @advance says whether its
 * id may move last_id: only frames the server sends in id order may. */
void
natter_client_messages_add_single (NatterClient *self,
                                   JsonObject   *obj,
                                   gboolean      notify,
                                   gboolean      advance)
{
  g_autoptr(NatterMessage) msg = NULL;
  g_autoptr(GError) error = NULL;
  NatterConversation *conv;
  gint64 id;

  msg = natter_message_new_from_json (obj, me_name (self), &error);
  if (msg == NULL)
    {
      g_debug ("Ignoring a malformed message: %s", error->message);
      return;
    }

  id = natter_message_get_id (msg);
  if (advance)
    natter_client_note_id (self, id);

  if (natter_client_messages_settle_pending (self, msg))
    return;

  conv = natter_client_lookup_conversation (self, natter_message_get_conversation (msg), TRUE);
  /* A "message" event of a message held already brings nothing new (its
   * changes come as message_changed): the copy shown stays. */
  if (conv == NULL ||
      natter_message_list_find_id (natter_conversation_get_list (conv), id) != NULL)
    return;
  natter_client_actions_prepare_new (self, conv, msg);
  if (!natter_message_list_insert (natter_conversation_get_list (conv), msg))
    return;

  natter_conversation_refresh (conv, me_name (self));

  if (!natter_message_get_outgoing (msg))
    {
      NatterUser *sender = natter_client_lookup_user (self, natter_message_get_sender (msg));

      if (sender != NULL)
        natter_conversation_set_user_typing (conv, sender, FALSE);
      if (id > natter_conversation_get_read_up_to (conv))
        natter_conversation_set_unread (conv, natter_conversation_get_unread (conv) + 1);
      if (notify)
        natter_client_emit_message_received (self, conv, msg);
    }
  else
    {
      /* Sent from another device: we have read up to it. */
      natter_conversation_set_read_up_to (conv, id);
    }
}

static void
add_live_message (NatterClient *self,
                  JsonObject   *obj,
                  gboolean      notify)
{
  natter_client_messages_add_single (self, obj, notify, TRUE);
}

/* A "message" event. */
void
natter_client_messages_handle_message (NatterClient *self,
                                       JsonObject   *frame)
{
  JsonObject *message = get_object (frame, "message");

  /* Before sign-in completes nothing is pushed; be safe anyway. */
  if (message != NULL && self->me != NULL)
    add_live_message (self, message, TRUE);
}

/* A page of messages (sync or history): merged per conversation, with one
 * items-changed per conversation where possible. Returns how many were new. */
guint
natter_client_messages_add_batch (NatterClient       *self,
                                  JsonArray          *array,
                                  NatterConversation *only,
                                  gboolean            notify)
{
  g_autoptr(GHashTable) groups = g_hash_table_new_full (NULL, NULL, NULL,
                                                        (GDestroyNotify) g_ptr_array_unref);
  GHashTableIter iter;
  gpointer key, value;
  guint added = 0;

  if (array == NULL)
    return 0;

  for (guint i = 0, n = json_array_get_length (array); i < n; i++)
    {
      JsonObject *obj = array_object (array, i);
      g_autoptr(NatterMessage) msg = NULL;
      NatterConversation *conv;
      GPtrArray *group;

      if (obj == NULL)
        continue;
      msg = natter_message_new_from_json (obj, me_name (self), NULL);
      if (msg == NULL)
        continue;
      /* A history page holds that conversation's messages only: one of
       * another would stand in the wrong list. */
      if (only != NULL &&
          natter_client_lookup_conversation (self, natter_message_get_conversation (msg), FALSE) != only)
        continue;

      if (only == NULL)
        natter_client_note_id (self, natter_message_get_id (msg));
      if (natter_client_messages_settle_pending (self, msg))
        continue;

      conv = only != NULL ? only :
        natter_client_lookup_conversation (self, natter_message_get_conversation (msg), TRUE);
      if (conv == NULL)
        continue;

      /* A message held already is as the server has it now (an edit, a
       * delete, reactions made while we were away); a new one gets what
       * this device did to it and has not been confirmed yet. */
      if (natter_message_list_find_id (natter_conversation_get_list (conv),
                                       natter_message_get_id (msg)) != NULL)
        {
          natter_client_actions_apply_server (self, conv, msg);
          continue;
        }
      natter_client_actions_prepare_new (self, conv, msg);

      group = g_hash_table_lookup (groups, conv);
      if (group == NULL)
        {
          group = g_ptr_array_new_with_free_func (g_object_unref);
          g_hash_table_insert (groups, conv, group);
        }
      g_ptr_array_add (group, g_steal_pointer (&msg));
    }

  g_hash_table_iter_init (&iter, groups);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      NatterConversation *conv = key;
      GPtrArray *group = value;
      NatterMessageList *list = natter_conversation_get_list (conv);
      guint n = natter_message_list_merge (list, group);

      added += n;
      if (n == 0)
        continue;
      natter_conversation_refresh (conv, me_name (self));

      if (notify)
        {
          /* Messages from a reconnect's sync are news to a running app. */
          for (guint i = 0; i < group->len; i++)
            {
              NatterMessage *msg = g_ptr_array_index (group, i);

              if (natter_message_get_outgoing (msg) ||
                  natter_message_list_find_id (list, natter_message_get_id (msg)) != msg)
                continue;
              if (natter_message_get_id (msg) > natter_conversation_get_read_up_to (conv))
                natter_conversation_set_unread (conv, natter_conversation_get_unread (conv) + 1);
              natter_client_emit_message_received (self, conv, msg);
            }
        }
    }

  return added;
}

/* ---- search and history --------------------------------------------------- */

static gpointer
message_from_json (NatterClient *self,
                   JsonObject   *obj)
{
  return natter_message_new_from_json (obj, me_name (self), NULL);
}

static gpointer
messages_reply (NatterClient  *self,
                JsonObject    *req,
                JsonObject    *reply,
                GError       **error)
{
  return natter_client_request_model_from_reply (self, reply, "messages", NATTER_TYPE_MESSAGE,
                                                 message_from_json, error);
}

void
natter_client_search_async (NatterClient        *self,
                            const char          *query,
                            const char          *address,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (query != NULL);

  req = request_with ("search", "query", query);
  if (address != NULL)
    json_object_set_string_member (req, "conversation", address);
  json_object_set_int_member (req, "limit", 50);
  natter_client_request (self, req, messages_reply, natter_client_search_async, cancellable,
                         callback, user_data);
}

GListModel *
natter_client_search_finish (NatterClient  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_search_async, error);
}

static void
history_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = g_task_get_source_object (task);
  NatterConversation *conv = g_task_get_task_data (task);
  g_autoptr(JsonObject) reply = NULL;
  GError *error = NULL;
  gboolean has_more = FALSE;
  guint added;

  reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  added = natter_client_messages_add_batch (self, get_array (reply, "messages"), conv, FALSE);
  natter_fields_get_bool (reply, "has_more", FALSE, NULL, &has_more, NULL);
  natter_conversation_set_has_more_history (conv, has_more);
  g_task_return_int (task, added);
}

void
natter_client_load_history_async (NatterClient        *self,
                                  NatterConversation  *conversation,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonObject) req = NULL;
  NatterMessage *oldest;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (NATTER_IS_CONVERSATION (conversation));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_load_history_async);
  g_task_set_task_data (task, g_object_ref (conversation), g_object_unref);

  if (!natter_client_signed_in (self))
    {
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED,
                               "Not signed in");
      return;
    }
  if (!natter_conversation_get_has_more_history (conversation))
    {
      g_task_return_int (task, 0);
      return;
    }

  req = request_with ("history", "conversation", natter_conversation_get_address (conversation));
  oldest = natter_message_list_get_oldest (natter_conversation_get_list (conversation));
  if (oldest != NULL)
    json_object_set_int_member (req, "before", natter_message_get_id (oldest));
  json_object_set_int_member (req, "limit", HISTORY_PAGE_LIMIT);
  natter_connection_request_async (self->connection, req, cancellable, history_cb,
                                   g_steal_pointer (&task));
}

gint
natter_client_load_history_finish (NatterClient  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), -1);
  return (gint) g_task_propagate_int (G_TASK (result), error);
}
