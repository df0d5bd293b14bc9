/* bench-server.c: starting the servers under test (natterd and, for the
 * reference, redis-server) and stopping them.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <gio/gunixinputstream.h>

#include "bench.h"

/* The limits a benchmark would hit by design: one address sending as fast
 * as it can, thousands of connections, registrations in bulk. Everything
 * else (durability, frame size) stays at its default. */
static const char bench_config[] =
  "[limits]\n"
  "frames_per_second=10000000\n"
  "frame_burst=10000000\n"
  "connections_per_address=1000000\n"
  "registrations_per_hour_per_address=10000000\n"
  "failed_logins_per_minute_per_address=10000000\n"
  "failed_logins_per_minute_per_user=10000000\n"
  "hash_queue_per_thread=10000000\n"
  "messages_per_minute_per_user=100000000\n"
  "output_queue_bytes=268435456\n"
  "handshake_timeout=600\n"
  "login_timeout=600\n"
  "idle_timeout=3600\n";

static gpointer
drain_thread (gpointer data)
{
  GInputStream *in = data;
  char buf[4096];

  while (g_input_stream_read (in, buf, sizeof buf, NULL, NULL) > 0)
    ;
  g_object_unref (in);
  return NULL;
}

/* Reads lines from @fd until one starts with "listening ", with a deadline. */
static char *
wait_listening (int fd, gint64 deadline_ns, GError **error)
{
  GString *acc = g_string_new (NULL);

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left = (deadline_ns - bench_now_ns ()) / 1000000;
      char buf[512];
      char *nl;
      ssize_t n;

      if (left <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "natterd did not print \"listening\" in time");
          break;
        }
      if (poll (&pfd, 1, (int) left) <= 0)
        continue;
      n = read (fd, buf, sizeof buf);
      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "natterd exited before listening");
          break;
        }
      g_string_append_len (acc, buf, n);
      while ((nl = strchr (acc->str, '\n')))
        {
          char *line = g_strndup (acc->str, nl - acc->str);

          g_string_erase (acc, 0, nl - acc->str + 1);
          if (g_str_has_prefix (line, "listening "))
            {
              g_string_free (acc, TRUE);
              return line;
            }
          g_free (line);
        }
    }
  g_string_free (acc, TRUE);
  return NULL;
}

BenchServer *
bench_natterd_start (const char *natterd_path, const char *data_dir, gboolean tls,
                     const char *extra_config, GError **error)
{
  return bench_natterd_start_args (natterd_path, data_dir, tls, extra_config, NULL, error);
}

