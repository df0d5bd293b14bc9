/* test-session.c: welcome, register, login (password and token), logout,
 * who may do what before and after login, request ids, several devices.
 * Every test starts its own natterd over TLS on loopback.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

static void
test_welcome (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  JsonObject *w = natter_test_client_get_welcome (c);

  natter_assert_type (w, "welcome");
  natter_assert_int (w, "protocol", 1);
  g_assert_true (g_str_has_prefix (natter_test_get_str (w, "server"), "natterd/"));
  natter_assert_int (w, "max_frame", 65536);
  g_assert_true (natter_test_get_bool (w, "registration"));
  /* Nothing else is sent unasked. */
  natter_test_client_expect_no_frame (c);
}

static gboolean
is_base64url_token (const char *token)
{
  if (strlen (token) != 43)
    return FALSE;
  for (const char *p = token; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static void
test_register (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) reply = NULL;
  JsonObject *user;
  gint64 expires;

  /* Usernames are stored in lower case; display_name defaults to it. */
  reply = natter_test_client_request_ok (c, "{\"type\":\"register\",\"username\":\"Alice\","
                                            "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  user = natter_test_get_object (reply, "user");
  util_assert_user_object (user);
  natter_assert_str (user, "username", "alice");
  natter_assert_str (user, "display_name", "alice");
  natter_assert_str (user, "presence", "online");
  g_assert_true (is_base64url_token (natter_test_get_str (reply, "token")));
  /* Tokens expire after 30 days by default. */
  expires = natter_test_get_int (reply, "expires");
  g_assert_cmpint (expires, >, util_now_ms () + (gint64) 29 * 24 * 3600 * 1000);
  g_assert_cmpint (expires, <, util_now_ms () + (gint64) 31 * 24 * 3600 * 1000);

  /* Registering logs in: an authenticated request works at once. */
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_ok (c, "{\"type\":\"contacts\"}");

  /* A display name given at registration is kept. */
  {
    g_autoptr(NatterTestClient) b = natter_test_client_new (srv);
    g_autoptr(JsonObject) r = natter_test_client_request_ok (b,
        "{\"type\":\"register\",\"username\":\"bob\",\"password\":\"" NATTER_TEST_PASSWORD "\","
        "\"display_name\":\"Bob Builder\"}");

    natter_assert_str (r, "user.username", "bob");
    natter_assert_str (r, "user.display_name", "Bob Builder");
    g_assert_cmpstr (natter_test_get_str (r, "token"), !=, natter_test_client_get_token (c));
  }
}

typedef struct {
  const char *json;   /* the register request without id */
  const char *code;
} RegisterErrorCase;

static void
test_register_errors (void)
{
  static const RegisterErrorCase cases[] = {
    { "{\"type\":\"register\",\"username\":\"ab\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_username" },
    { "{\"type\":\"register\",\"username\":\"1abc\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_username" },
    { "{\"type\":\"register\",\"username\":\"_abc\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_username" },
    { "{\"type\":\"register\",\"username\":\"al ice\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_username" },
    { "{\"type\":\"register\",\"username\":\"al@ice\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_username" },
    { "{\"type\":\"register\",\"username\":\"\xc3\xa9lise\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_username" },
    /* 33 characters */
    { "{\"type\":\"register\",\"username\":\"abcdefghijabcdefghijabcdefghijabc\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_username" },
    { "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"short12\"}", "weak_password" },
    { "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"\"}", "weak_password" },
    { "{\"type\":\"register\",\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_argument" },
    { "{\"type\":\"register\",\"username\":\"alice\"}", "invalid_argument" },
    { "{\"type\":\"register\",\"username\":42,\"password\":\"" NATTER_TEST_PASSWORD "\"}", "invalid_argument" },
    { "{\"type\":\"register\",\"username\":\"alice\",\"password\":[\"x\"]}", "invalid_argument" },
    { "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"" NATTER_TEST_PASSWORD "\",\"display_name\":\"\"}", "invalid_argument" },
    { "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"" NATTER_TEST_PASSWORD "\",\"display_name\":\"a\\u0007b\"}", "invalid_argument" },
  };
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) reply = NULL;

      natter_test_note ("case %u: %s", i, cases[i].json);
      reply = natter_test_client_request_error (c, cases[i].code, "%s", cases[i].json);
      /* The message is for people and never echoes the password. */
      g_assert_null (strstr (natter_test_get_str (reply, "message"), NATTER_TEST_PASSWORD));
    }

  /* A password over 1024 bytes is weak too (and 1024 is fine). */
  {
    g_autofree char *long_pw = util_repeat ('p', 1025);
    g_autofree char *max_pw = util_repeat ('p', 1024);
    g_autoptr(JsonObject) r1 = natter_test_client_request_error (c, "weak_password",
        "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\"}", long_pw);
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (c,
        "{\"type\":\"register\",\"username\":\"maxpw\",\"password\":\"%s\"}", max_pw);
  }

  /* Display names: 64 characters (even of two bytes each) are fine, 65 are
   * not. */
  {
    GString *d64 = g_string_new (NULL);
    g_autoptr(NatterTestClient) d = natter_test_client_new (srv);

    for (guint i = 0; i < 64; i++)
      g_string_append (d64, "\xc3\xa9");
    {
      g_autoptr(JsonObject) e = natter_test_client_request_error (d, "invalid_argument",
          "{\"type\":\"register\",\"username\":\"dname\",\"password\":\"" NATTER_TEST_PASSWORD "\","
          "\"display_name\":\"%sx\"}", d64->str);
      g_autoptr(JsonObject) r = natter_test_client_request_ok (d,
          "{\"type\":\"register\",\"username\":\"dname\",\"password\":\"" NATTER_TEST_PASSWORD "\","
          "\"display_name\":\"%s\"}", d64->str);

      natter_assert_str (r, "user.display_name", d64->str);
    }
    g_string_free (d64, TRUE);
  }

  /* 32 characters with every allowed kind of character is fine, on a fresh
   * connection (the one above is logged in now). */
  {
    g_autoptr(NatterTestClient) d = natter_test_client_new (srv);
    g_autoptr(JsonObject) r = natter_test_client_request_ok (d,
        "{\"type\":\"register\",\"username\":\"a0_.-bcdefghijabcdefghijabcdefgh\",\"password\":\""
        NATTER_TEST_PASSWORD "\"}");

    natter_assert_str (r, "user.username", "a0_.-bcdefghijabcdefghijabcdefgh");
  }

  /* Taken, compared case-insensitively. */
  {
    g_autoptr(NatterTestClient) a = natter_test_client_new_user (srv, "carol");
    g_autoptr(NatterTestClient) b = natter_test_client_new (srv);
    g_autoptr(JsonObject) r1 = natter_test_client_request_error (b, "username_taken",
        "{\"type\":\"register\",\"username\":\"carol\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_error (b, "username_taken",
        "{\"type\":\"register\",\"username\":\"CaRoL\",\"password\":\"other password\"}");
  }
}

