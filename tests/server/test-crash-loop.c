/* test-crash-loop.c: natterd killed with SIGKILL twenty times under a mixed
 * load (issue 17, "Repeated crashes"), and checked after every restart.
 *
 * Four users send, pipelined, to a room and to alice, each with its own
 * client_msg_ids; among the sends go history and sync reads, read
 * markers, a topic change, resends of messages not yet acknowledged and
 * of some already acknowledged, token logins, and a password login on a
 * connection of its own. SIGKILL lands when one sender's k-th
 * acknowledgement arrives (k random, from the GTest seed; 0: as soon as
 * the bursts are written), so the other connections are mid-burst. Then:
 *
 * - every acknowledgement read before the connection closed is recorded
 *   (natterd acknowledges only what it committed);
 * - on SQLite, the files as the kill left them pass PRAGMA
 *   integrity_check (opened without the checkpoint a close would do, so
 *   natterd still finds the WAL it wrote);
 * - natterd is started again (its "listening" line, through the
 *   harness), and a sync of alice's messages from 0 returns ids strictly
 *   increasing, no client_msg_id twice, and every acknowledged message
 *   with the id of its acknowledgement;
 * - the next round begins by resending everything not acknowledged: a
 *   resend of a stored message is answered with its original id.
 *
 * After the last round everything is resent and acknowledged, and the
 * sync holds every message written exactly once. Nothing sleeps: each
 * step waits for a frame, a close or natterd's line. The same program
 * runs on PostgreSQL (suite server-pg), without the SQLite check.
 */
#define G_LOG_DOMAIN "natter-test"

#include <sqlite3.h>
#include <string.h>

#include "server-test-util.h"

#define N_ROUNDS          20
#define N_SENDERS         4
#define SENDS_PER_ROUND   40
/* Request ids: sends are SEND_ID_BASE + their number in the test. */
#define SEND_ID_BASE      1000000

typedef struct {
  const char       *name;
  const char       *to[2];     /* where its sends go, in turn */
  char             *token;
  GPtrArray        *pending;   /* client_msg_ids written, not acknowledged */
  guint             next_seq;
  NatterTestClient *conn;      /* this round's connection */
} Sender;

typedef struct {
  NatterTestServer *srv;
  Sender            senders[N_SENDERS];
  GHashTable       *acked;     /* client_msg_id → gint64 id */
  GHashTable       *written;   /* client_msg_id → sender (every message ever sent) */
  GPtrArray        *send_cmid; /* send number → client_msg_id */
  gint64            newest;    /* the largest id acknowledged */
} Loop;

static char *
body_of (const char *cmid)
{
  return g_strdup_printf ("crash loop %s", cmid);
}

/* Appends a send of @cmid to @burst and returns its request id. */
static gint64
add_send (Loop       *loop,
          Sender     *s,
          const char *cmid,
          GString    *burst)
{
  g_autofree char *body = body_of (cmid);
  gint64 id = SEND_ID_BASE + loop->send_cmid->len;
  const char *to = g_hash_table_lookup (loop->written, cmid);

  g_ptr_array_add (loop->send_cmid, g_strdup (cmid));
  g_string_append_printf (burst,
      "{\"type\":\"send\",\"id\":%" G_GINT64_FORMAT ",\"to\":\"%s\",\"body\":\"%s\",\"client_msg_id\":\"%s\"}\n",
      id, to, body, cmid);
  return id;
}

static void
push_send (Loop       *loop,
           Sender     *s,
           const char *cmid,
           GString    *burst,
           GArray     *ids)
{
  gint64 id = add_send (loop, s, cmid, burst);

  g_array_append_val (ids, id);
}

static guint
remove_cmid (GPtrArray  *pending,
             const char *cmid)
{
  for (guint i = 0; i < pending->len; i++)
    if (g_str_equal (g_ptr_array_index (pending, i), cmid))
      {
        g_ptr_array_remove_index_fast (pending, i);
        return 1;
      }
  return 0;
}

