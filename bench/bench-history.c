/* bench-history.c: history page, sync and search latency on a big database.
 *
 * The database is filled through the protocol (P users sending pipelined
 * into one room, as fast as natterd acknowledges), once: a mark in the users
 * cache says how many messages a data directory holds, so later runs with
 * the same --data-dir go straight to the queries. Bodies hold words from a
 * small vocabulary (each in about 1 of 20 messages: a "common" search) and a
 * tag shared by 1 message in 1,000 (a "rare" search).
 *
 * Queries go one at a time on one connection, so each latency is one
 * request's round trip with nothing queued before it.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <string.h>

#include "bench.h"

#define HISTORY_ROOM "#history"
#define FILL_SENDERS 4

static const char *const words[] = {
  "lunch", "meeting", "deploy", "coffee", "review", "release", "budget", "design",
  "server", "client", "window", "garden", "travel", "ticket", "report", "invoice",
  "holiday", "pizza", "weather", "python", "kernel", "socket", "memory", "thread",
  "rocket", "planet", "guitar", "violin", "soccer", "tennis", "cinema", "museum",
  "banana", "orange", "cherry", "lemon", "pepper", "carrot", "potato", "tomato",
  "monday", "friday", "summer", "winter", "autumn", "spring", "morning", "evening",
  "london", "paris", "berlin", "madrid", "lisbon", "vienna", "prague", "dublin",
  "purple", "yellow", "silver", "golden", "bronze", "copper", "marble", "crystal",
};

typedef struct {
  guint64 ready;
  guint64 lost;
  guint32 nonce;
  guint   window;
  struct {
    guint64 acks;
    gint64  max_id;
    char    pad[48];
  } *wstat;
} Fill;

static void
fill_send (BenchConn *c)
{
  Fill *f = c->group;
  guint64 seq = c->sent * FILL_SENDERS + c->index + GPOINTER_TO_SIZE (c->data);
  guint32 h = (guint32) (seq * 2654435761u);

  bench_conn_sendf (c, "{\"type\":\"send\",\"id\":%" G_GUINT64_FORMAT ",\"to\":\"" HISTORY_ROOM "\","
                    "\"body\":\"message %" G_GUINT64_FORMAT " about %s and %s, %s later tag%u\","
                    "\"client_msg_id\":\"h%08x-%" G_GUINT64_FORMAT "\"}\n",
                    c->sent, seq, words[h % 64], words[(h >> 8) % 64], words[(h >> 16) % 64],
                    (guint) (seq % 1000), f->nonce, c->sent);
  c->sent++;
  c->inflight++;
}

static void
fill_ready (BenchConn *c, gint64 now)
{
  Fill *f = c->group;

  __atomic_fetch_add (&f->ready, 1, __ATOMIC_RELEASE);
}

static void
fill_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Fill *f = c->group;
  BenchWorker *w = c->worker;
  char type[16];

  if (!bench_frame_type (line, len, type, sizeof type))
    return;
  if (g_str_equal (type, "ok") || g_str_equal (type, "error"))
    {
      gint64 id = bench_frame_int (line, len, "id");

      if (type[0] == 'e')
        g_printerr ("natter-bench: fill: %.*s\n", (int) MIN (len, 200), line);
      c->inflight--;
      c->acked++;
      if (id > f->wstat[w->index].max_id)
        f->wstat[w->index].max_id = id;
      __atomic_store_n (&f->wstat[w->index].acks, f->wstat[w->index].acks + 1, __ATOMIC_RELAXED);
      if (c->sent < (guint64) c->last_id) /* last_id holds this sender's quota */
        fill_send (c);
    }
}

static void
fill_closed (BenchConn *c, const char *why)
{
  Fill *f = c->group;

  __atomic_fetch_add (&f->lost, 1, __ATOMIC_RELEASE);
  g_printerr ("natter-bench: fill connection: %s\n", why);
}

static const BenchConnOps fill_ops = { fill_ready, fill_line, fill_closed };

