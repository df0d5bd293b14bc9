/* test-client-accounts.c: feature accounts in the client core through a
 * real natterd: the sessions of an account signed in on two devices (the
 * device name is the host name), signing the other device out, a
 * password change, a new display name seen on the other device, the
 * account deleted, and blocking a user (the list read from either device). */
#define G_LOG_DOMAIN "test-client-accounts"

#include <string.h>

#include "client-test-util.h"
#include "natter-error.h"
#include "natter-test-client.h"

static NatterTestServer *server;

typedef struct {
  char         *phone_dir;
  char         *laptop_dir;
  NatterClient *phone;
  NatterClient *laptop;
  char         *name;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->name = test_username ("acc");
  f->phone_dir = test_make_state_dir ();
  f->laptop_dir = test_make_state_dir ();
  f->phone = test_client_new (server, f->phone_dir);
  test_client_sign_up (f->phone, server, f->name);
  f->laptop = test_client_new (server, f->laptop_dir);
  test_client_sign_in (f->laptop, server, f->name);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  test_client_free (g_steal_pointer (&f->phone));
  test_client_free (g_steal_pointer (&f->laptop));
  test_remove_dir (f->phone_dir);
  test_remove_dir (f->laptop_dir);
  g_free (f->phone_dir);
  g_free (f->laptop_dir);
  g_free (f->name);
}

static GListModel *
list_sessions (NatterClient *client)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *sessions;

  natter_client_list_sessions_async (client, NULL, test_result_cb, &result);
  sessions = natter_client_list_sessions_finish (client, test_wait_result (&result), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  return sessions;
}

