/* natter-file-transfer.c: the progress of an upload or a download; the
 * work itself is in natter-client-files.c. */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-file-transfer-private.h"

struct _NatterFileTransfer
{
  GObject parent_instance;

  /* owned references */
  GCancellable *cancellable;
  GError       *error;

  gint64        bytes_done;
  gint64        bytes_total;
  guint         chunks_sent;
  gboolean      upload;
  gboolean      finished;
};

G_DEFINE_FINAL_TYPE (NatterFileTransfer, natter_file_transfer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_UPLOAD,
  PROP_BYTES_DONE,
  PROP_BYTES_TOTAL,
  PROP_FINISHED,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
natter_file_transfer_dispose (GObject *object)
{
  NatterFileTransfer *self = NATTER_FILE_TRANSFER (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (natter_file_transfer_parent_class)->dispose (object);
}

static void
natter_file_transfer_finalize (GObject *object)
{
  NatterFileTransfer *self = NATTER_FILE_TRANSFER (object);

  g_clear_error (&self->error);

  G_OBJECT_CLASS (natter_file_transfer_parent_class)->finalize (object);
}

static void
natter_file_transfer_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  NatterFileTransfer *self = NATTER_FILE_TRANSFER (object);

  switch (prop_id)
    {
    case PROP_UPLOAD:
      g_value_set_boolean (value, self->upload);
      break;
    case PROP_BYTES_DONE:
      g_value_set_int64 (value, self->bytes_done);
      break;
    case PROP_BYTES_TOTAL:
      g_value_set_int64 (value, self->bytes_total);
      break;
    case PROP_FINISHED:
      g_value_set_boolean (value, self->finished);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_file_transfer_class_init (NatterFileTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_file_transfer_dispose;
  object_class->finalize = natter_file_transfer_finalize;
  object_class->get_property = natter_file_transfer_get_property;

  properties[PROP_UPLOAD] =
    g_param_spec_boolean ("upload", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BYTES_DONE] =
    g_param_spec_int64 ("bytes-done", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BYTES_TOTAL] =
    g_param_spec_int64 ("bytes-total", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FINISHED] =
    g_param_spec_boolean ("finished", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_file_transfer_init (NatterFileTransfer *self)
{
  self->cancellable = g_cancellable_new ();
}

NatterFileTransfer *
natter_file_transfer_new (gboolean upload,
                          gint64   bytes_total)
{
  NatterFileTransfer *self = g_object_new (NATTER_TYPE_FILE_TRANSFER, NULL);

  self->upload = upload;
  self->bytes_total = bytes_total;
  return self;
}

void
natter_file_transfer_set_bytes_done (NatterFileTransfer *self,
                                     gint64              bytes_done)
{
  g_return_if_fail (NATTER_IS_FILE_TRANSFER (self));

  bytes_done = CLAMP (bytes_done, 0, self->bytes_total);
  if (self->bytes_done == bytes_done)
    return;
  self->bytes_done = bytes_done;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_DONE]);
}

void
natter_file_transfer_add_chunk_sent (NatterFileTransfer *self)
{
  g_return_if_fail (NATTER_IS_FILE_TRANSFER (self));
  self->chunks_sent++;
}

void
natter_file_transfer_finish (NatterFileTransfer *self,
                             const GError       *error)
{
  g_return_if_fail (NATTER_IS_FILE_TRANSFER (self));

  if (self->finished)
    return;
  self->finished = TRUE;
  self->error = error != NULL ? g_error_copy (error) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISHED]);
}

gboolean
natter_file_transfer_get_upload (NatterFileTransfer *self)
{
  g_return_val_if_fail (NATTER_IS_FILE_TRANSFER (self), FALSE);
  return self->upload;
}

gint64
natter_file_transfer_get_bytes_done (NatterFileTransfer *self)
{
  g_return_val_if_fail (NATTER_IS_FILE_TRANSFER (self), 0);
  return self->bytes_done;
}

gint64
natter_file_transfer_get_bytes_total (NatterFileTransfer *self)
{
  g_return_val_if_fail (NATTER_IS_FILE_TRANSFER (self), 0);
  return self->bytes_total;
}

gboolean
natter_file_transfer_get_finished (NatterFileTransfer *self)
{
  g_return_val_if_fail (NATTER_IS_FILE_TRANSFER (self), FALSE);
  return self->finished;
}

const GError *
natter_file_transfer_get_error (NatterFileTransfer *self)
{
  g_return_val_if_fail (NATTER_IS_FILE_TRANSFER (self), NULL);
  return self->error;
}

guint
natter_file_transfer_get_chunks_sent (NatterFileTransfer *self)
{
  g_return_val_if_fail (NATTER_IS_FILE_TRANSFER (self), 0);
  return self->chunks_sent;
}

void
natter_file_transfer_cancel (NatterFileTransfer *self)
{
  g_return_if_fail (NATTER_IS_FILE_TRANSFER (self));
  g_cancellable_cancel (self->cancellable);
}

GCancellable *
natter_file_transfer_get_cancellable (NatterFileTransfer *self)
{
  g_return_val_if_fail (NATTER_IS_FILE_TRANSFER (self), NULL);
  return self->cancellable;
}
