/* test-cluster.c: natterd nodes sharing one PostgreSQL database and one
 * Redis bus (docs/cluster.md).
 *
 * Every test starts its own Redis (natter-test-redis) and its nodes on
 * the database the harness made for the first one. A node delivers what
 * the others commit to its own connections, in id order, exactly once,
 * whether it came over the bus or, the bus having lost it, from the
 * database; a node killed loses nothing that was acknowledged.
 *
 * Only meaningful on PostgreSQL (meson.build registers it in the
 * server-pg suite only; on SQLite it skips).
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include <gio/gunixsocketaddress.h>

#include "natter-test-redis.h"
#include "server-test-util.h"

#define WHY "a cluster shares a PostgreSQL database"
#define N_PER_NODE 2    /* sender connections on each node */
#define N_MESSAGES 200  /* messages each sender sends */
/* A dead node's users get as last_seen the time it was last heard of,
 * which is at most a heartbeat (3 s) before it died. */
#define NATTERD_PRESENCE_HEARTBEAT_SLACK_MS 3500
/* A node not heard of for this long is taken for dead
 * (NATTERD_CLUSTER_PRESENCE_DEAD_MS); a node that stops says so at once. */
#define NATTERD_CLUSTER_PRESENCE_DEAD_MS_IN_TEST 12000

static const char *const rooms[] = { "#one", "#two" };

typedef struct {
  const char       *config;  /* natterd's config text; NULL: UTIL_RELAXED_LIMITS */
  NatterTestRedis  *redis;
  char             *bus;
  NatterTestServer *nodes[3];
  guint             n_nodes;
} Cluster;

static NatterTestServer *
start_node (Cluster    *cluster,
            const char *name)
{
  const char *first_args[] = { "--bus", cluster->bus, "--node-name", name, NULL };
  const char *args[] = { "--bus", cluster->bus, "--node-name", name, "--database", NULL, NULL };

  const char *config = cluster->config != NULL ? cluster->config : UTIL_RELAXED_LIMITS;

  if (cluster->n_nodes == 0)
    return natter_test_server_start (config, first_args);
  args[5] = natter_test_server_get_database (cluster->nodes[0]);
  return natter_test_server_start (config, args);
}

/* Redis, and @n_first nodes. Accounts and rooms are made on the first
 * node before the others start when a test needs them everywhere. */
static gboolean
cluster_start (Cluster *cluster,
               guint    n_nodes)
{
  g_autofree char *skip = NULL;
  const char *config = cluster->config;

  memset (cluster, 0, sizeof *cluster);
  cluster->config = config;
  cluster->redis = natter_test_redis_start (&skip);
  if (cluster->redis == NULL)
    {
      g_test_skip (skip);
      return FALSE;
    }
  cluster->bus = natter_test_redis_address (cluster->redis);
  for (guint i = 0; i < n_nodes; i++)
    {
      g_autofree char *name = g_strdup_printf ("node-%c", 'a' + i);
      cluster->nodes[cluster->n_nodes] = start_node (cluster, name);
      cluster->n_nodes++;
    }
  return TRUE;
}

static void
cluster_add_node (Cluster *cluster)
{
  g_autofree char *name = g_strdup_printf ("node-%c", 'a' + cluster->n_nodes);

  g_assert_cmpuint (cluster->n_nodes, <, G_N_ELEMENTS (cluster->nodes));
  cluster->nodes[cluster->n_nodes] = start_node (cluster, name);
  cluster->n_nodes++;
}

static void
cluster_stop (Cluster *cluster)
{
  /* The later nodes first: the first one's database is the harness's. */
  for (guint i = cluster->n_nodes; i > 0; i--)
    g_clear_pointer (&cluster->nodes[i - 1], natter_test_server_free);
  g_clear_pointer (&cluster->redis, natter_test_redis_free);
  g_clear_pointer (&cluster->bus, g_free);
}

/* A message sent on one node reaches the connections on another: a room,
 * a direct conversation both nodes know, and the first message between
 * two users, whose conversation the sending node made in the send. */
static void
test_across_nodes (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) carol = NULL;
  g_autoptr(NatterTestClient) dave = NULL;
  g_autoptr(NatterTestClient) bob_on_a = NULL;
  gint64 id;

  if (!cluster_start (&cluster, 1))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[0], "bob");
  carol = natter_test_client_new_user (cluster.nodes[0], "carol");
  dave = natter_test_client_new_user (cluster.nodes[0], "dave");
  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  util_make_contacts (alice, bob);
  g_clear_pointer (&bob, natter_test_client_free);
  g_clear_pointer (&dave, natter_test_client_free);
  cluster_add_node (&cluster);
  bob = natter_test_client_new_login (cluster.nodes[1], "bob");
  dave = natter_test_client_new_login (cluster.nodes[1], "dave");
  bob_on_a = natter_test_client_new_login (cluster.nodes[0], "bob");

  /* B to A, in a room. */
  id = util_send (bob, "#r", "from node b", "r1");
  {
    g_autoptr(JsonObject) event = util_wait_message (alice, id);
    natter_assert_str (event, "message.conversation", "#r");
    natter_assert_str (event, "message.from", "bob");
    natter_assert_str (event, "message.body", "from node b");
  }
  /* The sender's other connection, on the other node, hears it too. */
  {
    g_autoptr(JsonObject) event = util_wait_message (bob_on_a, id);
    natter_assert_str (event, "message.conversation", "#r");
  }

  /* A to B, direct: each sees the conversation by the other's name. */
  id = util_send (alice, "@bob", "to node b", "d1");
  {
    g_autoptr(JsonObject) event = util_wait_message (bob, id);
    natter_assert_str (event, "message.conversation", "@alice");
    natter_assert_str (event, "message.body", "to node b");
  }

  /* The first message between carol (A) and dave (B): B never heard of
   * the conversation. */
  id = util_send (carol, "@dave", "first words", "c1");
  {
    g_autoptr(JsonObject) event = util_wait_message (dave, id);
    natter_assert_str (event, "message.conversation", "@carol");
  }
  /* And dave answers through B into it. */
  id = util_send (dave, "@carol", "hello carol", "c2");
  {
    g_autoptr(JsonObject) event = util_wait_message (carol, id);
    natter_assert_str (event, "message.conversation", "@dave");
  }

  /* Nothing came twice. */
  natter_test_client_expect_no_frame_of_type (alice, "message");
  natter_test_client_expect_no_frame_of_type (bob, "message");
  natter_test_client_expect_no_frame_of_type (dave, "message");
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  g_clear_pointer (&bob_on_a, natter_test_client_free);
  g_clear_pointer (&carol, natter_test_client_free);
  g_clear_pointer (&dave, natter_test_client_free);
  cluster_stop (&cluster);
}

