/* natter-room-settings-lists.c: the Invitations and Bans pages of the
 * room settings: inviting by username, the pending invitations with
 * Uninvite, the bans with their reasons and Unban. The server tells an
 * admin of no change to these lists, so they are fetched again after
 * each change made here and whenever the room's members change.
 */
#define G_LOG_DOMAIN "natter-room-settings"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-room-settings-private.h"
#include "natter-ui-util.h"
#include "natter-user-avatar.h"

/* "@dave · invited by …", or "invited by …" alone while we know dave
 * by no other name (the row's title says "dave" already). The client
 * asks for the names of people it does not know, so this follows. */
static void
update_entry_subtitle (AdwActionRow *row)
{
  NatterUser *user = g_object_get_data (G_OBJECT (row), "natter-user");
  const char *what = g_object_get_data (G_OBJECT (row), "natter-what");
  const char *username = natter_user_get_username (user);
  g_autofree char *subtitle = NULL;

  if (g_strcmp0 (natter_user_get_display_name (user), username) == 0)
    subtitle = g_strdup (what);
  else
    subtitle = g_strdup_printf ("@%s · %s", username, what);
  adw_action_row_set_subtitle (row, subtitle);
}

static GtkWidget *
entry_row (NatterRoomEntry *entry,
           const char      *what,
           const char      *button_label,
           const char      *action)
{
  NatterUser *user = natter_room_entry_get_user (entry);
  const char *username = natter_user_get_username (user);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_with_mnemonic (button_label);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_object_bind_property (user, "display-name", row, "title", G_BINDING_SYNC_CREATE);
  g_object_set_data_full (G_OBJECT (row), "natter-user", g_object_ref (user), g_object_unref);
  g_object_set_data_full (G_OBJECT (row), "natter-what", g_strdup (what), g_free);
  g_signal_connect_object (user, "notify::display-name", G_CALLBACK (update_entry_subtitle), row,
                           G_CONNECT_SWAPPED);
  update_entry_subtitle (ADW_ACTION_ROW (row));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), natter_user_avatar_new (user, 32));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (username));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  return row;
}

static GtkWidget *
create_invited_row (gpointer item,
                    gpointer user_data)
{
  NatterRoomEntry *entry = item;
  g_autofree char *when = natter_format_time_short (natter_room_entry_get_ts (entry));
  /* Translators: under an invited person's name: who invited them
   * ("bob"), when ("Yesterday", "14:03"). */
  g_autofree char *what = g_strdup_printf (_("invited by %s, %s"), natter_room_entry_get_by (entry), when);

  return entry_row (entry, what, _("_Uninvite"), "room.uninvite");
}

static GtkWidget *
create_ban_row (gpointer item,
                gpointer user_data)
{
  NatterRoomEntry *entry = item;
  const char *reason = natter_room_entry_get_reason (entry);
  g_autofree char *when = natter_format_time_short (natter_room_entry_get_ts (entry));
  g_autofree char *what = NULL;

  if (reason != NULL && *reason != '\0')
    /* Translators: under a banned person's name: who banned them, when,
     * and the reason given. */
    what = g_strdup_printf (_("banned by %s, %s: “%s”"), natter_room_entry_get_by (entry), when, reason);
  else
    /* Translators: under a banned person's name: who banned them, when
     * (no reason was given). */
    what = g_strdup_printf (_("banned by %s, %s"), natter_room_entry_get_by (entry), when);
  return entry_row (entry, what, _("_Unban"), "room.unban");
}

static void
invited_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterRoomSettingsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) list = natter_client_room_invited_finish (NATTER_CLIENT (object), result, &error);

  if (list == NULL)
    natter_room_settings_show_error (self, error);
  else
    gtk_list_box_bind_model (self->invited_list, list, create_invited_row, self, NULL);
}

