/* test-messages.c: send (direct and room), idempotent resend, delivery
 * order, history and sync paging, conversations with unread and read
 * markers, search (and what it must not find), typing, offline sync.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

static void
test_send_direct (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) ev_bob = NULL;
  g_autoptr(JsonObject) ev_alice2 = NULL;
  JsonObject *m;
  gint64 before = util_now_ms ();

  natter_test_client_sync_ping (alice2);
  natter_test_client_clear_queue (alice2);

  /* Direct messages go to any existing user, contact or not. */
  reply = natter_test_client_request_ok (alice,
      "{\"type\":\"send\",\"to\":\"@Bob\",\"body\":\"hi bob\\nsecond line\\tand a tab \xe2\x9c\x93\","
      "\"client_msg_id\":\"c1\"}");
  m = natter_test_get_object (reply, "message");
  util_assert_message_object (m);
  natter_assert_str (m, "conversation", "@bob");
  natter_assert_str (m, "from", "alice");
  natter_assert_str (m, "body", "hi bob\nsecond line\tand a tab \xe2\x9c\x93");
  natter_assert_str (m, "client_msg_id", "c1");
  g_assert_cmpint (natter_test_get_int (m, "ts"), >=, before - 1000);

  ev_bob = natter_test_client_wait_type (bob, "message");
  g_assert_false (json_object_has_member (ev_bob, "re"));
  natter_assert_int (ev_bob, "message.id", natter_test_get_int (m, "id"));
  natter_assert_str (ev_bob, "message.conversation", "@alice");
  natter_assert_str (ev_bob, "message.from", "alice");
  natter_assert_str (ev_bob, "message.body", natter_test_get_str (m, "body"));
  natter_assert_int (ev_bob, "message.ts", natter_test_get_int (m, "ts"));
  natter_assert_str (ev_bob, "message.client_msg_id", "c1");

  ev_alice2 = natter_test_client_wait_type (alice2, "message");
  natter_assert_int (ev_alice2, "message.id", natter_test_get_int (m, "id"));
  natter_assert_str (ev_alice2, "message.conversation", "@bob");

  /* Nobody else hears of it. */
  natter_test_client_expect_no_frame_of_type (carol, "message");
  natter_test_client_expect_no_frame_of_type (alice, "message");

  /* Escapes come back as the UTF-8 they stand for. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"\\ud83d\\ude00 \\u00e9\\u2028\\\"q\\\" \\\\\","
        "\"client_msg_id\":\"esc\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "message");

    natter_assert_str (r, "message.body", "\xf0\x9f\x98\x80 \xc3\xa9\xe2\x80\xa8\"q\" \\");
    natter_assert_str (e, "message.body", "\xf0\x9f\x98\x80 \xc3\xa9\xe2\x80\xa8\"q\" \\");
  }

  /* Ids increase. */
  {
    gint64 id2 = util_send (bob, "@alice", "hi alice", "c1");

    g_assert_cmpint (id2, >, natter_test_get_int (m, "id"));
  }
}

typedef struct {
  const char *json;
  const char *code;
} SendErrorCase;

