/* natterd-room-events.c: the events of room management (see
 * natterd-room-events.h).
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include "natterd-directory-events.h"
#include "natterd-event.h"
#include "natterd-presence.h"
#include "natterd-room-events.h"

/* "by": who did it, or null for natterd's operator (natterctl). */
static void
write_by (NatterJsonWriter *w,
          NatterdUser      *by)
{
  natter_json_writer_key (w, "by");
  natter_json_writer_string_or_null (w, by != NULL ? by->username : NULL);
}

static void
send_to_members (NatterdRoom       *room,
                 GBytes            *without,
                 GBytes            *with,
                 NatterdConnection *except)
{
  for (guint i = 0; i < room->members->len; i++)
    natterd_user_send_feature_forms (room->members->pdata[i], NATTER_FEATURE_ROOM_MANAGEMENT,
                                     without, with, except);
}

void
natterd_events_room_updated (NatterdRoom       *room,
                             NatterdUser       *by,
                             NatterdConnection *except)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "room_updated");
  natter_json_writer_key (w, "room");
  natterd_room_write (w, room, TRUE);
  write_by (w, by);
  frame = natterd_event_finish (&event);
  send_to_members (room, NULL, frame, except);
}

void
natterd_events_room_role (NatterdRoom       *room,
                          NatterdUser       *user,
                          NatterdUser       *by,
                          NatterdConnection *except)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "room_role");
  natter_json_writer_key (w, "room");
  natter_json_writer_string (w, room->name);
  natter_json_writer_key (w, "user");
  natter_json_writer_string (w, user->username);
  natter_json_writer_key (w, "role");
  natter_json_writer_string (w, natterd_role_name (natterd_room_role (room, user)));
  write_by (w, by);
  frame = natterd_event_finish (&event);
  send_to_members (room, NULL, frame, except);
}

void
natterd_room_invitation_write (NatterJsonWriter      *w,
                               NatterdRoom           *room,
                               NatterdRoomInvitation *invitation)
{
  natter_json_writer_begin_object (w);
  natter_json_writer_key (w, "room");
  natterd_room_write (w, room, TRUE);
  natter_json_writer_key (w, "by");
  natter_json_writer_string (w, invitation->by->username);
  natter_json_writer_key (w, "ts");
  natter_json_writer_int (w, invitation->ts);
  natter_json_writer_end_object (w);
}

void
natterd_events_room_invitation (NatterdRoom       *room,
                                NatterdUser       *user,
                                gboolean           added,
                                NatterdConnection *except)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "room_invitation");
  natter_json_writer_key (w, "change");
  natter_json_writer_string (w, added ? "added" : "removed");
  if (added)
    {
      natter_json_writer_key (w, "invitation");
      natterd_room_invitation_write (w, room, natterd_room_find_invitation (room, user));
    }
  else
    {
      natter_json_writer_key (w, "room");
      natter_json_writer_string (w, room->name);
    }
  frame = natterd_event_finish (&event);
  natterd_user_send_feature_forms (user, NATTER_FEATURE_ROOM_MANAGEMENT, NULL, frame, except);
}

void
natterd_events_room_removed (NatterdRoom       *room,
                             NatterdUser       *user,
                             const char        *reason,
                             NatterdUser       *by,
                             const char        *ban_reason,
                             NatterdConnection *except)
{
  g_autoptr(GBytes) plain = natterd_events_room_member_frame (room, user, "left");
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "room_removed");
  natter_json_writer_key (w, "room");
  natter_json_writer_string (w, room->name);
  natter_json_writer_key (w, "reason");
  natter_json_writer_string (w, reason);
  write_by (w, by);
  natter_json_writer_key (w, "ban_reason");
  natter_json_writer_string_or_null (w, ban_reason);
  frame = natterd_event_finish (&event);
  natterd_user_send_feature_forms (user, NATTER_FEATURE_ROOM_MANAGEMENT, plain, frame, except);
}

void
natterd_events_room_member_removed (NatterdRoom       *room,
                                    NatterdUser       *user,
                                    const char        *change,
                                    NatterdUser       *by,
                                    NatterdConnection *except)
{
  g_autoptr(GBytes) plain = natterd_events_room_member_frame (room, user, "left");
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "room_member");
  natter_json_writer_key (w, "room");
  natter_json_writer_string (w, room->name);
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, user, NULL);
  natter_json_writer_key (w, "change");
  natter_json_writer_string (w, change);
  write_by (w, by);
  frame = natterd_event_finish (&event);
  send_to_members (room, plain, frame, except);
}

void
natterd_events_room_deleted (NatterdRoom       *room,
                             NatterdUser       *by,
                             NatterdConnection *except)
{
  g_autoptr(GPtrArray) invited = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer user;

  if (room->invitations != NULL)
    {
      g_hash_table_iter_init (&iter, room->invitations);
      while (g_hash_table_iter_next (&iter, &user, NULL))
        g_ptr_array_add (invited, user);
    }
  for (guint i = 0; i < invited->len; i++)
    {
      natterd_events_room_invitation (room, invited->pdata[i], FALSE, NULL);
      natterd_room_set_invitation (room, invited->pdata[i], NULL, 0);
    }
  /* From the last: removing a member moves the last one into its place. */
  while (room->members->len > 0)
    {
      NatterdUser *member = room->members->pdata[room->members->len - 1];

      natterd_events_room_removed (room, member, "deleted", by, NULL, except);
      natterd_room_remove_member (room, member);
    }
  g_clear_pointer (&room->bans, g_hash_table_unref);
}
