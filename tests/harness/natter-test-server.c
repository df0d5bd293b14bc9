#define G_LOG_DOMAIN "natter-test"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "natter-test-pg.h"
#include "natter-test-redis.h"
#include "natter-test-server.h"

/* The database every natterd's is copied from, on PostgreSQL: one the
 * schema is made in once (natter_test_init). */
#define PG_TEMPLATE_ENV "NATTER_TEST_PG_TEMPLATE"

struct _NatterTestServer {
  GSubprocess      *process;
  GDataInputStream *stdout_data;
  char             *data_dir;
  gboolean          owns_data_dir;
  char             *config_path;
  char             *config_text;
  char            **extra_args;
  char             *log_path;     /* natterd's stderr, or NULL: inherited */
  char             *database;     /* --database, or NULL: SQLite in data_dir */
  guint16           port;
  gboolean          tls;
  gboolean          exited;
  /* Cluster mode (natter_test_cluster_size() > 1), on the first node
   * only: the other nodes, the Redis they share, its address, and how
   * many clients were made from this server (they alternate). */
  GPtrArray        *peers;        /* NatterTestServer * */
  NatterTestRedis  *redis;
  char             *bus;
  guint             n_clients;
  guint             n_joined;     /* nodes started by a test on its database */
};

/* The first nodes of the clusters that are running, to find a cluster
 * by its database (a test that starts a natterd on another's database
 * adds a node to that cluster). */
static GPtrArray *running_clusters;

guint
natter_test_deadline_ms (void)
{
  static guint deadline = 0;

  if (deadline == 0)
    {
      const char *scale = g_getenv ("NATTER_TEST_TIMEOUT_SCALE");
      double factor = scale != NULL ? g_ascii_strtod (scale, NULL) : 1.0;

      if (factor < 1.0)
        factor = 1.0;
      deadline = (guint) (10000 * factor);
    }
  return deadline;
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
natter_test_wait_until (GMainContext   *context,
                        const gboolean *done,
                        guint           timeout_ms)
{
  gboolean timed_out = FALSE;
  GSource *timeout;

  if (*done)
    return TRUE;

  timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timeout, set_flag_cb, &timed_out, NULL);
  g_source_attach (timeout, context);

  while (!*done && !timed_out)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_source_unref (timeout);
  return *done;
}

/* --- waiting for the "listening" line --- */

typedef struct {
  gboolean  done;
  char     *line;
  GError   *error;
} LineWait;

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  LineWait *wait = user_data;

  wait->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                          result, NULL, &wait->error);
  wait->done = TRUE;
}

/* Reads stdout lines until "listening 127.0.0.1:PORT"; returns the port. */
static guint16
wait_for_listening (NatterTestServer *s)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  gint64 end = g_get_monotonic_time () + 3 * (gint64) natter_test_deadline_ms () * 1000;

  g_main_context_push_thread_default (context);

  for (;;)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      LineWait wait = { FALSE, NULL, NULL };
      gint64 left_ms = (end - g_get_monotonic_time ()) / 1000;

      if (left_ms <= 0)
        left_ms = 1;

      g_data_input_stream_read_line_async (s->stdout_data, G_PRIORITY_DEFAULT,
                                           cancellable, read_line_cb, &wait);
      if (!natter_test_wait_until (context, &wait.done, (guint) left_ms))
        {
          g_cancellable_cancel (cancellable);
          while (!wait.done)
            g_main_context_iteration (context, TRUE);
          g_clear_error (&wait.error);
          g_free (wait.line);
          g_main_context_pop_thread_default (context);
          g_error ("natterd did not print its \"listening\" line within %u ms",
                   3 * natter_test_deadline_ms ());
        }

      if (wait.error != NULL)
        g_error ("reading natterd's stdout: %s", wait.error->message);
      if (wait.line == NULL)
        {
          g_main_context_pop_thread_default (context);
          g_error ("natterd closed its stdout (exited?) before printing \"listening\"");
        }

      if (g_str_has_prefix (wait.line, "listening "))
        {
          const char *colon = strrchr (wait.line, ':');
          guint64 port = 0;

          if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
            g_error ("natterd printed a bad listening line: %s", wait.line);
          g_free (wait.line);
          g_main_context_pop_thread_default (context);
          return (guint16) port;
        }
      g_test_message ("natterd stdout: %s", wait.line);
      g_free (wait.line);
    }
}

