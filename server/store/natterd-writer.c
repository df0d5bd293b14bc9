/* natterd-writer.c: the writer thread (see natterd-writer.h).
 *
 * Why a thread: with synchronous = FULL every commit waits for fdatasync,
 * 0.1-4 ms on the disks measured (docs/performance.md). On the main loop
 * that wait stalled every connection, and at a steady trickle of sends
 * (one per commit) the stalls queued up into a p99 of 15 ms. Here the main
 * loop keeps reading, parsing and fanning out while the thread inserts and
 * fsyncs; sends that arrive meanwhile form the next batch by themselves.
 */
#define G_LOG_DOMAIN "natterd-writer"

#include "config.h"

#include "natter-error.h"
#include "natterd-writer.h"

struct _NatterdWriter {
  NatterdStore    *store;      /* the thread's own connection */
  GMainContext    *context;
  GThread         *thread;

  GMutex           lock;
  GCond            wake;       /* the thread waits here for work */
  GCond            idle;       /* drain waits here for the thread */
  gboolean         busy;       /* a batch is being written */
  gboolean         stopping;
  NatterdWriteJob *queued;     /* waiting for the thread, oldest first */
  NatterdWriteJob *queued_tail;
  guint            n_queued;
  NatterdWriterStats stats;    /* natterd_writer_get_stats */
  NatterdWriteJob *finished;   /* committed or failed, waiting for the main loop */
  NatterdWriteJob *finished_tail;
  GSource         *finish_source; /* attached while finished is not empty */
};

static void
fail_unfailed (NatterdWriteJob *batch,
               const GError    *error)
{
  for (NatterdWriteJob *job = batch; job != NULL; job = job->next)
    if (job->error == NULL)
      job->error = g_error_copy (error);
}

static gboolean
run_job (NatterdWriteJob *job,
         NatterdStore    *store)
{
  if (!job->atomic)
    return job->run (job, store, &job->error);
  if (!natterd_store_savepoint (store, NATTERD_STORE_SAVEPOINT_SET, &job->error))
    return FALSE;
  if (job->run (job, store, &job->error) &&
      natterd_store_savepoint (store, NATTERD_STORE_SAVEPOINT_RELEASE, &job->error))
    return TRUE;
  if (natterd_store_in_transaction (store))
    natterd_store_savepoint (store, NATTERD_STORE_SAVEPOINT_ROLLBACK, NULL);
  return FALSE;
}

/* One transaction for the whole batch. A job that fails leaves the others
 * alone unless the transaction was rolled back (SQLite: disk full, I/O
 * error; PostgreSQL: any error outside a savepoint, a lost connection):
 * then every job of the batch has failed, including those that ran before,
 * with the failing job's error code (a lost database is
 * NATTERD_STORE_ERROR_UNAVAILABLE for all of them). */
static void
run_batch (NatterdStore    *store,
           NatterdWriteJob *batch)
{
  g_autoptr(GError) error = NULL;

  if (!natterd_store_begin (store, &error))
    {
      fail_unfailed (batch, error);
      return;
    }
  for (NatterdWriteJob *job = batch; job != NULL; job = job->next)
    {
      if (run_job (job, store))
        continue;
      if (job->error == NULL)
        job->error = g_error_new_literal (NATTER_ERROR, NATTER_ERROR_INTERNAL, "write failed");
      if (!natterd_store_in_transaction (store))
        {
          error = g_error_new (job->error->domain, job->error->code,
                               "the transaction was rolled back: %s", job->error->message);
          fail_unfailed (batch, error);
          return;
        }
    }
  if (!natterd_store_commit (store, &error))
    {
      natterd_store_rollback (store);
      fail_unfailed (batch, error);
    }
}

static void
run_done (NatterdWriteJob *list)
{
  while (list != NULL)
    {
      NatterdWriteJob *job = list;
      g_autoptr(GError) error = g_steal_pointer (&job->error);

      list = job->next;
      job->next = NULL;
      /* The job's done says what failed, in its own words. */
      job->done (job, error);
    }
}

static gboolean
finish_cb (gpointer user_data)
{
  NatterdWriter *self = user_data;
  NatterdWriteJob *list;

  g_mutex_lock (&self->lock);
  list = g_steal_pointer (&self->finished);
  self->finished_tail = NULL;
  g_clear_pointer (&self->finish_source, g_source_unref);
  g_mutex_unlock (&self->lock);

  run_done (list);
  return G_SOURCE_REMOVE;
}

