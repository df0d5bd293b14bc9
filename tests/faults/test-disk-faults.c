/* test-disk-faults.c: natterd on a disk that fills up or fails.
 *
 * natterd runs with natter-fault-shim preloaded (see its header for the
 * design): writes, syncs and truncations of one of natterd's files fail
 * with ENOSPC or EIO from the Nth matching call on, N = 0, 1, 2, ... For
 * each file and error:
 *
 * - at run time (natter.db, its -wal, search.db, its -wal): clients send,
 *   search and read history while the fault is on. Every send is answered
 *   (ok, or the documented `internal`), reads answer ok, and once the
 *   fault is lifted the next send is stored at once, with no restart;
 *   every acknowledged send is then read back exactly once, a failed one
 *   resent with its client_msg_id is stored once, the search index has
 *   caught up, and after a clean stop PRAGMA integrity_check is "ok" on
 *   natter.db and search.db.
 * - at the first start (the TLS key, the certificate, the lock file,
 *   natter.db, search.db): natterd exits with status 1 and one line
 *   "natterd: ..." saying why, or (a fault it can live with) starts; then,
 *   with the fault lifted, it starts on the same data dir and works, and
 *   the databases pass integrity_check.
 *
 * N runs up to the number of matching calls a first start makes (found by
 * a run with the fault counting but not armed) or, at run time, up to a
 * bound past which only the same calls of later commits fail.
 */
#define G_LOG_DOMAIN "natter-test"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "natter-fault.h"
#include "server-test-util.h"

/* --- the control block --- */

typedef struct {
  char               *dir;
  char               *path;
  NatterFaultControl *ctl;
} Fault;

