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
  guint                waited;     /* WAITED_*: what it has waited for already */
  gboolean             needs_user; /* asked while logged in */
} Deferred;

/* What a request has waited for is remembered while it waits for
 * something else: a request resumed after a refresh that must then wait
 * for a model write still must not wait for a second refresh. */
enum {
  WAITED_WRITES  = 1 << 0,
  WAITED_SEARCH  = 1 << 1,
  WAITED_REFRESH = 1 << 2,
};

static guint
waited_now (NatterdDirectory *self,
            NatterdRequest   *request)
{
  return (self->resuming == request ? WAITED_WRITES : 0) |
         (self->resuming_search == request ? WAITED_SEARCH : 0) |
         (self->resuming_refreshed == request ? WAITED_REFRESH : 0);
}

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
  d->waited = waited_now (natterd_directory_from_request (request), request);
  d->needs_user = natterd_session_get_user (natterd_request_get_connection (request)) != NULL;
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
        guint             waited)
{
  /* Every deferred handler of a logged-in request needs the user its
   * connection had. A logout waits for the connection's deferred
   * requests, but one that came first could still find the session gone:
   * answered, never handled without its user (it dereferenced NULL
   * before). A login waiting for a refresh had no user to lose. */
  if (d->needs_user && natterd_session_get_user (natterd_request_get_connection (d->request)) == NULL)
    {
      natterd_request_error (d->request, NATTER_ERROR_NOT_AUTHENTICATED,
                             "Logged out before this request could be answered");
      g_free (d);
      return;
    }
  waited |= d->waited;
  self->resuming = waited & WAITED_WRITES ? d->request : NULL;
  self->resuming_search = waited & WAITED_SEARCH ? d->request : NULL;
  self->resuming_refreshed = waited & WAITED_REFRESH ? d->request : NULL;
  d->handler (d->request);
  self->resuming = self->resuming_search = self->resuming_refreshed = NULL;
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
    resume (self, g_queue_pop_head (queue), WAITED_WRITES | (searched ? WAITED_SEARCH : 0));
}

void
natterd_deferred_resume_next (NatterdDirectory *self,
                              GQueue           *queue)
{
  Deferred *d = g_queue_pop_head (queue);

  if (d != NULL)
    resume (self, d, WAITED_WRITES);
}

void
natterd_deferred_resume_refreshed (NatterdDirectory *self,
                                   GQueue           *queue,
                                   gint64            reached)
{
  Deferred *d;

  while ((d = g_queue_peek_head (queue)) != NULL && d->after <= reached)
    resume (self, g_queue_pop_head (queue), WAITED_REFRESH);
}

void
natterd_deferred_fail_all (GQueue          *queue,
                           NatterErrorCode  code,
                           const char      *message)
{
  while (!g_queue_is_empty (queue))
    natterd_deferred_fail_next (queue, code, message);
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
