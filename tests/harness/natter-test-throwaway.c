/* natter-test-throwaway.c: what throw-away servers share (natter-test-throwaway.h). */
#define G_LOG_DOMAIN "natter-test-throwaway"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "natter-test-throwaway.h"

guint16
natter_test_free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_nonnull (socket);
  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

void
natter_test_watcher_start (NatterTestWatcher *watcher,
                           const char        *script)
{
  char *argv[] = { "/bin/sh", "-c", (char *) script, NULL };
  int fds[2];
  pid_t pid;

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      char c;

      close (fds[1]);
      setsid (); /* not in the test's process group: a ^C reaches it through the pipe */
      while (read (fds[0], &c, 1) < 0 && errno == EINTR)
        ;
      execv (argv[0], argv);
      _exit (127);
    }
  close (fds[0]);
  watcher->pid = pid;
  watcher->fd = fds[1];
}

void
natter_test_watcher_stop (NatterTestWatcher *watcher)
{
  if (watcher->pid <= 0)
    return;
  kill (watcher->pid, SIGKILL);
  waitpid (watcher->pid, NULL, 0);
  close (watcher->fd);
  watcher->pid = 0;
}