/* The acknowledgements and refusals on @s's connection, read until
 * natterd's death closed it. */
static void
take_replies (Loop   *loop,
              Sender *s)
{
  JsonObject *r;

  natter_test_client_wait_closed (s->conn, 0);
  while ((r = natter_test_client_try_next (s->conn, 0, NULL)) != NULL)
    {
      JsonNode *re = json_object_get_member (r, "re");
      gint64 n = re != NULL && JSON_NODE_HOLDS_VALUE (re) ? json_node_get_int (re) - SEND_ID_BASE : -1;
      const char *cmid;
      gint64 id, *known;

      if (n < 0 || n >= (gint64) loop->send_cmid->len)
        {
          json_object_unref (r);
          continue;
        }
      cmid = g_ptr_array_index (loop->send_cmid, n);
      natter_assert_ok (r);
      id = natter_test_get_int (r, "message.id");
      g_assert_cmpstr (natter_test_get_str (r, "message.client_msg_id"), ==, cmid);
      known = g_hash_table_lookup (loop->acked, cmid);
      if (known != NULL)
        {
          /* A resend of a stored message: the original. */
          g_assert_cmpint (id, ==, *known);
        }
      else
        g_hash_table_insert (loop->acked, g_strdup (cmid), g_memdup2 (&id, sizeof id));
      remove_cmid (s->pending, cmid);
      loop->newest = MAX (loop->newest, id);
      json_object_unref (r);
    }
}

/* The database files as SIGKILL left them, checked the way natterd will
 * open them, without the checkpoint a last close does. */
static void
assert_integrity (const char *data_dir,
                  const char *file)
{
  g_autofree char *path = g_build_filename (data_dir, file, NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

/* Everything acknowledged is there once, with its id; ids increase. */
static GHashTable *
check_stored (Loop *loop)
{
  g_autoptr(NatterTestClient) checker = natter_test_client_new (loop->srv);
  GHashTable *stored;
  GHashTableIter iter;
  gpointer key, value;

  natter_test_client_login_token (checker, loop->senders[0].token);
  stored = util_sync_all (checker);   /* asserts increasing ids, no duplicate */
  g_hash_table_iter_init (&iter, loop->acked);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gint64 *id = g_hash_table_lookup (stored, key);

      if (id == NULL)
        g_error ("acknowledged message %s (id %" G_GINT64_FORMAT ") lost", (char *) key, *(gint64 *) value);
      g_assert_cmpint (*id, ==, *(gint64 *) value);
    }
  g_hash_table_iter_init (&iter, stored);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (loop->written, key))
      g_error ("message %s stored but never written", (char *) key);
  return stored;
}

/* Writes @s's round in two parts: resends and the first @split new
 * sends now, the rest into @rest, for the moment SIGKILL lands. */
