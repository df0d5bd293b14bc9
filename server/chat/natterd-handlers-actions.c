/* natterd-handlers-actions.c: edit, delete, react and notify_level, the
 * requests of the feature message_actions (docs/protocol.md, "Message
 * actions").
 *
 * A change goes through the writer thread like a send: the job reads the
 * message, decides there, in the transaction that stores the change
 * (who may do it, whether it changes anything, the reaction cap), so
 * that two changes of one message can never both pass a check against
 * the same old state. The reply and the "message_changed" events go out
 * after the commit. A change that changes nothing stores nothing and
 * answers "change":null.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-cluster.h"
#include "natterd-features.h"
#include "natterd-handlers-private.h"
#include "natterd-handlers.h"
#include "natterd-mentions.h"

/* Distinct reactions a message carries at most. */
#define REACTIONS_MAX 20

typedef struct {
  NatterdCommitWrite   write;
  NatterdUser         *me;
  gint64               me_id;
  NatterdChangeKind    kind;
  gint64               message_id;
  gint64               ts;
  char                *body;        /* edit */
  gsize                body_len;
  char                *mentions;    /* edit: natterd-mentions.h */
  char                *emoji;       /* react */
  gboolean             on;

  /* Filled in by the writer. */
  NatterdStoreMessage *message;     /* as it is after the job: a copy */
  gint64               change_id;   /* 0: nothing changed */

  gboolean             told_already; /* a cluster's read of the database told it */
} ChangeJob;

static void
change_job_free (ChangeJob *j)
{
  natterd_commit_write_clear (&j->write);
  g_free (j->body);
  g_free (j->mentions);
  g_free (j->emoji);
  g_free (j->message);
  g_free (j);
}

static gboolean
copy_message_cb (const NatterdStoreMessage *m,
                 gpointer                   user_data)
{
  NatterdStoreMessage **out = user_data;

  g_free (*out);
  *out = natterd_store_message_copy (m);
  return FALSE;
}

/* The reactions (NATTERD_STORE_REACTIONS in natterd-store.h) with @user_id's
 * @emoji turned @on or off; NULL when that changes nothing. FALSE with
 * conflict for a reaction past REACTIONS_MAX. */
static gboolean
reactions_apply (const char  *reactions,
                 const char  *emoji,
                 gint64       user_id,
                 gboolean     on,
                 char       **out,
                 GError     **error)
{
  g_auto(GStrv) lines = g_strsplit (reactions != NULL ? reactions : "", "\n", -1);
  g_autoptr(GString) result = g_string_new (NULL);
  g_autofree char *user = g_strdup_printf ("%" G_GINT64_FORMAT, user_id);
  gboolean found = FALSE, changed = FALSE;
  guint distinct = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;
      gboolean has_user = FALSE;

      if (lines[i][0] == '\0')
        continue;
      distinct++;
      fields = g_strsplit (lines[i], " ", -1);
      if (!g_str_equal (fields[0], emoji))
        {
          g_string_append (result, lines[i]);
          g_string_append_c (result, '\n');
          continue;
        }
      found = TRUE;
      for (guint k = 1; fields[k] != NULL; k++)
        has_user |= g_str_equal (fields[k], user);
      if (on && !has_user)
        {
          g_string_append_printf (result, "%s %s\n", lines[i], user);
          changed = TRUE;
          continue;
        }
      if (!on && has_user)
        {
          GString *kept = g_string_new (fields[0]);

          for (guint k = 1; fields[k] != NULL; k++)
            if (!g_str_equal (fields[k], user))
              g_string_append_printf (kept, " %s", fields[k]);
          /* The last one to take it back removes the reaction. */
          if (strchr (kept->str, ' ') != NULL)
            g_string_append_printf (result, "%s\n", kept->str);
          g_string_free (kept, TRUE);
          changed = TRUE;
          continue;
        }
      g_string_append (result, lines[i]);
      g_string_append_c (result, '\n');
    }
  if (on && !found)
    {
      if (distinct >= REACTIONS_MAX)
        return natterd_refuse (error, NATTER_ERROR_CONFLICT, "A message carries at most 20 distinct reactions");
      g_string_append_printf (result, "%s %s\n", emoji, user);
      changed = TRUE;
    }
  *out = changed ? g_string_free (g_steal_pointer (&result), FALSE) : NULL;
  return TRUE;
}

