/* natter-client-room-admin.c: feature room_management (docs/protocol.md,
 * "Room management"): our pending invitations (a model of rooms, each
 * with who invited us), their events, the room changes others make
 * (room_updated, room_role), our removal from a room (room_removed:
 * kicked, banned, or the room deleted), and the requests that manage a
 * room, one call with the action as an argument, and the lists an admin
 * reads (room_bans, room_invited).
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-room-entry-private.h"
#include "natter-room-private.h"

static void
add_invitation (NatterClient *self,
                JsonObject   *invitation)
{
  NatterRoom *room = natter_client_intern_room_json (self, get_object (invitation, "room"));
  const char *by = get_string (invitation, "by");

  if (room == NULL || by == NULL)
    return;
  natter_room_set_invited_by (room, by);
  store_add_unique (self->invitations, room);
}

void
natter_client_room_admin_forget_invitation (NatterClient *self,
                                            NatterRoom   *room)
{
  natter_room_set_invited_by (room, NULL);
  store_remove_item (self->invitations, room);
}

/* The reply to room_invitations, as a session loads it. */
void
natter_client_room_admin_apply_invitations (NatterClient *self,
                                            JsonArray    *invitations)
{
  GListModel *model = G_LIST_MODEL (self->invitations);

  while (g_list_model_get_n_items (model) > 0)
    {
      g_autoptr(NatterRoom) room = g_list_model_get_item (model, 0);

      natter_client_room_admin_forget_invitation (self, room);
    }
  for (guint i = 0; i < json_array_get_length (invitations); i++)
    add_invitation (self, array_object (invitations, i));
}

void
natter_client_room_admin_handle_invitation (NatterClient *self,
                                            JsonObject   *frame)
{
  const char *change = get_string (frame, "change");
  NatterRoom *room;

  if (g_strcmp0 (change, "added") == 0)
    add_invitation (self, get_object (frame, "invitation"));
  else if (g_strcmp0 (change, "removed") == 0 &&
           (room = natter_client_intern_room (self, get_string (frame, "room"))) != NULL)
    natter_client_room_admin_forget_invitation (self, room);
}

void
natter_client_room_admin_handle_updated (NatterClient *self,
                                         JsonObject   *frame)
{
  natter_client_intern_room_json (self, get_object (frame, "room"));
}

void
natter_client_room_admin_handle_role (NatterClient *self,
                                      JsonObject   *frame)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (frame, "room"));
  const char *user = get_string (frame, "user");
  const char *role = get_string (frame, "role");

  if (room != NULL && user != NULL && role != NULL)
    natter_room_set_admin (room, user, g_str_equal (role, "admin"));
}

void
natter_client_room_admin_handle_removed (NatterClient *self,
                                         JsonObject   *frame)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (frame, "room"));
  const char *reason = get_string (frame, "reason");

  if (room == NULL || reason == NULL)
    return;
  natter_client_rooms_leave_locally (self, room);
  natter_client_emit_room_removed (self, room, reason, get_string (frame, "by"),
                                   get_string (frame, "ban_reason"));
}

/* ---- requests ------------------------------------------------------------ */

static const struct {
  const char *type;
  gboolean    needs_user;
} actions[] = {
  [NATTER_ROOM_ACTION_INVITE]           = { "room_invite",   TRUE },
  [NATTER_ROOM_ACTION_UNINVITE]         = { "room_uninvite", TRUE },
  [NATTER_ROOM_ACTION_DECLINE]          = { "room_decline",  FALSE },
  [NATTER_ROOM_ACTION_KICK]             = { "room_kick",     TRUE },
  [NATTER_ROOM_ACTION_BAN]              = { "room_ban",      TRUE },
  [NATTER_ROOM_ACTION_UNBAN]            = { "room_unban",    TRUE },
  [NATTER_ROOM_ACTION_MAKE_ADMIN]       = { "room_role",     TRUE },
  [NATTER_ROOM_ACTION_MAKE_MEMBER]      = { "room_role",     TRUE },
  [NATTER_ROOM_ACTION_TRANSFER]         = { "room_transfer", TRUE },
  [NATTER_ROOM_ACTION_DELETE]           = { "room_delete",   FALSE },
  [NATTER_ROOM_ACTION_SET_DISPLAY_NAME] = { "room_update",   FALSE },
  [NATTER_ROOM_ACTION_SET_PRIVATE]      = { "room_update",   FALSE },
  [NATTER_ROOM_ACTION_SET_PUBLIC]       = { "room_update",   FALSE },
};

static gpointer
recount_reply (NatterClient  *self,
               JsonObject    *req,
               JsonObject    *reply,
               GError       **error)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (req, "room"));
  JsonArray *members = get_array (reply, "members");

  if (room == NULL || members == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's reply lacks the members");
      return NULL;
    }
  natter_room_set_member_count (room, json_array_get_length (members));
  return g_object_ref (room);
}

/* A ban may name a member or not, and its reply does not say which (the
 * asking connection gets no room_member event either), so the count is
 * asked for. The reply comes after every event sent before it on this
 * connection, so the count it sets is the newest. */
static void
recount_members (NatterClient *self,
                 NatterRoom   *room)
{
  g_autoptr(JsonObject) req = request_with ("room_members", "room", natter_room_get_name (room));

  natter_client_request (self, req, recount_reply, recount_members, NULL, NULL, NULL);
}