/* In the forked child before exec: natterd dies with the test process, so
 * a test that aborts leaves no server behind. */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
launch (NatterTestServer *s)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *debug = NULL;
  g_autoptr(GError) error = NULL;
  const char *path = g_getenv ("NATTERD_PATH");
  GInputStream *out;

  if (path == NULL || *path == '\0')
    g_error ("NATTERD_PATH is not set (run the tests through meson)");

  g_ptr_array_add (argv, g_strdup (path));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", s->port));
  g_ptr_array_add (argv, g_strdup ("--data-dir"));
  g_ptr_array_add (argv, g_strdup (s->data_dir));
  if (s->config_path != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--config"));
      g_ptr_array_add (argv, g_strdup (s->config_path));
    }
  if (!s->tls)
    g_ptr_array_add (argv, g_strdup ("--no-tls"));
  for (guint i = 0; s->extra_args != NULL && s->extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (s->extra_args[i]));
  if (s->database == NULL && natter_test_on_postgresql () &&
      !g_strv_contains ((const char *const *) s->extra_args, "--database"))
    {
      g_autoptr(NatterTestPg) pg = natter_test_pg_attach ();

      g_assert_nonnull (pg);
      /* Named after the data dir: a restart, or another server on the
       * same dir, finds the same data, as on SQLite. */
      s->database = natter_test_pg_database_for (pg, s->data_dir, g_getenv (PG_TEMPLATE_ENV));
    }
  if (s->database != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--database"));
      g_ptr_array_add (argv, g_strdup (s->database));
    }
  g_ptr_array_add (argv, NULL);

  /* The environment passes through (ASAN_OPTIONS, G_DEBUG, …); stderr too,
   * so natterd's warnings land in the test log. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* A critical in natterd is a bug (a write on the main loop's store
   * connection, say): it fails the test. */
  g_subprocess_launcher_setenv (launcher, "G_DEBUG",
                                g_getenv ("G_DEBUG") != NULL ?
                                  (debug = g_strconcat (g_getenv ("G_DEBUG"), ",fatal-criticals", NULL)) :
                                  "fatal-criticals",
                                TRUE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  if (s->log_path != NULL)
    {
      /* Appended to, so a restart keeps the earlier log. */
      int fd = open (s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

      g_assert_cmpint (fd, >=, 0);
      g_subprocess_launcher_take_stderr_fd (launcher, fd);
      g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
    }
  s->process = g_subprocess_launcher_spawnv (launcher,
                                             (const char *const *) argv->pdata,
                                             &error);
  if (s->process == NULL)
    g_error ("starting %s: %s", path, error->message);
  s->exited = FALSE;

  out = g_subprocess_get_stdout_pipe (s->process);
  g_clear_object (&s->stdout_data);
  s->stdout_data = g_data_input_stream_new (out);
  g_data_input_stream_set_newline_type (s->stdout_data, G_DATA_STREAM_NEWLINE_TYPE_LF);

  s->port = wait_for_listening (s);
}

guint
natter_test_cluster_size (void)
{
  const char *n = g_getenv ("NATTER_TEST_CLUSTER");
  guint64 size = 1;

  if (n == NULL || *n == '\0' || !natter_test_on_postgresql ())
    return 1;
  if (!g_ascii_string_to_unsigned (n, 10, 1, 9, &size, NULL))
    g_error ("NATTER_TEST_CLUSTER=%s: expected a number of nodes from 1 to 9", n);
  return (guint) size;
}

static gboolean
args_contain (char **args,
              const char *arg)
{
  return args != NULL && g_strv_contains ((const char *const *) args, arg);
}

static const char *
arg_value (char **args,
           const char *arg)
{
  for (guint i = 0; args != NULL && args[i] != NULL && args[i + 1] != NULL; i++)
    if (strcmp (args[i], arg) == 0)
      return args[i + 1];
  return NULL;
}

/* The running cluster on @database, or NULL. */
static NatterTestServer *
cluster_on_database (const char *database)
{
  for (guint i = 0; database != NULL && running_clusters != NULL && i < running_clusters->len; i++)
    {
      NatterTestServer *first = running_clusters->pdata[i];

      if (g_strcmp0 (first->database, database) == 0)
        return first;
    }
  return NULL;
}

static char *
node_name (guint i)
{
  return g_strdup_printf ("node-%c", 'a' + (char) i);
}

/* A node more of @first's cluster: its own temporary data dir (its
 * certificate, its files), the same database, bus, config, TLS mode and
 * log, an ephemeral port. */
static NatterTestServer *
cluster_node_new (NatterTestServer *first,
                  char            **extra_args)
{
  NatterTestServer *s = g_new0 (NatterTestServer, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = node_name (1 + first->peers->len);
  g_autoptr(GStrvBuilder) args = g_strv_builder_new ();

  s->data_dir = g_dir_make_tmp ("natter-test-XXXXXX", &error);
  g_assert_no_error (error);
  s->owns_data_dir = TRUE;
  if (first->config_text != NULL)
    {
      s->config_text = g_strdup (first->config_text);
      s->config_path = g_strdup_printf ("%s.conf", s->data_dir);
      g_file_set_contents (s->config_path, s->config_text, -1, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    {
      /* The database, bus and name are the cluster's. */
      if (g_str_equal (extra_args[i], "--database") || g_str_equal (extra_args[i], "--bus") ||
          g_str_equal (extra_args[i], "--node-name"))
        {
          if (extra_args[i + 1] != NULL)
            i++;
          continue;
        }
      g_strv_builder_add (args, extra_args[i]);
    }
  g_strv_builder_add_many (args, "--bus", first->bus, "--node-name", name, NULL);
  s->extra_args = g_strv_builder_end (args);
  s->database = g_strdup (first->database);
  s->log_path = g_strdup (first->log_path);
  s->tls = first->tls;
  launch (s);
  g_ptr_array_add (first->peers, s);
  return s;
}

/* In cluster mode, before the first launch of @s: a Redis, and @s's
 * --bus and --node-name; or, when @s is started on the database of a
 * running cluster (a test's "second natterd" on another's database),
 * that cluster's bus and a name of its own: a node more of it. Nothing
 * when @s was given a bus (the test makes its own cluster). */
static void
cluster_prepare (NatterTestServer *s)
{
  g_autofree char *skip = NULL;
  g_autofree char *name = node_name (0);
  g_autoptr(GStrvBuilder) args = NULL;

  if (natter_test_cluster_size () < 2 || args_contain (s->extra_args, "--bus"))
    return;
  if (args_contain (s->extra_args, "--database"))
    {
      NatterTestServer *first = cluster_on_database (arg_value (s->extra_args, "--database"));
      g_autofree char *joined_name = NULL;

      if (first == NULL)
        return;
      joined_name = node_name (natter_test_cluster_size () + first->n_joined++);
      args = g_strv_builder_new ();
      g_strv_builder_addv (args, (const char **) s->extra_args);
      g_strv_builder_add_many (args, "--bus", first->bus, "--node-name", joined_name, NULL);
      g_strfreev (s->extra_args);
      s->extra_args = g_strv_builder_end (args);
      return;
    }
  s->redis = natter_test_redis_start (&skip);
  if (s->redis == NULL)
    g_error ("cluster mode: %s", skip);
  s->bus = natter_test_redis_address (s->redis);
  s->peers = g_ptr_array_new ();
  args = g_strv_builder_new ();
  g_strv_builder_addv (args, (const char **) s->extra_args);
  g_strv_builder_add_many (args, "--bus", s->bus, "--node-name", name, NULL);
  g_strfreev (s->extra_args);
  s->extra_args = g_strv_builder_end (args);
}

/* In cluster mode, after the first launch of @s: the other nodes of its
 * cluster. */
static void
cluster_start_peers (NatterTestServer *s)
{
  if (s->peers != NULL)
    {
      for (guint i = 1; i < natter_test_cluster_size (); i++)
        cluster_node_new (s, s->extra_args);
      if (running_clusters == NULL)
        running_clusters = g_ptr_array_new ();
      g_ptr_array_add (running_clusters, s);
    }
}

NatterTestServer *
natter_test_server_start_full (const char        *data_dir,
                               guint16            port,
                               gboolean           tls,
                               const char        *config_text,
                               const char *const *extra_args)
{
  NatterTestServer *s = g_new0 (NatterTestServer, 1);
  g_autoptr(GError) error = NULL;

  if (data_dir != NULL)
    s->data_dir = g_strdup (data_dir);
  else
    {
      s->data_dir = g_dir_make_tmp ("natter-test-XXXXXX", &error);
      g_assert_no_error (error);
      s->owns_data_dir = TRUE;
    }

  if (config_text != NULL)
    {
      s->config_text = g_strdup (config_text);
      /* Outside the data dir, so natterd sees only its own files there. */
      s->config_path = g_strdup_printf ("%s.conf", s->data_dir);
      g_file_set_contents (s->config_path, config_text, -1, &error);
      g_assert_no_error (error);
    }

  s->extra_args = extra_args != NULL ? g_strdupv ((char **) extra_args) : g_new0 (char *, 1);
  s->port = port;
  s->tls = tls;
  cluster_prepare (s);
  launch (s);
  cluster_start_peers (s);
  return s;
}

NatterTestServer *
natter_test_server_start (const char        *config_text,
                          const char *const *extra_args)
{
  return natter_test_server_start_full (NULL, 0, TRUE, config_text, extra_args);
}

/* natter_test_server_start_full() up to the launch, so that a caller can
 * set options first. */
static NatterTestServer *
server_new (const char *config_text)
{
  NatterTestServer *s = g_new0 (NatterTestServer, 1);
  g_autoptr(GError) error = NULL;

  s->data_dir = g_dir_make_tmp ("natter-test-XXXXXX", &error);
  g_assert_no_error (error);
  s->owns_data_dir = TRUE;
  if (config_text != NULL)
    {
      s->config_text = g_strdup (config_text);
      s->config_path = g_strdup_printf ("%s.conf", s->data_dir);
      g_file_set_contents (s->config_path, config_text, -1, &error);
      g_assert_no_error (error);
    }
  s->extra_args = g_new0 (char *, 1);
  s->tls = TRUE;
  return s;
}

NatterTestServer *
natter_test_server_start_logged (const char *config_text,
                                 const char *log_path)
{
  NatterTestServer *s = server_new (config_text);

  s->log_path = g_strdup (log_path);
  cluster_prepare (s);
  launch (s);
  cluster_start_peers (s);
  return s;
}

typedef struct {
  gboolean done;
  gboolean ok;
} ExitWait;

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  ExitWait *wait = user_data;

  wait->ok = g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  wait->done = TRUE;
}

NatterTestServer *
natter_test_server_start_logged_in (const char *data_dir,
                                    const char *config_text,
                                    const char *log_path)
{
  NatterTestServer *s = server_new (config_text);

  /* The folder server_new made is not used: the given one is. */
  g_rmdir (s->data_dir);
  g_free (s->data_dir);
  s->data_dir = g_strdup (data_dir);
  s->owns_data_dir = FALSE;
  s->log_path = g_strdup (log_path);
  cluster_prepare (s);
  launch (s);
  cluster_start_peers (s);
  return s;
}

#define NOBODY 65534

static void
unprivileged_child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  /* Groups first, while still allowed to change them. */
  if (setgroups (0, NULL) != 0 || setgid (NOBODY) != 0 || setuid (NOBODY) != 0)
    _exit (126);
}

typedef struct {
  gboolean  done;
  GBytes   *out;
  GBytes   *err;
  GError   *error;
} Communicate;

static void
communicate_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &c->out, &c->err, &c->error);
  c->done = TRUE;
}

