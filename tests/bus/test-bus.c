/* test-bus.c: natterd's bus (server/bus/) on its own, against a real Redis
 * each test starts (natter-test-redis.h): addresses, pub/sub between two
 * buses, binary and large payloads, order, commands, a Redis restart, a
 * Redis gone silent (SIGSTOP), a refused connection, the caps, the Unix
 * socket, and freeing a bus with commands waiting.
 */
#define G_LOG_DOMAIN "test-bus"

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "natter-test-redis.h"
#include "natter-test-server.h"
#include "natter-test-throwaway.h"
#include "natterd-bus.h"
#include "natterd-bus-address.h"

#define CHANNEL "natter:test"

typedef struct {
  NatterTestRedis *redis;
} Fixture;

/* One bus and what it saw. */
typedef struct {
  NatterdBus *bus;
  GArray     *states;    /* gboolean, in the order the state function said them */
  GPtrArray  *messages;  /* GBytes */
} Peer;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *skip = NULL;

  f->redis = natter_test_redis_start (&skip);
  if (f->redis == NULL)
    g_test_skip (skip);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->redis, natter_test_redis_free);
}

static void
state_cb (NatterdBus *bus, gboolean connected, gpointer user_data)
{
  Peer *peer = user_data;

  g_array_append_val (peer->states, connected);
}

static void
message_cb (NatterdBus *bus, const char *channel, const guint8 *data, gsize len, gpointer user_data)
{
  Peer *peer = user_data;

  g_assert_cmpstr (channel, ==, CHANNEL);
  g_ptr_array_add (peer->messages, g_bytes_new (data, len));
}

