/* natterd-directory.c: users, rooms, contacts and presence in memory, and
 * the group commit of sends.
 *
 * Everything here lives on the main thread. The store is written through
 * (it is the truth after a restart), but routing and permission checks only
 * look at these tables.
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include <string.h>

#include "natterd-auth.h"
#include "natterd-directory.h"
#include "natterd-request.h"
#include "natterd-server.h"

/* --- token buckets --- */

static void
bucket_refill (NatterdBucket *bucket, guint capacity, gint64 window_ms, gint64 now_ms)
{
  if (!bucket->started)
    {
      bucket->started = TRUE;
      bucket->tokens = capacity;
      bucket->updated_ms = now_ms;
      return;
    }
  if (now_ms > bucket->updated_ms)
    {
      bucket->tokens += (double) (now_ms - bucket->updated_ms) * capacity / window_ms;
      if (bucket->tokens > capacity)
        bucket->tokens = capacity;
      bucket->updated_ms = now_ms;
    }
}

gint64
natterd_bucket_peek (NatterdBucket *bucket, guint capacity, gint64 window_ms, gint64 now_ms)
{
  gint64 wait;

  if (capacity == 0)
    return 0;
  bucket_refill (bucket, capacity, window_ms, now_ms);
  if (bucket->tokens >= 1.0)
    return 0;
  wait = (gint64) ((1.0 - bucket->tokens) * window_ms / capacity) + 1;
  return MAX (wait, 1);
}

gint64
natterd_bucket_take (NatterdBucket *bucket, guint capacity, gint64 window_ms, gint64 now_ms)
{
  gint64 wait = natterd_bucket_peek (bucket, capacity, window_ms, now_ms);

  if (wait == 0 && capacity > 0)
    bucket->tokens -= 1.0;
  return wait;
}

/* --- users --- */

static void
user_free (NatterdUser *user)
{
  g_free (user->username);
  g_free (user->display_name);
  g_free (user->display_folded);
  g_free (user->password_hash);
  g_free (user->status_text);
  g_hash_table_unref (user->contacts);
  g_ptr_array_unref (user->rooms);
  g_hash_table_unref (user->directs);
  g_free (user);
}

NatterdUser *
natterd_directory_add_user (NatterdDirectory *self,
                            gint64            id,
                            const char       *username,
                            const char       *display_name,
                            const char       *password_hash)
{
  NatterdUser *user = g_new0 (NatterdUser, 1);

  user->id = id;
  user->username = g_strdup (username);
  user->display_name = g_strdup (display_name);
  user->display_folded = g_utf8_casefold (display_name, -1);
  user->password_hash = g_strdup (password_hash);
  user->presence = NATTER_PRESENCE_OFFLINE;
  user->contacts = g_hash_table_new (NULL, NULL);
  user->rooms = g_ptr_array_new ();
  user->directs = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (self->users_by_name, user->username, user);
  g_hash_table_insert (self->users_by_id, &user->id, user);
  return user;
}

NatterdUser *
natterd_directory_find_user (NatterdDirectory *self, const char *username)
{
  return username ? g_hash_table_lookup (self->users_by_name, username) : NULL;
}

NatterdUser *
natterd_directory_find_user_id (NatterdDirectory *self, gint64 id)
{
  return g_hash_table_lookup (self->users_by_id, &id);
}

NatterdRoom *
natterd_directory_find_room (NatterdDirectory *self, const char *room)
{
  return room ? g_hash_table_lookup (self->rooms, room) : NULL;
}

NatterdConversation *
natterd_directory_find_conversation (NatterdDirectory *self, gint64 id)
{
  return g_hash_table_lookup (self->conversations, &id);
}

NatterdDirectory *
natterd_request_get_directory (NatterdRequest *request)
{
  return natterd_server_get_directory (natterd_request_get_server (request));
}

const NatterdConfig *
natterd_directory_get_config (NatterdDirectory *self)
{
  return natterd_server_get_config (self->server);
}

