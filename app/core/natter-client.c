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
  PROP_MESSAGE_ACTIONS,
  N_PROPS,
};

enum {
  SIGNAL_MESSAGE_RECEIVED,
  SIGNAL_PRESENCE_CHANGED,
  SIGNAL_CONTACT_REQUEST,
  SIGNAL_SEND_FAILED,
  SIGNAL_ERROR,
  SIGNAL_ROOM_REMOVED,
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

void
natter_client_set_message_actions (NatterClient *self,
                                   gboolean      on)
{
  if (on == self->message_actions)
    return;
  self->message_actions = on;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE_ACTIONS]);
}

void
natter_client_set_room_management (NatterClient *self,
                                   gboolean      on)
{
  self->room_management = on;
  if (!on)
    g_list_store_remove_all (self->invitations);
}

gboolean
natter_client_get_room_management (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  return self->room_management;
}

GListModel *
natter_client_get_invitations (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return G_LIST_MODEL (self->invitations);
}

void
natter_client_emit_room_removed (NatterClient *self,
                                 NatterRoom   *room,
                                 const char   *reason,
                                 const char   *by,
                                 const char   *ban_reason)
{
  g_signal_emit (self, signals[SIGNAL_ROOM_REMOVED], 0, room, reason, by, ban_reason);
}

gboolean
natter_client_get_message_actions (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  return self->message_actions;
}

/* ---- persisted state: the last id per account ---------------------------- */

char *
natter_client_account_key_for (NatterClient *self,
                               const char   *username)
{
  /* The first address names the server, whichever node answers: the
   * outbox, the last id and the keyring stay one account's across a
   * failover. */
  const NatterServerAddress *first = self->addresses != NULL && self->addresses->len > 0 ?
                                     g_ptr_array_index (self->addresses, 0) : NULL;

  if (first == NULL)
    return g_strdup_printf ("%s@%s:%u", username, self->host, self->port);
  return g_strdup_printf ("%s@%s:%u", username, first->host, first->port);
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
  g_list_store_remove_all (self->invitations);
  g_hash_table_remove_all (self->sending);
  g_hash_table_remove_all (self->action_bases);
  g_clear_pointer (&self->emptied_address, g_free);
  natter_client_set_unread_total (self, 0);
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
  g_clear_object (&self->invitations);
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
  g_hash_table_unref (self->uploads);
  g_hash_table_unref (self->typing_sent);
  g_hash_table_unref (self->action_bases);
  g_hash_table_unref (self->avatars);
  g_hash_table_unref (self->avatars_waiting);
  g_key_file_unref (self->state_file);
  g_free (self->state_dir);
  g_free (self->state_path);
  g_free (self->host);
  g_clear_pointer (&self->addresses, g_ptr_array_unref);
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
    case PROP_MESSAGE_ACTIONS:
      g_value_set_boolean (value, self->message_actions);
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

  properties[PROP_MESSAGE_ACTIONS] =
    g_param_spec_boolean ("message-actions", NULL, NULL, FALSE, ro);

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
  /* We are out of a room someone else decided on: (room, reason: "kicked",
   * "banned" or "deleted", by, the ban's reason or NULL). */
  signals[SIGNAL_ROOM_REMOVED] =
    g_signal_new ("room-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4, NATTER_TYPE_ROOM, G_TYPE_STRING,
                  G_TYPE_STRING, G_TYPE_STRING);
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
  self->invitations = g_list_store_new (NATTER_TYPE_ROOM);
  self->sending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->uploads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         natter_client_files_upload_free_func ());
  self->typing_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->action_bases = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->avatars = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  self->avatars_waiting = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                 (GDestroyNotify) g_ptr_array_unref);
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
