/* natter-image-decode.c: images from others decoded under a pixel limit,
 * off the main loop (natter-image-decode.h).
 *
 * GdkPixbuf's PNG loader allocates the whole image before it scales, so a
 * 32 KiB file that declares 30000 × 30000 pixels would cost gigabytes.
 * The header is read here, by hand, for the three formats the protocol's
 * pictures and previews use, and the image is decoded only when it
 * declares few enough pixels.
 */
#define G_LOG_DOMAIN "natter-image"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "natter-image-decode.h"

typedef struct {
  GBytes  *bytes;
  guint64  max_pixels;
  guint    max_side;
} Decode;

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

gboolean
natter_image_declared_size (const guint8 *d,
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

static void
decode_free (Decode *d)
{
  g_bytes_unref (d->bytes);
  g_free (d);
}

static void
decode_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Decode *d = task_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (d->bytes, &len);
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) error = NULL;
  guint64 width = 0, height = 0;
  GdkPixbuf *pixbuf;

  if (!natter_image_declared_size (data, len, &width, &height) || width == 0 || height == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("This image is not a PNG, JPEG or WebP image Natter can read"));
      return;
    }
  if (width * height > d->max_pixels)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               /* Each side fits: at most 32 bits in every format. */
                               _("This image is too large to show safely (%u × %u pixels)"),
                               (guint) width, (guint) height);
      return;
    }
  loader = gdk_pixbuf_loader_new ();
  if (d->max_side > 0 && (width > d->max_side || height > d->max_side))
    {
      double scale = (double) d->max_side / MAX (width, height);

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
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("This image could not be read"));
      return;
    }
  /* A texture may be made on any thread: the main loop only shows it. */
  g_task_return_pointer (task, gdk_texture_new_for_pixbuf (pixbuf), g_object_unref);
}

void
natter_image_decode_async (GBytes              *bytes,
                           guint64              max_pixels,
                           guint                max_side,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Decode *d = g_new0 (Decode, 1);

  g_task_set_source_tag (task, natter_image_decode_async);
  d->bytes = g_bytes_ref (bytes);
  d->max_pixels = max_pixels;
  d->max_side = max_side;
  g_task_set_task_data (task, d, (GDestroyNotify) decode_free);
  g_task_run_in_thread (task, decode_thread);
}

GdkTexture *
natter_image_decode_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