static void
test_send_errors (void)
{
  static const SendErrorCase cases[] = {
    { "{\"type\":\"send\",\"to\":\"@nobody\",\"body\":\"x\",\"client_msg_id\":\"e1\"}", "not_found" },
    { "{\"type\":\"send\",\"to\":\"#nowhere\",\"body\":\"x\",\"client_msg_id\":\"e2\"}", "not_found" },
    { "{\"type\":\"send\",\"to\":\"#private\",\"body\":\"x\",\"client_msg_id\":\"e3\"}", "forbidden" },
    { "{\"type\":\"send\",\"to\":\"bob\",\"body\":\"x\",\"client_msg_id\":\"e4\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@\",\"body\":\"x\",\"client_msg_id\":\"e5\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"body\":\"x\",\"client_msg_id\":\"e6\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"client_msg_id\":\"e7\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\",\"client_msg_id\":\"\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\",\"client_msg_id\":5}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"\",\"client_msg_id\":\"e8\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\" \\n\\t \",\"client_msg_id\":\"e9\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"a\\u0001b\",\"client_msg_id\":\"e10\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"a\\rb\",\"client_msg_id\":\"e11\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"a\\u007fb\",\"client_msg_id\":\"e12\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":42,\"client_msg_id\":\"e13\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":[\"@bob\"],\"body\":\"x\",\"client_msg_id\":\"e14\"}", "invalid_argument" },
    /* null counts as missing */
    { "{\"type\":\"send\",\"to\":null,\"body\":\"x\",\"client_msg_id\":\"e15\"}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\",\"client_msg_id\":null}", "invalid_argument" },
    { "{\"type\":\"send\",\"to\":\"@bob\",\"body\":null,\"client_msg_id\":\"e16\"}", "invalid_argument" },
  };
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) owner = natter_test_client_new_user (srv, "owner");

  util_room_create (owner, "#private");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) r = NULL;

      natter_test_note ("%s", cases[i].json);
      r = natter_test_client_request_error (alice, cases[i].code, "%s", cases[i].json);
    }

  /* Body size: 16384 bytes is fine, 16385 is not; client_msg_id 64 vs 65. */
  {
    g_autofree char *max_body = util_repeat ('b', 16384);
    g_autofree char *long_body = util_repeat ('b', 16385);
    g_autofree char *max_id = util_repeat ('i', 64);
    g_autofree char *long_id = util_repeat ('i', 65);
    g_autoptr(JsonObject) r1 = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"%s\",\"client_msg_id\":\"big\"}", max_body);
    g_autoptr(JsonObject) r2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"%s\",\"client_msg_id\":\"big2\"}", long_body);
    g_autoptr(JsonObject) r3 = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\",\"client_msg_id\":\"%s\"}", max_id);
    g_autoptr(JsonObject) r4 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\",\"client_msg_id\":\"%s\"}", long_id);
  }

  /* bob got exactly the two good ones. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_wait_type (bob, "message");
    g_autoptr(JsonObject) e2 = natter_test_client_wait_type (bob, "message");

    natter_assert_str (e1, "message.client_msg_id", "big");
    g_assert_cmpuint (strlen (natter_test_get_str (e1, "message.body")), ==, 16384);
    natter_assert_str (e2, "message.body", "x");
  }
  natter_test_client_expect_no_frame_of_type (bob, "message");
  natter_test_client_expect_no_frame_of_type (owner, "message");
}

static void
test_idempotent_resend (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  gint64 id, id_again;

  natter_test_client_sync_ping (alice2);
  natter_test_client_clear_queue (alice2);

  id = util_send (alice, "@bob", "only once", "same-id");
  {
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "message");
    g_autoptr(JsonObject) e2 = natter_test_client_wait_type (alice2, "message");
  }

  /* The same client_msg_id again (even with another body): the original
   * message, and nothing delivered. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"changed body\",\"client_msg_id\":\"same-id\"}");

    natter_assert_int (r, "message.id", id);
    natter_assert_str (r, "message.body", "only once");
  }
  id_again = util_send (alice2, "@bob", "only once", "same-id");
  g_assert_cmpint (id_again, ==, id);
  natter_test_client_expect_no_frame_of_type (bob, "message");
  natter_test_client_expect_no_frame_of_type (alice2, "message");
  natter_test_client_expect_no_frame_of_type (alice, "message");

  /* Pipelined duplicates in one write: one message. */
  natter_test_client_send (alice, "{\"type\":\"send\",\"id\":\"p1\",\"to\":\"@bob\",\"body\":\"twice\",\"client_msg_id\":\"pipe\"}\n"
                                  "{\"type\":\"send\",\"id\":\"p2\",\"to\":\"@bob\",\"body\":\"twice\",\"client_msg_id\":\"pipe\"}");
  {
    g_autoptr(JsonObject) r1 = natter_test_client_next (alice);
    g_autoptr(JsonObject) r2 = natter_test_client_next (alice);
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "message");

    natter_assert_str (r1, "re", "p1");
    natter_assert_str (r2, "re", "p2");
    natter_assert_ok (r1);
    natter_assert_ok (r2);
    natter_assert_int (r2, "message.id", natter_test_get_int (r1, "message.id"));
    natter_assert_int (e, "message.id", natter_test_get_int (r1, "message.id"));
  }
  natter_test_client_expect_no_frame_of_type (bob, "message");

  /* Across a reconnect. */
  natter_test_client_free (g_steal_pointer (&alice));
  {
    g_autoptr(NatterTestClient) again = natter_test_client_new_login (srv, "alice");

    g_assert_cmpint (util_send (again, "@bob", "only once", "same-id"), ==, id);
  }
  natter_test_client_expect_no_frame_of_type (bob, "message");

  /* The same client_msg_id to another conversation is still the original
   * send: its message comes back, carol gets nothing. */
  {
    g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
    g_autoptr(NatterTestClient) again = natter_test_client_new_login (srv, "alice");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (again,
        "{\"type\":\"send\",\"to\":\"@carol\",\"body\":\"elsewhere\",\"client_msg_id\":\"same-id\"}");

    natter_assert_int (r, "message.id", id);
    natter_assert_str (r, "message.conversation", "@bob");
    natter_test_client_expect_no_frame_of_type (carol, "message");
  }

  /* Another sender may use the same client_msg_id: a new message. */
  g_assert_cmpint (util_send (bob, "@alice", "mine", "same-id"), !=, id);

  /* History holds the message once. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@alice\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 3);
  }
}

static void
test_delivery_order (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  GString *batch = g_string_new (NULL);
  gint64 last_ack = 0, last_ev = 0;

  for (guint i = 0; i < 100; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"n%u\","
                            "\"client_msg_id\":\"o%u\"}\n", i + 1, i, i);
  natter_test_client_send_raw (alice, batch->str, batch->len);
  g_string_free (batch, TRUE);

  /* Acks in request order with increasing ids; bob gets them in id order. */
  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_next (alice);
      g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "message");
      g_autofree char *body = g_strdup_printf ("n%u", i);

      natter_assert_ok (r);
      natter_assert_int (r, "re", i + 1);
      g_assert_cmpint (natter_test_get_int (r, "message.id"), >, last_ack);
      last_ack = natter_test_get_int (r, "message.id");
      g_assert_cmpint (natter_test_get_int (e, "message.id"), >, last_ev);
      last_ev = natter_test_get_int (e, "message.id");
      natter_assert_str (e, "message.body", body);
    }
}

/* Reads run off the main loop now (natterd-reads.c): a read still under
 * way when its connection logs out is answered as the user who asked
 * would see it, and everything is answered in request order. */
