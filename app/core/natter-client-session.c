/* natter-client-session.c: signing in and out, and the session after
 * sign-in: sync until has_more is false, conversations, the contacts and
 * rooms lists, then READY and the outbox.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-validate.h"

#define SYNC_PAGE_LIMIT        500

/* ---- the session after sign-in ------------------------------------------- */

typedef struct {
  NatterClient     *self;
  NatterConnection *conn;
  guint             pending;        /* replies still awaited in the last step */
  gboolean          reconnecting;
  gboolean          fresh;          /* no last id known: take it from conversations */
} Session;

static void
session_free (Session *s)
{
  g_object_unref (s->self);
  g_object_unref (s->conn);
  g_free (s);
}

static gboolean
session_current (Session *s)
{
  return s->conn == s->self->connection && natter_connection_is_open (s->conn);
}

static void session_sync (Session *s);
static void session_conversations (Session *s, gboolean then_sync);

static void
session_ready (Session *s)
{
  NatterClient *self = s->self;

  self->reconnect_attempt = 0;
  natter_client_presence_set_stale (self, FALSE);
  natter_client_set_state (self, NATTER_CLIENT_STATE_READY);
  natter_client_save_state_now (self);
  natter_client_outbox_flush (self);
  session_free (s);
}

static void
session_part_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Session *s = user_data;
  NatterClient *self = s->self;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = natter_connection_request_finish (s->conn, result, &error);
  s->pending--;

  if (!session_current (s))
    {
      if (s->pending == 0)
        session_free (s);
      return;
    }

  if (reply == NULL)
    g_warning ("Loading after sign-in failed: %s", error->message);
  else
    {
      JsonArray *contacts = get_array (reply, "contacts");
      JsonArray *rooms = get_array (reply, "rooms");
      JsonArray *invitations = get_array (reply, "invitations");

      if (contacts != NULL)
        natter_client_contacts_apply_list (self, reply);
      else if (rooms != NULL)
        natter_client_rooms_apply_list (self, rooms);
      else if (invitations != NULL)
        natter_client_room_admin_apply_invitations (self, invitations);
    }

  if (s->pending == 0)
    session_ready (s);
}

static void
session_load_lists (Session *s)
{
  g_autoptr(JsonObject) contacts = new_request ("contacts");
  g_autoptr(JsonObject) rooms = new_request ("rooms");

  /* Pipelined: the replies come back in order. */
  s->pending = 2;
  natter_connection_request_async (s->conn, contacts, NULL, session_part_cb, s);
  natter_connection_request_async (s->conn, rooms, NULL, session_part_cb, s);
  if (s->self->room_management)
    {
      g_autoptr(JsonObject) invitations = new_request ("room_invitations");

      s->pending++;
      natter_connection_request_async (s->conn, invitations, NULL, session_part_cb, s);
    }
}

typedef struct {
  Session  *session;
  gboolean  then_sync;
} ConversationsStep;

static void
conversations_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ConversationsStep *step = user_data;
  Session *s = step->session;
  gboolean then_sync = step->then_sync;
  NatterClient *self = s->self;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GError) error = NULL;
  gint64 newest;

  g_free (step);
  reply = natter_connection_request_finish (s->conn, result, &error);
  if (!session_current (s))
    {
      session_free (s);
      return;
    }
  if (reply == NULL)
    {
      g_warning ("Cannot load the conversations: %s", error->message);
      if (then_sync)
        session_sync (s);
      else
        session_load_lists (s);
      return;
    }

  newest = natter_client_conversations_apply_list (self, get_array (reply, "conversations"), then_sync);

  if (then_sync)
    {
      /* A fresh client starts from the newest message it was just given;
       * older ones are history, paged on demand. */
      if (s->fresh && newest > self->last_id)
        natter_client_note_id (self, newest);
      session_sync (s);
    }
  else
    session_load_lists (s);
}

static void
session_conversations (Session  *s,
                       gboolean  then_sync)
{
  g_autoptr(JsonObject) req = new_request ("conversations");
  ConversationsStep *step = g_new0 (ConversationsStep, 1);

  step->session = s;
  step->then_sync = then_sync;
  natter_connection_request_async (s->conn, req, NULL, conversations_cb, step);
}

