/* test-import.c: natterd --import-sqlite, a SQLite natter.db copied into
 * PostgreSQL (issue 12).
 *
 * natterd on SQLite makes the data (users, a pending and an accepted
 * contact, rooms with members, direct messages, notes to self, read
 * markers, a status text, a few hundred messages with words to search
 * and with the characters COPY must escape); every user's answers to
 * history, sync, search, conversations, contacts, rooms, room_members
 * and user_info are taken; natterd stops, the import copies natter.db
 * into a new database, and natterd on PostgreSQL with the same data
 * directory (its certificate) must give the same answers, take the old
 * token, and give a new message an id above every imported one. A
 * second import into the now non-empty database is refused and changes
 * nothing; a missing, foreign or outdated source is refused with a
 * clear message.
 *
 * Needs PostgreSQL: meson.build registers this program in the server-pg
 * suite only; run on SQLite anyway, it skips.
 */
#define G_LOG_DOMAIN "natter-test"

#include <sqlite3.h>
#include <string.h>

#include <glib/gstdio.h>

#include "natter-test-pg.h"
#include "server-test-util.h"

#define N_ROUNDS 40

static const char *const users[] = { "alice", "bob", "carol", "dave" };

/* A PNG signature and a few bytes: natterd never decodes a picture. */
#define AVATAR_BASE64 "iVBORw0KGgoAAAANSUhEUgAAAAE="

/* Bodies with words to search, and every character COPY's text format
 * escapes or could take for its own (a backslash before N is NULL to it). */
static const char *const bodies[] = {
  "Pizza party tonight?",
  "Café crème and a brûlée",
  "pizza.party at x-ray 3.14",
  "back\\slash \\N and \\t literally",
  "tab\there\nnew line\n\nand two",
  "quotes ' \" and 'lexemes' 'a''b'",
  "日本語のテキスト emoji 🎉 done",
  "lunch at noon",
};

static const char *const queries[] = {
  "pizza", "caf", "PARTY pizza", "x", "ray", "3", "slash", "日本語のテキスト", "nothing-here", "'a",
};

/* What may differ between two servers with the same data: the request
 * ids, and presence (who is online now, when they last left). */
static void
scrub (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (obj);

      json_object_remove_member (obj, "re");
      json_object_remove_member (obj, "presence");
      json_object_remove_member (obj, "last_seen");
      for (GList *l = members; l != NULL; l = l->next)
        if (json_object_has_member (obj, l->data))
          scrub (json_object_get_member (obj, l->data));
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        scrub (json_array_get_element (array, i));
    }
}

static void
record (GString    *out,
        const char *what,
        JsonObject *reply)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), reply);
  g_autofree char *text = NULL;

  scrub (node);
  text = natter_test_to_string (reply);
  g_string_append_printf (out, "%s: %s\n", what, text);
}

