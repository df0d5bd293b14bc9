/* natter-window-actions.c: the "win." actions and their shortcuts. */
#define G_LOG_DOMAIN "natter-window"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-room-directory-dialog.h"
#include "natter-ui-util.h"
#include "natter-window-private.h"

static void
go_back_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
show_contacts_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  GListModel *incoming = natter_client_get_incoming_requests (self->client);
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

  natter_sidebar_set_selected (self->sidebar, NULL);
  natter_window_show_content (self, "contacts");
  natter_page_focus_search (NATTER_PAGE (self->contacts_page));
  natter_window_dismiss_request_toast (self);

  /* The requests are on screen now: their notifications are stale. */
  for (guint i = 0; i < g_list_model_get_n_items (incoming); i++)
    {
      g_autoptr(NatterUser) from = g_list_model_get_item (incoming, i);
      g_autofree char *id = natter_contact_request_notification_id (from);

      g_application_withdraw_notification (app, id);
    }
}

static void
show_search_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  natter_sidebar_set_selected (self->sidebar, NULL);
  natter_window_show_content (self, "search");
  natter_page_focus_search (NATTER_PAGE (self->search_page));
}

static void
present_room_directory (NatterWindow *self,
                        gboolean      create)
{
  GtkWindow *dialog = natter_room_directory_dialog_new (GTK_WINDOW (self), self->client, create);

  gtk_window_present (dialog);
}

static void
new_room_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  present_room_directory (NATTER_WINDOW (widget), TRUE);
}

static void
browse_rooms_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  present_room_directory (NATTER_WINDOW (widget), FALSE);
}

static void
open_conversation_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  natter_window_open_conversation (NATTER_WINDOW (widget),
                                   g_variant_get_string (parameter, NULL));
}

static void
open_message_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  const char *address;
  gint64 id;

  g_variant_get (parameter, "(&sx)", &address, &id);
  if (id > 0)
    natter_window_open_message (NATTER_WINDOW (widget), address, id);
}

static void
close_conversation_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  natter_conversation_view_set_conversation (self->conversation_view, NULL);
  natter_sidebar_set_selected (self->sidebar, NULL);
  /* The client keeps the open conversation in its models (an empty one, a
   * room just left): it has to know that none is open now. */
  natter_client_set_open_conversation (self->client, NULL);
  natter_window_show_content (self, "empty");
}

static void
toast_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  natter_window_show_toast (NATTER_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
reconnect_now_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  gtk_label_set_label (self->reconnect_label, _("Reconnecting…"));
  natter_client_reconnect_now (self->client);
}

static void
set_status_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);
  const char *status = gtk_editable_get_text (GTK_EDITABLE (self->status_entry));
  NatterPresence presence = NATTER_PRESENCE_ONLINE;

  if (status != NULL && *status != '\0' && !natter_status_text_is_valid (status))
    {
      natter_window_show_toast (self, _("The status text is too long or has characters that are not allowed."));
      return;
    }

  natter_presence_from_string (self->presence, FALSE, &presence);
  natter_client_set_presence (self->client, presence,
                              status != NULL && *status != '\0' ? status : NULL);
  gtk_popover_popdown (self->presence_popover);
}

static void
logout_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(NatterWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  /* Signed out locally either way: the token is forgotten already. */
  if (!natter_client_logout_finish (NATTER_CLIENT (object), result, &error))
    g_message ("Sign-out: %s", error->message);
}

void
natter_window_sign_out (NatterWindow *self)
{
  NatterApplication *app = NATTER_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

  natter_application_forget_token (app);
  natter_client_logout_async (self->client, NULL, logout_cb, g_object_ref (self));
}

static void
sign_out_response_cb (NatterWindow     *self,
                      const char       *response,
                      AdwMessageDialog *dialog)
{
  if (g_strcmp0 (response, "sign-out") == 0)
    natter_window_sign_out (self);
}

static void
sign_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);
  AdwMessageDialog *dialog;

  gtk_popover_popdown (self->presence_popover);

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Sign Out?"),
                                                       _("You will need your password to sign in again. Messages not sent yet are kept and sent after the next sign-in.")));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "sign-out", _("_Sign Out"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "sign-out", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (sign_out_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
natter_window_update_actions (NatterWindow *self)
{
  gboolean in_chat = g_strcmp0 (natter_window_get_page_name (self), "chat") == 0;
  gboolean ready = self->client != NULL &&
                   natter_client_get_state (self->client) == NATTER_CLIENT_STATE_READY;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-contacts", in_chat);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-search", in_chat);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.new-room", in_chat && ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.browse-rooms", in_chat && ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-conversation", in_chat);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-message", in_chat);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-out", in_chat);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.set-status", in_chat);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.go-back",
                                 in_chat && adw_leaflet_get_folded (self->leaflet));
}

void
natter_window_class_init_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.go-back", NULL, go_back_action);
  gtk_widget_class_install_action (widget_class, "win.show-contacts", NULL, show_contacts_action);
  gtk_widget_class_install_action (widget_class, "win.show-search", NULL, show_search_action);
  gtk_widget_class_install_action (widget_class, "win.new-room", NULL, new_room_action);
  gtk_widget_class_install_action (widget_class, "win.browse-rooms", NULL, browse_rooms_action);
  gtk_widget_class_install_action (widget_class, "win.open-conversation", "s", open_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.open-message", "(sx)", open_message_action);
  gtk_widget_class_install_action (widget_class, "win.close-conversation", NULL, close_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.toast", "s", toast_action);
  gtk_widget_class_install_action (widget_class, "win.reconnect-now", NULL, reconnect_now_action);
  gtk_widget_class_install_action (widget_class, "win.set-status", NULL, set_status_action);
  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL, sign_out_action);
  gtk_widget_class_install_property_action (widget_class, "win.presence", "presence");

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK,
                                       "win.show-search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_C, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.show-contacts", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK,
                                       "win.new-room", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_j, GDK_CONTROL_MASK,
                                       "win.browse-rooms", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK,
                                       "win.go-back", NULL);
}
