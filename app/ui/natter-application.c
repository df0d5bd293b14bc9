/* natter-application.c: app-wide actions, notifications and the client.
 *
 * The window shows one account; the application owns the NatterClient so
 * notifications keep working when the window is hidden, and so that
 * "app.open-conversation" (the default action of a notification) can bring
 * the window back with the right conversation.
 */
#define G_LOG_DOMAIN "natter-application"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "natter-application.h"
#include "natter-platform.h"
#include "natter-preferences-window.h"
#include "natter-resources.h"
#include "natter-ui-util.h"
#include "natter-window.h"

struct _NatterApplication
{
  AdwApplication  parent_instance;

  /* owned references */
  NatterClient   *client;
  GSettings      *settings;

  gboolean        use_secret_service;
  /* Keyring writes are serialised: a sign-out right after a sign-in must
   * not have its clear overtaken by the store. */
  gboolean        storing_token;
  gboolean        clear_after_store;
};

G_DEFINE_FINAL_TYPE (NatterApplication, natter_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_USE_SECRET_SERVICE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

NatterApplication *
natter_application_new (void)
{
  return g_object_new (NATTER_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/natter/Natter",
                       NULL);
}

NatterClient *
natter_application_get_client (NatterApplication *self)
{
  g_return_val_if_fail (NATTER_IS_APPLICATION (self), NULL);
  return self->client;
}

GSettings *
natter_application_get_settings (NatterApplication *self)
{
  g_return_val_if_fail (NATTER_IS_APPLICATION (self), NULL);
  return self->settings;
}

gboolean
natter_application_get_use_secret_service (NatterApplication *self)
{
  g_return_val_if_fail (NATTER_IS_APPLICATION (self), FALSE);
  return self->use_secret_service;
}

void
natter_application_set_use_secret_service (NatterApplication *self,
                                           gboolean           use)
{
  g_return_if_fail (NATTER_IS_APPLICATION (self));

  use = !!use;
  if (self->use_secret_service == use)
    return;
  self->use_secret_service = use;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_SECRET_SERVICE]);
}

/* The server's addresses from the settings (never NULL, never empty). A
 * list that does not parse (edited by hand) is passed over for the older
 * keys, which every version has kept to the first address. */
static GPtrArray *
dup_addresses (NatterApplication *self)
{
  g_auto(GStrv) entries = g_settings_get_strv (self->settings, "server-addresses");
  g_autofree char *host = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *list;

  if (entries[0] != NULL)
    {
      list = natter_server_address_parse_strv ((const char *const *) entries, &error);
      if (list != NULL)
        return list;
      g_message ("Ignoring the server-addresses setting: %s", error->message);
    }

  host = g_settings_get_string (self->settings, "server-host");
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_server_address_free);
  g_ptr_array_add (list, natter_server_address_new (host, g_settings_get_uint (self->settings, "server-port")));
  return list;
}

char *
natter_application_dup_server_key (NatterApplication *self)
{
  g_autoptr(GPtrArray) list = dup_addresses (self);
  const NatterServerAddress *first = g_ptr_array_index (list, 0);

  return g_strdup_printf ("%s:%u", first->host, first->port);
}

char *
natter_application_dup_server (NatterApplication *self)
{
  g_autoptr(GPtrArray) list = NULL;

  g_return_val_if_fail (NATTER_IS_APPLICATION (self), NULL);

  list = dup_addresses (self);
  return natter_server_address_list_to_string (list);
}

gboolean
natter_application_set_server (NatterApplication  *self,
                               const char         *addresses,
                               GError            **error)
{
  g_autoptr(GPtrArray) list = NULL;
  g_auto(GStrv) entries = NULL;
  const NatterServerAddress *first;

  g_return_val_if_fail (NATTER_IS_APPLICATION (self), FALSE);

  list = natter_server_address_parse_list (addresses, error);
  if (list == NULL)
    return FALSE;

  entries = natter_server_address_list_to_strv (list);
  first = g_ptr_array_index (list, 0);
  g_settings_set_strv (self->settings, "server-addresses", (const char *const *) entries);
  /* An older version, started on the same settings, finds the first. */
  g_settings_set_string (self->settings, "server-host", first->host);
  g_settings_set_uint (self->settings, "server-port", first->port);
  return TRUE;
}

/* From one address in "server-host" and "server-port" to the list, once:
 * a server chosen with an earlier version stays the server. */
