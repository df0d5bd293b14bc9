/* bench-files.c: one file up to natterd and down again over TLS (feature
 * files), beside a raw TLS copy of the same bytes made by this process,
 * and natterd's resident memory meanwhile.
 *
 * User fu0 uploads the file (upload_begin, then upload_chunk with --window
 * chunks in flight), sends it to fu1 in a direct message, and fu1
 * downloads it (download, --window requests in flight), checking each
 * chunk against the bytes sent and the SHA-256 of the whole. The upload's
 * time runs from upload_begin to the reply that names the file (natterd
 * has then read it back and checked its hash); the download's from the
 * first request to the last chunk.
 *
 * The raw copy (bench-files-raw.c) sends the same bytes up and then down
 * over one TLS connection to a thread of this process that serves TLS as
 * natterd does (GIO's, with natterd's certificate and suites): what the
 * machine's TLS over loopback can do, with no protocol, no base64 and no
 * disk. natterd's memory: its peak resident set during each direction
 * (VmHWM after resetting it through /proc/PID/clear_refs, else the
 * highest VmRSS sampled every 10 ms) against before: a server that
 * streams stays flat however big the file.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define CHUNK 32768
/* Request ids: the login's is 1 (bench-engine.c). */
#define ID_BEGIN 10
#define ID_SEND  11
#define ID_CHUNK 100 /* + the chunk's index */

typedef struct {
  /* Set up by the main thread before the transfer. */
  const guint8 *bytes;
  gsize         size;
  guint64       chunks;
  guint         window;
  char          sha256[65];
  /* Uploader (fu0), on its worker's thread. */
  gint64        upload_id;
  guint64       up_next;
  guint64       up_acked;
  gint64        file_id;
  gint64        t_up_start;
  gint64        t_up_end;
  gint64        t_up_before_last; /* the reply before the last one */
  GString      *frame;
  /* Downloader (fu1), on its worker's thread. */
  guint64       down_next;
  guint64       down_got;
  guint64       down_bytes;
  guint64       down_bad;     /* chunks that differ from what was sent */
  GChecksum    *down_sum;
  gint64        t_down_start;
  gint64        t_down_end;
  char          down_sha256[65];
  /* Read by the main thread (atomically). */
  gint          ready;
  gint          up_done;
  gint          sent;
  gint          delivered;
  gint          down_done;
  gint          failed;
  char         *failure;      /* the first, set once before failed */
} Files;

static void
files_fail (Files *g, const char *what, const char *line, gsize len)
{
  if (g_atomic_int_get (&g->failed))
    return;
  g->failure = g_strdup_printf ("%s: %.*s", what, (int) MIN (len, 300), line ? line : "");
  g_atomic_int_set (&g->failed, 1);
}

/* ---- uploader ------------------------------------------------------------ */

static void
send_chunk (BenchConn *c, Files *g, guint64 index)
{
  gsize off = index * CHUNK, len = MIN (CHUNK, g->size - off);
  gsize at, n;
  gint state = 0, save = 0;

  g_string_printf (g->frame, "{\"type\":\"upload_chunk\",\"id\":%" G_GUINT64_FORMAT
                   ",\"upload\":%" G_GINT64_FORMAT ",\"index\":%" G_GUINT64_FORMAT ",\"data\":\"",
                   ID_CHUNK + index, g->upload_id, index);
  at = g->frame->len;
  /* g_base64_encode_step's bound without line breaks, and close's 4. */
  g_string_set_size (g->frame, at + (len / 3 + 1) * 4 + 4 + 4);
  n = g_base64_encode_step (g->bytes + off, len, FALSE, g->frame->str + at, &state, &save);
  n += g_base64_encode_close (FALSE, g->frame->str + at + n, &state, &save);
  g_string_truncate (g->frame, at + n);
  g_string_append (g->frame, "\"}\n");
  bench_conn_send (c, g->frame->str, g->frame->len);
}

