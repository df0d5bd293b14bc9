/* natter-account-page.c: the preferences' Account page (feature
 * accounts, docs/protocol.md "Accounts"): the picture; the display name
 * and the status text, each applied as typed; the password, with the current one and a choice to sign out
 * every other device (the default, as after a password is suspected
 * known); the account's sessions, each signed out with a button but this
 * device's own (signing out here is the window's menu); the users blocked,
 * each unblocked with a button (blocking is the contacts page's);
 * deleting the account, after a dialog that asks the password. What the server
 * says goes into a toast. Every request is cancelled when the page goes,
 * and its callback then touches nothing of it. */
#define G_LOG_DOMAIN "natter-account-page"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-account-page.h"
#include "natter-avatar-picture.h"
#include "natter-application.h"
#include "natter-ui-util.h"
#include "natter-user-avatar.h"

struct _NatterAccountPage
{
  AdwPreferencesPage parent_instance;

  /* template widgets */
  NatterUserAvatar *picture_avatar;
  GtkWidget    *remove_picture_button;
  GtkWidget    *change_picture_button;
  AdwEntryRow  *display_name_row;
  AdwEntryRow  *status_row;
  AdwEntryRow  *current_password_row;
  AdwEntryRow  *new_password_row;
  GtkSwitch    *sign_out_switch;
  GtkWidget    *change_password_button;
  GtkListBox   *devices_list;
  GtkWidget    *delete_account_button;
  GtkListBox   *blocked_list;

  NatterClient *client;
  GCancellable *cancellable;
  gboolean      changing_password;
};

G_DEFINE_FINAL_TYPE (NatterAccountPage, natter_account_page, ADW_TYPE_PREFERENCES_PAGE)

static void refresh_devices (NatterAccountPage *self);
static void refresh_blocked (NatterAccountPage *self);

static void
show_toast (NatterAccountPage *self,
            const char        *text)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_PREFERENCES_WINDOW);

  if (window != NULL)
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (window), adw_toast_new (text));
}

static void
show_error (NatterAccountPage *self,
            const GError      *error)
{
  g_autofree char *text = natter_describe_error (error);

  show_toast (self, text);
}

/* ---- Display name ------------------------------------------------------- */

static void
display_name_set_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  NatterAccountPage *self;

  if (!natter_client_set_display_name_finish (NATTER_CLIENT (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  if (error != NULL)
    {
      show_error (self, error);
      return;
    }
  show_toast (self, _("Display name changed"));
}

static void
display_name_apply_cb (NatterAccountPage *self)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->display_name_row))));

  natter_client_set_display_name_async (self->client, name, self->cancellable, display_name_set_cb, self);
}

/* ---- Status ------------------------------------------------------------- */

/* The status text as the sidebar's presence menu sets it (what the
 * presence is stays): kept and sent again after a reconnect by the
 * client. Empty clears it. */
static void
status_apply_cb (NatterAccountPage *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->status_row))));
  NatterUser *me = natter_client_get_me (self->client);
  NatterPresence presence = me != NULL ? natter_user_get_presence (me) : NATTER_PRESENCE_ONLINE;

  if (*text != '\0' && !natter_status_text_is_valid (text))
    {
      show_toast (self, _("The status text is too long or has characters that are not allowed."));
      return;
    }
  if (presence == NATTER_PRESENCE_OFFLINE)
    presence = NATTER_PRESENCE_ONLINE;
  natter_client_set_presence (self->client, presence, *text != '\0' ? text : NULL);
  show_toast (self, *text != '\0' ? _("Status changed") : _("Status cleared"));
}

/* ---- Picture ------------------------------------------------------------ */

static void
update_picture_buttons (NatterAccountPage *self)
{
  NatterUser *me = natter_client_get_me (self->client);

  gtk_widget_set_visible (self->remove_picture_button, me != NULL && natter_user_get_avatar (me) != NULL);
}

