/* natterd-store-import.c: natterd --import-sqlite, a SQLite natter.db
 * copied into an empty PostgreSQL database.
 *
 * The source is opened read-only and read in one transaction, so the
 * copy and the counts it is checked against are one snapshot of it. The
 * target is opened through the PostgreSQL engine (which makes or migrates
 * its schema) and written in one transaction: its tables are locked
 * against writers, checked empty, filled with COPY FROM STDIN (text
 * format; a row per line, fields escaped), the identity sequences and the
 * message counter set past the largest ids, and the counts compared
 * before COMMIT, so a failure anywhere leaves the target as it was.
 *
 * Every id is kept: a client's sync position (a message id), its token
 * and its read markers mean the same on the new server. The columns
 * PostgreSQL has and SQLite has not are made as the engine's insert makes
 * them: seq and sender_seq count a message's place in its conversation
 * and among its sender's messages there (the rows come in id order, so
 * each is the previous one's plus one), and the words come from
 * natterd_store_pg_message_lexemes() through NATTERD_STORE_PG_WORDS, by
 * way of a temporary table, so that they are the engine's own expression.
 * search.db is derived and not read.
 */
#define G_LOG_DOMAIN "natterd-store"

#include "config.h"

#include <sqlite3.h>
#include <stddef.h>
#include <string.h>

#include "natterd-store-import.h"
#include "natterd-store-pg.h"
#include "natterd-store-pg-internal.h"
#include "natterd-store-sqlite.h"

/* COPY data is sent in pieces of about this size. */
#define COPY_CHUNK_BYTES (256 * 1024)

typedef struct {
  const char *label;    /* in the counts and the messages */
  const char *table;    /* the same in both databases */
  const char *columns;  /* the same in both, copied in this order */
  const char *order;    /* the source's order: parents before children, ids ascending */
  gsize       count;    /* offsetof (NatterdStoreImportCounts, ...) */
  int         bytea;    /* the column that is bytea in the target, or -1 */
} ImportTable;

/* In an order the target's foreign keys accept. */
static const ImportTable tables[] = {
  { "users", "users", "id, username, display_name, password_hash, status_text, last_seen, created",
    "id", G_STRUCT_OFFSET (NatterdStoreImportCounts, users), -1 },
  { "tokens", "tokens", "hash, user_id, expires, created, device, address",
    "hash", G_STRUCT_OFFSET (NatterdStoreImportCounts, tokens), 0 },
  { "avatars", "avatars", "user_id, sha256, data",
    "user_id", G_STRUCT_OFFSET (NatterdStoreImportCounts, avatars), 2 },
  { "contacts", "contacts", "a, b, state",
    "a, b", G_STRUCT_OFFSET (NatterdStoreImportCounts, contacts), -1 },
  { "conversations", "conversations", "id, kind, user_a, user_b",
    "id", G_STRUCT_OFFSET (NatterdStoreImportCounts, conversations), -1 },
  { "rooms", "rooms", "conversation_id, name, topic, owner_id, created, display_name, is_private",
    "conversation_id", G_STRUCT_OFFSET (NatterdStoreImportCounts, rooms), -1 },
  { "members", "participants", "conversation_id, user_id, read_up_to, notify_level, role",
    "conversation_id, user_id", G_STRUCT_OFFSET (NatterdStoreImportCounts, members), -1 },
  { "bans", "room_bans", "conversation_id, user_id, by_id, reason, ts",
    "conversation_id, user_id", G_STRUCT_OFFSET (NatterdStoreImportCounts, bans), -1 },
  { "invitations", "room_invitations", "conversation_id, user_id, by_id, ts",
    "conversation_id, user_id", G_STRUCT_OFFSET (NatterdStoreImportCounts, invitations), -1 },
  { "blocks", "blocks", "user_id, blocked_id, ts",
    "user_id, blocked_id", G_STRUCT_OFFSET (NatterdStoreImportCounts, blocks), -1 },
  /* Their ids are of the message sequence (message_counter, below). */
  { "changes", "changes", "id, conversation_id, actor_id, ts, kind, target_id, emoji, reaction_on",
    "id", G_STRUCT_OFFSET (NatterdStoreImportCounts, changes), -1 },
  /* The body and the words are a deleted message's erased ones ("").
   * search_removals is SQLite's search index's own: nothing to copy. */
  { "messages", "messages",
    "id, conversation_id, sender_id, ts, body, client_msg_id, reply_to, edited_ts, deleted, reactions, mentions,"
    " hidden_for",
    "id", G_STRUCT_OFFSET (NatterdStoreImportCounts, messages), -1 },
};