static void
upload_line (BenchConn *c, Files *g, char *line, gsize len, gint64 now)
{
  gint64 re = bench_frame_int (line, len, "re");

  if (re == ID_BEGIN)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonObject *obj = bench_parse_object (line, len, &node);
      JsonObject *up = obj && json_object_has_member (obj, "upload")
                       ? json_object_get_object_member (obj, "upload") : NULL;

      if (up == NULL || json_object_get_int_member (up, "chunks") != (gint64) g->chunks
          || json_object_get_int_member (up, "chunk_size") != CHUNK)
        {
          files_fail (g, "unexpected upload_begin reply", line, len);
          return;
        }
      g->upload_id = json_object_get_int_member (up, "upload");
      while (g->up_next < g->chunks && g->up_next < g->window)
        send_chunk (c, g, g->up_next++);
    }
  else if (re >= ID_CHUNK)
    {
      gint64 file = bench_frame_int (line, len, "file"); /* -1: null */

      g->up_acked++;
      if (file > 0)
        g->file_id = file;
      if (g->up_acked == g->chunks)
        {
          if (g->file_id <= 0)
            {
              files_fail (g, "the last chunk's reply names no file", line, len);
              return;
            }
          g->t_up_end = now;
          g_atomic_int_set (&g->up_done, 1);
        }
      else if (g->up_acked == g->chunks - 1)
        g->t_up_before_last = now;
      else if (g->up_next < g->chunks)
        send_chunk (c, g, g->up_next++);
    }
  else if (re == ID_SEND)
    g_atomic_int_set (&g->sent, 1);
}

/* ---- downloader ---------------------------------------------------------- */

static void
request_chunk (BenchConn *c, Files *g, guint64 index)
{
  bench_conn_sendf (c, "{\"type\":\"download\",\"id\":%" G_GUINT64_FORMAT ",\"file\":%" G_GINT64_FORMAT
                    ",\"index\":%" G_GUINT64_FORMAT "}\n", ID_CHUNK + index, g->file_id, index);
}

static void
download_line (BenchConn *c, Files *g, char *line, gsize len, gint64 now)
{
  static const char key[] = "\"data\":\"";
  gint64 re, index;
  char *data, *end;
  gsize n;
  guint8 *bytes;
  gsize off;

  if (bench_frame_is (line, len, "message"))
    {
      /* fu0's message with the file reached fu1. */
      if (memmem (line, len, "\"files\":[", 9) != NULL)
        g_atomic_int_set (&g->delivered, 1);
      return;
    }
  re = bench_frame_int (line, len, "re");
  if (re < ID_CHUNK)
    return;
  index = bench_frame_int (line, len, "index");
  data = memmem (line, len, key, sizeof key - 1);
  end = data ? memchr (data + sizeof key - 1, '"', line + len - (data + sizeof key - 1)) : NULL;
  /* Replies leave in request order (docs/protocol.md, "Fairness and
   * flow"), so the chunks come in order and one running hash does. */
  if (index != (gint64) g->down_got || re != ID_CHUNK + index || end == NULL)
    {
      files_fail (g, "unexpected download reply", line, len);
      return;
    }
  data += sizeof key - 1;
  *end = '\0'; /* the line may be written to (bench.h) */
  bytes = g_base64_decode_inplace (data, &n);
  off = (gsize) index * CHUNK;
  if (n != MIN (CHUNK, g->size - off) || memcmp (bytes, g->bytes + off, n) != 0)
    g->down_bad++;
  g_checksum_update (g->down_sum, bytes, n);
  g->down_bytes += n;
  g->down_got++;
  if (g->down_got == g->chunks)
    {
      g->t_down_end = now;
      g_strlcpy (g->down_sha256, g_checksum_get_string (g->down_sum), sizeof g->down_sha256);
      g_atomic_int_set (&g->down_done, 1);
    }
  else if (g->down_next < g->chunks)
    request_chunk (c, g, g->down_next++);
}

/* ---- the connections ----------------------------------------------------- */

static void
files_ready (BenchConn *c, gint64 now)
{
  Files *g = c->group;

  g_atomic_int_inc (&g->ready);
}

static void
files_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  Files *g = c->group;

  if (bench_frame_is (line, len, "error"))
    {
      files_fail (g, c->index == 0 ? "natterd refused an upload request" : "natterd refused a download",
                  line, len);
      return;
    }
  if (c->index == 0)
    upload_line (c, g, line, len, now);
  else
    download_line (c, g, line, len, now);
}

static void
files_closed (BenchConn *c, const char *why)
{
  Files *g = c->group;

  files_fail (g, c->index == 0 ? "uploader's connection" : "downloader's connection", why, strlen (why));
}

static const BenchConnOps files_ops = { files_ready, files_line, files_closed };

static void
upload_go_cb (BenchWorker *w, gpointer data)
{
  BenchConn *c = data;
  Files *g = c->group;

  g->t_up_start = bench_now_ns ();
  bench_conn_sendf (c, "{\"type\":\"upload_begin\",\"id\":%d,\"size\":%" G_GSIZE_FORMAT ",\"sha256\":\"%s\"}\n",
                    ID_BEGIN, g->size, g->sha256);
}

