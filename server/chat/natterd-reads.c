#define G_LOG_DOMAIN "natterd-reads"

#include "config.h"

#include <string.h>

#include "natterd-reads.h"
#include "natterd-writer.h"

struct _NatterdReads {
  NatterdWriter *reader;   /* runs read jobs, one read transaction per batch */
  GHashTable    *by_connection; /* NatterdConnection* -> ConnectionReads */
};

/* A connection's reads with the reader, and those waiting for their turn
 * (see NATTERD_READS_PER_CONNECTION). */
typedef struct {
  guint  in_flight;
  GQueue waiting;   /* ReadJob*, in arrival order */
} ConnectionReads;

typedef enum {
  READ_HISTORY,
  READ_SYNC,
  READ_SEARCH,
  READ_SUMMARIES,
} ReadKind;

typedef struct {
  NatterdWriteJob      job;
  ReadKind             kind;
  NatterdRequest      *request;
  NatterdConnection   *connection; /* held: the request replies through it */
  gint64               id;         /* conversation or user */
  gint64               viewer;     /* history: the user who reads */
  gint64               bound;      /* before, since; or the conversation searched */
  gint64               limit;
  char                *query;
  gboolean             actions;    /* message actions: deleted messages, changes */
  GPtrArray           *rows;
  GPtrArray           *changes;    /* a sync with actions: NatterdStoreChange* */
  gsize                bytes;      /* of the bodies copied so far */
  NatterdReadDoneFunc  done;
  gpointer             user_data;
  NatterdReads        *reads;
} ReadJob;

static void read_job_start (NatterdReads *self, ReadJob *j);

static void
summary_free (NatterdReadSummary *summary)
{
  g_free (summary->last);
  g_free (summary);
}

/* Reader thread. */
static gboolean
row_cb (const NatterdStoreMessage *m,
        gpointer                   user_data)
{
  ReadJob *j = user_data;

  g_ptr_array_add (j->rows, natterd_store_message_copy (m));
  j->bytes += m->body_len;
  /* Past a page's worth the page is cut anyway: no need to hold more. */
  return j->bytes <= NATTERD_PAGE_BUDGET;
}

/* Reader thread. */
static gboolean
change_cb (const NatterdStoreChange *c,
           gpointer                  user_data)
{
  ReadJob *j = user_data;

  g_ptr_array_add (j->changes, natterd_store_change_copy (c));
  j->bytes += c->message.body_len;
  return j->bytes <= NATTERD_PAGE_BUDGET;
}

/* Reader thread. */
static void
summary_cb (gint64                     conversation_id,
            gint64                     read_up_to,
            gint64                     unread,
            NatterdNotifyLevel         notify_level,
            const NatterdStoreMessage *last,
            gpointer                   user_data)
{
  ReadJob *j = user_data;
  NatterdReadSummary *summary = g_new0 (NatterdReadSummary, 1);

  summary->conversation_id = conversation_id;
  summary->read_up_to = read_up_to;
  summary->unread = unread;
  summary->notify_level = notify_level;
  /* The list goes in one frame: past a page's worth of last messages the
   * encoder leaves them out anyway (the oldest conversations come without
   * theirs), so they are not copied either. Without this, a user in
   * 10,000 rooms with long last messages held ~160 MB per request. */
  if (last != NULL && j->bytes + last->body_len <= NATTERD_PAGE_BUDGET)
    {
      summary->last = natterd_store_message_copy (last);
      j->bytes += last->body_len;
    }
  g_ptr_array_add (j->rows, summary);
}

/* Reader thread, inside the batch's read transaction. */
static gboolean
read_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  ReadJob *j = (ReadJob *) job;

  switch (j->kind)
    {
    case READ_HISTORY:
      return natterd_store_history_as (store, j->viewer, j->id, j->bound, j->limit, !j->actions,
                                       row_cb, j, error);
    case READ_SYNC:
      if (!j->actions)
        return natterd_store_sync_undeleted (store, j->id, j->bound, j->limit, row_cb, j, error);
      /* Both in the batch's one read transaction: the same snapshot. */
      return natterd_store_sync (store, j->id, j->bound, j->limit, row_cb, j, error) &&
             natterd_store_changes_since (store, j->id, j->bound, j->limit, change_cb, j, error);
    case READ_SEARCH:
      return natterd_store_search (store, j->id, j->query, j->bound, j->limit, row_cb, j, error);
    case READ_SUMMARIES:
      return natterd_store_conversation_summaries (store, j->id, summary_cb, j, error);
    default:
      g_assert_not_reached ();
    }
}

static void
read_job_free (ReadJob *j)
{
  g_ptr_array_unref (j->rows);
  g_clear_pointer (&j->changes, g_ptr_array_unref);
  natterd_connection_unref (j->connection);
  g_free (j->query);
  g_free (j);
}

