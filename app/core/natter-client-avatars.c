/* natter-client-avatars.c: users' pictures, feature accounts
 * (docs/protocol.md, "avatar_set, avatar").
 *
 * Every user object names its user's picture by SHA-256 (NatterUser's
 * "avatar"); the bytes are read once per picture, when something shows
 * it, and kept by their hash for the client's life: a picture is at most
 * 32 KiB, and the same one appears in every row of its user. Reads of
 * one picture asked for while it is on its way share its one request.
 * The bytes are checked against their hash, so a hostile server cannot
 * show one user's picture as another's; they are not decoded here (the
 * app decodes them off the main loop, under a pixel limit).
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include <string.h>

#include "natter-client-private.h"
#include "natter-validate.h"

/* At most 32768 bytes (the protocol's limit), as base64. */
#define AVATAR_MAX_BYTES 32768

void
natter_client_set_avatar_async (NatterClient        *self,
                                GBytes              *picture,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  req = new_request ("avatar_set");
  if (picture != NULL)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (picture, &len);
      g_autofree char *text = g_base64_encode (data, len);

      json_object_set_string_member (req, "data", text);
      /* Ours is known already: no need to read it back. */
      g_hash_table_replace (self->avatars,
                            g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len),
                            g_bytes_ref (picture));
    }
  else
    json_object_set_null_member (req, "data");
  natter_client_request (self, req, natter_client_reply_own_user, natter_client_set_avatar_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_set_avatar_finish (NatterClient  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_autoptr(GObject) me = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_client_set_avatar_async, FALSE);
  me = g_task_propagate_pointer (G_TASK (result), error);
  return me != NULL;
}

/* The picture's bytes, checked: those whose SHA-256 the reply names. */
static gpointer
avatar_reply (NatterClient  *self,
              JsonObject    *req,
              JsonObject    *reply,
              GError       **error)
{
  const char *sha256 = get_string (reply, "avatar");
  const char *text = get_string (reply, "data");
  g_autofree guchar *data = NULL;
  g_autofree char *computed = NULL;
  gsize len = 0;
  GBytes *bytes;

  if (sha256 == NULL || text == NULL || !natter_sha256_is_valid (sha256) ||
      strlen (text) > (AVATAR_MAX_BYTES + 2) / 3 * 4)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's picture is malformed");
      return NULL;
    }
  data = g_base64_decode (text, &len);
  computed = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
  if (len == 0 || !g_str_equal (computed, sha256))
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's picture does not match its hash");
      return NULL;
    }
  bytes = g_bytes_new_take (g_steal_pointer (&data), len);
  g_hash_table_replace (self->avatars, g_strdup (sha256), g_bytes_ref (bytes));
  return bytes;
}

typedef struct {
  NatterClient *client;
  char         *sha256;   /* what was asked for */
} AvatarLoad;

static void
avatar_load_free (gpointer data)
{
  AvatarLoad *load = data;

  g_object_unref (load->client);
  g_free (load->sha256);
  g_free (load);
}

static void
avatar_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  AvatarLoad *load = user_data;
  NatterClient *self = load->client;
  g_autoptr(GPtrArray) waiting = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = g_task_propagate_pointer (G_TASK (result), &error);
  g_hash_table_steal_extended (self->avatars_waiting, load->sha256, NULL, (gpointer *) &waiting);
  for (guint i = 0; waiting != NULL && i < waiting->len; i++)
    {
      GTask *task = g_ptr_array_index (waiting, i);

      if (bytes != NULL)
        g_task_return_pointer (task, g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
      else
        g_task_return_error (task, g_error_copy (error));
    }
  avatar_load_free (load);
}

void
natter_client_load_avatar_async (NatterClient        *self,
                                 NatterUser          *user,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  const char *sha256;
  GBytes *known;
  GPtrArray *waiting;
  AvatarLoad *load;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (NATTER_IS_USER (user));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_load_avatar_async);
  sha256 = natter_user_get_avatar (user);
  if (sha256 == NULL)
    {
      g_task_return_new_error (task, NATTER_ERROR, NATTER_ERROR_NOT_FOUND, "No picture");
      return;
    }
  known = g_hash_table_lookup (self->avatars, sha256);
  if (known != NULL)
    {
      g_task_return_pointer (task, g_bytes_ref (known), (GDestroyNotify) g_bytes_unref);
      return;
    }
  waiting = g_hash_table_lookup (self->avatars_waiting, sha256);
  if (waiting != NULL)
    {
      g_ptr_array_add (waiting, g_steal_pointer (&task));
      return;
    }
  if (!self->accounts)
    {
      /* Without the feature the server has no such request. */
      g_task_return_new_error (task, NATTER_ERROR, NATTER_ERROR_UNKNOWN_TYPE,
                               "This server does not share pictures");
      return;
    }
  waiting = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (waiting, g_steal_pointer (&task));
  g_hash_table_insert (self->avatars_waiting, g_strdup (sha256), waiting);
  load = g_new0 (AvatarLoad, 1);
  load->client = g_object_ref (self);
  load->sha256 = g_strdup (sha256);
  {
    g_autoptr(JsonObject) req = request_with ("avatar", "username", natter_user_get_username (user));

    /* Not cancellable: others may wait for the same picture. */
    natter_client_request (self, req, avatar_reply, natter_client_load_avatar_async, NULL,
                           avatar_read_cb, load);
  }
}

GBytes *
natter_client_load_avatar_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_client_load_avatar_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
