/* bench-files-raw.c: the reference of the files scenario, a raw TLS copy
 * of the same bytes over loopback in the same process.
 *
 * The server side is a thread that serves TLS as natterd does: a GIO
 * GTlsServerConnection (glib-networking's GnuTLS) with natterd's own
 * certificate and key, under the priority natter-bench set for the
 * process (natterd's, server precedence: the same suite is chosen). The
 * client side is GnuTLS as the tool's engine speaks it. Blocking sockets
 * and big buffers on both sides: nothing but TLS and loopback TCP, which
 * is what the files over natterd are measured against.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "bench.h"

#define IO_BUF (256 * 1024)
/* No step of the copy may take longer (a stuck peer ends the run). */
#define IO_TIMEOUT_S 120

typedef struct {
  int              listen_fd;
  GTlsCertificate *cert;
  const guint8    *bytes;
  gsize            size;
  GError          *error;
} RawServer;

static gboolean
server_read_exactly (GInputStream *in, gsize want, guint8 *buf, GError **error)
{
  gsize got = 0;

  while (got < want)
    {
      gssize n = g_input_stream_read (in, buf, MIN (IO_BUF, want - got), NULL, error);

      if (n <= 0)
        {
          if (n == 0)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "the client closed early");
          return FALSE;
        }
      got += n;
    }
  return TRUE;
}

static gpointer
raw_server_main (gpointer data)
{
  RawServer *s = data;
  struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GSocketConnection) tcp = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autofree guint8 *buf = g_malloc (IO_BUF);
  GInputStream *in;
  GOutputStream *out;
  int fd;

  if (poll (&pfd, 1, IO_TIMEOUT_S * 1000) <= 0 || (fd = accept (s->listen_fd, NULL, NULL)) < 0)
    {
      g_set_error_literal (&s->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no connection to the raw server");
      return NULL;
    }
  sock = g_socket_new_from_fd (fd, &s->error);
  if (sock == NULL)
    {
      close (fd);
      return NULL;
    }
  g_socket_set_timeout (sock, IO_TIMEOUT_S);
  tcp = g_socket_connection_factory_create_connection (sock);
  tls = g_tls_server_connection_new (G_IO_STREAM (tcp), s->cert, &s->error);
  if (tls == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &s->error))
    return NULL;
  in = g_io_stream_get_input_stream (tls);
  out = g_io_stream_get_output_stream (tls);
  /* Up: every byte, then one byte to say so. Down: on the client's one
   * byte, every byte. */
  if (!server_read_exactly (in, s->size, buf, &s->error) ||
      !g_output_stream_write_all (out, "k", 1, NULL, NULL, &s->error) ||
      !server_read_exactly (in, 1, buf, &s->error))
    return NULL;
  for (gsize off = 0; off < s->size; off += IO_BUF)
    if (!g_output_stream_write_all (out, s->bytes + off, MIN (IO_BUF, s->size - off), NULL, NULL, &s->error))
      return NULL;
  /* Until the client closes: it has read everything by then. */
  while (g_input_stream_read (in, buf, IO_BUF, NULL, NULL) > 0)
    ;
  return NULL;
}

static gboolean
client_fail (GError **error, const char *what, int rc)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
               rc < 0 ? gnutls_strerror (rc) : "the server closed early");
  return FALSE;
}

/* The client's side, on @fd (connected, blocking). */
static gboolean
raw_client (int fd, const guint8 *bytes, gsize size, BenchFilesRaw *out, GError **error)
{
  gnutls_certificate_credentials_t cred = NULL;
  gnutls_session_t tls = NULL;
  g_autofree guint8 *buf = g_malloc (IO_BUF);
  gboolean ok = FALSE;
  gsize off, got;
  gint64 t0;
  char *desc;
  int rc;

  if (gnutls_certificate_allocate_credentials (&cred) < 0 || gnutls_init (&tls, GNUTLS_CLIENT) < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot set up GnuTLS");
      goto out;
    }
  /* As the engine does (bench-engine.c); the certificate is not checked. */
  gnutls_set_default_priority (tls);
  gnutls_credentials_set (tls, GNUTLS_CRD_CERTIFICATE, cred);
  gnutls_transport_set_int (tls, fd);
  do
    rc = gnutls_handshake (tls);
  while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
  if (rc < 0)
    {
      client_fail (error, "handshake", rc);
      goto out;
    }
  desc = gnutls_session_get_desc (tls);
  out->desc = g_strdup (desc);
  gnutls_free (desc);

  t0 = bench_now_ns ();
  for (off = 0; off < size; off += rc)
    {
      do
        rc = gnutls_record_send (tls, bytes + off, MIN (IO_BUF, size - off));
      while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
      if (rc <= 0)
        {
          client_fail (error, "send", rc);
          goto out;
        }
    }
  do
    rc = gnutls_record_recv (tls, buf, 1);
  while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
  if (rc != 1)
    {
      client_fail (error, "the server's word", rc);
      goto out;
    }
  out->up_ns = bench_now_ns () - t0;

  t0 = bench_now_ns ();
  do
    rc = gnutls_record_send (tls, "g", 1);
  while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
  if (rc != 1)
    {
      client_fail (error, "send", rc);
      goto out;
    }
  for (got = 0; got < size; got += rc)
    {
      do
        rc = gnutls_record_recv (tls, buf, MIN (IO_BUF, size - got));
      while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
      if (rc <= 0)
        {
          client_fail (error, "receive", rc);
          goto out;
        }
      /* Checked as the download over natterd is. */
      if (memcmp (buf, bytes + got, rc) != 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the raw copy came back different");
          goto out;
        }
    }
  out->down_ns = bench_now_ns () - t0;
  ok = TRUE;

out:
  if (tls != NULL)
    gnutls_deinit (tls);
  if (cred != NULL)
    gnutls_certificate_free_credentials (cred);
  return ok;
}

gboolean
bench_files_raw_copy (const guint8  *bytes,
                      gsize          size,
                      const char    *cert_path,
                      const char    *key_path,
                      BenchFilesRaw *out,
                      GError       **error)
{
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t alen = sizeof a;
  struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
  RawServer s = { .listen_fd = -1, .bytes = bytes, .size = size };
  GThread *thread = NULL;
  gboolean ok = FALSE;
  int one = 1;
  int fd = -1;

  s.cert = g_tls_certificate_new_from_files (cert_path, key_path, error);
  if (s.cert == NULL)
    return FALSE;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  s.listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.listen_fd < 0 || bind (s.listen_fd, (struct sockaddr *) &a, sizeof a) < 0 ||
      listen (s.listen_fd, 1) < 0 || getsockname (s.listen_fd, (struct sockaddr *) &a, &alen) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "raw server: %s", g_strerror (errno));
      goto out;
    }
  thread = g_thread_new ("bench-raw-tls", raw_server_main, &s);
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "raw client: %s", g_strerror (errno));
      goto out;
    }
  /* natterd's clients, the tool's engine included, set TCP_NODELAY. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ok = raw_client (fd, bytes, size, out, error);

out:
  if (fd >= 0)
    close (fd); /* the server thread's last read ends */
  if (thread != NULL)
    {
      /* A server still waiting for its connection stops waiting. */
      shutdown (s.listen_fd, SHUT_RDWR);
      g_thread_join (thread);
    }
  if (s.listen_fd >= 0)
    close (s.listen_fd);
  g_object_unref (s.cert);
  if (s.error != NULL)
    {
      if (ok)
        g_propagate_prefixed_error (error, s.error, "raw server: ");
      else
        g_error_free (s.error);
      ok = FALSE;
    }
  return ok;
}
