/* bench-login.c: logins per second and a reconnect storm.
 *
 * A login needs a fresh connection (a logged-in connection may not log in
 * again, and logout would revoke the token), so each figure counts connect,
 * welcome and login together, with C clients doing so in a loop for D
 * seconds: first with tokens (no hashing), then with passwords (argon2id in
 * natterd's thread pool). The storm: S clients that have synced drop at once
 * while messages arrive for them, then come back; it reports the time until
 * every one has logged in and synced to the end.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <string.h>

#include "bench.h"

#define STORM_ROOM "#storm"
#define STORM_MISSED 20 /* messages sent while the clients are away */

typedef struct {
  gint     running;
  guint64  logins;     /* counted by workers in wstat; this sums at the end */
  guint64  lost;
  guint64  synced;
  guint64  ready;
  guint64  stopped;    /* clients done after the end of the loop */
  gint64   last_synced;
  struct {
    guint64 logins;
    char    pad[56];
  } *wstat;
} Login;

/* ---- login loop --------------------------------------------------------- */

static void
loop_ready (BenchConn *c, gint64 now)
{
  Login *g = c->group;
  BenchWorker *w = c->worker;

  __atomic_store_n (&g->wstat[w->index].logins, g->wstat[w->index].logins + 1, __ATOMIC_RELAXED);
  bench_hist_add (w->hist, now - c->t_start);
  if (g_atomic_int_get (&g->running))
    bench_conn_restart (c);
  else
    {
      bench_conn_close (c);
      __atomic_fetch_add (&g->stopped, 1, __ATOMIC_RELEASE);
    }
}

static void
loop_line (BenchConn *c, char *line, gsize len, gint64 now)
{
}

static void
loop_closed (BenchConn *c, const char *why)
{
  Login *g = c->group;

  __atomic_fetch_add (&g->stopped, 1, __ATOMIC_RELEASE);
  if (__atomic_fetch_add (&g->lost, 1, __ATOMIC_RELEASE) < 5)
    g_printerr ("natter-bench: login client %u: %s %s\n", c->index, why, c->error_code ? c->error_code : "");
}

static const BenchConnOps loop_ops = { loop_ready, loop_line, loop_closed };

static void
reset_hist_cb (BenchWorker *w, gpointer data)
{
  bench_hist_reset (w->hist);
}

static void
set_window_cb (BenchWorker *w, gpointer data)
{
  bench_worker_set_window (w, GPOINTER_TO_UINT (data));
}

static guint64
login_loop (BenchOptions *o, BenchAuth auth, GPtrArray *names, guint clients,
            BenchReport *r, const char *label, const char *key)
{
  Login g = { 0 };
  BenchHist hist;
  gint64 t0, t1;
  guint64 n = 0;
  guint i;
  char k[64];

  g.wstat = g_malloc0 (sizeof *g.wstat * o->engine->n_workers);
  g.running = 1;
  bench_engine_call_all (o->engine, reset_hist_cb, NULL);
  bench_engine_call_all (o->engine, set_window_cb, GUINT_TO_POINTER (clients));
  t0 = bench_now_ns ();
  for (i = 0; i < clients; i++)
    {
      const char *name = names->pdata[i % names->len];
      BenchConn *c = bench_conn_new (bench_engine_worker (o->engine, i), &loop_ops, &g, i, auth, name,
                                     auth == BENCH_AUTH_TOKEN ? bench_users_token (o->users_db, name)
                                                              : BENCH_PASSWORD);

      bench_conn_start (c);
    }
  g_usleep ((gulong) (o->duration_s * 1e6));
  /* Stop starting new logins, and let the ones under way finish, so that
   * even a short run counts whole logins (and at least one per client). */
  g_atomic_int_set (&g.running, 0);
  bench_wait_counter (&g.stopped, clients, bench_now_ns () + (gint64) (o->timeout_s * 1e9));
  t1 = bench_now_ns ();
  for (i = 0; i < o->engine->n_workers; i++)
    n += __atomic_load_n (&g.wstat[i].logins, __ATOMIC_RELAXED);
  bench_engine_drop_conns (o->engine);
  bench_hist_reset (&hist);
  for (i = 0; i < o->engine->n_workers; i++)
    bench_hist_merge (&hist, o->engine->workers[i]->hist);
  g_snprintf (k, sizeof k, "%s_per_s", key);
  bench_report_row (r, label, k, n / ((t1 - t0) / 1e9), "/s");
  g_snprintf (k, sizeof k, "%s_p50_ms", key);
  bench_report_row (r, "  connect+login p50", k, bench_hist_percentile (&hist, 50) / 1e6, "ms");
  g_snprintf (k, sizeof k, "%s_p99_ms", key);
  bench_report_row (r, "  connect+login p99", k, bench_hist_percentile (&hist, 99) / 1e6, "ms");
  g_snprintf (k, sizeof k, "%s_lost", key);
  bench_report_int (r, k, g.lost);
  g_free (g.wstat);
  return n;
}

