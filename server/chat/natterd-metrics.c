/* natterd-metrics.c: the Prometheus metrics over HTTP (natterd-metrics.h).
 *
 * A few lines of GIO rather than an HTTP library: one request line to
 * read, one answer to write. The counts are those natterd keeps anyway
 * (the directory's counts, the server's connections, the writer's queue
 * and batch times, the hashing pool's queue); messages stored is the
 * store's count, as natterctl status reads it.
 */
#define G_LOG_DOMAIN "natterd-metrics"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "natterd-auth.h"
#include "natterd-commit.h"
#include "natterd-config.h"
#include "natterd-metrics.h"
#include "natterd-presence.h"
#include "natterd-reads.h"

typedef struct _MetricsConnection MetricsConnection;

struct _NatterdMetrics {
  NatterdDirectory *directory;   /* borrowed */
  GSocketService   *service;
  GList            *connections; /* MetricsConnection*, a reference each */
  gint64            started;     /* monotonic µs */
};

struct _MetricsConnection {
  gint               ref_count;
  NatterdMetrics    *metrics;    /* NULL once closed */
  GSocketConnection *stream;
  GCancellable      *cancellable;
  GByteArray        *request;    /* what was read, up to NATTERD_METRICS_MAX_REQUEST */
  GBytes            *answer;     /* being written */
  guint              timeout_source;
  gboolean           head;       /* HEAD: the headers only */
  guint8             buffer[1024];
};

/* The messages stored, read on the reader thread for a GET. */
typedef struct {
  NatterdWriteJob    job;
  MetricsConnection *connection; /* a reference */
  gint64             messages;
  gint64             bytes;
} StatsRead;

static MetricsConnection *
connection_ref (MetricsConnection *c)
{
  g_atomic_int_inc (&c->ref_count);
  return c;
}

static void
connection_unref (MetricsConnection *c)
{
  if (!g_atomic_int_dec_and_test (&c->ref_count))
    return;
  g_clear_pointer (&c->request, g_byte_array_unref);
  g_clear_pointer (&c->answer, g_bytes_unref);
  g_clear_object (&c->stream);
  g_clear_object (&c->cancellable);
  g_free (c);
}

static void
connection_close (MetricsConnection *c)
{
  NatterdMetrics *metrics = c->metrics;

  if (metrics == NULL)
    return;
  c->metrics = NULL;
  g_clear_handle_id (&c->timeout_source, g_source_remove);
  g_cancellable_cancel (c->cancellable);
  g_io_stream_close (G_IO_STREAM (c->stream), NULL, NULL);
  metrics->connections = g_list_remove (metrics->connections, c);
  connection_unref (c);
}

static void
write_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  MetricsConnection *c = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  /* One request per connection. */
  connection_close (c);
  connection_unref (c);
}

/* Writes the answer and closes: @body may be NULL (none). */
static void
respond (MetricsConnection *c,
         const char        *status,
         const char        *extra_headers,
         const char        *content_type,
         GString           *body)
{
  GString *out = g_string_sized_new (256 + (body != NULL ? body->len : 0));
  gsize len = body != NULL ? body->len : 0;
  gconstpointer data;

  g_string_append_printf (out, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Connection: close\r\n%s\r\n",
                          status, content_type, len, extra_headers != NULL ? extra_headers : "");
  if (body != NULL && !c->head)
    g_string_append_len (out, body->str, body->len);
  c->answer = g_string_free_to_bytes (out);
  data = g_bytes_get_data (c->answer, &len);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->stream)), data, len,
                                   G_PRIORITY_DEFAULT, c->cancellable, write_cb, connection_ref (c));
}

static void
respond_text (MetricsConnection *c,
              const char        *status,
              const char        *extra_headers,
              const char        *text)
{
  g_autoptr(GString) body = g_string_new (text);

  g_string_append_c (body, '\n');
  respond (c, status, extra_headers, "text/plain; charset=utf-8", body);
}

/* One metric: its HELP and TYPE lines, then @value's line. */
static void
metric (GString    *out,
        const char *name,
        const char *type,
        const char *help,
        guint64     value)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n%s %" G_GUINT64_FORMAT "\n",
                          name, help, name, type, name, value);
}

