/* test-accounts.c: the feature accounts (docs/protocol.md, "Accounts"):
 * changing one's password, one's sessions (devices) and signing one out,
 * and what a protocol-1 connection and a server of several nodes see of
 * it.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

#define FEATURES "\"features\":[\"accounts\"]"
#define NOT_ON_A_CLUSTER "a server of several nodes does not offer accounts yet"
#define NEW_PASSWORD "a new and better one"

static NatterTestClient *
acc_user (NatterTestServer *srv,
          const char       *username)
{
  return util_feature_user (srv, username, "accounts");
}

static NatterTestClient *
acc_login (NatterTestServer *srv,
           const char       *username)
{
  return util_feature_login (srv, username, "accounts");
}

static void
fails (NatterTestClient *c,
       const char       *code,
       const char       *json)
{
  g_autoptr(JsonObject) r = natter_test_client_request (c, json);

  natter_assert_error (r, code);
}

/* A login of @username with @password on a new connection: its reply. */
static JsonObject *
try_login (NatterTestServer *srv,
           const char       *username,
           const char       *password)
{
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  return natter_test_client_requestf (c, "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\"}",
                                      username, password);
}

static void
assert_login (NatterTestServer *srv,
              const char       *username,
              const char       *password,
              const char       *code)
{
  g_autoptr(JsonObject) r = try_login (srv, username, password);

  if (code == NULL)
    natter_assert_ok (r);
  else
    natter_assert_error (r, code);
}

/* A new connection that logs in with @token: its reply. */
static JsonObject *
try_token (NatterTestServer *srv,
           const char       *token)
{
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  return natter_test_client_requestf (c, "{\"type\":\"login\",\"token\":\"%s\"}", token);
}

/* A new connection of @username (a device) with the feature, logged in
 * with the password; its token in *@out_token. */
static NatterTestClient *
acc_device (NatterTestServer *srv,
            const char       *username,
            char            **out_token)
{
  NatterTestClient *c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\"," FEATURES "}",
      username, NATTER_TEST_PASSWORD);

  util_assert_strings (natter_test_get_array (r, "features"), "accounts", NULL);
  *out_token = g_strdup (natter_test_get_str (r, "token"));
  return c;
}

/* A login of @username with the feature and a device name, from
 * @local_ip (NULL: the default); its token in *@out_token. */
static NatterTestClient *
named_device (NatterTestServer *srv,
              const char       *username,
              const char       *device,
              const char       *local_ip,
              char            **out_token)
{
  NatterTestClient *c = local_ip != NULL ? natter_test_client_new_from (srv, local_ip) : natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\",\"device\":\"%s\"," FEATURES "}",
      username, NATTER_TEST_PASSWORD, device);

  *out_token = g_strdup (natter_test_get_str (r, "token"));
  return c;
}

/* The session id of @token: the first 8 bytes of its SHA-256, in hex. */
static char *
session_of (const char *token)
{
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);

  return g_strndup (sha, 16);
}

/* The session object for @token in @c's sessions, or NULL; *@out_n the
 * number of sessions. */
static JsonObject *
find_session (NatterTestClient *c,
              const char       *token,
              guint            *out_n)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"sessions\"}");
  JsonArray *sessions = natter_test_get_array (r, "sessions");
  g_autofree char *id = session_of (token);

  *out_n = json_array_get_length (sessions);
  for (guint i = 0; i < json_array_get_length (sessions); i++)
    {
      JsonObject *s = json_array_get_object_element (sessions, i);

      if (g_str_equal (natter_test_get_str (s, "session"), id))
        return json_object_ref (s);
    }
  return NULL;
}

