/* natterd-handlers-room-admin.c: the requests of the feature
 * room_management (docs/protocol.md, "Room management"): room_update,
 * room_role, room_transfer, room_invite, room_uninvite, room_invitations,
 * room_invited, room_decline, room_kick, room_ban, room_unban, room_bans,
 * room_delete.
 *
 * Who may do what: the owner (while a member) everything; an admin
 * renames, sets the topic and privacy, invites, kicks and bans members
 * (not the owner, not another admin), unbans and reads the lists; a
 * member nothing of this. Every change is a model write
 * (natterd-model-write.h): checked here against the directory, written
 * by the writer thread, applied and told once committed.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-cluster.h"
#include "natterd-handlers-private.h"
#include "natterd-room-events.h"

/* Pending invitations one user may hold at most: an admin of any room
 * cannot bury someone in them. */
#define INVITATIONS_PER_USER_MAX 100

typedef struct {
  NatterdModelWrite  model;
  NatterdRoom       *room;    /* main loop only */
  NatterdUser       *me;      /* main loop only */
  NatterdUser       *target;  /* main loop only */
  gint64             conversation_id;
  gint64             me_id;
  gint64             target_id;
  gint64             ts;
  char              *text;    /* display name, ban reason */
  gboolean           flag;    /* private, admin */
  gboolean           member;  /* kick, ban: the target is a member */
  gboolean           invited; /* ban: the target has an invitation */
  gboolean           removes_room; /* delete */
} AdminWrite;

static void
admin_write_clear (gpointer data)
{
  g_free (((AdminWrite *) data)->text);
}

static AdminWrite *
admin_write_new (NatterdRequest *request,
                 NatterdRoom    *room,
                 NatterdUser    *target)
{
  AdminWrite *w = g_new0 (AdminWrite, 1);

  w->room = room;
  w->conversation_id = room->conversation->id;
  w->me = natterd_session_request_user (request);
  w->me_id = w->me->id;
  w->target = target;
  w->target_id = target != NULL ? target->id : 0;
  w->ts = natterd_now_ms ();
  return w;
}

/* Said to the other nodes of a cluster before they read the change
 * (natterd-room-diff.h): who made it, and whether it took a member out
 * (a kick, a ban of a member) or the room away. */
static void
admin_write_relay (NatterdModelWrite *model)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdDirectory *dir = natterd_directory_from_request (model->write.request);

  natterd_cluster_relay_room_change (dir->cluster, w->conversation_id, w->target_id,
                                     w->member || w->removes_room, w->me_id);
}

static void
admin_write_start (AdminWrite          *w,
                   NatterdRequest      *request,
                   NatterdWriteRunFunc  run,
                   NatterdModelApplyFunc apply)
{
  w->model.relay = admin_write_relay;
  natterd_model_write_start (&w->model, request, run, apply, admin_write_clear);
}

/* The job's request, answered with a store error when the write failed:
 * NULL then. */
static NatterdRequest *
applied (NatterdModelWrite *model,
         const GError      *error)
{
  NatterdRequest *request = model->write.request;

  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return NULL;
    }
  return request;
}

/* The room of a change, once it is this request's turn, when the user's
 * role is at least @need; NULL after answering (or deferring). */
static NatterdRoom *
room_for (NatterdRequest      *request,
          NatterdDeferredFunc  handler,
          NatterdRole          need)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdRoom *room;

  if (handler != NULL && natterd_model_write_wait (dir, request, handler))
    return NULL;
  room = natterd_arg_room (request, "room", TRUE);
  if (room == NULL)
    return NULL;
  if (natterd_room_role (room, natterd_session_request_user (request)) < need)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN,
                             need == NATTERD_ROLE_OWNER ? "Only the room's owner may do that"
                                                        : "Only the room's owner or an admin may do that");
      return NULL;
    }
  return room;
}

/* The member named by "username", or NULL after answering. */
static NatterdUser *
member_arg (NatterdRequest *request,
            NatterdRoom    *room)
{
  NatterdUser *user = natterd_arg_user (request, "username");

  if (user != NULL && !natterd_room_has_member (room, user))
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "That user is not a member of the room");
      return NULL;
    }
  return user;
}

