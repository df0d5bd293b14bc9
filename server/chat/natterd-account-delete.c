/* natterd-account-delete.c: an account deleted (natterd-account-delete.h).
 *
 * The user's row stays, with a password hash nothing matches, the display
 * name replaced by the username and no status text: their messages stay
 * in the others' conversations under a name nobody can take again. All
 * the rest of the account goes: tokens, contacts, memberships (an owned
 * room passes on, or is erased when nobody is left), invitations.
 */
#define G_LOG_DOMAIN "natterd-accounts"

#include "config.h"

#include "natterd-account-delete.h"
#include "natterd-auth.h"
#include "natterd-directory-events.h"
#include "natterd-room-events.h"

typedef struct {
  NatterdUser         *other;
  gint64               other_id;
  NatterdContactState  state;     /* from the deleted user's side */
} Contact;

typedef struct {
  NatterdRoom *room;
  gint64       conversation_id;
  gboolean     member;
  gboolean     erase;             /* owned and left empty */
  NatterdUser *new_owner;         /* NULL: the owner stays */
  gint64       new_owner_id;
} Room;

typedef struct {
  NatterdRoom *room;
  NatterdUser *invited;           /* the deleted user, or whom they invited */
  gint64       conversation_id;
  gint64       invited_id;
} Invitation;

struct _NatterdAccountDelete {
  NatterdUser *user;              /* users are never freed */
  gint64       user_id;
  char        *display_name;      /* the username */
  GArray      *contacts;          /* Contact */
  GArray      *rooms;             /* Room */
  GArray      *invitations;       /* Invitation */
  GArray      *revoked;           /* token hashes, set by run */
};

/* The member a room passes to: an admin, else anyone; of each, the oldest
 * account (the lowest id), so that the choice does not depend on the
 * order the directory keeps. NULL when nobody else is left. */
static NatterdUser *
heir (NatterdRoom *room,
      NatterdUser *leaving)
{
  NatterdUser *best = NULL;
  gboolean best_admin = FALSE;

  for (guint i = 0; i < room->members->len; i++)
    {
      NatterdUser *u = room->members->pdata[i];
      gboolean admin = room->admins != NULL && g_hash_table_contains (room->admins, u);

      if (u == leaving)
        continue;
      if (best == NULL || (admin && !best_admin) || (admin == best_admin && u->id < best->id))
        {
          best = u;
          best_admin = admin;
        }
    }
  return best;
}

static void
plan_room (NatterdAccountDelete *self,
           NatterdDirectory     *directory,
           NatterdRoom          *room)
{
  Room r = { 0 };

  r.room = room;
  r.conversation_id = room->conversation->id;
  r.member = natterd_room_has_member (room, self->user);
  if (room->owner == self->user)
    {
      r.new_owner = heir (room, self->user);
      r.new_owner_id = r.new_owner != NULL ? r.new_owner->id : 0;
      r.erase = r.new_owner == NULL;
    }
  if (r.erase)
    natterd_directory_hide_room (directory, room);
  g_array_append_val (self->rooms, r);
}

static void
plan_invitation (NatterdAccountDelete *self,
                 NatterdRoom          *room,
                 NatterdUser          *invited)
{
  Invitation inv = { room, invited, room->conversation->id, invited->id };

  g_array_append_val (self->invitations, inv);
}

NatterdAccountDelete *
natterd_account_delete_plan (NatterdDirectory *directory,
                             NatterdUser      *user)
{
  NatterdAccountDelete *self = g_new0 (NatterdAccountDelete, 1);
  g_autoptr(GPtrArray) rooms = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  self->user = user;
  self->user_id = user->id;
  self->display_name = g_strdup (user->username);
  self->contacts = g_array_new (FALSE, FALSE, sizeof (Contact));
  self->rooms = g_array_new (FALSE, FALSE, sizeof (Room));
  self->invitations = g_array_new (FALSE, FALSE, sizeof (Invitation));
  self->revoked = g_array_new (FALSE, FALSE, NATTERD_TOKEN_HASH_LEN);

  g_hash_table_iter_init (&iter, user->contacts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Contact c = { key, ((NatterdUser *) key)->id, GPOINTER_TO_INT (value) };

      if (c.state != NATTERD_CONTACT_NONE)
        g_array_append_val (self->contacts, c);
    }

  /* Their rooms, and those they own without being in them (an owner may
   * leave); then the invitations of rooms that stay. Collected first:
   * hiding a room changes dir->rooms. */
  g_hash_table_iter_init (&iter, directory->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NatterdRoom *room = value;

      if (room->owner == user || natterd_room_has_member (room, user) ||
          (room->invitations != NULL && g_hash_table_size (room->invitations) > 0))
        g_ptr_array_add (rooms, room);
    }
  for (guint i = 0; i < rooms->len; i++)
    {
      NatterdRoom *room = rooms->pdata[i];

      if (room->owner == user || natterd_room_has_member (room, user))
        plan_room (self, directory, room);
      if (room->deleted || room->invitations == NULL)
        continue;
      g_hash_table_iter_init (&iter, room->invitations);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (key == user || ((NatterdRoomInvitation *) value)->by == user)
          plan_invitation (self, room, key);
    }
  return self;
}