/* Every answer of @c's user that comes from stored data, as text. */
static char *
answers_of (NatterTestClient *c)
{
  GString *out = g_string_new (NULL);
  g_autoptr(JsonObject) conversations = natter_test_client_request_ok (c, "{\"type\":\"conversations\"}");
  JsonArray *list = natter_test_get_array (conversations, "conversations");
  gint64 since = 0;

  record (out, "conversations", conversations);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      const char *address = json_object_get_string_member (json_array_get_object_element (list, i),
                                                           "conversation");
      g_autofree char *quoted = natter_test_json_quote (address);
      gint64 before = 0;

      /* Every page, backwards, in pages of an odd size. */
      for (;;)
        {
          g_autoptr(JsonObject) page = NULL;
          JsonArray *messages;

          if (before == 0)
            page = natter_test_client_request_ok (c, "{\"type\":\"history\",\"conversation\":%s,"
                                                  "\"limit\":23}", quoted);
          else
            page = natter_test_client_request_ok (c, "{\"type\":\"history\",\"conversation\":%s,"
                                                  "\"limit\":23,\"before\":%" G_GINT64_FORMAT "}",
                                                  quoted, before);
          messages = natter_test_get_array (page, "messages");
          record (out, address, page);
          if (!natter_test_get_bool (page, "has_more"))
            break;
          before = json_object_get_int_member (json_array_get_object_element (messages, 0), "id");
        }
      for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
        {
          g_autofree char *query = natter_test_json_quote (queries[q]);
          g_autoptr(JsonObject) found = natter_test_client_request_ok (c,
              "{\"type\":\"search\",\"query\":%s,\"conversation\":%s}", query, quoted);

          record (out, queries[q], found);
        }
    }
  for (;;)
    {
      g_autoptr(JsonObject) page = natter_test_client_request_ok (c,
          "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":37}", since);

      record (out, "sync", page);
      since = natter_test_get_int (page, "last_id");
      if (!natter_test_get_bool (page, "has_more"))
        break;
    }
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autofree char *query = natter_test_json_quote (queries[q]);
      g_autoptr(JsonObject) found = natter_test_client_request_ok (c,
          "{\"type\":\"search\",\"query\":%s,\"limit\":200}", query);

      record (out, queries[q], found);
    }
  {
    g_autoptr(JsonObject) contacts = natter_test_client_request_ok (c, "{\"type\":\"contacts\"}");
    g_autoptr(JsonObject) rooms = natter_test_client_request_ok (c, "{\"type\":\"rooms\"}");
    g_autoptr(JsonObject) directory = natter_test_client_request_ok (c, "{\"type\":\"room_directory\"}");

    record (out, "contacts", contacts);
    record (out, "rooms", rooms);
    record (out, "room_directory", directory);
  }
  {
    g_autoptr(JsonObject) members = natter_test_client_request (c,
        "{\"type\":\"room_members\",\"room\":\"#general\"}");

    record (out, "room_members", members);
  }
  for (guint u = 0; u < G_N_ELEMENTS (users); u++)
    {
      g_autoptr(JsonObject) info = natter_test_client_request_ok (c,
          "{\"type\":\"user_info\",\"username\":\"%s\"}", users[u]);

      record (out, "user_info", info);
    }
  natter_test_client_clear_queue (c);
  return g_string_free (out, FALSE);
}

/* Message actions (issue 14) in the data: alice edits her first message
 * of #general, bob reacts to her second, and she deletes her third and
 * sets #general to mentions only: changes whose ids are of the message
 * sequence, a deleted message, reactions. Returns alice's connection with
 * message actions, to take her answers with them. */
#define N_CHANGES 3
static NatterTestClient *
make_changes (NatterTestServer *srv)
{
  NatterTestClient *alice = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) bob = natter_test_client_new (srv);
  g_autoptr(JsonObject) a = NULL, b = NULL, h = NULL;
  JsonArray *messages;
  gint64 mine[3];
  guint n = 0;

  a = natter_test_client_request_ok (alice, "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\","
                                     "\"features\":[\"message_actions\"]}", NATTER_TEST_PASSWORD);
  b = natter_test_client_request_ok (bob, "{\"type\":\"login\",\"username\":\"bob\",\"password\":\"%s\","
                                     "\"features\":[\"message_actions\"]}", NATTER_TEST_PASSWORD);
  h = natter_test_client_request_ok (alice, "{\"type\":\"history\",\"conversation\":\"#general\",\"limit\":200}");
  messages = natter_test_get_array (h, "messages");
  for (guint i = 0; i < json_array_get_length (messages) && n < 3; i++)
    {
      JsonObject *m = json_array_get_object_element (messages, i);

      if (g_str_equal (json_object_get_string_member (m, "from"), "alice"))
        mine[n++] = json_object_get_int_member (m, "id");
    }
  g_assert_cmpuint (n, ==, 3);
  json_object_unref (natter_test_client_request_ok (alice,
      "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"edited pizza @bob\"}", mine[0]));
  json_object_unref (natter_test_client_request_ok (bob,
      "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"+1\",\"on\":true}", mine[1]));
  json_object_unref (natter_test_client_request_ok (alice,
      "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", mine[2]));
  json_object_unref (natter_test_client_request_ok (alice,
      "{\"type\":\"notify_level\",\"conversation\":\"#general\",\"level\":\"mentions\"}"));
  natter_test_client_clear_queue (alice);
  return alice;
}

