/* test-file-modes.c: natterd's data directory is 0700 and every file in
 * it 0600 (the TLS key, the certificate, the databases with their WAL and
 * shared-memory files, the lock file, natterctl's socket), whatever umask natterd was started
 * with: a permissive 000, the usual 022, a private 077 and an odd 0277
 * (docs/security.md, "Files"). natterd sets its own umask at start
 * (server/main.c); the folder is made 0700.
 *
 * tests/server/test-startup checks the same under 022 on SQLite and
 * PostgreSQL; here each umask, on SQLite, with the files named.
 */
#define G_LOG_DOMAIN "natter-test"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "server-test-util.h"

/* What a running natterd on SQLite has made once a message was sent and
 * searched for (the search waits for the index, so search.db is written). */
static const char *const running_files[] = {
  "natterd.lock", "tls-key.pem", "tls-cert.pem",
  "natter.db", "natter.db-wal", "natter.db-shm",
  "search.db", "search.db-wal", "search.db-shm",
  /* natterctl's socket, while natterd runs. */
  "natterd.sock",
};

/* Asserts the folder is 0700, every file in it 0600 and each of
 * @required there. */
static void
assert_private (const char         *path,
                const char *const  *required,
                gsize               n_required)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  if ((st.st_mode & 07777) != 0700)
    g_error ("%s has mode %04o, not 0700", path, (unsigned) (st.st_mode & 07777));
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      g_assert_cmpint (g_lstat (file, &st), ==, 0);
      /* natterctl's socket is the one thing there that is not a file
       * (docs/server.md, "natterctl"); its mode is all that guards it. */
      if (g_str_equal (name, "natterd.sock"))
        g_assert_true (S_ISSOCK (st.st_mode));
      else
        g_assert_true (S_ISREG (st.st_mode));
      if ((st.st_mode & 07777) != 0600)
        g_error ("%s has mode %04o, not 0600", file, (unsigned) (st.st_mode & 07777));
    }
  for (gsize i = 0; i < n_required; i++)
    {
      g_autofree char *file = g_build_filename (path, required[i], NULL);

      if (!g_file_test (file, G_FILE_TEST_EXISTS))
        g_error ("%s is missing: natterd did not make what this test checks", file);
    }
}

static void
check_umask (mode_t mask)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = g_dir_make_tmp ("natter-umask-XXXXXX", &error);
  g_autofree char *dir = NULL;
  g_autoptr(NatterTestServer) srv = NULL;

  g_assert_no_error (error);
  /* A folder natterd makes itself, with its parent. */
  dir = g_build_filename (parent, "new", "data", NULL);
  natter_test_note ("umask %04o", (unsigned) mask);
  umask (mask);
  srv = natter_test_server_start_full (dir, 0, TRUE, NULL, NULL);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
    g_autoptr(JsonObject) found = NULL;

    util_make_contacts (alice, bob);
    util_send (alice, "@bob", "private words", "m1");
    found = natter_test_client_request_ok (alice, "{\"type\":\"search\",\"query\":\"private\"}");
    assert_private (dir, running_files, G_N_ELEMENTS (running_files));
  }
  natter_test_server_stop (srv);
  /* After a clean stop the -wal and -shm files are gone; the rest stays
   * private. */
  assert_private (dir, running_files, 4);
  {
    g_autofree char *new_dir = g_build_filename (parent, "new", NULL);
    GStatBuf st;

    /* The parent natterd made for it is private too. */
    g_assert_cmpint (g_stat (new_dir, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  }
}

static void
test_umask_000 (void)
{
  check_umask (0);
}

static void
test_umask_022 (void)
{
  check_umask (022);
}

static void
test_umask_077 (void)
{
  check_umask (077);
}

static void
test_umask_277 (void)
{
  check_umask (0277);
}

/* Starts natterd on the certificate and key of an earlier natterd, the key
 * with @key_mode; returns natterd's log. */
static char *
log_with_key_mode (int key_mode)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-key-XXXXXX", &error);
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *config = NULL;
  g_autofree char *log_path = NULL;
  char *log = NULL;

  g_assert_no_error (error);
  {
    g_autoptr(NatterTestServer) first = natter_test_server_start (NULL, NULL);

    natter_test_server_stop (first);
    cert = g_build_filename (natter_test_server_get_data_dir (first), "tls-cert.pem", NULL);
    key = g_build_filename (natter_test_server_get_data_dir (first), "tls-key.pem", NULL);
    {
      g_autofree char *cert_text = NULL;
      g_autofree char *key_text = NULL;

      g_assert_true (g_file_get_contents (cert, &cert_text, NULL, NULL));
      g_assert_true (g_file_get_contents (key, &key_text, NULL, NULL));
      g_free (cert);
      g_free (key);
      cert = g_build_filename (dir, "cert.pem", NULL);
      key = g_build_filename (dir, "key.pem", NULL);
      g_assert_true (g_file_set_contents (cert, cert_text, -1, NULL));
      g_assert_true (g_file_set_contents (key, key_text, -1, NULL));
    }
  }
  g_assert_cmpint (g_chmod (key, key_mode), ==, 0);
  config = g_strdup_printf ("[server]\ntls_cert = %s\ntls_key = %s\n", cert, key);
  log_path = g_build_filename (dir, "natterd.log", NULL);
  {
    g_autoptr(NatterTestServer) srv = natter_test_server_start_logged (config, log_path);

    natter_test_server_stop (srv);
  }
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_unlink (log_path);
  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
  return log;
}

/* An administrator's key that every user can read is warned about at
 * start; one kept to its owner (and group) is not. */
static void
test_readable_key_warned (void)
{
  g_autofree char *open_log = log_with_key_mode (0644);
  g_autofree char *group_log = log_with_key_mode (0640);

  util_assert_contains (open_log, "can be read by every user of this machine (mode 0644)");
  util_assert_contains (open_log, "'chmod o-rwx ");
  g_assert_null (strstr (group_log, "can be read by every user"));
}

int
main (int argc, char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add ("/security/file-modes/umask-000", test_umask_000);
  natter_test_add ("/security/file-modes/umask-022", test_umask_022);
  natter_test_add ("/security/file-modes/umask-077", test_umask_077);
  natter_test_add ("/security/file-modes/umask-277", test_umask_277);
  natter_test_add ("/security/file-modes/readable-key-warned", test_readable_key_warned);
  return g_test_run ();
}
