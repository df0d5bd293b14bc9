/* natterd-deferred.c: requests that wait for a count (their connection's
 * writes, the search index) and are then handled again.
 */
#define G_LOG_DOMAIN "natterd-deferred"

#include "config.h"

#include "natterd-deferred.h"
#include "natterd-session.h"

/* A request handled again once a count reaches @after: its connection's
 * finished writes (natterd_commit_defer_read), or the search index's last
 * id (natterd_search_feed_defer). */
typedef struct {
  NatterdRequest      *request;
  NatterdDeferredFunc  handler;
  gint64               after;
} Deferred;

void
natterd_deferred_push (GQueue              *queue,
                       NatterdRequest      *request,
                       NatterdDeferredFunc  handler,
                       gint64               after)
{
  Deferred *d = g_new (Deferred, 1);

  d->request = request;
  d->handler = handler;
  d->after = after;
  g_queue_push_tail (queue, d);
}

/* Handles again, in order, the requests at the head of @queue whose count
 * has come. The handlers ask natterd_commit_defer_read (and, with
 * @searched, natterd_search_feed_defer) again: resuming tells them these
 * have waited their turn. They may queue writes, so @queue's owner must
 * stay valid. */
static void
resume (NatterdDirectory *self,
        Deferred         *d,
        gboolean          searched)
{
  /* Every deferred handler needs the user its connection had. A logout
   * waits for the connection's deferred requests, but one that came first
   * could still find the session gone: answered, never handled without
   * its user (it dereferenced NULL before). */
  if (natterd_session_get_user (natterd_request_get_connection (d->request)) == NULL)
    {
      natterd_request_error (d->request, NATTER_ERROR_NOT_AUTHENTICATED,
                             "Logged out before this request could be answered");
      g_free (d);
      return;
    }
  self->resuming = d->request;
  self->resuming_search = searched ? d->request : NULL;
  d->handler (d->request);
  self->resuming = self->resuming_search = NULL;
  g_free (d);
}

void
natterd_deferred_resume (NatterdDirectory *self,
                         GQueue           *queue,
                         gint64            reached,
                         gboolean          searched)
{
  Deferred *d;

  while ((d = g_queue_peek_head (queue)) != NULL && d->after <= reached)
    resume (self, g_queue_pop_head (queue), searched);
}

void
natterd_deferred_resume_next (NatterdDirectory *self,
                              GQueue           *queue)
{
  Deferred *d = g_queue_pop_head (queue);

  if (d != NULL)
    resume (self, d, FALSE);
}

void
natterd_deferred_fail_next (GQueue          *queue,
                            NatterErrorCode  code,
                            const char      *message)
{
  Deferred *d = g_queue_pop_head (queue);

  if (d != NULL)
    natterd_request_error (d->request, code, message);
  g_free (d);
}

void
natterd_deferred_clear (GQueue *queue)
{
  g_queue_clear_full (queue, g_free);
}