/* --- rooms and conversations --- */

gboolean
natterd_room_has_member (NatterdRoom *room, NatterdUser *user)
{
  return g_hash_table_contains (room->member_index, user);
}

void
natterd_room_add_member (NatterdRoom *room, NatterdUser *user)
{
  if (natterd_room_has_member (room, user))
    return;
  g_ptr_array_add (room->members, user);
  g_hash_table_insert (room->member_index, user, GUINT_TO_POINTER (room->members->len));
  g_ptr_array_add (user->rooms, room);
}

void
natterd_room_remove_member (NatterdRoom *room, NatterdUser *user)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (room->member_index, user));
  guint last;

  if (index == 0)
    return;
  index--;
  /* Swap the last member into the hole, so removal stays O(1). */
  last = room->members->len - 1;
  if (index != last)
    {
      NatterdUser *moved = room->members->pdata[last];
      room->members->pdata[index] = moved;
      g_hash_table_insert (room->member_index, moved, GUINT_TO_POINTER (index + 1));
    }
  g_ptr_array_set_size (room->members, last);
  g_hash_table_remove (room->member_index, user);
  g_ptr_array_remove_fast (user->rooms, room);
}

static void
room_free (NatterdRoom *room)
{
  g_free (room->name);
  g_free (room->topic);
  g_ptr_array_unref (room->members);
  g_hash_table_unref (room->member_index);
  g_free (room);
}

static NatterdConversation *
add_conversation (NatterdDirectory        *self,
                  gint64                   id,
                  NatterdConversationKind  kind)
{
  NatterdConversation *conv = g_new0 (NatterdConversation, 1);

  conv->id = id;
  conv->kind = kind;
  g_hash_table_insert (self->conversations, &conv->id, conv);
  return conv;
}

NatterdRoom *
natterd_directory_add_room (NatterdDirectory *self,
                            gint64            conversation_id,
                            const char       *name,
                            const char       *topic,
                            NatterdUser      *owner)
{
  NatterdRoom *room = g_new0 (NatterdRoom, 1);

  room->name = g_strdup (name);
  room->topic = g_strdup (topic ? topic : "");
  room->owner = owner;
  room->members = g_ptr_array_new ();
  room->member_index = g_hash_table_new (NULL, NULL);
  room->conversation = add_conversation (self, conversation_id, NATTERD_CONVERSATION_ROOM);
  room->conversation->room = room;
  g_hash_table_insert (self->rooms, room->name, room);
  return room;
}

static NatterdConversation *
add_direct (NatterdDirectory *self,
            gint64            id,
            NatterdUser      *a,
            NatterdUser      *b)
{
  NatterdConversation *conv = add_conversation (self, id, NATTERD_CONVERSATION_DIRECT);

  conv->user_a = a;
  conv->user_b = b;
  g_hash_table_insert (a->directs, b, conv);
  g_hash_table_insert (b->directs, a, conv);
  return conv;
}

NatterdConversation *
natterd_directory_find_direct (NatterdDirectory *self,
                               NatterdUser      *a,
                               NatterdUser      *b)
{
  return g_hash_table_lookup (a->directs, b);
}

NatterdConversation *
natterd_directory_ensure_direct (NatterdDirectory *self,
                                 NatterdUser      *a,
                                 NatterdUser      *b,
                                 GError          **error)
{
  NatterdConversation *conv = natterd_directory_find_direct (self, a, b);
  NatterdUser *lo = a->id <= b->id ? a : b;
  NatterdUser *hi = a->id <= b->id ? b : a;
  gint64 id;

  if (conv != NULL)
    return conv;

  /* Its own transaction, committed before any send goes into it: the
   * in-memory conversation must never point at a row a failed batch rolled
   * back. */
  natterd_directory_commit_pending (self);
  if (!natterd_store_begin (self->store, error))
    return NULL;
  if (!natterd_store_direct_insert (self->store, lo->id, hi->id, &id, error) ||
      !natterd_store_participant_add (self->store, id, lo->id, error) ||
      (lo != hi && !natterd_store_participant_add (self->store, id, hi->id, error)) ||
      !natterd_store_commit (self->store, error))
    {
      natterd_store_rollback (self->store);
      return NULL;
    }
  return add_direct (self, id, lo, hi);
}

