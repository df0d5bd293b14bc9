/* natterd's configuration: defaults, the config file, the command line. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "natterd-config.h"

static char *
write_config (const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("natterd-test-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_defaults (void)
{
  g_autoptr(NatterdConfig) config = natterd_config_new_defaults ();

  /* The contract's defaults. */
  g_assert_cmpstr (config->listen[0], ==, "*:7447");
  g_assert_null (config->listen[1]);
  g_assert_true (config->tls);
  g_assert_true (config->registration);
  g_assert_cmpuint (config->token_lifetime_days, ==, 30);
  g_assert_cmpuint (config->max_frame, ==, 65536);
  g_assert_cmpuint (config->frames_per_second, ==, 200);
  g_assert_cmpuint (config->frame_burst, ==, 2000);
  g_assert_cmpuint (config->connections_per_address, ==, 64);
  g_assert_cmpuint (config->registrations_per_hour_per_address, ==, 20);
  g_assert_cmpuint (config->failed_logins_per_minute_per_address, ==, 20);
  g_assert_cmpuint (config->failed_logins_per_minute_per_user, ==, 5);
  g_assert_cmpuint (config->output_queue_bytes, ==, 8 * 1024 * 1024);
  g_assert_cmpuint (config->login_timeout, ==, 30);
  g_assert_cmpuint (config->idle_timeout, ==, 120);
  g_assert_true (config->synchronous_full);
  g_assert_cmpuint (config->send_threads, ==, CLAMP (g_get_num_processors (), 1, 2));
}

static void
test_file (void)
{
  g_autoptr(NatterdConfig) config = natterd_config_new_defaults ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_config (
    "[server]\n"
    "listen = 127.0.0.1:1234; [::1]:1234\n"
    "registration = false\n"
    "tls = false\n"
    "send_threads = 3\n"
    "[limits]\n"
    "max_frame = 4096\n"
    "frames_per_second = 5\n"
    "output_queue_bytes = 100000\n"
    "[storage]\n"
    "synchronous = normal\n");

  g_assert_true (natterd_config_load_file (config, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (config->listen[0], ==, "127.0.0.1:1234");
  g_assert_cmpstr (config->listen[1], ==, "[::1]:1234");
  g_assert_false (config->registration);
  g_assert_false (config->tls);
  g_assert_cmpuint (config->send_threads, ==, 3);
  g_assert_cmpuint (config->max_frame, ==, 4096);
  g_assert_cmpuint (config->frames_per_second, ==, 5);
  g_assert_cmpuint (config->output_queue_bytes, ==, 100000);
  g_assert_false (config->synchronous_full);
  g_unlink (path);
}

typedef struct {
  const char *text;
  const char *message_part;
} BadConfig;

static const BadConfig bad_configs[] = {
  { "[limits]\nmax_frame = 0\n",                "max_frame" },
  { "[limits]\nmax_frame = 100\n",              "max_frame" },
  { "[limits]\nframes_per_second = -3\n",       "frames_per_second" },
  { "[limits]\nidle_timeout = soon\n",          "idle_timeout" },
  { "[server]\nregistration = perhaps\n",       "registration" },
  { "[server]\nsend_threads = 0\n",             "send_threads" },
  { "[server]\nsend_threads = 65\n",            "send_threads" },
  { "[storage]\nsynchronous = sometimes\n",     "synchronous" },
  { "this is not a key file\n",                 NULL },
};

static void
test_bad_files (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_configs); i++)
    {
      g_autoptr(NatterdConfig) config = natterd_config_new_defaults ();
      g_autoptr(GError) error = NULL;
      g_autofree char *path = write_config (bad_configs[i].text);

      g_assert_false (natterd_config_load_file (config, path, &error));
      g_assert_nonnull (error);
      if (bad_configs[i].message_part != NULL)
        g_assert_nonnull (strstr (error->message, bad_configs[i].message_part));
      g_unlink (path);
    }
}

static void
test_command_line_wins (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdConfig) config = NULL;
  g_autofree char *path = write_config ("[server]\nlisten = 10.0.0.1:1\ndata_dir = /nonexistent\n");
  g_autofree char *config_arg = g_strdup_printf ("--config=%s", path);
  char *args[] = { "natterd", config_arg, "--listen", "127.0.0.1:0", "--data-dir", "/tmp/x", "--no-tls", NULL };
  char **argv = args;
  int argc = G_N_ELEMENTS (args) - 1;
  gboolean just_exit = TRUE;

  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  g_assert_no_error (error);
  g_assert_false (just_exit);
  g_assert_cmpstr (config->listen[0], ==, "127.0.0.1:0");
  g_assert_cmpstr (config->data_dir, ==, "/tmp/x");
  g_assert_false (config->tls);
  g_unlink (path);
}

static void
test_cert_needs_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdConfig) config = NULL;
  char *args[] = { "natterd", "--tls-cert", "/tmp/cert.pem", NULL };
  char **argv = args;
  int argc = G_N_ELEMENTS (args) - 1;
  gboolean just_exit = FALSE;

  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  g_assert_null (config);
  g_assert_nonnull (error);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/file", test_file);
  g_test_add_func ("/config/bad-files", test_bad_files);
  g_test_add_func ("/config/command-line-wins", test_command_line_wins);
  g_test_add_func ("/config/cert-needs-key", test_cert_needs_key);
  return g_test_run ();
}
