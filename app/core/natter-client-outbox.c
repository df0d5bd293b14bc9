/* natter-client-outbox.c: sending: the outbox on disk, send requests and
 * their acks, retrying and discarding failed messages.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-message-private.h"
#include "natter-validate.h"

#define RATE_LIMIT_RETRY_MS    1000

typedef struct {
  NatterClient *self;
  char         *client_msg_id;
  guint64       generation;
} SendData;

static void
send_data_free (SendData *d)
{
  g_object_unref (d->self);
  g_free (d->client_msg_id);
  g_free (d);
}

static gboolean
retry_flush_cb (gpointer user_data)
{
  NatterClient *self = user_data;

  self->retry_flush_id = 0;
  natter_client_outbox_flush (self);
  return G_SOURCE_REMOVE;
}

gboolean
natter_client_outbox_error_is_temporary (NatterClient *self,
                                         const GError *error)
{
  if (!g_error_matches (error, NATTER_ERROR, NATTER_ERROR_RATE_LIMITED) &&
      !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_SERVER_BUSY) &&
      !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_INTERNAL))
    return FALSE;
  /* Try the outbox again in a moment. */
  if (self->retry_flush_id == 0)
    self->retry_flush_id = g_timeout_add (RATE_LIMIT_RETRY_MS, retry_flush_cb, self);
  return TRUE;
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  SendData *d = user_data;
  NatterClient *self = d->self;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  if (d->generation == self->generation)
    g_hash_table_remove (self->in_flight, d->client_msg_id);

  if (reply != NULL)
    {
      JsonObject *message = get_object (reply, "message");
      g_autoptr(NatterMessage) stored = NULL;

      if (message != NULL)
        stored = natter_message_new_from_json (message, me_name (self), NULL);

      if (stored != NULL && g_hash_table_contains (self->sending, d->client_msg_id))
        {
          /* Matched by the id we sent, whatever the ack echoes. */
          NatterMessage *pending = g_hash_table_lookup (self->sending, d->client_msg_id);
          NatterConversation *conv =
            natter_client_lookup_conversation (self, natter_message_get_conversation (pending), TRUE);
          g_autoptr(GError) local_error = NULL;

          /* No natter_client_note_id(): an ack is a reply, and may
           * overtake the events of messages stored in the same batch with
           * smaller ids. Moving last_id past those could lose them if the
           * connection dropped now. Sync and events move it. */
          natter_message_set_sent (pending, natter_message_get_id (stored),
                                   natter_message_get_timestamp (stored));
          /* Feature files: the server's files (ids, hashes) replace the
           * local ones the message showed while sending. */
          if (g_list_model_get_n_items (natter_message_get_files (stored)) > 0)
            natter_message_set_files (pending, natter_message_get_files (stored));
          natter_client_files_forget (self, d->client_msg_id, stored, NULL);
          natter_client_files_drop_previews (self, d->client_msg_id);
          natter_message_list_settle (natter_conversation_get_list (conv), pending);
          natter_conversation_refresh (conv, me_name (self));
          if (!natter_outbox_remove (self->outbox, d->client_msg_id, &local_error))
            g_warning ("Cannot update the outbox: %s", local_error->message);
          g_hash_table_remove (self->sending, d->client_msg_id);
        }
      else if (message != NULL)
        natter_client_messages_add_single (self, message, FALSE, FALSE);
      /* An ack we could not read still means "stored": the entry stays in
       * the outbox, is resent later, and the server answers the original. */
    }
  else if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND) ||
           g_error_matches (error, NATTER_ERROR, NATTER_ERROR_FORBIDDEN) ||
           g_error_matches (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT))
    {
      NatterMessage *pending = g_hash_table_lookup (self->sending, d->client_msg_id);
      g_autoptr(GError) local_error = NULL;

      g_debug ("Message refused for good: %s", error->message);
      if (pending != NULL)
        natter_message_set_state (pending, NATTER_MESSAGE_STATE_FAILED);
      natter_client_files_forget (self, d->client_msg_id, NULL, error);
      /* Kept on disk, failed, until it is retried or deleted. */
      if (!natter_outbox_mark_failed (self->outbox, d->client_msg_id, &local_error))
        g_warning ("Cannot update the outbox: %s", local_error->message);
      /* Said with the message, so the UI can say which one. */
      if (pending != NULL)
        natter_client_emit_send_failed (self, pending, error);
      else
        natter_client_emit_error (self, error);
      g_hash_table_remove (self->sending, d->client_msg_id);
    }
  else
    natter_client_outbox_error_is_temporary (self, error);
  /* Any other failure (the connection closed) keeps the entry for the
   * next session. */

  send_data_free (d);
}

