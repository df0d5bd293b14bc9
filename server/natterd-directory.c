/* natterd-directory.c: users, rooms, contacts and presence in memory, and
 * the group commit of sends.
 *
 * Everything here lives on the main thread but the writer's jobs
 * (natterd-writer.h), which get copies of what they need. The store is written through
 * (it is the truth after a restart), but routing and permission checks only
 * look at these tables.
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

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

NatterdUser *
natterd_conversation_peer (NatterdConversation *conv,
                           NatterdUser         *user)
{
  return user == conv->user_a ? conv->user_b : conv->user_a;
}

const char *
natterd_conversation_address (NatterdConversation *conv,
                              NatterdUser         *viewer)
{
  /* Callers build "@name" from this: see write_address(). */
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    return conv->room->name;
  return natterd_conversation_peer (conv, viewer)->username;
}

/* "#room", or "@peer" as @viewer sees the conversation: the room's own
 * name, or "@peer" written into @buf. */
static const char *
conversation_address_into (NatterdConversation *conv,
                           NatterdUser         *viewer,
                           char                 buf[NATTER_USERNAME_MAX + 2])
{
  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    return conv->room->name;
  g_snprintf (buf, NATTER_USERNAME_MAX + 2, "@%s", natterd_conversation_address (conv, viewer));
  return buf;
}

void
natterd_conversation_write_address (NatterJsonWriter    *w,
                                    NatterdConversation *conv,
                                    NatterdUser         *viewer)
{
  char buf[NATTER_USERNAME_MAX + 2];

  natter_json_writer_string (w, conversation_address_into (conv, viewer, buf));
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

/* --- writes nobody waits for --- */

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
  natterd_writer_push (self->writer, &j->job);
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

/* The message object with the names already resolved: what the writer
 * thread can encode without touching the directory. @address is the JSON
 * value of "conversation" ("#room" or "@peer"), NULL for null. */
static void
write_message_object (GString                   *out,
                      const NatterdStoreMessage *m,
                      const char                *address,
                      const char                *from)
{
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "id");
  natter_json_writer_int (&w, m->id);
  natter_json_writer_key (&w, "conversation");
  natter_json_writer_string_or_null (&w, address);
  natter_json_writer_key (&w, "from");
  natter_json_writer_string_or_null (&w, from);
  natter_json_writer_key (&w, "body");
  natter_json_writer_string_len (&w, m->body, m->body_len);
  natter_json_writer_key (&w, "ts");
  natter_json_writer_int (&w, m->ts);
  natter_json_writer_key (&w, "client_msg_id");
  natter_json_writer_string (&w, m->client_msg_id);
  natter_json_writer_end_object (&w);
}


void
natterd_directory_write_message (NatterdDirectory          *self,
                                 GString                   *out,
                                 const NatterdStoreMessage *m,
                                 NatterdUser               *viewer)
{
  NatterdConversation *conv = natterd_directory_find_conversation (self, m->conversation_id);
  NatterdUser *sender = natterd_directory_find_user_id (self, m->sender_id);
  char buf[NATTER_USERNAME_MAX + 2];

  /* Once per message of every history and sync page: no allocation. */
  write_message_object (out, m, conv ? conversation_address_into (conv, viewer, buf) : NULL,
                        sender ? sender->username : NULL);
}

static void note_committed (NatterdDirectory *self, gint64 id);

/* A send on its way through the writer thread. The inputs are copies, so
 * that the thread never reads the directory; it fills in the outputs. */
typedef struct {
  NatterdRequestWrite  write;       /* its connection is not delivered to */
  NatterdUser         *sender;
  NatterdConversation *conversation;/* of the stored message */

  gint64               conversation_id;
  gint64               sender_id;
  gint64               ts;
  char                *body;
  gsize                body_len;
  char                *client_msg_id;
  char                *from;        /* the sender's username */
  char                *address_for_sender;
  char                *address_for_peer; /* direct with someone else only */

  gboolean             duplicate;
  gboolean             stored_elsewhere; /* a duplicate from another conversation */
  gint64               stored_id;
  GString             *as_sender;   /* the message object as the sender sees it */
  GBytes              *event_for_sender; /* the "message" event frames */
  GBytes              *event_for_peer;
} PendingSend;