static void
picture_set_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  NatterAccountPage *self;

  if (!natter_client_set_avatar_finish (NATTER_CLIENT (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  gtk_widget_set_sensitive (self->change_picture_button, TRUE);
  if (error != NULL)
    show_error (self, error);
  update_picture_buttons (self);
}

static void
picture_prepared_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) picture = natter_avatar_picture_prepare_finish (result, &error);
  NatterAccountPage *self;

  if (picture == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  if (picture == NULL)
    {
      gtk_widget_set_sensitive (self->change_picture_button, TRUE);
      show_toast (self, error->message);
      return;
    }
  natter_client_set_avatar_async (self->client, picture, self->cancellable, picture_set_cb, self);
}

static void
picture_chosen_cb (GtkNativeDialog   *chooser,
                   int                response,
                   NatterAccountPage *self)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  if (file == NULL)
    return;
  natter_account_page_set_picture_file (self, file);
}

static void
change_picture_clicked_cb (NatterAccountPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Choose a Picture"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Images"));
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (picture_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
remove_picture_clicked_cb (NatterAccountPage *self)
{
  natter_client_set_avatar_async (self->client, NULL, self->cancellable, picture_set_cb, self);
}

void
natter_account_page_set_picture_file (NatterAccountPage *self,
                                      GFile             *file)
{
  g_return_if_fail (NATTER_IS_ACCOUNT_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  /* Made small off the main loop: a photo may be megabytes. */
  gtk_widget_set_sensitive (self->change_picture_button, FALSE);
  natter_avatar_picture_prepare_async (file, self->cancellable, picture_prepared_cb, self);
}

/* ---- Password ----------------------------------------------------------- */

static void
update_change_password_button (NatterAccountPage *self)
{
  gtk_widget_set_sensitive (self->change_password_button,
                            !self->changing_password &&
                            *gtk_editable_get_text (GTK_EDITABLE (self->current_password_row)) != '\0' &&
                            *gtk_editable_get_text (GTK_EDITABLE (self->new_password_row)) != '\0');
}

static void
password_changed_cb (NatterAccountPage *self)
{
  update_change_password_button (self);
}

static void
password_set_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  NatterAccountPage *self;

  if (!natter_client_change_password_finish (NATTER_CLIENT (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  self->changing_password = FALSE;
  if (error != NULL)
    {
      /* "Wrong username or password" would say more than is the case. */
      if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED))
        show_toast (self, _("The current password is not right"));
      else
        show_error (self, error);
      update_change_password_button (self);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->current_password_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->new_password_row), "");
  show_toast (self, _("Password changed"));
  /* Other devices may have been signed out. */
  refresh_devices (self);
}

static void
change_password_clicked_cb (NatterAccountPage *self)
{
  self->changing_password = TRUE;
  update_change_password_button (self);
  natter_client_change_password_async (self->client,
                                       gtk_editable_get_text (GTK_EDITABLE (self->current_password_row)),
                                       gtk_editable_get_text (GTK_EDITABLE (self->new_password_row)),
                                       !gtk_switch_get_active (self->sign_out_switch),
                                       self->cancellable, password_set_cb, self);
}

/* ---- Deleting the account ---------------------------------------------- */

static void
account_deleted_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  NatterAccountPage *self;
  GtkWidget *window;

  if (!natter_client_delete_account_finish (NATTER_CLIENT (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  gtk_widget_set_sensitive (self->delete_account_button, TRUE);
  if (error != NULL)
    {
      if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED))
        show_toast (self, _("The password is not right"));
      else
        show_error (self, error);
      return;
    }
  /* The client has forgotten the account and disconnected: the main
   * window goes back to the welcome page; the keyring forgets it too. */
  natter_application_forget_token (NATTER_APPLICATION (g_application_get_default ()));
  window = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_WINDOW);
  if (window != NULL)
    gtk_window_destroy (GTK_WINDOW (window));
}

static void
delete_password_changed_cb (GtkEditable      *entry,
                            AdwMessageDialog *dialog)
{
  adw_message_dialog_set_response_enabled (dialog, "delete", *gtk_editable_get_text (entry) != '\0');
}

static void
delete_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  NatterAccountPage *self = user_data;
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));

  if (g_strcmp0 (response, "delete") != 0)
    return;
  gtk_widget_set_sensitive (self->delete_account_button, FALSE);
  natter_client_delete_account_async (self->client, gtk_editable_get_text (entry), self->cancellable,
                                      account_deleted_cb, self);
}

