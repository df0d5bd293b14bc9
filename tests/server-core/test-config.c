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
  g_assert_cmpint (config->registration, ==, NATTERD_REGISTRATION_OPEN);
  g_assert_cmpuint (config->token_lifetime_days, ==, 30);
  g_assert_cmpuint (config->max_frame, ==, 65536);
  g_assert_cmpuint (config->frames_per_second, ==, 200);
  g_assert_cmpuint (config->frame_burst, ==, 2000);
  g_assert_cmpuint (config->connections_per_address, ==, 64);
  g_assert_cmpuint (config->registrations_per_hour_per_address, ==, 20);
  g_assert_cmpuint (config->failed_logins_per_minute_per_address, ==, 20);
  g_assert_cmpuint (config->failed_logins_per_minute_per_user, ==, 5);
  g_assert_cmpuint (config->output_queue_bytes, ==, 8 * 1024 * 1024);
  g_assert_cmpuint (config->handshake_timeout, ==, 10);
  g_assert_cmpuint (config->login_timeout, ==, 30);
  g_assert_cmpuint (config->idle_timeout, ==, 120);
  g_assert_true (config->synchronous_full);
  g_assert_cmpstr (config->database, ==, "sqlite");
  g_assert_null (config->password_file);
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
    "synchronous = normal\n"
    "database = postgresql://natter@db.example.org/natter\n"
    "password_file = /etc/natterd/db-password\n");

  g_assert_true (natterd_config_load_file (config, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (config->listen[0], ==, "127.0.0.1:1234");
  g_assert_cmpstr (config->listen[1], ==, "[::1]:1234");
  g_assert_cmpint (config->registration, ==, NATTERD_REGISTRATION_CLOSED);
  g_assert_false (config->tls);
  g_assert_cmpuint (config->send_threads, ==, 3);
  g_assert_cmpuint (config->max_frame, ==, 4096);
  g_assert_cmpuint (config->frames_per_second, ==, 5);
  g_assert_cmpuint (config->output_queue_bytes, ==, 100000);
  g_assert_false (config->synchronous_full);
  g_assert_cmpstr (config->database, ==, "postgresql://natter@db.example.org/natter");
  g_assert_cmpstr (config->password_file, ==, "/etc/natterd/db-password");
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
  { "[storage]\ndatabase =\n",                  ":2: [storage] database: expected 'sqlite' or a PostgreSQL connection string" },
  { "this is not a key file\n",                 NULL },
  /* A key or group natterd does not know: refused, with where it is and
   * what was probably meant (a misspelt registration=false would leave
   * registration open). */
  { "[server]\n# closed\nregistraton=false\n",
    ":3: unknown key 'registraton' in [server] (did you mean 'registration'?)" },
  { "[server]\ntls=true\n[serevr]\nregistration=false\n",
    ":3: unknown group [serevr] (did you mean [server]?)" },
  { "[server]\nmax_frame = 4096\n",           ":2: unknown key 'max_frame' in [server] (it belongs in [limits])" },
  { "[limits]\nmax_frames = 4096\n",          ":2: unknown key 'max_frames' in [limits] (did you mean 'max_frame'?)" },
  { "[limits]\nregistraton = false\n",        "(did you mean 'registration', in [server]?)" },
  { "[server]\nfrobnicate = 1\n",             ":2: unknown key 'frobnicate' in [server] (natterd.conf.example lists every key)" },
  { "[tuning]\nx = 1\n",                      ":1: unknown group [tuning] (natterd knows [server], [limits], [storage] and [cluster])" },
  /* Values say where they are too. */
  { "[server]\n\nregistration = perhaps\n",   ":3: [server] registration: expected open, closed or invite" },
  /* A bad address is found here, not once the database is open. */
  { "[server]\nlisten = 127.0.0.1:99999\n",
    ":2: [server] listen: '127.0.0.1:99999': port 99999 out of range (1-65535, or 0 for any free port)" },
  { "[server]\nlisten = *:7447; [::1:7447\n",  "'[::1:7447': expected HOST:PORT, [IPv6]:PORT or *:PORT" },
  { "[server]\nlisten = localhost\n",          "'localhost': expected HOST:PORT" },
  { "[server]\nlisten = *:99999999999999999999999\n", "out of range" },
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
      if (bad_configs[i].message_part != NULL && strstr (error->message, bad_configs[i].message_part) == NULL)
        g_error ("expected \"%s\" in \"%s\"", bad_configs[i].message_part, error->message);
      /* The file's name begins every message; natterd's own are ASCII,
       * which reads the same in every locale (GLib's parse error is not). */
      g_assert_true (g_str_has_prefix (error->message, path));
      for (const char *p = error->message; bad_configs[i].message_part != NULL && *p != '\0'; p++)
        if ((guchar) *p >= 0x80)
          g_error ("non-ASCII in \"%s\"", error->message);
      g_unlink (path);
    }
}