const char *
natterd_conversation_address (NatterdConversation *conv,
                              NatterdUser         *viewer)
{
  /* Callers build "@name" from this: see write_address(). */
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    return conv->room->name;
  return viewer == conv->user_a ? conv->user_b->username : conv->user_a->username;
}

void
natterd_conversation_write_address (NatterJsonWriter    *w,
               NatterdConversation *conv,
               NatterdUser         *viewer)
{
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    natter_json_writer_string (w, conv->room->name);
  else
    {
      char buf[NATTER_USERNAME_MAX + 2];
      g_snprintf (buf, sizeof buf, "@%s", natterd_conversation_address (conv, viewer));
      natter_json_writer_string (w, buf);
    }
}

gboolean
natterd_conversation_has_member (NatterdConversation *conv,
                                 NatterdUser         *user)
{
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    return natterd_room_has_member (conv->room, user);
  return user == conv->user_a || user == conv->user_b;
}

void
natterd_conversation_foreach_member (NatterdConversation *conv,
                                     NatterdUserFunc      func,
                                     gpointer             user_data)
{
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    {
      for (guint i = 0; i < conv->room->members->len; i++)
        func (conv->room->members->pdata[i], user_data);
      return;
    }
  func (conv->user_a, user_data);
  if (conv->user_b != conv->user_a)
    func (conv->user_b, user_data);
}

/* --- events --- */

GBytes *
natterd_frame_finish (GString *frame)
{
  g_string_append_c (frame, '\n');
  return g_string_free_to_bytes (frame);
}

void
natterd_user_send (NatterdUser       *user,
                   GBytes            *frame,
                   NatterdConnection *except)
{
  GList *l = user->connections;

  /* The next link is taken first: a send that overflows a queue may close
   * (and unlink) that connection. */
  while (l != NULL)
    {
      GList *next = l->next;
      if (l->data != except)
        natterd_connection_send_bytes (l->data, frame);
      l = next;
    }
}

/* --- presence --- */

gboolean
natterd_directory_share_room (NatterdUser *a, NatterdUser *b)
{
  NatterdUser *small = a->rooms->len <= b->rooms->len ? a : b;
  NatterdUser *other = small == a ? b : a;

  for (guint i = 0; i < small->rooms->len; i++)
    if (natterd_room_has_member (small->rooms->pdata[i], other))
      return TRUE;
  return FALSE;
}

gboolean
natterd_directory_can_see (NatterdUser *viewer,
                           NatterdUser *user)
{
  if (viewer == NULL || viewer == user)
    return TRUE;
  if (GPOINTER_TO_INT (g_hash_table_lookup (user->contacts, viewer)) == NATTERD_CONTACT_ACCEPTED)
    return TRUE;
  return natterd_directory_share_room (viewer, user);
}

static void
write_user_full (NatterJsonWriter *w,
                 NatterdUser      *user,
                 gboolean          visible)
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
  natter_json_writer_end_object (w);
}

void
natterd_directory_write_user (NatterJsonWriter *writer,
                              NatterdUser      *user,
                              NatterdUser      *viewer)
{
  write_user_full (writer, user, natterd_directory_can_see (viewer, user));
}

