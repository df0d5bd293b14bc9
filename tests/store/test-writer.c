/* test-writer.c: the writer thread on a real database file. Jobs commit on
 * the thread's own connection; completions run on the main loop, in queue
 * order, and only once the rows are committed (the main connection sees
 * them); a failing job leaves the others of its batch alone; drain
 * finishes everything.
 */
#define G_LOG_DOMAIN "test-writer"

#include "config.h"

#include <glib/gstdio.h>

#include "natterd-store-sqlite.h"
#include "natterd-writer.h"

typedef struct {
  NatterdStore *store;   /* the main connection */
  char         *dir;
  gint64        user_id;
  GArray       *done;    /* job numbers in the order their completions ran */
  guint         failed;
  GThread      *main_thread;
} Fixture;

typedef struct {
  NatterdWriteJob job;
  Fixture        *f;
  guint           number;
  gboolean        fail;
} TestJob;

static gboolean
test_job_run (NatterdWriteJob *job,
              NatterdStore    *store,
              GError         **error)
{
  TestJob *t = (TestJob *) job;

  /* Never on the main thread: that is the point of the writer. */
  g_assert_true (g_thread_self () != t->f->main_thread);
  if (t->fail)
    {
      /* An atomic job's write goes with its failure. */
      if (t->job.atomic &&
          !natterd_store_user_set_last_seen (store, t->f->user_id, 1000 + t->number, error))
        return FALSE;
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "this job fails");
      return FALSE;
    }
  return natterd_store_user_set_last_seen (store, t->f->user_id, t->number, error);
}

typedef struct {
  gint64 id;
  gint64 last_seen;
} Found;

static void
find_user_cb (gint64 id, const char *username, const char *display_name,
              const char *password_hash, const char *status_text, gint64 last_seen,
              gpointer user_data)
{
  Found *found = user_data;

  if (id == found->id)
    found->last_seen = last_seen;
}

static gint64
stored_last_seen (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  Found found = { f->user_id, -1 };

  g_assert_true (natterd_store_users_foreach (f->store, find_user_cb, &found, &error));
  g_assert_no_error (error);
  return found.last_seen;
}

static void
test_job_done (NatterdWriteJob *job,
               const GError    *error)
{
  TestJob *t = (TestJob *) job;
  Fixture *f = t->f;

  g_assert_true (g_thread_self () == f->main_thread);
  g_assert_true ((error != NULL) == t->fail);
  if (error == NULL)
    {
      /* Durable before it is answered: another connection sees at least
       * this job's value (a later job of the same batch may have written
       * over it). */
      g_assert_cmpint (stored_last_seen (f), >=, t->number);
    }
  else
    f->failed++;
  g_array_append_val (f->done, t->number);
  g_free (t);
}

static void
push (NatterdWriter *writer, Fixture *f, guint number, gboolean fail)
{
  TestJob *t = g_new0 (TestJob, 1);

  t->job.run = test_job_run;
  t->job.done = test_job_done;
  t->f = f;
  t->number = number;
  t->fail = fail;
  natterd_writer_push (writer, &t->job);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-writer-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = natterd_store_open (f->dir, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (natterd_store_user_insert (f->store, "alice", "Alice", "$hash", 1, &f->user_id, &error));
  f->done = g_array_new (FALSE, FALSE, sizeof (guint));
  f->main_thread = g_thread_self ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  natterd_store_close (f->store);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_array_unref (f->done);
}

static NatterdWriter *
new_writer (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *sibling = natterd_store_open_sibling (f->store, &error);

  g_assert_no_error (error);
  return natterd_writer_new ("test-writer", sibling, NULL);
}

static void
run_until_done (Fixture *f, guint n)
{
  while (f->done->len < n)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_order_and_durability (Fixture *f, gconstpointer data)
{
  NatterdWriter *writer = new_writer (f);
  const guint n = 3 * NATTERD_WRITER_BATCH + 17;

  for (guint i = 1; i <= n; i++)
    push (writer, f, i, i % 1000 == 0);
  /* Nothing completes inside push. */
  g_assert_cmpuint (f->done->len, ==, 0);
  run_until_done (f, n);

  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (f->done, guint, i), ==, i + 1);
  g_assert_cmpuint (f->failed, ==, n / 1000);
  g_assert_cmpint (stored_last_seen (f), ==, n);
  natterd_writer_free (writer);
}

/* A job of several statements that fails half-way leaves nothing; the
 * jobs around it commit. */
static void
test_atomic_job (Fixture *f, gconstpointer data)
{
  NatterdWriter *writer = new_writer (f);
  TestJob *t = g_new0 (TestJob, 1);

  push (writer, f, 1, FALSE);
  t->job.run = test_job_run;
  t->job.done = test_job_done;
  t->job.atomic = TRUE;
  t->f = f;
  t->number = 2;
  t->fail = TRUE;
  natterd_writer_push (writer, &t->job);
  natterd_writer_drain (writer);
  g_assert_cmpuint (f->done->len, ==, 2);
  g_assert_cmpuint (f->failed, ==, 1);
  g_assert_cmpint (stored_last_seen (f), ==, 1);
  natterd_writer_free (writer);
}

static void
test_drain_and_free (Fixture *f, gconstpointer data)
{
  NatterdWriter *writer = new_writer (f);

  for (guint i = 1; i <= 100; i++)
    push (writer, f, i, FALSE);
  /* No main loop: drain runs the completions itself. */
  natterd_writer_drain (writer);
  g_assert_cmpuint (f->done->len, ==, 100);

  push (writer, f, 101, FALSE);
  natterd_writer_free (writer);
  g_assert_cmpuint (f->done->len, ==, 101);
  g_assert_cmpint (stored_last_seen (f), ==, 101);
}

static void
test_no_sibling_in_memory (void)
{
  g_autoptr(GError) error = NULL;
  NatterdStore *store = natterd_store_sqlite_open_path (":memory:", FALSE, &error);

  g_assert_no_error (error);
  g_assert_null (natterd_store_open_sibling (store, &error));
  g_assert_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED);
  natterd_store_close (store);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/writer/atomic-job", Fixture, NULL, fixture_setup,
              test_atomic_job, fixture_teardown);
  g_test_add ("/writer/order-and-durability", Fixture, NULL, fixture_setup,
              test_order_and_durability, fixture_teardown);
  g_test_add ("/writer/drain-and-free", Fixture, NULL, fixture_setup,
              test_drain_and_free, fixture_teardown);
  g_test_add_func ("/writer/no-sibling-in-memory", test_no_sibling_in_memory);
  return g_test_run ();
}
