/* natterd-search-feed.h: the search index, written behind the messages.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* Reads how far the index goes in @store and opens the indexer's own
 * connection and thread; queues whatever the index lacks. */
NatterdSearchFeed *natterd_search_feed_new   (NatterdDirectory   *directory,
                                              NatterdStore       *store,
                                              GError            **error);
/* At shutdown: indexes one slice of what waits, and stops the timer. */
void               natterd_search_feed_flush (NatterdSearchFeed  *self);
void               natterd_search_feed_free  (NatterdSearchFeed  *self);

/* A message up to @id is committed: index soon, in bulk. */
void               natterd_search_feed_note_committed (NatterdSearchFeed *self,
                                                       gint64             id);
/* Search sees every message committed before it was asked: TRUE when the
 * index is behind; an index job is queued and @handler is called again
 * with @request once it is done. */
gboolean           natterd_search_feed_defer (NatterdSearchFeed   *self,
                                              NatterdRequest      *request,
                                              NatterdDeferredFunc  handler);

G_END_DECLS
