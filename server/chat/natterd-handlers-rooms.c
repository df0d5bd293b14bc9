/* natterd-handlers-rooms.c: room_create, room_members, room_join,
 * room_leave, rooms, room_directory, room_topic.
 *
 * A public room is in the directory and anyone not banned may join it; a
 * private one (feature room_management, natterd-handlers-room-admin.c)
 * is in nobody's directory and is joined with an invitation. Reading or
 * writing a room needs membership (forbidden otherwise); a room that does
 * not exist is not_found. Joining a room one is in, answers ok and tells
 * nobody; the owner may leave (the room and its ownership stay). A new
 * member's read marker starts at the room's last message, so the past
 * does not count as unread.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-directory-events.h"
#include "natterd-handlers-private.h"
#include "natterd-room-events.h"

#define DIRECTORY_DEFAULT 50
#define DIRECTORY_CAP     200

/* The room object in the form the request's connection reads. */
static void
write_room (NatterdRequest   *request,
            NatterJsonWriter *w,
            NatterdRoom      *room)
{
  natterd_room_write (w, room, natterd_has_room_management (natterd_request_get_connection (request)));
}

void
natterd_reply_room (NatterdRequest *request,
                    NatterdRoom    *room)
{
  NatterJsonWriter *w = natterd_request_begin_ok (request);

  natter_json_writer_key (w, "room");
  write_room (request, w, room);
  natterd_request_finish_ok (request);
}

static int
compare_rooms (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(NatterdRoom *const *) a)->name, (*(NatterdRoom *const *) b)->name);
}

static int
compare_users (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(NatterdUser *const *) a)->username, (*(NatterdUser *const *) b)->username);
}

/* A change of a room, written by the writer thread (natterd-model-write.h):
 * the inputs are copies, so that the thread never reads the directory. */
typedef struct {
  NatterdModelWrite  model;
  NatterdUser       *user;     /* main loop only */
  NatterdRoom       *room;     /* main loop only; NULL for a create */
  gint64             conversation_id;
  gint64             user_id;
  char              *name;     /* create */
  char              *topic;    /* create, topic */
  gboolean           is_private; /* create */
  gboolean           invited;  /* join: with an invitation, which it uses */
  gint64             created;  /* create: the new room's conversation */
} RoomWrite;

static void
room_write_clear (gpointer data)
{
  RoomWrite *w = data;

  g_free (w->name);
  g_free (w->topic);
}

static RoomWrite *
room_write_new (NatterdUser *user,
                NatterdRoom *room)
{
  RoomWrite *w = g_new0 (RoomWrite, 1);

  w->user = user;
  w->user_id = user->id;
  w->room = room;
  w->conversation_id = room != NULL ? room->conversation->id : 0;
  return w;
}

static NatterdRequest *
room_write_request (RoomWrite *w)
{
  return w->model.write.request;
}

/* Writer thread: the room, with its creator as the first member. */
static gboolean
create_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  RoomWrite *w = (RoomWrite *) job;

  return natterd_store_room_insert (store, w->name, w->topic, w->user_id, natterd_now_ms (),
                                    &w->created, error) &&
         (!w->is_private ||
          natterd_store_room_settings_set (store, w->created, NULL, TRUE, error)) &&
         natterd_store_participant_add (store, w->created, w->user_id, error);
}

static void
create_apply (NatterdModelWrite *model,
              const GError      *error)
{
  RoomWrite *w = (RoomWrite *) model;
  NatterdRequest *request = room_write_request (w);
  NatterdRoom *room;

  if (g_error_matches (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT))
    {
      /* Made meanwhile by another node. */
      natterd_request_error (request, NATTER_ERROR_CONFLICT, "That room exists");
      return;
    }
  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }
  room = natterd_directory_add_room (natterd_directory_from_request (request), w->created,
                                     w->name, w->topic, w->user);
  room->is_private = w->is_private;
  natterd_room_add_member (room, w->user);
  natterd_reply_room (request, room);
}