/* Whether @me may kick or ban @target: not oneself, never the owner, an
 * admin only by the owner. FALSE after answering. */
static gboolean
may_remove (NatterdRequest *request,
            NatterdRoom    *room,
            NatterdUser    *me,
            NatterdUser    *target)
{
  if (target == me)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "You cannot remove yourself: leave the room instead");
      return FALSE;
    }
  if (target == room->owner)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "Nobody may remove the room's owner");
      return FALSE;
    }
  if (natterd_room_role (room, target) == NATTERD_ROLE_ADMIN &&
      natterd_room_role (room, me) != NATTERD_ROLE_OWNER)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "Only the room's owner may remove an admin");
      return FALSE;
    }
  return TRUE;
}

/* --- room_update --- */

static gboolean
update_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  AdminWrite *w = (AdminWrite *) job;

  return natterd_store_room_settings_set (store, w->conversation_id, w->text, w->flag, error);
}

static void
update_apply (NatterdModelWrite *model,
              const GError      *error)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdRequest *request = applied (model, error);

  if (request == NULL)
    return;
  g_free (w->room->display_name);
  w->room->display_name = g_strdup (w->text);
  w->room->is_private = w->flag;
  natterd_events_room_updated (w->room, w->me, natterd_request_get_connection (request));
  natterd_reply_room (request, w->room);
}

void
natterd_handle_room_update (NatterdRequest *request)
{
  NatterdRoom *room;
  const char *display_name;
  gboolean has_private, is_private;
  AdminWrite *w;

  if (!natterd_arg_string (request, "display_name", FALSE, &display_name) ||
      !natterd_arg_bool (request, "private", &has_private, &is_private))
    return;
  if (display_name == NULL && !has_private)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "room_update needs display_name or private");
      return;
    }
  if (display_name != NULL && display_name[0] != '\0' && !natter_display_name_is_valid (display_name))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "display_name must be 1 to 64 characters without control characters");
      return;
    }
  if ((room = room_for (request, natterd_handle_room_update, NATTERD_ROLE_ADMIN)) == NULL)
    return;

  w = admin_write_new (request, room, NULL);
  /* "" clears the name; a field left out keeps its value. */
  w->text = display_name == NULL ? g_strdup (room->display_name)
            : display_name[0] != '\0' ? g_strdup (display_name) : NULL;
  w->flag = has_private ? is_private : room->is_private;
  if (g_strcmp0 (w->text, room->display_name) == 0 && w->flag == room->is_private)
    {
      admin_write_clear (w);
      g_free (w);
      natterd_reply_room (request, room);
      return;
    }
  admin_write_start (w, request, update_run, update_apply);
}

/* --- room_role --- */

static gboolean
role_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  AdminWrite *w = (AdminWrite *) job;

  return natterd_store_room_role_set (store, w->conversation_id, w->target_id, w->flag, error);
}

static void
role_apply (NatterdModelWrite *model,
            const GError      *error)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdRequest *request = applied (model, error);

  if (request == NULL)
    return;
  natterd_room_set_admin (w->room, w->target, w->flag);
  natterd_events_room_role (w->room, w->target, w->me, natterd_request_get_connection (request));
  natterd_request_ok (request);
}

void
natterd_handle_room_role (NatterdRequest *request)
{
  NatterdRoom *room;
  NatterdUser *target;
  const char *role;
  AdminWrite *w;

  if (!natterd_arg_string (request, "role", TRUE, &role))
    return;
  if (!g_str_equal (role, "admin") && !g_str_equal (role, "member"))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "role must be admin or member");
      return;
    }
  if ((room = room_for (request, natterd_handle_room_role, NATTERD_ROLE_OWNER)) == NULL ||
      (target = member_arg (request, room)) == NULL)
    return;
  if (target == room->owner)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "The owner's role changes only with room_transfer");
      return;
    }
  if ((natterd_room_role (room, target) == NATTERD_ROLE_ADMIN) == g_str_equal (role, "admin"))
    {
      natterd_request_ok (request);
      return;
    }
  w = admin_write_new (request, room, target);
  w->flag = g_str_equal (role, "admin");
  admin_write_start (w, request, role_run, role_apply);
}

/* --- room_transfer --- */

