/* natter-client.c: the connection to natterd and the live models.
 *
 * The flow: connect (TLS, TOFU) → welcome (CONNECTED) → sign in
 * (AUTHENTICATING) → sync since the last id seen until has_more is false,
 * conversations, contacts, rooms → flush the outbox → READY. Events update
 * the models as they come. When the connection drops after sign-in the
 * client goes RECONNECTING and repeats the flow with its token, with
 * exponential backoff between attempts.
 *
 * Messages are merged by id everywhere (sync, events, history, acks), and
 * our own messages are matched to the outbox by client_msg_id, so nothing
 * shows twice and nothing in the outbox is lost: an entry leaves the
 * outbox only once the server acknowledged it (or refused it for good).
 *
 * This file holds the GObject (properties, signals, the models' lifetime),
 * the persisted last id and the interning of users and rooms; each feature
 * has a file of its own (natter-client-private.h lists them).
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-known-hosts.h"
#include "natter-message-private.h"
#include "natter-outbox.h"
#include "natter-room-private.h"
#include "natter-user-private.h"
#include "natter-validate.h"

#define HISTORY_PAGE_LIMIT     50
#define RATE_LIMIT_RETRY_MS    1000
#define STATE_SAVE_DELAY_S     1
#define TYPING_RESEND_US       (3 * G_USEC_PER_SEC)

G_DEFINE_FINAL_TYPE (NatterClient, natter_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE_DIR,
  PROP_STATE,
  PROP_HOST,
  PROP_PORT,
  PROP_ME,
  PROP_REGISTRATION_OPEN,
  PROP_UNREAD_TOTAL,
  PROP_USE_TLS,
  PROP_SEND_READ_RECEIPTS,
  PROP_SEND_TYPING,
  N_PROPS,
};

enum {
  SIGNAL_MESSAGE_RECEIVED,
  SIGNAL_PRESENCE_CHANGED,
  SIGNAL_CONTACT_REQUEST,
  SIGNAL_SEND_FAILED,
  SIGNAL_ERROR,
  N_SIGNALS,
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- for the other files of the client: state, properties, signals ----- */

void
natter_client_set_state (NatterClient      *self,
                         NatterClientState  state)
{
  if (self->state == state)
    return;
  g_debug ("state %d -> %d", self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

gboolean
natter_client_signed_in (NatterClient *self)
{
  return self->connection != NULL && natter_connection_is_open (self->connection) &&
         (self->state == NATTER_CLIENT_STATE_AUTHENTICATING ||
          self->state == NATTER_CLIENT_STATE_READY);
}

void
natter_client_emit_error (NatterClient *self,
                          const GError *error)
{
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

void
natter_client_emit_message_received (NatterClient       *self,
                                     NatterConversation *conversation,
                                     NatterMessage      *message)
{
  g_signal_emit (self, signals[SIGNAL_MESSAGE_RECEIVED], 0, conversation, message);
}

void
natter_client_emit_presence_changed (NatterClient   *self,
                                     NatterUser     *user,
                                     NatterPresence  old)
{
  g_signal_emit (self, signals[SIGNAL_PRESENCE_CHANGED], 0, user, old);
}

void
natter_client_emit_contact_request (NatterClient *self,
                                    NatterUser   *from)
{
  g_signal_emit (self, signals[SIGNAL_CONTACT_REQUEST], 0, from);
}

void
natter_client_emit_send_failed (NatterClient  *self,
                                NatterMessage *message,
                                const GError  *error)
{
  g_signal_emit (self, signals[SIGNAL_SEND_FAILED], 0, message, error);
}

void
natter_client_set_unread_total (NatterClient *self,
                                guint         total)
{
  if (total == self->unread_total)
    return;
  self->unread_total = total;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD_TOTAL]);
}

void
natter_client_set_me (NatterClient *self,
                      NatterUser   *me)
{
  if (g_set_object (&self->me, me))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ME]);
}

void
natter_client_set_host_port (NatterClient *self,
                             const char   *host,
                             guint16       port)
{
  if (g_strcmp0 (self->host, host) != 0)
    {
      g_free (self->host);
      self->host = g_strdup (host);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOST]);
    }
  if (self->port != port)
    {
      self->port = port;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
    }
}

void
natter_client_set_registration_open (NatterClient *self,
                                     gboolean      open)
{
  if (open == self->registration_open)
    return;
  self->registration_open = open;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTRATION_OPEN]);
}

/* ---- persisted state: the last id per account ---------------------------- */

char *
natter_client_account_key_for (NatterClient *self,
                               const char   *username)
{
  return g_strdup_printf ("%s@%s:%u", username, self->host, self->port);
}

char *
natter_client_account_key (NatterClient *self)
{
  return natter_client_account_key_for (self, me_name (self));
}