void
natterd_handle_room_create (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  const char *name, *topic;
  gboolean is_private = FALSE, present;
  RoomWrite *w;

  if (!natterd_arg_string (request, "room", TRUE, &name) ||
      !natterd_arg_string (request, "topic", FALSE, &topic))
    return;
  /* Protocol 1 has no such field: there it is an unknown one, ignored. */
  if (natterd_has_room_management (natterd_request_get_connection (request)) &&
      !natterd_arg_bool (request, "private", &present, &is_private))
    return;
  if (!natter_room_name_is_valid (name))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "room must be # then 1 to 64 of a-z 0-9 _ -");
      return;
    }
  if (topic != NULL && !natter_topic_is_valid (topic))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "topic must be at most 512 characters without control characters");
      return;
    }
  if (natterd_model_write_wait (dir, request, natterd_handle_room_create))
    return;
  if (natterd_directory_find_room (dir, name) != NULL)
    {
      natterd_request_error (request, NATTER_ERROR_CONFLICT, "That room exists");
      return;
    }

  w = room_write_new (me, NULL);
  w->name = g_strdup (name);
  w->topic = g_strdup (topic);
  w->is_private = is_private;
  natterd_model_write_start (&w->model, request, create_run, create_apply, room_write_clear);
}

void
natterd_handle_room_members (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdRoom *room = natterd_arg_room (request, "room", TRUE);
  g_autoptr(GPtrArray) members = NULL;
  gboolean roles;
  NatterJsonWriter *w;

  if (room == NULL)
    return;
  roles = natterd_has_room_management (natterd_request_get_connection (request));
  members = g_ptr_array_copy (room->members, NULL, NULL);
  g_ptr_array_sort (members, compare_users);

  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "members");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < members->len; i++)
    natterd_presence_write_member (w, members->pdata[i], me,
                                   roles ? natterd_role_name (natterd_room_role (room, members->pdata[i]))
                                         : NULL);
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

/* Writer thread: a member, with the read marker at the last message. */
static gboolean
join_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  RoomWrite *w = (RoomWrite *) job;
  gint64 up_to;
  gboolean moved;

  return natterd_store_participant_add (store, w->conversation_id, w->user_id, error) &&
         natterd_store_read_marker_set (store, w->conversation_id, w->user_id, G_MAXINT64,
                                        &up_to, &moved, error) &&
         (!w->invited ||
          natterd_store_room_invitation_set (store, w->conversation_id, w->user_id, FALSE, 0, 0, error));
}

static void
join_apply (NatterdModelWrite *model,
            const GError      *error)
{
  RoomWrite *w = (RoomWrite *) model;
  NatterdRequest *request = room_write_request (w);

  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }
  natterd_room_add_member (w->room, w->user);
  if (w->invited)
    {
      /* Accepted: the user's other devices drop it from their list. */
      natterd_room_set_invitation (w->room, w->user, NULL, 0);
      natterd_events_room_invitation (w->room, w->user, FALSE, natterd_request_get_connection (request));
    }
  natterd_events_room_member (w->room, w->user, "joined", natterd_request_get_connection (request));
  natterd_reply_room (request, w->room);
}

void
natterd_handle_room_join (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdRoom *room;
  RoomWrite *w;
  gboolean invited;

  if (natterd_model_write_wait (dir, request, natterd_handle_room_join))
    return;
  room = natterd_arg_room (request, "room", FALSE);
  if (room == NULL)
    return;
  if (natterd_room_has_member (room, me))
    {
      natterd_reply_room (request, room);
      return;
    }
  if (natterd_room_find_ban (room, me) != NULL)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "You are banned from this room");
      return;
    }
  invited = natterd_room_find_invitation (room, me) != NULL;
  /* The owner may always come back to their own room. */
  if (room->is_private && room->owner != me && !invited)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "This room is private: it is joined by invitation");
      return;
    }
  w = room_write_new (me, room);
  w->invited = invited;
  natterd_model_write_start (&w->model, request, join_run, join_apply, NULL);
}

static gboolean
leave_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  RoomWrite *w = (RoomWrite *) job;

  return natterd_store_participant_remove (store, w->conversation_id, w->user_id, error);
}