static gboolean
transfer_run (NatterdWriteJob *job,
              NatterdStore    *store,
              GError         **error)
{
  AdminWrite *w = (AdminWrite *) job;

  return natterd_store_room_owner_set (store, w->conversation_id, w->target_id, error) &&
         natterd_store_room_role_set (store, w->conversation_id, w->target_id, FALSE, error) &&
         natterd_store_room_role_set (store, w->conversation_id, w->me_id, TRUE, error);
}

static void
transfer_apply (NatterdModelWrite *model,
                const GError      *error)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdRequest *request = applied (model, error);

  if (request == NULL)
    return;
  w->room->owner = w->target;
  natterd_room_set_admin (w->room, w->target, FALSE);
  natterd_room_set_admin (w->room, w->me, TRUE);
  natterd_events_room_updated (w->room, w->me, natterd_request_get_connection (request));
  natterd_reply_room (request, w->room);
}

void
natterd_handle_room_transfer (NatterdRequest *request)
{
  NatterdRoom *room;
  NatterdUser *target;

  if ((room = room_for (request, natterd_handle_room_transfer, NATTERD_ROLE_OWNER)) == NULL ||
      (target = member_arg (request, room)) == NULL)
    return;
  if (target == room->owner)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "You own the room already");
      return;
    }
  admin_write_start (admin_write_new (request, room, target), request, transfer_run, transfer_apply);
}

/* --- invitations --- */

static gboolean
invite_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  AdminWrite *w = (AdminWrite *) job;

  return natterd_store_room_invitation_set (store, w->conversation_id, w->target_id, w->flag,
                                            w->me_id, w->ts, error);
}

static void
invite_apply (NatterdModelWrite *model,
              const GError      *error)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdRequest *request = applied (model, error);
  NatterdConnection *except = NULL;

  if (request == NULL)
    return;
  if (w->flag)
    natterd_room_set_invitation (w->room, w->target, w->me, w->ts);
  else
    {
      /* A decline: the decliner's other connections hear of it. */
      if (w->target == w->me)
        except = natterd_request_get_connection (request);
      natterd_room_set_invitation (w->room, w->target, NULL, 0);
    }
  natterd_events_room_invitation (w->room, w->target, w->flag, except);
  natterd_request_ok (request);
}

void
natterd_handle_room_invite (NatterdRequest *request)
{
  NatterdRoom *room;
  NatterdUser *target;
  AdminWrite *w;

  if ((room = room_for (request, natterd_handle_room_invite, NATTERD_ROLE_ADMIN)) == NULL ||
      (target = natterd_arg_user (request, "username")) == NULL)
    return;
  if (natterd_room_has_member (room, target))
    {
      natterd_request_error (request, NATTER_ERROR_CONFLICT, "That user is a member already");
      return;
    }
  if (natterd_room_find_ban (room, target) != NULL)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN,
                             "That user is banned from the room: unban them first");
      return;
    }
  if (natterd_room_find_invitation (room, target) != NULL)
    {
      natterd_request_ok (request);
      return;
    }
  if (target->invited->len >= INVITATIONS_PER_USER_MAX)
    {
      natterd_request_error (request, NATTER_ERROR_FORBIDDEN,
                             "That user has too many pending invitations");
      return;
    }
  w = admin_write_new (request, room, target);
  w->flag = TRUE;
  admin_write_start (w, request, invite_run, invite_apply);
}

void
natterd_handle_room_uninvite (NatterdRequest *request)
{
  NatterdRoom *room;
  NatterdUser *target;

  if ((room = room_for (request, natterd_handle_room_uninvite, NATTERD_ROLE_ADMIN)) == NULL ||
      (target = natterd_arg_user (request, "username")) == NULL)
    return;
  if (natterd_room_find_invitation (room, target) == NULL)
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "That user has no invitation to the room");
      return;
    }
  admin_write_start (admin_write_new (request, room, target), request, invite_run, invite_apply);
}

void
natterd_handle_room_decline (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdRoom *room;

  if (natterd_model_write_wait (dir, request, natterd_handle_room_decline))
    return;
  if ((room = natterd_arg_room (request, "room", FALSE)) == NULL)
    return;
  if (natterd_room_find_invitation (room, me) == NULL)
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "You have no invitation to that room");
      return;
    }
  admin_write_start (admin_write_new (request, room, me), request, invite_run, invite_apply);
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