static void
migrate_server_settings (NatterApplication *self)
{
  g_auto(GStrv) entries = g_settings_get_strv (self->settings, "server-addresses");
  g_autoptr(GVariant) host = g_settings_get_user_value (self->settings, "server-host");
  g_autoptr(GVariant) port = g_settings_get_user_value (self->settings, "server-port");
  g_autofree char *server = NULL;

  if (entries[0] != NULL || (host == NULL && port == NULL))
    return;
  server = natter_application_dup_server (self);
  if (!natter_application_set_server (self, server, NULL))
    g_message ("Could not carry the server setting over: %s", server);
}

static void clear_token (NatterApplication *self);

static void
store_token_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(NatterApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!natter_secret_store_token_finish (result, &error))
    g_message ("Could not keep the sign-in in the keyring: %s", error->message);

  self->storing_token = FALSE;
  if (self->clear_after_store)
    {
      self->clear_after_store = FALSE;
      clear_token (self);
    }
}

void
natter_application_remember_token (NatterApplication *self)
{
  g_autofree char *server = NULL;
  NatterUser *me;
  const char *token;

  g_return_if_fail (NATTER_IS_APPLICATION (self));

  token = natter_client_get_token (self->client);
  me = natter_client_get_me (self->client);
  if (!self->use_secret_service || token == NULL || me == NULL)
    return;

  server = natter_application_dup_server_key (self);
  self->storing_token = TRUE;
  self->clear_after_store = FALSE;
  natter_secret_store_token_async (server, natter_user_get_username (me), token,
                                   NULL, store_token_cb, g_object_ref (self));
}

static void
clear_token_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!natter_secret_clear_finish (result, &error))
    g_message ("Could not remove the sign-in from the keyring: %s", error->message);
}

static void
clear_token (NatterApplication *self)
{
  g_autofree char *server = natter_application_dup_server_key (self);

  natter_secret_clear_async (server, NULL, clear_token_cb, NULL);
}

void
natter_application_forget_token (NatterApplication *self)
{
  g_return_if_fail (NATTER_IS_APPLICATION (self));

  if (!self->use_secret_service)
    return;

  if (self->storing_token)
    self->clear_after_store = TRUE;
  else
    clear_token (self);
}

static NatterWindow *
get_main_window (NatterApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (NATTER_IS_WINDOW (window))
    return NATTER_WINDOW (window);

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (NATTER_IS_WINDOW (l->data))
      return NATTER_WINDOW (l->data);

  return NULL;
}

static NatterWindow *
ensure_main_window (NatterApplication *self)
{
  NatterWindow *window = get_main_window (self);

  if (window == NULL)
    window = natter_window_new (self);
  return window;
}

/* ---- Notifications ------------------------------------------------------- */

/* The desktop's alert sound, on the window when there is one: GNOME Shell
 * plays the alert sound chosen in Settings (or flashes the window, with
 * visual alerts on). GNotification has no sound of its own, and a sound of
 * our own would take a new dependency (GSound or libcanberra) or GTK's
 * media backend, which Debian packages apart from GTK. */
static void
play_message_sound (NatterApplication *self)
{
  NatterWindow *window = get_main_window (self);
  GdkSurface *surface = window != NULL ? gtk_native_get_surface (GTK_NATIVE (window)) : NULL;

  if (surface != NULL)
    gdk_surface_beep (surface);
  else
    gdk_display_beep (gdk_display_get_default ());
}

static void
message_received_cb (NatterApplication  *self,
                     NatterConversation *conversation,
                     NatterMessage      *message,
                     NatterClient       *client)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = NULL;
  g_autofree char *title = NULL;
  NatterWindow *window;
  NatterUser *sender;
  const char *address;

  if (!g_settings_get_boolean (self->settings, "notifications"))
    return;
  if (natter_message_get_outgoing (message))
    return;
  /* The conversation's level, set on any of our devices. */
  if (!natter_client_should_notify (client, conversation, message))
    return;

  address = natter_conversation_get_address (conversation);
  window = get_main_window (self);

  /* Someone looking at this very conversation needs no notification. */
  if (window != NULL &&
      gtk_window_is_active (GTK_WINDOW (window)) &&
      g_strcmp0 (natter_window_get_current_address (window), address) == 0)
    return;

  sender = natter_client_lookup_user (client, natter_message_get_sender (message));
  if (natter_conversation_is_room (conversation))
    /* Translators: notification title, "Bob in #general". */
    title = g_strdup_printf (_("%s in %s"), natter_user_title (sender), address);
  else
    title = g_strdup (natter_user_title (sender));

  notification = g_notification_new (title);
  g_notification_set_body (notification, natter_message_get_body (message));
  g_notification_set_category (notification, "im.received");
  g_notification_set_default_action_and_target (notification, "app.open-conversation",
                                                "s", address);

  /* One notification per conversation: a newer message replaces it. */
  id = g_strdup_printf ("message-%s", address);
  g_application_send_notification (G_APPLICATION (self), id, notification);
  if (g_settings_get_boolean (self->settings, "notification-sound"))
    play_message_sound (self);
}