static Peer *
peer_new (const char *address)
{
  Peer *peer = g_new0 (Peer, 1);
  g_autoptr(GError) error = NULL;

  peer->bus = natterd_bus_new (address, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (peer->bus);
  peer->states = g_array_new (FALSE, FALSE, sizeof (gboolean));
  peer->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  natterd_bus_set_state_func (peer->bus, state_cb, peer);
  natterd_bus_subscribe (peer->bus, CHANNEL, message_cb, peer);
  return peer;
}

static void
peer_free (Peer *peer)
{
  natterd_bus_free (peer->bus);
  g_array_unref (peer->states);
  g_ptr_array_unref (peer->messages);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

/* Iterates the main loop until @cond (an expression) holds, or fails
 * after @ms. */
#define WAIT_FOR(cond, ms)                                              \
  G_STMT_START {                                                        \
    gint64 wait_end_ = g_get_monotonic_time () + (gint64) (ms) * 1000;  \
    while (!(cond))                                                     \
      {                                                                 \
        if (g_get_monotonic_time () > wait_end_)                        \
          g_error ("timed out after %d ms waiting for %s", (int) (ms), #cond); \
        poke_main_loop ();                                              \
      }                                                                 \
  } G_STMT_END

/* One iteration, woken at the latest after 10 ms so that WAIT_FOR sees
 * its deadline even when nothing happens. */
static void
poke_main_loop (void)
{
  gboolean done = FALSE;

  natter_test_wait_until (NULL, &done, 10);
}

static void
wait_states (Peer *peer, guint n, guint ms)
{
  WAIT_FOR (peer->states->len >= n, ms);
  g_assert_cmpuint (peer->states->len, ==, n);
}

static gboolean
state_at (Peer *peer, guint i)
{
  return g_array_index (peer->states, gboolean, i);
}

static void
assert_bytes (GBytes *bytes, const guint8 *data, gsize len)
{
  gsize got_len = 0;
  const guint8 *got = g_bytes_get_data (bytes, &got_len);

  g_assert_cmpuint (got_len, ==, len);
  g_assert_true (len == 0 || memcmp (got, data, len) == 0);
}

/* --- addresses --- */

static void
test_address (void)
{
  static const char *bad[] = {
    "", "redis:", "http://127.0.0.1:6379", "redis://", "redis://:6379", "redis://::1:6379",
    "redis://[::1", "redis://[127.0.0.1]:1", "redis://[::1]x", "redis://host:0",
    "redis://host:70000", "redis://host:abc", "redis://host:", "redis://user@host:1",
    "redis://host/0", "redis://ho_st:1", "unix:", "unix:relative/path", "127.0.0.1:6379",
  };
  g_autofree char *long_path = g_strdup_printf ("unix:/%0200d", 0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      NatterdBus *bus = natterd_bus_new (bad[i], NULL, &error);

      g_test_message ("address \"%s\"", bad[i]);
      g_assert_null (bus);
      g_assert_error (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_INVALID_ADDRESS);
      g_assert_nonnull (strstr (error->message, bad[i]));
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (natterd_bus_new (long_path, NULL, &error));
    g_assert_error (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_INVALID_ADDRESS);
  }

  /* Parsed only: nothing connects to these. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(NatterdBusAddress) a = natterd_bus_address_parse ("redis://[::1]:7000", &error);
    g_autoptr(NatterdBusAddress) b = natterd_bus_address_parse ("redis://redis.example:1", &error);
    g_autoptr(NatterdBusAddress) c = natterd_bus_address_parse ("redis://192.0.2.1", &error);
    g_autoptr(NatterdBusAddress) d = natterd_bus_address_parse ("unix:/run/redis/redis.sock", &error);

    g_assert_no_error (error);
    g_assert_cmpstr (a->host, ==, "::1");
    g_assert_cmpuint (a->port, ==, 7000);
    g_assert_true (a->is_literal);
    g_assert_cmpstr (b->host, ==, "redis.example");
    g_assert_false (b->is_literal);
    g_assert_cmpuint (c->port, ==, NATTERD_BUS_DEFAULT_PORT);
    g_assert_true (c->is_literal);
    g_assert_null (d->host);
    g_assert_cmpstr (d->path, ==, "/run/redis/redis.sock");
  }
}

/* --- publish and subscribe --- */

static void
connect_pair (Fixture *f, Peer **a, Peer **b)
{
  g_autofree char *address = natter_test_redis_address (f->redis);

  *a = peer_new (address);
  *b = peer_new (address);
  wait_states (*a, 1, natter_test_deadline_ms ());
  wait_states (*b, 1, natter_test_deadline_ms ());
  g_assert_true (state_at (*a, 0));
  g_assert_true (natterd_bus_is_connected ((*a)->bus));
}

static void
test_pubsub (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  NatterdBusStats stats;

  if (f->redis == NULL)
    return;
  connect_pair (f, &a, &b);

  g_assert_true (natterd_bus_publish (b->bus, CHANNEL, (const guint8 *) "hello", 5));
  g_assert_true (natterd_bus_publish (b->bus, "natter:elsewhere", (const guint8 *) "x", 1));
  WAIT_FOR (a->messages->len == 1, natter_test_deadline_ms ());
  /* Two connections have no order between them: one after the other. */
  g_assert_true (natterd_bus_publish (a->bus, CHANNEL, (const guint8 *) "", 0));
  WAIT_FOR (a->messages->len == 2 && b->messages->len == 2, natter_test_deadline_ms ());
  assert_bytes (a->messages->pdata[0], (const guint8 *) "hello", 5);
  assert_bytes (b->messages->pdata[1], (const guint8 *) "", 0);

  natterd_bus_get_stats (a->bus, &stats);
  g_assert_cmpuint (stats.received, ==, 2);
  g_assert_cmpuint (stats.published, ==, 1);
  g_assert_cmpuint (stats.publish_dropped, ==, 0);
}

static void
test_binary (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  guint8 payload[512];

  if (f->redis == NULL)
    return;
  for (guint i = 0; i < sizeof payload; i++)
    payload[i] = (guint8) (i % 256);
  payload[100] = payload[101] = 0;
  connect_pair (f, &a, &b);

  g_assert_true (natterd_bus_publish (b->bus, CHANNEL, payload, sizeof payload));
  g_assert_true (natterd_bus_publish (b->bus, CHANNEL, (const guint8 *) "\0\r\n\0", 4));
  WAIT_FOR (a->messages->len == 2, natter_test_deadline_ms ());
  assert_bytes (a->messages->pdata[0], payload, sizeof payload);
  assert_bytes (a->messages->pdata[1], (const guint8 *) "\0\r\n\0", 4);
}

static void
test_large (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  gsize len = 1024 * 1024;
  g_autofree guint8 *payload = g_malloc (len);
  GRand *rand = g_rand_new_with_seed (13);

  if (f->redis == NULL)
    {
      g_rand_free (rand);
      return;
    }
  for (gsize i = 0; i < len; i++)
    payload[i] = (guint8) g_rand_int (rand);
  g_rand_free (rand);
  connect_pair (f, &a, &b);

  g_assert_true (natterd_bus_publish (b->bus, CHANNEL, payload, len));
  g_assert_true (natterd_bus_publish (b->bus, CHANNEL, (const guint8 *) "after", 5));
  WAIT_FOR (a->messages->len == 2, natter_test_deadline_ms ());
  assert_bytes (a->messages->pdata[0], payload, len);
  assert_bytes (a->messages->pdata[1], (const guint8 *) "after", 5);
}

static void
test_order (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  const guint n = 5000;

  if (f->redis == NULL)
    return;
  connect_pair (f, &a, &b);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u", i);

      g_assert_true (natterd_bus_publish (b->bus, CHANNEL, (const guint8 *) text, strlen (text)));
    }
  WAIT_FOR (a->messages->len == n, natter_test_deadline_ms ());
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u", i);

      assert_bytes (a->messages->pdata[i], (const guint8 *) text, strlen (text));
    }
}

/* --- commands --- */

typedef struct {
  gboolean         called;
  guint            calls;
  NatterdBusReplyType type;
  gint64           integer;
  char            *str;
  gsize            len;
  gsize            n_elements;
  GError          *error;
} Answer;

static void
answer_clear (Answer *answer)
{
  g_free (answer->str);
  g_clear_error (&answer->error);
  memset (answer, 0, sizeof *answer);
}

static void
reply_cb (const NatterdBusReply *reply, const GError *error, gpointer user_data)
{
  Answer *answer = user_data;

  g_assert_true ((reply == NULL) != (error == NULL));
  answer->called = TRUE;
  answer->calls++;
  if (error != NULL)
    {
      answer->error = g_error_copy (error);
      return;
    }
  answer->type = reply->type;
  answer->integer = reply->integer;
  answer->str = reply->str != NULL ? g_memdup2 (reply->str, reply->len + 1) : NULL;
  answer->len = reply->len;
  answer->n_elements = reply->n_elements;
}

/* Sends a command of NUL-terminated words. */
static void
command (NatterdBus *bus, Answer *answer, const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GArray) lens = g_array_new (FALSE, FALSE, sizeof (gsize));
  va_list args;

  va_start (args, first);
  for (const char *word = first; word != NULL; word = va_arg (args, const char *))
    {
      gsize len = strlen (word);

      g_ptr_array_add (argv, (gpointer) word);
      g_array_append_val (lens, len);
    }
  va_end (args);
  natterd_bus_command (bus, reply_cb, answer, argv->len, (const char **) argv->pdata,
                       (const gsize *) lens->data);
}

static void
test_commands (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  Answer answer = { 0 };
  const char *set_argv[] = { "SET", "presence:\0bin", "v\0v", "PX", "60000" };
  gsize set_lens[] = { 3, 13, 3, 2, 5 };

  if (f->redis == NULL)
    return;
  connect_pair (f, &a, &b);

  natterd_bus_command (a->bus, reply_cb, &answer, 5, set_argv, set_lens);
  g_assert_false (answer.called); /* never inside the call */
  WAIT_FOR (answer.called, natter_test_deadline_ms ());
  g_assert_no_error (answer.error);
  g_assert_cmpint (answer.type, ==, NATTERD_BUS_REPLY_STATUS);
  g_assert_cmpstr (answer.str, ==, "OK");
  answer_clear (&answer);

  {
    const char *get_argv[] = { "GET", "presence:\0bin" };
    gsize get_lens[] = { 3, 13 };

    natterd_bus_command (b->bus, reply_cb, &answer, 2, get_argv, get_lens);
    WAIT_FOR (answer.called, natter_test_deadline_ms ());
    g_assert_cmpint (answer.type, ==, NATTERD_BUS_REPLY_STRING);
    g_assert_cmpuint (answer.len, ==, 3);
    g_assert_true (memcmp (answer.str, "v\0v", 3) == 0);
    answer_clear (&answer);
  }

  command (a->bus, &answer, "INCRBY", "rate:alice", "5", NULL);
  WAIT_FOR (answer.called, natter_test_deadline_ms ());
  g_assert_cmpint (answer.type, ==, NATTERD_BUS_REPLY_INTEGER);
  g_assert_cmpint (answer.integer, ==, 5);
  answer_clear (&answer);

  command (a->bus, &answer, "GET", "nothing-here", NULL);
  WAIT_FOR (answer.called, natter_test_deadline_ms ());
  g_assert_cmpint (answer.type, ==, NATTERD_BUS_REPLY_NIL);
  answer_clear (&answer);

  command (a->bus, &answer, "MGET", "rate:alice", "nothing-here", NULL);
  WAIT_FOR (answer.called, natter_test_deadline_ms ());
  g_assert_cmpint (answer.type, ==, NATTERD_BUS_REPLY_ARRAY);
  g_assert_cmpuint (answer.n_elements, ==, 2);
  answer_clear (&answer);

  /* Redis's own error comes as NATTERD_BUS_ERROR_REDIS, with its text;
   * the bus goes on. */
  command (a->bus, &answer, "NOSUCHCOMMAND", "x", NULL);
  WAIT_FOR (answer.called, natter_test_deadline_ms ());
  g_assert_error (answer.error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_REDIS);
  g_assert_nonnull (strstr (answer.error->message, "unknown command"));
  g_assert_cmpuint (answer.calls, ==, 1);
  answer_clear (&answer);
  g_assert_true (natterd_bus_is_connected (a->bus));
}

/* --- a Redis restart --- */

static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  Answer blocked = { 0 }, down = { 0 };
  NatterdBusStats stats;

  if (f->redis == NULL)
    return;
  connect_pair (f, &a, &b);

  /* A command Redis holds (BLPOP waits for ever) when it stops. */
  command (a->bus, &blocked, "BLPOP", "natter:never", "0", NULL);
  natter_test_redis_stop (f->redis);
  wait_states (a, 2, natter_test_deadline_ms ());
  g_assert_false (state_at (a, 1));
  g_assert_false (natterd_bus_is_connected (a->bus));
  WAIT_FOR (blocked.called, natter_test_deadline_ms ());
  g_assert_error (blocked.error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CONNECTION_LOST);

  /* While it is down: a command fails at once, a publish is dropped. */
  command (a->bus, &down, "GET", "x", NULL);
  g_assert_false (down.called);
  WAIT_FOR (down.called, 1000);
  g_assert_error (down.error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_NOT_CONNECTED);
  g_assert_false (natterd_bus_publish (a->bus, CHANNEL, (const guint8 *) "lost", 4));
  natterd_bus_get_stats (a->bus, &stats);
  g_assert_cmpuint (stats.publish_dropped, ==, 1);
  g_assert_cmpuint (stats.links_lost, ==, 1);
  g_assert_nonnull (natterd_bus_get_last_error (a->bus));

  /* Back: both say so, with every subscription in place again. */
  natter_test_redis_start_again (f->redis);
  wait_states (a, 3, NATTERD_BUS_BACKOFF_MAX_MS + natter_test_deadline_ms ());
  wait_states (b, 3, NATTERD_BUS_BACKOFF_MAX_MS + natter_test_deadline_ms ());
  g_assert_true (state_at (a, 2));
  g_assert_true (natterd_bus_publish (b->bus, CHANNEL, (const guint8 *) "again", 5));
  WAIT_FOR (a->messages->len == 1, natter_test_deadline_ms ());
  assert_bytes (a->messages->pdata[0], (const guint8 *) "again", 5);
  g_assert_cmpuint (blocked.calls, ==, 1);
  answer_clear (&blocked);
  answer_clear (&down);
}