/* Empty bytes may have no data at all. */
static char *
bytes_to_string (GBytes *bytes)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  return size > 0 ? g_strndup (data, size) : g_strdup ("");
}

int
natter_test_run_natterd (const char *const  *args,
                         gboolean            unprivileged,
                         char              **out_stdout,
                         char              **out_stderr)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  const char *path = g_getenv ("NATTERD_PATH");
  g_autofree char *database = NULL;
  Communicate c = { FALSE, NULL, NULL, NULL };

  if (path == NULL || *path == '\0')
    g_error ("NATTERD_PATH is not set (run the tests through meson)");
  g_ptr_array_add (argv, (gpointer) path);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  /* On PostgreSQL, the database of that data dir (see launch). */
  if (natter_test_on_postgresql () && !g_strv_contains (args, "--database"))
    for (guint i = 0; args[i] != NULL && args[i + 1] != NULL; i++)
      if (strcmp (args[i], "--data-dir") == 0)
        {
          g_autoptr(NatterTestPg) pg = natter_test_pg_attach ();

          g_assert_nonnull (pg);
          database = natter_test_pg_database_for (pg, args[i + 1], g_getenv (PG_TEMPLATE_ENV));
          g_ptr_array_add (argv, (gpointer) "--database");
          g_ptr_array_add (argv, database);
          break;
        }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LANG");
  g_subprocess_launcher_set_child_setup (launcher,
                                         unprivileged && geteuid () == 0 ? unprivileged_child_setup
                                                                         : child_setup,
                                         NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  if (process == NULL)
    g_error ("starting %s: %s", path, error->message);

  g_main_context_push_thread_default (context);
  g_subprocess_communicate_async (process, NULL, NULL, communicate_cb, &c);
  if (!natter_test_wait_until (context, &c.done, 3 * natter_test_deadline_ms ()))
    {
      g_subprocess_force_exit (process);
      while (!c.done)
        g_main_context_iteration (context, TRUE);
      g_error ("natterd did not exit within %u ms", 3 * natter_test_deadline_ms ());
    }
  {
    ExitWait wait = { FALSE, FALSE };

    g_subprocess_wait_async (process, NULL, wait_cb, &wait);
    natter_test_wait_until (context, &wait.done, natter_test_deadline_ms ());
    g_assert_true (wait.done);
  }
  g_main_context_pop_thread_default (context);
  g_assert_no_error (c.error);

  if (g_subprocess_get_if_signaled (process))
    g_error ("natterd died of signal %d", g_subprocess_get_term_sig (process));
  if (out_stdout != NULL)
    *out_stdout = bytes_to_string (c.out);
  *out_stderr = bytes_to_string (c.err);
  g_bytes_unref (c.out);
  g_bytes_unref (c.err);
  g_test_message ("natterd stderr: %s", *out_stderr);
  if (unprivileged && geteuid () == 0 && g_subprocess_get_exit_status (process) == 126)
    g_error ("could not run natterd as uid %d", NOBODY);
  return g_subprocess_get_exit_status (process);
}

