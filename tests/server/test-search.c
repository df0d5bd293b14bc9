/* test-search.c: what a search query matches (docs/protocol.md, search):
 * each word of the query the words it begins, case and accents aside, the
 * words ANDed; nothing of FTS5's syntax; and a search index of an older
 * format rebuilt once when natterd is upgraded.
 */
#define G_LOG_DOMAIN "natter-test"

#include <sqlite3.h>
#include <string.h>

#include "server-test-util.h"

/* The bodies of the messages @query finds for @c, newest first, joined by
 * "|". */
static char *
search_bodies (NatterTestClient *c,
               const char       *query)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *frame = NULL;
  g_autoptr(JsonObject) r = NULL;
  GString *out = g_string_new (NULL);
  JsonArray *messages;

  /* The query goes through json-glib so that any text is sent as it is. */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "search");
  json_builder_set_member_name (b, "query");
  json_builder_add_string_value (b, query);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  frame = json_generator_to_data (gen, NULL);

  r = natter_test_client_request_ok (c, "%s", frame);
  messages = natter_test_get_array (r, "messages");
  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *m = json_array_get_object_element (messages, i);

      if (i > 0)
        g_string_append_c (out, '|');
      g_string_append (out, json_object_get_string_member (m, "body"));
    }
  return g_string_free (out, FALSE);
}

static void
test_prefix (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  static const struct {
    const char *query;
    const char *found;
  } cases[] = {
    /* A word finds the words it begins, in any case. */
    { "piz", "who wants pizza|Pizza party tonight" },
    { "PIZZA", "who wants pizza|Pizza party tonight" },
    { "pizzas", "" },
    { "izza", "" },
    /* Every word must match (AND), in any order. */
    { "pizza party", "Pizza party tonight" },
    { "par piz", "Pizza party tonight" },
    { "pizza dinner", "" },
    /* Accents are ignored both ways. */
    { "cafe", "the Café crème" },
    { "CRÈ", "the Café crème" },
    /* One letter is a whole word. */
    { "t", "" },
    { "a", "a NEAR b OR c" },
    /* FTS5's operators are words like any other. */
    { "NEAR", "a NEAR b OR c" },
    { "or", "a NEAR b OR c" },
    { "near OR", "a NEAR b OR c" },
    { "AND", "" },
    { "NOT pizza", "" },
    /* Punctuation separates words and never is an error. */
    { "-pizza", "who wants pizza|Pizza party tonight" },
    { "pizza*", "who wants pizza|Pizza party tonight" },
    { "\"pizza", "who wants pizza|Pizza party tonight" },
    { "\"", "" },
    { "* ( ) ^ - : { } + '", "" },
    { "body:pizza", "" },
    { "pizza.party", "Pizza party tonight" },
    { "NEAR(pizza party, 2)", "" },
  };

  util_room_create (alice, "#food");
  util_send (alice, "#food", "Pizza party tonight", "f1");
  util_send (alice, "#food", "who wants pizza", "f2");
  util_send (alice, "#food", "the Café crème", "f3");
  util_send (alice, "#food", "a NEAR b OR c", "f4");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *found = search_bodies (alice, cases[i].query);

      g_test_message ("query: %s", cases[i].query);
      g_assert_cmpstr (found, ==, cases[i].found);
    }
}

static void
exec_sql (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

/* natterd before prefix search made its index without prefix indexes and
 * without a format number; the first start after the upgrade makes it
 * again from the messages (once), so what it holds is what natter.db
 * says. The old index here is made to disagree with natter.db so that a
 * kept one shows. */
static void
test_old_index_rebuilt (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autofree char *search_db = NULL;
  gint64 id;

  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
    g_autofree char *found = NULL;

    util_room_create (alice, "#food");
    id = util_send (alice, "#food", "Pizza party tonight", "f1");
    found = search_bodies (alice, "pizza");
    g_assert_cmpstr (found, ==, "Pizza party tonight");
  }
  natter_test_server_stop (srv);

  search_db = g_build_filename (natter_test_server_get_data_dir (srv), "search.db", NULL);
  {
    g_autofree char *sql = g_strdup_printf (
        "DROP TABLE messages_fts;"
        "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
        "  body, content='', tokenize='unicode61 remove_diacritics 2');"
        "INSERT INTO messages_fts (rowid, body) VALUES (%" G_GINT64_FORMAT ", 'stale banana');"
        "UPDATE search_state SET indexed_up_to = %" G_GINT64_FORMAT ";"
        "PRAGMA user_version = 0;", id, id);
    exec_sql (search_db, sql);
  }

  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_login (srv, "alice");
    g_autofree char *stale = search_bodies (alice, "banana");
    g_autofree char *found = search_bodies (alice, "piz");

    g_assert_cmpstr (stale, ==, "");
    g_assert_cmpstr (found, ==, "Pizza party tonight");
  }

  /* Once: a new message is indexed on top of the rebuilt index, and the
   * next start keeps it. */
  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_login (srv, "alice");
    g_autofree char *found = NULL;

    util_send (alice, "#food", "more pizza", "f2");
    found = search_bodies (alice, "pizz");
    g_assert_cmpstr (found, ==, "more pizza|Pizza party tonight");
  }
}

int
main (int argc, char **argv)
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/search/prefix", test_prefix);
  natter_test_add_sqlite_only ("/search/old-index-rebuilt", test_old_index_rebuilt,
                               "search.db of an older format (on PostgreSQL the words "
                               "are in the messages' rows)");

  return g_test_run ();
}