static void
test_reads_across_logout (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  static const char *const batch =
    "{\"type\":\"send\",\"id\":1,\"to\":\"@bob\",\"body\":\"pizza tonight\",\"client_msg_id\":\"r1\"}\n"
    "{\"type\":\"history\",\"id\":2,\"conversation\":\"@bob\"}\n"
    "{\"type\":\"sync\",\"id\":3}\n"
    "{\"type\":\"search\",\"id\":4,\"query\":\"piz\"}\n"
    "{\"type\":\"conversations\",\"id\":5}\n"
    "{\"type\":\"logout\",\"id\":6}\n"
    "{\"type\":\"history\",\"id\":7,\"conversation\":\"@bob\"}\n";

  natter_test_client_send_raw (alice, batch, strlen (batch));
  for (gint64 re = 1; re <= 7; re++)
    {
      g_autoptr(JsonObject) r = natter_test_client_next (alice);

      natter_assert_int (r, "re", re);
      if (re == 7)
        {
          natter_assert_error (r, "not_authenticated");
          continue;
        }
      natter_assert_ok (r);
      if (re == 2 || re == 4)
        {
          natter_assert_str (r, "messages.0.conversation", "@bob");
          natter_assert_str (r, "messages.0.body", "pizza tonight");
        }
      if (re == 3)
        natter_assert_str (r, "messages.0.from", "alice");
      if (re == 5)
        natter_assert_str (r, "conversations.0.conversation", "@bob");
    }
  /* bob got the message, and the server is well. */
  {
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "message");
    natter_assert_str (e, "message.conversation", "@alice");
  }
  natter_test_client_sync_ping (bob);
}

/* A client that pipelines many reads and reads none of the answers costs
 * natterd about what it costs when it does not read anything else: its
 * pages are not all held at once (a thousand 3 MB history pages took
 * natterd to 3 GB, and kept its main loop from answering anyone for
 * seconds), and other clients are answered meanwhile. */
static void
test_pipelined_reads_memory (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(GString) frames = g_string_new (NULL);
  g_autofree char *body = util_repeat ('x', 16000);
  gint64 before;

  /* Two hundred messages of 16 kB: a history page of 3.2 MB. */
  for (int i = 1; i <= 200; i++)
    g_string_append_printf (frames, "{\"type\":\"send\",\"id\":%d,\"to\":\"@bob\",\"body\":\"%s\","
                            "\"client_msg_id\":\"big-%d\"}\n", 100000 + i, body, i);
  natter_test_client_send_raw (alice, frames->str, frames->len);
  {
    g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, 100200);
    natter_assert_ok (r);
  }
  natter_test_client_clear_queue (alice);
  before = util_natterd_peak_kb (srv);

  g_string_truncate (frames, 0);
  for (int i = 1; i <= 1000; i++)
    g_string_append_printf (frames, "{\"type\":\"history\",\"id\":%d,\"conversation\":\"@alice\","
                            "\"limit\":200}\n", 200000 + i);
  natter_test_client_send_raw (bob, frames->str, frames->len);
  /* Alice is answered meanwhile, within the usual deadline. */
  for (int i = 0; i < 20; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":1}");
    }
  /* Bob reads nothing (and is dropped as a slow reader): natterd held a
   * few of his pages at a time, not a thousand. */
  g_assert_cmpint (util_natterd_peak_kb (srv) - before, <, 256 * 1024);
}

static void
test_history_paging (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(GArray) sent = g_array_new (FALSE, FALSE, sizeof (gint64));
  GString *batch = g_string_new (NULL);
  gint64 before = 0;
  guint got = 0;

  /* 210 messages, from both sides, and a message elsewhere. */
  for (guint i = 0; i < 210; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"h%u\","
                            "\"client_msg_id\":\"h%u\"}\n", i, i, i);
  natter_test_client_send_raw (alice, batch->str, batch->len);
  g_string_free (batch, TRUE);
  for (guint i = 0; i < 210; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, i);
      gint64 id = natter_test_get_int (r, "message.id");

      g_array_append_val (sent, id);
    }
  util_send (carol, "@alice", "elsewhere", "x1");

  /* Without a limit: the newest 50, oldest first, has_more. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@alice\"}");
    JsonArray *ms = natter_test_get_array (h, "messages");
    g_autoptr(GArray) ids = util_message_ids (ms);

    g_assert_cmpuint (ids->len, ==, 50);
    g_assert_true (natter_test_get_bool (h, "has_more"));
    for (guint i = 0; i < 50; i++)
      g_assert_cmpint (g_array_index (ids, gint64, i), ==, g_array_index (sent, gint64, 160 + i));
    /* As bob sees it. */
    natter_assert_str (json_array_get_object_element (ms, 0), "conversation", "@alice");
    util_assert_message_object (json_array_get_object_element (ms, 0));
  }
  /* A limit over 200 is capped at 200. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@alice\",\"limit\":1000}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 200);
    g_assert_true (natter_test_get_bool (h, "has_more"));
  }
  /* Paging backwards with before, 64 at a time, covers everything once. */
  for (;;)
    {
      g_autoptr(JsonObject) h = NULL;
      g_autoptr(GArray) ids = NULL;
      guint first;

      if (before == 0)
        h = natter_test_client_request_ok (alice,
            "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":64}");
      else
        h = natter_test_client_request_ok (alice,
            "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":64,\"before\":%" G_GINT64_FORMAT "}",
            before);
      ids = util_message_ids (natter_test_get_array (h, "messages"));
      g_assert_cmpuint (ids->len, <=, 64);
      g_assert_cmpuint (got + ids->len, <=, 210);
      first = 210 - got - ids->len;
      for (guint i = 0; i < ids->len; i++)
        g_assert_cmpint (g_array_index (ids, gint64, i), ==, g_array_index (sent, gint64, first + i));
      got += ids->len;
      if (!natter_test_get_bool (h, "has_more"))
        break;
      g_assert_cmpuint (ids->len, ==, 64);
      before = g_array_index (ids, gint64, 0);
    }
  g_assert_cmpuint (got, ==, 210);

  /* before the very first: empty. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (alice,
        "{\"type\":\"history\",\"conversation\":\"@bob\",\"before\":%" G_GINT64_FORMAT "}",
        g_array_index (sent, gint64, 0));

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 0);
    g_assert_false (natter_test_get_bool (h, "has_more"));
  }
  /* An empty conversation, and errors. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@carol\"}");
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "not_found",
        "{\"type\":\"history\",\"conversation\":\"@nobody\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"history\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"history\",\"conversation\":\"@alice\",\"limit\":0}");
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"history\",\"conversation\":\"@alice\",\"limit\":-3}");
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"history\",\"conversation\":\"alice\"}");
    g_autoptr(JsonObject) e6 = natter_test_client_request_error (bob, "not_found",
        "{\"type\":\"history\",\"conversation\":\"#nowhere\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 0);
    g_assert_false (natter_test_get_bool (h, "has_more"));
  }
  /* carol's conversation with alice is not bob's business (and bob's
   * history of @carol is his own, empty). */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (carol,
        "{\"type\":\"history\",\"conversation\":\"@bob\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 0);
  }
}