static void
test_command_line_wins (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdConfig) config = NULL;
  g_autofree char *path = write_config ("[server]\nlisten = 10.0.0.1:1\ndata_dir = /nonexistent\n"
                                       "[storage]\ndatabase = host=db1 dbname=a\n");
  g_autofree char *config_arg = g_strdup_printf ("--config=%s", path);
  char *args[] = { "natterd", config_arg, "--listen", "127.0.0.1:0", "--data-dir", "/tmp/x", "--no-tls",
                   "--database", "postgresql:///natter", NULL };
  char **argv = args;
  int argc = G_N_ELEMENTS (args) - 1;
  gboolean just_exit = TRUE;

  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  g_assert_no_error (error);
  g_assert_false (just_exit);
  g_assert_cmpstr (config->listen[0], ==, "127.0.0.1:0");
  g_assert_cmpstr (config->data_dir, ==, "/tmp/x");
  g_assert_false (config->tls);
  g_assert_cmpstr (config->database, ==, "postgresql:///natter");
  g_unlink (path);
}

/* Every key the example config lists (commented out) is one natterd
 * knows, in its group, with a value it takes. */
static void
test_example_keys_known (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdConfig) config = natterd_config_new_defaults ();
  g_autofree char *example = g_build_filename (g_getenv ("NATTER_SOURCE_DIR"), "data",
                                               "natterd.conf.example", NULL);
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_auto(GStrv) lines = NULL;
  GString *uncommented = g_string_new (NULL);
  guint keys = 0;

  g_assert_true (g_file_get_contents (example, &text, NULL, &error));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      /* "#[group]" and "#key=value", not the prose comments. */
      if (g_regex_match_simple ("^#(\\[[a-z]+\\]|[a-z_]+=\\S*)$", line, 0, 0))
        {
          line++;
          keys += line[0] != '[';
        }
      g_string_append_printf (uncommented, "%s\n", line);
    }
  path = write_config (uncommented->str);
  g_string_free (uncommented, TRUE);
  g_assert_true (natterd_config_load_file (config, path, &error));
  g_assert_no_error (error);
  /* All of them: docs/server.md lists the same 28. */
  g_assert_cmpuint (keys, ==, 28);
  g_unlink (path);
}

/* --listen is checked with the options, before natterd sets anything up. */
static void
test_bad_listen_option (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdConfig) config = NULL;
  char *args[] = { "natterd", "--listen", "127.0.0.1:7447", "--listen", "[::1]:65536", NULL };
  char **argv = args;
  int argc = G_N_ELEMENTS (args) - 1;
  gboolean just_exit = FALSE;

  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  g_assert_null (config);
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_cmpstr (error->message, ==,
                   "--listen '[::1]:65536': port 65536 out of range (1-65535, or 0 for any free port)");
}

/* --metrics and [server] metrics: off by default, checked as --listen,
 * the command line over the file. */
