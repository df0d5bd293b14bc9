/* natterd-handlers-messages.c: send, history, sync, conversations, search,
 * typing, read.
 *
 * Pages (history, sync, search) are cut short so that no server frame
 * exceeds 4 MiB, with has_more true; a history page cut short keeps the
 * newest messages, so that paging on with "before" misses nothing.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-directory-refresh.h"
#include "natterd-handlers-private.h"
#include "natterd-cluster.h"
#include "natterd-handlers.h"
#include "natterd-features.h"
#include "natterd-mentions.h"
#include "natterd-reads.h"
#include "natterd-blocks.h"

#define HISTORY_DEFAULT  50
#define HISTORY_CAP      200
#define SYNC_DEFAULT     500
#define SYNC_CAP         1000
#define SEARCH_DEFAULT   50
#define SEARCH_CAP       200

gint64
natterd_message_rate_take (NatterdRequest *request,
                           NatterdUser    *me)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  const NatterdConfig *config = natterd_directory_get_config (dir);
  guint per_minute = config->messages_per_minute_per_user;
  NatterdClusterLimits *shared = dir->cluster != NULL ? natterd_cluster_get_limits (dir->cluster) : NULL;
  /* In a cluster, the sends through the other nodes count too
   * (natterd-cluster-limits.h); this node's bucket holds as ever. */
  gint64 retry = natterd_cluster_limits_peek (shared, "sends-user", me->username, per_minute, 60);

  if (retry == 0)
    retry = natterd_token_bucket_take (&me->send_bucket, per_minute, per_minute / 60.0,
                                       natterd_now_ms () * 1000);
  if (retry == 0 && per_minute > 0)
    natterd_cluster_limits_count (shared, "sends-user", me->username, 60, NULL);
  return retry;
}

/* messages_per_minute_per_user; FALSE when the request was answered. */
static gboolean
send_allowed (NatterdRequest *request,
              NatterdUser    *me,
              const char     *client_msg_id)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  gint64 retry = natterd_message_rate_take (request, me);

  if (retry == 0)
    return TRUE;
  natterd_commit_answer_resend (dir->commit, request, me, client_msg_id, retry);
  return FALSE;
}

void
natterd_handle_send (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *mentions = NULL;
  g_autoptr(NatterdSendFiles) files = NULL;
  const char *to, *body, *client_msg_id;
  NatterAddressKind kind;
  NatterdConversation *conv;
  gsize body_len;
  gint64 reply_to = 0;

  if (!natterd_arg_string (request, "to", TRUE, &to) ||
      !natterd_arg_string (request, "body", TRUE, &body) ||
      !natterd_arg_string (request, "client_msg_id", TRUE, &client_msg_id))
    return;
  /* Without message actions, reply_to is an unknown field: ignored. */
  if (natterd_has_actions (natterd_request_get_connection (request)) &&
      !natterd_arg_message_id (request, "reply_to", FALSE, &reply_to))
    return;
  /* Without files, files is an unknown field too. */
  if ((natterd_connection_get_features (natterd_request_get_connection (request)) & NATTER_FEATURE_FILES) != 0 &&
      !natterd_send_files_read (request, &files))
    return;
  if (!natter_address_parse (to, &kind, &name, &error))
    {
      natterd_request_error_from (request, error);
      return;
    }
  body_len = strlen (body);
  /* With files, the text may be left empty. */
  if (!natter_body_is_valid (body, body_len) && !(files != NULL && body_len == 0))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "body must be 1 to 16384 bytes, not only white space, without control characters");
      return;
    }
  if (!natter_client_msg_id_is_valid (client_msg_id))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "client_msg_id must be 1 to 64 bytes");
      return;
    }

  if (kind == NATTER_ADDRESS_ROOM)
    {
      NatterdRoom *room = natterd_directory_find_room (dir, name);
      if (room == NULL)
        {
          if (!natterd_directory_refresh_wait (dir, request))
            natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such room");
          return;
        }
      if (!natterd_room_has_member (room, me))
        {
          if (!natterd_directory_refresh_wait (dir, request))
            natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "You are not a member of that room");
          return;
        }
      conv = room->conversation;
    }
  else
    {
      NatterdUser *peer = natterd_directory_find_user (dir, name);
      if (peer == NULL)
        {
          if (!natterd_directory_refresh_wait (dir, request))
            natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such user");
          return;
        }
      if (natterd_auth_hash_is_deleted (peer->password_hash))
        {
          natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "That account was deleted");
          return;
        }
      if (!natterd_mentions_find_for (request, body, body_len, &mentions) ||
          !send_allowed (request, me, client_msg_id))
        return;
      /* NULL the first time: the send's own transaction makes it. */
      conv = natterd_directory_find_direct (dir, me, peer);
      natterd_commit_queue_send (dir->commit, request, me, conv, peer, body, body_len, client_msg_id,
                                 reply_to, g_steal_pointer (&mentions), g_steal_pointer (&files));
      return;
    }

  if (!natterd_mentions_find_for (request, body, body_len, &mentions) ||
      !send_allowed (request, me, client_msg_id))
    return;
  natterd_commit_queue_send (dir->commit, request, me, conv, NULL, body, body_len, client_msg_id,
                             reply_to, g_steal_pointer (&mentions), g_steal_pointer (&files));
}