static void
test_register_race (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  NatterTestClient *c[5];
  guint ok = 0, taken = 0;

  /* Five registrations of one name at once (each hashes off the main
   * loop): exactly one wins. */
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    c[i] = natter_test_client_new (srv);
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    natter_test_client_send (c[i], "{\"type\":\"register\",\"id\":1,\"username\":\"racer\","
                                   "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (c[i], 1);

      if (g_str_equal (natter_test_get_str (r, "type"), "ok"))
        ok++;
      else
        {
          natter_assert_error (r, "username_taken");
          taken++;
        }
    }
  g_assert_cmpuint (ok, ==, 1);
  g_assert_cmpuint (taken, ==, 4);
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    natter_test_client_free (c[i]);
  /* And the account works. */
  {
    g_autoptr(NatterTestClient) d = natter_test_client_new_login (srv, "racer");
  }
}

static void
test_registration_closed (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[server]\nregistration=false\n", NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) reply = NULL;

  g_assert_false (natter_test_get_bool (natter_test_client_get_welcome (c), "registration"));
  reply = natter_test_client_request_error (c, "registration_closed",
      "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  /* The connection stays usable. */
  natter_test_client_sync_ping (c);
}

static void
test_login (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) a = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) b = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) t = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) x = natter_test_client_new (srv);
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) treply = NULL;
  const char *token_a = natter_test_client_get_token (a);
  g_autofree char *tq = natter_test_json_quote (token_a);

  /* Password login, username case-insensitive: a new token. */
  reply = natter_test_client_request_ok (b, "{\"type\":\"login\",\"username\":\"ALICE\","
                                            "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  natter_assert_str (reply, "user.username", "alice");
  util_assert_user_object (natter_test_get_object (reply, "user"));
  g_assert_true (is_base64url_token (natter_test_get_str (reply, "token")));
  g_assert_cmpstr (natter_test_get_str (reply, "token"), !=, token_a);
  g_assert_cmpint (natter_test_get_int (reply, "expires"), >, util_now_ms ());

  /* Token login: the same token comes back. */
  treply = natter_test_client_request_ok (t, "{\"type\":\"login\",\"token\":%s}", tq);
  natter_assert_str (treply, "user.username", "alice");
  natter_assert_str (treply, "token", token_a);
  g_assert_cmpint (natter_test_get_int (treply, "expires"), >, util_now_ms ());

  /* Failures all look the same. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (x, "auth_failed",
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"wrong password\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (x, "auth_failed",
        "{\"type\":\"login\",\"username\":\"nobody\",\"password\":\"wrong password\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (x, "auth_failed",
        "{\"type\":\"login\",\"token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (x, "auth_failed",
        "{\"type\":\"login\",\"token\":\"not-even-a-token\"}");
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (x, "invalid_argument",
        "{\"type\":\"login\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) e6 = natter_test_client_request_error (x, "invalid_argument",
        "{\"type\":\"login\"}");
    g_autoptr(JsonObject) e7 = natter_test_client_request_error (x, "invalid_argument",
        "{\"type\":\"login\",\"token\":12}");

    g_assert_cmpstr (natter_test_get_str (e1, "message"), ==, natter_test_get_str (e2, "message"));
    g_assert_null (strstr (natter_test_get_str (e1, "message"), "wrong password"));
  }

  /* And the failed connection can still log in. */
  natter_test_client_login (x, "alice", NULL);
}