static void
fill_go_cb (BenchWorker *w, gpointer data)
{
  Fill *f = data;
  guint i;

  for (i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = w->conns->pdata[i];

      while (c->ops == &fill_ops && c->inflight < f->window && c->sent < (guint64) c->last_id)
        fill_send (c);
    }
}

static gboolean
prefill (BenchOptions *o, GPtrArray *names, guint64 have, guint64 want)
{
  Fill f = { 0 };
  guint64 todo = want - have, acks = 0, prev_acks = 0;
  gint64 t0, t_report, t_change;
  guint i;

  f.nonce = g_random_int ();
  f.window = MAX (o->window, 1);
  f.wstat = g_malloc0 (sizeof *f.wstat * o->engine->n_workers);
  g_print ("filling %s with %" G_GUINT64_FORMAT " messages (%u senders, window %u)\n",
           HISTORY_ROOM, todo, FILL_SENDERS, f.window);
  for (i = 0; i < FILL_SENDERS; i++)
    {
      const char *name = names->pdata[i];
      BenchConn *c = bench_conn_new (bench_engine_worker (o->engine, i), &fill_ops, &f, i,
                                     BENCH_AUTH_TOKEN, name, bench_users_token (o->users_db, name));

      c->last_id = (gint64) (todo / FILL_SENDERS + (i < todo % FILL_SENDERS ? 1 : 0));
      c->data = GSIZE_TO_POINTER (have);
      bench_conn_start (c);
    }
  if (bench_wait_counter (&f.ready, FILL_SENDERS, bench_now_ns () + (gint64) (o->timeout_s * 1e9)) < FILL_SENDERS)
    {
      bench_engine_drop_conns (o->engine);
      g_free (f.wstat);
      return FALSE;
    }
  t0 = t_report = t_change = bench_now_ns ();
  for (i = 0; i < o->engine->n_workers; i++)
    bench_worker_call (o->engine->workers[i], fill_go_cb, &f);
  while (acks < todo && !f.lost)
    {
      gint64 now = bench_now_ns ();

      acks = 0;
      for (i = 0; i < o->engine->n_workers; i++)
        acks += __atomic_load_n (&f.wstat[i].acks, __ATOMIC_RELAXED);
      if (acks != prev_acks)
        {
          prev_acks = acks;
          t_change = now;
        }
      else if (now - t_change > G_GINT64_CONSTANT (30000000000))
        break;
      if (now - t_report > G_GINT64_CONSTANT (5000000000))
        {
          g_print ("  %" G_GUINT64_FORMAT " stored, %.0f/s\n", acks, acks / ((now - t0) / 1e9));
          t_report = now;
        }
      g_usleep (2000);
    }
  g_print ("filled %" G_GUINT64_FORMAT " messages in %.1f s (%.0f acknowledged/s)\n", acks,
           (bench_now_ns () - t0) / 1e9, acks / ((bench_now_ns () - t0) / 1e9));
  bench_engine_drop_conns (o->engine);
  g_free (f.wstat);
  return acks == todo;
}

/* ---- queries ------------------------------------------------------------ */

typedef struct {
  guint64   ready;
  guint64   done;
  guint64   failed;
  guint     kind;      /* 0 history, 1 sync, 2 search common, 3 search rare, 4 search prefix,
                        * 5 and 6 range probes */
  guint     remaining;
  gint64    min_id, max_id;
  guint     results;   /* messages in the last reply */
  guint64   bytes;
  GRand    *rand;
} Query;

