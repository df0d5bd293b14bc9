/* test-plain.c: natterd over plain TCP (--no-tls). Plain connections take
 * their own path through natterd (accepted in a loop from the epoll poller,
 * read and written on the bare descriptor, no GIO objects), so what the
 * other programs check over TLS is checked here once more on that path:
 * the welcome and logins, logout revoking a token, the per-address limit,
 * many connections arriving at once, and replies larger than the socket
 * buffers.
 *
 * Rooms of 16 members or more take one more path of their own: the writes
 * of a fan-out are shared between the main loop and the send pool's
 * threads ([server] send_threads). Checked with 1, the default and more
 * threads than CPUs (and once over TLS, whose writes are shared too): every member gets every message once, in order and
 * whole; a member closing mid-burst, or reading nothing until natterd
 * drops it, takes nothing from the others.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

static NatterTestServer *
start_plain (const char *config_text)
{
  return natter_test_server_start_full (NULL, 0, FALSE, config_text, NULL);
}

static void
test_logout_revokes (void)
{
  g_autoptr(NatterTestServer) srv = start_plain (NULL);
  g_autoptr(NatterTestClient) c1 = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) c2 = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) c3 = natter_test_client_new (srv);
  g_autofree char *token = g_strdup (natter_test_client_get_token (c1));
  g_autofree char *tq = natter_test_json_quote (token);

  /* The same token logs in twice more (from memory, after the first). */
  natter_test_client_login_token (c2, token);
  natter_test_client_login_token (c3, token);
  /* c2's logout revokes it: c1 and c3 used it too and are closed. */
  natter_test_client_logout (c2);
  natter_test_client_assert_closed (c1);
  natter_test_client_assert_closed (c3);
  {
    g_autoptr(NatterTestClient) c4 = natter_test_client_new (srv);
    g_autoptr(JsonObject) e = natter_test_client_request_error (c4, "auth_failed",
                                                                "{\"type\":\"login\",\"token\":%s}", tq);
  }
}

static void
test_connections_per_address (void)
{
  g_autoptr(NatterTestServer) srv = start_plain ("[limits]\nconnections_per_address=2\n");
  g_autoptr(NatterTestClient) a = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) b = natter_test_client_new (srv);

  util_assert_over_limit (srv);

  /* Another loopback address is another address. */
  {
    g_autoptr(NatterTestClient) other = natter_test_client_new_from (srv, "127.0.0.2");

    natter_test_client_sync_ping (other);
  }
  natter_test_client_sync_ping (a);
  natter_test_client_sync_ping (b);
}

/* Connections opened all before any is read are accepted in one go: each
 * gets its welcome and answers a ping. */
static void
test_many_at_once (void)
{
  g_autoptr(NatterTestServer) srv = start_plain ("[limits]\nconnections_per_address=1000\n");
  guint16 port = natter_test_server_get_port (srv);
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_test_client_free);

  for (guint i = 0; i < 300; i++)
    {
      g_autoptr(GError) error = NULL;
      NatterTestClient *c = natter_test_client_try_new_full (port, FALSE, FALSE, &error);

      g_assert_no_error (error);
      g_ptr_array_add (clients, c);
    }
  for (guint i = 0; i < clients->len; i++)
    {
      g_autoptr(JsonObject) w = natter_test_client_next (clients->pdata[i]);

      natter_assert_type (w, "welcome");
    }
  for (guint i = 0; i < clients->len; i += 37)
    natter_test_client_sync_ping (clients->pdata[i]);
}

/* Replies far larger than the socket buffers leave in many writes, each
 * after the socket said it could take more, in order and whole. */
static void
test_large_replies (void)
{
  g_autoptr(NatterTestServer) srv = start_plain (UTIL_RELAXED_LIMITS);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autofree char *body = util_repeat ('p', 4000);
  GString *batch = g_string_new (NULL);

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *cid = g_strdup_printf ("p%u", i);

      util_send (alice, "@bob", body, cid);
    }
  natter_test_client_clear_queue (bob);

  /* 20 pages of ~200 KB asked at once: ~4 MB queued for bob. */
  for (guint i = 0; i < 20; i++)
    g_string_append_printf (batch, "{\"type\":\"history\",\"id\":%u,\"conversation\":\"@alice\",\"limit\":50}\n",
                            100 + i);
  natter_test_client_send_raw (bob, batch->str, batch->len);
  g_string_free (batch, TRUE);

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (bob, 100 + i);
      JsonArray *messages = natter_test_get_array (r, "messages");

      natter_assert_ok (r);
      g_assert_cmpuint (json_array_get_length (messages), ==, 50);
      g_assert_cmpstr (natter_test_get_str (json_array_get_object_element (messages, 49), "body"), ==, body);
    }
}

