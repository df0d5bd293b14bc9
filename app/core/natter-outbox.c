/* natter-outbox.c: the on-disk outbox, an fsync'd append-only log. */
#define G_LOG_DOMAIN "natter-outbox"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "natter-fields.h"
#include "natter-json.h"
#include "natter-outbox.h"
#include "natter-platform.h"

/* Past this many bytes of log the file is rewritten with only what is
 * still pending, so it never grows without bound. */
#define COMPACT_THRESHOLD (256 * 1024)

struct _NatterOutbox
{
  GObject parent_instance;

  char       *path;
  int         fd;        /* append descriptor; -1 until the first write */
  gsize       log_bytes;
  guint       sync_id;   /* the pending fdatasync */
  GPtrArray  *pending;   /* NatterOutboxEntry*, in the order added */
  GHashTable *by_id;     /* client_msg_id → entry (borrowed from pending) */
  char       *account;   /* stamped on new entries */
};

G_DEFINE_FINAL_TYPE (NatterOutbox, natter_outbox, G_TYPE_OBJECT)

static void
entry_free (gpointer data)
{
  NatterOutboxEntry *e = data;

  g_free (e->client_msg_id);
  g_free (e->to);
  g_free (e->body);
  g_free (e->account);
  g_free (e->emoji);
  g_free (e->reply_from);
  g_free (e->reply_body);
  g_free (e->files);
  g_free (e);
}

static const char *const kind_names[] = { "send", "edit", "delete", "react" };
#define KIND_SEND_FILES "send_files"

static void
natter_outbox_finalize (GObject *object)
{
  NatterOutbox *self = NATTER_OUTBOX (object);

  natter_outbox_sync (self);
  if (self->fd >= 0)
    close (self->fd);
  g_hash_table_unref (self->by_id);
  g_ptr_array_unref (self->pending);
  g_free (self->path);
  g_free (self->account);

  G_OBJECT_CLASS (natter_outbox_parent_class)->finalize (object);
}

static void
natter_outbox_class_init (NatterOutboxClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = natter_outbox_finalize;
}

static void
natter_outbox_init (NatterOutbox *self)
{
  self->fd = -1;
  self->pending = g_ptr_array_new_with_free_func (entry_free);
  self->by_id = g_hash_table_new (g_str_hash, g_str_equal);
}

/* An add of an entry already there is a retry of a failed one: it is
 * pending again. */
static void
add_entry (NatterOutbox            *self,
           const NatterOutboxEntry *from)
{
  NatterOutboxEntry *e = g_hash_table_lookup (self->by_id, from->client_msg_id);

  if (e != NULL)
    {
      e->failed = FALSE;
      return;
    }

  e = g_new0 (NatterOutboxEntry, 1);
  e->client_msg_id = g_strdup (from->client_msg_id);
  e->to = g_strdup (from->to);
  e->body = g_strdup (from->body);
  e->ts = from->ts;
  e->account = g_strdup (from->account);
  e->kind = from->kind;
  e->message = from->message;
  e->emoji = g_strdup (from->emoji);
  e->on = from->on;
  e->reply_to = from->reply_to;
  e->reply_from = g_strdup (from->reply_from);
  e->reply_body = g_strdup (from->reply_body);
  e->files = g_strdup (from->files);
  g_ptr_array_add (self->pending, e);
  g_hash_table_insert (self->by_id, e->client_msg_id, e);
}

static gboolean
remove_entry (NatterOutbox *self,
              const char   *client_msg_id)
{
  NatterOutboxEntry *e = g_hash_table_lookup (self->by_id, client_msg_id);

  if (e == NULL)
    return FALSE;
  g_hash_table_remove (self->by_id, client_msg_id);
  g_ptr_array_remove (self->pending, e);
  return TRUE;
}

static gboolean compact (NatterOutbox *self, GError **error);

/* Appends {"op":@op,"client_msg_id":@client_msg_id} and a newline. */
static void
append_op_line (GString    *out,
                const char *op,
                const char *client_msg_id)
{
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "op");
  natter_json_writer_string (&w, op);
  natter_json_writer_key (&w, "client_msg_id");
  natter_json_writer_string (&w, client_msg_id);
  natter_json_writer_end_object (&w);
  g_string_append_c (out, '\n');
}

