#define G_LOG_DOMAIN "natterd-status"

#include "config.h"

#include "natter-json.h"
#include "natterd-service.h"
#include "natterd-status-probe.h"

/* Requests are padded to 512 bytes by clients; larger ones are cut off by
 * the receive and so fail to parse, which is the answer they deserve. */
#define MAX_DATAGRAM 2048

struct _NatterdStatusProbe {
  NatterdServer *server; /* borrowed */
  GSocket       *socket;
  GSource       *source;
};

static char *
status_reply (NatterdServer *server,
              gsize         *out_len)
{
  const NatterdConfig *config = natterd_server_get_config (server);
  GString *out = g_string_sized_new (160);
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "type");
  natter_json_writer_string (&w, "status");
  natter_json_writer_key (&w, "protocol");
  natter_json_writer_int (&w, 1);
  natter_json_writer_key (&w, "server");
  natter_json_writer_string (&w, "natterd/" PACKAGE_VERSION);
  natter_json_writer_key (&w, "users_online");
  natter_json_writer_int (&w, natterd_server_get_service (server)->count_online (natterd_server_get_service_data (server)));
  natter_json_writer_key (&w, "registration");
  natter_json_writer_bool (&w, config->registration == NATTERD_REGISTRATION_OPEN);
  natter_json_writer_end_object (&w);

  *out_len = out->len;
  return g_string_free (out, FALSE);
}

static gboolean
is_status_request (const char *data,
                   gsize       len)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *frame = NULL;

  /* A trailing newline is tolerated: JSON white space. */
  root = natter_json_parse_frame (data, len, &frame, NULL);
  return root != NULL && g_str_equal (json_object_get_string_member (frame, "type"), "status");
}

static gboolean
on_datagram (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  NatterdStatusProbe *self = user_data;
  char buffer[MAX_DATAGRAM];

  /* Drain what is there; each datagram stands alone. */
  for (guint i = 0; i < 64; i++)
    {
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *reply = NULL;
      gsize reply_len;
      gssize n;

      n = g_socket_receive_from (socket, &from, buffer, sizeof buffer, NULL, &error);
      if (n < 0)
        break;
      if (n == 0 || !is_status_request (buffer, n))
        continue;

      reply = status_reply (self->server, &reply_len);
      if (reply_len > (gsize) n)
        continue; /* never answer with more than was asked */
      g_socket_send_to (socket, from, reply, reply_len, NULL, NULL);
    }

  return G_SOURCE_CONTINUE;
}

NatterdStatusProbe *
natterd_status_probe_new (NatterdServer   *server,
                          GSocketAddress  *address,
                          GError         **error)
{
  g_autoptr(GSocket) socket = NULL;
  NatterdStatusProbe *self;

  socket = g_socket_new (g_socket_address_get_family (address),
                         G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_bind (socket, address, FALSE, error))
    return NULL;

  self = g_new0 (NatterdStatusProbe, 1);
  self->server = server;
  self->socket = g_steal_pointer (&socket);
  self->source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->source, G_SOURCE_FUNC (on_datagram), self, NULL);
  g_source_attach (self->source, NULL);
  return self;
}

void
natterd_status_probe_free (NatterdStatusProbe *self)
{
  if (self == NULL)
    return;
  g_source_destroy (self->source);
  g_source_unref (self->source);
  g_socket_close (self->socket, NULL);
  g_object_unref (self->socket);
  g_free (self);
}
