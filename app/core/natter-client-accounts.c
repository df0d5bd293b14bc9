/* natter-client-accounts.c: feature accounts (docs/protocol.md,
 * "Accounts"): changing the password, the account's sessions (devices)
 * and signing one out, the display name, deleting the account; blocking users. The feature is asked for with
 * the others at every sign-in (natter-client-actions.c), with this
 * device's name.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include <string.h>

#include "natter-client-private.h"
#include "natter-device-session-private.h"
#include "natter-validate.h"

const char *
natter_client_accounts_device_name (void)
{
  const char *host = g_get_host_name ();

  /* The server's rule is the display name's: a host name longer than
   * that, or none, is sent as no name. */
  return host != NULL && natter_display_name_is_valid (host) ? host : NULL;
}

gboolean
natter_client_get_accounts (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  return self->accounts;
}

void
natter_client_change_password_async (NatterClient        *self,
                                     const char          *old_password,
                                     const char          *new_password,
                                     gboolean             keep_sessions,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (old_password != NULL && new_password != NULL);

  req = request_with ("password_change", "old_password", old_password);
  json_object_set_string_member (req, "new_password", new_password);
  json_object_set_boolean_member (req, "keep_sessions", keep_sessions);
  natter_client_request (self, req, NULL, natter_client_change_password_async, cancellable, callback,
                         user_data);
}

gboolean
natter_client_change_password_finish (NatterClient  *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_change_password_async, error);
}

static gpointer
session_from_json (NatterClient *self,
                   JsonObject   *obj)
{
  const char *id = get_string (obj, "session");

  if (id == NULL)
    return NULL;
  return natter_device_session_new (id, get_string (obj, "device"), get_string (obj, "address"),
                                    get_int (obj, "created", 0), get_int (obj, "last_active", 0),
                                    json_object_get_boolean_member_with_default (obj, "current", FALSE),
                                    (guint) CLAMP (get_int (obj, "connections", 0), 0, G_MAXUINT));
}

static gpointer
sessions_reply (NatterClient  *self,
                JsonObject    *req,
                JsonObject    *reply,
                GError       **error)
{
  return natter_client_request_model_from_reply (self, reply, "sessions", NATTER_TYPE_DEVICE_SESSION,
                                                 session_from_json, error);
}

void
natter_client_list_sessions_async (NatterClient        *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  req = new_request ("sessions");
  natter_client_request (self, req, sessions_reply, natter_client_list_sessions_async, cancellable,
                         callback, user_data);
}

GListModel *
natter_client_list_sessions_finish (NatterClient  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_list_sessions_async, error);
}

void
natter_client_revoke_session_async (NatterClient        *self,
                                    const char          *session_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (session_id != NULL);
  req = request_with ("session_revoke", "session", session_id);
  natter_client_request (self, req, NULL, natter_client_revoke_session_async, cancellable, callback,
                         user_data);
}

gboolean
natter_client_revoke_session_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_revoke_session_async, error);
}

/* Our own user object, with its new name or picture. */
gpointer
natter_client_reply_own_user (NatterClient  *self,
                              JsonObject    *req,
                              JsonObject    *reply,
                              GError       **error)
{
  JsonObject *user = get_object (reply, "user");
  NatterUser *me = user != NULL ? natter_client_intern_user_json (self, user) : NULL;

  if (me == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's reply lacks the user");
      return NULL;
    }
  return g_object_ref (me);
}

void
natter_client_set_display_name_async (NatterClient        *self,
                                      const char          *display_name,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (display_name != NULL);
  req = request_with ("profile_update", "display_name", display_name);
  natter_client_request (self, req, natter_client_reply_own_user, natter_client_set_display_name_async, cancellable,
                         callback, user_data);
}

gboolean
natter_client_set_display_name_finish (NatterClient  *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_autoptr(GObject) me = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_client_set_display_name_async, FALSE);
  me = g_task_propagate_pointer (G_TASK (result), error);
  return me != NULL;
}

/* The account is gone on the server: nothing of it stays here. The
 * server closes the connection after its ok; we close first, so that the
 * close is not a lost connection to come back from. */
static gpointer
delete_account_reply (NatterClient  *self,
                      JsonObject    *req,
                      JsonObject    *reply,
                      GError       **error)
{
  GPtrArray *pending = natter_outbox_get_pending (self->outbox);
  g_autoptr(GPtrArray) mine = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < pending->len; i++)
    {
      NatterOutboxEntry *e = g_ptr_array_index (pending, i);

      if (natter_client_outbox_entry_is_mine (self, e))
        g_ptr_array_add (mine, g_strdup (e->client_msg_id));
    }
  for (guint i = 0; i < mine->len; i++)
    {
      natter_client_files_drop_previews (self, mine->pdata[i]);
      natter_outbox_remove (self->outbox, mine->pdata[i], NULL);
    }
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_clear_pointer (&self->token, g_free);
  self->presence_set = FALSE;
  natter_client_clear_models (self);
  natter_client_set_me (self, NULL);
  natter_client_disconnect (self);
  return g_object_ref (self);
}

void
natter_client_delete_account_async (NatterClient        *self,
                                    const char          *password,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (password != NULL);
  req = request_with ("account_delete", "password", password);
  natter_client_request (self, req, delete_account_reply, natter_client_delete_account_async, cancellable,
                         callback, user_data);
}

gboolean
natter_client_delete_account_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_autoptr(GObject) done = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_client_delete_account_async, FALSE);
  done = g_task_propagate_pointer (G_TASK (result), error);
  return done != NULL;
}

/* --- blocking --- */

/* block and unblock: a request that names a user and answers ok. */
static void
block_request (NatterClient        *self,
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

void
natter_client_block_user_async (NatterClient        *self,
                                const char          *username,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  block_request (self, "block", username, natter_client_block_user_async, cancellable, callback, user_data);
}

gboolean
natter_client_block_user_finish (NatterClient  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_block_user_async, error);
}

void
natter_client_unblock_user_async (NatterClient        *self,
                                  const char          *username,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  block_request (self, "unblock", username, natter_client_unblock_user_async, cancellable, callback,
                 user_data);
}

gboolean
natter_client_unblock_user_finish (NatterClient  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_unblock_user_async, error);
}

static gpointer
blocked_from_json (NatterClient *self,
                   JsonObject   *obj)
{
  NatterUser *user = natter_client_lookup_user (self, get_string (obj, "username"));

  return user != NULL ? g_object_ref (user) : NULL;
}

static gpointer
blocked_reply (NatterClient  *self,
               JsonObject    *req,
               JsonObject    *reply,
               GError       **error)
{
  return natter_client_request_model_from_reply (self, reply, "blocked", NATTER_TYPE_USER,
                                                 blocked_from_json, error);
}

void
natter_client_list_blocked_async (NatterClient        *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  req = new_request ("blocked");
  natter_client_request (self, req, blocked_reply, natter_client_list_blocked_async, cancellable,
                         callback, user_data);
}

GListModel *
natter_client_list_blocked_finish (NatterClient  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_list_blocked_async, error);
}