static void
leave_apply (NatterdModelWrite *model,
             const GError      *error)
{
  RoomWrite *w = (RoomWrite *) model;
  NatterdRequest *request = room_write_request (w);

  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }
  /* Told while still a member, so the leaver's other connections hear it;
   * the connection that asked has its reply. */
  natterd_events_room_member (w->room, w->user, "left", natterd_request_get_connection (request));
  natterd_room_remove_member (w->room, w->user);
  natterd_request_ok (request);
}

void
natterd_handle_room_leave (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdRoom *room;

  /* Membership is checked again when the request's turn comes. */
  if (natterd_model_write_wait (dir, request, natterd_handle_room_leave))
    return;
  room = natterd_arg_room (request, "room", TRUE);
  if (room == NULL)
    return;
  natterd_model_write_start (&room_write_new (me, room)->model, request, leave_run, leave_apply, NULL);
}

void
natterd_handle_rooms (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GPtrArray) rooms = g_ptr_array_copy (me->rooms, NULL, NULL);
  NatterJsonWriter *w;

  g_ptr_array_sort (rooms, compare_rooms);
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "rooms");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < rooms->len; i++)
    write_room (request, w, rooms->pdata[i]);
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

/* Rooms whose name contains the query (a leading '#' is ignored), the ones
 * that start with it first, each group by name. No query: every room. */
void
natterd_handle_room_directory (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  g_autoptr(GPtrArray) prefix = g_ptr_array_new ();
  g_autoptr(GPtrArray) inside = g_ptr_array_new ();
  g_autofree char *folded = NULL;
  const char *query;
  GHashTableIter iter;
  gpointer value;
  gint64 limit, n = 0;
  NatterJsonWriter *w;

  if (!natterd_arg_string (request, "query", FALSE, &query) ||
      !natterd_arg_limit (request, DIRECTORY_DEFAULT, DIRECTORY_CAP, &limit))
    return;
  if (query != NULL && strlen (query) > NATTER_SEARCH_QUERY_MAX)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "query must be at most 256 bytes");
      return;
    }
  if (query != NULL && query[0] == '#')
    query++;
  folded = g_utf8_casefold (query ? query : "", -1);

  g_hash_table_iter_init (&iter, dir->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NatterdRoom *room = value;
      const char *bare = room->name + 1;

      /* Not even to its members: the directory is where strangers look. */
      if (room->is_private)
        continue;
      if (g_str_has_prefix (bare, folded))
        g_ptr_array_add (prefix, room);
      else if (strstr (bare, folded) != NULL)
        g_ptr_array_add (inside, room);
    }
  g_ptr_array_sort (prefix, compare_rooms);
  g_ptr_array_sort (inside, compare_rooms);

  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "rooms");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < prefix->len && n < limit; i++, n++)
    write_room (request, w, prefix->pdata[i]);
  for (guint i = 0; i < inside->len && n < limit; i++, n++)
    write_room (request, w, inside->pdata[i]);
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

static gboolean
topic_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  RoomWrite *w = (RoomWrite *) job;

  return natterd_store_room_set_topic (store, w->conversation_id, w->topic, error);
}

static void
topic_apply (NatterdModelWrite *model,
             const GError      *error)
{
  RoomWrite *rw = (RoomWrite *) model;
  NatterdRequest *request = room_write_request (rw);
  NatterdRoom *room = rw->room;

  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }
  g_free (room->topic);
  room->topic = g_strdup (rw->topic);
  natterd_events_room_topic (room, rw->user);
  natterd_request_ok (request);
}

void
natterd_handle_room_topic (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdRoom *room;
  const char *topic;
  RoomWrite *w;

  /* Ownership is checked when the request's turn comes. */
  if (natterd_model_write_wait (dir, request, natterd_handle_room_topic))
    return;
  room = natterd_arg_room (request, "room", FALSE);
  if (room == NULL || !natterd_arg_string (request, "topic", TRUE, &topic))
    return;
  if (room->owner != me && natterd_room_role (room, me) < NATTERD_ROLE_ADMIN)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "Only the room's owner or an admin may set its topic");
      return;
    }
  if (!natter_topic_is_valid (topic))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "topic must be at most 512 characters without control characters");
      return;
    }

  w = room_write_new (me, room);
  w->topic = g_strdup (topic);
  natterd_model_write_start (&w->model, request, topic_run, topic_apply, room_write_clear);
}
