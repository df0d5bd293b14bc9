/* natter-image-cache.h: a message's image (its preview, or the full
 * file for the viewer) downloaded once into the app's cache dir, by its
 * SHA-256, and decoded off the main loop under a pixel limit
 * (natter-image-decode.h).
 */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

/* @file (of a stored message) as a texture: read from
 * $XDG_CACHE_HOME/natter/files/SHA256, or downloaded there first through
 * @client; refused past @max_pixels, scaled to at most @max_side pixels
 * on its longer side (0: none). */
void        natter_image_cache_load_async  (NatterClient        *client,
                                            NatterMessageFile   *file,
                                            guint64              max_pixels,
                                            guint                max_side,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GdkTexture *natter_image_cache_load_finish (GAsyncResult        *result,
                                            GError             **error);

G_END_DECLS