/* --- pages of messages --- */

typedef struct {
  NatterdDirectory *dir;
  NatterdUser      *viewer;
  guint             form;     /* natterd_message_form */
  GString          *buf;      /* the encoded messages, one after another */
  GArray           *spans;    /* gsize pairs: offset, length */
  gint64            limit;
  gint64            count;
  gint64            last_id;
  gboolean          has_more;
} Page;

/* @viewer is the user the rows were read for (the request's connection
 * may have logged out since). */
static void
page_init (Page *page, NatterdRequest *request, NatterdUser *viewer, gint64 limit)
{
  page->dir = natterd_directory_from_request (request);
  page->viewer = viewer;
  page->form = natterd_message_form (natterd_request_get_connection (request));
  page->buf = g_string_sized_new (4096);
  page->spans = g_array_new (FALSE, FALSE, sizeof (gsize) * 2);
  page->limit = limit;
  page->count = 0;
  page->last_id = 0;
  page->has_more = FALSE;
}

static void
page_clear (Page *page)
{
  g_string_free (page->buf, TRUE);
  g_array_unref (page->spans);
}

/* Adds a message (@m) or a change (@c) to the page. Asked for limit + 1
 * rows: the extra one only tells has_more. */
static gboolean
page_add (Page                      *page,
          const NatterdStoreMessage *m,
          const NatterdStoreChange  *c)
{
  gsize span[2];

  if (page->count >= page->limit)
    {
      page->has_more = TRUE;
      return FALSE;
    }
  span[0] = page->buf->len;
  if (c != NULL)
    natterd_change_object_write (page->dir, page->buf, c, page->viewer, (page->form & NATTERD_FORM_FILES) != 0);
  else
    natterd_message_object_write_for (page->dir, page->buf, m, page->viewer, page->form);
  span[1] = page->buf->len - span[0];
  if (page->buf->len + page->spans->len + 1 > NATTERD_PAGE_BUDGET && page->count > 0)
    {
      g_string_truncate (page->buf, span[0]);
      page->has_more = TRUE;
      return FALSE;
    }
  g_array_append_vals (page->spans, span, 1);
  page->count++;
  page->last_id = c != NULL ? c->id : m->id;
  return TRUE;
}

static gboolean
page_add_cb (const NatterdStoreMessage *m,
             gpointer                   user_data)
{
  return page_add (user_data, m, NULL);
}

static void
page_write (Page             *page,
            NatterJsonWriter *w,
            gboolean          reversed)
{
  natter_json_writer_key (w, "messages");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < page->spans->len; i++)
    {
      guint j = reversed ? page->spans->len - 1 - i : i;
      const gsize *span = &g_array_index (page->spans, gsize, j * 2);
      natter_json_writer_raw (w, page->buf->str + span[0], span[1]);
    }
  natter_json_writer_end_array (w);
  natter_json_writer_key (w, "has_more");
  natter_json_writer_bool (w, page->has_more);
}