static void
test_features (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) plain = natter_test_client_new_user (srv, "alice");
  static const char *const requests[] = {
    "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\"" NEW_PASSWORD "\"}",
    "{\"type\":\"sessions\"}",
    "{\"type\":\"session_revoke\",\"session\":\"0123456789abcdef\"}",
    "{\"type\":\"profile_update\",\"display_name\":\"Al\"}",
  };

  util_assert_strings (natter_test_get_array (natter_test_client_get_welcome (plain), "features"),
                       "message_actions", "room_management", "accounts", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    fails (plain, "unknown_type", requests[i]);
  /* Nothing changed. */
  assert_login (srv, "alice", NATTER_TEST_PASSWORD, NULL);
}

static void
test_password_change_arguments (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autofree char *long_password = util_repeat ('x', 1025);
  g_autofree char *too_long = NULL;

  fails (alice, "invalid_argument", "{\"type\":\"password_change\",\"new_password\":\"" NEW_PASSWORD "\"}");
  fails (alice, "invalid_argument", "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\"}");
  fails (alice, "invalid_argument",
         "{\"type\":\"password_change\",\"old_password\":1,\"new_password\":\"" NEW_PASSWORD "\"}");
  fails (alice, "invalid_argument",
         "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":null}");
  fails (alice, "invalid_argument",
         "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\""
         NEW_PASSWORD "\",\"keep_sessions\":\"yes\"}");
  fails (alice, "weak_password",
         "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\"short\"}");
  too_long = g_strdup_printf ("{\"type\":\"password_change\",\"old_password\":\"%s\",\"new_password\":\"%s\"}",
                              NATTER_TEST_PASSWORD, long_password);
  fails (alice, "weak_password", too_long);
  /* The new password's rule comes before the old one is checked. */
  fails (alice, "weak_password",
         "{\"type\":\"password_change\",\"old_password\":\"wrong wrong wrong\",\"new_password\":\"short\"}");
  fails (alice, "auth_failed",
         "{\"type\":\"password_change\",\"old_password\":\"wrong wrong wrong\",\"new_password\":\"" NEW_PASSWORD "\"}");
  /* None of these changed it. */
  assert_login (srv, "alice", NATTER_TEST_PASSWORD, NULL);
  assert_login (srv, "alice", NEW_PASSWORD, "auth_failed");
}

static void
test_password_change (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) registered = acc_user (srv, "alice");
  g_autofree char *token = NULL, *laptop_token = NULL;
  g_autoptr(NatterTestClient) alice = acc_device (srv, "alice", &token);
  g_autoptr(NatterTestClient) laptop = acc_device (srv, "alice", &laptop_token);
  g_autoptr(NatterTestClient) same_token = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) bob = acc_user (srv, "bob");
  g_autoptr(JsonObject) r = NULL;

  /* Another connection of this device: it keeps its session too. */
  natter_test_client_login_token (same_token, token);

  r = natter_test_client_request_ok (alice,
      "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\""
      NEW_PASSWORD "\"}");
  /* The registration's token and the laptop's. */
  natter_assert_int (r, "sessions_revoked", 2);

  /* The other devices are signed out at once; this one stays. */
  natter_test_client_assert_closed (laptop);
  natter_test_client_assert_closed (registered);
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) info2 = natter_test_client_request_ok (same_token,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) info3 = natter_test_client_request_ok (bob,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
  }
  {
    g_autoptr(JsonObject) t = try_token (srv, laptop_token);

    natter_assert_error (t, "auth_failed");
  }
  {
    g_autoptr(JsonObject) t = try_token (srv, token);

    natter_assert_ok (t);
  }
  assert_login (srv, "alice", NATTER_TEST_PASSWORD, "auth_failed");
  assert_login (srv, "alice", NEW_PASSWORD, NULL);
  /* The old password no longer changes it either. */
  fails (alice, "auth_failed",
         "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\""
         NEW_PASSWORD "\"}");
}

static void
test_password_keep_sessions (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) laptop = acc_login (srv, "alice");
  g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
      "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\""
      NEW_PASSWORD "\",\"keep_sessions\":true}");

  natter_assert_int (r, "sessions_revoked", 0);
  natter_test_client_sync_ping (laptop);
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (laptop,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
  }
  assert_login (srv, "alice", NATTER_TEST_PASSWORD, "auth_failed");
  assert_login (srv, "alice", NEW_PASSWORD, NULL);
}

