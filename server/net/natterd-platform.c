/* natterd-platform.c: see natterd-platform.h. NATTER_LINUX_CALLS is set
 * by meson on Linux unless -Dportable=true. */
#define _GNU_SOURCE 1 /* accept4 */
#define G_LOG_DOMAIN "natterd-platform"

#include "config.h"

#include "natterd-platform.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <unistd.h>

#ifdef NATTER_LINUX_CALLS
#include <malloc.h>
#include <sys/file.h>
#endif

#ifndef NATTER_LINUX_CALLS
/* O_NONBLOCK and FD_CLOEXEC by fcntl, as accept4 sets them at once; and
 * TCP_NODELAY, which only Linux inherits from the listening socket. */
static gboolean
set_up_accepted (int fd)
{
  int flags = fcntl (fd, F_GETFL);
  int one = 1;

  if (flags < 0 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
      fcntl (fd, F_SETFD, FD_CLOEXEC) != 0)
    return FALSE;
  /* natterd listens on TCP only: no need to ask the family first. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
  /* macOS and the BSDs: no SIGPIPE from this socket (there is no
   * MSG_NOSIGNAL there; SIGPIPE is ignored anyway, see _init). */
  setsockopt (fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return TRUE;
}
#endif

int
natterd_platform_accept (int              fd,
                         struct sockaddr *remote,
                         socklen_t       *remote_len)
{
#ifdef NATTER_LINUX_CALLS
  return accept4 (fd, remote, remote_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
  int conn = accept (fd, remote, remote_len);

  if (conn < 0)
    return -1;
  if (!set_up_accepted (conn))
    {
      int saved = errno;

      close (conn);
      errno = saved;
      return -1;
    }
  return conn;
#endif
}

gboolean
natterd_platform_accept_error_is_transient (int error_number)
{
  switch (error_number)
    {
    case EINTR:
    case ECONNABORTED:
    case EPERM:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENOPROTOOPT:
    case EOPNOTSUPP:
#ifdef EPROTO
    case EPROTO:
#endif
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
#ifdef ENONET
    case ENONET:
#endif
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
natterd_platform_lock_exclusive (int fd)
{
#ifdef NATTER_LINUX_CALLS
  return flock (fd, LOCK_EX | LOCK_NB) == 0;
#else
  /* A POSIX record lock of the whole file: held by this process until it
   * closes any descriptor of the file, which natterd does only at exit. */
  struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

  return fcntl (fd, F_SETLK, &lock) == 0;
#endif
}

int
natterd_platform_send_flags (void)
{
#ifdef NATTER_LINUX_CALLS
  return MSG_NOSIGNAL;
#else
  return 0;
#endif
}

void
natterd_platform_init (void)
{
  /* A peer that hangs up while we write must not kill the process. */
  signal (SIGPIPE, SIG_IGN);
  /* No malloc tuning (there was: M_TRIM_THRESHOLD 256 MiB and M_TOP_PAD
   * 16 MiB, when each output queue malloc'd and freed its chunks). The
   * threshold is global: it also stops glibc from shrinking the arenas of
   * the other threads (writer, index, reader, send helpers, hashers), and
   * malloc_trim does not shrink their tops either, so each arena kept the
   * highest its thread ever touched, 16 MiB apiece. In the soak that grew
   * natterd's RSS cycle after cycle while the memory in use stayed flat
   * (docs/reliability.md, "Soak"). The output chunks come from a free list
   * now (natterd-output-queue.c), and with glibc's defaults fan-out costs
   * no more CPU (measured in the same soak). */
}

void
natterd_platform_release_free_memory (void)
{
#if defined (NATTER_LINUX_CALLS) && defined (__GLIBC__)
  malloc_trim (0);
#endif
}

const char *
natterd_platform_describe (void)
{
#ifdef NATTER_LINUX_CALLS
  return "Linux (epoll, accept4, flock)";
#else
  return "portable (GLib sources, accept, fcntl locks)";
#endif
}
