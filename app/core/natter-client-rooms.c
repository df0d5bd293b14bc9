/* natter-client-rooms.c: rooms: their requests, replies and events
 * (room_member, room_topic), the rooms list, and the notices they leave in a
 * room.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-room-private.h"

static void
join_room_locally (NatterClient *self,
                   NatterRoom   *room)
{
  NatterConversation *conv;

  store_add_unique (self->rooms, room);
  conv = natter_client_lookup_conversation (self, natter_room_get_name (room), TRUE);
  if (conv != NULL)
    natter_conversation_set_room (conv, room);
}

void
natter_client_rooms_leave_locally (NatterClient *self,
                                   NatterRoom   *room)
{
  NatterConversation *conv;

  store_remove_item (self->rooms, room);
  conv = g_hash_table_lookup (self->conversations_by_address, natter_room_get_name (room));
  if (conv != NULL)
    {
      natter_conversation_set_room (conv, NULL);
      natter_client_conversations_forget_if_left_room (self, conv);
    }
}

/* Where a notice from an event goes in @conv: after every message the
 * client has had (last_id, and what history brought in, which does not
 * move last_id), as the server sends events in order. */
static gint64
notice_anchor (NatterClient       *self,
               NatterConversation *conv)
{
  NatterMessage *newest = natter_message_list_get_newest_stored (natter_conversation_get_list (conv));

  return MAX (self->last_id, newest != NULL ? natter_message_get_id (newest) : 0);
}

void
natter_client_rooms_handle_member (NatterClient *self,
                                   JsonObject   *frame)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (frame, "room"));
  NatterUser *user = natter_client_intern_user_json (self, get_object (frame, "user"));
  const char *change = get_string (frame, "change");
  gboolean joined;
  guint count;

  if (room == NULL || user == NULL || change == NULL)
    return;

  joined = g_str_equal (change, "joined");
  /* Kicked and banned (room_management) are a leave decided by someone
   * else. */
  if (!joined && !g_str_equal (change, "left") && !g_str_equal (change, "kicked") &&
      !g_str_equal (change, "banned"))
    return;

  count = natter_room_get_member_count (room);
  if (user == self->me)
    {
      gboolean member = store_contains (self->rooms, room, NULL);

      /* Our own join/leave may already be applied from the reply. */
      if (joined && !member)
        {
          natter_room_set_member_count (room, count + 1);
          join_room_locally (self, room);
        }
      else if (!joined && member)
        {
          natter_room_set_member_count (room, count > 0 ? count - 1 : 0);
          natter_client_rooms_leave_locally (self, room);
        }
      return;
    }

  natter_room_set_member_count (room, joined ? count + 1 : (count > 0 ? count - 1 : 0));
  /* Shown in the room, after everything that came before the event. */
  {
    NatterConversation *conv = natter_client_lookup_conversation (self, natter_room_get_name (room), FALSE);

    if (conv != NULL)
      natter_conversation_note_member (conv, user, joined, notice_anchor (self, conv));
  }
}

void
natter_client_rooms_handle_topic (NatterClient *self,
                                  JsonObject   *frame)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (frame, "room"));
  const char *topic = get_string (frame, "topic");
  NatterConversation *conv;

  if (room == NULL)
    return;
  natter_room_set_topic (room, topic);
  conv = natter_client_lookup_conversation (self, natter_room_get_name (room), FALSE);
  if (conv != NULL)
    natter_conversation_note_topic (conv, natter_client_lookup_user (self, get_string (frame, "by")),
                                    topic, notice_anchor (self, conv));
}

/* The rooms we are in, as a session loads them (the reply to "rooms"). */
void
natter_client_rooms_apply_list (NatterClient *self,
                                JsonArray    *rooms)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new ();
  GListModel *model = G_LIST_MODEL (self->rooms);

  for (guint i = 0; i < json_array_get_length (rooms); i++)
    {
      NatterRoom *room = natter_client_intern_room_json (self, array_object (rooms, i));
      if (room != NULL)
        g_ptr_array_add (list, room);
    }
  /* Rooms we left while away lose their link. */
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(NatterRoom) old = g_list_model_get_item (model, i);
      if (!g_ptr_array_find (list, old, NULL))
        {
          NatterConversation *conv =
            g_hash_table_lookup (self->conversations_by_address, natter_room_get_name (old));
          if (conv != NULL)
            {
              natter_conversation_set_room (conv, NULL);
              natter_client_conversations_forget_if_left_room (self, conv);
            }
        }
    }
  g_list_store_splice (self->rooms, 0, g_list_model_get_n_items (model),
                       list->pdata, list->len);
  for (guint i = 0; i < list->len; i++)
    join_room_locally (self, g_ptr_array_index (list, i));
}