static void
query_send (BenchConn *c, gint64 now)
{
  Query *q = c->group;
  gint64 span = MAX (q->max_id - q->min_id, 1);
  gint64 id = q->min_id + (gint64) g_rand_int_range (q->rand, 0, (gint32) MIN (span, G_MAXINT32));

  c->t_req = bench_now_ns ();
  switch (q->kind)
    {
    case 0:
      bench_conn_sendf (c, "{\"type\":\"history\",\"id\":1,\"conversation\":\"" HISTORY_ROOM "\","
                        "\"before\":%" G_GINT64_FORMAT ",\"limit\":50}\n", id + 50);
      break;
    case 1:
      bench_conn_sendf (c, "{\"type\":\"sync\",\"id\":1,\"since\":%" G_GINT64_FORMAT ",\"limit\":500}\n", id);
      break;
    case 2:
      bench_conn_sendf (c, "{\"type\":\"search\",\"id\":1,\"query\":\"%s\",\"limit\":50}\n",
                        words[g_rand_int_range (q->rand, 0, 64)]);
      break;
    case 3:
      bench_conn_sendf (c, "{\"type\":\"search\",\"id\":1,\"query\":\"tag%d\",\"limit\":50}\n",
                        g_rand_int_range (q->rand, 0, 1000));
      break;
    case 4:
      /* What search as you type sends first: two letters of a word. */
      bench_conn_sendf (c, "{\"type\":\"search\",\"id\":1,\"query\":\"%.2s\",\"limit\":50}\n",
                        words[g_rand_int_range (q->rand, 0, 64)]);
      break;
    default:
      break;
    }
}

static void
query_ready (BenchConn *c, gint64 now)
{
  Query *q = c->group;

  __atomic_fetch_add (&q->ready, 1, __ATOMIC_RELEASE);
}

static void
query_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Query *q = c->group;
  char type[16];

  if (!bench_frame_type (line, len, type, sizeof type) || bench_frame_int (line, len, "re") != 1)
    return;
  if (g_str_equal (type, "error"))
    {
      if (q->failed++ < 3)
        g_printerr ("natter-bench: query refused: %.*s\n", (int) MIN (len, 200), line);
    }
  else
    {
      bench_hist_add (c->worker->hist, now > c->t_req ? now - c->t_req : 0);
      q->bytes += len;
      /* Range probes: the id of the first message, of the newest. */
      if (q->kind == 5)
        q->min_id = bench_frame_int (line, len, "id");
      else if (q->kind == 6)
        q->max_id = bench_frame_int (line, len, "id");
    }
  if (q->remaining > 0)
    q->remaining--;
  if (q->remaining > 0)
    query_send (c, now);
  else
    __atomic_fetch_add (&q->done, 1, __ATOMIC_RELEASE);
}

static void
query_closed (BenchConn *c, const char *why)
{
  Query *q = c->group;

  g_printerr ("natter-bench: query connection: %s\n", why);
  __atomic_store_n (&q->done, 1, __ATOMIC_RELEASE);
  q->failed++;
}

static const BenchConnOps query_ops = { query_ready, query_line, query_closed };

typedef struct {
  BenchConn *c;
  Query     *q;
} Kick;

static void
nop_cb (BenchWorker *w, gpointer data)
{
}

static void
kick_cb (BenchWorker *w, gpointer data)
{
  Kick *k = data;

  bench_hist_reset (w->hist);
  if (k->q->kind == 5)
    {
      k->c->t_req = bench_now_ns ();
      bench_conn_sendf (k->c, "{\"type\":\"sync\",\"id\":1,\"since\":0,\"limit\":1}\n");
    }
  else if (k->q->kind == 6)
    {
      k->c->t_req = bench_now_ns ();
      bench_conn_sendf (k->c, "{\"type\":\"history\",\"id\":1,\"conversation\":\"" HISTORY_ROOM "\",\"limit\":1}\n");
    }
  else
    query_send (k->c, bench_now_ns ());
}

