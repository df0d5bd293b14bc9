/* natterd-directory-events.c: events of directory changes (see
 * natterd-directory-events.h).
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include "natterd-directory-events.h"
#include "natterd-event.h"
#include "natterd-presence.h"

static void
send_to_members (NatterdRoom       *room,
                 GBytes            *frame,
                 NatterdConnection *except)
{
  for (guint i = 0; i < room->members->len; i++)
    natterd_user_send (room->members->pdata[i], frame, except);
}

/* The user object is the same for all: members share a room with @user,
 * so all of them may see its presence. */
GBytes *
natterd_events_room_member_frame (NatterdRoom *room,
                                  NatterdUser *user,
                                  const char  *change)
{
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "room_member");
  natter_json_writer_key (w, "room");
  natter_json_writer_string (w, room->name);
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, user, NULL);
  natter_json_writer_key (w, "change");
  natter_json_writer_string (w, change);
  return natterd_event_finish (&event);
}

void
natterd_events_room_member (NatterdRoom       *room,
                            NatterdUser       *user,
                            const char        *change,
                            NatterdConnection *except)
{
  g_autoptr(GBytes) frame = natterd_events_room_member_frame (room, user, change);

  send_to_members (room, frame, except);
}

void
natterd_events_room_topic (NatterdRoom *room,
                           NatterdUser *by)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "room_topic");
  natter_json_writer_key (w, "room");
  natter_json_writer_string (w, room->name);
  natter_json_writer_key (w, "topic");
  natter_json_writer_string (w, room->topic);
  natter_json_writer_key (w, "by");
  natter_json_writer_string_or_null (w, by != NULL ? by->username : NULL);
  frame = natterd_event_finish (&event);
  send_to_members (room, frame, NULL);
}

/* Each contact event is encoded for its recipient: what the user object
 * shows depends on who sees it. */
void
natterd_events_contact (NatterdUser *to,
                        NatterdUser *about,
                        const char  *change)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "contact");
  natter_json_writer_key (w, "change");
  natter_json_writer_string (w, change);
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, about, to);
  frame = natterd_event_finish (&event);
  natterd_user_send (to, frame, NULL);
}

void
natterd_events_contact_request (NatterdUser *from,
                                NatterdUser *to)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "contact_request");
  natter_json_writer_key (w, "from");
  natterd_presence_write_user (w, from, to);
  frame = natterd_event_finish (&event);
  natterd_user_send (to, frame, NULL);
}

static NatterdContactState
contact_state (NatterdUser *user,
               NatterdUser *other)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (user->contacts, other));
}

/* The events are those of the handlers of natterd-handlers-contacts.c
 * for the same change. */
void
natterd_events_contact_to (NatterdUser         *u,
                           NatterdUser         *v,
                           NatterdContactState  want)
{
  NatterdContactState have = contact_state (u, v);

  if (have == want)
    return;
  if (want == NATTERD_CONTACT_ACCEPTED && have != NATTERD_CONTACT_NONE)
    {
      /* A request accepted. */
      natterd_user_set_contact (u, v, want);
      natterd_events_contact (u, v, "added");
      natterd_events_contact (v, u, "added");
      return;
    }
  if (have != NATTERD_CONTACT_NONE)
    {
      natterd_user_set_contact (u, v, NATTERD_CONTACT_NONE);
      if (have == NATTERD_CONTACT_ACCEPTED)
        {
          natterd_events_contact (u, v, "removed");
          natterd_events_contact (v, u, "removed");
        }
      /* A request gone: declined or withdrawn, which the store does not
       * say. The asked user hears "removed" either way; the asker only
       * when withdrawing, so, not knowing, is not told no. */
      else if (have == NATTERD_CONTACT_OUTGOING)
        natterd_events_contact (v, u, "removed");
      else
        natterd_events_contact (u, v, "removed");
    }
  if (want == NATTERD_CONTACT_NONE)
    return;
  natterd_user_set_contact (u, v, want);
  switch (want)
    {
    case NATTERD_CONTACT_ACCEPTED:
      natterd_events_contact (u, v, "added");
      natterd_events_contact (v, u, "added");
      break;
    case NATTERD_CONTACT_OUTGOING:
      natterd_events_contact_request (u, v);
      break;
    default:
      natterd_events_contact_request (v, u);
      break;
    }
}
