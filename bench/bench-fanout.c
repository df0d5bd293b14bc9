/* bench-fanout.c: one room (or one Redis channel), N receiving connections,
 * P senders, M messages of S bytes.
 *
 * Every body starts "t=<CLOCK_MONOTONIC ns>", written just before the send
 * leaves; a receiver subtracts it from the time its read() returned. Senders
 * either keep at most W sends unacknowledged each (as fast as possible), or
 * send at a fixed total rate. The same driver runs against natterd and
 * against redis-server (PUBLISH / SUBSCRIBE spoken in RESP), so the two
 * figures come from the same code, the same N, M and S.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct {
  gboolean    redis;
  const char *target;       /* "#room" or the channel */
  guint       members;
  guint       senders;
  guint64     messages;
  guint       size;
  guint       window;
  double      rate;         /* total messages per second; 0: window mode */
  guint32     nonce;        /* makes client_msg_ids unique across runs */
  guint64     ready;        /* receivers logged in (and subscribed) */
  guint64     senders_ready;
  guint64     pongs;
  guint64     lost;         /* connections closed during the run */
  guint64     errors;       /* error replies to sends */
  guint64     acked;
  gint64      t_go;
  GPtrArray **by_worker;    /* senders of each worker */
  guint       n_workers;
  /* Per-worker delivery counters, so receivers on different threads never
   * share a cache line. */
  struct {
    guint64 deliveries;
    guint64 stamped;      /* of them, with the kernel's arrival stamp */
    gint64  last_ns;
    char    pad[40];
  } *wstat;
  /* After the run: deliveries of each node's members. */
  BenchOptions *options;
  guint64      *node_deliveries;
  /* The mixed scenario (NULL: sends only): each sender's actions, and
   * each worker's receivers' message_changed events. */
  const BenchMix  *mix;
  BenchMixSender **mix_senders;
  GArray         **arrivals;
} Fanout;

static void
send_one (BenchConn *c, gint64 now)
{
  Fanout *f = c->group;
  char body[NATTER_BENCH_MAX_BODY + 1];
  guint size = MIN (f->size, NATTER_BENCH_MAX_BODY);

  if (f->mix && bench_mix_sender_change (f->mix_senders[c->index], c, c->sent, size, now))
    {
      c->sent++;
      c->inflight++;
      return;
    }
  if (f->mix)
    bench_mix_sender_note_send (f->mix_senders[c->index], c->sent, now);
  bench_fill_body (body, size, now, c->index, c->sent);
  if (f->redis)
    bench_conn_sendf (c, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%u\r\n%s\r\n",
                      strlen (f->target), f->target, size, body);
  else
    bench_conn_sendf (c, "{\"type\":\"send\",\"id\":%" G_GUINT64_FORMAT ",\"to\":\"%s\",\"body\":\"%s\","
                      "\"client_msg_id\":\"%08x-%u-%" G_GUINT64_FORMAT "\"}\n",
                      c->sent + BENCH_FIRST_REQUEST_ID, f->target, body, f->nonce, c->index, c->sent);
  c->sent++;
  c->inflight++;
}

/* ---- receivers ---------------------------------------------------------- */