/* The entries of the page whose @is_change is @which, as the array @key. */
static void
page_write_kind (Page             *page,
                 NatterJsonWriter *w,
                 const char       *key,
                 GArray           *is_change,
                 gboolean          which)
{
  natter_json_writer_key (w, key);
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < page->spans->len; i++)
    if (g_array_index (is_change, gboolean, i) == which)
      {
        const gsize *span = &g_array_index (page->spans, gsize, i * 2);
        natter_json_writer_raw (w, page->buf->str + span[0], span[1]);
      }
  natter_json_writer_end_array (w);
}

static gsize
bodies_size (GPtrArray *rows,
             gboolean   changes)
{
  gsize size = 0;

  for (guint i = 0; rows != NULL && i < rows->len; i++)
    size += changes ? ((NatterdStoreChange *) rows->pdata[i])->message.body_len
                    : ((NatterdStoreMessage *) rows->pdata[i])->body_len;
  return size;
}

/* A sync with message actions: the messages and the changes above
 * @since, merged in id order up to the limit (which counts both), written
 * as two lists. The reader stops each list at limit + 1 rows or at a
 * page's worth of bodies (counted over both, messages first): past the
 * last row of a list that may have been cut short, the other list's rows
 * wait for the next page, or the client would skip what lies between. */
static void
answer_sync_with_changes (NatterdRequest *request,
                          NatterdUser    *viewer,
                          GPtrArray      *rows,
                          GPtrArray      *changes,
                          gint64          limit,
                          gint64          since)
{
  gsize messages_size = bodies_size (rows, FALSE);
  gsize total_size = messages_size + bodies_size (changes, TRUE);
  g_autoptr(GArray) is_change = g_array_new (FALSE, FALSE, sizeof (gboolean));
  gint64 bound = G_MAXINT64;
  guint i = 0, j = 0;
  NatterJsonWriter *w;
  Page page;

  if (rows->len > 0 && (rows->len > (guint) limit || messages_size > NATTERD_PAGE_BUDGET))
    bound = ((NatterdStoreMessage *) rows->pdata[rows->len - 1])->id;
  if (changes->len > 0 && (changes->len > (guint) limit || total_size > NATTERD_PAGE_BUDGET))
    bound = MIN (bound, ((NatterdStoreChange *) changes->pdata[changes->len - 1])->id);

  page_init (&page, request, viewer, limit);
  while (i < rows->len || j < changes->len)
    {
      const NatterdStoreMessage *m = i < rows->len ? rows->pdata[i] : NULL;
      const NatterdStoreChange *c = j < changes->len ? changes->pdata[j] : NULL;
      gint64 m_id = m != NULL ? m->id : G_MAXINT64, c_id = c != NULL ? c->id : G_MAXINT64;
      gboolean take_change = c_id < m_id;
      gint64 next = MIN (m_id, c_id);

      if (next > bound)
        {
          page.has_more = TRUE;
          break;
        }
      if (!page_add (&page, take_change ? NULL : m, take_change ? c : NULL))
        break;
      g_array_append_val (is_change, take_change);
      if (take_change)
        j++;
      else
        i++;
    }

  w = natterd_request_begin_ok (request);
  page_write_kind (&page, w, "messages", is_change, FALSE);
  page_write_kind (&page, w, "changes", is_change, TRUE);
  natter_json_writer_key (w, "has_more");
  natter_json_writer_bool (w, page.has_more);
  natter_json_writer_key (w, "last_id");
  natter_json_writer_int (w, page.count > 0 ? page.last_id : since);
  natterd_request_finish_ok (request);
  page_clear (&page);
}

/* Answers @request with a page of @rows (NULL: none); @reversed when the
 * rows are newest first and the page must be oldest first. A sync page
 * also says how far it goes (@since when empty). */
static void
answer_page (NatterdRequest *request,
             NatterdUser    *viewer,
             GPtrArray      *rows,
             gint64          limit,
             gint64          since,
             gboolean        reversed,
             gboolean        is_sync)
{
  NatterJsonWriter *w;
  Page page;

  page_init (&page, request, viewer, limit);
  for (guint i = 0; rows != NULL && i < rows->len; i++)
    if (!page_add_cb (rows->pdata[i], &page))
      break;
  w = natterd_request_begin_ok (request);
  page_write (&page, w, reversed);
  if (is_sync)
    {
      natter_json_writer_key (w, "last_id");
      natter_json_writer_int (w, page.count > 0 ? page.last_id : since);
    }
  natterd_request_finish_ok (request);
  page_clear (&page);
}

