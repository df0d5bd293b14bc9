/* natterd-directory.c: users, rooms, conversations and contacts in
 * memory.
 *
 * Everything here lives on the main thread. The store is written through
 * (it is the truth after a restart), but routing and permission checks
 * only look at these tables.
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include "natterd-features.h"

#include "natterd-directory.h"
#include "natterd-room-admin.h"
#include "natterd-blocks.h"

/* --- users --- */

static void
user_free (NatterdUser *user)
{
  g_free (user->username);
  g_free (user->display_name);
  g_free (user->display_folded);
  g_free (user->password_hash);
  g_free (user->status_text);
  g_free (user->avatar);
  g_hash_table_unref (user->contacts);
  g_ptr_array_unref (user->rooms);
  g_hash_table_unref (user->directs);
  g_ptr_array_unref (user->invited);
  natterd_user_clear_blocks (user);
  g_free (user);
}

NatterdUser *
natterd_directory_add_user (NatterdDirectory *self,
                            gint64            id,
                            const char       *username,
                            const char       *display_name,
                            const char       *password_hash)
{
  NatterdUser *user = natterd_directory_find_user_id (self, id);

  /* A refresh may have read the row before the registration's commit
   * came back: inserting again would free the user it holds. */
  if (user != NULL)
    return user;
  user = g_new0 (NatterdUser, 1);
  user->id = id;
  user->username = g_strdup (username);
  user->display_name = g_strdup (display_name);
  user->display_folded = g_utf8_casefold (display_name, -1);
  user->password_hash = g_strdup (password_hash);
  user->presence = NATTER_PRESENCE_OFFLINE;
  user->contacts = g_hash_table_new (NULL, NULL);
  user->rooms = g_ptr_array_new ();
  user->directs = g_hash_table_new (NULL, NULL);
  user->invited = g_ptr_array_new ();
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
natterd_directory_from_request (NatterdRequest *request)
{
  return natterd_server_get_service_data (natterd_request_get_server (request));
}

const NatterdConfig *
natterd_directory_get_config (NatterdDirectory *self)
{
  return natterd_server_get_config (self->server);
}

static void
set_contact_side (NatterdUser *user, NatterdUser *other, NatterdContactState state)
{
  if (state == NATTERD_CONTACT_NONE)
    g_hash_table_remove (user->contacts, other);
  else
    g_hash_table_insert (user->contacts, other, GINT_TO_POINTER (state));
}

void
natterd_user_set_contact (NatterdUser         *user,
                          NatterdUser         *other,
                          NatterdContactState  state)
{
  NatterdContactState mirror = state == NATTERD_CONTACT_OUTGOING ? NATTERD_CONTACT_INCOMING
                             : state == NATTERD_CONTACT_INCOMING ? NATTERD_CONTACT_OUTGOING
                             : state;

  set_contact_side (user, other, state);
  set_contact_side (other, user, mirror);
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
  /* A role belongs to a membership. */
  natterd_room_set_admin (room, user, FALSE);
}

static void
room_free (NatterdRoom *room)
{
  natterd_room_admin_clear (room);
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

/* Why not keep a deleted room until natterd stops: a room made and
 * deleted over and over would grow natterd's memory without end. Why not
 * free it at once: sends, read markers and notification levels checked
 * before the delete may still be in the writer or the delivery queue,
 * pointing at its conversation (and so at the room). They hold it, and
 * the last to let go frees it. Nothing new can reach it: neither its name
 * nor its conversation's id is in the directory any more. */
static void
erased_room_free (NatterdRoom *room)
{
  g_free (room->conversation);
  room_free (room);
}

void
natterd_directory_hide_room (NatterdDirectory *self,
                             NatterdRoom      *room)
{
  g_hash_table_steal (self->rooms, room->name);
  g_hash_table_steal (self->conversations, &room->conversation->id);
  room->deleted = TRUE;
}

void
natterd_directory_restore_room (NatterdDirectory *self,
                                NatterdRoom      *room)
{
  g_hash_table_insert (self->rooms, room->name, room);
  g_hash_table_insert (self->conversations, &room->conversation->id, room->conversation);
  room->deleted = FALSE;
}

void
natterd_directory_erase_room (NatterdDirectory *self,
                              NatterdRoom      *room)
{
  g_return_if_fail (room->deleted);
  room->erased = TRUE;
  if (room->conversation->holds == 0)
    erased_room_free (room);
}

NatterdConversation *
natterd_conversation_hold (NatterdConversation *conv)
{
  if (conv != NULL)
    conv->holds++;
  return conv;
}

void
natterd_conversation_release (NatterdConversation *conv)
{
  if (conv == NULL)
    return;
  g_return_if_fail (conv->holds > 0);
  if (--conv->holds == 0 && conv->room != NULL && conv->room->erased)
    erased_room_free (conv->room);
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
natterd_directory_note_direct (NatterdDirectory *self,
                               gint64            id,
                               NatterdUser      *a,
                               NatterdUser      *b)
{
  NatterdConversation *conv = natterd_directory_find_direct (self, a, b);

  if (conv != NULL)
    return conv;
  return add_direct (self, id, a->id <= b->id ? a : b, a->id <= b->id ? b : a);
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

const char *
natterd_conversation_address_into (NatterdConversation *conv,
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

  natter_json_writer_string (w, natterd_conversation_address_into (conv, viewer, buf));
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

void
natterd_user_send_forms (NatterdUser       *user,
                         GBytes            *plain,
                         GBytes            *actions,
                         NatterdConnection *except)
{
  natterd_user_send_feature_forms (user, NATTER_FEATURE_MESSAGE_ACTIONS, plain, actions, except);
}

void
natterd_user_send_feature_forms (NatterdUser       *user,
                                 guint              feature,
                                 GBytes            *without,
                                 GBytes            *with,
                                 NatterdConnection *except)
{
  GList *l = user->connections;

  while (l != NULL)
    {
      GList *next = l->next;
      GBytes *frame = (natterd_connection_get_features (l->data) & feature) != 0 ? with : without;

      if (l->data != except && frame != NULL)
        natterd_connection_send_bytes (l->data, frame);
      l = next;
    }
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
load_avatar_cb (gint64 user_id, const char *sha256, gpointer user_data)
{
  NatterdUser *user = natterd_directory_find_user_id (user_data, user_id);

  if (user != NULL)
    user->avatar = g_strdup (sha256);
}

static void
load_contact_cb (gint64 a, gint64 b, int state, gpointer user_data)
{
  NatterdUser *ua = natterd_directory_find_user_id (user_data, a);
  NatterdUser *ub = natterd_directory_find_user_id (user_data, b);

  if (ua == NULL || ub == NULL || ua == ub)
    return;
  natterd_user_set_contact (ua, ub, state == NATTERD_STORE_CONTACT_ACCEPTED ? NATTERD_CONTACT_ACCEPTED
                                                                            : NATTERD_CONTACT_OUTGOING);
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
  self->dirty_last_seen = g_ptr_array_new ();

  if (!natterd_store_users_foreach (store, load_user_cb, self, error) ||
      !natterd_store_avatars_foreach (store, load_avatar_cb, self, error) ||
      !natterd_store_contacts_foreach (store, load_contact_cb, self, error) ||
      !natterd_store_conversations_foreach (store, load_conversation_cb, self, error) ||
      !natterd_store_participants_foreach (store, load_participant_cb, self, error) ||
      !natterd_room_admin_load (self, store, error) ||
      !natterd_blocks_load (self, store, error) ||
      /* Nothing revoked before now can be in the token cache. */
      !natterd_store_tokens_revoked (store, 0, NULL, NULL, &self->revoked_up_to, error))
    {
      /* Said at start: which file it is matters. */
      g_prefix_error (error, "%s: ", natterd_store_get_path (store));
      natterd_directory_free (self);
      return NULL;
    }

  g_debug ("loaded %u users, %u rooms, %u conversations",
           g_hash_table_size (self->users_by_name), g_hash_table_size (self->rooms),
           g_hash_table_size (self->conversations));
  return self;
}

void
natterd_directory_free (NatterdDirectory *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->dirty_last_seen);
  g_clear_pointer (&self->room_changes_told, g_hash_table_unref);
  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->conversations);
  g_hash_table_unref (self->users_by_id);
  g_hash_table_unref (self->users_by_name);
  g_free (self);
}