/* A wrong old password counts as a failed login, and the limit is
 * checked before any hashing. */
static void
test_password_rate_limit (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nfailed_logins_per_minute_per_user=2\n", NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(JsonObject) limited = NULL;
  static const char wrong[] =
    "{\"type\":\"password_change\",\"old_password\":\"wrong wrong wrong\",\"new_password\":\"" NEW_PASSWORD "\"}";

  fails (alice, "auth_failed", wrong);
  fails (alice, "auth_failed", wrong);
  /* Even the right one, now. */
  limited = natter_test_client_request (alice,
      "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\""
      NEW_PASSWORD "\"}");
  natter_assert_error (limited, "rate_limited");
  g_assert_cmpint (natter_test_get_int (limited, "retry_after"), >, 0);
  /* And a login, as after two failed logins. */
  assert_login (srv, "alice", NATTER_TEST_PASSWORD, "rate_limited");
}

/* The new password is durable: it is the one after a restart. */
static void
test_password_restart (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);

  {
    g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\""
        NEW_PASSWORD "\"}");
  }
  natter_test_server_restart (srv);
  assert_login (srv, "alice", NATTER_TEST_PASSWORD, "auth_failed");
  assert_login (srv, "alice", NEW_PASSWORD, NULL);
  /* A session's device and address are stored with it. */
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
    g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"" NEW_PASSWORD "\",\"device\":\"Kept\"," FEATURES "}");
    g_autofree char *token = g_strdup (natter_test_get_str (r, "token"));
    g_autoptr(JsonObject) s = NULL;
    guint n;

    natter_test_server_restart (srv);
    {
      g_autoptr(NatterTestClient) d = natter_test_client_new (srv);
      g_autoptr(JsonObject) l = natter_test_client_request_ok (d,
          "{\"type\":\"login\",\"token\":\"%s\"," FEATURES "}", token);

      s = find_session (d, token, &n);
      natter_assert_str (s, "device", "Kept");
      natter_assert_str (s, "address", "127.0.0.1");
    }
  }
}