static void
chown_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (lchown (path, NOBODY, NOBODY) != 0)
    g_error ("chown %s: %s", path, g_strerror (errno));
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      chown_tree (child);
    }
}

void
natter_test_give_to_nobody (const char *path)
{
  g_autofree char *parent = NULL;

  if (geteuid () != 0)
    return;
  chown_tree (path);
  /* Let it through (not read) the folders above, up to $TMPDIR: the
   * test's own temporary folders are private to root. Nothing outside
   * them is changed. */
  parent = g_path_get_dirname (path);
  while (g_str_has_prefix (parent, g_get_tmp_dir ()))
    {
      struct stat st;
      char *up;

      if (stat (parent, &st) == 0 && (st.st_mode & S_IXOTH) == 0)
        g_assert_cmpint (chmod (parent, (st.st_mode & 07777) | S_IXOTH), ==, 0);
      up = g_path_get_dirname (parent);
      g_free (parent);
      parent = up;
    }
}

GSocket *
natter_test_closed_port_new (guint16 *out_port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *out_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return socket;
}

guint16
natter_test_server_get_port (NatterTestServer *s)
{
  return s->port;
}

guint16
natter_test_server_next_client_port (NatterTestServer *s)
{
  guint n;

  if (s->peers == NULL || s->peers->len == 0)
    return s->port;
  n = s->n_clients++ % (1 + s->peers->len);
  if (n == 0)
    return s->port;
  return ((NatterTestServer *) s->peers->pdata[n - 1])->port;
}

