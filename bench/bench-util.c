/* bench-util.c: the latency histogram, frame scanning, /proc sampling and
 * the report printer.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

/* ---- histogram ---------------------------------------------------------- */

static guint
bucket_of (guint64 v)
{
  int msb;
  int shift;

  if (v < 64)
    return (guint) v;
  msb = 63 - __builtin_clzll (v);
  shift = msb - 5;
  return (guint) (32 * shift + (v >> shift));
}

static guint64
bucket_value (guint i)
{
  guint shift;
  guint64 sub;

  if (i < 64)
    return i;
  shift = (i - 32) / 32;
  sub = i - 32 * shift;
  /* Middle of the bucket. */
  return (sub << shift) + ((G_GUINT64_CONSTANT (1) << shift) >> 1);
}

void
bench_hist_add (BenchHist *h, guint64 ns)
{
  guint i = bucket_of (ns);

  if (i >= BENCH_HIST_BUCKETS)
    i = BENCH_HIST_BUCKETS - 1;
  h->b[i]++;
  h->count++;
  if (ns > h->max)
    h->max = ns;
}

void
bench_hist_merge (BenchHist *dst, const BenchHist *src)
{
  guint i;

  for (i = 0; i < BENCH_HIST_BUCKETS; i++)
    dst->b[i] += src->b[i];
  dst->count += src->count;
  dst->max = MAX (dst->max, src->max);
}

guint64
bench_hist_percentile (const BenchHist *h, double p)
{
  guint64 rank, seen = 0;
  guint i;

  if (h->count == 0)
    return 0;
  rank = (guint64) ((p / 100.0) * (double) h->count);
  if (rank >= h->count)
    rank = h->count - 1;
  for (i = 0; i < BENCH_HIST_BUCKETS; i++)
    {
      seen += h->b[i];
      if (seen > rank)
        return MIN (bucket_value (i), h->max);
    }
  return h->max;
}

void
bench_hist_reset (BenchHist *h)
{
  memset (h, 0, sizeof *h);
}

/* ---- frame scanning ----------------------------------------------------- */

gboolean
bench_frame_type (const char *line, gsize len, char *out, gsize size)
{
  static const char key[] = "\"type\":\"";
  const char *p = memmem (line, len, key, sizeof key - 1);
  const char *end = line + len;
  gsize n = 0;

  if (!p)
    return FALSE;
  p += sizeof key - 1;
  while (p < end && *p != '"' && n + 1 < size)
    out[n++] = *p++;
  out[n] = '\0';
  return TRUE;
}

gboolean
bench_frame_is (const char *line, gsize len, const char *type)
{
  char t[32];

  return bench_frame_type (line, len, t, sizeof t) && strcmp (t, type) == 0;
}

gint64
bench_frame_int (const char *line, gsize len, const char *key)
{
  char pat[64];
  const char *p, *end = line + len;
  gint64 v = 0;
  gboolean any = FALSE;
  int n;

  n = g_snprintf (pat, sizeof pat, "\"%s\":", key);
  p = memmem (line, len, pat, n);
  if (!p)
    return -1;
  p += n;
  while (p < end && *p == ' ')
    p++;
  while (p < end && *p >= '0' && *p <= '9')
    {
      v = v * 10 + (*p++ - '0');
      any = TRUE;
    }
  return any ? v : -1;
}

gint64
bench_frame_body_ts (const char *line, gsize len)
{
  static const char key[] = "\"body\":\"t=";
  const char *p = memmem (line, len, key, sizeof key - 1);
  const char *end = line + len;
  gint64 v = 0;

  if (!p)
    return -1;
  p += sizeof key - 1;
  while (p < end && *p >= '0' && *p <= '9')
    v = v * 10 + (*p++ - '0');
  return v;
}

JsonObject *
bench_parse_object (const char *line, gsize len, JsonNode **out_node)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  *out_node = NULL;
  if (!json_parser_load_from_data (parser, line, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  *out_node = json_node_copy (root);
  return json_node_get_object (*out_node);
}

void
bench_fill_body (char *buf, gsize size, gint64 t, guint sender, guint64 seq)
{
  int n = g_snprintf (buf, size + 1, "t=%" G_GINT64_FORMAT " s=%u q=%" G_GUINT64_FORMAT " ",
                      t, sender, seq);

  if ((gsize) n < size)
    memset (buf + n, 'x', size - n);
  buf[size] = '\0';
}

/* ---- /proc -------------------------------------------------------------- */

/* utime + stime of a /proc stat file's contents, and its command name. */
static gboolean
parse_stat_cpu (const char *stat,
                double     *out_cpu_s,
                char      **out_comm)
{
  const char *open = strchr (stat, '(');
  const char *close = strrchr (stat, ')');
  unsigned long utime = 0, stime = 0;

  /* Fields after the command name, which may hold spaces: skip to ')'. */
  if (open == NULL || close == NULL || close < open ||
      sscanf (close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
              &utime, &stime) != 2)
    return FALSE;
  *out_cpu_s = (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
  if (out_comm != NULL)
    *out_comm = g_strndup (open + 1, (gsize) (close - open - 1));
  return TRUE;
}

/* Splits the CPU time by thread: which of natterd's threads is the
 * bottleneck is what a reader of the figures wants to know next. */
static void
sample_threads (GPid pid, BenchProcSample *out)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/stat", dir_path, name);
      g_autofree char *stat = NULL;
      g_autofree char *comm = NULL;
      double cpu_s;

      if (!g_file_get_contents (path, &stat, NULL, NULL) ||
          !parse_stat_cpu (stat, &cpu_s, &comm))
        continue;
      if (strtol (name, NULL, 10) == (long) pid)
        out->main_cpu_s = cpu_s;
      else if (g_str_equal (comm, "natterd-writer"))
        out->writer_cpu_s = cpu_s;
      else if (g_str_equal (comm, "natterd-index"))
        out->index_cpu_s = cpu_s;
      else if (g_str_equal (comm, "natterd-send"))
        out->send_cpu_s += cpu_s; /* every helper of the send pool */
      else if (g_str_equal (comm, "natterd-reader"))
        out->reader_cpu_s += cpu_s; /* history's and files' readers */
    }
}

