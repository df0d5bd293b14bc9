/* test-limits.c: the abuse limits of the contract, each made small through
 * the config file so that a test reaches it quickly: frames per second,
 * failed logins per user and per address, registrations per address,
 * connections per address, the output queue of a client that does not read,
 * and the login and idle timeouts.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

static void
test_frames_per_second (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nframes_per_second=5\nframe_burst=5\n", NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  GString *batch = g_string_new (NULL);
  guint pongs = 0, limited = 0;
  gint64 retry_after = 0;

  for (guint i = 1; i <= 30; i++)
    g_string_append_printf (batch, "{\"type\":\"ping\",\"id\":%u}\n", i);
  natter_test_client_send_raw (c, batch->str, batch->len);
  g_string_free (batch, TRUE);

  /* One reply per frame, in order: pongs while the bucket lasts, then
   * rate_limited with retry_after. */
  for (guint i = 1; i <= 30; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_next (c);

      natter_assert_int (r, "re", i);
      if (g_str_equal (natter_test_get_str (r, "type"), "pong"))
        pongs++;
      else
        {
          natter_assert_error (r, "rate_limited");
          retry_after = natter_test_get_int (r, "retry_after");
          g_assert_cmpint (retry_after, >, 0);
          g_assert_cmpint (retry_after, <=, 60000);
          limited++;
        }
    }
  natter_test_note ("%u pongs, %u rate_limited", pongs, limited);
  g_assert_cmpuint (pongs, >=, 5);
  g_assert_cmpuint (pongs, <=, 10);
  g_assert_cmpuint (limited, >=, 20);

  /* The frame was not handled, and the connection stays: after the time the
   * server said, a request goes through again. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) nothing = natter_test_client_try_next (c, (guint) retry_after + 250, &error);

    g_assert_null (nothing);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  }
  natter_test_client_sync_ping (c);
  natter_test_server_assert_alive (srv);
}

static void
test_rate_limited_not_handled (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nframes_per_second=5\nframe_burst=5\n", NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  GString *batch = g_string_new (NULL);
  guint handled = 0;
  gint64 retry_after = 0;

  /* Wait out the bucket the registration used. */
  {
    g_autoptr(JsonObject) nothing = natter_test_client_try_next (alice, 1500, NULL);

    g_assert_null (nothing);
  }
  for (guint i = 1; i <= 20; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"r%u\","
                            "\"client_msg_id\":\"r%u\"}\n", i, i, i);
  natter_test_client_send_raw (alice, batch->str, batch->len);
  g_string_free (batch, TRUE);
  for (guint i = 1; i <= 20; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, i);

      if (g_str_equal (natter_test_get_str (r, "type"), "ok"))
        handled++;
      else
        {
          natter_assert_error (r, "rate_limited");
          retry_after = natter_test_get_int (r, "retry_after");
        }
    }
  g_assert_cmpuint (handled, >=, 1);
  g_assert_cmpuint (handled, <, 20);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) nothing = natter_test_client_try_next (alice, (guint) retry_after + 1000, &error);

    g_assert_null (nothing);
  }
  /* Only the handled sends were stored and delivered. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@alice\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, handled);
  }
}

static void
test_messages_per_minute (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nmessages_per_minute_per_user=3\n", NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

  /* The project's extra limit, over all of a user's connections. */
  util_send (alice, "@bob", "one", "m1");
  util_send (alice2, "@bob", "two", "m2");
  util_send (alice, "@bob", "three", "m3");
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (alice2, "rate_limited",
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"four\",\"client_msg_id\":\"m4\"}");

    g_assert_cmpint (natter_test_get_int (e, "retry_after"), >, 0);
  }
  /* A resend of a stored message (an outbox after a reconnect) is not a
   * new message: the original comes back, limit or not, and bob gets
   * nothing new. */
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice2,
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"one\",\"client_msg_id\":\"m1\"}");

    natter_assert_str (r, "message.body", "one");
    natter_assert_str (r, "message.client_msg_id", "m1");
  }
  natter_test_client_expect_no_frame_of_type (bob, "message");
  /* bob is not limited by alice's sends. */
  util_send (bob, "@alice", "hi", "b1");
}