#define MESSAGES_TABLE (&tables[G_N_ELEMENTS (tables) - 1])
/* The body's column in MESSAGES_TABLE's list. */
#define MESSAGE_BODY_COLUMN 4

static gint64 *
count_of (NatterdStoreImportCounts *counts,
          const ImportTable        *t)
{
  return G_STRUCT_MEMBER_P (counts, t->count);
}

char *
natterd_store_import_counts_format (const NatterdStoreImportCounts *counts)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    g_string_append_printf (out, "%s%s %" G_GINT64_FORMAT, i > 0 ? ", " : "", tables[i].label,
                            *count_of ((NatterdStoreImportCounts *) counts, &tables[i]));
  return g_string_free (out, FALSE);
}

/* --- the source --- */

static gboolean
set_source_error (sqlite3     *db,
                  const char  *path,
                  const char  *what,
                  GError     **error)
{
  int code = sqlite3_errcode (db);

  if (code == SQLITE_NOTADB)
    g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CORRUPT,
                 "%s is not a SQLite database", path);
  else
    g_set_error (error, NATTERD_STORE_ERROR,
                 code == SQLITE_CORRUPT ? NATTERD_STORE_ERROR_CORRUPT : NATTERD_STORE_ERROR_FAILED,
                 "%s: %s: %s", path, what, sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
source_int (sqlite3     *db,
            const char  *path,
            const char  *sql,
            gint64      *out_value,
            GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return set_source_error (db, path, "read", error);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_source_error (db, path, "read", error);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  *out_value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
}

/* Read-only, in a read transaction (one snapshot until closed), of the
 * schema version this natterd makes. */
static sqlite3 *
open_source (const char  *path,
             GError     **error)
{
  sqlite3 *db = NULL;
  gint64 version = 0;
  int current = natterd_store_sqlite_schema_version ();

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "%s: no such file", path);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "%s is a directory: give the natter.db file in it", path);
      return NULL;
    }
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "cannot open %s: %s", path, db != NULL ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
      return NULL;
    }
  if (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
      !source_int (db, path, "PRAGMA user_version", &version, error))
    {
      if (error != NULL && *error == NULL)
        set_source_error (db, path, "begin", error);
      sqlite3_close (db);
      return NULL;
    }
  if (version != current)
    {
      if (version == 0)
        g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                     "%s is not a natterd database (schema version 0)", path);
      else if (version < current)
        g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                     "%s has schema version %" G_GINT64_FORMAT ", this natterd imports %d: "
                     "start this natterd on it once (it migrates the file), stop it, "
                     "then import", path, version, current);
      else
        g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                     "%s has schema version %" G_GINT64_FORMAT ", newer than this natterd "
                     "knows (%d): import with the natterd that wrote it", path, version, current);
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

/* --- COPY text format --- */

/* Text with backslash, newline, carriage return and tab escaped (the
 * other bytes go as they are, in the session's encoding, UTF-8). */
static void
append_escaped (GString    *buf,
                const char *text,
                gsize       len)
{
  const char *span = text;
  const char *end = text + len;

  for (const char *p = text; p < end; p++)
    {
      const char *escape;

      switch (*p)
        {
        case '\\': escape = "\\\\"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        default: continue;
        }
      g_string_append_len (buf, span, p - span);
      g_string_append (buf, escape);
      span = p + 1;
    }
  g_string_append_len (buf, span, end - span);
}

