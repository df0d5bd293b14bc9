/* natter-image-decode.h: images from other people decoded safely: on a
 * worker thread, never on the main loop, and only after the header has
 * said how many pixels the image has (a small PNG may declare a billion:
 * a decompression bomb). Users: avatars (natter-avatar-picture), the
 * inline previews and the viewer of a message's images.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The width and height a PNG, JPEG or WebP file declares in its header;
 * FALSE when the header cannot be read. */
gboolean    natter_image_declared_size  (const guint8        *data,
                                         gsize                len,
                                         guint64             *width,
                                         guint64             *height);

/* Decodes @bytes on a worker thread into a texture, refusing (with a
 * translated G_IO_ERROR_INVALID_DATA) an image whose header cannot be
 * read or declares more than @max_pixels; scaled while decoding to at
 * most @max_side pixels on its longer side (0: its own size). */
void        natter_image_decode_async   (GBytes              *bytes,
                                         guint64              max_pixels,
                                         guint                max_side,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
GdkTexture *natter_image_decode_finish  (GAsyncResult        *result,
                                         GError             **error);

G_END_DECLS
