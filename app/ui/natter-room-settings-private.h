/* natter-room-settings-private.h: what the files of the room settings
 * window share: the struct, and each page's part (general in
 * natter-room-settings-window.c, members in natter-room-settings-members.c,
 * invitations and bans in natter-room-settings-lists.c). */
#pragma once

#include "natter-room-settings-window.h"

G_BEGIN_DECLS

struct _NatterRoomSettingsWindow
{
  AdwPreferencesWindow parent_instance;

  /* template widgets: general */
  AdwEntryRow          *name_row;
  AdwEntryRow          *topic_row;
  AdwActionRow         *name_view_row;
  AdwActionRow         *topic_view_row;
  GtkLabel             *address_label;
  AdwActionRow         *owner_row;
  GtkLabel             *owner_label;
  AdwPreferencesGroup  *privacy_group;
  AdwActionRow         *private_row;
  GtkSwitch            *private_switch;
  AdwActionRow         *delete_row;
  /* members */
  AdwPreferencesPage   *members_page;
  AdwPreferencesGroup  *members_group;
  GtkWidget            *members_spinner;
  GtkListBox           *members_list;
  /* invitations, bans */
  AdwPreferencesPage   *invitations_page;
  AdwEntryRow          *invite_row;
  GtkListBox           *invited_list;
  AdwPreferencesPage   *bans_page;
  GtkListBox           *bans_list;

  /* borrowed references */
  NatterClient         *client;

  /* owned references */
  GPtrArray            *admin_pages; /* invitations and bans, shown to admins only */
  char                 *room_name;
  NatterRoom           *room;       /* NULL once we are out of it */
  GListModel           *members;    /* NatterUser, as the server listed them */
  GtkSortListModel     *sorted_members;
  GtkSizeGroup         *menu_width;  /* the members' menu buttons and their stand-ins */
  GCancellable         *cancellable;
  GSignalGroup         *room_signals;
};

/* What the viewer may do here; MEMBER when the room is gone. */
NatterRoomRole natter_room_settings_my_role     (NatterRoomSettingsWindow *self);
gboolean       natter_room_settings_can_manage  (NatterRoomSettingsWindow *self);
/* A toast: @error in plain words (nothing for a cancelled request). */
void           natter_room_settings_show_error  (NatterRoomSettingsWindow *self,
                                                 const GError             *error);
void           natter_room_settings_show_toast  (NatterRoomSettingsWindow *self,
                                                 const char               *text);
/* One room_management request on this room; a toast with @done_text
 * (may be NULL) when the server agrees, the error's when not, and the
 * lists fetched again either way. */
void           natter_room_settings_manage      (NatterRoomSettingsWindow *self,
                                                 NatterRoomAction          action,
                                                 const char               *username,
                                                 const char               *text,
                                                 const char               *done_text);
/* A confirmation (AdwMessageDialog) over the window; @respond is called
 * with @argument (a username, or what the caller needs) when the person
 * picks @response. The dialog is returned for its extra child (not
 * owned). */
typedef void (*NatterRoomSettingsConfirmed) (NatterRoomSettingsWindow *self,
                                             const char               *argument,
                                             AdwMessageDialog         *dialog);
AdwMessageDialog *natter_room_settings_confirm  (NatterRoomSettingsWindow   *self,
                                                 const char                 *heading,
                                                 const char                 *body,
                                                 const char                 *response,
                                                 const char                 *response_label,
                                                 const char                 *argument,
                                                 NatterRoomSettingsConfirmed respond);

/* natter-room-settings-members.c */
void natter_room_settings_members_class_init (GtkWidgetClass           *widget_class);
void natter_room_settings_members_init       (NatterRoomSettingsWindow *self);
/* Fetches the members again (someone joined or left). */
void natter_room_settings_members_reload     (NatterRoomSettingsWindow *self);
/* The roles changed: the rows' roles and menus, and their order. */
void natter_room_settings_members_update     (NatterRoomSettingsWindow *self);

/* natter-room-settings-lists.c */
void natter_room_settings_lists_class_init   (GtkWidgetClass           *widget_class);
void natter_room_settings_lists_init         (NatterRoomSettingsWindow *self);
/* Fetches the invitations and bans again (when the viewer may see them). */
void natter_room_settings_lists_reload       (NatterRoomSettingsWindow *self);

G_END_DECLS