/* --- many senders on every node --- */

typedef struct {
  NatterTestClient *client;
  guint             number;
  guint             n_messages;
  const char       *prefix;   /* of its client_msg_ids */
  GArray           *acked;    /* gint64 */
} Sender;

/* Pipelines its sends into both rooms in turn, then reads every answer.
 * Its own thread: a client's waits iterate only its own context. */
static gpointer
sender_thread (gpointer data)
{
  Sender *s = data;
  GString *batch = g_string_new (NULL);

  for (guint i = 0; i < s->n_messages; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"%s\","
                            "\"body\":\"s%u m%u\",\"client_msg_id\":\"%s%u-%u\"}\n",
                            i, rooms[i % G_N_ELEMENTS (rooms)], s->number, i, s->prefix, s->number, i);
  natter_test_client_send_raw (s->client, batch->str, batch->len);
  g_string_free (batch, TRUE);
  for (guint i = 0; i < s->n_messages; i++)
    {
      g_autoptr(JsonObject) reply = natter_test_client_wait_re (s->client, i);
      gint64 id;

      natter_assert_ok (reply);
      id = natter_test_get_int (reply, "message.id");
      g_array_append_val (s->acked, id);
    }
  return NULL;
}

/* Reads "message" events on @c until it has every id of @expected
 * (gint64 set); asserts that ids only increase on the connection (the
 * node's order) and that none comes twice. */
static void
listen_for (NatterTestClient *c,
            GHashTable       *expected)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint found = 0;
  gint64 last = 0;

  while (found < g_hash_table_size (expected))
    {
      g_autoptr(JsonObject) event = natter_test_client_wait_type (c, "message");
      gint64 id = natter_test_get_int (event, "message.id");

      if (id <= last)
        g_error ("%s: message %" G_GINT64_FORMAT " after %" G_GINT64_FORMAT,
                 natter_test_client_who (c), id, last);
      last = id;
      g_assert_true (g_hash_table_add (seen, g_memdup2 (&id, sizeof id)));
      if (g_hash_table_contains (expected, &id))
        found++;
    }
}

/* Senders on both nodes into the same rooms at once; a listener on each
 * node gets every message, once, in id order. */
static void
test_order_across_nodes (void)
{
  Cluster cluster = { 0 };
  NatterTestClient *listeners[2];
  Sender senders[2 * N_PER_NODE];
  GThread *threads[2 * N_PER_NODE];
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  if (!cluster_start (&cluster, 1))
    return;
  {
    g_autoptr(NatterTestClient) owner = natter_test_client_new_user (cluster.nodes[0], "owner");
    for (guint r = 0; r < G_N_ELEMENTS (rooms); r++)
      util_room_create (owner, rooms[r]);
    for (guint i = 0; i < 2 * N_PER_NODE + 2; i++)
      {
        g_autofree char *name = g_strdup_printf ("user%u", i);
        g_autoptr(NatterTestClient) c = natter_test_client_new_user (cluster.nodes[0], name);
        for (guint r = 0; r < G_N_ELEMENTS (rooms); r++)
          util_room_join (c, rooms[r]);
      }
  }
  cluster_add_node (&cluster);

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("user%u", 2 * N_PER_NODE + i);
      listeners[i] = natter_test_client_new_login (cluster.nodes[i], name);
      natter_test_client_set_timeout (listeners[i], 6 * natter_test_deadline_ms ());
    }
  for (guint i = 0; i < 2 * N_PER_NODE; i++)
    {
      g_autofree char *name = g_strdup_printf ("user%u", i);

      senders[i].client = natter_test_client_new_login (cluster.nodes[i % 2], name);
      natter_test_client_set_timeout (senders[i].client, 6 * natter_test_deadline_ms ());
      senders[i].number = i;
      senders[i].n_messages = N_MESSAGES;
      senders[i].prefix = "o";
      senders[i].acked = g_array_new (FALSE, FALSE, sizeof (gint64));
    }
  for (guint i = 0; i < 2 * N_PER_NODE; i++)
    threads[i] = g_thread_new ("sender", sender_thread, &senders[i]);
  for (guint i = 0; i < 2 * N_PER_NODE; i++)
    {
      g_thread_join (threads[i]);
      for (guint j = 0; j < senders[i].acked->len; j++)
        g_hash_table_add (expected, g_memdup2 (&g_array_index (senders[i].acked, gint64, j), sizeof (gint64)));
      g_array_unref (senders[i].acked);
      natter_test_client_free (senders[i].client);
    }
  g_assert_cmpuint (g_hash_table_size (expected), ==, 2 * N_PER_NODE * N_MESSAGES);
  for (guint i = 0; i < 2; i++)
    {
      listen_for (listeners[i], expected);
      natter_test_client_expect_no_frame_of_type (listeners[i], "message");
      natter_test_client_free (listeners[i]);
    }
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  cluster_stop (&cluster);
}

/* Redis goes away and comes back: nothing is lost on the way (the nodes
 * read what they missed from the database) and delivery goes on. */
static void
test_bus_restart (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  if (!cluster_start (&cluster, 1))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[0], "bob");
  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_add_node (&cluster);
  bob = natter_test_client_new_login (cluster.nodes[1], "bob");

  /* No bus: the messages still reach alice on the other node. */
  natter_test_redis_stop (cluster.redis);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("down-%u", i);
      gint64 id = util_send (bob, "#r", "while the bus is down", cmid);
      g_hash_table_add (expected, g_memdup2 (&id, sizeof id));
    }
  listen_for (alice, expected);
  g_hash_table_remove_all (expected);

  /* The bus back: on and on. */
  natter_test_redis_start_again (cluster.redis);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("up-%u", i);
      gint64 id = util_send (bob, "#r", "the bus is back", cmid);
      g_hash_table_add (expected, g_memdup2 (&id, sizeof id));
    }
  listen_for (alice, expected);
  natter_test_client_expect_no_frame_of_type (alice, "message");
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_stop (&cluster);
}

/* Three nodes; senders on all of them; node B killed (SIGKILL) while its
 * sender's messages are in flight. That sender connects to node C and
 * resends every message it has no answer for, with the same
 * client_msg_id, as an outbox does. Every message is then stored once,
 * acknowledged, and seen once by a listener on node A and by a sync. */