static void
sync_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *s = user_data;
  NatterClient *self = s->self;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GError) error = NULL;
  gboolean has_more = FALSE;
  gint64 last;

  reply = natter_connection_request_finish (s->conn, result, &error);
  if (!session_current (s))
    {
      session_free (s);
      return;
    }
  if (reply == NULL)
    {
      /* Without a complete sync we would miss messages: start over. */
      g_warning ("Sync failed: %s", error->message);
      natter_client_connection_drop (self);
      session_free (s);
      if (self->token != NULL)
        natter_client_connection_schedule_reconnect (self);
      else
        natter_client_set_state (self, NATTER_CLIENT_STATE_DISCONNECTED);
      return;
    }

  natter_client_messages_add_batch (self, get_array (reply, "messages"), NULL, s->reconnecting);
  /* After the page's messages: a change may be of one of them. Its id
   * counts for last_id as a message's does (protocol.md, "sync, with
   * changes"), which the reply's last_id already says. */
  natter_client_actions_apply_changes (self, get_array (reply, "changes"));

  last = get_int (reply, "last_id", 0);
  natter_client_note_id (self, last);
  natter_fields_get_bool (reply, "has_more", FALSE, NULL, &has_more, NULL);

  if (has_more)
    session_sync (s);
  else
    session_conversations (s, FALSE);
}

static void
session_sync (Session *s)
{
  g_autoptr(JsonObject) req = new_request ("sync");

  json_object_set_int_member (req, "since", s->self->last_id);
  json_object_set_int_member (req, "limit", SYNC_PAGE_LIMIT);
  natter_connection_request_async (s->conn, req, NULL, sync_cb, s);
}

void
natter_client_session_start (NatterClient *self,
                             gboolean      reconnecting)
{
  Session *s = g_new0 (Session, 1);

  s->self = g_object_ref (self);
  s->conn = g_object_ref (self->connection);
  s->reconnecting = reconnecting;

  if (!reconnecting)
    {
      g_autofree char *key = natter_client_account_key (self);
      g_autoptr(GError) error = NULL;
      gint64 saved = g_key_file_get_int64 (self->state_file, "last-id", key, &error);

      s->fresh = error != NULL;
      self->last_id = s->fresh ? 0 : MAX (saved, 0);
    }

  if (!reconnecting || self->state != NATTER_CLIENT_STATE_RECONNECTING)
    natter_client_set_state (self, NATTER_CLIENT_STATE_AUTHENTICATING);

  /* A new connection starts "online": ours goes out first, so the others
   * see it change back as briefly as possible. */
  if (self->presence_set)
    natter_client_presence_send_own (self);

  if (s->fresh)
    session_conversations (s, TRUE);
  else
    session_sync (s);
}

/* ---- signing in ------------------------------------------------------------ */

static void
copy_missing_member_cb (JsonObject  *from,
                        const char  *name,
                        JsonNode    *node,
                        gpointer     user_data)
{
  JsonObject *to = user_data;

  if (!json_object_has_member (to, name))
    json_object_set_member (to, name, json_node_copy (node));
}

gboolean
natter_client_session_apply_sign_in (NatterClient  *self,
                                     JsonObject    *reply,
                                     GError       **error)
{
  JsonObject *user_obj = get_object (reply, "user");
  const char *username = get_string (user_obj, "username");
  const char *token = get_string (reply, "token");
  g_autoptr(JsonObject) own = NULL;
  g_autofree char *account = NULL;
  NatterUser *user;

  if (username == NULL || !natter_username_is_valid (username) || token == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's sign-in reply lacks the user or the token");
      return FALSE;
    }

  account = natter_client_account_key_for (self, username);
  if ((self->me != NULL && g_strcmp0 (me_name (self), username) != 0) ||
      g_strcmp0 (account, self->outbox_account) != 0)
    {
      /* Another account than the one shown (also in a new process on a
       * shared device): nothing of the previous one may show, and its
       * unsent messages stay unsent until it signs in again. Nor is its
       * presence ours. */
      natter_client_clear_models (self);
      natter_client_outbox_set_account (self, account, username);
      natter_client_outbox_restore (self);
      self->presence_set = FALSE;
    }

  /* The reply has the presence of a new connection ("online"); the one we
   * chose is sent again (natter_client_session_start) and stays ours
   * meanwhile, without a moment of "online" in between. */
  if (self->presence_set)
    {
      own = natter_client_presence_own_json (self);
      json_object_foreach_member (user_obj, copy_missing_member_cb, own);
    }
  user = natter_client_intern_user_json (self, own != NULL ? own : user_obj);

  if (g_strcmp0 (self->token, token) != 0)
    {
      g_free (self->token);
      self->token = g_strdup (token);
    }
  natter_client_actions_apply_features (self, reply);
  natter_client_set_me (self, user);
  return TRUE;
}

