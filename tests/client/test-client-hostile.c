/* test-client-hostile.c: the client core against a server that breaks the
 * contract (garbage, oversized lines, replies with missing or ill-typed
 * fields, junk events). Not a mock of natterd: a hostile peer, so that bad
 * input from the network gives a clear error and never a crash, a hang or
 * corrupted models. Plain TCP on loopback (the client's use-tls off). */
#define G_LOG_DOMAIN "test-client-hostile"

#include <string.h>

#include "client-test-util.h"
#include "natter-json.h"

typedef struct _Hostile Hostile;
/* Answers one request frame by writing lines to @out (each ending in \n). */
typedef void (*ScriptFunc) (Hostile *h, JsonObject *request, GString *out);

struct _Hostile {
  GSocketService   *service;
  guint16           port;
  ScriptFunc        script;
  const char       *greeting;   /* written on accept; NULL for a normal welcome */
  GSocketConnection *conn;
  GDataInputStream *in;
  GQueue            queue;      /* GBytes to write, in order */
  GBytes           *writing;
  guint             requests;
};

static void read_next (Hostile *h);

static void write_next (Hostile *h);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Hostile *h = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL);
  g_clear_pointer (&h->writing, g_bytes_unref);
  write_next (h);
}

static void
write_next (Hostile *h)
{
  if (h->writing != NULL || h->conn == NULL || g_queue_is_empty (&h->queue))
    return;
  h->writing = g_queue_pop_head (&h->queue);
  /* Async: the client reads on this same main loop. */
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (h->conn)),
                                   g_bytes_get_data (h->writing, NULL),
                                   g_bytes_get_size (h->writing),
                                   G_PRIORITY_DEFAULT, NULL, write_cb, h);
}

static void
write_out (Hostile *h,
           GString *out)
{
  if (out->len == 0)
    return;
  g_queue_push_tail (&h->queue, g_bytes_new (out->str, out->len));
  write_next (h);
}

static void
line_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Hostile *h = user_data;
  g_autofree char *line = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  JsonObject *request = NULL;
  gsize len;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (object), result, &len, NULL);
  if (line == NULL)
    return;
  node = natter_json_parse_frame (line, len, &request, NULL);
  g_assert_nonnull (node);   /* the client itself must send valid frames */
  h->requests++;
  h->script (h, request, out);
  write_out (h, out);
  read_next (h);
}

static void
read_next (Hostile *h)
{
  if (h->in != NULL)
    g_data_input_stream_read_line_async (h->in, G_PRIORITY_DEFAULT, NULL, line_cb, h);
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             Hostile           *h)
{
  g_autoptr(GString) out = g_string_new (h->greeting != NULL ? h->greeting :
    "{\"type\":\"welcome\",\"protocol\":1,\"server\":\"hostile/0\",\"max_frame\":65536,\"registration\":true}\n");

  g_clear_object (&h->in);
  g_clear_object (&h->conn);
  h->conn = g_object_ref (connection);
  h->in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  write_out (h, out);
  read_next (h);
  return TRUE;
}

