/* test-startup.c: natterd refusing to start, and what it leaves behind.
 *
 * A data directory natterd may not write (a read-only natter.db, search.db
 * or folder: made, or natterd run once, by another user) stops natterd
 * with a message naming the file and what to check, and exit status 1;
 * nothing in the directory is deleted, made again or changed; nor is a
 * certificate whose key is missing. natterd runs
 * as "nobody" when the test runs as root, since root ignores permissions.
 */
#define G_LOG_DOMAIN "natter-test"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <glib/gstdio.h>

#include "server-test-util.h"

/* A data directory natterd has made and used: natter.db with a user and a
 * message, search.db indexing it, the certificate, the lock file. Handed
 * to the user natterd will run as. */
static char *
make_used_data_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("natter-startup-XXXXXX", &error);

  g_assert_no_error (error);
  {
    g_autoptr(NatterTestServer) srv = natter_test_server_start_full (dir, 0, TRUE, NULL, NULL);
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

    util_make_contacts (alice, bob);
    util_send (alice, "@bob", "kept as it is", "m1");
    natter_test_server_stop (srv);
  }
  natter_test_give_to_nobody (dir);
  return dir;
}

static int
compare_lines (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Every file's name, size, modification time and bytes, except the lock
 * file (natterd writes its pid there before it opens anything) and SQLite's
 * -shm files (shared memory any reader rewrites). */
static char *
snapshot (const char *dir_path)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autofree char *contents = NULL;
      g_autofree char *digest = NULL;
      gsize len = 0;
      GStatBuf st;

      if (g_str_equal (name, "natterd.lock") || g_str_has_suffix (name, "-shm"))
        continue;
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
      g_ptr_array_add (lines, g_strdup_printf ("%s %" G_GINT64_FORMAT " %ld.%09ld %s", name,
                                               (gint64) st.st_size, (long) st.st_mtim.tv_sec,
                                               (long) st.st_mtim.tv_nsec, digest));
    }
  g_ptr_array_sort (lines, compare_lines);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

/* Runs natterd (unprivileged) on @dir, expecting it to refuse to start
 * with status 1; returns its stderr. Asserts that nothing changed. */
static char *
run_refused (const char *dir)
{
  g_autofree char *before = snapshot (dir);
  g_autofree char *after = NULL;
  const char *args[] = { "--listen", "127.0.0.1:0", "--data-dir", dir, NULL };
  char *err = NULL;

  g_assert_cmpint (natter_test_run_natterd (args, TRUE, NULL, &err), ==, 1);
  after = snapshot (dir);
  g_assert_cmpstr (after, ==, before);
  /* Its last line, natterd's own, says why (the lines before it are its
   * log, e.g. the certificate's fingerprint). */
  g_assert_true (g_str_has_suffix (err, "\n"));
  g_assert_true (g_str_has_prefix (util_last_line (err), "natterd: "));
  return err;
}

/* The new user's report: natter.db read-only made natterd delete and make
 * again search.db, then die of "expire tokens: attempt to write a readonly
 * database", naming no file. */
