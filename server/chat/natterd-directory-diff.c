/* natterd-directory-diff.c: a copy of the directory's durable state, and
 * applying it (see natterd-directory-diff.h).
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include <string.h>

#include "natterd-auth.h"
#include "natterd-blocks.h"
#include "natterd-cluster.h"
#include "natterd-directory-diff.h"
#include "natterd-directory-events.h"
#include "natterd-presence.h"
#include "natterd-room-diff.h"
#include "natterd-room-events.h"

typedef struct {
  gint64  id;
  char   *username;
  char   *display_name;
  char   *password_hash;
  char   *status_text;   /* NULL: none */
  gint64  last_seen;
} SnapUser;

typedef struct {
  gint64  id;
  int     kind;
  gint64  user_a;
  gint64  user_b;
  char   *room;
  char   *topic;
  gint64  owner_id;
} SnapConversation;

typedef struct {
  gint64 a;
  gint64 b;
  int    state;       /* NatterdStoreContactState */
} SnapContact;

typedef struct {
  gint64 conversation_id;
  gint64 user_id;
} SnapParticipant;

typedef struct {
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  gint64 user_id;
} SnapRevoked;

struct _NatterdDirectorySnapshot {
  GArray    *revoked;        /* SnapRevoked, in id order */
  gint64     revoked_last;   /* the last id read */
  GPtrArray *users;          /* SnapUser* */
  GPtrArray *conversations;  /* SnapConversation* */
  GArray    *contacts;       /* SnapContact */
  GArray    *participants;   /* SnapParticipant */
  NatterdRoomRows *room_rows;
  GArray    *blocks;         /* natterd_blocks_read's; NULL once applied */
};

/* --- reading (reader thread) --- */

static void
snap_user_free (SnapUser *u)
{
  g_free (u->username);
  g_free (u->display_name);
  g_free (u->password_hash);
  g_free (u->status_text);
  g_free (u);
}

static void
snap_conversation_free (SnapConversation *c)
{
  g_free (c->room);
  g_free (c->topic);
  g_free (c);
}

static void
user_cb (gint64 id, const char *username, const char *display_name, const char *hash,
         const char *status_text, gint64 last_seen, gpointer user_data)
{
  NatterdDirectorySnapshot *s = user_data;
  SnapUser *u = g_new0 (SnapUser, 1);

  u->id = id;
  u->username = g_strdup (username);
  u->display_name = g_strdup (display_name);
  u->password_hash = g_strdup (hash);
  /* As natterd_directory_new holds it: "" is none. */
  u->status_text = status_text && *status_text ? g_strdup (status_text) : NULL;
  u->last_seen = last_seen;
  g_ptr_array_add (s->users, u);
}

static void
contact_cb (gint64 a, gint64 b, int state, gpointer user_data)
{
  NatterdDirectorySnapshot *s = user_data;
  SnapContact c = { a, b, state };

  g_array_append_val (s->contacts, c);
}

static void
conversation_cb (gint64 id, int kind, gint64 a, gint64 b, const char *room,
                 const char *topic, gint64 owner_id, gpointer user_data)
{
  NatterdDirectorySnapshot *s = user_data;
  SnapConversation *c = g_new0 (SnapConversation, 1);

  c->id = id;
  c->kind = kind;
  c->user_a = a;
  c->user_b = b;
  c->room = g_strdup (room);
  c->topic = g_strdup (topic ? topic : "");
  c->owner_id = owner_id;
  g_ptr_array_add (s->conversations, c);
}

static void
participant_cb (gint64 conversation_id, gint64 user_id, gpointer user_data)
{
  NatterdDirectorySnapshot *s = user_data;
  SnapParticipant p = { conversation_id, user_id };

  g_array_append_val (s->participants, p);
}

static void
revoked_cb (gint64 id, const guint8 *hash, gint64 user_id, gpointer user_data)
{
  NatterdDirectorySnapshot *s = user_data;
  SnapRevoked r;

  memcpy (r.hash, hash, sizeof r.hash);
  r.user_id = user_id;
  g_array_append_val (s->revoked, r);
}

