/* natterd-tls-handshake.c: see natterd-tls-handshake.h. */
#define G_LOG_DOMAIN "natterd-tls"

#include "config.h"

#include "natterd-tls-handshake.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* A TLS record: content type, version (2 bytes), length (2 bytes), then
 * that many bytes (RFC 8446, 5.1); a plaintext record holds 2^14 at most. */
#define TLS_RECORD_HEADER    5
#define TLS_RECORD_MAX       (TLS_RECORD_HEADER + 16384)
#define TLS_CONTENT_HANDSHAKE 0x16

/* The socket is readable once @bytes are buffered (or at its end). Where
 * poll ignores SO_RCVLOWAT, every byte wakes the wait instead: slower,
 * still correct. */
static void
set_low_water (int   fd,
               gsize bytes)
{
#ifdef SO_RCVLOWAT
  int value = (int) bytes;

  setsockopt (fd, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value);
#endif
}

static NatterdTlsHello
wait_for (int    fd,
          gsize  have,
          gsize  want,
          gsize *buffered)
{
  /* Woken with nothing new: the stream's end, which always wakes the
   * wait whatever the low-water mark. */
  if (*buffered > 0 && have <= *buffered)
    return NATTERD_TLS_HELLO_GONE;
  *buffered = have;
  set_low_water (fd, want);
  return NATTERD_TLS_HELLO_WAIT;
}

NatterdTlsHello
natterd_tls_hello_check (int    fd,
                         gsize *buffered)
{
  guint8 header[TLS_RECORD_HEADER];
  gsize record;
  int available = 0;
  gssize n;

  do
    n = recv (fd, header, sizeof header, MSG_PEEK);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return NATTERD_TLS_HELLO_GONE;
  if (n < 0)
    {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return NATTERD_TLS_HELLO_GONE;
      set_low_water (fd, TLS_RECORD_HEADER);
      return NATTERD_TLS_HELLO_WAIT;
    }
  if (n < TLS_RECORD_HEADER)
    return wait_for (fd, n, TLS_RECORD_HEADER, buffered);

  record = TLS_RECORD_HEADER + (((gsize) header[3] << 8) | header[4]);
  /* A handshake record waits until it is whole. Anything else (not TLS,
   * or longer than TLS allows) goes to GnuTLS, which refuses it at once. */
  if (header[0] == TLS_CONTENT_HANDSHAKE && record <= TLS_RECORD_MAX)
    {
      if (ioctl (fd, FIONREAD, &available) != 0)
        return NATTERD_TLS_HELLO_GONE;
      if ((gsize) available < record)
        return wait_for (fd, available, record, buffered);
    }

  /* The handshake's thread, and later the epoll set, wait for any byte. */
  set_low_water (fd, 1);
  return NATTERD_TLS_HELLO_READY;
}
