/* natterd-model-write.c: the directory's writes, one at a time (see
 * natterd-model-write.h).
 */
#define G_LOG_DOMAIN "natterd-model-write"

#include "config.h"

#include "natterd-cluster.h"
#include "natterd-directory-refresh.h"
#include "natterd-model-write.h"

gboolean
natterd_model_write_wait (NatterdDirectory    *directory,
                          NatterdRequest      *request,
                          NatterdDeferredFunc  handler)
{
  if (directory->stopping)
    {
      natterd_request_error (request, NATTER_ERROR_SERVER_BUSY, "The server is shutting down");
      return TRUE;
    }
  if (!directory->model_write_busy)
    return FALSE;
  natterd_deferred_push (&directory->model_waiting, request, handler, 0);
  return TRUE;
}

/* The requests that waited, in arrival order, until one of them starts a
 * write (the rest wait for that one) or none is left. */
static void
resume_waiting (NatterdDirectory *directory)
{
  /* At a stop the writer takes no more jobs after its last drain. */
  while (directory->stopping && !g_queue_is_empty (&directory->model_waiting))
    natterd_deferred_fail_next (&directory->model_waiting, NATTER_ERROR_SERVER_BUSY,
                                "The server is shutting down");
  while (!directory->model_write_busy && !g_queue_is_empty (&directory->model_waiting))
    natterd_deferred_resume_next (directory, &directory->model_waiting);
}

static void
model_write_done (NatterdWriteJob *job,
                  const GError    *error)
{
  NatterdModelWrite *self = (NatterdModelWrite *) job;
  /* Before apply: the answer frees the request. */
  NatterdDirectory *directory = natterd_directory_from_request (self->write.request);

  natterd_commit_write_done (&self->write);
  /* The other nodes of a cluster read the change from the database; the
   * answer waits until they have. */
  if (error == NULL && !self->unchanged)
    {
      if (self->relay != NULL)
        self->relay (self);
      natterd_cluster_directory_changed (directory->cluster, self->write.request);
    }
  self->apply (self, error);
  natterd_commit_write_clear (&self->write);
  if (self->clear != NULL)
    self->clear (self);
  g_free (self);

  natterd_model_write_release (directory);
}

gboolean
natterd_model_write_take (NatterdDirectory *directory)
{
  if (directory->model_write_busy)
    return FALSE;
  directory->model_write_busy = TRUE;
  return TRUE;
}

void
natterd_model_write_release (NatterdDirectory *directory)
{
  directory->model_write_busy = FALSE;
  /* A refresh that waited goes before the requests that wait: it is one,
   * and some of them may be waiting for it. */
  if (natterd_directory_refresh_take_turn (directory))
    return;
  resume_waiting (directory);
}

gboolean
natterd_model_write_hold (NatterdDirectory    *directory,
                          NatterdRequest      *request,
                          NatterdDeferredFunc  handler)
{
  if (natterd_model_write_wait (directory, request, handler))
    return FALSE;
  directory->model_write_busy = TRUE;
  return TRUE;
}

static void
start (NatterdModelWrite     *self,
       NatterdDirectory      *directory,
       NatterdRequest        *request,
       NatterdWriteRunFunc    run,
       NatterdModelApplyFunc  apply,
       GDestroyNotify         clear)
{
  self->apply = apply;
  self->clear = clear;
  natterd_commit_write_init (&self->write, directory->commit, request, run, model_write_done);
  self->write.job.atomic = TRUE;
  directory->model_write_busy = TRUE;
  natterd_commit_write_queue (&self->write);
}

void
natterd_model_write_start (NatterdModelWrite     *self,
                           NatterdRequest        *request,
                           NatterdWriteRunFunc    run,
                           NatterdModelApplyFunc  apply,
                           GDestroyNotify         clear)
{
  NatterdDirectory *directory = natterd_directory_from_request (request);

  g_return_if_fail (!directory->model_write_busy);
  start (self, directory, request, run, apply, clear);
}

void
natterd_model_write_start_held (NatterdModelWrite     *self,
                                NatterdRequest        *request,
                                NatterdWriteRunFunc    run,
                                NatterdModelApplyFunc  apply,
                                GDestroyNotify         clear)
{
  NatterdDirectory *directory = natterd_directory_from_request (request);

  g_return_if_fail (directory->model_write_busy);
  start (self, directory, request, run, apply, clear);
}