static void
test_failed_logins_per_user (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nfailed_logins_per_minute_per_user=3\nfailed_logins_per_minute_per_address=1000\n", NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) x = natter_test_client_new (srv);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(JsonObject) e = natter_test_client_request_error (x, "auth_failed",
          "{\"type\":\"login\",\"username\":\"bob\",\"password\":\"guess number %u\"}", i);
    }
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (x, "rate_limited",
        "{\"type\":\"login\",\"username\":\"bob\",\"password\":\"guess number 4\"}");

    g_assert_cmpint (natter_test_get_int (e, "retry_after"), >, 0);
  }
  /* Answered before any hashing, so even the right password is refused
   * now (the user name is what is limited, in any case). */
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (x, "rate_limited",
        "{\"type\":\"login\",\"username\":\"BOB\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  }
  /* Another user from the same address is not affected. */
  {
    g_autoptr(NatterTestClient) c2 = natter_test_client_new_login (srv, "carol");
  }
  /* bob's live session is not affected either. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"contacts\"}");
  }
}

static void
test_failed_logins_per_address (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nfailed_logins_per_minute_per_address=3\nfailed_logins_per_minute_per_user=1000\n", NULL);
  g_autoptr(NatterTestClient) reg = natter_test_client_new_from (srv, "127.0.0.3");
  g_autoptr(NatterTestClient) x = natter_test_client_new (srv);

  natter_test_client_register (reg, "dave", NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(JsonObject) e = natter_test_client_request_error (x, "auth_failed",
          "{\"type\":\"login\",\"username\":\"user%u\",\"password\":\"wrong password\"}", i);
    }
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (x, "rate_limited",
        "{\"type\":\"login\",\"username\":\"user9\",\"password\":\"wrong password\"}");

    g_assert_cmpint (natter_test_get_int (e, "retry_after"), >, 0);
  }
  /* A new connection from the same address is limited too. */
  {
    g_autoptr(NatterTestClient) y = natter_test_client_new (srv);
    g_autoptr(JsonObject) e = natter_test_client_request_error (y, "rate_limited",
        "{\"type\":\"login\",\"username\":\"dave\",\"password\":\"wrong password\"}");
  }
  /* Every loopback address counts on its own. */
  {
    g_autoptr(NatterTestClient) z = natter_test_client_new_from (srv, "127.0.0.2");
    g_autoptr(JsonObject) e = natter_test_client_request_error (z, "auth_failed",
        "{\"type\":\"login\",\"username\":\"dave\",\"password\":\"wrong password\"}");

    natter_test_client_login (z, "dave", NULL);
  }
}

/* One hash thread and a queue of one: of logins sent at once, those
 * beyond the one hashing and the one waiting are answered rate_limited
 * at once, with a retry_after, and log in when they try again. (The
 * logins arrive within a millisecond; each hash takes tens.) */
#define HASH_QUEUE_LOGINS 10

static void
test_hash_queue (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[server]\nhash_threads=1\n[limits]\nhash_queue_per_thread=1\n", NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  NatterTestClient *c[HASH_QUEUE_LOGINS];
  gboolean refused[HASH_QUEUE_LOGINS] = { FALSE };
  guint ok = 0, limited = 0;

  for (guint i = 0; i < HASH_QUEUE_LOGINS; i++)
    c[i] = natter_test_client_new (srv);
  for (guint i = 0; i < HASH_QUEUE_LOGINS; i++)
    natter_test_client_send (c[i], "{\"type\":\"login\",\"id\":1,\"username\":\"bob\","
                                   "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  for (guint i = 0; i < HASH_QUEUE_LOGINS; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (c[i], 1);

      if (g_str_equal (natter_test_get_str (r, "type"), "ok"))
        ok++;
      else
        {
          natter_assert_error (r, "rate_limited");
          g_assert_cmpint (natter_test_get_int (r, "retry_after"), >, 0);
          refused[i] = TRUE;
          limited++;
        }
    }
  g_assert_cmpuint (ok, >=, 1);
  g_assert_cmpuint (limited, >=, 1);
  /* Every accepted login has been answered, so the queue is empty: the
   * refused connections are still open, and log in one by one. */
  for (guint i = 0; i < HASH_QUEUE_LOGINS; i++)
    if (refused[i])
      natter_test_client_login (c[i], "bob", NULL);
  for (guint i = 0; i < HASH_QUEUE_LOGINS; i++)
    natter_test_client_free (c[i]);
}