static void
test_sync_paging (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  gint64 since = 0, prev = 0;
  guint pages = 0;

  util_room_create (alice, "#sync");
  util_room_join (bob, "#sync");

  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *cm = g_strdup_printf ("s%u", i);
      const char *to = (i % 3 == 0) ? "#sync" : "@bob";
      gint64 id = util_send (i % 2 ? alice : bob, i % 2 ? to : (i % 3 == 0 ? "#sync" : "@alice"), cm, cm);

      g_hash_table_add (expected, g_memdup2 (&id, sizeof id));
    }
  /* Not alice's: carol and bob. */
  util_send (carol, "@bob", "private", "p1");

  /* Pages of 5: every message of alice's conversations once, in id order,
   * last_id = the last id returned. */
  for (;;)
    {
      g_autoptr(JsonObject) s = natter_test_client_request_ok (alice,
          "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":5}", since);
      JsonArray *ms = natter_test_get_array (s, "messages");
      g_autoptr(GArray) ids = util_message_ids (ms);

      g_assert_cmpuint (ids->len, <=, 5);
      for (guint i = 0; i < ids->len; i++)
        {
          gint64 id = g_array_index (ids, gint64, i);

          g_assert_cmpint (id, >, prev);
          prev = id;
          g_assert_true (g_hash_table_remove (expected, &id));
          util_assert_message_object (json_array_get_object_element (ms, i));
        }
      if (ids->len > 0)
        natter_assert_int (s, "last_id", g_array_index (ids, gint64, ids->len - 1));
      else
        natter_assert_int (s, "last_id", since);
      since = natter_test_get_int (s, "last_id");
      pages++;
      if (!natter_test_get_bool (s, "has_more"))
        break;
      g_assert_cmpuint (pages, <, 10);
    }
  g_assert_cmpuint (g_hash_table_size (expected), ==, 0);

  /* Nothing new: empty, last_id = since. */
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (alice,
        "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT "}", since);

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 0);
    g_assert_false (natter_test_get_bool (s, "has_more"));
    natter_assert_int (s, "last_id", since);
  }
  /* Conversation addresses are as the receiver sees them. */
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (alice, "{\"type\":\"sync\",\"since\":0}");
    JsonArray *ms = natter_test_get_array (s, "messages");

    for (guint i = 0; i < json_array_get_length (ms); i++)
      {
        const char *conv = natter_test_get_str (json_array_get_object_element (ms, i), "conversation");

        g_assert_true (g_str_equal (conv, "@bob") || g_str_equal (conv, "#sync"));
      }
  }
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"sync\",\"since\":-1}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"sync\",\"since\":0,\"limit\":0}");
  }
}

static void
test_sync_default_and_cap (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  GString *batch = g_string_new (NULL);
  const guint n = 1100;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"m\","
                            "\"client_msg_id\":\"d%u\"}\n", i, i);
  natter_test_client_send_raw (alice, batch->str, batch->len);
  g_string_free (batch, TRUE);
  {
    g_autoptr(JsonObject) last = natter_test_client_wait_re (alice, n - 1);

    natter_assert_ok (last);
  }
  natter_test_client_clear_queue (alice);
  /* Default 500, cap 1000. */
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob, "{\"type\":\"sync\",\"since\":0}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 500);
    g_assert_true (natter_test_get_bool (s, "has_more"));
  }
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob,
        "{\"type\":\"sync\",\"since\":0,\"limit\":5000}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 1000);
    g_assert_true (natter_test_get_bool (s, "has_more"));
  }
}

static void
test_big_pages_fit (void)
{
  /* Pages are cut short to stay under 4 MiB, with has_more. 300 messages
   * of 16 KiB would make a 4.8 MiB sync page. */
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autofree char *body = util_repeat ('w', 16384);
  GString *batch = g_string_new (NULL);
  gint64 since = 0;
  guint total = 0;

  for (guint i = 0; i < 300; i++)
    g_string_append_printf (batch, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"%s\","
                            "\"client_msg_id\":\"w%u\"}\n", i, body, i);
  natter_test_client_send_raw (alice, batch->str, batch->len);
  g_string_free (batch, TRUE);
  {
    g_autoptr(JsonObject) last = natter_test_client_wait_re (alice, 299);
  }
  natter_test_client_clear_queue (alice);

  for (guint round = 0; round < 10; round++)
    {
      g_autoptr(JsonObject) s = natter_test_client_request_ok (bob,
          "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":1000}", since);
      g_autofree char *text = natter_test_to_string (s);

      /* The frame (plus its newline) is at most 4 MiB. */
      g_assert_cmpuint (strlen (text), <, 4 * 1024 * 1024);
      total += json_array_get_length (natter_test_get_array (s, "messages"));
      since = natter_test_get_int (s, "last_id");
      if (!natter_test_get_bool (s, "has_more"))
        break;
    }
  g_assert_cmpuint (total, ==, 300);

  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@alice\",\"limit\":200}");
    g_autofree char *text = natter_test_to_string (h);

    g_assert_cmpuint (strlen (text), <, 4 * 1024 * 1024);
    g_assert_true (natter_test_get_bool (h, "has_more"));
  }
}

