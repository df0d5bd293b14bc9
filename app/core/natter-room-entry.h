/* natter-room-entry.h: one user on a room's list of bans or of pending
 * invitations (feature room_management), as an admin sees it. */
#pragma once

#include "natter-user.h"

G_BEGIN_DECLS

#define NATTER_TYPE_ROOM_ENTRY (natter_room_entry_get_type ())
G_DECLARE_FINAL_TYPE (NatterRoomEntry, natter_room_entry, NATTER, ROOM_ENTRY, GObject)

/* The banned or invited user (the client's interned one). */
NatterUser *natter_room_entry_get_user   (NatterRoomEntry *self);
/* Who banned or invited them: a username. */
const char *natter_room_entry_get_by     (NatterRoomEntry *self);
/* A ban's reason; NULL when none was given, and for invitations. */
const char *natter_room_entry_get_reason (NatterRoomEntry *self);
/* When, in milliseconds since the epoch. */
gint64      natter_room_entry_get_ts     (NatterRoomEntry *self);

G_END_DECLS
