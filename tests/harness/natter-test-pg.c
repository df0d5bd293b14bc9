/* natter-test-pg.c: a throw-away PostgreSQL server (natter-test-pg.h). */
#define G_LOG_DOMAIN "natter-test-pg"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "natter-test-pg.h"
#include "natter-test-throwaway.h"

struct _NatterTestPg {
  char    *bindir;
  char    *dir;       /* the socket's directory; data/ and log in it */
  char    *data;
  guint16  port;
  gboolean as_postgres; /* running as root: the server runs as "postgres" */
  gboolean running;
  gboolean owned;     /* FALSE: attached to another process's server */
  char    *settings;  /* "-c name=value ...": after the test defaults, so they win; or NULL */
  guint    databases;
  NatterTestWatcher watcher; /* stops the server if this process dies first */
};

#define DEFAULT_BINDIR "/usr/lib/postgresql/15/bin"

/* Runs a server binary (as "postgres" when we are root) to its end;
 * asserts that it succeeded, showing its output when not. */
static void
run_tool (NatterTestPg *self,
          const char   *tool,
          const char   *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "LC_ALL", "C", TRUE);
  int status = 0;

  if (self->as_postgres)
    {
      g_ptr_array_add (argv, g_strdup ("runuser"));
      g_ptr_array_add (argv, g_strdup ("-u"));
      g_ptr_array_add (argv, g_strdup ("postgres"));
      g_ptr_array_add (argv, g_strdup ("--"));
    }
  g_ptr_array_add (argv, g_build_filename (self->bindir, tool, NULL));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  /* LC_ALL=C: the server's own messages stay in English. */
  if (!g_spawn_sync (self->dir, (char **) argv->pdata, env,
                     G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_autofree char *log_path = g_build_filename (self->dir, "log", NULL);
      g_autofree char *log = NULL;

      g_file_get_contents (log_path, &log, NULL, NULL);
      g_printerr ("%s failed:\n%s%s\nserver log:\n%s\n", tool, out ? out : "", err ? err : "",
                  log ? log : "(none)");
      g_assert_no_error (error);
    }
}

/* The server's postmaster.pid: there while it runs (or after it died
 * without cleaning up), whichever process started it. */
static gboolean
server_pid_file_exists (NatterTestPg *self)
{
  g_autofree char *pid_file = g_build_filename (self->data, "postmaster.pid", NULL);

  return g_file_test (pid_file, G_FILE_TEST_EXISTS);
}

/* pg_ctl stop in @mode ("fast": every session is cut and the server shuts
 * down cleanly; "immediate": it dies at once, as in a crash, and recovers
 * from its WAL at the next start), waiting for it (pg_ctl -w, with a
 * deadline). */
static void
stop_server (NatterTestPg *self,
             const char   *mode)
{
  const char *args[] = { "-D", self->data, "-m", mode, "-w", "-t", "60", "stop", NULL };

  run_tool (self, "pg_ctl", args);
  self->running = FALSE;
}

static void
start_server (NatterTestPg *self)
{
  g_autofree char *options = NULL;
  g_autofree char *log = g_build_filename (self->dir, "log", NULL);

  /* fsync off: a test server holds nothing worth keeping, and the tests
   * of durability are natterd's, not PostgreSQL's. */
  options = g_strdup_printf ("-k %s -p %u -c listen_addresses=127.0.0.1 -c fsync=off "
                             "-c full_page_writes=off -c max_connections=50 %s",
                             self->dir, self->port, self->settings != NULL ? self->settings : "");
  {
    const char *args[] = { "-D", self->data, "-l", log, "-o", options, "-w", "-t", "60", "start", NULL };
    run_tool (self, "pg_ctl", args);
  }
  self->running = TRUE;
}

/* A test that dies first leaves no server: the watcher stops it at once
 * and removes its directory. */
static void
start_watcher (NatterTestPg *self)
{
  g_autofree char *pg_ctl = g_build_filename (self->bindir, "pg_ctl", NULL);
  g_autofree char *script = g_strdup_printf ("%s%s -D '%s' -m immediate -w stop >/dev/null 2>&1; rm -rf '%s'",
                                             self->as_postgres ? "runuser -u postgres -- " : "",
                                             pg_ctl, self->data, self->dir);

  natter_test_watcher_start (&self->watcher, script);
}