void
natter_client_save_state_now (NatterClient *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len;

  g_clear_handle_id (&self->save_id, g_source_remove);

  if (self->me != NULL && self->host != NULL)
    {
      g_autofree char *key = natter_client_account_key (self);

      g_key_file_set_int64 (self->state_file, "last-id", key, self->last_id);
      g_key_file_set_string (self->state_file, "client", "username", me_name (self));
      g_key_file_set_string (self->state_file, "client", "account", key);
    }

  data = g_key_file_to_data (self->state_file, &len, NULL);
  if (!g_file_set_contents_full (self->state_path, data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_warning ("Cannot save the client state: %s", error->message);
}

static gboolean
save_state_cb (gpointer user_data)
{
  NatterClient *self = user_data;

  self->save_id = 0;
  natter_client_save_state_now (self);
  return G_SOURCE_REMOVE;
}

/* Saving a smaller last id than the truth only costs a longer sync, so
 * saves are batched rather than done per message. */
static void
schedule_save (NatterClient *self)
{
  if (self->save_id == 0)
    self->save_id = g_timeout_add_seconds (STATE_SAVE_DELAY_S, save_state_cb, self);
}

void
natter_client_note_id (NatterClient *self,
                       gint64        id)
{
  if (id > self->last_id)
    {
      self->last_id = id;
      schedule_save (self);
    }
}

/* ---- interning --------------------------------------------------------- */

NatterUser *
natter_client_lookup_user (NatterClient *self,
                           const char   *username)
{
  NatterUser *user;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  if (username == NULL || !natter_username_is_valid (username))
    return NULL;

  user = g_hash_table_lookup (self->users, username);
  if (user == NULL)
    {
      user = natter_user_new (username);
      g_hash_table_insert (self->users, g_strdup (username), user);
    }
  return user;
}

/* Applies a wire user object; NULL when it has no valid username. */
NatterUser *
natter_client_intern_user_json (NatterClient *self,
                                JsonObject   *obj)
{
  NatterPresence old;
  NatterUser *user;

  if (obj == NULL)
    return NULL;
  user = natter_client_lookup_user (self, get_string (obj, "username"));
  if (user == NULL)
    return NULL;

  if (natter_user_update_from_json (user, obj, &old))
    g_signal_emit (self, signals[SIGNAL_PRESENCE_CHANGED], 0, user, old);
  return user;
}

NatterRoom *
natter_client_intern_room (NatterClient *self,
                           const char   *name)
{
  NatterRoom *room;

  if (name == NULL || !natter_room_name_is_valid (name))
    return NULL;
  room = g_hash_table_lookup (self->rooms_by_name, name);
  if (room == NULL)
    {
      room = natter_room_new (name);
      g_hash_table_insert (self->rooms_by_name, g_strdup (name), room);
    }
  return room;
}

NatterRoom *
natter_client_intern_room_json (NatterClient *self,
                                JsonObject   *obj)
{
  NatterRoom *room;

  if (obj == NULL)
    return NULL;
  room = natter_client_intern_room (self, get_string (obj, "room"));
  if (room != NULL)
    natter_room_update_from_json (room, obj);
  return room;
}

/* ---- the models -------------------------------------------------------- */

void
natter_client_clear_models (NatterClient *self)
{
  GHashTableIter iter;
  gpointer conv;

  g_hash_table_iter_init (&iter, self->conversations_by_address);
  while (g_hash_table_iter_next (&iter, NULL, &conv))
    {
      g_signal_handlers_disconnect_by_data (conv, self);
      natter_conversation_detach_client (conv);
    }
  g_hash_table_remove_all (self->conversations_by_address);
  g_list_store_remove_all (self->conversations);
  g_list_store_remove_all (self->contacts);
  g_list_store_remove_all (self->incoming);
  g_list_store_remove_all (self->outgoing);
  g_list_store_remove_all (self->rooms);
  g_hash_table_remove_all (self->sending);
  g_clear_pointer (&self->emptied_address, g_free);
  natter_client_set_unread_total (self, 0);
}

static int
compare_conversations (gconstpointer a,
                       gconstpointer b,
                       gpointer      user_data)
{
  NatterConversation *ca = (NatterConversation *) a;
  NatterConversation *cb = (NatterConversation *) b;
  gint64 ta = natter_conversation_get_last_activity (ca);
  gint64 tb = natter_conversation_get_last_activity (cb);

  if (ta != tb)
    return ta > tb ? -1 : 1;
  return g_strcmp0 (natter_conversation_get_address (ca), natter_conversation_get_address (cb));
}

/* Keeps the list sorted after @conv's activity changed; does nothing (and
 * emits nothing) when it is already in place, which is the common case of
 * a busy conversation that stays on top. */
static void
reposition_conversation (NatterClient       *self,
                         NatterConversation *conv)
{
  GListModel *model = G_LIST_MODEL (self->conversations);
  guint pos, n = g_list_model_get_n_items (model);
  gboolean in_place = TRUE;

  if (!g_list_store_find (self->conversations, conv, &pos))
    return;

  if (pos > 0)
    {
      g_autoptr(NatterConversation) prev = g_list_model_get_item (model, pos - 1);
      in_place = compare_conversations (prev, conv, NULL) <= 0;
    }
  if (in_place && pos + 1 < n)
    {
      g_autoptr(NatterConversation) next = g_list_model_get_item (model, pos + 1);
      in_place = compare_conversations (conv, next, NULL) <= 0;
    }
  if (in_place)
    return;

  g_object_ref (conv);
  g_list_store_remove (self->conversations, pos);
  g_list_store_insert_sorted (self->conversations, conv, compare_conversations, NULL);
  g_object_unref (conv);
}

/* Holds the unread count of a conversation as the total last counted it. */
static G_DEFINE_QUARK (natter-counted-unread, counted_unread)

/* The total moves by the difference: summing every conversation again cost
 * O(conversations) for each incoming message (natter-client-bench stream
 * -c 1000: 55 µs more main-thread CPU per message). */
static void
conversation_unread_cb (NatterClient       *self,
                        GParamSpec         *pspec,
                        NatterConversation *conv)
{
  guint counted = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (conv), counted_unread_quark ()));
  guint unread = natter_conversation_get_unread (conv);

  g_object_set_qdata (G_OBJECT (conv), counted_unread_quark (), GUINT_TO_POINTER (unread));
  natter_client_set_unread_total (self, self->unread_total - counted + unread);
}

static void
conversation_activity_cb (NatterConversation *conv,
                          GParamSpec         *pspec,
                          NatterClient       *self)
{
  reposition_conversation (self, conv);
}

/* Normalises @address ("@Bob" → "@bob"); NULL when invalid. */
static char *
normalize_address (const char        *address,
                   NatterAddressKind *out_kind,
                   char             **out_name)
{
  NatterAddressKind kind;
  g_autofree char *name = NULL;
  char *normalized;

  if (address == NULL || !natter_address_parse (address, &kind, &name, NULL))
    return NULL;
  normalized = kind == NATTER_ADDRESS_USER ? g_strconcat ("@", name, NULL) : g_strdup (name);
  if (out_kind != NULL)
    *out_kind = kind;
  if (out_name != NULL)
    *out_name = g_steal_pointer (&name);
  return normalized;
}

