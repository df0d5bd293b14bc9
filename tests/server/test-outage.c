/* test-outage.c: PostgreSQL dies under a running natterd (issue 12).
 *
 * A client streams sends with client_msg_ids and keeps every
 * acknowledged one; mid-stream the database server is stopped with
 * pg_ctl stop -m immediate (a crash: every connection cut), stays down
 * while sends are answered with errors, and is started again. The client
 * resends whatever was not acknowledged, as the app's outbox does, until
 * everything is. Then every acknowledged message is stored exactly once,
 * with the id it was acknowledged with, ids increase, and the natterd that
 * served the stream (the same connection, never restarted) serves reads
 * and logins again. While the database is down a send is answered
 * `internal` (protocol 1 has no other code for it; docs/protocol.md), the
 * connection stays open and ping is answered (the main loop does not
 * wait for the database), and natterd logs the outage once and its end
 * once, without an attempt to reconnect per failed send.
 *
 * Only meaningful on PostgreSQL: meson.build registers this program in
 * the server-pg suite only; run on SQLite anyway, it skips.
 */
#define G_LOG_DOMAIN "natter-test"

#include <glib/gstdio.h>
#include <string.h>

#include "natter-test-pg.h"
#include "server-test-util.h"

#define N_MESSAGES       300
#define WINDOW           20   /* sends in flight */
#define STOP_AFTER_ACKS  100  /* the database dies after this many acks */
#define DOWN_ERRORS      200  /* send errors seen before it starts again */

typedef struct {
  NatterTestClient *client;
  gint64            acked[N_MESSAGES]; /* the id, 0 until acknowledged */
  gint64            in_flight[N_MESSAGES]; /* the request id, 0 when none */
  guint             n_acked;
  guint             n_in_flight;
  guint             errors;
  gint64            next_re;
  gboolean          database_down;
  guint             errors_while_down;
} Stream;

/* Sends message @i (again) with a new request id. */
static void
stream_send (Stream *s,
             guint   i)
{
  g_autofree char *frame = g_strdup_printf (
      "{\"type\":\"send\",\"id\":%" G_GINT64_FORMAT ",\"to\":\"@bob\",\"body\":\"outage %u\","
      "\"client_msg_id\":\"o%u\"}\n", s->next_re, i, i);

  s->in_flight[i] = s->next_re++;
  s->n_in_flight++;
  natter_test_client_send_raw (s->client, frame, strlen (frame));
}

/* Fills the window with the first messages that are neither acknowledged
 * nor in flight: the outbox resends what failed, oldest first. */
static void
stream_fill (Stream *s)
{
  for (guint i = 0; i < N_MESSAGES && s->n_in_flight < WINDOW; i++)
    if (s->acked[i] == 0 && s->in_flight[i] == 0)
      stream_send (s, i);
}

/* Reads one reply (asserting the connection stays open) and accounts
 * for it. */
static void
stream_take_reply (Stream *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) r = natter_test_client_try_next (s->client, natter_test_deadline_ms (), &error);
  gint64 re;
  guint i;

  if (r == NULL)
    g_error ("no reply while streaming (%u acknowledged): %s", s->n_acked, error->message);
  if (!json_object_has_member (r, "re") || natter_test_is_null (r, "re"))
    {
      g_autofree char *text = natter_test_to_string (r);

      g_error ("unexpected frame while streaming: %s", text);
    }
  re = natter_test_get_int (r, "re");
  for (i = 0; i < N_MESSAGES && s->in_flight[i] != re; i++)
    ;
  g_assert_cmpuint (i, <, N_MESSAGES);
  s->in_flight[i] = 0;
  s->n_in_flight--;

  if (g_str_equal (natter_test_get_str (r, "type"), "ok"))
    {
      g_autofree char *cmid = g_strdup_printf ("o%u", i);
      gint64 id = natter_test_get_int (r, "message.id");

      natter_assert_str (r, "message.client_msg_id", cmid);
      /* A resend of one acknowledged before answers the same id. */
      if (s->acked[i] != 0)
        g_assert_cmpint (s->acked[i], ==, id);
      else
        s->n_acked++;
      s->acked[i] = id;
      return;
    }
  /* The one code of the contract for it, temporary: the client resends. */
  natter_assert_error (r, "internal");
  s->errors++;
  if (s->database_down)
    s->errors_while_down++;
}

/* Streams until @done says stop, within the deadline. */
static void
stream_until (Stream   *s,
              gboolean (*done) (Stream *s))
{
  gint64 deadline = g_get_monotonic_time () + 3 * (gint64) natter_test_deadline_ms () * 1000;

  while (!done (s))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      stream_fill (s);
      stream_take_reply (s);
    }
}

static gboolean
enough_acked (Stream *s)
{
  return s->n_acked >= STOP_AFTER_ACKS;
}

static gboolean
enough_errors (Stream *s)
{
  return s->errors_while_down >= DOWN_ERRORS;
}

static gboolean
all_acked (Stream *s)
{
  return s->n_acked == N_MESSAGES;
}

/* A request that needs the main loop's own connection to the database
 * (a password login stores a token): the first after an outage may find
 * that connection being made again in the background and be answered
 * `internal`; the app tries again, and so does this, within the
 * deadline. */