/* Main loop. */
static void
read_done (NatterdWriteJob *job,
           const GError    *error)
{
  ReadJob *j = (ReadJob *) job;
  NatterdReads *self = j->reads;
  NatterdConnection *connection = natterd_connection_ref (j->connection);
  ConnectionReads *c;

  j->done (j->request, j->rows, j->changes, error, j->user_data);
  read_job_free (j);

  /* The connection's next read takes the place of this one. One whose
   * connection has closed meanwhile (a slow reader dropped) is answered
   * empty instead: nobody will read it. */
  c = g_hash_table_lookup (self->by_connection, connection);
  c->in_flight--;
  while (c->in_flight < NATTERD_READS_PER_CONNECTION && !g_queue_is_empty (&c->waiting))
    {
      ReadJob *next = g_queue_pop_head (&c->waiting);

      if (natterd_connection_is_closed (connection))
        {
          next->done (next->request, next->rows, next->changes, NULL, next->user_data);
          read_job_free (next);
          continue;
        }
      read_job_start (self, next);
    }
  if (c->in_flight == 0)
    g_hash_table_remove (self->by_connection, connection);
  natterd_connection_unref (connection);
}

static void
read_job_start (NatterdReads *self,
                ReadJob      *j)
{
  ConnectionReads *c = g_hash_table_lookup (self->by_connection, j->connection);

  if (c == NULL)
    {
      c = g_new0 (ConnectionReads, 1);
      g_hash_table_insert (self->by_connection, j->connection, c);
    }
  c->in_flight++;
  natterd_writer_push (self->reader, &j->job);
}

static void
queue_read (NatterdReads        *self,
            ReadKind             kind,
            NatterdRequest      *request,
            gint64               viewer,
            gint64               id,
            gint64               bound,
            gint64               limit,
            const char          *query,
            gboolean             actions,
            NatterdReadDoneFunc  done,
            gpointer             user_data)
{
  ReadJob *j = g_new0 (ReadJob, 1);
  ConnectionReads *c;

  j->job.run = read_run;
  j->job.done = read_done;
  j->kind = kind;
  j->request = request;
  j->connection = natterd_connection_ref (natterd_request_get_connection (request));
  j->viewer = viewer;
  j->id = id;
  j->bound = bound;
  j->limit = limit;
  j->query = g_strdup (query);
  j->actions = actions;
  if (actions && kind == READ_SYNC)
    j->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) natterd_store_change_free);
  j->rows = g_ptr_array_new_with_free_func (kind == READ_SUMMARIES ? (GDestroyNotify) summary_free
                                                                    : g_free);
  j->done = done;
  j->user_data = user_data;
  j->reads = self;

  /* Each read holds up to a page of rows (4 MiB) from the query until its
   * answer is encoded: a client that pipelines a thousand reads must not
   * make natterd hold a thousand pages at once (it held 3 GB), nor keep
   * the reader busy for what it will never read. */
  c = g_hash_table_lookup (self->by_connection, j->connection);
  if (c != NULL && c->in_flight >= NATTERD_READS_PER_CONNECTION)
    g_queue_push_tail (&c->waiting, j);
  else
    read_job_start (self, j);
}

void
natterd_reads_history (NatterdReads *self, NatterdRequest *request, gint64 viewer_id,
                       gint64 conversation_id, gint64 before, gint64 limit,
                       gboolean actions, NatterdReadDoneFunc done, gpointer user_data)
{
  queue_read (self, READ_HISTORY, request, viewer_id, conversation_id, before, limit, NULL, actions,
              done, user_data);
}

void
natterd_reads_sync (NatterdReads *self, NatterdRequest *request,
                    gint64 user_id, gint64 since, gint64 limit,
                    gboolean actions, NatterdReadDoneFunc done, gpointer user_data)
{
  queue_read (self, READ_SYNC, request, 0, user_id, since, limit, NULL, actions, done, user_data);
}

void
natterd_reads_search (NatterdReads *self, NatterdRequest *request,
                      gint64 user_id, const char *query, gint64 conversation_id,
                      gint64 limit, NatterdReadDoneFunc done, gpointer user_data)
{
  queue_read (self, READ_SEARCH, request, 0, user_id, conversation_id, limit, query, TRUE, done, user_data);
}

void
natterd_reads_summaries (NatterdReads *self, NatterdRequest *request,
                         gint64 user_id,
                         NatterdReadDoneFunc done, gpointer user_data)
{
  queue_read (self, READ_SUMMARIES, request, 0, user_id, 0, 0, NULL, TRUE, done, user_data);
}

void
natterd_reads_push (NatterdReads    *self,
                    NatterdWriteJob *job)
{
  natterd_writer_push (self->reader, job);
}

NatterdReads *
natterd_reads_new (NatterdStore  *store,
                   GError       **error)
{
  NatterdStore *reader_store = natterd_store_open_reader (store, error);
  NatterdReads *self;

  if (reader_store == NULL)
    return NULL;
  self = g_new0 (NatterdReads, 1);
  self->reader = natterd_writer_new ("natterd-reader", reader_store, NULL);
  self->by_connection = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return self;
}

void
natterd_reads_flush (NatterdReads *self)
{
  /* The answers queue the reads that waited for them: until none is left. */
  do
    natterd_writer_drain (self->reader);
  while (g_hash_table_size (self->by_connection) > 0);
}

void
natterd_reads_free (NatterdReads *self)
{
  if (self == NULL)
    return;
  natterd_reads_flush (self);
  g_clear_pointer (&self->reader, natterd_writer_free);
  g_clear_pointer (&self->by_connection, g_hash_table_unref);
  g_free (self);
}
