/* test-store.c: the store on its own, on each engine: users, tokens,
 * contacts, rooms, messages, history paging, sync, search, idempotency,
 * read markers, and reopening a database run on SQLite and on a real
 * PostgreSQL the test starts (natter-test-pg.h); SQLite's migrations, its
 * search.db and its FTS5 query on SQLite only; ids in commit order across
 * connections, reconnecting and PostgreSQL's errors on PostgreSQL only.
 */
#define G_LOG_DOMAIN "test-store"

#include "config.h"

#include <glib/gstdio.h>
#include <malloc.h>
#include <sqlite3.h>
#include <string.h>

#include "natter-test-pg.h"
#include "natterd-store-pg.h"
#include "natterd-store-pg-internal.h"
#include "natterd-store-sqlite.h"

typedef struct {
  const char *name;
  gboolean    index_behind; /* messages are searchable once the indexer catches up */
} Engine;

static const Engine sqlite_engine = { "sqlite", TRUE };
static const Engine pg_engine = { "postgresql", FALSE };

/* The PostgreSQL server of this run; NULL when not installed. */
static NatterTestPg *pg;

typedef struct {
  const Engine *engine;
  char         *dir;
  char         *path;
  char         *conninfo;     /* PostgreSQL: a database of the test's own */
  char         *dbname;
  NatterdStore *store;
  gint64        alice;
  gint64        bob;
  gint64        carol;
} Fixture;

static NatterdStore *
open_store (Fixture *f, gboolean synchronous_full)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *store;

  if (f->engine == &pg_engine)
    store = natterd_store_pg_open (f->conninfo, &error);
  else
    store = natterd_store_open (f->dir, synchronous_full, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->engine = data != NULL ? data : &sqlite_engine;
  f->dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "natter.db", NULL);
  if (f->engine == &pg_engine)
    f->conninfo = natter_test_pg_new_database (pg, &f->dbname);
  f->store = open_store (f, FALSE);
  g_assert_nonnull (f->store);

  g_assert_true (natterd_store_user_insert (f->store, "alice", "Alice", "$hash-a", 1, &f->alice, &error));
  g_assert_true (natterd_store_user_insert (f->store, "bob", "Bob", "$hash-b", 2, &f->bob, &error));
  g_assert_true (natterd_store_user_insert (f->store, "carol", "Carol", "$hash-c", 3, &f->carol, &error));
  g_assert_no_error (error);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  natterd_store_close (f->store);
  remove_dir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  g_free (f->conninfo);
  g_free (f->dbname);
}

static void
reopen (Fixture *f)
{
  natterd_store_close (f->store);
  f->store = open_store (f, TRUE);
}

/* Collects message ids (and bodies) from the iteration functions. */
typedef struct {
  GArray    *ids;
  GPtrArray *bodies;
  gint64     stop_after;
} Collect;

static gboolean
collect_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  Collect *c = user_data;

  g_array_append_val (c->ids, m->id);
  g_ptr_array_add (c->bodies, g_strndup (m->body, m->body_len));
  return c->stop_after == 0 || c->ids->len < c->stop_after;
}

static void
collect_init (Collect *c)
{
  c->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  c->bodies = g_ptr_array_new_with_free_func (g_free);
  c->stop_after = 0;
}

static void
collect_clear (Collect *c)
{
  g_array_unref (c->ids);
  g_ptr_array_unref (c->bodies);
}

static gboolean
keep_id_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  *(gint64 *) user_data = m->id;
  return TRUE;
}

static gint64
send_msg (Fixture *f, gint64 conv, gint64 sender, const char *body, const char *cmid,
          gboolean *out_dup)
{
  g_autoptr(GError) error = NULL;
  gboolean dup = FALSE;
  gint64 id = 0;

  g_assert_true (natterd_store_message_insert (f->store, conv, sender, body, strlen (body),
                                               1000, cmid, &dup, keep_id_cb, &id, &error));
  g_assert_no_error (error);
  if (out_dup)
    *out_dup = dup;
  g_assert_cmpint (id, >, 0);
  return id;
}

static void
test_migrations (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", NULL);
  NatterdStore *store;

  store = natterd_store_open (dir, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (natterd_store_get_schema_version (store), ==, natterd_store_sqlite_schema_version ());
  natterd_store_close (store);

  /* Reopening does not migrate again. */
  store = natterd_store_open (dir, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (natterd_store_get_schema_version (store), ==, natterd_store_sqlite_schema_version ());
  natterd_store_close (store);
  remove_dir (dir);
}

static void
exec_sql (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

static gboolean
has_index (const char *path, const char *name)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  gboolean found;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                                       -1, &s, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
  found = sqlite3_step (s) == SQLITE_ROW;
  sqlite3_finalize (s);
  sqlite3_close (db);
  return found;
}

static gboolean
keep_first_id_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  *(gint64 *) user_data = m->id;
  return TRUE;
}

static gint64
insert_message (NatterdStore *store, gint64 conv, gint64 sender, const char *cmid)
{
  g_autoptr(GError) error = NULL;
  gboolean dup = FALSE;
  gint64 id = 0;

  g_assert_true (natterd_store_message_insert (store, conv, sender, cmid, strlen (cmid), 1000, cmid,
                                               &dup, keep_first_id_cb, &id, &error));
  g_assert_no_error (error);
  return id;
}

static void
unread_cb (gint64 conv, gint64 read_up_to, gint64 unread, NatterdNotifyLevel level, const NatterdStoreMessage *last,
           gpointer user_data)
{
  g_string_append_printf (user_data, "%" G_GINT64_FORMAT ";", unread);
}

static char *
unread_counts (NatterdStore *store, gint64 user)
{
  g_autoptr(GError) error = NULL;
  GString *s = g_string_new (NULL);

  g_assert_true (natterd_store_conversation_summaries (store, user, unread_cb, s, &error));
  g_assert_no_error (error);
  return g_string_free (s, FALSE);
}

/* A database left at schema 1 (as the first release wrote it, messages
 * and all) is brought to the current version, keeping its data, and the
 * unread counts come out right from the positions the migration gave the
 * old messages; one newer than this build knows is refused. */
static void
test_migration_from_v1 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "natter.db", NULL);
  g_autofree char *counts = NULL;
  NatterdStore *store;
  gint64 alice, bob, room, dm, marker, up_to, indexed = 0, r6;
  gboolean moved;
  NatterdStore *indexer;

  store = natterd_store_open (dir, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_user_insert (store, "alice", "Alice", "$h", 1, &alice, &error));
  g_assert_true (natterd_store_user_insert (store, "bob", "Bob", "$h", 1, &bob, &error));
  g_assert_true (natterd_store_room_insert (store, "#r", "", alice, 1, &room, &error));
  g_assert_true (natterd_store_direct_ensure (store, alice, bob, &dm, &error));
  g_assert_true (natterd_store_participant_add (store, room, alice, &error));
  g_assert_true (natterd_store_participant_add (store, room, bob, &error));
  g_assert_true (natterd_store_participant_add (store, dm, alice, &error));
  g_assert_true (natterd_store_participant_add (store, dm, bob, &error));
  g_assert_no_error (error);
  /* Interleaved, so that ids and places in a conversation differ. */
  insert_message (store, room, bob, "r1");
  insert_message (store, dm, bob, "d1");
  marker = insert_message (store, room, bob, "r2");
  insert_message (store, room, bob, "r3");
  insert_message (store, dm, bob, "d2");
  insert_message (store, room, alice, "r4");
  insert_message (store, room, bob, "r5");
  /* Schema 1 indexed every message as it was stored, in natter.db: what
   * schema 5 drops (search.db, made at the first open, keeps its own). */
  indexer = natterd_store_open_indexer (store, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_search_index_catch_up (indexer, G_MAXUINT, &indexed, &error));
  natterd_store_close (indexer);
  natterd_store_close (store);

  exec_sql (path, "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
                  "  body, content='messages', content_rowid='id');"
                  /* What blocking added (feature accounts). */
                  "DROP INDEX messages_hidden;"
                  "DROP TABLE blocks;"
                  "ALTER TABLE messages DROP COLUMN hidden_for;"
                  /* What room management added. */
                  "DROP TABLE room_bans;"
                  "DROP TABLE room_invitations;"
                  "ALTER TABLE rooms DROP COLUMN display_name;"
                  "ALTER TABLE rooms DROP COLUMN is_private;"
                  "ALTER TABLE participants DROP COLUMN role;"
                  /* What files in messages added. */
                  "ALTER TABLE messages DROP COLUMN files;"
                  /* What the files' schema added (feature files). */
                  "DROP TABLE uploads;"
                  "DROP TABLE blob_chunks;"
                  "DROP TABLE files;"
                  "DROP TABLE message_files;"
                  /* What schema 6 (message actions) added. */
                  "DROP INDEX messages_deleted;"
                  "DROP TABLE changes;"
                  "DROP TABLE search_removals;"
                  "ALTER TABLE messages DROP COLUMN reply_to;"
                  "ALTER TABLE messages DROP COLUMN edited_ts;"
                  "ALTER TABLE messages DROP COLUMN deleted;"
                  "ALTER TABLE messages DROP COLUMN reactions;"
                  "ALTER TABLE messages DROP COLUMN mentions;"
                  "ALTER TABLE participants DROP COLUMN notify_level;"
                  /* What the feature accounts added. */
                  "DROP TABLE avatars;"
                  "ALTER TABLE tokens DROP COLUMN device;"
                  "ALTER TABLE tokens DROP COLUMN address;"
                  /* What natterctl's schema added. */
                  "ALTER TABLE tokens DROP COLUMN created;"
                  "DROP TABLE invites;"
                  "DROP INDEX messages_conversation_seq;"
                  "DROP INDEX messages_conversation_own;"
                  "ALTER TABLE messages DROP COLUMN seq;"
                  "ALTER TABLE messages DROP COLUMN sender_seq;"
                  "CREATE INDEX messages_conversation ON messages (conversation_id, id);"
                  "PRAGMA user_version = 1;");
  store = natterd_store_open (dir, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (natterd_store_get_schema_version (store), ==, natterd_store_sqlite_schema_version ());
  g_assert_false (natterd_store_user_insert (store, "alice", "Again", "$h", 2, &alice, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);

  /* Most recent first: the room (r5), then the direct conversation. Room:
   * r3 and r5 after the marker (alice's own r4 does not count). */
  g_assert_true (natterd_store_read_marker_set (store, room, alice, marker, &up_to, &moved, &error));
  g_assert_no_error (error);
  counts = unread_counts (store, alice);
  g_assert_cmpstr (counts, ==, "2;2;");
  g_clear_pointer (&counts, g_free);
  /* New messages continue where the migrated ones end; the search index
   * counts the old ones as indexed and takes the new one. */
  r6 = insert_message (store, room, bob, "r6");
  indexer = natterd_store_open_indexer (store, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_search_index_catch_up (indexer, G_MAXUINT, &indexed, &error));
  g_assert_cmpint (indexed, ==, r6);
  natterd_store_close (indexer);
  counts = unread_counts (store, alice);
  g_assert_cmpstr (counts, ==, "3;2;");
  g_clear_pointer (&counts, g_free);
  counts = unread_counts (store, bob);
  g_assert_cmpstr (counts, ==, "1;0;"); /* bob never read: only alice's r4 */
  natterd_store_close (store);
  g_assert_true (has_index (path, "messages_conversation_seq"));
  g_assert_true (has_index (path, "messages_conversation_own"));
  g_assert_false (has_index (path, "messages_conversation"));
  g_assert_false (has_index (path, "messages_conversation_sender"));

  exec_sql (path, "PRAGMA user_version = 99;");
  store = natterd_store_open (dir, TRUE, &error);
  g_assert_null (store);
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED);
  remove_dir (dir);
}