static void
presence_changed_cb (NatterApplication *self,
                     NatterUser        *user,
                     NatterPresence     old_presence,
                     NatterClient      *client)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;
  g_autofree char *address = NULL;
  NatterUser *me = natter_client_get_me (client);

  if (!g_settings_get_boolean (self->settings, "presence-notifications"))
    return;
  if (user == me || old_presence != NATTER_PRESENCE_OFFLINE ||
      natter_user_get_presence (user) == NATTER_PRESENCE_OFFLINE)
    return;
  /* Ignore the burst of presences that a (re)connect brings. */
  if (natter_client_get_state (client) != NATTER_CLIENT_STATE_READY)
    return;

  /* Translators: notification title when a contact comes online. */
  title = g_strdup_printf (_("%s is online"), natter_user_title (user));
  notification = g_notification_new (title);
  if (natter_user_get_status_text (user) != NULL)
    g_notification_set_body (notification, natter_user_get_status_text (user));
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_LOW);
  g_notification_set_category (notification, "presence.online");
  address = g_strdup_printf ("@%s", natter_user_get_username (user));
  g_notification_set_default_action_and_target (notification, "app.open-conversation",
                                                "s", address);
  id = g_strdup_printf ("presence-%s", natter_user_get_username (user));
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static void
contact_request_cb (NatterApplication *self,
                    NatterUser        *from,
                    NatterClient      *client)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;
  NatterWindow *window;

  if (!g_settings_get_boolean (self->settings, "notifications"))
    return;

  /* Someone at the window sees the toast the window shows instead. */
  window = get_main_window (self);
  if (window != NULL && gtk_window_is_active (GTK_WINDOW (window)) &&
      gtk_widget_get_mapped (GTK_WIDGET (window)))
    return;

  title = natter_contact_request_title (from);
  notification = g_notification_new (title);
  g_notification_set_body (notification, _("Accept or decline it in Contacts."));
  g_notification_set_category (notification, "im");
  g_notification_set_default_action (notification, "app.show-contacts");
  id = natter_contact_request_notification_id (from);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

/* ---- Actions ------------------------------------------------------------- */

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  NatterApplication *self = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  /* Closing the windows (not g_application_quit) lets the main window save
   * its size. */
  while (windows != NULL)
    {
      gtk_window_destroy (windows->data);
      windows = gtk_application_get_windows (GTK_APPLICATION (self));
    }
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  NatterApplication *self = user_data;
  static const char *developers[] = { "The Natter authors", NULL };

  adw_show_about_window (GTK_WINDOW (get_main_window (self)),
                         "application-name", _("Natter"),
                         "application-icon", APP_ID,
                         "developer-name", _("The Natter authors"),
                         "version", PACKAGE_VERSION,
                         "website", "https://github.com/natter/natter",
                         "issue-url", "https://github.com/natter/natter/issues",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "developers", developers,
                         "copyright", _("© 2026 The Natter authors"),
                         /* Translators: your names, one per line. */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  NatterApplication *self = user_data;
  GtkWindow *prefs = natter_preferences_window_new (self);

  gtk_window_set_transient_for (prefs, GTK_WINDOW (get_main_window (self)));
  gtk_window_present (prefs);
}

static void
open_conversation_action (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  NatterApplication *self = user_data;
  NatterWindow *window = ensure_main_window (self);
  const char *address = g_variant_get_string (parameter, NULL);

  gtk_window_present (GTK_WINDOW (window));
  natter_window_open_conversation (window, address);
}

static void
show_contacts_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  NatterApplication *self = user_data;
  NatterWindow *window = ensure_main_window (self);

  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-contacts", NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "about", about_action },
  { "preferences", preferences_action },
  { "open-conversation", open_conversation_action, "s" },
  { "show-contacts", show_contacts_action },
};

/* ---- GApplication -------------------------------------------------------- */

/* The installed schema; or, when Natter runs from its build tree without
 * being installed (a second app for another account, as the README
 * suggests), the one meson compiled there (BUILD/data, next to BUILD/app)
 * instead of GLib aborting on a missing schema. */
