/* test-framing.c: what natterd does with every kind of bad line, with the
 * frame size limit, with frames split or batched across writes.
 * Every test starts its own natterd over TLS on loopback.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

typedef struct {
  const char *name;
  const char *line;   /* without the '\n'; NUL-free */
} BadLine;

/* Each is bad_frame; the connection stays open and usable. */
static const BadLine bad_lines[] = {
  { "empty line", "" },
  { "white space only", "   " },
  { "not JSON", "hello" },
  { "truncated", "{\"type\":\"ping\"" },
  { "array", "[1,2]" },
  { "string", "\"ping\"" },
  { "number", "42" },
  { "null", "null" },
  { "true", "true" },
  { "no type", "{}" },
  { "no type with id", "{\"id\":1}" },
  { "type number", "{\"type\":1}" },
  { "type null", "{\"type\":null}" },
  { "type array", "{\"type\":[\"ping\"]}" },
  { "type object", "{\"type\":{\"a\":\"ping\"}}" },
  { "invalid UTF-8 byte", "{\"type\":\"ping\",\"a\":\"\xff\"}" },
  { "invalid UTF-8 in key", "{\"type\":\"ping\",\"\xfe\":1}" },
  { "overlong UTF-8", "{\"type\":\"ping\",\"a\":\"\xc0\xaf\"}" },
  { "UTF-8 encoded surrogate", "{\"type\":\"ping\",\"a\":\"\xed\xa0\x80\"}" },
  { "truncated UTF-8", "{\"type\":\"ping\",\"a\":\"\xe2\x82\"}" },
  { "UTF-8 beyond U+10FFFF", "{\"type\":\"ping\",\"a\":\"\xf4\x90\x80\x80\"}" },
  { "invalid UTF-8 outside strings", "{\"type\":\"ping\"}\xff" },
  { "duplicate type", "{\"type\":\"ping\",\"type\":\"ping\"}" },
  { "duplicate key", "{\"type\":\"ping\",\"a\":1,\"a\":2}" },
  { "duplicate key after unescaping", "{\"type\":\"ping\",\"a\":1,\"\\u0061\":2}" },
  { "duplicate key nested", "{\"type\":\"ping\",\"o\":{\"k\":1,\"k\":1}}" },
  { "NUL escape in value", "{\"type\":\"ping\",\"a\":\"x\\u0000y\"}" },
  { "NUL escape in key", "{\"type\":\"ping\",\"a\\u0000\":1}" },
  { "NUL escape in type", "{\"type\":\"ping\\u0000\"}" },
  { "lone high surrogate", "{\"type\":\"ping\",\"a\":\"\\ud800\"}" },
  { "lone low surrogate", "{\"type\":\"ping\",\"a\":\"\\udc00\"}" },
  { "high surrogate then text", "{\"type\":\"ping\",\"a\":\"\\ud800x\"}" },
  { "two high surrogates", "{\"type\":\"ping\",\"a\":\"\\ud800\\ud800\"}" },
  { "lone surrogate in key", "{\"type\":\"ping\",\"\\udfff\":1}" },
  { "second object", "{\"type\":\"ping\"}{\"type\":\"ping\"}" },
  { "second value", "{\"type\":\"ping\"} 1" },
  { "second value after space", "{\"type\":\"ping\"}   {}" },
  { "line comment", "{\"type\":\"ping\"} // hi" },
  { "block comment", "{/* hi */\"type\":\"ping\"}" },
  { "hash comment", "{\"type\":\"ping\"} # hi" },
  { "single quotes", "{'type':'ping'}" },
  { "single-quoted value", "{\"type\":'ping'}" },
  { "unquoted key", "{type:\"ping\"}" },
  { "hex number", "{\"type\":\"ping\",\"a\":0x10}" },
  { "leading zero", "{\"type\":\"ping\",\"a\":01}" },
  { "leading plus", "{\"type\":\"ping\",\"a\":+1}" },
  { "bare dot", "{\"type\":\"ping\",\"a\":.5}" },
  { "trailing dot", "{\"type\":\"ping\",\"a\":1.}" },
  { "NaN", "{\"type\":\"ping\",\"a\":NaN}" },
  { "Infinity", "{\"type\":\"ping\",\"a\":Infinity}" },
  { "-Infinity", "{\"type\":\"ping\",\"a\":-Infinity}" },
  { "1e999", "{\"type\":\"ping\",\"a\":1e999}" },
  { "-1e999", "{\"type\":\"ping\",\"a\":-1e999}" },
  { "huge integer digits", "{\"type\":\"ping\",\"a\":1"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000}" },
  { "trailing comma in object", "{\"type\":\"ping\",}" },
  { "trailing comma in array", "{\"type\":\"ping\",\"a\":[1,]}" },
  { "missing comma", "{\"type\":\"ping\" \"a\":1}" },
  { "missing colon", "{\"type\" \"ping\"}" },
  { "raw tab in string", "{\"type\":\"ping\",\"a\":\"x\ty\"}" },
  { "raw control in string", "{\"type\":\"ping\",\"a\":\"x\x01y\"}" },
  { "bad escape", "{\"type\":\"ping\",\"a\":\"\\x41\"}" },
  { "short unicode escape", "{\"type\":\"ping\",\"a\":\"\\u12\"}" },
  { "undefined", "{\"type\":\"ping\",\"a\":undefined}" },
  { "True capitalised", "{\"type\":\"ping\",\"a\":True}" },
  { "unclosed array", "{\"type\":\"ping\",\"a\":[1,2}" },
  { "NUL byte raw", NULL }, /* built below: contains a raw NUL */
};