static void
test_not_a_database (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "natter.db", NULL);
  NatterdStore *store;

  g_assert_true (g_file_set_contents (path, "this is not sqlite, just some text that is long enough", -1, NULL));
  store = natterd_store_open (dir, TRUE, &error);
  g_assert_null (store);
  g_assert_nonnull (error);
  remove_dir (dir);
}

typedef struct {
  GPtrArray *names;
  gint64     last_seen_bob;
  char      *status_bob;
} Users;

static void
user_cb (gint64 id, const char *username, const char *display_name, const char *hash,
         const char *status_text, gint64 last_seen, gpointer user_data)
{
  Users *u = user_data;

  g_ptr_array_add (u->names, g_strdup (username));
  if (g_str_equal (username, "bob"))
    {
      u->last_seen_bob = last_seen;
      u->status_bob = g_strdup (status_text);
    }
}

static void
test_users (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Users u = { g_ptr_array_new_with_free_func (g_free), 0, NULL };
  gint64 id;

  g_assert_false (natterd_store_user_insert (f->store, "alice", "Again", "$h", 4, &id, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);

  g_assert_true (natterd_store_user_set_last_seen (f->store, f->bob, 12345, &error));
  g_assert_true (natterd_store_user_set_status_text (f->store, f->bob, "lunch", &error));
  reopen (f);

  g_assert_true (natterd_store_users_foreach (f->store, user_cb, &u, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (u.names->len, ==, 3);
  g_assert_cmpstr (u.names->pdata[0], ==, "alice");
  g_assert_cmpint (u.last_seen_bob, ==, 12345);
  g_assert_cmpstr (u.status_bob, ==, "lunch");
  g_ptr_array_unref (u.names);
  g_free (u.status_bob);
}

static void
test_tokens (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 h1[NATTERD_TOKEN_HASH_LEN], h2[NATTERD_TOKEN_HASH_LEN];
  gint64 user = 0, expires = 0;

  memset (h1, 1, sizeof h1);
  memset (h2, 2, sizeof h2);
  g_assert_true (natterd_store_token_insert (f->store, h1, f->alice, 5000, &error));
  g_assert_true (natterd_store_token_insert (f->store, h2, f->bob, 100, &error));
  g_assert_no_error (error);
  reopen (f);

  g_assert_true (natterd_store_token_lookup (f->store, h1, &user, &expires, &error));
  g_assert_cmpint (user, ==, f->alice);
  g_assert_cmpint (expires, ==, 5000);

  g_assert_true (natterd_store_tokens_expire (f->store, 1000, &error));
  g_assert_false (natterd_store_token_lookup (f->store, h2, &user, &expires, &error));
  g_assert_no_error (error);

  g_assert_true (natterd_store_token_delete (f->store, h1, &error));
  g_assert_false (natterd_store_token_lookup (f->store, h1, &user, &expires, &error));
  g_assert_no_error (error);
}

static void
revoked_cb (gint64 id, const guint8 *hash, gint64 user_id, gpointer user_data)
{
  g_string_append_printf (user_data, "%" G_GINT64_FORMAT ":%u:%" G_GINT64_FORMAT ";",
                          id, hash[0], user_id);
  for (guint i = 1; i < NATTERD_TOKEN_HASH_LEN; i++)
    g_assert_cmpuint (hash[i], ==, hash[0]);
}

/* A shared store notes the tokens deleted, in order, for the nodes that
 * were not told; SQLite, one process's, notes nothing. */
static void
test_tokens_revoked (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *expected = NULL;
  guint8 h1[NATTERD_TOKEN_HASH_LEN], h2[NATTERD_TOKEN_HASH_LEN], h3[NATTERD_TOKEN_HASH_LEN];
  gint64 start = -1, last = -1;
  gboolean shared = natterd_store_is_shared (f->store);

  memset (h1, 1, sizeof h1);
  memset (h2, 2, sizeof h2);
  memset (h3, 3, sizeof h3);
  g_assert_true (natterd_store_token_insert (f->store, h1, f->alice, 5000, &error));
  g_assert_true (natterd_store_token_insert (f->store, h2, f->bob, 100, &error));
  g_assert_true (natterd_store_token_insert (f->store, h3, f->carol, 9000, &error));
  g_assert_true (natterd_store_tokens_revoked (f->store, 0, NULL, NULL, &start, &error));
  g_assert_cmpint (start, ==, 0);

  g_assert_true (natterd_store_token_delete (f->store, h2, &error));
  g_assert_true (natterd_store_token_delete (f->store, h1, &error));
  /* A token that is not there: nothing to note. */
  g_assert_true (natterd_store_token_delete (f->store, h1, &error));
  g_assert_no_error (error);
  g_assert_true (natterd_store_tokens_revoked (f->store, start, revoked_cb, s, &last, &error));
  g_assert_no_error (error);
  if (!shared)
    {
      g_assert_cmpstr (s->str, ==, "");
      g_assert_cmpint (last, ==, start);
      return;
    }
  expected = g_strdup_printf ("%" G_GINT64_FORMAT ":2:%" G_GINT64_FORMAT ";"
                              "%" G_GINT64_FORMAT ":1:%" G_GINT64_FORMAT ";",
                              last - 1, f->bob, last, f->alice);
  g_assert_cmpstr (s->str, ==, expected);
  g_assert_true (natterd_store_tokens_revoked (f->store, 0, NULL, NULL, &start, &error));
  g_assert_cmpint (start, ==, last);

  /* Only what came after. */
  g_string_truncate (s, 0);
  g_assert_true (natterd_store_tokens_revoked (f->store, last - 1, revoked_cb, s, &last, &error));
  g_assert_true (g_str_has_suffix (s->str, ":1;") && strchr (s->str, ';') == s->str + s->len - 1);

  /* A note goes once its token would have expired anyway. */
  g_assert_true (natterd_store_tokens_expire (f->store, 1000, &error));
  g_string_truncate (s, 0);
  g_assert_true (natterd_store_tokens_revoked (f->store, 0, revoked_cb, s, &last, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (s->str, ":1;") && strchr (s->str, ';') == s->str + s->len - 1);
}

static void
contact_cb (gint64 a, gint64 b, int state, gpointer user_data)
{
  g_string_append_printf (user_data, "%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ":%d;", a, b, state);
}

static void
test_contacts (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *expected = NULL;

  g_assert_true (natterd_store_contact_set (f->store, f->alice, f->bob, NATTERD_STORE_CONTACT_PENDING, &error));
  g_assert_true (natterd_store_contact_set (f->store, f->carol, f->alice, NATTERD_STORE_CONTACT_PENDING, &error));
  /* Accepting: the pending row goes, the pair is stored once. */
  g_assert_true (natterd_store_contact_delete (f->store, f->bob, f->alice, &error));
  g_assert_true (natterd_store_contact_set (f->store, f->alice, f->bob, NATTERD_STORE_CONTACT_ACCEPTED, &error));
  g_assert_no_error (error);
  reopen (f);

  g_assert_true (natterd_store_contacts_foreach (f->store, contact_cb, s, &error));
  expected = g_strdup_printf ("%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ":1;"
                              "%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ":0;",
                              f->alice, f->bob, f->carol, f->alice);
  g_assert_cmpstr (s->str, ==, expected);
}

static NatterdStoreContactPair
pair_of (NatterdStore *store, gint64 a, gint64 b)
{
  g_autoptr(GError) error = NULL;
  NatterdStoreContactPair pair = -1;

  g_assert_true (natterd_store_contact_lock (store, a, b, &pair, &error));
  g_assert_no_error (error);
  return pair;
}

/* What the rows between two users say, from either side. */
static void
test_contact_lock (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (natterd_store_begin (f->store, &error));
  g_assert_cmpint (pair_of (f->store, f->alice, f->bob), ==, NATTERD_STORE_PAIR_NONE);
  g_assert_true (natterd_store_contact_set (f->store, f->alice, f->bob, NATTERD_STORE_CONTACT_PENDING, &error));
  g_assert_cmpint (pair_of (f->store, f->alice, f->bob), ==, NATTERD_STORE_PAIR_A_ASKED);
  g_assert_cmpint (pair_of (f->store, f->bob, f->alice), ==, NATTERD_STORE_PAIR_B_ASKED);
  g_assert_cmpint (pair_of (f->store, f->alice, f->carol), ==, NATTERD_STORE_PAIR_NONE);
  /* Both asked (what crossed requests on two nodes used to leave): either
   * side asking or accepting finds the other's request. */
  g_assert_true (natterd_store_contact_set (f->store, f->bob, f->alice, NATTERD_STORE_CONTACT_PENDING, &error));
  g_assert_cmpint (pair_of (f->store, f->alice, f->bob), ==, NATTERD_STORE_PAIR_B_ASKED);
  g_assert_cmpint (pair_of (f->store, f->bob, f->alice), ==, NATTERD_STORE_PAIR_B_ASKED);
  g_assert_true (natterd_store_contact_delete (f->store, f->bob, f->alice, &error));
  g_assert_true (natterd_store_contact_set (f->store, MIN (f->alice, f->bob), MAX (f->alice, f->bob),
                                           NATTERD_STORE_CONTACT_ACCEPTED, &error));
  g_assert_cmpint (pair_of (f->store, f->alice, f->bob), ==, NATTERD_STORE_PAIR_ACCEPTED);
  g_assert_cmpint (pair_of (f->store, f->bob, f->alice), ==, NATTERD_STORE_PAIR_ACCEPTED);
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);
}

static void
conversation_cb (gint64 id, int kind, gint64 a, gint64 b, const char *room,
                 const char *topic, gint64 owner, gpointer user_data)
{
  if (kind == NATTERD_CONVERSATION_ROOM)
    g_string_append_printf (user_data, "room %s '%s' %" G_GINT64_FORMAT ";", room, topic, owner);
  else
    g_string_append_printf (user_data, "dm %" G_GINT64_FORMAT " %" G_GINT64_FORMAT ";", a, b);
}

static void
participant_cb (gint64 conv, gint64 user, gpointer user_data)
{
  (*(int *) user_data)++;
}

static void
count_conversations_cb (gint64 id, int kind, gint64 a, gint64 b, const char *room,
                        const char *topic, gint64 owner, gpointer user_data)
{
  (*(int *) user_data)++;
}

static void
test_rooms (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *expected = NULL;
  gint64 room = 0, room2 = 0, dm = 0;
  int n = 0;

  g_assert_true (natterd_store_room_insert (f->store, "#general", "", f->alice, 1, &room, &error));
  g_assert_false (natterd_store_room_insert (f->store, "#general", "x", f->bob, 1, &room2, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_false (natterd_store_in_transaction (f->store));
  g_assert_true (natterd_store_room_set_topic (f->store, room, "hello", &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error)); /* twice: no error */
  g_assert_true (natterd_store_participant_add (f->store, room, f->carol, &error));
  g_assert_true (natterd_store_participant_remove (f->store, room, f->carol, &error));
  g_assert_no_error (error);
  reopen (f);

  g_assert_true (natterd_store_conversations_foreach (f->store, conversation_cb, s, &error));
  expected = g_strdup_printf ("room #general 'hello' %" G_GINT64_FORMAT ";dm %" G_GINT64_FORMAT
                              " %" G_GINT64_FORMAT ";", f->alice, f->alice, f->bob);
  g_assert_cmpstr (s->str, ==, expected);
  /* alice and bob in the room, and in their direct conversation. */
  g_assert_true (natterd_store_participants_foreach (f->store, participant_cb, &n, &error));
  g_assert_cmpint (n, ==, 4);
}

/* A send to someone new makes the conversation in the send's transaction:
 * the same id every time, both participants with it, one for notes to
 * self. */
static void
test_direct_ensure (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 dm = 0, again = 0, notes = 0, other = 0;
  int n = 0;

  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_cmpint (dm, >, 0);
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &again, &error));
  g_assert_cmpint (again, ==, dm);

  g_assert_true (natterd_store_begin (f->store, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->alice, &notes, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->alice, &again, &error));
  g_assert_cmpint (again, ==, notes);
  g_assert_true (natterd_store_direct_ensure (f->store, f->bob, f->carol, &other, &error));
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpint (notes, !=, dm);
  g_assert_cmpint (other, !=, dm);

  reopen (f);
  g_assert_true (natterd_store_participants_foreach (f->store, participant_cb, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 2 + 1 + 2);
}

/* What a node missed on the bus: every conversation's messages in an id
 * range, oldest first, bounded. */
static void
test_messages_between (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 room = 0, dm = 0, ids[6];
  gboolean dup;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#between", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("b%d", i);
      ids[i] = send_msg (f, i % 2 ? room : dm, f->alice, "between", cmid, &dup);
    }

  collect_init (&c);
  g_assert_true (natterd_store_messages_between (f->store, ids[0], ids[5], 100, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (g_array_index (c.ids, gint64, i), ==, ids[i + 1]);
  collect_clear (&c);

  collect_init (&c);
  g_assert_true (natterd_store_messages_between (f->store, 0, G_MAXINT64, 2, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 2);
  g_assert_cmpint (g_array_index (c.ids, gint64, 1), ==, ids[1]);
  collect_clear (&c);

  collect_init (&c);
  g_assert_true (natterd_store_messages_between (f->store, ids[2], ids[3], 100, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 0);
  collect_clear (&c);
}

/* The writer runs a job of several statements inside a savepoint: when
 * one fails (here a broken reference, which on PostgreSQL aborts the
 * transaction), the job's earlier writes go and the batch goes on. */
static void
test_savepoint (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 room = 0, dm = 0, kept, gone = 0;
  gboolean dup;
  Collect c;
  int n = 0;

  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_true (natterd_store_begin (f->store, &error));
  kept = send_msg (f, dm, f->alice, "kept", "s1", &dup);

  g_assert_true (natterd_store_savepoint (f->store, NATTERD_STORE_SAVEPOINT_SET, &error));
  g_assert_true (natterd_store_room_insert (f->store, "#half", "", f->alice, 1, &room, &error));
  g_assert_false (natterd_store_participant_add (f->store, room + 1000, f->alice, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_true (natterd_store_in_transaction (f->store));
  g_assert_true (natterd_store_savepoint (f->store, NATTERD_STORE_SAVEPOINT_ROLLBACK, &error));

  g_assert_true (natterd_store_savepoint (f->store, NATTERD_STORE_SAVEPOINT_SET, &error));
  gone = send_msg (f, dm, f->alice, "whole", "s2", &dup);
  g_assert_true (natterd_store_savepoint (f->store, NATTERD_STORE_SAVEPOINT_RELEASE, &error));
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);

  reopen (f);
  collect_init (&c);
  g_assert_true (natterd_store_history (f->store, dm, 0, 10, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 2);
  g_assert_cmpint (g_array_index (c.ids, gint64, 1), ==, kept);
  g_assert_cmpint (g_array_index (c.ids, gint64, 0), ==, gone);
  collect_clear (&c);
  /* The half-made room is not there: only the direct conversation. */
  g_assert_true (natterd_store_conversations_foreach (f->store, count_conversations_cb, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 1);
}

/* The writer's batch holds sends and the rare writes that may clash (a
 * room name or username taken meanwhile, by another node too): a clash
 * fails that write alone, never the batch's sends. PostgreSQL aborts a
 * transaction at its first error, unless the statement ran in a savepoint. */
static void
test_clash_in_batch (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 room = 0, room2 = 0, user = 0, dm = 0, id;
  gboolean dup = TRUE;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#taken", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_no_error (error);

  g_assert_true (natterd_store_begin (f->store, &error));
  id = send_msg (f, dm, f->alice, "before the clash", "c1", &dup);
  g_assert_false (dup);
  g_assert_false (natterd_store_room_insert (f->store, "#taken", "", f->bob, 1, &room2, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_false (natterd_store_user_insert (f->store, "alice", "Alice", "$h", 1, &user, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_true (natterd_store_in_transaction (f->store));
  send_msg (f, dm, f->alice, "after the clash", "c2", &dup);
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);

  collect_init (&c);
  g_assert_true (natterd_store_history (f->store, dm, 0, 10, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 2);
  g_assert_cmpint (g_array_index (c.ids, gint64, 1), ==, id);
  collect_clear (&c);
}

static void
test_messages (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 room = 0, dm = 0, ids[120];
  gboolean dup = TRUE;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#general", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->bob, &error));
  g_assert_no_error (error);

  /* Ids increase, in one transaction as the group commit does. */
  g_assert_true (natterd_store_begin (f->store, &error));
  for (int i = 0; i < 100; i++)
    {
      g_autofree char *body = g_strdup_printf ("room message %d", i);
      g_autofree char *cmid = g_strdup_printf ("r%d", i);

      ids[i] = send_msg (f, room, i % 2 ? f->alice : f->bob, body, cmid, &dup);
      g_assert_false (dup);
      if (i > 0)
        g_assert_cmpint (ids[i], >, ids[i - 1]);
    }
  /* A resend in the same transaction finds the original. */
  g_assert_cmpint (send_msg (f, room, f->bob, "other text", "r0", &dup), ==, ids[0]);
  g_assert_true (dup);
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);

  for (int i = 100; i < 120; i++)
    {
      g_autofree char *body = g_strdup_printf ("direct lunch %d", i);
      g_autofree char *cmid = g_strdup_printf ("d%d", i);

      ids[i] = send_msg (f, dm, f->alice, body, cmid, NULL);
    }

  reopen (f);

  /* A resend after reopening still finds it, in any conversation. */
  g_assert_cmpint (send_msg (f, dm, f->bob, "x", "r0", &dup), ==, ids[0]);
  g_assert_true (dup);
  /* The same client_msg_id from another sender is a new message. */
  g_assert_cmpint (send_msg (f, room, f->carol, "carol", "r0", &dup), >, ids[119]);
  g_assert_false (dup);

  /* History pages: newest first from the store, bounded by before. */
  collect_init (&c);
  g_assert_true (natterd_store_history (f->store, room, 0, 50, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 50);
  g_assert_cmpint (g_array_index (c.ids, gint64, 0), >, ids[99]); /* carol's */
  g_assert_cmpint (g_array_index (c.ids, gint64, 1), ==, ids[99]);
  collect_clear (&c);

  collect_init (&c);
  g_assert_true (natterd_store_history (f->store, room, ids[50], 200, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 50);
  g_assert_cmpint (g_array_index (c.ids, gint64, 0), ==, ids[49]);
  g_assert_cmpint (g_array_index (c.ids, gint64, 49), ==, ids[0]);
  g_assert_cmpstr (c.bodies->pdata[49], ==, "room message 0");
  collect_clear (&c);

  /* Sync: oldest first across the user's conversations. */
  collect_init (&c);
  g_assert_true (natterd_store_sync (f->store, f->bob, ids[95], 10, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 10);
  g_assert_cmpint (g_array_index (c.ids, gint64, 0), ==, ids[96]);
  g_assert_cmpint (g_array_index (c.ids, gint64, 4), ==, ids[100]);
  collect_clear (&c);

  /* Carol is in no conversation: she syncs nothing, not even her own
   * message in a room she is not a member of. */
  collect_init (&c);
  g_assert_true (natterd_store_sync (f->store, f->carol, 0, 500, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 0);
  collect_clear (&c);

  /* Stopping early from the callback. */
  collect_init (&c);
  c.stop_after = 3;
  g_assert_true (natterd_store_sync (f->store, f->alice, 0, 500, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 3);
  collect_clear (&c);
}

/* A database restored from a backup has older messages than search.db
 * knows: the index starts again, so that the ids the restored database
 * hands out anew are indexed, and the lost messages are not found. */
static void
test_search_index_after_restore (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *backup = g_build_filename (f->dir, "backup.db", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  NatterdStore *indexer;
  gint64 room = 0, kept, indexed = 0, last = 0, again;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  kept = send_msg (f, room, f->alice, "kept apple", "k1", NULL);
  natterd_store_close (f->store);
  g_assert_true (g_file_get_contents (f->path, &contents, &len, &error));
  g_assert_true (g_file_set_contents (backup, contents, len, &error));
  g_clear_pointer (&contents, g_free);

  f->store = natterd_store_open (f->dir, FALSE, &error);
  g_assert_no_error (error);
  send_msg (f, room, f->alice, "lost banana", "l1", NULL);
  indexer = natterd_store_open_indexer (f->store, &error);
  g_assert_true (natterd_store_search_index_catch_up (indexer, 100, &indexed, &error));
  g_assert_cmpint (indexed, >, kept);
  natterd_store_close (indexer);
  natterd_store_close (f->store);

  /* The restore: the older file back in place, natterd stopped. */
  g_assert_true (g_file_get_contents (backup, &contents, &len, &error));
  g_assert_true (g_file_set_contents (f->path, contents, len, &error));
  f->store = natterd_store_open (f->dir, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_search_index_state (f->store, &indexed, &last, &error));
  g_assert_cmpint (indexed, ==, 0);
  g_assert_cmpint (last, ==, kept);

  again = send_msg (f, room, f->alice, "new cherry", "n1", NULL);
  g_assert_cmpint (again, ==, kept + 1); /* the lost message's id, handed out again */
  indexer = natterd_store_open_indexer (f->store, &error);
  g_assert_true (natterd_store_search_index_catch_up (indexer, 100, &indexed, &error));
  g_assert_cmpint (indexed, ==, again);
  natterd_store_close (indexer);

  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "banana", 0, 50, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 0);
  collect_clear (&c);
  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "cherry", 0, 50, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);
  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "apple", 0, 50, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);
}

/* search.db is derived: a damaged one is made again, not a reason for
 * natterd not to start. */
static void
test_search_db_damaged (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *search_path = g_build_filename (f->dir, "search.db", NULL);
  NatterdStore *indexer;
  gint64 room = 0, id, indexed = 0, last = 0;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  id = send_msg (f, room, f->alice, "still findable", "k1", NULL);
  natterd_store_close (f->store);

  g_assert_true (g_file_set_contents (search_path, "this is not an SQLite database, not at all", -1, &error));
  f->store = natterd_store_open (f->dir, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_search_index_state (f->store, &indexed, &last, &error));
  g_assert_cmpint (indexed, ==, 0);
  g_assert_cmpint (last, ==, id);

  indexer = natterd_store_open_indexer (f->store, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_search_index_catch_up (indexer, 100, &indexed, &error));
  g_assert_cmpint (indexed, ==, id);
  natterd_store_close (indexer);
  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "findable", 0, 50, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);
}

static void
count_hook (gpointer data)
{
  (*(guint *) data)++;
}

/* natterd's guard against writes on the main loop's connection: the hook
 * must run before every write on the connection, BEGIN IMMEDIATE
 * included, and never for a read. */
static void
test_write_hook (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint calls = 0;
  gint64 room = 0;
  Collect c;

  natterd_store_set_write_hook (f->store, count_hook, &calls);
  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "anything", 0, 50, collect_cb, &c, &error));
  collect_clear (&c);
  g_assert_cmpuint (calls, ==, 0);

  g_assert_true (natterd_store_begin (f->store, &error));
  g_assert_cmpuint (calls, ==, 1);
  g_assert_true (natterd_store_room_insert (f->store, "#hook", "", f->alice, 1, &room, &error));
  g_assert_cmpuint (calls, >=, 2);
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);

  calls = 0;
  natterd_store_set_write_hook (f->store, NULL, NULL);
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_cmpuint (calls, ==, 0);
}

static void
test_search (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 room = 0, dm = 0, other = 0;
  gint64 id1, id2, last, indexed = 0;
  NatterdStore *indexer = natterd_store_open_indexer (f->store, &error);
  static const char *const nasty[] = {
    "\"", "\"\"", "lunch\"", "AND", "OR NOT", "NEAR(a b)", "body:lunch", "*", "^lunch",
    "(", ")", "-lunch", "lunch*", "'", "\\", "{body}:x", "a + b", "\"unterminated", "\x01",
  };
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#general", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_room_insert (f->store, "#secret", "", f->carol, 1, &other, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, other, f->carol, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->bob, &error));

  id1 = send_msg (f, room, f->alice, "Going for Lunch now", "a1", NULL);
  send_msg (f, other, f->carol, "secret lunch plans", "c1", NULL);
  id2 = send_msg (f, dm, f->bob, "lunch? at the Café", "b1", NULL);

  if (f->engine->index_behind)
    {
      /* Not searchable until the index catches up (in bulk, behind). */
      collect_init (&c);
      g_assert_true (natterd_store_search (f->store, f->alice, "lunch", 0, 50, collect_cb, &c, &error));
      g_assert_cmpuint (c.ids->len, ==, 0);
      collect_clear (&c);
      /* In slices: two, then the third. */
      g_assert_true (natterd_store_search_index_catch_up (indexer, 2, &indexed, &error));
      g_assert_cmpint (indexed, <, id2);
    }
  g_assert_true (natterd_store_search_index_catch_up (indexer, 2, &indexed, &error));
  g_assert_cmpint (indexed, ==, id2);
  /* Only what is new goes in, once. */
  last = send_msg (f, dm, f->bob, "nothing here", "b2", NULL);
  g_assert_true (natterd_store_search_index_catch_up (indexer, 100, &indexed, &error));
  g_assert_true (natterd_store_search_index_catch_up (indexer, 100, &indexed, &error));
  g_assert_cmpint (indexed, ==, last);
  g_assert_no_error (error);

  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "lunch", 0, 50, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 2);      /* not carol's room */
  g_assert_cmpint (g_array_index (c.ids, gint64, 0), ==, id2); /* newest first */
  g_assert_cmpint (g_array_index (c.ids, gint64, 1), ==, id1);
  collect_clear (&c);

  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "LUNCH  cafe", dm, 50, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);

  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->alice, "lunch", room, 50, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);

  /* Whatever the user types, never an SQL error. */
  for (guint i = 0; i < G_N_ELEMENTS (nasty); i++)
    {
      collect_init (&c);
      g_assert_true (natterd_store_search (f->store, f->alice, nasty[i], 0, 50, collect_cb, &c, &error));
      g_assert_no_error (error);
      collect_clear (&c);
    }

  natterd_store_close (indexer);
}

/* How a user's query becomes an FTS5 expression: words, each quoted, a
 * prefix from two letters; nothing of FTS5's syntax gets through. */
static void
test_fts_query (void)
{
  static const struct {
    const char *query;
    const char *fts;
  } cases[] = {
    { "piz", "\"piz\"*" },
    { "Pizza party", "\"Pizza\"* \"party\"*" },
    { "a \"b\" c", "\"a\" \"b\" \"c\"" },
    { "pi", "\"pi\"*" },
    { "lunch OR \"", "\"lunch\"* \"OR\"*" },
    { "NEAR(a b)", "\"NEAR\"* \"a\" \"b\"" },
    { "body:lunch*", "\"body\"* \"lunch\"*" },
    { "-lunch ^x", "\"lunch\"* \"x\"" },
    { "e.g. 3.14", "\"e\" \"g\" \"3\" \"14\"*" },
    { "Café", "\"Café\"*" },
    { "e\xcc\x81", "\"e\xcc\x81\"" },           /* one letter and its accent */
    { "\xe7\x8c\xab\xe5\x92\xaa", "\"\xe7\x8c\xab\xe5\x92\xaa\"*" }, /* 猫咪 */
    { "  \t ", NULL },
    { "* ( ) ^ - : \"\" '", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *fts = natterd_store_sqlite_fts_query (cases[i].query);

      g_test_message ("query: %s", cases[i].query);
      g_assert_cmpstr (fts, ==, cases[i].fts);
    }
}

static guint
search_count (NatterdStore *store, gint64 user, const char *query)
{
  g_autoptr(GError) error = NULL;
  guint n;
  Collect c;

  collect_init (&c);
  g_assert_true (natterd_store_search (store, user, query, 0, 50, collect_cb, &c, &error));
  g_assert_no_error (error);
  n = c.ids->len;
  collect_clear (&c);
  return n;
}

/* Each word of a query matches the words it begins, case and accents
 * aside; the words are ANDed. */
static void
test_search_prefix (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *indexer = natterd_store_open_indexer (f->store, &error);
  gint64 room = 0, indexed = 0;
  static const struct {
    const char *query;
    guint       found;
  } cases[] = {
    { "piz", 2 }, { "PIZ", 2 }, { "pizza", 2 }, { "pizzas", 0 }, { "izza", 0 },
    { "pizza party", 1 }, { "piz par", 1 }, { "party pizza", 1 }, { "pizza dinner", 0 },
    { "cafe", 1 }, { "caf", 1 }, { "CAFÉ", 1 }, { "crè", 1 }, { "ecol", 1 },
    { "a", 1 },       /* one letter: the word "a" only, not "about" */
    { "ab", 1 },
    { "NEAR", 1 }, { "near", 1 }, { "OR", 0 }, { "-pizza", 2 }, { "pizza*", 2 },
    { "\"pizza\"", 2 }, { "\"", 0 }, { "x-ray", 1 }, { "x", 1 },
  };

  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  send_msg (f, room, f->alice, "Pizza party tonight!", "p1", NULL);
  send_msg (f, room, f->alice, "who wants pizza", "p2", NULL);
  send_msg (f, room, f->alice, "the Café crème was about right", "p3", NULL);
  send_msg (f, room, f->alice, "e\xcc\x81" "cole NEAR here, a x-ray", "p4", NULL);
  g_assert_true (natterd_store_search_index_catch_up (indexer, 100, &indexed, &error));
  g_assert_no_error (error);
  natterd_store_close (indexer);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("query: %s", cases[i].query);
      g_assert_cmpuint (search_count (f->store, f->alice, cases[i].query), ==, cases[i].found);
    }
}

/* A search.db of the first format (no prefix index, no user_version) is
 * made again once at the upgrade and refilled; after that it is kept. */
static void
test_search_index_upgrade (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *search_path = g_build_filename (f->dir, "search.db", NULL);
  NatterdStore *indexer;
  gint64 room = 0, id, indexed = 0, last = 0;

  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  id = send_msg (f, room, f->alice, "an old pizza", "o1", NULL);
  natterd_store_close (f->store);
  f->store = NULL;

  /* What natterd made before prefix search, indexed up to the message. */
  exec_sql (search_path, "DROP TABLE messages_fts;"
                         "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
                         "  body, content='', tokenize='unicode61 remove_diacritics 2');"
                         "INSERT INTO messages_fts (rowid, body) VALUES (1, 'an old pizza');"
                         "PRAGMA user_version = 0;");
  exec_sql (search_path, "UPDATE search_state SET indexed_up_to = 1;");
  g_assert_cmpint (id, ==, 1);

  f->store = natterd_store_open (f->dir, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_search_index_state (f->store, &indexed, &last, &error));
  g_assert_cmpint (indexed, ==, 0);  /* emptied, to be refilled */
  g_assert_cmpint (last, ==, id);
  indexer = natterd_store_open_indexer (f->store, &error);
  g_assert_true (natterd_store_search_index_catch_up (indexer, 100, &indexed, &error));
  g_assert_no_error (error);
  g_assert_cmpint (indexed, ==, id);
  natterd_store_close (indexer);
  g_assert_cmpuint (search_count (f->store, f->alice, "pi"), ==, 1);

  /* Once only: the next start keeps the index. */
  natterd_store_close (f->store);
  f->store = natterd_store_open (f->dir, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_search_index_state (f->store, &indexed, &last, &error));
  g_assert_cmpint (indexed, ==, id);
  g_assert_cmpuint (search_count (f->store, f->alice, "old piz"), ==, 1);
}

typedef struct {
  GString *s;
} Summaries;

static void
summary_cb (gint64 conv, gint64 read_up_to, gint64 unread, NatterdNotifyLevel level, const NatterdStoreMessage *last,
            gpointer user_data)
{
  g_string_append_printf (user_data, "%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%s;",
                          conv, read_up_to, unread, last ? last->body : "-");
}

static void
test_read_markers (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *expected = NULL;
  gint64 room = 0, dm = 0, empty = 0, m1, m2, m3, up_to = 0;
  gboolean moved = FALSE;

  g_assert_true (natterd_store_room_insert (f->store, "#general", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_room_insert (f->store, "#empty", "", f->alice, 1, &empty, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->alice, f->bob, &dm, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  g_assert_true (natterd_store_participant_add (f->store, empty, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->bob, &error));

  m1 = send_msg (f, room, f->bob, "one", "1", NULL);
  m2 = send_msg (f, room, f->bob, "two", "2", NULL);
  m3 = send_msg (f, dm, f->bob, "three", "3", NULL);
  send_msg (f, room, f->alice, "mine", "4", NULL);

  g_assert_true (natterd_store_read_marker_set (f->store, room, f->alice, m1, &up_to, &moved, &error));
  g_assert_true (moved);
  g_assert_cmpint (up_to, ==, m1);
  /* Never backwards. */
  g_assert_true (natterd_store_read_marker_set (f->store, room, f->alice, 0, &up_to, &moved, &error));
  g_assert_false (moved);
  g_assert_cmpint (up_to, ==, m1);
  /* Never past the conversation's last message. */
  g_assert_true (natterd_store_read_marker_set (f->store, dm, f->alice, m3 + 1000, &up_to, &moved, &error));
  g_assert_true (moved);
  g_assert_cmpint (up_to, ==, m3);
  g_assert_no_error (error);

  g_assert_true (natterd_store_conversation_summaries (f->store, f->alice, summary_cb, s, &error));
  g_assert_no_error (error);
  /* room: newest "mine" (alice's own does not count as unread), unread 1 (two). */
  expected = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":1:mine;"
                              "%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":0:three;"
                              "%" G_GINT64_FORMAT ":0:0:-;",
                              room, m1, dm, m3, empty);
  g_assert_cmpstr (s->str, ==, expected);
  (void) m2;
}

static void
test_wal_survives_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 room = 0;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_begin (f->store, &error));
  for (int i = 0; i < 2000; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("%d", i);
      send_msg (f, room, f->alice, "bulk", cmid, NULL);
    }
  g_assert_true (natterd_store_commit (f->store, &error));
  reopen (f);
  collect_init (&c);
  g_assert_true (natterd_store_sync (f->store, f->alice, 0, 5000, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 2000);
  collect_clear (&c);
}

/* Sync picks a user's messages among many of others: the sparse path
 * (one lookup per id) and the dense one (a range scan) give the same. */
static void
test_sync_sparse (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) dm_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 room = 0, dm = 0;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#busy", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_direct_ensure (f->store, f->bob, f->carol, &dm, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->bob, &error));
  g_assert_true (natterd_store_participant_add (f->store, dm, f->carol, &error));
  g_assert_true (natterd_store_begin (f->store, &error));
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("%d", i);

      if (i % 100 == 7)
        {
          gint64 id = send_msg (f, dm, f->carol, "to bob", cmid, NULL);
          g_array_append_val (dm_ids, id);
        }
      else
        send_msg (f, room, f->alice, "busy", cmid, NULL);
    }
  g_assert_true (natterd_store_commit (f->store, &error));

  collect_init (&c);
  g_assert_true (natterd_store_sync (f->store, f->bob, 0, 5, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (g_array_index (c.ids, gint64, i), ==, g_array_index (dm_ids, gint64, i));
  collect_clear (&c);

  collect_init (&c);
  g_assert_true (natterd_store_sync (f->store, f->bob, g_array_index (dm_ids, gint64, 4), 500,
                                     collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 5);
  g_assert_cmpint (g_array_index (c.ids, gint64, 0), ==, g_array_index (dm_ids, gint64, 5));
  collect_clear (&c);

  /* Alice's room: dense, the first ten ids skip the direct message. */
  collect_init (&c);
  g_assert_true (natterd_store_sync (f->store, f->alice, 0, 10, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 10);
  for (guint i = 1; i < 10; i++)
    {
      g_assert_cmpint (g_array_index (c.ids, gint64, i), >, g_array_index (c.ids, gint64, i - 1));
      g_assert_cmpint (g_array_index (c.ids, gint64, i), !=, g_array_index (dm_ids, gint64, 0));
    }
  collect_clear (&c);
}

/* --- PostgreSQL only --- */

/* How a user's query becomes a tsquery literal: folded words, each
 * quoted, a prefix from two letters; nothing of tsquery's syntax gets
 * through. */
static void
test_pg_tsquery (void)
{
  static const struct {
    const char *query;
    const char *tsquery;
  } cases[] = {
    { "piz", "'piz':*" },
    { "Pizza party", "'pizza':* & 'party':*" },
    { "a \"b\" c", "'a' & 'b' & 'c'" },
    { "lunch | !x & y:*", "'lunch':* & 'x' & 'y'" },
    { "e.g. 3.14", "'e' & 'g' & '3' & '14':*" },
    { "CAFÉ", "'cafe':*" },
    { "e\xcc\x81", "'e'" },
    { "\xe7\x8c\xab\xe5\x92\xaa", "'\xe7\x8c\xab\xe5\x92\xaa':*" },
    { "  \t ", NULL },
    { "* ( ) ^ - : \"\" ' \\", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *tsquery = natterd_store_pg_tsquery (cases[i].query);

      g_test_message ("query: %s", cases[i].query);
      g_assert_cmpstr (tsquery, ==, cases[i].tsquery);
    }
}

/* natterd's connection defaults bound the wait on a dead database host;
 * a value the user gave, in the conninfo, a URI or libpq's environment
 * variable, is kept. */
static void
test_pg_connection_defaults (void)
{
  static const struct {
    const char *conninfo;
    const char *keyword;
    const char *value;
  } cases[] = {
    { "host=db dbname=natter", "connect_timeout", "10" },
    { "host=db dbname=natter", "keepalives_idle", "30" },
    { "host=db dbname=natter", "keepalives_interval", "10" },
    { "host=db dbname=natter", "keepalives_count", "3" },
    { "host=db dbname=natter", "tcp_user_timeout", "30000" },
    { "host=db dbname=natter", "keepalives", NULL },
    { "host=db connect_timeout=3", "connect_timeout", "3" },
    { "host=db tcp_user_timeout=0", "tcp_user_timeout", "0" },
    { "host=db keepalives_idle=600", "keepalives_idle", "600" },
    { "postgresql://db/natter?connect_timeout=2&tcp_user_timeout=5000", "connect_timeout", "2" },
    { "postgresql://db/natter?connect_timeout=2&tcp_user_timeout=5000", "tcp_user_timeout", "5000" },
    { "postgresql://db/natter", "keepalives_count", "3" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *from_env = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *value = natterd_store_pg_connection_param (cases[i].conninfo,
                                                                  cases[i].keyword, &error);

      g_test_message ("%s: %s", cases[i].conninfo, cases[i].keyword);
      g_assert_no_error (error);
      g_assert_cmpstr (value, ==, cases[i].value);
    }

  /* libpq reads PGCONNECT_TIMEOUT itself when the conninfo has none. */
  g_setenv ("PGCONNECT_TIMEOUT", "4", TRUE);
  from_env = natterd_store_pg_connection_param ("host=db", "connect_timeout", &error);
  g_unsetenv ("PGCONNECT_TIMEOUT");
  g_assert_no_error (error);
  g_assert_null (from_env);

  bad = natterd_store_pg_connection_param ("host=db nonsense=1", "connect_timeout", &error);
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED);
  g_assert_null (bad);
}

/* A word longer than PostgreSQL takes in a lexeme is stored cut, and
 * found by any prefix a query can hold. */
static void
test_pg_long_word (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new ("start ");
  g_autofree char *query = NULL;
  gint64 room = 0;

  for (int i = 0; i < 3000; i++)
    g_string_append (body, "\xc3\xa9"); /* é, two bytes */
  g_string_append (body, " end");
  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  send_msg (f, room, f->alice, body->str, "long", NULL);
  query = g_strnfill (100, 'e');
  g_assert_cmpuint (search_count (f->store, f->alice, query), ==, 1);
  g_assert_cmpuint (search_count (f->store, f->alice, "start end"), ==, 1);
}

/* A word that folds to nothing (a combining mark on its own) is no
 * lexeme, and costs nothing after the insert: each one leaked its empty
 * string, some 160 kB for a message of 5,000 of them, which anyone could
 * send over and over. */
static void
test_pg_empty_words (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new ("start");
  struct mallinfo2 before, after;
  gint64 room = 0;

  for (int i = 0; i < 5000; i++)
    g_string_append (body, " \xcc\x81"); /* U+0301 COMBINING ACUTE ACCENT */
  g_string_append (body, " end");
  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  send_msg (f, room, f->alice, body->str, "warm-up", NULL);

  before = mallinfo2 ();
  for (int i = 0; i < 40; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("marks-%d", i);
      send_msg (f, room, f->alice, body->str, cmid, NULL);
    }
  after = mallinfo2 ();
  /* The 40 held 29 MB when they leaked; under ASan mallinfo2 says nothing. */
  g_assert_cmpint ((gssize) (after.uordblks - before.uordblks), <, 2 * 1024 * 1024);
  g_assert_cmpuint (search_count (f->store, f->alice, "start end"), ==, 41);
}

/* A unique violation is CONSTRAINT; a violation inside a transaction that
 * no savepoint guards ends the transaction (PostgreSQL aborts it), and the
 * store goes on. */
static void
test_pg_constraint (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  gint64 room = 0;
  Collect c;

  memset (hash, 7, sizeof hash);
  g_assert_true (natterd_store_token_insert (f->store, hash, f->alice, 5000, &error));
  g_assert_false (natterd_store_token_insert (f->store, hash, f->bob, 5000, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);

  g_assert_true (natterd_store_room_insert (f->store, "#taken", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_begin (f->store, &error));
  send_msg (f, room, f->alice, "rolled back with the rest", "x1", NULL);
  /* A taken name fails alone (clash-in-batch); a broken reference is an
   * error no write expects, and takes the transaction with it. */
  g_assert_false (natterd_store_participant_add (f->store, room + 1000, f->bob, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_false (natterd_store_in_transaction (f->store));
  g_assert_false (natterd_store_commit (f->store, &error));
  g_clear_error (&error);
  natterd_store_rollback (f->store);

  /* Nothing of the transaction was kept, and the next one works. */
  collect_init (&c);
  g_assert_true (natterd_store_history (f->store, room, 0, 10, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 0);
  collect_clear (&c);
  g_assert_true (natterd_store_begin (f->store, &error));
  send_msg (f, room, f->alice, "kept", "x1", NULL);
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);
}

static gboolean
error_has (const GError *error, const char *text)
{
  g_test_message ("error: %s", error->message);
  return strstr (error->message, text) != NULL;
}

/* Opening fails with a clear message, and never shows a password. */
static void
test_pg_open_errors (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = natter_test_pg_conninfo (pg, "no_such_db", "password=sekrit-pw");
  g_autofree char *unreachable = g_strdup_printf ("postgresql://natter:sekrit-pw@127.0.0.1:1/natter");
  g_autofree char *bump = NULL;
  int version = natterd_store_get_schema_version (f->store);
  gint64 start;
  NatterdStore *store;

  g_assert_cmpint (version, >=, 1);
  store = natterd_store_pg_open (missing, &error);
  g_assert_null (store);
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED);
  g_assert_true (error_has (error, "no_such_db"));
  g_assert_true (error_has (error, "does not exist"));
  g_assert_false (error_has (error, "sekrit"));
  g_clear_error (&error);

  /* Nothing answers on port 1: tried again for the time given, then a
   * clear error. */
  start = g_get_monotonic_time ();
  store = natterd_store_pg_open_full (unreachable, NULL, 1, &error);
  g_assert_null (store);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC / 2);
  g_assert_true (error_has (error, "gave up after"));
  g_assert_true (error_has (error, "port=1 dbname=natter"));
  g_assert_false (error_has (error, "sekrit"));
  g_clear_error (&error);

  store = natterd_store_open_database ("mysql", NULL, f->dir, FALSE, &error);
  g_assert_null (store);
  g_assert_true (error_has (error, "unknown database"));
  g_clear_error (&error);

  store = natterd_store_open_database (f->conninfo, "/nonexistent/password", f->dir, FALSE, &error);
  g_assert_null (store);
  g_assert_true (error_has (error, "password file"));
  g_clear_error (&error);

  /* A schema from a newer natterd. */
  natterd_store_close (f->store);
  f->store = NULL;
  natter_test_pg_exec (pg, f->dbname, "UPDATE schema_version SET version = 99");
  store = natterd_store_pg_open (f->conninfo, &error);
  g_assert_null (store);
  g_assert_true (error_has (error, "newer"));
  g_clear_error (&error);
  bump = g_strdup_printf ("UPDATE schema_version SET version = %d", version);
  natter_test_pg_exec (pg, f->dbname, bump);
  f->store = open_store (f, FALSE);
  g_assert_cmpint (natterd_store_get_schema_version (f->store), ==, version);
}

/* The server restarts under the store: a read goes on at once, a write
 * fails once and the next succeeds, a transaction in progress is lost
 * (and says so), and nothing of it is kept. */
static void
test_pg_reconnect (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 room = 0, kept;
  Collect c;

  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  kept = send_msg (f, room, f->alice, "before", "k1", NULL);

  natter_test_pg_restart (pg);
  collect_init (&c);
  g_assert_true (natterd_store_history (f->store, room, 0, 10, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);

  natter_test_pg_restart (pg);
  g_assert_false (natterd_store_user_set_last_seen (f->store, f->bob, 5, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE);
  g_assert_true (error_has (error, "lost the connection"));
  g_clear_error (&error);
  g_assert_true (natterd_store_user_set_last_seen (f->store, f->bob, 5, &error));
  g_assert_no_error (error);

  /* A transaction begun after a restart begins on a new connection. */
  natter_test_pg_restart (pg);
  g_assert_true (natterd_store_begin (f->store, &error));
  g_assert_no_error (error);
  send_msg (f, room, f->alice, "lost", "l1", NULL);
  natter_test_pg_restart (pg);
  g_assert_false (natterd_store_commit (f->store, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  g_assert_false (natterd_store_in_transaction (f->store));
  natterd_store_rollback (f->store);

  /* The lost message was not stored; its resend is a new message, after
   * the one kept. */
  collect_init (&c);
  g_assert_true (natterd_store_history (f->store, room, 0, 10, collect_cb, &c, &error));
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);
  g_assert_true (natterd_store_begin (f->store, &error));
  g_assert_cmpint (send_msg (f, room, f->alice, "lost", "l1", NULL), >, kept);
  g_assert_true (natterd_store_commit (f->store, &error));
  g_assert_no_error (error);
}

/* What the store logged about an outage (see outage_log_cb). */
static struct {
  guint lost;
  guint back;
  guint failed_attempts;
} outage_log;

/* natterd's layers log structured (G_LOG_USE_STRUCTURED). */
static GLogWriterOutput
outage_log_writer (GLogLevelFlags   level,
                   const GLogField *fields,
                   gsize            n_fields,
                   gpointer         user_data)
{
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0)
      message = fields[i].value;
  if (message != NULL && g_str_has_prefix (message, "Lost the connection to the database"))
    outage_log.lost++;
  else if (message != NULL && g_str_has_prefix (message, "Reconnected to the database"))
    outage_log.back++;
  else if (message != NULL && g_str_has_prefix (message, "Could not reconnect"))
    outage_log.failed_attempts++;
  else
    return g_log_writer_default (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

/* Calls history until it works, at most the harness's deadline: the
 * store makes its connection again no sooner than its pause allows. */
static void
history_until_back (NatterdStore *store,
                    gint64        room)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      Collect c;
      gboolean ok;

      collect_init (&c);
      ok = natterd_store_history (store, room, 0, 10, collect_cb, &c, &error);
      collect_clear (&c);
      if (ok)
        return;
      g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_thread_yield ();
    }
}

/* The server dies (pg_ctl stop -m immediate) under two connections, one
 * that reconnects itself and one that does it in the background (the
 * main loop's): every call fails with UNAVAILABLE while it is down, and
 * hundreds of calls make one attempt to connect each, not one per call;
 * the outage is logged once, and its end once, when the first is back
 * (the database answers again). */
static void
test_pg_outage (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *background = natterd_store_open_reader (f->store, &error);
  gint64 room = 0;

  g_assert_no_error (error);
  natterd_store_set_reconnect_in_background (background, TRUE);
  g_assert_true (natterd_store_room_insert (f->store, "#r", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  send_msg (f, room, f->alice, "before", "k1", NULL);
  memset (&outage_log, 0, sizeof outage_log);

  natter_test_pg_stop_immediate (pg);
  for (guint i = 0; i < 200; i++)
    {
      NatterdStore *store = i % 2 == 0 ? f->store : background;
      Collect c;

      collect_init (&c);
      g_assert_false (natterd_store_history (store, room, 0, 10, collect_cb, &c, &error));
      g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE);
      g_clear_error (&error);
      collect_clear (&c);
    }
  g_assert_false (natterd_store_begin (f->store, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  g_assert_cmpuint (outage_log.lost, ==, 1);
  g_assert_cmpuint (outage_log.back, ==, 0);
  /* The first attempt of each at once, perhaps a second after the first
   * pause (a slow machine): never one per call. */
  g_assert_cmpuint (outage_log.failed_attempts, >=, 1);
  g_assert_cmpuint (outage_log.failed_attempts, <=, 4);

  natter_test_pg_start_again (pg);
  history_until_back (f->store, room);
  g_assert_cmpuint (outage_log.back, ==, 1);
  history_until_back (background, room);
  g_assert_cmpuint (outage_log.lost, ==, 1);
  g_assert_cmpuint (outage_log.back, ==, 1);
  g_assert_true (natterd_store_user_set_last_seen (f->store, f->bob, 5, &error));
  g_assert_no_error (error);
  natterd_store_close (background);
}

static char *
show_setting (NatterdStore *store,
              const char   *name)
{
  g_autofree char *sql = g_strdup_printf ("SHOW %s", name);
  PGresult *res = PQexec (natterd_store_pg_get_conn (store), sql);
  char *value;

  g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
  value = g_strdup (PQgetvalue (res, 0, 0));
  PQclear (res);
  return value;
}

/* The reader's connection plans every statement for its parameters
 * (a common word's search, docs/performance.md), also once made again
 * after an outage; the others keep PostgreSQL's default. */
static void
test_pg_reader_plans (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *reader = natterd_store_open_reader (f->store, &error);
  g_autofree char *main_mode = NULL, *reader_mode = NULL, *again_mode = NULL;
  gint64 room = 0;

  g_assert_no_error (error);
  g_assert_true (natterd_store_room_insert (f->store, "#plans", "", f->alice, 1, &room, &error));
  main_mode = show_setting (f->store, "plan_cache_mode");
  reader_mode = show_setting (reader, "plan_cache_mode");
  g_assert_cmpstr (main_mode, ==, "auto");
  g_assert_cmpstr (reader_mode, ==, "force_custom_plan");

  natter_test_pg_stop_immediate (pg);
  natter_test_pg_start_again (pg);
  history_until_back (reader, room);
  again_mode = show_setting (reader, "plan_cache_mode");
  g_assert_cmpstr (again_mode, ==, "force_custom_plan");
  history_until_back (f->store, room);
  natterd_store_close (reader);
}

#define ORDER_WRITERS      2
#define ORDER_BATCHES      60
#define ORDER_BATCH_SIZE   8

typedef struct {
  const char *conninfo;
  gint64      room;
  gint64      sender;
  int         number;
  gint       *running;
} OrderWriter;

static gpointer
order_writer_thread (gpointer data)
{
  OrderWriter *w = data;
  g_autoptr(GError) error = NULL;
  NatterdStore *store = natterd_store_pg_open (w->conninfo, &error);

  g_assert_no_error (error);
  for (int b = 0; b < ORDER_BATCHES; b++)
    {
      g_assert_true (natterd_store_begin (store, &error));
      for (int i = 0; i < ORDER_BATCH_SIZE; i++)
        {
          g_autofree char *cmid = g_strdup_printf ("w%d-%d-%d", w->number, b, i);
          gboolean dup = FALSE;
          gint64 id = 0;

          g_assert_true (natterd_store_message_insert (store, w->room, w->sender, "x", 1, 1, cmid,
                                                       &dup, keep_id_cb, &id, &error));
          g_assert_no_error (error);
        }
      g_assert_true (natterd_store_commit (store, &error));
      g_assert_no_error (error);
    }
  natterd_store_close (store);
  g_atomic_int_dec_and_test (w->running);
  return NULL;
}

typedef struct {
  GHashTable *seen;
  gint64      last;
} OrderReader;

static gboolean
order_read_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  OrderReader *r = user_data;

  g_hash_table_add (r->seen, g_memdup2 (&m->id, sizeof m->id));
  r->last = MAX (r->last, m->id);
  return TRUE;
}

static gboolean
count_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  OrderReader *r = user_data;

  if (!g_hash_table_contains (r->seen, &m->id))
    g_error ("message %" G_GINT64_FORMAT " committed after the reader had synced past it (up to %"
             G_GINT64_FORMAT ")", m->id, r->last);
  return TRUE;
}

/* Two connections insert into one conversation at once, in transactions
 * of several messages, while a third syncs "after the last id seen" in a
 * loop, as a client does: it must get every message, so no message may
 * commit with an id below one already visible. */
static void
test_pg_commit_order (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  OrderWriter writers[ORDER_WRITERS];
  GThread *threads[ORDER_WRITERS];
  OrderReader r = { g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL), 0 };
  gint running = ORDER_WRITERS;
  gint64 room = 0;
  guint polls = 0;

  g_assert_true (natterd_store_room_insert (f->store, "#race", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  for (int i = 0; i < ORDER_WRITERS; i++)
    {
      writers[i] = (OrderWriter) { f->conninfo, room, i % 2 ? f->bob : f->alice, i, &running };
      threads[i] = g_thread_new ("writer", order_writer_thread, &writers[i]);
    }
  while (g_atomic_int_get (&running) > 0)
    {
      g_assert_true (natterd_store_sync (f->store, f->alice, r.last, 100000, order_read_cb, &r, &error));
      g_assert_no_error (error);
      polls++;
    }
  for (int i = 0; i < ORDER_WRITERS; i++)
    g_thread_join (threads[i]);
  g_assert_true (natterd_store_sync (f->store, f->alice, r.last, 100000, order_read_cb, &r, &error));
  g_test_message ("%u polls", polls);

  g_assert_cmpuint (g_hash_table_size (r.seen), ==, ORDER_WRITERS * ORDER_BATCHES * ORDER_BATCH_SIZE);
  g_assert_true (natterd_store_sync (f->store, f->alice, 0, 100000, count_cb, &r, &error));
  g_assert_no_error (error);
  g_hash_table_unref (r.seen);
}

typedef struct {
  NatterdStore *store;
  gint64        room;
  gint64        sender;
  gint64        reader;
  gint64        id;
  GError       *error;
} NodeBatch;

/* Another node's writer batch: a message first (the counter row), then
 * a read marker (a participants row). */
static gpointer
node_batch_thread (gpointer data)
{
  NodeBatch *b = data;
  gboolean dup = FALSE;
  gint64 up_to = 0;
  gboolean moved = FALSE;

  if (!natterd_store_begin (b->store, &b->error) ||
      !natterd_store_message_insert (b->store, b->room, b->sender, "second", 6, 2, "b1",
                                     &dup, keep_id_cb, &b->id, &b->error) ||
      !natterd_store_read_marker_set (b->store, b->room, b->reader, G_MAXINT64,
                                      &up_to, &moved, &b->error) ||
      !natterd_store_commit (b->store, &b->error))
    natterd_store_rollback (b->store);
  return NULL;
}

/* Waits (with a deadline) until a session of @dbname waits for a lock. */
static void
wait_for_lock_wait (const char *dbname)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM pg_stat_activity"
                                          " WHERE datname = '%s' AND wait_event_type = 'Lock'",
                                          dbname);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (natter_test_pg_query_int (pg, "postgres", sql) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (G_USEC_PER_SEC / 100); /* between polls of the server's state */
    }
}

/* Two nodes' writer batches that take the same two rows, the counter and
 * a participants row, in opposite orders: one sets a read marker and
 * then inserts a message, the other inserts and then sets the same
 * marker. PostgreSQL would abort one of them (deadlock detected, 40P01)
 * unless the writer takes the counter first: then the second batch waits
 * for the first, and both commit, in order. */
static void
test_pg_writer_lock_order (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *writer = natterd_store_open_sibling (f->store, &error);
  NodeBatch other = { NULL };
  GThread *thread;
  gint64 room = 0, id = 0, first = 0, up_to = 0;
  gboolean dup = FALSE, moved = FALSE;

  g_assert_no_error (error);
  other.store = natterd_store_open_sibling (f->store, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_room_insert (f->store, "#locks", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  g_assert_true (natterd_store_message_insert (f->store, room, f->bob, "zero", 4, 1, "z0",
                                               &dup, keep_id_cb, &first, &error));
  g_assert_no_error (error);

  /* This node: the marker first. */
  g_assert_true (natterd_store_begin (writer, &error));
  g_assert_true (natterd_store_read_marker_set (writer, room, f->alice, G_MAXINT64,
                                                &up_to, &moved, &error));
  g_assert_no_error (error);

  other.room = room;
  other.sender = f->bob;
  other.reader = f->alice;
  thread = g_thread_new ("other-node", node_batch_thread, &other);
  wait_for_lock_wait (f->dbname);

  /* Then a message. */
  natterd_store_message_insert (writer, room, f->alice, "first", 5, 2, "a1",
                                &dup, keep_id_cb, &id, &error);
  if (error == NULL)
    natterd_store_commit (writer, &error);
  else
    natterd_store_rollback (writer);
  g_thread_join (thread);

  g_assert_no_error (error);
  g_assert_no_error (other.error);
  g_assert_cmpint (first, <, id);
  g_assert_cmpint (id, <, other.id);
  natterd_store_close (other.store);
  natterd_store_close (writer);
}

typedef struct {
  NatterdStore            *store;
  gint64                   asker;
  gint64                   asked;
  NatterdStoreContactPair  pair;
  GError                  *error;
} CrossedAsk;

/* Another node's contact request: the pair locked and read, and the
 * request it finds accepted, in one transaction. */
static gpointer
crossed_ask_thread (gpointer data)
{
  CrossedAsk *c = data;

  if (natterd_store_begin (c->store, &c->error) &&
      natterd_store_contact_lock (c->store, c->asker, c->asked, &c->pair, &c->error) &&
      (c->pair != NATTERD_STORE_PAIR_B_ASKED ||
       (natterd_store_contact_delete (c->store, c->asker, c->asked, &c->error) &&
        natterd_store_contact_set (c->store, MIN (c->asker, c->asked), MAX (c->asker, c->asked),
                                   NATTERD_STORE_CONTACT_ACCEPTED, &c->error))) &&
      natterd_store_commit (c->store, &c->error))
    return NULL;
  if (natterd_store_in_transaction (c->store))
    natterd_store_rollback (c->store);
  return NULL;
}

/* Two nodes' crossed contact requests: alice's transaction has locked
 * the pair and written her request; bob's, on another connection, locks
 * the pair and waits, then reads alice's committed request and accepts
 * it. Without the lock, bob's read would find nothing (alice's row not
 * committed yet) and both requests would stay pending. */
static void
test_pg_contact_lock_crossed (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  CrossedAsk bob = { NULL };
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *expected = NULL;
  GThread *thread;

  bob.store = open_store (f, FALSE);
  bob.asker = f->bob;
  bob.asked = f->alice;
  g_assert_true (natterd_store_begin (f->store, &error));
  g_assert_cmpint (pair_of (f->store, f->alice, f->bob), ==, NATTERD_STORE_PAIR_NONE);
  g_assert_true (natterd_store_contact_set (f->store, f->alice, f->bob, NATTERD_STORE_CONTACT_PENDING, &error));
  thread = g_thread_new ("other-node", crossed_ask_thread, &bob);
  wait_for_lock_wait (f->dbname);
  g_assert_true (natterd_store_commit (f->store, &error));
  g_thread_join (thread);
  g_assert_no_error (error);
  g_assert_no_error (bob.error);
  g_assert_cmpint (bob.pair, ==, NATTERD_STORE_PAIR_B_ASKED);

  g_assert_true (natterd_store_contacts_foreach (f->store, contact_cb, s, &error));
  expected = g_strdup_printf ("%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ":1;",
                              MIN (f->alice, f->bob), MAX (f->alice, f->bob));
  g_assert_cmpstr (s->str, ==, expected);
  natterd_store_close (bob.store);
}

typedef struct {
  gint64   id;
  gboolean dup;   /* *out_duplicate as it was when the callback ran */
  gboolean *out;
} Stored;

static gboolean
stored_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  Stored *s = user_data;

  g_assert_cmpint (s->id, ==, 0); /* called once */
  s->id = m->id;
  s->dup = *s->out;
  return TRUE;
}

static void
queue_msg (NatterdStore *store, gint64 conv, gint64 sender, const char *body, const char *cmid,
           gboolean *dup, Stored *s)
{
  g_autoptr(GError) error = NULL;

  *s = (Stored) { 0, FALSE, dup };
  g_assert_true (natterd_store_message_insert (store, conv, sender, body, strlen (body), 1, cmid,
                                               dup, stored_cb, s, &error));
  g_assert_no_error (error);
}

static gboolean
check_body_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  g_assert_cmpmem (m->body, m->body_len, user_data, strlen (user_data));
  return TRUE;
}

/* The writer's connection queues a transaction's messages and writes
 * them in one statement when the next statement or the COMMIT needs
 * them: ids dense in queue order, a resend in the batch or of a stored
 * message answered with the original, a job rolled back to its
 * savepoint leaving no row and using no id, unread counts (seq,
 * sender_seq) counted through the batch. */
static void
test_pg_writer_batch (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *writer = natterd_store_open_sibling (f->store, &error);
  gboolean dup[6] = { FALSE };
  Stored s[6];
  gint64 room = 0, old = 0, up_to = 0;
  gboolean moved = FALSE;
  g_autofree char *alice_unread = NULL, *bob_unread = NULL;

  g_assert_no_error (error);
  g_assert_true (natterd_store_room_insert (f->store, "#batch", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  g_assert_true (natterd_store_message_insert (f->store, room, f->alice, "old", 3, 1, "o1",
                                               &dup[0], keep_id_cb, &old, &error));
  g_assert_no_error (error);

  g_assert_true (natterd_store_begin (writer, &error));
  queue_msg (writer, room, f->alice, "first \"quoted\" {x,y} \\ done", "a1", &dup[0], &s[0]);
  queue_msg (writer, room, f->bob, "second", "b1", &dup[1], &s[1]);
  queue_msg (writer, room, f->alice, "first again", "a1", &dup[2], &s[2]);
  queue_msg (writer, room, f->alice, "old again", "o1", &dup[3], &s[3]);
  g_assert_cmpint (s[0].id, ==, 0); /* queued, not written yet */

  /* A statement that reads the messages writes them first. */
  g_assert_true (natterd_store_read_marker_set (writer, room, f->bob, G_MAXINT64, &up_to, &moved, &error));
  g_assert_no_error (error);
  g_assert_cmpint (s[0].id, ==, old + 1);
  g_assert_cmpint (s[1].id, ==, old + 2);
  g_assert_cmpint (up_to, ==, old + 2);
  g_assert_cmpint (s[2].id, ==, s[0].id);
  g_assert_cmpint (s[3].id, ==, old);
  g_assert_false (s[0].dup || s[1].dup);
  g_assert_true (s[2].dup && s[3].dup);

  g_assert_true (natterd_store_savepoint (writer, NATTERD_STORE_SAVEPOINT_SET, &error));
  queue_msg (writer, room, f->alice, "rolled back", "c1", &dup[4], &s[4]);
  g_assert_true (natterd_store_savepoint (writer, NATTERD_STORE_SAVEPOINT_ROLLBACK, &error));
  queue_msg (writer, room, f->alice, "last", "d1", &dup[5], &s[5]);
  g_assert_true (natterd_store_commit (writer, &error));
  g_assert_no_error (error);
  g_assert_cmpint (s[4].id, ==, 0);
  g_assert_cmpint (s[5].id, ==, old + 3);

  /* alice: bob's one; bob: alice's last, after his marker. */
  alice_unread = unread_counts (f->store, f->alice);
  bob_unread = unread_counts (f->store, f->bob);
  g_assert_cmpstr (alice_unread, ==, "1;");
  g_assert_cmpstr (bob_unread, ==, "1;");
  g_assert_cmpint (send_msg (f, room, f->alice, "x", "a1", &dup[0]), ==, s[0].id);
  /* The array literal's quoting keeps a body as it was. */
  g_assert_true (natterd_store_message_by_client_id (f->store, f->alice, "a1", check_body_cb,
                                                     (gpointer) "first \"quoted\" {x,y} \\ done", &error));
  natterd_store_close (writer);
}

static gboolean
collect_change_cb (const NatterdStoreChange *change, gpointer user_data)
{
  g_string_append_printf (user_data, "%" G_GINT64_FORMAT ":%d:%s;", change->id, (int) change->kind,
                          change->emoji != NULL ? change->emoji : "-");
  return TRUE;
}

static gboolean
reactions_cb (const NatterdStoreMessage *m, gpointer user_data)
{
  g_string_assign (user_data, m->reactions);
  return TRUE;
}

/* A change between sends in one writer batch: the message's row takes it
 * at once (a read in the same transaction sees it) while the sends stay
 * queued, not cut off into a write of their own (docs/performance.md,
 * "Mixed"); at the commit every row takes its id in the order of the
 * writes, the changes' rows with them. */
static void
test_pg_writer_changes (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *writer = natterd_store_open_sibling (f->store, &error);
  g_autoptr(GString) reactions = g_string_new (NULL);
  g_autoptr(GString) changes = g_string_new (NULL);
  g_autofree char *expected = NULL;
  gboolean dup[3] = { FALSE };
  Stored s[3];
  gint64 room = 0, old = 0, reaction_id = 0, edit_id = 0;
  NatterdStoreChangeWrite reaction = { .kind = NATTERD_CHANGE_REACTION, .ts = 2, .emoji = "👍",
                                       .on = TRUE, .reactions = "👍 2\n" };
  NatterdStoreChangeWrite edit = { .kind = NATTERD_CHANGE_EDIT, .ts = 3, .body = "fixed", .body_len = 5 };

  g_assert_no_error (error);
  g_assert_true (natterd_store_room_insert (f->store, "#changes", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  old = send_msg (f, room, f->alice, "old", "o1", &dup[0]);
  reaction.message_id = edit.message_id = old;
  reaction.conversation_id = edit.conversation_id = room;
  reaction.actor_id = f->bob;
  edit.actor_id = f->alice;

  g_assert_true (natterd_store_begin (writer, &error));
  queue_msg (writer, room, f->alice, "one", "a1", &dup[0], &s[0]);
  g_assert_true (natterd_store_change_insert (writer, &reaction, &reaction_id, &error));
  g_assert_no_error (error);
  g_assert_true (natterd_store_message_by_id (writer, old, reactions_cb, reactions, &error));
  g_assert_cmpstr (reactions->str, ==, "👍 2\n");
  queue_msg (writer, room, f->bob, "two", "b1", &dup[1], &s[1]);
  g_assert_true (natterd_store_change_insert (writer, &edit, &edit_id, &error));
  queue_msg (writer, room, f->alice, "three", "a2", &dup[2], &s[2]);
  /* Nothing written yet: no id. */
  g_assert_cmpint (s[0].id, ==, 0);
  g_assert_cmpint (reaction_id, ==, 0);
  g_assert_cmpint (edit_id, ==, 0);
  g_assert_true (natterd_store_commit (writer, &error));
  g_assert_no_error (error);

  g_assert_cmpint (s[0].id, ==, old + 1);
  g_assert_cmpint (reaction_id, ==, old + 2);
  g_assert_cmpint (s[1].id, ==, old + 3);
  g_assert_cmpint (edit_id, ==, old + 4);
  g_assert_cmpint (s[2].id, ==, old + 5);
  g_assert_true (natterd_store_changes_since (f->store, f->bob, old, 10, collect_change_cb, changes, &error));
  g_assert_no_error (error);
  expected = g_strdup_printf ("%" G_GINT64_FORMAT ":%d:👍;%" G_GINT64_FORMAT ":%d:-;",
                              reaction_id, NATTERD_CHANGE_REACTION, edit_id, NATTERD_CHANGE_EDIT);
  g_assert_cmpstr (changes->str, ==, expected);
  g_assert_true (natterd_store_message_by_client_id (f->store, f->alice, "o1", check_body_cb,
                                                     (gpointer) "fixed", &error));
  /* The next id after them all. */
  g_assert_cmpint (send_msg (f, room, f->bob, "next", "b2", &dup[0]), ==, old + 6);
  natterd_store_close (writer);
}

/* Two writer connections (two nodes) take turns in one room: each
 * counts seq and sender_seq from its cache only while nobody else wrote
 * since its last commit, and forgets what a rollback (of the whole
 * transaction, or of a job's savepoint after its rows were written)
 * took back. The unread counts come from seq and sender_seq, so a stale
 * cache shows in them. Bodies and ids with COPY's special characters
 * come back as they were, and the words are searchable. */
static void
test_pg_writer_seq_cache (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *w1 = natterd_store_open_sibling (f->store, &error);
  NatterdStore *w2 = natterd_store_open_sibling (f->store, &error);
  NatterdStore *writers[2] = { w1, w2 };
  gint64 senders[2] = { f->alice, f->carol };
  gboolean dup = FALSE, moved = FALSE;
  Stored s;
  gint64 room = 0, up_to = 0;
  g_autofree char *alice_unread = NULL, *bob_unread = NULL, *carol_unread = NULL;
  Collect c;

  g_assert_no_error (error);
  g_assert_true (natterd_store_room_insert (f->store, "#turns", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->bob, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->carol, &error));

  /* 3 rounds: alice on w1, carol on w2. */
  for (int round = 0; round < 3; round++)
    for (int w = 0; w < 2; w++)
      {
        g_autofree char *cmid = g_strdup_printf ("t%d-%d", round, w);

        g_assert_true (natterd_store_begin (writers[w], &error));
        queue_msg (writers[w], room, senders[w], "turn", cmid, &dup, &s);
        g_assert_true (natterd_store_commit (writers[w], &error));
        g_assert_no_error (error);
        g_assert_cmpint (s.id, >, 0);
      }

  /* Written (a statement flushes it), then rolled back. */
  g_assert_true (natterd_store_begin (w1, &error));
  queue_msg (w1, room, f->alice, "gone", "gone-1", &dup, &s);
  g_assert_true (natterd_store_read_marker_set (w1, room, f->bob, G_MAXINT64, &up_to, &moved, &error));
  g_assert_cmpint (s.id, >, 0);
  natterd_store_rollback (w1);
  g_assert_true (natterd_store_begin (w1, &error));
  queue_msg (w1, room, f->alice, "tab\there, line\nthere, back\\slash", "odd\tid\\1", &dup, &s);
  g_assert_true (natterd_store_commit (w1, &error));
  g_assert_no_error (error);

  /* A job's rows written inside its savepoint, then rolled back to it. */
  g_assert_true (natterd_store_begin (w2, &error));
  g_assert_true (natterd_store_savepoint (w2, NATTERD_STORE_SAVEPOINT_SET, &error));
  queue_msg (w2, room, f->carol, "gone too", "gone-2", &dup, &s);
  g_assert_true (natterd_store_read_marker_set (w2, room, f->bob, G_MAXINT64, &up_to, &moved, &error));
  g_assert_true (natterd_store_savepoint (w2, NATTERD_STORE_SAVEPOINT_ROLLBACK, &error));
  queue_msg (w2, room, f->carol, "kept", "kept-2", &dup, &s);
  g_assert_true (natterd_store_commit (w2, &error));
  g_assert_no_error (error);
  g_assert_true (natterd_store_begin (w2, &error));
  queue_msg (w2, room, f->carol, "again", "again-2", &dup, &s);
  g_assert_true (natterd_store_commit (w2, &error));
  g_assert_no_error (error);

  /* alice wrote 4, carol 5, bob none and read none. */
  alice_unread = unread_counts (f->store, f->alice);
  bob_unread = unread_counts (f->store, f->bob);
  carol_unread = unread_counts (f->store, f->carol);
  g_assert_cmpstr (alice_unread, ==, "5;");
  g_assert_cmpstr (bob_unread, ==, "9;");
  g_assert_cmpstr (carol_unread, ==, "4;");

  g_assert_true (natterd_store_message_by_client_id (f->store, f->alice, "odd\tid\\1", check_body_cb,
                                                     (gpointer) "tab\there, line\nthere, back\\slash", &error));
  g_assert_no_error (error);
  collect_init (&c);
  g_assert_true (natterd_store_search (f->store, f->bob, "slash there", 0, 50, collect_cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.ids->len, ==, 1);
  collect_clear (&c);
  natterd_store_close (w1);
  natterd_store_close (w2);
}

/* First messages to someone inside a writer batch: direct_ensure
 * touches no message, so it leaves the queue alone (a burst of first
 * messages was written one row per flush), and answers a pair it has
 * answered in the transaction without asking again, unless a savepoint
 * rolled back since; the messages of the new
 * conversation and of the others still get ids in queue order, and seq
 * and sender_seq (looked up once per conversation and per sender in a
 * batch) go on across batches: the unread counts say so. */
static void
test_pg_writer_first_messages (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *writer = natterd_store_open_sibling (f->store, &error);
  gboolean dup[8] = { FALSE };
  Stored s[8];
  gint64 room = 0, dm = 0, old = 0;
  g_autofree char *alice_unread = NULL, *bob_unread = NULL, *carol_unread = NULL;

  g_assert_no_error (error);
  g_assert_true (natterd_store_room_insert (f->store, "#first", "", f->alice, 1, &room, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->alice, &error));
  g_assert_true (natterd_store_participant_add (f->store, room, f->carol, &error));
  g_assert_true (natterd_store_message_insert (f->store, room, f->carol, "old", 3, 1, "o1",
                                               &dup[0], keep_id_cb, &old, &error));
  g_assert_no_error (error);

  g_assert_true (natterd_store_begin (writer, &error));
  queue_msg (writer, room, f->alice, "one", "a1", &dup[0], &s[0]);
  g_assert_true (natterd_store_direct_ensure (writer, f->alice, f->bob, &dm, &error));
  g_assert_no_error (error);
  g_assert_cmpint (dm, >, 0);
  g_assert_cmpint (s[0].id, ==, 0); /* still queued */
  queue_msg (writer, dm, f->alice, "hi bob", "a2", &dup[1], &s[1]);
  g_assert_true (natterd_store_direct_ensure (writer, f->alice, f->bob, &dm, &error));
  queue_msg (writer, dm, f->bob, "hi alice", "b1", &dup[2], &s[2]);
  queue_msg (writer, room, f->carol, "two", "c1", &dup[3], &s[3]);
  queue_msg (writer, dm, f->alice, "hi bob", "a2", &dup[4], &s[4]);
  g_assert_cmpint (s[1].id, ==, 0);
  g_assert_true (natterd_store_commit (writer, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (s[i].id, ==, old + 1 + i);
  g_assert_cmpint (s[4].id, ==, s[1].id);
  g_assert_true (s[4].dup);

  /* A second batch goes on from the first's seq and sender_seq. */
  g_assert_true (natterd_store_begin (writer, &error));
  queue_msg (writer, dm, f->alice, "again", "a3", &dup[5], &s[5]);
  queue_msg (writer, room, f->alice, "three", "a4", &dup[6], &s[6]);
  queue_msg (writer, dm, f->alice, "and again", "a5", &dup[7], &s[7]);
  g_assert_true (natterd_store_commit (writer, &error));
  g_assert_no_error (error);
  g_assert_cmpint (s[7].id, ==, old + 7);

  /* A job rolled back to its savepoint takes back the conversation it
   * made: the next job's direct_ensure makes it again, for real. */
  {
    gint64 gone = 0, made = 0, found = 0;
    Stored t;
    gboolean t_dup = FALSE;

    g_assert_true (natterd_store_begin (writer, &error));
    g_assert_true (natterd_store_savepoint (writer, NATTERD_STORE_SAVEPOINT_SET, &error));
    g_assert_true (natterd_store_direct_ensure (writer, f->bob, f->carol, &gone, &error));
    g_assert_true (natterd_store_savepoint (writer, NATTERD_STORE_SAVEPOINT_ROLLBACK, &error));
    g_assert_true (natterd_store_direct_ensure (writer, f->bob, f->carol, &made, &error));
    queue_msg (writer, made, f->bob, "hi carol", "b2", &t_dup, &t);
    g_assert_true (natterd_store_commit (writer, &error));
    g_assert_no_error (error);
    g_assert_true (natterd_store_direct_ensure (f->store, f->bob, f->carol, &found, &error));
    g_assert_cmpint (found, ==, made);
    g_assert_cmpint (t.id, ==, old + 8);
  }

  /* Nobody has read anything. alice: bob's 1 in the dm, carol's 2 in the
   * room; bob: none in his dm with carol (the newest), alice's 3 in
   * theirs; carol: bob's 1, alice's 2 in the room. */
  alice_unread = unread_counts (f->store, f->alice);
  bob_unread = unread_counts (f->store, f->bob);
  carol_unread = unread_counts (f->store, f->carol);
  g_assert_cmpstr (alice_unread, ==, "1;2;");
  g_assert_cmpstr (bob_unread, ==, "0;3;");
  g_assert_cmpstr (carol_unread, ==, "1;2;");
  natterd_store_close (writer);
}

/* The tests that run on every engine. */
static const struct {
  const char *name;
  void (*func) (Fixture *f, gconstpointer data);
} engine_tests[] = {
  { "users", test_users },
  { "tokens", test_tokens },
  { "tokens-revoked", test_tokens_revoked },
  { "contacts", test_contacts },
  { "contact-lock", test_contact_lock },
  { "rooms", test_rooms },
  { "direct-ensure", test_direct_ensure },
  { "clash-in-batch", test_clash_in_batch },
  { "messages-between", test_messages_between },
  { "savepoint", test_savepoint },
  { "messages", test_messages },
  { "search", test_search },
  { "search-prefix", test_search_prefix },
  { "write-hook", test_write_hook },
  { "read-markers", test_read_markers },
  { "sync-sparse", test_sync_sparse },
  { "reopen", test_wal_survives_reopen },
};

static char *pg_skip;

static void
test_pg_skipped (void)
{
  g_test_skip (pg_skip);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* The store's warning of a lost database is expected, not fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func (outage_log_writer, NULL, NULL);

  /* SQLite keeps the paths the tests had before there were engines. */
  for (guint i = 0; i < G_N_ELEMENTS (engine_tests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/store/%s", engine_tests[i].name);
      g_test_add (path, Fixture, &sqlite_engine, fixture_setup, engine_tests[i].func, fixture_teardown);
    }
  g_test_add_func ("/store/migrations", test_migrations);
  g_test_add_func ("/store/migration-from-v1", test_migration_from_v1);
  g_test_add_func ("/store/not-a-database", test_not_a_database);
  g_test_add_func ("/store/fts-query", test_fts_query);
  g_test_add ("/store/search-index-upgrade", Fixture, NULL, fixture_setup,
              test_search_index_upgrade, fixture_teardown);
  g_test_add ("/store/search-after-restore", Fixture, NULL, fixture_setup,
              test_search_index_after_restore, fixture_teardown);
  g_test_add ("/store/search-db-damaged", Fixture, NULL, fixture_setup,
              test_search_db_damaged, fixture_teardown);

  g_test_add_func ("/store/pg/tsquery", test_pg_tsquery);
  g_test_add_func ("/store/pg/connection-defaults", test_pg_connection_defaults);
  if (!g_test_subprocess ())
    pg = natter_test_pg_start (&pg_skip);
  if (pg == NULL)
    g_test_add_func ("/store/pg/server", test_pg_skipped);
  else
    {
      static const struct {
        const char *name;
        void (*func) (Fixture *f, gconstpointer data);
      } pg_tests[] = {
        { "long-word", test_pg_long_word },
        { "empty-words", test_pg_empty_words },
        { "constraint", test_pg_constraint },
        { "open-errors", test_pg_open_errors },
        { "reconnect", test_pg_reconnect },
        { "outage", test_pg_outage },
        { "commit-order", test_pg_commit_order },
        { "writer-lock-order", test_pg_writer_lock_order },
        { "contact-lock-crossed", test_pg_contact_lock_crossed },
        { "writer-batch", test_pg_writer_batch },
        { "writer-changes", test_pg_writer_changes },
        { "writer-seq-cache", test_pg_writer_seq_cache },
        { "writer-first-messages", test_pg_writer_first_messages },
        { "reader-plans", test_pg_reader_plans },
      };

      for (guint i = 0; i < G_N_ELEMENTS (engine_tests); i++)
        {
          g_autofree char *path = g_strdup_printf ("/store/pg/%s", engine_tests[i].name);
          g_test_add (path, Fixture, &pg_engine, fixture_setup, engine_tests[i].func, fixture_teardown);
        }
      for (guint i = 0; i < G_N_ELEMENTS (pg_tests); i++)
        {
          g_autofree char *path = g_strdup_printf ("/store/pg/%s", pg_tests[i].name);
          g_test_add (path, Fixture, &pg_engine, fixture_setup, pg_tests[i].func, fixture_teardown);
        }
    }

  status = g_test_run ();
  natter_test_pg_free (pg);
  g_free (pg_skip);
  return status;
}
