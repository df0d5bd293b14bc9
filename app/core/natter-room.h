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

G_END_DECLS