/* Every request type but register, login and ping needs a login. */
static const char *const authed_requests[] = {
  "{\"type\":\"logout\"}",
  "{\"type\":\"set_presence\",\"presence\":\"away\"}",
  "{\"type\":\"contacts\"}",
  "{\"type\":\"contact_request\",\"username\":\"bob\"}",
  "{\"type\":\"contact_accept\",\"username\":\"bob\"}",
  "{\"type\":\"contact_decline\",\"username\":\"bob\"}",
  "{\"type\":\"contact_remove\",\"username\":\"bob\"}",
  "{\"type\":\"user_search\",\"query\":\"bo\"}",
  "{\"type\":\"user_info\",\"username\":\"bob\"}",
  "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"hi\",\"client_msg_id\":\"c1\"}",
  "{\"type\":\"history\",\"conversation\":\"@bob\"}",
  "{\"type\":\"sync\",\"since\":0}",
  "{\"type\":\"conversations\"}",
  "{\"type\":\"search\",\"query\":\"hi\"}",
  "{\"type\":\"typing\",\"to\":\"@bob\",\"state\":\"active\"}",
  "{\"type\":\"read\",\"conversation\":\"@bob\",\"up_to\":1}",
  "{\"type\":\"room_create\",\"room\":\"#general\"}",
  "{\"type\":\"room_members\",\"room\":\"#general\"}",
  "{\"type\":\"room_join\",\"room\":\"#general\"}",
  "{\"type\":\"room_leave\",\"room\":\"#general\"}",
  "{\"type\":\"rooms\"}",
  "{\"type\":\"room_directory\",\"query\":\"gen\"}",
  "{\"type\":\"room_topic\",\"room\":\"#general\",\"topic\":\"t\"}",
};