static void
test_node_killed (void)
{
  Cluster cluster = { 0 };
  Sender senders[2];
  GThread *threads[2];
  g_autoptr(NatterTestClient) listener = NULL;
  g_autoptr(NatterTestClient) victim = NULL;
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) by_cmid = NULL;
  GString *batch = g_string_new (NULL);

  if (!cluster_start (&cluster, 1))
    return;
  {
    g_autoptr(NatterTestClient) owner = natter_test_client_new_user (cluster.nodes[0], "owner");
    for (guint r = 0; r < G_N_ELEMENTS (rooms); r++)
      util_room_create (owner, rooms[r]);
    for (guint i = 0; i < 4; i++)
      {
        g_autofree char *name = g_strdup_printf ("user%u", i);
        g_autoptr(NatterTestClient) c = natter_test_client_new_user (cluster.nodes[0], name);
        for (guint r = 0; r < G_N_ELEMENTS (rooms); r++)
          util_room_join (c, rooms[r]);
      }
  }
  cluster_add_node (&cluster);
  cluster_add_node (&cluster);
  listener = natter_test_client_new_login (cluster.nodes[0], "user3");
  natter_test_client_set_timeout (listener, 6 * natter_test_deadline_ms ());

  /* Senders on A and C keep going through the kill. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("user%u", i);

      senders[i].client = natter_test_client_new_login (cluster.nodes[i == 0 ? 0 : 2], name);
      natter_test_client_set_timeout (senders[i].client, 6 * natter_test_deadline_ms ());
      senders[i].number = i;
      senders[i].n_messages = N_MESSAGES;
      senders[i].prefix = "k";
      senders[i].acked = g_array_new (FALSE, FALSE, sizeof (gint64));
    }
  victim = natter_test_client_new_login (cluster.nodes[1], "user2");
  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("sender", sender_thread, &senders[i]);

  /* The victim's messages go out; the first answer says some are in;
   * then its node dies with the rest in flight. */
  for (guint i = 0; i < N_MESSAGES; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"#one\","
                            "\"body\":\"v m%u\",\"client_msg_id\":\"v-%u\"}\n", i, i, i);
  natter_test_client_send_raw (victim, batch->str, batch->len);
  {
    g_autoptr(JsonObject) first = natter_test_client_wait_re (victim, 0);
    natter_assert_ok (first);
  }
  natter_test_server_kill (cluster.nodes[1]);
  g_clear_pointer (&victim, natter_test_client_free);

  /* Its outbox, resent through node C: every one answered, the ones that
   * were in answered with the original. */
  victim = natter_test_client_new_login (cluster.nodes[2], "user2");
  natter_test_client_set_timeout (victim, 6 * natter_test_deadline_ms ());
  natter_test_client_send_raw (victim, batch->str, batch->len);
  g_string_free (batch, TRUE);
  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autoptr(JsonObject) reply = natter_test_client_wait_re (victim, i);
      gint64 id;

      natter_assert_ok (reply);
      id = natter_test_get_int (reply, "message.id");
      g_hash_table_add (expected, g_memdup2 (&id, sizeof id));
    }
  g_assert_cmpuint (g_hash_table_size (expected), ==, N_MESSAGES);

  for (guint i = 0; i < 2; i++)
    {
      g_thread_join (threads[i]);
      for (guint j = 0; j < senders[i].acked->len; j++)
        g_hash_table_add (expected, g_memdup2 (&g_array_index (senders[i].acked, gint64, j), sizeof (gint64)));
      g_array_unref (senders[i].acked);
      natter_test_client_free (senders[i].client);
    }
  g_assert_cmpuint (g_hash_table_size (expected), ==, 3 * N_MESSAGES);

  /* Live on node A: each once, in order. */
  listen_for (listener, expected);
  /* And in the database: each client_msg_id once (util_sync_all asserts
   * no id twice and increasing ids). */
  by_cmid = util_sync_all (listener);
  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("v-%u", i);
      g_assert_true (g_hash_table_contains (by_cmid, cmid));
    }
  natter_test_server_assert_alive (cluster.nodes[0]);
  natter_test_server_assert_alive (cluster.nodes[2]);
  g_clear_pointer (&listener, natter_test_client_free);
  g_clear_pointer (&victim, natter_test_client_free);
  cluster_stop (&cluster);
}

/* Presence spans the nodes: a user connected on two nodes is online until
 * the last connection goes, wherever it was; a status text set on one
 * node shows on the other; a killed node's users go offline, with
 * last_seen, within the promised 15 s. */
static void
test_presence_across_nodes (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) bob_on_a = NULL;
  gint64 killed_at, last_seen;

  if (!cluster_start (&cluster, 1))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[0], "bob");
  util_make_contacts (alice, bob);
  g_clear_pointer (&bob, natter_test_client_free);
  {
    g_autoptr(JsonObject) gone = util_wait_presence (alice, "bob");
    natter_assert_str (gone, "user.presence", "offline");
  }
  cluster_add_node (&cluster);

  /* Bob on B: alice, on A, sees him come online. */
  bob = natter_test_client_new_login (cluster.nodes[1], "bob");
  {
    g_autoptr(JsonObject) online = util_wait_presence (alice, "bob");
    natter_assert_str (online, "user.presence", "online");
  }
  /* Busy on B, with a status: told on A. */
  json_object_unref (natter_test_client_request_ok (bob, "{\"type\":\"set_presence\",\"presence\":\"busy\","
                                 "\"status_text\":\"in a meeting\"}"));
  {
    g_autoptr(JsonObject) busy = util_wait_presence (alice, "bob");
    natter_assert_str (busy, "user.presence", "busy");
    natter_assert_str (busy, "user.status_text", "in a meeting");
  }
  /* A second connection of bob's, on A: online beats busy. */
  bob_on_a = natter_test_client_new_login (cluster.nodes[0], "bob");
  {
    g_autoptr(JsonObject) online = util_wait_presence (alice, "bob");
    natter_assert_str (online, "user.presence", "online");
  }
  /* The one on A goes: busy again (B's), not offline. */
  g_clear_pointer (&bob_on_a, natter_test_client_free);
  {
    g_autoptr(JsonObject) busy = util_wait_presence (alice, "bob");
    natter_assert_str (busy, "user.presence", "busy");
  }

  /* Node B dies with bob on it: offline on A within 15 s, last_seen
   * then. */
  natter_test_client_set_timeout (alice, 20000);
  killed_at = util_now_ms ();
  natter_test_server_kill (cluster.nodes[1]);
  {
    g_autoptr(JsonObject) offline = util_wait_presence (alice, "bob");
    gint64 noticed_at = util_now_ms ();

    natter_assert_str (offline, "user.presence", "offline");
    natter_test_note ("a killed node's user went offline after %" G_GINT64_FORMAT " ms",
                      noticed_at - killed_at);
    g_assert_cmpint (noticed_at - killed_at, <=, 15000);
    last_seen = natter_test_get_int (offline, "user.last_seen");
    g_assert_cmpint (last_seen, >=, killed_at - NATTERD_PRESENCE_HEARTBEAT_SLACK_MS);
    g_assert_cmpint (last_seen, <=, noticed_at);
  }
  natter_test_server_assert_alive (cluster.nodes[0]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_stop (&cluster);
}

