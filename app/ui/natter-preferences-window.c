/* natter-preferences-window.c: server, notifications, privacy. Every control is bound
 * to its GSettings key, so there is nothing to save or apply. */
#define G_LOG_DOMAIN "natter-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-preferences-window.h"

struct _NatterPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  /* template widgets */
  AdwEntryRow   *host_row;
  GtkAdjustment *port_adjustment;
  GtkSwitch     *notifications_switch;
  GtkSwitch     *presence_switch;
  GtkWidget     *sound_row;
  GtkSwitch     *sound_switch;
  GtkSwitch     *read_receipts_switch;
  GtkSwitch     *typing_switch;
};

G_DEFINE_FINAL_TYPE (NatterPreferencesWindow, natter_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

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
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, host_row);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, port_adjustment);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, presence_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, sound_row);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, sound_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, read_receipts_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, typing_switch);
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

  g_settings_bind (settings, "server-host", self->host_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "server-port", self->port_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "notifications", self->notifications_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "presence-notifications", self->presence_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "notification-sound", self->sound_switch, "active", G_SETTINGS_BIND_DEFAULT);
  /* Without notifications there is nothing for the sound to go with. */
  g_settings_bind (settings, "notifications", self->sound_row, "sensitive", G_SETTINGS_BIND_GET);
  g_settings_bind (settings, "send-read-receipts", self->read_receipts_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "send-typing", self->typing_switch, "active", G_SETTINGS_BIND_DEFAULT);

  return GTK_WINDOW (self);
}
