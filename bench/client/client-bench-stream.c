/* client-bench-stream.c: a client taking in a steady stream.
 *
 * With -c C, cb3 is first made a member of C - 1 rooms with a message each
 * (once per data directory), so its client holds C conversations, as a
 * person's client holds many. cb3's client is signed in with "@cb2" open (its message model watched
 * through items-changed, as the conversation view watches it); cb2 sends R
 * messages per second for D seconds from the engine's thread. Each body
 * starts with its send time (CLOCK_MONOTONIC, taken just before the frame
 * is queued), and the delivery latency of a message is the time from there
 * to the items-changed that puts it into the model: natterd's durable
 * commit, both sockets, and the client core's reading, parsing and merging.
 */
#define G_LOG_DOMAIN "natter-client-bench"

#include "config.h"

#include "client-bench.h"

#define SENDER     CLIENT_BENCH_PREFIX "2"
#define READER     CLIENT_BENCH_PREFIX "3"
#define STREAM_TAG 7
#define ROOM_MARK  "client-rooms "

typedef struct {
  BenchHist latency;
  guint64   received;
  guint64   other;       /* items that are not this run's stream */
  guint64   expected;
} Intake;

static void
messages_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Intake     *in)
{
  gint64 now = bench_now_ns ();

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (model, i);
      guint tag = 0;
      gint64 t = client_bench_body_ts (natter_message_get_body (msg), &tag);

      if (t < 0 || tag != STREAM_TAG)
        {
          in->other++;
          continue;
        }
      bench_hist_add (&in->latency, now > t ? (guint64) (now - t) : 0);
      in->received++;
    }
}

/* ---- the other conversations ----------------------------------------------- */

typedef struct {
  guint   rooms;
  guint64 ready;
  guint64 answered;
  guint64 failed;
} Rooms;

static void
rooms_ready (BenchConn *c, gint64 now)
{
  Rooms *g = c->group;

  /* Pipelined: every room made and written to. A room made by an earlier
   * run answers "conflict", and the send goes in all the same. */
  for (guint i = 0; i < g->rooms; i++)
    bench_conn_sendf (c, "{\"type\":\"room_create\",\"id\":%u,\"room\":\"#cbr%u\"}\n"
                      "{\"type\":\"send\",\"id\":%u,\"to\":\"#cbr%u\",\"body\":\"room %u\","
                      "\"client_msg_id\":\"r%u\"}\n", 2 * i, i, 2 * i + 1, i, i, i);
  __atomic_store_n (&g->ready, 1, __ATOMIC_RELEASE);
}