/* --- rooms big enough for the send pool --- */

/* Well over SHARED_FLUSH_MIN (16) connections written to in one iteration. */
#define BIG_ROOM_CONFIG UTIL_RELAXED_LIMITS "connections_per_address=1000\n"
#define BURST_MAX_SENDERS 3

/* Messages sent to "#big", each by one of a few senders: message @i of
 * sender @s has the body burst_body (b, s, i), and the id its ack gave. */
typedef struct {
  const char *from[BURST_MAX_SENDERS];
  guint       n_senders;
  guint       per_sender;  /* the most each may send */
  gsize       body_len;    /* 0: mixed, see burst_body() */
  gint64     *ids;         /* [s * per_sender + i] */
} Burst;

/* What one member has received of a burst so far. */
typedef struct {
  guint  next[BURST_MAX_SENDERS]; /* per sender, the message expected next */
  gint64 last;                    /* the id received last */
} Seen;

/* Mixed sizes make natterd's queues hold both frames copied into chunks
 * (up to 1024 bytes) and frames kept by reference, several per write. */
static char *
burst_body (const Burst *b,
            guint        s,
            guint        i)
{
  gsize len = b->body_len != 0 ? b->body_len : (i % 3 == 2 ? 1500 : 40 + 7 * i);
  GString *body = g_string_new (NULL);

  g_string_printf (body, "%s-%u-", b->from[s], i);
  while (body->len < len)
    g_string_append_c (body, 'a' + (s + i) % 26);
  return g_string_free (body, FALSE);
}

/* Pipelined: the ack is read by burst_ack(). */
static void
burst_send (NatterTestClient *c,
            const Burst      *b,
            guint             s,
            guint             i)
{
  g_autofree char *body = burst_body (b, s, i);

  natter_test_client_sendf (c, "{\"type\":\"send\",\"id\":%u,\"to\":\"#big\",\"body\":\"%s\","
                            "\"client_msg_id\":\"%s-%u\"}", 1000 + i, body, b->from[s], i);
}

static void
burst_ack (NatterTestClient *c,
           Burst            *b,
           guint             s,
           guint             i)
{
  g_autoptr(JsonObject) r = natter_test_client_wait_re (c, 1000 + i);
  g_autofree char *body = burst_body (b, s, i);

  natter_assert_ok (r);
  natter_assert_str (r, "message.body", body);
  b->ids[s * b->per_sender + i] = natter_test_get_int (r, "message.id");
}

/* The next message event @c gets must be the next one of some sender,
 * whole, with the id of its ack, and after the one before. */
static void
burst_receive (NatterTestClient *c,
               const Burst      *b,
               Seen             *seen)
{
  g_autoptr(JsonObject) e = natter_test_client_wait_type (c, "message");
  const char *from = natter_test_get_str (e, "message.from");
  g_autofree char *body = NULL;
  gint64 id = natter_test_get_int (e, "message.id");
  guint s = 0, i;

  while (s < b->n_senders && g_strcmp0 (from, b->from[s]) != 0)
    s++;
  g_assert_cmpuint (s, <, b->n_senders);
  i = seen->next[s]++;
  g_assert_cmpuint (i, <, b->per_sender);
  body = burst_body (b, s, i);
  natter_assert_str (e, "message.conversation", "#big");
  natter_assert_str (e, "message.body", body);
  g_assert_cmpint (id, ==, b->ids[s * b->per_sender + i]);
  g_assert_cmpint (id, >, seen->last);
  seen->last = id;
}

/* Users u00, u01, … each on its own connection, all in "#big". Each
 * connection sends its register and room_join at once, so that the
 * password hashes run on natterd's hash threads side by side. */
static GPtrArray *
big_room_new (NatterTestServer *srv,
              guint             n)
{
  GPtrArray *members = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_test_client_free);

  g_ptr_array_add (members, natter_test_client_new_user (srv, "u00"));
  util_room_create (members->pdata[0], "#big");
  for (guint k = 1; k < n; k++)
    {
      NatterTestClient *c = natter_test_client_new (srv);

      natter_test_client_sendf (c, "{\"type\":\"register\",\"id\":900,\"username\":\"u%02u\",\"password\":\"%s\"}\n"
                                "{\"type\":\"room_join\",\"id\":901,\"room\":\"#big\"}", k, NATTER_TEST_PASSWORD);
      g_ptr_array_add (members, c);
    }
  for (guint k = 1; k < n; k++)
    {
      g_autoptr(JsonObject) r1 = natter_test_client_wait_re (members->pdata[k], 900);
      g_autoptr(JsonObject) r2 = natter_test_client_wait_re (members->pdata[k], 901);

      natter_assert_ok (r1);
      natter_assert_ok (r2);
    }
  return members;
}