static void
write_metrics (GString        *out,
               NatterdMetrics *metrics,
               StatsRead      *r)
{
  NatterdDirectory *dir = metrics->directory;
  NatterdWriterStats writer;
  char seconds[G_ASCII_DTOSTR_BUF_SIZE];

  natterd_commit_get_writer_stats (dir->commit, &writer);
  metric (out, "natterd_connections", "gauge", "Client connections open.",
          natterd_server_count_connections (dir->server));
  g_string_append (out, "# HELP natterd_logins_total Sign-ins (password, token or registration) answered, by result.\n"
                        "# TYPE natterd_logins_total counter\n");
  g_string_append_printf (out, "natterd_logins_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
                               "natterd_logins_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n",
                          dir->counts.logins_ok, dir->counts.logins_failed);
  metric (out, "natterd_sends_total", "counter", "Messages stored by a send on this node (a resend answered with its original is not counted).",
          dir->counts.sends);
  metric (out, "natterd_deliveries_total", "counter", "Message events queued to client connections by the fan-out.",
          dir->counts.deliveries);
  g_string_append (out, "# HELP natterd_commit_seconds Time the writer thread took per transaction (a batch of writes, BEGIN to COMMIT, the sync included).\n"
                        "# TYPE natterd_commit_seconds summary\n");
  g_ascii_formatd (seconds, sizeof seconds, "%.6f", writer.batch_us / 1e6);
  g_string_append_printf (out, "natterd_commit_seconds_sum %s\nnatterd_commit_seconds_count %" G_GUINT64_FORMAT "\n",
                          seconds, writer.batches);
  metric (out, "natterd_writer_queue", "gauge", "Writes waiting for the writer thread.", writer.queued);
  metric (out, "natterd_hash_queue", "gauge", "Logins, registrations and password checks waiting for a hashing thread.",
          natterd_auth_queue_length (dir->auth));
  metric (out, "natterd_users_online", "gauge", "Users with at least one signed-in connection.",
          natterd_presence_count_online (dir));
  metric (out, "natterd_messages_stored", "gauge", "Messages in the database (deleted ones included).",
          (guint64) MAX (r->messages, 0));
  metric (out, "natterd_database_bytes", "gauge", "The database's size (SQLite: natter.db without its WAL; PostgreSQL: pg_database_size).",
          (guint64) MAX (r->bytes, 0));
  metric (out, "natterd_uptime_seconds", "gauge", "Seconds since natterd started.",
          (guint64) (g_get_monotonic_time () - metrics->started) / G_USEC_PER_SEC);
}

static gboolean
stats_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  StatsRead *r = (StatsRead *) job;

  return natterd_store_stats (store, &r->messages, &r->bytes, error);
}

static void
stats_done (NatterdWriteJob *job,
            const GError    *error)
{
  StatsRead *r = (StatsRead *) job;
  MetricsConnection *c = r->connection;

  if (c->metrics == NULL)
    ;
  else if (error != NULL)
    {
      g_warning ("metrics: the database failed: %s", error->message);
      respond_text (c, "503 Service Unavailable", NULL, "The database failed");
    }
  else
    {
      g_autoptr(GString) body = g_string_sized_new (2048);

      write_metrics (body, c->metrics, r);
      respond (c, "200 OK", NULL, "text/plain; version=0.0.4; charset=utf-8", body);
    }
  connection_unref (c);
  g_free (r);
}

/* The request line of a whole request's head: "GET /metrics HTTP/1.1". */
static void
handle_request (MetricsConnection *c,
                const char        *head,
                gsize              len)
{
  g_autofree char *line = g_strndup (head, strcspn (head, "\r\n"));
  g_auto(GStrv) words = g_strsplit (line, " ", -1);
  const char *method, *target;
  StatsRead *r;

  if (g_strv_length (words) != 3 || !g_str_has_prefix (words[2], "HTTP/1.") || words[1][0] != '/' ||
      words[0][0] == '\0' || !g_utf8_validate (line, -1, NULL))
    {
      respond_text (c, "400 Bad Request", NULL, "Bad request");
      return;
    }
  method = words[0];
  target = words[1];
  c->head = g_str_equal (method, "HEAD");
  if (!g_str_equal (method, "GET") && !c->head)
    {
      respond_text (c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "Only GET and HEAD");
      return;
    }
  if (!g_str_equal (target, "/metrics") && !g_str_has_prefix (target, "/metrics?"))
    {
      respond_text (c, "404 Not Found", NULL, "Not found: the metrics are at /metrics");
      return;
    }
  r = g_new0 (StatsRead, 1);
  r->job.run = stats_run;
  r->job.done = stats_done;
  r->connection = connection_ref (c);
  natterd_reads_push (c->metrics->directory->reads, &r->job);
}