static void
send_go_cb (BenchWorker *w, gpointer data)
{
  BenchConn *c = data;
  Files *g = c->group;

  bench_conn_sendf (c, "{\"type\":\"send\",\"id\":%d,\"to\":\"@fu1\",\"body\":\"\",\"client_msg_id\":\"files-%08x\","
                    "\"files\":[{\"file\":%" G_GINT64_FORMAT ",\"name\":\"bench.bin\",\"mime\":\"application/octet-stream\"}]}\n",
                    ID_SEND, g_random_int (), g->file_id);
}

static void
download_go_cb (BenchWorker *w, gpointer data)
{
  BenchConn *c = data;
  Files *g = c->group;

  g->t_down_start = bench_now_ns ();
  while (g->down_next < g->chunks && g->down_next < g->window)
    request_chunk (c, g, g->down_next++);
}

/* ---- natterd's memory ---------------------------------------------------- */

/* Resets the process's VmHWM to its VmRSS ("5" to clear_refs, Linux 4.0):
 * the peak of one phase, not of the registrations' argon2id before it. */
static gboolean
reset_peak (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/clear_refs", (int) pid);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = write (fd, "5", 1) == 1;
  close (fd);
  return ok;
}

typedef struct {
  gboolean hwm_reset;  /* VmHWM is this phase's peak */
  gsize    rss_max_kb; /* the highest VmRSS sampled */
  gsize    peak_kb;    /* the phase's peak, from either */
  BenchProcSample before;
  BenchProcSample after;
} Phase;

static void
phase_begin (GPid pid, Phase *p)
{
  memset (p, 0, sizeof *p);
  p->hwm_reset = reset_peak (pid);
  bench_proc_sample_threads (pid, &p->before);
  p->rss_max_kb = p->before.rss_kb;
}

/* Waits for *@flag (or a failure, or @deadline), sampling VmRSS. */
static gboolean
phase_wait (GPid pid, Files *g, gint *flag, gint64 deadline, Phase *p)
{
  while (!g_atomic_int_get (flag) && !g_atomic_int_get (&g->failed) && bench_now_ns () < deadline)
    {
      BenchProcSample s;

      if (bench_proc_sample (pid, &s))
        p->rss_max_kb = MAX (p->rss_max_kb, s.rss_kb);
      g_usleep (10000);
    }
  return g_atomic_int_get (flag) != 0;
}

static void
phase_end (GPid pid, Phase *p)
{
  bench_proc_sample_threads (pid, &p->after);
  p->rss_max_kb = MAX (p->rss_max_kb, p->after.rss_kb);
  p->peak_kb = p->hwm_reset ? MAX (p->after.hwm_kb, p->rss_max_kb) : p->rss_max_kb;
}

static void
report_phase_cpu (BenchReport *r, const char *dir, const Phase *p)
{
  g_autofree char *k_all = g_strdup_printf ("%s_server_cpu_s", dir);
  g_autofree char *k_main = g_strdup_printf ("%s_server_main_cpu_s", dir);
  g_autofree char *k_writer = g_strdup_printf ("%s_server_writer_cpu_s", dir);
  g_autofree char *k_reader = g_strdup_printf ("%s_server_reader_cpu_s", dir);
  g_autofree char *l_all = g_strdup_printf ("%s: natterd CPU (user+sys)", dir);
  g_autofree char *l_main = g_strdup_printf ("%s: natterd CPU, main thread", dir);
  g_autofree char *l_writer = g_strdup_printf ("%s: natterd CPU, writer thread", dir);
  g_autofree char *l_reader = g_strdup_printf ("%s: natterd CPU, reader threads", dir);

  bench_report_row (r, l_all, k_all, p->after.cpu_s - p->before.cpu_s, "s");
  bench_report_row (r, l_main, k_main, p->after.main_cpu_s - p->before.main_cpu_s, "s");
  bench_report_row (r, l_writer, k_writer, p->after.writer_cpu_s - p->before.writer_cpu_s, "s");
  bench_report_row (r, l_reader, k_reader, p->after.reader_cpu_s - p->before.reader_cpu_s, "s");
}

/* ---- the scenario -------------------------------------------------------- */

/* Bytes that do not compress (TLS does not compress, but a disk or a
 * database might): xorshift64*, the same every run, so that runs on one
 * kept data directory send one file (counted once in the quota). */
