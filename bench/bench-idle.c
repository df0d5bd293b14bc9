/* bench-idle.c: N authenticated connections that do nothing.
 *
 * Measures natterd's resident memory (VmRSS) before and after, divided by N,
 * and how long connecting and logging in all N took. Plain connections go
 * through the epoll engine; TLS ones (--tls) through GIO's TLS client in a
 * few threads, since the engine speaks plain TCP only.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "bench.h"

typedef struct {
  guint64 settled; /* ready or lost */
  guint64 ready;
  guint64 pongs;
  guint64 lost;
} Idle;

static void
idle_ready (BenchConn *c, gint64 now)
{
  Idle *g = c->group;

  __atomic_fetch_add (&g->ready, 1, __ATOMIC_RELEASE);
  __atomic_fetch_add (&g->settled, 1, __ATOMIC_RELEASE);
}

static void
idle_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Idle *g = c->group;

  if (bench_frame_is (line, len, "pong"))
    __atomic_fetch_add (&g->pongs, 1, __ATOMIC_RELEASE);
}

static void
idle_closed (BenchConn *c, const char *why)
{
  Idle *g = c->group;

  if (c->phase != BENCH_PHASE_READY && c->t_ready == 0)
    __atomic_fetch_add (&g->settled, 1, __ATOMIC_RELEASE);
  if (__atomic_fetch_add (&g->lost, 1, __ATOMIC_RELEASE) < 5)
    g_printerr ("natter-bench: idle connection %u: %s %s\n", c->index, why,
                c->error_code ? c->error_code : "");
}

static const BenchConnOps idle_ops = { idle_ready, idle_line, idle_closed };

static void
ping_all_cb (BenchWorker *w, gpointer data)
{
  guint i;

  for (i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = w->conns->pdata[i];

      if (c->phase == BENCH_PHASE_READY)
        bench_conn_send (c, "{\"type\":\"ping\",\"id\":0}\n", 24);
    }
}

static void
set_window_cb (BenchWorker *w, gpointer data)
{
  bench_worker_set_window (w, GPOINTER_TO_UINT (data));
}

/* ---- TLS, through GIO ----------------------------------------------------- */

typedef struct {
  BenchOptions *o;
  guint         from, to;   /* connection numbers */
  GPtrArray    *streams;    /* GIOStream, kept open */
  guint64      *ready;
  guint64      *failed;
  char        **names;
} TlsJob;

static gboolean
accept_any_cb (GTlsConnection *conn, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer data)
{
  return TRUE; /* natterd's self-signed certificate, on loopback */
}

static char *
read_line (GInputStream *in, GError **error)
{
  GString *s = g_string_new (NULL);
  char ch;

  /* Byte by byte is slow but only three short lines per connection are read,
   * and no buffered reader may keep bytes we would then lose. */
  for (;;)
    {
      gssize n = g_input_stream_read (in, &ch, 1, NULL, error);

      if (n <= 0)
        {
          if (n == 0)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "closed");
          g_string_free (s, TRUE);
          return NULL;
        }
      if (ch == '\n')
        return g_string_free (s, FALSE);
      g_string_append_c (s, ch);
    }
}

