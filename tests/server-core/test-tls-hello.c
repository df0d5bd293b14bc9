/* test-tls-hello.c: natterd_tls_hello_check, the wait for a whole
 * ClientHello before natterd starts a TLS handshake
 * (natterd-tls-handshake.h), on a real loopback TCP connection: what it
 * says for nothing yet, part of a record header, part of a record, a whole
 * one, what is not TLS, and a client that closes half-way.
 */
#include "config.h"

#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "natterd-tls-handshake.h"

typedef struct {
  int client;
  int server;
} Pair;

/* A connected pair over 127.0.0.1, the server's end non-blocking as
 * natterd's are. */
static Pair
pair_new (void)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  int listener = socket (AF_INET, SOCK_STREAM, 0);
  Pair p;

  g_assert_cmpint (listener, >=, 0);
  g_assert_cmpint (bind (listener, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (listener, 1), ==, 0);
  g_assert_cmpint (getsockname (listener, (struct sockaddr *) &sa, &len), ==, 0);
  p.client = socket (AF_INET, SOCK_STREAM, 0);
  g_assert_cmpint (connect (p.client, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  p.server = accept (listener, NULL, NULL);
  g_assert_cmpint (p.server, >=, 0);
  g_assert_true (g_unix_set_fd_nonblocking (p.server, TRUE, NULL));
  close (listener);
  return p;
}

static void
pair_close (Pair *p)
{
  if (p->client >= 0)
    close (p->client);
  close (p->server);
}

/* Sends @len bytes and waits (blocking poll, with a deadline) until the
 * server's end has them all: loopback delivers at once, but not
 * synchronously with send. */
static void
send_and_wait (Pair         *p,
               const guint8 *bytes,
               gsize         len,
               gsize         total)
{
  int available = 0;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_assert_cmpint (send (p->client, bytes, len, 0), ==, (gssize) len);
  while (available < (int) total)
    {
      GPollFD pfd = { .fd = p->server, .events = G_IO_IN };

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_poll (&pfd, 1, 100);
      g_assert_cmpint (ioctl (p->server, FIONREAD, &available), ==, 0);
    }
}

/* A ClientHello's record header: handshake, TLS 1.0 framing, 32 bytes. */
static const guint8 hello_header[] = { 0x16, 0x03, 0x01, 0x00, 0x20 };

static void
test_waits_for_the_whole_record (void)
{
  Pair p = pair_new ();
  guint8 body[32] = { 0x01 };
  gsize buffered = 0;

  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_WAIT);
  send_and_wait (&p, hello_header, 3, 3);
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_WAIT);
  send_and_wait (&p, hello_header + 3, 2, 5);
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_WAIT);
  send_and_wait (&p, body, 31, 5 + 31);
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_WAIT);
  send_and_wait (&p, body + 31, 1, 5 + 32);
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_READY);

  /* Nothing was read: GnuTLS gets every byte. */
  {
    int available = 0;

    g_assert_cmpint (ioctl (p.server, FIONREAD, &available), ==, 0);
    g_assert_cmpint (available, ==, 5 + 32);
  }
  pair_close (&p);
}

static void
test_not_tls_goes_to_gnutls (void)
{
  Pair p = pair_new ();
  static const guint8 frame[] = "{\"type\":\"ping\"}\n";
  gsize buffered = 0;

  send_and_wait (&p, frame, sizeof frame - 1, sizeof frame - 1);
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_READY);
  pair_close (&p);
}

static void
test_close_half_way_is_gone (void)
{
  Pair p = pair_new ();
  gsize buffered = 0;

  /* Woken again with nothing more: the end of the stream. */
  send_and_wait (&p, hello_header, 5, 5);
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_WAIT);
  shutdown (p.client, SHUT_WR);
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_GONE);
  pair_close (&p);

  /* Closed before a byte. */
  p = pair_new ();
  buffered = 0;
  close (p.client);
  p.client = -1;
  {
    GPollFD pfd = { .fd = p.server, .events = G_IO_IN };

    g_assert_cmpint (g_poll (&pfd, 1, 10000), ==, 1);
  }
  g_assert_cmpint (natterd_tls_hello_check (p.server, &buffered), ==, NATTERD_TLS_HELLO_GONE);
  pair_close (&p);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tls-hello/waits-for-the-whole-record", test_waits_for_the_whole_record);
  g_test_add_func ("/tls-hello/not-tls-goes-to-gnutls", test_not_tls_goes_to_gnutls);
  g_test_add_func ("/tls-hello/close-half-way-is-gone", test_close_half_way_is_gone);
  return g_test_run ();
}