guint
natter_test_server_get_n_nodes (NatterTestServer *s)
{
  return 1 + (s->peers != NULL ? s->peers->len : 0);
}

NatterTestServer *
natter_test_server_get_node (NatterTestServer *s,
                             guint             i)
{
  if (i == 0)
    return s;
  g_assert_nonnull (s->peers);
  g_assert_cmpuint (i, <=, s->peers->len);
  return s->peers->pdata[i - 1];
}

const char *
natter_test_server_get_data_dir (NatterTestServer *s)
{
  return s->data_dir;
}

gboolean
natter_test_server_get_tls (NatterTestServer *s)
{
  return s->tls;
}

const char *
natter_test_server_get_database (NatterTestServer *s)
{
  if (s->database != NULL)
    return s->database;
  for (guint i = 0; s->extra_args[i] != NULL && s->extra_args[i + 1] != NULL; i++)
    if (strcmp (s->extra_args[i], "--database") == 0)
      return s->extra_args[i + 1];
  return NULL;
}

/* Waits for the process to exit; FALSE when it is still running at the
 * deadline. */
static gboolean
wait_exit (NatterTestServer *s,
           guint             timeout_ms)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ExitWait wait = { FALSE, FALSE };
  gboolean exited;

  if (s->exited)
    return TRUE;

  g_main_context_push_thread_default (context);
  g_subprocess_wait_async (s->process, cancellable, wait_cb, &wait);
  exited = natter_test_wait_until (context, &wait.done, timeout_ms);
  if (!exited)
    {
      g_cancellable_cancel (cancellable);
      while (!wait.done)
        g_main_context_iteration (context, TRUE);
    }
  g_main_context_pop_thread_default (context);

  /* A cancelled wait may still have raced with the exit. */
  if (!exited)
    exited = g_subprocess_get_identifier (s->process) == NULL;
  s->exited = exited;
  return exited;
}

