/* test-nodes.c: two natterd nodes on one PostgreSQL database.
 *
 * Message ids must increase in commit order across every node writing to
 * the same database (issue 12): a client that synced up to id X asks for
 * "id > X" next, so a message that commits later with an id below X would
 * never reach it. Ids handed out at insert (a sequence) break this as soon
 * as two nodes' transactions commit out of id order; the PostgreSQL engine
 * takes them from a counter row its writer locks at BEGIN (top of
 * server/store/natterd-store-pg.c).
 *
 * Only meaningful on PostgreSQL: two natterd cannot share a SQLite
 * database. meson.build registers this program in the server-pg suite
 * only; run on SQLite anyway, it skips.
 *
 * Both nodes start together: what one makes (accounts, rooms,
 * memberships), the other learns when a request of its own looks for it
 * (natterd-directory-refresh.h; test-directory-nodes.c tests that).
 */
#define G_LOG_DOMAIN "natter-test"

#include "server-test-util.h"

#define N_PER_NODE   4    /* sender connections on each node */
#define N_MESSAGES   250  /* messages each sender sends */
#define N_SENDERS    (2 * N_PER_NODE)

static const char *const rooms[] = { "#one", "#two" };

typedef struct {
  NatterTestClient *client;
  guint             number;
  GArray           *acked;  /* gint64: the ids of its acknowledged sends */
  gint             *finished;
} Sender;

/* Writes all its sends at once (pipelined: the server takes them as fast
 * as its window allows) into both rooms in turn, then reads every answer
 * and keeps the acknowledged ids. Runs in its own thread: the client's
 * waits iterate only its own main context. */
static gpointer
sender_thread (gpointer data)
{
  Sender *s = data;
  GString *batch = g_string_new (NULL);

  for (guint i = 0; i < N_MESSAGES; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"%s\","
                            "\"body\":\"s%u m%u\",\"client_msg_id\":\"s%u-%u\"}\n",
                            i, rooms[i % G_N_ELEMENTS (rooms)], s->number, i, s->number, i);
  natter_test_client_send_raw (s->client, batch->str, batch->len);
  g_string_free (batch, TRUE);

  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autoptr(JsonObject) reply = natter_test_client_wait_re (s->client, i);
      gint64 id;

      natter_assert_ok (reply);
      id = natter_test_get_int (reply, "message.id");
      g_array_append_val (s->acked, id);
      /* Message events of the rooms pile up otherwise. */
      if (i % 50 == 49)
        while (TRUE)
          {
            g_autoptr(JsonObject) e = natter_test_client_take_queued (s->client, "message");

            if (e == NULL)
              break;
          }
    }
  g_atomic_int_inc (s->finished);
  return NULL;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Senders on both nodes write into the same rooms at once while a reader
 * on node B syncs with since = last_id in a loop: across its pages the ids
 * only increase, and once every send is acknowledged it has seen exactly
 * the acknowledged ids, each once. */