/* Writes on the main connection (room_create, room_join: they pause the
 * writer thread) while another client keeps a window of sends open, which
 * keeps the writer committing back to back: every request of both is
 * answered ok, and every message is stored once. */
static void
test_writes_during_sends (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  GString *sends = g_string_new (NULL);
  GString *rooms = g_string_new (NULL);
  const guint n_sends = 600, n_rooms = 40;
  gint64 since = 0;
  guint total = 0;

  for (guint i = 0; i < n_sends; i++)
    g_string_append_printf (sends, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\","
                            "\"body\":\"m %u\",\"client_msg_id\":\"w%u\"}\n", i, i, i);
  for (guint i = 0; i < n_rooms; i++)
    g_string_append_printf (rooms, "{\"type\":\"room_create\",\"id\":%u,\"room\":\"#w%u\"}\n"
                            "{\"type\":\"read\",\"id\":%u,\"conversation\":\"@alice\",\"up_to\":%u}\n",
                            2 * i, i, 2 * i + 1, i);
  natter_test_client_send_raw (alice, sends->str, sends->len);
  natter_test_client_send_raw (bob, rooms->str, rooms->len);
  g_string_free (sends, TRUE);
  g_string_free (rooms, TRUE);

  for (guint i = 0; i < 2 * n_rooms; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (bob, i);
      natter_assert_ok (r);
    }
  for (guint i = 0; i < n_sends; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, i);
      natter_assert_ok (r);
    }

  for (guint round = 0; round < 10; round++)
    {
      g_autoptr(JsonObject) page = natter_test_client_request_ok (bob,
          "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":1000}", since);

      total += json_array_get_length (natter_test_get_array (page, "messages"));
      since = natter_test_get_int (page, "last_id");
      if (!natter_test_get_bool (page, "has_more"))
        break;
    }
  g_assert_cmpuint (total, ==, n_sends);
}

/* 300 rooms, each with a 16 KiB last message: the whole list would be
 * 4.8 MiB. Every conversation is still listed, in one frame under 4 MiB;
 * the newest keep their last message, the oldest come without it. */
static void
test_big_conversation_list_fits (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autofree char *body = util_repeat ('c', 16384);
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *text = NULL;
  GString *batch = g_string_new (NULL);
  JsonArray *convs;
  guint with_message = 0;

  for (guint i = 0; i < 300; i++)
    g_string_append_printf (batch,
                            "{\"type\":\"room_create\",\"id\":\"c%u\",\"room\":\"#r%u\"}\n"
                            "{\"type\":\"send\",\"id\":%u,\"to\":\"#r%u\",\"body\":\"%s\","
                            "\"client_msg_id\":\"c%u\"}\n", i, i, i, i, body, i);
  natter_test_client_send_raw (alice, batch->str, batch->len);
  g_string_free (batch, TRUE);
  {
    g_autoptr(JsonObject) last = natter_test_client_wait_re (alice, 299);
  }
  natter_test_client_clear_queue (alice);

  reply = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");
  text = natter_test_to_string (reply);
  g_assert_cmpuint (strlen (text), <, 4 * 1024 * 1024);
  convs = natter_test_get_array (reply, "conversations");
  g_assert_cmpuint (json_array_get_length (convs), ==, 300);
  for (guint i = 0; i < 300; i++)
    {
      JsonObject *c = json_array_get_object_element (convs, i);
      g_autofree char *address = g_strdup_printf ("#r%u", 299 - i);

      /* Most recent first, and once a last message is left out, it is
       * left out for every older conversation too. */
      g_assert_cmpstr (natter_test_get_str (c, "conversation"), ==, address);
      if (!json_object_get_null_member (c, "last_message"))
        {
          g_assert_cmpuint (with_message, ==, i);
          with_message++;
        }
    }
  g_assert_cmpuint (with_message, >, 200);
  g_assert_cmpuint (with_message, <, 300);
}

static JsonObject *
find_conversation (JsonObject *reply,
                   const char *address)
{
  JsonArray *convs = natter_test_get_array (reply, "conversations");

  for (guint i = 0; i < json_array_get_length (convs); i++)
    {
      JsonObject *c = json_array_get_object_element (convs, i);

      if (g_strcmp0 (natter_test_get_str (c, "conversation"), address) == 0)
        return c;
    }
  return NULL;
}

