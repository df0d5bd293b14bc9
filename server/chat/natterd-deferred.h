/* natterd-deferred.h: requests that wait for a count and are then handled
 * again, in arrival order: a read after its connection's writes
 * (natterd-commit.h), a search after the index (natterd-search-feed.h).
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* Queues @request, to be handled again by @handler once the count passed
 * to natterd_deferred_resume reaches @after. */
void natterd_deferred_push   (GQueue              *queue,
                              NatterdRequest      *request,
                              NatterdDeferredFunc  handler,
                              gint64               after);
/* Handles again, in order, the requests at the head of @queue whose count
 * has come (@searched: they waited for the search index). */
void natterd_deferred_resume (NatterdDirectory    *self,
                              GQueue              *queue,
                              gint64               reached,
                              gboolean             searched);
/* Handles again the request at the head of @queue, whatever its count. */
void natterd_deferred_resume_next (NatterdDirectory *self,
                                   GQueue           *queue);
/* Answers the request at the head of @queue with an error instead. */
void natterd_deferred_fail_next   (GQueue           *queue,
                                   NatterErrorCode   code,
                                   const char       *message);
void natterd_deferred_clear  (GQueue              *queue);

G_END_DECLS