static Fault *
fault_new (void)
{
  Fault *f = g_new0 (Fault, 1);
  g_autoptr(GError) error = NULL;
  int fd;

  f->dir = g_dir_make_tmp ("natter-fault-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "control", NULL);
  fd = open (f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, sizeof (NatterFaultControl)), ==, 0);
  f->ctl = mmap (NULL, sizeof (NatterFaultControl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  g_assert_true (f->ctl != MAP_FAILED);
  close (fd);
  f->ctl->magic = NATTER_FAULT_MAGIC;
  f->ctl->generation = 1;
  return f;
}

static void
fault_free (Fault *f)
{
  munmap (f->ctl, sizeof (NatterFaultControl));
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  g_free (f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fault, fault_free)

/* Points the fault at @pattern (not armed), with the counters at 0. */
static void
fault_aim (Fault      *f,
           const char *pattern,
           guint       ops,
           int         error,
           guint       after)
{
  __atomic_store_n (&f->ctl->armed, 0, __ATOMIC_RELEASE);
  g_strlcpy (f->ctl->pattern, pattern, sizeof f->ctl->pattern);
  f->ctl->ops = ops;
  f->ctl->error = error;
  f->ctl->after = after;
  f->ctl->max_failures = 0;
  __atomic_store_n (&f->ctl->seen, 0, __ATOMIC_RELEASE);
  __atomic_store_n (&f->ctl->failed, 0, __ATOMIC_RELEASE);
  __atomic_add_fetch (&f->ctl->generation, 1, __ATOMIC_RELEASE);
}

static void
fault_arm (Fault    *f,
           gboolean  armed)
{
  __atomic_store_n (&f->ctl->seen, 0, __ATOMIC_RELEASE);
  __atomic_store_n (&f->ctl->failed, 0, __ATOMIC_RELEASE);
  __atomic_store_n (&f->ctl->armed, armed ? 1 : 0, __ATOMIC_RELEASE);
}

static guint
fault_failed (Fault *f)
{
  return __atomic_load_n (&f->ctl->failed, __ATOMIC_ACQUIRE);
}

/* The environment of the next natterd started: the shim preloaded, after
 * AddressSanitizer's runtime when this program has one (natterd then has
 * it too, and it must come first in the list). */
static void
shim_env_set (Fault *f)
{
  const char *shim = g_getenv ("NATTER_FAULT_SHIM");
  g_autofree char *maps = NULL;
  g_autofree char *asan = NULL;

  if (shim == NULL)
    g_error ("NATTER_FAULT_SHIM is not set (run the tests through meson)");
  if (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    {
      char *p = strstr (maps, "/libasan.so");

      if (p != NULL)
        {
          char *start = p, *end = p;

          while (start > maps && start[-1] != ' ')
            start--;
          while (*end != '\0' && *end != '\n')
            end++;
          asan = g_strndup (start, end - start);
        }
    }
  g_setenv ("LD_PRELOAD", asan != NULL ? (asan = g_strconcat (asan, ":", shim, NULL)) : shim, TRUE);
  g_setenv ("NATTER_FAULT_CONTROL", f->path, TRUE);
}

static void
shim_env_unset (void)
{
  g_unsetenv ("LD_PRELOAD");
  g_unsetenv ("NATTER_FAULT_CONTROL");
}

static NatterTestServer *
start_with_shim (Fault      *f,
                 const char *data_dir)
{
  NatterTestServer *srv;

  shim_env_set (f);
  srv = natter_test_server_start_full (data_dir, 0, TRUE, UTIL_RELAXED_LIMITS, NULL);
  shim_env_unset ();
  return srv;
}

/* --- checks --- */

static void
assert_integrity (const char *data_dir)
{
  static const char *const files[] = { "natter.db", "search.db" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (data_dir, files[i], NULL);
      sqlite3 *db = NULL;
      sqlite3_stmt *s = NULL;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &s, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
      if (g_strcmp0 ((const char *) sqlite3_column_text (s, 0), "ok") != 0)
        g_error ("integrity_check of %s: %s", path, sqlite3_column_text (s, 0));
      sqlite3_finalize (s);
      sqlite3_close (db);
    }
}

/* Whether @r is ok; otherwise it must be the documented error of a
 * storage failure. */
static gboolean
ok_or_internal (JsonObject *r)
{
  if (g_strcmp0 (json_object_get_string_member_with_default (r, "type", ""), "ok") == 0)
    return TRUE;
  natter_assert_error (r, "internal");
  return FALSE;
}

/* The bodies of the messages a search for @word finds. */
static guint
search_count (NatterTestClient *c,
              const char       *word)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"search\",\"query\":\"%s\",\"limit\":200}", word);

  return json_array_get_length (natter_test_get_array (r, "messages"));
}

/* --- run-time faults --- */

typedef struct {
  const char *name;
  const char *pattern;
  guint       ops;
  guint       max_after; /* N runs 0..max_after, or until the fault no longer fires */
  gboolean    must_refuse; /* at start: a fault that fired must stop natterd */
  gboolean    at_stop;     /* at run time: the fault stays on through the stop */
} Point;

static const Point runtime_points[] = {
  { "natter-wal-write", "*/natter.db-wal", NATTER_FAULT_OP_WRITE | NATTER_FAULT_OP_TRUNCATE | NATTER_FAULT_OP_ALLOCATE, 11 },
  { "natter-wal-sync",  "*/natter.db-wal", NATTER_FAULT_OP_SYNC, 2 },
  /* natter.db itself is written by the checkpointer, twice a second. */
  { "natter-db",        "*/natter.db",     NATTER_FAULT_OP_ALL, 3 },
  { "search-wal",       "*/search.db-wal", NATTER_FAULT_OP_ALL, 5 },
  /* search.db itself is written only when its WAL is checkpointed: at
   * 4000 pages, and at the stop. So the disk stays full through the stop
   * (SIGTERM), and natterd is started again after it. */
  { "search-db-at-stop", "*/search.db",    NATTER_FAULT_OP_ALL, 3, FALSE, TRUE },
  { "natter-db-at-stop", "*/natter.db",    NATTER_FAULT_OP_ALL, 3, FALSE, TRUE },
  { "all-at-stop",       "*/*.db*",        NATTER_FAULT_OP_ALL, 3, FALSE, TRUE },
};

typedef struct {
  const Point *point;
  int          error;
} Case;

/* One natterd, the fault from the @after-th matching call. Returns
 * whether the fault fired. */
static gboolean
runtime_case (const Case *tc,
              guint       after)
{
  g_autoptr(Fault) f = fault_new ();
  g_autoptr(NatterTestServer) srv = NULL;
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) failed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = NULL;
  g_autofree char *last_acked_word = NULL;
  gint64 deadline;
  guint fired, sent = 0, after_first_failure = 0;

  fault_aim (f, tc->point->pattern, tc->point->ops, tc->error, after);
  srv = start_with_shim (f, NULL);
  alice = natter_test_client_new_user (srv, "alice");
  bob = natter_test_client_new_user (srv, "bob");
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *cmid = g_strdup_printf ("b%u", i);
      gint64 id = util_send (alice, "@bob", "before the fault", cmid);

      g_hash_table_insert (acked, g_steal_pointer (&cmid), g_memdup2 (&id, sizeof id));
    }

  /* Sends, each followed by a search (which drives the indexer) and a
   * history read, until the fault has fired and a few sends more have
   * been answered under it, or the deadline. Faults in natter.db itself
   * come from the checkpointer, twice a second. */
  fault_arm (f, TRUE);
  deadline = g_get_monotonic_time () + 3 * (gint64) natter_test_deadline_ms () * 1000 / 10;
  while (g_get_monotonic_time () < deadline && after_first_failure < 5 &&
         !(tc->point->at_stop && sent >= 5))
    {
      g_autofree char *cmid = g_strdup_printf ("d%u", sent);
      g_autofree char *word = g_strdup_printf ("w%uz", sent);
      g_autoptr(JsonObject) r = natter_test_client_requestf (alice,
          "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"during %s\",\"client_msg_id\":\"%s\"}",
          word, cmid);
      g_autoptr(JsonObject) h = NULL;

      sent++;
      if (ok_or_internal (r))
        {
          gint64 id = natter_test_get_int (r, "message.id");

          g_hash_table_insert (acked, g_strdup (cmid), g_memdup2 (&id, sizeof id));
          g_free (last_acked_word);
          last_acked_word = g_strdup (word);
        }
      else
        g_ptr_array_add (failed, g_strdup (cmid));
      /* Reads answer while writes fail. */
      search_count (alice, "before");
      h = natter_test_client_request_ok (bob, "{\"type\":\"history\",\"conversation\":\"@alice\",\"limit\":5}");
      if (fault_failed (f) > 0)
        after_first_failure++;
    }
  if (tc->point->at_stop)
    {
      /* The stop on a full disk: a clean exit, nothing lost, then the
       * checks below on a natterd started again (without the fault). */
      g_clear_pointer (&alice, natter_test_client_free);
      g_clear_pointer (&bob, natter_test_client_free);
      natter_test_server_stop (srv);
      assert_integrity (natter_test_server_get_data_dir (srv));
      natter_test_server_restart (srv);
      alice = natter_test_client_new_login (srv, "alice");
      bob = natter_test_client_new_login (srv, "bob");
    }
  fired = fault_failed (f);
  fault_arm (f, FALSE);
  natter_test_note ("%s %s after %u: %u sends, %u failed, %u calls failed",
                    tc->point->name, g_strerror (tc->error), after, sent, failed->len, fired);

  /* Lifted: the next send is stored, no restart. */
  {
    gint64 id = util_send (alice, "@bob", "after the fault wafterz", "a0");

    g_hash_table_insert (acked, g_strdup ("a0"), g_memdup2 (&id, sizeof id));
  }
  /* What failed, sent again, is stored once. */
  for (guint i = 0; i < failed->len; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_requestf (alice,
          "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"again\",\"client_msg_id\":\"%s\"}",
          (char *) failed->pdata[i]);
      gint64 id;

      natter_assert_ok (r);
      id = natter_test_get_int (r, "message.id");
      g_hash_table_insert (acked, g_strdup (failed->pdata[i]), g_memdup2 (&id, sizeof id));
    }

  /* Every acknowledged send, exactly once (util_sync_all fails on a
   * client_msg_id stored twice), with the id of its ack; bob sees the
   * same. */
  seen = util_sync_all (alice);
  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, acked);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        gint64 *id = g_hash_table_lookup (seen, key);

        if (id == NULL)
          g_error ("acknowledged send %s is not stored", (char *) key);
        g_assert_cmpint (*id, ==, *(gint64 *) value);
      }
    g_assert_cmpuint (g_hash_table_size (seen), ==, g_hash_table_size (acked));
  }
  {
    g_autoptr(GHashTable) bobs = util_sync_all (bob);

    g_assert_cmpuint (g_hash_table_size (bobs), ==, g_hash_table_size (acked));
  }
  /* The index caught up: what was acknowledged under the fault, and
   * after it, is found. */
  if (last_acked_word != NULL)
    g_assert_cmpuint (search_count (alice, last_acked_word), ==, 1);
  g_assert_cmpuint (search_count (alice, "wafterz"), ==, 1);

  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  natter_test_server_stop (srv);
  assert_integrity (natter_test_server_get_data_dir (srv));
  return fired > 0;
}