static void
test_conversations_and_read (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  gint64 b1, b2, b3, c1;

  b1 = util_send (bob, "@alice", "one", "b1");
  b2 = util_send (bob, "@alice", "two", "b2");
  b3 = util_send (bob, "@alice", "three", "b3");
  c1 = util_send (carol, "@alice", "from carol", "c1");

  /* Most recent first; unread counts; last_message. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");
    JsonArray *convs = natter_test_get_array (r, "conversations");
    JsonObject *cb = find_conversation (r, "@bob");
    JsonObject *cc = find_conversation (r, "@carol");

    g_assert_cmpuint (json_array_get_length (convs), ==, 2);
    natter_assert_str (json_array_get_object_element (convs, 0), "conversation", "@carol");
    g_assert_nonnull (cb);
    g_assert_nonnull (cc);
    natter_assert_int (cb, "unread", 3);
    natter_assert_int (cc, "unread", 1);
    natter_assert_int (cb, "last_message.id", b3);
    natter_assert_str (cb, "last_message.conversation", "@bob");
    util_assert_message_object (natter_test_get_object (cb, "last_message"));
    natter_assert_int (cc, "last_message.id", c1);
  }

  /* A read marker: stored, pushed to bob and to alice's other device. */
  natter_test_client_clear_queue (alice2);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"read\",\"conversation\":\"@bob\",\"up_to\":%" G_GINT64_FORMAT "}", b2);
    g_autoptr(JsonObject) eb = natter_test_client_wait_type (bob, "read");
    g_autoptr(JsonObject) ea2 = natter_test_client_wait_type (alice2, "read");

    natter_assert_str (eb, "conversation", "@alice");
    natter_assert_str (eb, "user", "alice");
    natter_assert_int (eb, "up_to", b2);
    natter_assert_str (ea2, "conversation", "@bob");
    natter_assert_str (ea2, "user", "alice");
    natter_assert_int (ea2, "up_to", b2);
  }
  natter_test_client_expect_no_frame_of_type (carol, "read");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");
    JsonObject *cb = find_conversation (r, "@bob");

    natter_assert_int (cb, "unread", 1);
    natter_assert_int (cb, "read_up_to", b2);
  }

  /* It never moves back. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"read\",\"conversation\":\"@bob\",\"up_to\":%" G_GINT64_FORMAT "}", b1);
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");
    JsonObject *cb = find_conversation (r, "@bob");

    natter_assert_int (cb, "unread", 1);
    natter_assert_int (cb, "read_up_to", b2);
  }
  /* Any read event pushed for it does not move back either. */
  natter_test_client_sync_ping (bob);
  {
    JsonObject *e;

    while ((e = natter_test_client_take_queued (bob, "read")) != NULL)
      {
        natter_assert_int (e, "up_to", b2);
        json_object_unref (e);
      }
  }

  /* Reading up to the newest: no unread. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"read\",\"conversation\":\"@bob\",\"up_to\":%" G_GINT64_FORMAT "}", b3);
    g_autoptr(JsonObject) c = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");

    natter_assert_int (find_conversation (c, "@bob"), "unread", 0);
    natter_assert_int (find_conversation (c, "@bob"), "read_up_to", b3);
  }

  /* A new message moves the conversation to the top. */
  util_send (bob, "@alice", "four", "b4");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");

    natter_assert_str (json_array_get_object_element (natter_test_get_array (r, "conversations"), 0),
                       "conversation", "@bob");
    natter_assert_int (find_conversation (r, "@bob"), "unread", 1);
  }
  /* One's own messages are never unread. */
  util_send (alice, "@bob", "my reply", "a1");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");

    natter_assert_int (find_conversation (r, "@bob"), "unread", 1);
  }

  /* Errors. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"read\",\"conversation\":\"@bob\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"read\",\"up_to\":1}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"read\",\"conversation\":\"@nobody\",\"up_to\":1}");
  }
}

static void
test_search (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  gint64 m1, m2, m3;

  util_room_create (carol, "#secret");
  m1 = util_send (alice, "@bob", "shall we have lunch today?", "s1");
  m2 = util_send (bob, "@alice", "lunch at noon works", "s2");
  util_send (alice, "@bob", "dinner later", "s3");
  m3 = util_send (carol, "#secret", "secret lunch plans", "s4");
  util_send (carol, "@bob", "lunch with carol", "s5");

  /* alice finds her two, newest first; not carol's. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"search\",\"query\":\"lunch\",\"limit\":50}");
    g_autoptr(GArray) ids = util_message_ids (natter_test_get_array (r, "messages"));

    g_assert_cmpuint (ids->len, ==, 2);
    g_assert_cmpint (g_array_index (ids, gint64, 0), ==, m2);
    g_assert_cmpint (g_array_index (ids, gint64, 1), ==, m1);
    natter_assert_str (json_array_get_object_element (natter_test_get_array (r, "messages"), 0),
                       "conversation", "@bob");
  }
  /* Limited to one conversation. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"search\",\"query\":\"lunch\",\"conversation\":\"@carol\"}");
    g_autoptr(GArray) ids = util_message_ids (natter_test_get_array (r, "messages"));

    g_assert_cmpuint (ids->len, ==, 1);
    natter_assert_str (json_array_get_object_element (natter_test_get_array (r, "messages"), 0),
                       "body", "lunch with carol");
  }
  /* Room messages: the member finds them; others do not, and may not
   * search the room. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
        "{\"type\":\"search\",\"query\":\"secret\"}");
    g_autoptr(GArray) ids = util_message_ids (natter_test_get_array (r, "messages"));

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_cmpint (g_array_index (ids, gint64, 0), ==, m3);
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"search\",\"query\":\"secret\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "messages")), ==, 0);
  }
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (alice, "forbidden",
        "{\"type\":\"search\",\"query\":\"secret\",\"conversation\":\"#secret\"}");
  }
  /* limit. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"search\",\"query\":\"lunch\",\"limit\":1}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "messages")), ==, 1);
  }
  /* Search syntax in the query is not an error (nor an injection). */
  {
    g_autoptr(JsonObject) r1 = natter_test_client_request_ok (alice,
        "{\"type\":\"search\",\"query\":\"lunch OR \\\"\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (alice,
        "{\"type\":\"search\",\"query\":\"* NEAR( ) ^ - :\"}");
    g_autoptr(JsonObject) r3 = natter_test_client_request_ok (alice,
        "{\"type\":\"search\",\"query\":\"') ; DROP TABLE messages; --\"}");
  }
  /* Errors: missing, empty, over 256 bytes. */
  {
    g_autofree char *long_query = util_repeat ('q', 257);
    g_autofree char *max_query = util_repeat ('q', 256);
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"search\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"search\",\"query\":\"\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"search\",\"query\":\"%s\"}", long_query);
    g_autoptr(JsonObject) ok = natter_test_client_request_ok (alice,
        "{\"type\":\"search\",\"query\":\"%s\"}", max_query);
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"search\",\"query\":\"x\",\"conversation\":\"#nowhere\"}");
  }
  /* The messages still exist after all that. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (alice,
        "{\"type\":\"history\",\"conversation\":\"@bob\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 3);
  }
}

static void
test_typing (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"typing\",\"to\":\"@bob\",\"state\":\"active\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "typing");

    natter_assert_str (e, "conversation", "@alice");
    natter_assert_str (e, "user", "alice");
    natter_assert_str (e, "state", "active");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"typing\",\"to\":\"@bob\",\"state\":\"paused\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "typing");

    natter_assert_str (e, "state", "paused");
  }
  natter_test_client_expect_no_frame_of_type (carol, "typing");

  /* In a room: the other members. */
  util_room_create (alice, "#typing");
  util_room_join (bob, "#typing");
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"typing\",\"to\":\"#typing\",\"state\":\"active\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "typing");

    natter_assert_str (e, "conversation", "#typing");
    natter_assert_str (e, "user", "alice");
  }
  natter_test_client_expect_no_frame_of_type (carol, "typing");

  /* Errors. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"typing\",\"to\":\"@bob\",\"state\":\"dancing\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"typing\",\"to\":\"@bob\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"typing\",\"to\":\"@nobody\",\"state\":\"active\"}");
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (carol, "forbidden",
        "{\"type\":\"typing\",\"to\":\"#typing\",\"state\":\"active\"}");
  }
  natter_test_client_expect_no_frame_of_type (bob, "typing");

  /* Not stored. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@alice\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 0);
  }
}

static void
test_offline_sync (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  gint64 since = 0;
  guint found = 0;

  {
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

    util_room_create (alice, "#team");
    util_room_join (bob, "#team");
  }
  /* bob is offline now. */
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *body = g_strdup_printf ("dm %u", i);

      util_send (alice, "@bob", body, body);
      g_ptr_array_add (expected, g_steal_pointer (&body));
    }
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *body = g_strdup_printf ("room %u", i);

      util_send (alice, "#team", body, body);
      g_ptr_array_add (expected, g_steal_pointer (&body));
    }

  {
    g_autoptr(NatterTestClient) bob = natter_test_client_new_login (srv, "bob");

    /* Nothing is pushed for what happened while away: sync fetches it. */
    for (;;)
      {
        g_autoptr(JsonObject) s = natter_test_client_request_ok (bob,
            "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":3}", since);
        JsonArray *ms = natter_test_get_array (s, "messages");

        for (guint i = 0; i < json_array_get_length (ms); i++)
          {
            JsonObject *m = json_array_get_object_element (ms, i);
            const char *body = natter_test_get_str (m, "body");

            g_assert_cmpstr (body, ==, expected->pdata[found]);
            natter_assert_str (m, "conversation", g_str_has_prefix (body, "dm") ? "@alice" : "#team");
            found++;
          }
        since = natter_test_get_int (s, "last_id");
        if (!natter_test_get_bool (s, "has_more"))
          break;
      }
    g_assert_cmpuint (found, ==, expected->len);

    {
      g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"conversations\"}");

      natter_assert_int (find_conversation (r, "@alice"), "unread", 5);
      natter_assert_int (find_conversation (r, "#team"), "unread", 3);
      natter_assert_str (json_array_get_object_element (natter_test_get_array (r, "conversations"), 0),
                         "conversation", "#team");
    }
  }
}