/* The users of one of a room's tables, by username. */
static GPtrArray *
sorted_keys (GHashTable *table)
{
  GPtrArray *users = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  if (table != NULL)
    {
      g_hash_table_iter_init (&iter, table);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (users, key);
    }
  g_ptr_array_sort (users, compare_users);
  return users;
}

void
natterd_handle_room_invitations (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GPtrArray) rooms = g_ptr_array_copy (me->invited, NULL, NULL);
  NatterJsonWriter *w;

  g_ptr_array_sort (rooms, compare_rooms);
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "invitations");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < rooms->len; i++)
    natterd_room_invitation_write (w, rooms->pdata[i], natterd_room_find_invitation (rooms->pdata[i], me));
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

void
natterd_handle_room_invited (NatterdRequest *request)
{
  NatterdRoom *room = room_for (request, NULL, NATTERD_ROLE_ADMIN);
  g_autoptr(GPtrArray) users = NULL;
  NatterJsonWriter *w;

  if (room == NULL)
    return;
  users = sorted_keys (room->invitations);
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "invitations");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < users->len; i++)
    {
      NatterdUser *user = users->pdata[i];
      NatterdRoomInvitation *invitation = natterd_room_find_invitation (room, user);

      natter_json_writer_begin_object (w);
      natter_json_writer_key (w, "username");
      natter_json_writer_string (w, user->username);
      natter_json_writer_key (w, "by");
      natter_json_writer_string (w, invitation->by->username);
      natter_json_writer_key (w, "ts");
      natter_json_writer_int (w, invitation->ts);
      natter_json_writer_end_object (w);
    }
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

/* --- kick, ban, unban --- */

static gboolean
remove_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  AdminWrite *w = (AdminWrite *) job;

  return natterd_store_participant_remove (store, w->conversation_id, w->target_id, error);
}


/* A member kicked or banned: told at once, gone from the room. */
static void
remove_member (AdminWrite     *w,
               NatterdRequest *request,
               const char     *change)
{
  natterd_events_room_removed (w->room, w->target, change, w->me, w->text, NULL);
  natterd_room_remove_member (w->room, w->target);
  natterd_events_room_member_removed (w->room, w->target, change, w->me,
                                      natterd_request_get_connection (request));
}

static void
kick_apply (NatterdModelWrite *model,
            const GError      *error)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdRequest *request = applied (model, error);

  if (request == NULL)
    return;
  remove_member (w, request, "kicked");
  natterd_request_ok (request);
}

void
natterd_handle_room_kick (NatterdRequest *request)
{
  NatterdRoom *room;
  NatterdUser *target;
  AdminWrite *w;

  if ((room = room_for (request, natterd_handle_room_kick, NATTERD_ROLE_ADMIN)) == NULL ||
      (target = natterd_arg_user (request, "username")) == NULL ||
      !may_remove (request, room, natterd_session_request_user (request), target))
    return;
  if (!natterd_room_has_member (room, target))
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "That user is not a member of the room");
      return;
    }
  w = admin_write_new (request, room, target);
  w->member = TRUE;
  admin_write_start (w, request, remove_run, kick_apply);
}

static gboolean
ban_run (NatterdWriteJob *job,
         NatterdStore    *store,
         GError         **error)
{
  AdminWrite *w = (AdminWrite *) job;

  if (!w->flag)
    return natterd_store_room_ban_set (store, w->conversation_id, w->target_id, FALSE, 0, NULL, 0, error);
  return (!w->member || remove_run (job, store, error)) &&
         (!w->invited ||
          natterd_store_room_invitation_set (store, w->conversation_id, w->target_id, FALSE, 0, 0, error)) &&
         natterd_store_room_ban_set (store, w->conversation_id, w->target_id, TRUE, w->me_id, w->text,
                                     w->ts, error);
}

static void
ban_apply (NatterdModelWrite *model,
           const GError      *error)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdRequest *request = applied (model, error);

  if (request == NULL)
    return;
  if (!w->flag)
    {
      natterd_room_set_ban (w->room, w->target, NULL, NULL, 0);
      natterd_request_ok (request);
      return;
    }
  natterd_room_set_ban (w->room, w->target, w->me, w->text, w->ts);
  if (w->invited)
    {
      natterd_room_set_invitation (w->room, w->target, NULL, 0);
      natterd_events_room_invitation (w->room, w->target, FALSE, NULL);
    }
  if (w->member)
    remove_member (w, request, "banned");
  natterd_request_ok (request);
}