static void
test_sessions (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) registered = natter_test_client_new (srv);
  g_autofree char *phone_token = NULL, *laptop_token = NULL;
  g_autoptr(NatterTestClient) phone = NULL, laptop = NULL, plain = NULL;
  g_autoptr(JsonObject) reg = NULL, p = NULL, l = NULL, o = NULL, rr = NULL;
  gint64 before = util_now_ms ();
  guint n;

  /* A registration gives a device name too. */
  reg = natter_test_client_request_ok (registered,
      "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\",\"device\":\"Desk\"," FEATURES "}",
      NATTER_TEST_PASSWORD);
  phone = named_device (srv, "alice", "Alice's phone", NULL, &phone_token);
  laptop = named_device (srv, "alice", "Laptop \xf0\x9f\x92\xbb", "127.0.0.2", &laptop_token);
  /* Without the feature "device" is an unknown field, whatever it is. */
  plain = natter_test_client_new (srv);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (plain,
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\",\"device\":5}", NATTER_TEST_PASSWORD);

    o = find_session (phone, natter_test_get_str (r, "token"), &n);
    rr = find_session (phone, natter_test_get_str (reg, "token"), &n);
  }
  g_assert_cmpuint (n, ==, 4);
  g_assert_nonnull (o);
  g_assert_true (natter_test_is_null (o, "device"));
  g_assert_false (natter_test_get_bool (o, "current"));
  natter_assert_str (rr, "device", "Desk");

  p = find_session (phone, phone_token, &n);
  l = find_session (phone, laptop_token, &n);
  natter_assert_str (p, "device", "Alice's phone");
  natter_assert_str (p, "address", "127.0.0.1");
  g_assert_true (natter_test_get_bool (p, "current"));
  natter_assert_int (p, "connections", 1);
  g_assert_cmpint (natter_test_get_int (p, "created"), >=, before);
  g_assert_cmpint (natter_test_get_int (p, "created"), <=, util_now_ms ());
  g_assert_cmpint (natter_test_get_int (p, "last_active"), >=, natter_test_get_int (p, "created"));
  natter_assert_str (l, "device", "Laptop \xf0\x9f\x92\xbb");
  natter_assert_str (l, "address", "127.0.0.2");
  g_assert_false (natter_test_get_bool (l, "current"));
  natter_assert_int (l, "connections", 1);
  /* Another connection sees its own as current. */
  {
    g_autoptr(JsonObject) mine = NULL;

    mine = find_session (laptop, laptop_token, &n);
    g_assert_true (natter_test_get_bool (mine, "current"));
  }

  /* A session with no connection left: not connected, and last active
   * no later than now. */
  g_clear_pointer (&registered, natter_test_client_free);
  natter_test_client_sync_ping (phone);
  {
    g_autoptr(JsonObject) gone = NULL;

    gint64 deadline = g_get_monotonic_time () + (gint64) natter_test_deadline_ms () * 1000;

    /* The close reaches natterd at some point: ask until it has. */
    while (TRUE)
      {
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        g_clear_pointer (&gone, json_object_unref);
        gone = find_session (phone, natter_test_get_str (reg, "token"), &n);
        if (natter_test_get_int (gone, "connections") == 0)
          break;
        natter_test_client_sync_ping (phone);
      }
    g_assert_cmpint (natter_test_get_int (gone, "last_active"), <=, util_now_ms ());
  }

  /* Signing the laptop out closes it; its token is refused after. */
  {
    g_autofree char *id = session_of (laptop_token);
    g_autoptr(JsonObject) r = natter_test_client_request_ok (phone,
        "{\"type\":\"session_revoke\",\"session\":\"%s\"}", id);
    g_autoptr(JsonObject) again = natter_test_client_request_error (phone, "not_found",
        "{\"type\":\"session_revoke\",\"session\":\"%s\"}", id);
    g_autoptr(JsonObject) t = try_token (srv, laptop_token);
    g_autoptr(JsonObject) gone = NULL;

    natter_test_client_assert_closed (laptop);
    natter_assert_error (t, "auth_failed");
    gone = find_session (phone, laptop_token, &n);
    g_assert_null (gone);
    g_assert_cmpuint (n, ==, 3);
  }
  /* Upper case is the same id. */
  {
    g_autofree char *id = session_of (natter_test_get_str (reg, "token"));
    g_autofree char *upper = g_ascii_strup (id, -1);
    g_autoptr(JsonObject) r = natter_test_client_request_ok (phone,
        "{\"type\":\"session_revoke\",\"session\":\"%s\"}", upper);
  }
  natter_test_client_sync_ping (plain);
}

static void
test_session_revoke_errors (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autofree char *token = NULL, *bob_token = NULL;
  g_autoptr(NatterTestClient) registered = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) registered_bob = acc_user (srv, "bob");
  g_autoptr(NatterTestClient) alice = acc_device (srv, "alice", &token);
  g_autoptr(NatterTestClient) bob = acc_device (srv, "bob", &bob_token);
  g_autofree char *mine = session_of (token);
  g_autofree char *bobs = session_of (bob_token);
  g_autofree char *bad = NULL;

  fails (alice, "invalid_argument", "{\"type\":\"session_revoke\"}");
  fails (alice, "invalid_argument", "{\"type\":\"session_revoke\",\"session\":null}");
  fails (alice, "invalid_argument", "{\"type\":\"session_revoke\",\"session\":12}");
  fails (alice, "invalid_argument", "{\"type\":\"session_revoke\",\"session\":\"0123456789abcde\"}");
  fails (alice, "invalid_argument", "{\"type\":\"session_revoke\",\"session\":\"0123456789abcdef0\"}");
  fails (alice, "invalid_argument", "{\"type\":\"session_revoke\",\"session\":\"0123456789abcdeg\"}");
  /* This connection's own: log out instead. */
  bad = g_strdup_printf ("{\"type\":\"session_revoke\",\"session\":\"%s\"}", mine);
  fails (alice, "invalid_argument", bad);
  /* Another user's session is no session of mine. */
  g_free (bad);
  bad = g_strdup_printf ("{\"type\":\"session_revoke\",\"session\":\"%s\"}", bobs);
  fails (alice, "not_found", bad);
  fails (alice, "not_found", "{\"type\":\"session_revoke\",\"session\":\"0000000000000000\"}");
  natter_test_client_sync_ping (bob);
  {
    g_autoptr(JsonObject) t = try_token (srv, bob_token);

    natter_assert_ok (t);
  }
}