static void
test_note_to_self (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) a1 = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) a2 = natter_test_client_new_login (srv, "alice");
  gint64 id;

  natter_test_client_sync_ping (a2);
  natter_test_client_clear_queue (a2);
  /* "@alice" from alice: a conversation with oneself, like any other. */
  id = util_send (a1, "@alice", "note to self", "n1");
  {
    g_autoptr(JsonObject) e = natter_test_client_wait_type (a2, "message");
    g_autoptr(JsonObject) h = natter_test_client_request_ok (a1,
        "{\"type\":\"history\",\"conversation\":\"@alice\"}");
    g_autoptr(JsonObject) s = natter_test_client_request_ok (a2, "{\"type\":\"sync\",\"since\":0}");

    natter_assert_int (e, "message.id", id);
    natter_assert_str (e, "message.conversation", "@alice");
    natter_assert_int (h, "messages.0.id", id);
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 1);
  }
  natter_test_client_expect_no_frame_of_type (a1, "message");
}

static void
test_pipelined_send_then_read (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

  /* A send waits for its commit; the requests after it are handled after
   * it and answered after it. */
  natter_test_client_send (alice,
      "{\"type\":\"send\",\"id\":1,\"to\":\"@bob\",\"body\":\"first\",\"client_msg_id\":\"p1\"}\n"
      "{\"type\":\"ping\",\"id\":2}\n"
      "{\"type\":\"history\",\"id\":3,\"conversation\":\"@bob\"}\n"
      "{\"type\":\"send\",\"id\":4,\"to\":\"@nobody\",\"body\":\"x\",\"client_msg_id\":\"p2\"}\n"
      "{\"type\":\"conversations\",\"id\":5}");
  {
    g_autoptr(JsonObject) r1 = natter_test_client_next (alice);
    g_autoptr(JsonObject) r2 = natter_test_client_next (alice);
    g_autoptr(JsonObject) r3 = natter_test_client_next (alice);
    g_autoptr(JsonObject) r4 = natter_test_client_next (alice);
    g_autoptr(JsonObject) r5 = natter_test_client_next (alice);

    natter_assert_int (r1, "re", 1);
    natter_assert_ok (r1);
    natter_assert_int (r2, "re", 2);
    natter_assert_type (r2, "pong");
    natter_assert_int (r3, "re", 3);
    natter_assert_ok (r3);
    natter_assert_int (r3, "messages.0.id", natter_test_get_int (r1, "message.id"));
    natter_assert_int (r4, "re", 4);
    natter_assert_error (r4, "not_found");
    natter_assert_int (r5, "re", 5);
    natter_assert_str (r5, "conversations.0.conversation", "@bob");
  }
}