/* What a read's answer needs to know of its request. */
typedef struct {
  NatterdUser *viewer;    /* the user the rows were read for */
  gint64       limit;
  gint64       since;     /* sync: where the page starts */
  gboolean     reversed;  /* the rows are newest first, the page oldest first */
  gboolean     is_sync;
  gboolean     refreshed; /* the request has waited for a refresh once */
} PageArgs;

static PageArgs *
page_args_new (NatterdRequest *request,
               gint64          limit,
               gint64          since,
               gboolean        reversed,
               gboolean        is_sync)
{
  PageArgs *args = g_new (PageArgs, 1);

  args->viewer = natterd_session_request_user (request);
  args->limit = limit;
  args->since = since;
  args->reversed = reversed;
  args->is_sync = is_sync;
  args->refreshed = natterd_directory_from_request (request)->resuming_refreshed == request;
  return args;
}

/* A row of a conversation or sender the directory does not have: made
 * through another node (a shared store) since the last refresh. */
static gboolean
rows_name_strangers (NatterdDirectory *dir,
                     GPtrArray        *rows)
{
  for (guint i = 0; i < rows->len; i++)
    {
      const NatterdStoreMessage *m = rows->pdata[i];

      if (natterd_directory_find_conversation (dir, m->conversation_id) == NULL ||
          natterd_directory_find_user_id (dir, m->sender_id) == NULL)
        return TRUE;
    }
  return FALSE;
}

/* The answer to a history, sync or search read. */
static void
page_read_cb (NatterdRequest *request,
              GPtrArray      *rows,
              GPtrArray      *changes,
              const GError   *error,
              gpointer        user_data)
{
  g_autofree PageArgs *args = user_data;
  NatterdDirectory *dir = natterd_directory_from_request (request);

  /* Read again (from the start) once the directory knows them, unless it
   * has been refreshed for this request already. */
  if (error == NULL && dir->refresh != NULL && !args->refreshed &&
      rows_name_strangers (dir, rows) && natterd_directory_refresh_wait (dir, request))
    return;
  if (error != NULL)
    natterd_request_store_error (request, error);
  else if (changes != NULL)
    answer_sync_with_changes (request, args->viewer, rows, changes, args->limit, args->since);
  else
    answer_page (request, args->viewer, rows, args->limit, args->since, args->reversed, args->is_sync);
}

void
natterd_handle_history (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdConversation *conv;
  gboolean has_before = FALSE;
  gint64 before = 0, limit;

  if (natterd_commit_defer_read (dir->commit, request, natterd_handle_history))
    return;

  if (!natterd_arg_conversation (request, "conversation", TRUE, &conv, NULL) ||
      !natterd_arg_int (request, "before", FALSE, &has_before, &before) ||
      !natterd_arg_limit (request, HISTORY_DEFAULT, HISTORY_CAP, &limit))
    return;
  if (has_before && before <= 0)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "before must be a positive message id");
      return;
    }

  if (conv == NULL)
    {
      /* A direct conversation with no message yet. */
      answer_page (request, natterd_session_request_user (request), NULL, limit, 0, TRUE, FALSE);
      return;
    }
  natterd_reads_history (dir->reads, request, natterd_session_request_user (request)->id, conv->id, has_before ? before : 0, limit + 1,
                         natterd_has_actions (natterd_request_get_connection (request)), page_read_cb, page_args_new (request, limit, 0, TRUE, FALSE));
}

void
natterd_handle_sync (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  gboolean has_since = FALSE;
  gint64 since = 0, limit;

  if (natterd_commit_defer_read (dir->commit, request, natterd_handle_sync))
    return;

  if (!natterd_arg_int (request, "since", FALSE, &has_since, &since) ||
      !natterd_arg_limit (request, SYNC_DEFAULT, SYNC_CAP, &limit))
    return;
  if (since < 0)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "since must not be negative");
      return;
    }

  natterd_reads_sync (dir->reads, request, me->id, since, limit + 1,
                      natterd_has_actions (natterd_request_get_connection (request)), page_read_cb, page_args_new (request, limit, since, FALSE, TRUE));
}