static NatterPresence
compute_presence (NatterdUser *user)
{
  NatterPresence best = NATTER_PRESENCE_OFFLINE;

  for (GList *l = user->connections; l != NULL; l = l->next)
    best = MAX (best, natterd_connection_get_presence (l->data));
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

void
natterd_directory_update_presence (NatterdDirectory  *self,
                                   NatterdUser       *user,
                                   gboolean           force_push,
                                   NatterdConnection *except)
{
  NatterPresence presence = compute_presence (user);
  g_autoptr(GBytes) frame = NULL;
  NatterJsonWriter w;
  GString *s;
  GHashTableIter iter;
  gpointer key, value;
  guint64 mark;

  if (presence == user->presence && !force_push)
    return;
  user->presence = presence;

  /* One encoding for every viewer: only those allowed to see it get it. */
  s = g_string_sized_new (256);
  natter_json_writer_init (&w, s);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "type");
  natter_json_writer_string (&w, "presence");
  natter_json_writer_key (&w, "user");
  write_user_full (&w, user, TRUE);
  natter_json_writer_end_object (&w);
  frame = natterd_frame_finish (s);

  mark = ++self->mark_generation;
  send_if_unmarked (user, mark, frame, except);
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

static void
write_dirty_last_seen (NatterdDirectory *self)
{
  for (guint i = 0; i < self->dirty_last_seen->len; i++)
    {
      NatterdUser *user = self->dirty_last_seen->pdata[i];
      g_autoptr(GError) error = NULL;

      user->last_seen_dirty = FALSE;
      if (!natterd_store_user_set_last_seen (self->store, user->id, user->last_seen, &error))
        g_warning ("Could not store last_seen of user %" G_GINT64_FORMAT ": %s",
                   user->id, error->message);
    }
  g_ptr_array_set_size (self->dirty_last_seen, 0);
}

static gboolean
last_seen_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;
  g_autoptr(GError) error = NULL;

  self->last_seen_source = 0;
  if (!natterd_directory_join_batch (self, &error))
    {
      g_warning ("Could not store last_seen values: %s", error->message);
      return G_SOURCE_REMOVE;
    }
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
natterd_directory_attach (NatterdDirectory  *self,
                          NatterdConnection *connection,
                          NatterdUser       *user,
                          const guint8      *token_hash)
{
  GList *link = natterd_connection_get_user_link (connection);

  natterd_connection_set_user (connection, user, token_hash);
  link->data = connection;
  link->prev = NULL;
  link->next = user->connections;
  if (user->connections != NULL)
    user->connections->prev = link;
  user->connections = link;
  if (user->n_connections++ == 0)
    self->n_online++;
  natterd_directory_update_presence (self, user, FALSE, connection);
}

static void
unlink_connection (NatterdDirectory  *self,
                   NatterdConnection *connection,
                   NatterdUser       *user)
{
  GList *link = natterd_connection_get_user_link (connection);

  user->connections = g_list_remove_link (user->connections, link);
  link->data = connection;
  g_assert (user->n_connections > 0);
  if (--user->n_connections == 0)
    {
      self->n_online--;
      user->last_seen = natterd_now_ms ();
      mark_last_seen_dirty (self, user);
    }
  /* At shutdown every connection closes: telling each of the others of
   * each close would cost O(n²) frames nobody will read. */
  if (!self->stopping)
    natterd_directory_update_presence (self, user, FALSE, connection);
}

void
natterd_directory_detach (NatterdDirectory  *self,
                          NatterdConnection *connection)
{
  NatterdUser *user = natterd_connection_get_user (connection);

  if (user == NULL)
    return;
  unlink_connection (self, connection, user);
  natterd_connection_set_user (connection, NULL, NULL);
}

void
natterd_directory_connection_closed (NatterdDirectory  *self,
                                     NatterdConnection *connection)
{
  NatterdUser *user = natterd_connection_get_user (connection);

  if (user != NULL)
    unlink_connection (self, connection, user);
}

guint
natterd_directory_count_online (NatterdDirectory *self)
{
  return self->n_online;
}

/* --- messages and the group commit --- */

void
natterd_directory_write_message (NatterdDirectory          *self,
                                 GString                   *out,
                                 const NatterdStoreMessage *m,
                                 NatterdUser               *viewer)
{
  NatterdConversation *conv = natterd_directory_find_conversation (self, m->conversation_id);
  NatterdUser *sender = natterd_directory_find_user_id (self, m->sender_id);
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "id");
  natter_json_writer_int (&w, m->id);
  natter_json_writer_key (&w, "conversation");
  if (conv != NULL)
    natterd_conversation_write_address (&w, conv, viewer);
  else
    natter_json_writer_null (&w);
  natter_json_writer_key (&w, "from");
  natter_json_writer_string_or_null (&w, sender ? sender->username : NULL);
  natter_json_writer_key (&w, "body");
  natter_json_writer_string_len (&w, m->body, m->body_len);
  natter_json_writer_key (&w, "ts");
  natter_json_writer_int (&w, m->ts);
  natter_json_writer_key (&w, "client_msg_id");
  natter_json_writer_string (&w, m->client_msg_id);
  natter_json_writer_end_object (&w);
}