static NatterTestClient *
login_until_back (NatterTestServer *srv,
                  const char       *username)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) natter_test_deadline_ms () * 1000;
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  for (;;)
    {
      g_autoptr(JsonObject) r = natter_test_client_requestf (c,
          "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\"}", username, NATTER_TEST_PASSWORD);

      if (g_str_equal (natter_test_get_str (r, "type"), "ok"))
        return g_steal_pointer (&c);
      natter_assert_error (r, "internal");
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static guint
count_lines (const char *log,
             const char *text)
{
  guint n = 0;

  for (const char *p = strstr (log, text); p != NULL; p = strstr (p + 1, text))
    n++;
  return n;
}

static void
test_outage_mid_stream (void)
{
  g_autofree char *dir = g_dir_make_tmp ("natter-outage-XXXXXX", NULL);
  g_autofree char *log_path = g_build_filename (dir, "natterd.log", NULL);
  g_autoptr(NatterTestServer) srv = natter_test_server_start_logged (
      UTIL_RELAXED_LIMITS "messages_per_minute_per_user=10000000\n", log_path);
  g_autoptr(NatterTestPg) pg = natter_test_pg_attach ();
  g_autoptr(GHashTable) stored = NULL;
  g_autofree char *log = NULL;
  g_autofree char *token = NULL;
  Stream s = { 0 };

  g_assert_nonnull (pg);
  s.next_re = 1000;
  s.client = natter_test_client_new_user (srv, "alice");
  token = g_strdup (natter_test_client_get_token (s.client));
  {
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  }

  stream_until (&s, enough_acked);
  natter_test_pg_stop_immediate (pg);
  s.database_down = TRUE;
  stream_until (&s, enough_errors);

  /* Still down: the main loop answers at once, reads fail the same way,
   * the connection stays open. */
  natter_test_note ("%u acknowledged, %u errors so far, %u in flight", s.n_acked, s.errors, s.n_in_flight);
  while (s.n_in_flight > 0)
    stream_take_reply (&s);
  natter_test_client_sync_ping (s.client);
  {
    g_autoptr(JsonObject) h = natter_test_client_request_error (s.client, "internal",
        "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":10}");
  }
  natter_test_server_assert_alive (srv);

  natter_test_pg_start_again (pg);
  s.database_down = FALSE;
  stream_until (&s, all_acked);
  natter_test_note ("all %u acknowledged after %u errors", s.n_acked, s.errors);
  g_assert_cmpuint (s.errors, >=, DOWN_ERRORS);

  /* Every acknowledged message once, with its id; ids in order. */
  stored = util_sync_all (s.client);
  g_assert_cmpuint (g_hash_table_size (stored), ==, N_MESSAGES);
  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("o%u", i);
      gint64 *id = g_hash_table_lookup (stored, cmid);

      g_assert_nonnull (id);
      g_assert_cmpint (*id, ==, s.acked[i]);
    }
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (s.client,
        "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":200}");
    g_autoptr(GArray) ids = util_message_ids (natter_test_get_array (h, "messages"));

    g_assert_cmpuint (ids->len, ==, 200);
    for (guint i = 1; i < ids->len; i++)
      g_assert_cmpint (g_array_index (ids, gint64, i - 1), <, g_array_index (ids, gint64, i));
  }

  /* New connections log in: with the token, and with a password. */
  {
    g_autoptr(NatterTestClient) again = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) bob = login_until_back (srv, "bob");
    g_autoptr(GHashTable) bobs = NULL;

    natter_test_client_login_token (again, token);
    bobs = util_sync_all (bob);
    g_assert_cmpuint (g_hash_table_size (bobs), ==, N_MESSAGES);
  }

  /* The same natterd all along: the first connection still works. */
  natter_test_client_sync_ping (s.client);
  natter_test_server_assert_alive (srv);

  /* The outage logged once and its end once (a line per connection at
   * most), and no attempt to reconnect per failed send: after the first,
   * one per pause (0.5 s doubling) per connection. */
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  {
    guint lost = count_lines (log, "Lost the connection to the database");
    guint back = count_lines (log, "Reconnected to the database");
    guint attempts = count_lines (log, "Could not reconnect to the database");

    g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
    guint shown = 0;

    /* What the store said, for a failure's diagnosis. */
    for (guint i = 0; lines[i] != NULL && shown < 20; i++)
      if (strstr (lines[i], "natterd-store") != NULL)
        {
          natter_test_note ("natterd: %s", lines[i]);
          shown++;
        }
    natter_test_note ("log: %u lost, %u back, %u failed attempts, %u errors", lost, back, attempts, s.errors);
    g_assert_cmpuint (lost, >=, 1);
    g_assert_cmpuint (lost, <=, 4);
    g_assert_cmpuint (back, ==, lost);
    g_assert_cmpuint (attempts, <, s.errors / 10);
    g_assert_cmpuint (count_lines (log, "Could not store a message"), ==, 0);
  }
  g_unlink (log_path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_pg_only ("/outage/immediate-stop-mid-stream", test_outage_mid_stream,
                           "stops the PostgreSQL server under natterd");
  return g_test_run ();
}