/* What the reply settles here; the others hear it as events. */
static gpointer
manage_reply (NatterClient  *self,
              JsonObject    *req,
              JsonObject    *reply,
              GError       **error)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (req, "room"));
  const char *type = get_string (req, "type");
  const char *user = get_string (req, "username");

  if (room == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL, "Unknown room");
      return NULL;
    }
  natter_client_intern_room_json (self, get_object (reply, "room"));
  if (g_str_equal (type, "room_decline"))
    natter_client_room_admin_forget_invitation (self, room);
  else if (g_str_equal (type, "room_delete"))
    natter_client_rooms_leave_locally (self, room);
  else if (g_str_equal (type, "room_role") && user != NULL)
    natter_room_set_admin (room, user, g_strcmp0 (get_string (req, "role"), "admin") == 0);
  else if (g_str_equal (type, "room_kick"))
    {
      guint count = natter_room_get_member_count (room);

      natter_room_set_member_count (room, count > 0 ? count - 1 : 0);
    }
  else if (g_str_equal (type, "room_ban"))
    recount_members (self, room);
  return g_object_ref (room);
}

void
natter_client_room_manage_async (NatterClient        *self,
                                 const char          *room,
                                 NatterRoomAction     action,
                                 const char          *username,
                                 const char          *text,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (room != NULL);
  g_return_if_fail ((guint) action < G_N_ELEMENTS (actions));
  g_return_if_fail (!actions[action].needs_user || username != NULL);

  req = request_with (actions[action].type, "room", room);
  if (actions[action].needs_user)
    json_object_set_string_member (req, "username", username);
  switch (action)
    {
    case NATTER_ROOM_ACTION_MAKE_ADMIN:
    case NATTER_ROOM_ACTION_MAKE_MEMBER:
      json_object_set_string_member (req, "role", action == NATTER_ROOM_ACTION_MAKE_ADMIN ? "admin" : "member");
      break;
    case NATTER_ROOM_ACTION_BAN:
      if (text != NULL && *text != '\0')
        json_object_set_string_member (req, "reason", text);
      break;
    case NATTER_ROOM_ACTION_SET_DISPLAY_NAME:
      json_object_set_string_member (req, "display_name", text != NULL ? text : "");
      break;
    case NATTER_ROOM_ACTION_SET_PRIVATE:
    case NATTER_ROOM_ACTION_SET_PUBLIC:
      json_object_set_boolean_member (req, "private", action == NATTER_ROOM_ACTION_SET_PRIVATE);
      break;
    default:
      break;
    }
  natter_client_request (self, req, manage_reply, natter_client_room_manage_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_manage_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_autoptr(GObject) room = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_client_room_manage_async, FALSE);
  room = g_task_propagate_pointer (G_TASK (result), error);
  return room != NULL;
}

/* ---- the lists of a room: bans, pending invitations ---------------------- */

static gpointer
user_info_reply (NatterClient  *self,
                 JsonObject    *req,
                 JsonObject    *reply,
                 GError       **error)
{
  NatterUser *user = natter_client_intern_user_json (self, get_object (reply, "user"));

  if (user == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's reply lacks the user");
      return NULL;
    }
  return g_object_ref (user);
}

/* The lists name users by username only; someone we share nothing with
 * is then shown by that alone. Their user object (display name, presence
 * as we may see it) is asked for, and the interned user follows. */
static void
learn_user (NatterClient *self,
            NatterUser   *user)
{
  g_autoptr(JsonObject) req = NULL;

  if (g_strcmp0 (natter_user_get_display_name (user), natter_user_get_username (user)) != 0)
    return;
  req = request_with ("user_info", "username", natter_user_get_username (user));
  natter_client_request (self, req, user_info_reply, learn_user, NULL, NULL, NULL);
}

static gpointer
entry_from_json (NatterClient *self,
                 JsonObject   *obj)
{
  NatterUser *user = natter_client_lookup_user (self, get_string (obj, "username"));

  if (user == NULL)
    return NULL;
  learn_user (self, user);
  return natter_room_entry_new (user, get_string (obj, "by"), get_string (obj, "reason"),
                                get_int (obj, "ts", 0));
}

static gpointer
bans_reply (NatterClient  *self,
            JsonObject    *req,
            JsonObject    *reply,
            GError       **error)
{
  return natter_client_request_model_from_reply (self, reply, "bans", NATTER_TYPE_ROOM_ENTRY,
                                                 entry_from_json, error);
}

static gpointer
invited_reply (NatterClient  *self,
               JsonObject    *req,
               JsonObject    *reply,
               GError       **error)
{
  return natter_client_request_model_from_reply (self, reply, "invitations", NATTER_TYPE_ROOM_ENTRY,
                                                 entry_from_json, error);
}

void
natter_client_room_bans_async (NatterClient        *self,
                               const char          *room,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (room != NULL);

  req = request_with ("room_bans", "room", room);
  natter_client_request (self, req, bans_reply, natter_client_room_bans_async,
                         cancellable, callback, user_data);
}

GListModel *
natter_client_room_bans_finish (NatterClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_room_bans_async, error);
}

void
natter_client_room_invited_async (NatterClient        *self,
                                  const char          *room,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (room != NULL);

  req = request_with ("room_invited", "room", room);
  natter_client_request (self, req, invited_reply, natter_client_room_invited_async,
                         cancellable, callback, user_data);
}

GListModel *
natter_client_room_invited_finish (NatterClient  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_room_invited_async, error);
}