/* "device" at login and registration, with the feature. */
static void
test_device_argument (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) registered = acc_user (srv, "alice");
  g_autofree char *long_name = util_repeat ('d', 65);
  g_autofree char *just_right = util_repeat ('d', 64);
  static const char *const bad[] = { "\"\"", "\"   \"", "\"tab\\there\"", "5", "true", "[]" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
      g_autoptr(JsonObject) r = natter_test_client_requestf (c,
          "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\",\"device\":%s," FEATURES "}",
          NATTER_TEST_PASSWORD, bad[i]);
      g_autoptr(JsonObject) t = natter_test_client_requestf (c,
          "{\"type\":\"register\",\"username\":\"someone\",\"password\":\"%s\",\"device\":%s," FEATURES "}",
          NATTER_TEST_PASSWORD, bad[i]);

      natter_assert_error (r, "invalid_argument");
      natter_assert_error (t, "invalid_argument");
    }
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
    g_autoptr(JsonObject) r = natter_test_client_requestf (c,
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\",\"device\":\"%s\"," FEATURES "}",
        NATTER_TEST_PASSWORD, long_name);

    natter_assert_error (r, "invalid_argument");
  }
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
    g_autoptr(JsonObject) r = natter_test_client_requestf (c,
        "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\",\"device\":\"%s\"," FEATURES "}",
        NATTER_TEST_PASSWORD, just_right);

    natter_assert_ok (r);
  }
  /* With a token too: checked, and the session keeps its name. */
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
    g_autofree char *token = NULL;
    g_autoptr(NatterTestClient) d = named_device (srv, "alice", "First", NULL, &token);
    g_autoptr(JsonObject) bad_token = natter_test_client_requestf (c,
        "{\"type\":\"login\",\"token\":\"%s\",\"device\":\"\"," FEATURES "}", token);
    g_autoptr(JsonObject) r = NULL, s = NULL;
    guint n;

    natter_assert_error (bad_token, "invalid_argument");
    r = natter_test_client_requestf (c, "{\"type\":\"login\",\"token\":\"%s\",\"device\":\"Second\"," FEATURES "}",
                                     token);
    natter_assert_ok (r);
    s = find_session (c, token, &n);
    natter_assert_str (s, "device", "First");
    natter_assert_int (s, "connections", 2);
  }
}

/* A presence event about @username with @display_name arrives on @c. */
static void
assert_renamed (NatterTestClient *c,
                const char       *username,
                const char       *display_name)
{
  JsonObject *e = util_wait_presence (c, username);

  natter_assert_str (e, "user.display_name", display_name);
  json_object_unref (e);
}

