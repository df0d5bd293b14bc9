/* natter-avatar-picture.c: users' pictures decoded to show, and an image
 * file made into a picture to send (natter-avatar-picture.h).
 *
 * A picture from the server is decoded only once its header has said how
 * many pixels it has: GdkPixbuf's PNG loader allocates the whole image
 * before it scales, so a 32 KiB file that declares 30000 × 30000 pixels
 * would cost gigabytes. The header is read here, by hand, for the three
 * formats the protocol allows.
 */
#define G_LOG_DOMAIN "natter-avatar"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "natter-avatar-picture.h"

/* An image file of one's own may be a big photo; it is scaled while it
 * is decoded (JPEG) or right after. */
#define OWN_PICTURE_MAX_PIXELS (100 * 1000 * 1000)
#define PICTURE_MAX_BYTES 32768

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* The width and height a PNG, JPEG or WebP file declares; FALSE when
 * its header cannot be read. */
static gboolean
declared_size (const guint8 *d,
               gsize         len,
               guint64      *width,
               guint64      *height)
{
  if (len >= 24 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp (d + 12, "IHDR", 4) == 0)
    {
      *width = be32 (d + 16);
      *height = be32 (d + 20);
      return TRUE;
    }
  if (len >= 4 && d[0] == 0xff && d[1] == 0xd8)
    {
      /* The markers up to the first start of frame (SOFn but DHT, JPG
       * and DAC): its height and width. */
      gsize i = 2;

      while (i + 9 < len && d[i] == 0xff)
        {
          guint8 marker = d[i + 1];
          gsize seg = ((gsize) d[i + 2] << 8) | d[i + 3];

          if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc)
            {
              *height = ((guint64) d[i + 5] << 8) | d[i + 6];
              *width = ((guint64) d[i + 7] << 8) | d[i + 8];
              return TRUE;
            }
          if (seg < 2)
            return FALSE;
          i += 2 + seg;
        }
      return FALSE;
    }
  if (len >= 30 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP", 4) == 0)
    {
      if (memcmp (d + 12, "VP8 ", 4) == 0)
        {
          *width = (d[26] | (d[27] << 8)) & 0x3fff;
          *height = (d[28] | (d[29] << 8)) & 0x3fff;
          return TRUE;
        }
      if (memcmp (d + 12, "VP8L", 4) == 0)
        {
          *width = 1 + ((((guint64) d[22] & 0x3f) << 8) | d[21]);
          *height = 1 + ((((guint64) d[24] & 0xf) << 10) | ((guint64) d[23] << 2) | ((d[22] & 0xc0) >> 6));
          return TRUE;
        }
      if (memcmp (d + 12, "VP8X", 4) == 0)
        {
          *width = 1 + (d[24] | (d[25] << 8) | ((guint64) d[26] << 16));
          *height = 1 + (d[27] | (d[28] << 8) | ((guint64) d[29] << 16));
          return TRUE;
        }
    }
  return FALSE;
}

/* --- showing --- */

/* Decoded pictures by their hash, for every row that shows one. */
static GHashTable *textures;

static void
decode_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GBytes *bytes = task_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) error = NULL;
  guint64 width = 0, height = 0;
  GdkPixbuf *pixbuf;

  if (!declared_size (data, len, &width, &height) || width == 0 || height == 0 ||
      width * height > NATTER_AVATAR_MAX_PIXELS)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "The picture is not an image of at most %d pixels", NATTER_AVATAR_MAX_PIXELS);
      return;
    }
  loader = gdk_pixbuf_loader_new ();
  if (width > NATTER_AVATAR_SIDE || height > NATTER_AVATAR_SIDE)
    {
      double scale = (double) NATTER_AVATAR_SIDE / MAX (width, height);

      gdk_pixbuf_loader_set_size (loader, MAX (1, (int) (width * scale)), MAX (1, (int) (height * scale)));
    }
  if (!gdk_pixbuf_loader_write (loader, data, len, &error) || !gdk_pixbuf_loader_close (loader, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The picture could not be read");
      return;
    }
  g_task_return_pointer (task, g_object_ref (pixbuf), g_object_unref);
}

static void
decoded_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  GError *error = NULL;
  GdkTexture *texture;

  pixbuf = g_task_propagate_pointer (G_TASK (result), &error);
  if (pixbuf == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  texture = gdk_texture_new_for_pixbuf (pixbuf);
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
  g_autoptr(GTask) decode = NULL;
  GError *error = NULL;

  bytes = natter_client_load_avatar_finish (NATTER_CLIENT (source), result, &error);
  if (bytes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  decode = g_task_new (NULL, g_task_get_cancellable (task), decoded_cb, g_object_ref (task));
  g_task_set_task_data (decode, g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (decode, decode_thread);
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
