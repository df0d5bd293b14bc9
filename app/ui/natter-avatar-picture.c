/* natter-avatar-picture.c: users' pictures decoded to show, and an image
 * file made into a picture to send (natter-avatar-picture.h).
 *
 * A picture from the server is decoded by natter-image-decode, only once
 * its header has said how many pixels it has (a decompression bomb).
 */
#define G_LOG_DOMAIN "natter-avatar"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-avatar-picture.h"
#include "natter-image-decode.h"

/* An image file of one's own may be a big photo; it is scaled while it
 * is decoded (JPEG) or right after. */
#define OWN_PICTURE_MAX_PIXELS (100 * 1000 * 1000)
#define PICTURE_MAX_BYTES 32768

/* --- showing --- */

/* Decoded pictures by their hash, for every row that shows one. */
static GHashTable *textures;

static void
decoded_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GdkTexture *texture = natter_image_decode_finish (result, &error);

  if (texture == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_hash_table_replace (textures, g_strdup (g_task_get_task_data (task)), g_object_ref (texture));
  g_task_return_pointer (task, texture, g_object_unref);
}

static void
bytes_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;

  bytes = natter_client_load_avatar_finish (NATTER_CLIENT (source), result, &error);
  if (bytes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  natter_image_decode_async (bytes, NATTER_AVATAR_MAX_PIXELS, NATTER_AVATAR_SIDE, g_task_get_cancellable (task),
                             decoded_cb, g_object_ref (task));
}

void
natter_avatar_picture_load_async (NatterClient        *client,
                                  NatterUser          *user,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  const char *sha256 = natter_user_get_avatar (user);
  GdkTexture *known;

  g_task_set_source_tag (task, natter_avatar_picture_load_async);
  if (textures == NULL)
    textures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  if (sha256 == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No picture");
      return;
    }
  g_task_set_task_data (task, g_strdup (sha256), g_free);
  known = g_hash_table_lookup (textures, sha256);
  if (known != NULL)
    {
      g_task_return_pointer (task, g_object_ref (known), g_object_unref);
      return;
    }
  natter_client_load_avatar_async (client, user, cancellable, bytes_cb, g_steal_pointer (&task));
}

GdkTexture *
natter_avatar_picture_load_finish (GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- sending --- */

static void
prepare_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GdkPixbuf) scaled = NULL;
  g_autoptr(GdkPixbuf) square = NULL;
  g_autoptr(GError) error = NULL;
  gchar *buffer = NULL;
  gsize size = 0;
  int width = 0, height = 0, side;

  if (path == NULL || gdk_pixbuf_get_file_info (path, &width, &height) == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("This file is not an image Natter can read"));
      return;
    }
  if (width <= 0 || height <= 0 || (guint64) width * height > OWN_PICTURE_MAX_PIXELS)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("This image is too large (more than 100 megapixels)"));
      return;
    }
  /* The shorter side to NATTER_AVATAR_SIDE, then the middle square. */
  if (width < height)
    scaled = gdk_pixbuf_new_from_file_at_scale (path, MIN (width, NATTER_AVATAR_SIDE), -1, TRUE, &error);
  else
    scaled = gdk_pixbuf_new_from_file_at_scale (path, -1, MIN (height, NATTER_AVATAR_SIDE), TRUE, &error);
  if (scaled == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  width = gdk_pixbuf_get_width (scaled);
  height = gdk_pixbuf_get_height (scaled);
  side = MIN (width, height);
  square = gdk_pixbuf_new_subpixbuf (scaled, (width - side) / 2, (height - side) / 2, side, side);
  if (gdk_pixbuf_save_to_buffer (square, &buffer, &size, "png", NULL, NULL) && size <= PICTURE_MAX_BYTES)
    {
      g_task_return_pointer (task, g_bytes_new_take (buffer, size), (GDestroyNotify) g_bytes_unref);
      return;
    }
  /* A photo: JPEG, less fine until it fits. */
  for (const char *const *quality = (const char *const[]) { "90", "75", "50", NULL }; *quality != NULL; quality++)
    {
      g_clear_pointer (&buffer, g_free);
      if (!gdk_pixbuf_save_to_buffer (square, &buffer, &size, "jpeg", &error, "quality", *quality, NULL))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      if (size <= PICTURE_MAX_BYTES)
        {
          g_task_return_pointer (task, g_bytes_new_take (buffer, size), (GDestroyNotify) g_bytes_unref);
          return;
        }
    }
  g_free (buffer);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("This image cannot be made small enough"));
}

void
natter_avatar_picture_prepare_async (GFile               *file,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, natter_avatar_picture_prepare_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, prepare_thread);
}

GBytes *
natter_avatar_picture_prepare_finish (GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