NatterdDirectorySnapshot *
natterd_directory_snapshot_read (NatterdStore  *store,
                                 gint64         revoked_after,
                                 GError       **error)
{
  NatterdDirectorySnapshot *s = g_new0 (NatterdDirectorySnapshot, 1);

  s->revoked = g_array_new (FALSE, FALSE, sizeof (SnapRevoked));

  s->users = g_ptr_array_new_with_free_func ((GDestroyNotify) snap_user_free);
  s->conversations = g_ptr_array_new_with_free_func ((GDestroyNotify) snap_conversation_free);
  s->contacts = g_array_new (FALSE, FALSE, sizeof (SnapContact));
  s->participants = g_array_new (FALSE, FALSE, sizeof (SnapParticipant));
  /* One read transaction (the reader's batch): the four agree. */
  if (!natterd_store_tokens_revoked (store, revoked_after, revoked_cb, s, &s->revoked_last, error) ||
      !natterd_store_users_foreach (store, user_cb, s, error) ||
      !natterd_store_contacts_foreach (store, contact_cb, s, error) ||
      !natterd_store_conversations_foreach (store, conversation_cb, s, error) ||
      !natterd_store_participants_foreach (store, participant_cb, s, error) ||
      (s->room_rows = natterd_room_rows_read (store, error)) == NULL ||
      (s->blocks = natterd_blocks_read (store, error)) == NULL)
    {
      natterd_directory_snapshot_free (s);
      return NULL;
    }
  return s;
}

void
natterd_directory_snapshot_free (NatterdDirectorySnapshot *s)
{
  if (s == NULL)
    return;
  g_array_unref (s->revoked);
  g_ptr_array_unref (s->users);
  g_ptr_array_unref (s->conversations);
  g_array_unref (s->contacts);
  g_array_unref (s->participants);
  natterd_room_rows_free (s->room_rows);
  g_clear_pointer (&s->blocks, g_array_unref);
  g_free (s);
}

/* --- applying (main loop) --- */

static void
replace_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static void
apply_users (NatterdDirectory         *self,
             NatterdDirectorySnapshot *s,
             guint64                   stamp)
{
  for (guint i = 0; i < s->users->len; i++)
    {
      SnapUser *u = s->users->pdata[i];
      NatterdUser *user = natterd_directory_find_user_id (self, u->id);

      if (user == NULL)
        {
          /* Names are unique in the store: a name held by another id
           * here would be a database replaced under natterd. */
          if (natterd_directory_find_user (self, u->username) != NULL)
            continue;
          user = natterd_directory_add_user (self, u->id, u->username, u->display_name,
                                             u->password_hash);
          user->status_text = g_strdup (u->status_text);
          user->last_seen = u->last_seen;
          /* Online on another node, perhaps: that node said so before
           * this one knew the user. */
          if (self->cluster != NULL)
            user->presence = natterd_cluster_presence_elsewhere (natterd_cluster_get_presence (self->cluster),
                                                                 user->id);
          continue;
        }
      if (g_strcmp0 (user->display_name, u->display_name) != 0)
        {
          replace_string (&user->display_name, u->display_name);
          g_free (user->display_folded);
          user->display_folded = g_utf8_casefold (u->display_name, -1);
        }
      if (g_strcmp0 (user->password_hash, u->password_hash) != 0)
        replace_string (&user->password_hash, u->password_hash);
      /* Only ever later: a last_seen this node has not written yet is
       * newer than the store's. */
      user->last_seen = MAX (user->last_seen, u->last_seen);
      /* The store's status text is written behind by the node the user
       * is on, and that node's presence records carry the newer one: a
       * refresh may read the store before it is written, and would put
       * the old text back (told as a presence event) over what the bus
       * said. So on a cluster the store's text counts only for a user
       * online nowhere; nodes without a bus have only the store. */
      if (user->local_stamp <= stamp && (self->cluster == NULL || user->presence == NATTER_PRESENCE_OFFLINE) &&
          g_strcmp0 (user->status_text, u->status_text) != 0)
        {
          replace_string (&user->status_text, u->status_text);
          /* What set_presence tells when the status text changes. */
          natterd_presence_update (self, user, TRUE, NULL);
        }
    }
}

/* Rooms and direct conversations; @rooms gets the rooms the snapshot
 * holds, mapped to TRUE for those new here, @owners the owner each room
 * had before. */