void
natterd_handle_room_ban (NatterdRequest *request)
{
  NatterdRoom *room;
  NatterdUser *target;
  const char *reason;
  AdminWrite *w;

  if (!natterd_arg_string (request, "reason", FALSE, &reason))
    return;
  if (reason != NULL && !natter_topic_is_valid (reason))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "reason must be at most 512 characters without control characters");
      return;
    }
  if ((room = room_for (request, natterd_handle_room_ban, NATTERD_ROLE_ADMIN)) == NULL ||
      (target = natterd_arg_user (request, "username")) == NULL ||
      !may_remove (request, room, natterd_session_request_user (request), target))
    return;
  if (natterd_room_find_ban (room, target) != NULL)
    {
      natterd_request_ok (request);
      return;
    }
  w = admin_write_new (request, room, target);
  w->flag = TRUE;
  w->text = reason != NULL && reason[0] != '\0' ? g_strdup (reason) : NULL;
  w->member = natterd_room_has_member (room, target);
  w->invited = natterd_room_find_invitation (room, target) != NULL;
  admin_write_start (w, request, ban_run, ban_apply);
}

void
natterd_handle_room_unban (NatterdRequest *request)
{
  NatterdRoom *room;
  NatterdUser *target;

  if ((room = room_for (request, natterd_handle_room_unban, NATTERD_ROLE_ADMIN)) == NULL ||
      (target = natterd_arg_user (request, "username")) == NULL)
    return;
  if (natterd_room_find_ban (room, target) == NULL)
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "That user is not banned from the room");
      return;
    }
  admin_write_start (admin_write_new (request, room, target), request, ban_run, ban_apply);
}

void
natterd_handle_room_bans (NatterdRequest *request)
{
  NatterdRoom *room = room_for (request, NULL, NATTERD_ROLE_ADMIN);
  g_autoptr(GPtrArray) users = NULL;
  NatterJsonWriter *w;

  if (room == NULL)
    return;
  users = sorted_keys (room->bans);
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "bans");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < users->len; i++)
    {
      NatterdUser *user = users->pdata[i];
      NatterdRoomBan *ban = natterd_room_find_ban (room, user);

      natter_json_writer_begin_object (w);
      natter_json_writer_key (w, "username");
      natter_json_writer_string (w, user->username);
      natter_json_writer_key (w, "by");
      natter_json_writer_string (w, ban->by->username);
      natter_json_writer_key (w, "reason");
      natter_json_writer_string_or_null (w, ban->reason);
      natter_json_writer_key (w, "ts");
      natter_json_writer_int (w, ban->ts);
      natter_json_writer_end_object (w);
    }
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

/* --- room_delete --- */

static gboolean
delete_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  return natterd_store_room_delete (store, ((AdminWrite *) job)->conversation_id, error);
}

static void
delete_apply (NatterdModelWrite *model,
              const GError      *error)
{
  AdminWrite *w = (AdminWrite *) model;
  NatterdRequest *request = model->write.request;
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdRoom *room = w->room;

  if (error != NULL)
    {
      natterd_directory_restore_room (dir, room);
      natterd_request_store_error (request, error);
      return;
    }
  natterd_events_room_deleted (room, w->me, natterd_request_get_connection (request));
  natterd_request_ok (request);
  natterd_directory_erase_room (dir, room);
}

void
natterd_handle_room_delete (NatterdRequest *request)
{
  NatterdRoom *room = room_for (request, natterd_handle_room_delete, NATTERD_ROLE_OWNER);
  AdminWrite *w;

  if (room == NULL)
    return;
  /* Out of the directory before the write is queued: a send checked
   * after this finds no room, so none can be queued behind the delete
   * and leave a message in a room that no longer exists. */
  natterd_directory_hide_room (natterd_directory_from_request (request), room);
  w = admin_write_new (request, room, NULL);
  w->removes_room = TRUE;
  admin_write_start (w, request, delete_run, delete_apply);
}
