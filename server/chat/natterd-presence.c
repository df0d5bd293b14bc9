/* natterd-presence.c: who may see whom, a user's presence (the most
 * available of their connections'), who is online, and the writes of
 * last_seen and status text that no reply waits for.
 */
#define G_LOG_DOMAIN "natterd-presence"

#include "config.h"

#include "natterd-commit.h"
#include "natterd-event.h"
#include "natterd-auth.h"
#include "natterd-cluster.h"
#include "natterd-cluster-presence.h"
#include "natterd-presence.h"
#include "natterd-session.h"
#include "natterd-blocks.h"

gboolean
natterd_presence_share_room (NatterdUser *a, NatterdUser *b)
{
  NatterdUser *small = a->rooms->len <= b->rooms->len ? a : b;
  NatterdUser *other = small == a ? b : a;

  for (guint i = 0; i < small->rooms->len; i++)
    if (natterd_room_has_member (small->rooms->pdata[i], other))
      return TRUE;
  return FALSE;
}

gboolean
natterd_presence_can_see (NatterdUser *viewer,
                          NatterdUser *user)
{
  if (viewer == NULL || viewer == user)
    return TRUE;
  /* Someone the user blocks sees them as nobody's presence
   * (natterd-blocks.h). */
  if (natterd_user_blocks (user, viewer))
    return FALSE;
  if (GPOINTER_TO_INT (g_hash_table_lookup (user->contacts, viewer)) == NATTERD_CONTACT_ACCEPTED)
    return TRUE;
  return natterd_presence_share_room (viewer, user);
}

static void
write_user_full (NatterJsonWriter *w,
                 NatterdUser      *user,
                 gboolean          visible,
                 const char       *role)
{
  natter_json_writer_begin_object (w);
  natter_json_writer_key (w, "username");
  natter_json_writer_string (w, user->username);
  natter_json_writer_key (w, "display_name");
  natter_json_writer_string (w, user->display_name);
  natter_json_writer_key (w, "presence");
  natter_json_writer_string (w, natter_presence_to_string (visible ? user->presence
                                                                   : NATTER_PRESENCE_OFFLINE));
  natter_json_writer_key (w, "status_text");
  natter_json_writer_string_or_null (w, visible ? user->status_text : NULL);
  natter_json_writer_key (w, "last_seen");
  if (visible && user->last_seen > 0)
    natter_json_writer_int (w, user->last_seen);
  else
    natter_json_writer_null (w);
  /* A picture is the profile's, as the display name: shown to all. */
  natter_json_writer_key (w, "avatar");
  natter_json_writer_string_or_null (w, user->avatar);
  /* Only on a deleted account's (account_delete): its name stays on its
   * messages, its display name is its username. */
  if (natterd_auth_hash_is_deleted (user->password_hash))
    {
      natter_json_writer_key (w, "deleted");
      natter_json_writer_bool (w, TRUE);
    }
  if (role != NULL)
    {
      natter_json_writer_key (w, "role");
      natter_json_writer_string (w, role);
    }
  natter_json_writer_end_object (w);
}

void
natterd_presence_write_user (NatterJsonWriter *writer,
                             NatterdUser      *user,
                             NatterdUser      *viewer)
{
  write_user_full (writer, user, natterd_presence_can_see (viewer, user), NULL);
}

void
natterd_presence_write_member (NatterJsonWriter *writer,
                               NatterdUser      *user,
                               NatterdUser      *viewer,
                               const char       *role)
{
  write_user_full (writer, user, natterd_presence_can_see (viewer, user), role);
}

/* The most available of @user's connections here, and then everywhere. */
static NatterPresence
compute_presence (NatterdDirectory *self,
                  NatterdUser      *user)
{
  NatterPresence best = NATTER_PRESENCE_OFFLINE;

  for (GList *l = user->connections; l != NULL; l = l->next)
    best = MAX (best, natterd_session_get_presence (l->data));
  user->presence_here = best;
  if (self->cluster != NULL)
    best = MAX (best, natterd_cluster_presence_elsewhere (natterd_cluster_get_presence (self->cluster),
                                                          user->id));
  return best;
}