/* ---- storm -------------------------------------------------------------- */

/* Each client syncs from the last id it has seen until has_more is false,
 * then counts itself synced. */
static void
storm_sync (BenchConn *c)
{
  bench_conn_sendf (c, "{\"type\":\"sync\",\"id\":7,\"since\":%" G_GINT64_FORMAT ",\"limit\":500}\n", c->last_id);
}

static void
storm_ready (BenchConn *c, gint64 now)
{
  storm_sync (c);
}

static void
storm_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Login *g = c->group;

  if (bench_frame_int (line, len, "re") != 7)
    return; /* events: messages and presence of the others */
  if (!bench_frame_is (line, len, "ok"))
    {
      g_printerr ("natter-bench: sync refused: %.*s\n", (int) MIN (len, 200), line);
      bench_conn_close (c);
      __atomic_fetch_add (&g->lost, 1, __ATOMIC_RELEASE);
      return;
    }
  {
    gint64 last = bench_frame_int (line, len, "last_id");

    if (last > c->last_id)
      c->last_id = last;
    if (memmem (line, len, "\"has_more\":true", 15))
      {
        storm_sync (c);
        return;
      }
  }
  c->received++;
  __atomic_fetch_add (&g->synced, 1, __ATOMIC_RELEASE);
  if (now > g->last_synced)
    g->last_synced = now; /* racy max across workers; close enough, read after */
}

static const BenchConnOps storm_ops = { storm_ready, storm_line, loop_closed };

static void
storm_drop_cb (BenchWorker *w, gpointer data)
{
  guint i;

  for (i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = w->conns->pdata[i];

      if (c->ops == &storm_ops)
        bench_conn_close (c);
    }
}

static void
storm_back_cb (BenchWorker *w, gpointer data)
{
  guint i;

  for (i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = w->conns->pdata[i];

      if (c->ops == &storm_ops)
        bench_conn_restart (c);
    }
}

/* A user who sends STORM_MISSED messages to the room and waits for the acks. */
typedef struct {
  guint64 acked;
} Poster;

static void
poster_ready (BenchConn *c, gint64 now)
{
  guint32 nonce = g_random_int ();
  guint i;

  for (i = 0; i < STORM_MISSED; i++)
    bench_conn_sendf (c, "{\"type\":\"send\",\"id\":%u,\"to\":\"" STORM_ROOM "\",\"body\":\"missed %u\","
                      "\"client_msg_id\":\"storm-%08x-%u\"}\n", 100 + i, i, nonce, i);
}

static void
poster_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Poster *p = c->group;

  if (bench_frame_is (line, len, "ok") || bench_frame_is (line, len, "error"))
    __atomic_fetch_add (&p->acked, 1, __ATOMIC_RELEASE);
}

static void
poster_closed (BenchConn *c, const char *why)
{
  Poster *p = c->group;

  g_printerr ("natter-bench: storm poster: %s\n", why);
  __atomic_store_n (&p->acked, G_MAXUINT32, __ATOMIC_RELEASE);
}

static const BenchConnOps poster_ops = { poster_ready, poster_line, poster_closed };

