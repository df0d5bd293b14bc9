/* test-accounts.c: the feature accounts (docs/protocol.md, "Accounts"):
 * changing one's password, and what a protocol-1 connection and a server
 * of several nodes see of it.
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

static void
test_features (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) plain = natter_test_client_new_user (srv, "alice");
  static const char *const requests[] = {
    "{\"type\":\"password_change\",\"old_password\":\"" NATTER_TEST_PASSWORD "\",\"new_password\":\"" NEW_PASSWORD "\"}",
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
  if (natter_test_cluster_size () > 1)
    natter_test_add ("/accounts/cluster-not-offered", test_cluster_not_offered);
  return g_test_run ();
}
