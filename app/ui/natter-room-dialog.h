/* natter-room-dialog.h: a room's details: topic, members, leave. */
#pragma once

#include <adwaita.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_ROOM_DIALOG (natter_room_dialog_get_type ())
G_DECLARE_FINAL_TYPE (NatterRoomDialog, natter_room_dialog, NATTER, ROOM_DIALOG, AdwWindow)

GtkWindow *natter_room_dialog_new (GtkWindow    *parent,
                                   NatterClient *client,
                                   const char   *room_name);

G_END_DECLS