gboolean
natter_test_server_is_running (NatterTestServer *s)
{
  if (s->process == NULL || s->exited)
    return FALSE;
  /* The identifier goes NULL once GLib has reaped the child. Iterate the
   * worker context that reaps it by a zero-length wait. */
  return !wait_exit (s, 1);
}

void
natter_test_server_assert_alive (NatterTestServer *s)
{
  /* Every node of a cluster: one that crashed is a bug whichever. */
  for (guint i = 0; s->peers != NULL && i < s->peers->len; i++)
    natter_test_server_assert_alive (s->peers->pdata[i]);
  if (!natter_test_server_is_running (s))
    {
      if (g_subprocess_get_if_signaled (s->process))
        g_error ("natterd died of signal %d", g_subprocess_get_term_sig (s->process));
      g_error ("natterd exited with status %d", g_subprocess_get_status (s->process));
    }
}

void
natter_test_server_stop (NatterTestServer *s)
{
  g_assert_nonnull (s->process);
  if (!s->exited)
    {
      g_subprocess_send_signal (s->process, SIGTERM);
      if (!wait_exit (s, 3 * natter_test_deadline_ms ()))
        {
          g_subprocess_force_exit (s->process);
          wait_exit (s, natter_test_deadline_ms ());
          g_error ("natterd did not exit within %u ms of SIGTERM", 3 * natter_test_deadline_ms ());
        }
    }
  if (g_subprocess_get_if_signaled (s->process))
    g_error ("natterd died of signal %d (expected a clean exit on SIGTERM)",
             g_subprocess_get_term_sig (s->process));
  if (g_subprocess_get_exit_status (s->process) != 0)
    g_error ("natterd exited with status %d after SIGTERM (expected 0)",
             g_subprocess_get_exit_status (s->process));
}

void
natter_test_server_kill (NatterTestServer *s)
{
  g_assert_nonnull (s->process);
  if (s->exited)
    return;
  g_subprocess_force_exit (s->process);
  if (!wait_exit (s, 3 * natter_test_deadline_ms ()))
    g_error ("natterd did not die of SIGKILL");
}

void
natter_test_server_restart (NatterTestServer *s)
{
  if (s->process != NULL && !s->exited)
    natter_test_server_stop (s);
  g_clear_object (&s->stdout_data);
  g_clear_object (&s->process);
  launch (s);
}

