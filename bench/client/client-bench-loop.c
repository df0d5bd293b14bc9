/* client-bench-loop.c: how long the client's main loop is blocked.
 *
 * The bench iterates the default main context itself, and GLib's poll()
 * goes through a wrapper that adds up the time spent inside it. One
 * iteration's busy time is its wall time minus its time in poll(): prepare,
 * check and dispatch of every source that was ready, which is where the
 * client core reads, parses and merges. While an iteration is busy the
 * thread cannot react to anything else; in the app that is a frame not
 * drawn and input not handled. Time the thread is runnable but not running
 * (the CPUs are busy elsewhere) counts as busy too: the app would see the
 * same delay. Each iteration's CPU time (the thread's clock, poll()
 * included, which costs little) is taken too, and the main thread's CPU
 * time over the span, to tell the two apart.
 */
#define G_LOG_DOMAIN "natter-client-bench"

#include "config.h"

#include <string.h>
#include <time.h>

#include "client-bench.h"

#define TICK_MS 50

static GPollFunc       real_poll;
static gint64          poll_ns;      /* time inside poll(), ever */
static ClientBenchLoop span;
static gint64          span_start_ns;
static double          span_start_cpu;

static gint
timed_poll (GPollFD *fds,
            guint    n_fds,
            gint     timeout)
{
  gint64 t0 = bench_now_ns ();
  gint ret = real_poll (fds, n_fds, timeout);

  poll_ns += bench_now_ns () - t0;
  return ret;
}

static gint64
thread_cpu_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static double
thread_cpu_s (void)
{
  return thread_cpu_ns () / 1e9;
}

void
client_bench_loop_init (void)
{
  GMainContext *ctx = g_main_context_default ();

  real_poll = g_main_context_get_poll_func (ctx);
  g_main_context_set_poll_func (ctx, timed_poll);
  client_bench_loop_reset ();
}

void
client_bench_loop_reset (void)
{
  memset (&span, 0, sizeof span);
  span_start_ns = bench_now_ns ();
  span_start_cpu = thread_cpu_s ();
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
client_bench_loop_run (gboolean (*done) (gpointer data),
                       gpointer  data,
                       double    timeout_s)
{
  gint64 deadline = bench_now_ns () + (gint64) (timeout_s * 1e9);
  guint tick = g_timeout_add (TICK_MS, tick_cb, NULL);

  while (!done (data) && bench_now_ns () < deadline)
    {
      gint64 c0 = thread_cpu_ns ();
      gint64 t0 = bench_now_ns ();
      gint64 p0 = poll_ns;
      gint64 busy, cpu;

      g_main_context_iteration (NULL, TRUE);
      busy = (bench_now_ns () - t0) - (poll_ns - p0);
      busy = MAX (busy, 0);
      cpu = thread_cpu_ns () - c0;
      span.max_cpu_ns = MAX (span.max_cpu_ns, cpu);
      if (cpu > 4000000)
        span.over_4_cpu++;
      bench_hist_add (&span.hist, (guint64) busy);
      span.iterations++;
      span.busy_ns += busy;
      if (busy > 4000000)
        {
          span.over_4++;
          span.over_4_ns += busy;
        }
      if (busy > 16000000)
        span.over_16++;
    }
  g_source_remove (tick);
  return done (data);
}

void
client_bench_loop_take (ClientBenchLoop *out)
{
  *out = span;
  out->wall_ns = bench_now_ns () - span_start_ns;
  out->cpu_s = thread_cpu_s () - span_start_cpu;
}

void
client_bench_loop_report (const ClientBenchLoop *l,
                          BenchReport           *r,
                          const char            *prefix)
{
  static const struct {
    const char *label;
    const char *key;
  } rows[] = {
    { "main loop: longest iteration", "loop_max_ms" },
    { "main loop: most CPU in one iteration", "loop_max_cpu_ms" },
    { "main loop: p99 iteration", "loop_p99_ms" },
    { "main loop: busy in all", "loop_busy_ms" },
    { "main loop: in iterations > 4 ms", "loop_over_4ms_ms" },
    { "main loop: main thread CPU", "loop_cpu_ms" },
  };
  double values[G_N_ELEMENTS (rows)] = {
    l->hist.max / 1e6,
    l->max_cpu_ns / 1e6,
    bench_hist_percentile (&l->hist, 99) / 1e6,
    l->busy_ns / 1e6,
    l->over_4_ns / 1e6,
    l->cpu_s * 1e3,
  };
  char key[96];

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_snprintf (key, sizeof key, "%s_%s", prefix, rows[i].key);
      bench_report_row (r, rows[i].label, key, values[i], "ms");
    }
  g_print ("  %-38s %14" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " > 4 ms, %" G_GUINT64_FORMAT " > 16 ms; "
           "%" G_GUINT64_FORMAT " with > 4 ms of CPU)\n",
           "main loop: iterations", l->iterations, l->over_4, l->over_16, l->over_4_cpu);
  g_snprintf (key, sizeof key, "%s_loop_iterations", prefix);
  bench_report_int (r, key, (gint64) l->iterations);
  g_snprintf (key, sizeof key, "%s_loop_over_4ms", prefix);
  bench_report_int (r, key, (gint64) l->over_4);
  g_snprintf (key, sizeof key, "%s_loop_over_16ms", prefix);
  bench_report_int (r, key, (gint64) l->over_16);
  g_snprintf (key, sizeof key, "%s_loop_over_4ms_cpu", prefix);
  bench_report_int (r, key, (gint64) l->over_4_cpu);
  g_snprintf (key, sizeof key, "%s_wall_ms", prefix);
  bench_report_double (r, key, l->wall_ns / 1e6);
}