static void
sign_in_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = g_task_get_source_object (task);
  NatterConnection *conn = NATTER_CONNECTION (object);
  g_autoptr(JsonObject) reply = NULL;
  GError *error = NULL;

  reply = natter_connection_request_finish (conn, result, &error);
  if (reply == NULL)
    {
      if (conn == self->connection && self->state == NATTER_CLIENT_STATE_AUTHENTICATING)
        natter_client_set_state (self, NATTER_CLIENT_STATE_CONNECTED);
      g_task_return_error (task, error);
      return;
    }
  if (conn != self->connection)
    {
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CLOSED,
                               "The connection closed during sign-in");
      return;
    }
  if (!natter_client_session_apply_sign_in (self, reply, &error))
    {
      natter_client_set_state (self, NATTER_CLIENT_STATE_CONNECTED);
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
  natter_client_session_start (self, FALSE);
}

static void
sign_in (NatterClient        *self,
         JsonObject          *req,
         gpointer             source_tag,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);

  if (self->connection == NULL || self->state != NATTER_CLIENT_STATE_CONNECTED)
    {
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED,
                               self->state == NATTER_CLIENT_STATE_READY ?
                               "Already signed in" : "Not connected to the server");
      return;
    }

  natter_client_set_state (self, NATTER_CLIENT_STATE_AUTHENTICATING);
  natter_client_actions_add_features (self, req);
  natter_connection_request_async (self->connection, req, cancellable,
                                   sign_in_cb, g_steal_pointer (&task));
}

void
natter_client_register_async (NatterClient        *self,
                              const char          *username,
                              const char          *password,
                              const char          *display_name,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL && password != NULL);

  req = new_request ("register");
  json_object_set_string_member (req, "username", username);
  json_object_set_string_member (req, "password", password);
  if (display_name != NULL && *display_name != '\0')
    json_object_set_string_member (req, "display_name", display_name);
  sign_in (self, req, natter_client_register_async, cancellable, callback, user_data);
}

gboolean
natter_client_register_finish (NatterClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
natter_client_login_async (NatterClient        *self,
                           const char          *username,
                           const char          *password,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL && password != NULL);

  req = new_request ("login");
  json_object_set_string_member (req, "username", username);
  json_object_set_string_member (req, "password", password);
  sign_in (self, req, natter_client_login_async, cancellable, callback, user_data);
}

gboolean
natter_client_login_finish (NatterClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
natter_client_login_token_async (NatterClient        *self,
                                 const char          *token,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (token != NULL);

  req = new_request ("login");
  json_object_set_string_member (req, "token", token);
  sign_in (self, req, natter_client_login_token_async, cancellable, callback, user_data);
}

gboolean
natter_client_login_token_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
logout_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = g_task_get_source_object (task);
  g_autoptr(JsonObject) reply = NULL;
  GError *error = NULL;

  reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  natter_client_save_state_now (self);
  g_clear_pointer (&self->token, g_free);
  /* The next sign-in is a new session, starting as the server says. */
  self->presence_set = FALSE;
  natter_client_clear_models (self);
  natter_client_outbox_restore (self);
  natter_client_set_me (self, NULL);
  if (NATTER_CONNECTION (object) == self->connection)
    natter_client_set_state (self, NATTER_CLIENT_STATE_CONNECTED);
  g_task_return_boolean (task, TRUE);
}

void
natter_client_logout_async (NatterClient        *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_logout_async);

  if (!natter_client_signed_in (self))
    {
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED,
                               "Not signed in");
      return;
    }

  req = new_request ("logout");
  natter_connection_request_async (self->connection, req, cancellable, logout_cb,
                                   g_steal_pointer (&task));
}

gboolean
natter_client_logout_finish (NatterClient  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
natter_client_get_token (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return self->token;
}