/* natterd stopped while password logins wait for the one hash thread:
 * those not hashed yet are answered server_busy as it stops, and it
 * exits cleanly. (Under ASan it aborted: answering the last request of a
 * connection natterd had already let go of freed the connection inside
 * natterd_connection_request_done's own loop.) */
#define STOP_LOGINS 6

static void
test_stop_with_logins_queued (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[server]\nhash_threads=1\n", NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  NatterTestClient *c[STOP_LOGINS];

  for (guint i = 0; i < STOP_LOGINS; i++)
    c[i] = natter_test_client_new (srv);
  for (guint i = 0; i < STOP_LOGINS; i++)
    natter_test_client_send (c[i], "{\"type\":\"login\",\"id\":1,\"username\":\"bob\","
                                   "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  /* Once the first hash is done, natterd has long read every login (they
   * were sent before it began; a hash takes tens of milliseconds), and
   * the others wait. */
  for (gboolean answered = FALSE; !answered;)
    for (guint i = 0; i < STOP_LOGINS && !answered; i++)
      {
        g_autoptr(JsonObject) r = natter_test_client_try_next (c[i], 10, NULL);

        answered = r != NULL;
      }
  natter_test_server_stop (srv);
  for (guint i = 0; i < STOP_LOGINS; i++)
    natter_test_client_free (c[i]);
}

static void
test_registrations_per_address (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nregistrations_per_hour_per_address=2\n", NULL);
  g_autoptr(NatterTestClient) r1 = natter_test_client_new_user (srv, "reg1");
  g_autoptr(NatterTestClient) r2 = natter_test_client_new_user (srv, "reg2");
  g_autoptr(NatterTestClient) r3 = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) other = natter_test_client_new_from (srv, "127.0.0.2");
  g_autoptr(JsonObject) e = NULL;

  e = natter_test_client_request_error (r3, "rate_limited",
      "{\"type\":\"register\",\"username\":\"reg3\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  g_assert_cmpint (natter_test_get_int (e, "retry_after"), >, 0);
  /* Not created. */
  {
    g_autoptr(JsonObject) nf = natter_test_client_request_error (r1, "not_found",
        "{\"type\":\"user_info\",\"username\":\"reg3\"}");
  }
  /* Another address may still register. */
  natter_test_client_register (other, "reg3", NULL);
  /* Logging in is not registering. */
  natter_test_client_login (r3, "reg1", NULL);
}

static void
test_connections_per_address (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nconnections_per_address=3\n", NULL);
  NatterTestClient *held[3];

  for (guint i = 0; i < 3; i++)
    held[i] = natter_test_client_new (srv);

  util_assert_over_limit (srv);

  /* Another address is not affected. */
  {
    g_autoptr(NatterTestClient) other = natter_test_client_new_from (srv, "127.0.0.2");

    natter_test_client_sync_ping (other);
  }

  /* The held ones still work; closing one makes room (the server notices
   * the close asynchronously, so retry until the deadline). */
  natter_test_client_sync_ping (held[0]);
  natter_test_client_free (held[2]);
  held[2] = NULL;
  {
    gint64 deadline = g_get_monotonic_time () + (gint64) natter_test_deadline_ms () * 1000;
    NatterTestClient *again = NULL;

    while (again == NULL && g_get_monotonic_time () < deadline)
      {
        g_autoptr(GError) e2 = NULL;

        again = natter_test_client_try_new_full (natter_test_server_get_port (srv), TRUE, TRUE, &e2);
      }
    g_assert_nonnull (again);
    natter_test_client_sync_ping (again);
    natter_test_client_free (again);
  }

  natter_test_client_free (held[0]);
  natter_test_client_free (held[1]);
}

