/* test-secret.c: the sign-in token in the Secret Service.
 *
 * meson runs this under dbus-run-session; the program starts its own
 * gnome-keyring-daemon (unlocked with a throwaway password, its keyrings in a
 * temporary XDG_DATA_HOME) on that private bus, so no real keyring is
 * touched. Without a Secret Service the calls must fail, not hang.
 */
#define G_LOG_DOMAIN "test-secret"

#include <glib/gstdio.h>
#include <libsecret/secret.h>

#include "natter-secret.h"

static guint deadline_ms = 20000;

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (deadline_ms, set_flag_cb, &timed_out);

  while (*slot == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (*slot == NULL)
    g_error ("timed out waiting for the Secret Service");
  g_source_remove (id);
  return *slot;
}

static void
test_unavailable (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *user = NULL, *token = NULL;
      GAsyncResult *result = NULL;

      natter_secret_lookup_token_async ("example.org:7447", NULL, result_cb, &result);
      g_assert_false (natter_secret_lookup_token_finish (wait_result (&result), &user, &token, &error));
      g_assert_nonnull (error);
      g_assert_null (token);
      g_clear_object (&result);
      g_clear_error (&error);

      natter_secret_store_token_async ("example.org:7447", "alice", "t0k3n", NULL, result_cb, &result);
      g_assert_false (natter_secret_store_token_finish (wait_result (&result), &error));
      g_assert_nonnull (error);
      g_clear_object (&result);
      return;
    }

  /* In a child with no session bus at all. */
  g_test_trap_subprocess (NULL, 0,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

static gboolean
start_keyring (const char *tmp)
{
  g_autofree char *data = g_build_filename (tmp, "data", NULL);
  g_autofree char *run = g_build_filename (tmp, "run", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) daemon = NULL;
  g_autoptr(GError) error = NULL;
  gboolean appeared = FALSE, timed_out = FALSE;
  guint watch, timeout;

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    return FALSE;
  g_mkdir_with_parents (data, 0700);
  g_mkdir_with_parents (run, 0700);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", run, TRUE);
  daemon = g_subprocess_launcher_spawn (launcher, &error, "gnome-keyring-daemon",
                                        "--unlock", "--components=secrets", "--daemonize", NULL);
  if (daemon == NULL)
    {
      g_test_message ("no gnome-keyring-daemon: %s", error->message);
      return FALSE;
    }
  /* A password on stdin creates and unlocks the login keyring, so
   * storing needs no prompt. */
  g_output_stream_write_all (g_subprocess_get_stdin_pipe (daemon), "natter-test", 11,
                             NULL, NULL, NULL);
  g_output_stream_close (g_subprocess_get_stdin_pipe (daemon), NULL, NULL);
  g_subprocess_wait (daemon, NULL, NULL);

  watch = g_bus_watch_name (G_BUS_TYPE_SESSION, "org.freedesktop.secrets",
                            G_BUS_NAME_WATCHER_FLAGS_NONE,
                            name_appeared_cb, NULL, &appeared, NULL);
  timeout = g_timeout_add (deadline_ms, set_flag_cb, &timed_out);
  while (!appeared && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout);
  g_bus_unwatch_name (watch);
  return appeared;
}

static void
test_store_lookup_clear (gconstpointer data)
{
  const gboolean *keyring = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *user = NULL, *token = NULL;
  GAsyncResult *result = NULL;

  if (!*keyring)
    {
      g_test_skip ("no Secret Service (run under dbus-run-session with gnome-keyring)");
      return;
    }

  /* Nothing stored yet: not found. */
  natter_secret_lookup_token_async ("chat.example.org:7447", NULL, result_cb, &result);
  g_assert_false (natter_secret_lookup_token_finish (wait_result (&result), &user, &token, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);

  natter_secret_store_token_async ("chat.example.org:7447", "alice", "first-token", NULL,
                                   result_cb, &result);
  g_assert_true (natter_secret_store_token_finish (wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  /* One token per server: another account replaces it. */
  natter_secret_store_token_async ("chat.example.org:7447", "bob", "second-token", NULL,
                                   result_cb, &result);
  g_assert_true (natter_secret_store_token_finish (wait_result (&result), &error));
  g_clear_object (&result);

  natter_secret_store_token_async ("other.example.org:7447", "carol", "third-token", NULL,
                                   result_cb, &result);
  g_assert_true (natter_secret_store_token_finish (wait_result (&result), &error));
  g_clear_object (&result);

  natter_secret_lookup_token_async ("chat.example.org:7447", NULL, result_cb, &result);
  g_assert_true (natter_secret_lookup_token_finish (wait_result (&result), &user, &token, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, "bob");
  g_assert_cmpstr (token, ==, "second-token");
  g_clear_object (&result);
  g_clear_pointer (&user, g_free);
  g_clear_pointer (&token, g_free);

  natter_secret_clear_async ("chat.example.org:7447", NULL, result_cb, &result);
  g_assert_true (natter_secret_clear_finish (wait_result (&result), &error));
  g_clear_object (&result);

  natter_secret_lookup_token_async ("chat.example.org:7447", NULL, result_cb, &result);
  g_assert_false (natter_secret_lookup_token_finish (wait_result (&result), &user, &token, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);

  /* The other server's token is untouched. */
  natter_secret_lookup_token_async ("other.example.org:7447", NULL, result_cb, &result);
  g_assert_true (natter_secret_lookup_token_finish (wait_result (&result), &user, &token, &error));
  g_assert_cmpstr (token, ==, "third-token");
  g_clear_object (&result);
}

/* Another application's secret with the same attribute names. natterd's
 * calls first search without the schema name (so that a locked keyring's
 * items are found and unlocked): they must still never read or delete
 * what is not theirs. */
static const SecretSchema other_schema = {
  "org.example.OtherApp", SECRET_SCHEMA_NONE,
  {
    { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "NULL", 0 },
  }
};

static void
test_other_application (gconstpointer data)
{
  const gboolean *keyring = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *user = NULL, *token = NULL, *other = NULL;
  GAsyncResult *result = NULL;

  if (!*keyring)
    {
      g_test_skip ("no Secret Service (run under dbus-run-session with gnome-keyring)");
      return;
    }

  g_assert_true (secret_password_store_sync (&other_schema, SECRET_COLLECTION_DEFAULT, "other app",
                                             "not-natter", NULL, &error,
                                             "server", "shared.example.org:7447",
                                             "username", "mallory", NULL));
  g_assert_no_error (error);

  /* Not ours: not found. */
  natter_secret_lookup_token_async ("shared.example.org:7447", NULL, result_cb, &result);
  g_assert_false (natter_secret_lookup_token_finish (wait_result (&result), &user, &token, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Storing ours (which clears the server's old token first) and clearing
   * it leave the other one alone. */
  natter_secret_store_token_async ("shared.example.org:7447", "alice", "natter-token", NULL,
                                   result_cb, &result);
  g_assert_true (natter_secret_store_token_finish (wait_result (&result), &error));
  g_clear_object (&result);
  natter_secret_lookup_token_async ("shared.example.org:7447", NULL, result_cb, &result);
  g_assert_true (natter_secret_lookup_token_finish (wait_result (&result), &user, &token, &error));
  g_assert_cmpstr (user, ==, "alice");
  g_assert_cmpstr (token, ==, "natter-token");
  g_clear_object (&result);
  natter_secret_clear_async ("shared.example.org:7447", NULL, result_cb, &result);
  g_assert_true (natter_secret_clear_finish (wait_result (&result), &error));
  g_clear_object (&result);

  other = secret_password_lookup_sync (&other_schema, NULL, &error,
                                       "server", "shared.example.org:7447", NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (other, ==, "not-natter");
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *tmp = NULL;
  static gboolean keyring;
  int ret;

  g_test_init (&argc, &argv, NULL);

  if (g_test_subprocess ())
    {
      /* The unavailable case: no bus to find a Secret Service on. */
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/natter-test-bus", TRUE);
    }
  else
    {
      tmp = g_dir_make_tmp ("natter-secret-XXXXXX", NULL);
      keyring = start_keyring (tmp);
    }

  g_test_add_func ("/client/secret/unavailable", test_unavailable);
  g_test_add_data_func ("/client/secret/store-lookup-clear", &keyring, test_store_lookup_clear);
  g_test_add_data_func ("/client/secret/other-application", &keyring, test_other_application);

  ret = g_test_run ();

  if (tmp != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);

      /* The keyring daemon exits with the private bus. */
      (void) system (cmd);
    }
  return ret;
}