static void
send_bad_and_check (NatterTestClient *c,
                    const char       *name,
                    const char       *line,
                    gsize             len)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) pong = NULL;

  natter_test_note ("bad frame: %s", name);
  natter_test_client_send_raw (c, line, len);
  natter_test_client_send_raw (c, "\n", 1);
  reply = natter_test_client_next (c);
  if (g_strcmp0 (json_object_get_string_member_with_default (reply, "code", ""), "bad_frame") != 0)
    {
      g_autofree char *text = natter_test_to_string (reply);

      g_error ("%s: expected bad_frame, got %s", name, text);
    }
  natter_assert_type (reply, "error");
  g_assert_nonnull (natter_test_get_str (reply, "message"));
  /* Exactly one reply, and the connection still works. */
  natter_test_client_expect_no_frame (c);
}

static void
run_bad_lines (NatterTestClient *c)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_lines); i++)
    {
      if (bad_lines[i].line != NULL)
        send_bad_and_check (c, bad_lines[i].name, bad_lines[i].line, strlen (bad_lines[i].line));
      else
        {
          static const char nul_line[] = "{\"type\":\"ping\",\"a\":\"x\0y\"}";

          send_bad_and_check (c, bad_lines[i].name, nul_line, sizeof nul_line - 1);
        }
    }
}

static void
test_bad_frames_before_login (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  run_bad_lines (c);
  /* Still able to register after all that. */
  natter_test_client_register (c, "alice", NULL);
}

static void
test_bad_frames_after_login (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new_user (srv, "alice");

  run_bad_lines (c);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"contacts\"}");
  }
}

/* {"type":"ping","id":1,"a":[[...]]} with the object at level 1 and @depth
 * levels in all. */
static char *
nested_ping (guint depth)
{
  GString *s = g_string_new ("{\"type\":\"ping\",\"id\":1,\"a\":");

  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, '[');
  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, ']');
  g_string_append (s, "}\n");
  return g_string_free (s, FALSE);
}