static void
test_read_only_database (void)
{
  g_autofree char *dir = make_used_data_dir ();
  g_autofree char *db = g_build_filename (dir, "natter.db", NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (g_chmod (db, 0400), ==, 0);
  err = run_refused (dir);
  util_assert_contains (err, "natterd: cannot open ");
  util_assert_contains (err, db);
  util_assert_contains (err, "for writing: attempt to write a readonly database");
  util_assert_contains (err, "(check the file's owner and permissions)");
}

/* search.db can be made again from natter.db, but only one proven damaged
 * is: a read-only one is left alone. */
static void
test_read_only_search_db (void)
{
  g_autofree char *dir = make_used_data_dir ();
  g_autofree char *search = g_build_filename (dir, "search.db", NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (g_chmod (search, 0400), ==, 0);
  err = run_refused (dir);
  util_assert_contains (err, search);
  util_assert_contains (err, "attempt to write a readonly database");
}

/* A folder natterd may not create files in (natter.db's -wal, after a
 * clean stop, is gone and must be made again). */
static void
test_read_only_folder (void)
{
  g_autofree char *dir = make_used_data_dir ();
  g_autofree char *db = g_build_filename (dir, "natter.db", NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (g_chmod (dir, 0500), ==, 0);
  err = run_refused (dir);
  g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
  util_assert_contains (err, db);
  util_assert_contains (err, "natterd cannot create files in");
}

/* The certificate is what users compared and trusted: one whose key is
 * missing is not replaced by a new one behind their back. */
static void
test_certificate_without_key (void)
{
  g_autofree char *dir = make_used_data_dir ();
  g_autofree char *key = g_build_filename (dir, "tls-key.pem", NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (g_unlink (key), ==, 0);
  err = run_refused (dir);
  util_assert_contains (err, key);
  util_assert_contains (err, "is missing");
}

/* Asserts that @path and everything in it is private: the folder 0700,
 * every file 0600. Returns how many files it saw. */
static guint
assert_private (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  GStatBuf st;
  guint files = 0;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      g_assert_cmpint (g_stat (file, &st), ==, 0);
      if ((st.st_mode & 07777) != 0600)
        g_error ("%s has mode %04o, not 0600", file, (unsigned) (st.st_mode & 07777));
      files++;
    }
  return files;
}

/* The new user's report: under build-aux/run.sh natter.db was 0644 in a
 * 0755 folder. Started with the usual umask 022 on a folder it makes. */
static void
test_file_modes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = g_dir_make_tmp ("natter-modes-XXXXXX", &error);
  g_autofree char *dir = g_build_filename (parent, "new", "data", NULL);
  g_autoptr(NatterTestServer) srv = NULL;

  g_assert_no_error (error);
  umask (022);
  srv = natter_test_server_start_full (dir, 0, TRUE, NULL, NULL);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
    g_autoptr(JsonObject) found = NULL;

    util_make_contacts (alice, bob);
    util_send (alice, "@bob", "private", "m1");
    /* A search waits for the index: search.db has been written. */
    found = natter_test_client_request_ok (alice, "{\"type\":\"search\",\"query\":\"private\"}");
    /* Running: natter.db-wal and -shm, search.db's, the lock file. On
     * PostgreSQL: the certificate, its key, the lock file. */
    g_assert_cmpuint (assert_private (dir), >=, natter_test_on_postgresql () ? 3 : 8);
  }
  natter_test_server_stop (srv);
  g_assert_cmpuint (assert_private (dir), >=, natter_test_on_postgresql () ? 2 : 5);
}

/* A folder made by someone else, that others may enter: natterd runs,
 * keeps its own files private, and says what to do about the folder. */
static void
test_shared_folder_warned (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-shared-XXXXXX", &error);
  g_autofree char *log_path = g_strdup_printf ("%s.log", dir);
  g_autofree char *log = NULL;
  g_autofree char *advice = g_strdup_printf ("'chmod 700 %s'", dir);
  g_autofree char *db = g_build_filename (dir, "natter.db", NULL);
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  umask (022);
  {
    g_autoptr(NatterTestServer) srv = natter_test_server_start_logged_in (dir, NULL, log_path);

    natter_test_server_stop (srv);
  }
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  util_assert_contains (log, "can be entered by other users (mode 0755)");
  util_assert_contains (log, advice);
  /* On PostgreSQL there is no natter.db; the folder is still warned of. */
  if (!natter_test_on_postgresql ())
    {
      g_assert_cmpint (g_stat (db, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 07777, ==, 0600);
    }
}

/* Runs natterd, unprivileged, expecting it to refuse @config_text (or, if
 * NULL, @listen) with status 2 and exactly @expected on stderr, where
 * "CONF" stands for the config file's path; and to leave no data
 * directory behind. */
static void
assert_config_refused (const char *config_text,
                       const char *listen,
                       const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = g_dir_make_tmp ("natter-config-XXXXXX", &error);
  g_autofree char *conf = g_build_filename (parent, "natterd.conf", NULL);
  g_autofree char *dir = g_build_filename (parent, "data", NULL);
  g_autofree char *err = NULL;
  g_autofree char *wanted = NULL;
  g_auto(GStrv) parts = NULL;
  const char *args[] = { "--listen", listen != NULL ? listen : "127.0.0.1:0",
                         "--data-dir", dir, "--config", conf, NULL };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (conf, config_text != NULL ? config_text : "", -1, &error));
  natter_test_give_to_nobody (parent);
  g_assert_cmpint (natter_test_run_natterd (args, TRUE, NULL, &err), ==, 2);
  parts = g_strsplit (expected, "CONF", -1);
  wanted = g_strjoinv (conf, parts);
  g_assert_cmpstr (err, ==, wanted);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

/* The new user's report: "registraton=false" was ignored, and left
 * registration open. */
static void
test_misspelt_key (void)
{
  assert_config_refused ("[server]\nlisten = 127.0.0.1:0\nregistraton = false\n", NULL,
                         "natterd: CONF:3: unknown key 'registraton' in [server] "
                         "(did you mean 'registration'?)\n");
}

/* The new user's report: port 99999 was found only after the certificate
 * and the database were made, and said "expected HOST:PORT". */
static void
test_port_out_of_range (void)
{
  assert_config_refused (NULL, "127.0.0.1:99999",
                         "natterd: --listen '127.0.0.1:99999': port 99999 out of range "
                         "(1-65535, or 0 for any free port)\n");
  assert_config_refused ("[server]\nlisten = *:7447;[::1]:70000\n", NULL,
                         "natterd: CONF:2: [server] listen: '[::1]:70000': port 70000 out of range "
                         "(1-65535, or 0 for any free port)\n");
}

/* GLib's own messages have typographic quotes, which g_printerr turned
 * into '?' (under every locale: natterd never set one). */
static void
test_c_locale (void)
{
  assert_config_refused ("[server]\nlisten 127.0.0.1:0\n", NULL,
                         "natterd: CONF: Key file contains line 'listen 127.0.0.1:0' "
                         "which is not a key-value pair, group, or comment\n");
}

/* SIGTERM as soon as natterd says "listening" (what the harness, and
 * systemd stopping a service it just started, do) stops it cleanly: it
 * used to set up its signal handlers only after that line, and often died
 * of the signal instead. */
static void
test_sigterm_at_once (void)
{
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(NatterTestServer) srv = natter_test_server_start_full (NULL, 0, FALSE, NULL, NULL);

      /* Asserts exit status 0. */
      natter_test_server_stop (srv);
    }
}

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

/* A SIGTERM while natterd waits for a PostgreSQL server that does not
 * answer ends it at once: it was held until the wait gave up, 30 s later. */
static void
test_sigterm_while_database_waits (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-pgwait-XXXXXX", &error);
  g_autofree char *conf = g_build_filename (dir, "natterd.conf", NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autoptr(GSubprocess) natterd = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  gboolean exited = FALSE;

  g_assert_no_error (error);
  /* Port 1: nobody answers (refused), which natterd waits out. */
  g_assert_true (g_file_set_contents (conf, "[storage]\ndatabase=postgresql://natter@127.0.0.1:1/natter\n"
                                            "[server]\nlisten=127.0.0.1:0\n", -1, NULL));
  natterd = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                              g_getenv ("NATTERD_PATH"), "--config", conf, "--data-dir", data, NULL);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (natterd));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (strstr (line, "The database does not answer") != NULL)
        break;
    }

  g_subprocess_send_signal (natterd, SIGTERM);
  g_subprocess_wait_async (natterd, NULL, exited_cb, &exited);
  g_assert_true (natter_test_wait_until (NULL, &exited, natter_test_deadline_ms ()));
  g_unlink (conf);
  g_rmdir (data);
  g_rmdir (dir);
}

