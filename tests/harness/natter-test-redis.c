/* natter-test-redis.c: a throw-away Redis server (natter-test-redis.h). */
#define G_LOG_DOMAIN "natter-test-redis"

#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "natter-test-redis.h"
#include "natter-test-throwaway.h"

/* Starting, answering PING, stopping: each within this. */
#define DEADLINE_MS 20000

struct _NatterTestRedis {
  char              *binary;
  char              *dir;      /* config, socket, pid file, log */
  char              *config;
  char              *socket;
  char              *pidfile;
  char              *log;
  guint16            port;
  uid_t              uid;      /* running as root: the user Redis runs as */
  gid_t              gid;
  gboolean           drop_privileges;
  GPid               pid;      /* 0: not running */
  int                pidfd;    /* readable once it has exited */
  NatterTestWatcher  watcher;
};

/* In the child, between fork() and exec(): Redis does not need root. */
static void
drop_privileges_cb (gpointer user_data)
{
  NatterTestRedis *self = user_data;

  if (!self->drop_privileges)
    return;
  if (setgroups (0, NULL) != 0 || setgid (self->gid) != 0 || setuid (self->uid) != 0)
    _exit (126);
}

/* TRUE if Redis answers PING on its socket now. */
static gboolean
answers_ping (NatterTestRedis *self)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_DEFAULT, NULL);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (self->socket);
  char reply[16] = { 0 };
  gssize got = 0, n;

  g_socket_set_timeout (socket, 2);
  if (!g_socket_connect (socket, address, NULL, NULL) ||
      g_socket_send (socket, "PING\r\n", 6, NULL, NULL) != 6)
    return FALSE;
  while (got < 7 && (n = g_socket_receive (socket, reply + got, 7 - got, NULL, NULL)) > 0)
    got += n;
  return got == 7 && memcmp (reply, "+PONG\r\n", 7) == 0;
}

static void
show_log_and_fail (NatterTestRedis *self,
                   const char      *what)
{
  g_autofree char *log = NULL;

  g_file_get_contents (self->log, &log, NULL, NULL);
  g_printerr ("redis-server log:\n%s\n", log != NULL ? log : "(none)");
  g_error ("redis-server %s", what);
}

/* Waits until Redis answers PING. Everything Redis does while starting
 * writes in its directory (the log, the pid file, the socket), and the
 * last log line ("Ready to accept connections") comes once it listens:
 * each write wakes the wait, which then tries PING again. */
static void
wait_ready (NatterTestRedis *self)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_MS * G_TIME_SPAN_MILLISECOND;
  int watch = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);

  g_assert_cmpint (watch, >=, 0);
  g_assert_cmpint (inotify_add_watch (watch, self->dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE), >=, 0);

  while (!answers_ping (self))
    {
      struct pollfd fds[2] = { { watch, POLLIN, 0 }, { self->pidfd, POLLIN, 0 } };
      gint64 left_ms = (end - g_get_monotonic_time ()) / 1000;
      char events[4096];

      if (left_ms <= 0)
        show_log_and_fail (self, "did not answer PING in time");
      if (poll (fds, 2, (int) left_ms) < 0 && errno != EINTR)
        g_error ("poll: %s", g_strerror (errno));
      if (fds[1].revents != 0)
        show_log_and_fail (self, "exited while starting");
      while (read (watch, events, sizeof events) > 0)
        ;
    }
  close (watch);
}

static void
spawn (NatterTestRedis *self)
{
  const char *argv[] = { self->binary, self->config, NULL };
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (self->pid, ==, 0);
  g_spawn_async (self->dir, (char **) argv, NULL,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                 drop_privileges_cb, self, &self->pid, &error);
  g_assert_no_error (error);
  self->pidfd = pidfd_open (self->pid, 0);
  g_assert_cmpint (self->pidfd, >=, 0);
  wait_ready (self);
}

static void
write_config (NatterTestRedis *self)
{
  g_autoptr(GError) error = NULL;
  /* "-::1": IPv6 loopback where the machine has it. */
  g_autofree char *config = g_strdup_printf ("port %u\n"
                                             "bind 127.0.0.1 -::1\n"
                                             "unixsocket %s\n"
                                             "unixsocketperm 700\n"
                                             "daemonize no\n"
                                             "save \"\"\n"
                                             "appendonly no\n"
                                             "dir %s\n"
                                             "pidfile %s\n"
                                             "logfile %s\n",
                                             self->port, self->socket, self->dir,
                                             self->pidfile, self->log);

  g_file_set_contents (self->config, config, -1, &error);
  g_assert_no_error (error);
}