/* Typing notices and read markers cross the nodes too: a read marker
 * reaches the reader's other devices and the others in the room. */
static void
test_typing_and_read_across_nodes (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) alice_on_b = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  gint64 id;

  if (!cluster_start (&cluster, 1))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[0], "bob");
  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  util_make_contacts (alice, bob);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_add_node (&cluster);
  bob = natter_test_client_new_login (cluster.nodes[1], "bob");
  alice_on_b = natter_test_client_new_login (cluster.nodes[1], "alice");

  json_object_unref (natter_test_client_request_ok (bob, "{\"type\":\"typing\",\"to\":\"#r\",\"state\":\"active\"}"));
  {
    g_autoptr(JsonObject) typing = natter_test_client_wait_type (alice, "typing");
    natter_assert_str (typing, "conversation", "#r");
    natter_assert_str (typing, "user", "bob");
    natter_assert_str (typing, "state", "active");
  }
  json_object_unref (natter_test_client_request_ok (bob, "{\"type\":\"typing\",\"to\":\"@alice\",\"state\":\"paused\"}"));
  {
    g_autoptr(JsonObject) typing = natter_test_client_wait_type (alice, "typing");
    natter_assert_str (typing, "conversation", "@bob");
    natter_assert_str (typing, "state", "paused");
  }

  id = util_send (bob, "#r", "read me", "m1");
  {
    g_autoptr(JsonObject) event = util_wait_message (alice, id);
  }
  json_object_unref (natter_test_client_request_ok (alice, "{\"type\":\"read\",\"conversation\":\"#r\",\"up_to\":%"
                               G_GINT64_FORMAT "}", id));
  /* Alice's other device, on B. */
  {
    g_autoptr(JsonObject) read = natter_test_client_wait_type (alice_on_b, "read");
    natter_assert_str (read, "conversation", "#r");
    natter_assert_str (read, "user", "alice");
    natter_assert_int (read, "up_to", id);
  }
  /* And bob, on B, in the room. */
  {
    g_autoptr(JsonObject) read = natter_test_client_wait_type (bob, "read");
    natter_assert_str (read, "user", "alice");
    natter_assert_int (read, "up_to", id);
  }
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&alice_on_b, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_stop (&cluster);
}

/* A node stopped with SIGTERM hands its clients off cleanly: it answers
 * what it committed before it closes, tells the other nodes its users
 * are gone from it (offline at once, not after the dead-node wait), and a
 * client that resends its unanswered sends through another node stores
 * nothing twice. A node started later delivers what commits after it
 * started, and its clients sync the rest. */
static void
test_node_stopped (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) carol = NULL;
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) answered = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) by_cmid = NULL;
  GString *batch = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  JsonObject *frame;
  gint64 stopped_at;

  if (!cluster_start (&cluster, 1))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[0], "bob");
  carol = natter_test_client_new_user (cluster.nodes[0], "carol");
  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  util_room_join (carol, "#r");
  util_make_contacts (alice, bob);
  g_clear_pointer (&bob, natter_test_client_free);
  g_clear_pointer (&carol, natter_test_client_free);
  {
    g_autoptr(JsonObject) gone = util_wait_presence (alice, "bob");
    natter_assert_str (gone, "user.presence", "offline");
  }
  /* Sent before node B exists: carol, on B, finds it by syncing. */
  util_send (alice, "#r", "before node b", "early");
  cluster_add_node (&cluster);
  bob = natter_test_client_new_login (cluster.nodes[1], "bob");
  carol = natter_test_client_new_login (cluster.nodes[1], "carol");
  {
    g_autoptr(JsonObject) online = util_wait_presence (alice, "bob");
    natter_assert_str (online, "user.presence", "online");
  }
  by_cmid = util_sync_all (carol);
  g_assert_true (g_hash_table_contains (by_cmid, "early"));
  g_clear_pointer (&by_cmid, g_hash_table_unref);

  /* Bob's sends in flight as B stops. */
  for (guint i = 0; i < N_MESSAGES; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"#r\","
                            "\"body\":\"b m%u\",\"client_msg_id\":\"b-%u\"}\n", i, i, i);
  natter_test_client_send_raw (bob, batch->str, batch->len);
  {
    g_autoptr(JsonObject) first = natter_test_client_wait_re (bob, 0);
    natter_assert_ok (first);
    g_hash_table_add (answered, GINT_TO_POINTER (1));
  }
  stopped_at = util_now_ms ();
  natter_test_server_stop (cluster.nodes[1]);
  /* Everything B answered arrives before its close, and each is ok. */
  while ((frame = natter_test_client_try_next (bob, natter_test_deadline_ms (), &error)) != NULL)
    {
      if (json_object_has_member (frame, "re"))
        {
          natter_assert_ok (frame);
          g_hash_table_add (answered, GINT_TO_POINTER (natter_test_get_int (frame, "re") + 1));
        }
      json_object_unref (frame);
    }
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  natter_test_note ("node B answered %u of %u sends before it stopped",
                    g_hash_table_size (answered), N_MESSAGES);

  /* Offline on A at once: B said it was leaving. */
  {
    g_autoptr(JsonObject) offline = util_wait_presence (alice, "bob");
    natter_assert_str (offline, "user.presence", "offline");
    g_assert_cmpint (util_now_ms () - stopped_at, <, NATTERD_CLUSTER_PRESENCE_DEAD_MS_IN_TEST);
  }

  /* Bob's outbox, all of it again, through A. */
  g_clear_pointer (&bob, natter_test_client_free);
  bob = natter_test_client_new_login (cluster.nodes[0], "bob");
  natter_test_client_set_timeout (bob, 6 * natter_test_deadline_ms ());
  natter_test_client_send_raw (bob, batch->str, batch->len);
  g_string_free (batch, TRUE);
  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autoptr(JsonObject) reply = natter_test_client_wait_re (bob, i);
      gint64 id;

      natter_assert_ok (reply);
      id = natter_test_get_int (reply, "message.id");
      g_hash_table_add (expected, g_memdup2 (&id, sizeof id));
    }
  g_assert_cmpuint (g_hash_table_size (expected), ==, N_MESSAGES);
  /* Alice saw each once, in order. */
  listen_for (alice, expected);
  natter_test_client_expect_no_frame_of_type (alice, "message");
  natter_test_server_assert_alive (cluster.nodes[0]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  g_clear_pointer (&carol, natter_test_client_free);
  cluster_stop (&cluster);
}

