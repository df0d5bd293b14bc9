/* natter-room-entry-private.h: what the client core makes. */
#pragma once

#include "natter-room-entry.h"

G_BEGIN_DECLS

NatterRoomEntry *natter_room_entry_new (NatterUser *user,
                                        const char *by,
                                        const char *reason,
                                        gint64      ts);

G_END_DECLS