static void
test_depth (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autofree char *d32 = nested_ping (32);
  g_autofree char *d33 = nested_ping (33);
  g_autoptr(JsonObject) r32 = NULL;
  g_autoptr(JsonObject) r33 = NULL;

  natter_test_client_send_raw (c, d32, strlen (d32));
  r32 = natter_test_client_next (c);
  natter_assert_type (r32, "pong");
  natter_assert_int (r32, "re", 1);

  natter_test_client_send_raw (c, d33, strlen (d33));
  r33 = natter_test_client_next (c);
  natter_assert_error (r33, "bad_frame");
  natter_test_client_expect_no_frame (c);

  /* Objects count as levels too. */
  {
    GString *s = g_string_new ("{\"type\":\"ping\",\"a\":");
    g_autoptr(JsonObject) r = NULL;

    for (guint i = 1; i < 33; i++)
      g_string_append (s, "{\"k\":");
    g_string_append (s, "1");
    for (guint i = 1; i < 33; i++)
      g_string_append_c (s, '}');
    g_string_append (s, "}\n");
    natter_test_client_send_raw (c, s->str, s->len);
    g_string_free (s, TRUE);
    r = natter_test_client_next (c);
    natter_assert_error (r, "bad_frame");
  }
  natter_test_client_sync_ping (c);
}

static void
test_deep_nesting (void)
{
  /* A frame limit large enough that 100000 levels reach the parser. */
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nmax_frame=1048576\n", NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  GString *s;

  /* Balanced. */
  s = g_string_new ("{\"type\":\"ping\",\"a\":");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (s, ']');
  g_string_append (s, "}\n");
  natter_test_client_send_raw (c, s->str, s->len);
  g_string_free (s, TRUE);
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_error (r, "bad_frame");
  }

  /* Unbalanced objects, never closed. */
  s = g_string_new ("{\"type\":\"ping\",\"a\":");
  for (guint i = 0; i < 100000; i++)
    g_string_append (s, "{\"a\":");
  g_string_append (s, "\n");
  natter_test_client_send_raw (c, s->str, s->len);
  g_string_free (s, TRUE);
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_error (r, "bad_frame");
  }

  natter_test_client_expect_no_frame (c);
  natter_test_server_assert_alive (srv);
}

static void
test_deep_nesting_default_limit (void)
{
  /* 60000 open brackets fit under the default 64 KiB frame limit. */
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autofree char *brackets = util_repeat ('[', 60000);
  g_autoptr(JsonObject) r = NULL;

  natter_test_client_sendf (c, "{\"type\":\"ping\",\"a\":%s", brackets);
  r = natter_test_client_next (c);
  natter_assert_error (r, "bad_frame");
  natter_test_client_expect_no_frame (c);
}

/* A ping with an id, padded so that the line is @total bytes with its
 * '\n'. */
static char *
ping_of_size (gsize total)
{
  const char *head = "{\"type\":\"ping\",\"id\":1,\"pad\":\"";
  const char *tail = "\"}\n";
  gsize fixed = strlen (head) + strlen (tail);
  GString *s = g_string_new (head);

  g_assert_cmpuint (total, >, fixed);
  for (gsize i = fixed; i < total; i++)
    g_string_append_c (s, 'x');
  g_string_append (s, tail);
  g_assert_cmpuint (s->len, ==, total);
  return g_string_free (s, FALSE);
}

static void
test_max_frame (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  gint64 max_frame = natter_test_get_int (natter_test_client_get_welcome (c), "max_frame");
  g_autofree char *exact = ping_of_size ((gsize) max_frame);
  g_autofree char *over = ping_of_size ((gsize) max_frame + 1);

  /* Exactly max_frame bytes, '\n' included: accepted. */
  natter_test_client_send_raw (c, exact, strlen (exact));
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_type (r, "pong");
  }

  /* One byte more: frame_too_large, then close. */
  natter_test_client_send_raw (c, over, strlen (over));
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_error (r, "frame_too_large");
  }
  natter_test_client_assert_closed (c);
  g_assert_cmpuint (natter_test_client_queued (c), ==, 0);

  /* The server is fine. */
  {
    g_autoptr(NatterTestClient) d = natter_test_client_new (srv);

    natter_test_client_sync_ping (d);
  }
}