static guint8 *
make_bytes (gsize size)
{
  guint8 *b = g_malloc (size + 8);
  guint64 x = G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);

  for (gsize i = 0; i < size; i += 8)
    {
      guint64 v;

      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      v = x * G_GUINT64_CONSTANT (0x2545f4914f6cdd1d);
      memcpy (b + i, &v, 8);
    }
  return b;
}

static double
mb_per_s (gsize bytes, gint64 ns)
{
  return ns > 0 ? bytes / 1e6 / (ns / 1e9) : 0;
}

int
bench_files (BenchOptions *o)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *bytes = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *tls_desc = NULL;
  char *names[2] = { NULL, NULL };
  BenchConn *conns[2] = { NULL, NULL };
  Files g = { 0 };
  Phase up, down;
  BenchReport r;
  BenchFilesRaw raw = { 0 };
  gboolean raw_ok = FALSE, ok = FALSE;
  gint64 deadline;
  double tool_cpu0 = 0, tool_cpu1 = 0;
  gsize rss_before = 0;
  guint i;

  if (!bench_users_ensure (o->users_db, o->engine, "fu", 2, &error))
    {
      g_printerr ("natter-bench: setup: %s\n", error->message);
      return 1;
    }
  g_print ("files: making %u bytes and their SHA-256\n", o->size);
  bytes = make_bytes (o->size);
  g_checksum_update (sum, bytes, o->size);
  g.bytes = bytes;
  g.size = o->size;
  g.chunks = (g.size + CHUNK - 1) / CHUNK;
  g.window = MAX (o->window, 1);
  g_strlcpy (g.sha256, g_checksum_get_string (sum), sizeof g.sha256);
  g.frame = g_string_sized_new (CHUNK * 4 / 3 + 256);
  g.down_sum = g_checksum_new (G_CHECKSUM_SHA256);

  for (i = 0; i < 2; i++)
    {
      names[i] = bench_username ("fu", i);
      /* One worker each (with two or more): the upload's thread never
       * waits for the download's and the other way round. */
      conns[i] = bench_conn_new (bench_engine_worker (o->engine, i), &files_ops, &g, i, BENCH_AUTH_TOKEN,
                                 names[i], bench_users_token (o->users_db, names[i]));
      conns[i]->files = TRUE;
      bench_conn_start (conns[i]);
    }
  deadline = bench_now_ns () + (gint64) (o->timeout_s * 1e9);
  while (g_atomic_int_get (&g.ready) < 2 && !g_atomic_int_get (&g.failed) && bench_now_ns () < deadline)
    g_usleep (1000);
  if (g_atomic_int_get (&g.ready) < 2)
    {
      g_printerr ("natter-bench: files: %s\n", g.failure ? g.failure : "the two users did not log in");
      goto out;
    }

  /* Up. */
  tool_cpu0 = bench_tool_cpu_s ();
  phase_begin (o->pid, &up);
  rss_before = up.before.rss_kb;
  bench_worker_call (conns[0]->worker, upload_go_cb, conns[0]);
  deadline = bench_now_ns () + (gint64) (o->timeout_s * 1e9);
  if (!phase_wait (o->pid, &g, &g.up_done, deadline, &up))
    {
      g_printerr ("natter-bench: files: upload: %s\n", g.failure ? g.failure : "timed out");
      goto out;
    }
  phase_end (o->pid, &up);

  /* The file into a direct message to fu1, who may then download it. */
  bench_worker_call (conns[0]->worker, send_go_cb, conns[0]);
  deadline = bench_now_ns () + (gint64) (o->timeout_s * 1e9);
  while (!(g_atomic_int_get (&g.sent) && g_atomic_int_get (&g.delivered))
         && !g_atomic_int_get (&g.failed) && bench_now_ns () < deadline)
    g_usleep (1000);
  if (!g_atomic_int_get (&g.sent) || !g_atomic_int_get (&g.delivered))
    {
      g_printerr ("natter-bench: files: send: %s\n", g.failure ? g.failure : "no reply or no delivery");
      goto out;
    }

  /* Down. */
  phase_begin (o->pid, &down);
  bench_worker_call (conns[1]->worker, download_go_cb, conns[1]);
  deadline = bench_now_ns () + (gint64) (o->timeout_s * 1e9);
  if (!phase_wait (o->pid, &g, &g.down_done, deadline, &down))
    {
      g_printerr ("natter-bench: files: download: %s\n", g.failure ? g.failure : "timed out");
      goto out;
    }
  phase_end (o->pid, &down);
  tool_cpu1 = bench_tool_cpu_s ();
  tls_desc = bench_conn_tls_desc (conns[1]);
  bench_engine_drop_conns (o->engine);

  /* The raw copy, with natterd's certificate, natterd idle. */
  cert = g_build_filename (o->data_dir, "tls-cert.pem", NULL);
  key = g_build_filename (o->data_dir, "tls-key.pem", NULL);
  raw_ok = bench_files_raw_copy (bytes, o->size, cert, key, &raw, &error);
  if (!raw_ok)
    g_printerr ("natter-bench: files: raw TLS copy: %s\n", error->message);

  bench_report_begin (&r, "files");
  bench_report_int (&r, "size", o->size);
  bench_report_int (&r, "chunks", g.chunks);
  bench_report_int (&r, "window", g.window);
  bench_report_string (&r, "tls", tls_desc);
  bench_report_string (&r, "raw_tls", raw.desc);
  bench_report_string (&r, "sha256_uploaded", g.sha256);
  bench_report_string (&r, "sha256_downloaded", g.down_sha256);
  bench_report_int (&r, "bytes_downloaded", g.down_bytes);
  bench_report_int (&r, "chunks_differing", g.down_bad);
  bench_report_int (&r, "file", g.file_id);
  g_print ("  %-38s %s\n  %-38s %s\n", "natterd's TLS", tls_desc ? tls_desc : "?",
           "raw copy's TLS", raw.desc ? raw.desc : "?");
  g_print ("  %-38s %s (%s)\n", "SHA-256 down = up", g.sha256,
           g_str_equal (g.sha256, g.down_sha256) && g.down_bad == 0 ? "same" : "DIFFERENT");
  bench_report_row (&r, "upload (upload_begin to the file id)", "up_s", (g.t_up_end - g.t_up_start) / 1e9, "s");
  /* The last chunk's reply waits for natterd to read the whole file back
   * and check its SHA-256 (and, on SQLite, write it to its file). */
  bench_report_row (&r, "  of which the last chunk's reply", "up_last_s",
                    g.chunks > 1 ? (g.t_up_end - g.t_up_before_last) / 1e9 : 0, "s");
  bench_report_row (&r, "download", "down_s", (g.t_down_end - g.t_down_start) / 1e9, "s");
  bench_report_row (&r, "upload rate", "up_mb_s", mb_per_s (g.size, g.t_up_end - g.t_up_start), "MB/s");
  bench_report_row (&r, "download rate", "down_mb_s", mb_per_s (g.size, g.t_down_end - g.t_down_start), "MB/s");
  bench_report_row (&r, "raw TLS copy, client to server", "raw_up_mb_s", mb_per_s (g.size, raw.up_ns), "MB/s");
  bench_report_row (&r, "raw TLS copy, server to client", "raw_down_mb_s", mb_per_s (g.size, raw.down_ns), "MB/s");
  bench_report_row (&r, "upload / raw", "ratio_up",
                    raw.up_ns > 0 ? (double) raw.up_ns / (g.t_up_end - g.t_up_start) : 0, "");
  bench_report_row (&r, "download / raw", "ratio_down",
                    raw.down_ns > 0 ? (double) raw.down_ns / (g.t_down_end - g.t_down_start) : 0, "");
  bench_report_row (&r, "natterd RSS before", "rss_before_kb", rss_before, "KiB");
  bench_report_row (&r, "natterd peak RSS, upload", "peak_rss_up_kb", up.peak_kb, "KiB");
  bench_report_row (&r, "natterd peak RSS, download", "peak_rss_down_kb", down.peak_kb, "KiB");
  bench_report_row (&r, "natterd peak RSS over before", "rss_growth_kb",
                    (double) MAX (up.peak_kb, down.peak_kb) - (double) rss_before, "KiB");
  bench_report_string (&r, "peak_from", up.hwm_reset && down.hwm_reset ? "VmHWM" : "VmRSS every 10 ms");
  report_phase_cpu (&r, "up", &up);
  report_phase_cpu (&r, "down", &down);
  bench_report_row (&r, "tool CPU, up and down", "tool_cpu_s", tool_cpu1 - tool_cpu0, "s");
  bench_report_int (&r, "errors", raw_ok ? 0 : 1);
  bench_report_end (&r);
  ok = raw_ok && g.down_bad == 0 && g_str_equal (g.sha256, g.down_sha256) && g.down_bytes == g.size;

out:
  bench_engine_drop_conns (o->engine);
  g_string_free (g.frame, TRUE);
  g_checksum_free (g.down_sum);
  g_free (g.failure);
  g_free (raw.desc);
  g_free (names[0]);
  g_free (names[1]);
  return ok ? 0 : 1;
}