static GHashTable *cases; /* test path -> Case */

static const Case *
this_case (void)
{
  const Case *tc = g_hash_table_lookup (cases, g_test_get_path ());

  g_assert_nonnull (tc);
  return tc;
}

static void
test_runtime (void)
{
  const Case *tc = this_case ();

  for (guint after = 0; after <= tc->point->max_after; after++)
    if (!runtime_case (tc, after))
      {
        /* Past the calls this point has: nothing changes further on. */
        g_assert_cmpuint (after, >, 0);
        break;
      }
}

/* --- faults at the first start --- */

static const Point start_points[] = {
  { "tls-key",   "*/tls-key.pem*",  NATTER_FAULT_OP_ALL, 0, TRUE },
  { "tls-cert",  "*/tls-cert.pem*", NATTER_FAULT_OP_ALL, 0, TRUE },
  { "lock",      "*/natterd.lock",  NATTER_FAULT_OP_ALL, 0, TRUE },
  { "natter-db", "*/natter.db*",    NATTER_FAULT_OP_ALL, 0 },
  { "search-db", "*/search.db*",    NATTER_FAULT_OP_ALL, 0 },
};

/* How many matching calls a first start makes, up to "listening". */
static guint
count_start_calls (Fault       *f,
                   const Point *point)
{
  g_autoptr(NatterTestServer) srv = NULL;
  guint n;

  fault_aim (f, point->pattern, point->ops, ENOSPC, 0);
  srv = start_with_shim (f, NULL);
  n = __atomic_load_n (&f->ctl->seen, __ATOMIC_ACQUIRE);
  return n;
}