static void
round_burst (Loop    *loop,
             Sender  *s,
             guint    round,
             guint    split,
             GArray  *send_ids,
             GString *rest)
{
  GString *first = g_string_new (NULL);
  GString *burst = first;
  g_autoptr(GPtrArray) resend = g_ptr_array_new_with_free_func (g_free);
  guint n_acked_resends = 0;
  GHashTableIter iter;
  gpointer key, value;

  /* What the last round left unacknowledged first, as an app's outbox
   * does after a reconnect. */
  for (guint i = 0; i < s->pending->len; i++)
    g_ptr_array_add (resend, g_strdup (g_ptr_array_index (s->pending, i)));
  for (guint i = 0; i < resend->len; i++)
    push_send (loop, s, g_ptr_array_index (resend, i), burst, send_ids);

  /* A few stored ones again, as after an ack lost with the connection. */
  g_hash_table_iter_init (&iter, loop->acked);
  while (g_hash_table_iter_next (&iter, &key, &value) && n_acked_resends < 2)
    if (g_hash_table_lookup (loop->written, key) != NULL && g_str_has_prefix (key, s->name))
      {
        push_send (loop, s, key, burst, send_ids);
        n_acked_resends++;
      }

  for (guint i = 0; i < SENDS_PER_ROUND; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("%s-%u", s->name, s->next_seq);
      const char *to = s->to[s->next_seq % 2];

      if (i == split)
        burst = rest;
      s->next_seq++;
      g_hash_table_insert (loop->written, g_strdup (cmid), (gpointer) to);
      g_ptr_array_add (s->pending, g_strdup (cmid));
      push_send (loop, s, cmid, burst, send_ids);

      /* Reads and writes of other kinds among the sends. */
      switch (i % 8)
        {
        case 2:
          g_string_append_printf (burst, "{\"type\":\"history\",\"id\":%u,\"conversation\":\"#crash\",\"limit\":50}\n", i);
          break;
        case 4:
          g_string_append_printf (burst, "{\"type\":\"sync\",\"id\":%u,\"since\":0,\"limit\":200}\n", i);
          break;
        case 6:
          if (loop->newest > 0)
            g_string_append_printf (burst, "{\"type\":\"read\",\"id\":%u,\"conversation\":\"#crash\",\"up_to\":%" G_GINT64_FORMAT "}\n",
                                    i, loop->newest);
          break;
        case 7:
          if (s == &loop->senders[0])
            g_string_append_printf (burst, "{\"type\":\"room_topic\",\"id\":%u,\"room\":\"#crash\",\"topic\":\"round %u\"}\n",
                                    i, round);
          break;
        default:
          break;
        }
    }
  natter_test_client_send_raw (s->conn, first->str, first->len);
  g_string_free (first, TRUE);
}

