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
  gboolean                  read_more;  /* the last read was a full page: read on at once */
  gint64                    committed;  /* known committed up to here (catch_up) */
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

/* The end of the gap after what was delivered: the first id held, or,
 * with nothing held, one past what is known to be committed; 0: none. */
static gint64
gap_end (NatterdStream *self)
{
  Pending *head = g_queue_peek_head (&self->pending);

  if (head != NULL)
    return head->first > self->delivered + 1 ? head->first : 0;
  return self->committed > self->delivered ? self->committed + 1 : 0;
}

static void
start_read (NatterdStream *self)
{
  gint64 end = gap_end (self);

  if (end == 0 || self->reading)
    return;
  self->reading = TRUE;
  self->reads++;
  self->read (self, self->delivered, end, self->user_data);
}

static gboolean
gap_cb (gpointer user_data)
{
  NatterdStream *self = user_data;

  self->gap_source = 0;
  /* The bus did not bring the gap in time: the database has it. Every id
   * below a committed one is committed or never will be. */
  start_read (self);
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

  if (gap_end (self) == 0)
    {
      g_clear_handle_id (&self->gap_source, g_source_remove);
      return;
    }
  if (self->reading)
    return;
  /* The rest of a gap whose first page was just read is in the database
   * already: no point waiting. What a catch-up says is committed still
   * waits the while: this node's own last sends are committed before
   * they are handed in, and are better delivered as its own (the sending
   * connection gets its answer, not an event). */
  if (self->read_more)
    {
      self->read_more = FALSE;
      g_clear_handle_id (&self->gap_source, g_source_remove);
      start_read (self);
    }
  else if (self->gap_source == 0)
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
  self->committed = delivered_up_to;
  self->gap_wait_ms = gap_wait_ms;
  self->deliver = deliver;
  self->read = read;
  self->user_data = user_data;
  g_queue_init (&self->pending);
  return self;
}

void
natterd_stream_flush (NatterdStream *self)
{
  Pending *p;

  g_clear_handle_id (&self->gap_source, g_source_remove);
  /* What follows what was delivered goes out; what waits behind a gap is
   * only released (from_id past its end): delivered past the gap, it
   * would move its clients' position past the ids they never got. */
  while ((p = g_queue_peek_head (&self->pending)) != NULL)
    {
      if (p->first > self->delivered + 1)
        {
          p = g_queue_pop_head (&self->pending);
          if (p->run != NULL)
            self->deliver (p->run, p->last + 1, self->user_data);
          g_free (p);
          continue;
        }
      release (self, g_queue_pop_head (&self->pending));
    }
}

void
natterd_stream_forget_beyond (NatterdStream *self,
                              gint64         committed_up_to)
{
  GList *link = self->pending.head;

  /* Ids the database does not have were never committed: whatever
   * brought them (a corrupt publish, another cluster's) is released
   * undelivered. */
  while (link != NULL)
    {
      GList *next = link->next;
      Pending *p = link->data;

      if (p->first > committed_up_to)
        {
          g_queue_delete_link (&self->pending, link);
          if (p->run != NULL)
            self->deliver (p->run, p->last + 1, self->user_data);
          g_free (p);
        }
      link = next;
    }
}

void
natterd_stream_free (NatterdStream *self)
{
  if (self == NULL)
    return;
  natterd_stream_flush (self);
  g_free (self);
}

static void
add_pending (NatterdStream *self,
             gint64         first,
             gint64         last,
             gpointer       run)
{
  Pending *p = g_new (Pending, 1);
  GList *link;

  p->first = first;
  p->last = last;
  p->run = run;
  /* Runs come mostly in order (a node's own, then the bus's): look for
   * the place from the tail, so that a long wait for a gap does not make
   * every insert walk the whole queue. */
  link = self->pending.tail;
  while (link != NULL && compare_first (link->data, p, NULL) > 0)
    link = link->prev;
  if (link == NULL)
    g_queue_push_head (&self->pending, p);
  else
    g_queue_insert_after (&self->pending, link, p);
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
  /* The gap is read to its end: the next one waits for the bus first. */
  self->read_more = FALSE;
  /* Covers the whole gap, found messages or not; whatever of it came
   * from the bus meanwhile is not delivered twice (from_id). */
  add_pending (self, after + 1, before - 1, run);
}

void
natterd_stream_add_read_page (NatterdStream *self,
                              gint64         after,
                              gint64         last_read,
                              gpointer       run)
{
  g_return_if_fail (self->reading && after < last_read);

  self->reading = FALSE;
  self->read_more = TRUE;
  add_pending (self, after + 1, last_read, run);
}

void
natterd_stream_catch_up (NatterdStream *self,
                         gint64         committed_up_to)
{
  if (committed_up_to <= self->committed)
    return;
  self->committed = committed_up_to;
  pump (self);
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
