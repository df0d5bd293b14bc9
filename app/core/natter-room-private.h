/* natter-room-private.h: what the client core changes on a NatterRoom. */
#pragma once

#include <json-glib/json-glib.h>

#include "natter-room.h"

G_BEGIN_DECLS

NatterRoom *natter_room_new              (const char *name);
void        natter_room_update_from_json (NatterRoom *self,
                                          JsonObject *room);
void        natter_room_set_topic        (NatterRoom *self,
                                          const char *topic);
void        natter_room_set_member_count (NatterRoom *self,
                                          guint       count);
void        natter_room_set_admin        (NatterRoom *self,
                                          const char *username,
                                          gboolean    admin);
void        natter_room_set_invited_by   (NatterRoom *self,
                                          const char *username);

G_END_DECLS