static void
recv_ready (BenchConn *c, gint64 now)
{
  Fanout *f = c->group;

  if (f->redis)
    bench_conn_sendf (c, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n", strlen (f->target), f->target);
  else
    __atomic_fetch_add (&f->ready, 1, __ATOMIC_RELEASE);
}

/* When the kernel put the bytes in the socket: not after the read,
 * whatever the clocks' offset says. */
static inline gint64
arrived_at (BenchConn *c, gint64 now)
{
  return c->rx_ns > 0 ? MIN (c->rx_ns, now) : now;
}

static inline void
count_delivery (BenchConn *c, gint64 now)
{
  Fanout *f = c->group;
  BenchWorker *w = c->worker;

  c->received++;
  __atomic_store_n (&f->wstat[w->index].deliveries, f->wstat[w->index].deliveries + 1, __ATOMIC_RELAXED);
  f->wstat[w->index].last_ns = now;
  if (c->rx_ns > 0)
    f->wstat[w->index].stamped++; /* read by the main thread after the run */
}

static inline void
delivered (BenchConn *c, gint64 ts, gint64 now)
{
  BenchWorker *w = c->worker;
  gint64 arrived = arrived_at (c, now);

  bench_hist_add (w->hist, now > ts ? (guint64) (now - ts) : 0);
  bench_hist_add (w->hist_arrival, arrived > ts ? (guint64) (arrived - ts) : 0);
  count_delivery (c, now);
}

static void
recv_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Fanout *f = c->group;

  if (f->redis)
    {
      if (len > 2 && line[0] == 't' && line[1] == '=')
        delivered (c, g_ascii_strtoll (line + 2, NULL, 10), now);
      else if (len >= 2 && line[0] == ':' && c->phase == BENCH_PHASE_READY && c->acked == 0)
        {
          c->acked = 1; /* the subscribe confirmation ends with ":1" */
          __atomic_fetch_add (&f->ready, 1, __ATOMIC_RELEASE);
        }
      return;
    }
  {
    gint64 ts;

    /* Before the body: an edit's or a reaction's event holds one too. */
    if (f->mix && bench_frame_is (line, len, "message_changed"))
      {
        bench_mix_note_arrival (f->arrivals[c->worker->index], line, len, now, arrived_at (c, now));
        count_delivery (c, now);
        return;
      }
    ts = bench_frame_body_ts (line, len);
    if (ts >= 0)
      delivered (c, ts, now);
    else if (bench_frame_is (line, len, "pong"))
      __atomic_fetch_add (&f->pongs, 1, __ATOMIC_RELEASE);
  }
}

static void
any_closed (BenchConn *c, const char *why)
{
  Fanout *f = c->group;

  if (__atomic_fetch_add (&f->lost, 1, __ATOMIC_RELEASE) < 5)
    g_printerr ("natter-bench: connection %u (%s) lost: %s%s%s\n", c->index,
                c->username ? c->username : "redis", why,
                c->error_code ? " " : "", c->error_code ? c->error_code : "");
}

static const BenchConnOps recv_ops = { recv_ready, recv_line, any_closed };

/* ---- senders ------------------------------------------------------------ */

static void
sender_ready (BenchConn *c, gint64 now)
{
  Fanout *f = c->group;

  __atomic_fetch_add (&f->senders_ready, 1, __ATOMIC_RELEASE);
}

static void
sender_on_ack (BenchConn *c, gint64 now)
{
  Fanout *f = c->group;

  c->acked++;
  if (c->inflight > 0)
    c->inflight--;
  __atomic_fetch_add (&f->acked, 1, __ATOMIC_RELAXED);
  if (f->rate == 0 && c->sent < (guint64) c->data && c->inflight < f->window)
    send_one (c, now);
}

static void
sender_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Fanout *f = c->group;

  if (f->redis)
    {
      if (line[0] == ':')
        sender_on_ack (c, now);
      else if (line[0] == '-')
        {
          __atomic_fetch_add (&f->errors, 1, __ATOMIC_RELAXED);
          sender_on_ack (c, now);
        }
      return;
    }
  {
    char type[32];

    if (!bench_frame_type (line, len, type, sizeof type))
      return;
    if (f->mix && (g_str_equal (type, "ok") || g_str_equal (type, "error")))
      bench_mix_sender_reply (f->mix_senders[c->index], line, len, g_str_equal (type, "ok"));
    if (g_str_equal (type, "ok"))
      sender_on_ack (c, now);
    else if (g_str_equal (type, "error"))
      {
        if (__atomic_fetch_add (&f->errors, 1, __ATOMIC_RELAXED) < 3)
          g_printerr ("natter-bench: send refused: %.*s\n", (int) MIN (len, 200), line);
        sender_on_ack (c, now);
      }
    /* Anything else (presence, our own message on another connection of
     * the same user) is not counted. */
  }
}

static const BenchConnOps sender_ops = { sender_ready, sender_line, any_closed };