static void
remove_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, NULL);
  if (children != NULL)
    {
      GFileInfo *info;

      while ((info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
        {
          g_autoptr(GFile) child = g_file_get_child (file, g_file_info_get_name (info));

          remove_tree (child);
          g_object_unref (info);
        }
    }
  g_file_delete (file, NULL, NULL);
}

void
natter_test_server_free (NatterTestServer *s)
{
  if (s == NULL)
    return;
  /* A cluster's other nodes first (each asserted to exit cleanly). */
  if (s->peers != NULL)
    {
      for (guint i = s->peers->len; i > 0; i--)
        natter_test_server_free (s->peers->pdata[i - 1]);
      g_ptr_array_unref (s->peers);
      if (running_clusters != NULL)
        g_ptr_array_remove (running_clusters, s);
    }
  if (s->process != NULL && !s->exited)
    natter_test_server_stop (s);
  g_clear_object (&s->stdout_data);
  g_clear_object (&s->process);
  if (s->owns_data_dir)
    {
      g_autoptr(GFile) dir = g_file_new_for_path (s->data_dir);

      remove_tree (dir);
    }
  if (s->config_path != NULL)
    g_unlink (s->config_path);
  g_free (s->config_path);
  g_free (s->config_text);
  g_free (s->data_dir);
  g_free (s->log_path);
  g_free (s->database);
  g_strfreev (s->extra_args);
  g_clear_pointer (&s->redis, natter_test_redis_free);
  g_free (s->bus);
  g_free (s);
}

/* --- running tests --- */

typedef struct {
  GTestFunc  func;
  char      *skip_reason;
  gboolean   always_skip;  /* not even with $NATTER_TEST_RUN_SKIPPED */
} IsolatedTest;

/* Why every test of this run is skipped (no PostgreSQL to run on), or NULL. */
static char *all_skip_reason;

/* Every test added, kept reachable for the life of the process: a child
 * exits from inside g_test_run() without freeing the suite. */
static GPtrArray *isolated_tests;

static IsolatedTest *
isolated_test_new (GTestFunc   func,
                   const char *skip_reason)
{
  IsolatedTest *t = g_new0 (IsolatedTest, 1);

  t->func = func;
  t->skip_reason = g_strdup (skip_reason);
  if (isolated_tests == NULL)
    isolated_tests = g_ptr_array_new ();
  g_ptr_array_add (isolated_tests, t);
  return t;
}

static void
run_isolated (gconstpointer data)
{
  const IsolatedTest *t = data;

  if (g_test_subprocess ())
    {
      t->func ();
      return;
    }
  if (all_skip_reason != NULL)
    {
      g_test_skip (all_skip_reason);
      return;
    }
  if (t->skip_reason != NULL && (t->always_skip || g_getenv ("NATTER_TEST_RUN_SKIPPED") == NULL))
    {
      g_test_skip (t->skip_reason);
      return;
    }
  /* The child's temporary files (natterd data dirs) go in a directory of
   * ours, removed afterwards even if the child aborted. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *old_tmpdir = g_strdup (g_getenv ("TMPDIR"));
    g_autofree char *tmpdir = g_dir_make_tmp ("natter-tests-XXXXXX", &error);
    g_autoptr(GFile) dir = NULL;

    g_assert_no_error (error);
    g_setenv ("TMPDIR", tmpdir, TRUE);
    /* A generous bound: every wait inside has its own deadline. */
    g_test_trap_subprocess (NULL, (guint64) 60 * natter_test_deadline_ms () * 1000,
                            G_TEST_SUBPROCESS_INHERIT_STDERR);
    if (old_tmpdir != NULL)
      g_setenv ("TMPDIR", old_tmpdir, TRUE);
    else
      g_unsetenv ("TMPDIR");
    dir = g_file_new_for_path (tmpdir);
    remove_tree (dir);
  }
  g_test_trap_assert_passed ();
}

gboolean
natter_test_on_postgresql (void)
{
  return g_strcmp0 (g_getenv ("NATTER_TEST_DATABASE"), "postgresql") == 0;
}

/* The run's PostgreSQL server, stopped when the program exits. */
static NatterTestPg *run_pg;

static void
stop_run_pg (void)
{
  g_clear_pointer (&run_pg, natter_test_pg_free);
}