/* Column @i of the source row as a COPY field. Text that PostgreSQL could
 * not store (not UTF-8, or a NUL in it) fails, naming the row. */
static gboolean
append_field (GString            *buf,
              sqlite3_stmt       *stmt,
              int                 i,
              const ImportTable  *t,
              GError            **error)
{
  int type = sqlite3_column_type (stmt, i);

  /* SQLite keeps whatever was bound: bytes in a text column are text
   * to PostgreSQL, and must be UTF-8 like any. */
  if (type == SQLITE_BLOB && i != t->bytea)
    type = SQLITE_TEXT;
  switch (type)
    {
    case SQLITE_NULL:
      g_string_append (buf, "\\N");
      break;
    case SQLITE_INTEGER:
      g_string_append_printf (buf, "%lld", (long long) sqlite3_column_int64 (stmt, i));
      break;
    case SQLITE_FLOAT:
      g_string_append_printf (buf, "%.17g", sqlite3_column_double (stmt, i));
      break;
    case SQLITE_BLOB:
      {
        const guint8 *data = sqlite3_column_blob (stmt, i);
        int len = sqlite3_column_bytes (stmt, i);
        static const char hex[] = "0123456789abcdef";

        /* bytea's hex form, its backslash escaped for COPY. */
        g_string_append (buf, "\\\\x");
        for (int k = 0; k < len; k++)
          {
            g_string_append_c (buf, hex[data[k] >> 4]);
            g_string_append_c (buf, hex[data[k] & 15]);
          }
      }
      break;
    default:
      {
        const char *text = (const char *) sqlite3_column_text (stmt, i);
        int len = sqlite3_column_bytes (stmt, i);

        if (text == NULL || !g_utf8_validate (text, len, NULL))
          {
            g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                         "%s row %s: column %d is not UTF-8 text without NUL, "
                         "which PostgreSQL cannot store",
                         t->label, (const char *) sqlite3_column_text (stmt, 0), i + 1);
            return FALSE;
          }
        append_escaped (buf, text, len);
      }
      break;
    }
  return TRUE;
}

/* A message's place: seq per conversation (sender 0: no user has id 0),
 * sender_seq per (conversation, sender). */
typedef struct {
  gint64 conversation_id;
  gint64 sender_id;
  gint64 last;
} Place;

static guint
place_hash (gconstpointer key)
{
  const Place *p = key;

  return g_int64_hash (&p->conversation_id) * 31 + g_int64_hash (&p->sender_id);
}

static gboolean
place_equal (gconstpointer a,
             gconstpointer b)
{
  const Place *x = a, *y = b;

  return x->conversation_id == y->conversation_id && x->sender_id == y->sender_id;
}

/* The next number of @conversation_id and @sender_id's sequence. */
static gint64
next_place (GHashTable *places,
            gint64      conversation_id,
            gint64      sender_id)
{
  Place key = { conversation_id, sender_id, 0 };
  Place *p = g_hash_table_lookup (places, &key);

  if (p == NULL)
    {
      p = g_memdup2 (&key, sizeof key);
      g_hash_table_add (places, p);
    }
  return ++p->last;
}

/* Appends a message row's columns beyond the source's: seq, sender_seq,
 * and its lexemes. */
static void
append_message_extras (GString      *buf,
                       sqlite3_stmt *stmt,
                       GHashTable   *places)
{
  gint64 conversation_id = sqlite3_column_int64 (stmt, 1);
  gint64 sender_id = sqlite3_column_int64 (stmt, 2);
  const char *body = (const char *) sqlite3_column_text (stmt, MESSAGE_BODY_COLUMN);
  g_autofree char *lexemes = natterd_store_pg_message_lexemes (body, sqlite3_column_bytes (stmt, MESSAGE_BODY_COLUMN));

  g_string_append_printf (buf, "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t",
                          next_place (places, conversation_id, 0),
                          next_place (places, conversation_id, sender_id));
  append_escaped (buf, lexemes, strlen (lexemes));
}