static void
test_output_queue (void)
{
  /* 256 KiB: a history page of 50 messages of 4000 bytes (~200 KB) fits,
   * so a client that reads is served; one that asks for 200 of them and
   * reads nothing is not. */
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      UTIL_RELAXED_LIMITS "output_queue_bytes=262144\n", NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = NULL;
  g_autofree char *body = util_repeat ('z', 4000);
  GString *batch = g_string_new (NULL);
  guint replies = 0;

  /* bob exists but is not connected while alice fills the conversation. */
  {
    g_autoptr(NatterTestClient) b = natter_test_client_new_user (srv, "bob");
  }
  for (guint round = 0; round < 5; round++)
    {
      g_string_truncate (batch, 0);
      for (guint i = round * 10; i < round * 10 + 10; i++)
        g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"%s\","
                                "\"client_msg_id\":\"q%u\"}\n", 1000 + i, body, i);
      natter_test_client_send_raw (alice, batch->str, batch->len);
      for (guint i = round * 10; i < round * 10 + 10; i++)
        {
          g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, 1000 + i);

          natter_assert_ok (r);
        }
    }

  /* bob asks for 200 pages of ~200 KB each and reads nothing: far more
   * than the socket buffers and the output queue hold. */
  bob = natter_test_client_new_login (srv, "bob");
  g_string_truncate (batch, 0);
  for (guint i = 0; i < 200; i++)
    g_string_append_printf (batch, "{\"type\":\"history\",\"id\":%u,\"conversation\":\"@alice\",\"limit\":50}\n",
                            100 + i);
  natter_test_client_send_raw (bob, batch->str, batch->len);
  g_string_free (batch, TRUE);

  natter_test_client_assert_closed (bob);
  {
    JsonObject *r;

    while ((r = natter_test_client_take_queued (bob, "ok")) != NULL)
      {
        replies++;
        json_object_unref (r);
      }
  }
  natter_test_note ("bob got %u of 200 replies before the close", replies);
  g_assert_cmpuint (replies, <, 200);

  /* The server is healthy: alice is served, and bob reconnects and reads
   * everything (nothing was lost), a page at a time. */
  natter_test_client_sync_ping (alice);
  natter_test_server_assert_alive (srv);
  {
    g_autoptr(NatterTestClient) bob2 = natter_test_client_new_login (srv, "bob");

    for (guint i = 0; i < 3; i++)
      {
        g_autoptr(JsonObject) r = natter_test_client_request_ok (bob2,
            "{\"type\":\"history\",\"conversation\":\"@alice\",\"limit\":50}");

        g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "messages")), ==, 50);
      }
  }
}

static void
test_login_timeout (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nlogin_timeout=5\n", NULL);
  /* A first connection pays for whatever natterd sets up lazily (the
   * first TLS handshake is slow under sanitizers). */
  g_autoptr(NatterTestClient) warm = natter_test_client_new (srv);
  /* d connects first, so its timeout passes before c's. */
  g_autoptr(NatterTestClient) d = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  natter_test_client_register (d, "alice", NULL);
  natter_test_client_assert_closed (c);
  /* Whatever came before the close was an error (not_authenticated). */
  {
    JsonObject *f;

    while ((f = natter_test_client_try_next (c, 0, NULL)) != NULL)
      {
        natter_assert_type (f, "error");
        json_object_unref (f);
      }
  }
  /* The authenticated one stays. */
  natter_test_client_sync_ping (d);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (d, "{\"type\":\"contacts\"}");
  }
}