static void
delete_account_clicked_cb (NatterAccountPage *self)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_WINDOW);
  /* A plain entry: GtkPasswordEntry (GTK 4.8) warns from its caps-lock
   * watch when destroyed with the dialog right after the response. */
  GtkWidget *entry = gtk_entry_new ();
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (window), _("Delete Account?"),
                                                       _("This cannot be undone. Your messages stay in other people's conversations, shown as from a deleted account. Enter your password to delete the account.")));
  g_object_set (entry, "visibility", FALSE, "input-purpose", GTK_INPUT_PURPOSE_PASSWORD,
                "placeholder-text", _("Password"), "activates-default", TRUE, NULL);
  adw_message_dialog_set_extra_child (dialog, entry);
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete Account"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (dialog, "delete", FALSE);
  adw_message_dialog_set_default_response (dialog, "delete");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (entry, "changed", G_CALLBACK (delete_password_changed_cb), dialog, 0);
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Devices ------------------------------------------------------------ */

static void
session_revoked_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  NatterAccountPage *self;

  if (!natter_client_revoke_session_finish (NATTER_CLIENT (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  if (error != NULL)
    show_error (self, error);
  else
    show_toast (self, _("Device signed out"));
  refresh_devices (self);
}

static void
sign_out_clicked_cb (GtkButton         *button,
                     NatterAccountPage *self)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), GTK_TYPE_LIST_BOX_ROW);

  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  natter_client_revoke_session_async (self->client, gtk_widget_get_name (row), self->cancellable,
                                      session_revoked_cb, self);
}

/* "192.0.2.7 · Connected", "192.0.2.7 · Last active Yesterday". */
static char *
session_subtitle (NatterDeviceSession *session)
{
  const char *address = natter_device_session_get_address (session);
  g_autofree char *when = NULL;
  g_autofree char *activity = NULL;

  if (natter_device_session_get_current (session))
    return g_strdup (_("This device"));
  if (natter_device_session_get_connections (session) > 0)
    activity = g_strdup (_("Connected"));
  else if (natter_device_session_get_last_active (session) > 0)
    {
      when = natter_format_time_short (natter_device_session_get_last_active (session));
      /* Translators: %s is a time or a day, as "14:03" or "Yesterday". */
      activity = g_strdup_printf (_("Last active %s"), when);
    }
  if (address == NULL)
    return g_steal_pointer (&activity);
  if (activity == NULL)
    return g_strdup (address);
  return g_strdup_printf ("%s · %s", address, activity);
}

typedef GtkWidget *(*RowNewFunc) (NatterAccountPage *self,
                                  gpointer           item);

/* @list's rows made again, one per item of @items; FALSE when it has none. */
static gboolean
fill_list (NatterAccountPage *self,
           GtkListBox        *list,
           GListModel        *items,
           RowNewFunc         row_new)
{
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, row);
  for (guint i = 0; i < g_list_model_get_n_items (items); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (items, i);

      gtk_list_box_append (list, row_new (self, item));
    }
  return g_list_model_get_n_items (items) > 0;
}

static GtkWidget *
session_row_new (NatterAccountPage *self,
                 gpointer           item)
{
  NatterDeviceSession *session = item;
  const char *device = natter_device_session_get_device (session);
  g_autofree char *subtitle = session_subtitle (session);
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 device != NULL && *device != '\0' ? device : _("Unknown device"));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_name (row, natter_device_session_get_id (session));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (natter_device_session_get_current (session)
                                                           ? "computer-symbolic" : "network-wired-symbolic"));
  if (!natter_device_session_get_current (session))
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_("_Sign Out"));

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      g_signal_connect (button, "clicked", G_CALLBACK (sign_out_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    }
  return row;
}

static void
sessions_listed_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) sessions = natter_client_list_sessions_finish (NATTER_CLIENT (source), result, &error);
  NatterAccountPage *self;

  if (sessions == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  if (sessions == NULL)
    {
      show_error (self, error);
      return;
    }
  fill_list (self, self->devices_list, sessions, session_row_new);
}

static void
refresh_devices (NatterAccountPage *self)
{
  natter_client_list_sessions_async (self->client, self->cancellable, sessions_listed_cb, self);
}

/* ---- Blocked users ------------------------------------------------------ */

