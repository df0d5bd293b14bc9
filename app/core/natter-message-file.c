/* natter-message-file.c: one file of a message, immutable once made. */
#define G_LOG_DOMAIN "natter-message"

#include "config.h"

#include "natter-fields.h"
#include "natter-message-file-private.h"
#include "natter-validate.h"

struct _NatterMessageFile
{
  GObject parent_instance;

  gint64             id;
  gint64             size;
  char              *name;    /* NULL for a preview */
  char              *mime;
  char              *sha256;
  guint              width;
  guint              height;
  NatterMessageFile *preview; /* owned */
};

G_DEFINE_FINAL_TYPE (NatterMessageFile, natter_message_file, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_SIZE,
  PROP_MIME,
  PROP_SHA256,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_PREVIEW,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
natter_message_file_dispose (GObject *object)
{
  NatterMessageFile *self = NATTER_MESSAGE_FILE (object);

  g_clear_object (&self->preview);

  G_OBJECT_CLASS (natter_message_file_parent_class)->dispose (object);
}

static void
natter_message_file_finalize (GObject *object)
{
  NatterMessageFile *self = NATTER_MESSAGE_FILE (object);

  g_free (self->name);
  g_free (self->mime);
  g_free (self->sha256);

  G_OBJECT_CLASS (natter_message_file_parent_class)->finalize (object);
}

static void
natter_message_file_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  NatterMessageFile *self = NATTER_MESSAGE_FILE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SIZE:
      g_value_set_int64 (value, self->size);
      break;
    case PROP_MIME:
      g_value_set_string (value, self->mime);
      break;
    case PROP_SHA256:
      g_value_set_string (value, self->sha256);
      break;
    case PROP_WIDTH:
      g_value_set_uint (value, self->width);
      break;
    case PROP_HEIGHT:
      g_value_set_uint (value, self->height);
      break;
    case PROP_PREVIEW:
      g_value_set_object (value, self->preview);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_message_file_class_init (NatterMessageFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_message_file_dispose;
  object_class->finalize = natter_message_file_finalize;
  object_class->get_property = natter_message_file_get_property;

  properties[PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIZE] =
    g_param_spec_int64 ("size", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MIME] =
    g_param_spec_string ("mime", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHA256] =
    g_param_spec_string ("sha256", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_WIDTH] =
    g_param_spec_uint ("width", NULL, NULL, 0, 65535, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_HEIGHT] =
    g_param_spec_uint ("height", NULL, NULL, 0, 65535, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PREVIEW] =
    g_param_spec_object ("preview", NULL, NULL, NATTER_TYPE_MESSAGE_FILE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_message_file_init (NatterMessageFile *self)
{
}

NatterMessageFile *
natter_message_file_new_from_json (JsonObject *obj)
{
  NatterMessageFile *self;
  const char *name = NULL, *mime = NULL, *sha256 = NULL;
  gint64 id = 0, size = 0, width = 0, height = 0;
  JsonNode *preview;

  if (obj == NULL ||
      !natter_fields_get_int (obj, "file", TRUE, NULL, &id, NULL) ||
      !natter_fields_get_int (obj, "size", TRUE, NULL, &size, NULL) ||
      !natter_fields_get_string (obj, "sha256", TRUE, &sha256, NULL) ||
      id <= 0 || size < 0 || !natter_sha256_is_valid (sha256))
    return NULL;
  /* A preview has no name; a file without one shows as "file". */
  if (!natter_fields_get_string (obj, "name", FALSE, &name, NULL))
    name = NULL;
  if (!natter_fields_get_string (obj, "mime", FALSE, &mime, NULL) || mime == NULL)
    mime = "application/octet-stream";
  if (!natter_fields_get_int (obj, "width", FALSE, NULL, &width, NULL) ||
      !natter_fields_get_int (obj, "height", FALSE, NULL, &height, NULL) ||
      width < 1 || width > 65535 || height < 1 || height > 65535)
    width = height = 0;

  self = g_object_new (NATTER_TYPE_MESSAGE_FILE, NULL);
  self->id = id;
  self->size = size;
  self->name = g_strdup (name);
  self->mime = g_strdup (mime);
  self->sha256 = g_strdup (sha256);
  self->width = width;
  self->height = height;
  preview = json_object_get_member (obj, "preview");
  if (preview != NULL && JSON_NODE_HOLDS_OBJECT (preview))
    self->preview = natter_message_file_new_from_json (json_node_get_object (preview));
  return self;
}

NatterMessageFile *
natter_message_file_new_local (const char *name,
                               gint64      size,
                               const char *mime)
{
  NatterMessageFile *self = g_object_new (NATTER_TYPE_MESSAGE_FILE, NULL);

  self->name = g_strdup (name);
  self->size = size;
  self->mime = g_strdup (mime);
  return self;
}

gint64
natter_message_file_get_id (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), 0);
  return self->id;
}

const char *
natter_message_file_get_name (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), NULL);
  return self->name;
}

gint64
natter_message_file_get_size (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), 0);
  return self->size;
}

const char *
natter_message_file_get_mime (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), NULL);
  return self->mime;
}

const char *
natter_message_file_get_sha256 (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), NULL);
  return self->sha256;
}

guint
natter_message_file_get_width (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), 0);
  return self->width;
}

guint
natter_message_file_get_height (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), 0);
  return self->height;
}

NatterMessageFile *
natter_message_file_get_preview (NatterMessageFile *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (self), NULL);
  return self->preview;
}