static void
send_entry (NatterClient      *self,
            NatterOutboxEntry *entry)
{
  g_autoptr(JsonObject) req = NULL;
  SendData *d;

  if (natter_client_actions_send_entry (self, entry))
    return;
  if (!natter_client_signed_in (self) || g_hash_table_contains (self->in_flight, entry->client_msg_id))
    return;

  req = new_request ("send");
  json_object_set_string_member (req, "to", entry->to);
  json_object_set_string_member (req, "body", entry->body);
  json_object_set_string_member (req, "client_msg_id", entry->client_msg_id);
  /* A server without the feature would ignore it; it is not sent there,
   * as protocol 1 has no such field. */
  if (entry->reply_to > 0 && self->message_actions)
    json_object_set_int_member (req, "reply_to", entry->reply_to);
  /* A send with files goes once they are uploaded. */
  if (!natter_client_files_prepare_send (self, entry, req))
    return;

  d = g_new0 (SendData, 1);
  d->self = g_object_ref (self);
  d->client_msg_id = g_strdup (entry->client_msg_id);
  d->generation = self->generation;
  g_hash_table_add (self->in_flight, g_strdup (entry->client_msg_id));

  natter_connection_request_async (self->connection, req, NULL, send_cb, d);
}

/* A device may be shared: only the signed-in (or, before signing in, the
 * last) account's entries show and are sent; the others wait on disk for
 * their own account. */
gboolean
natter_client_outbox_entry_is_mine (NatterClient      *self,
                                    NatterOutboxEntry *e)
{
  if (e->account != NULL)
    return g_strcmp0 (e->account, self->outbox_account) == 0;
  /* Written before entries named their account: by the account that was
   * signed in last on this device. */
  return self->legacy_owner != NULL && g_strcmp0 (self->legacy_owner, self->outbox_user) == 0;
}

void
natter_client_outbox_flush (NatterClient *self)
{
  GPtrArray *pending;

  if (!natter_client_signed_in (self))
    return;

  pending = natter_outbox_get_pending (self->outbox);
  for (guint i = 0; i < pending->len; i++)
    {
      NatterOutboxEntry *e = g_ptr_array_index (pending, i);

      /* A failed one waits for Retry. */
      if (!e->failed && natter_client_outbox_entry_is_mine (self, e))
        send_entry (self, e);
    }
}

/* Shows the outbox's entries (from a previous run) as SENDING, or FAILED
 * for those the server refused for good. */
void
natter_client_outbox_restore (NatterClient *self)
{
  GPtrArray *pending = natter_outbox_get_pending (self->outbox);
  const char *username = self->outbox_user;

  for (guint i = 0; i < pending->len; i++)
    {
      NatterOutboxEntry *e = g_ptr_array_index (pending, i);
      NatterConversation *conv;
      g_autoptr(NatterMessage) msg = NULL;

      /* Actions show on their message once it is loaded
       * (natter_client_actions_prepare_new). */
      if (e->kind != NATTER_OUTBOX_SEND || !natter_client_outbox_entry_is_mine (self, e) ||
          (conv = natter_client_lookup_conversation (self, e->to, TRUE)) == NULL)
        continue;
      msg = natter_message_new_pending (natter_conversation_get_address (conv), username,
                                        e->body, e->client_msg_id, e->ts);
      if (e->reply_to > 0)
        natter_message_set_reply_to (msg, &(NatterQuote) { e->reply_to, e->reply_from,
                                                           e->reply_body, FALSE });
      if (e->files != NULL)
        {
          g_autoptr(GListModel) files = natter_client_files_local_files (e);

          natter_message_set_files (msg, files);
        }
      if (e->failed)
        natter_message_set_state (msg, NATTER_MESSAGE_STATE_FAILED);
      else
        g_hash_table_insert (self->sending, g_strdup (e->client_msg_id), g_object_ref (msg));
      natter_message_list_append_pending (natter_conversation_get_list (conv), msg);
      natter_conversation_refresh (conv, NULL);
    }
}

/* The outbox's entries now belong to @username's account. */
void
natter_client_outbox_set_account (NatterClient *self,
                                  const char   *account,
                                  const char   *username)
{
  g_free (self->outbox_account);
  self->outbox_account = g_strdup (account);
  g_free (self->outbox_user);
  self->outbox_user = g_strdup (username);
  natter_outbox_set_account (self->outbox, account);
}

/* Puts @msg (pending, in its conversation's list) in the outbox and the
 * sending table, and sends it now when the client is READY. */
static void
queue_pending (NatterClient       *self,
               NatterConversation *conv,
               NatterMessage      *msg,
               const char         *files)
{
  const char *client_msg_id = natter_message_get_client_msg_id (msg);
  const char *address = natter_conversation_get_address (conv);
  const char *body = natter_message_get_body (msg);
  const NatterQuote *quote = natter_message_get_reply_to (msg);
  gint64 ts = natter_message_get_timestamp (msg);
  g_autoptr(GError) error = NULL;
  NatterOutboxEntry entry = {
    (char *) client_msg_id, (char *) address, (char *) body, ts,
  };

  entry.files = (char *) files;

  if (quote != NULL)
    {
      entry.reply_to = quote->id;
      entry.reply_from = quote->sender;
      entry.reply_body = quote->body;
    }

  /* On disk before it shows: a crash from here on cannot lose it. */
  if (!natter_outbox_add_entry (self->outbox, &entry, &error))
    {
      g_warning ("Cannot write the outbox: %s", error->message);
      natter_client_emit_error (self, error);
    }

  g_hash_table_insert (self->sending, g_strdup (client_msg_id), g_object_ref (msg));

  if (self->state == NATTER_CLIENT_STATE_READY)
    send_entry (self, &entry);
}