static void
rate_tick (BenchWorker *w, gint64 now, gpointer data)
{
  Fanout *f = data;
  GPtrArray *mine = f->by_worker[w->index];
  gint64 interval = (gint64) (1e9 * f->senders / f->rate);
  gint64 next = G_MAXINT64;
  guint i;

  for (i = 0; i < mine->len; i++)
    {
      BenchConn *c = mine->pdata[i];

      while (c->sent < (guint64) c->data && c->next_at <= now)
        {
          /* Never more than the window outstanding: a server that falls
           * behind shows as lower throughput, not as an unbounded queue in
           * the tool. */
          if (c->inflight >= f->window)
            {
              c->next_at = now + interval;
              break;
            }
          send_one (c, now);
          c->next_at += interval;
        }
      if (c->sent < (guint64) c->data)
        next = MIN (next, c->next_at);
    }
  if (next == G_MAXINT64)
    w->tick = NULL;
  else
    w->tick_at = next;
}

static void
go_cb (BenchWorker *w, gpointer data)
{
  Fanout *f = data;
  GPtrArray *mine = f->by_worker[w->index];
  gint64 now = bench_now_ns ();
  guint i;

  if (mine->len == 0)
    return;
  if (f->rate > 0)
    {
      gint64 interval = (gint64) (1e9 * f->senders / f->rate);

      for (i = 0; i < mine->len; i++)
        {
          BenchConn *c = mine->pdata[i];

          c->next_at = now + (interval * c->index) / MAX (f->senders, 1);
        }
      bench_worker_set_tick (w, rate_tick, f, now);
      return;
    }
  for (i = 0; i < mine->len; i++)
    {
      BenchConn *c = mine->pdata[i];

      while (c->inflight < f->window && c->sent < (guint64) c->data)
        send_one (c, now);
    }
}

static void
ping_cb (BenchWorker *w, gpointer data)
{
  guint i;

  for (i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = w->conns->pdata[i];

      if (c->ops == &recv_ops && c->phase == BENCH_PHASE_READY)
        bench_conn_send (c, "{\"type\":\"ping\",\"id\":\"barrier\"}\n", 31);
    }
}

static void
reset_hist_cb (BenchWorker *w, gpointer data)
{
  bench_hist_reset (w->hist);
  bench_hist_reset (w->hist_arrival);
}

static guint64
sum_deliveries (Fanout *f, gint64 *last)
{
  guint64 sum = 0;
  guint i;

  *last = 0;
  for (i = 0; i < f->n_workers; i++)
    {
      sum += __atomic_load_n (&f->wstat[i].deliveries, __ATOMIC_RELAXED);
      *last = MAX (*last, __atomic_load_n (&f->wstat[i].last_ns, __ATOMIC_RELAXED));
    }
  return sum;
}

/* Bytes every connection of the engine read so far (senders' acks too). */
static guint64
sum_bytes_in (BenchEngine *e)
{
  guint64 sum = 0;

  for (guint i = 0; i < e->n_workers; i++)
    sum += __atomic_load_n (&e->workers[i]->bytes_in, __ATOMIC_RELAXED);
  return sum;
}

static void
count_by_node_cb (BenchWorker *w, gpointer data)
{
  Fanout *f = data;

  for (guint i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = w->conns->pdata[i];

      if (c->ops == &recv_ops)
        __atomic_fetch_add (&f->node_deliveries[bench_cluster_node_of_port (f->options, c->port)],
                            c->received, __ATOMIC_RELAXED);
    }
}

static void
set_window_cb (BenchWorker *w, gpointer data)
{
  bench_worker_set_window (w, GPOINTER_TO_UINT (data));
}

/* Frees what run_fanout made, after its connections are gone. */
static void
fanout_clear (Fanout *f)
{
  for (guint i = 0; i < f->n_workers; i++)
    {
      g_ptr_array_unref (f->by_worker[i]);
      if (f->arrivals)
        g_array_unref (f->arrivals[i]);
    }
  for (guint i = 0; f->mix_senders && i < f->senders; i++)
    bench_mix_sender_free (f->mix_senders[i]);
  g_free (f->by_worker);
  g_free (f->wstat);
  g_free (f->arrivals);
  g_free (f->mix_senders);
}

/* Runs one fan-out against the engine's server. The receivers and senders
 * must be able to log in (natterd) or the server must speak RESP (redis).
 * With @mix (natterd only), every connection turns message_actions on,
 * the senders' actions include changes, and @mres gets their figures. */