static gpointer
tls_thread (gpointer data)
{
  TlsJob *job = data;
  BenchOptions *o = job->o;
  guint i;

  for (i = job->from; i < job->to; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocketClient) client = g_socket_client_new ();
      g_autoptr(GSocketConnection) base = NULL;
      g_autoptr(GIOStream) tls = NULL;
      g_autoptr(GSocketAddress) local = NULL;
      g_autoptr(GInetAddress) la = NULL;
      g_autofree char *line = NULL;
      g_autofree char *login = NULL;
      guint src = i % 62500;
      char lbuf[32];

      g_snprintf (lbuf, sizeof lbuf, "127.2.%u.%u", src / 250, src % 250 + 1);
      la = g_inet_address_new_from_string (lbuf);
      local = g_inet_socket_address_new (la, 0);
      g_socket_client_set_local_address (client, local);
      base = g_socket_client_connect_to_host (client, o->host, o->port, NULL, &error);
      if (base)
        tls = g_tls_client_connection_new (G_IO_STREAM (base), NULL, &error);
      if (tls)
        {
          g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_any_cb), NULL);
          if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error))
            g_clear_object (&tls);
        }
      if (tls)
        line = read_line (g_io_stream_get_input_stream (tls), &error); /* welcome */
      if (line)
        {
          gsize written;

          login = g_strdup_printf ("{\"type\":\"login\",\"id\":1,\"token\":\"%s\"}\n",
                                   bench_users_token (o->users_db, job->names[i % o->users]));
          g_clear_pointer (&line, g_free);
          if (g_output_stream_write_all (g_io_stream_get_output_stream (tls), login, strlen (login),
                                         &written, NULL, &error))
            while ((line = read_line (g_io_stream_get_input_stream (tls), &error)))
              {
                if (bench_frame_is (line, strlen (line), "ok") || bench_frame_is (line, strlen (line), "error"))
                  break;
                g_clear_pointer (&line, g_free);
              }
        }
      if (line && bench_frame_is (line, strlen (line), "ok"))
        {
          g_ptr_array_add (job->streams, g_steal_pointer (&tls));
          __atomic_fetch_add (job->ready, 1, __ATOMIC_RELEASE);
        }
      else
        {
          if (__atomic_fetch_add (job->failed, 1, __ATOMIC_RELEASE) < 5)
            g_printerr ("natter-bench: TLS connection %u: %s\n", i,
                        error ? error->message : (line ? line : "no reply"));
        }
    }
  return NULL;
}

/* Connects and logs in @n connections, samples the server once they are
 * quiet, closes them. Returns how many logged in. */
static guint64
connect_all (BenchOptions *o, GPtrArray *names, guint n, guint users, Idle *out_g,
             gint64 *out_t0, gint64 *out_t1, BenchProcSample *out_after)
{
  Idle g = { 0 };
  BenchProcSample after;
  gint64 t0, t1;
  guint64 ready;
  guint i;

  t0 = bench_now_ns ();
  if (!o->tls)
    {
      bench_engine_call_all (o->engine, set_window_cb, GUINT_TO_POINTER (o->connect_window));
      for (i = 0; i < n; i++)
        {
          const char *name = names->pdata[i % users];
          BenchConn *c = bench_conn_new (bench_engine_worker (o->engine, i), &idle_ops, &g, i,
                                         BENCH_AUTH_TOKEN, name, bench_users_token (o->users_db, name));

          bench_conn_start (c);
        }
      bench_wait_counter (&g.settled, n, t0 + (gint64) (o->timeout_s * 1e9));
      ready = __atomic_load_n (&g.ready, __ATOMIC_ACQUIRE);
      t1 = bench_now_ns ();
      /* Quiesce: every connection has had every frame for it (presence of
       * its own user's other connections) once its pong is back. */
      bench_engine_call_all (o->engine, ping_all_cb, NULL);
      bench_wait_counter (&g.pongs, ready, bench_now_ns () + (gint64) (o->timeout_s * 1e9));
      bench_proc_sample (o->pid, &after);
      bench_engine_drop_conns (o->engine);
    }
  else
    {
      guint n_threads = MAX (4, o->threads * 8);
      g_autoptr(GPtrArray) threads = g_ptr_array_new ();
      TlsJob *jobs = g_new0 (TlsJob, n_threads);
      guint64 failed = 0;

      for (i = 0; i < n_threads; i++)
        {
          jobs[i].o = o;
          jobs[i].from = (guint) ((guint64) n * i / n_threads);
          jobs[i].to = (guint) ((guint64) n * (i + 1) / n_threads);
          jobs[i].streams = g_ptr_array_new_with_free_func (g_object_unref);
          jobs[i].ready = &g.ready;
          jobs[i].failed = &failed;
          jobs[i].names = (char **) names->pdata;
          g_ptr_array_add (threads, g_thread_new ("tls", tls_thread, &jobs[i]));
        }
      for (i = 0; i < n_threads; i++)
        g_thread_join (threads->pdata[i]);
      t1 = bench_now_ns ();
      ready = g.ready;
      g.lost = failed;
      /* Connections are idle: nothing more is coming for them. Wait until
       * the server's CPU stops moving to sample its memory. */
      for (i = 0; i < 50; i++)
        {
          BenchProcSample a, b;

          bench_proc_sample (o->pid, &a);
          g_usleep (100000);
          bench_proc_sample (o->pid, &b);
          if (b.cpu_s == a.cpu_s)
            break;
        }
      bench_proc_sample (o->pid, &after);
      for (i = 0; i < n_threads; i++)
        g_ptr_array_unref (jobs[i].streams);
      g_free (jobs);
    }
  *out_g = g;
  *out_t0 = t0;
  *out_t1 = t1;
  *out_after = after;
  return ready;
}