typedef struct {
  NatterdRequest      *request;     /* finished after the commit */
  NatterdConnection   *connection;  /* owned; not delivered to */
  NatterdUser         *sender;
  NatterdConversation *conversation;/* of the stored message */
  gboolean             duplicate;
  GString             *as_sender;   /* the message object as the sender sees it */
  GString             *as_peer;     /* direct only: as the other side sees it */
} PendingSend;

static void
pending_send_free (PendingSend *p)
{
  if (p == NULL)
    return;
  g_clear_pointer (&p->connection, natterd_connection_unref);
  if (p->as_sender)
    g_string_free (p->as_sender, TRUE);
  if (p->as_peer)
    g_string_free (p->as_peer, TRUE);
  g_free (p);
}

static GBytes *
message_event (GString *object)
{
  GString *s = g_string_sized_new (object->len + 32);

  g_string_append_len (s, "{\"type\":\"message\",\"message\":", 28);
  g_string_append_len (s, object->str, object->len);
  g_string_append_c (s, '}');
  return natterd_frame_finish (s);
}

/* Returns how many frames it queued. */
static guint
deliver (PendingSend *p)
{
  NatterdConversation *conv = p->conversation;
  g_autoptr(GBytes) to_sender = message_event (p->as_sender);
  guint n = 0;

  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    {
      GPtrArray *members = conv->room->members;

      /* The hot loop of fan-out: one shared GBytes, one queue push per
       * connection. The sender gets it on its other connections. */
      for (guint i = 0; i < members->len; i++)
        {
          NatterdUser *member = members->pdata[i];
          GList *l = member->connections;

          while (l != NULL)
            {
              GList *next = l->next;
              if (l->data != p->connection)
                natterd_connection_send_bytes (l->data, to_sender);
              l = next;
            }
          n += member->n_connections;
        }
      return n;
    }

  natterd_user_send (p->sender, to_sender, p->connection);
  n += p->sender->n_connections;
  if (conv->user_a != conv->user_b)
    {
      NatterdUser *peer = conv->user_a == p->sender ? conv->user_b : conv->user_a;
      g_autoptr(GBytes) to_peer = message_event (p->as_peer);
      natterd_user_send (peer, to_peer, NULL);
      n += peer->n_connections;
    }
  return n;
}

static void
ack (PendingSend *p)
{
  if (natterd_request_has_id (p->request))
    {
      NatterJsonWriter *w = natterd_request_begin_ok (p->request);
      natter_json_writer_key (w, "message");
      natter_json_writer_raw (w, p->as_sender->str, p->as_sender->len);
      natterd_request_finish_ok (p->request);
    }
  else
    natterd_request_ok (p->request);
}

/* Fans out committed messages in order and acks each after its fan-out, at
 * most @budget frames (0: all). Acking after the fan-out, not at the
 * commit, keeps the senders' windows as the brake: a sender cannot run
 * ahead of the deliveries. */