void
natter_test_init (int    *argc,
                  char ***argv)
{
  g_test_init (argc, argv, NULL);
  /* In the parent, a failed child marks its test failed and the run goes
   * on; in the child, assertions stay fatal. */
  if (!g_test_subprocess ())
    g_test_set_nonfatal_assertions ();

  /* One PostgreSQL server per test program, started by the parent: a
   * server costs about a second (initdb), a database a few milliseconds.
   * The tests (children) find it in the environment and make a database
   * per data dir (launch). */
  /* Cluster mode: every test is skipped without Redis, as without
   * PostgreSQL. */
  if (natter_test_cluster_size () > 1 && !g_test_subprocess ())
    {
      const char *redis = g_getenv ("NATTER_REDIS_SERVER");

      if (redis == NULL)
        redis = "/usr/bin/redis-server";
      if (!g_file_test (redis, G_FILE_TEST_IS_EXECUTABLE))
        all_skip_reason = g_strdup_printf ("cluster mode needs Redis (no %s; "
                                           "build-aux/install-deps.sh installs redis-server)",
                                           redis);
    }
  if (natter_test_on_postgresql () && !g_test_subprocess () && all_skip_reason == NULL)
    {
      run_pg = natter_test_pg_start (&all_skip_reason);
      if (run_pg != NULL)
        {
          g_autofree char *template_db = NULL;
          g_autofree char *conninfo = NULL;

          natter_test_pg_export (run_pg);
          atexit (stop_run_pg);
          /* natterd makes its schema in an empty database in about half
           * a second; once here, then every database is a copy of this
           * one (CREATE DATABASE ... TEMPLATE), which costs the same as
           * an empty one. The store's tests test the migrations. */
          conninfo = natter_test_pg_new_database (run_pg, &template_db);
          {
            const char *args[] = { "--database", conninfo, NULL };
            NatterTestServer *s = natter_test_server_start (NULL, args);

            natter_test_server_free (s);
          }
          g_setenv (PG_TEMPLATE_ENV, template_db, TRUE);
        }
    }
}

void
natter_test_add (const char *path,
                 GTestFunc   func)
{
  g_test_add_data_func (path, isolated_test_new (func, NULL), run_isolated);
}

void
natter_test_add_skip (const char *path,
                      GTestFunc   func,
                      const char *reason)
{
  g_test_add_data_func (path, isolated_test_new (func, reason), run_isolated);
}

void
natter_test_add_sqlite_only (const char *path,
                             GTestFunc   func,
                             const char *why)
{
  IsolatedTest *t;

  if (!natter_test_on_postgresql ())
    {
      natter_test_add (path, func);
      return;
    }
  t = isolated_test_new (func, NULL);
  t->skip_reason = g_strdup_printf ("SQLite only: %s", why);
  t->always_skip = TRUE;
  g_test_add_data_func (path, t, run_isolated);
}

void
natter_test_add_pg_only (const char *path,
                         GTestFunc   func,
                         const char *why)
{
  IsolatedTest *t;

  if (natter_test_on_postgresql ())
    {
      natter_test_add (path, func);
      return;
    }
  t = isolated_test_new (func, NULL);
  t->skip_reason = g_strdup_printf ("PostgreSQL only (meson test --suite server-pg runs it): %s", why);
  t->always_skip = TRUE;
  g_test_add_data_func (path, t, run_isolated);
}

void
natter_test_add_single_node (const char *path,
                             GTestFunc   func,
                             const char *why)
{
  IsolatedTest *t;

  if (natter_test_cluster_size () < 2)
    {
      natter_test_add (path, func);
      return;
    }
  t = isolated_test_new (func, NULL);
  t->skip_reason = g_strdup_printf ("one node only (the suite server-pg runs it): %s", why);
  t->always_skip = TRUE;
  g_test_add_data_func (path, t, run_isolated);
}

void
natter_test_add_cluster_gap (const char *path,
                             GTestFunc   func,
                             const char *why)
{
  g_autofree char *reason = NULL;

  if (natter_test_cluster_size () < 2)
    {
      natter_test_add (path, func);
      return;
    }
  reason = g_strdup_printf ("fails on a cluster: %s", why);
  g_test_add_data_func (path, isolated_test_new (func, reason), run_isolated);
}

void
natter_test_note (const char *format,
                  ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  if (g_test_subprocess ())
    g_printerr ("# %s\n", text);
  else
    g_test_message ("%s", text);
}
