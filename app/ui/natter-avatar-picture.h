/* natter-avatar-picture.h: users' pictures as the app shows and sends
 * them (feature accounts; docs/protocol.md, "avatar_set, avatar").
 *
 * Decoding happens on a worker thread, never on the main loop, and under
 * a pixel limit: a picture is at most 32 KiB on the wire, but a PNG of
 * that size may declare a billion pixels (a decompression bomb).
 */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

/* Pictures that declare more pixels than this are refused. */
#define NATTER_AVATAR_MAX_PIXELS (4096 * 4096)
/* The side of the square picture the app sends. */
#define NATTER_AVATAR_SIDE 256

/* @user's picture, read through @client and decoded once per picture
 * (kept by its hash for the app's life): a texture of at most
 * NATTER_AVATAR_SIDE pixels a side. */
void        natter_avatar_picture_load_async  (NatterClient        *client,
                                               NatterUser          *user,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GdkTexture *natter_avatar_picture_load_finish (GAsyncResult        *result,
                                               GError             **error);

/* The image file @file made into a picture to send: the middle square
 * of it, NATTER_AVATAR_SIDE pixels a side, as a PNG, or a JPEG when the
 * PNG would be over the protocol's 32768 bytes. */
void        natter_avatar_picture_prepare_async  (GFile               *file,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
GBytes     *natter_avatar_picture_prepare_finish (GAsyncResult        *result,
                                                  GError             **error);

G_END_DECLS
