/* natterd-search-feed.c: the search index, written behind the messages.
 *
 * Committed messages go into the index (search.db, natterd-store.h) in
 * bulk, on a thread of its own at a lower priority: when
 * NATTERD_INDEX_BATCH wait, when the oldest has waited
 * NATTERD_INDEX_DELAY_MS, or when a search arrives; a search waits until
 * the index has every message committed before it, so nobody can tell.
 */
#define G_LOG_DOMAIN "natterd-search-feed"

#include "config.h"

#include <errno.h>
#include <sys/resource.h>

#include "natterd-deferred.h"
#include "natterd-search-feed.h"
#include "natterd-writer.h"

struct _NatterdSearchFeed {
  NatterdDirectory *directory;        /* borrowed */
  NatterdWriter    *indexer;          /* writes search.db, never natter.db */
  gint64            last_committed_id;/* newest message known committed */
  gint64            indexed_up_to;    /* the index is complete up to here */
  gboolean          index_queued;     /* an index job is with the indexer */
  guint             index_source;     /* indexes what waited too long */
  gboolean          index_rebuilding; /* a big catch-up, logged when done */
  GQueue            waiting_searches; /* deferred searches (natterd-deferred.h) */
};

typedef struct {
  NatterdWriteJob    job;
  NatterdSearchFeed *feed;
  gint64             indexed_up_to;
} IndexJob;

static void queue_index (NatterdSearchFeed *self);
static gboolean index_timeout_cb (gpointer user_data);

static gboolean
index_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  IndexJob *j = (IndexJob *) job;
  static __thread gboolean lowered;

  /* The index can wait; messages cannot. On Linux the nice value is each
   * thread's own, so this lowers the indexer's priority only: its bulk
   * inserts and FTS5 merges (tens of ms at a million messages) then give
   * way to the main loop and the writer on a busy machine. */
  if (!lowered)
    {
      lowered = TRUE;
      if (setpriority (PRIO_PROCESS, 0, NATTERD_INDEX_NICE) != 0)
        g_debug ("Could not lower the indexer's priority: %s", g_strerror (errno));
    }
  return natterd_store_search_index_catch_up (store, NATTERD_INDEX_SLICE, &j->indexed_up_to, error);
}

/* Queues an index job now when enough waits (or a search waits), else
 * in a while. */
static void
schedule_index (NatterdSearchFeed *self)
{
  if (self->index_queued || self->last_committed_id <= self->indexed_up_to)
    return;
  if (!g_queue_is_empty (&self->waiting_searches) ||
      self->last_committed_id - self->indexed_up_to >= NATTERD_INDEX_BATCH)
    queue_index (self);
  else if (self->index_source == 0 && !self->directory->stopping)
    self->index_source = g_timeout_add (NATTERD_INDEX_DELAY_MS, index_timeout_cb, self);
}

static void
index_done (NatterdWriteJob *job,
            const GError    *error)
{
  IndexJob *j = (IndexJob *) job;
  NatterdSearchFeed *self = j->feed;

  self->index_queued = FALSE;
  if (error != NULL)
    g_warning ("Could not update the search index: %s", error->message);
  else
    self->indexed_up_to = MAX (self->indexed_up_to, j->indexed_up_to);
  g_free (j);
  if (self->index_rebuilding && self->indexed_up_to >= self->last_committed_id)
    {
      self->index_rebuilding = FALSE;
      g_message ("The search index is complete");
    }

  /* On an error the searches run anyway, on what the index has: an
   * answer that misses the newest messages beats none. */
  natterd_deferred_resume (self->directory, &self->waiting_searches,
                error != NULL ? G_MAXINT64 : self->indexed_up_to, TRUE);
  /* At shutdown what is left waits for the next start's catch-up. */
  if (error == NULL && !self->directory->stopping)
    schedule_index (self);
}

static gboolean
index_timeout_cb (gpointer user_data)
{
  NatterdSearchFeed *self = user_data;

  self->index_source = 0;
  queue_index (self);
  return G_SOURCE_REMOVE;
}

static void
queue_index (NatterdSearchFeed *self)
{
  IndexJob *j;

  g_clear_handle_id (&self->index_source, g_source_remove);
  if (self->index_queued || self->indexer == NULL)
    return;
  j = g_new0 (IndexJob, 1);
  j->job.run = index_run;
  j->job.done = index_done;
  j->feed = self;
  self->index_queued = TRUE;
  natterd_writer_push (self->indexer, &j->job);
}

void
natterd_search_feed_note_committed (NatterdSearchFeed *self,
                                    gint64             id)
{
  self->last_committed_id = MAX (self->last_committed_id, id);
  schedule_index (self);
}

gboolean
natterd_search_feed_defer (NatterdSearchFeed   *self,
                           NatterdRequest      *request,
                           NatterdDeferredFunc  handler)
{
  if (request == self->directory->resuming_search || self->indexed_up_to >= self->last_committed_id)
    return FALSE;
  natterd_deferred_push (&self->waiting_searches, request, handler, self->last_committed_id);
  queue_index (self);
  return TRUE;
}

NatterdSearchFeed *
natterd_search_feed_new (NatterdDirectory  *directory,
                         NatterdStore      *store,
                         GError           **error)
{
  NatterdSearchFeed *self = g_new0 (NatterdSearchFeed, 1);
  NatterdStore *indexer_store;

  self->directory = directory;
  /* Messages the index lacks (a crash, an upgrade, a deleted search.db)
   * go in from the indexer once it runs; searches wait for them. */
  if (!natterd_store_search_index_state (store, &self->indexed_up_to, &self->last_committed_id, error))
    {
      g_prefix_error (error, "%s: ", natterd_store_get_path (store));
      g_free (self);
      return NULL;
    }
  indexer_store = natterd_store_open_indexer (store, error);
  if (indexer_store == NULL)
    {
      g_free (self);
      return NULL;
    }
  self->indexer = natterd_writer_new ("natterd-index", indexer_store, NULL);
  if (self->last_committed_id - self->indexed_up_to > NATTERD_INDEX_BATCH)
    {
      g_message ("Adding %" G_GINT64_FORMAT " messages to the search index, in the background",
                 self->last_committed_id - self->indexed_up_to);
      self->index_rebuilding = TRUE;
    }
  schedule_index (self);
  return self;
}

void
natterd_search_feed_flush (NatterdSearchFeed *self)
{
  /* Index what waits (one slice at most), so that the next start has
   * little to catch up. */
  if (self->last_committed_id > self->indexed_up_to)
    queue_index (self);
  natterd_writer_drain (self->indexer);
  g_clear_handle_id (&self->index_source, g_source_remove);
}

void
natterd_search_feed_free (NatterdSearchFeed *self)
{
  if (self == NULL)
    return;
  natterd_search_feed_flush (self);
  g_clear_pointer (&self->indexer, natterd_writer_free);
  natterd_deferred_clear (&self->waiting_searches);
  g_free (self);
}