/* A request that names a user its node has not heard of waits for a read
 * of the directory, and the connection's next frames wait for it: on one
 * node they would be handled after it. bob registers on B while the bus
 * is silent, so A is not told; alice, on A, pipelines a send to him and a
 * logout: the send goes out as alice, it is not refused as logged out. */
static void
test_miss_holds_next_frames (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  static const char batch[] =
    "{\"type\":\"send\",\"id\":1,\"to\":\"@bob\",\"body\":\"hi\",\"client_msg_id\":\"m1\"}\n"
    "{\"type\":\"logout\",\"id\":2}\n"
    "{\"type\":\"history\",\"id\":3,\"conversation\":\"@bob\"}\n";

  if (!cluster_start (&cluster, 2))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  natter_test_redis_pause (cluster.redis);
  /* Answered once B's wait for A's confirmation times out. */
  bob = natter_test_client_new_user (cluster.nodes[1], "bob");
  natter_test_client_send_raw (alice, batch, strlen (batch));
  {
    g_autoptr(JsonObject) r1 = natter_test_client_wait_re (alice, 1);
    g_autoptr(JsonObject) r2 = natter_test_client_wait_re (alice, 2);
    g_autoptr(JsonObject) r3 = natter_test_client_wait_re (alice, 3);

    natter_assert_ok (r1);
    natter_assert_str (r1, "message.conversation", "@bob");
    natter_assert_str (r1, "message.from", "alice");
    natter_assert_ok (r2);
    natter_assert_error (r3, "not_authenticated");
  }
  natter_test_redis_resume (cluster.redis);
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_stop (&cluster);
}

/* A change of the directory is answered once the other nodes have read
 * it: a client told "joined" on one node finds the member in the room's
 * list on the other at once, and a contact request made on one node is in
 * the list on the other. Accounts are made on both nodes. */
static void
test_directory_read_your_writes (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;

  if (!cluster_start (&cluster, 2))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[1], "bob");
  /* Each node has heard of the other (presence crosses the bus) before
   * the changes start. */
  util_make_contacts (alice, bob);
  natter_test_client_clear_queue (alice);
  natter_test_client_clear_queue (bob);

  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *room = g_strdup_printf ("#room%u", i);
      g_autoptr(JsonObject) members = NULL;

      util_room_create (alice, room);
      util_room_join (bob, room);
      members = natter_test_client_request_ok (alice, "{\"type\":\"room_members\",\"room\":\"%s\"}", room);
      util_assert_usernames (natter_test_get_array (members, "members"), "alice", "bob", NULL);
    }
  {
    g_autoptr(NatterTestClient) carol = natter_test_client_new_user (cluster.nodes[0], "carol");
    g_autoptr(JsonObject) contacts = NULL;

    json_object_unref (natter_test_client_request_ok (bob, "{\"type\":\"contact_request\",\"username\":\"carol\"}"));
    contacts = natter_test_client_request_ok (carol, "{\"type\":\"contacts\"}");
    util_assert_strings (natter_test_get_array (contacts, "incoming"), "bob", NULL);
  }
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_stop (&cluster);
}

/* The limits per user and per address count the uses on every node: a
 * client that spreads its sends or registrations over two nodes gets one
 * allowance, not two (within the uses in flight:
 * natterd-cluster-limits.h). */
static void
test_limits_across_nodes (void)
{
  Cluster cluster = { "[limits]\nframes_per_second=100000\nframe_burst=100000\n"
                      "messages_per_minute_per_user=10\nregistrations_per_hour_per_address=3\n"
                      "failed_logins_per_minute_per_user=3\n" };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) alice_on_b = NULL;
  guint ok_on_b = 0, attempt;

  /* The windows slide (the minute before counts for what the last minute
   * still covers of it): a minute's boundary in the middle of the test
   * changes nothing. */

  if (!cluster_start (&cluster, 2))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  alice_on_b = natter_test_client_new_login (cluster.nodes[1], "alice");
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("a-%u", i);
      util_send (alice, "@alice", "a note", cmid);
    }
  /* Node B alone would take 10 more. */
  for (guint i = 0; i < 12; i++)
    {
      g_autoptr(JsonObject) reply = natter_test_client_requestf (alice_on_b,
          "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"b\",\"client_msg_id\":\"b-%u\"}", i);

      if (g_strcmp0 (natter_test_get_str (reply, "type"), "ok") != 0)
        {
          natter_assert_error (reply, "rate_limited");
          break;
        }
      ok_on_b++;
    }
  natter_test_note ("node B took %u sends after node A's 6 (limit 10 a minute)", ok_on_b);
  g_assert_cmpuint (ok_on_b, >=, 4);
  g_assert_cmpuint (6 + ok_on_b, <=, 11);

  /* Registrations from one address: alice's and two more on A, the limit;
   * B takes one more (its first use of the key, before it has heard the
   * total: the overshoot natterd-cluster-limits.h allows), not its own
   * three. (An hour's window: a boundary in the middle of the test is
   * unlikely. A registration is counted before its password is hashed,
   * so the count is in before the answer.) */
  {
    guint registered_on_b = 0;

    for (guint i = 0; i < 2; i++)
      {
        g_autofree char *name = g_strdup_printf ("early%u", i);
        g_autoptr(NatterTestClient) c = natter_test_client_new_user (cluster.nodes[0], name);
      }
    for (attempt = 1; attempt <= 3; attempt++)
      {
        g_autoptr(NatterTestClient) c = natter_test_client_new (cluster.nodes[1]);
        g_autoptr(JsonObject) reply = natter_test_client_requestf (c,
            "{\"type\":\"register\",\"username\":\"late%u\",\"password\":\"a good password\"}",
            attempt);

        if (g_strcmp0 (natter_test_get_str (reply, "type"), "ok") != 0)
          {
            natter_assert_error (reply, "rate_limited");
            break;
          }
        registered_on_b++;
      }
    natter_test_note ("node B took %u registrations after node A's 2 (limit 3 an hour)", registered_on_b);
    g_assert_cmpuint (registered_on_b, ==, 1);
  }

  /* Password guesses: two on A; on B the first goes (its first use of
   * the key), and its failure is answered only once counted in Redis, so
   * the second finds the limit, not B's own three. */
  {
    g_autoptr(NatterTestClient) x = natter_test_client_new (cluster.nodes[0]);
    g_autoptr(NatterTestClient) y = natter_test_client_new (cluster.nodes[1]);

    for (guint i = 0; i < 2; i++)
      json_object_unref (natter_test_client_request_error (x, "auth_failed",
          "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"wrong password\"}"));
    json_object_unref (natter_test_client_request_error (y, "auth_failed",
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"wrong password\"}"));
    json_object_unref (natter_test_client_request_error (y, "rate_limited",
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"wrong password\"}"));
  }
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&alice_on_b, natter_test_client_free);
  cluster_stop (&cluster);
}