void
natterd_handle_search (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdConversation *conv = NULL;
  NatterdUser *peer = NULL;
  const char *query;
  gint64 limit;

  if (natterd_commit_defer_read (dir->commit, request, natterd_handle_search) ||
      natterd_search_feed_defer (dir->search_feed, request, natterd_handle_search))
    return;

  if (!natterd_arg_string (request, "query", TRUE, &query) ||
      !natterd_arg_conversation (request, "conversation", FALSE, &conv, &peer) ||
      !natterd_arg_limit (request, SEARCH_DEFAULT, SEARCH_CAP, &limit))
    return;
  /* Only white space is no query; punctuation alone is one that finds
   * nothing. */
  if (query[strspn (query, " \t\n\r\f\v")] == '\0' || strlen (query) > NATTER_SEARCH_QUERY_MAX)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "query must be 1 to 256 bytes of text");
      return;
    }

  /* A direct conversation with no message yet has nothing to find. */
  if (peer != NULL && conv == NULL)
    {
      answer_page (request, me, NULL, limit, 0, FALSE, FALSE);
      return;
    }
  natterd_reads_search (dir->reads, request, me->id, query, conv ? conv->id : 0, limit + 1,
                        page_read_cb, page_args_new (request, limit, 0, FALSE, FALSE));
}

/* --- conversations --- */

/* What a summary without its last message costs at most: the address
 * (a room name or "@" and a username), two integers and the keys. */
#define SUMMARY_BARE_SIZE 256

typedef struct {
  NatterdDirectory *dir;
  NatterdUser      *viewer;
  guint             form;     /* natterd_message_form: last_message's fields, and with
                               * message actions notify_level */
  NatterJsonWriter *w;
  GString          *scratch;
  gsize             size;
  guint             left;   /* summaries not written yet, this one included */
} Summaries;

static void
summary_cb (gint64                     conversation_id,
            gint64                     read_up_to,
            gint64                     unread,
            NatterdNotifyLevel         notify_level,
            const NatterdStoreMessage *last,
            gpointer                   user_data)
{
  Summaries *s = user_data;
  NatterdConversation *conv = natterd_directory_find_conversation (s->dir, conversation_id);
  gsize reserve;

  if (s->left > 0)
    s->left--;
  if (conv == NULL || s->size + SUMMARY_BARE_SIZE > NATTERD_PAGE_BUDGET)
    return; /* only past ~16,000 conversations */
  /* Room for every conversation still to come, bare: when the whole list
   * would not fit in one frame (4 MiB), the oldest conversations come
   * without their last message rather than not at all. */
  reserve = (gsize) s->left * SUMMARY_BARE_SIZE;
  g_string_truncate (s->scratch, 0);
  if (last != NULL)
    natterd_message_object_write_for (s->dir, s->scratch, last, s->viewer, s->form);
  if (s->size + SUMMARY_BARE_SIZE + s->scratch->len + reserve > NATTERD_PAGE_BUDGET)
    {
      last = NULL;
      g_string_truncate (s->scratch, 0);
    }
  s->size += SUMMARY_BARE_SIZE + s->scratch->len;

  natter_json_writer_begin_object (s->w);
  natter_json_writer_key (s->w, "conversation");
  natterd_conversation_write_address (s->w, conv, s->viewer);
  natter_json_writer_key (s->w, "last_message");
  if (last != NULL)
    natter_json_writer_raw (s->w, s->scratch->str, s->scratch->len);
  else
    natter_json_writer_null (s->w);
  natter_json_writer_key (s->w, "unread");
  natter_json_writer_int (s->w, unread);
  natter_json_writer_key (s->w, "read_up_to");
  natter_json_writer_int (s->w, read_up_to);
  if ((s->form & NATTERD_FORM_ACTIONS) != 0)
    {
      natter_json_writer_key (s->w, "notify_level");
      natter_json_writer_string (s->w, natterd_notify_level_name (notify_level));
    }
  natter_json_writer_end_object (s->w);
}