static gboolean
run_fanout (BenchOptions *o, BenchEngine *e, gboolean redis, GPid pid,
            const char *target, const char *prefix, const BenchMix *mix,
            BenchFanoutResult *res, BenchMixResult *mres)
{
  Fanout f = { 0 };
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  BenchProcSample before, after;
  double tool0;
  guint64 bytes0;
  gint64 deadline, t_connect, last = 0, last_progress_t;
  guint64 expected, got = 0, last_got = 0;
  guint i;

  f.redis = redis;
  f.target = target;
  f.members = o->members;
  f.senders = MAX (o->senders, 1);
  f.messages = o->messages;
  f.size = o->size;
  f.window = MAX (o->window, 1);
  f.rate = o->rate;
  f.nonce = g_random_int ();
  f.n_workers = e->n_workers;
  f.by_worker = g_new0 (GPtrArray *, e->n_workers);
  f.wstat = g_malloc0 (sizeof *f.wstat * e->n_workers);
  for (i = 0; i < e->n_workers; i++)
    f.by_worker[i] = g_ptr_array_new ();
  if (mix)
    {
      f.mix = mix;
      f.mix_senders = g_new0 (BenchMixSender *, f.senders);
      f.arrivals = g_new0 (GArray *, e->n_workers);
      for (i = 0; i < e->n_workers; i++)
        f.arrivals[i] = g_array_new (FALSE, FALSE, sizeof (BenchChangeArrival));
    }
  memset (res, 0, sizeof *res);

  bench_engine_call_all (e, set_window_cb, GUINT_TO_POINTER (o->connect_window));
  t_connect = bench_now_ns ();
  for (i = 0; i < o->members; i++)
    {
      char *name = redis ? NULL : bench_username (prefix, i);
      BenchConn *c;

      if (name)
        g_ptr_array_add (names, name);
      c = bench_conn_new (bench_engine_worker (e, i), &recv_ops, &f, i,
                          redis ? BENCH_AUTH_NONE : BENCH_AUTH_TOKEN, name,
                          redis ? NULL : bench_users_token (o->users_db, name));
      c->raw = redis;
      c->message_actions = mix != NULL;
      c->rx_stamp = !o->tls;
      /* Members over the nodes in turn. */
      c->port = redis ? 0 : bench_cluster_port (o, i);
      bench_conn_start (c);
    }
  deadline = bench_now_ns () + (gint64) (o->timeout_s * 1e9);
  if (bench_wait_counter (&f.ready, o->members, deadline) < o->members || f.lost)
    {
      g_printerr ("natter-bench: only %" G_GUINT64_FORMAT " of %u receivers ready\n", f.ready, o->members);
      goto fail;
    }
  g_print ("  %u receivers connected and %s in %.2f s\n", o->members,
           redis ? "subscribed" : "logged in", (bench_now_ns () - t_connect) / 1e9);
  /* Senders on the workers in turn, after the receivers' index. */
  for (i = 0; i < f.senders; i++)
    {
      char *name = redis ? NULL : bench_username (prefix, i % o->members);
      BenchWorker *w = bench_engine_worker (e, o->members + i);
      BenchConn *c;

      if (name)
        g_ptr_array_add (names, name);
      c = bench_conn_new (w, &sender_ops, &f, i,
                          redis ? BENCH_AUTH_NONE : BENCH_AUTH_TOKEN, name,
                          redis ? NULL : bench_users_token (o->users_db, name));
      c->raw = redis;
      c->message_actions = mix != NULL;
      /* On the node of the member of the same user. */
      c->port = redis ? 0 : bench_cluster_port (o, i % o->members);
      c->data = GSIZE_TO_POINTER (o->messages / f.senders + (i < o->messages % f.senders ? 1 : 0));
      if (mix)
        f.mix_senders[i] = bench_mix_sender_new (mix, i, GPOINTER_TO_SIZE (c->data));
      g_ptr_array_add (f.by_worker[w->index], c);
      bench_conn_start (c);
    }
  if (bench_wait_counter (&f.senders_ready, f.senders, deadline) < f.senders)
    {
      g_printerr ("natter-bench: senders not ready\n");
      goto fail;
    }
  if (!redis)
    {
      /* Barrier: a pong comes after every event queued before it (the
       * presence and join events of the connection storm). */
      bench_engine_call_all (e, ping_cb, NULL);
      if (bench_wait_counter (&f.pongs, o->members, deadline) < o->members)
        {
          g_printerr ("natter-bench: the receivers did not all answer the barrier ping\n");
          goto fail;
        }
    }
  {
    guint64 base = sum_deliveries (&f, &last);

    if (base != 0)
      g_printerr ("natter-bench: %" G_GUINT64_FORMAT " deliveries before the start (ignored)\n", base);
  }
  bench_engine_call_all (e, reset_hist_cb, NULL);
  for (i = 0; i < f.n_workers; i++)
    {
      f.wstat[i].deliveries = 0;
      f.wstat[i].stamped = 0;
    }

  expected = o->messages * o->members;
  if (!redis)
    bench_cluster_sample (o, &res->cluster_before);
  bytes0 = sum_bytes_in (e);
  tool0 = bench_tool_cpu_s ();
  bench_proc_sample_threads (pid, &before);
  f.t_go = bench_now_ns ();
  for (i = 0; i < e->n_workers; i++)
    bench_worker_call (e->workers[i], go_cb, &f);
  deadline = f.t_go + (gint64) (o->timeout_s * 1e9);
  last_progress_t = f.t_go;
  while (bench_now_ns () < deadline)
    {
      gint64 now;

      got = sum_deliveries (&f, &last);
      if (got >= expected)
        break;
      now = bench_now_ns ();
      if (got != last_got)
        {
          last_got = got;
          last_progress_t = now;
        }
      else if (__atomic_load_n (&f.acked, __ATOMIC_RELAXED) >= o->messages
               && now - last_progress_t > G_GINT64_CONSTANT (2000000000))
        {
          g_printerr ("natter-bench: every send answered, deliveries stopped at %" G_GUINT64_FORMAT "\n", got);
          break;
        }
      else if (now - last_progress_t > G_GINT64_CONSTANT (60000000000))
        {
          g_printerr ("natter-bench: no delivery for 60 s, stopping\n");
          break;
        }
      g_usleep (1000);
    }
  if (!bench_proc_sample_threads (pid, &after) || !before.pid)
    after.cpu_s = before.cpu_s - 1; /* gone or unknown: reported as -1 */
  res->tool_cpu_s = bench_tool_cpu_s () - tool0;
  res->bytes_in = sum_bytes_in (e) - bytes0;
  if (!redis)
    {
      bench_cluster_sample (o, &res->cluster_after);
      f.options = o;
      f.node_deliveries = res->node_deliveries;
      bench_engine_call_all (e, count_by_node_cb, &f);
    }
  got = sum_deliveries (&f, &last);
  res->deliveries = got;
  res->stamped = 0;
  for (i = 0; i < e->n_workers; i++)
    res->stamped += __atomic_load_n (&f.wstat[i].stamped, __ATOMIC_RELAXED);
  res->expected = expected;
  res->errors = f.errors + f.lost;
  res->elapsed_s = (MAX (last, f.t_go) - f.t_go) / 1e9;
  res->deliveries_per_s = res->elapsed_s > 0 ? got / res->elapsed_s : 0;
  res->msgs_per_s = res->elapsed_s > 0 ? (double) got / MAX (o->members, 1) / res->elapsed_s : 0;
  res->cpu_s = pid > 0 && after.cpu_s >= before.cpu_s ? after.cpu_s - before.cpu_s : -1;
  res->cpu_before = before;
  res->cpu_after = after;
  bench_hist_reset (&res->hist);
  bench_hist_reset (&res->hist_arrival);
  for (i = 0; i < e->n_workers; i++)
    {
      bench_hist_merge (&res->hist, e->workers[i]->hist);
      bench_hist_merge (&res->hist_arrival, e->workers[i]->hist_arrival);
    }
  bench_engine_drop_conns (e);
  if (mix)
    bench_mix_join (f.mix_senders, f.senders, f.arrivals, f.n_workers, mres);
  fanout_clear (&f);
  return got == expected;

fail:
  bench_engine_drop_conns (e);
  fanout_clear (&f);
  return FALSE;
}