static void
test_not_authenticated (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  for (guint i = 0; i < G_N_ELEMENTS (authed_requests); i++)
    {
      g_autoptr(JsonObject) reply = NULL;

      natter_test_note ("%s", authed_requests[i]);
      reply = natter_test_client_request_error (c, "not_authenticated", "%s", authed_requests[i]);
    }

  /* Without an id the error still comes, with "re":null. */
  natter_test_client_send (c, "{\"type\":\"contacts\"}");
  {
    g_autoptr(JsonObject) e = natter_test_client_next (c);

    natter_assert_error (e, "not_authenticated");
    g_assert_true (natter_test_is_null (e, "re"));
  }

  /* An unknown type is unknown_type even before login. */
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (c, "unknown_type",
                                                                "{\"type\":\"frobnicate\"}");
  }

  /* Nothing was sent to bob by the refused requests. */
  natter_test_client_expect_no_frame (bob);
}

static void
test_already_authenticated (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new_user (srv, "alice");
  g_autoptr(JsonObject) e1 = NULL;
  g_autoptr(JsonObject) e2 = NULL;
  g_autoptr(JsonObject) e3 = NULL;
  g_autoptr(JsonObject) e4 = NULL;
  g_autofree char *tq = natter_test_json_quote (natter_test_client_get_token (c));

  e1 = natter_test_client_request_error (c, "already_authenticated",
      "{\"type\":\"register\",\"username\":\"other\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  e2 = natter_test_client_request_error (c, "already_authenticated",
      "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  e3 = natter_test_client_request_error (c, "already_authenticated",
      "{\"type\":\"login\",\"token\":%s}", tq);
  e4 = natter_test_client_request_error (c, "unknown_type", "{\"type\":\"frobnicate\"}");

  /* The refused register did not create the account. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_error (c, "not_found",
        "{\"type\":\"user_info\",\"username\":\"other\"}");
  }
}

static void
test_ping (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) p1 = NULL;
  g_autoptr(JsonObject) p2 = NULL;
  g_autoptr(JsonObject) p3 = NULL;

  /* Integer id, string id, no id. */
  natter_test_client_send (c, "{\"type\":\"ping\",\"id\":7}");
  p1 = natter_test_client_next (c);
  natter_assert_type (p1, "pong");
  natter_assert_int (p1, "re", 7);

  natter_test_client_send (c, "{\"type\":\"ping\",\"id\":\"abc\"}");
  p2 = natter_test_client_next (c);
  natter_assert_type (p2, "pong");
  natter_assert_str (p2, "re", "abc");

  natter_test_client_send (c, "{\"type\":\"ping\"}");
  p3 = natter_test_client_next (c);
  natter_assert_type (p3, "pong");
  if (json_object_has_member (p3, "re"))
    g_assert_true (natter_test_is_null (p3, "re"));

  /* A pong from the client needs no answer. */
  natter_test_client_send (c, "{\"type\":\"pong\"}");
  natter_test_client_expect_no_frame (c);
}

typedef struct {
  const char *id;      /* the JSON text of the id */
  gboolean    valid;
} IdCase;

static void
test_request_ids (void)
{
  static const IdCase cases[] = {
    { "0", TRUE },
    { "-5", TRUE },
    { "9007199254740992", TRUE },     /* 2^53 */
    { "-9007199254740992", TRUE },
    { "\"\"", TRUE },
    { "\"x\"", TRUE },
    { "\"0123456789012345678901234567890123456789012345678901234567890123\"", TRUE }, /* 64 bytes */
    { "\"01234567890123456789012345678901234567890123456789012345678901234\"", FALSE }, /* 65 */
    { "9007199254740993", FALSE },    /* 2^53 + 1 */
    { "1.5", FALSE },
    { "true", FALSE },
    { "{}", FALSE },
    { "[1]", FALSE },
  };
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) reply = NULL;

      natter_test_note ("id %s", cases[i].id);
      natter_test_client_sendf (c, "{\"type\":\"ping\",\"id\":%s}", cases[i].id);
      reply = natter_test_client_next (c);
      if (cases[i].valid)
        {
          g_autofree char *expected = NULL;
          g_autofree char *actual = NULL;
          g_autoptr(JsonNode) re = json_node_copy (natter_test_path (reply, "re"));

          natter_assert_type (reply, "pong");
          /* "re" echoes the id exactly. */
          actual = json_to_string (re, FALSE);
          expected = g_strdup (cases[i].id);
          g_assert_cmpstr (actual, ==, expected);
        }
      else
        {
          /* The project's choice (protocol/natter-fields.h):
           * invalid_argument with "re":null. */
          natter_assert_error (reply, "invalid_argument");
          g_assert_true (natter_test_is_null (reply, "re"));
        }
    }
  /* Still usable. */
  natter_test_client_sync_ping (c);
}