NatterConversation *
natter_client_lookup_conversation (NatterClient *self,
                                   const char   *address,
                                   gboolean      create)
{
  g_autofree char *normalized = NULL;
  g_autofree char *name = NULL;
  NatterAddressKind kind;
  NatterConversation *conv;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  conv = address != NULL ? g_hash_table_lookup (self->conversations_by_address, address) : NULL;
  if (conv != NULL)
    return conv;

  normalized = normalize_address (address, &kind, &name);
  if (normalized == NULL)
    return NULL;
  conv = g_hash_table_lookup (self->conversations_by_address, normalized);
  if (conv != NULL || !create)
    return conv;

  conv = natter_conversation_new (self, normalized,
                                  kind == NATTER_ADDRESS_USER ?
                                  natter_client_lookup_user (self, name) : NULL);
  if (kind == NATTER_ADDRESS_ROOM)
    {
      NatterRoom *room = g_hash_table_lookup (self->rooms_by_name, normalized);

      if (room != NULL && store_contains (self->rooms, room, NULL))
        natter_conversation_set_room (conv, room);
    }

  g_hash_table_insert (self->conversations_by_address, g_strdup (normalized), conv);
  g_signal_connect_object (conv, "notify::unread", G_CALLBACK (conversation_unread_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (conv, "notify::last-activity", G_CALLBACK (conversation_activity_cb),
                           self, 0);
  g_list_store_insert_sorted (self->conversations, conv, compare_conversations, NULL);
  return conv;
}

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

  if (!natter_outbox_remove (self->outbox, client_msg_id, &error))
    g_warning ("Cannot update the outbox: %s", error->message);
  g_hash_table_remove (self->in_flight, client_msg_id);
  g_hash_table_remove (self->sending, client_msg_id);
  return TRUE;
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
  if (conv == NULL || !natter_message_list_insert (natter_conversation_get_list (conv), msg))
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

      if (only == NULL)
        natter_client_note_id (self, natter_message_get_id (msg));
      if (natter_client_messages_settle_pending (self, msg))
        continue;

      conv = only != NULL ? only :
        natter_client_lookup_conversation (self, natter_message_get_conversation (msg), TRUE);
      if (conv == NULL)
        continue;

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
  else if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_RATE_LIMITED) ||
           g_error_matches (error, NATTER_ERROR, NATTER_ERROR_SERVER_BUSY) ||
           g_error_matches (error, NATTER_ERROR, NATTER_ERROR_INTERNAL))
    {
      /* Temporary: try the outbox again in a moment. */
      if (self->retry_flush_id == 0)
        self->retry_flush_id = g_timeout_add (RATE_LIMIT_RETRY_MS, retry_flush_cb, self);
    }
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

  if (!natter_client_signed_in (self) || g_hash_table_contains (self->in_flight, entry->client_msg_id))
    return;

  req = new_request ("send");
  json_object_set_string_member (req, "to", entry->to);
  json_object_set_string_member (req, "body", entry->body);
  json_object_set_string_member (req, "client_msg_id", entry->client_msg_id);

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
static gboolean
outbox_entry_is_mine (NatterClient      *self,
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
      if (!e->failed && outbox_entry_is_mine (self, e))
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

      if (!outbox_entry_is_mine (self, e) ||
          (conv = natter_client_lookup_conversation (self, e->to, TRUE)) == NULL)
        continue;
      msg = natter_message_new_pending (natter_conversation_get_address (conv), username,
                                        e->body, e->client_msg_id, e->ts);
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
               NatterMessage      *msg)
{
  const char *client_msg_id = natter_message_get_client_msg_id (msg);
  const char *address = natter_conversation_get_address (conv);
  const char *body = natter_message_get_body (msg);
  gint64 ts = natter_message_get_timestamp (msg);
  g_autoptr(GError) error = NULL;

  /* On disk before it shows: a crash from here on cannot lose it. */
  if (!natter_outbox_add (self->outbox, client_msg_id, address, body, ts, &error))
    {
      g_warning ("Cannot write the outbox: %s", error->message);
      natter_client_emit_error (self, error);
    }

  g_hash_table_insert (self->sending, g_strdup (client_msg_id), g_object_ref (msg));

  if (self->state == NATTER_CLIENT_STATE_READY)
    {
      NatterOutboxEntry entry = {
        (char *) client_msg_id, (char *) address, (char *) body, ts,
      };
      send_entry (self, &entry);
    }
}

NatterMessage *
natter_client_send_message (NatterClient *self,
                            const char   *address,
                            const char   *body)
{
  g_autoptr(NatterMessage) msg = NULL;
  g_autofree char *client_msg_id = NULL;
  NatterConversation *conv;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  if (body == NULL || !natter_body_is_valid (body, strlen (body)))
    return NULL;
  conv = natter_client_lookup_conversation (self, address, TRUE);
  if (conv == NULL)
    return NULL;

  client_msg_id = g_uuid_string_random ();

  /* Before sign-in, the account that last signed in here (whose outbox
   * this is) is the sender. */
  msg = natter_message_new_pending (natter_conversation_get_address (conv),
                                    me_name (self) != NULL ? me_name (self) : self->outbox_user,
                                    body, client_msg_id, g_get_real_time () / 1000);
  queue_pending (self, conv, msg);
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

  if (conv == NULL)
    return FALSE;

  /* The same client_msg_id: should the first try have been stored after
   * all, the server answers the original and stores no copy. */
  natter_message_set_state (message, NATTER_MESSAGE_STATE_SENDING);
  queue_pending (self, conv, message);
  return TRUE;
}

/* Drops @conv from the models when the server would not list it and it
 * holds nothing local: no stored message, nothing pending or failed, and
 * no room we are in. A direct conversation exists on the server only once
 * a message was stored. The open conversation stays until it is left. */
static void
forget_conversation (NatterClient       *self,
                     NatterConversation *conv)
{
  const char *address = natter_conversation_get_address (conv);
  guint counted = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (conv), counted_unread_quark ()));

  /* Its unread messages leave the total with it. */
  g_object_set_qdata (G_OBJECT (conv), counted_unread_quark (), NULL);
  natter_client_set_unread_total (self, self->unread_total - counted);
  store_remove_item (self->conversations, conv);
  g_signal_handlers_disconnect_by_data (conv, self);
  natter_conversation_detach_client (conv);
  g_hash_table_remove (self->conversations_by_address, address);
}

void
natter_client_conversations_forget_if_empty (NatterClient       *self,
                                             NatterConversation *conv)
{
  const char *address = natter_conversation_get_address (conv);

  if (g_list_model_get_n_items (natter_conversation_get_messages (conv)) > 0 ||
      natter_conversation_get_room (conv) != NULL ||
      g_strcmp0 (address, self->open_address) == 0)
    return;
  forget_conversation (self, conv);
}

/* A room we are not in (left, here or on another device) has no place in
 * the list: the server lists only rooms we are in, and would refuse its
 * history. It goes as soon as it is not the open conversation. */
void
natter_client_conversations_forget_if_left_room (NatterClient       *self,
                                                 NatterConversation *conv)
{
  NatterMessageList *list = natter_conversation_get_list (conv);

  /* A message still sending or failed stays visible: the server refuses it
   * now, and its "Not sent" must show somewhere (Delete then empties it). */
  if (!natter_conversation_is_room (conv) ||
      natter_conversation_get_room (conv) != NULL ||
      g_strcmp0 (natter_conversation_get_address (conv), self->open_address) == 0 ||
      natter_message_list_get_last (list) != natter_message_list_get_newest_stored (list))
    return;
  forget_conversation (self, conv);
}

void
natter_client_set_open_conversation (NatterClient       *self,
                                     NatterConversation *conversation)
{
  const char *address = conversation != NULL ? natter_conversation_get_address (conversation) : NULL;
  g_autofree char *emptied = NULL;
  g_autofree char *previous = NULL;
  NatterConversation *left, *left_room;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (conversation == NULL || NATTER_IS_CONVERSATION (conversation));

  previous = g_steal_pointer (&self->open_address);
  self->open_address = g_strdup (address);
  left_room = previous != NULL ? g_hash_table_lookup (self->conversations_by_address, previous) : NULL;
  if (left_room != NULL)
    natter_client_conversations_forget_if_left_room (self, left_room);

  /* Left after its last message was deleted: it goes now. */
  if (g_strcmp0 (self->emptied_address, address) == 0)
    return;
  emptied = g_steal_pointer (&self->emptied_address);
  left = emptied != NULL ? g_hash_table_lookup (self->conversations_by_address, emptied) : NULL;
  if (left != NULL)
    natter_client_conversations_forget_if_empty (self, left);
}

