/* test-client-throughput.c: a burst of incoming messages (a raw test client
 * pipelines thousands of sends to alice with the server's rate limits
 * raised) reaches alice's models complete, in order, once each; the rate
 * is reported. */
#define G_LOG_DOMAIN "test-client-throughput"

#include "client-test-util.h"
#include "natter-test-client.h"

typedef struct {
  guint  received;
  gint64 first_us;
  gint64 last_us;
} Counter;

static void
received_cb (NatterClient       *client,
             NatterConversation *conv,
             NatterMessage      *msg,
             Counter            *c)
{
  gint64 now = g_get_monotonic_time ();

  if (c->received++ == 0)
    c->first_us = now;
  c->last_us = now;
}

static void
test_incoming_burst (void)
{
  NatterTestServer *server = natter_test_server_start (TEST_SERVER_CONFIG
                                                       "frames_per_second=1000000\n"
                                                       "frame_burst=1000000\n", NULL);
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autoptr(GString) frames = g_string_new (NULL);
  NatterTestClient *sender;
  NatterClient *client;
  NatterConversation *conv;
  Counter counter = { 0 };
  const guint n = 5000;
  gint64 start;
  double seconds;

  client = test_client_new (server, dir);
  test_client_sign_up (client, server, alice);
  g_signal_connect (client, "message-received", G_CALLBACK (received_cb), &counter);

  sender = natter_test_client_new_user (server, bob);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (frames,
                            "{\"type\":\"send\",\"to\":\"@%s\",\"body\":\"burst message %u\","
                            "\"client_msg_id\":\"b%u\"}\n", alice, i, i);

  start = g_get_monotonic_time ();
  natter_test_client_send_raw (sender, frames->str, frames->len);

  WAIT_FOR (counter.received == n);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  g_test_message ("%u messages sent and received in %.3f s: %.0f msg/s end to end; "
                  "%.0f msg/s between the first and the last arrival",
                  n, seconds, n / seconds,
                  (n - 1) / MAX ((counter.last_us - counter.first_us) / 1e6, 1e-6));

  conv = natter_client_lookup_conversation (client, to_bob, FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpuint (test_count_messages (conv), ==, n);
  test_assert_ordered (conv);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (natter_conversation_get_messages (conv), i);
      g_autofree char *body = g_strdup_printf ("burst message %u", i);

      g_assert_cmpstr (natter_message_get_body (msg), ==, body);
    }
  g_assert_cmpuint (natter_conversation_get_unread (conv), ==, n);
  g_assert_cmpuint (natter_client_get_unread_total (client), ==, n);

  natter_test_client_free (sender);
  test_client_free (client);
  natter_test_server_free (server);
  test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  test_init ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/throughput/incoming-burst", test_incoming_burst);

  return g_test_run ();
}