static void
deliver_some (NatterdDirectory *self,
              guint             budget)
{
  guint done = 0;
  PendingSend *p;

  while ((budget == 0 || done < budget) &&
         (p = g_queue_pop_head (&self->deliveries)) != NULL)
    {
      if (!p->duplicate)
        done += deliver (p);
      ack (p);
      pending_send_free (p);
    }
}

static gboolean
delivery_idle_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;

  deliver_some (self, NATTERD_DELIVERY_BUDGET);
  if (g_queue_is_empty (&self->deliveries))
    {
      self->delivery_source = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
schedule_deliveries (NatterdDirectory *self)
{
  GSource *source;

  if (self->delivery_source != 0 || g_queue_is_empty (&self->deliveries))
    return;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, delivery_idle_cb, self, NULL);
  g_source_set_static_name (source, "natterd-deliveries");
  self->delivery_source = g_source_attach (source, NULL);
  g_source_unref (source);
}

static void
answer_pending (NatterdDirectory *self,
                const GError     *error)
{
  g_autoptr(GPtrArray) pending = g_steal_pointer (&self->pending);

  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_send_free);
  for (guint i = 0; i < pending->len; i++)
    {
      PendingSend *p = pending->pdata[i];

      if (error != NULL)
        {
          natterd_request_error (p->request, NATTER_ERROR_INTERNAL, "The message could not be stored");
          continue;
        }
      /* Durable now: fanned out (and acked) in order, in slices;
       * deliveries of earlier batches go first. */
      g_queue_push_tail (&self->deliveries, p);
      pending->pdata[i] = NULL;
    }
  if (error == NULL)
    {
      deliver_some (self, NATTERD_DELIVERY_BUDGET);
      schedule_deliveries (self);
    }
}

void
natterd_directory_commit_pending (NatterdDirectory *self)
{
  g_autoptr(GError) error = NULL;

  if (self->commit_source != 0)
    {
      g_source_remove (self->commit_source);
      self->commit_source = 0;
    }
  if (!natterd_store_in_transaction (self->store))
    {
      /* Sends are only queued inside a transaction, and only this function
       * ends it: if it is gone, SQLite rolled it back on an error (disk
       * full, I/O error). Those messages are lost and must not be acked. */
      if (self->pending->len > 0)
        {
          g_autoptr(GError) lost = g_error_new_literal (NATTER_ERROR, NATTER_ERROR_INTERNAL,
                                                        "transaction rolled back");
          g_warning ("A batch of %u messages was rolled back by the store", self->pending->len);
          answer_pending (self, lost);
        }
      return;
    }
  /* Free ride for the waiting last_seen values. */
  write_dirty_last_seen (self);
  if (!natterd_store_commit (self->store, &error))
    {
      g_warning ("Group commit of %u messages failed: %s", self->pending->len, error->message);
      natterd_store_rollback (self->store);
      answer_pending (self, error);
      return;
    }
  answer_pending (self, NULL);
}