static void
rooms_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Rooms *g = c->group;

  if (bench_frame_int (line, len, "re") < 0)
    return;
  if (bench_frame_is (line, len, "error") && (bench_frame_int (line, len, "re") % 2 == 1 ||
                                              !g_strstr_len (line, len, "\"conflict\"")))
    {
      if (g->failed++ < 3)
        g_printerr ("natter-client-bench: rooms: %.*s\n", (int) MIN (len, 200), line);
    }
  __atomic_store_n (&g->answered, __atomic_load_n (&g->answered, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

static void
rooms_closed (BenchConn *c, const char *why)
{
  Rooms *g = c->group;

  g_printerr ("natter-client-bench: rooms connection: %s\n", why);
  g->failed++;
  __atomic_store_n (&g->answered, 2 * g->rooms, __ATOMIC_RELEASE);
}

static const BenchConnOps rooms_ops = { rooms_ready, rooms_line, rooms_closed };

static gboolean
rooms_done (gpointer data)
{
  Rooms *g = data;

  return __atomic_load_n (&g->answered, __ATOMIC_ACQUIRE) >= 2 * g->rooms;
}

/* Makes @reader a member of @rooms rooms with a message each. */
static gboolean
ensure_rooms (ClientBenchOptions *o,
              guint               rooms)
{
  g_autofree char *mark = g_strdup_printf (ROOM_MARK "%u", rooms);
  Rooms g = { .rooms = rooms };
  BenchConn *c;

  if (rooms == 0 || bench_users_has_mark (o->users, mark))
    return TRUE;
  g_print ("making %u rooms for %s\n", rooms, READER);
  c = bench_conn_new (bench_engine_worker (o->engine, 0), &rooms_ops, &g, 0, BENCH_AUTH_TOKEN,
                      READER, bench_users_token (o->users, READER));
  bench_conn_start (c);
  client_bench_loop_run (rooms_done, &g, o->timeout_s);
  bench_engine_drop_conns (o->engine);
  if (!rooms_done (&g) || g.failed > 0)
    return FALSE;
  bench_users_add_mark (o->users, mark);
  return TRUE;
}

/* ---- the stream ------------------------------------------------------------- */

static gboolean
all_in (gpointer data)
{
  Intake *in = data;

  return in->received >= in->expected;
}

int
client_bench_stream (ClientBenchOptions *o)
{
  g_autoptr(ClientBenchTempDir) dir = client_bench_temp_dir ();
  ClientBenchSender s = {
    .count = (guint64) (o->rate * o->duration_s + 0.5),
    .rate = o->rate,
    .size = o->size,
    .tag = STREAM_TAG,
    .to = (char *) "@" READER,
  };
  Intake in = { 0 };
  BenchProcSample before, after;
  ClientBenchLoop loop;
  NatterConversation *conv;
  NatterClient *client;
  GListModel *model;
  BenchReport r;
  gboolean sent_ok;
  guint n_before;
  gint64 t0;

  if (!ensure_rooms (o, o->conversations - 1))
    return 1;
  client = client_bench_sign_in (o, dir, READER, NULL, NULL);
  if (client == NULL)
    return 1;
  conv = natter_client_lookup_conversation (client, "@" SENDER, TRUE);
  model = natter_conversation_get_messages (conv);
  n_before = g_list_model_get_n_items (model);
  g_signal_connect (model, "items-changed", G_CALLBACK (messages_changed_cb), &in);

  g_print ("stream: %s sends %.0f messages/s for %.1f s to a signed-in client with %u conversations\n",
           SENDER, o->rate, o->duration_s, g_list_model_get_n_items (natter_client_get_conversations (client)));
  if (g_list_model_get_n_items (natter_client_get_conversations (client)) > o->conversations)
    g_print ("note: rooms made by an earlier run with this --data-dir stay; use another for fewer\n");
  bench_proc_sample (o->natterd->pid, &before);
  t0 = bench_now_ns ();
  sent_ok = client_bench_send (o, &s, SENDER);
  in.expected = s.acked;
  /* The last messages are still on their way to the client. */
  client_bench_loop_run (all_in, &in, 30);
  client_bench_loop_take (&loop);
  bench_proc_sample (o->natterd->pid, &after);

  bench_report_begin (&r, "stream");
  bench_report_double (&r, "rate", o->rate);
  bench_report_double (&r, "duration_s", o->duration_s);
  bench_report_int (&r, "size", o->size);
  bench_report_int (&r, "conversations", g_list_model_get_n_items (natter_client_get_conversations (client)));
  bench_report_int (&r, "sent", (gint64) s.sent);
  bench_report_int (&r, "acked", (gint64) s.acked);
  bench_report_int (&r, "errors", (gint64) s.errors);
  bench_report_int (&r, "received", (gint64) in.received);
  bench_report_int (&r, "model_added", (gint64) (g_list_model_get_n_items (model) - n_before));
  bench_report_row (&r, "sent and taken in, wall", "wall_s", (bench_now_ns () - t0) / 1e9, "s");
  bench_report_row (&r, "delivery latency p50", "latency_p50_ms", bench_hist_percentile (&in.latency, 50) / 1e6, "ms");
  bench_report_row (&r, "delivery latency p99", "latency_p99_ms", bench_hist_percentile (&in.latency, 99) / 1e6, "ms");
  bench_report_row (&r, "delivery latency max", "latency_max_ms", in.latency.max / 1e6, "ms");
  bench_report_row (&r, "natterd CPU", "natterd_cpu_s", after.cpu_s - before.cpu_s, "s");
  client_bench_loop_report (&loop, &r, "stream");
  bench_report_end (&r);

  g_signal_handlers_disconnect_by_func (model, messages_changed_cb, &in);
  client_bench_client_free (client);
  if (!sent_ok || in.received != s.count || in.other != 0)
    {
      g_printerr ("natter-client-bench: stream: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                  " messages arrived (%" G_GUINT64_FORMAT " others)\n", in.received, s.count, in.other);
      return 1;
    }
  return 0;
}