BenchServer *
bench_natterd_start_args (const char *natterd_path, const char *data_dir, gboolean tls,
                          const char *extra_config, const char *const *extra_args,
                          GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *line = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  GInputStream *out;
  BenchServer *s;
  const char *addr, *colon;

  if (g_mkdir_with_parents (data_dir, 0700) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot create %s: %s", data_dir, g_strerror (errno));
      return NULL;
    }
  conf_path = g_build_filename (data_dir, "bench-natterd.conf", NULL);
  conf = g_strconcat (bench_config, extra_config ? extra_config : "", NULL);
  if (!g_file_set_contents (conf_path, conf, -1, error))
    return NULL;
  log_path = g_build_filename (data_dir, "natterd.log", NULL);
  /* GLib opens the stderr file without truncating it: a kept data
   * directory's log would end in an earlier run's lines. */
  if (unlink (log_path) < 0 && errno != ENOENT)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot remove %s: %s", log_path, g_strerror (errno));
      return NULL;
    }

  g_ptr_array_add (argv, (char *) natterd_path);
  g_ptr_array_add (argv, "--listen");
  g_ptr_array_add (argv, "127.0.0.1:0");
  g_ptr_array_add (argv, "--data-dir");
  g_ptr_array_add (argv, (char *) data_dir);
  g_ptr_array_add (argv, "--config");
  g_ptr_array_add (argv, conf_path);
  if (!tls)
    g_ptr_array_add (argv, "--no-tls");
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra_args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  s = g_new0 (BenchServer, 1);
  s->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (!s->proc)
    {
      g_free (s);
      return NULL;
    }
  s->pid = atoi (g_subprocess_get_identifier (s->proc));
  out = g_subprocess_get_stdout_pipe (s->proc);
  line = wait_listening (g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (out)),
                         bench_now_ns () + G_GINT64_CONSTANT (60000000000), error);
  if (!line)
    {
      g_autofree char *log = NULL;

      if (g_file_get_contents (log_path, &log, NULL, NULL) && *log)
        g_printerr ("natter-bench: natterd said:\n%s", log);
      g_prefix_error (error, "(log in %s) ", log_path);
      bench_server_stop (s);
      return NULL;
    }
  /* Nobody reads natterd's stdout from now on but this thread, so that a
   * chatty server never blocks on a full pipe. */
  g_thread_unref (g_thread_new ("natterd-stdout", drain_thread, g_object_ref (out)));

  addr = line + strlen ("listening ");
  colon = strrchr (addr, ':');
  if (!colon)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read \"%s\"", line);
      bench_server_stop (s);
      return NULL;
    }
  s->host = g_strndup (addr, colon - addr);
  s->port = (guint16) atoi (colon + 1);
  s->data_dir = g_strdup (data_dir);
  s->tls = tls;
  return s;
}

static guint16
free_port (void)
{
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof a;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  guint16 port = 0;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd >= 0 && bind (fd, (struct sockaddr *) &a, sizeof a) == 0
      && getsockname (fd, (struct sockaddr *) &a, &len) == 0)
    port = ntohs (a.sin_port);
  if (fd >= 0)
    close (fd);
  return port;
}