static void
summaries_read_cb (NatterdRequest *request,
                   GPtrArray      *rows,
                   GPtrArray      *changes,
                   const GError   *error,
                   gpointer        user_data)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  g_autoptr(GString) list = g_string_new (NULL);
  g_autoptr(GString) scratch = g_string_new (NULL);
  NatterJsonWriter list_writer;
  /* The viewer is the user the rows were read for: the connection may
   * have logged out since. */
  Summaries s = { dir, user_data, natterd_message_form (natterd_request_get_connection (request)),
                  &list_writer, scratch, 0, rows->len };
  NatterJsonWriter *w;

  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }

  natter_json_writer_init (&list_writer, list);
  natter_json_writer_begin_array (&list_writer);
  for (guint i = 0; i < rows->len; i++)
    {
      NatterdReadSummary *row = rows->pdata[i];
      summary_cb (row->conversation_id, row->read_up_to, row->unread, row->notify_level, row->last, &s);
    }
  natter_json_writer_end_array (&list_writer);

  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "conversations");
  natter_json_writer_raw (w, list->str, list->len);
  natterd_request_finish_ok (request);
}

void
natterd_handle_conversations (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);

  if (natterd_commit_defer_read (dir->commit, request, natterd_handle_conversations))
    return;
  natterd_reads_summaries (dir->reads, request, me->id, summaries_read_cb, me);
}

/* --- typing and read markers --- */

typedef struct {
  GBytes            *frame;
  NatterdUser       *skip;
  NatterdConnection *except;
} Broadcast;

static void
broadcast_cb (NatterdUser *user, gpointer user_data)
{
  Broadcast *b = user_data;

  if (user != b->skip)
    natterd_user_send (user, b->frame, b->except);
}

/* Encodes {"type":TYPE,"conversation":ADDR,"user":NAME,<key>:…} as @viewer
 * sees the conversation. */
static GBytes *
conversation_event (const char          *type,
                    NatterdConversation *conv,
                    NatterdUser         *viewer,
                    NatterdUser         *user,
                    const char          *key,
                    const char          *str_value,
                    gint64               int_value)
{
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, type);
  natter_json_writer_key (w, "conversation");
  natterd_conversation_write_address (w, conv, viewer);
  natter_json_writer_key (w, "user");
  natter_json_writer_string (w, user->username);
  natter_json_writer_key (w, key);
  if (str_value != NULL)
    natter_json_writer_string (w, str_value);
  else
    natter_json_writer_int (w, int_value);
  return natterd_event_finish (&event);
}

void
natterd_tell_typing (NatterdConversation *room,
                     NatterdUser         *peer,
                     NatterdUser         *user,
                     gboolean             active)
{
  const char *state = active ? "active" : "paused";
  g_autoptr(GBytes) frame = NULL;

  if (room != NULL)
    {
      Broadcast b;

      frame = conversation_event ("typing", room, NULL, user, "state", state, 0);
      b.frame = frame;
      b.skip = user;
      b.except = NULL;
      natterd_conversation_foreach_member (room, broadcast_cb, &b);
    }
  else
    {
      NatterdEvent event;
      NatterJsonWriter *w;
      char address[NATTER_USERNAME_MAX + 2];

      /* No conversation object may exist yet: write "@user" directly. */
      g_snprintf (address, sizeof address, "@%s", user->username);
      w = natterd_event_begin (&event, "typing");
      natter_json_writer_key (w, "conversation");
      natter_json_writer_string (w, address);
      natter_json_writer_key (w, "user");
      natter_json_writer_string (w, user->username);
      natter_json_writer_key (w, "state");
      natter_json_writer_string (w, state);
      frame = natterd_event_finish (&event);
      natterd_user_send (peer, frame, NULL);
    }
}

