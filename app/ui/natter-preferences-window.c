/* natter-preferences-window.c: server, notifications, privacy, and
 * when signed in to a server with the feature accounts an Account page
 * (natter-account-page.c). Every control here is bound
 * to its GSettings key, so there is nothing to save or apply; except the
 * server's addresses, a list that is checked (natter-server-address.h)
 * and saved when applied, so that half a list being typed is never the
 * server of the next sign-in. */
#define G_LOG_DOMAIN "natter-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-account-page.h"
#include "natter-application.h"
#include "natter-preferences-window.h"

struct _NatterPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  /* template widgets */
  AdwEntryRow   *server_row;
  GtkLabel      *server_error;
  GtkSwitch     *notifications_switch;
  GtkSwitch     *presence_switch;
  GtkWidget     *sound_row;
  GtkSwitch     *sound_switch;
  GtkSwitch     *read_receipts_switch;
  GtkSwitch     *typing_switch;

  /* borrowed references */
  NatterApplication *application;
};

G_DEFINE_FINAL_TYPE (NatterPreferencesWindow, natter_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
set_server_error (NatterPreferencesWindow *self,
                  const char              *text)
{
  gtk_label_set_label (self->server_error, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->server_error), text != NULL);
  if (text != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->server_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->server_row), "error");
}

static void
server_apply_cb (NatterPreferencesWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *server = NULL;

  if (!natter_application_set_server (self->application,
                                      gtk_editable_get_text (GTK_EDITABLE (self->server_row)), &error))
    {
      set_server_error (self, error->message);
      return;
    }
  /* As it will be used: ports filled in, separators tidied. */
  server = natter_application_dup_server (self->application);
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
  set_server_error (self, NULL);
}

static void
server_changed_cb (NatterPreferencesWindow *self)
{
  if (gtk_widget_get_visible (GTK_WIDGET (self->server_error)))
    set_server_error (self, NULL);
}

static void
natter_preferences_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (natter_preferences_window_parent_class)->dispose (object);
}

static void
natter_preferences_window_class_init (NatterPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, server_error);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, presence_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, sound_row);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, sound_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, read_receipts_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, typing_switch);
  gtk_widget_class_bind_template_callback (widget_class, server_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, server_changed_cb);
}

static void
natter_preferences_window_init (NatterPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWindow *
natter_preferences_window_new (NatterApplication *application)
{
  NatterPreferencesWindow *self = g_object_new (NATTER_TYPE_PREFERENCES_WINDOW, NULL);
  GSettings *settings = natter_application_get_settings (application);
  g_autofree char *server = natter_application_dup_server (application);
  NatterClient *client = natter_application_get_client (application);

  self->application = application;
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
  /* Only now: the text just set is not a change to apply. */
  adw_entry_row_set_show_apply_button (self->server_row, TRUE);
  g_settings_bind (settings, "notifications", self->notifications_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "presence-notifications", self->presence_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "notification-sound", self->sound_switch, "active", G_SETTINGS_BIND_DEFAULT);
  /* Without notifications there is nothing for the sound to go with. */
  g_settings_bind (settings, "notifications", self->sound_row, "sensitive", G_SETTINGS_BIND_GET);
  g_settings_bind (settings, "send-read-receipts", self->read_receipts_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "send-typing", self->typing_switch, "active", G_SETTINGS_BIND_DEFAULT);
  if (client != NULL && natter_client_get_accounts (client))
    adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), natter_account_page_new (client));

  return GTK_WINDOW (self);
}