/* Each user's answers, one after the other. */
static char *
all_answers (NatterTestClient **clients)
{
  GString *out = g_string_new (NULL);

  for (guint u = 0; u < G_N_ELEMENTS (users); u++)
    {
      g_autofree char *text = answers_of (clients[u]);

      g_string_append_printf (out, "=== %s\n%s", users[u], text);
    }
  return g_string_free (out, FALSE);
}

static void
clear_queues (NatterTestClient **clients)
{
  for (guint u = 0; u < G_N_ELEMENTS (users); u++)
    natter_test_client_clear_queue (clients[u]);
}

/* The data, made through natterd on SQLite. Returns the last message id. */
static gint64
make_data (NatterTestClient **c)
{
  gint64 last = 0, read_mark = 0;
  guint n = 0;

  /* alice and bob are contacts; carol asked alice, who has not answered. */
  util_make_contacts (c[0], c[1]);
  natter_test_client_request_ok (c[2], "{\"type\":\"contact_request\",\"username\":\"alice\"}");
  natter_test_client_request_ok (c[0], "{\"type\":\"set_presence\",\"presence\":\"away\","
                                 "\"status_text\":\"at lunch \\\\ back soon\"}");
  util_room_create (c[0], "#general");
  natter_test_client_request_ok (c[0], "{\"type\":\"room_topic\",\"room\":\"#general\","
                                 "\"topic\":\"Everything \\\\ more\"}");
  util_room_join (c[1], "#general");
  util_room_join (c[2], "#general");
  /* A room without messages, and one everyone left but its owner. */
  util_room_create (c[3], "#quiet");
  util_room_create (c[1], "#left");
  util_room_join (c[0], "#left");
  natter_test_client_request_ok (c[0], "{\"type\":\"room_leave\",\"room\":\"#left\"}");
  clear_queues (c);

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      static const struct { guint from; const char *to; } sends[] = {
        { 0, "#general" }, { 1, "#general" }, { 2, "#general" }, { 0, "@bob" }, { 1, "@alice" },
        { 0, "@alice" }, { 2, "@dave" }, { 3, "@carol" },
      };

      for (guint s = 0; s < G_N_ELEMENTS (sends); s++, n++)
        {
          g_autofree char *cmid = g_strdup_printf ("m%u", n);

          last = util_send (c[sends[s].from], sends[s].to, bodies[n % G_N_ELEMENTS (bodies)], cmid);
        }
      if (round == N_ROUNDS / 2)
        read_mark = last;
      if (round % 5 == 4)
        clear_queues (c);
    }
  /* Read markers: bob read @alice halfway, carol #general halfway, dave
   * everything from carol. */
  natter_test_client_request_ok (c[1], "{\"type\":\"read\",\"conversation\":\"@alice\","
                                 "\"up_to\":%" G_GINT64_FORMAT "}", read_mark);
  natter_test_client_request_ok (c[2], "{\"type\":\"read\",\"conversation\":\"#general\","
                                 "\"up_to\":%" G_GINT64_FORMAT "}", read_mark);
  natter_test_client_request_ok (c[3], "{\"type\":\"read\",\"conversation\":\"@carol\","
                                 "\"up_to\":%" G_GINT64_FORMAT "}", last);
  clear_queues (c);
  return last;
}

static char *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  return contents;
}