/* Writer thread, in the batch's transaction. */
static gboolean
change_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  ChangeJob *j = (ChangeJob *) job;
  NatterdStoreMessage *m;
  NatterdStoreChangeWrite w = { 0 };
  g_autofree char *reactions = NULL;
  gboolean participant = FALSE, owner = FALSE;

  if (!natterd_store_message_by_id (store, j->message_id, copy_message_cb, &j->message, error))
    return FALSE;
  m = j->message;
  /* Knowing an id is not enough to learn anything of a message. */
  if (m != NULL &&
      !natterd_store_participant_role (store, m->conversation_id, j->me_id, &participant, &owner, error))
    return FALSE;
  if (m == NULL || !participant || (m->deleted && j->kind != NATTERD_CHANGE_DELETE))
    return natterd_refuse (error, NATTER_ERROR_NOT_FOUND, "No such message");

  w.kind = j->kind;
  w.message_id = m->id;
  w.conversation_id = m->conversation_id;
  w.actor_id = j->me_id;
  w.ts = j->ts;
  switch (j->kind)
    {
    case NATTERD_CHANGE_EDIT:
      if (m->sender_id != j->me_id)
        return natterd_refuse (error, NATTER_ERROR_FORBIDDEN, "Only its sender may edit a message");
      if (m->body_len == j->body_len && memcmp (m->body, j->body, j->body_len) == 0)
        return TRUE;
      w.body = j->body;
      w.body_len = j->body_len;
      w.mentions = j->mentions;
      break;
    case NATTERD_CHANGE_DELETE:
      /* Its sender; in a room, the room's owner or an admin (a member:
       * participant; room_management). */
      if (m->sender_id != j->me_id && !owner)
        return natterd_refuse (error, NATTER_ERROR_FORBIDDEN, "You may not delete that message");
      if (m->deleted)
        return TRUE;
      break;
    case NATTERD_CHANGE_REACTION:
      if (!reactions_apply (m->reactions, j->emoji, j->me_id, j->on, &reactions, error))
        return FALSE;
      if (reactions == NULL)
        return TRUE;
      w.emoji = j->emoji;
      w.on = j->on;
      w.reactions = reactions;
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  /* The message as it is now (the same transaction sees the change). */
  return natterd_store_change_insert (store, &w, &j->change_id, error) &&
         natterd_store_message_by_id (store, j->message_id, copy_message_cb, &j->message, error);
}

/* A change's event as @viewer sees it, to the connections with message
 * actions: [0] without files, [1] with them (the same when the message
 * has none). */
typedef struct {
  GBytes            *frames[2];
  NatterdConnection *except;
} Tell;

static void
tell_init (Tell                     *t,
           NatterdDirectory         *dir,
           const NatterdStoreChange *change,
           NatterdUser              *viewer,
           NatterdConnection        *except)
{
  t->frames[0] = natterd_change_event (dir, change, viewer, FALSE);
  t->frames[1] = natterd_message_has_files (&change->message) ? natterd_change_event (dir, change, viewer, TRUE)
                                                              : g_bytes_ref (t->frames[0]);
  t->except = except;
}

static void
tell_clear (Tell *t)
{
  g_bytes_unref (t->frames[0]);
  g_bytes_unref (t->frames[1]);
}