static void
test_no_id_no_reply (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new_user (srv, "alice");

  /* Requests that succeed without an id get no reply at all. */
  natter_test_client_send (c, "{\"type\":\"set_presence\",\"presence\":\"busy\"}");
  natter_test_client_send (c, "{\"type\":\"contacts\"}");
  natter_test_client_send (c, "{\"type\":\"room_create\",\"room\":\"#quiet\"}");
  natter_test_client_expect_no_frame_of_type (c, "ok");
  /* They were handled all the same. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"rooms\"}");
    JsonArray *rooms = natter_test_get_array (r, "rooms");

    g_assert_cmpuint (json_array_get_length (rooms), ==, 1);
    natter_assert_str (json_array_get_object_element (rooms, 0), "room", "#quiet");
  }
  natter_test_client_clear_queue (c);

  /* A failing one gets an error with "re":null. */
  natter_test_client_send (c, "{\"type\":\"room_create\",\"room\":\"#quiet\"}");
  {
    g_autoptr(JsonObject) e = natter_test_client_wait_type (c, "error");

    natter_assert_error (e, "conflict");
    g_assert_true (natter_test_is_null (e, "re"));
  }
}

static void
test_pipelined_order (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  GString *batch = g_string_new (NULL);

  /* A login (slow: argon2id off the main loop) between pings and other
   * requests: every reply in request order. */
  g_string_append (batch, "{\"type\":\"ping\",\"id\":1}\n");
  g_string_append (batch, "{\"type\":\"register\",\"id\":2,\"username\":\"alice\",\"password\":\""
                   NATTER_TEST_PASSWORD "\"}\n");
  g_string_append (batch, "{\"type\":\"ping\",\"id\":3}\n");
  g_string_append (batch, "{\"type\":\"contacts\",\"id\":4}\n");
  g_string_append (batch, "{\"type\":\"register\",\"id\":5,\"username\":\"alice2\",\"password\":\""
                   NATTER_TEST_PASSWORD "\"}\n");
  g_string_append (batch, "{\"type\":\"logout\",\"id\":6}\n");
  g_string_append (batch, "{\"type\":\"contacts\",\"id\":7}\n");
  g_string_append (batch, "{\"type\":\"login\",\"id\":8,\"username\":\"alice\",\"password\":\"wrong password\"}\n");
  g_string_append (batch, "{\"type\":\"login\",\"id\":9,\"username\":\"alice\",\"password\":\""
                   NATTER_TEST_PASSWORD "\"}\n");
  g_string_append (batch, "{\"type\":\"rooms\",\"id\":10}\n");
  natter_test_client_send_raw (c, batch->str, batch->len);
  g_string_free (batch, TRUE);

  {
    static const char *const expected[] = {
      "pong", "ok", "pong", "ok", "already_authenticated", "ok", "not_authenticated",
      "auth_failed", "ok", "ok",
    };

    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      {
        g_autoptr(JsonObject) r = natter_test_client_next (c);
        const char *type = natter_test_get_str (r, "type");

        /* Presence events are not expected here (alice has no contacts). */
        natter_assert_int (r, "re", i + 1);
        if (g_str_equal (type, "error"))
          natter_assert_error (r, expected[i]);
        else
          natter_assert_type (r, expected[i]);
      }
  }
}