static void
bans_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(NatterRoomSettingsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) list = natter_client_room_bans_finish (NATTER_CLIENT (object), result, &error);

  if (list == NULL)
    natter_room_settings_show_error (self, error);
  else
    gtk_list_box_bind_model (self->bans_list, list, create_ban_row, self, NULL);
}

void
natter_room_settings_lists_reload (NatterRoomSettingsWindow *self)
{
  if (!natter_room_settings_can_manage (self))
    return;
  natter_client_room_invited_async (self->client, self->room_name, self->cancellable,
                                    invited_cb, g_object_ref (self));
  natter_client_room_bans_async (self->client, self->room_name, self->cancellable,
                                 bans_cb, g_object_ref (self));
}

/* ---- inviting, uninviting, unbanning ------------------------------------- */

/* The username typed, without the "@" people may put first. */
static char *
typed_username (NatterRoomSettingsWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->invite_row));

  return g_strstrip (g_strdup (text[0] == '@' ? text + 1 : text));
}

/* The server's refusals of an invitation say more here than the words
 * for its codes in general ("conflict" is a member already). */
static void
invite_failed (NatterRoomSettingsWindow *self,
               const GError             *error)
{
  g_autofree char *username = typed_username (self);
  g_autofree char *text = NULL;

  if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND))
    /* Translators: a toast; %s is what was typed as a username. */
    text = g_strdup_printf (_("Nobody is called “%s” on this server."), username);
  else if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_CONFLICT))
    /* Translators: a toast; %s is a username. */
    text = g_strdup_printf (_("%s is a member already."), username);
  else if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_FORBIDDEN))
    /* Translators: a toast; %s is a username. */
    text = g_strdup_printf (_("%s cannot be invited: they are banned, or have too many invitations."), username);
  if (text != NULL)
    natter_room_settings_show_toast (self, text);
  else
    natter_room_settings_show_error (self, error);
}

static void
invite_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(NatterRoomSettingsWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!natter_client_room_manage_finish (NATTER_CLIENT (object), result, &error))
    {
      invite_failed (self, error);
      return;
    }
  /* What was typed stays until the server agrees, so a typo can be
   * mended. */
  gtk_editable_set_text (GTK_EDITABLE (self->invite_row), "");
  natter_room_settings_lists_reload (self);
}

static void
invite_apply_cb (NatterRoomSettingsWindow *self)
{
  g_autofree char *username = typed_username (self);

  if (!natter_username_is_valid (username))
    {
      natter_room_settings_show_toast (self, _("That is not a username: letters, digits, “_” and “-” only."));
      return;
    }
  natter_client_room_manage_async (self->client, self->room_name, NATTER_ROOM_ACTION_INVITE, username, NULL,
                                   self->cancellable, invite_cb, g_object_ref (self));
}

static void
uninvite_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  natter_room_settings_manage (NATTER_ROOM_SETTINGS_WINDOW (widget), NATTER_ROOM_ACTION_UNINVITE,
                               g_variant_get_string (parameter, NULL), NULL, NULL);
}

static void
unban_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  natter_room_settings_manage (NATTER_ROOM_SETTINGS_WINDOW (widget), NATTER_ROOM_ACTION_UNBAN,
                               g_variant_get_string (parameter, NULL), NULL, NULL);
}

static GtkWidget *
placeholder (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_top (label, 18);
  gtk_widget_set_margin_bottom (label, 18);
  return label;
}

void
natter_room_settings_lists_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, invite_apply_cb);
  gtk_widget_class_install_action (widget_class, "room.uninvite", "s", uninvite_action);
  gtk_widget_class_install_action (widget_class, "room.unban", "s", unban_action);
}

void
natter_room_settings_lists_init (NatterRoomSettingsWindow *self)
{
  gtk_list_box_set_placeholder (self->invited_list, placeholder (_("No pending invitations")));
  gtk_list_box_set_placeholder (self->bans_list, placeholder (_("Nobody is banned")));
}