static void
test_metrics_option (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdConfig) config = NULL;
  g_autoptr(NatterdConfig) defaults = natterd_config_new_defaults ();
  g_autofree char *path = write_config ("[server]\nmetrics = 127.0.0.1:9447\n");
  char *bad[] = { "natterd", "--metrics", "nowhere", NULL };
  char *named[] = { "natterd", "--metrics", "localhost:9447", NULL };
  char *both[] = { "natterd", "--config", path, "--metrics", "[::1]:9448", NULL };
  char **argv = bad;
  int argc = G_N_ELEMENTS (bad) - 1;
  gboolean just_exit = FALSE;

  g_assert_null (defaults->metrics);
  g_assert_null (natterd_config_from_args (&argc, &argv, &just_exit, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_cmpstr (error->message, ==, "--metrics 'nowhere': expected HOST:PORT, [IPv6]:PORT or *:PORT");
  g_clear_error (&error);
  argv = named;
  argc = G_N_ELEMENTS (named) - 1;
  g_assert_null (natterd_config_from_args (&argc, &argv, &just_exit, &error));
  g_assert_cmpstr (error->message, ==, "--metrics 'localhost:9447': the host must be an IP address (127.0.0.1, [::1]) or *");
  g_clear_error (&error);

  g_assert_true (natterd_config_load_file (defaults, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (defaults->metrics, ==, "127.0.0.1:9447");
  argv = both;
  argc = G_N_ELEMENTS (both) - 1;
  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->metrics, ==, "[::1]:9448");
  g_unlink (path);
}

/* A bus needs a database several nodes can share; the file's [cluster]
 * is read, and the command line wins over it. */
static void
test_cluster_options (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterdConfig) config = NULL;
  g_autofree char *path = write_config ("[storage]\ndatabase = postgresql://db/natter\n"
                                        "[cluster]\nbus = redis://bus:6379\nnode_name = a\n");
  char *sqlite_args[] = { "natterd", "--bus", "redis://127.0.0.1:6379", NULL };
  char *file_args[] = { "natterd", "--config", path, "--node-name", "b", NULL };
  char **argv = sqlite_args;
  int argc = G_N_ELEMENTS (sqlite_args) - 1;
  gboolean just_exit = FALSE;

  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  g_assert_null (config);
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_true (g_str_has_prefix (error->message, "--bus: a cluster shares a PostgreSQL database"));
  g_clear_error (&error);

  argv = file_args;
  argc = G_N_ELEMENTS (file_args) - 1;
  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->bus, ==, "redis://bus:6379");
  g_assert_cmpstr (config->node_name, ==, "b");
  g_unlink (path);
}

static void
test_parse_listen (void)
{
  g_autofree char *host = NULL;
  guint16 port = 1;

  g_assert_true (natterd_config_parse_listen ("[::1]:0", &host, &port, NULL));
  g_assert_cmpstr (host, ==, "::1");
  g_assert_cmpuint (port, ==, 0);
  g_clear_pointer (&host, g_free);
  g_assert_true (natterd_config_parse_listen ("*:65535", &host, &port, NULL));
  g_assert_cmpstr (host, ==, "*");
  g_assert_cmpuint (port, ==, 65535);
  g_assert_false (natterd_config_parse_listen (":7447", NULL, NULL, NULL));
  g_assert_false (natterd_config_parse_listen ("[]:7447", NULL, NULL, NULL));
  g_assert_false (natterd_config_parse_listen ("host:", NULL, NULL, NULL));
  g_assert_false (natterd_config_parse_listen ("host:-1", NULL, NULL, NULL));
  g_assert_false (natterd_config_parse_listen ("host:+80", NULL, NULL, NULL));
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
  g_test_add_func ("/config/bad-listen-option", test_bad_listen_option);
  g_test_add_func ("/config/parse-listen", test_parse_listen);
  g_test_add_func ("/config/cluster-options", test_cluster_options);
  g_test_add_func ("/config/metrics-option", test_metrics_option);
  g_test_add_func ("/config/example-keys-known", test_example_keys_known);
  return g_test_run ();
}