NatterTestRedis *
natter_test_redis_start (char **out_skip)
{
  const char *binary = g_getenv ("NATTER_REDIS_SERVER");
  NatterTestRedis *self;
  g_autoptr(GError) error = NULL;
  g_autofree char *script = NULL;

  if (binary == NULL)
    binary = "/usr/bin/redis-server";
  if (!g_file_test (binary, G_FILE_TEST_IS_EXECUTABLE))
    {
      *out_skip = g_strdup_printf ("Redis is not installed (no %s; build-aux/install-deps.sh "
                                   "installs redis-server)", binary);
      return NULL;
    }

  self = g_new0 (NatterTestRedis, 1);
  self->binary = g_strdup (binary);
  self->pidfd = -1;
  if (getuid () == 0)
    {
      struct passwd *pw = getpwnam ("redis");

      if (pw == NULL)
        pw = getpwnam ("nobody");
      if (pw == NULL)
        {
          *out_skip = g_strdup ("running as root and there is neither a 'redis' nor a 'nobody' user "
                                "to run Redis as");
          g_free (self->binary);
          g_free (self);
          return NULL;
        }
      self->drop_privileges = TRUE;
      self->uid = pw->pw_uid;
      self->gid = pw->pw_gid;
    }

  if (self->drop_privileges)
    {
      /* Not under $TMPDIR: the server tests' is a private folder of
       * root's (natter_test_add), which the Redis user cannot enter. The
       * watcher removes this one whatever happens to the test. */
      self->dir = g_mkdtemp (g_strdup ("/tmp/natter-redis-XXXXXX"));
      g_assert_nonnull (self->dir);
      g_assert_cmpint (chown (self->dir, self->uid, self->gid), ==, 0);
    }
  else
    {
      self->dir = g_dir_make_tmp ("natter-redis-XXXXXX", &error);
      g_assert_no_error (error);
    }
  self->config = g_build_filename (self->dir, "redis.conf", NULL);
  self->socket = g_build_filename (self->dir, "redis.sock", NULL);
  self->pidfile = g_build_filename (self->dir, "redis.pid", NULL);
  self->log = g_build_filename (self->dir, "redis.log", NULL);
  self->port = natter_test_free_port ();
  write_config (self);

  /* The pid file is Redis's own: it names the running server across
   * restarts, and Redis removes it when it stops the ordinary way. */
  script = g_strdup_printf ("[ -f '%s' ] && kill -KILL \"$(cat '%s')\"; rm -rf '%s'",
                            self->pidfile, self->pidfile, self->dir);
  natter_test_watcher_start (&self->watcher, script);
  spawn (self);
  return self;
}

guint16
natter_test_redis_get_port (NatterTestRedis *self)
{
  return self->port;
}

char *
natter_test_redis_address (NatterTestRedis *self)
{
  return g_strdup_printf ("redis://127.0.0.1:%u", self->port);
}

const char *
natter_test_redis_get_socket (NatterTestRedis *self)
{
  return self->socket;
}

void
natter_test_redis_stop (NatterTestRedis *self)
{
  struct pollfd fd = { self->pidfd, POLLIN, 0 };
  int status = 0;

  g_assert_cmpint (self->pid, >, 0);
  kill (self->pid, SIGTERM);
  kill (self->pid, SIGCONT);
  while (poll (&fd, 1, DEADLINE_MS) < 0 && errno == EINTR)
    ;
  if (fd.revents == 0)
    {
      g_printerr ("redis-server did not stop on SIGTERM in time; killing it\n");
      kill (self->pid, SIGKILL);
    }
  g_assert_cmpint (waitpid (self->pid, &status, 0), ==, self->pid);
  g_spawn_close_pid (self->pid);
  close (self->pidfd);
  self->pidfd = -1;
  self->pid = 0;
}

void
natter_test_redis_start_again (NatterTestRedis *self)
{
  spawn (self);
}

void
natter_test_redis_pause (NatterTestRedis *self)
{
  g_assert_cmpint (self->pid, >, 0);
  g_assert_cmpint (kill (self->pid, SIGSTOP), ==, 0);
}

void
natter_test_redis_resume (NatterTestRedis *self)
{
  g_assert_cmpint (self->pid, >, 0);
  g_assert_cmpint (kill (self->pid, SIGCONT), ==, 0);
}

void
natter_test_redis_free (NatterTestRedis *self)
{
  const char *rm[] = { "rm", "-rf", NULL, NULL };

  if (self == NULL)
    return;
  natter_test_watcher_stop (&self->watcher);
  if (self->pid > 0)
    natter_test_redis_stop (self);
  rm[2] = self->dir;
  g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (self->binary);
  g_free (self->dir);
  g_free (self->config);
  g_free (self->socket);
  g_free (self->pidfile);
  g_free (self->log);
  g_free (self);
}