gboolean
natter_client_discard_message (NatterClient  *self,
                               NatterMessage *message)
{
  NatterConversation *conv = failed_message_conversation (self, message);
  g_autoptr(GError) error = NULL;

  if (conv == NULL)
    return FALSE;

  if (!natter_outbox_remove (self->outbox, natter_message_get_client_msg_id (message), &error))
    {
      g_warning ("Cannot update the outbox: %s", error->message);
      natter_client_emit_error (self, error);
    }
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

void
natter_client_presence_handle_presence (NatterClient *self,
                                        JsonObject   *frame)
{
  NatterUser *user = natter_client_intern_user_json (self, get_object (frame, "user"));
  GHashTableIter iter;
  gpointer conv;

  /* The status text is the user's, shared by all devices: one set on
   * another device is the one to send again after a reconnect. */
  if (user != NULL && user == self->me && self->presence_set)
    {
      g_free (self->status_text);
      self->status_text = g_strdup (natter_user_get_status_text (user));
    }

  if (user == NULL || natter_user_get_presence (user) != NATTER_PRESENCE_OFFLINE)
    return;
  /* Gone: no "paused" will come, so nobody should watch them type for the
   * rest of the typing timeout. */
  g_hash_table_iter_init (&iter, self->conversations_by_address);
  while (g_hash_table_iter_next (&iter, NULL, &conv))
    natter_conversation_set_user_typing (conv, user, FALSE);
}

void
natter_client_contacts_handle_request (NatterClient *self,
                                       JsonObject   *frame)
{
  NatterUser *from = natter_client_intern_user_json (self, get_object (frame, "from"));

  if (from == NULL)
    return;
  store_add_unique (self->incoming, from);
  natter_client_emit_contact_request (self, from);
}

void
natter_client_contacts_handle_contact (NatterClient *self,
                                       JsonObject   *frame)
{
  const char *change = get_string (frame, "change");
  NatterUser *user = natter_client_intern_user_json (self, get_object (frame, "user"));

  if (user == NULL || change == NULL)
    return;

  store_remove_item (self->incoming, user);
  store_remove_item (self->outgoing, user);
  if (g_str_equal (change, "added"))
    store_add_unique (self->contacts, user);
  else if (g_str_equal (change, "removed"))
    store_remove_item (self->contacts, user);
}

static void
join_room_locally (NatterClient *self,
                   NatterRoom   *room)
{
  NatterConversation *conv;

  store_add_unique (self->rooms, room);
  conv = natter_client_lookup_conversation (self, natter_room_get_name (room), TRUE);
  if (conv != NULL)
    natter_conversation_set_room (conv, room);
}

static void
leave_room_locally (NatterClient *self,
                    NatterRoom   *room)
{
  NatterConversation *conv;

  store_remove_item (self->rooms, room);
  conv = g_hash_table_lookup (self->conversations_by_address, natter_room_get_name (room));
  if (conv != NULL)
    {
      natter_conversation_set_room (conv, NULL);
      natter_client_conversations_forget_if_left_room (self, conv);
    }
}

/* Where a notice from an event goes in @conv: after every message the
 * client has had (last_id, and what history brought in, which does not
 * move last_id), as the server sends events in order. */
static gint64
notice_anchor (NatterClient       *self,
               NatterConversation *conv)
{
  NatterMessage *newest = natter_message_list_get_newest_stored (natter_conversation_get_list (conv));

  return MAX (self->last_id, newest != NULL ? natter_message_get_id (newest) : 0);
}

void
natter_client_rooms_handle_member (NatterClient *self,
                                   JsonObject   *frame)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (frame, "room"));
  NatterUser *user = natter_client_intern_user_json (self, get_object (frame, "user"));
  const char *change = get_string (frame, "change");
  gboolean joined;
  guint count;

  if (room == NULL || user == NULL || change == NULL)
    return;

  joined = g_str_equal (change, "joined");
  if (!joined && !g_str_equal (change, "left"))
    return;

  count = natter_room_get_member_count (room);
  if (user == self->me)
    {
      gboolean member = store_contains (self->rooms, room, NULL);

      /* Our own join/leave may already be applied from the reply. */
      if (joined && !member)
        {
          natter_room_set_member_count (room, count + 1);
          join_room_locally (self, room);
        }
      else if (!joined && member)
        {
          natter_room_set_member_count (room, count > 0 ? count - 1 : 0);
          leave_room_locally (self, room);
        }
      return;
    }

  natter_room_set_member_count (room, joined ? count + 1 : (count > 0 ? count - 1 : 0));
  /* Shown in the room, after everything that came before the event. */
  {
    NatterConversation *conv = natter_client_lookup_conversation (self, natter_room_get_name (room), FALSE);

    if (conv != NULL)
      natter_conversation_note_member (conv, user, joined, notice_anchor (self, conv));
  }
}

void
natter_client_rooms_handle_topic (NatterClient *self,
                                  JsonObject   *frame)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (frame, "room"));
  const char *topic = get_string (frame, "topic");
  NatterConversation *conv;

  if (room == NULL)
    return;
  natter_room_set_topic (room, topic);
  conv = natter_client_lookup_conversation (self, natter_room_get_name (room), FALSE);
  if (conv != NULL)
    natter_conversation_note_topic (conv, natter_client_lookup_user (self, get_string (frame, "by")),
                                    topic, notice_anchor (self, conv));
}

void
natter_client_presence_handle_typing (NatterClient *self,
                                      JsonObject   *frame)
{
  NatterConversation *conv;
  NatterUser *user = natter_client_lookup_user (self, get_string (frame, "user"));
  const char *state = get_string (frame, "state");

  if (user == NULL || state == NULL || user == self->me)
    return;
  /* Someone merely typing does not make a conversation appear. */
  conv = natter_client_lookup_conversation (self, get_string (frame, "conversation"), FALSE);
  if (conv == NULL)
    return;
  natter_conversation_set_user_typing (conv, user, g_str_equal (state, "active"));
}