static Hostile *
hostile_new (ScriptFunc  script,
             const char *greeting)
{
  Hostile *h = g_new0 (Hostile, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  h->script = script;
  h->greeting = greeting;
  h->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (h->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  h->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (h->service, "incoming", G_CALLBACK (incoming_cb), h);
  g_socket_service_start (h->service);
  return h;
}

static void
hostile_free (Hostile *h)
{
  g_socket_service_stop (h->service);
  g_socket_listener_close (G_SOCKET_LISTENER (h->service));
  g_clear_object (&h->in);
  if (h->conn != NULL)
    g_io_stream_close (G_IO_STREAM (h->conn), NULL, NULL);
  g_clear_object (&h->conn);
  /* A write cut short by the close still calls back: let it. */
  while (h->writing != NULL)
    g_main_context_iteration (NULL, TRUE);
  g_queue_clear_full (&h->queue, (GDestroyNotify) g_bytes_unref);
  g_object_unref (h->service);
  g_free (h);
}

static void
reply (GString    *out,
       JsonObject *request,
       const char *fields)
{
  g_string_append_printf (out, "{\"type\":\"ok\",\"re\":%" G_GINT64_FORMAT "%s%s}\n",
                          json_object_get_int_member (request, "id"),
                          fields[0] != '\0' ? "," : "", fields);
}

static NatterClient *
client_for (Hostile *h,
            char   **out_dir)
{
  NatterClient *client;

  *out_dir = test_make_state_dir ();
  client = natter_client_new (*out_dir);
  natter_client_set_use_tls (client, FALSE);
  return client;
}

static gboolean
connect_to (NatterClient *client,
            Hostile      *h,
            GError      **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  natter_client_connect_async (client, "127.0.0.1", h->port, NULL, test_result_cb, &result);
  ok = natter_client_connect_finish (client, test_wait_result (&result), error);
  g_clear_object (&result);
  return ok;
}

static void
silent_script (Hostile *h, JsonObject *request, GString *out)
{
}

/* ---- greeting problems ---------------------------------------------------- */

static void
test_bad_greeting (void)
{
  static const char *const greetings[] = {
    "this is not json\n",
    "[1,2,3]\n",
    "{\"type\":\"welcome\",\"protocol\":1,\"protocol\":2}\n",  /* duplicate key */
    "{\"no_type\":true}\n",
    "{\"type\":\"message\"}\n",                               /* not a welcome */
  };

  for (guint i = 0; i < G_N_ELEMENTS (greetings); i++)
    {
      Hostile *h = hostile_new (silent_script, greetings[i]);
      g_autofree char *dir = NULL;
      NatterClient *client = client_for (h, &dir);
      g_autoptr(GError) error = NULL;

      g_assert_false (connect_to (client, h, &error));
      g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL);
      g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_DISCONNECTED);

      test_client_free (client);
      hostile_free (h);
      test_remove_dir (dir);
    }
}

