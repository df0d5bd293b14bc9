/* natterd-message-files.c: the files of a send (docs/protocol.md, "send,
 * with files"): the entries' rules, and the writer's check that the
 * sender may attach each file.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natter-error.h"
#include "natter-fields.h"
#include "natter-validate.h"
#include "natterd-message-files.h"

typedef struct {
  gint64  file;     /* 0: none (a preview left out) */
  char   *mime;
  gint64  width;    /* 0: not given */
  gint64  height;
} FileSpec;

typedef struct {
  FileSpec  main;
  char     *name;
  FileSpec  preview;
} Entry;

struct _NatterdSendFiles {
  GArray *entries;  /* Entry, in the order sent */
};

static gboolean
refuse (GError          **error,
        NatterErrorCode   code,
        const char       *message)
{
  g_set_error_literal (error, NATTER_ERROR, code, message);
  return FALSE;
}

static void
entry_clear (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  g_free (e->main.mime);
  g_free (e->preview.mime);
}

void
natterd_send_files_free (NatterdSendFiles *files)
{
  if (files == NULL)
    return;
  g_array_unref (files->entries);
  g_free (files);
}

/* "file", "mime", and "width" with "height" (both or neither) of @obj.
 * FALSE with invalid_argument in @error. */
static gboolean
read_spec (JsonObject  *obj,
           FileSpec    *out,
           GError     **error)
{
  gboolean has_width = FALSE, has_height = FALSE;
  const char *mime = NULL;

  if (!natter_fields_get_int (obj, "file", TRUE, NULL, &out->file, error) ||
      !natter_fields_get_string (obj, "mime", TRUE, &mime, error) ||
      !natter_fields_get_int (obj, "width", FALSE, &has_width, &out->width, error) ||
      !natter_fields_get_int (obj, "height", FALSE, &has_height, &out->height, error))
    return FALSE;
  if (out->file <= 0)
    return refuse (error, NATTER_ERROR_INVALID_ARGUMENT, "file must be a positive file id");
  if (!natter_mime_is_valid (mime))
    return refuse (error, NATTER_ERROR_INVALID_ARGUMENT,
                             "mime must be type/subtype, 3 to 127 bytes of letters, digits and !#$&-^_.+");
  if (has_width != has_height ||
      (has_width && (out->width < 1 || out->width > NATTER_IMAGE_SIDE_MAX ||
                     out->height < 1 || out->height > NATTER_IMAGE_SIDE_MAX)))
    return refuse (error, NATTER_ERROR_INVALID_ARGUMENT,
                             "width and height come together, each from 1 to 65535");
  if (!has_width)
    out->width = out->height = 0;
  out->mime = g_strdup (mime);
  return TRUE;
}

static gboolean
read_entry (JsonNode  *node,
            Entry     *out,
            GError   **error)
{
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  JsonNode *preview;
  const char *name = NULL;

  if (obj == NULL)
    return refuse (error, NATTER_ERROR_INVALID_ARGUMENT, "each of files must be an object");
  if (!read_spec (obj, &out->main, error) ||
      !natter_fields_get_string (obj, "name", TRUE, &name, error))
    return FALSE;
  if (!natter_file_name_is_valid (name))
    return refuse (error, NATTER_ERROR_INVALID_ARGUMENT,
                             "name must be 1 to 255 bytes without control characters, / or \\, not . or ..");
  out->name = g_strdup (name);
  preview = json_object_get_member (obj, "preview");
  if (preview == NULL || JSON_NODE_HOLDS_NULL (preview))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (preview))
    return refuse (error, NATTER_ERROR_INVALID_ARGUMENT, "preview must be an object or null");
  return read_spec (json_node_get_object (preview), &out->preview, error);
}

gboolean
natterd_send_files_read (NatterdRequest    *request,
                         NatterdSendFiles **out)
{
  JsonNode *node = json_object_get_member (natterd_request_get_frame (request), "files");
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdSendFiles) files = NULL;
  JsonArray *array;
  guint n;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  n = array != NULL ? json_array_get_length (array) : 0;
  if (n < 1 || n > NATTER_FILES_PER_MESSAGE)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "files must be an array of 1 to 10 files");
      return FALSE;
    }
  files = g_new0 (NatterdSendFiles, 1);
  files->entries = g_array_sized_new (FALSE, TRUE, sizeof (Entry), n);
  g_array_set_clear_func (files->entries, entry_clear);
  for (guint i = 0; i < n; i++)
    {
      Entry e = { 0 };

      if (!read_entry (json_array_get_element (array, i), &e, &error))
        {
          entry_clear (&e);
          natterd_request_error_from (request, error);
          return FALSE;
        }
      g_array_append_val (files->entries, e);
    }
  *out = g_steal_pointer (&files);
  return TRUE;
}

/* Checks @spec and appends its fields (file size sha256 width height
 * mime) to @line. */
static gboolean
append_spec (GString         *line,
             const FileSpec  *spec,
             NatterdStore    *store,
             gint64           sender_id,
             GError         **error)
{
  char sha256[65] = "";
  gint64 size = -1;

  if (!natterd_store_file_readable (store, spec->file, sender_id, &size, sha256, error))
    return FALSE;
  if (size < 0)
    return refuse (error, NATTER_ERROR_NOT_FOUND, "No such file to attach");
  g_string_append_printf (line, "%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%s\t%" G_GINT64_FORMAT
                          "\t%" G_GINT64_FORMAT "\t%s", spec->file, size, sha256, spec->width, spec->height,
                          spec->mime);
  return TRUE;
}

gboolean
natterd_send_files_lines (const NatterdSendFiles  *files,
                          NatterdStore            *store,
                          gint64                   sender_id,
                          char                   **out_lines,
                          GError                 **error)
{
  g_autoptr(GString) lines = g_string_new (NULL);

  for (guint i = 0; i < files->entries->len; i++)
    {
      const Entry *e = &g_array_index (files->entries, Entry, i);

      if (!append_spec (lines, &e->main, store, sender_id, error))
        return FALSE;
      g_string_append_printf (lines, "\t%s\t", e->name);
      if (e->preview.file != 0)
        {
          if (!append_spec (lines, &e->preview, store, sender_id, error))
            return FALSE;
        }
      else
        g_string_append (lines, "0\t0\t\t0\t0\t");
      g_string_append_c (lines, '\n');
    }
  *out_lines = g_string_free (g_steal_pointer (&lines), FALSE);
  return TRUE;
}