void
natter_client_presence_handle_read (NatterClient *self,
                                    JsonObject   *frame)
{
  NatterConversation *conv;
  NatterUser *user = natter_client_lookup_user (self, get_string (frame, "user"));
  gint64 up_to = get_int (frame, "up_to", 0);

  if (user == NULL || up_to <= 0)
    return;
  conv = natter_client_lookup_conversation (self, get_string (frame, "conversation"), FALSE);
  if (conv == NULL)
    return;

  if (user == self->me)
    {
      NatterMessageList *list = natter_conversation_get_list (conv);

      natter_conversation_set_read_up_to (conv, up_to);
      natter_conversation_set_unread (conv,
        natter_message_list_count_after (list, natter_conversation_get_read_up_to (conv),
                                         me_name (self)));
    }
  else
    natter_conversation_set_peer_read_up_to (conv, up_to);
}

/* Without a connection, what the server said last about anyone's presence
 * is not live; it is again once a sign-in has synced (session_ready). */
void
natter_client_presence_set_stale (NatterClient *self,
                                  gboolean      stale)
{
  GHashTableIter iter;
  gpointer user;

  g_hash_table_iter_init (&iter, self->users);
  while (g_hash_table_iter_next (&iter, NULL, &user))
    natter_user_set_presence_stale (user, stale);
}

/* Typing shown when the connection went stays until its timeout otherwise:
 * "bob is typing…" above a reconnect banner. */
void
natter_client_presence_clear_all_typing (NatterClient *self)
{
  GHashTableIter iter;
  gpointer conv;

  g_hash_table_iter_init (&iter, self->conversations_by_address);
  while (g_hash_table_iter_next (&iter, NULL, &conv))
    natter_conversation_clear_typing (conv);
}

/* The rooms we are in, as a session loads them (the reply to "rooms"). */
void
natter_client_rooms_apply_list (NatterClient *self,
                                JsonArray    *rooms)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new ();
  GListModel *model = G_LIST_MODEL (self->rooms);

  for (guint i = 0; i < json_array_get_length (rooms); i++)
    {
      NatterRoom *room = natter_client_intern_room_json (self, array_object (rooms, i));
      if (room != NULL)
        g_ptr_array_add (list, room);
    }
  /* Rooms we left while away lose their link. */
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(NatterRoom) old = g_list_model_get_item (model, i);
      if (!g_ptr_array_find (list, old, NULL))
        {
          NatterConversation *conv =
            g_hash_table_lookup (self->conversations_by_address, natter_room_get_name (old));
          if (conv != NULL)
            {
              natter_conversation_set_room (conv, NULL);
              natter_client_conversations_forget_if_left_room (self, conv);
            }
        }
    }
  g_list_store_splice (self->rooms, 0, g_list_model_get_n_items (model),
                       list->pdata, list->len);
  for (guint i = 0; i < list->len; i++)
    join_room_locally (self, g_ptr_array_index (list, i));
}

/* The contacts and requests a session loads (the reply to "contacts"). */
void
natter_client_contacts_apply_list (NatterClient *self,
                                   JsonObject   *reply)
{
  JsonArray *contacts = get_array (reply, "contacts");
  JsonArray *incoming = get_array (reply, "incoming");
  JsonArray *outgoing = get_array (reply, "outgoing");
  g_autoptr(GPtrArray) users = g_ptr_array_new ();

  for (guint i = 0; i < json_array_get_length (contacts); i++)
    {
      NatterUser *u = natter_client_intern_user_json (self, array_object (contacts, i));
      if (u != NULL)
        g_ptr_array_add (users, u);
    }
  g_list_store_splice (self->contacts, 0, g_list_model_get_n_items (G_LIST_MODEL (self->contacts)),
                       users->pdata, users->len);

  for (guint k = 0; k < 2; k++)
    {
      JsonArray *names = k == 0 ? incoming : outgoing;
      GListStore *store = k == 0 ? self->incoming : self->outgoing;

      g_ptr_array_set_size (users, 0);
      for (guint i = 0; names != NULL && i < json_array_get_length (names); i++)
        {
          JsonNode *node = json_array_get_element (names, i);
          NatterUser *u = NULL;

          if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            u = natter_client_lookup_user (self, json_node_get_string (node));
          else if (JSON_NODE_HOLDS_OBJECT (node))
            u = natter_client_intern_user_json (self, json_node_get_object (node));
          if (u != NULL)
            g_ptr_array_add (users, u);
        }
      g_list_store_splice (store, 0, g_list_model_get_n_items (G_LIST_MODEL (store)),
                           users->pdata, users->len);
    }
}

/* The reply to "conversations": each one's newest message, read marker and
 * unread count. @then_sync: it came before the sync, as a fresh client asks
 * for it, so its newest messages are not news. Returns the highest message
 * id it held, 0 for none. */
gint64
natter_client_conversations_apply_list (NatterClient *self,
                                        JsonArray    *list,
                                        gboolean      then_sync)
{
  gint64 newest = 0;

  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *item = array_object (list, i);
      JsonObject *last = get_object (item, "last_message");
      NatterConversation *conv;
      gint64 unread;

      conv = natter_client_lookup_conversation (self, get_string (item, "conversation"), TRUE);
      if (conv == NULL)
        continue;

      if (last != NULL)
        {
          g_autoptr(NatterMessage) msg = natter_message_new_from_json (last, me_name (self), NULL);

          /* The newest message never leaves a gap: whatever the list holds
           * came from sync or events, which are all newer than last_id. */
          if (msg != NULL && natter_message_get_id (msg) > self->last_id && !then_sync)
            {
              /* Newer than the sync that just ended: it raced ahead of its
               * own event, so it is news. It must not move last_id, as
               * events of other conversations may still be on their way. */
              natter_client_messages_add_single (self, last, TRUE, FALSE);
            }
          else if (msg != NULL)
            {
              newest = MAX (newest, natter_message_get_id (msg));
              if (!natter_client_messages_settle_pending (self, msg) &&
                  natter_message_list_insert (natter_conversation_get_list (conv), msg))
                natter_conversation_refresh (conv, me_name (self));
            }
        }

      natter_conversation_set_read_up_to (conv, get_int (item, "read_up_to", 0));
      unread = get_int (item, "unread", -1);
      /* Read here without telling the server (receipts off): the server's
       * count is of messages we have read since. */
      if (natter_conversation_get_read_up_to (conv) > get_int (item, "read_up_to", 0))
        unread = natter_message_list_count_after (natter_conversation_get_list (conv),
                                                  natter_conversation_get_read_up_to (conv),
                                                  me_name (self));
      if (unread >= 0 && unread <= G_MAXUINT)
        natter_conversation_set_unread (conv, (guint) unread);
    }

  return newest;
}

/* Our chosen presence and status as a wire user object's fields; no
 * status is null. */
JsonObject *
natter_client_presence_own_json (NatterClient *self)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "presence", natter_presence_to_string (self->presence));
  if (self->status_text != NULL)
    json_object_set_string_member (obj, "status_text", self->status_text);
  else
    json_object_set_null_member (obj, "status_text");
  return obj;
}