static void
load_line (NatterOutbox *self,
           const char   *line,
           gsize         len)
{
  g_autoptr(JsonNode) node = NULL;
  JsonObject *obj;
  const char *op = NULL, *id = NULL, *to = NULL, *body = NULL, *kind = NULL;
  NatterOutboxEntry e = { 0 };
  g_autofree char *files = NULL;
  JsonNode *files_node;

  if (len == 0)
    return;

  /* A torn line (crash during an append) simply fails to parse. */
  node = natter_json_parse (line, len, 4, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;
  obj = json_node_get_object (node);

  if (!natter_fields_get_string (obj, "op", TRUE, &op, NULL) ||
      !natter_fields_get_string (obj, "client_msg_id", TRUE, &id, NULL))
    return;

  if (g_str_equal (op, "add") &&
      natter_fields_get_string (obj, "to", TRUE, &to, NULL) &&
      natter_fields_get_string (obj, "body", TRUE, &body, NULL))
    {
      e.client_msg_id = (char *) id;
      e.to = (char *) to;
      e.body = (char *) body;
      natter_fields_get_int (obj, "ts", FALSE, NULL, &e.ts, NULL);
      natter_fields_get_string (obj, "account", FALSE, (const char **) &e.account, NULL);
      /* An entry without "kind" is a send (all of them were, once). */
      natter_fields_get_string (obj, "kind", FALSE, &kind, NULL);
      /* A send with files has a kind of its own on disk, so that a
       * version that knows no files skips it rather than sending the
       * text alone. */
      if (g_strcmp0 (kind, KIND_SEND_FILES) == 0)
        {
          files_node = json_object_get_member (obj, "files");
          if (files_node == NULL || !JSON_NODE_HOLDS_ARRAY (files_node))
            return;
          e.files = files = json_to_string (files_node, FALSE);
          kind = NULL;
        }
      for (guint i = 0; kind != NULL && i < G_N_ELEMENTS (kind_names); i++)
        if (g_str_equal (kind, kind_names[i]))
          e.kind = i;
      if (kind != NULL && e.kind == NATTER_OUTBOX_SEND && !g_str_equal (kind, "send"))
        return; /* written by a newer version: not ours to send */
      natter_fields_get_int (obj, "message", FALSE, NULL, &e.message, NULL);
      natter_fields_get_string (obj, "emoji", FALSE, (const char **) &e.emoji, NULL);
      natter_fields_get_bool (obj, "on", FALSE, NULL, &e.on, NULL);
      natter_fields_get_int (obj, "reply_to", FALSE, NULL, &e.reply_to, NULL);
      natter_fields_get_string (obj, "reply_from", FALSE, (const char **) &e.reply_from, NULL);
      natter_fields_get_string (obj, "reply_body", FALSE, (const char **) &e.reply_body, NULL);
      if (e.kind != NATTER_OUTBOX_SEND && e.message <= 0)
        return;
      add_entry (self, &e);
    }
  else if (g_str_equal (op, "files"))
    {
      NatterOutboxEntry *known = g_hash_table_lookup (self->by_id, id);

      files_node = json_object_get_member (obj, "files");
      if (known != NULL && known->files != NULL && files_node != NULL && JSON_NODE_HOLDS_ARRAY (files_node))
        {
          g_free (known->files);
          known->files = json_to_string (files_node, FALSE);
        }
    }
  else if (g_str_equal (op, "done"))
    remove_entry (self, id);
  else if (g_str_equal (op, "failed"))
    {
      NatterOutboxEntry *known = g_hash_table_lookup (self->by_id, id);

      if (known != NULL)
        known->failed = TRUE;
    }
}

/* Appends the log lines of @e: an add, and a failed mark after it when
 * @e failed. */
static void
append_entry_lines (GString                 *out,
                    const NatterOutboxEntry *e)
{
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "op");
  natter_json_writer_string (&w, "add");
  natter_json_writer_key (&w, "client_msg_id");
  natter_json_writer_string (&w, e->client_msg_id);
  natter_json_writer_key (&w, "to");
  natter_json_writer_string (&w, e->to);
  natter_json_writer_key (&w, "body");
  natter_json_writer_string (&w, e->body);
  natter_json_writer_key (&w, "ts");
  natter_json_writer_int (&w, e->ts);
  if (e->account != NULL)
    {
      natter_json_writer_key (&w, "account");
      natter_json_writer_string (&w, e->account);
    }
  if (e->kind == NATTER_OUTBOX_SEND && e->files != NULL)
    {
      natter_json_writer_key (&w, "kind");
      natter_json_writer_string (&w, KIND_SEND_FILES);
      natter_json_writer_key (&w, "files");
      natter_json_writer_raw (&w, e->files, strlen (e->files));
    }
  if (e->kind != NATTER_OUTBOX_SEND)
    {
      natter_json_writer_key (&w, "kind");
      natter_json_writer_string (&w, kind_names[e->kind]);
      natter_json_writer_key (&w, "message");
      natter_json_writer_int (&w, e->message);
    }
  if (e->kind == NATTER_OUTBOX_REACT)
    {
      natter_json_writer_key (&w, "emoji");
      natter_json_writer_string (&w, e->emoji != NULL ? e->emoji : "");
      natter_json_writer_key (&w, "on");
      natter_json_writer_bool (&w, e->on);
    }
  if (e->reply_to > 0)
    {
      natter_json_writer_key (&w, "reply_to");
      natter_json_writer_int (&w, e->reply_to);
      natter_json_writer_key (&w, "reply_from");
      natter_json_writer_string (&w, e->reply_from != NULL ? e->reply_from : "");
      natter_json_writer_key (&w, "reply_body");
      natter_json_writer_string (&w, e->reply_body != NULL ? e->reply_body : "");
    }
  natter_json_writer_end_object (&w);
  g_string_append_c (out, '\n');
  if (e->failed)
    append_op_line (out, "failed", e->client_msg_id);
}