static GSettings *
new_settings (void)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchemaSource) built = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autofree char *app_dir = NULL;

  if (installed != NULL)
    schema = g_settings_schema_source_lookup (installed, APP_ID, TRUE);
  if (schema == NULL && (app_dir = natter_platform_program_dir ()) != NULL)
    {
      g_autofree char *data_dir = g_build_filename (app_dir, "..", "data", NULL);

      built = g_settings_schema_source_new_from_directory (data_dir, installed, FALSE, NULL);
      if (built != NULL)
        schema = g_settings_schema_source_lookup (built, APP_ID, FALSE);
    }
  if (schema == NULL)
    {
      g_printerr (_("Natter’s settings schema (%s) is not installed. Install Natter, or start "
                    "it with GSETTINGS_SCHEMA_DIR set to the build’s “data” directory.\n"), APP_ID);
      exit (1);
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
natter_application_startup (GApplication *app)
{
  NatterApplication *self = NATTER_APPLICATION (app);
  g_autofree char *state_dir = NULL;
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };
  static gsize name_set;

  G_APPLICATION_CLASS (natter_application_parent_class)->startup (app);

  /* Once per process: GLib warns when it is set again, as it is by a
   * second application object (the GUI tests make one per test). */
  if (g_once_init_enter (&name_set))
    {
      g_set_application_name (_("Natter"));
      g_once_init_leave (&name_set, 1);
    }
  gtk_window_set_default_icon_name (APP_ID);

  /* The dark style follows the system (AdwStyleManager's default). */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_DEFAULT);

  self->settings = new_settings ();
  migrate_server_settings (self);

  state_dir = g_build_filename (g_get_user_data_dir (), "natter", NULL);
  self->client = natter_client_new (state_dir);
  g_signal_connect_object (self->client, "message-received",
                           G_CALLBACK (message_received_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "presence-changed",
                           G_CALLBACK (presence_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "contact-request",
                           G_CALLBACK (contact_request_cb), self, G_CONNECT_SWAPPED);
  g_settings_bind (self->settings, "send-read-receipts", self->client, "send-read-receipts",
                   G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "send-typing", self->client, "send-typing",
                   G_SETTINGS_BIND_GET);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", prefs_accels);
}

static void
natter_application_activate (GApplication *app)
{
  NatterApplication *self = NATTER_APPLICATION (app);

  gtk_window_present (GTK_WINDOW (ensure_main_window (self)));
}

/* --version is answered here, in the process that was started, before
 * anything needs a display or the session bus. */
static int
natter_application_handle_local_options (GApplication *app,
                                         GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("natter %s\n", PACKAGE_VERSION);
      return 0;
    }
  return G_APPLICATION_CLASS (natter_application_parent_class)->handle_local_options (app, options);
}

static void
natter_application_shutdown (GApplication *app)
{
  NatterApplication *self = NATTER_APPLICATION (app);

  if (self->client != NULL)
    natter_client_disconnect (self->client);

  G_APPLICATION_CLASS (natter_application_parent_class)->shutdown (app);
}

static void
natter_application_dispose (GObject *object)
{
  NatterApplication *self = NATTER_APPLICATION (object);

  g_clear_object (&self->client);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (natter_application_parent_class)->dispose (object);
}

static void
natter_application_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  NatterApplication *self = NATTER_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_USE_SECRET_SERVICE:
      g_value_set_boolean (value, self->use_secret_service);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_application_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  NatterApplication *self = NATTER_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_USE_SECRET_SERVICE:
      natter_application_set_use_secret_service (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_application_class_init (NatterApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  /* The resources live in a static library: referencing them keeps the
   * linker from dropping the object whose constructor registers them. */
  g_assert (natter_get_resource () != NULL);

  object_class->dispose = natter_application_dispose;
  object_class->get_property = natter_application_get_property;
  object_class->set_property = natter_application_set_property;

  app_class->startup = natter_application_startup;
  app_class->activate = natter_application_activate;
  app_class->shutdown = natter_application_shutdown;
  app_class->handle_local_options = natter_application_handle_local_options;

  properties[PROP_USE_SECRET_SERVICE] =
    g_param_spec_boolean ("use-secret-service", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_application_init (NatterApplication *self)
{
  static const GOptionEntry options[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { NULL }
  };

  self->use_secret_service = TRUE;
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Chat with your contacts and in rooms on a Natter server."));
}