static void
test_logout (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c1 = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) c2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) c3 = natter_test_client_new (srv);
  g_autofree char *token = g_strdup (natter_test_client_get_token (c1));
  g_autofree char *tq = natter_test_json_quote (token);

  /* c3 is a second connection on c1's token; c2 has its own token. */
  natter_test_client_login_token (c3, token);

  natter_test_client_logout (c1);

  /* c1 stays open but is no longer logged in. */
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (c1, "not_authenticated",
                                                                "{\"type\":\"contacts\"}");
  }
  /* c3 used the same token: closed. */
  natter_test_client_assert_closed (c3);
  /* c2 is untouched. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (c2, "{\"type\":\"contacts\"}");
  }
  natter_test_client_clear_queue (c2);

  /* The revoked token no longer logs in... */
  {
    g_autoptr(NatterTestClient) c4 = natter_test_client_new (srv);
    g_autoptr(JsonObject) e = natter_test_client_request_error (c4, "auth_failed",
                                                                "{\"type\":\"login\",\"token\":%s}", tq);
  }
  /* ...but the password does, on the logged-out connection too. */
  natter_test_client_login (c1, "alice", NULL);
  g_assert_cmpstr (natter_test_client_get_token (c1), !=, token);
}

static void
test_logout_keeps_connection (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nlogin_timeout=2\n", NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new_user (srv, "alice");

  /* Logged in for longer than the login timeout: not closed. */
  g_assert_false (natter_test_client_wait_closed (c, 3000));
  natter_test_client_logout (c);
  /* "logout leaves the connection unauthenticated": it stays, and may log
   * in again (the login timeout starts again at most; 1 s is well inside
   * it). */
  if (natter_test_client_wait_closed (c, 1000))
    g_error ("the server closed a connection 1 s after its logout");
  natter_test_client_login (c, "alice", NULL);
}

static void
test_two_devices (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) a1 = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) a2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) b = natter_test_client_new_user (srv, "bob");
  g_autoptr(JsonObject) ev_a2 = NULL;
  g_autoptr(JsonObject) ev_b = NULL;
  gint64 id;

  natter_test_client_clear_queue (a1);
  natter_test_client_clear_queue (a2);

  /* A message sent from one device reaches the other device and bob, each
   * with the conversation as that receiver sees it. */
  id = util_send (a1, "@bob", "from device one", "d1");
  ev_a2 = natter_test_client_wait_type (a2, "message");
  natter_assert_int (ev_a2, "message.id", id);
  natter_assert_str (ev_a2, "message.conversation", "@bob");
  natter_assert_str (ev_a2, "message.from", "alice");
  ev_b = natter_test_client_wait_type (b, "message");
  natter_assert_int (ev_b, "message.id", id);
  natter_assert_str (ev_b, "message.conversation", "@alice");
  /* The sender's own connection got the ok, not an event too. */
  natter_test_client_expect_no_frame_of_type (a1, "message");

  /* A reply from bob reaches both devices. */
  {
    gint64 id2 = util_send (b, "@alice", "to both", "b1");
    g_autoptr(JsonObject) e1 = natter_test_client_wait_type (a1, "message");
    g_autoptr(JsonObject) e2 = natter_test_client_wait_type (a2, "message");

    natter_assert_int (e1, "message.id", id2);
    natter_assert_int (e2, "message.id", id2);
    natter_assert_str (e1, "message.conversation", "@bob");
  }
}

