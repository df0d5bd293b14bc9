/* natterd-admin.c: the admin channel's socket, its connections and the
 * table of commands (natterd-admin.h; the commands are in
 * natterd-admin-status.c, natterd-admin-users.c, natterd-admin-invites.c,
 * natterd-admin-rooms.c, natterd-admin-backup.c).
 *
 * Everything is asynchronous GIO on the main loop: a connection reads a
 * chunk, cuts lines with the client protocol's frame reader, handles one
 * request, and reads on only once its reply is written. A peer that
 * never reads its replies holds one reply in memory, never the loop.
 */
#define G_LOG_DOMAIN "natterd-admin"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "natter-fields.h"
#include "natter-frame-reader.h"
#include "natter-validate.h"
#include "natterd-admin-private.h"
#include "natterd-auth.h"
#include "natterd-commit.h"
#include "natterd-model-write.h"
#include "natterd-reads.h"

typedef struct _AdminConnection AdminConnection;

struct _NatterdAdmin {
  NatterdDirectory *directory;   /* borrowed */
  GSocketService   *service;
  char             *path;
  GList            *connections; /* AdminConnection*, a reference each */
  gint64            started;     /* monotonic µs */
  NatterdAdminBackup *backup;    /* the one under way, or NULL */
};

struct _AdminConnection {
  gint               ref_count;
  NatterdAdmin      *admin;      /* NULL once closed */
  GSocketConnection *stream;
  GCancellable      *cancellable;
  NatterFrameReader  reader;
  gboolean           close_after_write;
  guint8             buffer[4096];
};

struct _NatterdAdminRequest {
  AdminConnection  *connection;  /* a reference */
  char             *arg;
  GString          *out;
  NatterJsonWriter  writer;
};

static const struct {
  const char       *type;
  NatterdAdminFunc  func;
} commands[] = {
  { "status",              natterd_admin_status },
  { "registration",        natterd_admin_registration },
  { "room_list",           natterd_admin_room_list },
  { "room_delete",         natterd_admin_room_delete },
  { "room_set_owner",      natterd_admin_room_set_owner },
  { "user_list",           natterd_admin_user_list },
  { "user_add",            natterd_admin_user_add },
  { "user_disable",        natterd_admin_user_disable },
  { "user_enable",         natterd_admin_user_enable },
  { "user_reset_password", natterd_admin_user_reset_password },
  { "user_sessions",       natterd_admin_user_sessions },
  { "user_revoke",         natterd_admin_user_revoke },
  { "user_delete",         natterd_admin_user_delete },
  { "invite_create",       natterd_admin_invite_create },
  { "invite_list",         natterd_admin_invite_list },
  { "invite_revoke",       natterd_admin_invite_revoke },
  { "backup",              natterd_admin_backup },
};

static AdminConnection *
connection_ref (AdminConnection *c)
{
  g_atomic_int_inc (&c->ref_count);
  return c;
}

static void
connection_unref (AdminConnection *c)
{
  if (!g_atomic_int_dec_and_test (&c->ref_count))
    return;
  natter_frame_reader_clear (&c->reader);
  g_clear_object (&c->stream);
  g_clear_object (&c->cancellable);
  g_free (c);
}

static void
connection_close (AdminConnection *c)
{
  NatterdAdmin *admin = c->admin;

  if (admin == NULL)
    return;
  c->admin = NULL;
  g_cancellable_cancel (c->cancellable);
  g_io_stream_close (G_IO_STREAM (c->stream), NULL, NULL);
  natter_frame_reader_clear (&c->reader);
  admin->connections = g_list_remove (admin->connections, c);
  connection_unref (c);
}

static void read_more (AdminConnection *c);
static gboolean frame_cb (const char *line, gsize len, gpointer user_data);

/* After a reply: the next line already read, or more to read. */
static void
go_on (AdminConnection *c)
{
  switch (natter_frame_reader_resume (&c->reader, frame_cb, c))
    {
    case NATTER_FRAME_READER_OK:
      read_more (c);
      break;
    case NATTER_FRAME_READER_STOPPED:
      break; /* a request is being handled */
    case NATTER_FRAME_READER_TOO_LARGE:
    default:
      connection_close (c);
      break;
    }
}

static void
write_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  AdminConnection *c = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    connection_close (c);
  else if (c->admin != NULL && c->close_after_write)
    connection_close (c);
  else if (c->admin != NULL)
    go_on (c);
  connection_unref (c);
}

