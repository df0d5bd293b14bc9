/* natter-fault-shim.c: an LD_PRELOAD library that makes writes to chosen
 * files fail with ENOSPC or EIO, for tests only (tests/faults/meson.build;
 * never installed).
 *
 * Design
 *
 * - What it wraps: every call through which natterd and its libraries put
 *   bytes on a disk or make them durable: write, pwrite, pwrite64, writev,
 *   pwritev, fsync, fdatasync, ftruncate(64), fallocate(64) and
 *   posix_fallocate. SQLite's unix VFS on Debian (3.40) writes with
 *   pwrite64, syncs with fdatasync, truncates a WAL with ftruncate, and
 *   calls all of them through its own table of libc pointers, which the
 *   dynamic linker fills with these wrappers like any other reference. GLib
 *   (g_file_set_contents_full, used for the TLS certificate and key) uses
 *   write and fsync. The -shm file is written through mmap, which no shim
 *   can fail; SQLite treats it as a cache it can rebuild. The real
 *   function is found with dlsym (RTLD_NEXT).
 *
 * - Which files: a call is "matching" when the path of its fd
 *   (readlink of /proc/self/fd/N) matches an fnmatch(3) pattern, e.g.
 *   "*" "/natter.db-wal" or "*" "/tls-key.pem*" (the latter also catches the
 *   temporary file GLib writes first). The answer is cached per fd together
 *   with the fd's device and inode (one fstat a call, cheaper than a
 *   readlink): an fd that was closed and reused for another file, by any
 *   path (fclose does not go through a wrapper), is looked up again. A
 *   change of the control's generation forgets every answer.
 *
 * - Control at run time: the environment names a control file,
 *   NATTER_FAULT_CONTROL=PATH, holding one NatterFaultControl
 *   (natter-fault.h) that the test made and keeps mapped too. The shim maps
 *   it MAP_SHARED on its first call, so a field the test writes is what
 *   natterd's next write reads: arm or lift a fault, change the pattern,
 *   the error, the operations, how many matching calls pass before the
 *   first failure (@after) and how many fail (@max_failures, 0 for all
 *   until lifted). The shim counts matching calls (@seen, armed or not:
 *   an unarmed run counts what a fault could hit) and failures (@failed)
 *   with atomic increments, which the test reads to know a fault fired.
 *   Without a control file, NATTER_FAULT_PATTERN, NATTER_FAULT_ERRNO
 *   ("ENOSPC" or "EIO"), NATTER_FAULT_AFTER and NATTER_FAULT_OPS (a
 *   number) arm a fault from the start, in private memory: for a person
 *   reproducing a failure by hand.
 *
 * - A failed call does nothing and sets errno, as a full disk does before
 *   any byte is written (a short write first is not simulated).
 *
 * - Under AddressSanitizer the test puts libasan first in LD_PRELOAD, this
 *   library second: ASan's interceptors then call into these wrappers,
 *   which call libc.
 */
/* The wrappers define both pwrite and pwrite64 (and so on): the
 * 64-bit renaming of the headers would make them one symbol. */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "natter-fault.h"

#define MAX_FDS 4096

typedef struct {
  uint32_t generation; /* of the control, when looked up; 0: never */
  dev_t    dev;
  ino_t    ino;
  int      matches;
} FdEntry;

static NatterFaultControl *control;
static NatterFaultControl  private_control;
static pthread_once_t      control_once = PTHREAD_ONCE_INIT;
static FdEntry             fds[MAX_FDS];
static pthread_mutex_t     fds_lock = PTHREAD_MUTEX_INITIALIZER;