void
natterd_handle_typing (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  NatterAddressKind kind;
  const char *to, *state;

  if (!natterd_arg_string (request, "to", TRUE, &to) ||
      !natterd_arg_string (request, "state", TRUE, &state))
    return;
  if (!g_str_equal (state, "active") && !g_str_equal (state, "paused"))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "state must be active or paused");
      return;
    }
  if (!natter_address_parse (to, &kind, &name, &error))
    {
      natterd_request_error_from (request, error);
      return;
    }

  if (kind == NATTER_ADDRESS_ROOM)
    {
      NatterdRoom *room = natterd_directory_find_room (dir, name);

      if (room == NULL)
        {
          natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such room");
          return;
        }
      if (!natterd_room_has_member (room, me))
        {
          natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "You are not a member of that room");
          return;
        }
      natterd_tell_typing (room->conversation, NULL, me, g_str_equal (state, "active"));
      natterd_cluster_relay_typing (dir->cluster, room->conversation->id, 0, me->id,
                                    g_str_equal (state, "active"));
    }
  else
    {
      NatterdUser *peer = natterd_directory_find_user (dir, name);

      if (peer == NULL || natterd_auth_hash_is_deleted (peer->password_hash))
        {
          natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such user");
          return;
        }
      /* Typing to someone who blocks the sender is answered and
       * dropped (natterd-blocks.h). */
      if (peer != me && !natterd_user_blocks (peer, me))
        {
          natterd_tell_typing (NULL, peer, me, g_str_equal (state, "active"));
          natterd_cluster_relay_typing (dir->cluster, 0, peer->id, me->id, g_str_equal (state, "active"));
        }
    }
  natterd_request_ok (request);
}

/* A read marker goes through the writer thread with the sends: its reply
 * and events wait for the commit that made it durable (no fsync of its own). */
typedef struct {
  NatterdCommitWrite   write;
  NatterdConversation *conv;
  NatterdUser         *me;
  gint64               conversation_id;
  gint64               user_id;
  gint64               up_to;
  gint64               stored;      /* the marker afterwards */
  gboolean             moved;
} ReadJob;

static gboolean
read_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  ReadJob *r = (ReadJob *) job;

  return natterd_store_read_marker_set (store, r->conversation_id, r->user_id, r->up_to,
                                        &r->stored, &r->moved, error);
}

static void
read_reply (NatterdRequest *request,
            gint64          stored)
{
  NatterJsonWriter *w = natterd_request_begin_ok (request);

  natter_json_writer_key (w, "up_to");
  natter_json_writer_int (w, stored);
  natterd_request_finish_ok (request);
}

void
natterd_tell_read (NatterdConversation *conv,
                   NatterdUser         *me,
                   gint64               up_to)
{
  g_autoptr(GBytes) mine = conversation_event ("read", conv, me, me, "up_to", NULL, up_to);

  natterd_user_send (me, mine, NULL);
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    {
      Broadcast b = { mine, me, NULL };
      natterd_conversation_foreach_member (conv, broadcast_cb, &b);
    }
  else if (conv->user_a != conv->user_b)
    {
      NatterdUser *other = natterd_conversation_peer (conv, me);
      g_autoptr(GBytes) theirs = conversation_event ("read", conv, other, me, "up_to", NULL, up_to);
      natterd_user_send (other, theirs, NULL);
    }
}

static void
read_done (NatterdWriteJob *job,
           const GError    *error)
{
  ReadJob *r = (ReadJob *) job;
  NatterdConversation *conv = r->conv;
  NatterdUser *me = r->me;

  natterd_commit_write_done (&r->write);
  if (error != NULL)
    natterd_request_store_error (r->write.request, error);
  else
    {
      if (r->moved)
        {
          natterd_tell_read (conv, me, r->stored);
          natterd_cluster_relay_read (natterd_directory_from_request (r->write.request)->cluster,
                                      conv->id, me->id, r->stored);
        }
      read_reply (r->write.request, r->stored);
    }
  natterd_commit_write_clear (&r->write);
  natterd_conversation_release (r->conv);
  g_free (r);
}

void
natterd_handle_read (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdConversation *conv;
  NatterdUser *peer = NULL;
  gint64 up_to = 0;
  ReadJob *r;

  if (!natterd_arg_conversation (request, "conversation", TRUE, &conv, &peer) ||
      !natterd_arg_int (request, "up_to", TRUE, NULL, &up_to))
    return;
  if (up_to < 0)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "up_to must be a message id");
      return;
    }
  if (conv == NULL)
    {
      /* No conversation yet, so no message to have read. */
      read_reply (request, 0);
      return;
    }

  r = g_new0 (ReadJob, 1);
  natterd_commit_write_init (&r->write, dir->commit, request, read_run, read_done);
  r->conv = natterd_conversation_hold (conv);
  r->me = me;
  r->conversation_id = conv->id;
  r->user_id = me->id;
  r->up_to = up_to;
  natterd_commit_write_queue (&r->write);
}
