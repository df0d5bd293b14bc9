/* natterd-handlers-blocks.c: block, unblock, blocked (feature accounts,
 * docs/protocol.md "Blocking").
 *
 * A block is one row (natterd_store_block_set), written by the writer
 * thread as a change of the directory (natterd-model-write.h) and then
 * applied to it (natterd-blocks.h); what a block stops is checked where
 * each thing is sent, never here. The blocked user is told nothing: only
 * the presence they may see of the blocker changes, as if the blocker had
 * gone offline (and back, at the unblock).
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include "natterd-blocks.h"
#include "natterd-handlers-private.h"

typedef struct {
  NatterdModelWrite  model;
  NatterdUser       *me;
  NatterdUser       *other;
  gint64             me_id;
  gint64             other_id;
  gint64             since;     /* 0: an unblock */
} BlockWrite;

static void
reply_block (NatterdRequest *request,
             NatterdUser    *other,
             gint64          since)
{
  NatterJsonWriter *w = natterd_request_begin_ok (request);

  natter_json_writer_key (w, "username");
  natter_json_writer_string (w, other->username);
  natter_json_writer_key (w, "since");
  if (since != 0)
    natter_json_writer_int (w, since);
  else
    natter_json_writer_null (w);
  natterd_request_finish_ok (request);
}

/* Writer thread. */
static gboolean
block_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  BlockWrite *b = (BlockWrite *) job;

  if (b->since != 0)
    return natterd_store_block_set (store, b->me_id, b->other_id, b->since, error);
  return natterd_store_block_delete (store, b->me_id, b->other_id, error);
}

static void
block_apply (NatterdModelWrite *model,
             const GError      *error)
{
  BlockWrite *b = (BlockWrite *) model;
  NatterdRequest *request = model->write.request;
  gboolean could_see;

  if (error != NULL)
    {
      natterd_request_job_error (request, error);
      return;
    }
  could_see = natterd_presence_can_see (b->other, b->me);
  natterd_user_set_blocked (b->me, b->other, b->since);
  /* What the other may see of the user's presence changed: told as a
   * presence change is, and nothing else. */
  if (could_see != natterd_presence_can_see (b->other, b->me))
    natterd_presence_tell_one (b->me, b->other);
  reply_block (request, b->other, b->since);
}

/* The user named, once no change of the directory is in flight; NULL
 * when the request waits or was answered. */
static NatterdUser *
block_target (NatterdRequest      *request,
              NatterdDeferredFunc  handler)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other;

  if (natterd_model_write_wait (natterd_directory_from_request (request), request, handler))
    return NULL;
  other = natterd_arg_user (request, "username");
  if (other == me)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "You cannot block yourself");
      return NULL;
    }
  return other;
}

static void
start_block (NatterdRequest *request,
             NatterdUser    *me,
             NatterdUser    *other,
             gint64          since)
{
  BlockWrite *b = g_new0 (BlockWrite, 1);

  b->me = me;
  b->other = other;
  b->me_id = me->id;
  b->other_id = other->id;
  b->since = since;
  natterd_model_write_start (&b->model, request, block_run, block_apply, NULL);
}

void
natterd_handle_block (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = block_target (request, natterd_handle_block);
  gint64 since;

  if (other == NULL)
    return;
  /* Blocking again answers the first block. */
  since = natterd_user_blocked_since (me, other);
  if (since != 0)
    {
      reply_block (request, other, since);
      return;
    }
  if (natterd_user_n_blocked (me) >= natterd_directory_get_config (natterd_directory_from_request (request))->blocks_per_user)
    {
      natterd_request_error (request, NATTER_ERROR_CONFLICT, "You block too many users already");
      return;
    }
  start_block (request, me, other, natterd_now_ms ());
}

void
natterd_handle_unblock (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = block_target (request, natterd_handle_unblock);

  if (other == NULL)
    return;
  if (!natterd_user_blocks (me, other))
    {
      reply_block (request, other, 0);
      return;
    }
  start_block (request, me, other, 0);
}

void
natterd_handle_blocked (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GPtrArray) list = natterd_user_list_blocked (me);
  NatterJsonWriter *w = natterd_request_begin_ok (request);

  natter_json_writer_key (w, "blocked");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < list->len; i++)
    {
      NatterdUser *other = list->pdata[i];

      natter_json_writer_begin_object (w);
      natter_json_writer_key (w, "username");
      natter_json_writer_string (w, other->username);
      natter_json_writer_key (w, "since");
      natter_json_writer_int (w, natterd_user_blocked_since (me, other));
      natter_json_writer_end_object (w);
    }
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}