static void
print_result (BenchReport *r, BenchOptions *o, const BenchFanoutResult *res)
{
  bench_report_int (r, "members", o->members);
  bench_report_int (r, "senders", o->senders);
  bench_report_int (r, "messages", o->messages);
  bench_report_int (r, "size", o->size);
  bench_report_int (r, "window", o->window);
  bench_report_double (r, "rate", o->rate);
  bench_report_int (r, "deliveries", res->deliveries);
  bench_report_int (r, "expected", res->expected);
  bench_report_int (r, "errors", res->errors);
  bench_report_int (r, "arrival_stamped", res->stamped);
  g_print ("  %-38s %14" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT "\n", "deliveries",
           res->deliveries, res->expected);
  bench_report_row (r, "elapsed", "elapsed_s", res->elapsed_s, "s");
  bench_report_row (r, "deliveries per second", "deliveries_per_s", res->deliveries_per_s, "/s");
  bench_report_row (r, "messages per second", "messages_per_s", res->msgs_per_s, "/s");
  bench_report_row (r, "latency p50", "p50_ms", bench_hist_percentile (&res->hist, 50) / 1e6, "ms");
  bench_report_row (r, "latency p99", "p99_ms", bench_hist_percentile (&res->hist, 99) / 1e6, "ms");
  bench_report_row (r, "latency p99.9", "p999_ms", bench_hist_percentile (&res->hist, 99.9) / 1e6, "ms");
  bench_report_row (r, "latency max", "max_ms", res->hist.max / 1e6, "ms");
  /* The same, to when the kernel put the bytes in the member's socket: what
   * the server did, without this tool's wait for a CPU to read them (the
   * tool shares the machine). Plain TCP only; over TLS it equals the above. */
  bench_report_row (r, "arrival latency p50", "arrival_p50_ms",
                    bench_hist_percentile (&res->hist_arrival, 50) / 1e6, "ms");
  bench_report_row (r, "arrival latency p99", "arrival_p99_ms",
                    bench_hist_percentile (&res->hist_arrival, 99) / 1e6, "ms");
  bench_report_row (r, "arrival latency p99.9", "arrival_p999_ms",
                    bench_hist_percentile (&res->hist_arrival, 99.9) / 1e6, "ms");
  /* What the server wrote per delivery (the senders' acks included). */
  bench_report_row (r, "bytes read per delivery", "bytes_per_delivery",
                    res->deliveries > 0 ? (double) res->bytes_in / res->deliveries : 0, "B");
  bench_report_row (r, "server CPU (user+sys)", "server_cpu_s", res->cpu_s, "s");
  bench_report_row (r, "server CPU share of elapsed", "server_cpu_pct",
                    res->elapsed_s > 0 ? 100.0 * res->cpu_s / res->elapsed_s : 0, "%");
  bench_report_thread_cpu (r, &res->cpu_before, &res->cpu_after);
  bench_report_row (r, "tool CPU (all its threads)", "tool_cpu_s", res->tool_cpu_s, "s");
  if (res->cluster_after.n_nodes > 0)
    bench_cluster_report (r, o, &res->cluster_before, &res->cluster_after, res->node_deliveries,
                          o->messages, res->elapsed_s);
}

