/* natterd-commit.h: the group commit of sends, and read-your-writes.
 */
#pragma once

#include "natterd-directory.h"
#include "natterd-message-files.h"
#include "natterd-writer.h"

G_BEGIN_DECLS

/* Opens the writer's own connection (a sibling of @store) and its thread;
 * installs @store's write hook, which says it loudly (a critical) if
 * anything writes on the main loop's connection. */
NatterdCommit *natterd_commit_new   (NatterdDirectory  *directory,
                                     NatterdStore      *store,
                                     GError           **error);
/* Commits and answers everything queued (at shutdown). */
void           natterd_commit_flush (NatterdCommit     *self);
/* Flushes, stops the writer, removes the write hook. */
void           natterd_commit_free  (NatterdCommit     *self);

/* In a cluster (natterd-cluster.h), the committed sends and the other
 * nodes' messages come back here in id order. @send: what
 * natterd_cluster_own_committed() was given; fanned out (unless
 * @delivered_already: a read of the database brought it first) and
 * answered. */
void           natterd_commit_deliver_own     (NatterdCommit             *self,
                                               gpointer                   send,
                                               gboolean                   delivered_already);
/* The commit a send (as natterd_cluster_own_committed() was given it)
 * belongs to. */
NatterdCommit *natterd_commit_of_send         (gpointer                   send);
/* A message another node committed (@peer_id: the other user of a direct
 * conversation, 0 if not known), fanned out to this node's connections.
 * FALSE when the directory does not know its sender or conversation (yet):
 * nobody here is told live, and the clients find it when they sync. */
gboolean       natterd_commit_deliver_foreign (NatterdCommit             *self,
                                               const NatterdStoreMessage *m,
                                               gint64                     peer_id);

/* Calls @func (@data) in its turn among the deliveries: after every
 * message handed to the commit before it has been fanned out. What must
 * reach the connections in id order beside the messages (a change of a
 * message) goes through here. */
typedef void (*NatterdCommitTurnFunc) (gpointer data);
void           natterd_commit_deliver_in_turn (NatterdCommit         *self,
                                               NatterdCommitTurnFunc  func,
                                               gpointer               data);

/* Queues a send for the group commit; the request is answered after the
 * commit, and the message fanned out in id order. @conversation NULL with
 * @peer: the direct conversation with @peer, made in the same transaction
 * as the message (the first message between the two). @reply_to (0: none)
 * is checked by the writer (not_found); @mentions (natterd-mentions.h,
 * NULL: none) and @files (natterd-message-files.h, NULL: none; checked
 * by the writer too) are taken. */
void           natterd_commit_queue_send (NatterdCommit       *self,
                                          NatterdRequest      *request,
                                          NatterdUser         *sender,
                                          NatterdConversation *conversation,
                                          NatterdUser         *peer,
                                          const char          *body,
                                          gsize                body_len,
                                          const char          *client_msg_id,
                                          gint64               reply_to,
                                          char                *mentions,
                                          NatterdSendFiles    *files);

/* A send the rate limit refuses may be the resend of a stored message (an
 * outbox after a reconnect): the reader thread looks it up, and it is
 * answered with the original, as an unlimited send would be, or else
 * rate_limited with @retry_after_ms. */
void           natterd_commit_answer_resend (NatterdCommit  *self,
                                             NatterdRequest *request,
                                             NatterdUser    *sender,
                                             const char     *client_msg_id,
                                             gint64          retry_after_ms);

/* A write nobody waits for (last_seen, status text): goes in the next
 * batch; its done function only logs a failure. */
void           natterd_commit_push  (NatterdCommit     *self,
                                     NatterdWriteJob   *job);

/* A write job that answers a request (a send, a read marker): embed it
 * first in the job's struct. While queued it holds the request's
 * connection and counts as that connection's write in flight. */
typedef struct {
  NatterdWriteJob    job;
  NatterdCommit     *commit;
  NatterdRequest    *request;
  NatterdConnection *connection;  /* owned until natterd_commit_write_clear */
  gboolean           in_flight;
} NatterdCommitWrite;

void           natterd_commit_write_init  (NatterdCommitWrite   *self,
                                           NatterdCommit        *commit,
                                           NatterdRequest       *request,
                                           NatterdWriteRunFunc   run,
                                           NatterdWriteDoneFunc  done);
/* Hands the (filled in) job to the writer thread. */
void           natterd_commit_write_queue (NatterdCommitWrite   *self);
/* First thing in the job's done function: reads of the connection that
 * waited for it may go now. */
void           natterd_commit_write_done  (NatterdCommitWrite   *self);
/* Done (if not yet) and releases the connection: when freeing the job. */
void           natterd_commit_write_clear (NatterdCommitWrite   *self);

/* Read-your-writes on one connection: a request that reads messages
 * (history, sync, search, conversations) right after its connection's
 * sends must see them, but they commit on the writer's connection. Returns
 * TRUE when the connection still has writes in flight: @handler is then
 * called again with @request once they are committed. */
gboolean       natterd_commit_defer_read  (NatterdCommit       *self,
                                           NatterdRequest      *request,
                                           NatterdDeferredFunc  handler);

/* The writer thread's queue and commit times (the metrics). */
void natterd_commit_get_writer_stats (NatterdCommit      *self,
                                      NatterdWriterStats *out);

G_END_DECLS
