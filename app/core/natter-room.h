/* natter-room.h: a room ("#general") and what we know about it. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define NATTER_TYPE_ROOM (natter_room_get_type ())
G_DECLARE_FINAL_TYPE (NatterRoom, natter_room, NATTER, ROOM, GObject)

/* "#general", with the '#'. */
const char *natter_room_get_name         (NatterRoom *self);
/* Never NULL; "" when the room has no topic. */
const char *natter_room_get_topic        (NatterRoom *self);
/* The owner's username; NULL when unknown. */
const char *natter_room_get_owner        (NatterRoom *self);
guint       natter_room_get_member_count (NatterRoom *self);

/* Feature room_management (natter_client_get_room_management()). */
typedef enum {
  NATTER_ROOM_ROLE_MEMBER,
  NATTER_ROOM_ROLE_ADMIN,
  NATTER_ROOM_ROLE_OWNER,
} NatterRoomRole;

/* The name to show instead of the room's, or NULL. */
const char         *natter_room_get_display_name (NatterRoom *self);
gboolean            natter_room_get_private      (NatterRoom *self);
/* The admins' usernames, sorted (the owner is never one). */
const char *const  *natter_room_get_admins       (NatterRoom *self);
/* @username's role, were they a member. */
NatterRoomRole      natter_room_get_role         (NatterRoom *self,
                                                  const char *username);
/* Who invited us, while our invitation is pending; else NULL. */
const char         *natter_room_get_invited_by   (NatterRoom *self);

G_END_DECLS