typedef struct {
  gboolean   done;
  GBytes    *out;
  GBytes    *err;
  GError    *error;
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

typedef struct {
  gboolean          done;
  char             *line;
} ReadLine;

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ReadLine *r = user_data;

  r->line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, NULL);
  r->done = TRUE;
}

/* Starts natterd on @dir with the fault armed; returns TRUE with its
 * stderr in *@out_err when it exited (status in *@status), FALSE when it
 * started listening (it is stopped again). */
static gboolean
start_faulted (Fault       *f,
               const char  *dir,
               int         *status,
               char       **out_err)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  const char *argv[] = { g_getenv ("NATTERD_PATH"), "--listen", "127.0.0.1:0", "--data-dir", dir, NULL };
  gboolean listening = FALSE;
  Communicate c = { FALSE, NULL, NULL, NULL };

  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  shim_env_set (f);
  g_subprocess_launcher_setenv (launcher, "LD_PRELOAD", g_getenv ("LD_PRELOAD"), TRUE);
  g_subprocess_launcher_setenv (launcher, "NATTER_FAULT_CONTROL", f->path, TRUE);
  shim_env_unset ();
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  g_main_context_push_thread_default (context);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  for (;;)
    {
      ReadLine r = { FALSE, NULL };

      g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, read_line_cb, &r);
      if (!natter_test_wait_until (context, &r.done, 3 * natter_test_deadline_ms ()))
        g_error ("natterd neither started nor exited");
      if (r.line == NULL)
        break;
      listening = g_str_has_prefix (r.line, "listening");
      g_free (r.line);
      if (listening)
        break;
    }
  if (listening)
    g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_communicate_async (process, NULL, NULL, communicate_cb, &c);
  if (!natter_test_wait_until (context, &c.done, 3 * natter_test_deadline_ms ()))
    g_error ("natterd did not exit");
  g_main_context_pop_thread_default (context);
  g_assert_no_error (c.error);
  {
    g_autoptr(GError) wait_error = NULL;

    g_assert_true (g_subprocess_wait (process, NULL, &wait_error));
  }
  if (g_subprocess_get_if_signaled (process))
    g_error ("natterd died of signal %d: %.*s", g_subprocess_get_term_sig (process),
             (int) g_bytes_get_size (c.err), (const char *) g_bytes_get_data (c.err, NULL));
  *status = g_subprocess_get_exit_status (process);
  *out_err = g_strndup (g_bytes_get_data (c.err, NULL), g_bytes_get_size (c.err));
  g_bytes_unref (c.out);
  g_bytes_unref (c.err);
  return !listening;
}