void
natter_client_presence_send_own (NatterClient *self)
{
  g_autoptr(JsonObject) req = new_request ("set_presence");

  json_object_set_string_member (req, "presence", natter_presence_to_string (self->presence));
  /* Left out, the server would keep the status text it has (it belongs
   * to the user, not the connection): "" is how to clear it. */
  json_object_set_string_member (req, "status_text",
                                 self->status_text != NULL ? self->status_text : "");
  natter_connection_send (self->connection, req);
}

void
natter_client_set_presence (NatterClient   *self,
                            NatterPresence  presence,
                            const char     *status_text)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (presence != NATTER_PRESENCE_OFFLINE);

  if (status_text != NULL && (*status_text == '\0' || !natter_status_text_is_valid (status_text)))
    status_text = NULL;

  self->presence = presence;
  self->presence_set = TRUE;
  g_free (self->status_text);
  self->status_text = g_strdup (status_text);

  if (natter_client_signed_in (self))
    natter_client_presence_send_own (self);

  /* The server tells our other devices, not this one: update ourselves. */
  if (self->me != NULL)
    {
      g_autoptr(JsonObject) obj = natter_client_presence_own_json (self);
      NatterPresence old;

      if (natter_user_update_from_json (self->me, obj, &old))
        natter_client_emit_presence_changed (self, self->me, old);
    }
}

void
natter_client_send_typing (NatterClient *self,
                           const char   *address,
                           gboolean      active)
{
  NatterConversation *conv;
  g_autoptr(JsonObject) req = NULL;
  gint64 now = g_get_monotonic_time ();
  gint64 *last;
  const char *key;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  if (!natter_client_signed_in (self))
    return;
  conv = natter_client_lookup_conversation (self, address, FALSE);
  if (conv == NULL)
    return;
  key = natter_conversation_get_address (conv);
  last = g_hash_table_lookup (self->typing_sent, key);

  if (active)
    {
      if (!self->send_typing)
        return;
      /* Peers show "typing" for 6 s; refreshing every 3 s is enough. */
      if (last != NULL && now - *last < TYPING_RESEND_US)
        return;
      if (last == NULL)
        {
          last = g_new (gint64, 1);
          g_hash_table_insert (self->typing_sent, g_strdup (key), last);
        }
      *last = now;
    }
  else
    {
      /* "paused" only matters if we said "active". */
      if (last == NULL)
        return;
      g_hash_table_remove (self->typing_sent, key);
    }

  req = new_request ("typing");
  json_object_set_string_member (req, "to", key);
  json_object_set_string_member (req, "state", active ? "active" : "paused");
  natter_connection_send (self->connection, req);
}

void
natter_client_mark_read (NatterClient       *self,
                         NatterConversation *conversation)
{
  NatterMessage *newest;
  g_autoptr(JsonObject) req = NULL;
  gint64 id;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (NATTER_IS_CONVERSATION (conversation));

  newest = natter_message_list_get_newest_stored (natter_conversation_get_list (conversation));
  if (newest == NULL)
    return;
  id = natter_message_get_id (newest);

  /* The UI may call this on every new message while the conversation is
   * shown: only a marker that moves goes on the wire. */
  if (id <= natter_conversation_get_read_up_to (conversation))
    {
      natter_conversation_set_unread (conversation, 0);
      return;
    }

  natter_conversation_set_read_up_to (conversation, id);
  natter_conversation_set_unread (conversation, 0);

  if (!natter_client_signed_in (self) || !self->send_read_receipts)
    return;
  req = new_request ("read");
  json_object_set_string_member (req, "conversation", natter_conversation_get_address (conversation));
  json_object_set_int_member (req, "up_to", id);
  natter_connection_send (self->connection, req);
}

static void
contact_request (NatterClient        *self,
                 const char          *type,
                 const char          *username,
                 gpointer             source_tag,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL);

  req = request_with (type, "username", username);
  natter_client_request (self, req, NULL, source_tag, cancellable, callback, user_data);
}

static void
contact_request_done_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = NATTER_CLIENT (object);
  const char *username = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Unless it turned into an acceptance (then a contact event came). */
  {
    NatterUser *user = natter_client_lookup_user (self, username);

    if (user != NULL && !store_contains (self->contacts, user, NULL))
      store_add_unique (self->outgoing, user);
  }
  g_task_return_boolean (task, TRUE);
}

void
natter_client_contact_request_async (NatterClient        *self,
                                     const char          *username,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;
  g_autofree char *normalized = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_contact_request_async);
  normalized = g_ascii_strdown (username, -1);
  g_task_set_task_data (task, g_strdup (normalized), g_free);
  contact_request (self, "contact_request", username, natter_client_contact_request_async,
                   cancellable, contact_request_done_cb, task);
}

gboolean
natter_client_contact_request_finish (NatterClient  *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_request_async, error);
}

void
natter_client_contact_accept_async (NatterClient        *self,
                                    const char          *username,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  contact_request (self, "contact_accept", username, natter_client_contact_accept_async,
                   cancellable, callback, user_data);
}

gboolean
natter_client_contact_accept_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_accept_async, error);
}

static void
contact_decline_done_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = NATTER_CLIENT (object);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  {
    NatterUser *user = natter_client_lookup_user (self, g_task_get_task_data (task));

    if (user != NULL)
      store_remove_item (self->incoming, user);
  }
  g_task_return_boolean (task, TRUE);
}

void
natter_client_contact_decline_async (NatterClient        *self,
                                     const char          *username,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_contact_decline_async);
  g_task_set_task_data (task, g_ascii_strdown (username, -1), g_free);
  contact_request (self, "contact_decline", username, natter_client_contact_decline_async,
                   cancellable, contact_decline_done_cb, task);
}

gboolean
natter_client_contact_decline_finish (NatterClient  *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_decline_async, error);
}

void
natter_client_contact_remove_async (NatterClient        *self,
                                    const char          *username,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  contact_request (self, "contact_remove", username, natter_client_contact_remove_async,
                   cancellable, callback, user_data);
}

gboolean
natter_client_contact_remove_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_remove_async, error);
}

static gpointer
user_from_json (NatterClient *self,
                JsonObject   *obj)
{
  NatterUser *user = natter_client_intern_user_json (self, obj);
  return user != NULL ? g_object_ref (user) : NULL;
}

gpointer
natter_client_contacts_users_reply (NatterClient  *self,
                                    JsonObject    *req,
                                    JsonObject    *reply,
                                    GError       **error)
{
  /* user_search answers "users", room_members "members". */
  const char *key = get_array (reply, "users") != NULL ? "users" : "members";

  return natter_client_request_model_from_reply (self, reply, key, NATTER_TYPE_USER,
                                                 user_from_json, error);
}