/* Sends @out (a frame without its newline) and frees it. */
static void
connection_send (AdminConnection *c,
                 GString         *out)
{
  GBytes *bytes;
  gsize len;
  const void *data;

  g_string_append_c (out, '\n');
  bytes = g_string_free_to_bytes (out);
  if (c->admin == NULL)
    {
      g_bytes_unref (bytes);
      return;
    }
  data = g_bytes_get_data (bytes, &len);
  /* The bytes live until the write is done: the callback's data holds
   * the connection, the connection's queue nothing, so keep them on it. */
  g_object_set_data_full (G_OBJECT (c->stream), "natterd-admin-reply", bytes,
                          (GDestroyNotify) g_bytes_unref);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->stream)), data, len,
                                   G_PRIORITY_DEFAULT, c->cancellable, write_cb, connection_ref (c));
}

static GString *
error_frame (NatterErrorCode  code,
             const char      *message)
{
  GString *out = g_string_sized_new (128);
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "type");
  natter_json_writer_string (&w, "error");
  natter_json_writer_key (&w, "code");
  natter_json_writer_string (&w, natter_error_code_to_string (code));
  natter_json_writer_key (&w, "message");
  natter_json_writer_string (&w, message);
  natter_json_writer_end_object (&w);
  return out;
}

/* --- requests --- */

static void
request_free (NatterdAdminRequest *request)
{
  connection_unref (request->connection);
  g_free (request->arg);
  if (request->out != NULL)
    g_string_free (request->out, TRUE);
  g_free (request);
}

NatterdDirectory *
natterd_admin_request_directory (NatterdAdminRequest *request)
{
  NatterdAdmin *admin = request->connection->admin;

  return admin != NULL ? admin->directory : NULL;
}

NatterdAdminBackup **
natterd_admin_request_backup (NatterdAdminRequest *request)
{
  NatterdAdmin *admin = request->connection->admin;

  return admin != NULL ? &admin->backup : NULL;
}

gint64
natterd_admin_request_started (NatterdAdminRequest *request)
{
  NatterdAdmin *admin = request->connection->admin;

  return admin != NULL ? admin->started : g_get_monotonic_time ();
}

NatterJsonWriter *
natterd_admin_begin_ok (NatterdAdminRequest *request)
{
  request->out = g_string_sized_new (256);
  natter_json_writer_init (&request->writer, request->out);
  natter_json_writer_begin_object (&request->writer);
  natter_json_writer_key (&request->writer, "type");
  natter_json_writer_string (&request->writer, "ok");
  return &request->writer;
}

void
natterd_admin_finish_ok (NatterdAdminRequest *request)
{
  natter_json_writer_end_object (&request->writer);
  connection_send (request->connection, g_steal_pointer (&request->out));
  request_free (request);
}

void
natterd_admin_ok (NatterdAdminRequest *request)
{
  natterd_admin_begin_ok (request);
  natterd_admin_finish_ok (request);
}

void
natterd_admin_error (NatterdAdminRequest *request,
                     NatterErrorCode      code,
                     const char          *format,
                     ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  connection_send (request->connection, error_frame (code, message));
  request_free (request);
}

void
natterd_admin_store_error (NatterdAdminRequest *request,
                           const GError        *error)
{
  g_warning ("natterctl request failed: %s", error->message);
  natterd_admin_error (request, NATTER_ERROR_INTERNAL, "The database failed: %s", error->message);
}

void
natterd_admin_request_set_arg (NatterdAdminRequest *request,
                               const char          *arg)
{
  g_free (request->arg);
  request->arg = g_strdup (arg);
}

const char *
natterd_admin_request_arg (NatterdAdminRequest *request)
{
  return request->arg;
}

gboolean
natterd_admin_check_done (NatterdAdminRequest *request,
                          NatterdDirectory    *directory,
                          const GError        *error)
{
  if (error != NULL && error->domain == NATTER_ERROR)
    natterd_admin_error (request, error->code, "%s", error->message);
  else if (error != NULL)
    natterd_admin_store_error (request, error);
  else if (directory == NULL)
    natterd_admin_error (request, NATTER_ERROR_SERVER_BUSY, "natterd is stopping");
  else
    return TRUE;
  return FALSE;
}

gboolean
natterd_admin_arg_string (NatterdAdminRequest *request,
                          JsonObject          *args,
                          const char          *key,
                          gboolean             required,
                          const char         **out)
{
  g_autoptr(GError) error = NULL;

  if (natter_fields_get_string (args, key, required, out, &error))
    return TRUE;
  natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT, "%s", error->message);
  return FALSE;
}