/* The fan-out's users and room, made once per data directory: the room's
 * name, or NULL. */
static char *
fanout_setup (BenchOptions *o)
{
  g_autofree char *room = g_strdup_printf ("#fanout-%u", o->members);
  g_autoptr(GError) error = NULL;

  if (!bench_users_ensure (o->users_db, o->engine, "fu", o->members, &error)
      || !bench_room_ensure (o->users_db, o->engine, room, "fu", o->members, &error))
    {
      g_printerr ("natter-bench: setup: %s\n", error->message);
      return NULL;
    }
  return g_steal_pointer (&room);
}

int
bench_fanout (BenchOptions *o)
{
  g_autofree char *room = fanout_setup (o);
  BenchFanoutResult res;
  BenchReport r;
  gboolean ok;

  if (room == NULL)
    return 1;
  ok = run_fanout (o, o->engine, FALSE, o->pid, room, "fu", NULL, &res, NULL);
  bench_report_begin (&r, "fanout");
  bench_report_string (&r, "server", "natterd");
  print_result (&r, o, &res);
  bench_report_end (&r);
  if (o->compare_redis)
    {
      int rc = bench_redis (o, res.deliveries_per_s);

      return ok ? rc : 1;
    }
  return ok ? 0 : 1;
}

int
bench_redis (BenchOptions *o, double natterd_rate)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  BenchServer *redis;
  BenchEngine *e;
  BenchFanoutResult res;
  BenchReport r;
  gboolean ok;

  dir = g_build_filename (o->data_dir ? o->data_dir : g_get_tmp_dir (), "redis", NULL);
  redis = bench_redis_start (o->redis_path, dir, &error);
  if (!redis)
    {
      g_printerr ("natter-bench: %s\n", error->message);
      return 77;
    }
  /* A second engine for the Redis port; the natterd one is idle now. */
  e = bench_engine_new (redis->host, redis->port, o->threads, &error);
  ok = run_fanout (o, e, TRUE, redis->pid, "bench", NULL, NULL, &res, NULL);
  bench_engine_free (e);
  bench_server_stop (redis);
  bench_report_begin (&r, "redis");
  bench_report_string (&r, "server", "redis-server");
  print_result (&r, o, &res);
  if (natterd_rate > 0)
    bench_report_row (&r, "natterd / redis (deliveries per s)", "ratio",
                      res.deliveries_per_s > 0 ? natterd_rate / res.deliveries_per_s : 0, "x");
  bench_report_end (&r);
  return ok ? 0 : 1;
}