void
natter_client_user_search_async (NatterClient        *self,
                                 const char          *query,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (query != NULL);

  req = request_with ("user_search", "query", query);
  json_object_set_int_member (req, "limit", 20);
  natter_client_request (self, req, natter_client_contacts_users_reply,
                         natter_client_user_search_async, cancellable, callback, user_data);
}

GListModel *
natter_client_user_search_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_user_search_async, error);
}

static gpointer
room_joined_reply (NatterClient  *self,
                   JsonObject    *req,
                   JsonObject    *reply,
                   GError       **error)
{
  NatterRoom *room = natter_client_intern_room_json (self, get_object (reply, "room"));

  if (room == NULL)
    room = natter_client_intern_room (self, get_string (req, "room"));
  if (room == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's reply lacks the room");
      return NULL;
    }
  join_room_locally (self, room);
  return g_object_ref (room);
}

static gpointer
room_left_reply (NatterClient  *self,
                 JsonObject    *req,
                 JsonObject    *reply,
                 GError       **error)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (req, "room"));

  if (room == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "Unknown room");
      return NULL;
    }
  leave_room_locally (self, room);
  return g_object_ref (room);
}

static gpointer
room_topic_reply (NatterClient  *self,
                  JsonObject    *req,
                  JsonObject    *reply,
                  GError       **error)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (req, "room"));

  if (room == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "Unknown room");
      return NULL;
    }
  natter_room_set_topic (room, get_string (req, "topic"));
  return g_object_ref (room);
}

static gboolean
finish_object (NatterClient  *self,
               GAsyncResult  *result,
               gpointer       source_tag,
               GError       **error)
{
  g_autoptr(GObject) object = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  object = g_task_propagate_pointer (G_TASK (result), error);
  return object != NULL;
}