gboolean
natterd_admin_arg_int (NatterdAdminRequest *request,
                       JsonObject          *args,
                       const char          *key,
                       gint64               min,
                       gint64               max,
                       gint64               fallback,
                       gint64              *out)
{
  g_autoptr(GError) error = NULL;
  gboolean present = FALSE;

  if (!natter_fields_get_int (args, key, FALSE, &present, out, &error))
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT, "%s", error->message);
      return FALSE;
    }
  if (!present)
    *out = fallback;
  else if (*out < min || *out > max)
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                           "%s must be from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, key, min, max);
      return FALSE;
    }
  return TRUE;
}

NatterdUser *
natterd_admin_arg_user (NatterdAdminRequest *request,
                        JsonObject          *args)
{
  NatterdDirectory *dir = natterd_admin_request_directory (request);
  g_autofree char *username = NULL;
  const char *raw;
  NatterdUser *user;

  if (!natterd_admin_arg_string (request, args, "username", TRUE, &raw))
    return NULL;
  username = natter_username_normalize (raw, NULL);
  user = username != NULL ? natterd_directory_find_user (dir, username) : NULL;
  /* A deleted account is nothing natterctl can change any more. */
  if (user != NULL && natterd_auth_hash_is_deleted (user->password_hash))
    user = NULL;
  if (user == NULL)
    natterd_admin_error (request, NATTER_ERROR_NOT_FOUND, "No user %s", username != NULL ? username : raw);
  return user;
}

/* --- writes and reads through the pipelines --- */

static void
admin_job_done (NatterdWriteJob *job,
                const GError    *error)
{
  NatterdAdminWrite *write = (NatterdAdminWrite *) job;
  NatterdDirectory *dir = natterd_admin_request_directory (write->request);

  if (write->directory != NULL)
    natterd_model_write_release (write->directory);
  write->apply (write, dir, error);
  if (write->clear != NULL)
    write->clear (write);
  g_free (write);
}

static gboolean
write_turn_cb (gpointer user_data)
{
  NatterdAdminWrite *write = user_data;
  NatterdDirectory *dir = natterd_admin_request_directory (write->request);

  if (dir == NULL)
    {
      write->retry_source = 0;
      admin_job_done (&write->job, NULL);
      return G_SOURCE_REMOVE;
    }
  /* Model writes are a commit long: ask again shortly. */
  if (!natterd_model_write_take (dir))
    return G_SOURCE_CONTINUE;
  write->retry_source = 0;
  if (write->turn != NULL && !write->turn (write, dir))
    {
      natterd_model_write_release (dir);
      if (write->clear != NULL)
        write->clear (write);
      g_free (write);
      return G_SOURCE_REMOVE;
    }
  write->directory = dir;
  natterd_commit_push (dir->commit, &write->job);
  return G_SOURCE_REMOVE;
}

void
natterd_admin_write_start (NatterdAdminWrite     *write,
                           NatterdAdminRequest   *request,
                           NatterdWriteRunFunc    run,
                           NatterdAdminApplyFunc  apply,
                           GDestroyNotify         clear)
{
  write->job.run = run;
  write->job.done = admin_job_done;
  write->job.atomic = TRUE;
  write->request = request;
  write->apply = apply;
  write->clear = clear;
  if (write_turn_cb (write) == G_SOURCE_CONTINUE)
    write->retry_source = g_timeout_add (10, write_turn_cb, write);
}

void
natterd_admin_write_fail (NatterdAdminWrite *write,
                          GDestroyNotify     clear,
                          NatterErrorCode    code,
                          const char        *message)
{
  natterd_admin_error (write->request, code, "%s", message);
  if (clear != NULL)
    clear (write);
  g_free (write);
}

GPtrArray *
natterd_admin_sorted_values (GHashTable   *table,
                             GCompareFunc  compare)
{
  GPtrArray *values = g_ptr_array_sized_new (g_hash_table_size (table));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (values, value);
  g_ptr_array_sort (values, compare);
  return values;
}

void
natterd_admin_read_start (NatterdAdminWrite     *read,
                          NatterdAdminRequest   *request,
                          NatterdWriteRunFunc    run,
                          NatterdAdminApplyFunc  apply,
                          GDestroyNotify         clear)
{
  read->job.run = run;
  read->job.done = admin_job_done;
  read->request = request;
  read->apply = apply;
  read->clear = clear;
  natterd_reads_push (natterd_admin_request_directory (request)->reads, &read->job);
}

/* One line: checked as strictly as a client's frame, then handled. */
static void
handle_line (AdminConnection *c,
             const char      *line,
             gsize            len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  NatterdAdminRequest *request;
  JsonObject *args = NULL;
  const char *type;

  node = natter_json_parse_frame (line, len, &args, &error);
  request = g_new0 (NatterdAdminRequest, 1);
  request->connection = connection_ref (c);
  if (node == NULL)
    {
      natterd_admin_error (request, NATTER_ERROR_BAD_FRAME, "%s", error->message);
      return;
    }
  type = json_object_get_string_member (args, "type");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].type, type))
      {
        commands[i].func (request, args);
        return;
      }
  natterd_admin_error (request, NATTER_ERROR_UNKNOWN_TYPE, "Unknown request type (natterctl --help lists them)");
}

