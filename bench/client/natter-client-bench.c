/* natter-client-bench: the client core (app/core) and its models under load.
 *
 *   natter-client-bench [OPTION…] open|stream
 *
 * open    a conversation of N messages (-n, default 100,000) is filled once
 *         through the protocol; then a client that was away catches up on
 *         all of it (sync), and a new client opens it as the app does (the
 *         newest page first, then paging back through everything).
 * stream  a sender sends R messages per second (-r, default 1,000) for D
 *         seconds (-d, default 10) to a signed-in client.
 *
 * The tool starts natterd itself (--natterd PATH, default $NATTERD_PATH;
 * plain TCP, the limits a load generator hits lifted as natter-bench does)
 * on a temporary data directory, or on --data-dir, which it keeps: the
 * users and the filled conversation are then made only once. Each scenario
 * prints a table for people and one JSON line for scripts.
 * docs/performance.md ("The client core") has the figures and the commands.
 */
#define G_LOG_DOMAIN "natter-client-bench"

#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-bench.h"

/* ---- the sender ------------------------------------------------------------ */

static void
send_one (BenchConn *c, gint64 now)
{
  ClientBenchSender *s = c->group;
  char body[NATTER_BENCH_MAX_BODY + 1];

  bench_fill_body (body, s->size, now, s->tag, c->sent);
  bench_conn_sendf (c, "{\"type\":\"send\",\"id\":%" G_GUINT64_FORMAT ",\"to\":\"%s\",\"body\":\"%s\","
                    "\"client_msg_id\":\"cb%08x-%" G_GUINT64_FORMAT "\"}\n",
                    c->sent, s->to, body, GPOINTER_TO_UINT (c->data), c->sent);
  c->sent++;
  c->inflight++;
  __atomic_store_n (&s->sent, c->sent, __ATOMIC_RELAXED);
  __atomic_store_n (&s->last_send_ns, now, __ATOMIC_RELAXED);
}

static void
sender_ready (BenchConn *c, gint64 now)
{
  ClientBenchSender *s = c->group;

  __atomic_store_n (&s->ready, 1, __ATOMIC_RELEASE);
}

static void
sender_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  ClientBenchSender *s = c->group;
  char type[16];

  if (!bench_frame_type (line, len, type, sizeof type) || bench_frame_int (line, len, "re") < 0)
    return; /* an event */
  if (g_str_equal (type, "error"))
    {
      if (__atomic_fetch_add (&s->errors, 1, __ATOMIC_RELAXED) < 3)
        g_printerr ("natter-client-bench: send refused: %.*s\n", (int) MIN (len, 200), line);
    }
  else if (c->acked++ == 0)
    __atomic_store_n (&s->first_id, bench_frame_int (line, len, "id"), __ATOMIC_RELAXED);
  c->inflight--;
  __atomic_store_n (&s->acked, c->acked, __ATOMIC_RELEASE);
  if (s->rate == 0 && c->sent < s->count)
    send_one (c, now);
}

static void
sender_closed (BenchConn *c, const char *why)
{
  ClientBenchSender *s = c->group;

  g_printerr ("natter-client-bench: sender connection: %s\n", why);
  __atomic_store_n (&s->lost, 1, __ATOMIC_RELEASE);
}

static const BenchConnOps sender_ops = { sender_ready, sender_line, sender_closed };

static void
rate_tick (BenchWorker *w, gint64 now, gpointer data)
{
  BenchConn *c = data;
  ClientBenchSender *s = c->group;
  gint64 interval = (gint64) (1e9 / s->rate);

  while (c->sent < s->count && c->next_at <= now)
    {
      send_one (c, now);
      c->next_at += interval;
    }
  if (c->sent < s->count)
    w->tick_at = c->next_at;
  else
    w->tick = NULL;
}

static void
go_cb (BenchWorker *w, gpointer data)
{
  BenchConn *c = data;
  ClientBenchSender *s = c->group;
  gint64 now = bench_now_ns ();

  if (s->rate > 0)
    {
      c->next_at = now;
      bench_worker_set_tick (w, rate_tick, c, now);
      return;
    }
  while (c->inflight < s->window && c->sent < s->count)
    send_one (c, now);
}

static gboolean
sender_is_ready (gpointer data)
{
  ClientBenchSender *s = data;

  return __atomic_load_n (&s->ready, __ATOMIC_ACQUIRE) || __atomic_load_n (&s->lost, __ATOMIC_ACQUIRE);
}

static gboolean
sender_is_done (gpointer data)
{
  ClientBenchSender *s = data;

  return __atomic_load_n (&s->acked, __ATOMIC_ACQUIRE) >= s->count ||
         __atomic_load_n (&s->lost, __ATOMIC_ACQUIRE);
}