static void
test_server_busy (void)
{
  Hostile *h = hostile_new (silent_script,
    "{\"type\":\"error\",\"re\":null,\"code\":\"server_busy\",\"message\":\"Too many connections\"}\n");
  g_autofree char *dir = NULL;
  NatterClient *client = client_for (h, &dir);
  g_autoptr(GError) error = NULL;

  g_assert_false (connect_to (client, h, &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_SERVER_BUSY);
  g_assert_cmpstr (error->message, ==, "Too many connections");

  test_client_free (client);
  hostile_free (h);
  test_remove_dir (dir);
}

static void
test_oversized_line (void)
{
  /* A line over 4 MiB that never ends: refused as soon as the buffer
   * proves it, not buffered forever. */
  GString *huge = g_string_sized_new (5 * 1024 * 1024);
  Hostile *h;
  g_autofree char *dir = NULL;
  NatterClient *client;
  g_autoptr(GError) error = NULL;

  g_string_append (huge, "{\"type\":\"welcome\",\"pad\":\"");
  while (huge->len < 5 * 1024 * 1024)
    g_string_append (huge, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  h = hostile_new (silent_script, huge->str);
  client = client_for (h, &dir);

  g_assert_false (connect_to (client, h, &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL);

  test_client_free (client);
  hostile_free (h);
  test_remove_dir (dir);
  g_string_free (huge, TRUE);
}

/* ---- bad replies ------------------------------------------------------------ */

static void
login_without_token_script (Hostile *h, JsonObject *request, GString *out)
{
  if (g_str_equal (json_object_get_string_member (request, "type"), "login"))
    reply (out, request, "\"user\":{\"username\":\"alice\"}");
}

static void
test_login_reply_incomplete (void)
{
  Hostile *h = hostile_new (login_without_token_script, NULL);
  g_autofree char *dir = NULL;
  NatterClient *client = client_for (h, &dir);
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  g_assert_true (connect_to (client, h, &error));
  natter_client_login_async (client, "alice", "password123", NULL, test_result_cb, &result);
  g_assert_false (natter_client_login_finish (client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL);
  g_assert_null (natter_client_get_me (client));
  g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_CONNECTED);
  g_clear_object (&result);

  test_client_free (client);
  hostile_free (h);
  test_remove_dir (dir);
}

/* Signs in, then answers everything with junk, and pushes junk events. */
static void
junk_script (Hostile *h, JsonObject *request, GString *out)
{
  const char *type = json_object_get_string_member (request, "type");

  if (g_str_equal (type, "login"))
    {
      reply (out, request,
             "\"user\":{\"username\":\"alice\",\"display_name\":\"Alice\",\"presence\":\"online\","
             "\"status_text\":null,\"last_seen\":null},\"token\":\"tok\",\"expires\":1");
      /* Junk events, before and between replies. */
      g_string_append (out,
        "{\"type\":\"message\"}\n"
        "{\"type\":\"message\",\"message\":{\"id\":\"7\",\"conversation\":\"@bob\",\"from\":\"bob\",\"body\":\"x\",\"ts\":1}}\n"
        "{\"type\":\"message\",\"message\":{\"id\":-3,\"conversation\":\"@bob\",\"from\":\"bob\",\"body\":\"x\",\"ts\":1}}\n"
        "{\"type\":\"message\",\"message\":{\"id\":8,\"conversation\":\"not an address\",\"from\":\"bob\",\"body\":\"x\",\"ts\":1}}\n"
        "{\"type\":\"message\",\"message\":{\"id\":9,\"conversation\":\"@bob\",\"from\":\"bob\",\"body\":\"fine\",\"ts\":1}}\n"
        "{\"type\":\"message\",\"message\":{\"id\":9,\"conversation\":\"@bob\",\"from\":\"bob\",\"body\":\"fine again\",\"ts\":1}}\n"
        "{\"type\":\"presence\",\"user\":42}\n"
        "{\"type\":\"presence\",\"user\":{\"username\":\"NOT VALID\",\"presence\":\"online\"}}\n"
        "{\"type\":\"presence\",\"user\":{\"username\":\"bob\",\"presence\":\"levitating\",\"last_seen\":\"yesterday\"}}\n"
        "{\"type\":\"typing\",\"conversation\":7,\"user\":\"bob\",\"state\":\"active\"}\n"
        "{\"type\":\"read\",\"conversation\":\"@bob\",\"user\":\"bob\",\"up_to\":\"many\"}\n"
        "{\"type\":\"room_member\",\"room\":\"nohash\",\"user\":{\"username\":\"bob\"},\"change\":\"joined\"}\n"
        "{\"type\":\"room_topic\",\"room\":\"#r\",\"topic\":[1]}\n"
        "{\"type\":\"contact\",\"change\":\"added\"}\n"
        "{\"type\":\"contact_request\",\"from\":\"bob\"}\n"
        "{\"type\":\"error\",\"re\":null,\"code\":\"no_such_code\",\"message\":\"weird\"}\n"
        "{\"type\":\"ok\",\"re\":999999}\n"
        "{\"type\":\"ok\",\"re\":\"a string\"}\n"
        "{\"type\":\"brand_new_event\",\"payload\":{\"deep\":[[[[1]]]]}}\n");
    }
  else if (g_str_equal (type, "sync"))
    reply (out, request,
           "\"messages\":[1,\"two\",null,{\"id\":10,\"conversation\":\"@bob\",\"from\":\"bob\",\"body\":\"synced\",\"ts\":2},"
           "{\"id\":10,\"conversation\":\"@bob\",\"from\":\"bob\",\"body\":\"dup\",\"ts\":2}],"
           "\"has_more\":\"yes\",\"last_id\":\"ten\"");
  else if (g_str_equal (type, "conversations"))
    reply (out, request, "\"conversations\":[{\"conversation\":\"@bob\",\"unread\":-5,\"read_up_to\":\"x\","
                          "\"last_message\":{\"id\":\"z\"}},{\"conversation\":null},17]");
  else if (g_str_equal (type, "contacts"))
    reply (out, request, "\"contacts\":[{\"username\":\"bob\"},{\"nope\":1},3],\"incoming\":[5,\"carol\",\"Bad Name\"],\"outgoing\":{}");
  else if (g_str_equal (type, "rooms"))
    reply (out, request, "\"rooms\":[{\"room\":\"#ok\",\"topic\":\"t\",\"owner\":\"bob\",\"member_count\":-1},{\"room\":\"bad\"},null]");
  else if (json_object_has_member (request, "id"))
    g_string_append_printf (out, "{\"type\":\"error\",\"re\":%" G_GINT64_FORMAT ",\"code\":42}\n",
                            json_object_get_int_member (request, "id"));
}

static void
count_errors_cb (guint *counter)
{
  (*counter)++;
}

static void
test_junk_session (void)
{
  Hostile *h = hostile_new (junk_script, NULL);
  g_autofree char *dir = NULL;
  NatterClient *client = client_for (h, &dir);
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  NatterConversation *conv;
  guint errors = 0;

  g_signal_connect_swapped (client, "error", G_CALLBACK (count_errors_cb), &errors);

  g_assert_true (connect_to (client, h, &error));
  natter_client_login_async (client, "alice", "password123", NULL, test_result_cb, &result);
  g_assert_true (natter_client_login_finish (client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  /* It gets through a session made of junk, keeping only what is valid. */
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);
  conv = natter_client_lookup_conversation (client, "@bob", FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpuint (test_count_messages (conv), ==, 2);   /* ids 9 and 10, once each */
  test_assert_ordered (conv);
  g_assert_cmpuint (test_count_body (conv, "fine"), ==, 1);
  g_assert_cmpuint (test_count_body (conv, "synced"), ==, 1);
  /* @bob, and #ok (a room we are in has its conversation). */
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_conversations (client)), ==, 2);
  g_assert_nonnull (natter_client_lookup_conversation (client, "#ok", FALSE));
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_contacts (client)), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_incoming_requests (client)), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_rooms (client)), ==, 1);
  g_assert_cmpint (natter_user_get_presence (natter_client_lookup_user (client, "bob")), ==,
                   NATTER_PRESENCE_OFFLINE);
  g_assert_cmpuint (errors, ==, 1);   /* the error event with an unknown code */

  /* A reply with an ill-typed error code still fails the request cleanly. */
  natter_client_room_directory_async (client, "", NULL, test_result_cb, &result);
  g_assert_null (natter_client_room_directory_finish (client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INTERNAL);
  g_clear_object (&result);

  test_client_free (client);
  hostile_free (h);
  test_remove_dir (dir);
}