static void
unblocked_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  NatterAccountPage *self;

  if (!natter_client_unblock_user_finish (NATTER_CLIENT (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  if (error != NULL)
    show_error (self, error);
  else
    show_toast (self, _("User unblocked"));
  refresh_blocked (self);
}

static void
unblock_clicked_cb (GtkButton         *button,
                    NatterAccountPage *self)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), GTK_TYPE_LIST_BOX_ROW);

  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  natter_client_unblock_user_async (self->client, gtk_widget_get_name (row), self->cancellable,
                                    unblocked_cb, self);
}

static GtkWidget *
blocked_row_new (NatterAccountPage *self,
                 gpointer           item)
{
  NatterUser *user = item;
  GtkWidget *row = natter_user_row_new (user, 32);
  GtkWidget *button = gtk_button_new_with_mnemonic (_("_Unblock"));

  gtk_widget_set_name (row, natter_user_get_username (user));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect (button, "clicked", G_CALLBACK (unblock_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  return row;
}

static void
blocked_listed_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) blocked = natter_client_list_blocked_finish (NATTER_CLIENT (source), result, &error);
  NatterAccountPage *self;
  GtkWidget *row;

  if (blocked == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  if (blocked == NULL)
    {
      show_error (self, error);
      return;
    }
  if (!fill_list (self, self->blocked_list, blocked, blocked_row_new))
    {
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Nobody is blocked"));
      gtk_widget_add_css_class (row, "dim-label");
      gtk_list_box_append (self->blocked_list, row);
    }
}

static void
refresh_blocked (NatterAccountPage *self)
{
  natter_client_list_blocked_async (self->client, self->cancellable, blocked_listed_cb, self);
}

/* ---- The page ----------------------------------------------------------- */

static void
natter_account_page_dispose (GObject *object)
{
  NatterAccountPage *self = NATTER_ACCOUNT_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_ACCOUNT_PAGE);
  G_OBJECT_CLASS (natter_account_page_parent_class)->dispose (object);
}

static void
natter_account_page_finalize (GObject *object)
{
  NatterAccountPage *self = NATTER_ACCOUNT_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (natter_account_page_parent_class)->finalize (object);
}

static void
natter_account_page_class_init (NatterAccountPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_account_page_dispose;
  object_class->finalize = natter_account_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-account-page.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, picture_avatar);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, remove_picture_button);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, change_picture_button);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, display_name_row);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, status_row);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, current_password_row);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, new_password_row);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, sign_out_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, change_password_button);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, devices_list);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, delete_account_button);
  gtk_widget_class_bind_template_child (widget_class, NatterAccountPage, blocked_list);
  gtk_widget_class_bind_template_callback (widget_class, display_name_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, status_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, password_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, change_password_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, change_picture_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, remove_picture_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, delete_account_clicked_cb);
}

static void
natter_account_page_init (NatterAccountPage *self)
{
  g_type_ensure (NATTER_TYPE_USER_AVATAR);
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

AdwPreferencesPage *
natter_account_page_new (NatterClient *client)
{
  NatterAccountPage *self = g_object_new (NATTER_TYPE_ACCOUNT_PAGE, NULL);
  NatterUser *me = natter_client_get_me (client);

  self->client = g_object_ref (client);
  if (me != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->display_name_row), natter_user_get_display_name (me));
      if (natter_user_get_status_text (me) != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->status_row), natter_user_get_status_text (me));
      natter_user_avatar_set_user (self->picture_avatar, me);
      g_signal_connect_object (me, "notify::avatar", G_CALLBACK (update_picture_buttons), self,
                               G_CONNECT_SWAPPED);
    }
  update_picture_buttons (self);
  /* Only now: the name just set is not a change to apply. */
  adw_entry_row_set_show_apply_button (self->display_name_row, TRUE);
  adw_entry_row_set_show_apply_button (self->status_row, TRUE);
  refresh_devices (self);
  refresh_blocked (self);
  return ADW_PREFERENCES_PAGE (self);
}

GtkListBox *
natter_account_page_get_devices (NatterAccountPage *self)
{
  g_return_val_if_fail (NATTER_IS_ACCOUNT_PAGE (self), NULL);

  return self->devices_list;
}

GtkListBox *
natter_account_page_get_blocked (NatterAccountPage *self)
{
  g_return_val_if_fail (NATTER_IS_ACCOUNT_PAGE (self), NULL);

  return self->blocked_list;
}