static void
pending_send_free (PendingSend *p)
{
  if (p == NULL)
    return;
  natterd_request_write_clear (&p->write);
  if (p->as_sender)
    g_string_free (p->as_sender, TRUE);
  g_clear_pointer (&p->event_for_sender, g_bytes_unref);
  g_clear_pointer (&p->event_for_peer, g_bytes_unref);
  g_free (p->body);
  g_free (p->client_msg_id);
  g_free (p->from);
  g_free (p->address_for_sender);
  g_free (p->address_for_peer);
  g_free (p);
}

/* Encoded once per message (and viewer), shared by every recipient. */
static GBytes *
message_event (const GString *object)
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
  guint n = 0;

  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    {
      GPtrArray *members = conv->room->members;
      GBytes *frame = p->event_for_sender;

      /* The hot loop of fan-out: one shared GBytes, one queue push per
       * connection. The sender gets it on its other connections. */
      for (guint i = 0; i < members->len; i++)
        {
          NatterdUser *member = members->pdata[i];
          GList *l = member->connections;

          while (l != NULL)
            {
              GList *next = l->next;
              if (l->data != p->write.connection)
                natterd_connection_send_bytes (l->data, frame);
              l = next;
            }
          n += member->n_connections;
        }
      return n;
    }

  natterd_user_send (p->sender, p->event_for_sender, p->write.connection);
  n += p->sender->n_connections;
  if (p->event_for_peer != NULL)
    {
      NatterdUser *peer = natterd_conversation_peer (conv, p->sender);
      natterd_user_send (peer, p->event_for_peer, NULL);
      n += peer->n_connections;
    }
  return n;
}

static void
ack (PendingSend *p)
{
  if (natterd_request_has_id (p->write.request))
    {
      NatterJsonWriter *w = natterd_request_begin_ok (p->write.request);
      natter_json_writer_key (w, "message");
      natter_json_writer_raw (w, p->as_sender->str, p->as_sender->len);
      natterd_request_finish_ok (p->write.request);
    }
  else
    natterd_request_ok (p->write.request);
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
  /* Default priority, as the sockets have; attached now, it runs in this
   * same main-loop iteration after the writer's completions. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, delivery_idle_cb, self, NULL);
  g_source_set_static_name (source, "natterd-deliveries");
  self->delivery_source = g_source_attach (source, NULL);
  g_source_unref (source);
}

/* Writer thread: called by the store with the stored message. */
static gboolean
send_inserted_cb (const NatterdStoreMessage *m,
                  gpointer                   user_data)
{
  PendingSend *p = user_data;

  if (m->conversation_id != p->conversation_id)
    {
      /* A resend of a client_msg_id first used in another conversation:
       * the original is the answer; its names are looked up on the main
       * loop. Only the id is kept here. */
      p->stored_elsewhere = TRUE;
      return TRUE;
    }
  p->ts = m->ts;
  p->stored_id = m->id;
  p->as_sender = g_string_sized_new (m->body_len + 160);
  write_message_object (p->as_sender, m, p->address_for_sender, p->from);
  if (p->duplicate)
    return TRUE; /* answered, not delivered again */
  p->event_for_sender = message_event (p->as_sender);
  if (p->address_for_peer != NULL)
    {
      g_autoptr(GString) as_peer = g_string_sized_new (m->body_len + 160);
      write_message_object (as_peer, m, p->address_for_peer, p->from);
      p->event_for_peer = message_event (as_peer);
    }
  return TRUE;
}

static gboolean
send_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  PendingSend *p = (PendingSend *) job;

  if (!natterd_store_message_insert (store, p->conversation_id, p->sender_id, p->body, p->body_len,
                                     p->ts, p->client_msg_id, &p->duplicate,
                                     send_inserted_cb, p, error))
    return FALSE;
  if (p->as_sender == NULL && !p->stored_elsewhere)
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INTERNAL, "stored message not found");
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  NatterdDirectory *directory;
  NatterdUser      *viewer;
  GString          *object;  /* set when found */
} FoundOriginal;