/* PUBLISH @channel @data on the cluster's Redis, as a node would (or as a
 * node of another cluster sharing the Redis would). */
static void
redis_publish (Cluster      *cluster,
               const char   *channel,
               const guint8 *data,
               gsize         len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (natter_test_redis_get_socket (cluster->redis));
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GByteArray) command = g_byte_array_new ();
  g_autofree char *head = g_strdup_printf ("*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%zu\r\n",
                                           strlen (channel), channel, len);
  char reply[64] = "";
  gsize got = 0;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  g_byte_array_append (command, (const guint8 *) head, strlen (head));
  g_byte_array_append (command, data, len);
  g_byte_array_append (command, (const guint8 *) "\r\n", 2);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             command->data, command->len, NULL, NULL, &error);
  g_assert_no_error (error);
  /* ":N\r\n", N the subscribers that got it. */
  while (got < sizeof reply - 1 && strstr (reply, "\r\n") == NULL)
    {
      gssize n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                      reply + got, sizeof reply - 1 - got, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      got += n;
      reply[got] = '\0';
    }
  g_assert_true (reply[0] == ':');
}

/* A publish naming ids no node committed (a corrupt one, or another
 * cluster's on a shared Redis) is dropped once the database says so, and
 * delivery goes on: it does not move a node past ids still to come. */
static void
test_bogus_publish (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GByteArray) bogus = g_byte_array_new ();
  /* A message's record (natterd-cluster-records.h): peer, id, conversation,
   * sender, ts, reply_to, reply_from, edited_ts. */
  const guint64 fields[] = { 0, G_GUINT64_CONSTANT (1) << 62, 1, 1, 1, 0, 0, 0 };
  guint64 instance = 42;
  gint64 id;

  if (!cluster_start (&cluster, 2))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[1], "bob");
  util_room_create (alice, "#r");
  util_room_join (bob, "#r");

  g_byte_array_append (bogus, (const guint8 *) "NTM2", 4);
  g_byte_array_append (bogus, (const guint8 *) &instance, 8);
  g_byte_array_append (bogus, (const guint8 *) "M", 1);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      guint64 le = GUINT64_TO_LE (fields[i]);
      g_byte_array_append (bogus, (const guint8 *) &le, 8);
    }
  /* flags, then the lengths: body 3, the rest 0; then the body. */
  g_byte_array_append (bogus, (const guint8 *) "\0\3\0\0\0\0\0\0\0\0\0\0\0\0\0abc", 18);
  redis_publish (&cluster, "natter:messages", bogus->data, bogus->len);

  /* Both ways, after it. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("after-%u", i);

      id = util_send (bob, "#r", "after the bogus publish", cmid);
      {
        g_autoptr(JsonObject) event = util_wait_message (alice, id);
      }
      id = util_send (alice, "#r", "and back", cmid);
      {
        g_autoptr(JsonObject) event = util_wait_message (bob, id);
      }
    }
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_stop (&cluster);
}

/* The first message between two users, sent through one node while the
 * bus is down, reaches the other on the other node live: that node reads
 * it from the database (without the peer a publish would carry), finds
 * it names a conversation it does not know, reads the directory and then
 * delivers it, holding what came after. */
static void
test_new_direct_without_bus (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) carol = NULL;
  g_autoptr(NatterTestClient) dave = NULL;
  gint64 id;

  if (!cluster_start (&cluster, 2))
    return;
  carol = natter_test_client_new_user (cluster.nodes[0], "carol");
  dave = natter_test_client_new_user (cluster.nodes[1], "dave");
  natter_test_redis_stop (cluster.redis);
  id = util_send (carol, "@dave", "first words, no bus", "c1");
  {
    g_autoptr(JsonObject) event = util_wait_message (dave, id);
    natter_assert_str (event, "message.conversation", "@carol");
  }
  id = util_send (dave, "@carol", "and back", "d1");
  {
    g_autoptr(JsonObject) event = util_wait_message (carol, id);
    natter_assert_str (event, "message.conversation", "@dave");
  }
  natter_test_redis_start_again (cluster.redis);
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&carol, natter_test_client_free);
  g_clear_pointer (&dave, natter_test_client_free);
  cluster_stop (&cluster);
}

/* alice's token in use on node B (a connection logged in with it, the
 * token in B's cache), and a logout with it on node A while the bus is
 * down: B is not told over the bus. */
static void
revoke_while_bus_down (Cluster           *cluster,
                       NatterTestClient **on_b,
                       char             **token)
{
  g_autoptr(NatterTestClient) on_a = natter_test_client_new_user (cluster->nodes[0], "alice");

  *token = g_strdup (natter_test_client_get_token (on_a));
  *on_b = natter_test_client_new (cluster->nodes[1]);
  natter_test_client_login_token (*on_b, *token);
  natter_test_redis_stop (cluster->redis);
  natter_test_client_logout (on_a);
}

/* B learns of it from the database all the same: it closes its
 * connection that logged in with the token, and refuses the token. */
static void
assert_revoked_on_b (Cluster          *cluster,
                     NatterTestClient *on_b,
                     const char       *token)
{
  g_autofree char *tq = natter_test_json_quote (token);
  g_autoptr(NatterTestClient) again = NULL;

  natter_test_client_assert_closed (on_b);
  again = natter_test_client_new (cluster->nodes[1]);
  json_object_unref (natter_test_client_request_error (again, "auth_failed",
                                                       "{\"type\":\"login\",\"token\":%s}", tq));
}

/* A logout while Redis is down, Redis then back: the other node reads
 * the revocation when the bus comes back (its refresh of the directory),
 * not 30 s later (directory_refresh_ms) nor never. */
static void
test_revoked_while_bus_down (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) on_b = NULL;
  g_autofree char *token = NULL;

  if (!cluster_start (&cluster, 2))
    return;
  revoke_while_bus_down (&cluster, &on_b, &token);
  natter_test_redis_start_again (cluster.redis);
  assert_revoked_on_b (&cluster, on_b, token);
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&on_b, natter_test_client_free);
  cluster_stop (&cluster);
}

