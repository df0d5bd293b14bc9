/* natterd-deferred.h: requests that wait for a count and are then handled
 * again, in arrival order: a read after its connection's writes
 * (natterd-commit.h), a search after the index (natterd-search-feed.h), a
 * lookup that missed after a refresh of the directory
 * (natterd-directory-refresh.h).
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
/* Handles again, in order, the requests at the head of @queue whose
 * refresh (a count too) has completed: they looked up something the
 * directory did not have, and do not wait for the store a second time
 * (natterd-directory-refresh.h). Unlike the others, they have not waited
 * for their connection's writes: they still may. */
void natterd_deferred_resume_refreshed (NatterdDirectory *self,
                                        GQueue           *queue,
                                        gint64            reached);
/* Answers the request at the head of @queue with an error instead. */
void natterd_deferred_fail_next   (GQueue           *queue,
                                   NatterErrorCode   code,
                                   const char       *message);
/* Answers every request of @queue with an error. */
void natterd_deferred_fail_all    (GQueue           *queue,
                                   NatterErrorCode   code,
                                   const char       *message);
void natterd_deferred_clear  (GQueue              *queue);

G_END_DECLS