static void
test_profile (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autofree char *token = NULL;
  g_autoptr(NatterTestClient) alice2 = acc_device (srv, "alice", &token);
  g_autoptr(NatterTestClient) contact = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) member = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) stranger = natter_test_client_new_user (srv, "dave");
  g_autofree char *long_name = util_repeat ('n', 65);
  g_autofree char *too_long = g_strdup_printf ("{\"type\":\"profile_update\",\"display_name\":\"%s\"}", long_name);
  g_autoptr(JsonObject) r = NULL;

  /* (util_make_contacts needs the helpers' own logins.) */
  {
    g_autoptr(JsonObject) asked = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_request\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) accepted = natter_test_client_request_ok (contact,
        "{\"type\":\"contact_accept\",\"username\":\"alice\"}");
  }
  util_room_create (alice, "#club");
  util_room_join (member, "#club");
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  natter_test_client_sync_ping (alice2);
  natter_test_client_clear_queue (alice2);
  natter_test_client_sync_ping (contact);
  natter_test_client_clear_queue (contact);
  natter_test_client_sync_ping (member);
  natter_test_client_clear_queue (member);

  fails (alice, "invalid_argument", "{\"type\":\"profile_update\"}");
  fails (alice, "invalid_argument", "{\"type\":\"profile_update\",\"display_name\":null}");
  fails (alice, "invalid_argument", "{\"type\":\"profile_update\",\"display_name\":7}");
  fails (alice, "invalid_argument", "{\"type\":\"profile_update\",\"display_name\":\"\"}");
  fails (alice, "invalid_argument", "{\"type\":\"profile_update\",\"display_name\":\"  \"}");
  fails (alice, "invalid_argument", "{\"type\":\"profile_update\",\"display_name\":\"a\\u0007b\"}");
  fails (alice, "invalid_argument", too_long);

  r = natter_test_client_request_ok (alice, "{\"type\":\"profile_update\",\"display_name\":\"Alice Liddell\"}");
  natter_assert_str (r, "user.username", "alice");
  natter_assert_str (r, "user.display_name", "Alice Liddell");
  util_assert_user_object (natter_test_get_object (r, "user"));
  /* Told where presence goes; the asking connection has its reply. */
  assert_renamed (alice2, "alice", "Alice Liddell");
  assert_renamed (contact, "alice", "Alice Liddell");
  assert_renamed (member, "alice", "Alice Liddell");
  natter_test_client_expect_no_frame_of_type (alice, "presence");
  natter_test_client_expect_no_frame_of_type (stranger, "presence");
  /* Everyone reads the new name; a search finds it. */
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (stranger,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) found = natter_test_client_request_ok (stranger,
        "{\"type\":\"user_search\",\"query\":\"alice li\"}");

    natter_assert_str (info, "user.display_name", "Alice Liddell");
    util_assert_usernames (natter_test_get_array (found, "users"), "alice", NULL);
  }
  /* The same name again: ok, and nobody is told. */
  {
    g_autoptr(JsonObject) same = natter_test_client_request_ok (alice,
        "{\"type\":\"profile_update\",\"display_name\":\"Alice Liddell\"}");

    natter_assert_str (same, "user.display_name", "Alice Liddell");
    natter_test_client_expect_no_frame_of_type (contact, "presence");
  }
  /* Kept across a restart, when natterd can restart. */
  if (natter_test_cluster_size () == 1)
    {
      g_autoptr(NatterTestClient) again = NULL;
      g_autoptr(JsonObject) info = NULL;

      g_clear_pointer (&alice, natter_test_client_free);
      g_clear_pointer (&alice2, natter_test_client_free);
      g_clear_pointer (&contact, natter_test_client_free);
      g_clear_pointer (&member, natter_test_client_free);
      g_clear_pointer (&stranger, natter_test_client_free);
      natter_test_server_restart (srv);
      again = natter_test_client_new_login (srv, "dave");
      info = natter_test_client_request_ok (again, "{\"type\":\"user_info\",\"username\":\"alice\"}");
      natter_assert_str (info, "user.display_name", "Alice Liddell");
    }
}

/* The smallest PNG file there is (a 1x1 transparent pixel), and a
 * second one that differs in its last byte of pixel data: natterd never
 * decodes them, so any bytes after the signature would do. */