/* One integer from the SQLite database at @path. */
static gint64
sqlite_int (const char *path,
            const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* Columns no answer above shows whole: each user's last_seen and
 * created, the tokens' expiry and address (feature accounts). */
static const char *const column_sums[] = {
  "SELECT sum (last_seen) FROM users",
  "SELECT sum (created) FROM users",
  "SELECT sum (expires) FROM tokens",
  "SELECT sum (length (address)) FROM tokens",
  "SELECT sum (created) FROM rooms",
  "SELECT sum (read_up_to) FROM participants",
};

static void
test_import (void)
{
  g_autoptr(NatterTestPg) pg = natter_test_pg_attach ();
  const char *on_sqlite[] = { "--database", "sqlite", NULL };
  g_autoptr(NatterTestServer) old = natter_test_server_start (UTIL_RELAXED_LIMITS, on_sqlite);
  g_autoptr(NatterTestServer) new = NULL;
  NatterTestClient *c[G_N_ELEMENTS (users)];
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *token = NULL;
  g_autofree char *dbname = NULL;
  g_autofree char *conninfo = NULL;
  g_autofree char *source = NULL;
  g_autofree char *source_bytes = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *general_unread_before = NULL;
  gint64 last_id, new_id, messages;

  g_assert_nonnull (pg);
  g_assert_cmpstr (natter_test_server_get_database (old), ==, "sqlite");
  for (guint u = 0; u < G_N_ELEMENTS (users); u++)
    c[u] = natter_test_client_new_user (old, users[u]);
  last_id = make_data (c);
  token = g_strdup (natter_test_client_get_token (c[0]));
  /* bob's picture (feature accounts): its bytes go as they are. */
  {
    g_autoptr(NatterTestClient) bob = util_feature_login (old, "bob", "accounts");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"avatar_set\",\"data\":\"%s\"}",
                                                             AVATAR_BASE64);
  }
  clear_queues (c);
  {
    g_autoptr(NatterTestClient) alice_actions = make_changes (old);
    g_autofree char *plain = all_answers (c);
    g_autofree char *with_actions = answers_of (alice_actions);

    before = g_strconcat (plain, "=== alice with message actions\n", with_actions, NULL);
  }
  for (guint u = 0; u < G_N_ELEMENTS (users); u++)
    natter_test_client_free (c[u]);
  natter_test_server_stop (old);

  source = g_build_filename (natter_test_server_get_data_dir (old), "natter.db", NULL);
  cert_path = g_build_filename (natter_test_server_get_data_dir (old), "tls-cert.pem", NULL);
  source_bytes = read_file (source);
  cert = read_file (cert_path);
  conninfo = natter_test_pg_new_database (pg, &dbname);

  {
    const char *args[] = { "--import-sqlite", source, "--database", conninfo, NULL };

    g_assert_cmpint (natter_test_run_natterd (args, FALSE, &out, &err), ==, 0);
  }
  natter_test_note ("import: %s", out);
  messages = (gint64) N_ROUNDS * 8;
  /* Three tokens more: make_changes' logins and bob's for his picture. */
  expected = g_strdup_printf ("imported %s: users 4, tokens 7, avatars 1, contacts 2, conversations 6, rooms 3, "
                              "members 10, bans 0, invitations 0, blocks 0, changes %d, messages %" G_GINT64_FORMAT ": all match (",
                              source, N_CHANGES, messages);
  if (!g_str_has_prefix (out, expected))
    g_error ("expected \"%s...\", got \"%s\" (stderr: %s)", expected, out, err);
  /* The source is as it was. */
  {
    g_autofree char *now = read_file (source);

    g_assert_true (strcmp (now, source_bytes) == 0);
  }
  for (guint i = 0; i < G_N_ELEMENTS (column_sums); i++)
    g_assert_cmpint (natter_test_pg_query_int (pg, dbname, column_sums[i]), ==,
                     sqlite_int (source, column_sums[i]));

  /* natterd on PostgreSQL, in the same data directory. */
  {
    const char *on_pg[] = { "--database", conninfo, NULL };

    new = natter_test_server_start_full (natter_test_server_get_data_dir (old), 0, TRUE,
                                         UTIL_RELAXED_LIMITS, on_pg);
  }
  {
    g_autofree char *cert_now = read_file (cert_path);

    g_assert_cmpstr (cert_now, ==, cert);
  }
  /* alice with her old token, the others with their passwords. */
  c[0] = natter_test_client_new (new);
  natter_test_client_login_token (c[0], token);
  for (guint u = 1; u < G_N_ELEMENTS (users); u++)
    c[u] = natter_test_client_new_login (new, users[u]);
  {
    g_autoptr(NatterTestClient) alice_actions = natter_test_client_new (new);
    g_autoptr(JsonObject) in = natter_test_client_request_ok (alice_actions,
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\",\"features\":[\"message_actions\"]}",
        NATTER_TEST_PASSWORD);
    g_autofree char *plain = all_answers (c);
    g_autofree char *with_actions = answers_of (alice_actions);

    after = g_strconcat (plain, "=== alice with message actions\n", with_actions, NULL);
  }
  g_assert_cmpstr (after, ==, before);
  {
    g_autoptr(NatterTestClient) dave = util_feature_login (new, "dave", "accounts");
    g_autoptr(JsonObject) got = natter_test_client_request_ok (dave, "{\"type\":\"avatar\",\"username\":\"bob\"}");

    natter_assert_str (got, "data", AVATAR_BASE64);
  }

  /* A new message: an id above every imported one, and one more unread
   * for bob in #general. */
  {
    g_autoptr(JsonObject) list = natter_test_client_request_ok (c[1], "{\"type\":\"conversations\"}");
    JsonArray *conversations = natter_test_get_array (list, "conversations");
    gint64 unread_before = -1, unread_after = -1;

    for (guint i = 0; i < json_array_get_length (conversations); i++)
      {
        JsonObject *conv = json_array_get_object_element (conversations, i);

        if (g_str_equal (json_object_get_string_member (conv, "conversation"), "#general"))
          unread_before = json_object_get_int_member (conv, "unread");
      }
    new_id = util_send (c[0], "#general", "after the move", "new-1");
    g_assert_cmpint (new_id, >, last_id);
    /* ... and above every imported change: one sequence. */
    g_assert_cmpint (new_id, >, natter_test_pg_query_int (pg, dbname, "SELECT max (id) FROM changes"));
    g_clear_pointer (&list, json_object_unref);
    list = natter_test_client_request_ok (c[1], "{\"type\":\"conversations\"}");
    conversations = natter_test_get_array (list, "conversations");
    for (guint i = 0; i < json_array_get_length (conversations); i++)
      {
        JsonObject *conv = json_array_get_object_element (conversations, i);

        if (g_str_equal (json_object_get_string_member (conv, "conversation"), "#general"))
          unread_after = json_object_get_int_member (conv, "unread");
      }
    g_assert_cmpint (unread_before, >, 0);
    g_assert_cmpint (unread_after, ==, unread_before + 1);
    /* A new room and a new user get new ids too. */
    util_room_create (c[3], "#new");
    natter_test_client_free (natter_test_client_new_user (new, "erin"));
  }
  for (guint u = 0; u < G_N_ELEMENTS (users); u++)
    natter_test_client_free (c[u]);

  /* Importing again into the same database, now not empty: refused, and
   * nothing changes. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    const char *args[] = { "--import-sqlite", source, "--database", conninfo, NULL };

    g_assert_cmpint (natter_test_run_natterd (args, FALSE, &out, &err), ==, 1);
  }
  util_assert_contains (err, "natterd: import failed: the target database is not empty (users 5, tokens ");
  util_assert_contains (err, "changes 3, messages 321)");
  g_assert_cmpint (natter_test_pg_query_int (pg, dbname, "SELECT count(*) FROM messages"), ==,
                   messages + 1);
  g_assert_cmpint (natter_test_pg_query_int (pg, dbname, "SELECT count(*) FROM users"), ==, 5);
  g_assert_cmpint (natter_test_pg_query_int (pg, dbname, "SELECT max(id) FROM messages"), ==, new_id);
}

/* A source natterd must not import, and a missing target: each refused,
 * exit status 1, one line that says why. */
static void
assert_refused (const char *const *args,
                const char        *why)
{
  g_autofree char *err = NULL;
  g_autofree char *expected = g_strdup_printf ("natterd: import failed: %s\n", why);

  g_assert_cmpint (natter_test_run_natterd (args, FALSE, NULL, &err), ==, 1);
  if (!g_str_has_suffix (err, expected))
    g_error ("expected \"%s\" to end in \"%s\"", err, expected);
}

/* The tables the import reads, as natter.db has them (the newest schema), with a
 * message whose body is not UTF-8 after one that is fine. */
static const char bad_schema[] =
  "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, display_name TEXT,"
  "  password_hash TEXT, status_text TEXT, last_seen INTEGER, created INTEGER);"
  "CREATE TABLE tokens (hash BLOB PRIMARY KEY, user_id INTEGER, expires INTEGER, created INTEGER,"
  " device TEXT, address TEXT);"
  "CREATE TABLE avatars (user_id INTEGER PRIMARY KEY, sha256 TEXT, data BLOB);"
  "CREATE TABLE contacts (a INTEGER, b INTEGER, state INTEGER);"
  "CREATE TABLE conversations (id INTEGER PRIMARY KEY, kind INTEGER, user_a INTEGER, user_b INTEGER);"
  "CREATE TABLE rooms (conversation_id INTEGER PRIMARY KEY, name TEXT, topic TEXT,"
  "  owner_id INTEGER, created INTEGER, display_name TEXT, is_private INTEGER);"
  "CREATE TABLE participants (conversation_id INTEGER, user_id INTEGER, read_up_to INTEGER,"
  "  notify_level INTEGER, role INTEGER);"
  "CREATE TABLE room_bans (conversation_id INTEGER, user_id INTEGER, by_id INTEGER, reason TEXT,"
  "  ts INTEGER);"
  "CREATE TABLE room_invitations (conversation_id INTEGER, user_id INTEGER, by_id INTEGER,"
  "  ts INTEGER);"
  "CREATE TABLE blocks (user_id INTEGER, blocked_id INTEGER, ts INTEGER);"
  "CREATE TABLE changes (id INTEGER PRIMARY KEY, conversation_id INTEGER, actor_id INTEGER,"
  "  ts INTEGER, kind INTEGER, target_id INTEGER, emoji TEXT, reaction_on INTEGER);"
  "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER, sender_id INTEGER,"
  "  ts INTEGER, body TEXT, client_msg_id TEXT, seq INTEGER, sender_seq INTEGER,"
  "  reply_to INTEGER, edited_ts INTEGER, deleted INTEGER, reactions TEXT, mentions TEXT,"
  "  hidden_for INTEGER);"
  "INSERT INTO users VALUES (1, 'alice', 'Alice', 'hash', NULL, 0, 1);"
  "INSERT INTO conversations VALUES (1, 0, 1, 1);"
  "INSERT INTO participants VALUES (1, 1, 0, 0, 0);"
  "INSERT INTO messages VALUES (1, 1, 1, 1, 'fine', 'c1', 1, 1, NULL, NULL, 0, '', '', NULL);"
  "INSERT INTO messages VALUES (2, 1, 1, 2, CAST (X'66FF6F' AS TEXT), 'c2', 2, 2, NULL, NULL, 0, '', '', NULL);";

static void
test_refused (void)
{
  g_autoptr(NatterTestPg) pg = natter_test_pg_attach ();
  g_autofree char *dbname = NULL;
  g_autofree char *conninfo = natter_test_pg_new_database (pg, &dbname);
  g_autofree char *dir = g_dir_make_tmp ("natter-import-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.db", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.db", NULL);
  g_autofree char *old = g_build_filename (dir, "old.db", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.db", NULL);
  g_autofree char *why = NULL;
  sqlite3 *db = NULL;
  int current_version = 0;

  g_assert_true (g_file_set_contents (text, "not a database, but long enough to have a header "
                                      "of the size SQLite reads from a file: 100 bytes or so.\n",
                                      -1, NULL));
  g_assert_cmpint (sqlite3_open (old, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE users (id INTEGER PRIMARY KEY); PRAGMA user_version = 3",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_cmpint (sqlite3_open (empty, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE other (x)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  {
    const char *args[] = { "--import-sqlite", missing, "--database", conninfo, NULL };

    why = g_strdup_printf ("%s: no such file", missing);
    assert_refused (args, why);
  }
  g_clear_pointer (&why, g_free);
  {
    const char *args[] = { "--import-sqlite", text, "--database", conninfo, NULL };

    why = g_strdup_printf ("%s is not a SQLite database", text);
    assert_refused (args, why);
  }
  g_clear_pointer (&why, g_free);
  {
    const char *args[] = { "--import-sqlite", empty, "--database", conninfo, NULL };

    why = g_strdup_printf ("%s is not a natterd database (schema version 0)", empty);
    assert_refused (args, why);
  }
  g_clear_pointer (&why, g_free);
  {
    const char *args[] = { "--import-sqlite", old, "--database", conninfo, NULL };
    g_autofree char *err = NULL;
    g_autofree char *prefix = g_strdup_printf ("natterd: import failed: %s has schema version 3, "
                                               "this natterd imports ", old);
    const char *suffix = ": start this natterd on it once (it migrates the file), stop it, then import\n";
    const char *at;

    /* The version this natterd imports (the newest schema) is what it
     * says: the tables below claim it. */
    g_assert_cmpint (natter_test_run_natterd (args, FALSE, NULL, &err), ==, 1);
    at = strstr (err, prefix);
    if (at == NULL || !g_str_has_suffix (err, suffix))
      g_error ("expected \"%s\" to end in \"%sN%s\"", err, prefix, suffix);
    current_version = (int) g_ascii_strtoll (at + strlen (prefix), NULL, 10);
    g_assert_cmpint (current_version, >, 3);
  }
  {
    const char *args[] = { "--import-sqlite", old, "--database", "sqlite", NULL };

    assert_refused (args, "the import needs a PostgreSQL database to copy into (--database or "
                    "[storage] database: a postgresql:// URI or key=value connection parameters)");
  }
  /* Nothing was made in the target, not even the schema, before the
   * source was found good. */
  g_assert_cmpint (natter_test_pg_query_int (pg, dbname,
                   "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), ==, 0);

  /* A body PostgreSQL cannot store, found after the users were copied:
   * refused, naming the row, and nothing is left (one transaction). */
  g_assert_cmpint (sqlite3_open (bad, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, bad_schema, NULL, NULL, NULL), ==, SQLITE_OK);
  {
    g_autofree char *version = g_strdup_printf ("PRAGMA user_version = %d", current_version);

    g_assert_cmpint (sqlite3_exec (db, version, NULL, NULL, NULL), ==, SQLITE_OK);
  }
  sqlite3_close (db);
  {
    const char *args[] = { "--import-sqlite", bad, "--database", conninfo, NULL };

    assert_refused (args, "messages row 2: column 5 is not UTF-8 text without NUL, "
                    "which PostgreSQL cannot store");
  }
  g_assert_cmpint (natter_test_pg_query_int (pg, dbname, "SELECT count(*) FROM users"), ==, 0);
  g_assert_cmpint (natter_test_pg_query_int (pg, dbname, "SELECT count(*) FROM messages"), ==, 0);
  /* The source files are as they were. */
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));

  g_remove (text);
  g_remove (empty);
  g_remove (old);
  g_remove (bad);
  g_rmdir (dir);
}

static void
skip_on_sqlite (void)
{
  g_test_skip ("the import needs PostgreSQL (meson test --suite server-pg runs this)");
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  if (natter_test_on_postgresql ())
    {
      natter_test_add ("/import/sqlite-to-postgresql", test_import);
      natter_test_add ("/import/refused", test_refused);
    }
  else
    {
      g_test_add_func ("/import/sqlite-to-postgresql", skip_on_sqlite);
      g_test_add_func ("/import/refused", skip_on_sqlite);
    }
  return g_test_run ();
}
