/* natterd-send-pool.h: threads that share the system calls of a big flush.
 *
 * On loopback and on a fast network, sending one frame to one connection
 * costs about 6 µs inside sendmsg (the kernel's TCP path and waking the
 * reader), so a message to a room of 100 kept the main loop in sendmsg for
 * 0.6 ms, and every message that arrived meanwhile waited for it
 * (docs/performance.md, F14). The pool lets other threads take part of
 * those calls while the main loop takes the rest.
 *
 * Only the calls are shared, never a connection's state: the main loop
 * prepares every write (the bytes stay where they are, owned by the
 * connection's output queue), waits in natterd_send_pool_write until every
 * call has returned, and only then looks at the results. Nothing else runs
 * on the main loop in between, so no queue changes under a helper. That
 * also makes TLS connections safe to share: GIO's objects may be used from
 * any thread as long as no two use one at once, and while a helper
 * encrypts and writes a connection's frames, nobody else touches it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _NatterdSendPool NatterdSendPool;

/* One write to make: @vectors (borrowed) to @fd, or through @tls_out (a
 * TLS connection's output stream) when that is set. */
typedef struct {
  int                    fd;
  GPollableOutputStream *tls_out;
  const GOutputVector   *vectors;
  guint                  n_vectors;
  /* Out: what sendmsg returned, and errno when that was -1. */
  gssize               sent;
  int                  error;
} NatterdSendItem;

/* @threads counts the caller: 1 makes no thread at all. */
NatterdSendPool *natterd_send_pool_new   (guint            threads);
void             natterd_send_pool_free  (NatterdSendPool *self);

/* Makes every item's call, the calling thread included, and returns when
 * all have returned. Helpers that are slow to wake are not waited for:
 * whatever they have not claimed, the caller does itself. */
void             natterd_send_pool_write (NatterdSendPool *self,
                                          NatterdSendItem *items,
                                          guint            n_items);

/* The call itself, as the pool makes it: non-blocking, without SIGPIPE.
 * A TLS write's outcome is told the same way: EAGAIN when it would block,
 * EPIPE when it failed. */
void             natterd_send_item_write (NatterdSendItem *item);

G_END_DECLS