static void
test_start (void)
{
  const Case *tc = this_case ();
  g_autoptr(Fault) f = fault_new ();
  guint calls = count_start_calls (f, tc->point);

  natter_test_note ("%s: %u matching calls at a first start", tc->point->name, calls);
  g_assert_cmpuint (calls, >, 0);
  /* A first start with the fault at each call; one past the last starts. */
  for (guint after = 0; after <= calls; after = after < 8 ? after + 1 : MIN (after * 2, calls))
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = g_dir_make_tmp ("natter-test-XXXXXX", &error);
      g_autofree char *err = NULL;
      int status = 0;
      gboolean last = FALSE;

      g_assert_no_error (error);
      fault_aim (f, tc->point->pattern, tc->point->ops, tc->error, after);
      fault_arm (f, TRUE);
      if (start_faulted (f, dir, &status, &err))
        {
          const char *line = util_last_line (err);

          natter_test_note ("%s %s after %u: exit %d: %s", tc->point->name,
                            g_strerror (tc->error), after, status, line);
          g_assert_cmpint (fault_failed (f), >, 0);
          g_assert_cmpint (status, ==, 1);
          g_assert_true (g_str_has_prefix (line, "natterd: "));
          g_assert_true (g_str_has_suffix (line, "\n"));
        }
      else
        {
          natter_test_note ("%s %s after %u: started (%u calls failed)", tc->point->name,
                            g_strerror (tc->error), after, fault_failed (f));
          g_assert_cmpint (status, ==, 0);
          /* What it could not write, it must not have started without. */
          if (tc->point->must_refuse && fault_failed (f) > 0)
            g_error ("natterd started although writing its %s failed", tc->point->name);
          last = fault_failed (f) == 0;
        }

      /* The disk is back: natterd starts on what is left and works. */
      {
        g_autoptr(NatterTestServer) srv = natter_test_server_start_full (dir, 0, TRUE, NULL, NULL);
        g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
        g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

        util_send (alice, "@bob", "after the start", "s0");
        g_assert_cmpuint (search_count (bob, "start"), ==, 1);
        g_clear_pointer (&alice, natter_test_client_free);
        g_clear_pointer (&bob, natter_test_client_free);
        natter_test_server_stop (srv);
        assert_integrity (dir);
      }
      {
        g_autoptr(GError) rm_error = NULL;
        g_autofree char *quoted = g_shell_quote (dir);
        g_autofree char *cmd = g_strdup_printf ("rm -rf %s", quoted);

        g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, &rm_error));
      }
      /* Past the last call it could fail: nothing changes further on. */
      if (last || after == calls)
        break;
    }
}

int
main (int argc, char *argv[])
{
  static const int errors[] = { ENOSPC, EIO };

  natter_test_init (&argc, &argv);
  cases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint e = 0; e < G_N_ELEMENTS (errors); e++)
    {
      const char *ename = errors[e] == ENOSPC ? "ENOSPC" : "EIO";

      for (guint i = 0; i < G_N_ELEMENTS (runtime_points); i++)
        {
          Case *tc = g_new0 (Case, 1);
          char *path = g_strdup_printf ("/faults/run/%s/%s", runtime_points[i].name, ename);

          tc->point = &runtime_points[i];
          tc->error = errors[e];
          g_hash_table_insert (cases, path, tc);
          natter_test_add_sqlite_only (path, test_runtime, "the faults are in natterd's SQLite files");
        }
      for (guint i = 0; i < G_N_ELEMENTS (start_points); i++)
        {
          Case *tc = g_new0 (Case, 1);
          char *path = g_strdup_printf ("/faults/start/%s/%s", start_points[i].name, ename);

          tc->point = &start_points[i];
          tc->error = errors[e];
          g_hash_table_insert (cases, path, tc);
          natter_test_add_sqlite_only (path, test_start, "the faults are in natterd's SQLite files");
        }
    }
  return g_test_run ();
}
