/* natterd-poller.h: readiness of many sockets through one epoll set.
 *
 * GLib's main loop polls every source's descriptor on every iteration,
 * which costs O(connections) per iteration: fine for a few hundred, ruinous
 * for tens of thousands (measured: 5 ms per login at 500 connections, 30 ms
 * at 2,500). The poller is one GSource on the main loop whose only
 * descriptor is an epoll set; connections register their sockets there, and
 * an iteration costs only what is ready.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NatterdPoller NatterdPoller;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
typedef void (*NatterdPollFunc) (gpointer data, guint32 events);

/* Embedded in whatever owns the socket: registering costs no allocation. */
typedef struct {
  NatterdPollFunc func;
  gpointer        data;
  int             fd;
  guint32         events;     /* what is registered now, 0 when not */
  gboolean        registered;
} NatterdPollHandle;

NatterdPoller *natterd_poller_new    (void);
void           natterd_poller_free   (NatterdPoller *self);
/* Whether a watched descriptor is ready now (without taking its event). */
gboolean       natterd_poller_has_events (NatterdPoller *self);

void           natterd_poll_handle_init (NatterdPollHandle *handle,
                                         int                fd,
                                         NatterdPollFunc    func,
                                         gpointer           data);
/* Sets what to wait for (EPOLLIN and/or EPOLLOUT; 0 waits for nothing). */
void           natterd_poller_watch  (NatterdPoller     *self,
                                      NatterdPollHandle *handle,
                                      guint32            events);
/* Forgets the handle; call before closing its descriptor. */
void           natterd_poller_remove (NatterdPoller     *self,
                                      NatterdPollHandle *handle);

/* Forgets the handle without a system call: for a descriptor about to be
 * closed, since closing the only descriptor of a socket takes it out of
 * every epoll set. */
void           natterd_poll_handle_forget (NatterdPollHandle *handle);

G_END_DECLS
