/* natter-room-directory-dialog.h: browse and join rooms, or create one. */
#pragma once

#include <adwaita.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_ROOM_DIRECTORY_DIALOG (natter_room_directory_dialog_get_type ())
G_DECLARE_FINAL_TYPE (NatterRoomDirectoryDialog, natter_room_directory_dialog, NATTER, ROOM_DIRECTORY_DIALOG, AdwWindow)

/* @create: open on the "create a room" page instead of the directory. */
GtkWindow *natter_room_directory_dialog_new (GtkWindow    *parent,
                                             NatterClient *client,
                                             gboolean      create);

G_END_DECLS
