/* natterd-poller-glib.c: the portable poller (see natterd-poller.h): one
 * GSource with every watched socket's descriptor added to it
 * (g_source_add_unix_fd), so GLib's own poll() watches them. Used where
 * there is no epoll, and on Linux with -Dportable=true.
 *
 * An iteration costs O(sockets) here (GLib polls them all, and dispatch
 * looks at each one's answer), which epoll avoided; it is the price of
 * portability, paid only off Linux. */
#define G_LOG_DOMAIN "natterd-poller"

#include "natterd-poller.h"

#include <poll.h>

#include "natterd-platform.h"

struct _NatterdPoller {
  GSource    source;
  GPtrArray *handles;   /* NatterdPollHandle *, each knows its slot */
};

static gboolean
poller_prepare (GSource *source,
                gint    *timeout)
{
  *timeout = -1;
  return FALSE;
}

/* GLib dispatches a source with descriptors that poll() found ready,
 * whatever check says: no check function. */
static gboolean
poller_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  NatterdPoller *self = (NatterdPoller *) source;
  g_autoptr(GPtrArray) ready = g_ptr_array_new ();
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (guint32));

  /* Collected first: a handler may stop watching another socket (a
   * connection closed), which moves handles between slots. A handle
   * stays valid through this dispatch (connections are freed from a
   * later idle), and one forgotten meanwhile is skipped. */
  for (guint i = 0; i < self->handles->len; i++)
    {
      NatterdPollHandle *handle = g_ptr_array_index (self->handles, i);
      guint32 revents = g_source_query_unix_fd (source, handle->tag);

      if (revents == 0)
        continue;
      g_ptr_array_add (ready, handle);
      g_array_append_val (events, revents);
    }
  for (guint i = 0; i < ready->len; i++)
    {
      NatterdPollHandle *handle = g_ptr_array_index (ready, i);

      if (handle->poller == self && handle->registered)
        handle->func (handle->data, g_array_index (events, guint32, i) & (handle->events | NATTERD_POLL_ERR | NATTERD_POLL_HUP));
    }
  return G_SOURCE_CONTINUE;
}

static void
poller_finalize (GSource *source)
{
  NatterdPoller *self = (NatterdPoller *) source;

  for (guint i = 0; i < self->handles->len; i++)
    ((NatterdPollHandle *) g_ptr_array_index (self->handles, i))->poller = NULL;
  g_ptr_array_unref (self->handles);
}

static GSourceFuncs poller_funcs = {
  .prepare = poller_prepare,
  .dispatch = poller_dispatch,
  .finalize = poller_finalize,
};

NatterdPoller *
natterd_poller_new (void)
{
  NatterdPoller *self = (NatterdPoller *) g_source_new (&poller_funcs, sizeof (NatterdPoller));

  self->handles = g_ptr_array_new ();
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
  /* Looks without taking anything: a poll() of every watched socket. */
  g_autofree struct pollfd *fds = g_new (struct pollfd, MAX (self->handles->len, 1));

  for (guint i = 0; i < self->handles->len; i++)
    {
      NatterdPollHandle *handle = g_ptr_array_index (self->handles, i);

      fds[i] = (struct pollfd) { .fd = handle->fd, .events = (short) (handle->events & ~NATTERD_POLL_PEER_CLOSED) };
    }
  return self->handles->len > 0 && poll (fds, self->handles->len, 0) > 0;
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
  if (handle->registered && handle->events == events)
    return;
  if (handle->registered)
    g_source_modify_unix_fd (&self->source, handle->tag, (GIOCondition) (events & ~NATTERD_POLL_PEER_CLOSED));
  else
    {
      handle->tag = g_source_add_unix_fd (&self->source, handle->fd,
                                          (GIOCondition) (events & ~NATTERD_POLL_PEER_CLOSED));
      handle->poller = self;
      handle->slot = self->handles->len;
      g_ptr_array_add (self->handles, handle);
      handle->registered = TRUE;
    }
  handle->events = events;
}

void
natterd_poller_remove (NatterdPoller     *self,
                       NatterdPollHandle *handle)
{
  natterd_poll_handle_forget (handle);
}

void
natterd_poll_handle_forget (NatterdPollHandle *handle)
{
  NatterdPoller *self = handle->poller;

  if (handle->registered && self != NULL)
    {
      NatterdPollHandle *last = g_ptr_array_index (self->handles, self->handles->len - 1);

      g_source_remove_unix_fd (&self->source, handle->tag);
      /* The last handle takes the freed slot. */
      g_ptr_array_index (self->handles, handle->slot) = last;
      last->slot = handle->slot;
      g_ptr_array_set_size (self->handles, self->handles->len - 1);
    }
  handle->poller = NULL;
  handle->tag = NULL;
  handle->registered = FALSE;
  handle->events = 0;
}