static void
apply_conversations (NatterdDirectory         *self,
                     NatterdDirectorySnapshot *s,
                     GHashTable               *rooms,
                     GHashTable               *owners)
{
  for (guint i = 0; i < s->conversations->len; i++)
    {
      SnapConversation *c = s->conversations->pdata[i];
      NatterdConversation *conv = natterd_directory_find_conversation (self, c->id);
      NatterdUser *owner = natterd_directory_find_user_id (self, c->owner_id);

      if (c->kind == NATTERD_CONVERSATION_DIRECT)
        {
          NatterdUser *a = natterd_directory_find_user_id (self, c->user_a);
          NatterdUser *b = natterd_directory_find_user_id (self, c->user_b);

          /* No event: the first message between the two tells them. */
          if (conv == NULL && a != NULL && b != NULL)
            natterd_directory_note_direct (self, c->id, a, b);
          continue;
        }
      if (c->kind != NATTERD_CONVERSATION_ROOM || c->room == NULL)
        continue;
      if (conv == NULL)
        {
          NatterdRoom *room;

          if (natterd_directory_find_room (self, c->room) != NULL)
            continue; /* unique in the store: as for users */
          /* A room's creation tells nobody but its creator (the reply). */
          room = natterd_directory_add_room (self, c->id, c->room, c->topic, owner);
          g_hash_table_insert (rooms, room, GINT_TO_POINTER (TRUE));
          continue;
        }
      if (conv->kind != NATTERD_CONVERSATION_ROOM)
        continue;
      g_hash_table_insert (rooms, conv->room, GINT_TO_POINTER (FALSE));
      g_hash_table_insert (owners, conv->room, conv->room->owner);
      conv->room->owner = owner;
      if (!g_str_equal (conv->room->topic, c->topic))
        {
          replace_string (&conv->room->topic, c->topic);
          /* Only the owner may set it: the owner set it. */
          natterd_events_room_topic (conv->room, owner);
        }
    }
}

/* Rooms the store no longer has were deleted through another node: told
 * as a deletion here is (room_removed "deleted", invitations withdrawn),
 * "by" as the deleting node said (null when this node missed it), and
 * erased. */
static void
apply_deleted_rooms (NatterdDirectory         *self,
                     NatterdDirectorySnapshot *s)
{
  g_autoptr(GHashTable) stored = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GPtrArray) gone = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  for (guint i = 0; i < s->conversations->len; i++)
    g_hash_table_add (stored, &((SnapConversation *) s->conversations->pdata[i])->id);
  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!g_hash_table_contains (stored, &((NatterdRoom *) value)->conversation->id))
      g_ptr_array_add (gone, value);
  for (guint i = 0; i < gone->len; i++)
    {
      NatterdRoom *room = gone->pdata[i];

      natterd_directory_hide_room (self, room);
      natterd_events_room_deleted (room, natterd_room_deleted_by (self, room->conversation->id), NULL);
      natterd_directory_erase_room (self, room);
    }
}

/* Memberships of the rooms the snapshot holds. A member who joined
 * elsewhere is told to the room's members here as a join made here is
 * (the joiner's own connections included: none of them asked); one who
 * left, while still a member, as a leave is. The members of a room new
 * here arrive without events: nobody here knew the room. */
static void
apply_participants (NatterdDirectory         *self,
                    NatterdDirectorySnapshot *s,
                    GHashTable               *rooms)
{
  g_autoptr(GHashTable) want = g_hash_table_new_full (NULL, NULL, NULL,
                                                      (GDestroyNotify) g_hash_table_unref);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, rooms);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_insert (want, key, g_hash_table_new (NULL, NULL));

  for (guint i = 0; i < s->participants->len; i++)
    {
      SnapParticipant *p = &g_array_index (s->participants, SnapParticipant, i);
      NatterdConversation *conv = natterd_directory_find_conversation (self, p->conversation_id);
      NatterdUser *user = natterd_directory_find_user_id (self, p->user_id);
      GHashTable *members;

      if (conv == NULL || user == NULL || conv->kind != NATTERD_CONVERSATION_ROOM ||
          (members = g_hash_table_lookup (want, conv->room)) == NULL)
        continue;
      g_hash_table_add (members, user);
      if (natterd_room_has_member (conv->room, user))
        continue;
      natterd_room_add_member (conv->room, user);
      if (!GPOINTER_TO_INT (g_hash_table_lookup (rooms, conv->room)))
        natterd_events_room_member (conv->room, user, "joined", NULL);
    }

  g_hash_table_iter_init (&iter, want);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      NatterdRoom *room = key;
      g_autoptr(GPtrArray) gone = g_ptr_array_new ();

      /* Collected first: removing reorders the members. */
      for (guint i = 0; i < room->members->len; i++)
        if (!g_hash_table_contains (value, room->members->pdata[i]))
          g_ptr_array_add (gone, room->members->pdata[i]);
      for (guint i = 0; i < gone->len; i++)
        {
          NatterdUser *user = gone->pdata[i];
          NatterdUser *by;
          const char *ban_reason;
          const char *why = natterd_room_rows_why_gone (self, s->room_rows, room, user, &by, &ban_reason);

          if (why == NULL)
            {
              natterd_events_room_member (room, user, "left", NULL);
              natterd_room_remove_member (room, user);
              continue;
            }
          /* As a kick or ban here tells it (natterd-handlers-room-admin.c). */
          natterd_events_room_removed (room, user, why, by, ban_reason, NULL);
          natterd_room_remove_member (room, user);
          natterd_events_room_member_removed (room, user, why, by, NULL);
        }
    }
}