static void
tell_member_cb (NatterdUser *user,
                gpointer     user_data)
{
  Tell *t = user_data;

  for (GList *l = user->connections, *next; l != NULL; l = next)
    {
      guint form = natterd_message_form (l->data);

      next = l->next;
      if ((form & NATTERD_FORM_ACTIONS) != 0 && l->data != t->except)
        natterd_connection_send_bytes (l->data, t->frames[(form & NATTERD_FORM_FILES) != 0]);
    }
}

void
natterd_tell_change (NatterdDirectory         *dir,
                     const NatterdStoreChange *change,
                     NatterdConnection        *except)
{
  NatterdConversation *conv = natterd_directory_find_conversation (dir, change->conversation_id);
  Tell t;

  if (conv == NULL)
    return; /* made through another node, not known here yet */
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    {
      tell_init (&t, dir, change, NULL, except);
      natterd_conversation_foreach_member (conv, tell_member_cb, &t);
      tell_clear (&t);
      return;
    }
  /* A direct conversation: "@the other one" on each side; never to the
   * one the message is hidden from (blocking, natterd-blocks.h). */
  if (change->message.hidden_for != conv->user_a->id)
    {
      tell_init (&t, dir, change, conv->user_a, except);
      tell_member_cb (conv->user_a, &t);
      tell_clear (&t);
    }
  if (conv->user_b != conv->user_a && change->message.hidden_for != conv->user_b->id)
    {
      tell_init (&t, dir, change, conv->user_b, except);
      tell_member_cb (conv->user_b, &t);
      tell_clear (&t);
    }
}

/* The change as the events and the other nodes see it: borrows @j. */
static NatterdStoreChange
change_of (ChangeJob *j)
{
  NatterdStoreChange change = {
    .id = j->change_id, .conversation_id = j->message->conversation_id, .actor_id = j->me_id,
    .ts = j->ts, .kind = j->kind, .emoji = j->emoji, .on = j->on, .message = *j->message,
  };

  return change;
}

/* In the change's turn among the deliveries: the participants told (unless
 * a read of the database brought it to them first, on a cluster), then
 * the answer. */
static void
change_tell_and_answer (gpointer data)
{
  ChangeJob *j = data;
  NatterdRequest *request = j->write.request;
  NatterdDirectory *dir = natterd_directory_from_request (request);
  g_autoptr(GString) object = NULL;
  NatterJsonWriter *w;

  if (j->change_id != 0 && !j->told_already)
    {
      NatterdStoreChange change = change_of (j);

      natterd_tell_change (dir, &change, j->write.connection);
    }
  object = g_string_sized_new (j->message->body_len + 256);
  natterd_message_object_write_for (dir, object, j->message, j->me,
                                    natterd_message_form (natterd_request_get_connection (request)));
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "change");
  if (j->change_id != 0)
    natter_json_writer_int (w, j->change_id);
  else
    natter_json_writer_null (w);
  natter_json_writer_key (w, "message");
  natter_json_writer_raw (w, object->str, object->len);
  natterd_request_finish_ok (request);
  change_job_free (j);
}

/* The change's turn in id order has come (on a cluster, once the ids
 * below it that other nodes committed went out): it goes out after the
 * messages handed to the commit before it, as a message would. */
static void
change_in_order (gpointer own,
                 gboolean delivered_already)
{
  ChangeJob *j = own;

  j->told_already = delivered_already;
  natterd_commit_deliver_in_turn (j->write.commit, change_tell_and_answer, j);
}

/* Main loop, after the commit. */
static void
change_done (NatterdWriteJob *job,
             const GError    *error)
{
  ChangeJob *j = (ChangeJob *) job;
  NatterdRequest *request = j->write.request;
  NatterdDirectory *dir = natterd_directory_from_request (request);

  if (error == NULL && j->change_id != 0)
    natterd_search_feed_note_committed (dir->search_feed, j->change_id);
  natterd_commit_write_done (&j->write);
  if (error != NULL)
    {
      natterd_request_job_error (request, error);
      change_job_free (j);
      return;
    }
  if (j->change_id != 0 && dir->cluster != NULL)
    {
      NatterdStoreChange change = change_of (j);

      natterd_cluster_own_change (dir->cluster, &change, change_in_order, j);
      return;
    }
  change_in_order (j, FALSE);
}