static void
test_sessions (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GListModel) sessions = NULL;
  NatterDeviceSession *other = NULL;
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  guint current = 0;

  g_assert_true (natter_client_get_accounts (f->phone));
  sessions = list_sessions (f->phone);
  /* The registration's and the laptop's. */
  g_assert_cmpuint (g_list_model_get_n_items (sessions), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(NatterDeviceSession) s = g_list_model_get_item (sessions, i);

      g_assert_cmpuint (strlen (natter_device_session_get_id (s)), ==, 16);
      g_assert_cmpstr (natter_device_session_get_device (s), ==, g_get_host_name ());
      g_assert_cmpstr (natter_device_session_get_address (s), ==, "127.0.0.1");
      g_assert_cmpint (natter_device_session_get_created (s), >, 0);
      g_assert_cmpuint (natter_device_session_get_connections (s), ==, 1);
      if (natter_device_session_get_current (s))
        current++;
      else
        other = s;
    }
  g_assert_cmpuint (current, ==, 1);
  g_assert_nonnull (other);

  /* Signing the laptop out ends its session. */
  natter_client_revoke_session_async (f->phone, natter_device_session_get_id (other), NULL,
                                      test_result_cb, &result);
  g_assert_true (natter_client_revoke_session_finish (f->phone, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  WAIT_FOR (natter_client_get_state (f->laptop) == NATTER_CLIENT_STATE_DISCONNECTED);
  g_assert_cmpint (natter_client_get_state (f->phone), ==, NATTER_CLIENT_STATE_READY);
  {
    g_autoptr(GListModel) left = list_sessions (f->phone);

    g_assert_cmpuint (g_list_model_get_n_items (left), ==, 1);
  }
}

static void
test_password (Fixture       *f,
               gconstpointer  data)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  natter_client_change_password_async (f->phone, "not the password", "a new and better one", FALSE, NULL,
                                       test_result_cb, &result);
  g_assert_false (natter_client_change_password_finish (f->phone, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  g_clear_object (&result);

  natter_client_change_password_async (f->phone, NATTER_TEST_PASSWORD, "a new and better one", FALSE, NULL,
                                       test_result_cb, &result);
  g_assert_true (natter_client_change_password_finish (f->phone, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  /* The other device is signed out; this one stays. */
  WAIT_FOR (natter_client_get_state (f->laptop) == NATTER_CLIENT_STATE_DISCONNECTED);
  g_assert_cmpint (natter_client_get_state (f->phone), ==, NATTER_CLIENT_STATE_READY);
}

static void
test_display_name (Fixture       *f,
                   gconstpointer  data)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  NatterUser *seen;

  natter_client_set_display_name_async (f->phone, "Someone Else", NULL, test_result_cb, &result);
  g_assert_true (natter_client_set_display_name_finish (f->phone, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpstr (natter_user_get_display_name (natter_client_get_me (f->phone)), ==, "Someone Else");
  /* The other device hears of it. */
  seen = natter_client_get_me (f->laptop);
  WAIT_FOR (g_strcmp0 (natter_user_get_display_name (seen), "Someone Else") == 0);
}

/* A picture set on one device is read on the other, checked against its
 * hash, kept, and removed again. */
static void
test_avatar (Fixture       *f,
             gconstpointer  data)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
  g_autoptr(GBytes) picture = g_bytes_new_static (png, sizeof png);
  g_autofree char *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, png, sizeof png);
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) again = NULL;
  NatterUser *seen = natter_client_get_me (f->laptop);

  g_assert_null (natter_user_get_avatar (seen));
  natter_client_load_avatar_async (f->laptop, seen, NULL, test_result_cb, &result);
  g_assert_null (natter_client_load_avatar_finish (f->laptop, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);

  natter_client_set_avatar_async (f->phone, picture, NULL, test_result_cb, &result);
  g_assert_true (natter_client_set_avatar_finish (f->phone, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpstr (natter_user_get_avatar (natter_client_get_me (f->phone)), ==, sha256);
  WAIT_FOR (g_strcmp0 (natter_user_get_avatar (seen), sha256) == 0);

  /* Read twice at once: one request, the same bytes for both. */
  {
    GAsyncResult *second = NULL;

    natter_client_load_avatar_async (f->laptop, seen, NULL, test_result_cb, &result);
    natter_client_load_avatar_async (f->laptop, seen, NULL, test_result_cb, &second);
    got = natter_client_load_avatar_finish (f->laptop, test_wait_result (&result), &error);
    g_assert_no_error (error);
    again = natter_client_load_avatar_finish (f->laptop, test_wait_result (&second), &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (got, picture));
    g_assert_true (got == again);
    g_clear_object (&result);
    g_clear_object (&second);
  }

  natter_client_set_avatar_async (f->phone, NULL, NULL, test_result_cb, &result);
  g_assert_true (natter_client_set_avatar_finish (f->phone, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  WAIT_FOR (natter_user_get_avatar (seen) == NULL);
}

static void
test_delete (Fixture       *f,
             gconstpointer  data)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  natter_client_delete_account_async (f->phone, "not the password", NULL, test_result_cb, &result);
  g_assert_false (natter_client_delete_account_finish (f->phone, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  g_clear_object (&result);
  g_assert_cmpint (natter_client_get_state (f->phone), ==, NATTER_CLIENT_STATE_READY);
  g_assert_nonnull (natter_client_get_token (f->phone));

  natter_client_delete_account_async (f->phone, NATTER_TEST_PASSWORD, NULL, test_result_cb, &result);
  g_assert_true (natter_client_delete_account_finish (f->phone, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  /* Nothing of the account stays: no token to come back with. */
  g_assert_cmpint (natter_client_get_state (f->phone), ==, NATTER_CLIENT_STATE_DISCONNECTED);
  g_assert_null (natter_client_get_token (f->phone));
  g_assert_null (natter_client_get_me (f->phone));
  /* The other device is signed out for good. */
  WAIT_FOR (natter_client_get_state (f->laptop) == NATTER_CLIENT_STATE_DISCONNECTED);
  g_assert_null (natter_client_get_token (f->laptop));
}

static gboolean
block_call (NatterClient *client,
            gboolean      block,
            const char   *username,
            GError      **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  if (block)
    {
      natter_client_block_user_async (client, username, NULL, test_result_cb, &result);
      ok = natter_client_block_user_finish (client, test_wait_result (&result), error);
    }
  else
    {
      natter_client_unblock_user_async (client, username, NULL, test_result_cb, &result);
      ok = natter_client_unblock_user_finish (client, test_wait_result (&result), error);
    }
  g_clear_object (&result);
  return ok;
}

/* The usernames of the users blocked, in order, joined with ",". */
static char *
list_blocked (NatterClient *client)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) blocked = NULL;
  GString *names = g_string_new ("");

  natter_client_list_blocked_async (client, NULL, test_result_cb, &result);
  blocked = natter_client_list_blocked_finish (client, test_wait_result (&result), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_true (g_list_model_get_item_type (blocked) == NATTER_TYPE_USER);
  for (guint i = 0; i < g_list_model_get_n_items (blocked); i++)
    {
      g_autoptr(NatterUser) user = g_list_model_get_item (blocked, i);

      g_string_append_printf (names, "%s%s", i > 0 ? "," : "", natter_user_get_username (user));
    }
  return g_string_free (names, FALSE);
}

static void
test_blocking (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *other_dir = test_make_state_dir ();
  g_autofree char *other_name = test_username ("blk");
  g_autofree char *names = NULL;
  g_autoptr(GError) error = NULL;
  NatterClient *other = test_client_new (server, other_dir);

  test_client_sign_up (other, server, other_name);
  names = list_blocked (f->phone);
  g_assert_cmpstr (names, ==, "");
  g_clear_pointer (&names, g_free);

  g_assert_true (block_call (f->phone, TRUE, other_name, &error));
  g_assert_no_error (error);
  g_assert_true (block_call (f->phone, TRUE, other_name, &error));
  names = list_blocked (f->laptop);
  g_assert_cmpstr (names, ==, other_name);
  g_clear_pointer (&names, g_free);

  g_assert_false (block_call (f->phone, TRUE, f->name, &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (block_call (f->phone, TRUE, "nobody-here", &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (block_call (f->laptop, FALSE, other_name, &error));
  g_assert_no_error (error);
  names = list_blocked (f->phone);
  g_assert_cmpstr (names, ==, "");

  test_client_free (other);
  test_remove_dir (other_dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  test_init ();
  g_test_init (&argc, &argv, NULL);

  server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);

  g_test_add ("/client/accounts/sessions", Fixture, NULL, fixture_set_up, test_sessions, fixture_tear_down);
  g_test_add ("/client/accounts/password", Fixture, NULL, fixture_set_up, test_password, fixture_tear_down);
  g_test_add ("/client/accounts/display-name", Fixture, NULL, fixture_set_up, test_display_name,
              fixture_tear_down);
  g_test_add ("/client/accounts/avatar", Fixture, NULL, fixture_set_up, test_avatar, fixture_tear_down);
  g_test_add ("/client/accounts/delete", Fixture, NULL, fixture_set_up, test_delete, fixture_tear_down);
  g_test_add ("/client/accounts/blocking", Fixture, NULL, fixture_set_up, test_blocking, fixture_tear_down);

  ret = g_test_run ();
  natter_test_server_free (server);
  return ret;
}