static gboolean
original_found_cb (const NatterdStoreMessage *m,
                   gpointer                   user_data)
{
  FoundOriginal *found = user_data;

  found->object = g_string_sized_new (m->body_len + 160);
  natterd_directory_write_message (found->directory, found->object, m, found->viewer);
  return FALSE;
}

/* The stored message (@sender, @client_msg_id) as @sender sees it, read on
 * the main loop's connection (committed rows only); NULL when there is
 * none or on a store error (logged). */
static GString *
find_original (NatterdDirectory *self,
               NatterdUser      *sender,
               const char       *client_msg_id)
{
  g_autoptr(GError) error = NULL;
  FoundOriginal found = { self, sender, NULL };

  if (!natterd_store_message_by_client_id (self->store, sender->id, client_msg_id,
                                           original_found_cb, &found, &error))
    g_warning ("Could not look up a resent message: %s", error->message);
  return found.object;
}

gboolean
natterd_directory_answer_resend (NatterdDirectory *self,
                                 NatterdRequest   *request,
                                 NatterdUser      *sender,
                                 const char       *client_msg_id)
{
  g_autoptr(GString) original = find_original (self, sender, client_msg_id);
  NatterJsonWriter *w;

  if (original == NULL)
    return FALSE;
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "message");
  natter_json_writer_raw (w, original->str, original->len);
  natterd_request_finish_ok (request);
  return TRUE;
}

/* Main loop, after the commit. */
static void
send_done (NatterdWriteJob *job,
           const GError    *error)
{
  PendingSend *p = (PendingSend *) job;
  NatterdDirectory *self = p->write.directory;
  g_autoptr(GError) local_error = NULL;

  natterd_request_write_done (&p->write);

  if (error == NULL && p->stored_elsewhere)
    {
      /* Committed by now, so the main connection sees it. */
      p->as_sender = find_original (self, p->sender, p->client_msg_id);
      if (p->as_sender == NULL)
        {
          local_error = g_error_new_literal (NATTER_ERROR, NATTER_ERROR_INTERNAL,
                                             "stored message not found");
          error = local_error;
        }
    }
  if (error != NULL)
    {
      g_warning ("Could not store a message: %s", error->message);
      natterd_request_error (p->write.request, NATTER_ERROR_INTERNAL, "The message could not be stored");
      pending_send_free (p);
      return;
    }
  if (!p->duplicate)
    note_committed (self, p->stored_id);
  /* Durable now: fanned out (and acked) in order, in slices; deliveries of
   * earlier batches go first. */
  g_queue_push_tail (&self->deliveries, p);
  schedule_deliveries (self);
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
  PendingSend *p = g_new0 (PendingSend, 1);
  char buf[NATTER_USERNAME_MAX + 2];

  natterd_request_write_init (&p->write, self, request, send_run, send_done);
  p->sender = sender;
  p->conversation = conversation;
  p->conversation_id = conversation->id;
  p->sender_id = sender->id;
  p->ts = natterd_now_ms ();
  p->body = g_strndup (body, body_len);
  p->body_len = body_len;
  p->client_msg_id = g_strdup (client_msg_id);
  p->from = g_strdup (sender->username);
  p->address_for_sender = g_strdup (conversation_address_into (conversation, sender, buf));
  if (conversation->kind == NATTERD_CONVERSATION_DIRECT && conversation->user_a != conversation->user_b)
    {
      NatterdUser *peer = natterd_conversation_peer (conversation, sender);
      p->address_for_peer = g_strdup (conversation_address_into (conversation, peer, buf));
    }
  natterd_request_write_queue (&p->write);
}

static gboolean
resume_writer_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;

  self->writer_pause_source = 0;
  natterd_writer_resume (self->writer);
  return G_SOURCE_REMOVE;
}

/* The main store's write hook (natterd_store_set_write_hook): before any
 * write on the main loop's connection, wait for the writer thread's batch
 * in progress and hold the writer until this dispatch ends, so that the
 * two connections never contend for SQLite's write lock (its busy handler
 * polls, and can lose to a thread that commits back to back). */
