/* natterd-stream.c: committed messages delivered in id order, whichever
 * node committed them (see natterd-stream.h).
 */
#define G_LOG_DOMAIN "natterd-stream"

#include "config.h"

#include "natterd-stream.h"

typedef struct {
  gint64   first;
  gint64   last;
  gpointer run;   /* NULL: a read that found nothing */
} Pending;

struct _NatterdStream {
  gint64                    delivered;  /* every id up to here is delivered */
  guint                     gap_wait_ms;
  GQueue                    pending;    /* Pending*, by first id */
  guint                     gap_source;
  gboolean                  reading;    /* a read of a gap is under way */
  guint64                   reads;
  NatterdStreamDeliverFunc  deliver;
  NatterdStreamReadFunc     read;
  gpointer                  user_data;
};

static void pump (NatterdStream *self);

static gint
compare_first (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  const Pending *pa = a, *pb = b;

  return pa->first < pb->first ? -1 : pa->first > pb->first;
}

static gboolean
gap_cb (gpointer user_data)
{
  NatterdStream *self = user_data;
  Pending *head = g_queue_peek_head (&self->pending);

  self->gap_source = 0;
  /* The bus did not bring the gap in time: the database has it. Every id
   * below @head's, a committed one, is committed or never will be. */
  if (head != NULL && head->first > self->delivered + 1 && !self->reading)
    {
      self->reading = TRUE;
      self->reads++;
      self->read (self, self->delivered, head->first, self->user_data);
    }
  return G_SOURCE_REMOVE;
}

static void
release (NatterdStream *self,
         Pending       *p)
{
  gint64 from = self->delivered + 1;

  if (p->last > self->delivered)
    self->delivered = p->last;
  if (p->run != NULL)
    self->deliver (p->run, from, self->user_data);
  g_free (p);
}

/* Delivers every run that follows what was delivered; a gap left waits
 * for the bus, then for a read. */
static void
pump (NatterdStream *self)
{
  Pending *head;

  while ((head = g_queue_peek_head (&self->pending)) != NULL &&
         head->first <= self->delivered + 1)
    release (self, g_queue_pop_head (&self->pending));

  if (head == NULL)
    g_clear_handle_id (&self->gap_source, g_source_remove);
  else if (self->gap_source == 0 && !self->reading)
    self->gap_source = g_timeout_add (self->gap_wait_ms, gap_cb, self);
}

NatterdStream *
natterd_stream_new (gint64                    delivered_up_to,
                    guint                     gap_wait_ms,
                    NatterdStreamDeliverFunc  deliver,
                    NatterdStreamReadFunc     read,
                    gpointer                  user_data)
{
  NatterdStream *self = g_new0 (NatterdStream, 1);

  self->delivered = delivered_up_to;
  self->gap_wait_ms = gap_wait_ms;
  self->deliver = deliver;
  self->read = read;
  self->user_data = user_data;
  g_queue_init (&self->pending);
  return self;
}

void
natterd_stream_free (NatterdStream *self)
{
  Pending *p;

  if (self == NULL)
    return;
  g_clear_handle_id (&self->gap_source, g_source_remove);
  /* What follows without a gap goes out; the rest is only released. */
  while ((p = g_queue_peek_head (&self->pending)) != NULL)
    {
      if (p->first > self->delivered + 1)
        self->delivered = p->first - 1;
      release (self, g_queue_pop_head (&self->pending));
    }
  g_free (self);
}

static void
add_pending (NatterdStream *self,
             gint64         first,
             gint64         last,
             gpointer       run)
{
  Pending *p = g_new (Pending, 1);

  p->first = first;
  p->last = last;
  p->run = run;
  g_queue_insert_sorted (&self->pending, p, compare_first, NULL);
  pump (self);
}

void
natterd_stream_add (NatterdStream *self,
                    gint64         first_id,
                    gint64         last_id,
                    gpointer       run)
{
  g_return_if_fail (first_id <= last_id);

  add_pending (self, first_id, last_id, run);
}

void
natterd_stream_add_read (NatterdStream *self,
                         gint64         after,
                         gint64         before,
                         gpointer       run)
{
  g_return_if_fail (self->reading && after < before);

  self->reading = FALSE;
  /* Covers the whole gap, found messages or not; whatever of it came
   * from the bus meanwhile is not delivered twice (from_id). */
  add_pending (self, after + 1, before - 1, run);
}

gint64
natterd_stream_get_delivered_up_to (NatterdStream *self)
{
  return self->delivered;
}

guint64
natterd_stream_get_reads (NatterdStream *self)
{
  return self->reads;
}