/* @n members (at least 34), three of them sending 30 messages each,
 * interleaved and pipelined; u00 has a second connection, which gets u00's
 * messages too. */
static void
big_room_fanout_of (const char *config_text,
                    gboolean    tls,
                    guint       n)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start_full (NULL, 0, tls, config_text, NULL);
  g_autoptr(GPtrArray) members = big_room_new (srv, n);
  const guint senders[] = { 0, 17, 33 };
  gint64 ids[3 * 30];
  Burst b = { { "u00", "u17", "u33" }, 3, 30, 0, ids };

  g_ptr_array_add (members, natter_test_client_new (srv));
  natter_test_client_login_token (members->pdata[n], natter_test_client_get_token (members->pdata[0]));

  for (guint i = 0; i < b.per_sender; i++)
    for (guint s = 0; s < b.n_senders; s++)
      burst_send (members->pdata[senders[s]], &b, s, i);
  for (guint s = 0; s < b.n_senders; s++)
    for (guint i = 0; i < b.per_sender; i++)
      burst_ack (members->pdata[senders[s]], &b, s, i);

  /* A sender's own connection gets the ack instead of the event. */
  for (guint k = 0; k < members->len; k++)
    {
      gboolean sends = k == senders[0] || k == senders[1] || k == senders[2];
      Seen seen = { { 0 }, 0 };

      for (guint i = 0; i < (sends ? 60 : 90); i++)
        burst_receive (members->pdata[k], &b, &seen);
      natter_test_client_expect_no_frame_of_type (members->pdata[k], "message");
    }
  natter_test_server_assert_alive (srv);
}

static void
big_room_fanout_over (const char *config_text,
                      gboolean    tls)
{
  big_room_fanout_of (config_text, tls, 40);
}

static void
big_room_fanout (const char *config_text)
{
  big_room_fanout_over (config_text, FALSE);
}

/* More connections than one round of a flush (FLUSH_ROUND, 48) takes: the
 * fan-out goes out in rounds, and with the senders' pipelined sends still
 * arriving, the main loop reads between rounds and the flush goes on in a
 * later iteration. Everyone still gets everything, once, in order. */
static void
test_big_room_fanout_rounds (void)
{
  big_room_fanout_of (BIG_ROOM_CONFIG, FALSE, 70);
}

static void
test_big_room_fanout_default (void)
{
  big_room_fanout (BIG_ROOM_CONFIG);
}

/* TLS connections share their writes too: a helper encrypts and writes
 * while the main loop waits (natterd-send-pool.h). */
static void
test_big_room_fanout_tls (void)
{
  big_room_fanout_over (BIG_ROOM_CONFIG "[server]\nsend_threads=4\n", TRUE);
}

static void
test_big_room_fanout_one_thread (void)
{
  big_room_fanout (BIG_ROOM_CONFIG "[server]\nsend_threads=1\n");
}

/* More threads than this machine (or CI) has CPUs. */
static void
test_big_room_fanout_four_threads (void)
{
  big_room_fanout (BIG_ROOM_CONFIG "[server]\nsend_threads=4\n");
}

/* Members that close their sockets while a burst is on its way to them.
 * natterd learns of it from a read, or, when the reset comes between its
 * poll and its flush, from a shared write that fails (which one is up to
 * timing, and either must leave the others alone): the close then runs in
 * the middle of the other connections' results, and its presence push is
 * queued to connections whose write is still pending. */
static void
test_big_room_close_mid_burst (void)
{
  g_autoptr(NatterTestServer) srv = start_plain (BIG_ROOM_CONFIG);
  g_autoptr(GPtrArray) members = big_room_new (srv, 30);
  const guint victims[] = { 2, 5, 9, 13, 17, 21, 25, 29 };
  NatterTestClient *sender = members->pdata[0];
  gint64 ids[100];
  Burst b = { { "u00" }, 1, 100, 0, ids };

  for (guint i = 0; i < 100; i++)
    burst_send (sender, &b, 0, i);
  for (guint v = 0; v < G_N_ELEMENTS (victims); v++)
    {
      g_autoptr(JsonObject) first = natter_test_client_wait_type (members->pdata[victims[v]], "message");

      natter_test_client_free (g_steal_pointer (&members->pdata[victims[v]]));
    }
  for (guint i = 0; i < 100; i++)
    burst_ack (sender, &b, 0, i);

  for (guint k = 1; k < members->len; k++)
    {
      Seen seen = { { 0 }, 0 };

      if (members->pdata[k] == NULL)
        continue;
      for (guint n = 0; n < 100; n++)
        burst_receive (members->pdata[k], &b, &seen);
      natter_test_client_expect_no_frame_of_type (members->pdata[k], "message");
    }
  natter_test_client_sync_ping (sender);
  {
    g_autoptr(NatterTestClient) late = natter_test_client_new (srv);

    natter_test_client_sync_ping (late);
  }
  natter_test_server_assert_alive (srv);
}