/* --- the target --- */

typedef struct {
  const char             *source_path;
  sqlite3                *source;
  NatterdStore           *target;
  PGconn                 *conn;
} Import;

static gboolean
put_copy_data (Import   *im,
               GString  *buf,
               GError  **error)
{
  if (buf->len > 0 && PQputCopyData (im->conn, buf->str, (int) buf->len) != 1)
    return natterd_store_pg_set_error (im->target, NULL, "copy", error);
  g_string_truncate (buf, 0);
  return TRUE;
}

/* Ends the COPY (with @abort_reason: abandoned) and reads its outcome. */
static gboolean
end_copy (Import             *im,
          const ImportTable  *t,
          const char         *abort_reason,
          GError            **error)
{
  g_autofree char *what = g_strdup_printf ("copy %s", t->label);
  PGresult *failed = NULL;
  PGresult *res;

  if (PQputCopyEnd (im->conn, abort_reason) != 1)
    return natterd_store_pg_set_error (im->target, NULL, what, error);
  while ((res = PQgetResult (im->conn)) != NULL)
    {
      if (PQresultStatus (res) != PGRES_COMMAND_OK && failed == NULL)
        failed = res;
      else
        PQclear (res);
    }
  /* An abandoned COPY fails by design: the caller has the reason. */
  if (failed != NULL)
    return natterd_store_pg_set_error (im->target, failed, what, abort_reason == NULL ? error : NULL);
  return abort_reason == NULL;
}

/* Copies one table's rows, in the source's order; *@out_rows: how many. */
static gboolean
copy_table (Import             *im,
            const ImportTable  *t,
            gint64             *out_rows,
            GError            **error)
{
  g_autofree char *select = g_strdup_printf ("SELECT %s FROM %s ORDER BY %s",
                                             t->columns, t->table, t->order);
  g_autofree char *copy = NULL;
  g_autoptr(GString) buf = g_string_sized_new (COPY_CHUNK_BYTES + 64 * 1024);
  g_autoptr(GHashTable) places = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean messages = t == MESSAGES_TABLE;
  sqlite3_stmt *stmt = NULL;
  PGresult *res;
  int rc, n_columns;

  if (sqlite3_prepare_v2 (im->source, select, -1, &stmt, NULL) != SQLITE_OK)
    return set_source_error (im->source, im->source_path, t->label, error);
  n_columns = sqlite3_column_count (stmt);

  if (messages)
    {
      places = g_hash_table_new_full (place_hash, place_equal, g_free, NULL);
      copy = g_strdup_printf ("COPY import_messages (%s, seq, sender_seq, lexemes) FROM STDIN",
                              t->columns);
    }
  else
    copy = g_strdup_printf ("COPY %s (%s) FROM STDIN", t->table, t->columns);
  res = PQexec (im->conn, copy);
  if (PQresultStatus (res) != PGRES_COPY_IN)
    {
      sqlite3_finalize (stmt);
      return natterd_store_pg_set_error (im->target, res, t->label, error);
    }
  PQclear (res);

  *out_rows = 0;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      for (int i = 0; i < n_columns; i++)
        {
          if (i > 0)
            g_string_append_c (buf, '\t');
          if (!append_field (buf, stmt, i, t, &local_error))
            break;
        }
      if (local_error != NULL)
        break;
      if (messages)
        append_message_extras (buf, stmt, places);
      g_string_append_c (buf, '\n');
      (*out_rows)++;
      if (buf->len >= COPY_CHUNK_BYTES && !put_copy_data (im, buf, error))
        {
          sqlite3_finalize (stmt);
          return FALSE;
        }
    }
  if (local_error == NULL && rc != SQLITE_DONE)
    set_source_error (im->source, im->source_path, t->label, &local_error);
  sqlite3_finalize (stmt);
  if (local_error != NULL)
    {
      end_copy (im, t, "the source could not be read", NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return put_copy_data (im, buf, error) && end_copy (im, t, NULL, error);
}

static gboolean
target_int (Import      *im,
            const char  *sql,
            gint64      *out_value,
            GError     **error)
{
  PGresult *res = PQexec (im->conn, sql);

  if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1)
    return natterd_store_pg_set_error (im->target, res, "count", error);
  *out_value = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return TRUE;
}

