/* natterd-admin-rooms.c: natterctl room list, delete and set-owner
 * (natterd-admin-private.h).
 *
 * A delete and a change of owner are what the owner's room_delete and
 * room_transfer do (natterd-handlers-room-admin.c): the same store calls
 * in one transaction, the same events to the members, "by" null (natterd's
 * operator is nobody's username). They take the model writes' turn, and
 * look the room and user up only once it is held, against the directory
 * as the writes before left it.
 */
#define G_LOG_DOMAIN "natterd-admin"

#include "config.h"

#include <string.h>

#include "natterd-admin-private.h"
#include "natterd-cluster.h"
#include "natterd-room-events.h"

static int
compare_rooms (gconstpointer a,
               gconstpointer b)
{
  const NatterdRoom *ra = *(NatterdRoom *const *) a, *rb = *(NatterdRoom *const *) b;

  return strcmp (ra->name, rb->name);
}

/* {"type":"room_list"} -> {"rooms":[{"room","topic","owner","member_count"}…]},
 * by name. */
void
natterd_admin_room_list (NatterdAdminRequest *request,
                         JsonObject          *args)
{
  NatterdDirectory *dir = natterd_admin_request_directory (request);
  g_autoptr(GPtrArray) rooms = natterd_admin_sorted_values (dir->rooms, compare_rooms);
  NatterJsonWriter *w;

  w = natterd_admin_begin_ok (request);
  natter_json_writer_key (w, "rooms");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < rooms->len; i++)
    natterd_room_write (w, rooms->pdata[i], FALSE);
  natter_json_writer_end_array (w);
  natterd_admin_finish_ok (request);
}

typedef struct {
  NatterdAdminWrite write;
  char             *room_name;
  char             *username;      /* set-owner: the new owner */
  /* Found once the turn is held (main loop). */
  NatterdRoom      *room;
  NatterdUser      *owner;         /* set-owner: the new owner */
  NatterdUser      *old_owner;     /* may be NULL */
  gboolean          old_is_member; /* set-owner: the old owner becomes an admin */
  /* For the writer thread. */
  gint64            conversation_id;
  gint64            owner_id;
  gint64            old_owner_id;
} RoomWrite;

static void
room_write_clear (gpointer data)
{
  RoomWrite *r = data;

  g_free (r->room_name);
  g_free (r->username);
}

/* The room named, or NULL after answering not_found. */
static NatterdRoom *
find_room (RoomWrite        *r,
           NatterdDirectory *dir)
{
  NatterdRoom *room = natterd_directory_find_room (dir, r->room_name);

  if (room == NULL)
    natterd_admin_error (r->write.request, NATTER_ERROR_NOT_FOUND, "No room %s", r->room_name);
  return room;
}

/* A new RoomWrite for "room" of @args (a room name), or NULL after
 * answering invalid_argument. */
static RoomWrite *
room_write_new (NatterdAdminRequest *request,
                JsonObject          *args)
{
  const char *name;
  RoomWrite *r;

  if (!natterd_admin_arg_string (request, args, "room", TRUE, &name))
    return NULL;
  if (!natter_room_name_is_valid (name))
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                           "The room's name must be # then 1 to 64 of a-z 0-9 _ -");
      return NULL;
    }
  r = g_new0 (RoomWrite, 1);
  r->write.request = request;
  r->room_name = g_strdup (name);
  return r;
}

/* The answer {"room":…,"owner":…}, sent once the other nodes of a
 * cluster have read the change (natterd_cluster_directory_changed_then):
 * a script that deletes a room then looks for it on another node finds
 * it gone there too. */
typedef struct {
  NatterdAdminRequest *request;
  char                *room;
  char                *owner;  /* NULL: left out */
} Answer;

static void
answer_cb (gpointer data)
{
  Answer *a = data;
  NatterJsonWriter *w = natterd_admin_begin_ok (a->request);

  natter_json_writer_key (w, "room");
  natter_json_writer_string (w, a->room);
  if (a->owner != NULL)
    {
      natter_json_writer_key (w, "owner");
      natter_json_writer_string (w, a->owner);
    }
  natterd_admin_finish_ok (a->request);
  g_free (a->room);
  g_free (a->owner);
  g_free (a);
}

static Answer *
answer_new (NatterdAdminRequest *request,
            const char          *room,
            NatterdUser         *owner)
{
  Answer *a = g_new0 (Answer, 1);

  a->request = request;
  a->room = g_strdup (room);
  a->owner = owner != NULL ? g_strdup (owner->username) : NULL;
  return a;
}

/* --- delete --- */

static gboolean
delete_turn (NatterdAdminWrite *write,
             NatterdDirectory  *dir)
{
  RoomWrite *r = (RoomWrite *) write;

  if ((r->room = find_room (r, dir)) == NULL)
    return FALSE;
  r->conversation_id = r->room->conversation->id;
  /* As room_delete: out of the directory before the write is queued, so
   * that no send can be queued behind it. */
  natterd_directory_hide_room (dir, r->room);
  return TRUE;
}