static NatterMessage *send_new (NatterClient      *self,
                                const char        *address,
                                const char        *body,
                                const NatterQuote *quote,
                                const char        *files);

NatterMessage *
natter_client_send_message (NatterClient *self,
                            const char   *address,
                            const char   *body)
{
  return natter_client_outbox_send (self, address, body, NULL);
}

NatterMessage *
natter_client_outbox_send (NatterClient      *self,
                           const char        *address,
                           const char        *body,
                           const NatterQuote *quote)
{
  if (body == NULL || !natter_body_is_valid (body, strlen (body)))
    return NULL;
  return send_new (self, address, body, quote, NULL);
}

NatterMessage *
natter_client_outbox_send_files (NatterClient *self,
                                 const char   *address,
                                 const char   *body,
                                 const char   *files)
{
  /* With files, the text may be empty (the caller checked the rest). */
  return send_new (self, address, body, NULL, files);
}

static NatterMessage *
send_new (NatterClient      *self,
          const char        *address,
          const char        *body,
          const NatterQuote *quote,
          const char        *files)
{
  g_autoptr(NatterMessage) msg = NULL;
  g_autofree char *client_msg_id = NULL;
  NatterConversation *conv;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  conv = natter_client_lookup_conversation (self, address, TRUE);
  if (conv == NULL)
    return NULL;

  client_msg_id = g_uuid_string_random ();

  /* Before sign-in, the account that last signed in here (whose outbox
   * this is) is the sender. */
  msg = natter_message_new_pending (natter_conversation_get_address (conv),
                                    me_name (self) != NULL ? me_name (self) : self->outbox_user,
                                    body, client_msg_id, g_get_real_time () / 1000);
  if (quote != NULL)
    natter_message_set_reply_to (msg, quote);
  if (files != NULL)
    {
      NatterOutboxEntry local = { .files = (char *) files };
      g_autoptr(GListModel) shown = natter_client_files_local_files (&local);

      natter_message_set_files (msg, shown);
    }
  queue_pending (self, conv, msg, files);
  natter_message_list_append_pending (natter_conversation_get_list (conv), msg);
  natter_conversation_refresh (conv, me_name (self));

  return msg;
}

/* The conversation of @message when it is a FAILED message still in its
 * conversation's list; NULL otherwise. */
static NatterConversation *
failed_message_conversation (NatterClient  *self,
                             NatterMessage *message)
{
  NatterConversation *conv;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  g_return_val_if_fail (NATTER_IS_MESSAGE (message), NULL);

  if (natter_message_get_state (message) != NATTER_MESSAGE_STATE_FAILED)
    return NULL;
  conv = natter_client_lookup_conversation (self, natter_message_get_conversation (message), FALSE);
  if (conv == NULL ||
      natter_message_list_find_pending (natter_conversation_get_list (conv),
                                        natter_message_get_client_msg_id (message)) != message)
    return NULL;
  return conv;
}

gboolean
natter_client_retry_message (NatterClient  *self,
                             NatterMessage *message)
{
  NatterConversation *conv = failed_message_conversation (self, message);
  NatterOutboxEntry *entry;
  g_autofree char *files = NULL;

  if (conv == NULL)
    return FALSE;

  /* The same client_msg_id: should the first try have been stored after
   * all, the server answers the original and stores no copy. */
  natter_message_set_state (message, NATTER_MESSAGE_STATE_SENDING);
  entry = natter_outbox_lookup (self->outbox, natter_message_get_client_msg_id (message));
  files = entry != NULL ? g_strdup (entry->files) : NULL;
  queue_pending (self, conv, message, files);
  return TRUE;
}

gboolean
natter_client_discard_message (NatterClient  *self,
                               NatterMessage *message)
{
  NatterConversation *conv = failed_message_conversation (self, message);
  g_autoptr(GError) error = NULL;

  if (conv == NULL)
    return FALSE;

  natter_client_files_drop_previews (self, natter_message_get_client_msg_id (message));
  if (!natter_outbox_remove (self->outbox, natter_message_get_client_msg_id (message), &error))
    {
      g_warning ("Cannot update the outbox: %s", error->message);
      natter_client_emit_error (self, error);
    }
  natter_client_files_discard (self, natter_message_get_client_msg_id (message));
  natter_message_list_remove_pending (natter_conversation_get_list (conv), message);
  natter_conversation_refresh (conv, me_name (self));

  if (g_strcmp0 (natter_conversation_get_address (conv), self->open_address) == 0)
    {
      g_free (self->emptied_address);
      self->emptied_address = g_strdup (self->open_address);
    }
  else
    natter_client_conversations_forget_if_empty (self, conv);
  return TRUE;
}
