/* natterd-model-write.h: requests that change what the directory holds
 * (rooms and their members, contacts), written one at a time.
 *
 * Such a request is checked against the directory on the main loop,
 * written on the writer thread (natterd-commit.h) and applied to the
 * directory once it has committed: the main loop never waits on the
 * database. Two in flight at once could both pass their checks against
 * the same state (two users asking each other to be contacts at the same
 * moment, the second create of a room name) and leave the directory
 * unlike the database. So while one is in flight the next waits, and is
 * then handled again from the start, checked against the directory as the
 * first left it. They are rare next to sends, which never wait for them.
 * Their handlers are flagged PAUSES as well: a client's next request (a
 * send into the room it has just joined) is read after the answer.
 */
#pragma once

#include "natterd-commit.h"
#include "natterd-deferred.h"

G_BEGIN_DECLS

typedef struct _NatterdModelWrite NatterdModelWrite;

/* Main loop, after the commit (@error NULL) or the failure: changes the
 * directory, tells whom it concerns and answers the request. The job is
 * freed after it returns. */
typedef void (*NatterdModelApplyFunc) (NatterdModelWrite *write,
                                       const GError      *error);

/* Embed first in the job's struct, which is allocated with g_malloc. */
struct _NatterdModelWrite {
  NatterdCommitWrite     write;
  NatterdModelApplyFunc  apply;
  GDestroyNotify         clear;  /* frees the job's own fields; may be NULL */
  /* Set by the job's run when it found nothing to write (the rows
   * decided so): the other nodes of a cluster are then not told. */
  gboolean               unchanged;
  /* Called (may be NULL) after the commit, before the other nodes are
   * told to read the change: what the store does not say of it goes on
   * the bus first (natterd_cluster_relay_room_change). */
  void                 (*relay) (NatterdModelWrite *self);
};

/* TRUE when another request's write is in flight: @request then waits, and
 * @handler is called with it again afterwards. Call once the arguments are
 * read, before checking them against the directory. */
gboolean natterd_model_write_wait  (NatterdDirectory      *directory,
                                    NatterdRequest        *request,
                                    NatterdDeferredFunc    handler);
/* Hands @self (its fields filled in) to the writer: @run on the writer
 * thread, inside the batch's transaction; then @apply on the main loop. */
void     natterd_model_write_start (NatterdModelWrite     *self,
                                    NatterdRequest        *request,
                                    NatterdWriteRunFunc    run,
                                    NatterdModelApplyFunc  apply,
                                    GDestroyNotify         clear);

/* For a write decided after work off the main loop (a password checked
 * in the hashing pool, feature accounts): takes the turn at once, or
 * FALSE when @request waits for it as with natterd_model_write_wait. The
 * write then starts with natterd_model_write_start_held, or
 * natterd_model_write_release gives the turn back. */
gboolean natterd_model_write_hold       (NatterdDirectory      *directory,
                                         NatterdRequest        *request,
                                         NatterdDeferredFunc    handler);
void     natterd_model_write_start_held (NatterdModelWrite     *self,
                                         NatterdRequest        *request,
                                         NatterdWriteRunFunc    run,
                                         NatterdModelApplyFunc  apply,
                                         GDestroyNotify         clear);

/* The same turn, for a refresh of the directory (natterd-directory-refresh.h),
 * which must not read the store while a change is half applied: TRUE when
 * it is now held; release hands it to whoever waits. */
gboolean natterd_model_write_take    (NatterdDirectory      *directory);
void     natterd_model_write_release (NatterdDirectory      *directory);

G_END_DECLS
