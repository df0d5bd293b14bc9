/* natter-image-preview.c: previews of the images the app sends
 * (natter-image-preview.h). An image of one's own may be a big photo:
 * GdkPixbuf scales it while decoding where the loader can (JPEG) and the
 * preview is made on a worker thread, so the main loop never waits.
 */
#define G_LOG_DOMAIN "natter-image"

#include "config.h"

#include "natter-image-preview.h"

/* One's own image: refused past this, as the avatar's are. */
#define OWN_IMAGE_MAX_PIXELS (100 * 1000 * 1000)

typedef struct {
  NatterFileAttachment *attachments;
  guint                 n_files;
} Job;

void
natter_image_preview_attachments_free (NatterFileAttachment *attachments,
                                       guint                 n_files)
{
  for (guint i = 0; attachments != NULL && i < n_files; i++)
    {
      g_clear_object (&attachments[i].file);
      g_clear_pointer (&attachments[i].preview, g_bytes_unref);
    }
  g_free (attachments);
}

static void
job_free (Job *job)
{
  natter_image_preview_attachments_free (job->attachments, job->n_files);
  g_free (job);
}

/* TRUE when GdkPixbuf has a loader for @path's content type. */
static gboolean
is_readable_image (GFile *file)
{
  g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                                                 G_FILE_QUERY_INFO_NONE, NULL, NULL);
  const char *type = info != NULL ? g_file_info_get_content_type (info) : NULL;
  g_autofree char *mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;
  g_autoptr(GSList) formats = NULL;

  if (mime == NULL || !g_str_has_prefix (mime, "image/"))
    return FALSE;
  formats = gdk_pixbuf_get_formats ();
  for (GSList *l = formats; l != NULL; l = l->next)
    {
      g_auto(GStrv) types = gdk_pixbuf_format_get_mime_types (l->data);

      if (types != NULL && g_strv_contains ((const char *const *) types, mime))
        return TRUE;
    }
  return FALSE;
}

/* @a's image size and preview; left without when it is no image or
 * cannot be read (it still goes, as a file). */
static void
make_preview (NatterFileAttachment *a)
{
  g_autofree char *path = g_file_get_path (a->file);
  g_autoptr(GdkPixbuf) loaded = NULL;
  g_autoptr(GdkPixbuf) scaled = NULL;
  g_autofree char *png = NULL;
  g_autofree char *jpeg = NULL;
  gsize png_len = 0, jpeg_len = 0;
  int width = 0, height = 0;

  if (path == NULL || !is_readable_image (a->file) ||
      gdk_pixbuf_get_file_info (path, &width, &height) == NULL ||
      width <= 0 || height <= 0 || width > 65535 || height > 65535 ||
      (guint64) width * height > OWN_IMAGE_MAX_PIXELS)
    return;
  loaded = gdk_pixbuf_new_from_file_at_size (path, MIN (width, NATTER_IMAGE_PREVIEW_SIDE),
                                             MIN (height, NATTER_IMAGE_PREVIEW_SIDE), NULL);
  if (loaded == NULL)
    return;
  /* A photo's camera turn, as viewers show it. */
  scaled = gdk_pixbuf_apply_embedded_orientation (loaded);
  if (!gdk_pixbuf_save_to_buffer (scaled, &png, &png_len, "png", NULL, NULL))
    return;
  if (!gdk_pixbuf_get_has_alpha (scaled))
    gdk_pixbuf_save_to_buffer (scaled, &jpeg, &jpeg_len, "jpeg", NULL, "quality", "85", NULL);
  a->width = width;
  a->height = height;
  if (jpeg != NULL && jpeg_len < png_len)
    {
      a->preview = g_bytes_new_take (g_steal_pointer (&jpeg), jpeg_len);
      a->preview_mime = "image/jpeg";
    }
  else
    {
      a->preview = g_bytes_new_take (g_steal_pointer (&png), png_len);
      a->preview_mime = "image/png";
    }
  a->preview_width = gdk_pixbuf_get_width (scaled);
  a->preview_height = gdk_pixbuf_get_height (scaled);
  /* The original's size as it shows, turned like its preview. */
  if ((a->preview_width > a->preview_height) != (gdk_pixbuf_get_width (loaded) > gdk_pixbuf_get_height (loaded)))
    {
      a->width = height;
      a->height = width;
    }
}

static void
preview_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Job *job = task_data;

  for (guint i = 0; i < job->n_files; i++)
    {
      if (g_task_return_error_if_cancelled (task))
        return;
      make_preview (&job->attachments[i]);
    }
  g_task_return_boolean (task, TRUE);
}

void
natter_image_preview_attachments_async (GFile               **files,
                                        guint                 n_files,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Job *job = g_new0 (Job, 1);

  g_task_set_source_tag (task, natter_image_preview_attachments_async);
  job->n_files = n_files;
  job->attachments = g_new0 (NatterFileAttachment, MAX (n_files, 1));
  for (guint i = 0; i < n_files; i++)
    job->attachments[i].file = g_object_ref (files[i]);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, preview_thread);
}

NatterFileAttachment *
natter_image_preview_attachments_finish (GAsyncResult  *result,
                                         guint         *n_files,
                                         GError       **error)
{
  Job *job;
  NatterFileAttachment *attachments;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  job = g_task_get_task_data (G_TASK (result));
  attachments = g_steal_pointer (&job->attachments);
  *n_files = job->n_files;
  job->n_files = 0;
  return attachments;
}