static gboolean
frame_cb (const char *line,
          gsize       len,
          gpointer    user_data)
{
  handle_line (user_data, line, len);
  /* One request at a time: the next line waits for this reply. */
  return FALSE;
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AdminConnection *c = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (c->admin == NULL)
    ;
  else if (n <= 0)
    connection_close (c);
  else
    switch (natter_frame_reader_push (&c->reader, c->buffer, n, frame_cb, c))
      {
      case NATTER_FRAME_READER_OK:
        read_more (c);
        break;
      case NATTER_FRAME_READER_STOPPED:
        break;
      case NATTER_FRAME_READER_TOO_LARGE:
      default:
        c->close_after_write = TRUE;
        connection_send (c, error_frame (NATTER_ERROR_FRAME_TOO_LARGE, "The request line is too long"));
        break;
      }
  connection_unref (c);
}

static void
read_more (AdminConnection *c)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (c->stream)),
                             c->buffer, sizeof c->buffer, G_PRIORITY_DEFAULT, c->cancellable,
                             read_cb, connection_ref (c));
}

/* The socket's mode already keeps others out; a peer of another user
 * (a socket passed on, a mode changed by hand) is refused besides. */
static gboolean
peer_allowed (GSocketConnection *stream)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCredentials) credentials = g_socket_get_credentials (g_socket_connection_get_socket (stream),
                                                                  &error);
  uid_t uid;

  if (credentials == NULL)
    {
      g_warning ("natterctl connection refused: %s", error->message);
      return FALSE;
    }
  uid = g_credentials_get_unix_user (credentials, &error);
  if (uid == (uid_t) -1)
    {
      g_warning ("natterctl connection refused: %s", error->message);
      return FALSE;
    }
  if (uid != geteuid () && uid != 0)
    {
      g_warning ("natterctl connection refused: user %u is neither natterd's nor root", (guint) uid);
      return FALSE;
    }
  return TRUE;
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *stream,
             GObject           *source,
             gpointer           user_data)
{
  NatterdAdmin *self = user_data;
  AdminConnection *c;

  if (!peer_allowed (stream))
    {
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
      return TRUE;
    }
  c = g_new0 (AdminConnection, 1);
  c->ref_count = 1;
  c->admin = self;
  c->stream = g_object_ref (stream);
  c->cancellable = g_cancellable_new ();
  natter_frame_reader_init (&c->reader, NATTERD_ADMIN_MAX_FRAME);
  self->connections = g_list_prepend (self->connections, c);
  read_more (c);
  return TRUE;
}

NatterdAdmin *
natterd_admin_new (NatterdDirectory  *directory,
                   GError           **error)
{
  const NatterdConfig *config = natterd_directory_get_config (directory);
  g_autoptr(GSocketAddress) address = NULL;
  NatterdAdmin *self;
  struct sockaddr_un un;

  self = g_new0 (NatterdAdmin, 1);
  self->directory = directory;
  self->started = g_get_monotonic_time ();
  self->path = g_build_filename (config->data_dir, NATTERD_ADMIN_SOCKET_NAME, NULL);
  if (strlen (self->path) >= sizeof un.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   "%s: the path is longer than a Unix socket's (%zu bytes)",
                   self->path, sizeof un.sun_path - 1);
      natterd_admin_free (self);
      return NULL;
    }
  /* Left by a natterd that was killed: the data directory's lock, held
   * now, says nobody serves it. */
  if (g_unlink (self->path) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot remove %s: %s", self->path, g_strerror (saved));
      natterd_admin_free (self);
      return NULL;
    }
  address = g_unix_socket_address_new (self->path);
  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, error))
    {
      natterd_admin_free (self);
      return NULL;
    }
  /* natterd's umask made it 0700 already; the mode is the whole access
   * control, so say it outright. */
  if (g_chmod (self->path, 0600) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot restrict %s to its owner: %s", self->path, g_strerror (saved));
      natterd_admin_free (self);
      return NULL;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  g_debug ("natterctl socket %s", self->path);
  return self;
}

void
natterd_admin_free (NatterdAdmin *self)
{
  if (self == NULL)
    return;
  if (self->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
      g_unlink (self->path);
    }
  natterd_admin_backup_stop (g_steal_pointer (&self->backup));
  while (self->connections != NULL)
    connection_close (self->connections->data);
  g_free (self->path);
  g_free (self);
}