/* The checks every change shares: the message id, then the rate limit.
 * NULL after answering. */
static ChangeJob *
change_job_new (NatterdRequest    *request,
                NatterdChangeKind  kind)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdDirectory *dir = natterd_directory_from_request (request);
  gint64 message_id;
  ChangeJob *j;

  if (!natterd_arg_message_id (request, "message", TRUE, &message_id))
    return NULL;
  j = g_new0 (ChangeJob, 1);
  natterd_commit_write_init (&j->write, dir->commit, request, change_run, change_done);
  j->me = me;
  j->me_id = me->id;
  j->kind = kind;
  j->message_id = message_id;
  j->ts = natterd_now_ms ();
  return j;
}

/* messages_per_minute_per_user counts every change asked for (a change
 * that turns out to change nothing too: the writer decides that later).
 * FALSE after answering rate_limited. */
static gboolean
change_allowed (ChangeJob *j)
{
  gint64 retry = natterd_message_rate_take (j->write.request, j->me);

  if (retry == 0)
    return TRUE;
  natterd_request_rate_limited (j->write.request, retry);
  change_job_free (j);
  return FALSE;
}

void
natterd_handle_edit (NatterdRequest *request)
{
  g_autofree char *mentions = NULL;
  const char *body;
  ChangeJob *j;

  if (!natterd_arg_string (request, "body", TRUE, &body))
    return;
  if (!natter_body_is_valid (body, strlen (body)))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "body must be 1 to 16384 bytes, not only white space, without control characters");
      return;
    }
  if (!natterd_mentions_find_for (request, body, strlen (body), &mentions) ||
      (j = change_job_new (request, NATTERD_CHANGE_EDIT)) == NULL || !change_allowed (j))
    return;
  j->body_len = strlen (body);
  j->body = g_strndup (body, j->body_len);
  j->mentions = g_steal_pointer (&mentions);
  natterd_commit_write_queue (&j->write);
}

void
natterd_handle_delete (NatterdRequest *request)
{
  ChangeJob *j;

  if ((j = change_job_new (request, NATTERD_CHANGE_DELETE)) == NULL || !change_allowed (j))
    return;
  natterd_commit_write_queue (&j->write);
}

void
natterd_handle_react (NatterdRequest *request)
{
  g_autoptr(GError) error = NULL;
  const char *emoji;
  gboolean on = FALSE;
  ChangeJob *j;

  if (!natterd_arg_string (request, "emoji", TRUE, &emoji))
    return;
  if (!natter_fields_get_bool (natterd_request_get_frame (request), "on", TRUE, NULL, &on, &error))
    {
      natterd_request_error_from (request, error);
      return;
    }
  if (!natter_emoji_is_valid (emoji))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "emoji must be 1 to 32 bytes without white space or control characters");
      return;
    }
  if ((j = change_job_new (request, NATTERD_CHANGE_REACTION)) == NULL || !change_allowed (j))
    return;
  j->emoji = g_strdup (emoji);
  j->on = on;
  natterd_commit_write_queue (&j->write);
}

/* --- notify_level --- */

static const char *const notify_levels[] = {
  [NATTERD_NOTIFY_ALL] = "all",
  [NATTERD_NOTIFY_MENTIONS] = "mentions",
  [NATTERD_NOTIFY_NONE] = "none",
};

const char *
natterd_notify_level_name (NatterdNotifyLevel level)
{
  return (guint) level < G_N_ELEMENTS (notify_levels) ? notify_levels[level] : "all";
}