/* Every table's rows, in the target (@in_target) or the source. */
static gboolean
count_rows (Import                   *im,
            gboolean                  in_target,
            NatterdStoreImportCounts *out_counts,
            GError                  **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s", tables[i].table);
      gint64 *count = count_of (out_counts, &tables[i]);

      if (in_target ? !target_int (im, sql, count, error)
                    : !source_int (im->source, im->source_path, sql, count, error))
        return FALSE;
    }
  return TRUE;
}

/* Nothing of natterd's in the target yet; the error names what is. */
static gboolean
check_empty (Import  *im,
             GError **error)
{
  NatterdStoreImportCounts found = { 0 };
  g_autoptr(GString) what = g_string_new (NULL);

  if (!count_rows (im, TRUE, &found, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    if (*count_of (&found, &tables[i]) > 0)
      g_string_append_printf (what, "%s%s %" G_GINT64_FORMAT, what->len > 0 ? ", " : "",
                              tables[i].label, *count_of (&found, &tables[i]));
  if (what->len == 0)
    return TRUE;
  g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
               "the target database is not empty (%s): import only into a new, empty database",
               what->str);
  return FALSE;
}

/* Each table's count in @copied (rows sent) and in the target against the
 * source's; the error names every difference. */
static gboolean
check_counts (Import                         *im,
              const NatterdStoreImportCounts *source,
              const NatterdStoreImportCounts *copied,
              GError                        **error)
{
  NatterdStoreImportCounts target = { 0 };
  g_autoptr(GString) diff = g_string_new (NULL);

  if (!count_rows (im, TRUE, &target, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      gint64 s = *count_of ((NatterdStoreImportCounts *) source, &tables[i]);
      gint64 c = *count_of ((NatterdStoreImportCounts *) copied, &tables[i]);
      gint64 t = *count_of (&target, &tables[i]);

      if (s != c || s != t)
        g_string_append_printf (diff, "%s%s: source %" G_GINT64_FORMAT ", read %" G_GINT64_FORMAT
                                ", target %" G_GINT64_FORMAT, diff->len > 0 ? "; " : "",
                                tables[i].label, s, c, t);
    }
  if (diff->len == 0)
    return TRUE;
  g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
               "the counts do not match (%s); nothing was imported", diff->str);
  return FALSE;
}

/* Past the largest imported ids: the next user, conversation and message
 * get new ones. */
static const char set_next_ids[] =
  "SELECT setval (pg_get_serial_sequence ('users', 'id'), coalesce (max (id), 0) + 1, false) FROM users;"
  "SELECT setval (pg_get_serial_sequence ('conversations', 'id'), coalesce (max (id), 0) + 1, false)"
  "  FROM conversations;"
  "UPDATE message_counter SET last_id = greatest ((SELECT coalesce (max (id), 0) FROM messages),"
  "                                               (SELECT coalesce (max (id), 0) FROM changes)) WHERE id = 1";

static gboolean
import_all (Import                   *im,
            NatterdStoreImportCounts *out_counts,
            GError                  **error)
{
  NatterdStoreImportCounts source = { 0 };
  NatterdStoreImportCounts copied = { 0 };

  if (!count_rows (im, FALSE, &source, error))
    return FALSE;
  /* Writers (a natterd started on the target meanwhile) wait until the
   * import is done; the checks below cannot change under it. */
  if (!natterd_store_begin (im->target, error) ||
      !natterd_store_pg_exec (im->target,
                              "LOCK TABLE users, tokens, avatars, contacts, conversations, rooms, participants,"
                              " room_bans, room_invitations, blocks, message_counter, messages, changes"
                              " IN EXCLUSIVE MODE",
                              "lock the tables", error) ||
      !check_empty (im, error))
    return FALSE;
  if (!natterd_store_pg_exec (im->target,
                              "CREATE TEMPORARY TABLE import_messages ("
                              "  id bigint, conversation_id bigint, sender_id bigint, ts bigint,"
                              "  body text, client_msg_id text, reply_to bigint, edited_ts bigint,"
                              "  deleted boolean, reactions text, mentions text, hidden_for bigint,"
                              "  seq bigint, sender_seq bigint, lexemes text) ON COMMIT DROP",
                              "make the staging table", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_debug ("Copying %" G_GINT64_FORMAT " %s",
               *count_of (&source, &tables[i]), tables[i].label);
      if (!copy_table (im, &tables[i], count_of (&copied, &tables[i]), error))
        return FALSE;
    }
  /* The slow part: the messages' indexes, the words' GIN above all
   * (docs/server.md has the figure). */
  g_debug ("Copied the rows; filling messages");
  if (!natterd_store_pg_exec (im->target,
                              "INSERT INTO messages (id, conversation_id, sender_id, ts, body,"
                              "  client_msg_id, reply_to, edited_ts, deleted, reactions, mentions,"
                              "  hidden_for, seq, sender_seq, words)"
                              " SELECT id, conversation_id, sender_id, ts, body, client_msg_id,"
                              "  reply_to, edited_ts, deleted, reactions, mentions, hidden_for, seq,"
                              "  sender_seq, " NATTERD_STORE_PG_WORDS ("lexemes")
                              " FROM import_messages ORDER BY id",
                              "copy messages", error))
    return FALSE;
  g_debug ("Filled messages; checking the counts");
  if (!natterd_store_pg_exec (im->target, set_next_ids, "set the next ids", error) ||
      !check_counts (im, &source, &copied, error))
    return FALSE;
  if (!natterd_store_commit (im->target, error))
    return FALSE;
  /* The planner's statistics, at once rather than when autovacuum gets
   * to the new rows. Not needed for correctness. */
  if (!natterd_store_pg_exec (im->target, "ANALYZE", "analyze", NULL))
    g_debug ("ANALYZE after the import failed");
  *out_counts = source;
  return TRUE;
}

gboolean
natterd_store_import_sqlite (const char               *source_path,
                             const char               *database,
                             const char               *password_file,
                             NatterdStoreImportCounts *out_counts,
                             GError                  **error)
{
  Import im = { source_path, NULL, NULL, NULL };
  gboolean ok;

  if (database == NULL || !natterd_store_pg_is_conninfo (database))
    {
      g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                           "the import needs a PostgreSQL database to copy into "
                           "(--database or [storage] database: a postgresql:// URI "
                           "or key=value connection parameters)");
      return FALSE;
    }
  im.source = open_source (source_path, error);
  if (im.source == NULL)
    return FALSE;
  im.target = natterd_store_pg_open_full (database, password_file, 0, error);
  if (im.target == NULL)
    {
      sqlite3_close (im.source);
      return FALSE;
    }
  im.conn = natterd_store_pg_get_conn (im.target);

  ok = import_all (&im, out_counts, error);
  if (!ok && natterd_store_in_transaction (im.target))
    natterd_store_rollback (im.target);
  natterd_store_close (im.target);
  sqlite3_exec (im.source, "COMMIT", NULL, NULL, NULL);
  sqlite3_close (im.source);
  return ok;
}