static void
test_max_frame_configured (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nmax_frame=1024\n", NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autofree char *exact = ping_of_size (1024);
  g_autofree char *over = ping_of_size (1025);

  natter_assert_int (natter_test_client_get_welcome (c), "max_frame", 1024);
  natter_test_client_send_raw (c, exact, strlen (exact));
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_type (r, "pong");
  }
  natter_test_client_send_raw (c, over, strlen (over));
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_error (r, "frame_too_large");
  }
  natter_test_client_assert_closed (c);
}

static void
test_line_never_ends (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  gint64 max_frame = natter_test_get_int (natter_test_client_get_welcome (c), "max_frame");
  g_autofree char *junk = util_repeat ('x', (gsize) max_frame + 10);
  g_autoptr(GError) error = NULL;

  /* No '\n' ever: the server must not wait for one. The write may fail
   * once the server has closed; that is fine. */
  natter_test_client_try_send_raw (c, "{\"type\":\"ping\",\"a\":\"", 20, NULL);
  natter_test_client_try_send_raw (c, junk, strlen (junk), &error);
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_error (r, "frame_too_large");
  }
  natter_test_client_assert_closed (c);
  natter_test_server_assert_alive (srv);
}

static void
test_split_and_batched (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  const char *frame = "{\"type\":\"ping\",\"id\":\"split\"}\n";
  GString *batch = g_string_new (NULL);

  /* One byte per write. */
  for (const char *p = frame; *p; p++)
    natter_test_client_send_raw (c, p, 1);
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_type (r, "pong");
    natter_assert_str (r, "re", "split");
  }

  /* Many frames in one write, some bad among them: one reply each, in
   * order. CRLF line ends are accepted ('\r' is white space). */
  for (guint i = 1; i <= 100; i++)
    {
      if (i % 10 == 0)
        g_string_append (batch, "not json\n");
      else if (i % 7 == 0)
        g_string_append_printf (batch, "{\"type\":\"ping\",\"id\":%u}\r\n", i);
      else
        g_string_append_printf (batch, "{\"type\":\"ping\",\"id\":%u}\n", i);
    }
  natter_test_client_send_raw (c, batch->str, batch->len);
  g_string_free (batch, TRUE);
  for (guint i = 1; i <= 100; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_next (c);

      if (i % 10 == 0)
        natter_assert_error (r, "bad_frame");
      else
        {
          natter_assert_type (r, "pong");
          natter_assert_int (r, "re", i);
        }
    }

  /* White space around the object, and unknown fields, are fine. */
  natter_test_client_send (c, "  \t{\"type\":\"ping\",\"id\":5,\"future\":{\"x\":[1,2.5e3,null,true]}}  ");
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_type (r, "pong");
    natter_assert_int (r, "re", 5);
  }
  /* Escapes that are valid: a surrogate pair, escaped slash, unicode. */
  natter_test_client_send (c, "{\"type\":\"ping\",\"id\":\"\\ud83d\\ude00\\/\\u00e9\"}");
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_type (r, "pong");
    natter_assert_str (r, "re", "\xf0\x9f\x98\x80/\xc3\xa9");
  }
}

static void
test_unknown_type (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  /* Before login, with and without id. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_error (c, "unknown_type",
                                                                "{\"type\":\"frobnicate\"}");
  }
  natter_test_client_send (c, "{\"type\":\"\"}");
  {
    g_autoptr(JsonObject) r = natter_test_client_next (c);

    natter_assert_error (r, "unknown_type");
    g_assert_true (natter_test_is_null (r, "re"));
  }
  /* Server-to-client frame types are not requests. */
  {
    g_autoptr(JsonObject) r1 = natter_test_client_request_error (c, "unknown_type", "{\"type\":\"welcome\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_error (c, "unknown_type", "{\"type\":\"ok\"}");
    g_autoptr(JsonObject) r3 = natter_test_client_request_error (c, "unknown_type", "{\"type\":\"Ping\"}");
  }
  /* After login too. */
  natter_test_client_register (c, "alice", NULL);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_error (c, "unknown_type",
                                                                "{\"type\":\"frobnicate\"}");
  }
}