static double
cpu_per_delivery_us (const BenchFanoutResult *res)
{
  return res->deliveries > 0 && res->cpu_s >= 0 ? 1e6 * res->cpu_s / res->deliveries : 0;
}

/* The plain fan-out on connections with message_actions on (sends only),
 * then the same number of actions of which --edits, --reactions and
 * --deletes per cent are changes, on the same natterd and room: the second
 * report holds both latencies and the ratios to the first. */
int
bench_mixed (BenchOptions *o)
{
  static const BenchMix sends_only = { 0, 0, 0 };
  g_autofree char *room = fanout_setup (o);
  g_autofree BenchFanoutResult *plain = g_new0 (BenchFanoutResult, 1);
  g_autofree BenchFanoutResult *mixed = g_new0 (BenchFanoutResult, 1);
  g_autofree BenchMixResult *m = g_new0 (BenchMixResult, 1);
  BenchReport r;
  gboolean ok;

  if (room == NULL)
    return 1;
  ok = run_fanout (o, o->engine, FALSE, o->pid, room, "fu", &sends_only, plain, m);
  bench_report_begin (&r, "fanout");
  bench_report_string (&r, "server", "natterd");
  bench_report_string (&r, "features", "message_actions");
  print_result (&r, o, plain);
  bench_report_end (&r);

  ok = run_fanout (o, o->engine, FALSE, o->pid, room, "fu", &o->mix, mixed, m) && ok;
  bench_report_begin (&r, "mixed");
  bench_report_string (&r, "server", "natterd");
  bench_report_string (&r, "features", "message_actions");
  bench_report_int (&r, "edit_pct", o->mix.edit_pct);
  bench_report_int (&r, "react_pct", o->mix.react_pct);
  bench_report_int (&r, "delete_pct", o->mix.delete_pct);
  /* "latency" rows: of messages; the change rows follow. */
  print_result (&r, o, mixed);
  bench_report_int (&r, "message_deliveries", mixed->deliveries - m->deliveries - m->unmatched);
  bench_mix_report (&r, m);
  bench_report_row (&r, "mixed / sends only: deliveries per s", "ratio_rate",
                    plain->deliveries_per_s > 0 ? mixed->deliveries_per_s / plain->deliveries_per_s : 0, "x");
  /* natterd's CPU per delivery, mixed against sends only: what a change
   * costs against a send. */
  bench_report_row (&r, "mixed / sends only: CPU per delivery", "ratio_cpu",
                    cpu_per_delivery_us (plain) > 0 ? cpu_per_delivery_us (mixed) / cpu_per_delivery_us (plain) : 0, "x");
  bench_report_end (&r);
  return ok ? 0 : 1;
}
