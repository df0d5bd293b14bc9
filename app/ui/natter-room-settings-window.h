/* natter-room-settings-window.h: a room's settings, GNOME preferences
 * style: its name, topic and privacy, its members with their roles, its
 * invitations and bans (feature room_management), leaving and deleting. */
#pragma once

#include <adwaita.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_ROOM_SETTINGS_WINDOW (natter_room_settings_window_get_type ())
G_DECLARE_FINAL_TYPE (NatterRoomSettingsWindow, natter_room_settings_window, NATTER, ROOM_SETTINGS_WINDOW,
                      AdwPreferencesWindow)

/* Opens on the page named @page ("general", "members", "invitations",
 * "bans"; NULL for the first). */
GtkWindow *natter_room_settings_window_new (GtkWindow    *parent,
                                            NatterClient *client,
                                            const char   *room_name,
                                            const char   *page);

G_END_DECLS
