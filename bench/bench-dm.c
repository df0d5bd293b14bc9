/* bench-dm.c: pairs of users sending each other direct messages.
 *
 * Each user of a pair has one connection and keeps at most W sends
 * unacknowledged. An ack means the message is durably stored, so acks per
 * second is the durable message rate; the time from send to ack is its
 * latency. Deliveries to the partner are counted too.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <string.h>

#include "bench.h"

typedef struct {
  guint    size;
  guint    window;
  guint32  nonce;
  guint64  ready;
  guint64  lost;
  guint64  errors;
  gint     go;
  char   **names;
  struct {
    guint64 acks;
    guint64 deliveries;
    gint64  last_ack;
    char    pad[40];
  } *wstat;
} Dm;

typedef struct {
  gint64  *sent_at; /* ring of window send times, acks come in order */
  guint64  quota;
  char    *to;
} DmConn;

static void
dm_send (BenchConn *c, gint64 now)
{
  Dm *g = c->group;
  DmConn *d = c->data;
  char body[NATTER_BENCH_MAX_BODY + 1];

  bench_fill_body (body, g->size, now, c->index, c->sent);
  d->sent_at[c->sent % g->window] = now;
  bench_conn_sendf (c, "{\"type\":\"send\",\"id\":%" G_GUINT64_FORMAT ",\"to\":\"@%s\",\"body\":\"%s\","
                    "\"client_msg_id\":\"%08x-%" G_GUINT64_FORMAT "\"}\n",
                    c->sent + 10, d->to, body, g->nonce, c->sent);
  c->sent++;
  c->inflight++;
}

static void
dm_ready (BenchConn *c, gint64 now)
{
  Dm *g = c->group;

  __atomic_fetch_add (&g->ready, 1, __ATOMIC_RELEASE);
}

static void
dm_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Dm *g = c->group;
  DmConn *d = c->data;
  BenchWorker *w = c->worker;
  char type[32];

  if (!bench_frame_type (line, len, type, sizeof type))
    return;
  if (g_str_equal (type, "ok") || g_str_equal (type, "error"))
    {
      if (type[0] == 'e' && __atomic_fetch_add (&g->errors, 1, __ATOMIC_RELAXED) < 3)
        g_printerr ("natter-bench: dm refused: %.*s\n", (int) MIN (len, 200), line);
      if (c->inflight == 0)
        return;
      bench_hist_add (w->hist, now - d->sent_at[c->acked % g->window]);
      c->acked++;
      c->inflight--;
      __atomic_store_n (&g->wstat[w->index].acks, g->wstat[w->index].acks + 1, __ATOMIC_RELAXED);
      g->wstat[w->index].last_ack = now;
      if (c->sent < d->quota)
        dm_send (c, now);
    }
  else if (g_str_equal (type, "message"))
    {
      __atomic_store_n (&c->received, c->received + 1, __ATOMIC_RELAXED);
      __atomic_store_n (&g->wstat[w->index].deliveries, g->wstat[w->index].deliveries + 1, __ATOMIC_RELAXED);
    }
}

static void
dm_closed (BenchConn *c, const char *why)
{
  Dm *g = c->group;

  if (__atomic_fetch_add (&g->lost, 1, __ATOMIC_RELEASE) < 5)
    g_printerr ("natter-bench: dm connection %u: %s %s\n", c->index, why, c->error_code ? c->error_code : "");
}

static const BenchConnOps dm_ops = { dm_ready, dm_line, dm_closed };

static void
go_cb (BenchWorker *w, gpointer data)
{
  Dm *g = data;
  gint64 now = bench_now_ns ();
  guint i;

  for (i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = w->conns->pdata[i];
      DmConn *d = c->data;

      while (c->phase == BENCH_PHASE_READY && c->inflight < g->window && c->sent < d->quota)
        dm_send (c, now);
    }
}

static void
reset_hist_cb (BenchWorker *w, gpointer data)
{
  bench_hist_reset (w->hist);
}