static void
hold_writer (gpointer data)
{
  NatterdDirectory *self = data;

  if (self->writer_pause_source != 0)
    return;
  /* Held for the rest of this dispatch: the caller writes right after. */
  natterd_writer_pause (self->writer);
  self->writer_pause_source = g_idle_add_full (G_PRIORITY_HIGH, resume_writer_cb, self, NULL);
}

static void
resume_writer_now (NatterdDirectory *self)
{
  if (self->writer_pause_source != 0)
    {
      g_clear_handle_id (&self->writer_pause_source, g_source_remove);
      natterd_writer_resume (self->writer);
    }
}

/* A connection's write jobs finish in the order they were queued (one
 * writer, one queue), so counting is enough: a read that arrived after the
 * connection's n-th write waits until n have finished, and never for the
 * writes that came after it (a client that keeps sending would starve it). */
typedef struct {
  gint64  started;   /* write jobs of the connection queued so far */
  gint64  finished;  /* ... and done */
  GQueue  deferred;  /* Deferred, in arrival order */
} InFlight;

/* A request handled again once a count reaches @after: its connection's
 * finished writes (defer_read), or the search index's last id
 * (defer_search). */
typedef struct {
  NatterdRequest      *request;
  NatterdDeferredFunc  handler;
  gint64               after;
} Deferred;

static void
defer (GQueue              *queue,
       NatterdRequest      *request,
       NatterdDeferredFunc  handler,
       gint64               after)
{
  Deferred *d = g_new (Deferred, 1);

  d->request = request;
  d->handler = handler;
  d->after = after;
  g_queue_push_tail (queue, d);
}

/* Handles again, in order, the requests at the head of @queue whose count
 * has come. The handlers ask defer_read (and, with @searched,
 * defer_search) again: resuming tells them these have waited their turn.
 * They may queue writes, so @queue's owner must stay valid. */
static void
resume_ready (NatterdDirectory *self,
              GQueue           *queue,
              gint64            reached,
              gboolean          searched)
{
  Deferred *d;

  while ((d = g_queue_peek_head (queue)) != NULL && d->after <= reached)
    {
      g_queue_pop_head (queue);
      self->resuming = d->request;
      self->resuming_search = searched ? d->request : NULL;
      d->handler (d->request);
      self->resuming = self->resuming_search = NULL;
      g_free (d);
    }
}

static void
in_flight_free (InFlight *f)
{
  g_queue_clear_full (&f->deferred, g_free);
  g_free (f);
}

static void
write_started (NatterdDirectory  *self,
               NatterdConnection *connection)
{
  InFlight *f = g_hash_table_lookup (self->writes_in_flight, connection);

  if (f == NULL)
    {
      f = g_new0 (InFlight, 1);
      g_hash_table_insert (self->writes_in_flight, connection, f);
    }
  f->started++;
}

static void
write_finished (NatterdDirectory  *self,
                NatterdConnection *connection)
{
  InFlight *f = g_hash_table_lookup (self->writes_in_flight, connection);

  g_return_if_fail (f != NULL && f->finished < f->started);
  f->finished++;
  /* f stays in the table until below, whatever the handlers queue. */
  resume_ready (self, &f->deferred, f->finished, FALSE);
  if (f->finished == f->started && g_queue_is_empty (&f->deferred))
    g_hash_table_remove (self->writes_in_flight, connection);
}

void
natterd_request_write_init (NatterdRequestWrite  *self,
                            NatterdDirectory     *directory,
                            NatterdRequest       *request,
                            NatterdWriteRunFunc   run,
                            NatterdWriteDoneFunc  done)
{
  self->job.run = run;
  self->job.done = done;
  self->directory = directory;
  self->request = request;
  self->connection = natterd_connection_ref (natterd_request_get_connection (request));
}

void
natterd_request_write_queue (NatterdRequestWrite *self)
{
  self->in_flight = TRUE;
  write_started (self->directory, self->connection);
  natterd_writer_push (self->directory->writer, &self->job);
}

void
natterd_request_write_done (NatterdRequestWrite *self)
{
  if (!self->in_flight)
    return;
  self->in_flight = FALSE;
  write_finished (self->directory, self->connection);
}