/* A client that syncs while messages keep coming, and merges the live
 * events by id, misses nothing. */
static void
test_sync_while_sending (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GHashTable) acked = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
  gint64 since = 0;
  gboolean synced = FALSE;

  {
    g_autoptr(NatterTestClient) b = natter_test_client_new_user (srv, "bob");
  }
  for (guint batch = 0; batch < 8; batch++)
    {
      GString *s = g_string_new (NULL);

      for (guint i = batch * 50; i < batch * 50 + 50; i++)
        g_string_append_printf (s, "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"w%u\","
                                "\"client_msg_id\":\"w%u\"}\n", i, i, i);
      natter_test_client_send_raw (alice, s->str, s->len);
      g_string_free (s, TRUE);

      /* bob comes online in the middle of the stream and starts syncing
       * from 0 at once, a page per batch. */
      if (batch == 2)
        bob = natter_test_client_new_login (srv, "bob");
      if (bob != NULL && !synced)
        {
          g_autoptr(JsonObject) page = natter_test_client_request_ok (bob,
              "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":40}", since);
          JsonArray *ms = natter_test_get_array (page, "messages");

          for (guint j = 0; j < json_array_get_length (ms); j++)
            {
              gint64 *id = g_new (gint64, 1);

              *id = natter_test_get_int (json_array_get_object_element (ms, j), "id");
              g_ptr_array_add (keep, id);
              g_hash_table_add (seen, id);
            }
          since = natter_test_get_int (page, "last_id");
          synced = !natter_test_get_bool (page, "has_more");
        }

      for (guint i = batch * 50; i < batch * 50 + 50; i++)
        {
          g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, i);
          gint64 *id = g_new (gint64, 1);

          natter_assert_ok (r);
          *id = natter_test_get_int (r, "message.id");
          g_ptr_array_add (keep, id);
          g_hash_table_add (acked, id);
        }
    }
  /* Finish the sync, then take every live event bob got. */
  while (!synced)
    {
      g_autoptr(JsonObject) page = natter_test_client_request_ok (bob,
          "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":40}", since);
      JsonArray *ms = natter_test_get_array (page, "messages");

      for (guint j = 0; j < json_array_get_length (ms); j++)
        {
          gint64 *id = g_new (gint64, 1);

          *id = natter_test_get_int (json_array_get_object_element (ms, j), "id");
          g_ptr_array_add (keep, id);
          g_hash_table_add (seen, id);
        }
      since = natter_test_get_int (page, "last_id");
      synced = !natter_test_get_bool (page, "has_more");
    }
  natter_test_client_sync_ping (bob);
  {
    JsonObject *e;
    gint64 last = 0;

    while ((e = natter_test_client_take_queued (bob, "message")) != NULL)
      {
        gint64 *id = g_new (gint64, 1);

        *id = natter_test_get_int (e, "message.id");
        /* Live events come in id order. */
        g_assert_cmpint (*id, >, last);
        last = *id;
        g_ptr_array_add (keep, id);
        g_hash_table_add (seen, id);
        json_object_unref (e);
      }
  }
  {
    GHashTableIter iter;
    gpointer key;
    guint missing = 0;

    g_hash_table_iter_init (&iter, acked);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (!g_hash_table_contains (seen, key))
        missing++;
    natter_test_note ("%u acked, %u seen by bob, %u missing", g_hash_table_size (acked),
                      g_hash_table_size (seen), missing);
    g_assert_cmpuint (missing, ==, 0);
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/messages/send-direct", test_send_direct);
  natter_test_add ("/messages/send-errors", test_send_errors);
  natter_test_add ("/messages/idempotent-resend", test_idempotent_resend);
  natter_test_add ("/messages/delivery-order", test_delivery_order);
  natter_test_add ("/messages/reads-across-logout", test_reads_across_logout);
  natter_test_add ("/messages/pipelined-reads-memory", test_pipelined_reads_memory);
  natter_test_add ("/messages/history-paging", test_history_paging);
  natter_test_add ("/messages/sync-paging", test_sync_paging);
  natter_test_add ("/messages/sync-default-and-cap", test_sync_default_and_cap);
  natter_test_add ("/messages/big-pages-fit", test_big_pages_fit);
  natter_test_add ("/messages/big-conversation-list-fits", test_big_conversation_list_fits);
  natter_test_add ("/messages/writes-during-sends", test_writes_during_sends);
  natter_test_add ("/messages/conversations-and-read", test_conversations_and_read);
  natter_test_add ("/messages/search", test_search);
  natter_test_add ("/messages/typing", test_typing);
  natter_test_add ("/messages/offline-sync", test_offline_sync);
  natter_test_add ("/messages/note-to-self", test_note_to_self);
  natter_test_add ("/messages/pipelined-send-then-read", test_pipelined_send_then_read);
  natter_test_add ("/messages/sync-while-sending", test_sync_while_sending);

  return g_test_run ();
}
