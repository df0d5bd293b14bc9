/* natterd-reads.h: the reads of messages (history, sync, search, the
 * conversation list), run off the main loop.
 *
 * A read runs on a reader thread with a store connection of its own
 * (natterd_store_open_reader); the rows come back to the main loop as
 * copies, where the handler encodes them as @viewer sees them. The main
 * loop never waits on a query: a search of a common prefix over a million
 * messages takes milliseconds, and every client would wait with it. Reads
 * of one connection still see its own writes: the handlers ask
 * natterd_commit_defer_read first, so a read is queued only once the
 * writes it must see are committed.
 */
#pragma once

#include "natterd-directory.h"
#include "natterd-writer.h"

G_BEGIN_DECLS

typedef struct _NatterdReads NatterdReads;

/* Reads of one connection with the reader at once; the next ones wait
 * their turn (the answers go in request order anyway). Each holds up to a
 * page (NATTERD_PAGE_BUDGET) until it is answered, so this bounds what a
 * client that pipelines reads costs, as output_queue_bytes bounds what it
 * does not read. */
#define NATTERD_READS_PER_CONNECTION 4

/* A row of a conversation list. */
typedef struct {
  gint64               conversation_id;
  gint64               read_up_to;
  gint64               unread;
  NatterdNotifyLevel   notify_level;
  NatterdStoreMessage *last;      /* NULL when the conversation has none */
} NatterdReadSummary;

/* Called on the main loop. @rows holds NatterdStoreMessage* (for
 * history, newest first; sync, oldest first; search, newest first) or
 * NatterdReadSummary* (conversations), and is freed after the call;
 * @changes holds the NatterdStoreChange* of a sync with message actions,
 * oldest first (else NULL). @error is set when the query failed. */
typedef void (*NatterdReadDoneFunc) (NatterdRequest *request,
                                     GPtrArray      *rows,
                                     GPtrArray      *changes,
                                     const GError   *error,
                                     gpointer        user_data);

NatterdReads *natterd_reads_new   (NatterdStore  *store,
                                   GError       **error);
/* Waits for the reads under way and answers them. */
void          natterd_reads_flush (NatterdReads  *self);
void          natterd_reads_free  (NatterdReads  *self);

/* Each asks for at most @limit rows and stops early once the rows hold
 * more than a page can carry (NATTERD_PAGE_BUDGET bytes of bodies): the
 * page is cut there anyway. Without @actions (a connection without message
 * actions) deleted messages are left out; with them a sync reads the
 * changes too, at most @limit. */
/* history reads as @viewer_id (without what is hidden from them: blocking). */
void natterd_reads_history (NatterdReads *self, NatterdRequest *request, gint64 viewer_id,
                            gint64 conversation_id, gint64 before, gint64 limit,
                            gboolean actions, NatterdReadDoneFunc done, gpointer user_data);
void natterd_reads_sync    (NatterdReads *self, NatterdRequest *request,
                            gint64 user_id, gint64 since, gint64 limit,
                            gboolean actions, NatterdReadDoneFunc done, gpointer user_data);
void natterd_reads_search  (NatterdReads *self, NatterdRequest *request,
                            gint64 user_id, const char *query, gint64 conversation_id,
                            gint64 limit, NatterdReadDoneFunc done, gpointer user_data);
void natterd_reads_summaries (NatterdReads *self, NatterdRequest *request,
                              gint64 user_id,
                              NatterdReadDoneFunc done, gpointer user_data);

/* A read of another kind (a token the cache does not hold): @job runs on
 * the reader thread, its done on the main loop. */
void natterd_reads_push (NatterdReads *self, NatterdWriteJob *job);

G_END_DECLS