void
natterd_request_write_clear (NatterdRequestWrite *self)
{
  natterd_request_write_done (self);
  g_clear_pointer (&self->connection, natterd_connection_unref);
}

gboolean
natterd_directory_defer_read (NatterdDirectory    *self,
                              NatterdRequest      *request,
                              NatterdDeferredFunc  handler)
{
  InFlight *f = g_hash_table_lookup (self->writes_in_flight,
                                     natterd_request_get_connection (request));

  if (f == NULL || f->finished == f->started || request == self->resuming)
    return FALSE;
  defer (&f->deferred, request, handler, f->started);
  return TRUE;
}

/* --- the search index, behind the messages --- */

typedef struct {
  NatterdWriteJob   job;
  NatterdDirectory *directory;
  gint64            indexed_up_to;
} IndexJob;

static void queue_index (NatterdDirectory *self);
static gboolean index_timeout_cb (gpointer user_data);

static gboolean
index_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  IndexJob *j = (IndexJob *) job;
  static __thread gboolean lowered;

  /* The index can wait; messages cannot. On Linux the nice value is each
   * thread's own, so this lowers the indexer's priority only: its bulk
   * inserts and FTS5 merges (tens of ms at a million messages) then give
   * way to the main loop and the writer on a busy machine. */
  if (!lowered)
    {
      lowered = TRUE;
      if (setpriority (PRIO_PROCESS, 0, NATTERD_INDEX_NICE) != 0)
        g_debug ("Could not lower the indexer's priority: %s", g_strerror (errno));
    }
  return natterd_store_search_index_catch_up (store, NATTERD_INDEX_SLICE, &j->indexed_up_to, error);
}

/* Queues an index job now when enough waits (or a search waits), else
 * in a while. */
static void
schedule_index (NatterdDirectory *self)
{
  if (self->index_queued || self->last_committed_id <= self->indexed_up_to)
    return;
  if (!g_queue_is_empty (&self->waiting_searches) ||
      self->last_committed_id - self->indexed_up_to >= NATTERD_INDEX_BATCH)
    queue_index (self);
  else if (self->index_source == 0 && !self->stopping)
    self->index_source = g_timeout_add (NATTERD_INDEX_DELAY_MS, index_timeout_cb, self);
}

static void
index_done (NatterdWriteJob *job,
            const GError    *error)
{
  IndexJob *j = (IndexJob *) job;
  NatterdDirectory *self = j->directory;

  self->index_queued = FALSE;
  if (error != NULL)
    g_warning ("Could not update the search index: %s", error->message);
  else
    self->indexed_up_to = MAX (self->indexed_up_to, j->indexed_up_to);
  g_free (j);
  if (self->index_rebuilding && self->indexed_up_to >= self->last_committed_id)
    {
      self->index_rebuilding = FALSE;
      g_message ("The search index is complete");
    }

  /* On an error the searches run anyway, on what the index has: an
   * answer that misses the newest messages beats none. */
  resume_ready (self, &self->waiting_searches,
                error != NULL ? G_MAXINT64 : self->indexed_up_to, TRUE);
  /* At shutdown what is left waits for the next start's catch-up. */
  if (error == NULL && !self->stopping)
    schedule_index (self);
}

static gboolean
index_timeout_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;

  self->index_source = 0;
  queue_index (self);
  return G_SOURCE_REMOVE;
}

static void
queue_index (NatterdDirectory *self)
{
  IndexJob *j;

  g_clear_handle_id (&self->index_source, g_source_remove);
  if (self->index_queued || self->indexer == NULL)
    return;
  j = g_new0 (IndexJob, 1);
  j->job.run = index_run;
  j->job.done = index_done;
  j->directory = self;
  self->index_queued = TRUE;
  natterd_writer_push (self->indexer, &j->job);
}

/* A message up to @id is committed: index soon, in bulk. */
static void
note_committed (NatterdDirectory *self,
                gint64            id)
{
  self->last_committed_id = MAX (self->last_committed_id, id);
  schedule_index (self);
}