static void
test_commit_order (void)
{
  g_autoptr(NatterTestServer) node_a = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestServer) node_b = NULL;
  g_autoptr(NatterTestClient) reader = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GArray) acked = g_array_new (FALSE, FALSE, sizeof (gint64));
  NatterTestClient *owners[N_SENDERS];
  Sender senders[N_SENDERS];
  GThread *threads[N_SENDERS];
  gint finished = 0;
  gint64 since = 0;
  gint64 end;
  guint rounds = 0, missing = 0;
  gint64 first_missing = 0;

  g_assert_nonnull (natter_test_server_get_database (node_a));
  {
    const char *args[] = { "--database", natter_test_server_get_database (node_a), NULL };

    node_b = natter_test_server_start (UTIL_RELAXED_LIMITS, args);
  }
  g_assert_cmpstr (natter_test_server_get_database (node_b), ==,
                   natter_test_server_get_database (node_a));
  /* Everyone made on node A, with node B running (see the top). */
  reader = natter_test_client_new_user (node_a, "reader");
  for (guint r = 0; r < G_N_ELEMENTS (rooms); r++)
    util_room_create (reader, rooms[r]);
  for (guint i = 0; i < N_SENDERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("sender%u", i);

      owners[i] = natter_test_client_new_user (node_a, name);
      for (guint r = 0; r < G_N_ELEMENTS (rooms); r++)
        util_room_join (owners[i], rooms[r]);
      if (i >= N_PER_NODE)
        g_clear_pointer (&owners[i], natter_test_client_free);
    }
  g_clear_pointer (&reader, natter_test_client_free);

  reader = natter_test_client_new_login (node_b, "reader");

  /* Senders 0..3 stay on node A; 4..7 log in again on node B. */
  for (guint i = 0; i < N_SENDERS; i++)
    {
      senders[i].number = i;
      senders[i].acked = g_array_new (FALSE, FALSE, sizeof (gint64));
      senders[i].finished = &finished;
      if (i < N_PER_NODE)
        senders[i].client = owners[i];
      else
        {
          g_autofree char *name = g_strdup_printf ("sender%u", i);

          senders[i].client = natter_test_client_new_login (node_b, name);
        }
      natter_test_client_set_timeout (senders[i].client, 6 * natter_test_deadline_ms ());
    }
  for (guint i = 0; i < N_SENDERS; i++)
    threads[i] = g_thread_new ("sender", sender_thread, &senders[i]);

  /* The reader syncs in a loop. "finished" is read before the request: a
   * sync sent after the last acknowledgement finds every acknowledged
   * message committed, so when that sync has nothing more, the loop is
   * done; a message it then still lacks was skipped for good. */
  end = g_get_monotonic_time () + 6 * (gint64) natter_test_deadline_ms () * 1000;
  for (;;)
    {
      gboolean all_acked = g_atomic_int_get (&finished) == N_SENDERS;
      g_autoptr(JsonObject) page = natter_test_client_request_ok (reader,
          "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":1000}", since);
      JsonArray *messages = natter_test_get_array (page, "messages");
      gint64 last = since;

      for (guint i = 0; i < json_array_get_length (messages); i++)
        {
          JsonObject *m = json_array_get_object_element (messages, i);
          gint64 id = natter_test_get_int (m, "id");

          if (id <= last)
            g_error ("sync round %u: id %" G_GINT64_FORMAT " after %" G_GINT64_FORMAT
                     " (ids must only increase)", rounds, id, last);
          if (!g_hash_table_add (seen, g_memdup2 (&id, sizeof id)))
            g_error ("sync round %u: id %" G_GINT64_FORMAT " twice", rounds, id);
          last = id;
        }
      g_assert_cmpint (natter_test_get_int (page, "last_id"), ==, last);
      since = last;
      rounds++;
      natter_test_client_clear_queue (reader);
      if (all_acked && !natter_test_get_bool (page, "has_more"))
        break;
      if (g_get_monotonic_time () > end)
        g_error ("the senders did not finish within %u ms", 6 * natter_test_deadline_ms ());
    }

  for (guint i = 0; i < N_SENDERS; i++)
    {
      g_thread_join (threads[i]);
      g_array_append_vals (acked, senders[i].acked->data, senders[i].acked->len);
      g_array_unref (senders[i].acked);
      natter_test_client_free (senders[i].client);
    }
  natter_test_note ("%u acknowledged, %u seen in %u sync rounds", acked->len,
                    g_hash_table_size (seen), rounds);

  /* Exactly the acknowledged ids: none missing, none extra, none twice. */
  g_array_sort (acked, compare_ids);
  for (guint i = 0; i < acked->len; i++)
    {
      gint64 id = g_array_index (acked, gint64, i);

      if (i > 0)
        g_assert_cmpint (id, >, g_array_index (acked, gint64, i - 1));
      if (!g_hash_table_contains (seen, &id))
        {
          if (missing++ == 0)
            first_missing = id;
        }
    }
  if (missing > 0)
    g_error ("the syncing client never got %u acknowledged messages (the first: id %"
             G_GINT64_FORMAT "): they committed after it had synced past their ids",
             missing, first_missing);
  g_assert_cmpuint (acked->len, ==, N_SENDERS * N_MESSAGES);
  g_assert_cmpuint (g_hash_table_size (seen), ==, acked->len);

  natter_test_server_assert_alive (node_a);
  natter_test_server_assert_alive (node_b);
}

