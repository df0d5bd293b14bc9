/* natter-room-settings-window.c: a room's settings window: its lifetime,
 * the General page (name, topic, privacy, leave, delete), and what the
 * pages share (the viewer's role, toasts, requests, confirmations).
 *
 * Everything follows the room live: the NatterRoom the client keeps
 * changes with room_updated and room_role events and with member counts,
 * and the window redraws from it; a room we are taken out of
 * (room_removed) closes the window. What the viewer may not do is not
 * shown (the server checks it all again).
 */
#define G_LOG_DOMAIN "natter-room-settings"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-room-settings-private.h"
#include "natter-ui-util.h"

G_DEFINE_FINAL_TYPE (NatterRoomSettingsWindow, natter_room_settings_window, ADW_TYPE_PREFERENCES_WINDOW)

/* ---- shared by the pages ------------------------------------------------- */

NatterRoomRole
natter_room_settings_my_role (NatterRoomSettingsWindow *self)
{
  NatterUser *me = natter_client_get_me (self->client);

  if (self->room == NULL || me == NULL)
    return NATTER_ROOM_ROLE_MEMBER;
  return natter_room_get_role (self->room, natter_user_get_username (me));
}

/* Admins and the owner manage; without the feature nobody does here
 * (protocol 1's owner only sets the topic). */
gboolean
natter_room_settings_can_manage (NatterRoomSettingsWindow *self)
{
  return natter_client_get_room_management (self->client) &&
         natter_room_settings_my_role (self) >= NATTER_ROOM_ROLE_ADMIN;
}

void
natter_room_settings_show_toast (NatterRoomSettingsWindow *self,
                                 const char               *text)
{
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
}

void
natter_room_settings_show_error (NatterRoomSettingsWindow *self,
                                 const GError             *error)
{
  g_autofree char *text = NULL;
  AdwToast *toast;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  text = natter_describe_error (error);
  toast = adw_toast_new (text);
  /* As in the main window: an error is not held back by news. */
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), toast);
}

typedef struct {
  NatterRoomSettingsWindow *self;
  char                     *done_text;
} ManageData;

static void
manage_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  ManageData *d = user_data;
  g_autoptr(NatterRoomSettingsWindow) self = d->self;
  g_autoptr(GError) error = NULL;

  if (!natter_client_room_manage_finish (NATTER_CLIENT (object), result, &error))
    natter_room_settings_show_error (self, error);
  else if (d->done_text != NULL)
    natter_room_settings_show_toast (self, d->done_text);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    natter_room_settings_lists_reload (self);
  g_free (d->done_text);
  g_free (d);
}

void
natter_room_settings_manage (NatterRoomSettingsWindow *self,
                             NatterRoomAction          action,
                             const char               *username,
                             const char               *text,
                             const char               *done_text)
{
  ManageData *d = g_new0 (ManageData, 1);

  d->self = g_object_ref (self);
  d->done_text = g_strdup (done_text);
  natter_client_room_manage_async (self->client, self->room_name, action, username, text,
                                   self->cancellable, manage_cb, d);
}

typedef struct {
  NatterRoomSettingsWindow   *self;   /* weak: the dialog may outlive it */
  char                       *argument;
  char                       *response;
  NatterRoomSettingsConfirmed respond;
} ConfirmData;

static void
confirm_data_free (gpointer data,
                   GClosure *closure)
{
  ConfirmData *d = data;

  g_clear_weak_pointer (&d->self);
  g_free (d->argument);
  g_free (d->response);
  g_free (d);
}

static void
confirm_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     ConfirmData      *d)
{
  if (d->self != NULL && g_strcmp0 (response, d->response) == 0)
    d->respond (d->self, d->argument, dialog);
}