NatterTestPg *
natter_test_pg_start (char **out_skip)
{
  return natter_test_pg_start_with (NULL, out_skip);
}

NatterTestPg *
natter_test_pg_start_with (const char *const  *settings,
                           char              **out_skip)
{
  NatterTestPg *self;
  const char *bindir = g_getenv ("NATTER_PG_BINDIR");
  g_autofree char *initdb = NULL;
  g_autoptr(GError) error = NULL;

  if (bindir == NULL)
    bindir = DEFAULT_BINDIR;
  initdb = g_build_filename (bindir, "initdb", NULL);
  if (!g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE))
    {
      *out_skip = g_strdup_printf ("PostgreSQL server binaries not installed (no %s; "
                                   "build-aux/install-deps.sh installs postgresql)", initdb);
      return NULL;
    }

  self = g_new0 (NatterTestPg, 1);
  self->bindir = g_strdup (bindir);
  self->dir = g_dir_make_tmp ("natter-pg-XXXXXX", &error);
  g_assert_no_error (error);
  self->data = g_build_filename (self->dir, "data", NULL);
  if (getuid () == 0)
    {
      struct passwd *pw = getpwnam ("postgres");

      if (pw == NULL)
        {
          *out_skip = g_strdup ("running as root and there is no 'postgres' user to run PostgreSQL as");
          g_rmdir (self->dir);
          g_free (self->dir);
          g_free (self->data);
          g_free (self->bindir);
          g_free (self);
          return NULL;
        }
      self->as_postgres = TRUE;
      g_assert_cmpint (chown (self->dir, pw->pw_uid, pw->pw_gid), ==, 0);
    }

  {
    const char *args[] = { "-D", self->data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                           "--locale=C", "--no-sync", "--no-instructions", NULL };
    run_tool (self, "initdb", args);
  }
  if (settings != NULL && settings[0] != NULL)
    {
      GString *options = g_string_new (NULL);

      for (guint i = 0; settings[i] != NULL; i++)
        g_string_append_printf (options, "%s-c %s", i > 0 ? " " : "", settings[i]);
      self->settings = g_string_free (options, FALSE);
    }
  self->port = natter_test_free_port ();
  self->owned = TRUE;
  start_watcher (self);
  start_server (self);
  return self;
}

#define ENV_DIR "NATTER_TEST_PG_DIR"
#define ENV_PORT "NATTER_TEST_PG_PORT"

void
natter_test_pg_export (NatterTestPg *self)
{
  g_autofree char *port = g_strdup_printf ("%u", self->port);

  g_setenv (ENV_DIR, self->dir, TRUE);
  g_setenv (ENV_PORT, port, TRUE);
}

NatterTestPg *
natter_test_pg_attach (void)
{
  const char *dir = g_getenv (ENV_DIR);
  const char *port = g_getenv (ENV_PORT);
  const char *bindir;
  guint64 number = 0;
  NatterTestPg *self;

  if (dir == NULL || port == NULL)
    return NULL;
  g_assert_true (g_ascii_string_to_unsigned (port, 10, 1, 65535, &number, NULL));
  self = g_new0 (NatterTestPg, 1);
  self->dir = g_strdup (dir);
  self->port = (guint16) number;
  /* Enough to stop and start it (natter_test_pg_stop_immediate). */
  bindir = g_getenv ("NATTER_PG_BINDIR");
  self->bindir = g_strdup (bindir != NULL ? bindir : DEFAULT_BINDIR);
  self->data = g_build_filename (self->dir, "data", NULL);
  self->as_postgres = getuid () == 0;
  self->running = server_pid_file_exists (self);
  return self;
}