static gboolean
commit_idle_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;

  self->commit_source = 0;
  natterd_directory_commit_pending (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_commit (NatterdDirectory *self)
{
  GSource *source;

  if (self->commit_source != 0)
    return;
  /* Default priority, not default-idle: under steady input the sockets
   * are ready every iteration and a lower priority would starve. Being
   * attached after the socket sources, it runs after every socket that was
   * readable in this iteration, so their writes share the commit. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, commit_idle_cb, self, NULL);
  g_source_set_static_name (source, "natterd-group-commit");
  self->commit_source = g_source_attach (source, NULL);
  g_source_unref (source);
}

gboolean
natterd_directory_join_batch (NatterdDirectory  *self,
                              GError           **error)
{
  if (!natterd_store_in_transaction (self->store) &&
      !natterd_store_begin (self->store, error))
    return FALSE;
  schedule_commit (self);
  return TRUE;
}

typedef struct {
  NatterdDirectory *self;
  PendingSend      *pending;
} InsertData;

static gboolean
inserted_cb (const NatterdStoreMessage *m,
             gpointer                   user_data)
{
  InsertData *data = user_data;
  PendingSend *p = data->pending;
  NatterdConversation *conv = natterd_directory_find_conversation (data->self, m->conversation_id);

  p->conversation = conv;
  p->as_sender = g_string_sized_new (m->body_len + 160);
  natterd_directory_write_message (data->self, p->as_sender, m, p->sender);
  if (conv != NULL && conv->kind == NATTERD_CONVERSATION_DIRECT && conv->user_a != conv->user_b)
    {
      NatterdUser *peer = conv->user_a == p->sender ? conv->user_b : conv->user_a;
      p->as_peer = g_string_sized_new (m->body_len + 160);
      natterd_directory_write_message (data->self, p->as_peer, m, peer);
    }
  return TRUE;
}

void
natterd_directory_queue_send (NatterdDirectory    *self,
                              NatterdRequest      *request,
                              NatterdUser         *sender,
                              NatterdConversation *conversation,
                              const char          *body,
                              gsize                body_len,
                              const char          *client_msg_id)
{
  g_autoptr(GError) error = NULL;
  PendingSend *p = g_new0 (PendingSend, 1);
  InsertData data = { self, p };

  p->request = request;
  p->connection = natterd_connection_ref (natterd_request_get_connection (request));
  p->sender = sender;

  if (!natterd_store_in_transaction (self->store) &&
      !natterd_store_begin (self->store, &error))
    goto fail;
  if (!natterd_store_message_insert (self->store, conversation->id, sender->id, body, body_len,
                                     natterd_now_ms (), client_msg_id, &p->duplicate,
                                     inserted_cb, &data, &error))
    goto fail;
  if (p->as_sender == NULL || p->conversation == NULL)
    {
      g_set_error_literal (&error, NATTER_ERROR, NATTER_ERROR_INTERNAL, "stored message not found");
      goto fail;
    }

  g_ptr_array_add (self->pending, p);
  if (self->pending->len >= NATTERD_COMMIT_BATCH)
    natterd_directory_commit_pending (self);
  else
    schedule_commit (self);
  return;

fail:
  g_warning ("Could not store a message: %s", error->message);
  pending_send_free (p);
  natterd_request_error (request, NATTER_ERROR_INTERNAL, "The message could not be stored");
}

/* --- housekeeping --- */

static gboolean
expire_tokens_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;
  g_autoptr(GError) error = NULL;

  /* Expired tokens are refused anyway; this only keeps the table small. */
  natterd_directory_commit_pending (self);
  if (!natterd_store_tokens_expire (self->store, natterd_now_ms (), &error))
    g_warning ("Could not remove expired tokens: %s", error->message);
  return G_SOURCE_CONTINUE;
}

/* --- loading --- */

static void
load_user_cb (gint64 id, const char *username, const char *display_name, const char *hash,
              const char *status_text, gint64 last_seen, gpointer user_data)
{
  NatterdUser *user = natterd_directory_add_user (user_data, id, username, display_name, hash);

  user->status_text = status_text && *status_text ? g_strdup (status_text) : NULL;
  user->last_seen = last_seen;
}

static void
load_contact_cb (gint64 a, gint64 b, int state, gpointer user_data)
{
  NatterdUser *ua = natterd_directory_find_user_id (user_data, a);
  NatterdUser *ub = natterd_directory_find_user_id (user_data, b);

  if (ua == NULL || ub == NULL || ua == ub)
    return;
  if (state == NATTERD_STORE_CONTACT_ACCEPTED)
    {
      g_hash_table_insert (ua->contacts, ub, GINT_TO_POINTER (NATTERD_CONTACT_ACCEPTED));
      g_hash_table_insert (ub->contacts, ua, GINT_TO_POINTER (NATTERD_CONTACT_ACCEPTED));
    }
  else
    {
      g_hash_table_insert (ua->contacts, ub, GINT_TO_POINTER (NATTERD_CONTACT_OUTGOING));
      g_hash_table_insert (ub->contacts, ua, GINT_TO_POINTER (NATTERD_CONTACT_INCOMING));
    }
}

static void
load_conversation_cb (gint64 id, int kind, gint64 a, gint64 b, const char *room,
                      const char *topic, gint64 owner_id, gpointer user_data)
{
  NatterdDirectory *self = user_data;

  if (kind == NATTERD_CONVERSATION_ROOM && room != NULL)
    natterd_directory_add_room (self, id, room, topic,
                                natterd_directory_find_user_id (self, owner_id));
  else if (kind == NATTERD_CONVERSATION_DIRECT)
    {
      NatterdUser *ua = natterd_directory_find_user_id (self, a);
      NatterdUser *ub = natterd_directory_find_user_id (self, b);
      if (ua != NULL && ub != NULL)
        add_direct (self, id, ua, ub);
    }
}

static void
load_participant_cb (gint64 conversation_id, gint64 user_id, gpointer user_data)
{
  NatterdDirectory *self = user_data;
  NatterdConversation *conv = natterd_directory_find_conversation (self, conversation_id);
  NatterdUser *user = natterd_directory_find_user_id (self, user_id);

  if (conv != NULL && user != NULL && conv->kind == NATTERD_CONVERSATION_ROOM)
    natterd_room_add_member (conv->room, user);
}

NatterdDirectory *
natterd_directory_new (NatterdServer  *server,
                       NatterdStore   *store,
                       GError        **error)
{
  NatterdDirectory *self = g_new0 (NatterdDirectory, 1);

  self->server = server;
  self->store = store;
  self->users_by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify) user_free);
  self->users_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) room_free);
  self->conversations = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_send_free);
  self->dirty_last_seen = g_ptr_array_new ();

  if (!natterd_store_tokens_expire (store, natterd_now_ms (), error) ||
      !natterd_store_users_foreach (store, load_user_cb, self, error) ||
      !natterd_store_contacts_foreach (store, load_contact_cb, self, error) ||
      !natterd_store_conversations_foreach (store, load_conversation_cb, self, error) ||
      !natterd_store_participants_foreach (store, load_participant_cb, self, error))
    {
      natterd_directory_free (self);
      return NULL;
    }

  self->auth = natterd_auth_new (self, error);
  if (self->auth == NULL)
    {
      natterd_directory_free (self);
      return NULL;
    }

  self->expire_source = g_timeout_add_seconds (3600, expire_tokens_cb, self);

  g_debug ("loaded %u users, %u rooms, %u conversations",
           g_hash_table_size (self->users_by_name), g_hash_table_size (self->rooms),
           g_hash_table_size (self->conversations));
  return self;
}

void
natterd_directory_flush (NatterdDirectory *self)
{
  /* Called when the server stops, before it closes the connections. */
  self->stopping = TRUE;
  /* At shutdown the waiting last_seen values go in too (the timer goes
   * first: last_seen_cb forgets its id without removing it). */
  g_clear_handle_id (&self->last_seen_source, g_source_remove);
  if (self->dirty_last_seen->len > 0)
    last_seen_cb (self);
  natterd_directory_commit_pending (self);
  deliver_some (self, 0);
  g_clear_handle_id (&self->delivery_source, g_source_remove);
}

void
natterd_directory_free (NatterdDirectory *self)
{
  if (self == NULL)
    return;
  /* The auth workers may still finish requests (and so commit). */
  g_clear_pointer (&self->auth, natterd_auth_free);
  natterd_directory_flush (self);
  g_clear_handle_id (&self->expire_source, g_source_remove);
  g_ptr_array_unref (self->pending);
  g_ptr_array_unref (self->dirty_last_seen);
  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->conversations);
  g_hash_table_unref (self->users_by_id);
  g_hash_table_unref (self->users_by_name);
  g_free (self);
}