gboolean
natterd_directory_defer_search (NatterdDirectory    *self,
                                NatterdRequest      *request,
                                NatterdDeferredFunc  handler)
{
  if (request == self->resuming_search || self->indexed_up_to >= self->last_committed_id)
    return FALSE;
  defer (&self->waiting_searches, request, handler, self->last_committed_id);
  queue_index (self);
  return TRUE;
}

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
natterd_directory_store_status_text (NatterdDirectory *self,
                                     NatterdUser      *user,
                                     const char       *text)
{
  StatusJob *j = g_new0 (StatusJob, 1);

  j->job.run = status_run;
  j->job.done = status_done;
  j->user_id = user->id;
  j->text = g_strdup (text);
  natterd_writer_push (self->writer, &j->job);
}

/* --- housekeeping --- */

static gboolean
expire_tokens_cb (gpointer user_data)
{
  NatterdDirectory *self = user_data;
  g_autoptr(GError) error = NULL;

  /* Expired tokens are refused anyway; this only keeps the table small. */
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
  NatterdStore *writer_store, *indexer_store;

  self->server = server;
  self->store = store;
  self->users_by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify) user_free);
  self->users_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) room_free);
  self->conversations = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  self->dirty_last_seen = g_ptr_array_new ();
  self->writes_in_flight = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) in_flight_free);

  /* Messages the index lacks (a crash, an upgrade, a deleted search.db)
   * go in from the indexer once it runs; searches wait for them. */
  if (!natterd_store_search_index_state (store, &self->indexed_up_to, &self->last_committed_id, error))
    {
      g_prefix_error (error, "%s: ", natterd_store_get_path (store));
      natterd_directory_free (self);
      return NULL;
    }

  if (!natterd_store_tokens_expire (store, natterd_now_ms (), error) ||
      !natterd_store_users_foreach (store, load_user_cb, self, error) ||
      !natterd_store_contacts_foreach (store, load_contact_cb, self, error) ||
      !natterd_store_conversations_foreach (store, load_conversation_cb, self, error) ||
      !natterd_store_participants_foreach (store, load_participant_cb, self, error))
    {
      /* Said at start: which file it is matters. */
      g_prefix_error (error, "%s: ", natterd_store_get_path (store));
      natterd_directory_free (self);
      return NULL;
    }

  writer_store = natterd_store_open_sibling (store, error);
  if (writer_store == NULL)
    {
      natterd_directory_free (self);
      return NULL;
    }
  self->writer = natterd_writer_new ("natterd-writer", writer_store, NULL);
  natterd_store_set_write_hook (store, hold_writer, self);
  indexer_store = natterd_store_open_indexer (store, error);
  if (indexer_store == NULL)
    {
      natterd_directory_free (self);
      return NULL;
    }
  self->indexer = natterd_writer_new ("natterd-index", indexer_store, NULL);
  if (self->last_committed_id - self->indexed_up_to > NATTERD_INDEX_BATCH)
    {
      g_message ("Adding %" G_GINT64_FORMAT " messages to the search index, in the background",
                 self->last_committed_id - self->indexed_up_to);
      self->index_rebuilding = TRUE;
    }
  schedule_index (self);

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
  write_dirty_last_seen (self);
  if (self->writer != NULL)
    {
      resume_writer_now (self);
      natterd_writer_drain (self->writer);
    }
  if (self->indexer != NULL)
    {
      /* Index what waits (one slice at most), so that the next start has
       * little to catch up. */
      if (self->last_committed_id > self->indexed_up_to)
        queue_index (self);
      natterd_writer_drain (self->indexer);
    }
  g_clear_handle_id (&self->index_source, g_source_remove);
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
  natterd_store_set_write_hook (self->store, NULL, NULL);
  g_clear_pointer (&self->writer, natterd_writer_free);
  g_clear_pointer (&self->indexer, natterd_writer_free);
  g_queue_clear_full (&self->waiting_searches, g_free);
  g_clear_pointer (&self->writes_in_flight, g_hash_table_unref);
  g_clear_handle_id (&self->expire_source, g_source_remove);
  g_ptr_array_unref (self->dirty_last_seen);
  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->conversations);
  g_hash_table_unref (self->users_by_id);
  g_hash_table_unref (self->users_by_name);
  g_free (self);
}