static void
test_idle_timeout (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nidle_timeout=5\n", NULL);
  /* See test_login_timeout(). */
  g_autoptr(NatterTestClient) warm = natter_test_client_new (srv);
  /* Before quiet sends its last frame (the registration). */
  gint64 start = g_get_monotonic_time ();
  g_autoptr(NatterTestClient) quiet = natter_test_client_new_user (srv, "quiet");
  g_autoptr(NatterTestClient) busy = natter_test_client_new_user (srv, "busy");
  gboolean closed = FALSE;

  /* busy pings every 300 ms; quiet sends nothing (and does not answer the
   * server's ping). */
  while (!closed)
    {
      natter_test_client_sync_ping (busy);
      closed = natter_test_client_wait_closed (quiet, 300);
      g_assert_cmpint (g_get_monotonic_time () - start, <, (gint64) natter_test_deadline_ms () * 1000);
    }
  /* Not before the timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 5 * G_USEC_PER_SEC - 100000);
  natter_test_client_sync_ping (busy);
  natter_test_server_assert_alive (srv);
}

static void
test_answering_server_ping_keeps_alive (void)
{
  /* 6 s: the ping comes after 4.5 s of silence, checked every second, so
   * it always comes before the close. */
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nidle_timeout=6\n", NULL);
  g_autoptr(NatterTestClient) warm = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) c = natter_test_client_new_user (srv, "alice");

  /* The server pings a quiet client before the idle timeout; a client that
   * answers (and does nothing else) has sent something, so it stays past
   * the time it would have been closed at. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ping = natter_test_client_try_next (c, 2 * natter_test_deadline_ms (), &error);

    if (ping == NULL)
      g_error ("waiting for the server's ping: %s", error->message);
    natter_assert_type (ping, "ping");
    natter_test_client_send (c, "{\"type\":\"pong\"}");
  }
  /* 3 s after the pong is past 6 s of the registration, well before 6 s
   * of the pong. */
  if (natter_test_client_wait_closed (c, 3000))
    g_error ("closed although it answered the server's ping");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"contacts\"}");
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/limits/frames-per-second", test_frames_per_second);
  natter_test_add ("/limits/rate-limited-not-handled", test_rate_limited_not_handled);
  /* On a cluster a node refuses once the last total it heard from Redis
   * reached the limit, and it hears the total only in the answer to its
   * own count: the other node's first use of a key and the uses in flight
   * go through (docs/cluster.md, "Limits"; /cluster/limits-across-nodes
   * measures it). */
  natter_test_add_cluster_gap ("/limits/messages-per-minute", test_messages_per_minute,
                               "a node's first send of a user in a window goes through before "
                               "it has heard the total (the 4th of 3 per minute was accepted: "
                               "docs/cluster.md, \"Limits\")");
  natter_test_add ("/limits/failed-logins-per-user", test_failed_logins_per_user);
  natter_test_add_cluster_gap ("/limits/failed-logins-per-address", test_failed_logins_per_address,
                               "a node's first failed login from an address in a window is "
                               "not refused before it has heard the total (auth_failed where "
                               "rate_limited was due: docs/cluster.md, \"Limits\")");
  natter_test_add_cluster_gap ("/limits/registrations-per-address", test_registrations_per_address,
                               "a node's first registration from an address in a window goes "
                               "through before it has heard the total (docs/cluster.md, "
                               "\"Limits\")");
  natter_test_add_single_node ("/limits/connections-per-address", test_connections_per_address,
                               "connections_per_address counts one node's connections");
  natter_test_add ("/limits/hash-queue", test_hash_queue);
  natter_test_add ("/limits/stop-with-logins-queued", test_stop_with_logins_queued);
  natter_test_add ("/limits/output-queue", test_output_queue);
  natter_test_add ("/limits/login-timeout", test_login_timeout);
  natter_test_add ("/limits/idle-timeout", test_idle_timeout);
  natter_test_add ("/limits/answering-server-ping-keeps-alive", test_answering_server_ping_keeps_alive);

  return g_test_run ();
}
