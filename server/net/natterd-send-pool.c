/* natterd-send-pool.c: see natterd-send-pool.h.
 *
 * A job is posted to every helper at once; each item is claimed with one
 * atomic increment, so a helper that wakes late takes less, and one that
 * wakes after the caller has claimed everything takes nothing. The caller
 * then closes the job and waits only for helpers already inside it, each
 * finishing the one call it is making.
 */
#define G_LOG_DOMAIN "natterd-send"

#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "natterd-platform.h"
#include "natterd-send-pool.h"

/* GOutputVector is laid out as struct iovec (GLib's own gsocket.c relies
 * on it too), so the vectors go to sendmsg as they are. */
G_STATIC_ASSERT (sizeof (GOutputVector) == sizeof (struct iovec));
G_STATIC_ASSERT (G_STRUCT_OFFSET (GOutputVector, buffer) == G_STRUCT_OFFSET (struct iovec, iov_base));
G_STATIC_ASSERT (G_STRUCT_OFFSET (GOutputVector, size) == G_STRUCT_OFFSET (struct iovec, iov_len));

struct _NatterdSendPool {
  GPtrArray       *threads;

  GMutex           lock;
  GCond            work;      /* helpers wait here for a job */
  GCond            left;      /* the caller waits here for helpers to leave */
  guint64          job;       /* generation: which job is posted */
  gboolean         open;      /* helpers may still enter the job */
  guint            inside;    /* helpers inside the job */
  gboolean         stopping;

  /* The job, valid while open or inside > 0. */
  NatterdSendItem *items;
  guint            n_items;
  gint             next;      /* the next item to claim (atomic) */
};

static void
write_tls (NatterdSendItem *item)
{
  g_autoptr(GError) error = NULL;
  gsize written = 0;
  GPollableReturn rc;

  rc = g_pollable_output_stream_writev_nonblocking (item->tls_out, item->vectors, item->n_vectors,
                                                    &written, NULL, &error);
  item->sent = rc == G_POLLABLE_RETURN_OK ? (gssize) written : -1;
  item->error = rc == G_POLLABLE_RETURN_OK ? 0 : rc == G_POLLABLE_RETURN_WOULD_BLOCK ? EAGAIN : EPIPE;
  if (rc == G_POLLABLE_RETURN_FAILED)
    g_debug ("A TLS write failed: %s", error->message);
}

void
natterd_send_item_write (NatterdSendItem *item)
{
  struct msghdr msg = { .msg_iov = (struct iovec *) item->vectors, .msg_iovlen = item->n_vectors };
  gssize sent;

  if (item->tls_out != NULL)
    {
      write_tls (item);
      return;
    }

  do
    sent = sendmsg (item->fd, &msg, natterd_platform_send_flags ());
  while (sent < 0 && errno == EINTR);
  item->sent = sent;
  item->error = sent < 0 ? errno : 0;
}

static void
claim_and_write (NatterdSendPool *self)
{
  guint i;

  while ((i = (guint) g_atomic_int_add (&self->next, 1)) < self->n_items)
    natterd_send_item_write (&self->items[i]);
}

static gpointer
helper_main (gpointer data)
{
  NatterdSendPool *self = data;
  guint64 seen = 0;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      while (!self->stopping && (!self->open || self->job == seen))
        g_cond_wait (&self->work, &self->lock);
      if (self->stopping)
        break;
      seen = self->job;
      self->inside++;
      g_mutex_unlock (&self->lock);

      claim_and_write (self);

      g_mutex_lock (&self->lock);
      if (--self->inside == 0 && !self->open)
        g_cond_signal (&self->left);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

NatterdSendPool *
natterd_send_pool_new (guint threads)
{
  NatterdSendPool *self = g_new0 (NatterdSendPool, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->work);
  g_cond_init (&self->left);
  self->threads = g_ptr_array_new ();
  for (guint i = 1; i < threads; i++)
    g_ptr_array_add (self->threads, g_thread_new ("natterd-send", helper_main, self));
  return self;
}

void
natterd_send_pool_free (NatterdSendPool *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->work);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < self->threads->len; i++)
    g_thread_join (self->threads->pdata[i]);
  g_ptr_array_unref (self->threads);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->work);
  g_cond_clear (&self->left);
  g_free (self);
}

void
natterd_send_pool_write (NatterdSendPool *self,
                         NatterdSendItem *items,
                         guint            n_items)
{
  if (self->threads->len == 0 || n_items < 2)
    {
      for (guint i = 0; i < n_items; i++)
        natterd_send_item_write (&items[i]);
      return;
    }

  g_mutex_lock (&self->lock);
  self->items = items;
  self->n_items = n_items;
  g_atomic_int_set (&self->next, 0);
  self->job++;
  self->open = TRUE;
  g_cond_broadcast (&self->work);
  g_mutex_unlock (&self->lock);

  claim_and_write (self);

  g_mutex_lock (&self->lock);
  self->open = FALSE;
  while (self->inside > 0)
    g_cond_wait (&self->left, &self->lock);
  self->items = NULL;
  self->n_items = 0;
  g_mutex_unlock (&self->lock);
}