/* GLib's --help has an ellipsis: "[OPTION...]", not "[OPTION?]". */
static void
test_c_locale_help (void)
{
  const char *args[] = { "--help", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (natter_test_run_natterd (args, FALSE, &out, &err), ==, 0);
  util_assert_contains (out, "natterd [OPTION...]");
  g_assert_null (strchr (out, '?'));
  g_assert_cmpstr (err, ==, "");
}

int
main (int argc, char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add_sqlite_only ("/startup/read-only-database", test_read_only_database,
                               "a read-only natter.db");
  natter_test_add_sqlite_only ("/startup/read-only-search-db", test_read_only_search_db,
                               "a read-only search.db");
  natter_test_add_sqlite_only ("/startup/read-only-folder", test_read_only_folder,
                               "natter.db's -wal file in a read-only folder");
  natter_test_add ("/startup/certificate-without-key", test_certificate_without_key);
  natter_test_add ("/startup/file-modes", test_file_modes);
  natter_test_add ("/startup/shared-folder-warned", test_shared_folder_warned);
  natter_test_add ("/startup/misspelt-key", test_misspelt_key);
  natter_test_add ("/startup/port-out-of-range", test_port_out_of_range);
  natter_test_add ("/startup/c-locale", test_c_locale);
  natter_test_add ("/startup/c-locale-help", test_c_locale_help);
  natter_test_add ("/startup/sigterm-at-once", test_sigterm_at_once);
  natter_test_add ("/startup/sigterm-while-database-waits", test_sigterm_while_database_waits);

  return g_test_run ();
}