static gboolean
storm (BenchOptions *o, GPtrArray *names, BenchReport *r)
{
  Login g = { 0 };
  Poster p = { 0 };
  g_autoptr(GPtrArray) conns = g_ptr_array_new ();
  guint i, n = o->storm;
  gint64 t0, deadline;
  guint64 synced;
  BenchConn *poster;
  BenchProcSample before, after;
  double tool0;

  bench_engine_call_all (o->engine, set_window_cb, GUINT_TO_POINTER (o->connect_window));
  for (i = 0; i < n; i++)
    {
      const char *name = names->pdata[i % names->len];
      BenchConn *c = bench_conn_new (bench_engine_worker (o->engine, i), &storm_ops, &g, i,
                                     BENCH_AUTH_TOKEN, name, bench_users_token (o->users_db, name));

      g_ptr_array_add (conns, c);
      bench_conn_start (c);
    }
  deadline = bench_now_ns () + (gint64) (o->timeout_s * 1e9);
  if (bench_wait_counter (&g.synced, n, deadline) < n)
    {
      g_printerr ("natter-bench: storm: only %" G_GUINT64_FORMAT " of %u synced at the start\n", g.synced, n);
      bench_engine_drop_conns (o->engine);
      return FALSE;
    }
  bench_engine_call_all (o->engine, storm_drop_cb, NULL);

  /* While they are away, the room moves on. */
  poster = bench_conn_new (bench_engine_worker (o->engine, 0), &poster_ops, &p, 0, BENCH_AUTH_TOKEN,
                           names->pdata[0], bench_users_token (o->users_db, names->pdata[0]));
  bench_conn_start (poster);
  bench_wait_counter (&p.acked, STORM_MISSED, deadline);

  g.synced = 0;
  g.last_synced = 0;
  /* Everyone at once: the window is the whole storm. */
  bench_engine_call_all (o->engine, set_window_cb, GUINT_TO_POINTER (n));
  bench_proc_sample (o->pid, &before);
  tool0 = bench_tool_cpu_s ();
  t0 = bench_now_ns ();
  bench_engine_call_all (o->engine, storm_back_cb, NULL);
  synced = bench_wait_counter (&g.synced, n, t0 + (gint64) (o->timeout_s * 1e9));
  {
    gint64 t1 = bench_now_ns ();

    bench_proc_sample (o->pid, &after);
    bench_report_int (r, "storm_clients", n);
    bench_report_int (r, "storm_synced", synced);
    g_print ("  %-38s %14" G_GUINT64_FORMAT " of %u\n", "storm: clients back and synced", synced, n);
    bench_report_row (r, "storm: time until all synced", "storm_s", (t1 - t0) / 1e9, "s");
    bench_report_row (r, "  server CPU until all synced", "storm_cpu_s", after.cpu_s - before.cpu_s, "s");
    bench_report_row (r, "  tool CPU until all synced", "storm_tool_cpu_s", bench_tool_cpu_s () - tool0, "s");
  }
  bench_engine_drop_conns (o->engine);
  return synced == n;
}

int
bench_login (BenchOptions *o)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint users = MAX (o->users, 1);
  guint clients = MAX (1, MIN (o->connections, 256));
  BenchReport r;
  BenchProcSample before, after;
  double tool0, tool1;
  gboolean ok;
  guint64 n;
  guint i;

  if (!bench_users_ensure (o->users_db, o->engine, "lu", users, &error)
      || !bench_room_ensure (o->users_db, o->engine, STORM_ROOM, "lu", users, &error))
    {
      g_printerr ("natter-bench: setup: %s\n", error->message);
      return 1;
    }
  for (i = 0; i < users; i++)
    g_ptr_array_add (names, bench_username ("lu", i));

  bench_report_begin (&r, "login");
  bench_report_int (&r, "clients", clients);
  bench_report_int (&r, "users", users);
  bench_report_double (&r, "duration_s", o->duration_s);
  bench_proc_sample (o->pid, &before);
  tool0 = bench_tool_cpu_s ();
  n = login_loop (o, BENCH_AUTH_TOKEN, names, clients, &r, "token logins per second", "token");
  tool1 = bench_tool_cpu_s ();
  bench_proc_sample (o->pid, &after);
  bench_report_row (&r, "  server CPU per token login", "token_cpu_us",
                    n ? (after.cpu_s - before.cpu_s) * 1e6 / n : 0, "us");
  bench_report_row (&r, "  tool CPU per token login", "token_tool_cpu_us",
                    n ? (tool1 - tool0) * 1e6 / n : 0, "us");
  bench_proc_sample (o->pid, &before);
  n = login_loop (o, BENCH_AUTH_PASSWORD, names, clients, &r, "password logins per second", "password");
  bench_proc_sample (o->pid, &after);
  bench_report_row (&r, "  server CPU per password login", "password_cpu_us",
                    n ? (after.cpu_s - before.cpu_s) * 1e6 / n : 0, "us");
  ok = storm (o, names, &r);
  bench_report_end (&r);
  return ok ? 0 : 1;
}
