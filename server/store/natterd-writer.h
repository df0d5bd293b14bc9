/* natterd-writer.h: the writer thread, where the group commit happens.
 *
 * Writes that a reply waits for (sends, read markers) and writes nobody
 * waits for (last_seen, status text) are queued here as jobs. The thread
 * takes whatever has queued up, runs it in one transaction on its own
 * connection (a sibling of the main store) and commits: one fsync for the
 * batch, and never on the main loop. Then each job's @done runs on the main
 * loop, in queue order, after the commit returned, so that nothing is
 * answered or delivered before it is durable.
 */
#pragma once

#include <glib.h>

#include "natterd-store.h"

G_BEGIN_DECLS

typedef struct _NatterdWriter   NatterdWriter;
typedef struct _NatterdWriteJob NatterdWriteJob;

/* Runs on the writer thread inside the batch's transaction; only @store
 * and the job's own data may be touched. FALSE with @error fails this job
 * (the others of the batch still commit, if the transaction survived). */
typedef gboolean (*NatterdWriteRunFunc)  (NatterdWriteJob *job,
                                          NatterdStore    *store,
                                          GError         **error);
/* Runs on the main loop once the batch's fate is known: @error is NULL when
 * the job's writes are durable. Owns the job: frees it. */
typedef void     (*NatterdWriteDoneFunc) (NatterdWriteJob *job,
                                          const GError    *error);

/* Embed as the first member of a job's struct. */
struct _NatterdWriteJob {
  NatterdWriteRunFunc  run;
  NatterdWriteDoneFunc done;
  /* Runs inside a savepoint: a job of several statements keeps all of
   * them or, when it fails, none, and the batch goes on without it. */
  gboolean             atomic;
  /*< private >*/
  GError              *error;
  NatterdWriteJob     *next;
};

/* Takes @store (a connection of its own); completions are dispatched on
 * @context (NULL: the default main context). The thread is named
 * @thread_name (natterd has two: the writer and the search indexer). */
NatterdWriter *natterd_writer_new  (const char     *thread_name,
                                    NatterdStore   *store,
                                    GMainContext   *context);
/* Queues @job; its @done runs on the main loop later, never from inside
 * this call. */
void           natterd_writer_push (NatterdWriter   *self,
                                    NatterdWriteJob *job);
/* Waits until everything queued is committed (or failed) and runs the
 * completions waiting for the main loop now, on the calling thread. */
void           natterd_writer_drain (NatterdWriter  *self);
/* Drains, stops the thread and closes its store. */
void           natterd_writer_free (NatterdWriter   *self);

/* For the metrics (natterd-metrics.c): jobs waiting for the thread, and
 * the batches written so far with the time they took in all (BEGIN to
 * COMMIT, the sync included), in µs. */
typedef struct {
  guint   queued;
  guint64 batches;
  guint64 batch_us;
} NatterdWriterStats;
void           natterd_writer_get_stats (NatterdWriter      *self,
                                         NatterdWriterStats *out);

/* Jobs queued at most per transaction. */
#define NATTERD_WRITER_BATCH 4096

G_END_DECLS