typedef struct {
  NatterdCommitWrite   write;
  NatterdUser         *me;
  NatterdUser         *peer;          /* a direct conversation not made yet */
  NatterdConversation *conv;          /* NULL until made */
  gint64               conversation_id;
  gint64               me_id;
  gint64               peer_id;
  NatterdNotifyLevel   level;
  gboolean             changed;
} NotifyJob;

static gboolean
notify_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  NotifyJob *n = (NotifyJob *) job;

  /* A direct conversation with no message yet gets its row now. */
  if (n->conversation_id == 0 &&
      !natterd_store_direct_ensure (store, MIN (n->me_id, n->peer_id), MAX (n->me_id, n->peer_id),
                                    &n->conversation_id, error))
    return FALSE;
  return natterd_store_notify_level_set (store, n->conversation_id, n->me_id, n->level,
                                         &n->changed, error);
}

static void
notify_done (NatterdWriteJob *job,
             const GError    *error)
{
  NotifyJob *n = (NotifyJob *) job;
  NatterdRequest *request = n->write.request;
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterJsonWriter *w;

  natterd_commit_write_done (&n->write);
  if (error != NULL)
    natterd_request_store_error (request, error);
  else
    {
      if (n->conv == NULL)
        n->conv = natterd_conversation_hold (natterd_directory_note_direct (dir, n->conversation_id, n->me, n->peer));
      if (n->changed)
        {
          NatterdUser *peer = n->conv->kind == NATTERD_CONVERSATION_DIRECT
                              ? natterd_conversation_peer (n->conv, n->me) : NULL;

          natterd_tell_notify_level (n->conv, n->me, n->level, n->write.connection);
          natterd_cluster_relay_notify_level (dir->cluster, n->conversation_id, n->me->id,
                                              peer != NULL ? peer->id : 0, n->level);
        }
      w = natterd_request_begin_ok (request);
      natter_json_writer_key (w, "conversation");
      natterd_conversation_write_address (w, n->conv, n->me);
      natter_json_writer_key (w, "level");
      natter_json_writer_string (w, notify_levels[n->level]);
      natterd_request_finish_ok (request);
    }
  natterd_commit_write_clear (&n->write);
  natterd_conversation_release (n->conv);
  g_free (n);
}

void
natterd_tell_notify_level (NatterdConversation *conv,
                           NatterdUser         *me,
                           NatterdNotifyLevel   level,
                           NatterdConnection   *except)
{
  NatterdEvent event;
  NatterJsonWriter *w = natterd_event_begin (&event, "notify_level");
  g_autoptr(GBytes) frame = NULL;

  natter_json_writer_key (w, "conversation");
  natterd_conversation_write_address (w, conv, me);
  natter_json_writer_key (w, "level");
  natter_json_writer_string (w, natterd_notify_level_name (level));
  frame = natterd_event_finish (&event);
  natterd_user_send_forms (me, NULL, frame, except);
}

void
natterd_handle_notify_level (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdConversation *conv;
  NatterdUser *peer = NULL;
  const char *level;
  NotifyJob *n;
  guint i;

  if (!natterd_arg_conversation (request, "conversation", TRUE, &conv, &peer) ||
      !natterd_arg_string (request, "level", TRUE, &level))
    return;
  for (i = 0; i < G_N_ELEMENTS (notify_levels) && !g_str_equal (level, notify_levels[i]); i++)
    ;
  if (i == G_N_ELEMENTS (notify_levels))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "level must be all, mentions or none");
      return;
    }

  n = g_new0 (NotifyJob, 1);
  natterd_commit_write_init (&n->write, dir->commit, request, notify_run, notify_done);
  n->me = me;
  n->me_id = me->id;
  n->conv = natterd_conversation_hold (conv);
  n->conversation_id = conv != NULL ? conv->id : 0;
  n->peer = peer;
  n->peer_id = peer != NULL ? peer->id : 0;
  n->level = (NatterdNotifyLevel) i;
  natterd_commit_write_queue (&n->write);
}