AdwMessageDialog *
natter_room_settings_confirm (NatterRoomSettingsWindow   *self,
                              const char                 *heading,
                              const char                 *body,
                              const char                 *response,
                              const char                 *response_label,
                              const char                 *argument,
                              NatterRoomSettingsConfirmed respond)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), heading, body));
  ConfirmData *d = g_new0 (ConfirmData, 1);

  g_set_weak_pointer (&d->self, self);
  d->argument = g_strdup (argument);
  d->response = g_strdup (response);
  d->respond = respond;
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), response, response_label, NULL);
  adw_message_dialog_set_response_appearance (dialog, response, ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_data (dialog, "response", G_CALLBACK (confirm_response_cb), d, confirm_data_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

/* ---- the General page ---------------------------------------------------- */

/* libadwaita 1.2's view switcher shows a hidden page's button, so a page
 * not for the viewer is taken out of the window (and kept for when they
 * become an admin). */
static void
show_admin_pages (NatterRoomSettingsWindow *self,
                  gboolean                  shown)
{
  for (guint i = 0; i < self->admin_pages->len; i++)
    {
      AdwPreferencesPage *page = g_ptr_array_index (self->admin_pages, i);
      gboolean in_window = gtk_widget_get_ancestor (GTK_WIDGET (page), NATTER_TYPE_ROOM_SETTINGS_WINDOW) != NULL;

      if (shown && !in_window)
        adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
      else if (!shown && in_window)
        adw_preferences_window_remove (ADW_PREFERENCES_WINDOW (self), page);
    }
}

static void
update_general (NatterRoomSettingsWindow *self)
{
  NatterRoom *room = self->room;
  gboolean management = natter_client_get_room_management (self->client);
  NatterRoomRole role = natter_room_settings_my_role (self);
  gboolean manage = natter_room_settings_can_manage (self);
  /* Protocol 1 lets the owner set the topic; the feature lets admins. */
  gboolean edit_topic = role == NATTER_ROOM_ROLE_OWNER || manage;
  const char *display_name = room != NULL ? natter_room_get_display_name (room) : NULL;
  const char *topic = room != NULL ? natter_room_get_topic (room) : "";
  const char *owner = room != NULL ? natter_room_get_owner (room) : NULL;
  NatterUser *owner_user = owner != NULL ? natter_client_lookup_user (self->client, owner) : NULL;

  gtk_window_set_title (GTK_WINDOW (self), display_name != NULL ? display_name : self->room_name);

  /* An entry being edited keeps what the person typed. */
  if (gtk_widget_get_focus_child (GTK_WIDGET (self->name_row)) == NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->name_row), display_name != NULL ? display_name : "");
  if (gtk_widget_get_focus_child (GTK_WIDGET (self->topic_row)) == NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->topic_row), topic);
  gtk_widget_set_visible (GTK_WIDGET (self->name_row), manage);
  gtk_widget_set_visible (GTK_WIDGET (self->topic_row), edit_topic);
  gtk_widget_set_visible (GTK_WIDGET (self->name_view_row), !manage && display_name != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->topic_view_row), !edit_topic);
  adw_action_row_set_subtitle (self->name_view_row, display_name != NULL ? display_name : "");
  adw_action_row_set_subtitle (self->topic_view_row, *topic != '\0' ? topic : _("No topic"));

  gtk_label_set_label (self->address_label, self->room_name);
  gtk_widget_set_visible (GTK_WIDGET (self->owner_row), owner_user != NULL);
  if (owner_user != NULL)
    {
      g_autofree char *text = NULL;

      if (g_strcmp0 (natter_user_get_display_name (owner_user), owner) == 0)
        text = g_strdup (owner);
      else
        /* Translators: the owner of a room: display name, then username. */
        text = g_strdup_printf (_("%s (@%s)"), natter_user_get_display_name (owner_user), owner);
      gtk_label_set_label (self->owner_label, text);
    }

  /* Members see whether the room is private, but may not change it. */
  gtk_widget_set_visible (GTK_WIDGET (self->privacy_group), management && room != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->private_switch), manage);
  if (room != NULL)
    {
      gtk_switch_set_active (self->private_switch, natter_room_get_private (room));
      gtk_switch_set_state (self->private_switch, natter_room_get_private (room));
    }
  gtk_widget_set_visible (GTK_WIDGET (self->delete_row), management && role == NATTER_ROOM_ROLE_OWNER);

  show_admin_pages (self, manage);
}

static void
name_apply_cb (NatterRoomSettingsWindow *self)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));

  natter_room_settings_manage (self, NATTER_ROOM_ACTION_SET_DISPLAY_NAME, NULL, name, NULL);
}

static void
topic_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(NatterRoomSettingsWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!natter_client_room_set_topic_finish (NATTER_CLIENT (object), result, &error))
    natter_room_settings_show_error (self, error);
}