static gpointer
room_joined_reply (NatterClient  *self,
                   JsonObject    *req,
                   JsonObject    *reply,
                   GError       **error)
{
  NatterRoom *room = natter_client_intern_room_json (self, get_object (reply, "room"));

  if (room == NULL)
    room = natter_client_intern_room (self, get_string (req, "room"));
  if (room == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "The server's reply lacks the room");
      return NULL;
    }
  join_room_locally (self, room);
  /* A join is how an invitation is accepted. */
  natter_client_room_admin_forget_invitation (self, room);
  return g_object_ref (room);
}

static gpointer
room_left_reply (NatterClient  *self,
                 JsonObject    *req,
                 JsonObject    *reply,
                 GError       **error)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (req, "room"));

  if (room == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "Unknown room");
      return NULL;
    }
  natter_client_rooms_leave_locally (self, room);
  return g_object_ref (room);
}

static gpointer
room_topic_reply (NatterClient  *self,
                  JsonObject    *req,
                  JsonObject    *reply,
                  GError       **error)
{
  NatterRoom *room = natter_client_intern_room (self, get_string (req, "room"));

  if (room == NULL)
    {
      g_set_error_literal (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                           "Unknown room");
      return NULL;
    }
  natter_room_set_topic (room, get_string (req, "topic"));
  return g_object_ref (room);
}

static gboolean
finish_object (NatterClient  *self,
               GAsyncResult  *result,
               gpointer       source_tag,
               GError       **error)
{
  g_autoptr(GObject) object = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  object = g_task_propagate_pointer (G_TASK (result), error);
  return object != NULL;
}

void
natter_client_room_create_async (NatterClient        *self,
                                 const char          *name,
                                 const char          *topic,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_create", "room", name);
  if (topic != NULL)
    json_object_set_string_member (req, "topic", topic);
  natter_client_request (self, req, room_joined_reply, natter_client_room_create_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_create_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return finish_object (self, result, natter_client_room_create_async, error);
}

void
natter_client_room_join_async (NatterClient        *self,
                               const char          *name,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_join", "room", name);
  natter_client_request (self, req, room_joined_reply, natter_client_room_join_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_join_finish (NatterClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_object (self, result, natter_client_room_join_async, error);
}

void
natter_client_room_leave_async (NatterClient        *self,
                                const char          *name,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_leave", "room", name);
  natter_client_request (self, req, room_left_reply, natter_client_room_leave_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_leave_finish (NatterClient  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return finish_object (self, result, natter_client_room_leave_async, error);
}

void
natter_client_room_set_topic_async (NatterClient        *self,
                                    const char          *name,
                                    const char          *topic,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL && topic != NULL);

  req = request_with ("room_topic", "room", name);
  json_object_set_string_member (req, "topic", topic);
  natter_client_request (self, req, room_topic_reply, natter_client_room_set_topic_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_room_set_topic_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return finish_object (self, result, natter_client_room_set_topic_async, error);
}

static gpointer
room_from_json (NatterClient *self,
                JsonObject   *obj)
{
  NatterRoom *room = natter_client_intern_room_json (self, obj);
  return room != NULL ? g_object_ref (room) : NULL;
}

static gpointer
rooms_reply (NatterClient  *self,
             JsonObject    *req,
             JsonObject    *reply,
             GError       **error)
{
  return natter_client_request_model_from_reply (self, reply, "rooms", NATTER_TYPE_ROOM,
                                                 room_from_json, error);
}

void
natter_client_room_directory_async (NatterClient        *self,
                                    const char          *query,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  req = request_with ("room_directory", "query", query != NULL ? query : "");
  natter_client_request (self, req, rooms_reply, natter_client_room_directory_async,
                         cancellable, callback, user_data);
}

GListModel *
natter_client_room_directory_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_room_directory_async, error);
}

void
natter_client_room_members_async (NatterClient        *self,
                                  const char          *name,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (name != NULL);

  req = request_with ("room_members", "room", name);
  natter_client_request (self, req, natter_client_contacts_users_reply, natter_client_room_members_async,
                         cancellable, callback, user_data);
}

GListModel *
natter_client_room_members_finish (NatterClient  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_room_members_async, error);
}