static void read_more (MetricsConnection *c);

/* Where the request's head ends ("\r\n\r\n", or "\n\n" from a sloppy
 * client), or NULL. */
static const guint8 *
find_head_end (const guint8 *data,
               gsize         len)
{
  for (gsize i = 0; i + 1 < len; i++)
    if (data[i] == '\n' && (data[i + 1] == '\n' || (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')))
      return data + i;
  return NULL;
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  MetricsConnection *c = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (c->metrics == NULL)
    ;
  else if (n <= 0)
    connection_close (c);
  else
    {
      g_byte_array_append (c->request, c->buffer, n);
      if (memchr (c->request->data, '\0', c->request->len) != NULL)
        respond_text (c, "400 Bad Request", NULL, "Bad request");
      else if (find_head_end (c->request->data, c->request->len) != NULL)
        {
          g_byte_array_append (c->request, (const guint8 *) "", 1);
          g_clear_handle_id (&c->timeout_source, g_source_remove);
          handle_request (c, (const char *) c->request->data, c->request->len - 1);
        }
      else if (c->request->len >= NATTERD_METRICS_MAX_REQUEST)
        respond_text (c, "431 Request Header Fields Too Large", NULL, "Request too large");
      else
        read_more (c);
    }
  connection_unref (c);
}

static void
read_more (MetricsConnection *c)
{
  gsize room = MIN (sizeof c->buffer, NATTERD_METRICS_MAX_REQUEST - c->request->len);

  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (c->stream)), c->buffer, room,
                             G_PRIORITY_DEFAULT, c->cancellable, read_cb, connection_ref (c));
}

static gboolean
timeout_cb (gpointer user_data)
{
  MetricsConnection *c = user_data;

  c->timeout_source = 0;
  connection_close (c);
  return G_SOURCE_REMOVE;
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *stream,
             GObject           *source,
             gpointer           user_data)
{
  NatterdMetrics *self = user_data;
  MetricsConnection *c;

  if (g_list_length (self->connections) >= NATTERD_METRICS_MAX_CONNECTIONS)
    {
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
      return TRUE;
    }
  c = g_new0 (MetricsConnection, 1);
  c->ref_count = 1;
  c->metrics = self;
  c->stream = g_object_ref (stream);
  c->cancellable = g_cancellable_new ();
  c->request = g_byte_array_sized_new (256);
  c->timeout_source = g_timeout_add_seconds (NATTERD_METRICS_TIMEOUT_SECONDS, timeout_cb, c);
  self->connections = g_list_prepend (self->connections, c);
  read_more (c);
  return TRUE;
}

NatterdMetrics *
natterd_metrics_new (NatterdDirectory  *directory,
                     const char        *address,
                     GError           **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  NatterdMetrics *self;
  guint16 port;
  gboolean ok;

  if (!natterd_config_parse_listen (address, &host, &port, error))
    return NULL;
  if (!g_str_equal (host, "*"))
    {
      socket_address = g_inet_socket_address_new_from_string (host, port);
      if (socket_address == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "--metrics %s: the host must be an IP address (127.0.0.1, [::1]) or *", address);
          return NULL;
        }
    }
  self = g_new0 (NatterdMetrics, 1);
  self->directory = directory;
  self->started = g_get_monotonic_time ();
  self->service = g_socket_service_new ();
  if (socket_address != NULL)
    ok = g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), socket_address, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_TCP, NULL, NULL, error);
  else
    ok = g_socket_listener_add_inet_port (G_SOCKET_LISTENER (self->service), port, NULL, error);
  if (!ok)
    {
      g_prefix_error (error, "--metrics %s: ", address);
      natterd_metrics_free (self);
      return NULL;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  g_message ("Metrics on http://%s/metrics", address);
  return self;
}

void
natterd_metrics_free (NatterdMetrics *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->service, self);
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  g_clear_object (&self->service);
  while (self->connections != NULL)
    connection_close (self->connections->data);
  g_free (self);
}