/* One member reads nothing while the room gets big messages: its shared
 * writes come back short, then would block, and once natterd's queue for
 * it passes output_queue_bytes natterd drops it. The others read each
 * batch (less than the limit) before the next is sent, so they are never
 * that far behind, whatever their socket buffers; they get everything,
 * before and after the drop. */
static void
test_big_room_slow_reader (void)
{
  g_autoptr(NatterTestServer) srv = start_plain (BIG_ROOM_CONFIG "output_queue_bytes=262144\n");
  g_autoptr(GPtrArray) members = big_room_new (srv, 19);
  NatterTestClient *sender = members->pdata[0];
  NatterTestClient *sleeper = members->pdata[18];
  /* 12 of 16000 bytes: about 192 KB a batch. Enough batches to fill the
   * socket buffers Linux gives by default (about 4 MB here) and then the
   * limit. */
  const guint per_batch = 12, max_batches = 100;
  g_autofree gint64 *ids = g_new0 (gint64, per_batch * max_batches);
  g_autofree Seen *seen = g_new0 (Seen, members->len);
  Burst b = { { "u00" }, 1, per_batch * max_batches, 16000, ids };
  guint batch, batches_after = 0, got = 0;
  gint64 last = 0;

  /* Its presence is what shows the drop below. */
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (sender,
        "{\"type\":\"user_info\",\"username\":\"u18\"}");

    natter_assert_str (info, "user.presence", "online");
  }
  for (batch = 0; batches_after < 2; batch++)
    {
      g_assert_cmpuint (batch, <, max_batches);
      for (guint i = batch * per_batch; i < (batch + 1) * per_batch; i++)
        burst_send (sender, &b, 0, i);
      for (guint i = batch * per_batch; i < (batch + 1) * per_batch; i++)
        burst_ack (sender, &b, 0, i);
      for (guint k = 1; k < 18; k++)
        for (guint n = 0; n < per_batch; n++)
          burst_receive (members->pdata[k], &b, &seen[k]);

      if (batches_after > 0)
        batches_after++;
      else
        {
          g_autoptr(JsonObject) info = natter_test_client_request_ok (sender,
              "{\"type\":\"user_info\",\"username\":\"u18\"}");

          if (g_str_equal (natter_test_get_str (info, "user.presence"), "offline"))
            batches_after = 1;
        }
    }
  natter_test_note ("the sleeper was dropped within %u batches of %u KB", batch - 1,
                    per_batch * 16000 / 1000);

  /* What reached it before the close is a prefix of the burst, in order. */
  natter_test_client_assert_closed (sleeper);
  for (JsonObject *e; (e = natter_test_client_take_queued (sleeper, "message")) != NULL; got++)
    {
      g_assert_cmpint (natter_test_get_int (e, "message.id"), ==, ids[got]);
      g_assert_cmpint (natter_test_get_int (e, "message.id"), >, last);
      last = natter_test_get_int (e, "message.id");
      json_object_unref (e);
    }
  natter_test_note ("it got %u of %u messages", got, batch * per_batch);
  g_assert_cmpuint (got, <, batch * per_batch);

  for (guint k = 1; k < 18; k++)
    natter_test_client_expect_no_frame_of_type (members->pdata[k], "message");
  natter_test_client_sync_ping (sender);
  natter_test_server_assert_alive (srv);
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/plain/logout-revokes", test_logout_revokes);
  natter_test_add_single_node ("/plain/connections-per-address", test_connections_per_address,
                               "connections_per_address counts one node's connections");
  natter_test_add ("/plain/many-at-once", test_many_at_once);
  natter_test_add ("/plain/large-replies", test_large_replies);
  natter_test_add ("/plain/big-room-fanout/default", test_big_room_fanout_default);
  natter_test_add ("/plain/big-room-fanout/one-thread", test_big_room_fanout_one_thread);
  natter_test_add ("/plain/big-room-fanout/four-threads", test_big_room_fanout_four_threads);
  natter_test_add ("/plain/big-room-fanout/tls", test_big_room_fanout_tls);
  natter_test_add ("/plain/big-room-fanout/rounds", test_big_room_fanout_rounds);
  natter_test_add ("/plain/big-room-close-mid-burst", test_big_room_close_mid_burst);
  natter_test_add ("/plain/big-room-slow-reader", test_big_room_slow_reader);

  return g_test_run ();
}