gboolean
bench_proc_sample (GPid pid, BenchProcSample *out)
{
  g_autofree char *path = NULL;
  g_autofree char *stat = NULL;
  g_autofree char *status = NULL;
  const char *l;

  memset (out, 0, sizeof *out);
  out->pid = pid;
  if (pid <= 0)
    return FALSE;
  path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (path, &stat, NULL, NULL) ||
      !parse_stat_cpu (stat, &out->cpu_s, NULL))
    return FALSE;
  g_free (path);
  path = g_strdup_printf ("/proc/%d/status", (int) pid);
  if (!g_file_get_contents (path, &status, NULL, NULL))
    return FALSE;
  if ((l = strstr (status, "VmRSS:")))
    out->rss_kb = strtoul (l + 6, NULL, 10);
  if ((l = strstr (status, "VmHWM:")))
    out->hwm_kb = strtoul (l + 6, NULL, 10);
  return TRUE;
}

gboolean
bench_proc_sample_threads (GPid pid, BenchProcSample *out)
{
  if (!bench_proc_sample (pid, out))
    return FALSE;
  sample_threads (pid, out);
  return TRUE;
}

double
bench_tool_cpu_s (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void
bench_remove_dir (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* ---- reporting ---------------------------------------------------------- */

void
bench_report_thread_cpu (BenchReport           *r,
                         const BenchProcSample *before,
                         const BenchProcSample *after)
{
  if (before->pid <= 0 || after->pid <= 0)
    return;
  bench_report_row (r, "server CPU, main thread", "server_main_cpu_s",
                    after->main_cpu_s - before->main_cpu_s, "s");
  if (after->writer_cpu_s > 0)
    bench_report_row (r, "server CPU, writer thread", "server_writer_cpu_s",
                      after->writer_cpu_s - before->writer_cpu_s, "s");
  if (after->send_cpu_s > 0)
    bench_report_row (r, "server CPU, send helpers", "server_send_cpu_s",
                      after->send_cpu_s - before->send_cpu_s, "s");
  if (after->index_cpu_s > 0)
    bench_report_row (r, "server CPU, search indexer", "server_index_cpu_s",
                      after->index_cpu_s - before->index_cpu_s, "s");
}

void
bench_report_begin (BenchReport *r, const char *scenario)
{
  r->json = g_string_new ("{");
  r->first = TRUE;
  bench_report_string (r, "scenario", scenario);
  g_print ("\n== %s ==\n", scenario);
}

static void
key (BenchReport *r, const char *k)
{
  if (!r->first)
    g_string_append_c (r->json, ',');
  r->first = FALSE;
  g_string_append_printf (r->json, "\"%s\":", k);
}

void
bench_report_int (BenchReport *r, const char *k, gint64 v)
{
  key (r, k);
  g_string_append_printf (r->json, "%" G_GINT64_FORMAT, v);
}

void
bench_report_double (BenchReport *r, const char *k, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  key (r, k);
  if (v != v || v > 1e300 || v < -1e300)
    g_string_append (r->json, "null");
  else
    g_string_append (r->json, g_ascii_formatd (buf, sizeof buf, "%.6g", v));
}

void
bench_report_string (BenchReport *r, const char *k, const char *v)
{
  key (r, k);
  if (!v)
    {
      g_string_append (r->json, "null");
      return;
    }
  g_string_append_c (r->json, '"');
  for (; *v; v++)
    {
      if (*v == '"' || *v == '\\')
        g_string_append_c (r->json, '\\');
      if ((guchar) *v < 0x20)
        continue;
      g_string_append_c (r->json, *v);
    }
  g_string_append_c (r->json, '"');
}

void
bench_report_row (BenchReport *r, const char *label, const char *k, double v, const char *unit)
{
  g_print ("  %-38s %14.3f %s\n", label, v, unit ? unit : "");
  bench_report_double (r, k, v);
}

void
bench_report_end (BenchReport *r)
{
  g_string_append_c (r->json, '}');
  g_print ("%s\n", r->json->str);
  g_string_free (r->json, TRUE);
  r->json = NULL;
}