/* An outbox that sent through node A, lost the connection before the
 * answer and resends through node B gets the original back: one row, one
 * id. The same for a resend that comes back to A afterwards, and for the
 * first message to someone new made on both nodes at once (the direct
 * conversation is got or made in the send's transaction). */
static void
test_resend_through_other_node (void)
{
  g_autoptr(NatterTestServer) node_a = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestServer) node_b = NULL;
  g_autoptr(NatterTestClient) alice_a = NULL;
  g_autoptr(NatterTestClient) bob_a = NULL;
  g_autoptr(NatterTestClient) alice_b = NULL;
  g_autoptr(NatterTestClient) bob_b = NULL;
  static const char send_a[] =
    "{\"type\":\"send\",\"id\":1,\"to\":\"@bob\",\"body\":\"from a\",\"client_msg_id\":\"first\"}\n";
  static const char send_b[] =
    "{\"type\":\"send\",\"id\":1,\"to\":\"@alice\",\"body\":\"from b\",\"client_msg_id\":\"first-b\"}\n";
  gint64 id_a, id_b, id_again;

  {
    const char *args[] = { "--database", natter_test_server_get_database (node_a), NULL };

    node_b = natter_test_server_start (UTIL_RELAXED_LIMITS, args);
  }
  alice_a = natter_test_client_new_user (node_a, "alice");
  bob_a = natter_test_client_new_user (node_a, "bob");
  alice_b = natter_test_client_new_login (node_b, "alice");
  bob_b = natter_test_client_new_login (node_b, "bob");

  /* The first message between the two, from both nodes at the same
   * moment: one conversation. */
  natter_test_client_send_raw (alice_a, send_a, strlen (send_a));
  natter_test_client_send_raw (bob_b, send_b, strlen (send_b));
  {
    g_autoptr(JsonObject) ra = natter_test_client_wait_re (alice_a, 1);
    g_autoptr(JsonObject) rb = natter_test_client_wait_re (bob_b, 1);

    natter_assert_ok (ra);
    natter_assert_ok (rb);
    id_a = natter_test_get_int (ra, "message.id");
    id_b = natter_test_get_int (rb, "message.id");
    g_assert_cmpint (id_a, !=, id_b);
  }

  /* alice's resend reaches node B: the original. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice_b,
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"from a\",\"client_msg_id\":\"first\"}");

    id_again = natter_test_get_int (r, "message.id");
    g_assert_cmpint (id_again, ==, id_a);
    natter_assert_str (r, "message.body", "from a");
  }

  /* Both nodes' histories hold the two messages once, in one conversation. */
  for (guint n = 0; n < 2; n++)
    {
      NatterTestClient *c = n == 0 ? alice_a : bob_b;
      g_autoptr(JsonObject) h = natter_test_client_request_ok (c,
          "{\"type\":\"history\",\"conversation\":\"%s\"}", n == 0 ? "@bob" : "@alice");
      g_autoptr(GArray) ids = util_message_ids (natter_test_get_array (h, "messages"));

      g_assert_cmpuint (ids->len, ==, 2);
    }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_pg_only ("/nodes/commit-order", test_commit_order,
                           "two natterd share a database only on PostgreSQL");
  natter_test_add_pg_only ("/nodes/resend-through-other-node", test_resend_through_other_node,
                           "two natterd share a database only on PostgreSQL");
  return g_test_run ();
}