void
natter_client_room_create_async (NatterClient        *self,
                                 const char          *name,
                                 const char          *topic,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_create", "room", name);
  if (topic != NULL)
    json_object_set_string_member (req, "topic", topic);
  natter_client_request (self, req, room_joined_reply, natter_client_room_create_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_create_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return finish_object (self, result, natter_client_room_create_async, error);
}

void
natter_client_room_join_async (NatterClient        *self,
                               const char          *name,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_join", "room", name);
  natter_client_request (self, req, room_joined_reply, natter_client_room_join_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_join_finish (NatterClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_object (self, result, natter_client_room_join_async, error);
}

void
natter_client_room_leave_async (NatterClient        *self,
                                const char          *name,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_leave", "room", name);
  natter_client_request (self, req, room_left_reply, natter_client_room_leave_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_leave_finish (NatterClient  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return finish_object (self, result, natter_client_room_leave_async, error);
}

void
natter_client_room_set_topic_async (NatterClient        *self,
                                    const char          *name,
                                    const char          *topic,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL && topic != NULL);

  req = request_with ("room_topic", "room", name);
  json_object_set_string_member (req, "topic", topic);
  natter_client_request (self, req, room_topic_reply, natter_client_room_set_topic_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_set_topic_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return finish_object (self, result, natter_client_room_set_topic_async, error);
}

static gpointer
room_from_json (NatterClient *self,
                JsonObject   *obj)
{
  NatterRoom *room = natter_client_intern_room_json (self, obj);
  return room != NULL ? g_object_ref (room) : NULL;
}

static gpointer
rooms_reply (NatterClient  *self,
             JsonObject    *req,
             JsonObject    *reply,
             GError       **error)
{
  return natter_client_request_model_from_reply (self, reply, "rooms", NATTER_TYPE_ROOM,
                                                 room_from_json, error);
}

void
natter_client_room_directory_async (NatterClient        *self,
                                    const char          *query,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  req = request_with ("room_directory", "query", query != NULL ? query : "");
  natter_client_request (self, req, rooms_reply, natter_client_room_directory_async,
                         cancellable, callback, user_data);
}

GListModel *
natter_client_room_directory_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_room_directory_async, error);
}

void
natter_client_room_members_async (NatterClient        *self,
                                  const char          *name,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_members", "room", name);
  natter_client_request (self, req, natter_client_contacts_users_reply, natter_client_room_members_async,
                         cancellable, callback, user_data);
}

GListModel *
natter_client_room_members_finish (NatterClient  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_room_members_async, error);
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

/* ---- GObject ---------------------------------------------------------------- */

static void
natter_client_dispose (GObject *object)
{
  NatterClient *self = NATTER_CLIENT (object);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->retry_flush_id, g_source_remove);
  if (self->save_id != 0)
    natter_client_save_state_now (self);
  natter_client_connection_drop (self);
  if (self->conversations_by_address != NULL)
    natter_client_clear_models (self);

  g_clear_object (&self->me);
  g_clear_object (&self->outbox);
  g_clear_pointer (&self->outbox_account, g_free);
  g_clear_pointer (&self->outbox_user, g_free);
  g_clear_pointer (&self->legacy_owner, g_free);
  g_clear_object (&self->known_hosts);
  g_clear_object (&self->conversations);
  g_clear_object (&self->contacts);
  g_clear_object (&self->incoming);
  g_clear_object (&self->outgoing);
  g_clear_object (&self->rooms);
  g_clear_pointer (&self->conversations_by_address, g_hash_table_unref);
  g_clear_pointer (&self->rooms_by_name, g_hash_table_unref);
  g_clear_pointer (&self->users, g_hash_table_unref);

  G_OBJECT_CLASS (natter_client_parent_class)->dispose (object);
}

static void
natter_client_finalize (GObject *object)
{
  NatterClient *self = NATTER_CLIENT (object);

  g_hash_table_unref (self->sending);
  g_hash_table_unref (self->in_flight);
  g_hash_table_unref (self->typing_sent);
  g_key_file_unref (self->state_file);
  g_free (self->state_dir);
  g_free (self->state_path);
  g_free (self->host);
  g_free (self->fingerprint);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->status_text);
  g_free (self->open_address);
  g_free (self->emptied_address);

  G_OBJECT_CLASS (natter_client_parent_class)->finalize (object);
}

static void
natter_client_constructed (GObject *object)
{
  NatterClient *self = NATTER_CLIENT (object);
  g_autofree char *hosts_path = NULL;
  g_autofree char *outbox_path = NULL;

  G_OBJECT_CLASS (natter_client_parent_class)->constructed (object);

  if (self->state_dir == NULL)
    self->state_dir = g_build_filename (g_get_user_data_dir (), "natter", NULL);
  if (g_mkdir_with_parents (self->state_dir, 0700) != 0)
    g_warning ("Cannot create the state dir %s: %s", self->state_dir, g_strerror (errno));

  hosts_path = g_build_filename (self->state_dir, "known-hosts", NULL);
  outbox_path = g_build_filename (self->state_dir, "outbox.log", NULL);
  self->state_path = g_build_filename (self->state_dir, "state.ini", NULL);

  self->known_hosts = natter_known_hosts_new (hosts_path);
  self->outbox = natter_outbox_new (outbox_path);
  self->state_file = g_key_file_new ();
  g_key_file_load_from_file (self->state_file, self->state_path, G_KEY_FILE_NONE, NULL);

  /* Before signing in, the last account's unsent messages show. */
  {
    g_autofree char *account = g_key_file_get_string (self->state_file, "client", "account", NULL);
    g_autofree char *username = g_key_file_get_string (self->state_file, "client", "username", NULL);

    self->legacy_owner = g_strdup (username);
    natter_client_outbox_set_account (self, account, username);
  }
  natter_client_outbox_restore (self);
}

static void
natter_client_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  NatterClient *self = NATTER_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATE_DIR:
      g_value_set_string (value, self->state_dir);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_ME:
      g_value_set_object (value, self->me);
      break;
    case PROP_REGISTRATION_OPEN:
      g_value_set_boolean (value, self->registration_open);
      break;
    case PROP_UNREAD_TOTAL:
      g_value_set_uint (value, self->unread_total);
      break;
    case PROP_USE_TLS:
      g_value_set_boolean (value, self->use_tls);
      break;
    case PROP_SEND_READ_RECEIPTS:
      g_value_set_boolean (value, self->send_read_receipts);
      break;
    case PROP_SEND_TYPING:
      g_value_set_boolean (value, self->send_typing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_client_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  NatterClient *self = NATTER_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATE_DIR:
      self->state_dir = g_value_dup_string (value);
      break;
    case PROP_USE_TLS:
      natter_client_set_use_tls (self, g_value_get_boolean (value));
      break;
    case PROP_SEND_READ_RECEIPTS:
      natter_client_set_send_read_receipts (self, g_value_get_boolean (value));
      break;
    case PROP_SEND_TYPING:
      natter_client_set_send_typing (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_client_class_init (NatterClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = natter_client_constructed;
  object_class->dispose = natter_client_dispose;
  object_class->finalize = natter_client_finalize;
  object_class->get_property = natter_client_get_property;
  object_class->set_property = natter_client_set_property;

  properties[PROP_STATE_DIR] =
    g_param_spec_string ("state-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, NATTER_TYPE_CLIENT_STATE,
                       NATTER_CLIENT_STATE_DISCONNECTED, ro);
  properties[PROP_HOST] =
    g_param_spec_string ("host", NULL, NULL, NULL, ro);
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0, ro);
  properties[PROP_ME] =
    g_param_spec_object ("me", NULL, NULL, NATTER_TYPE_USER, ro);
  properties[PROP_REGISTRATION_OPEN] =
    g_param_spec_boolean ("registration-open", NULL, NULL, FALSE, ro);
  properties[PROP_UNREAD_TOTAL] =
    g_param_spec_uint ("unread-total", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_USE_TLS] =
    g_param_spec_boolean ("use-tls", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEND_READ_RECEIPTS] =
    g_param_spec_boolean ("send-read-receipts", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEND_TYPING] =
    g_param_spec_boolean ("send-typing", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  NATTER_TYPE_CONVERSATION, NATTER_TYPE_MESSAGE);
  signals[SIGNAL_PRESENCE_CHANGED] =
    g_signal_new ("presence-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  NATTER_TYPE_USER, NATTER_TYPE_PRESENCE);
  signals[SIGNAL_CONTACT_REQUEST] =
    g_signal_new ("contact-request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, NATTER_TYPE_USER);
  signals[SIGNAL_SEND_FAILED] =
    g_signal_new ("send-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, NATTER_TYPE_MESSAGE, G_TYPE_ERROR);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
natter_client_init (NatterClient *self)
{
  self->use_tls = TRUE;
  self->send_read_receipts = TRUE;
  self->send_typing = TRUE;
  self->presence = NATTER_PRESENCE_ONLINE;
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->rooms_by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->conversations_by_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          g_object_unref);
  self->conversations = g_list_store_new (NATTER_TYPE_CONVERSATION);
  self->contacts = g_list_store_new (NATTER_TYPE_USER);
  self->incoming = g_list_store_new (NATTER_TYPE_USER);
  self->outgoing = g_list_store_new (NATTER_TYPE_USER);
  self->rooms = g_list_store_new (NATTER_TYPE_ROOM);
  self->sending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->typing_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

NatterClient *
natter_client_new (const char *state_dir)
{
  return g_object_new (NATTER_TYPE_CLIENT, "state-dir", state_dir, NULL);
}

const char *
natter_client_get_state_dir (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return self->state_dir;
}

NatterClientState
natter_client_get_state (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NATTER_CLIENT_STATE_DISCONNECTED);
  return self->state;
}

const char *
natter_client_get_host (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return self->host;
}

guint16
natter_client_get_port (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), 0);
  return self->port;
}

NatterUser *
natter_client_get_me (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return self->me;
}

gboolean
natter_client_get_registration_open (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  return self->registration_open;
}

guint
natter_client_get_unread_total (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), 0);
  return self->unread_total;
}

gboolean
natter_client_get_use_tls (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), TRUE);
  return self->use_tls;
}

void
natter_client_set_use_tls (NatterClient *self,
                           gboolean      use_tls)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  use_tls = !!use_tls;
  if (self->use_tls == use_tls)
    return;
  self->use_tls = use_tls;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_TLS]);
}

/* The protocol has one read marker, which both tells the others and
 * syncs our own devices (docs/protocol.md, "read"): with receipts off
 * none is sent, and what is read is kept here only (docs/architecture.md). */
gboolean
natter_client_get_send_read_receipts (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), TRUE);
  return self->send_read_receipts;
}

void
natter_client_set_send_read_receipts (NatterClient *self,
                                      gboolean      send)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  send = !!send;
  if (self->send_read_receipts == send)
    return;
  self->send_read_receipts = send;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEND_READ_RECEIPTS]);
}

gboolean
natter_client_get_send_typing (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), TRUE);
  return self->send_typing;
}

void
natter_client_set_send_typing (NatterClient *self,
                               gboolean      send)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  send = !!send;
  if (self->send_typing == send)
    return;
  self->send_typing = send;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEND_TYPING]);
}

GListModel *
natter_client_get_conversations (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return G_LIST_MODEL (self->conversations);
}

GListModel *
natter_client_get_contacts (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return G_LIST_MODEL (self->contacts);
}

GListModel *
natter_client_get_incoming_requests (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return G_LIST_MODEL (self->incoming);
}

GListModel *
natter_client_get_outgoing_requests (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return G_LIST_MODEL (self->outgoing);
}

GListModel *
natter_client_get_rooms (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return G_LIST_MODEL (self->rooms);
}
