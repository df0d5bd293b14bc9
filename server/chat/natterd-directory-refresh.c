/* natterd-directory-refresh.c: refreshing the directory from a shared
 * store (see natterd-directory-refresh.h).
 *
 * A run goes through three steps, none of which waits on the main loop:
 *
 * 1. the turn of the model writes (natterd-model-write.h), held to the
 *    end: a room join or contact change in flight would otherwise be
 *    missing from the read and undone by the diff, then done again by
 *    the next run, with events each time;
 * 2. an empty job through the writer: its completion comes after every
 *    write queued before it has committed (a status text nobody waited
 *    for), so the read sees this node's own writes;
 * 3. the read on the reader thread, and its difference applied.
 *
 * Requests that missed wait in a queue, each for the run that began
 * reading after it missed, and are handled again once that run is done.
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include "natterd-commit.h"
#include "natterd-deferred.h"
#include "natterd-directory-diff.h"
#include "natterd-directory-refresh.h"
#include "natterd-handlers.h"
#include "natterd-model-write.h"
#include "natterd-reads.h"
#include "natterd-room-diff.h"

typedef enum {
  PHASE_IDLE,
  PHASE_WAITING_TURN,  /* for the model writes' turn */
  PHASE_BARRIER,       /* for the writes queued before it */
  PHASE_READING,
} Phase;

struct _NatterdRefresh {
  Phase    phase;
  gboolean dirty;      /* asked for while reading: one more run */
  gint64   started;    /* runs begun, the one under way included */
  gint64   completed;  /* runs done */
  guint64  stamp;      /* directory->local_stamp when the barrier was queued */
  GQueue   waiting;    /* requests that missed; after = the run they wait for */
  guint    timer;
  NatterdRefreshDoneFunc done_func;
  gpointer               done_data;
};

typedef struct {
  NatterdWriteJob           job;
  NatterdDirectory         *directory;
  gint64                    revoked_after;
  NatterdDirectorySnapshot *snapshot;
} RefreshJob;

static void start (NatterdDirectory *self);

/* The run is over (@error set when it could not read): the requests it
 * was for are handled again, the turn goes on, and a run asked for
 * meanwhile begins. */
static void
finish (NatterdDirectory *self,
        const GError     *error)
{
  NatterdRefresh *r = self->refresh;

  r->phase = PHASE_IDLE;
  r->completed = r->started;
  if (self->stopping)
    natterd_deferred_fail_all (&r->waiting, NATTER_ERROR_SERVER_BUSY, "The server is shutting down");
  else if (error != NULL)
    /* Not found would be a lie: the store could not say. */
    natterd_deferred_fail_all (&r->waiting, NATTER_ERROR_INTERNAL,
                               "The database is unavailable; try again");
  else
    natterd_deferred_resume_refreshed (self, &r->waiting, r->completed);
  if (error == NULL && !self->stopping && r->done_func != NULL)
    r->done_func (self, r->completed, r->done_data);
  natterd_model_write_release (self);
  if (r->dirty && !self->stopping && r->phase == PHASE_IDLE)
    start (self);
}

/* Reader thread. */
static gboolean
read_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  RefreshJob *j = (RefreshJob *) job;

  j->snapshot = natterd_directory_snapshot_read (store, j->revoked_after, error);
  return j->snapshot != NULL;
}

static void
read_done (NatterdWriteJob *job,
           const GError    *error)
{
  RefreshJob *j = (RefreshJob *) job;
  NatterdDirectory *self = j->directory;

  if (error != NULL)
    g_message ("Could not refresh the directory: %s", error->message);
  else if (!self->stopping)
    {
      natterd_directory_snapshot_apply (self, j->snapshot, self->refresh->stamp);
      natterd_room_forget_changes (self, self->refresh->started);
    }
  natterd_directory_snapshot_free (j->snapshot);
  g_free (j);
  finish (self, error);
}

/* Writer thread: nothing; being committed is the point. */
static gboolean
barrier_run (NatterdWriteJob *job,
             NatterdStore    *store,
             GError         **error)
{
  return TRUE;
}