/* Signs in; answers pings only while answer_pings is TRUE. */
static gboolean answer_pings;

static void
ping_script (Hostile *h, JsonObject *request, GString *out)
{
  const char *type = json_object_get_string_member (request, "type");

  if (g_str_equal (type, "login"))
    reply (out, request,
           "\"user\":{\"username\":\"alice\",\"presence\":\"online\"},\"token\":\"tok\",\"expires\":1");
  else if (g_str_equal (type, "sync"))
    reply (out, request, "\"messages\":[],\"has_more\":false,\"last_id\":0");
  else if (g_str_equal (type, "conversations"))
    reply (out, request, "\"conversations\":[]");
  else if (g_str_equal (type, "contacts"))
    reply (out, request, "\"contacts\":[],\"incoming\":[],\"outgoing\":[]");
  else if (g_str_equal (type, "rooms"))
    reply (out, request, "\"rooms\":[]");
  else if (g_str_equal (type, "ping") && answer_pings)
    g_string_append_printf (out, "{\"type\":\"pong\",\"re\":%" G_GINT64_FORMAT "}\n",
                            json_object_get_int_member (request, "id"));
}

static gboolean
time_passed (gpointer data)
{
  return g_get_monotonic_time () >= *(gint64 *) data;
}

static void
test_keepalive (void)
{
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  NatterClient *client;
  Hostile *h;
  gint64 until;

  /* The interval is 300 ms here (main() sets it). A server that answers
   * keeps the connection through several intervals. */
  answer_pings = TRUE;
  h = hostile_new (ping_script, NULL);
  client = client_for (h, &dir);
  g_assert_true (connect_to (client, h, &error));
  natter_client_login_async (client, "alice", "password123", NULL, test_result_cb, &result);
  g_assert_true (natter_client_login_finish (client, test_wait_result (&result), &error));
  g_clear_object (&result);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);

  until = g_get_monotonic_time () + 1500 * 1000;
  wait_until (time_passed, &until, 3000);
  g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_READY);
  g_assert_cmpuint (h->requests, >=, 5 + 3);   /* the session, then pings */

  /* It stops answering (a dead path): the client notices and reconnects. */
  answer_pings = FALSE;
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_RECONNECTING);

  test_client_free (client);
  hostile_free (h);
  test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("NATTER_CLIENT_KEEPALIVE_MS", "300", TRUE);

  test_init ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/hostile/bad-greeting", test_bad_greeting);
  g_test_add_func ("/client/hostile/server-busy", test_server_busy);
  g_test_add_func ("/client/hostile/oversized-line", test_oversized_line);
  g_test_add_func ("/client/hostile/login-reply-incomplete", test_login_reply_incomplete);
  g_test_add_func ("/client/hostile/junk-session", test_junk_session);
  g_test_add_func ("/client/hostile/keepalive", test_keepalive);

  return g_test_run ();
}
