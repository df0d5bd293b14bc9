/* natter-image-viewer.c: a message's image at full size
 * (natter-image-viewer.h). Built in code: a header bar over a stack of a
 * status page (loading, or why the image cannot be shown) and the
 * picture in a scrolled window, at its own size when the window is
 * smaller.
 */
#define G_LOG_DOMAIN "natter-image"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-image-cache.h"
#include "natter-image-preview.h"
#include "natter-image-viewer.h"

struct _NatterImageViewer
{
  AdwWindow      parent_instance;

  GtkStack      *stack;
  AdwStatusPage *status;
  GtkPicture    *picture;
  GCancellable  *cancellable;
};

G_DEFINE_FINAL_TYPE (NatterImageViewer, natter_image_viewer, ADW_TYPE_WINDOW)

static void
natter_image_viewer_dispose (GObject *object)
{
  NatterImageViewer *self = NATTER_IMAGE_VIEWER (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (natter_image_viewer_parent_class)->dispose (object);
}

static void
natter_image_viewer_class_init (NatterImageViewerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = natter_image_viewer_dispose;
}

static void
natter_image_viewer_init (NatterImageViewer *self)
{
  GtkWidget *view = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  self->cancellable = g_cancellable_new ();
  self->stack = GTK_STACK (gtk_stack_new ());
  self->status = ADW_STATUS_PAGE (adw_status_page_new ());
  adw_status_page_set_icon_name (self->status, "image-x-generic-symbolic");
  adw_status_page_set_title (self->status, _("Loading Image…"));
  self->picture = GTK_PICTURE (gtk_picture_new ());
  /* At its own size, scrolled, when the window is smaller. */
  gtk_picture_set_can_shrink (self->picture, FALSE);
  gtk_widget_set_halign (GTK_WIDGET (self->picture), GTK_ALIGN_CENTER);
  gtk_widget_set_valign (GTK_WIDGET (self->picture), GTK_ALIGN_CENTER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->picture));
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->status), "status");
  gtk_stack_add_named (self->stack, scrolled, "picture");
  gtk_widget_set_vexpand (GTK_WIDGET (self->stack), TRUE);
  gtk_box_append (GTK_BOX (view), adw_header_bar_new ());
  gtk_box_append (GTK_BOX (view), GTK_WIDGET (self->stack));
  adw_window_set_content (ADW_WINDOW (self), view);
  gtk_window_set_default_size (GTK_WINDOW (self), 800, 600);
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(NatterImageViewer) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  texture = natter_image_cache_load_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (texture == NULL)
    {
      adw_status_page_set_icon_name (self->status, "dialog-warning-symbolic");
      adw_status_page_set_title (self->status, _("Cannot Show This Image"));
      adw_status_page_set_description (self->status, error->message);
      return;
    }
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  gtk_stack_set_visible_child_name (self->stack, "picture");
}

NatterImageViewer *
natter_image_viewer_new (GtkWindow         *parent,
                         NatterClient      *client,
                         NatterMessageFile *file)
{
  NatterImageViewer *self = g_object_new (NATTER_TYPE_IMAGE_VIEWER, NULL);
  const char *name = natter_message_file_get_name (file);

  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (self), parent);
  gtk_window_set_title (GTK_WINDOW (self), name != NULL ? name : _("Image"));
  natter_image_cache_load_async (client, file, NATTER_IMAGE_VIEWER_MAX_PIXELS, 0, self->cancellable,
                                 loaded_cb, g_object_ref (self));
  return self;
}

GtkPicture *
natter_image_viewer_get_picture (NatterImageViewer *self)
{
  g_return_val_if_fail (NATTER_IS_IMAGE_VIEWER (self), NULL);
  return self->picture;
}

AdwStatusPage *
natter_image_viewer_get_status (NatterImageViewer *self)
{
  g_return_val_if_fail (NATTER_IS_IMAGE_VIEWER (self), NULL);
  return self->status;
}