/* --- a Redis gone silent --- */

static gboolean
count_tick_cb (gpointer user_data)
{
  guint *ticks = user_data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

static void
test_silence (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  Answer waiting = { 0 };
  guint ticks = 0, timer;
  gint64 start, elapsed_ms;
  NatterdBusStats stats;

  if (f->redis == NULL)
    return;
  connect_pair (f, &a, &b);

  timer = g_timeout_add (50, count_tick_cb, &ticks);
  natter_test_redis_pause (f->redis);
  start = g_get_monotonic_time ();
  command (a->bus, &waiting, "GET", "x", NULL);

  wait_states (a, 2, NATTERD_BUS_SILENCE_BOUND_MS + 1000);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("silence noticed after %" G_GINT64_FORMAT " ms (bound %d ms); %u ticks",
                  elapsed_ms, NATTERD_BUS_SILENCE_BOUND_MS, ticks);
  g_assert_false (state_at (a, 1));
  /* A heartbeat may have been on its way since just before the pause. */
  g_assert_cmpint (elapsed_ms, >=, NATTERD_BUS_DEADLINE_MS - NATTERD_BUS_HEARTBEAT_MS);
  g_assert_cmpint (elapsed_ms, <=, NATTERD_BUS_SILENCE_BOUND_MS + 200);
  /* The main loop ran all along: about one tick per 50 ms. */
  g_assert_cmpuint (ticks, >=, elapsed_ms / 50 / 2);
  WAIT_FOR (waiting.called, 1000);
  g_assert_error (waiting.error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CONNECTION_LOST);

  /* Publishing into the silence: no wait, dropped and counted. */
  for (guint i = 0; i < 100; i++)
    g_assert_false (natterd_bus_publish (a->bus, CHANNEL, (const guint8 *) "x", 1));
  natterd_bus_get_stats (a->bus, &stats);
  g_assert_cmpuint (stats.publish_dropped, ==, 100);

  /* Reconnect attempts meet a silent Redis too, and give up in time. */
  WAIT_FOR (({ natterd_bus_get_stats (a->bus, &stats); stats.connect_failures >= 1; }),
            2 * NATTERD_BUS_SILENCE_BOUND_MS);
  g_assert_cmpuint (a->states->len, ==, 2);

  natter_test_redis_resume (f->redis);
  wait_states (a, 3, NATTERD_BUS_BACKOFF_MAX_MS + NATTERD_BUS_DEADLINE_MS + natter_test_deadline_ms ());
  g_assert_true (state_at (a, 2));
  g_source_remove (timer);
  answer_clear (&waiting);
}

/* --- no Redis there --- */

static void
test_refused (void)
{
  g_autofree char *address = g_strdup_printf ("redis://127.0.0.1:%u", natter_test_free_port ());
  g_autoptr(Peer) a = peer_new (address);
  Answer answer = { 0 };
  NatterdBusStats stats;
  gint64 start;

  WAIT_FOR (({ natterd_bus_get_stats (a->bus, &stats); stats.connect_failures >= 2; }),
            natter_test_deadline_ms ());
  g_assert_nonnull (strstr (natterd_bus_get_last_error (a->bus), "refused"));
  g_assert_false (natterd_bus_is_connected (a->bus));
  g_assert_cmpuint (a->states->len, ==, 0);

  command (a->bus, &answer, "GET", "x", NULL);
  g_assert_false (answer.called);
  WAIT_FOR (answer.called, 1000);
  g_assert_error (answer.error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_NOT_CONNECTED);
  answer_clear (&answer);

  /* Publishing does not wait for anything. */
  start = g_get_monotonic_time ();
  for (guint i = 0; i < 10000; i++)
    g_assert_false (natterd_bus_publish (a->bus, CHANNEL, (const guint8 *) "x", 1));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  natterd_bus_get_stats (a->bus, &stats);
  g_assert_cmpuint (stats.publish_dropped, ==, 10000);

  /* A missing Unix socket is refused the same way. */
  {
    g_autoptr(Peer) b = peer_new ("unix:/nonexistent/natter-redis.sock");

    WAIT_FOR (natterd_bus_get_last_error (b->bus) != NULL, natter_test_deadline_ms ());
    g_assert_nonnull (strstr (natterd_bus_get_last_error (b->bus), "No such file"));
  }
}

/* --- other ways to reach Redis --- */

static void
pubsub_at (const char *address)
{
  g_autoptr(Peer) a = peer_new (address);
  g_autoptr(Peer) b = peer_new (address);

  wait_states (a, 1, natter_test_deadline_ms ());
  wait_states (b, 1, natter_test_deadline_ms ());
  g_assert_true (natterd_bus_publish (b->bus, CHANNEL, (const guint8 *) "via", 3));
  WAIT_FOR (a->messages->len == 1, natter_test_deadline_ms ());
  assert_bytes (a->messages->pdata[0], (const guint8 *) "via", 3);
}

static void
test_unix (Fixture *f, gconstpointer data)
{
  g_autofree char *address = NULL;

  if (f->redis == NULL)
    return;
  address = g_strdup_printf ("unix:%s", natter_test_redis_get_socket (f->redis));
  pubsub_at (address);
}

static gboolean
has_ipv6_loopback (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);

  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

static void
test_ipv6 (Fixture *f, gconstpointer data)
{
  g_autofree char *address = NULL;

  if (f->redis == NULL)
    return;
  if (!has_ipv6_loopback ())
    {
      g_test_skip ("no IPv6 loopback on this machine");
      return;
    }
  address = g_strdup_printf ("redis://[::1]:%u", natter_test_redis_get_port (f->redis));
  pubsub_at (address);
}

static void
test_host_name (Fixture *f, gconstpointer data)
{
  g_autofree char *address = NULL;

  if (f->redis == NULL)
    return;
  /* Resolved with GResolver: localhost is 127.0.0.1 or ::1, and this
   * Redis listens on both where there is IPv6. */
  address = g_strdup_printf ("redis://localhost:%u", natter_test_redis_get_port (f->redis));
  pubsub_at (address);
}

/* --- the caps --- */

static void
test_caps (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  Answer busy = { 0 };
  NatterdBusStats stats;
  guint accepted = 0;
  gsize len = 1024 * 1024;
  g_autofree guint8 *big = g_malloc0 (len);

  if (f->redis == NULL)
    return;
  connect_pair (f, &a, &b);

  /* Nothing is answered while this runs (no main loop iteration): the
   * count of publishes waiting reaches the cap. */
  while (natterd_bus_publish (b->bus, "natter:nobody", (const guint8 *) "x", 1))
    accepted++;
  g_assert_cmpuint (accepted, <=, NATTERD_BUS_MAX_IN_FLIGHT);
  g_assert_cmpuint (accepted, >=, NATTERD_BUS_MAX_IN_FLIGHT - 1); /* a heartbeat may be out */
  command (b->bus, &busy, "GET", "x", NULL);
  WAIT_FOR (busy.called, 1000);
  g_assert_error (busy.error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_BUSY);
  answer_clear (&busy);
  natterd_bus_get_stats (b->bus, &stats);
  g_assert_cmpuint (stats.publish_dropped, ==, 1);
  g_assert_cmpuint (stats.commands_failed, ==, 1);

  /* Once Redis answered, there is room again; the bytes cap holds too. */
  WAIT_FOR (natterd_bus_publish (b->bus, "natter:nobody", (const guint8 *) "x", 1), natter_test_deadline_ms ());
  accepted = 0;
  while (natterd_bus_publish (a->bus, "natter:nobody", big, len))
    accepted++;
  g_assert_cmpuint (accepted, ==, NATTERD_BUS_MAX_IN_FLIGHT_BYTES / len - 1);
  g_assert_true (natterd_bus_is_connected (a->bus));
}

/* --- freeing with commands waiting --- */

typedef struct {
  NatterdBus *bus;
  Answer      answers[3];
} FreeInCallback;

static void
free_in_callback_cb (const NatterdBusReply *reply, const GError *error, gpointer user_data)
{
  FreeInCallback *state = user_data;

  reply_cb (reply, error, &state->answers[0]);
  natterd_bus_free (g_steal_pointer (&state->bus));
  /* The command behind it was answered inside natterd_bus_free. */
  g_assert_true (state->answers[1].called);
}

static void
test_free_pending (Fixture *f, gconstpointer data)
{
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  Answer answers[3] = { { 0 } };
  g_autofree char *address = NULL;

  if (f->redis == NULL)
    return;
  connect_pair (f, &a, &b);

  /* Sent and waiting (BLPOP is held by Redis), and queued behind it:
   * both are answered by natterd_bus_free, before it returns. */
  command (a->bus, &answers[0], "BLPOP", "natter:never", "0", NULL);
  for (guint i = 0; i < 5; i++)
    poke_main_loop (); /* on its way to Redis, or there */
  command (a->bus, &answers[1], "GET", "x", NULL);
  natterd_bus_free (g_steal_pointer (&a->bus));
  for (guint i = 0; i < 2; i++)
    {
      g_assert_true (answers[i].called);
      g_assert_error (answers[i].error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CLOSED);
      answer_clear (&answers[i]);
    }

  /* Freed from inside a reply, with another command behind it. */
  {
    FreeInCallback state = { 0 };

    address = natter_test_redis_address (f->redis);
    state.bus = natterd_bus_new (address, NULL, NULL);
    WAIT_FOR (natterd_bus_is_connected (state.bus), natter_test_deadline_ms ());
    natterd_bus_command (state.bus, free_in_callback_cb, &state, 1, (const char *[]) { "PING" },
                         (const gsize[]) { 4 });
    command (state.bus, &state.answers[1], "BLPOP", "natter:never", "0", NULL);
    WAIT_FOR (state.bus == NULL, natter_test_deadline_ms ());
    g_assert_no_error (state.answers[0].error);
    g_assert_cmpstr (state.answers[0].str, ==, "PONG");
    g_assert_error (state.answers[1].error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CLOSED);
    /* Nothing more arrives, and nothing is called again. */
    natter_test_redis_stop (f->redis);
    poke_main_loop ();
    g_assert_cmpuint (state.answers[0].calls, ==, 1);
    g_assert_cmpuint (state.answers[1].calls, ==, 1);
    answer_clear (&state.answers[0]);
    answer_clear (&state.answers[1]);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/bus/address", test_address);
  g_test_add_func ("/bus/refused", test_refused);
  g_test_add ("/bus/pubsub", Fixture, NULL, fixture_setup, test_pubsub, fixture_teardown);
  g_test_add ("/bus/binary", Fixture, NULL, fixture_setup, test_binary, fixture_teardown);
  g_test_add ("/bus/large", Fixture, NULL, fixture_setup, test_large, fixture_teardown);
  g_test_add ("/bus/order", Fixture, NULL, fixture_setup, test_order, fixture_teardown);
  g_test_add ("/bus/commands", Fixture, NULL, fixture_setup, test_commands, fixture_teardown);
  g_test_add ("/bus/unix", Fixture, NULL, fixture_setup, test_unix, fixture_teardown);
  g_test_add ("/bus/ipv6", Fixture, NULL, fixture_setup, test_ipv6, fixture_teardown);
  g_test_add ("/bus/host-name", Fixture, NULL, fixture_setup, test_host_name, fixture_teardown);
  g_test_add ("/bus/caps", Fixture, NULL, fixture_setup, test_caps, fixture_teardown);
  g_test_add ("/bus/free-pending", Fixture, NULL, fixture_setup, test_free_pending, fixture_teardown);
  g_test_add ("/bus/restart", Fixture, NULL, fixture_setup, test_restart, fixture_teardown);
  g_test_add ("/bus/silence", Fixture, NULL, fixture_setup, test_silence, fixture_teardown);

  return g_test_run ();
}