gboolean
client_bench_send (ClientBenchOptions *o,
                   ClientBenchSender  *s,
                   const char         *username)
{
  BenchConn *c = bench_conn_new (bench_engine_worker (o->engine, 0), &sender_ops, s, 0,
                                 BENCH_AUTH_TOKEN, username, bench_users_token (o->users, username));
  gint64 t0, t_report;

  c->data = GUINT_TO_POINTER (g_random_int ());
  bench_conn_start (c);
  if (!client_bench_loop_run (sender_is_ready, s, o->timeout_s) || s->lost)
    {
      g_printerr ("natter-client-bench: %s could not sign in\n", username);
      bench_engine_drop_conns (o->engine);
      return FALSE;
    }
  client_bench_loop_reset ();
  bench_worker_call (c->worker, go_cb, c);
  t0 = t_report = bench_now_ns ();
  while (!client_bench_loop_run (sender_is_done, s, 5))
    {
      guint64 acked = __atomic_load_n (&s->acked, __ATOMIC_ACQUIRE);

      t_report = bench_now_ns ();
      if (t_report - t0 > (gint64) (o->timeout_s * 1e9))
        break;
      if (s->rate == 0)
        g_print ("  %" G_GUINT64_FORMAT " stored, %.0f/s\n", acked, acked / ((t_report - t0) / 1e9));
    }
  bench_engine_drop_conns (o->engine);
  return s->acked == s->count && s->errors == 0 && !s->lost;
}

/* ---- the client ------------------------------------------------------------ */

void
client_bench_result_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  ((ClientBenchResult *) user_data)->result = g_object_ref (result);
}

static gboolean
result_in (gpointer data)
{
  return ((ClientBenchResult *) data)->result != NULL;
}

GAsyncResult *
client_bench_wait (ClientBenchOptions *o,
                   ClientBenchResult  *slot)
{
  client_bench_loop_run (result_in, slot, o->timeout_s);
  return slot->result;
}

static gboolean
client_ready (gpointer data)
{
  NatterClientState state = natter_client_get_state (data);

  return state == NATTER_CLIENT_STATE_READY || state == NATTER_CLIENT_STATE_DISCONNECTED;
}

NatterClient *
client_bench_sign_in (ClientBenchOptions *o,
                      const char         *state_dir,
                      const char         *username,
                      void              (*created) (NatterClient *client,
                                                    gpointer      data),
                      gpointer            data)
{
  g_autoptr(NatterClient) client = natter_client_new (state_dir);
  g_autoptr(GError) error = NULL;
  ClientBenchResult p = { NULL };
  gboolean ok;

  if (created != NULL)
    created (client, data);
  natter_client_set_use_tls (client, FALSE);
  natter_client_connect_async (client, o->natterd->host, o->natterd->port, NULL,
                               client_bench_result_cb, &p);
  ok = client_bench_wait (o, &p) && natter_client_connect_finish (client, p.result, &error);
  g_clear_object (&p.result);
  if (!ok)
    {
      g_printerr ("natter-client-bench: connect: %s\n", error ? error->message : "timed out");
      return NULL;
    }
  natter_client_login_token_async (client, bench_users_token (o->users, username), NULL,
                                   client_bench_result_cb, &p);
  ok = client_bench_wait (o, &p) && natter_client_login_token_finish (client, p.result, &error);
  g_clear_object (&p.result);
  if (!ok || !client_bench_loop_run (client_ready, client, o->timeout_s) ||
      natter_client_get_state (client) != NATTER_CLIENT_STATE_READY)
    {
      g_printerr ("natter-client-bench: sign-in as %s: %s\n", username,
                  error ? error->message : "not READY in time");
      return NULL;
    }
  return g_steal_pointer (&client);
}

static gboolean
object_gone (gpointer data)
{
  return *(gpointer *) data == NULL;
}

void
client_bench_client_free (NatterClient *client)
{
  gpointer weak = client;

  if (client == NULL)
    return;
  g_object_add_weak_pointer (G_OBJECT (client), &weak);
  natter_client_disconnect (client);
  g_object_unref (client);
  /* Replies already handed to GTasks hold a reference until they run. */
  client_bench_loop_run (object_gone, &weak, 10);
  if (weak != NULL)
    g_object_remove_weak_pointer (G_OBJECT (client), &weak);
}

/* ---- small things ------------------------------------------------------------ */

gsize
client_bench_rss_kb (void)
{
  BenchProcSample sample;

  bench_proc_sample (getpid (), &sample);
  return sample.rss_kb;
}

gsize
client_bench_heap_kb (void)
{
  struct mallinfo2 mi = mallinfo2 ();

  return (mi.uordblks + mi.hblkhd) / 1024;
}

ClientBenchTempDir *
client_bench_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("natter-client-bench-XXXXXX", &error);

  if (dir == NULL)
    g_error ("%s", error->message);
  return dir;
}

void
client_bench_temp_dir_free (ClientBenchTempDir *dir)
{
  if (dir == NULL)
    return;
  bench_remove_dir (dir);
  g_free (dir);
}

