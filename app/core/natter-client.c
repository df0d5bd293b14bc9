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
#include "natter-outbox.h"
#include "natter-room-private.h"
#include "natter-user-private.h"
#include "natter-validate.h"

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
