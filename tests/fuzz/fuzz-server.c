/* fuzz-server: natterd's request path in-process, with a real chat layer
 * and a real SQLite store in a temporary directory.
 *
 * natterd is started once (network layer, store, chat layer, as main.c
 * wires them; plain TCP on a loopback port). Each input is the byte
 * stream of one client connection: it is written to a new connection,
 * then a ping whose pong says natterd has answered everything before it
 * (replies leave in order, a send's after its commit); then the write side
 * is shut and the main loop runs until natterd has closed the connection. So every frame goes the way a real
 * one does: the frame reader, the strict parser, the token bucket, the
 * dispatch table, the handlers, the writer thread's commits, the fan-out.
 *
 * The store outlives the inputs (starting a store per input would cost
 * more than the input): users registered, rooms made and messages sent
 * by earlier inputs are there for later ones, as on a real server. A
 * crash that needs such history may not happen again from its input
 * alone; docs/reliability.md says how to replay the inputs before it.
 *
 * Passwords are hashed at argon2id's minimum cost in this build
 * (NATTERD_FUZZ_CHEAP_HASH, natterd-auth.c), and the limits are raised
 * so that a fast client is not simply refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "fuzz-natterd.h"
#include "fuzz-target.h"

/* An input larger than this is skipped: the kernel takes it whole on
 * loopback, which keeps the client below simple. */
#define MAX_INPUT_BYTES   (64 * 1024)
/* A connection natterd has not closed by then is a hang: a bug. */
#define HANG_SECONDS 30


/* NATTER_FUZZ_ECHO=1: natterd's replies go to stderr, to see what a
 * reproducer did. */
static gboolean echo_replies;

static FuzzNatterd natterd;
static guint16     natterd_port;

/* After the input: a newline ends a last line the input left open (it
 * gets bad_frame or whatever it deserves), then the ping. */
static const char end_ping[] = "\n{\"type\":\"ping\",\"id\":\"fuzz-end\"}\n";
static const char end_pong[] = "{\"type\":\"pong\",\"re\":\"fuzz-end\"}";

typedef struct {
  int         fd;
  GByteArray *out;      /* the input and the end ping */
  gsize       sent;
  GString    *received;
  gboolean    answered; /* the end pong came: everything was answered */
  gboolean    done;     /* natterd closed the connection */
} Client;

static void
capture_port (const char *text)
{
  const char *colon = strrchr (text, ':');

  if (g_str_has_prefix (text, "listening ") && colon != NULL)
    natterd_port = (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
}

/* natterd's info and debug lines are noise here; warnings and worse are
 * what the fuzzer looks for. */
static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, user_data);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;
  GPrintFunc old_print;

  g_log_set_writer_func (log_writer, NULL, NULL);
  echo_replies = g_getenv ("NATTER_FUZZ_ECHO") != NULL;

  /* Synchronous "normal": nothing here must survive a power cut, and a
   * commit need not wait for the disk. */
  fuzz_natterd_start (&natterd,
                      "[server]\n"
                      "listen=127.0.0.1:0\n"
                      "tls=false\n"
                      "hash_threads=1\n"
                      "send_threads=1\n"
                      "files=true\n"
                      "[limits]\n"
                      "frames_per_second=10000000\n"
                      "frame_burst=10000000\n"
                      "connections_per_address=10000000\n"
                      "registrations_per_hour_per_address=10000000\n"
                      "failed_logins_per_minute_per_address=10000000\n"
                      "failed_logins_per_minute_per_user=10000000\n"
                      "messages_per_minute_per_user=100000000\n"
                      "[storage]\n"
                      "synchronous=normal\n",
                      NULL);

  old_print = g_set_print_handler (capture_port);
  natterd_server_listen (natterd.server, &error);
  g_set_print_handler (old_print);
  g_assert_no_error (error);
  g_assert_cmpuint (natterd_port, >, 0);

  /* From here on (the start warns that TLS is off), a warning is a
   * finding. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

static gboolean
client_writable_cb (gint         fd,
                    GIOCondition condition,
                    gpointer     user_data)
{
  Client *c = user_data;

  while (c->sent < c->out->len)
    {
      gssize n = send (fd, c->out->data + c->sent, c->out->len - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      if (n < 0)
        return G_SOURCE_REMOVE; /* natterd closed first (frame_too_large) */
      c->sent += (gsize) n;
    }
  return G_SOURCE_REMOVE;
}

static gboolean
client_readable_cb (gint         fd,
                    GIOCondition condition,
                    gpointer     user_data)
{
  Client *c = user_data;
  guint8 buffer[16384];

  for (;;)
    {
      gssize n = recv (fd, buffer, sizeof buffer, MSG_DONTWAIT);

      if (n > 0)
        {
          gsize from = c->received->len > sizeof end_pong ? c->received->len - sizeof end_pong : 0;

          if (echo_replies)
            fwrite (buffer, 1, (gsize) n, stderr);
          g_string_append_len (c->received, (const char *) buffer, n);
          if (!c->answered && strstr (c->received->str + from, end_pong) != NULL)
            {
              /* End of the stream: natterd closes its side in turn. */
              c->answered = TRUE;
              shutdown (fd, SHUT_WR);
            }
          /* Only the tail is needed to find the pong. */
          if (c->received->len > 4096)
            g_string_erase (c->received, 0, c->received->len - sizeof end_pong);
          continue;
        }
      if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      c->done = TRUE;
      return G_SOURCE_REMOVE;
    }
}

static gboolean
hang_cb (gpointer user_data)
{
  g_error ("natterd did not close the connection within %d s", HANG_SECONDS);
  return G_SOURCE_REMOVE;
}

static int
connect_to_natterd (void)
{
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons (natterd_port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &address, sizeof address) != 0)
    g_error ("connect: %s", g_strerror (errno));
  return fd;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  Client c = { 0 };
  guint in, out, hang;

  if (size > MAX_INPUT_BYTES)
    return 0;

  c.out = g_byte_array_sized_new (size + sizeof end_ping);
  g_byte_array_append (c.out, data, size);
  if (size > 0 && data[size - 1] == '\n')
    g_byte_array_append (c.out, (const guint8 *) end_ping + 1, sizeof end_ping - 2);
  else
    g_byte_array_append (c.out, (const guint8 *) end_ping, sizeof end_ping - 1);
  c.received = g_string_new (NULL);

  c.fd = connect_to_natterd ();
  in = g_unix_fd_add (c.fd, G_IO_IN | G_IO_HUP | G_IO_ERR, client_readable_cb, &c);
  out = g_unix_fd_add (c.fd, G_IO_OUT, client_writable_cb, &c);
  hang = g_timeout_add_seconds (HANG_SECONDS, hang_cb, NULL);

  while (!c.done)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (hang);
  /* Removed by their callbacks already, unless natterd closed first. */
  if (g_main_context_find_source_by_id (NULL, out) != NULL)
    g_source_remove (out);
  (void) in;
  close (c.fd);
  g_byte_array_unref (c.out);
  g_string_free (c.received, TRUE);
  return 0;
}