static void
want_contact (GHashTable          *want,
              NatterdUser         *u,
              NatterdUser         *v,
              NatterdContactState  state)
{
  GHashTable *of_u = g_hash_table_lookup (want, u);

  if (of_u == NULL)
    {
      of_u = g_hash_table_new (NULL, NULL);
      g_hash_table_insert (want, u, of_u);
    }
  g_hash_table_insert (of_u, v, GINT_TO_POINTER (state));
}

static void
apply_contacts (NatterdDirectory         *self,
                NatterdDirectorySnapshot *s)
{
  /* NatterdUser* -> (NatterdUser* -> NatterdContactState), both ways. */
  g_autoptr(GHashTable) want = g_hash_table_new_full (NULL, NULL, NULL,
                                                      (GDestroyNotify) g_hash_table_unref);
  g_autoptr(GPtrArray) gone = g_ptr_array_new ();
  GHashTableIter iter, inner;
  gpointer key, value, other, state;

  for (guint i = 0; i < s->contacts->len; i++)
    {
      SnapContact *c = &g_array_index (s->contacts, SnapContact, i);
      NatterdUser *a = natterd_directory_find_user_id (self, c->a);
      NatterdUser *b = natterd_directory_find_user_id (self, c->b);
      gboolean accepted = c->state == NATTERD_STORE_CONTACT_ACCEPTED;

      if (a == NULL || b == NULL || a == b)
        continue;
      want_contact (want, a, b, accepted ? NATTERD_CONTACT_ACCEPTED : NATTERD_CONTACT_OUTGOING);
      want_contact (want, b, a, accepted ? NATTERD_CONTACT_ACCEPTED : NATTERD_CONTACT_INCOMING);
    }

  /* Each pair once, from the side with the lower id. */
  g_hash_table_iter_init (&iter, want);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_iter_init (&inner, value);
      while (g_hash_table_iter_next (&inner, &other, &state))
        if (((NatterdUser *) key)->id < ((NatterdUser *) other)->id)
          natterd_events_contact_to (key, other, GPOINTER_TO_INT (state));
    }

  /* The pairs the store no longer has. Collected first: a change edits
   * the tables being walked. */
  g_hash_table_iter_init (&iter, self->users_by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NatterdUser *user = value;
      GHashTable *of_user = g_hash_table_lookup (want, user);

      g_hash_table_iter_init (&inner, user->contacts);
      while (g_hash_table_iter_next (&inner, &other, NULL))
        if (user->id < ((NatterdUser *) other)->id &&
            (of_user == NULL || !g_hash_table_contains (of_user, other)))
          {
            g_ptr_array_add (gone, user);
            g_ptr_array_add (gone, other);
          }
    }
  for (guint i = 0; i < gone->len; i += 2)
    natterd_events_contact_to (gone->pdata[i], gone->pdata[i + 1], NATTERD_CONTACT_NONE);
}

/* Usually told over the bus already, and then nothing is left to do:
 * the cache has no such entry, the connections are gone. */
static void
apply_revoked (NatterdDirectory         *self,
               NatterdDirectorySnapshot *s)
{
  for (guint i = 0; i < s->revoked->len && self->auth != NULL; i++)
    {
      SnapRevoked *r = &g_array_index (s->revoked, SnapRevoked, i);

      natterd_auth_forget_token (self->auth, natterd_directory_find_user_id (self, r->user_id),
                                 r->hash);
    }
  self->revoked_up_to = MAX (self->revoked_up_to, s->revoked_last);
}

void
natterd_directory_snapshot_apply (NatterdDirectory         *self,
                                  NatterdDirectorySnapshot *s,
                                  guint64                   stamp)
{
  /* NatterdRoom* -> new here; -> its owner before. */
  g_autoptr(GHashTable) rooms = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) owners = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer room, is_new;

  /* Users first: the rest refers to them. */
  apply_users (self, s, stamp);
  apply_conversations (self, s, rooms, owners);
  apply_deleted_rooms (self, s);
  apply_participants (self, s, rooms);
  /* Roles are of members: after the memberships. */
  g_hash_table_iter_init (&iter, rooms);
  while (g_hash_table_iter_next (&iter, &room, &is_new))
    natterd_room_rows_apply (self, s->room_rows, room, g_hash_table_lookup (owners, room),
                             GPOINTER_TO_INT (is_new));
  apply_contacts (self, s);
  natterd_blocks_apply (self, g_steal_pointer (&s->blocks));
  apply_revoked (self, s);
}