static void
barrier_done (NatterdWriteJob *job,
              const GError    *error)
{
  RefreshJob *j = (RefreshJob *) job;
  NatterdDirectory *self = j->directory;

  if (error != NULL || self->stopping)
    {
      g_free (j);
      finish (self, error);
      return;
    }
  self->refresh->phase = PHASE_READING;
  j->revoked_after = self->revoked_up_to;
  j->job.run = read_run;
  j->job.done = read_done;
  natterd_reads_push (self->reads, &j->job);
}

/* Holding the turn. */
static void
queue_barrier (NatterdDirectory *self)
{
  RefreshJob *j = g_new0 (RefreshJob, 1);

  self->refresh->phase = PHASE_BARRIER;
  self->refresh->stamp = self->local_stamp;
  j->job.run = barrier_run;
  j->job.done = barrier_done;
  j->directory = self;
  natterd_commit_push (self->commit, &j->job);
}

static void
start (NatterdDirectory *self)
{
  NatterdRefresh *r = self->refresh;

  r->started++;
  r->dirty = FALSE;
  if (!natterd_model_write_take (self))
    {
      r->phase = PHASE_WAITING_TURN;
      return;
    }
  queue_barrier (self);
}

gboolean
natterd_directory_refresh_take_turn (NatterdDirectory *self)
{
  NatterdRefresh *r = self->refresh;

  if (r == NULL || r->phase != PHASE_WAITING_TURN)
    return FALSE;
  if (self->stopping)
    {
      /* The writer takes no more jobs. */
      finish (self, NULL);
      return FALSE;
    }
  if (!natterd_model_write_take (self))
    return FALSE;
  queue_barrier (self);
  return TRUE;
}

gint64
natterd_directory_refresh (NatterdDirectory *self)
{
  NatterdRefresh *r = self->refresh;

  if (r == NULL || self->stopping)
    return 0;
  switch (r->phase)
    {
    case PHASE_IDLE:
      start (self);
      break;
    case PHASE_READING:
      r->dirty = TRUE;
      break;
    default:
      /* Its read has not begun: it will see what this call is for. */
      break;
    }
  /* The run under way, unless its read may have begun before this call. */
  return r->started + (r->dirty ? 1 : 0);
}

void
natterd_directory_refresh_set_done_func (NatterdDirectory       *self,
                                         NatterdRefreshDoneFunc  func,
                                         gpointer                user_data)
{
  if (self->refresh == NULL)
    return;
  self->refresh->done_func = func;
  self->refresh->done_data = user_data;
}

gboolean
natterd_directory_refresh_wait (NatterdDirectory *self,
                                NatterdRequest   *request)
{
  NatterdRefresh *r = self->refresh;
  const NatterdHandler *handler;
  gint64 run;

  if (r == NULL || self->stopping || self->resuming_refreshed == request)
    return FALSE;
  handler = natterd_handlers_lookup (natterd_request_get_type (request));
  g_return_val_if_fail (handler != NULL, FALSE);

  run = natterd_directory_refresh (self);
  natterd_deferred_push (&r->waiting, request, handler->func, run);
  /* Handled again later: the connection's next frames wait for it, as
   * they would have been handled after it on a single node. */
  natterd_request_pause (request);
  return TRUE;
}

static gboolean
timer_cb (gpointer data)
{
  natterd_directory_refresh (data);
  return G_SOURCE_CONTINUE;
}

void
natterd_directory_refresh_init (NatterdDirectory *self)
{
  const NatterdConfig *config = natterd_directory_get_config (self);

  if (!natterd_store_is_shared (self->store))
    return;
  self->refresh = g_new0 (NatterdRefresh, 1);
  g_queue_init (&self->refresh->waiting);
  if (config->directory_refresh_ms > 0)
    self->refresh->timer = g_timeout_add (config->directory_refresh_ms, timer_cb, self);
}

void
natterd_directory_refresh_free (NatterdDirectory *self)
{
  NatterdRefresh *r = self->refresh;

  if (r == NULL)
    return;
  g_clear_handle_id (&r->timer, g_source_remove);
  /* The pipelines are flushed: a run still waiting for the turn never
   * got it. */
  natterd_deferred_fail_all (&r->waiting, NATTER_ERROR_SERVER_BUSY, "The server is shutting down");
  g_free (r);
  self->refresh = NULL;
}