static gboolean
delete_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  return natterd_store_room_delete (store, ((RoomWrite *) job)->conversation_id, error);
}

static void
delete_apply (NatterdAdminWrite *write,
              NatterdDirectory  *dir,
              const GError      *error)
{
  RoomWrite *r = (RoomWrite *) write;

  if (dir == NULL)
    {
      /* Stopping: the directory is going, with the room. */
      natterd_admin_check_done (write->request, dir, error);
      return;
    }
  if (!natterd_admin_check_done (write->request, dir, error))
    {
      natterd_directory_restore_room (dir, r->room);
      return;
    }
  g_message ("deleted room %s (natterctl)", r->room_name);
  natterd_events_room_deleted (r->room, NULL, NULL);
  natterd_directory_erase_room (dir, r->room);
  natterd_cluster_directory_changed_then (dir->cluster, answer_cb, answer_new (write->request, r->room_name, NULL));
}

/* {"type":"room_delete","room":"#name"} */
void
natterd_admin_room_delete (NatterdAdminRequest *request,
                           JsonObject          *args)
{
  RoomWrite *r = room_write_new (request, args);

  if (r == NULL)
    return;
  r->write.turn = delete_turn;
  natterd_admin_write_start (&r->write, request, delete_run, delete_apply, room_write_clear);
}

/* --- set-owner --- */

static gboolean
owner_turn (NatterdAdminWrite *write,
            NatterdDirectory  *dir)
{
  RoomWrite *r = (RoomWrite *) write;
  g_autofree char *username = natter_username_normalize (r->username, NULL);

  if ((r->room = find_room (r, dir)) == NULL)
    return FALSE;
  r->owner = username != NULL ? natterd_directory_find_user (dir, username) : NULL;
  if (r->owner == NULL)
    {
      natterd_admin_error (write->request, NATTER_ERROR_NOT_FOUND, "No user %s", r->username);
      return FALSE;
    }
  /* Ownership is not membership: someone who never joined would own a
   * room they do not see. They join first (a private room: invited). */
  if (!natterd_room_has_member (r->room, r->owner))
    {
      natterd_admin_error (write->request, NATTER_ERROR_NOT_FOUND, "%s is not a member of %s: they must join it first",
                           r->owner->username, r->room->name);
      return FALSE;
    }
  if (r->owner == r->room->owner)
    {
      answer_cb (answer_new (write->request, r->room->name, r->owner));
      return FALSE;
    }
  r->old_owner = r->room->owner;
  r->old_is_member = r->old_owner != NULL && natterd_room_has_member (r->room, r->old_owner);
  r->conversation_id = r->room->conversation->id;
  r->owner_id = r->owner->id;
  r->old_owner_id = r->old_owner != NULL ? r->old_owner->id : 0;
  return TRUE;
}

/* As room_transfer's: the new owner is no admin, the old one (if still a
 * member) becomes one. */
static gboolean
owner_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  RoomWrite *r = (RoomWrite *) job;

  return natterd_store_room_owner_set (store, r->conversation_id, r->owner_id, error) &&
         natterd_store_room_role_set (store, r->conversation_id, r->owner_id, FALSE, error) &&
         (!r->old_is_member ||
          natterd_store_room_role_set (store, r->conversation_id, r->old_owner_id, TRUE, error));
}

static void
owner_apply (NatterdAdminWrite *write,
             NatterdDirectory  *dir,
             const GError      *error)
{
  RoomWrite *r = (RoomWrite *) write;

  if (!natterd_admin_check_done (write->request, dir, error))
    return;
  r->room->owner = r->owner;
  natterd_room_set_admin (r->room, r->owner, FALSE);
  if (r->old_is_member)
    natterd_room_set_admin (r->room, r->old_owner, TRUE);
  g_message ("room %s now owned by %s (natterctl)", r->room->name, r->owner->username);
  natterd_events_room_updated (r->room, NULL, NULL);
  natterd_cluster_directory_changed_then (dir->cluster, answer_cb,
                                          answer_new (write->request, r->room->name, r->owner));
}

/* {"type":"room_set_owner","room":"#name","username":"bob"} */
void
natterd_admin_room_set_owner (NatterdAdminRequest *request,
                              JsonObject          *args)
{
  const char *username;
  RoomWrite *r;

  if (!natterd_admin_arg_string (request, args, "username", TRUE, &username) ||
      (r = room_write_new (request, args)) == NULL)
    return;
  r->username = g_strdup (username);
  r->write.turn = owner_turn;
  natterd_admin_write_start (&r->write, request, owner_run, owner_apply, room_write_clear);
}