static const guint8 png_a[] = {
  0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
  0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0 };
static const guint8 png_b[] = {
  0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
  0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 1 };

static char *
avatar_set_frame (const guint8 *data,
                  gsize         len)
{
  g_autofree char *text = g_base64_encode (data, len);

  return g_strdup_printf ("{\"type\":\"avatar_set\",\"data\":\"%s\"}", text);
}

/* A presence event about @username whose avatar is @sha256 (NULL: none). */
static void
assert_avatar_told (NatterTestClient *c,
                    const char       *username,
                    const char       *sha256)
{
  g_autoptr(JsonObject) e = util_wait_presence (c, username);
  JsonObject *user = natter_test_get_object (e, "user");

  util_assert_user_object (user);
  g_assert_cmpstr (json_object_get_string_member_with_default (user, "avatar", "(null)"), ==,
                   sha256 != NULL ? sha256 : "(null)");
}

static void
test_avatar (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) contact = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) stranger = acc_user (srv, "dave");
  g_autofree char *set_a = avatar_set_frame (png_a, sizeof png_a);
  g_autofree char *set_b = avatar_set_frame (png_b, sizeof png_b);
  g_autofree char *sha_a = g_compute_checksum_for_data (G_CHECKSUM_SHA256, png_a, sizeof png_a);
  g_autofree char *sha_b = g_compute_checksum_for_data (G_CHECKSUM_SHA256, png_b, sizeof png_b);
  g_autofree char *text_a = g_base64_encode (png_a, sizeof png_a);
  guint8 big[32769];
  guint8 gif[16] = { 'G', 'I', 'F', '8', '9', 'a' };
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F' };
  static const guint8 webp[] = { 'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'E', 'B', 'P' };

  {
    g_autoptr(JsonObject) asked = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_request\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) accepted = natter_test_client_request_ok (contact,
        "{\"type\":\"contact_accept\",\"username\":\"alice\"}");
  }
  natter_test_client_sync_ping (contact);
  natter_test_client_clear_queue (contact);

  /* None yet: null in every user object; asking is not_found. */
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (stranger,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");

    g_assert_true (json_object_get_null_member (natter_test_get_object (info, "user"), "avatar"));
  }
  fails (stranger, "not_found", "{\"type\":\"avatar\",\"username\":\"alice\"}");
  fails (stranger, "not_found", "{\"type\":\"avatar\",\"username\":\"nobody\"}");
  fails (stranger, "invalid_argument", "{\"type\":\"avatar\"}");

  /* What is refused: no data, not base64, too big, not a picture. */
  memset (big, 0, sizeof big);
  memcpy (big, png_a, sizeof png_a);
  {
    g_autofree char *too_big = avatar_set_frame (big, sizeof big);
    g_autofree char *just_right = avatar_set_frame (big, sizeof big - 1);
    g_autofree char *not_picture = avatar_set_frame (gif, sizeof gif);

    fails (alice, "invalid_argument", "{\"type\":\"avatar_set\"}");
    fails (alice, "invalid_argument", "{\"type\":\"avatar_set\",\"data\":7}");
    fails (alice, "invalid_argument", "{\"type\":\"avatar_set\",\"data\":\"\"}");
    fails (alice, "invalid_argument", "{\"type\":\"avatar_set\",\"data\":\"iVBORw0KGgo\"}");
    fails (alice, "invalid_argument", "{\"type\":\"avatar_set\",\"data\":\"iVBO Rw0KGgo=\"}");
    fails (alice, "invalid_argument", not_picture);
    /* 32769 bytes are one too many (the frame itself is under the limit). */
    fails (alice, "invalid_argument", too_big);
    /* 32768 are not: set, then removed again below. */
    {
      g_autoptr(JsonObject) ok = natter_test_client_request_ok (alice, "%s", just_right);
    }
  }
  /* JPEG and WebP are pictures too. */
  {
    g_autofree char *j = avatar_set_frame (jpeg, sizeof jpeg);
    g_autofree char *w = avatar_set_frame (webp, sizeof webp);
    g_autoptr(JsonObject) r1 = natter_test_client_request_ok (alice, "%s", j);
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (alice, "%s", w);
  }
  natter_test_client_sync_ping (contact);
  natter_test_client_clear_queue (contact);

  /* Set: the reply carries the user with its hash, the contact is told. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "%s", set_a);

    util_assert_user_object (natter_test_get_object (r, "user"));
    natter_assert_str (r, "user.avatar", sha_a);
  }
  assert_avatar_told (contact, "alice", sha_a);
  natter_test_client_expect_no_frame_of_type (stranger, "presence");
  /* Anyone may read it, by the hash every user object carries. */
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (stranger,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) got = natter_test_client_request_ok (stranger,
        "{\"type\":\"avatar\",\"username\":\"ALICE\"}");

    natter_assert_str (info, "user.avatar", sha_a);
    natter_assert_str (got, "username", "alice");
    natter_assert_str (got, "avatar", sha_a);
    natter_assert_str (got, "data", text_a);
  }
  /* The same again tells nobody; another one does. */
  {
    g_autoptr(JsonObject) same = natter_test_client_request_ok (alice, "%s", set_a);

    natter_test_client_expect_no_frame_of_type (contact, "presence");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "%s", set_b);

    natter_assert_str (r, "user.avatar", sha_b);
  }
  assert_avatar_told (contact, "alice", sha_b);

  /* Kept across a restart. */
  if (natter_test_cluster_size () == 1)
    {
      g_autoptr(NatterTestClient) again = NULL;
      g_autoptr(JsonObject) got = NULL;

      g_clear_pointer (&alice, natter_test_client_free);
      g_clear_pointer (&contact, natter_test_client_free);
      g_clear_pointer (&stranger, natter_test_client_free);
      natter_test_server_restart (srv);
      again = acc_login (srv, "dave");
      got = natter_test_client_request_ok (again, "{\"type\":\"avatar\",\"username\":\"alice\"}");
      natter_assert_str (got, "avatar", sha_b);
      alice = acc_login (srv, "alice");
      contact = natter_test_client_new_login (srv, "bob");
      natter_test_client_sync_ping (contact);
      natter_test_client_clear_queue (contact);
    }

  /* Removed with null: told, and gone. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"avatar_set\",\"data\":null}");

    g_assert_true (json_object_get_null_member (natter_test_get_object (r, "user"), "avatar"));
  }
  assert_avatar_told (contact, "alice", NULL);
  fails (alice, "not_found", "{\"type\":\"avatar\",\"username\":\"alice\"}");
  /* A protocol-1 connection has neither request. */
  fails (contact, "unknown_type", "{\"type\":\"avatar\",\"username\":\"alice\"}");
  fails (contact, "unknown_type", set_a);
}

/* A cluster withholds the feature (docs/cluster.md). */
static void
test_cluster_not_offered (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\"," FEATURES "}",
      NATTER_TEST_PASSWORD);

  util_assert_strings (natter_test_get_array (r, "features"), NULL);
  fails (c, "unknown_type",
         "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\""
         NEW_PASSWORD "\"}");
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_single_node ("/accounts/features", test_features, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/password-arguments", test_password_change_arguments, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/password-change", test_password_change, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/password-keep-sessions", test_password_keep_sessions, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/password-rate-limit", test_password_rate_limit, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/password-restart", test_password_restart, "restarts its natterd");
  natter_test_add_single_node ("/accounts/sessions", test_sessions, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/session-revoke-errors", test_session_revoke_errors, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/device-argument", test_device_argument, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/profile", test_profile, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/accounts/avatar", test_avatar, NOT_ON_A_CLUSTER);
  if (natter_test_cluster_size () > 1)
    natter_test_add ("/accounts/cluster-not-offered", test_cluster_not_offered);
  return g_test_run ();
}
