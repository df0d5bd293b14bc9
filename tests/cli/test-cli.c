/* test-cli.c: `natter --version`, `natter --help` and `natterd --version`
 * answer at once, without a display and without starting anything. */
#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <glib.h>
#include <string.h>

/* Runs @program (from the environment variable @path_var) with @arg, with
 * no display and no session bus in the environment. */
static void
run (const char  *path_var,
     const char  *arg,
     char       **out,
     char       **err,
     int         *status)
{
  const char *path = g_getenv (path_var);
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  const char *argv[] = { path, arg, NULL };

  g_assert_nonnull (path);
  env = g_environ_unsetenv (env, "DISPLAY");
  env = g_environ_unsetenv (env, "WAYLAND_DISPLAY");
  env = g_environ_unsetenv (env, "DBUS_SESSION_BUS_ADDRESS");
  /* Nowhere to start a session bus either: nothing may need one. */
  env = g_environ_setenv (env, "XDG_RUNTIME_DIR", "/nonexistent", TRUE);

  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, out, err, status, &error);
  g_assert_no_error (error);
}

static void
test_natter_version (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  run ("NATTER_PATH", "--version", &out, &err, &status);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "natter " PACKAGE_VERSION "\n");
  g_assert_cmpstr (err, ==, "");
}

static void
test_natter_help (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  run ("NATTER_PATH", "--help", &out, &err, &status);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (out, "--version"));
  g_assert_nonnull (strstr (out, "Natter server"));
}

static void
test_natterd_version (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  run ("NATTERD_PATH", "--version", &out, &err, &status);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "natterd " PACKAGE_VERSION "\n");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/natter/version", test_natter_version);
  g_test_add_func ("/cli/natter/help", test_natter_help);
  g_test_add_func ("/cli/natterd/version", test_natterd_version);
  return g_test_run ();
}