static void
load_control (void)
{
  const char *path = getenv ("NATTER_FAULT_CONTROL");
  const char *env;

  if (path != NULL && *path != '\0')
    {
      int fd = open (path, O_RDWR | O_CLOEXEC);
      void *map;

      if (fd >= 0)
        {
          map = mmap (NULL, sizeof (NatterFaultControl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
          close (fd);
          if (map != MAP_FAILED && ((NatterFaultControl *) map)->magic == NATTER_FAULT_MAGIC)
            {
              control = map;
              return;
            }
        }
      fprintf (stderr, "natter-fault-shim: cannot use the control file %s\n", path);
      abort ();
    }

  private_control.magic = NATTER_FAULT_MAGIC;
  private_control.generation = 1;
  env = getenv ("NATTER_FAULT_PATTERN");
  if (env != NULL)
    {
      snprintf (private_control.pattern, sizeof private_control.pattern, "%s", env);
      private_control.armed = 1;
    }
  env = getenv ("NATTER_FAULT_ERRNO");
  private_control.error = env != NULL && strcmp (env, "EIO") == 0 ? EIO : ENOSPC;
  env = getenv ("NATTER_FAULT_AFTER");
  private_control.after = env != NULL ? (uint32_t) strtoul (env, NULL, 10) : 0;
  env = getenv ("NATTER_FAULT_OPS");
  private_control.ops = env != NULL ? (uint32_t) strtoul (env, NULL, 0) : NATTER_FAULT_OP_ALL;
  control = &private_control;
}

/* Whether @fd's file matches the pattern now. */
static int
fd_matches (int fd, uint32_t generation)
{
  struct stat st;
  char link[64], path[4096];
  ssize_t n;
  int matches;

  if (fd < 0 || fstat (fd, &st) != 0 || !(S_ISREG (st.st_mode) || S_ISDIR (st.st_mode)))
    return 0;
  if (fd < MAX_FDS)
    {
      pthread_mutex_lock (&fds_lock);
      if (fds[fd].generation == generation && fds[fd].dev == st.st_dev && fds[fd].ino == st.st_ino)
        {
          matches = fds[fd].matches;
          pthread_mutex_unlock (&fds_lock);
          return matches;
        }
      pthread_mutex_unlock (&fds_lock);
    }

  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, path, sizeof path - 1);
  if (n < 0)
    return 0;
  path[n] = '\0';
  matches = fnmatch (control->pattern, path, 0) == 0;

  if (fd < MAX_FDS)
    {
      pthread_mutex_lock (&fds_lock);
      fds[fd] = (FdEntry) { .generation = generation, .dev = st.st_dev, .ino = st.st_ino, .matches = matches };
      pthread_mutex_unlock (&fds_lock);
    }
  return matches;
}

/* Decides one call on @fd of kind @op: 0 to let it through, else the
 * errno to fail it with. */
static int
decide (int fd, uint32_t op)
{
  uint32_t generation, index;
  int saved = errno;

  pthread_once (&control_once, load_control);
  generation = __atomic_load_n (&control->generation, __ATOMIC_ACQUIRE);
  if (control->pattern[0] == '\0' || !(__atomic_load_n (&control->ops, __ATOMIC_RELAXED) & op) ||
      !fd_matches (fd, generation))
    {
      errno = saved;
      return 0;
    }
  errno = saved;
  index = __atomic_fetch_add (&control->seen, 1, __ATOMIC_ACQ_REL);
  if (!__atomic_load_n (&control->armed, __ATOMIC_ACQUIRE) || index < control->after)
    return 0;
  if (control->max_failures != 0)
    {
      uint32_t failed = __atomic_load_n (&control->failed, __ATOMIC_ACQUIRE);

      do
        if (failed >= control->max_failures)
          return 0;
      while (!__atomic_compare_exchange_n (&control->failed, &failed, failed + 1, 0,
                                           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    }
  else
    __atomic_fetch_add (&control->failed, 1, __ATOMIC_ACQ_REL);
  return control->error != 0 ? control->error : ENOSPC;
}

#define REAL(name) \
  static __typeof__ (&name) real_##name; \
  if (real_##name == NULL) \
    real_##name = (__typeof__ (&name)) dlsym (RTLD_NEXT, #name)

#define FAIL_OR(fd, op) \
  do { \
    int e_ = decide ((fd), (op)); \
    if (e_ != 0) { errno = e_; return -1; } \
  } while (0)

ssize_t
write (int fd, const void *buf, size_t count)
{
  REAL (write);
  FAIL_OR (fd, NATTER_FAULT_OP_WRITE);
  return real_write (fd, buf, count);
}

ssize_t
pwrite (int fd, const void *buf, size_t count, off_t offset)
{
  REAL (pwrite);
  FAIL_OR (fd, NATTER_FAULT_OP_WRITE);
  return real_pwrite (fd, buf, count, offset);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t count, off64_t offset)
{
  REAL (pwrite64);
  FAIL_OR (fd, NATTER_FAULT_OP_WRITE);
  return real_pwrite64 (fd, buf, count, offset);
}

ssize_t
writev (int fd, const struct iovec *iov, int iovcnt)
{
  REAL (writev);
  FAIL_OR (fd, NATTER_FAULT_OP_WRITE);
  return real_writev (fd, iov, iovcnt);
}

ssize_t
pwritev (int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
  REAL (pwritev);
  FAIL_OR (fd, NATTER_FAULT_OP_WRITE);
  return real_pwritev (fd, iov, iovcnt, offset);
}

int
fsync (int fd)
{
  REAL (fsync);
  FAIL_OR (fd, NATTER_FAULT_OP_SYNC);
  return real_fsync (fd);
}

int
fdatasync (int fd)
{
  REAL (fdatasync);
  FAIL_OR (fd, NATTER_FAULT_OP_SYNC);
  return real_fdatasync (fd);
}

int
ftruncate (int fd, off_t length)
{
  REAL (ftruncate);
  FAIL_OR (fd, NATTER_FAULT_OP_TRUNCATE);
  return real_ftruncate (fd, length);
}

int
ftruncate64 (int fd, off64_t length)
{
  REAL (ftruncate64);
  FAIL_OR (fd, NATTER_FAULT_OP_TRUNCATE);
  return real_ftruncate64 (fd, length);
}

int
fallocate (int fd, int mode, off_t offset, off_t len)
{
  REAL (fallocate);
  FAIL_OR (fd, NATTER_FAULT_OP_ALLOCATE);
  return real_fallocate (fd, mode, offset, len);
}

int
fallocate64 (int fd, int mode, off64_t offset, off64_t len)
{
  REAL (fallocate64);
  FAIL_OR (fd, NATTER_FAULT_OP_ALLOCATE);
  return real_fallocate64 (fd, mode, offset, len);
}

/* posix_fallocate returns the error instead of setting errno. */
int
posix_fallocate (int fd, off_t offset, off_t len)
{
  int e;

  REAL (posix_fallocate);
  e = decide (fd, NATTER_FAULT_OP_ALLOCATE);

  if (e != 0)
    return e;
  return real_posix_fallocate (fd, offset, len);
}

int
posix_fallocate64 (int fd, off64_t offset, off64_t len)
{
  int e;

  REAL (posix_fallocate64);
  e = decide (fd, NATTER_FAULT_OP_ALLOCATE);

  if (e != 0)
    return e;
  return real_posix_fallocate64 (fd, offset, len);
}