int
bench_idle (BenchOptions *o)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  BenchProcSample before, after, closed;
  Idle g = { 0 };
  BenchReport r;
  gint64 t0, t1;
  guint64 ready;
  guint i, n = o->connections, users = MAX (1, MIN (o->users, o->connections));
  gboolean ok;

  o->users = users;
  if (!bench_users_ensure (o->users_db, o->engine, "iu", users, &error))
    {
      g_printerr ("natter-bench: setup: %s\n", error->message);
      return 1;
    }
  for (i = 0; i < users; i++)
    g_ptr_array_add (names, bench_username ("iu", i));
  if (o->tls && o->natterd)
    {
      /* The users were made over plain TCP (the engine speaks nothing else);
       * now the same data directory is served with TLS. */
      char *dir = g_strdup (o->natterd->data_dir);

      bench_server_stop (o->natterd);
      o->natterd = bench_natterd_start (o->natterd_path, dir, TRUE, o->natterd_config, &error);
      g_free (dir);
      if (o->nodes != NULL)
        o->nodes[0] = o->natterd;
      if (!o->natterd)
        {
          g_printerr ("natter-bench: cannot restart natterd with TLS: %s\n", error->message);
          return 1;
        }
      g_free (o->host);
      o->host = g_strdup (o->natterd->host);
      o->port = o->natterd->port;
      o->pid = o->natterd->pid;
      g_print ("natterd restarted with TLS (pid %d) on %s:%u\n", (int) o->pid, o->host, o->port);
    }

  /* A first, small round warms the server up (TLS credentials, first
   * allocations of each kind); the measured round starts after it. */
  connect_all (o, names, MIN (n, 64), users, &g, &t0, &t1, &after);
  bench_proc_sample (o->pid, &before);
  ready = connect_all (o, names, n, users, &g, &t0, &t1, &after);
  /* After every connection closed: what the server gives back, once its
   * CPU time stops moving (it has handled every close). */
  for (i = 0; i < 30; i++)
    {
      BenchProcSample a;

      bench_proc_sample (o->pid, &a);
      g_usleep (100000);
      bench_proc_sample (o->pid, &closed);
      if (closed.cpu_s == a.cpu_s)
        break;
    }

  ok = ready == n;
  bench_report_begin (&r, "idle");
  bench_report_string (&r, "transport", o->tls ? "tls" : "plain");
  bench_report_int (&r, "connections", n);
  bench_report_int (&r, "users", users);
  bench_report_int (&r, "ready", ready);
  bench_report_int (&r, "lost", g.lost);
  g_print ("  %-38s %14" G_GUINT64_FORMAT " of %u (%s)\n", "connections logged in", ready, n,
           o->tls ? "TLS" : "plain TCP");
  bench_report_row (&r, "connect + login all", "connect_login_s", (t1 - t0) / 1e9, "s");
  bench_report_row (&r, "connections per second", "connects_per_s", ready / ((t1 - t0) / 1e9), "/s");
  bench_report_row (&r, "server RSS before", "rss_before_kb", before.rss_kb, "KiB");
  bench_report_row (&r, "server RSS with all connected", "rss_after_kb", after.rss_kb, "KiB");
  bench_report_row (&r, "server RSS after they closed", "rss_closed_kb", closed.rss_kb, "KiB");
  bench_report_row (&r, "server memory per connection", "bytes_per_conn",
                    ready ? ((double) after.rss_kb - (double) before.rss_kb) * 1024.0 / ready : 0, "B");
  bench_report_end (&r);
  return ok ? 0 : 1;
}