/* The same with Redis gone for good: the periodic refresh (made short
 * here) reads the revocation, so nothing rests on the bus. */
static void
test_revoked_bus_stays_down (void)
{
  Cluster cluster = { UTIL_RELAXED_LIMITS "[cluster]\ndirectory_refresh_ms=200\n" };
  g_autoptr(NatterTestClient) on_b = NULL;
  g_autofree char *token = NULL;

  if (!cluster_start (&cluster, 2))
    return;
  revoke_while_bus_down (&cluster, &on_b, &token);
  assert_revoked_on_b (&cluster, on_b, token);
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&on_b, natter_test_client_free);
  cluster_stop (&cluster);
}

/* A login on @node with message actions on. */
static NatterTestClient *
actions_login (NatterTestServer *node,
               const char       *username)
{
  NatterTestClient *c = natter_test_client_new (node);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\",\"features\":[\"message_actions\"]}",
      username, NATTER_TEST_PASSWORD);

  return c;
}

/* The next message or message_changed event of @c (skipping other
 * frames): its id (a message's, or a change's "change"). */
static gint64
next_message_or_change (NatterTestClient *c,
                        JsonObject      **out_event)
{
  for (;;)
    {
      g_autoptr(JsonObject) f = natter_test_client_next (c);
      const char *type = json_object_get_string_member_with_default (f, "type", "");

      if (json_object_has_member (f, "re"))
        continue;
      if (g_str_equal (type, "message"))
        {
          *out_event = g_steal_pointer (&f);
          return natter_test_get_int (*out_event, "message.id");
        }
      if (g_str_equal (type, "message_changed"))
        {
          *out_event = g_steal_pointer (&f);
          return natter_test_get_int (*out_event, "change");
        }
    }
}

/* Message actions across nodes with the bus down: edits, reactions and a
 * delete made on node A, and messages between them, reach bob on node B
 * from the database (the publishes were dropped), in id order, with the
 * message as it is after each change; the reply's quote and mentions of
 * a message read that way are there too. Once the bus is back, a change
 * goes over it again. */
static void
test_actions_bus_down (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  gint64 first, c1, c2, second, c3, last = 0;
  gint64 expected[4];

  if (!cluster_start (&cluster, 2))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  bob = natter_test_client_new_user (cluster.nodes[0], "bob");
  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  alice = actions_login (cluster.nodes[0], "alice");
  bob = actions_login (cluster.nodes[1], "bob");
  first = util_send (alice, "#r", "before the outage", "m1");
  {
    g_autoptr(JsonObject) event = util_wait_message (bob, first);
  }

  natter_test_redis_stop (cluster.redis);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"during the outage\"}", first);
    c1 = natter_test_get_int (r, "change");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"👍\",\"on\":true}", first);
    c2 = natter_test_get_int (r, "change");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"@bob see above\",\"client_msg_id\":\"m2\","
        "\"reply_to\":%" G_GINT64_FORMAT "}", first);
    second = natter_test_get_int (r, "message.id");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", second);
    c3 = natter_test_get_int (r, "change");
  }
  natter_test_redis_start_again (cluster.redis);

  expected[0] = c1;
  expected[1] = c2;
  expected[2] = second;
  expected[3] = c3;
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(JsonObject) event = NULL;
      gint64 id = next_message_or_change (bob, &event);

      /* Nothing else from alice came between (ids of one writer). */
      g_assert_cmpint (id, >, last);
      g_assert_cmpint (id, ==, expected[i]);
      last = id;
      if (id == c1)
        {
          natter_assert_str (event, "kind", "edit");
          natter_assert_str (event, "message.body", "during the outage");
        }
      else if (id == c2)
        {
          natter_assert_str (event, "kind", "reaction");
          natter_assert_str (event, "emoji", "👍");
          natter_assert_str (event, "message.reactions.0.users.0", "alice");
        }
      else if (id == second)
        {
          /* Read from the database by node B, sent before the delete:
           * as it is now. */
          g_assert_true (natter_test_get_bool (event, "message.deleted"));
        }
      else
        {
          natter_assert_str (event, "kind", "delete");
          natter_assert_str (event, "by", "alice");
          g_assert_true (natter_test_get_bool (event, "message.deleted"));
        }
    }

  /* The bus back: a reply with its quote and a mention, and a change,
   * reach bob live (over the bus or, until both nodes are on it again,
   * from the database: the same frames either way). */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"@bob back\",\"client_msg_id\":\"m3\","
        "\"reply_to\":%" G_GINT64_FORMAT "}", first);
    gint64 third = natter_test_get_int (r, "message.id");
    g_autoptr(JsonObject) event = util_wait_message (bob, third);
    g_autoptr(JsonObject) changed = NULL;

    natter_assert_int (event, "message.reply_to.id", first);
    natter_assert_str (event, "message.reply_to.from", "alice");
    natter_assert_str (event, "message.reply_to.body", "during the outage");
    util_assert_strings (natter_test_get_array (event, "message.mentions"), "bob", NULL);
    json_object_unref (natter_test_client_request_ok (bob,
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"ok\",\"on\":true}", third));
    changed = natter_test_client_wait_type (alice, "message_changed");
    natter_assert_str (changed, "by", "bob");
    natter_assert_int (changed, "message.id", third);
  }
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  cluster_stop (&cluster);
}

/* A user registered through node B while the bus is down is not known to
 * node A (it was not told, and its next refresh is up to 30 s away): a
 * message on A that mentions them must still name them. A reads the
 * directory before it stores a mention of a name it does not know while
 * its bus was down. */
static void
test_mention_registered_while_bus_down (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) carol = NULL;

  if (!cluster_start (&cluster, 2))
    return;
  alice = natter_test_client_new_user (cluster.nodes[0], "alice");
  g_clear_pointer (&alice, natter_test_client_free);
  alice = actions_login (cluster.nodes[0], "alice");
  natter_test_redis_stop (cluster.redis);
  carol = natter_test_client_new_user (cluster.nodes[1], "carol");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"ask @carol and @nobody\",\"client_msg_id\":\"m1\"}");

    util_assert_strings (natter_test_get_array (r, "message.mentions"), "carol", NULL);
  }
  {
    gint64 id = util_send (alice, "@alice", "a note", "m2");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"a note for @carol\"}", id);

    util_assert_strings (natter_test_get_array (r, "message.mentions"), "carol", NULL);
  }
  natter_test_redis_start_again (cluster.redis);
  for (guint i = 0; i < cluster.n_nodes; i++)
    natter_test_server_assert_alive (cluster.nodes[i]);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&carol, natter_test_client_free);
  cluster_stop (&cluster);
}