static void
send_if_unmarked (NatterdUser       *user,
                  guint64            mark,
                  GBytes            *frame,
                  NatterdConnection *except)
{
  if (user->mark == mark)
    return;
  user->mark = mark;
  natterd_user_send (user, frame, except);
}

static void mark_last_seen_dirty (NatterdDirectory *self, NatterdUser *user);

/* Tells everyone allowed to see @user's presence, when it changed or
 * @force_push. */
static void
tell_presence (NatterdDirectory  *self,
               NatterdUser       *user,
               NatterPresence     presence,
               gboolean           force_push,
               NatterdConnection *except)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;
  GHashTableIter iter;
  gpointer key, value;
  guint64 mark;

  if (presence == user->presence && !force_push)
    return;
  user->presence = presence;

  /* One encoding for every viewer: only those allowed to see it get it. */
  w = natterd_event_begin (&event, "presence");
  natter_json_writer_key (w, "user");
  write_user_full (w, user, TRUE, NULL);
  frame = natterd_event_finish (&event);

  mark = ++self->mark_generation;
  send_if_unmarked (user, mark, frame, except);
  /* Marked as told already: those the user blocks are never told. */
  if (user->blocked != NULL)
    {
      g_hash_table_iter_init (&iter, user->blocked);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        ((NatterdUser *) key)->mark = mark;
    }
  g_hash_table_iter_init (&iter, user->contacts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_INT (value) == NATTERD_CONTACT_ACCEPTED)
      send_if_unmarked (key, mark, frame, NULL);
  for (guint i = 0; i < user->rooms->len; i++)
    {
      NatterdRoom *room = user->rooms->pdata[i];
      for (guint j = 0; j < room->members->len; j++)
        send_if_unmarked (room->members->pdata[j], mark, frame, NULL);
    }
}

void
natterd_presence_tell_one (NatterdUser *user,
                           NatterdUser *viewer)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  if (viewer->n_connections == 0)
    return;
  w = natterd_event_begin (&event, "presence");
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, user, viewer);
  frame = natterd_event_finish (&event);
  natterd_user_send (viewer, frame, NULL);
}

void
natterd_presence_update (NatterdDirectory  *self,
                         NatterdUser       *user,
                         gboolean           force_push,
                         NatterdConnection *except)
{
  NatterPresence here_before = user->presence_here;
  NatterPresence presence = compute_presence (self, user);

  /* The other nodes hear what this node's connections add up to. */
  if (self->cluster != NULL && (user->presence_here != here_before || force_push))
    natterd_cluster_presence_publish (natterd_cluster_get_presence (self->cluster), user);
  tell_presence (self, user, presence, force_push, except);
}

void
natterd_presence_update_from_elsewhere (NatterdDirectory *self,
                                        NatterdUser      *user,
                                        gboolean          force_push,
                                        gint64            gone_at)
{
  NatterPresence presence = compute_presence (self, user);

  if (presence == NATTER_PRESENCE_OFFLINE && user->presence != NATTER_PRESENCE_OFFLINE &&
      gone_at > user->last_seen)
    {
      /* Its node died: nobody else writes when it was last seen. */
      user->last_seen = gone_at;
      mark_last_seen_dirty (self, user);
    }
  tell_presence (self, user, presence, force_push, NULL);
}

/* --- last_seen, written behind --- */

typedef struct {
  NatterdWriteJob job;
  GArray         *values;  /* LastSeen */
} LastSeenJob;

typedef struct {
  gint64 user_id;
  gint64 last_seen;
} LastSeen;

static gboolean
last_seen_run (NatterdWriteJob *job,
               NatterdStore    *store,
               GError         **error)
{
  LastSeenJob *j = (LastSeenJob *) job;

  for (guint i = 0; i < j->values->len; i++)
    {
      LastSeen *v = &g_array_index (j->values, LastSeen, i);
      if (!natterd_store_user_set_last_seen (store, v->user_id, v->last_seen, error))
        return FALSE;
    }
  return TRUE;
}