/* Called with the lock held. */
static void
hand_back (NatterdWriter   *self,
           NatterdWriteJob *batch,
           NatterdWriteJob *batch_tail)
{
  if (self->finished_tail != NULL)
    self->finished_tail->next = batch;
  else
    self->finished = batch;
  self->finished_tail = batch_tail;

  if (self->finish_source == NULL)
    {
      /* Default priority, as the sockets have: under steady input an idle
       * priority would never run. */
      self->finish_source = g_idle_source_new ();
      g_source_set_priority (self->finish_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->finish_source, finish_cb, self, NULL);
      g_source_set_static_name (self->finish_source, "natterd-writer-finished");
      g_source_attach (self->finish_source, self->context);
    }
}

static gpointer
writer_main (gpointer data)
{
  NatterdWriter *self = data;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      NatterdWriteJob *batch, *tail;
      gint64 started, took;
      guint n = 1;

      while (self->queued == NULL && !self->stopping)
        {
          g_cond_broadcast (&self->idle);
          g_cond_wait (&self->wake, &self->lock);
        }
      if (self->queued == NULL)
        break; /* stopping, and everything is committed */

      /* Whatever queued up while the last commit ran is the next batch. */
      batch = tail = self->queued;
      while (tail->next != NULL && n < NATTERD_WRITER_BATCH)
        {
          tail = tail->next;
          n++;
        }
      self->queued = tail->next;
      if (self->queued == NULL)
        self->queued_tail = NULL;
      tail->next = NULL;
      self->n_queued -= n;
      self->busy = TRUE;
      g_mutex_unlock (&self->lock);

      started = g_get_monotonic_time ();
      run_batch (self->store, batch);
      took = g_get_monotonic_time () - started;

      g_mutex_lock (&self->lock);
      self->stats.batches++;
      self->stats.batch_us += took;
      self->busy = FALSE;
      hand_back (self, batch, tail);
    }
  g_cond_broadcast (&self->idle);
  g_mutex_unlock (&self->lock);
  return NULL;
}

NatterdWriter *
natterd_writer_new (const char   *thread_name,
                    NatterdStore *store,
                    GMainContext *context)
{
  NatterdWriter *self = g_new0 (NatterdWriter, 1);

  self->store = store;
  self->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  g_cond_init (&self->idle);
  self->thread = g_thread_new (thread_name, writer_main, self);
  return self;
}

void
natterd_writer_push (NatterdWriter   *self,
                     NatterdWriteJob *job)
{
  g_return_if_fail (job->run != NULL && job->done != NULL);

  job->next = NULL;
  job->error = NULL;
  g_mutex_lock (&self->lock);
  if (self->queued_tail != NULL)
    self->queued_tail->next = job;
  else
    {
      self->queued = job;
      /* Only an empty queue can have a sleeping thread behind it. */
      g_cond_signal (&self->wake);
    }
  self->queued_tail = job;
  self->n_queued++;
  g_mutex_unlock (&self->lock);
}

void
natterd_writer_drain (NatterdWriter *self)
{
  NatterdWriteJob *list;

  g_mutex_lock (&self->lock);
  g_cond_signal (&self->wake);
  while ((self->queued != NULL || self->busy) && self->thread != NULL)
    g_cond_wait (&self->idle, &self->lock);
  list = g_steal_pointer (&self->finished);
  self->finished_tail = NULL;
  if (self->finish_source != NULL)
    {
      g_source_destroy (self->finish_source);
      g_clear_pointer (&self->finish_source, g_source_unref);
    }
  g_mutex_unlock (&self->lock);

  run_done (list);
}

void
natterd_writer_free (NatterdWriter *self)
{
  if (self == NULL)
    return;
  natterd_writer_drain (self);
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_signal (&self->wake);
  g_mutex_unlock (&self->lock);
  g_thread_join (g_steal_pointer (&self->thread));
  /* Completions that ran in the drain may have queued more; the thread
   * committed them before it stopped. */
  natterd_writer_drain (self);

  natterd_store_close (self->store);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->wake);
  g_cond_clear (&self->idle);
  g_free (self);
}

void
natterd_writer_get_stats (NatterdWriter      *self,
                          NatterdWriterStats *out)
{
  g_mutex_lock (&self->lock);
  *out = self->stats;
  out->queued = self->n_queued;
  g_mutex_unlock (&self->lock);
}