static NatterTestClient *
rooms_login (NatterTestServer *node,
             const char       *username)
{
  NatterTestClient *c = natter_test_client_new (node);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\",\"features\":[\"room_management\"]}",
      username, NATTER_TEST_PASSWORD);

  return c;
}

/* Room management while the bus is down: node A's changes reach node B's
 * clients, and take effect there, once B reads the directory (when the bus
 * is back), from the database alone: a ban, with its "by" and reason (the
 * ban row says them); a role and a new display name (room_updated, "by"
 * null: only the lost publish said who); an invitation. Then, bus up, a
 * deletion on A told on B by its owner. */
static void
test_rooms_bus_down (void)
{
  Cluster cluster = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) carol = NULL;
  g_autoptr(NatterTestClient) dave = NULL;
  const char *const names[] = { "alice", "bob", "carol", "dave" };

  if (!cluster_start (&cluster, 2))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(NatterTestClient) c = natter_test_client_new_user (cluster.nodes[0], names[i]);
    }
  alice = rooms_login (cluster.nodes[0], "alice");
  bob = rooms_login (cluster.nodes[1], "bob");
  carol = rooms_login (cluster.nodes[1], "carol");
  dave = rooms_login (cluster.nodes[1], "dave");
  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  util_room_join (carol, "#r");
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);
  natter_test_client_clear_queue (carol);

  natter_test_redis_stop (cluster.redis);
  json_object_unref (natter_test_client_request_ok (alice, "{\"type\":\"room_role\",\"room\":\"#r\",\"username\":\"bob\",\"role\":\"admin\"}"));
  json_object_unref (natter_test_client_request_ok (alice, "{\"type\":\"room_update\",\"room\":\"#r\",\"display_name\":\"Renamed\"}"));
  json_object_unref (natter_test_client_request_ok (alice, "{\"type\":\"room_ban\",\"room\":\"#r\",\"username\":\"carol\",\"reason\":\"spam\"}"));
  json_object_unref (natter_test_client_request_ok (alice, "{\"type\":\"room_invite\",\"room\":\"#r\",\"username\":\"dave\"}"));
  natter_test_redis_start_again (cluster.redis);

  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (carol, "room_removed");
    g_autoptr(JsonObject) invited = natter_test_client_wait_type (dave, "room_invitation");
    g_autoptr(JsonObject) banned = natter_test_client_wait_type (bob, "room_member");
    g_autoptr(JsonObject) updated = natter_test_client_wait_type (bob, "room_updated");

    natter_assert_str (removed, "reason", "banned");
    natter_assert_str (removed, "by", "alice");
    natter_assert_str (removed, "ban_reason", "spam");
    natter_assert_str (invited, "change", "added");
    natter_assert_str (invited, "invitation.by", "alice");
    natter_assert_str (banned, "change", "banned");
    natter_assert_str (banned, "user.username", "carol");
    natter_assert_str (updated, "room.display_name", "Renamed");
    natter_assert_str (updated, "room.admins.0", "bob");
  }
  /* The effect, on node B: carol is out and may not come back; bob may
   * do what an admin does. */
  {
    g_autoptr(JsonObject) send = natter_test_client_request (carol,
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"hi\",\"client_msg_id\":\"c1\"}");
    g_autoptr(JsonObject) join = natter_test_client_request (carol, "{\"type\":\"room_join\",\"room\":\"#r\"}");
    g_autoptr(JsonObject) bans = natter_test_client_request_ok (bob, "{\"type\":\"room_bans\",\"room\":\"#r\"}");

    natter_assert_error (send, "forbidden");
    natter_assert_error (join, "forbidden");
    natter_assert_str (bans, "bans.0.username", "carol");
  }

  /* With the bus: who deleted the room is said. */
  json_object_unref (natter_test_client_request_ok (dave, "{\"type\":\"room_join\",\"room\":\"#r\"}"));
  natter_test_client_clear_queue (bob);
  json_object_unref (natter_test_client_request_ok (alice, "{\"type\":\"room_delete\",\"room\":\"#r\"}"));
  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (bob, "room_removed");
    g_autoptr(JsonObject) history = natter_test_client_request (dave,
        "{\"type\":\"history\",\"conversation\":\"#r\"}");

    natter_assert_str (removed, "reason", "deleted");
    natter_assert_str (removed, "by", "alice");
    natter_assert_error (history, "not_found");
  }
  util_room_create (dave, "#r");
  cluster_stop (&cluster);
}

int
main (int argc, char **argv)
{
  natter_test_init (&argc, &argv);
  natter_test_add_pg_only ("/cluster/across-nodes", test_across_nodes, WHY);
  natter_test_add_pg_only ("/cluster/order-across-nodes", test_order_across_nodes, WHY);
  natter_test_add_pg_only ("/cluster/bus-restart", test_bus_restart, WHY);
  natter_test_add_pg_only ("/cluster/node-killed", test_node_killed, WHY);
  natter_test_add_pg_only ("/cluster/presence-across-nodes", test_presence_across_nodes, WHY);
  natter_test_add_pg_only ("/cluster/typing-and-read-across-nodes", test_typing_and_read_across_nodes, WHY);
  natter_test_add_pg_only ("/cluster/node-stopped", test_node_stopped, WHY);
  natter_test_add_pg_only ("/cluster/directory-read-your-writes", test_directory_read_your_writes, WHY);
  natter_test_add_pg_only ("/cluster/limits-across-nodes", test_limits_across_nodes, WHY);
  natter_test_add_pg_only ("/cluster/bogus-publish", test_bogus_publish, WHY);
  natter_test_add_pg_only ("/cluster/new-direct-without-bus", test_new_direct_without_bus, WHY);
  natter_test_add_pg_only ("/cluster/miss-holds-next-frames", test_miss_holds_next_frames, WHY);
  natter_test_add_pg_only ("/cluster/revoked-while-bus-down", test_revoked_while_bus_down, WHY);
  natter_test_add_pg_only ("/cluster/revoked-bus-stays-down", test_revoked_bus_stays_down, WHY);
  natter_test_add_pg_only ("/cluster/actions-bus-down", test_actions_bus_down, WHY);
  natter_test_add_pg_only ("/cluster/rooms-bus-down", test_rooms_bus_down, WHY);
  natter_test_add_pg_only ("/cluster/mention-registered-while-bus-down", test_mention_registered_while_bus_down, WHY);
  return g_test_run ();
}