int
bench_history (BenchOptions *o)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *mark = NULL;
  guint64 have = 0;
  GHashTableIter it;
  gpointer key;
  Query q = { 0 };
  BenchConn *c;
  BenchReport r;
  Kick k;
  static const char *const labels[] = { "history page (50)", "sync (500)", "search, common word",
                                        "search, rare word", "search, 2-letter prefix" };
  static const char *const keys[] = { "history", "sync", "search_common", "search_rare",
                                      "search_prefix" };
  guint i, kind;

  if (!bench_users_ensure (o->users_db, o->engine, "hu", FILL_SENDERS, &error)
      || !bench_room_ensure (o->users_db, o->engine, HISTORY_ROOM, "hu", FILL_SENDERS, &error))
    {
      g_printerr ("natter-bench: setup: %s\n", error->message);
      return 1;
    }
  for (i = 0; i < FILL_SENDERS; i++)
    g_ptr_array_add (names, bench_username ("hu", i));
  /* How many messages this data directory holds already. */
  g_hash_table_iter_init (&it, o->users_db->marks);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (g_str_has_prefix (key, "history "))
      have = MAX (have, g_ascii_strtoull ((char *) key + 8, NULL, 10));
  if (have < o->prefill)
    {
      if (!prefill (o, names, have, o->prefill))
        return 1;
      mark = g_strdup_printf ("history %" G_GUINT64_FORMAT, o->prefill);
      bench_users_add_mark (o->users_db, mark);
      have = o->prefill;
    }

  q.rand = g_rand_new_with_seed (42);
  c = bench_conn_new (bench_engine_worker (o->engine, 0), &query_ops, &q, 0, BENCH_AUTH_TOKEN,
                      names->pdata[0], bench_users_token (o->users_db, names->pdata[0]));
  bench_conn_start (c);
  if (bench_wait_counter (&q.ready, 1, bench_now_ns () + (gint64) (o->timeout_s * 1e9)) < 1)
    return 1;
  k.c = c;
  k.q = &q;
  /* The id range: the first message (sync since 0) and the newest (history
   * without before). */
  q.kind = 5;
  q.remaining = 1;
  q.done = 0;
  bench_worker_call (c->worker, kick_cb, &k);
  bench_wait_counter (&q.done, 1, bench_now_ns () + (gint64) (o->timeout_s * 1e9));
  q.kind = 6;
  q.remaining = 1;
  q.done = 0;
  bench_worker_call (c->worker, kick_cb, &k);
  bench_wait_counter (&q.done, 1, bench_now_ns () + (gint64) (o->timeout_s * 1e9));
  g_print ("  message ids %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT "\n", q.min_id, q.max_id);

  bench_report_begin (&r, "history");
  bench_report_int (&r, "messages_in_db", have);
  bench_report_int (&r, "queries", o->queries);
  bench_report_int (&r, "first_id", q.min_id);
  bench_report_int (&r, "last_id", q.max_id);
  for (kind = 0; kind < G_N_ELEMENTS (keys); kind++)
    {
      BenchHist h;
      char kk[64];

      q.kind = kind;
      q.remaining = o->queries;
      q.bytes = 0;
      q.done = 0;
  bench_worker_call (c->worker, kick_cb, &k);
      bench_wait_counter (&q.done, 1, bench_now_ns () + (gint64) (o->timeout_s * 1e9));
      bench_worker_call_sync (c->worker, nop_cb, NULL); /* a barrier: the worker's writes are seen */
      h = *c->worker->hist;
      g_print ("  %s: %" G_GUINT64_FORMAT " replies, %.0f bytes on average\n", labels[kind], h.count,
               h.count ? (double) q.bytes / h.count : 0);
      g_snprintf (kk, sizeof kk, "%s_p50_ms", keys[kind]);
      bench_report_row (&r, "  p50", kk, bench_hist_percentile (&h, 50) / 1e6, "ms");
      g_snprintf (kk, sizeof kk, "%s_p99_ms", keys[kind]);
      bench_report_row (&r, "  p99", kk, bench_hist_percentile (&h, 99) / 1e6, "ms");
      g_snprintf (kk, sizeof kk, "%s_count", keys[kind]);
      bench_report_int (&r, kk, h.count);
    }
  bench_report_int (&r, "failed", q.failed);
  bench_report_end (&r);
  bench_engine_drop_conns (o->engine);
  g_rand_free (q.rand);
  return q.failed == 0 ? 0 : 1;
}
