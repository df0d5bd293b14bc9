/* natterd-poller-epoll.c: the poller on Linux, one epoll set (see
 * natterd-poller.h; natterd-poller-glib.c is the portable one). */
#define G_LOG_DOMAIN "natterd-poller"

#include "natterd-poller.h"
#include "natterd-platform.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events taken per dispatch: enough to amortise the call, few enough that
 * other sources (accepting, timers, the flush) get their turn. */
#define MAX_EVENTS 1024

struct _NatterdPoller {
  GSource  source;
  int      epfd;
  gpointer tag;
};

static gboolean
poller_prepare (GSource *source,
                gint    *timeout)
{
  *timeout = -1;
  return FALSE;
}

static gboolean
poller_check (GSource *source)
{
  NatterdPoller *self = (NatterdPoller *) source;

  return (g_source_query_unix_fd (source, self->tag) & G_IO_IN) != 0;
}

static gboolean
poller_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  NatterdPoller *self = (NatterdPoller *) source;
  struct epoll_event events[MAX_EVENTS];
  int n;

  n = epoll_wait (self->epfd, events, MAX_EVENTS, 0);
  if (n < 0 && errno != EINTR)
    g_warning ("epoll_wait failed: %s", g_strerror (errno));

  /* A handler may close another connection of this batch: connections are
   * freed only from a later idle, and a closed one ignores its events. */
  for (int i = 0; i < n; i++)
    {
      NatterdPollHandle *handle = events[i].data.ptr;
      guint32 ready = events[i].events & ~(guint32) EPOLLRDHUP;

      if (events[i].events & EPOLLRDHUP)
        ready |= NATTERD_POLL_PEER_CLOSED;
      handle->func (handle->data, ready);
    }

  return G_SOURCE_CONTINUE;
}

static void
poller_finalize (GSource *source)
{
  NatterdPoller *self = (NatterdPoller *) source;

  if (self->epfd >= 0)
    close (self->epfd);
}

static GSourceFuncs poller_funcs = {
  .prepare = poller_prepare,
  .check = poller_check,
  .dispatch = poller_dispatch,
  .finalize = poller_finalize,
};

NatterdPoller *
natterd_poller_new (void)
{
  NatterdPoller *self = (NatterdPoller *) g_source_new (&poller_funcs, sizeof (NatterdPoller));

  self->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epfd < 0)
    g_error ("epoll_create1 failed: %s", g_strerror (errno));
  self->tag = g_source_add_unix_fd (&self->source, self->epfd, G_IO_IN);
  g_source_set_priority (&self->source, G_PRIORITY_DEFAULT);
  g_source_set_name (&self->source, "natterd connections");
  g_source_attach (&self->source, NULL);
  return self;
}

void
natterd_poller_free (NatterdPoller *self)
{
  g_source_destroy (&self->source);
  g_source_unref (&self->source);
}

gboolean
natterd_poller_has_events (NatterdPoller *self)
{
  /* An epoll descriptor is readable while it has events to return; poll()
   * looks without consuming them (level-triggered watches stay reported). */
  struct pollfd pfd = { .fd = self->epfd, .events = POLLIN };

  return poll (&pfd, 1, 0) > 0;
}

void
natterd_poll_handle_init (NatterdPollHandle *handle,
                          int                fd,
                          NatterdPollFunc    func,
                          gpointer           data)
{
  *handle = (NatterdPollHandle) { .func = func, .data = data, .fd = fd };
}

void
natterd_poller_watch (NatterdPoller     *self,
                      NatterdPollHandle *handle,
                      guint32            events)
{
  struct epoll_event ev;
  int op;

  if (handle->registered && handle->events == events)
    return;

  memset (&ev, 0, sizeof ev);
  ev.events = events & ~NATTERD_POLL_PEER_CLOSED;
  if (events & NATTERD_POLL_PEER_CLOSED)
    ev.events |= EPOLLRDHUP;
  ev.data.ptr = handle;
  op = handle->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl (self->epfd, op, handle->fd, &ev) != 0)
    {
      g_warning ("epoll_ctl failed on fd %d: %s", handle->fd, g_strerror (errno));
      return;
    }
  handle->registered = TRUE;
  handle->events = events;
}

void
natterd_poller_remove (NatterdPoller     *self,
                       NatterdPollHandle *handle)
{
  if (!handle->registered)
    return;
  epoll_ctl (self->epfd, EPOLL_CTL_DEL, handle->fd, NULL);
  natterd_poll_handle_forget (handle);
}

void
natterd_poll_handle_forget (NatterdPollHandle *handle)
{
  handle->registered = FALSE;
  handle->events = 0;
}
