/* natter-image-preview.h: the preview the app makes of an image it sends
 * (docs/protocol.md, "send, with files"), off the main loop.
 */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

/* The longer side of a preview, and of an inline image in a message. */
#define NATTER_IMAGE_PREVIEW_SIDE 320
/* Previews from others that declare more pixels are refused. */
#define NATTER_IMAGE_PREVIEW_MAX_PIXELS (1024 * 1024)
/* Full images the viewer decodes: 64 megapixels at most. */
#define NATTER_IMAGE_VIEWER_MAX_PIXELS (64 * 1024 * 1024)

/* @files made into attachments (an array of @n_files
 * NatterFileAttachment, free with natter_image_preview_attachments_free):
 * each file GdkPixbuf can read (by its content type) gets its pixels and
 * a preview of at most NATTER_IMAGE_PREVIEW_SIDE pixels on its longer
 * side, a PNG, or a JPEG when that is smaller; other files go as they
 * are. Read in a thread. */
void                  natter_image_preview_attachments_async  (GFile               **files,
                                                               guint                 n_files,
                                                               GCancellable         *cancellable,
                                                               GAsyncReadyCallback   callback,
                                                               gpointer              user_data);
NatterFileAttachment *natter_image_preview_attachments_finish (GAsyncResult         *result,
                                                               guint                *n_files,
                                                               GError              **error);
void                  natter_image_preview_attachments_free   (NatterFileAttachment *attachments,
                                                               guint                 n_files);

G_END_DECLS
