/* test-client-session.c: signing up, in, with a token, and out, through the
 * client core against a real natterd. */
#define G_LOG_DOMAIN "test-client-session"

#include "client-test-util.h"
#include "natter-test-client.h"

static NatterTestServer *server;

typedef struct {
  char         *state_dir;
  NatterClient *client;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->state_dir = test_make_state_dir ();
  f->client = test_client_new (server, f->state_dir);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  test_client_free (f->client);
  test_remove_dir (f->state_dir);
  g_free (f->state_dir);
}

static void
test_sign_up (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *name = test_username ("alice");
  NatterUser *me;

  test_client_sign_up (f->client, server, name);

  me = natter_client_get_me (f->client);
  g_assert_nonnull (me);
  g_assert_cmpstr (natter_user_get_username (me), ==, name);
  g_assert_cmpstr (natter_user_get_display_name (me), ==, name);
  g_assert_nonnull (natter_client_get_token (f->client));
  g_assert_true (natter_client_get_registration_open (f->client));
  g_assert_cmpuint (natter_client_get_unread_total (f->client), ==, 0);
  /* The interned user is the one lookups give. */
  g_assert_true (natter_client_lookup_user (f->client, name) == me);
}

static void
test_sign_up_errors (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *name = test_username ("bob");
  g_autoptr(NatterClient) other = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *other_dir = test_make_state_dir ();
  GAsyncResult *result = NULL;

  test_client_sign_up (f->client, server, name);

  other = test_client_new (server, other_dir);
  test_client_connect (other, server);

  natter_client_register_async (other, name, NATTER_TEST_PASSWORD, NULL, NULL,
                                test_result_cb, &result);
  g_assert_false (natter_client_register_finish (other, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_USERNAME_TAKEN);
  g_assert_cmpint (natter_client_get_state (other), ==, NATTER_CLIENT_STATE_CONNECTED);
  g_clear_object (&result);
  g_clear_error (&error);

  natter_client_register_async (other, "x", NATTER_TEST_PASSWORD, NULL, NULL,
                                test_result_cb, &result);
  g_assert_false (natter_client_register_finish (other, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_USERNAME);
  g_clear_object (&result);
  g_clear_error (&error);

  natter_client_register_async (other, "validname99", "short", NULL, NULL,
                                test_result_cb, &result);
  g_assert_false (natter_client_register_finish (other, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_WEAK_PASSWORD);
  g_clear_object (&result);

  test_client_free (g_steal_pointer (&other));
  test_remove_dir (other_dir);
}

static void
test_sign_in (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *name = test_username ("carol");
  g_autofree char *dir2 = test_make_state_dir ();
  g_autoptr(GError) error = NULL;
  NatterClient *second;
  GAsyncResult *result = NULL;

  test_client_sign_up (f->client, server, name);

  second = test_client_new (server, dir2);
  test_client_connect (second, server);

  /* A wrong password: auth_failed, still connected, may try again. */
  natter_client_login_async (second, name, "not the password", NULL, test_result_cb, &result);
  g_assert_false (natter_client_login_finish (second, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED);
  g_assert_cmpint (natter_client_get_state (second), ==, NATTER_CLIENT_STATE_CONNECTED);
  g_assert_null (natter_client_get_me (second));
  g_clear_object (&result);

  natter_client_login_async (second, name, NATTER_TEST_PASSWORD, NULL, test_result_cb, &result);
  g_assert_true (natter_client_login_finish (second, test_wait_result (&result), NULL));
  g_clear_object (&result);
  WAIT_FOR (natter_client_get_state (second) == NATTER_CLIENT_STATE_READY);
  g_assert_cmpstr (natter_user_get_username (natter_client_get_me (second)), ==, name);

  test_client_free (second);
  test_remove_dir (dir2);
}

static void
test_token (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *name = test_username ("dave");
  g_autofree char *token = NULL;
  g_autofree char *dir2 = test_make_state_dir ();
  g_autoptr(GError) error = NULL;
  NatterClient *second;
  GAsyncResult *result = NULL;

  test_client_sign_up (f->client, server, name);
  token = g_strdup (natter_client_get_token (f->client));

  second = test_client_new (server, dir2);
  test_client_sign_in_token (second, server, token);
  g_assert_cmpstr (natter_user_get_username (natter_client_get_me (second)), ==, name);
  g_assert_cmpstr (natter_client_get_token (second), ==, token);

  /* Logging out revokes the token: a token login then fails. */
  natter_client_logout_async (second, NULL, test_result_cb, &result);
  g_assert_true (natter_client_logout_finish (second, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpint (natter_client_get_state (second), ==, NATTER_CLIENT_STATE_CONNECTED);
  g_assert_null (natter_client_get_me (second));
  g_assert_null (natter_client_get_token (second));

  natter_client_login_token_async (second, token, NULL, test_result_cb, &result);
  g_assert_false (natter_client_login_token_finish (second, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED);
  g_clear_object (&result);

  test_client_free (second);
  test_remove_dir (dir2);
}

static void
test_not_connected (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  NatterMessage *msg;

  /* Nothing is sent before sign-in; requests fail at once. */
  natter_client_login_async (f->client, "someone", NATTER_TEST_PASSWORD, NULL,
                             test_result_cb, &result);
  g_assert_false (natter_client_login_finish (f->client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED);
  g_clear_object (&result);
  g_clear_error (&error);

  natter_client_room_directory_async (f->client, "", NULL, test_result_cb, &result);
  g_assert_null (natter_client_room_directory_finish (f->client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED);
  g_clear_object (&result);

  /* Invalid input is refused before it reaches the outbox. */
  g_assert_null (natter_client_send_message (f->client, "not an address", "hi"));
  g_assert_null (natter_client_send_message (f->client, "@bob", "   "));
  g_assert_null (natter_client_lookup_conversation (f->client, "#", TRUE));

  /* A valid one waits in the outbox while offline. */
  msg = natter_client_send_message (f->client, "@Bob", "queued");
  g_assert_nonnull (msg);
  g_assert_cmpint (natter_message_get_state (msg), ==, NATTER_MESSAGE_STATE_SENDING);
  g_assert_cmpstr (natter_message_get_conversation (msg), ==, "@bob");
}

static void
test_unreachable (void)
{
  g_autofree char *dir = test_make_state_dir ();
  g_autoptr(NatterClient) client = natter_client_new (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  GAsyncResult *result = NULL;
  guint16 port;

  /* A port that was just free: bind, read it, close. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);

  natter_client_connect_async (client, "127.0.0.1", port, NULL, test_result_cb, &result);
  g_assert_false (natter_client_connect_finish (client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_UNREACHABLE);
  g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_DISCONNECTED);
  g_clear_object (&result);

  test_client_free (g_steal_pointer (&client));
  test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  test_init ();
  g_test_init (&argc, &argv, NULL);

  server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);

  g_test_add ("/client/session/sign-up", Fixture, NULL, fixture_set_up, test_sign_up, fixture_tear_down);
  g_test_add ("/client/session/sign-up-errors", Fixture, NULL, fixture_set_up, test_sign_up_errors, fixture_tear_down);
  g_test_add ("/client/session/sign-in", Fixture, NULL, fixture_set_up, test_sign_in, fixture_tear_down);
  g_test_add ("/client/session/token", Fixture, NULL, fixture_set_up, test_token, fixture_tear_down);
  g_test_add ("/client/session/not-connected", Fixture, NULL, fixture_set_up, test_not_connected, fixture_tear_down);
  g_test_add_func ("/client/session/unreachable", test_unreachable);

  ret = g_test_run ();
  natter_test_server_free (server);
  return ret;
}