static void
topic_apply_cb (NatterRoomSettingsWindow *self)
{
  g_autofree char *topic = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->topic_row))));

  if (!natter_topic_is_valid (topic))
    {
      natter_room_settings_show_toast (self, _("The topic is too long or has characters that are not allowed."));
      return;
    }
  natter_client_room_set_topic_async (self->client, self->room_name, topic,
                                      self->cancellable, topic_cb, g_object_ref (self));
}

/* The switch shows the new position at once and its state once the
 * server agrees; a refusal puts it back (the room did not change). */
static void
private_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterRoomSettingsWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!natter_client_room_manage_finish (NATTER_CLIENT (object), result, &error))
    natter_room_settings_show_error (self, error);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    update_general (self);
}

static gboolean
private_state_set_cb (NatterRoomSettingsWindow *self,
                      gboolean                  state)
{
  if (self->room == NULL || state == natter_room_get_private (self->room))
    return FALSE;
  natter_client_room_manage_async (self->client, self->room_name,
                                   state ? NATTER_ROOM_ACTION_SET_PRIVATE : NATTER_ROOM_ACTION_SET_PUBLIC,
                                   NULL, NULL, self->cancellable, private_cb, g_object_ref (self));
  return TRUE;
}

/* Left or deleted: the room's conversation closes with the window. */
static void
close_room (NatterRoomSettingsWindow *self)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

  if (parent != NULL)
    gtk_widget_activate_action (GTK_WIDGET (parent), "win.close-conversation", NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

/* Left or deleted: done, or why not. */
static void
room_gone_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(NatterRoomSettingsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  NatterClient *client = NATTER_CLIENT (object);
  gboolean done = g_async_result_is_tagged (result, natter_client_room_leave_async)
                  ? natter_client_room_leave_finish (client, result, &error)
                  : natter_client_room_manage_finish (client, result, &error);

  if (!done)
    natter_room_settings_show_error (self, error);
  else
    close_room (self);
}

/* @response is "leave" or "delete". */
static void
leave_or_delete_confirmed (NatterRoomSettingsWindow *self,
                           const char               *response,
                           AdwMessageDialog         *dialog)
{
  if (g_str_equal (response, "leave"))
    natter_client_room_leave_async (self->client, self->room_name, self->cancellable,
                                    room_gone_cb, g_object_ref (self));
  else
    natter_client_room_manage_async (self->client, self->room_name, NATTER_ROOM_ACTION_DELETE, NULL, NULL,
                                     self->cancellable, room_gone_cb, g_object_ref (self));
}

static void
leave_or_delete_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  NatterRoomSettingsWindow *self = NATTER_ROOM_SETTINGS_WINDOW (widget);
  gboolean leave = g_str_equal (action_name, "room.leave");
  const char *response = leave ? "leave" : "delete";
  g_autofree char *heading = NULL;

  if (leave)
    /* Translators: %s is a room name such as #general. */
    heading = g_strdup_printf (_("Leave %s?"), self->room_name);
  else
    /* Translators: %s is a room name such as #general. */
    heading = g_strdup_printf (_("Delete %s?"), self->room_name);
  natter_room_settings_confirm (self, heading,
                                leave ? _("You will stop getting its messages. You can join again from the room directory.")
                                      : _("The room, its messages and its files are erased for every member. This cannot be undone."),
                                response, leave ? _("_Leave") : _("_Delete Room"), response,
                                leave_or_delete_confirmed);
}

/* ---- following the room -------------------------------------------------- */

static void
room_notify_cb (NatterRoomSettingsWindow *self,
                GParamSpec               *pspec)
{
  const char *name = g_param_spec_get_name (pspec);
  gboolean could_manage = gtk_widget_get_ancestor (GTK_WIDGET (self->bans_page),
                                                   NATTER_TYPE_ROOM_SETTINGS_WINDOW) != NULL;

  update_general (self);
  if (g_str_equal (name, "member-count"))
    {
      /* Someone joined or left: an invitation may be used up, a ban may
       * have taken a member out. */
      natter_room_settings_members_reload (self);
      natter_room_settings_lists_reload (self);
    }
  else if (g_str_equal (name, "admins") || g_str_equal (name, "owner"))
    {
      natter_room_settings_members_update (self);
      if (!could_manage)
        natter_room_settings_lists_reload (self);
    }
}