NatterOutbox *
natter_outbox_new (const char *path)
{
  NatterOutbox *self = g_object_new (NATTER_TYPE_OUTBOX, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length = 0;

  self->path = g_strdup (path);

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("Cannot read the outbox %s: %s", path, error->message);
      return self;
    }

  self->log_bytes = length;
  for (const char *p = contents; p < contents + length; )
    {
      const char *nl = memchr (p, '\n', contents + length - p);
      const char *end = nl != NULL ? nl : contents + length;

      load_line (self, p, end - p);
      p = end + 1;
    }

  /* A torn last line would swallow the next append: rewrite the log
   * without it first. */
  if (length > 0 && contents[length - 1] != '\n' && !compact (self, &error))
    g_warning ("Cannot repair the outbox %s: %s", path, error->message);

  return self;
}

static gboolean
write_all (int          fd,
           const char  *data,
           gsize        len,
           GError     **error)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0)
        {
          int saved = errno;

          if (saved == EINTR)
            continue;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "Cannot write the outbox: %s", g_strerror (saved));
          return FALSE;
        }
      data += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
sync_cb (gpointer user_data)
{
  NatterOutbox *self = user_data;

  self->sync_id = 0;
  natter_outbox_sync (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_sync (NatterOutbox *self)
{
  if (self->sync_id == 0)
    self->sync_id = g_idle_add_full (G_PRIORITY_HIGH, sync_cb, self, NULL);
}

void
natter_outbox_sync (NatterOutbox *self)
{
  g_return_if_fail (NATTER_IS_OUTBOX (self));

  g_clear_handle_id (&self->sync_id, g_source_remove);
  if (self->fd >= 0 && !natter_platform_sync_data (self->fd))
    g_warning ("Cannot sync the outbox: %s", g_strerror (errno));
}

static gboolean
ensure_open (NatterOutbox  *self,
             GError       **error)
{
  g_autofree char *dir = NULL;

  if (self->fd >= 0)
    return TRUE;

  dir = g_path_get_dirname (self->path);
  g_mkdir_with_parents (dir, 0700);

  self->fd = g_open (self->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (self->fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot open the outbox %s: %s", self->path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Rewrites the log with only the pending entries, atomically. */
static gboolean
compact (NatterOutbox  *self,
         GError       **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < self->pending->len; i++)
    append_entry_lines (out, g_ptr_array_index (self->pending, i));

  g_clear_handle_id (&self->sync_id, g_source_remove);
  if (self->fd >= 0)
    {
      close (self->fd);
      self->fd = -1;
    }

  if (!g_file_set_contents_full (self->path, out->str, out->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, error))
    return FALSE;
  self->log_bytes = out->len;
  return TRUE;
}

/* Appends @line to the log. */
static gboolean
append_line (NatterOutbox  *self,
             GString       *line,
             GError       **error)
{
  if (!ensure_open (self, error) ||
      !write_all (self->fd, line->str, line->len, error))
    return FALSE;
  self->log_bytes += line->len;
  return TRUE;
}

gboolean
natter_outbox_add (NatterOutbox  *self,
                   const char    *client_msg_id,
                   const char    *to,
                   const char    *body,
                   gint64         ts,
                   GError       **error)
{
  NatterOutboxEntry e = { (char *) client_msg_id, (char *) to, (char *) body, ts };

  return natter_outbox_add_entry (self, &e, error);
}

gboolean
natter_outbox_add_entry (NatterOutbox            *self,
                         const NatterOutboxEntry *entry,
                         GError                 **error)
{
  g_autoptr(GString) line = g_string_new (NULL);
  NatterOutboxEntry e = *entry;

  g_return_val_if_fail (NATTER_IS_OUTBOX (self), FALSE);
  g_return_val_if_fail (e.client_msg_id != NULL && e.to != NULL && e.body != NULL, FALSE);

  e.failed = FALSE;
  e.account = self->account;
  append_entry_lines (line, &e);
  if (!append_line (self, line, error))
    return FALSE;

  /* The line is in the kernel once write() returned, so it survives the
   * app crashing. The fdatasync that makes it survive a power cut is
   * shared by every message written in this main-loop iteration: a burst
   * of sends costs one sync, not one each. */
  schedule_sync (self);

  add_entry (self, &e);
  return TRUE;
}

void
natter_outbox_set_account (NatterOutbox *self,
                           const char   *account)
{
  g_return_if_fail (NATTER_IS_OUTBOX (self));

  g_free (self->account);
  self->account = g_strdup (account);
}

gboolean
natter_outbox_mark_failed (NatterOutbox  *self,
                           const char    *client_msg_id,
                           GError       **error)
{
  g_autoptr(GString) line = g_string_new (NULL);
  NatterOutboxEntry *e;

  g_return_val_if_fail (NATTER_IS_OUTBOX (self), FALSE);

  e = client_msg_id != NULL ? g_hash_table_lookup (self->by_id, client_msg_id) : NULL;
  if (e == NULL || e->failed)
    return TRUE;
  e->failed = TRUE;

  /* Synced like an add: were the mark lost, the next start would send
   * the message again without being asked to. */
  append_op_line (line, "failed", client_msg_id);
  if (!append_line (self, line, error))
    return FALSE;
  schedule_sync (self);
  return TRUE;
}

gboolean
natter_outbox_set_files (NatterOutbox  *self,
                         const char    *client_msg_id,
                         const char    *files,
                         GError       **error)
{
  g_autoptr(GString) line = g_string_new (NULL);
  NatterOutboxEntry *e;
  NatterJsonWriter w;

  g_return_val_if_fail (NATTER_IS_OUTBOX (self), FALSE);
  g_return_val_if_fail (files != NULL, FALSE);

  e = client_msg_id != NULL ? g_hash_table_lookup (self->by_id, client_msg_id) : NULL;
  if (e == NULL || e->files == NULL || g_str_equal (e->files, files))
    return TRUE;
  g_free (e->files);
  e->files = g_strdup (files);

  natter_json_writer_init (&w, line);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "op");
  natter_json_writer_string (&w, "files");
  natter_json_writer_key (&w, "client_msg_id");
  natter_json_writer_string (&w, client_msg_id);
  natter_json_writer_key (&w, "files");
  natter_json_writer_raw (&w, files, strlen (files));
  natter_json_writer_end_object (&w);
  g_string_append_c (line, '\n');
  return append_line (self, line, error);
}

gboolean
natter_outbox_remove (NatterOutbox  *self,
                      const char    *client_msg_id,
                      GError       **error)
{
  g_autoptr(GString) line = g_string_new (NULL);

  g_return_val_if_fail (NATTER_IS_OUTBOX (self), FALSE);

  if (client_msg_id == NULL || !remove_entry (self, client_msg_id))
    return TRUE;

  /* Nothing pending: an empty log says the same, and truncating is cheap.
   * A crash around it leaves either the old log (whose entries the server
   * deduplicates if resent) or an empty one. */
  if (self->pending->len == 0 && ensure_open (self, NULL) && ftruncate (self->fd, 0) == 0)
    {
      self->log_bytes = 0;
      return TRUE;
    }

  if (self->log_bytes > COMPACT_THRESHOLD)
    return compact (self, error);

  /* No fsync: if this line is lost, the message is resent with the same
   * client_msg_id and the server answers the original without a copy (a
   * failed one shows again, failed). */
  append_op_line (line, "done", client_msg_id);
  return append_line (self, line, error);
}

GPtrArray *
natter_outbox_get_pending (NatterOutbox *self)
{
  g_return_val_if_fail (NATTER_IS_OUTBOX (self), NULL);
  return self->pending;
}

guint
natter_outbox_get_n_pending (NatterOutbox *self)
{
  g_return_val_if_fail (NATTER_IS_OUTBOX (self), 0);
  return self->pending->len;
}

NatterOutboxEntry *
natter_outbox_lookup (NatterOutbox *self,
                      const char   *client_msg_id)
{
  g_return_val_if_fail (NATTER_IS_OUTBOX (self), NULL);
  return client_msg_id != NULL ? g_hash_table_lookup (self->by_id, client_msg_id) : NULL;
}
