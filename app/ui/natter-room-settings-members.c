/* natter-room-settings-members.c: the Members page of the room settings:
 * the members, owner first, then admins, then by name, each with their
 * role and a menu of what the viewer may do to them (docs/protocol.md,
 * "Roles"): the owner makes and unmakes admins and hands the room on;
 * the owner kicks and bans anyone else, an admin only plain members.
 */
#define G_LOG_DOMAIN "natter-room-settings"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-room-settings-private.h"
#include "natter-ui-util.h"

static NatterRoomRole
role_of (NatterRoomSettingsWindow *self,
         NatterUser               *user)
{
  if (self->room == NULL)
    return NATTER_ROOM_ROLE_MEMBER;
  return natter_room_get_role (self->room, natter_user_get_username (user));
}

static int
compare_members (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  NatterRoomSettingsWindow *self = user_data;
  NatterUser *ua = (NatterUser *) a;
  NatterUser *ub = (NatterUser *) b;
  NatterRoomRole ra = role_of (self, ua);
  NatterRoomRole rb = role_of (self, ub);

  if (ra != rb)
    return ra > rb ? -1 : 1;
  {
    g_autofree char *fa = g_utf8_casefold (natter_user_get_display_name (ua), -1);
    g_autofree char *fb = g_utf8_casefold (natter_user_get_display_name (ub), -1);

    return g_utf8_collate (fa, fb);
  }
}

static const char *
role_label (NatterRoomRole role)
{
  switch (role)
    {
    case NATTER_ROOM_ROLE_OWNER:
      return _("Owner");
    case NATTER_ROOM_ROLE_ADMIN:
      return _("Admin");
    case NATTER_ROOM_ROLE_MEMBER:
    default:
      return NULL;
    }
}

static void
append_action (GMenu      *section,
               const char *label,
               const char *action,
               const char *username)
{
  g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);

  g_menu_item_set_action_and_target_value (item, action, g_variant_new_string (username));
  g_menu_append_item (section, item);
}

/* What the viewer may do to @user, as a menu; NULL for nothing. */
static GMenuModel *
member_menu (NatterRoomSettingsWindow *self,
             NatterUser               *user)
{
  const char *username = natter_user_get_username (user);
  NatterUser *me = natter_client_get_me (self->client);
  NatterRoomRole mine = natter_room_settings_my_role (self);
  NatterRoomRole theirs = role_of (self, user);
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) roles = g_menu_new ();
  g_autoptr(GMenu) removal = g_menu_new ();

  if (!natter_room_settings_can_manage (self) || user == me || theirs == NATTER_ROOM_ROLE_OWNER)
    return NULL;
  if (mine == NATTER_ROOM_ROLE_ADMIN && theirs != NATTER_ROOM_ROLE_MEMBER)
    return NULL;

  if (mine == NATTER_ROOM_ROLE_OWNER)
    {
      if (theirs == NATTER_ROOM_ROLE_ADMIN)
        append_action (roles, _("Remove _Admin Role"), "room.make-member", username);
      else
        append_action (roles, _("Make _Admin"), "room.make-admin", username);
      append_action (roles, _("_Transfer Ownership…"), "room.transfer", username);
      g_menu_append_section (menu, NULL, G_MENU_MODEL (roles));
    }
  append_action (removal, _("_Remove from Room…"), "room.kick", username);
  append_action (removal, _("_Ban…"), "room.ban", username);
  g_menu_append_section (menu, NULL, G_MENU_MODEL (removal));
  return G_MENU_MODEL (g_steal_pointer (&menu));
}

static GtkWidget *
create_member_row (gpointer item,
                   gpointer user_data)
{
  NatterRoomSettingsWindow *self = user_data;
  NatterUser *user = item;
  GtkWidget *row = natter_user_row_new (user, 32);
  const char *role = role_label (role_of (self, user));
  g_autoptr(GMenuModel) menu = member_menu (self, user);

  if (role != NULL)
    {
      GtkWidget *label = gtk_label_new (role);

      gtk_widget_add_css_class (label, "dim-label");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
    }
  if (menu != NULL)
    {
      GtkWidget *button = gtk_menu_button_new ();
      /* Translators: the tooltip of a member's menu; %s is their name. */
      g_autofree char *tooltip = g_strdup_printf (_("Actions for %s"), natter_user_get_display_name (user));

      gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), "view-more-symbolic");
      gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), menu);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_widget_add_css_class (button, "flat");
      gtk_size_group_add_widget (self->menu_width, button);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    }
  else if (natter_room_settings_can_manage (self))
    {
      /* Roles line up whether a row has a menu or not. */
      GtkWidget *stand_in = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

      gtk_size_group_add_widget (self->menu_width, stand_in);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), stand_in);
    }
  return row;
}

void
natter_room_settings_members_update (NatterRoomSettingsWindow *self)
{
  GtkSorter *sorter = gtk_sort_list_model_get_sorter (self->sorted_members);

  gtk_sorter_changed (sorter, GTK_SORTER_CHANGE_DIFFERENT);
  /* Binding again makes every row anew, with its role and menu now. */
  gtk_list_box_bind_model (self->members_list, G_LIST_MODEL (self->sorted_members),
                           create_member_row, self, NULL);
}