static gboolean
contains_bytes (const char *haystack,
                gsize       len,
                const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (haystack + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
test_logs_hold_no_secrets (void)
{
  g_autofree char *log_path = g_build_filename (g_get_tmp_dir (), "natterd.log", NULL);
  g_autoptr(NatterTestServer) srv = natter_test_server_start_logged (NULL, log_path);
  const char *password = "Secr3t-pass-phrase-xyz";
  const char *wrong = "wrong-guess-p4ss-77";
  const char *body = "body-that-must-not-be-logged-42";
  g_autofree char *token = NULL;
  g_autofree char *log = NULL;
  gsize len = 0;

  {
    g_autoptr(NatterTestClient) a = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) b = natter_test_client_new_user (srv, "bob");
    g_autoptr(NatterTestClient) x = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) t = natter_test_client_new (srv);
    g_autofree char *bq = natter_test_json_quote (body);
    g_autofree char *wq = natter_test_json_quote (wrong);

    token = g_strdup (natter_test_client_register (a, "alice", password));
    util_send (a, "@bob", body, "s1");
    {
      g_autoptr(JsonObject) e1 = natter_test_client_request_error (x, "auth_failed",
          "{\"type\":\"login\",\"username\":\"alice\",\"password\":%s}", wq);
      g_autoptr(JsonObject) e2 = natter_test_client_request_error (x, "auth_failed",
          "{\"type\":\"login\",\"token\":%s}", wq);
      g_autoptr(JsonObject) e3 = natter_test_client_request_error (b, "invalid_argument",
          "{\"type\":\"send\",\"to\":\"@alice\",\"body\":%s}", bq);
      g_autoptr(JsonObject) s1 = natter_test_client_request_ok (b,
          "{\"type\":\"search\",\"query\":%s}", bq);
    }
    natter_test_client_login_token (t, token);
    natter_test_client_logout (t);
    /* A bad frame holding the password, too. */
    natter_test_client_sendf (x, "{\"type\":\"login\",\"password\":\"%s\",}", password);
    {
      g_autoptr(JsonObject) e = natter_test_client_next (x);

      natter_assert_error (e, "bad_frame");
      g_assert_null (strstr (natter_test_get_str (e, "message"), password));
    }
  }
  natter_test_server_stop (srv);

  g_assert_true (g_file_get_contents (log_path, &log, &len, NULL));
  natter_test_note ("natterd wrote %" G_GSIZE_FORMAT " bytes of log", len);
  g_assert_cmpuint (len, >, 0);
  g_assert_false (contains_bytes (log, len, password));
  g_assert_false (contains_bytes (log, len, wrong));
  g_assert_false (contains_bytes (log, len, body));
  g_assert_false (contains_bytes (log, len, token));
}

static void
test_password_stored_hashed (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  const char *secret = "very secret p4ssword";
  g_autofree char *token = NULL;

  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

    token = g_strdup (natter_test_client_register (c, "alice", secret));
  }
  natter_test_server_stop (srv);

  /* Neither the password nor the token appears in any file of the data
   * dir. */
  {
    g_autoptr(GDir) dir = g_dir_open (natter_test_server_get_data_dir (srv), 0, NULL);
    const char *name;

    g_assert_nonnull (dir);
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (natter_test_server_get_data_dir (srv), name, NULL);
        g_autofree char *contents = NULL;
        gsize len = 0;

        if (!g_file_get_contents (path, &contents, &len, NULL))
          continue;
        g_assert_false (contains_bytes (contents, len, secret));
        g_assert_false (contains_bytes (contents, len, token));
      }
  }

  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

    /* Both survive a restart. */
    natter_test_client_login (c, "alice", secret);
  }
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

    natter_test_client_login_token (c, token);
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/session/welcome", test_welcome);
  natter_test_add ("/session/register", test_register);
  natter_test_add ("/session/register-errors", test_register_errors);
  natter_test_add ("/session/register-race", test_register_race);
  natter_test_add ("/session/registration-closed", test_registration_closed);
  natter_test_add ("/session/login", test_login);
  natter_test_add ("/session/not-authenticated", test_not_authenticated);
  natter_test_add ("/session/already-authenticated", test_already_authenticated);
  natter_test_add ("/session/ping", test_ping);
  natter_test_add ("/session/request-ids", test_request_ids);
  natter_test_add ("/session/no-id-no-reply", test_no_id_no_reply);
  natter_test_add ("/session/pipelined-order", test_pipelined_order);
  natter_test_add ("/session/logout", test_logout);
  natter_test_add ("/session/logout-keeps-connection", test_logout_keeps_connection);
  natter_test_add ("/session/two-devices", test_two_devices);
  natter_test_add ("/session/password-stored-hashed", test_password_stored_hashed);
  natter_test_add ("/session/logs-hold-no-secrets", test_logs_hold_no_secrets);

  return g_test_run ();
}