int
bench_dm (BenchOptions *o)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) conns = g_ptr_array_new ();
  guint n_users = 2 * MAX (o->pairs, 1);
  Dm g = { 0 };
  BenchReport r;
  BenchProcSample before, after;
  BenchClusterSample cl_before, cl_after;
  guint64 node_deliveries[BENCH_MAX_NODES] = { 0 };
  BenchHist hist;
  gint64 t0, deadline, last = 0, last_change;
  guint64 acks = 0, deliveries = 0, prev = 0;
  guint i;

  if (!bench_users_ensure (o->users_db, o->engine, "du", n_users, &error))
    {
      g_printerr ("natter-bench: setup: %s\n", error->message);
      return 1;
    }
  g.size = o->size;
  g.window = MAX (o->window, 1);
  g.nonce = g_random_int ();
  g.wstat = g_malloc0 (sizeof *g.wstat * o->engine->n_workers);
  for (i = 0; i < n_users; i++)
    g_ptr_array_add (names, bench_username ("du", i));
  for (i = 0; i < n_users; i++)
    {
      const char *name = names->pdata[i];
      BenchConn *c = bench_conn_new (bench_engine_worker (o->engine, i), &dm_ops, &g, i,
                                     BENCH_AUTH_TOKEN, name, bench_users_token (o->users_db, name));
      DmConn *d = g_new0 (DmConn, 1);

      d->sent_at = g_new0 (gint64, g.window);
      d->quota = o->messages / n_users + (i < o->messages % n_users ? 1 : 0);
      d->to = names->pdata[i ^ 1];
      c->data = d;
      /* Users over the nodes in turn: with two nodes or more, the partners
       * of a pair are on different nodes, every message crosses the bus. */
      c->port = bench_cluster_port (o, i);
      g_ptr_array_add (conns, c);
      bench_conn_start (c);
    }
  deadline = bench_now_ns () + (gint64) (o->timeout_s * 1e9);
  if (bench_wait_counter (&g.ready, n_users, deadline) < n_users)
    {
      g_printerr ("natter-bench: only %" G_GUINT64_FORMAT " of %u dm users logged in\n", g.ready, n_users);
      bench_engine_drop_conns (o->engine);
      return 1;
    }
  bench_engine_call_all (o->engine, reset_hist_cb, NULL);
  bench_cluster_sample (o, &cl_before);
  bench_proc_sample_threads (o->pid, &before);
  t0 = bench_now_ns ();
  last_change = t0;
  for (i = 0; i < o->engine->n_workers; i++)
    bench_worker_call (o->engine->workers[i], go_cb, &g);
  deadline = t0 + (gint64) (o->timeout_s * 1e9);
  while (bench_now_ns () < deadline)
    {
      acks = 0;
      for (i = 0; i < o->engine->n_workers; i++)
        acks += __atomic_load_n (&g.wstat[i].acks, __ATOMIC_RELAXED);
      if (acks >= o->messages || g.lost)
        break;
      if (acks != prev)
        {
          prev = acks;
          last_change = bench_now_ns ();
        }
      else if (bench_now_ns () - last_change > G_GINT64_CONSTANT (10000000000))
        break;
      g_usleep (1000);
    }
  bench_proc_sample_threads (o->pid, &after);
  bench_cluster_sample (o, &cl_after);
  /* Deliveries may trail the last ack a little. */
  {
    gint64 until = bench_now_ns () + G_GINT64_CONSTANT (2000000000);

    do
      {
        deliveries = 0;
        for (i = 0; i < o->engine->n_workers; i++)
          deliveries += __atomic_load_n (&g.wstat[i].deliveries, __ATOMIC_RELAXED);
        if (deliveries >= acks)
          break;
        g_usleep (1000);
      }
    while (bench_now_ns () < until);
  }
  acks = 0;
  for (i = 0; i < o->engine->n_workers; i++)
    {
      acks += g.wstat[i].acks;
      last = MAX (last, g.wstat[i].last_ack);
    }
  bench_hist_reset (&hist);
  for (i = 0; i < o->engine->n_workers; i++)
    bench_hist_merge (&hist, o->engine->workers[i]->hist);
  for (i = 0; i < conns->len; i++)
    {
      BenchConn *c = conns->pdata[i];
      DmConn *d = c->data;

      g_free (d->sent_at);
      g_free (d);
      c->data = NULL;
      node_deliveries[bench_cluster_node_of_port (o, c->port)] +=
        __atomic_load_n (&c->received, __ATOMIC_RELAXED);
    }
  bench_engine_drop_conns (o->engine);

  bench_report_begin (&r, "dm");
  bench_report_int (&r, "pairs", o->pairs);
  bench_report_int (&r, "window", g.window);
  bench_report_int (&r, "size", o->size);
  bench_report_int (&r, "messages", o->messages);
  bench_report_int (&r, "acked", acks);
  bench_report_int (&r, "delivered", deliveries);
  bench_report_int (&r, "errors", g.errors + g.lost);
  g_print ("  %-38s %14" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " (delivered %" G_GUINT64_FORMAT ")\n",
           "acknowledged", acks, o->messages, deliveries);
  bench_report_row (&r, "elapsed", "elapsed_s", (last - t0) / 1e9, "s");
  bench_report_row (&r, "acknowledged (durable) per second", "acks_per_s",
                    last > t0 ? acks / ((last - t0) / 1e9) : 0, "/s");
  bench_report_row (&r, "send to ack p50", "ack_p50_ms", bench_hist_percentile (&hist, 50) / 1e6, "ms");
  bench_report_row (&r, "send to ack p99", "ack_p99_ms", bench_hist_percentile (&hist, 99) / 1e6, "ms");
  bench_report_row (&r, "server CPU (user+sys)", "server_cpu_s", after.cpu_s - before.cpu_s, "s");
  bench_report_thread_cpu (&r, &before, &after);
  if (cl_after.n_nodes > 0)
    bench_cluster_report (&r, o, &cl_before, &cl_after, node_deliveries, acks, (last - t0) / 1e9);
  bench_report_end (&r);
  g_free (g.wstat);
  return acks == o->messages && deliveries >= acks && g.errors == 0 ? 0 : 1;
}