static void
members_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterRoomSettingsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) members = NULL;
  g_autofree char *description = NULL;
  guint n;

  members = natter_client_room_members_finish (NATTER_CLIENT (object), result, &error);
  if (members == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_widget_set_visible (self->members_spinner, FALSE);
          natter_room_settings_show_error (self, error);
        }
      return;
    }

  gtk_widget_set_visible (self->members_spinner, FALSE);
  g_set_object (&self->members, members);
  gtk_sort_list_model_set_model (self->sorted_members, members);
  natter_room_settings_members_update (self);
  n = g_list_model_get_n_items (members);
  description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members", n), n);
  adw_preferences_group_set_description (self->members_group, description);
}

void
natter_room_settings_members_reload (NatterRoomSettingsWindow *self)
{
  natter_client_room_members_async (self->client, self->room_name, self->cancellable,
                                    members_cb, g_object_ref (self));
}

/* ---- what the menus do --------------------------------------------------- */

static const char *
name_of (NatterRoomSettingsWindow *self,
         const char               *username)
{
  NatterUser *user = natter_client_lookup_user (self->client, username);

  return user != NULL ? natter_user_get_display_name (user) : username;
}

static void
make_admin_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  NatterRoomSettingsWindow *self = NATTER_ROOM_SETTINGS_WINDOW (widget);
  const char *username = g_variant_get_string (parameter, NULL);
  gboolean admin = g_str_equal (action_name, "room.make-admin");

  /* The row shows the new role: no toast. */
  natter_room_settings_manage (self, admin ? NATTER_ROOM_ACTION_MAKE_ADMIN : NATTER_ROOM_ACTION_MAKE_MEMBER,
                               username, NULL, NULL);
}

static void
transfer_confirmed (NatterRoomSettingsWindow *self,
                    const char               *username,
                    AdwMessageDialog         *dialog)
{
  /* Translators: a toast; %s is a person's name. */
  g_autofree char *done = g_strdup_printf (_("%s now owns the room"), name_of (self, username));

  natter_room_settings_manage (self, NATTER_ROOM_ACTION_TRANSFER, username, NULL, done);
}

static void
transfer_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  NatterRoomSettingsWindow *self = NATTER_ROOM_SETTINGS_WINDOW (widget);
  const char *username = g_variant_get_string (parameter, NULL);
  /* Translators: %s is a person's name. */
  g_autofree char *heading = g_strdup_printf (_("Make %s the Owner?"), name_of (self, username));

  natter_room_settings_confirm (self, heading,
                                _("You will become an admin. Only the owner can make admins, hand the room on or delete it."),
                                "transfer", _("_Transfer Ownership"), username, transfer_confirmed);
}

static void
kick_confirmed (NatterRoomSettingsWindow *self,
                const char               *username,
                AdwMessageDialog         *dialog)
{
  /* Translators: a toast; %s is a person's name. */
  g_autofree char *done = g_strdup_printf (_("%s was removed"), name_of (self, username));

  natter_room_settings_manage (self, NATTER_ROOM_ACTION_KICK, username, NULL, done);
}

static void
kick_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterRoomSettingsWindow *self = NATTER_ROOM_SETTINGS_WINDOW (widget);
  const char *username = g_variant_get_string (parameter, NULL);
  /* Translators: %s is a person's name. */
  g_autofree char *heading = g_strdup_printf (_("Remove %s?"), name_of (self, username));

  natter_room_settings_confirm (self, heading,
                                _("They leave the room now. They may join again; a private room needs a new invitation."),
                                "remove", _("_Remove"), username, kick_confirmed);
}

static void
ban_confirmed (NatterRoomSettingsWindow *self,
               const char               *username,
               AdwMessageDialog         *dialog)
{
  GtkWidget *entry = adw_message_dialog_get_extra_child (dialog);
  g_autofree char *reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  /* Translators: a toast; %s is a person's name. */
  g_autofree char *done = g_strdup_printf (_("%s was banned"), name_of (self, username));

  natter_room_settings_manage (self, NATTER_ROOM_ACTION_BAN, username, reason, done);
}

static void
ban_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  NatterRoomSettingsWindow *self = NATTER_ROOM_SETTINGS_WINDOW (widget);
  const char *username = g_variant_get_string (parameter, NULL);
  /* Translators: %s is a person's name. */
  g_autofree char *heading = g_strdup_printf (_("Ban %s?"), name_of (self, username));
  AdwMessageDialog *dialog;
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason (optional)"));
  gtk_entry_set_max_length (GTK_ENTRY (entry), 512);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), FALSE);
  dialog = natter_room_settings_confirm (self, heading,
                                         _("They leave the room and cannot join or be invited again until they are unbanned."),
                                         "ban", _("_Ban"), username, ban_confirmed);
  adw_message_dialog_set_extra_child (dialog, entry);
}

void
natter_room_settings_members_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "room.make-admin", "s", make_admin_action);
  gtk_widget_class_install_action (widget_class, "room.make-member", "s", make_admin_action);
  gtk_widget_class_install_action (widget_class, "room.transfer", "s", transfer_action);
  gtk_widget_class_install_action (widget_class, "room.kick", "s", kick_action);
  gtk_widget_class_install_action (widget_class, "room.ban", "s", ban_action);
}

void
natter_room_settings_members_init (NatterRoomSettingsWindow *self)
{
  GtkSorter *sorter = GTK_SORTER (gtk_custom_sorter_new (compare_members, self, NULL));

  self->sorted_members = gtk_sort_list_model_new (NULL, sorter);
  self->menu_width = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
}