gint64
client_bench_body_ts (const char *body,
                      guint      *tag)
{
  char *end;
  gint64 t;

  if (body == NULL || !g_str_has_prefix (body, "t="))
    return -1;
  t = g_ascii_strtoll (body + 2, &end, 10);
  if (!g_str_has_prefix (end, " s="))
    return -1;
  *tag = (guint) g_ascii_strtoull (end + 3, NULL, 10);
  return t;
}

static void
print_machine (void)
{
  g_autofree char *load = NULL;

  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  g_print ("machine: %ld CPUs, load %s", sysconf (_SC_NPROCESSORS_ONLN), load ? load : "?\n");
}

int
main (int argc, char **argv)
{
  ClientBenchOptions o = {
    .timeout_s = 600,
    .messages = 100000,
    .size = 100,
    .window = 256,
    .rate = 1000,
    .duration_s = 10,
    .conversations = 1,
  };
  gint64 messages = -1;
  int size = -1, window = -1, conversations = 1;
  const GOptionEntry entries[] = {
    { "natterd", 0, 0, G_OPTION_ARG_FILENAME, &o.natterd_path, "natterd to start (default $NATTERD_PATH)", "PATH" },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.data_dir, "Data directory for natterd (kept; default: a temporary one)", "DIR" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o.timeout_s, "Give up a phase after this many seconds (600)", "S" },
    { "messages", 'n', 0, G_OPTION_ARG_INT64, &messages, "open: messages in the conversation (100000)", "N" },
    { "size", 's', 0, G_OPTION_ARG_INT, &size, "Message body bytes (100)", "S" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &window, "open: sends in flight while filling (256)", "W" },
    { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &o.rate, "stream: messages per second (1000)", "R" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &o.duration_s, "stream: seconds (10)", "S" },
    { "conversations", 'c', 0, G_OPTION_ARG_INT, &conversations, "stream: conversations the client holds (1: the streamed one; more are rooms)", "C" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("SCENARIO — open, stream");
  g_autoptr(GError) error = NULL;
  gboolean temp_dir = FALSE;
  const char *scenario;
  int rc = 2;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("natter-client-bench: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || (!g_str_equal (argv[1], "open") && !g_str_equal (argv[1], "stream")))
    {
      g_printerr ("%s", g_option_context_get_help (ctx, TRUE, NULL));
      return 2;
    }
  scenario = argv[1];
  if (messages >= 0)
    o.messages = (guint64) messages;
  if (size >= 0)
    o.size = (guint) size;
  if (window > 0)
    o.window = (guint) window;
  o.conversations = (guint) MAX (conversations, 1);
  if (o.size < 32 || o.size > NATTER_BENCH_MAX_BODY || o.rate <= 0 || o.duration_s <= 0)
    {
      g_printerr ("natter-client-bench: --size must be 32 to %d, --rate and --duration positive\n",
                  NATTER_BENCH_MAX_BODY);
      return 2;
    }
  if (!o.natterd_path)
    o.natterd_path = g_strdup (g_getenv ("NATTERD_PATH"));
  if (!o.natterd_path)
    {
      g_printerr ("natter-client-bench: give --natterd PATH\n");
      return 2;
    }
  if (!o.data_dir)
    {
      o.data_dir = client_bench_temp_dir ();
      temp_dir = TRUE;
    }

  /* GIO's TLS module and the engine's threads come up before anything is
   * measured. */
  g_tls_backend_get_default ();
  client_bench_loop_init ();
  print_machine ();

  o.natterd = bench_natterd_start (o.natterd_path, o.data_dir, FALSE, NULL, &error);
  if (!o.natterd)
    {
      g_printerr ("natter-client-bench: cannot start natterd: %s\n", error->message);
      rc = 1;
      goto out;
    }
  g_print ("natterd %s (pid %d) on %s:%u, data %s\n", o.natterd_path, (int) o.natterd->pid,
           o.natterd->host, o.natterd->port, o.data_dir);
  o.engine = bench_engine_new (o.natterd->host, o.natterd->port, 1, &error);
  if (!o.engine)
    {
      g_printerr ("natter-client-bench: %s\n", error->message);
      rc = 1;
      goto out;
    }
  {
    g_autofree char *cache = g_build_filename (o.data_dir, "bench-users.txt", NULL);

    o.users = bench_users_load (cache);
  }
  if (!bench_users_ensure (o.users, o.engine, CLIENT_BENCH_PREFIX, CLIENT_BENCH_USERS, &error))
    {
      g_printerr ("natter-client-bench: %s\n", error->message);
      rc = 1;
      goto out;
    }

  rc = g_str_equal (scenario, "open") ? client_bench_open (&o) : client_bench_stream (&o);

out:
  bench_engine_free (o.engine);
  bench_users_free (o.users);
  bench_server_stop (o.natterd);
  if (temp_dir)
    bench_remove_dir (o.data_dir);
  g_free (o.natterd_path);
  g_free (o.data_dir);
  return rc;
}