static void
last_seen_done (NatterdWriteJob *job,
                const GError    *error)
{
  LastSeenJob *j = (LastSeenJob *) job;

  if (error != NULL)
    g_warning ("Could not store last_seen values: %s", error->message);
  g_array_unref (j->values);
  g_free (j);
}

/* Hands the waiting last_seen values to the writer in one job. */
static void
write_dirty_last_seen (NatterdDirectory *self)
{
  LastSeenJob *j;

  if (self->dirty_last_seen->len == 0)
    return;
  j = g_new0 (LastSeenJob, 1);
  j->job.run = last_seen_run;
  j->job.done = last_seen_done;
  j->values = g_array_sized_new (FALSE, FALSE, sizeof (LastSeen), self->dirty_last_seen->len);
  for (guint i = 0; i < self->dirty_last_seen->len; i++)
    {
      NatterdUser *user = self->dirty_last_seen->pdata[i];
      LastSeen v = { user->id, user->last_seen };

      user->last_seen_dirty = FALSE;
      g_array_append_val (j->values, v);
    }
  g_ptr_array_set_size (self->dirty_last_seen, 0);
  natterd_commit_push (self->commit, &j->job);
}

static gboolean
last_seen_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;

  self->last_seen_source = 0;
  write_dirty_last_seen (self);
  return G_SOURCE_REMOVE;
}

/* last_seen needs no crash durability: it is kept in memory and written
 * within a second, many users in one transaction, so that a wave of
 * disconnects costs no fsync each on the main loop. */
static void
mark_last_seen_dirty (NatterdDirectory *self,
                      NatterdUser      *user)
{
  if (!user->last_seen_dirty)
    {
      user->last_seen_dirty = TRUE;
      g_ptr_array_add (self->dirty_last_seen, user);
    }
  if (self->last_seen_source == 0)
    self->last_seen_source = g_timeout_add (1000, last_seen_cb, self);
}

void
natterd_presence_user_online (NatterdDirectory *self,
                              NatterdUser      *user)
{
  self->n_online++;
}

void
natterd_presence_user_offline (NatterdDirectory *self,
                               NatterdUser      *user)
{
  self->n_online--;
  user->last_seen = natterd_now_ms ();
  mark_last_seen_dirty (self, user);
}

guint
natterd_presence_count_online (NatterdDirectory *self)
{
  return self->n_online;
}

void
natterd_presence_flush (NatterdDirectory *self)
{
  /* The timer goes first: last_seen_cb forgets its id without removing it. */
  g_clear_handle_id (&self->last_seen_source, g_source_remove);
  write_dirty_last_seen (self);
}

/* --- status text, written behind --- */

typedef struct {
  NatterdWriteJob job;
  gint64          user_id;
  char           *text;    /* NULL clears */
} StatusJob;

static gboolean
status_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  StatusJob *j = (StatusJob *) job;

  return natterd_store_user_set_status_text (store, j->user_id, j->text, error);
}

static void
status_done (NatterdWriteJob *job,
             const GError    *error)
{
  StatusJob *j = (StatusJob *) job;

  if (error != NULL)
    g_warning ("Could not store the status text of user %" G_GINT64_FORMAT ": %s",
               j->user_id, error->message);
  g_free (j->text);
  g_free (j);
}

void
natterd_presence_store_status_text (NatterdDirectory *self,
                                    NatterdUser      *user,
                                    const char       *text)
{
  StatusJob *j = g_new0 (StatusJob, 1);

  j->job.run = status_run;
  j->job.done = status_done;
  j->user_id = user->id;
  j->text = g_strdup (text);
  /* A refresh whose read may begin before this commits must not undo
   * it (natterd-directory-diff.h). */
  user->local_stamp = ++self->local_stamp;
  natterd_commit_push (self->commit, &j->job);
}