static void
test_crash_loop (void)
{
  Loop loop = { 0 };
  static const char *const names[N_SENDERS] = { "alice", "bob", "carol", "dave" };
  guint acked_total_by_kill = 0;

  loop.srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  loop.acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  loop.written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  loop.send_cmid = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < N_SENDERS; i++)
    {
      Sender *s = &loop.senders[i];
      g_autoptr(NatterTestClient) c = natter_test_client_new_user (loop.srv, names[i]);

      s->name = names[i];
      s->token = g_strdup (natter_test_client_get_token (c));
      s->pending = g_ptr_array_new_with_free_func (g_free);
      s->to[0] = "#crash";
      s->to[1] = i == 0 ? "#crash" : "@alice";
      if (i == 0)
        util_room_create (c, "#crash");
      else
        util_room_join (c, "#crash");
    }

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      g_autoptr(NatterTestClient) password_login = NULL;
      GArray *send_ids[N_SENDERS];
      GString *rest[N_SENDERS];
      guint victim = g_test_rand_int_range (0, N_SENDERS);
      guint split = g_test_rand_int_range (1, SENDS_PER_ROUND);
      guint k;

      /* Everyone logs in again, with the token the app keeps. */
      for (guint i = 0; i < N_SENDERS; i++)
        {
          loop.senders[i].conn = natter_test_client_new (loop.srv);
          natter_test_client_login_token (loop.senders[i].conn, loop.senders[i].token);
          send_ids[i] = g_array_new (FALSE, FALSE, sizeof (gint64));
          rest[i] = g_string_new (NULL);
        }
      for (guint i = 0; i < N_SENDERS; i++)
        round_burst (&loop, &loop.senders[i], round, split, send_ids[i], rest[i]);
      /* A password login (argon2id on natterd's pool) in flight too. */
      password_login = natter_test_client_new (loop.srv);
      natter_test_client_sendf (password_login,
                                "{\"type\":\"login\",\"id\":1,\"username\":\"bob\",\"password\":\"%s\"}",
                                NATTER_TEST_PASSWORD);

      /* The moment: the victim's k-th acknowledgement of the first part
       * (0: none); then the second parts go out, and SIGKILL lands while
       * natterd reads and commits them. */
      k = g_test_rand_int_range (0, send_ids[victim]->len - (SENDS_PER_ROUND - split) + 1);
      if (k > 0)
        {
          g_autoptr(JsonObject) r =
            natter_test_client_wait_re (loop.senders[victim].conn, g_array_index (send_ids[victim], gint64, k - 1));

          natter_assert_ok (r);
        }
      for (guint i = 0; i < N_SENDERS; i++)
        {
          natter_test_client_try_send_raw (loop.senders[i].conn, rest[i]->str, rest[i]->len, NULL);
          g_string_free (rest[i], TRUE);
        }
      natter_test_server_kill (loop.srv);

      for (guint i = 0; i < N_SENDERS; i++)
        {
          take_replies (&loop, &loop.senders[i]);
          g_clear_pointer (&loop.senders[i].conn, natter_test_client_free);
          g_array_unref (send_ids[i]);
        }
      acked_total_by_kill = g_hash_table_size (loop.acked);

      if (!natter_test_on_postgresql ())
        {
          assert_integrity (natter_test_server_get_data_dir (loop.srv), "natter.db");
          assert_integrity (natter_test_server_get_data_dir (loop.srv), "search.db");
        }

      natter_test_server_restart (loop.srv);
      g_hash_table_unref (check_stored (&loop));
      natter_test_note ("round %u: killed at %s's ack %u (second parts from send %u); %u of %u acknowledged",
                        round, loop.senders[victim].name, k, split, acked_total_by_kill,
                        g_hash_table_size (loop.written));
    }

  /* The end: every message not acknowledged is resent until it is, and
   * then every one written is stored exactly once. */
  for (guint i = 0; i < N_SENDERS; i++)
    {
      Sender *s = &loop.senders[i];
      g_autoptr(GPtrArray) resend = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      GString *burst = g_string_new (NULL);

      s->conn = natter_test_client_new (loop.srv);
      natter_test_client_login_token (s->conn, s->token);
      for (guint j = 0; j < s->pending->len; j++)
        g_ptr_array_add (resend, g_strdup (g_ptr_array_index (s->pending, j)));
      for (guint j = 0; j < resend->len; j++)
        push_send (&loop, s, g_ptr_array_index (resend, j), burst, ids);
      if (burst->len > 0)
        natter_test_client_send_raw (s->conn, burst->str, burst->len);
      g_string_free (burst, TRUE);
      for (guint j = 0; j < ids->len; j++)
        {
          g_autoptr(JsonObject) r = natter_test_client_wait_re (s->conn, g_array_index (ids, gint64, j));
          const char *cmid = g_ptr_array_index (resend, j);
          gint64 id;

          natter_assert_ok (r);
          id = natter_test_get_int (r, "message.id");
          if (g_hash_table_contains (loop.acked, cmid))
            g_assert_cmpint (id, ==, *(gint64 *) g_hash_table_lookup (loop.acked, cmid));
          else
            g_hash_table_insert (loop.acked, g_strdup (cmid), g_memdup2 (&id, sizeof id));
          remove_cmid (s->pending, cmid);
        }
      g_assert_cmpuint (s->pending->len, ==, 0);
      g_clear_pointer (&s->conn, natter_test_client_free);
    }
  {
    g_autoptr(GHashTable) stored = check_stored (&loop);

    g_assert_cmpuint (g_hash_table_size (stored), ==, g_hash_table_size (loop.written));
    natter_test_note ("%u messages written, each stored once, over %u SIGKILLs",
                      g_hash_table_size (stored), N_ROUNDS);
  }

  for (guint i = 0; i < N_SENDERS; i++)
    {
      g_free (loop.senders[i].token);
      g_ptr_array_unref (loop.senders[i].pending);
    }
  g_hash_table_unref (loop.acked);
  g_hash_table_unref (loop.written);
  g_ptr_array_unref (loop.send_cmid);
  natter_test_server_free (loop.srv);
}

int
main (int    argc,
      char **argv)
{
  natter_test_init (&argc, &argv);
  natter_test_add_single_node ("/crash-loop/sigkill-20-times", test_crash_loop,
                               "kills one natterd process and restarts it; a cluster's node death is test-cluster's");
  return g_test_run ();
}