char *
natter_test_pg_database_for (NatterTestPg *self,
                             const char   *key,
                             const char   *template_name)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  g_autofree char *name = g_strdup_printf ("natter_%.24s", hash);
  g_autofree char *conninfo = natter_test_pg_conninfo (self, "postgres", NULL);
  const char *values[] = { name };
  PGconn *conn = PQconnectdb (conninfo);
  PGresult *res;

  if (PQstatus (conn) != CONNECTION_OK)
    g_error ("cannot connect to the test server: %s", PQerrorMessage (conn));
  res = PQexecParams (conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL,
                      values, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("looking for database %s: %s", name, PQresultErrorMessage (res));
  if (PQntuples (res) == 0)
    {
      g_autofree char *sql = g_strdup_printf ("CREATE DATABASE %s TEMPLATE %s", name,
                                              template_name != NULL ? template_name : "template1");

      PQclear (res);
      res = PQexec (conn, sql);
      if (PQresultStatus (res) != PGRES_COMMAND_OK)
        g_error ("%s: %s", sql, PQresultErrorMessage (res));
    }
  PQclear (res);
  PQfinish (conn);
  return natter_test_pg_conninfo (self, name, NULL);
}

char *
natter_test_pg_conninfo (NatterTestPg *self,
                         const char   *dbname,
                         const char   *extra)
{
  return g_strdup_printf ("host=%s port=%u dbname=%s user=postgres%s%s", self->dir, self->port,
                          dbname, extra != NULL ? " " : "", extra != NULL ? extra : "");
}

/* Runs @sql in @dbname; the first column of its first row, if any. */
static char *
exec_sql (NatterTestPg *self,
          const char   *dbname,
          const char   *sql)
{
  g_autofree char *conninfo = natter_test_pg_conninfo (self, dbname, NULL);
  PGconn *conn = PQconnectdb (conninfo);
  PGresult *res;
  char *value = NULL;

  if (PQstatus (conn) != CONNECTION_OK)
    g_error ("cannot connect to the test database: %s", PQerrorMessage (conn));
  res = PQexec (conn, sql);
  if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQresultErrorMessage (res));
  if (PQntuples (res) > 0 && PQnfields (res) > 0)
    value = g_strdup (PQgetvalue (res, 0, 0));
  PQclear (res);
  PQfinish (conn);
  return value;
}

void
natter_test_pg_exec (NatterTestPg *self,
                     const char   *dbname,
                     const char   *sql)
{
  g_free (exec_sql (self, dbname, sql));
}

gint64
natter_test_pg_query_int (NatterTestPg *self,
                          const char   *dbname,
                          const char   *sql)
{
  g_autofree char *value = exec_sql (self, dbname, sql);

  g_assert_nonnull (value);
  return g_ascii_strtoll (value, NULL, 10);
}

char *
natter_test_pg_new_database (NatterTestPg  *self,
                             char         **out_name)
{
  /* The process id too: an attached handle (a test's subprocess) counts
   * from 0 again, and must not name an ancestor's database. */
  g_autofree char *name = g_strdup_printf ("natter_%d_%u", (int) getpid (), ++self->databases);
  g_autofree char *sql = g_strdup_printf ("CREATE DATABASE %s", name);
  char *conninfo;

  natter_test_pg_exec (self, "postgres", sql);
  conninfo = natter_test_pg_conninfo (self, name, NULL);
  if (out_name != NULL)
    *out_name = g_steal_pointer (&name);
  return conninfo;
}

void
natter_test_pg_restart (NatterTestPg *self)
{
  stop_server (self, "fast");
  start_server (self);
}

void
natter_test_pg_stop_immediate (NatterTestPg *self)
{
  g_assert_true (self->running);
  stop_server (self, "immediate");
}

void
natter_test_pg_start_again (NatterTestPg *self)
{
  g_assert_false (self->running);
  start_server (self);
}

guint16
natter_test_pg_get_port (NatterTestPg *self)
{
  return self->port;
}

void
natter_test_pg_free (NatterTestPg *self)
{
  if (self == NULL)
    return;
  if (!self->owned)
    {
      g_free (self->bindir);
      g_free (self->dir);
      g_free (self->data);
      g_free (self);
      return;
    }
  natter_test_watcher_stop (&self->watcher);
  /* A test (in a subprocess) may have stopped it and failed before it
   * started it again. */
  if (server_pid_file_exists (self))
    stop_server (self, "fast");
  {
    const char *rm[] = { "rm", "-rf", self->dir, NULL };
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error);
  }
  g_free (self->settings);
  g_free (self->bindir);
  g_free (self->dir);
  g_free (self->data);
  g_free (self);
}
