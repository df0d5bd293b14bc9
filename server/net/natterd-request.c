#define G_LOG_DOMAIN "natterd-request"

#include "natterd-request.h"
#include "natterd-connection-private.h"

struct _NatterdRequest {
  NatterdConnection *connection;  /* owned reference */
  JsonNode          *root;        /* owned: the parsed frame, or NULL */
  JsonObject        *frame;       /* borrowed from root */
  JsonNode          *id;          /* borrowed from root, NULL without "id" */
  const char        *type;        /* borrowed from root */
  GString           *reply;       /* the reply being written, then done */
  NatterJsonWriter   writer;
  GList              link;        /* in the connection's queue */
  guint              holds;       /* natterd_request_hold() */
  guint              finished : 1;
  guint              pauses : 1;  /* natterd_request_pause() */
};

NatterdRequest *
natterd_request_new (NatterdConnection *connection,
                     JsonNode          *root,
                     JsonObject        *frame,
                     JsonNode          *id,
                     const char        *type)
{
  NatterdRequest *self = g_new0 (NatterdRequest, 1);

  self->connection = natterd_connection_ref (connection);
  self->root = root;
  self->frame = frame;
  self->id = id;
  self->type = type;
  self->link.data = self;
  natterd_connection_enqueue_request (connection, self);
  return self;
}

void
natterd_request_free (NatterdRequest *self)
{
  if (self->reply != NULL)
    g_string_free (self->reply, TRUE);
  g_clear_pointer (&self->root, json_node_unref);
  natterd_connection_unref (self->connection);
  g_free (self);
}

GList *
natterd_request_get_link (NatterdRequest *self)
{
  return &self->link;
}

gboolean
natterd_request_is_finished (NatterdRequest *self)
{
  /* Finished and held: its reply (and those behind it) wait. */
  return self->finished && self->holds == 0;
}

GBytes *
natterd_request_steal_reply (NatterdRequest *self)
{
  GString *reply = g_steal_pointer (&self->reply);

  if (reply == NULL)
    return NULL;
  return g_string_free_to_bytes (reply);
}

NatterdConnection *
natterd_request_get_connection (NatterdRequest *self)
{
  return self->connection;
}

NatterdServer *
natterd_request_get_server (NatterdRequest *self)
{
  return natterd_connection_get_server (self->connection);
}

JsonObject *
natterd_request_get_frame (NatterdRequest *self)
{
  return self->frame;
}

const char *
natterd_request_get_type (NatterdRequest *self)
{
  return self->type;
}

gboolean
natterd_request_has_id (NatterdRequest *self)
{
  return self->id != NULL;
}

static void
begin_reply (NatterdRequest *self,
             const char     *type)
{
  g_return_if_fail (!self->finished);

  if (self->reply == NULL)
    self->reply = g_string_sized_new (128);
  else
    g_string_truncate (self->reply, 0);

  natter_json_writer_init (&self->writer, self->reply);
  natter_json_writer_begin_object (&self->writer);
  natter_json_writer_key (&self->writer, "type");
  natter_json_writer_string (&self->writer, type);
  natter_json_writer_key (&self->writer, "re");
  if (self->id != NULL)
    natter_json_writer_node (&self->writer, self->id);
  else
    natter_json_writer_null (&self->writer);
}

static void
finish (NatterdRequest *self,
        gboolean        send_reply)
{
  g_return_if_fail (!self->finished);

  if (send_reply)
    {
      natter_json_writer_end_object (&self->writer);
      g_string_append_c (self->reply, '\n');
    }
  else if (self->reply != NULL)
    {
      g_string_free (self->reply, TRUE);
      self->reply = NULL;
    }

  self->finished = TRUE;
  if (self->holds == 0)
    natterd_connection_request_done (self->connection, self);
}

void
natterd_request_pause (NatterdRequest *self)
{
  self->pauses = TRUE;
}

gboolean
natterd_request_get_pauses (NatterdRequest *self)
{
  return self->pauses;
}

void
natterd_request_hold (NatterdRequest *self)
{
  self->holds++;
}

void
natterd_request_release (NatterdRequest *self)
{
  g_return_if_fail (self->holds > 0);

  if (--self->holds == 0 && self->finished)
    natterd_connection_request_done (self->connection, self);
}

NatterJsonWriter *
natterd_request_begin_ok (NatterdRequest *self)
{
  begin_reply (self, "ok");
  return &self->writer;
}

void
natterd_request_finish_ok (NatterdRequest *self)
{
  /* Without an id, an ok is not answered at all. */
  finish (self, self->id != NULL);
}

void
natterd_request_ok (NatterdRequest *self)
{
  natterd_request_begin_ok (self);
  natterd_request_finish_ok (self);
}

static void
write_error (NatterdRequest  *self,
             NatterErrorCode  code,
             const char      *message)
{
  begin_reply (self, "error");
  natter_json_writer_key (&self->writer, "code");
  natter_json_writer_string (&self->writer, natter_error_code_to_string (code));
  natter_json_writer_key (&self->writer, "message");
  natter_json_writer_string (&self->writer, message != NULL ? message : "");
}

void
natterd_request_error (NatterdRequest  *self,
                       NatterErrorCode  code,
                       const char      *message)
{
  write_error (self, code, message);
  finish (self, TRUE);
}

void
natterd_request_error_from (NatterdRequest *self,
                            const GError   *error)
{
  if (error != NULL && error->domain == NATTER_ERROR && error->code >= 0 && error->code < NATTER_N_ERRORS)
    natterd_request_error (self, error->code, error->message);
  else
    {
      /* Whatever went wrong inside stays in the log, not on the wire. */
      g_warning ("Request %s failed: %s", self->type != NULL ? self->type : "(none)",
                 error != NULL ? error->message : "unknown error");
      natterd_request_error (self, NATTER_ERROR_INTERNAL, "Internal server error");
    }
}

void
natterd_request_rate_limited (NatterdRequest *self,
                              gint64          retry_after_ms)
{
  write_error (self, NATTER_ERROR_RATE_LIMITED, "Too many requests; try again later");
  natter_json_writer_key (&self->writer, "retry_after");
  natter_json_writer_int (&self->writer, MAX (retry_after_ms, 1));
  finish (self, TRUE);
}

void
natterd_request_pong (NatterdRequest *self)
{
  if (self->id != NULL)
    begin_reply (self, "pong");
  else
    {
      /* A ping without an id is still answered, with no "re". */
      self->reply = g_string_sized_new (32);
      natter_json_writer_init (&self->writer, self->reply);
      natter_json_writer_begin_object (&self->writer);
      natter_json_writer_key (&self->writer, "type");
      natter_json_writer_string (&self->writer, "pong");
    }
  finish (self, TRUE);
}