gboolean
natterd_account_delete_run (NatterdAccountDelete *self,
                            NatterdStore         *store,
                            GError              **error)
{
  if (!natterd_auth_revoke_run (store, self->user_id, NATTERD_AUTH_REVOKE_ALL, NULL, 0,
                                self->revoked, error) ||
      !natterd_store_user_delete (store, self->user_id, NATTERD_AUTH_HASH_DELETED,
                                  self->display_name, error))
    return FALSE;
  for (guint i = 0; i < self->contacts->len; i++)
    {
      Contact *c = &g_array_index (self->contacts, Contact, i);

      if (!natterd_store_contact_delete (store, self->user_id, c->other_id, error))
        return FALSE;
    }
  for (guint i = 0; i < self->rooms->len; i++)
    {
      Room *r = &g_array_index (self->rooms, Room, i);

      if (r->erase)
        {
          if (!natterd_store_room_delete (store, r->conversation_id, error))
            return FALSE;
          continue;
        }
      if (r->member && !natterd_store_participant_remove (store, r->conversation_id, self->user_id, error))
        return FALSE;
      if (r->new_owner != NULL &&
          (!natterd_store_room_owner_set (store, r->conversation_id, r->new_owner_id, error) ||
           !natterd_store_room_role_set (store, r->conversation_id, r->new_owner_id, FALSE, error)))
        return FALSE;
    }
  for (guint i = 0; i < self->invitations->len; i++)
    {
      Invitation *inv = &g_array_index (self->invitations, Invitation, i);

      if (!natterd_store_room_invitation_set (store, inv->conversation_id, inv->invited_id,
                                              FALSE, 0, 0, error))
        return FALSE;
    }
  return TRUE;
}

void
natterd_account_delete_apply (NatterdAccountDelete *self,
                              NatterdDirectory     *directory)
{
  NatterdUser *user = self->user;

  g_free (user->password_hash);
  user->password_hash = g_strdup (NATTERD_AUTH_HASH_DELETED);
  g_free (user->display_name);
  user->display_name = g_strdup (self->display_name);
  g_free (user->display_folded);
  user->display_folded = g_utf8_casefold (user->display_name, -1);
  g_clear_pointer (&user->status_text, g_free);
  /* The picture is the profile's: gone with it (natterd_store_user_delete). */
  g_clear_pointer (&user->avatar, g_free);

  /* As contact_remove tells it: a contact, and whom they had asked. */
  for (guint i = 0; i < self->contacts->len; i++)
    {
      Contact *c = &g_array_index (self->contacts, Contact, i);

      natterd_user_set_contact (user, c->other, NATTERD_CONTACT_NONE);
      if (c->state == NATTERD_CONTACT_ACCEPTED || c->state == NATTERD_CONTACT_OUTGOING)
        natterd_events_contact (c->other, user, "removed");
    }
  for (guint i = 0; i < self->invitations->len; i++)
    {
      Invitation *inv = &g_array_index (self->invitations, Invitation, i);

      natterd_room_set_invitation (inv->room, inv->invited, NULL, 0);
      if (inv->invited != user)
        natterd_events_room_invitation (inv->room, inv->invited, FALSE, NULL);
    }
  for (guint i = 0; i < self->rooms->len; i++)
    {
      Room *r = &g_array_index (self->rooms, Room, i);

      if (r->erase)
        {
          natterd_events_room_deleted (r->room, NULL, NULL);
          natterd_directory_erase_room (directory, r->room);
          continue;
        }
      if (r->member)
        {
          /* As room_leave: told while still a member. */
          natterd_events_room_member (r->room, user, "left", NULL);
          natterd_room_remove_member (r->room, user);
        }
      if (r->new_owner != NULL)
        {
          /* As room_transfer, "by" null: the new owner is no admin. */
          r->room->owner = r->new_owner;
          natterd_room_set_admin (r->room, r->new_owner, FALSE);
          natterd_events_room_updated (r->room, NULL, NULL);
        }
    }
  g_message ("deleted the account of %s: %u contacts, %u rooms, %u sessions", user->username,
             self->contacts->len, self->rooms->len, self->revoked->len);
}

void
natterd_account_delete_sign_out (NatterdAccountDelete *self,
                                 NatterdDirectory     *directory)
{
  natterd_auth_revoked_apply (directory, self->user, self->revoked);
}

void
natterd_account_delete_abandon (NatterdAccountDelete *self,
                                NatterdDirectory     *directory)
{
  if (directory == NULL)
    return;
  for (guint i = 0; i < self->rooms->len; i++)
    {
      Room *r = &g_array_index (self->rooms, Room, i);

      if (r->erase)
        natterd_directory_restore_room (directory, r->room);
    }
}

guint
natterd_account_delete_sessions (NatterdAccountDelete *self)
{
  return self->revoked->len;
}

void
natterd_account_delete_free (NatterdAccountDelete *self)
{
  if (self == NULL)
    return;
  g_free (self->display_name);
  g_array_unref (self->contacts);
  g_array_unref (self->rooms);
  g_array_unref (self->invitations);
  g_array_unref (self->revoked);
  g_free (self);
}
