/* natter-image-viewer.h: a message's image at full size, in a window of
 * its own (scrolled, resizable), decoded off the main loop under
 * NATTER_IMAGE_VIEWER_MAX_PIXELS; an image refused or unreadable shows
 * why instead.
 */
#pragma once

#include <adwaita.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_IMAGE_VIEWER (natter_image_viewer_get_type ())
G_DECLARE_FINAL_TYPE (NatterImageViewer, natter_image_viewer, NATTER, IMAGE_VIEWER, AdwWindow)

/* A new viewer of @file (of a stored message), transient for @parent
 * (may be NULL); it downloads and decodes the image itself. */
NatterImageViewer *natter_image_viewer_new         (GtkWindow         *parent,
                                                    NatterClient      *client,
                                                    NatterMessageFile *file);
/* The picture shown once the image is decoded (its paintable NULL
 * before), and the status page shown while loading or instead of it. */
GtkPicture        *natter_image_viewer_get_picture (NatterImageViewer *self);
AdwStatusPage     *natter_image_viewer_get_status  (NatterImageViewer *self);

G_END_DECLS