static void
test_invalid_argument_integers (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) b = natter_test_client_new_user (srv, "bob");

  /* Integers outside ±2^53 in a field the request uses. */
  {
    g_autoptr(JsonObject) r1 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":9007199254740993}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"sync\",\"since\":-9007199254740993}");
    g_autoptr(JsonObject) r3 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"history\",\"conversation\":\"@bob\",\"before\":18446744073709551616}");
    g_autoptr(JsonObject) r4 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"sync\",\"since\":\"5\"}");
    g_autoptr(JsonObject) r5 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":2.5}");
  }
  /* The same number in a field nobody reads is fine (unknown fields are
   * ignored). */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
        "{\"type\":\"sync\",\"since\":0,\"ignored\":9007199254740993}");
  }
}

static void
test_abrupt_clients (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  guint16 port = natter_test_server_get_port (srv);

  /* Plain text to the TLS port: the handshake fails and the server closes
   * (what it sends first is a TLS alert, so this reads raw bytes). */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketClient) client = g_socket_client_new ();
    g_autoptr(GSocketConnection) conn = NULL;
    GSocket *sock;
    const char *frame = "{\"type\":\"ping\",\"id\":1}\n";
    char buf[4096];
    gssize n;

    g_socket_client_set_timeout (client, natter_test_deadline_ms () / 1000);
    conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
    g_assert_no_error (error);
    sock = g_socket_connection_get_socket (conn);
    g_socket_send (sock, frame, strlen (frame), NULL, NULL);
    do
      n = g_socket_receive (sock, buf, sizeof buf, NULL, &error);
    while (n > 0);
    /* End of stream or a reset, not a timeout. */
    if (n < 0)
      g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  }
  /* Half a frame, then gone; a frame of a login, then gone mid-hash; many
   * clients that connect and vanish. */
  {
    g_autoptr(NatterTestClient) half = natter_test_client_new (srv);

    natter_test_client_send_raw (half, "{\"type\":\"pi", 12);
  }
  {
    g_autoptr(NatterTestClient) reg = natter_test_client_new (srv);

    natter_test_client_send (reg, "{\"type\":\"register\",\"id\":1,\"username\":\"gone\","
                                  "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  }
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NatterTestClient) c = natter_test_client_try_new_full (port, TRUE, i % 2 == 0, &error);

      g_assert_no_error (error);
    }

  /* Still serving. */
  natter_test_server_assert_alive (srv);
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

    natter_test_client_register (c, "alice", NULL);
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/framing/bad-frames-before-login", test_bad_frames_before_login);
  natter_test_add ("/framing/bad-frames-after-login", test_bad_frames_after_login);
  natter_test_add ("/framing/depth-32-33", test_depth);
  natter_test_add ("/framing/deep-nesting-100000", test_deep_nesting);
  natter_test_add ("/framing/deep-nesting-default-limit", test_deep_nesting_default_limit);
  natter_test_add ("/framing/max-frame", test_max_frame);
  natter_test_add ("/framing/max-frame-configured", test_max_frame_configured);
  natter_test_add ("/framing/line-never-ends", test_line_never_ends);
  natter_test_add ("/framing/split-and-batched", test_split_and_batched);
  natter_test_add ("/framing/unknown-type", test_unknown_type);
  natter_test_add ("/framing/invalid-argument-integers", test_invalid_argument_integers);
  natter_test_add ("/framing/abrupt-clients", test_abrupt_clients);

  return g_test_run ();
}