static void
room_removed_cb (NatterRoomSettingsWindow *self,
                 NatterRoom               *room)
{
  /* The main window says why in a toast. */
  if (room == self->room)
    gtk_window_destroy (GTK_WINDOW (self));
}

static NatterRoom *
find_room (NatterClient *client,
           const char   *name)
{
  GListModel *rooms = natter_client_get_rooms (client);

  for (guint i = 0; i < g_list_model_get_n_items (rooms); i++)
    {
      g_autoptr(NatterRoom) room = g_list_model_get_item (rooms, i);

      if (g_strcmp0 (natter_room_get_name (room), name) == 0)
        return room;
    }
  return NULL;
}

/* ---- the class ----------------------------------------------------------- */

static void
natter_room_settings_window_dispose (GObject *object)
{
  NatterRoomSettingsWindow *self = NATTER_ROOM_SETTINGS_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->room_signals != NULL)
    g_signal_group_set_target (self->room_signals, NULL);
  g_clear_object (&self->room_signals);
  g_clear_object (&self->room);
  g_clear_object (&self->sorted_members);
  g_clear_object (&self->menu_width);
  g_clear_pointer (&self->admin_pages, g_ptr_array_unref);
  g_clear_object (&self->members);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_ROOM_SETTINGS_WINDOW);

  G_OBJECT_CLASS (natter_room_settings_window_parent_class)->dispose (object);
}

static void
natter_room_settings_window_finalize (GObject *object)
{
  NatterRoomSettingsWindow *self = NATTER_ROOM_SETTINGS_WINDOW (object);

  g_free (self->room_name);

  G_OBJECT_CLASS (natter_room_settings_window_parent_class)->finalize (object);
}

static void
natter_room_settings_window_class_init (NatterRoomSettingsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_room_settings_window_dispose;
  object_class->finalize = natter_room_settings_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/natter/Natter/natter-room-settings-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, name_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, topic_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, name_view_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, topic_view_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, address_label);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, owner_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, owner_label);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, privacy_group);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, private_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, private_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, delete_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, members_page);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, members_group);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, members_spinner);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, members_list);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, invitations_page);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, invite_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, invited_list);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, bans_page);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomSettingsWindow, bans_list);
  gtk_widget_class_bind_template_callback (widget_class, name_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, topic_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, private_state_set_cb);

  gtk_widget_class_install_action (widget_class, "room.leave", NULL, leave_or_delete_action);
  gtk_widget_class_install_action (widget_class, "room.delete", NULL, leave_or_delete_action);
  natter_room_settings_members_class_init (widget_class);
  natter_room_settings_lists_class_init (widget_class);
}

static void
natter_room_settings_window_init (NatterRoomSettingsWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->room_signals = g_signal_group_new (NATTER_TYPE_ROOM);
  g_signal_group_connect_swapped (self->room_signals, "notify", G_CALLBACK (room_notify_cb), self);
  gtk_widget_init_template (GTK_WIDGET (self));
  self->admin_pages = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->admin_pages, g_object_ref (self->invitations_page));
  g_ptr_array_add (self->admin_pages, g_object_ref (self->bans_page));
  natter_room_settings_members_init (self);
  natter_room_settings_lists_init (self);
}

GtkWindow *
natter_room_settings_window_new (GtkWindow    *parent,
                                 NatterClient *client,
                                 const char   *room_name,
                                 const char   *page)
{
  NatterRoomSettingsWindow *self;

  g_return_val_if_fail (NATTER_IS_CLIENT (client), NULL);
  g_return_val_if_fail (room_name != NULL, NULL);

  self = g_object_new (NATTER_TYPE_ROOM_SETTINGS_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->client = client;
  self->room_name = g_strdup (room_name);
  g_set_object (&self->room, find_room (client, room_name));
  g_signal_group_set_target (self->room_signals, self->room);
  g_signal_connect_object (client, "room-removed", G_CALLBACK (room_removed_cb), self, G_CONNECT_SWAPPED);

  update_general (self);
  natter_room_settings_members_reload (self);
  natter_room_settings_lists_reload (self);
  if (page != NULL)
    adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (self), page);
  return GTK_WINDOW (self);
}
