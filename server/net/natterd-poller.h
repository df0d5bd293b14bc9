/* natterd-poller.h: readiness of many sockets through one GSource.
 *
 * GLib's main loop polls every source's descriptor on every iteration,
 * which costs O(connections) per iteration: fine for a few hundred, ruinous
 * for tens of thousands (measured: 5 ms per login at 500 connections, 30 ms
 * at 2,500). The poller is one GSource on the main loop whose only
 * descriptor is an epoll set; connections register their sockets there, and
 * an iteration costs only what is ready (natterd-poller-epoll.c).
 *
 * Elsewhere, and in a -Dportable=true build (natterd-platform.h), the
 * same interface is one GSource that watches every socket itself
 * (natterd-poller-glib.c): GLib's own poll, O(connections) per
 * iteration again, but on every system GLib runs on.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NatterdPoller NatterdPoller;

/* Called with what is ready: NATTERD_POLL_IN, _OUT, _ERR, _HUP
 * (natterd-platform.h). */
typedef void (*NatterdPollFunc) (gpointer data, guint32 events);

/* Embedded in whatever owns the socket: registering costs no allocation. */
typedef struct {
  NatterdPollFunc func;
  gpointer        data;
  int             fd;
  guint32         events;     /* what is registered now, 0 when not */
  gboolean        registered;
  /* The GLib poller's (natterd-poller-glib.c): */
  struct _NatterdPoller *poller; /* watching it, or NULL */
  gpointer        tag;        /* the descriptor's tag in its source */
  guint           slot;       /* its index in the poller's handles */
} NatterdPollHandle;

NatterdPoller *natterd_poller_new    (void);
void           natterd_poller_free   (NatterdPoller *self);
/* Whether a watched descriptor is ready now (without taking its event). */
gboolean       natterd_poller_has_events (NatterdPoller *self);

void           natterd_poll_handle_init (NatterdPollHandle *handle,
                                         int                fd,
                                         NatterdPollFunc    func,
                                         gpointer           data);
/* Sets what to wait for (NATTERD_POLL_IN and/or _OUT; 0 waits for
 * nothing). */
void           natterd_poller_watch  (NatterdPoller     *self,
                                      NatterdPollHandle *handle,
                                      guint32            events);
/* Forgets the handle; call before closing its descriptor. */
void           natterd_poller_remove (NatterdPoller     *self,
                                      NatterdPollHandle *handle);

/* Forgets the handle without a system call: for a descriptor about to be
 * closed, since closing the only descriptor of a socket takes it out of
 * every epoll set. (The GLib poller forgets its watch here too.) */
void           natterd_poll_handle_forget (NatterdPollHandle *handle);

G_END_DECLS