static gboolean
port_accepts (guint16 port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gboolean ok;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ok = fd >= 0 && connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

BenchServer *
bench_redis_start (const char *redis_path, const char *dir, GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *port_s = NULL;
  g_autofree char *log_path = NULL;
  guint16 port = free_port ();
  BenchServer *s;
  gint64 deadline;

  if (port == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no free loopback port");
      return NULL;
    }
  port_s = g_strdup_printf ("%u", port);
  g_mkdir_with_parents (dir, 0700);
  log_path = g_build_filename (dir, "redis.log", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  g_subprocess_launcher_set_cwd (launcher, dir);
  s = g_new0 (BenchServer, 1);
  /* No persistence, no limit on a subscriber's output buffer (a benchmark
   * subscriber is slow by design at times), room for many clients. */
  s->proc = g_subprocess_launcher_spawn (launcher, error, redis_path,
                                         "--port", port_s, "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no",
                                         "--protected-mode", "no", "--daemonize", "no",
                                         "--maxclients", "100000",
                                         "--client-output-buffer-limit", "pubsub 0 0 0",
                                         "--logfile", "",
                                         NULL);
  if (!s->proc)
    {
      g_free (s);
      return NULL;
    }
  s->pid = atoi (g_subprocess_get_identifier (s->proc));
  s->host = g_strdup ("127.0.0.1");
  s->port = port;
  deadline = bench_now_ns () + G_GINT64_CONSTANT (20000000000);
  while (!port_accepts (port))
    {
      if (bench_now_ns () > deadline || g_subprocess_get_identifier (s->proc) == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "redis-server did not start (see %s)", log_path);
          bench_server_stop (s);
          return NULL;
        }
      g_usleep (2000);
    }
  return s;
}

void
bench_server_stop (BenchServer *s)
{
  if (!s)
    return;
  if (s->proc)
    {
      gint64 deadline = bench_now_ns () + G_GINT64_CONSTANT (30000000000);

      g_subprocess_send_signal (s->proc, SIGTERM);
      /* GLib's worker thread reaps the child; the identifier goes NULL
       * then. A server that takes more than 30 s to stop is reported and
       * killed, so a slow shutdown cannot stall a whole benchmark run. */
      while (g_subprocess_get_identifier (s->proc) != NULL && bench_now_ns () < deadline)
        g_usleep (10000);
      if (g_subprocess_get_identifier (s->proc) != NULL)
        {
          g_printerr ("natter-bench: server pid %d still running 30 s after SIGTERM; killing it\n", (int) s->pid);
          g_subprocess_force_exit (s->proc);
        }
      g_subprocess_wait (s->proc, NULL, NULL);
      if (g_subprocess_get_if_exited (s->proc) && g_subprocess_get_exit_status (s->proc) != 0)
        g_printerr ("natter-bench: server exited with status %d\n", g_subprocess_get_exit_status (s->proc));
      else if (g_subprocess_get_if_signaled (s->proc))
        g_printerr ("natter-bench: server died of signal %d\n", g_subprocess_get_term_sig (s->proc));
      g_object_unref (s->proc);
    }
  g_free (s->host);
  g_free (s->data_dir);
  g_free (s);
}

/* One inline command to the Redis at 127.0.0.1:@port, blocking, with a
 * 5 s limit: the text of its bulk-string reply (INFO), or NULL. */
static char *
redis_bulk_command (guint16 port, const char *command)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct timeval tv = { .tv_sec = 5 };
  g_autofree char *req = g_strconcat (command, "\r\n", NULL);
  GString *acc = g_string_new (NULL);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gssize want = -1;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0)
    goto fail;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &a, sizeof a) != 0
      || write (fd, req, strlen (req)) != (ssize_t) strlen (req))
    goto fail;
  for (;;)
    {
      char buf[4096];
      ssize_t n = read (fd, buf, sizeof buf);
      char *nl;

      if (n <= 0)
        goto fail;
      g_string_append_len (acc, buf, n);
      if (want < 0 && (nl = strstr (acc->str, "\r\n")))
        {
          if (acc->str[0] != '$')
            goto fail;
          want = (nl - acc->str) + 2 + atoll (acc->str + 1) + 2;
        }
      if (want >= 0 && (gssize) acc->len >= want)
        break;
    }
  close (fd);
  {
    char *body = strstr (acc->str, "\r\n") + 2;
    char *out = g_strndup (body, want - (body - acc->str) - 2);

    g_string_free (acc, TRUE);
    return out;
  }

fail:
  if (fd >= 0)
    close (fd);
  g_string_free (acc, TRUE);
  return NULL;
}

/* The integer after @key in an INFO text ("key:123" or "key=123"). */
static gint64
info_int (const char *info, const char *key)
{
  const char *p = info ? strstr (info, key) : NULL;

  if (p == NULL)
    return 0;
  p += strlen (key);
  return g_ascii_strtoll (p, NULL, 10);
}

gboolean
bench_redis_sample (guint16 port, BenchRedisSample *out)
{
  g_autofree char *stats = redis_bulk_command (port, "INFO stats");
  g_autofree char *cmds = redis_bulk_command (port, "INFO commandstats");

  memset (out, 0, sizeof *out);
  if (stats == NULL || cmds == NULL)
    return FALSE;
  out->commands = info_int (stats, "total_commands_processed:");
  out->net_input_bytes = info_int (stats, "total_net_input_bytes:");
  out->net_output_bytes = info_int (stats, "total_net_output_bytes:");
  out->publishes = info_int (cmds, "cmdstat_publish:calls=");
  return TRUE;
}

char *
bench_natterd_log_line (const char *data_dir, const char *needle)
{
  g_autofree char *path = g_build_filename (data_dir, "natterd.log", NULL);
  g_autofree char *log = NULL;
  const char *p, *start;

  if (!g_file_get_contents (path, &log, NULL, NULL) || (p = g_strrstr (log, needle)) == NULL)
    return NULL;
  for (start = p; start > log && start[-1] != '\n'; start--)
    ;
  return g_strndup (start, strcspn (start, "\n"));
}
