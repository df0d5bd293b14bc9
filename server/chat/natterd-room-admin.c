/* natterd-room-admin.c: roles, bans and invitations of rooms in memory
 * (see natterd-room-admin.h).
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include <string.h>

#include "natterd-features.h"
#include "natterd-room-admin.h"

NatterdRole
natterd_room_role (NatterdRoom *room,
                   NatterdUser *user)
{
  if (user == NULL || !natterd_room_has_member (room, user))
    return NATTERD_ROLE_NONE;
  if (room->owner == user)
    return NATTERD_ROLE_OWNER;
  if (room->admins != NULL && g_hash_table_contains (room->admins, user))
    return NATTERD_ROLE_ADMIN;
  return NATTERD_ROLE_MEMBER;
}

const char *
natterd_role_name (NatterdRole role)
{
  switch (role)
    {
    case NATTERD_ROLE_OWNER:
      return "owner";
    case NATTERD_ROLE_ADMIN:
      return "admin";
    case NATTERD_ROLE_MEMBER:
      return "member";
    default:
      return NULL;
    }
}

void
natterd_room_set_admin (NatterdRoom *room,
                        NatterdUser *user,
                        gboolean     admin)
{
  if (!admin)
    {
      if (room->admins != NULL)
        g_hash_table_remove (room->admins, user);
      return;
    }
  if (room->admins == NULL)
    room->admins = g_hash_table_new (NULL, NULL);
  g_hash_table_add (room->admins, user);
}

static void
ban_free (gpointer data)
{
  NatterdRoomBan *ban = data;

  g_free (ban->reason);
  g_free (ban);
}

NatterdRoomBan *
natterd_room_find_ban (NatterdRoom *room,
                       NatterdUser *user)
{
  return room->bans != NULL ? g_hash_table_lookup (room->bans, user) : NULL;
}

void
natterd_room_set_ban (NatterdRoom *room,
                      NatterdUser *user,
                      NatterdUser *by,
                      const char  *reason,
                      gint64       ts)
{
  NatterdRoomBan *ban;

  if (by == NULL)
    {
      if (room->bans != NULL)
        g_hash_table_remove (room->bans, user);
      return;
    }
  if (room->bans == NULL)
    room->bans = g_hash_table_new_full (NULL, NULL, NULL, ban_free);
  ban = g_new0 (NatterdRoomBan, 1);
  ban->by = by;
  ban->reason = g_strdup (reason);
  ban->ts = ts;
  g_hash_table_replace (room->bans, user, ban);
}

NatterdRoomInvitation *
natterd_room_find_invitation (NatterdRoom *room,
                              NatterdUser *user)
{
  return room->invitations != NULL ? g_hash_table_lookup (room->invitations, user) : NULL;
}

void
natterd_room_set_invitation (NatterdRoom *room,
                             NatterdUser *user,
                             NatterdUser *by,
                             gint64       ts)
{
  NatterdRoomInvitation *invitation;

  if (by == NULL)
    {
      if (room->invitations != NULL && g_hash_table_remove (room->invitations, user))
        g_ptr_array_remove_fast (user->invited, room);
      return;
    }
  if (room->invitations == NULL)
    room->invitations = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  if (!g_hash_table_contains (room->invitations, user))
    g_ptr_array_add (user->invited, room);
  invitation = g_new0 (NatterdRoomInvitation, 1);
  invitation->by = by;
  invitation->ts = ts;
  g_hash_table_replace (room->invitations, user, invitation);
}

void
natterd_room_admin_clear (NatterdRoom *room)
{
  g_free (room->display_name);
  g_clear_pointer (&room->admins, g_hash_table_unref);
  g_clear_pointer (&room->bans, g_hash_table_unref);
  /* The users' lists are freed with them (the directory frees the rooms
   * first, then the users). */
  g_clear_pointer (&room->invitations, g_hash_table_unref);
}

static void
load_row_cb (NatterdRoomRowKind  kind,
             gint64              conversation_id,
             gint64              user_id,
             gint64              by_id,
             const char         *text,
             gint64              value,
             gpointer            user_data)
{
  NatterdDirectory *directory = user_data;
  NatterdConversation *conv = natterd_directory_find_conversation (directory, conversation_id);
  NatterdUser *user = natterd_directory_find_user_id (directory, user_id);
  NatterdUser *by = natterd_directory_find_user_id (directory, by_id);
  NatterdRoom *room;

  if (conv == NULL || conv->kind != NATTERD_CONVERSATION_ROOM)
    return;
  room = conv->room;
  switch (kind)
    {
    case NATTERD_ROOM_ROW_SETTINGS:
      g_free (room->display_name);
      room->display_name = g_strdup (text);
      room->is_private = value != 0;
      break;
    case NATTERD_ROOM_ROW_ADMIN:
      if (user != NULL && natterd_room_has_member (room, user))
        natterd_room_set_admin (room, user, TRUE);
      break;
    case NATTERD_ROOM_ROW_BAN:
      /* A ban by someone unknown still bans: the room's owner stands in. */
      if (user != NULL)
        natterd_room_set_ban (room, user, by != NULL ? by : room->owner, text, value);
      break;
    case NATTERD_ROOM_ROW_INVITATION:
      if (user != NULL && by != NULL)
        natterd_room_set_invitation (room, user, by, value);
      break;
    default:
      break;
    }
}

gboolean
natterd_room_admin_load (NatterdDirectory  *directory,
                         NatterdStore      *store,
                         GError           **error)
{
  return natterd_store_room_rows_foreach (store, load_row_cb, directory, error);
}

static int
compare_usernames (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(NatterdUser *const *) a)->username, (*(NatterdUser *const *) b)->username);
}

void
natterd_room_write (NatterJsonWriter *w,
                    NatterdRoom      *room,
                    gboolean          management)
{
  natter_json_writer_begin_object (w);
  natter_json_writer_key (w, "room");
  natter_json_writer_string (w, room->name);
  natter_json_writer_key (w, "topic");
  natter_json_writer_string (w, room->topic);
  natter_json_writer_key (w, "owner");
  natter_json_writer_string_or_null (w, room->owner ? room->owner->username : NULL);
  natter_json_writer_key (w, "member_count");
  natter_json_writer_int (w, room->members->len);
  if (management)
    {
      g_autoptr(GPtrArray) admins = g_ptr_array_new ();
      GHashTableIter iter;
      gpointer key;

      natter_json_writer_key (w, "display_name");
      natter_json_writer_string_or_null (w, room->display_name);
      natter_json_writer_key (w, "private");
      natter_json_writer_bool (w, room->is_private);
      if (room->admins != NULL)
        {
          g_hash_table_iter_init (&iter, room->admins);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            g_ptr_array_add (admins, key);
        }
      g_ptr_array_sort (admins, compare_usernames);
      natter_json_writer_key (w, "admins");
      natter_json_writer_begin_array (w);
      for (guint i = 0; i < admins->len; i++)
        natter_json_writer_string (w, ((NatterdUser *) admins->pdata[i])->username);
      natter_json_writer_end_array (w);
    }
  natter_json_writer_end_object (w);
}
