/* test-gui.c: the real natter app, driven through its actions, against a
 * real natterd.
 *
 * Runs under Xvfb and a private D-Bus session (run-gui-test.sh). The app is
 * the same code as the `natter` binary (natter_ui_lib + natter_core), in
 * this process; a second account talks to it over the harness' test client.
 * Every wait iterates the main context until a condition holds, with the
 * harness deadline. Screenshots of the main screens are saved as PNGs in
 * the build dir (tests/gui/screenshots/) for people to look at.
 *
 * Any CRITICAL or WARNING, from any log domain, fails the test:
 * g_test_init() makes both fatal in this process, and run-gui-test.sh sets
 * G_DEBUG=fatal-criticals for natterd as well.
 */
#define G_LOG_DOMAIN "test-gui"

#include "config.h"

#include <adwaita.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#include <X11/XKBlib.h>
#endif
#include <glib/gstdio.h>
#include <string.h>

#include "natter-application.h"
#include "natter-conversation-view.h"
#include "natter-contacts-page.h"
#include "natter-composer.h"
#include "natter-conversation-row.h"
#include "natter-image-viewer.h"
#include "natter-message-row.h"
#include "natter-preferences-window.h"
#include "natter-room-settings-window.h"
#include "natter-account-page.h"
#include "natter-avatar-picture.h"
#include "natter-search-page.h"
#include "natter-sidebar.h"
#include "natter-ui-util.h"
#include "natter-welcome-page.h"
#include "natter-window.h"
#include "natter-test-client.h"
#include "natter-test-server.h"

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default main context until @expr holds, failing the test
 * after the harness deadline. A 50 ms timer keeps the loop waking up so the
 * deadline is checked even when nothing happens. */
#define WAIT_FOR(expr) \
  G_STMT_START { \
    gint64 deadline_ = g_get_monotonic_time () + (gint64) natter_test_deadline_ms () * 1000; \
    guint tick_ = g_timeout_add (50, tick_cb, NULL); \
    while (!(expr) && g_get_monotonic_time () < deadline_) \
      g_main_context_iteration (NULL, TRUE); \
    g_source_remove (tick_); \
    if (!(expr)) \
      g_error ("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #expr); \
  } G_STMT_END

typedef struct {
  NatterTestServer  *server;
  NatterApplication *app;
  NatterClient      *client;
  NatterWindow      *window;
  char              *screenshot_dir;
  gboolean           keyring;
  gboolean           no_secret_service; /* the bus has none: test-gui-no-keyring */
} Fixture;

/* natterd's configuration for the next fixture_setup (NULL: defaults). */
static const char *server_config;

static gpointer
child (gpointer widget, GType type, const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (object);
  return object;
}

/* ---- Screenshots --------------------------------------------------------- */

static gboolean
count_frame_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  guint *frames = user_data;

  (*frames)++;
  return G_SOURCE_CONTINUE;
}

/* Waits for a few painted frames, so that what was changed last is laid
 * out and drawn (revealers and crossfades finish: animations are off). */
static void
settle (GtkWidget *widget)
{
  guint frames = 0;
  guint id = gtk_widget_add_tick_callback (widget, count_frame_cb, &frames, NULL);

  gtk_widget_queue_draw (widget);
  WAIT_FOR (frames >= 4);
  gtk_widget_remove_tick_callback (widget, id);
}

static void
save_widget_screenshot (Fixture    *fx,
                        GtkWidget  *widget,
                        const char *name)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int width, height;

  settle (widget);

  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);

  renderer = gtk_native_get_renderer (GTK_NATIVE (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_nonnull (texture);

  path = g_build_filename (fx->screenshot_dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

static void
save_screenshot (Fixture    *fx,
                 const char *name)
{
  save_widget_screenshot (fx, GTK_WIDGET (fx->window), name);
}

/* The whole X screen, popovers and dialogs included (they are surfaces of
 * their own, which a widget's snapshot leaves out), with ImageMagick's
 * import; skipped where it is missing. */
static void
save_root_screenshot (Fixture    *fx,
                      const char *name)
{
  g_autofree char *import = g_find_program_in_path ("import");
  g_autofree char *path = g_build_filename (fx->screenshot_dir, name, NULL);
  g_autoptr(GError) error = NULL;
  int status = 0;

  settle (GTK_WIDGET (fx->window));
  if (import == NULL || g_getenv ("DISPLAY") == NULL)
    return;
  {
    const char *argv[] = { import, "-window", "root", path, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                  NULL, NULL, &status, &error);
  }
  g_assert_no_error (error);
  g_test_message ("screenshot: %s", path);
}

/* ---- A notification server ---------------------------------------------- */

/* The private session bus has no desktop shell: the test owns
 * org.freedesktop.Notifications itself and records what the app shows,
 * so notifications can be checked (and GIO does not warn). */

static const char notifications_xml[] =
  "<node>"
  " <interface name='org.freedesktop.Notifications'>"
  "  <method name='Notify'>"
  "   <arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "   <arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "   <arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "   <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "   <arg type='u' direction='out'/>"
  "  </method>"
  "  <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "  <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "  <method name='GetServerInformation'>"
  "   <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "   <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "  </method>"
  "  <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "  <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  " </interface>"
  "</node>";

static GPtrArray *notifications; /* "summary\nbody" of each Notify */

static void
notifications_method_cb (GDBusConnection       *connection,
                         const char            *sender,
                         const char            *object_path,
                         const char            *interface_name,
                         const char            *method_name,
                         GVariant              *parameters,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  if (g_str_equal (method_name, "Notify"))
    {
      const char *summary, *body;

      g_variant_get_child (parameters, 3, "&s", &summary);
      g_variant_get_child (parameters, 4, "&s", &body);
      g_ptr_array_add (notifications, g_strdup_printf ("%s\n%s", summary, body));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", notifications->len));
    }
  else if (g_str_equal (method_name, "GetCapabilities"))
    {
      const char *caps[] = { "body", "actions", NULL };
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
    }
  else if (g_str_equal (method_name, "GetServerInformation"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "test", "natter", "1", "1.2"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
start_notification_server (void)
{
  static const GDBusInterfaceVTable vtable = { notifications_method_cb, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  /* Static: the name comes back after each test that took it over, and
   * name_acquired_cb runs again then, long after this frame is gone (it
   * wrote into whatever stack was there: a crash in a later test). */
  static gboolean acquired;
  static gboolean started;

  notifications = g_ptr_array_new_with_free_func (g_free);
  /* Once per process: the name and the object stay for the next test. */
  if (started)
    return;
  started = TRUE;
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  info = g_dbus_node_info_new_for_xml (notifications_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications",
                                     info->interfaces[0], &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  /* A test in a subprocess of its own (in_own_process) takes the name
   * over while it runs; it comes back to this one after. */
  g_bus_own_name_on_connection (bus, "org.freedesktop.Notifications",
                                G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT | G_BUS_NAME_OWNER_FLAGS_REPLACE,
                                name_acquired_cb, NULL, &acquired, NULL);
  WAIT_FOR (acquired);
}

static gboolean
notified (const char *text)
{
  for (guint i = 0; i < notifications->len; i++)
    if (strstr (g_ptr_array_index (notifications, i), text) != NULL)
      return TRUE;
  return FALSE;
}

/* ---- Helpers ------------------------------------------------------------- */

static NatterWelcomePage *
welcome_page (Fixture *fx)
{
  return child (fx->window, NATTER_TYPE_WINDOW, "welcome_page");
}

static const char *
welcome_stage (Fixture *fx)
{
  return natter_welcome_page_get_stage (welcome_page (fx));
}

static void
set_row_text (Fixture    *fx,
              const char *row,
              const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (child (welcome_page (fx), NATTER_TYPE_WELCOME_PAGE, row)), text);
}

static const char *
label_text (gpointer widget, GType type, const char *name)
{
  GtkLabel *label = child (widget, type, name);

  return gtk_widget_get_visible (GTK_WIDGET (label)) ? gtk_label_get_label (label) : "";
}

static NatterMessage *
last_message (GListModel *model)
{
  guint n = g_list_model_get_n_items (model);
  NatterMessage *message;

  if (n == 0)
    return NULL;
  message = g_list_model_get_item (model, n - 1);
  g_object_unref (message); /* the model keeps it alive */
  return message;
}

static gboolean
last_body_is (GListModel *model, const char *body)
{
  NatterMessage *message = last_message (model);

  return message != NULL && g_strcmp0 (natter_message_get_body (message), body) == 0;
}

/* Reads @peer's presence events until @username's is @presence (or the
 * harness deadline passes). */
static gboolean
peer_saw_presence (NatterTestClient *peer,
                   const char       *username,
                   const char       *presence)
{
  JsonObject *frame;
  gboolean seen = FALSE;

  while (!seen && (frame = natter_test_client_try_wait_type (peer, "presence", natter_test_deadline_ms ())) != NULL)
    {
      seen = g_strcmp0 (natter_test_get_str (frame, "user.username"), username) == 0 &&
             g_strcmp0 (natter_test_get_str (frame, "user.presence"), presence) == 0;
      json_object_unref (frame);
    }
  return seen;
}

/* The bound row (a NatterMessageRow somewhere under @widget) showing
 * @message, or NULL. */
static GtkWidget *
find_message_row (GtkWidget     *widget,
                  NatterMessage *message)
{
  if (NATTER_IS_MESSAGE_ROW (widget) &&
      natter_message_row_get_message (NATTER_MESSAGE_ROW (widget)) == message)
    return widget;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_message_row (c, message);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The first mapped widget under @widget (itself included) for which
 * @match holds, depth first, or NULL. */
static GtkWidget *
find_widget (GtkWidget  *widget,
             gboolean  (*match) (GtkWidget *widget, gconstpointer data),
             gconstpointer data)
{
  if (!gtk_widget_get_mapped (widget))
    return NULL;
  if (match (widget, data))
    return widget;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_widget (c, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_label_with (GtkWidget *widget, gconstpointer text)
{
  return GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_label (GTK_LABEL (widget)), text) == 0;
}

static gboolean
is_button_with (GtkWidget *widget, gconstpointer label)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0;
}

static gboolean
is_menu_button (GtkWidget *widget, gconstpointer unused)
{
  return GTK_IS_MENU_BUTTON (widget);
}

static gboolean
is_row_of (GtkWidget *widget, gconstpointer conversation)
{
  return NATTER_IS_CONVERSATION_ROW (widget) &&
         natter_conversation_row_get_conversation (NATTER_CONVERSATION_ROW (widget)) == conversation;
}

/* Whether @c has been told, by now, that @user read up to @up_to or later
 * (earlier read events are dropped). Polls without blocking, so that
 * WAIT_FOR keeps the app's main loop, and so its writes, going. */
static gboolean
saw_read (NatterTestClient *c,
          const char       *user,
          gint64            up_to)
{
  JsonObject *event;
  gboolean seen = FALSE;

  while (!seen && (event = natter_test_client_try_wait_type (c, "read", 0)) != NULL)
    {
      seen = g_strcmp0 (json_object_get_string_member_with_default (event, "user", ""), user) == 0 &&
             natter_test_get_int (event, "up_to") >= up_to;
      json_object_unref (event);
    }
  return seen;
}

/* Whether @c has been sent, by now, a message with @body (others dropped);
 * polls like saw_read. */
static gboolean
saw_message (NatterTestClient *c,
             const char       *body)
{
  JsonObject *event;
  gboolean seen = FALSE;

  while (!seen && (event = natter_test_client_try_wait_type (c, "message", 0)) != NULL)
    {
      JsonObject *message = json_object_get_object_member (event, "message");

      seen = message != NULL &&
             g_strcmp0 (json_object_get_string_member_with_default (message, "body", ""), body) == 0;
      json_object_unref (event);
    }
  return seen;
}

/* The text of the time label of @conversation's row in the sidebar. */
static const char *
sidebar_time (Fixture            *fx,
              NatterConversation *conversation)
{
  GtkWidget *row = find_widget (GTK_WIDGET (child (fx->window, NATTER_TYPE_WINDOW, "sidebar")),
                                is_row_of, conversation);

  g_assert_nonnull (row);
  return label_text (row, NATTER_TYPE_CONVERSATION_ROW, "time_label");
}

/* Scrolls @view to its top: what a person does to read older history. */
static gboolean
scroll_to_top (NatterConversationView *view)
{
  GtkScrolledWindow *scrolled = child (view, NATTER_TYPE_CONVERSATION_VIEW, "scrolled");

  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (scrolled), 0);
  return TRUE;
}

static void
read_text_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **text = user_data;
  g_autoptr(GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, &error);
  g_assert_no_error (error);
}

/* The window's newest dialog (transient for it). */
static gpointer
find_dialog (Fixture *fx)
{
  GList *toplevels = gtk_window_list_toplevels ();
  GtkWindow *dialog = NULL;

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (gtk_window_get_transient_for (l->data) == GTK_WINDOW (fx->window) &&
        gtk_widget_get_visible (l->data))
      dialog = l->data;
  g_list_free (toplevels);
  return dialog;
}

/* ---- The test ------------------------------------------------------------ */

/* Starts the app the way `natter` does (minus g_application_run, so the
 * test keeps the main loop) and waits for its window. */
static void
start_app (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  static guint n_apps;

  fx->app = natter_application_new ();
  /* Without g_application_run() an application is never shut down, and
   * keeps its D-Bus object: each test's gets an id (an object path) of its
   * own. */
  if (n_apps++ > 0)
    {
      g_autofree char *id = g_strdup_printf ("%s.Test%u", APP_ID, n_apps);

      g_application_set_application_id (G_APPLICATION (fx->app), id);
    }
  /* The Secret Service is used only when the wrapper could start an
   * unlocked keyring on the private bus; any other would prompt. */
  natter_application_set_use_secret_service (fx->app, fx->keyring || fx->no_secret_service);
  g_application_set_flags (G_APPLICATION (fx->app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (fx->app), NULL, &error);
  g_assert_no_error (error);

  /* Screenshots must not catch a transition halfway. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_application_activate (G_APPLICATION (fx->app));
  fx->window = NATTER_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fx->app)));
  g_assert_true (NATTER_IS_WINDOW (fx->window));
  fx->client = natter_application_get_client (fx->app);
  gtk_window_set_default_size (GTK_WINDOW (fx->window), 1000, 700);
}

/* Closes the window and drops the app, as quitting does. */
static void
stop_app (Fixture *fx)
{
  natter_client_disconnect (fx->client);
  if (fx->window != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (fx->window), (gpointer *) &fx->window);
      gtk_window_destroy (GTK_WINDOW (fx->window));
    }
  /* The window must really go: a leaked window is a bug. */
  WAIT_FOR (fx->window == NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  fx->window = NULL;
  fx->client = NULL;
  g_clear_object (&fx->app);
}

static void
fixture_setup (Fixture *fx)
{
  const char *build_dir = g_getenv ("NATTER_BUILD_DIR");

  fx->screenshot_dir = g_build_filename (build_dir ? build_dir : ".", "tests", "gui", "screenshots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (fx->screenshot_dir, 0755), ==, 0);
  fx->keyring = g_getenv ("NATTER_TEST_KEYRING") != NULL;
  fx->no_secret_service = g_getenv ("NATTER_TEST_NO_SECRET_SERVICE") != NULL;

  fx->server = natter_test_server_start (server_config, NULL);
  start_notification_server ();
  start_app (fx);
}

static void
fixture_teardown (Fixture *fx)
{
  stop_app (fx);
  natter_test_server_free (fx->server);
  g_free (fx->screenshot_dir);
  g_clear_pointer (&notifications, g_ptr_array_unref);
}

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  int *found = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *username = NULL;
  g_autofree char *token = NULL;

  if (natter_secret_lookup_token_finish (result, &username, &token, &error))
    *found = g_strcmp0 (username, "alice") == 0 && token != NULL && *token != '\0' ? 1 : 0;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    *found = 0;
  else
    /* An item deleted while it was being read: ask again. */
    *found = 2;
}

/* 1 when the keyring holds alice's token for the test server, 0 when it
 * holds none, 2 when the answer was not clear (ask again). */
static int
token_in_keyring (Fixture *fx)
{
  g_autofree char *server = natter_application_dup_server_key (fx->app);
  int found = -1;

  natter_secret_lookup_token_async (server, NULL, lookup_cb, &found);
  WAIT_FOR (found != -1);
  return found;
}

/* More than two pages of history (a page is 50). */
#define N_ERIN_MESSAGES 130

static void
test_gui_flow (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) event = NULL;
  g_autofree char *server_text = NULL;
  NatterContactsPage *contacts_page;
  NatterConversationView *view;
  NatterConversation *conversation;
  NatterComposer *composer;
  NatterMessage *sent;
  GListModel *messages;
  gint64 bob_last_id;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("no display: run it through run-gui-test.sh");
      return;
    }

  fixture_setup (&fx);

  /* Two accounts exist already: bob (the peer, on the test client) and
   * alice, who signs in through the app. */
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (fx.server, "alice");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
      "{\"type\":\"set_presence\",\"presence\":\"online\"}");
  }
  bob = natter_test_client_new_user (fx.server, "bob");

  /* Erin wrote more than a page of history before alice's first sign-in
   * on this device: the app gets only the newest of it, and pages in the
   * rest when alice scrolls up (checked further down). */
  {
    g_autoptr(NatterTestClient) erin = natter_test_client_new_user (fx.server, "erin");

    for (guint i = 0; i < N_ERIN_MESSAGES; i++)
      {
        g_autoptr(JsonObject) r = natter_test_client_requestf (erin,
          "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Page test %u\",\"client_msg_id\":\"e%u\"}",
          i, i);

        natter_assert_str (r, "type", "ok");
      }
  }

  /* First start: the welcome page asks for the server. */
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "server") == 0);
  g_assert_cmpstr (natter_window_get_page_name (fx.window), ==, "welcome");
  save_screenshot (&fx, "welcome.png");

  /* An address that is not one: the error is next to the field. */
  set_row_text (&fx, "server_row", "bad host name:x");
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.connect", NULL);
  g_assert_cmpstr (welcome_stage (&fx), ==, "server");
  g_assert_cmpstr (label_text (welcome_page (&fx), NATTER_TYPE_WELCOME_PAGE, "server_error"), !=, "");

  /* A certificate that differs from the one trusted before is refused
   * with a warning: pretend "localhost" had another one. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *localhost = g_strdup_printf ("localhost:%u", natter_test_server_get_port (fx.server));

    g_assert_true (natter_client_trust_fingerprint (fx.client, "localhost",
                                                    natter_test_server_get_port (fx.server),
                                                    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                                    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
                                                    &error));
    g_assert_no_error (error);
    set_row_text (&fx, "server_row", localhost);
    gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.connect", NULL);
    WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "server") != 0 && g_strcmp0 (welcome_stage (&fx), "busy") != 0);
    g_assert_cmpstr (welcome_stage (&fx), ==, "certificate-changed");
    save_screenshot (&fx, "certificate-changed.png");
    gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.back", NULL);
    g_assert_cmpstr (welcome_stage (&fx), ==, "server");
    g_assert_cmpint (natter_client_get_state (fx.client), ==, NATTER_CLIENT_STATE_DISCONNECTED);
  }

  /* A server that does not answer is not the server of the next start
   * (its remembered sign-in would be lost behind a typo). */
  set_row_text (&fx, "server_row", "127.0.0.1:1");
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.connect", NULL);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "server") == 0 &&
            *label_text (welcome_page (&fx), NATTER_TYPE_WELCOME_PAGE, "server_error") != '\0');
  g_assert_cmpuint (g_settings_get_uint (natter_application_get_settings (fx.app), "server-port"), !=, 1);

  /* The test server's certificate is self-signed: trust on first use
   * shows its fingerprint and asks. */
  server_text = g_strdup_printf ("127.0.0.1:%u", natter_test_server_get_port (fx.server));
  set_row_text (&fx, "server_row", server_text);
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.connect", NULL);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "server") != 0 && g_strcmp0 (welcome_stage (&fx), "busy") != 0);
  g_assert_cmpstr (welcome_stage (&fx), ==, "certificate");
  g_assert_nonnull (strchr (label_text (welcome_page (&fx), NATTER_TYPE_WELCOME_PAGE, "fingerprint_label"), ':'));
  save_screenshot (&fx, "certificate.png");

  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.trust", NULL);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "account") == 0);
  /* It answered: now it is remembered. */
  g_assert_cmpuint (g_settings_get_uint (natter_application_get_settings (fx.app), "server-port"), ==,
                    natter_test_server_get_port (fx.server));

  /* A wrong password is said in plain words under the password. */
  set_row_text (&fx, "username_row", "alice");
  set_row_text (&fx, "password_row", "not the password");
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.submit", NULL);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "account") == 0 &&
            *label_text (welcome_page (&fx), NATTER_TYPE_WELCOME_PAGE, "password_error") != '\0');

  /* Creating an account that exists: the error is under the username. */
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.mode", "s", "register");
  set_row_text (&fx, "username_row", "bob");
  set_row_text (&fx, "password_row", "a long enough password");
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.submit", NULL);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "account") == 0 &&
            *label_text (welcome_page (&fx), NATTER_TYPE_WELCOME_PAGE, "username_error") != '\0');
  save_screenshot (&fx, "account-error.png");

  /* Sign in for real. */
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.mode", "s", "sign-in");
  set_row_text (&fx, "username_row", "alice");
  set_row_text (&fx, "password_row", NATTER_TEST_PASSWORD);
  gtk_widget_activate_action (GTK_WIDGET (welcome_page (&fx)), "welcome.submit", NULL);
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "chat") == 0);
  WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_READY);

  /* Bob asks to be a contact; alice accepts on the contacts page. */
  reply = natter_test_client_request_ok (bob, "{\"type\":\"contact_request\",\"username\":\"alice\"}");
  g_clear_pointer (&reply, json_object_unref);
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_incoming_requests (fx.client)) == 1);
  /* It shows at once wherever alice is: a toast that leads to the
   * contacts page, and a count on the contacts button. */
  {
    GtkWidget *toast_show = NULL;
    GtkLabel *badge = child (fx.window, NATTER_TYPE_WINDOW, "requests_badge");

    WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "bob wants to add you as a contact") != NULL);
    g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (badge)));
    g_assert_cmpstr (gtk_label_get_label (badge), ==, "1");
    save_screenshot (&fx, "contact-request.png");

    toast_show = find_widget (GTK_WIDGET (fx.window), is_button_with, "_Show");
    g_assert_nonnull (toast_show);
    g_signal_emit_by_name (toast_show, "clicked");
    WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "bob wants to add you as a contact") == NULL);
  }
  contacts_page = child (fx.window, NATTER_TYPE_WINDOW, "contacts_page");
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (contacts_page)));
  gtk_widget_activate_action (GTK_WIDGET (contacts_page), "contacts.accept", "s", "bob");
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_contacts (fx.client)) == 1);
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_incoming_requests (fx.client)) == 0);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "requests_badge"))));

  reply = natter_test_client_request_ok (bob,
    "{\"type\":\"set_presence\",\"presence\":\"busy\",\"status_text\":\"Writing the release notes\"}");
  g_clear_pointer (&reply, json_object_unref);
  WAIT_FOR (natter_user_get_presence (natter_client_lookup_user (fx.client, "bob")) == NATTER_PRESENCE_BUSY);
  /* Add a contact by searching for them, then remove them again. */
  {
    g_autoptr(NatterTestClient) carol = natter_test_client_new_user (fx.server, "carol");
    GObject *search = gtk_widget_get_template_child (GTK_WIDGET (contacts_page),
                                                     NATTER_TYPE_CONTACTS_PAGE, "search_entry");
    GtkListBox *results = GTK_LIST_BOX (gtk_widget_get_template_child (GTK_WIDGET (contacts_page),
                                                                       NATTER_TYPE_CONTACTS_PAGE,
                                                                       "search_list"));
    gtk_editable_set_text (GTK_EDITABLE (search), "car");
    WAIT_FOR (gtk_list_box_get_row_at_index (results, 0) != NULL);
    g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (gtk_list_box_get_row_at_index (results, 0))),
                     ==, "carol");
    /* carol is online, but a stranger may not see it: the server says
     * "offline" with no last_seen, and the row says nothing rather than
     * "Offline". */
    g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (gtk_list_box_get_row_at_index (results, 0))),
                     ==, "@carol");
    save_screenshot (&fx, "contacts-search.png");
    gtk_widget_activate_action (GTK_WIDGET (contacts_page), "contacts.request", "s", "carol");
    WAIT_FOR (g_list_model_get_n_items (natter_client_get_outgoing_requests (fx.client)) == 1);
    /* The search result stops offering "Add" as soon as the request is out. */
    WAIT_FOR (find_widget (GTK_WIDGET (results), is_label_with, "Asked") != NULL);
    g_assert_null (find_widget (GTK_WIDGET (results), is_button_with, "_Add"));

    reply = natter_test_client_request_ok (carol, "{\"type\":\"contact_accept\",\"username\":\"alice\"}");
    g_clear_pointer (&reply, json_object_unref);
    WAIT_FOR (g_list_model_get_n_items (natter_client_get_contacts (fx.client)) == 2);
    g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_outgoing_requests (fx.client)), ==, 0);
    /* Now a contact: the row says so, and shows her presence. */
    WAIT_FOR (find_widget (GTK_WIDGET (results), is_label_with, "Contact") != NULL);
    WAIT_FOR (g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (gtk_list_box_get_row_at_index (results, 0))),
                         "@carol · Online") == 0);
    gtk_editable_set_text (GTK_EDITABLE (search), "");
    while (g_main_context_iteration (NULL, FALSE))
      ;

    gtk_widget_activate_action (GTK_WIDGET (contacts_page), "contacts.remove", "s", "carol");
    {
      AdwMessageDialog *dialog = find_dialog (&fx);

      g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
      adw_message_dialog_response (dialog, "remove");
      gtk_window_destroy (GTK_WINDOW (dialog));
    }
    WAIT_FOR (g_list_model_get_n_items (natter_client_get_contacts (fx.client)) == 1);
  }

  save_screenshot (&fx, "contacts.png");

  /* A message while another page is on screen: a notification. */
  reply = natter_test_client_request_ok (bob,
    "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Are the release notes ready?\",\"client_msg_id\":\"b0\"}");
  g_clear_pointer (&reply, json_object_unref);
  WAIT_FOR (notified ("bob\nAre the release notes ready?"));

  /* Open the conversation with bob and send from the composer. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@bob");
  view = child (fx.window, NATTER_TYPE_WINDOW, "conversation_view");
  conversation = natter_conversation_view_get_conversation (view);
  g_assert_nonnull (conversation);
  g_assert_cmpstr (natter_conversation_get_address (conversation), ==, "@bob");
  g_assert_cmpstr (natter_window_get_current_address (fx.window), ==, "@bob");
  messages = natter_conversation_view_get_model (view);
  g_assert_true (messages == natter_conversation_get_messages (conversation));

  composer = child (view, NATTER_TYPE_CONVERSATION_VIEW, "composer");
  /* Typing tells the peer. */
  natter_test_client_clear_queue (bob);
  natter_composer_set_text (composer, "Hi Bob!");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  event = natter_test_client_wait_type (bob, "typing");
  natter_assert_str (event, "conversation", "@alice");
  natter_assert_str (event, "state", "active");
  g_clear_pointer (&event, json_object_unref);

  natter_composer_set_text (composer, "Hi Bob! The notes are at https://example.org/notes.");
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);

  /* Shown at once, then acknowledged. */
  g_assert_cmpuint (g_list_model_get_n_items (messages), ==, 2);
  sent = last_message (messages);
  g_assert_true (natter_message_get_outgoing (sent));
  g_assert_cmpstr (natter_message_get_body (sent), ==, "Hi Bob! The notes are at https://example.org/notes.");
  {
    g_autofree char *rest = natter_composer_dup_text (composer);
    g_assert_cmpstr (rest, ==, "");
  }
  WAIT_FOR (natter_message_get_state (sent) == NATTER_MESSAGE_STATE_SENT);

  /* A message's menu copies its text. */
  {
    GtkWidget *row = NULL;
    g_autofree char *copied = NULL;

    WAIT_FOR ((row = find_message_row (GTK_WIDGET (view), sent)) != NULL);
    gtk_widget_activate_action (row, "message.copy", NULL);
    gdk_clipboard_read_text_async (gtk_widget_get_clipboard (row), NULL, read_text_cb, &copied);
    WAIT_FOR (copied != NULL);
    g_assert_cmpstr (copied, ==, "Hi Bob! The notes are at https://example.org/notes.");
  }

  event = natter_test_client_wait_type (bob, "message");
  natter_assert_str (event, "message.from", "alice");
  natter_assert_str (event, "message.conversation", "@alice");
  natter_assert_str (event, "message.body", "Hi Bob! The notes are at https://example.org/notes.");
  g_clear_pointer (&event, json_object_unref);

  /* Bob reads it, types, and answers twice: the view's model gets both. */
  natter_test_client_sendf (bob, "{\"type\":\"read\",\"conversation\":\"@alice\",\"up_to\":%" G_GINT64_FORMAT "}",
                            natter_message_get_id (sent));
  WAIT_FOR (natter_conversation_get_peer_read_up_to (conversation) >= natter_message_get_id (sent));

  reply = natter_test_client_request_ok (bob,
    "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Thanks! Reading them now 👀\",\"client_msg_id\":\"b1\"}");
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_ok (bob,
    "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Looks good.\\nOne typo in the second paragraph.\",\"client_msg_id\":\"b2\"}");
  bob_last_id = natter_test_get_int (reply, "message.id");
  g_clear_pointer (&reply, json_object_unref);
  WAIT_FOR (last_body_is (messages, "Looks good.\nOne typo in the second paragraph."));
  g_assert_cmpuint (g_list_model_get_n_items (messages), ==, 4);

  /* On screen in the active window: read, so nothing is unread. A window
   * under Xvfb without a window manager may not be "active"; only check
   * when it is. */
  if (gtk_window_is_active (GTK_WINDOW (fx.window)))
    {
      WAIT_FOR (natter_conversation_get_unread (conversation) == 0);
      g_assert_cmpint (natter_conversation_get_read_up_to (conversation), >=, bob_last_id);
    }

  /* Answering is reading: bob asks, alice answers from the composer, and
   * nothing of bob's is unread any more, with the window active or not. */
  reply = natter_test_client_request_ok (bob,
    "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Lunch later?\",\"client_msg_id\":\"b3\"}");
  bob_last_id = natter_test_get_int (reply, "message.id");
  g_clear_pointer (&reply, json_object_unref);
  WAIT_FOR (last_body_is (messages, "Lunch later?"));
  /* Without a window manager the window is not active, so the question
   * stays unread until answered; with one, it is read at once and this
   * only checks that answering keeps it so. */
  if (!gtk_window_is_active (GTK_WINDOW (fx.window)))
    g_assert_cmpuint (natter_conversation_get_unread (conversation), >, 0);
  else
    g_test_message ("the window is active: answering-reads checked only weakly");
  natter_composer_set_text (composer, "Yes, at noon.");
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
  WAIT_FOR (natter_conversation_get_unread (conversation) == 0);
  g_assert_cmpint (natter_conversation_get_read_up_to (conversation), >=, bob_last_id);
  /* The read and the answer go out with the main loop running: bob sees
   * both. (WAIT_FOR tests its condition once more after the loop, and the
   * saw_ helpers consume, hence the flags.) */
  {
    gboolean read = FALSE, answered = FALSE;

    WAIT_FOR ((read || (read = saw_read (bob, "alice", bob_last_id))) &&
              (answered || (answered = saw_message (bob, "Yes, at noon."))));
  }

  natter_test_client_send (bob, "{\"type\":\"typing\",\"to\":\"@alice\",\"state\":\"active\"}");
  WAIT_FOR (natter_conversation_get_typing (conversation) != NULL);
  save_screenshot (&fx, "conversation.png");

  /* The dark style (the app follows the system's preference). */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  save_screenshot (&fx, "conversation-dark.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);

  /* A narrow window folds the leaflet: the conversation alone, with a
   * back button. */
  gtk_window_set_default_size (GTK_WINDOW (fx.window), 400, 700);
  {
    AdwLeaflet *leaflet = child (fx.window, NATTER_TYPE_WINDOW, "leaflet");

    WAIT_FOR (adw_leaflet_get_folded (leaflet));
    g_assert_cmpstr (adw_leaflet_get_visible_child_name (leaflet), ==, "content");
    /* The conversation alone on screen keeps the relative times' timer
     * (its header says "Last seen"). */
    WAIT_FOR (!gtk_widget_get_mapped (GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "sidebar"))));
    g_assert_true (natter_window_get_ticking (fx.window));
    save_screenshot (&fx, "narrow.png");
    gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.go-back", NULL);
    g_assert_cmpstr (adw_leaflet_get_visible_child_name (leaflet), ==, "sidebar");
    save_screenshot (&fx, "narrow-sidebar.png");
    gtk_window_set_default_size (GTK_WINDOW (fx.window), 1000, 700);
    WAIT_FOR (!adw_leaflet_get_folded (leaflet));
  }

  /* The conversation list has it, newest first. */
  {
    GListModel *conversations = natter_client_get_conversations (fx.client);
    g_autoptr(NatterConversation) first = g_list_model_get_item (conversations, 0);
    g_assert_true (first == conversation);
  }

  /* The list's times are relative, and move on with the clock: the
   * window's one timer (armed while the list or a conversation is on
   * screen) refreshes them. The clock is passed in here, so the test does
   * not wait for minutes. */
  {
    gint64 last = natter_conversation_get_last_activity (conversation);
    g_autofree char *later = natter_format_time_short (last);

    g_assert_true (natter_window_get_ticking (fx.window));
    natter_window_refresh_times (fx.window, last);
    g_assert_cmpstr (sidebar_time (&fx, conversation), ==, "Now");
    natter_window_refresh_times (fx.window, last + 5 * 60 * 1000);
    g_assert_cmpstr (sidebar_time (&fx, conversation), ==, "5 min");
    natter_window_refresh_times (fx.window, last + 3 * 60 * 60 * 1000);
    g_assert_cmpstr (sidebar_time (&fx, conversation), ==, later);

    /* A hidden window keeps no timer; showing it again brings the real
     * time back at once. */
    gtk_widget_set_visible (GTK_WIDGET (fx.window), FALSE);
    g_assert_false (natter_window_get_ticking (fx.window));

    /* A contact request while the window is hidden: a desktop
     * notification. */
    {
      g_autoptr(NatterTestClient) dave = natter_test_client_new_user (fx.server, "dave");

      reply = natter_test_client_request_ok (dave, "{\"type\":\"contact_request\",\"username\":\"alice\"}");
      g_clear_pointer (&reply, json_object_unref);
      WAIT_FOR (notified ("dave wants to add you as a contact"));
    }

    gtk_window_present (GTK_WINDOW (fx.window));
    WAIT_FOR (natter_window_get_ticking (fx.window));
    g_assert_cmpstr (sidebar_time (&fx, conversation), !=, later);
    g_assert_cmpstr (label_text (fx.window, NATTER_TYPE_WINDOW, "requests_badge"), ==, "1");

    /* The notification's action shows the request; alice declines. */
    g_action_group_activate_action (G_ACTION_GROUP (fx.app), "show-contacts", NULL);
    WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (contacts_page)));
    gtk_widget_activate_action (GTK_WIDGET (contacts_page), "contacts.decline", "s", "dave");
    WAIT_FOR (g_list_model_get_n_items (natter_client_get_incoming_requests (fx.client)) == 0);
    g_assert_cmpstr (label_text (fx.window, NATTER_TYPE_WINDOW, "requests_badge"), ==, "");
    WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "dave wants to add you as a contact") == NULL);
  }

  /* A message the server refuses for good (to someone who does not
   * exist yet) shows "Not sent" with Retry and Delete. Retrying once the
   * account exists sends it with the same client_msg_id. */
  {
    g_autoptr(NatterTestClient) frank = NULL;
    GListModel *frank_messages;
    NatterMessage *failed;
    GtkWidget *row = NULL;
    g_autofree char *client_msg_id = NULL;

    gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@frank");
    frank_messages = natter_conversation_view_get_model (view);
    natter_composer_set_text (composer, "Welcome aboard, Frank!");
    gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
    failed = last_message (frank_messages);
    g_assert_nonnull (failed);
    client_msg_id = g_strdup (natter_message_get_client_msg_id (failed));
    WAIT_FOR (natter_message_get_state (failed) == NATTER_MESSAGE_STATE_FAILED);

    WAIT_FOR ((row = find_message_row (GTK_WIDGET (view), failed)) != NULL &&
              gtk_widget_get_mapped (GTK_WIDGET (child (row, NATTER_TYPE_MESSAGE_ROW, "failed_box"))));
    g_assert_cmpstr (label_text (row, NATTER_TYPE_MESSAGE_ROW, "status_label"), ==, "Not sent");
    save_screenshot (&fx, "message-failed.png");

    /* Frank signs up; Retry sends the very same message. */
    frank = natter_test_client_new_user (fx.server, "frank");
    gtk_widget_activate_action (row, "message.retry", NULL);
    g_assert_cmpint (natter_message_get_state (failed), ==, NATTER_MESSAGE_STATE_SENDING);
    WAIT_FOR (natter_message_get_state (failed) == NATTER_MESSAGE_STATE_SENT);
    g_assert_cmpstr (natter_message_get_client_msg_id (failed), ==, client_msg_id);
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (child (row, NATTER_TYPE_MESSAGE_ROW, "failed_box"))));
    event = natter_test_client_wait_type (frank, "message");
    natter_assert_str (event, "message.body", "Welcome aboard, Frank!");
    natter_assert_str (event, "message.client_msg_id", client_msg_id);
    g_clear_pointer (&event, json_object_unref);
    g_assert_cmpuint (g_list_model_get_n_items (frank_messages), ==, 1);

    /* One to nobody: deleted, it is gone from the conversation. Its
     * error shows at once, ahead of the toasts already queued. */
    gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@nobody");
    frank_messages = natter_conversation_view_get_model (view);
    {
      AdwToastOverlay *overlay = child (fx.window, NATTER_TYPE_WINDOW, "toast_overlay");
      g_autoptr(AdwToast) info1 = adw_toast_new ("First news");
      g_autoptr(AdwToast) info2 = adw_toast_new ("Second news");

      adw_toast_overlay_add_toast (overlay, g_object_ref (info1));
      adw_toast_overlay_add_toast (overlay, g_object_ref (info2));

      natter_composer_set_text (composer, "Hello?");
      gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
      failed = last_message (frank_messages);
      WAIT_FOR (natter_message_get_state (failed) == NATTER_MESSAGE_STATE_FAILED);
      WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "Your message to @nobody was not sent: there is no such user or room.") != NULL ||
                find_widget (GTK_WIDGET (fx.window), is_label_with, "Second news") != NULL);
      g_assert_nonnull (find_widget (GTK_WIDGET (fx.window), is_label_with, "Your message to @nobody was not sent: there is no such user or room."));
      adw_toast_dismiss (info1);
      adw_toast_dismiss (info2);
    }
    WAIT_FOR ((row = find_message_row (GTK_WIDGET (view), failed)) != NULL);
    gtk_widget_activate_action (row, "message.delete", NULL);
    g_assert_cmpuint (g_list_model_get_n_items (frank_messages), ==, 0);
    /* Its conversation (nothing stored) stays while open, and leaves the
     * sidebar once another one opens. */
    g_assert_nonnull (natter_client_lookup_conversation (fx.client, "@nobody", FALSE));
  }

  /* Older history: erin's conversation holds the newest page at first;
   * scrolling up pages in the rest, each message once and in order. */
  {
    NatterConversation *erin_conv;
    GListModel *erin_messages;

    gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@erin");
    erin_conv = natter_conversation_view_get_conversation (view);
    g_assert_null (natter_client_lookup_conversation (fx.client, "@nobody", FALSE));
    WAIT_FOR (find_widget (GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "sidebar")),
                           is_label_with, "Say hello!") == NULL);
    erin_messages = natter_conversation_view_get_model (view);
    g_assert_true (natter_conversation_get_has_more_history (erin_conv) ||
                   g_list_model_get_n_items (erin_messages) < N_ERIN_MESSAGES);
    WAIT_FOR (g_list_model_get_n_items (erin_messages) > 1);
    g_assert_cmpuint (g_list_model_get_n_items (erin_messages), <, N_ERIN_MESSAGES);

    WAIT_FOR (scroll_to_top (view) && !natter_conversation_get_has_more_history (erin_conv));
    g_assert_cmpuint (g_list_model_get_n_items (erin_messages), ==, N_ERIN_MESSAGES);
    for (guint i = 0; i < N_ERIN_MESSAGES; i++)
      {
        g_autoptr(NatterMessage) message = g_list_model_get_item (erin_messages, i);
        g_autofree char *body = g_strdup_printf ("Page test %u", i);

        g_assert_cmpstr (natter_message_get_body (message), ==, body);
        if (i > 0)
          {
            g_autoptr(NatterMessage) previous = g_list_model_get_item (erin_messages, i - 1);
            g_assert_cmpint (natter_message_get_id (previous), <, natter_message_get_id (message));
          }
      }
    gtk_widget_activate_action (GTK_WIDGET (child (view, NATTER_TYPE_CONVERSATION_VIEW, "list_view")),
                                "list.scroll-to-item", "u", 0);
    save_screenshot (&fx, "history-top.png");
  }

  /* Search finds a message. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-search", NULL);
  {
    gpointer search_page = child (fx.window, NATTER_TYPE_WINDOW, "search_page");
    GObject *entry = gtk_widget_get_template_child (GTK_WIDGET (search_page),
                                                      g_type_from_name ("NatterSearchPage"),
                                                      "search_entry");
    GtkStack *stack = GTK_STACK (gtk_widget_get_template_child (GTK_WIDGET (search_page),
                                                                g_type_from_name ("NatterSearchPage"),
                                                                "stack"));
    gtk_editable_set_text (GTK_EDITABLE (entry), "typo");
    WAIT_FOR (g_strcmp0 (gtk_stack_get_visible_child_name (stack), "results") == 0 ||
              g_strcmp0 (gtk_stack_get_visible_child_name (stack), "empty") == 0);
    g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "results");
    save_screenshot (&fx, "search.png");

    /* A result opens its conversation. */
    {
      GtkListBox *results = GTK_LIST_BOX (gtk_widget_get_template_child (GTK_WIDGET (search_page),
                                                                         g_type_from_name ("NatterSearchPage"),
                                                                         "results_list"));
      GtkListBoxRow *first = gtk_list_box_get_row_at_index (results, 0);

      g_assert_nonnull (first);
      g_signal_emit_by_name (first, "activate");
      g_assert_cmpstr (natter_window_get_current_address (fx.window), ==, "@bob");
    }
  }

  /* The rooms dialog opens on the directory. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.new-room", NULL);
  {
    gpointer dialog = find_dialog (&fx);

    g_assert_nonnull (dialog);
    g_assert_cmpstr (G_OBJECT_TYPE_NAME (dialog), ==, "NatterRoomDirectoryDialog");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }

  /* Our own presence from the header menu reaches the contact. */
  natter_test_client_clear_queue (bob);
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.presence", "s", "away");
  g_assert_cmpint (natter_user_get_presence (natter_client_get_me (fx.client)), ==, NATTER_PRESENCE_AWAY);
  /* The harness reads block this thread's main loop, so let the app
   * write first. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (peer_saw_presence (bob, "alice", "away"));
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.presence", "s", "online");

  /* A notification's default action opens its conversation. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-contacts", NULL);
  g_assert_null (natter_window_get_current_address (fx.window));
  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "open-conversation", g_variant_new_string ("@bob"));
  g_assert_cmpstr (natter_window_get_current_address (fx.window), ==, "@bob");

  /* Preferences. */
  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "preferences", NULL);
  {
    gpointer prefs = find_dialog (&fx);

    g_assert_nonnull (prefs);
    g_assert_cmpstr (G_OBJECT_TYPE_NAME (prefs), ==, "NatterPreferencesWindow");
    save_widget_screenshot (&fx, prefs, "preferences.png");
    gtk_window_destroy (GTK_WINDOW (prefs));
  }

  /* The shortcuts window and the about window. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-help-overlay", NULL);
  {
    gpointer shortcuts = find_dialog (&fx);

    g_assert_true (GTK_IS_SHORTCUTS_WINDOW (shortcuts));
    save_widget_screenshot (&fx, shortcuts, "shortcuts.png");
    gtk_widget_set_visible (shortcuts, FALSE);
  }
  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "about", NULL);
  {
    gpointer about = find_dialog (&fx);

    g_assert_true (ADW_IS_ABOUT_WINDOW (about));
    gtk_window_destroy (GTK_WINDOW (about));
  }

  /* Rooms: bob made one; alice finds it in the directory and joins. */
  reply = natter_test_client_request_ok (bob,
    "{\"type\":\"room_create\",\"room\":\"#design\",\"topic\":\"Pixels, words and everything between\"}");
  g_clear_pointer (&reply, json_object_unref);
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.browse-rooms", NULL);
  {
    gpointer dialog = find_dialog (&fx);
    GtkStack *results;

    g_assert_nonnull (dialog);
    g_assert_cmpstr (G_OBJECT_TYPE_NAME (dialog), ==, "NatterRoomDirectoryDialog");
    results = GTK_STACK (gtk_widget_get_template_child (dialog, G_OBJECT_TYPE (dialog), "results_stack"));
    WAIT_FOR (g_strcmp0 (gtk_stack_get_visible_child_name (results), "list") == 0);
    save_widget_screenshot (&fx, dialog, "room-directory.png");
    gtk_widget_activate_action (dialog, "directory.join", "s", "#design");
  }
  WAIT_FOR (g_strcmp0 (natter_window_get_current_address (fx.window), "#design") == 0);
  conversation = natter_conversation_view_get_conversation (view);
  messages = natter_conversation_view_get_model (view);
  reply = natter_test_client_request_ok (bob,
    "{\"type\":\"send\",\"to\":\"#design\",\"body\":\"Welcome to #design, alice!\",\"client_msg_id\":\"r1\"}");
  g_clear_pointer (&reply, json_object_unref);
  WAIT_FOR (last_body_is (messages, "Welcome to #design, alice!"));
  /* The sidebar's preview of a room names the sender as the app does
   * everywhere else: by display name. */
  {
    g_autoptr(NatterTestClient) gina = natter_test_client_new (fx.server);
    GtkWidget *row;

    reply = natter_test_client_request_ok (gina,
      "{\"type\":\"register\",\"username\":\"gina\",\"password\":\"" NATTER_TEST_PASSWORD "\","
      "\"display_name\":\"Gina Torres\"}");
    g_clear_pointer (&reply, json_object_unref);
    reply = natter_test_client_request_ok (gina, "{\"type\":\"room_join\",\"room\":\"#design\"}");
    g_clear_pointer (&reply, json_object_unref);
    reply = natter_test_client_request_ok (gina,
      "{\"type\":\"send\",\"to\":\"#design\",\"body\":\"Hi all\",\"client_msg_id\":\"g1\"}");
    g_clear_pointer (&reply, json_object_unref);
    WAIT_FOR (last_body_is (messages, "Hi all"));
    row = find_widget (GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "sidebar")), is_row_of, conversation);
    g_assert_nonnull (row);
    WAIT_FOR (g_strcmp0 (label_text (row, NATTER_TYPE_CONVERSATION_ROW, "preview_label"), "Gina Torres: Hi all") == 0);
  }
  /* Shift+Enter is a new line; Enter sends. The key controller of the
   * text view is what a real key press reaches first. */
  natter_composer_set_text (composer, "Glad to be here.");
  {
    GtkWidget *text_view = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (composer),
                                                                      NATTER_TYPE_COMPOSER, "text_view"));
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (text_view);
    GtkEventController *keys = NULL;
    gboolean handled = FALSE;
    guint n_before = g_list_model_get_n_items (messages);

    for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
      {
        g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);

        if (GTK_IS_EVENT_CONTROLLER_KEY (c) &&
            gtk_event_controller_get_propagation_phase (c) == GTK_PHASE_CAPTURE)
          keys = c;
      }
    g_assert_nonnull (keys);

    g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Return, 0, GDK_SHIFT_MASK, &handled);
    g_assert_false (handled);
    g_assert_cmpuint (g_list_model_get_n_items (messages), ==, n_before);

    g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Return, 0, 0, &handled);
    g_assert_true (handled);
    g_assert_cmpuint (g_list_model_get_n_items (messages), ==, n_before + 1);
  }
  WAIT_FOR (natter_message_get_state (last_message (messages)) == NATTER_MESSAGE_STATE_SENT);
  save_screenshot (&fx, "room.png");

  /* The window title counts what is unread. */
  {
    guint unread = natter_client_get_unread_total (fx.client);
    g_autofree char *expected = unread > 0 ? g_strdup_printf ("Natter (%u)", unread) : g_strdup ("Natter");

    g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fx.window)), ==, expected);
  }

  /* Its details: the topic and both members. */
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.room-settings", "s", "members");
  {
    gpointer dialog = find_dialog (&fx);
    GtkListBox *members;

    g_assert_nonnull (dialog);
    g_assert_cmpstr (G_OBJECT_TYPE_NAME (dialog), ==, "NatterRoomSettingsWindow");
    members = GTK_LIST_BOX (gtk_widget_get_template_child (dialog, G_OBJECT_TYPE (dialog), "members_list"));
    WAIT_FOR (gtk_list_box_get_row_at_index (members, 1) != NULL);
    save_widget_screenshot (&fx, dialog, "room-details.png");
    /* A member: no invitations, no bans, nobody to manage. */
    g_assert_null (gtk_widget_get_ancestor (GTK_WIDGET (gtk_widget_get_template_child (dialog, G_OBJECT_TYPE (dialog), "bans_page")),
                                            G_OBJECT_TYPE (dialog)));
    g_assert_null (find_widget (GTK_WIDGET (members), is_menu_button, NULL));
    gtk_window_destroy (GTK_WINDOW (dialog));
  }

  /* A room of our own: created from the dialog, its topic edited by us
   * (the owner), then left. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.new-room", NULL);
  {
    gpointer dialog = find_dialog (&fx);
    GObject *name_row = gtk_widget_get_template_child (dialog, G_OBJECT_TYPE (dialog), "name_row");

    g_assert_cmpstr (G_OBJECT_TYPE_NAME (dialog), ==, "NatterRoomDirectoryDialog");
    /* Typed as a person would; the entry shows the name the room gets. */
    gtk_editable_set_text (GTK_EDITABLE (name_row), "  Team Plans");
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (name_row)), ==, "team-plans");
    gtk_editable_set_text (GTK_EDITABLE (gtk_widget_get_template_child (dialog, G_OBJECT_TYPE (dialog), "topic_row")), "Planning");
    save_widget_screenshot (&fx, dialog, "room-create.png");
    gtk_widget_activate_action (dialog, "directory.create", NULL);
  }
  WAIT_FOR (g_strcmp0 (natter_window_get_current_address (fx.window), "#team-plans") == 0);
  conversation = natter_conversation_view_get_conversation (view);
  WAIT_FOR (natter_conversation_get_room (conversation) != NULL);
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.room-settings", "s", "general");
  {
    gpointer dialog = find_dialog (&fx);
    GObject *topic_row = gtk_widget_get_template_child (dialog, G_OBJECT_TYPE (dialog), "topic_row");
    NatterRoom *room = natter_conversation_get_room (conversation);

    g_assert_cmpstr (G_OBJECT_TYPE_NAME (dialog), ==, "NatterRoomSettingsWindow");
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (topic_row)));
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (topic_row)), ==, "Planning");
    gtk_editable_set_text (GTK_EDITABLE (topic_row), "Planning, week 48");
    g_signal_emit_by_name (topic_row, "apply");
    WAIT_FOR (g_strcmp0 (natter_room_get_topic (room), "Planning, week 48") == 0);

    gtk_widget_activate_action (dialog, "room.leave", NULL);
    {
      GList *toplevels = gtk_window_list_toplevels ();
      AdwMessageDialog *confirm = NULL;

      for (GList *l = toplevels; l != NULL; l = l->next)
        if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
          confirm = l->data;
      g_list_free (toplevels);
      g_assert_nonnull (confirm);
      adw_message_dialog_response (confirm, "leave");
      gtk_window_destroy (GTK_WINDOW (confirm));
    }
  }
  WAIT_FOR (natter_window_get_current_address (fx.window) == NULL);
  {
    GListModel *rooms = natter_client_get_rooms (fx.client);

    for (guint i = 0; i < g_list_model_get_n_items (rooms); i++)
      {
        g_autoptr(NatterRoom) room = g_list_model_get_item (rooms, i);
        g_assert_cmpstr (natter_room_get_name (room), !=, "#team-plans");
      }
    /* Nor is its conversation left in the sidebar (as after a restart,
     * when the server no longer lists it). */
    g_assert_null (natter_client_lookup_conversation (fx.client, "#team-plans", FALSE));
  }

  /* The server goes away: the reconnect banner shows; it comes back. Bob
   * starts typing just before, so that the typing cleared with the
   * connection is not one that timed out by itself. */
  natter_test_client_send (bob, "{\"type\":\"typing\",\"to\":\"@alice\",\"state\":\"active\"}");
  WAIT_FOR (natter_conversation_get_typing (natter_client_lookup_conversation (fx.client, "@bob", FALSE)) != NULL);
  natter_test_server_kill (fx.server);
  WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_RECONNECTING);
  {
    GtkRevealer *banner = child (fx.window, NATTER_TYPE_WINDOW, "reconnect_revealer");

    AdwWindowTitle *sidebar_title = child (fx.window, NATTER_TYPE_WINDOW, "sidebar_title");

    g_assert_true (gtk_revealer_get_reveal_child (banner));
    /* Nobody sees us online now: the header does not claim it either. */
    g_assert_cmpstr (adw_window_title_get_subtitle (sidebar_title), ==, "Connecting…");
    /* And bob's "typing" of before is gone with the connection. */
    g_assert_null (natter_conversation_get_typing (natter_client_lookup_conversation (fx.client, "@bob", FALSE)));
    save_screenshot (&fx, "reconnecting.png");
    natter_test_server_restart (fx.server);
    gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.reconnect-now", NULL);
    WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_READY);
    g_assert_false (gtk_revealer_get_reveal_child (banner));
    g_assert_cmpstr (adw_window_title_get_subtitle (sidebar_title), !=, "Connecting…");
  }

  /* Bob's connection died with the server: he is offline. With the
   * preference on, his coming back online is a notification. */
  g_settings_set_boolean (natter_application_get_settings (fx.app), "presence-notifications", TRUE);
  WAIT_FOR (natter_user_get_presence (natter_client_lookup_user (fx.client, "bob")) == NATTER_PRESENCE_OFFLINE);
  g_clear_pointer (&bob, natter_test_client_free);
  bob = natter_test_client_new_login (fx.server, "bob");
  WAIT_FOR (notified ("bob is online"));
  g_clear_pointer (&bob, natter_test_client_free);

  /* Bob signs out: his conversation's header says when he was last seen,
   * and that moves on with the same clock as the list. */
  {
    NatterUser *bob_user = natter_client_lookup_user (fx.client, "bob");
    AdwWindowTitle *title = child (view, NATTER_TYPE_CONVERSATION_VIEW, "window_title");
    g_autofree char *day = NULL;
    g_autofree char *long_ago = NULL;
    gint64 seen;

    gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@bob");
    WAIT_FOR ((seen = natter_user_get_last_seen (bob_user)) > 0);
    day = natter_format_time_short (seen);
    long_ago = g_strdup_printf ("Last seen %s", day);
    natter_window_refresh_times (fx.window, seen);
    g_assert_cmpstr (adw_window_title_get_subtitle (title), ==, "Last seen just now");
    natter_window_refresh_times (fx.window, seen + 5 * 60 * 1000);
    g_assert_cmpstr (adw_window_title_get_subtitle (title), ==, "Last seen 5 minutes ago");
    natter_window_refresh_times (fx.window, seen + 3 * 60 * 60 * 1000);
    g_assert_cmpstr (adw_window_title_get_subtitle (title), ==, long_ago);
    natter_window_refresh_times (fx.window, g_get_real_time () / 1000);
    save_screenshot (&fx, "last-seen.png");
  }

  /* The next start signs in by itself with the token in the keyring. */
  if (fx.keyring)
    {
      int found = -1;

      WAIT_FOR (found == 1 || (found = token_in_keyring (&fx)) == 1);

      /* A new window on a disconnected client starts like a new process
       * (the known certificate is on disk, the token in the keyring). A
       * second GApplication cannot be made here: without
       * g_application_run() the first is never shut down and keeps its
       * D-Bus object. */
      natter_client_disconnect (fx.client);
      g_object_add_weak_pointer (G_OBJECT (fx.window), (gpointer *) &fx.window);
      gtk_window_destroy (GTK_WINDOW (fx.window));
      WAIT_FOR (fx.window == NULL);
      g_application_activate (G_APPLICATION (fx.app));
      fx.window = NATTER_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fx.app)));
      g_assert_true (NATTER_IS_WINDOW (fx.window));
      gtk_window_set_default_size (GTK_WINDOW (fx.window), 1000, 700);
      WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "chat") == 0);
      WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_READY);
      g_assert_cmpstr (natter_user_get_username (natter_client_get_me (fx.client)), ==, "alice");
    }
  else
    g_test_message ("no keyring on the private bus: remembered sign-in not checked");

  /* Sign out: back on the welcome page, asking for the password. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.sign-out", NULL);
  {
    AdwMessageDialog *dialog = find_dialog (&fx);

    g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
    adw_message_dialog_response (dialog, "sign-out");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "welcome") == 0);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "account") == 0);

  /* Signing out forgets the token. */
  if (fx.keyring)
    {
      /* WAIT_FOR evaluates its condition once more after the loop, and a
       * keyring read racing the clear may answer "ask again" (2) then:
       * the first 0 is the answer. */
      int found = -1;

      WAIT_FOR (found == 0 || (found = token_in_keyring (&fx)) == 0);
    }

  fixture_teardown (&fx);
}

/* ---- Closing, quitting, signing in again ---------------------------------- */

static gboolean
have_display (void)
{
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("no display: run it through run-gui-test.sh");
      return FALSE;
    }
  return TRUE;
}

/* Starts natterd and the app, with two accounts: alice (who signs in
 * through the app) and bob (the peer, on the test client returned). */
static NatterTestClient *
setup_alice_and_bob (Fixture *fx)
{
  fixture_setup (fx);
  natter_test_client_free (natter_test_client_new_user (fx->server, "alice"));
  return natter_test_client_new_user (fx->server, "bob");
}

/* Brings the welcome page to the account form of the test server, as a
 * person does: the server, its certificate if asked. */
static void
reach_account_form (Fixture *fx)
{
  NatterWelcomePage *page = welcome_page (fx);

  WAIT_FOR (g_strcmp0 (welcome_stage (fx), "busy") != 0);
  if (g_strcmp0 (welcome_stage (fx), "account") != 0)
    {
      g_autofree char *server_text = g_strdup_printf ("127.0.0.1:%u", natter_test_server_get_port (fx->server));

      set_row_text (fx, "server_row", server_text);
      gtk_widget_activate_action (GTK_WIDGET (page), "welcome.connect", NULL);
      WAIT_FOR (g_strcmp0 (welcome_stage (fx), "server") != 0 && g_strcmp0 (welcome_stage (fx), "busy") != 0);
      if (g_strcmp0 (welcome_stage (fx), "certificate") == 0)
        gtk_widget_activate_action (GTK_WIDGET (page), "welcome.trust", NULL);
      WAIT_FOR (g_strcmp0 (welcome_stage (fx), "account") == 0);
    }
}

/* Starts natterd and the app, and brings the app to the account form. */
static NatterWelcomePage *
setup_at_account_form (Fixture *fx)
{
  fixture_setup (fx);
  reach_account_form (fx);
  return welcome_page (fx);
}

/* Signs @username (an account of the test server) in through the welcome
 * page, as a person does: the server, its certificate if asked, the
 * password. */
static void
sign_in (Fixture    *fx,
         const char *username)
{
  NatterWelcomePage *page = welcome_page (fx);

  reach_account_form (fx);
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.mode", "s", "sign-in");
  set_row_text (fx, "username_row", username);
  set_row_text (fx, "password_row", NATTER_TEST_PASSWORD);
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.submit", NULL);
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx->window), "chat") == 0);
  WAIT_FOR (natter_client_get_state (fx->client) == NATTER_CLIENT_STATE_READY);
}

/* Signs out from the header menu, confirming. */
static void
sign_out (Fixture *fx)
{
  AdwMessageDialog *dialog;

  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.sign-out", NULL);
  dialog = find_dialog (fx);
  g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
  adw_message_dialog_response (dialog, "sign-out");
  gtk_window_destroy (GTK_WINDOW (dialog));
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx->window), "welcome") == 0);
}

/* alice signed in with bob's message open in the conversation view. */
static NatterConversationView *
open_bobs_message (Fixture          *fx,
                   NatterTestClient *bob)
{
  NatterConversationView *view = child (fx->window, NATTER_TYPE_WINDOW, "conversation_view");
  g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob,
    "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Still there?\",\"client_msg_id\":\"c1\"}");

  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.open-conversation", "s", "@bob");
  g_assert_cmpstr (natter_window_get_current_address (fx->window), ==, "@bob");
  WAIT_FOR (last_body_is (natter_conversation_view_get_model (view), "Still there?"));
  settle (GTK_WIDGET (fx->window));
  return view;
}

/* Opens @address in the window; its view, with its composer and its
 * messages when asked for. */
static NatterConversationView *
open_conversation (Fixture         *fx,
                   const char      *address,
                   NatterComposer **out_composer,
                   GListModel     **out_model)
{
  NatterConversationView *view = child (fx->window, NATTER_TYPE_WINDOW, "conversation_view");

  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.open-conversation", "s", address);
  if (out_composer != NULL)
    *out_composer = child (view, NATTER_TYPE_CONVERSATION_VIEW, "composer");
  if (out_model != NULL)
    *out_model = natter_conversation_view_get_model (view);
  return view;
}

/* Closing the window with a conversation on screen leaves nothing behind
 * that runs on a disposed widget (the conversation view queued a scroll
 * from its dispose, which then ran on the disposed view: a CRITICAL, and a
 * use-after-free once the view is freed). Any CRITICAL or WARNING aborts a
 * GTest program: g_test_init() makes them fatal. The client, which the
 * application owns, lives on: it must not think the conversation is still
 * on screen (a room left on another device stays in its list only while
 * it is). */
static void
test_gui_close_with_conversation (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) alice_phone = NULL;
  NatterConversation *conversation;

  if (!have_display ())
    return;
  fixture_setup (&fx);
  alice_phone = natter_test_client_new_user (fx.server, "alice");
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (alice_phone,
      "{\"type\":\"room_create\",\"room\":\"#closing\"}");
  }
  sign_in (&fx, "alice");
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "#closing");
  g_assert_cmpstr (natter_window_get_current_address (fx.window), ==, "#closing");
  conversation = natter_client_lookup_conversation (fx.client, "#closing", FALSE);
  WAIT_FOR (natter_conversation_get_room (conversation) != NULL);
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (alice_phone,
      "{\"type\":\"room_leave\",\"room\":\"#closing\"}");
  }
  WAIT_FOR (natter_conversation_get_room (conversation) == NULL);
  settle (GTK_WIDGET (fx.window));

  g_object_add_weak_pointer (G_OBJECT (fx.window), (gpointer *) &fx.window);
  gtk_window_destroy (GTK_WINDOW (fx.window));
  WAIT_FOR (fx.window == NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (natter_client_lookup_conversation (fx.client, "#closing", FALSE));

  fixture_teardown (&fx);
}

/* Quitting (Ctrl+Q) with a conversation open: the same, through the
 * application's action. */
static void
test_gui_quit_with_conversation (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;

  if (!have_display ())
    return;
  bob = setup_alice_and_bob (&fx);
  sign_in (&fx, "alice");
  open_bobs_message (&fx, bob);

  g_object_add_weak_pointer (G_OBJECT (fx.window), (gpointer *) &fx.window);
  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "quit", NULL);
  WAIT_FOR (fx.window == NULL);
  /* The client (still connected) goes on getting events the window no
   * longer hears. */
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Bye then\",\"client_msg_id\":\"c2\"}");
    NatterConversation *conversation = natter_client_lookup_conversation (fx.client, "@bob", FALSE);

    WAIT_FOR (last_body_is (natter_conversation_get_messages (conversation), "Bye then"));
  }
  while (g_main_context_iteration (NULL, FALSE))
    ;

  fixture_teardown (&fx);
}

/* A narrow window (the leaflet folded) never lands on the empty content
 * page, which alone is a dead end behind a back button: not after signing
 * in again, nor after switching accounts. (Leaving the open room closes
 * it the same way: /gui/flow.) */
static void
test_gui_narrow_sign_in_again (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  AdwLeaflet *leaflet;

  if (!have_display ())
    return;
  bob = setup_alice_and_bob (&fx);
  leaflet = child (fx.window, NATTER_TYPE_WINDOW, "leaflet");
  gtk_window_set_default_size (GTK_WINDOW (fx.window), 400, 700);

  sign_in (&fx, "alice");
  WAIT_FOR (adw_leaflet_get_folded (leaflet));
  g_assert_cmpstr (adw_leaflet_get_visible_child_name (leaflet), ==, "sidebar");
  open_bobs_message (&fx, bob);
  g_assert_cmpstr (adw_leaflet_get_visible_child_name (leaflet), ==, "content");

  /* Signed out with the conversation on screen, and in again. */
  sign_out (&fx);
  sign_in (&fx, "alice");
  g_assert_cmpstr (adw_leaflet_get_visible_child_name (leaflet), ==, "sidebar");
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "sidebar"))));
  save_screenshot (&fx, "narrow-signed-in-again.png");

  /* Another account after this one. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@bob");
  g_assert_cmpstr (adw_leaflet_get_visible_child_name (leaflet), ==, "content");
  sign_out (&fx);
  sign_in (&fx, "bob");
  g_assert_cmpstr (adw_leaflet_get_visible_child_name (leaflet), ==, "sidebar");

  fixture_teardown (&fx);
}

/* ---- A server with several addresses -------------------------------------- */

/* The server field takes a list: a bad one is said under the field, in
 * words that name the wrong entry; a good one whose first address refuses
 * connections signs in at the second and reaches the conversation list,
 * and the whole list is what is remembered. Preferences take the list
 * the same way. */
static void
test_gui_several_addresses (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GSocket) closed = NULL;
  g_autofree char *addresses = NULL;
  g_auto(GStrv) saved = NULL;
  NatterWelcomePage *page;
  guint16 closed_port;

  if (!have_display ())
    return;
  bob = setup_alice_and_bob (&fx);
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Found me?\",\"client_msg_id\":\"a1\"}");
  }
  page = welcome_page (&fx);
  closed = natter_test_closed_port_new (&closed_port);
  addresses = g_strdup_printf ("127.0.0.1:%u, 127.0.0.1:%u", closed_port,
                               natter_test_server_get_port (fx.server));

  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "server") == 0);
  set_row_text (&fx, "server_row", "127.0.0.1:7447, chat.example.org:99999");
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.connect", NULL);
  g_assert_cmpstr (welcome_stage (&fx), ==, "server");
  g_assert_nonnull (strstr (label_text (page, NATTER_TYPE_WELCOME_PAGE, "server_error"),
                            "chat.example.org:99999"));
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "addresses-error.png");

  set_row_text (&fx, "server_row", addresses);
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.connect", NULL);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "server") != 0 && g_strcmp0 (welcome_stage (&fx), "busy") != 0);
  g_assert_cmpstr (welcome_stage (&fx), ==, "certificate");
  g_assert_cmpuint (natter_client_get_port (fx.client), ==, natter_test_server_get_port (fx.server));
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.trust", NULL);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "account") == 0);
  set_row_text (&fx, "username_row", "alice");
  set_row_text (&fx, "password_row", NATTER_TEST_PASSWORD);
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.submit", NULL);
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "chat") == 0);
  WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_READY);
  WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "Found me?") != NULL);

  saved = g_settings_get_strv (natter_application_get_settings (fx.app), "server-addresses");
  g_assert_cmpuint (g_strv_length (saved), ==, 2);
  g_assert_cmpuint (g_settings_get_uint (natter_application_get_settings (fx.app), "server-port"), ==, closed_port);
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "addresses-signed-in.png");

  /* Preferences: the same list, checked when applied. */
  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "preferences", NULL);
  {
    GtkWidget *prefs = find_dialog (&fx);
    GtkEditable *row = child (prefs, NATTER_TYPE_PREFERENCES_WINDOW, "server_row");
    GtkLabel *error = child (prefs, NATTER_TYPE_PREFERENCES_WINDOW, "server_error");
    g_autofree char *shown = NULL;
    g_auto(GStrv) applied = NULL;

    g_assert_cmpstr (gtk_editable_get_text (row), ==, addresses);
    gtk_editable_set_text (row, "a.example,, b.example");
    g_signal_emit_by_name (row, "apply");
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (error)));
    g_assert_cmpstr (gtk_label_get_label (error), !=, "");
    settle (prefs);
    save_widget_screenshot (&fx, prefs, "addresses-preferences-error.png");
    shown = natter_application_dup_server (fx.app);
    g_assert_cmpstr (shown, ==, addresses);

    gtk_editable_set_text (row, "a.example b.example:8000");
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error)));
    g_signal_emit_by_name (row, "apply");
    g_assert_cmpstr (gtk_editable_get_text (row), ==, "a.example:7447, b.example:8000");
    applied = g_settings_get_strv (natter_application_get_settings (fx.app), "server-addresses");
    g_assert_cmpstr (applied[1], ==, "b.example:8000");
    gtk_window_destroy (GTK_WINDOW (prefs));
  }

  fixture_teardown (&fx);
}

/* The one server-host and server-port of an earlier version become the
 * list at the first start after the update (and stay as they were). */
static void
test_gui_settings_migration (void)
{
  Fixture fx = { 0 };
  g_autoptr(GSettings) settings = NULL;
  g_auto(GStrv) migrated = NULL;
  GtkEditable *row;

  if (!have_display ())
    return;
  settings = g_settings_new (APP_ID);
  g_settings_reset (settings, "server-addresses");
  g_settings_set_string (settings, "server-host", "chat.example.org");
  g_settings_set_uint (settings, "server-port", 8000);

  fixture_setup (&fx);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "server") == 0);
  migrated = g_settings_get_strv (settings, "server-addresses");
  g_assert_cmpuint (g_strv_length (migrated), ==, 1);
  g_assert_cmpstr (migrated[0], ==, "chat.example.org:8000");
  g_assert_cmpstr (g_settings_get_string (settings, "server-host"), ==, "chat.example.org");
  row = child (welcome_page (&fx), NATTER_TYPE_WELCOME_PAGE, "server_row");
  g_assert_cmpstr (gtk_editable_get_text (row), ==, "chat.example.org:8000");
  fixture_teardown (&fx);

  g_settings_reset (settings, "server-addresses");
  g_settings_reset (settings, "server-host");
  g_settings_reset (settings, "server-port");
}

/* ---- What a new user sees, and the privacy switches ---------------------- */

/* At first start, with no conversation, one empty state speaks: the
 * list's, with what to do; the content pane shows the icon only. Once
 * there is a conversation to pick, the pane says so. Our own status text
 * shows under our name, as others' do under theirs. */
static void
test_gui_first_start (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  GtkWidget *window;
  AdwWindowTitle *sidebar_title;

  if (!have_display ())
    return;
  bob = setup_alice_and_bob (&fx);
  sign_in (&fx, "alice");
  window = GTK_WIDGET (fx.window);

  WAIT_FOR (find_widget (window, is_label_with, "No Conversations") != NULL);
  g_assert_null (find_widget (window, is_label_with, "No Conversation Selected"));
  g_assert_null (find_widget (window, is_label_with, "Pick a conversation from the list."));
  save_screenshot (&fx, "first-start.png");

  /* Our status, set from the header's menu. */
  sidebar_title = child (fx.window, NATTER_TYPE_WINDOW, "sidebar_title");
  gtk_editable_set_text (GTK_EDITABLE (child (fx.window, NATTER_TYPE_WINDOW, "status_entry")), "Out for lunch");
  gtk_widget_activate_action (window, "win.set-status", NULL);
  WAIT_FOR (g_strcmp0 (adw_window_title_get_subtitle (sidebar_title), "Online — Out for lunch") == 0);
  gtk_widget_activate_action (window, "win.presence", "s", "busy");
  WAIT_FOR (g_strcmp0 (adw_window_title_get_subtitle (sidebar_title), "Busy — Out for lunch") == 0);

  /* Something to pick. */
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Welcome!\",\"client_msg_id\":\"w1\"}");
  }
  WAIT_FOR (find_widget (window, is_label_with, "No Conversation Selected") != NULL);
  g_assert_null (find_widget (window, is_label_with, "No Conversations"));
  save_screenshot (&fx, "own-status.png");

  fixture_teardown (&fx);
}

/* Without a Secret Service on the bus (Windows, macOS, a bare window
 * manager) the app still works: it says why it cannot remember the
 * sign-in, signs in with the password, and asks for it again at the next
 * start instead of failing. Only in the run whose private bus has no
 * keyring (the meson test test-gui-no-keyring). */
static void
test_gui_no_secret_service (void)
{
  Fixture fx = { 0 };
  NatterWelcomePage *page;

  if (!have_display ())
    return;
  if (g_getenv ("NATTER_TEST_NO_SECRET_SERVICE") == NULL)
    {
      g_test_skip ("needs a bus without a Secret Service: the test test-gui-no-keyring");
      return;
    }
  fixture_setup (&fx);
  natter_test_client_free (natter_test_client_new_user (fx.server, "alice"));
  reach_account_form (&fx);
  page = welcome_page (&fx);
  g_assert_true (gtk_widget_get_visible (child (page, NATTER_TYPE_WELCOME_PAGE, "keyring_notice")));
  save_screenshot (&fx, "no-keyring.png");

  sign_in (&fx, "alice");
  g_assert_cmpstr (natter_user_get_username (natter_client_get_me (fx.client)), ==, "alice");

  /* A new window on a disconnected client starts like a new process:
   * with nothing remembered, it asks again, and says why. */
  natter_client_disconnect (fx.client);
  g_object_add_weak_pointer (G_OBJECT (fx.window), (gpointer *) &fx.window);
  gtk_window_destroy (GTK_WINDOW (fx.window));
  WAIT_FOR (fx.window == NULL);
  g_application_activate (G_APPLICATION (fx.app));
  fx.window = NATTER_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fx.app)));
  g_assert_true (NATTER_IS_WINDOW (fx.window));
  gtk_window_set_default_size (GTK_WINDOW (fx.window), 1000, 700);
  reach_account_form (&fx);
  page = welcome_page (&fx);
  g_assert_cmpstr (natter_window_get_page_name (fx.window), ==, "welcome");
  g_assert_true (gtk_widget_get_visible (child (page, NATTER_TYPE_WELCOME_PAGE, "keyring_notice")));
  sign_in (&fx, "alice");

  fixture_teardown (&fx);
}

/* Sends @text from @composer and waits until @peer has it: whatever the
 * app's connection sent before it, @peer has by then too. */
static void
send_and_wait (NatterComposer   *composer,
               NatterTestClient *peer,
               const char       *text)
{
  gboolean seen = FALSE;

  natter_composer_set_text (composer, text);
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
  WAIT_FOR (seen || (seen = saw_message (peer, text)));
}

/* With "Send read receipts" off, reading (here: answering) sends no read
 * marker: bob, on a real second client, sees none. With it on, he does. */
static void
test_gui_read_receipts_switch (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  GSettings *settings;
  NatterConversationView *view;
  NatterComposer *composer;
  gint64 id;

  if (!have_display ())
    return;
  bob = setup_alice_and_bob (&fx);
  settings = natter_application_get_settings (fx.app);
  sign_in (&fx, "alice");

  g_settings_set_boolean (settings, "send-read-receipts", FALSE);
  view = open_bobs_message (&fx, bob);
  composer = child (view, NATTER_TYPE_CONVERSATION_VIEW, "composer");
  natter_test_client_clear_queue (bob);
  send_and_wait (composer, bob, "Yes, here.");
  /* Read here all the same. */
  g_assert_cmpuint (natter_conversation_get_unread (natter_conversation_view_get_conversation (view)), ==, 0);
  /* The read marker would go out after the answer: one more message, and
   * bob has all that came before it, with no read marker among it. */
  send_and_wait (composer, bob, "Still here.");
  g_assert_null (natter_test_client_take_queued (bob, "read"));

  g_settings_set_boolean (settings, "send-read-receipts", TRUE);
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Lunch?\",\"client_msg_id\":\"c3\"}");

    id = natter_test_get_int (reply, "message.id");
  }
  WAIT_FOR (last_body_is (natter_conversation_view_get_model (view), "Lunch?"));
  natter_composer_set_text (composer, "Sure.");
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
  {
    gboolean seen = FALSE;

    WAIT_FOR (seen || (seen = saw_read (bob, "alice", id)));
  }

  fixture_teardown (&fx);
}

/* With "Send typing notifications" off, typing tells bob nothing; on, it
 * does. */
static void
test_gui_typing_switch (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  GSettings *settings;
  NatterComposer *composer;
  JsonObject *typing;

  if (!have_display ())
    return;
  bob = setup_alice_and_bob (&fx);
  settings = natter_application_get_settings (fx.app);
  sign_in (&fx, "alice");
  composer = child (open_bobs_message (&fx, bob), NATTER_TYPE_CONVERSATION_VIEW, "composer");

  g_settings_set_boolean (settings, "send-typing", FALSE);
  natter_test_client_clear_queue (bob);
  /* Typed, then sent: bob gets the message and no "typing" before it. */
  send_and_wait (composer, bob, "Thinking about it");
  g_assert_null (natter_test_client_take_queued (bob, "typing"));

  g_settings_set_boolean (settings, "send-typing", TRUE);
  natter_composer_set_text (composer, "Now I type");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  typing = natter_test_client_wait_type (bob, "typing");
  natter_assert_str (typing, "conversation", "@alice");
  natter_assert_str (typing, "state", "active");
  json_object_unref (typing);

  fixture_teardown (&fx);
}

#ifdef GDK_WINDOWING_X11
/* The X server tells whoever asks when the bell rings (XKB BellNotify):
 * the test counts them, as a person would hear them. */
static int xkb_event_base = -1;
static guint bells;

static gboolean
xevent_cb (GdkX11Display *display,
           gpointer       xevent,
           gpointer       user_data)
{
  XEvent *event = xevent;

  if (event->type == xkb_event_base && ((XkbAnyEvent *) event)->xkb_type == XkbBellNotify)
    bells++;
  return GDK_EVENT_PROPAGATE;
}

/* The bells rung so far, after a round trip to the X server. */
static guint
count_bells (void)
{
  XSync (gdk_x11_display_get_xdisplay (gdk_display_get_default ()), False);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return bells;
}

/* "Play a sound for new messages": the desktop's alert sound (the bell)
 * rings with a message's notification when on, and not when off. */
static void
test_gui_sound_switch (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  GSettings *settings;
  Display *xdisplay;
  int opcode, error_base, major = XkbMajorVersion, minor = XkbMinorVersion;
  guint before;

  if (!have_display ())
    return;
  /* As the application's startup does: the display is needed first. */
  gtk_init ();
  if (!GDK_IS_X11_DISPLAY (gdk_display_get_default ()))
    {
      g_test_skip ("not on X11: the bell cannot be heard");
      return;
    }
  xdisplay = gdk_x11_display_get_xdisplay (gdk_display_get_default ());
  g_assert_true (XkbQueryExtension (xdisplay, &opcode, &xkb_event_base, &error_base, &major, &minor));
  g_assert_true (XkbSelectEvents (xdisplay, XkbUseCoreKbd, XkbBellNotifyMask, XkbBellNotifyMask));
  g_signal_connect (gdk_display_get_default (), "xevent", G_CALLBACK (xevent_cb), NULL);

  bob = setup_alice_and_bob (&fx);
  settings = natter_application_get_settings (fx.app);
  g_assert_true (g_settings_get_boolean (settings, "notification-sound"));
  sign_in (&fx, "alice");
  /* Another page on screen: a message is news. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-contacts", NULL);

  before = count_bells ();
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Ding\",\"client_msg_id\":\"s1\"}");
  }
  WAIT_FOR (notified ("bob\nDing"));
  WAIT_FOR (count_bells () > before);

  g_settings_set_boolean (settings, "notification-sound", FALSE);
  before = count_bells ();
  {
    g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Quiet\",\"client_msg_id\":\"s2\"}");
  }
  WAIT_FOR (notified ("bob\nQuiet"));
  g_assert_cmpuint (count_bells (), ==, before);

  g_signal_handlers_disconnect_by_func (gdk_display_get_default (), xevent_cb, NULL);
  fixture_teardown (&fx);
}
#endif

/* ---- The connection's edges (each test in a subprocess) ------------------ */

/* The tests below each start an app and a natterd of their own, in a
 * subprocess: one process cannot hold a second GApplication (see the
 * keyring check above). They need no notification server: notifications
 * are off. */
static void
edge_setup (Fixture *fx)
{
  const char *build_dir = g_getenv ("NATTER_BUILD_DIR");

  fx->screenshot_dir = g_build_filename (build_dir ? build_dir : ".", "tests", "gui", "screenshots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (fx->screenshot_dir, 0755), ==, 0);
  fx->keyring = g_getenv ("NATTER_TEST_KEYRING") != NULL;
  fx->server = natter_test_server_start (NULL, NULL);
  start_app (fx);
  g_settings_set_boolean (natter_application_get_settings (fx->app), "notifications", FALSE);
}

/* TRUE in the subprocess that runs a test's body; the parent only runs
 * the subprocess and checks that it passed. Each test that signs in
 * anew runs alone in its own process: a GApplication that was never
 * g_application_run() keeps its D-Bus object on the process' bus
 * connection, so a second one could not register beside it. */
static gboolean
in_own_process (void)
{
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("no display: run it through run-gui-test.sh");
      return FALSE;
    }
  if (g_test_subprocess ())
    return TRUE;
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  return FALSE;
}

static gboolean
is_presence_dot (GtkWidget *widget, gconstpointer data)
{
  return gtk_widget_has_css_class (widget, "presence-dot");
}

/* bob is alice's contact and online. While alice's connection is down,
 * nothing claims to know his presence: not the conversation's header, not
 * the dot on his avatar in the sidebar, not the contacts page. Once the
 * app is back, they show it again. */
static void
test_gui_offline_presence (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  NatterConversationView *view;
  AdwWindowTitle *title;
  GtkWidget *sidebar, *row;
  NatterConversation *conversation;

  if (!in_own_process ())
    return;

  edge_setup (&fx);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (fx.server, "alice");
    g_autoptr(JsonObject) r1 = NULL;
    g_autoptr(JsonObject) r2 = NULL;

    bob = natter_test_client_new_user (fx.server, "bob");
    r1 = natter_test_client_request_ok (bob, "{\"type\":\"contact_request\",\"username\":\"alice\"}");
    r2 = natter_test_client_request_ok (alice, "{\"type\":\"contact_accept\",\"username\":\"bob\"}");
  }
  sign_in (&fx, "alice");

  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@bob");
  view = child (fx.window, NATTER_TYPE_WINDOW, "conversation_view");
  title = child (view, NATTER_TYPE_CONVERSATION_VIEW, "window_title");
  sidebar = GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "sidebar"));
  conversation = natter_client_lookup_conversation (fx.client, "@bob", FALSE);
  g_assert_nonnull (conversation);
  WAIT_FOR (g_strcmp0 (adw_window_title_get_subtitle (title), "Online") == 0);
  settle (GTK_WIDGET (fx.window));
  row = find_widget (sidebar, is_row_of, conversation);
  g_assert_nonnull (row);
  g_assert_nonnull (find_widget (row, is_presence_dot, NULL));

  natter_test_server_kill (fx.server);
  WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_RECONNECTING);
  g_assert_cmpstr (adw_window_title_get_subtitle (title), ==, "@bob");
  settle (GTK_WIDGET (fx.window));
  row = find_widget (sidebar, is_row_of, conversation);
  g_assert_nonnull (row);
  g_assert_null (find_widget (row, is_presence_dot, NULL));
  save_screenshot (&fx, "offline-dm-header.png");

  /* The contacts page says nothing of his presence either. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-contacts", NULL);
  settle (GTK_WIDGET (fx.window));
  g_assert_null (find_widget (GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "contacts_page")),
                              is_presence_dot, NULL));
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@bob");

  /* Back: bob is online again (his old connection died with the server). */
  g_clear_pointer (&bob, natter_test_client_free);
  natter_test_server_restart (fx.server);
  bob = natter_test_client_new_login (fx.server, "bob");
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.reconnect-now", NULL);
  WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_READY);
  WAIT_FOR (g_strcmp0 (adw_window_title_get_subtitle (title), "Online") == 0);

  fixture_teardown (&fx);
}

static gboolean
is_label_containing (GtkWidget *widget, gconstpointer text)
{
  return GTK_IS_LABEL (widget) && strstr (gtk_label_get_label (GTK_LABEL (widget)), text) != NULL;
}

/* The first block of four pairs of @fingerprint ("AB:CD:EF:01"). */
static char *
first_block (const char *fingerprint)
{
  return g_strndup (fingerprint, 11);
}

/* natterd comes back on the same address with a new certificate while
 * alice is signed in, in a conversation. The warning shows at once, with
 * the old and the new fingerprint; trusting the new one takes entering it
 * (as the operator gave it); then the session carries on: same
 * conversation, what alice wrote meanwhile is sent, no password, and the
 * sign-in in the keyring is still there. */
static void
test_gui_identity_changed (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autofree char *old_fingerprint = NULL;
  g_autofree char *new_fingerprint = NULL;
  g_autofree char *old_block = NULL;
  g_autofree char *new_block = NULL;
  g_autofree char *pasted = NULL;
  NatterWelcomePage *page;
  GtkWidget *trust_button;
  NatterMessage *written;
  gboolean saw_account = FALSE;

  if (!in_own_process ())
    return;

  edge_setup (&fx);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (fx.server, "alice");
  }
  bob = natter_test_client_new_user (fx.server, "bob");
  sign_in (&fx, "alice");
  old_fingerprint = g_strdup (natter_client_get_peer_fingerprint (fx.client));

  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "@bob");
  written = natter_client_send_message (fx.client, "@bob", "before the new certificate");
  WAIT_FOR (natter_message_get_state (written) == NATTER_MESSAGE_STATE_SENT);
  if (fx.keyring)
    {
      int found = -1;

      WAIT_FOR (found == 1 || (found = token_in_keyring (&fx)) == 1);
    }

  /* The operator replaces the certificate: stop, delete both files, start. */
  g_clear_pointer (&bob, natter_test_client_free);
  natter_test_server_stop (fx.server);
  {
    const char *data_dir = natter_test_server_get_data_dir (fx.server);
    g_autofree char *cert = g_build_filename (data_dir, "tls-cert.pem", NULL);
    g_autofree char *key = g_build_filename (data_dir, "tls-key.pem", NULL);

    g_assert_cmpint (g_remove (cert), ==, 0);
    g_assert_cmpint (g_remove (key), ==, 0);
  }
  natter_test_server_restart (fx.server);
  bob = natter_test_client_new_login (fx.server, "bob");

  /* At once (the reconnect is only hurried along here), wherever alice
   * is: the warning, not the plain welcome page. */
  page = welcome_page (&fx);
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "welcome") == 0 ||
            (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.reconnect-now", NULL), FALSE));
  g_assert_cmpstr (welcome_stage (&fx), ==, "certificate-changed");
  g_assert_cmpint (natter_client_get_state (fx.client), ==, NATTER_CLIENT_STATE_UNTRUSTED);
  new_fingerprint = g_strdup (natter_client_get_peer_fingerprint (fx.client));
  g_assert_cmpstr (new_fingerprint, !=, old_fingerprint);

  /* Both fingerprints show, in blocks. */
  old_block = first_block (old_fingerprint);
  new_block = first_block (new_fingerprint);
  g_assert_nonnull (strstr (label_text (page, NATTER_TYPE_WELCOME_PAGE, "changed_old_label"), old_block));
  g_assert_nonnull (strstr (label_text (page, NATTER_TYPE_WELCOME_PAGE, "changed_fingerprint_label"), new_block));
  settle (GTK_WIDGET (fx.window));
  g_assert_nonnull (find_widget (GTK_WIDGET (page), is_label_containing, new_block));

  /* Nothing was lost, and nothing is retried behind the user's back. */
  g_assert_nonnull (natter_client_get_token (fx.client));
  g_assert_cmpstr (natter_client_get_trusted_fingerprint (fx.client), ==, old_fingerprint);
  if (fx.keyring)
    g_assert_cmpint (token_in_keyring (&fx), !=, 0);
  written = natter_client_send_message (fx.client, "@bob", "written while untrusted");
  g_assert_cmpint (natter_message_get_state (written), ==, NATTER_MESSAGE_STATE_SENDING);

  /* Trust New Identity needs the new fingerprint: not allowed until then,
   * and the old one is not it. */
  trust_button = GTK_WIDGET (child (page, NATTER_TYPE_WELCOME_PAGE, "changed_trust_button"));
  g_assert_false (gtk_widget_is_sensitive (trust_button));
  save_screenshot (&fx, "identity-changed.png");
  set_row_text (&fx, "changed_entry", old_fingerprint);
  g_assert_false (gtk_widget_is_sensitive (trust_button));
  g_assert_cmpstr (label_text (page, NATTER_TYPE_WELCOME_PAGE, "changed_error"), !=, "");
  save_screenshot (&fx, "identity-changed-mismatch.png");
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.trust-new", NULL);
  g_assert_cmpstr (welcome_stage (&fx), ==, "certificate-changed");
  g_assert_cmpint (natter_client_get_state (fx.client), ==, NATTER_CLIENT_STATE_UNTRUSTED);

  /* As `openssl x509 -fingerprint -sha256` prints it, in lower case. */
  pasted = g_ascii_strdown (new_fingerprint, -1);
  {
    g_autofree char *openssl = g_strdup_printf ("sha256 Fingerprint=%s\n", pasted);

    set_row_text (&fx, "changed_entry", openssl);
  }
  g_assert_true (gtk_widget_is_sensitive (trust_button));
  g_assert_cmpstr (label_text (page, NATTER_TYPE_WELCOME_PAGE, "changed_error"), ==, "");
  g_signal_emit_by_name (trust_button, "clicked");

  /* Straight back to the chat: no password. */
  WAIT_FOR ((saw_account = saw_account || g_strcmp0 (welcome_stage (&fx), "account") == 0,
             natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_READY &&
             g_strcmp0 (natter_window_get_page_name (fx.window), "chat") == 0));
  g_assert_false (saw_account);
  g_assert_cmpstr (natter_client_get_trusted_fingerprint (fx.client), ==, new_fingerprint);
  g_assert_cmpstr (natter_window_get_current_address (fx.window), ==, "@bob");
  WAIT_FOR (natter_message_get_state (written) == NATTER_MESSAGE_STATE_SENT);
  {
    gboolean seen = FALSE;

    WAIT_FOR (seen || (seen = saw_message (bob, "written while untrusted")));
  }

  fixture_teardown (&fx);
}

/* Alice's sign-in is revoked on another device while the app is signed
 * in: the app loses it on its next reconnect, and says so (it used to drop
 * to the welcome page without a word), and forgets the dead token. */
static void
test_gui_session_ended (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) other = NULL;

  if (!in_own_process ())
    return;

  edge_setup (&fx);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (fx.server, "alice");
  }
  sign_in (&fx, "alice");
  if (fx.keyring)
    {
      int found = -1;

      WAIT_FOR (found == 1 || (found = token_in_keyring (&fx)) == 1);
    }

  other = natter_test_client_new (fx.server);
  natter_test_client_login_token (other, natter_client_get_token (fx.client));
  natter_test_client_logout (other);

  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "welcome") == 0 ||
            (gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.reconnect-now", NULL), FALSE));
  WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "Your session has ended. Sign in again.") != NULL);
  if (fx.keyring)
    {
      int found = -1;

      WAIT_FOR (found == 0 || (found = token_in_keyring (&fx)) == 0);
    }

  fixture_teardown (&fx);
}

/* ---- Search as you type ---------------------------------------------------- */

/* A fixture with @username (called @display_name, when not NULL) signed
 * in through the welcome page: server, certificate, password. */
static void
fixture_setup_signed_in_named (Fixture    *fx,
                               const char *username,
                               const char *display_name)
{
  const char *build_dir = g_getenv ("NATTER_BUILD_DIR");

  fx->screenshot_dir = g_build_filename (build_dir ? build_dir : ".", "tests", "gui", "screenshots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (fx->screenshot_dir, 0755), ==, 0);
  fx->server = natter_test_server_start (NULL, NULL);
  start_notification_server ();
  if (display_name == NULL)
    {
      g_autoptr(NatterTestClient) account = natter_test_client_new_user (fx->server, username);
    }
  else
    {
      g_autoptr(NatterTestClient) account = natter_test_client_new (fx->server);
      g_autoptr(JsonObject) r = natter_test_client_request_ok (account,
        "{\"type\":\"register\",\"username\":\"%s\",\"password\":\"%s\",\"display_name\":\"%s\"}",
        username, NATTER_TEST_PASSWORD, display_name);
    }
  start_app (fx);
  sign_in (fx, username);
}

static void
fixture_setup_signed_in (Fixture    *fx,
                         const char *username)
{
  fixture_setup_signed_in_named (fx, username, NULL);
}

/* TRUE when @widget is drawn inside @viewport's visible height. */
static gboolean
is_within (GtkWidget *widget,
           GtkWidget *viewport)
{
  graphene_rect_t bounds;

  if (widget == NULL || !gtk_widget_get_mapped (widget) ||
      !gtk_widget_compute_bounds (widget, viewport, &bounds))
    return FALSE;
  return bounds.origin.y >= 0 && bounds.origin.y + bounds.size.height <= gtk_widget_get_height (viewport);
}

static gboolean
is_label_with_markup (GtkWidget *widget, gconstpointer markup)
{
  return GTK_IS_LABEL (widget) && gtk_label_get_use_markup (GTK_LABEL (widget)) &&
         strstr (gtk_label_get_label (GTK_LABEL (widget)), markup) != NULL;
}

/* Typing part of a word finds it, the hit is highlighted, and a click
 * opens the conversation at the hit, paging older history in until it is
 * there. */
static void
test_gui_search_as_you_type (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  gpointer search_page;
  GtkStack *stack;
  GtkListBox *results;
  NatterConversationView *view;
  GtkWidget *label;
  gint64 hit;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("no display: run it through run-gui-test.sh");
      return;
    }
  if (!in_own_process ())
    return;

  fixture_setup_signed_in (&fx, "alice");
  bob = natter_test_client_new_user (fx.server, "bob");
  /* The hit, then more than two pages (a page is 50) after it. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Pizza party tonight? <bring> drinks & chips\","
      "\"client_msg_id\":\"hit\"}");

    hit = natter_test_get_int (r, "message.id");
  }
  for (guint i = 0; i < 120; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_requestf (bob,
        "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Later message %u\",\"client_msg_id\":\"l%u\"}",
        i, i);

      natter_assert_str (r, "type", "ok");
    }
  WAIT_FOR (natter_client_lookup_conversation (fx.client, "@bob", FALSE) != NULL);

  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-search", NULL);
  search_page = child (fx.window, NATTER_TYPE_WINDOW, "search_page");
  stack = GTK_STACK (child (search_page, g_type_from_name ("NatterSearchPage"), "stack"));
  results = GTK_LIST_BOX (child (search_page, g_type_from_name ("NatterSearchPage"), "results_list"));

  /* As typed, one key at a time: the last query's results show. */
  {
    GtkEditable *entry = GTK_EDITABLE (child (search_page, g_type_from_name ("NatterSearchPage"), "search_entry"));

    gtk_editable_set_text (entry, "p");
    gtk_editable_set_text (entry, "pi");
    gtk_editable_set_text (entry, "piz");
  }
  WAIT_FOR (g_strcmp0 (gtk_stack_get_visible_child_name (stack), "results") == 0);
  g_assert_nonnull (gtk_list_box_get_row_at_index (results, 0));
  g_assert_null (gtk_list_box_get_row_at_index (results, 1));
  /* Highlighted: "Piz" of "Pizza", the rest escaped. */
  label = find_widget (GTK_WIDGET (results), is_label_with_markup, "\">Piz</span>za party");
  g_assert_nonnull (label);
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (label)), "&lt;bring&gt; drinks &amp; chips"));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, "Pizza party tonight? <bring> drinks & chips");
  save_screenshot (&fx, "search-highlight.png");

  /* The click opens the conversation with the hit on screen, though it
   * was more than two pages back. */
  view = child (fx.window, NATTER_TYPE_WINDOW, "conversation_view");
  g_signal_emit_by_name (gtk_list_box_get_row_at_index (results, 0), "activate");
  g_assert_cmpstr (natter_window_get_current_address (fx.window), ==, "@bob");
  {
    GListModel *model = natter_conversation_view_get_model (view);
    GtkWidget *scrolled = child (view, NATTER_TYPE_CONVERSATION_VIEW, "scrolled");
    NatterMessage *message = NULL;

    WAIT_FOR (natter_conversation_view_is_message_marked (view, hit));
    for (guint i = 0; i < g_list_model_get_n_items (model); i++)
      {
        g_autoptr(NatterMessage) m = g_list_model_get_item (model, i);

        if (natter_message_get_id (m) == hit)
          message = m;
      }
    g_assert_nonnull (message);
    WAIT_FOR (is_within (find_message_row (GTK_WIDGET (view), message), scrolled));
    g_assert_true (gtk_widget_has_css_class (find_message_row (GTK_WIDGET (view), message), "search-hit"));
    /* 120 messages below it: the way back down is offered. */
    WAIT_FOR (gtk_revealer_get_reveal_child (child (view, NATTER_TYPE_CONVERSATION_VIEW, "jump_revealer")));
    save_screenshot (&fx, "search-hit.png");
    /* The mark goes after a moment. */
    WAIT_FOR (!natter_conversation_view_is_message_marked (view, hit));
  }

  fixture_teardown (&fx);
}

/* ---- Cancelling a contact request ----------------------------------------- */

/* A request alice sent shows with a Cancel Request button; pressing it
 * withdraws the request: the row goes, and bob is told. */
static void
test_gui_cancel_request (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  NatterContactsPage *contacts_page;
  GtkListBox *outgoing;
  GtkWidget *cancel;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("no display: run it through run-gui-test.sh");
      return;
    }
  if (!in_own_process ())
    return;

  fixture_setup_signed_in (&fx, "alice");
  bob = natter_test_client_new_user (fx.server, "bob");

  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-contacts", NULL);
  contacts_page = child (fx.window, NATTER_TYPE_WINDOW, "contacts_page");
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (contacts_page)));
  outgoing = child (contacts_page, NATTER_TYPE_CONTACTS_PAGE, "outgoing_list");
  gtk_widget_activate_action (GTK_WIDGET (contacts_page), "contacts.request", "s", "bob");
  WAIT_FOR ((cancel = find_widget (GTK_WIDGET (outgoing), is_button_with, "_Cancel Request")) != NULL);
  {
    g_autoptr(JsonObject) asked = natter_test_client_wait_type (bob, "contact_request");
  }
  save_screenshot (&fx, "contacts-cancel-request.png");

  /* The button, as a click would. */
  g_signal_emit_by_name (cancel, "clicked");
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_outgoing_requests (fx.client)) == 0);
  WAIT_FOR (!gtk_widget_get_visible (GTK_WIDGET (child (contacts_page, NATTER_TYPE_CONTACTS_PAGE,
                                                        "outgoing_group"))));
  {
    g_autoptr(JsonObject) told = natter_test_client_wait_type (bob, "contact");
    g_autoptr(JsonObject) c = natter_test_client_request_ok (bob, "{\"type\":\"contacts\"}");

    natter_assert_str (told, "change", "removed");
    natter_assert_str (told, "user.username", "alice");
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (c, "incoming")), ==, 0);
  }

  fixture_teardown (&fx);
}

/* ---- Room notices ------------------------------------------------------------ */

static void
joined_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  *(gboolean *) user_data = natter_client_room_join_finish (NATTER_CLIENT (object), result, &error);
  g_assert_no_error (error);
}

/* The notice row showing @text under @widget, or NULL. */
static GtkWidget *
find_notice (GtkWidget  *widget,
             const char *text)
{
  GtkWidget *label = find_widget (widget, is_label_with, text);

  return label != NULL && gtk_widget_has_css_class (label, "room-notice") ? label : NULL;
}

/* Someone joining, leaving and changing the topic shows as a line in the
 * room, in its place among the messages. */
static void
test_gui_room_notices (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) carol = NULL;
  NatterConversationView *view;
  GListModel *model;
  gboolean joined = FALSE;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("no display: run it through run-gui-test.sh");
      return;
    }
  if (!in_own_process ())
    return;

  fixture_setup_signed_in (&fx, "alice");
  bob = natter_test_client_new_user (fx.server, "bob");
  carol = natter_test_client_new_user (fx.server, "carol");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"room_create\",\"room\":\"#lunch\",\"topic\":\"Food\"}");
    g_autoptr(JsonObject) m = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"#lunch\",\"body\":\"Who is hungry?\",\"client_msg_id\":\"b1\"}");
  }
  natter_client_room_join_async (fx.client, "#lunch", NULL, joined_cb, &joined);
  WAIT_FOR (joined);
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "#lunch");
  view = child (fx.window, NATTER_TYPE_WINDOW, "conversation_view");
  model = natter_conversation_view_get_model (view);
  WAIT_FOR (last_body_is (model, "Who is hungry?"));

  /* carol joins, bob changes the topic, carol writes, then leaves. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
      "{\"type\":\"room_join\",\"room\":\"#lunch\"}");
  }
  WAIT_FOR (find_notice (GTK_WIDGET (view), "carol joined") != NULL);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"room_topic\",\"room\":\"#lunch\",\"topic\":\"Pizza at noon\"}");
  }
  WAIT_FOR (find_notice (GTK_WIDGET (view), "bob changed the topic to “Pizza at noon”") != NULL);
  {
    g_autoptr(JsonObject) m = natter_test_client_request_ok (carol,
      "{\"type\":\"send\",\"to\":\"#lunch\",\"body\":\"Count me in\",\"client_msg_id\":\"c1\"}");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
      "{\"type\":\"room_leave\",\"room\":\"#lunch\"}");
  }
  WAIT_FOR (find_notice (GTK_WIDGET (view), "carol left") != NULL);
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "room-notices.png");

  /* In order: bob's message, the join, the topic, carol's message, the
   * leave; the sidebar still shows the last real message. */
  {
    static const char *const expected[] = {
      "Who is hungry?", "carol joined", "bob changed the topic to “Pizza at noon”",
      "Count me in", "carol left",
    };

    g_assert_cmpuint (g_list_model_get_n_items (model), ==, G_N_ELEMENTS (expected));
    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      {
        g_autoptr(NatterMessage) m = g_list_model_get_item (model, i);

        g_assert_cmpstr (natter_message_get_body (m), ==, expected[i]);
        g_assert_cmpint (natter_message_is_notice (m), ==, i == 1 || i == 2 || i == 4);
      }
    g_assert_cmpstr (natter_message_get_body (natter_conversation_get_last_message (
                       natter_conversation_view_get_conversation (view))), ==, "Count me in");
  }

  fixture_teardown (&fx);
}

static gboolean
has_room (GListModel *model,
          const char *name)
{
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterRoom) room = g_list_model_get_item (model, i);

      if (g_str_equal (natter_room_get_name (room), name))
        return TRUE;
    }
  return FALSE;
}

/* Invitations to rooms (room_management) show above the conversations,
 * with who invited; Join opens the room, Decline drops the invitation. */
static void
test_gui_room_invitations (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  GtkWidget *sidebar, *button;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("no display: run it through run-gui-test.sh");
      return;
    }
  if (!in_own_process ())
    return;

  fixture_setup_signed_in (&fx, "alice");
  if (!natter_client_get_room_management (fx.client))
    {
      g_test_skip ("natterd does not offer room_management");
      fixture_teardown (&fx);
      return;
    }
  sidebar = GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "sidebar"));
  bob = natter_test_client_new (fx.server);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"register\",\"username\":\"bob\",\"password\":\"%s\",\"features\":[\"room_management\"]}",
      NATTER_TEST_PASSWORD);
    g_autoptr(JsonObject) c1 = natter_test_client_request_ok (bob,
      "{\"type\":\"room_create\",\"room\":\"#plans\",\"private\":true}");
    g_autoptr(JsonObject) c2 = natter_test_client_request_ok (bob,
      "{\"type\":\"room_create\",\"room\":\"#other\",\"private\":true}");
    g_autoptr(JsonObject) u = natter_test_client_request_ok (bob,
      "{\"type\":\"room_update\",\"room\":\"#plans\",\"display_name\":\"Weekend plans\"}");
    g_autoptr(JsonObject) i = natter_test_client_request_ok (bob,
      "{\"type\":\"room_invite\",\"room\":\"#plans\",\"username\":\"alice\"}");
  }
  WAIT_FOR (find_widget (sidebar, is_label_with, "Invited by bob") != NULL);
  g_assert_nonnull (find_widget (sidebar, is_label_with, "Weekend plans"));
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "room-invitation.png");

  /* Join: a member, the room open, the invitation gone. */
  button = find_widget (sidebar, is_button_with, "_Join");
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  WAIT_FOR (has_room (natter_client_get_rooms (fx.client), "#plans"));
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_invitations (fx.client)) == 0);
  WAIT_FOR (find_widget (sidebar, is_label_with, "Invited by bob") == NULL);

  /* Decline: nobody joins, nothing is left. */
  {
    g_autoptr(JsonObject) i = natter_test_client_request_ok (bob,
      "{\"type\":\"room_invite\",\"room\":\"#other\",\"username\":\"alice\"}");
  }
  WAIT_FOR (find_widget (sidebar, is_button_with, "_Decline") != NULL);
  g_signal_emit_by_name (find_widget (sidebar, is_button_with, "_Decline"), "clicked");
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_invitations (fx.client)) == 0);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"room_invited\",\"room\":\"#other\"}");

    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (r, "invitations")), ==, 0);
  }
  g_assert_false (has_room (natter_client_get_rooms (fx.client), "#other"));

  fixture_teardown (&fx);
}

static void
created_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  *(gboolean *) user_data = natter_client_room_create_finish (NATTER_CLIENT (object), result, &error);
  g_assert_no_error (error);
}

/* A test client for @username (@display_name), with room_management,
 * registered and in @room. */
static NatterTestClient *
room_member_new (Fixture    *fx,
                 const char *username,
                 const char *display_name,
                 const char *room)
{
  NatterTestClient *c = natter_test_client_new (fx->server);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
    "{\"type\":\"register\",\"username\":\"%s\",\"password\":\"%s\",\"display_name\":\"%s\","
    "\"features\":[\"room_management\"]}", username, NATTER_TEST_PASSWORD, display_name);

  if (room != NULL)
    {
      g_autoptr(JsonObject) j = natter_test_client_request_ok (c, "{\"type\":\"room_join\",\"room\":\"%s\"}", room);
    }
  return c;
}

/* The entry of @username in the array @key of @c's reply to @request,
 * or NULL: what the server holds, asked by another client. */
static JsonObject *
server_entry (NatterTestClient *c,
              const char       *request,
              const char       *key,
              const char       *username)
{
  g_autoptr(JsonObject) reply = natter_test_client_request_ok (c, "%s", request);
  JsonArray *array = json_object_get_array_member (reply, key);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *entry = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (entry, "username", ""), username) == 0)
        return json_object_ref (entry);
    }
  return NULL;
}

/* The visible message dialog (a confirmation), or NULL. */
static AdwMessageDialog *
find_message_dialog (void)
{
  GList *toplevels = gtk_window_list_toplevels ();
  AdwMessageDialog *found = NULL;

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (toplevels);
  return found;
}

/* Answers the confirmation on screen with @response. */
static void
confirm (const char *response)
{
  AdwMessageDialog *dialog = find_message_dialog ();

  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, response);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static guint
n_rows (gpointer    settings,
        const char *list)
{
  GtkListBox *box = child (settings, G_OBJECT_TYPE (settings), list);
  guint n = 0;

  while (gtk_list_box_get_row_at_index (box, n) != NULL)
    n++;
  return n;
}

/* Counts the member menus under @widget offering @action (NULL: any
 * menu). */
static guint
count_member_menus (GtkWidget  *widget,
                    const char *action)
{
  guint n = 0;

  if (GTK_IS_MENU_BUTTON (widget))
    {
      GMenuModel *menu = gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget));
      gboolean found = action == NULL;

      for (int s = 0; !found && s < g_menu_model_get_n_items (menu); s++)
        {
          GMenuModel *section = g_menu_model_get_item_link (menu, s, G_MENU_LINK_SECTION);

          for (int i = 0; !found && section != NULL && i < g_menu_model_get_n_items (section); i++)
            {
              g_autofree char *name = NULL;

              g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_ACTION, "s", &name);
              found = g_strcmp0 (name, action) == 0;
            }
          g_clear_object (&section);
        }
      return found ? 1 : 0;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    n += count_member_menus (c, action);
  return n;
}

static void
show_page (gpointer    settings,
           const char *name)
{
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (settings), name);
  settle (GTK_WIDGET (settings));
}

/* The room settings window (room_management), as the room's owner uses
 * it: the topic changed, a member made admin, someone banned with a
 * reason and unbanned, someone invited; each checked on the server by
 * another client, and each page photographed. */
static void
test_gui_room_settings (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) carol = NULL;
  g_autoptr(NatterTestClient) dave = NULL;
  g_autoptr(NatterTestClient) mallory = NULL;
  g_autoptr(NatterTestClient) frank = NULL;
  g_autoptr(NatterTestClient) grace = NULL;
  g_autoptr(NatterTestClient) spammer = NULL;
  g_autoptr(NatterTestClient) erin = NULL;
  NatterConversationView *view;
  NatterRoom *room;
  gpointer settings;
  gboolean created = FALSE;

  if (!have_display () || !in_own_process ())
    return;

  fixture_setup_signed_in_named (&fx, "alice", "Alice Moreau");
  if (!natter_client_get_room_management (fx.client))
    {
      g_test_skip ("natterd does not offer room_management");
      fixture_teardown (&fx);
      return;
    }
  natter_client_room_create_async (fx.client, "#design", "Pixels, words and everything between", NULL,
                                   created_cb, &created);
  WAIT_FOR (created);
  bob = room_member_new (&fx, "bob", "Bob Jensen", "#design");
  carol = room_member_new (&fx, "carol", "Carol Díaz", "#design");
  dave = room_member_new (&fx, "dave", "Dave Okafor", "#design");
  mallory = room_member_new (&fx, "mallory", "Mallory Quinn", "#design");
  frank = room_member_new (&fx, "frank", "Frank Li", NULL);
  grace = room_member_new (&fx, "grace", "Grace Hopper", NULL);
  spammer = room_member_new (&fx, "cheapwatches", "Cheap Watches", NULL);
  erin = room_member_new (&fx, "erin", "Erin Walsh", "#design");
  {
    g_autoptr(JsonObject) p1 = natter_test_client_request_ok (carol,
      "{\"type\":\"set_presence\",\"presence\":\"busy\",\"status_text\":\"Icon review until 3\"}");
    g_autoptr(JsonObject) p2 = natter_test_client_request_ok (dave,
      "{\"type\":\"set_presence\",\"presence\":\"away\"}");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"#design\",\"body\":\"Mock-ups for the new sidebar are up.\",\"client_msg_id\":\"b1\"}");
    g_autoptr(JsonObject) u = natter_test_client_request_ok (mallory,
      "{\"type\":\"send\",\"to\":\"#design\",\"body\":\"CHEAP WATCHES http://example.com/deal\",\"client_msg_id\":\"m1\"}");
  }

  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "#design");
  view = child (fx.window, NATTER_TYPE_WINDOW, "conversation_view");
  WAIT_FOR (natter_conversation_get_room (natter_conversation_view_get_conversation (view)) != NULL);
  room = natter_conversation_get_room (natter_conversation_view_get_conversation (view));
  WAIT_FOR (natter_room_get_member_count (room) == 6);

  /* Opened from the room's header menu; the owner may invite. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "conversation.room-settings", "s", "general"));
  settings = find_dialog (&fx);
  g_assert_nonnull (settings);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (settings), ==, "NatterRoomSettingsWindow");
  g_assert_nonnull (gtk_widget_get_ancestor (child (settings, G_OBJECT_TYPE (settings), "bans_page"),
                                             NATTER_TYPE_ROOM_SETTINGS_WINDOW));

  /* General: a name shown and a topic, as bob sees them. */
  gtk_editable_set_text (GTK_EDITABLE (child (settings, G_OBJECT_TYPE (settings), "name_row")), "Design Team");
  g_signal_emit_by_name (child (settings, G_OBJECT_TYPE (settings), "name_row"), "apply");
  WAIT_FOR (g_strcmp0 (natter_room_get_display_name (room), "Design Team") == 0);
  gtk_editable_set_text (GTK_EDITABLE (child (settings, G_OBJECT_TYPE (settings), "topic_row")),
                         "Pixels, words and the 2.0 redesign");
  g_signal_emit_by_name (child (settings, G_OBJECT_TYPE (settings), "topic_row"), "apply");
  WAIT_FOR (g_strcmp0 (natter_room_get_topic (room), "Pixels, words and the 2.0 redesign") == 0);
  {
    g_autoptr(JsonObject) topic = natter_test_client_wait_type (bob, "room_topic");

    g_assert_cmpstr (natter_test_get_str (topic, "topic"), ==, "Pixels, words and the 2.0 redesign");
  }

  /* Members: bob made admin. */
  WAIT_FOR (n_rows (settings, "members_list") == 6);
  gtk_widget_activate_action (GTK_WIDGET (settings), "room.make-admin", "s", "bob");
  WAIT_FOR (natter_room_get_role (room, "bob") == NATTER_ROOM_ROLE_ADMIN);
  {
    g_autoptr(JsonObject) role = natter_test_client_wait_type (bob, "room_role");
    g_autoptr(JsonObject) entry = server_entry (carol, "{\"type\":\"room_members\",\"room\":\"#design\"}",
                                                "members", "bob");

    g_assert_cmpstr (natter_test_get_str (role, "role"), ==, "admin");
    g_assert_nonnull (entry);
    g_assert_cmpstr (json_object_get_string_member (entry, "role"), ==, "admin");
  }

  /* Bans: mallory with a reason (a member: the count drops), and a
   * stranger without one. */
  gtk_widget_activate_action (GTK_WIDGET (settings), "room.ban", "s", "mallory");
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (find_message_dialog ())),
                         "Spam links");
  confirm ("ban");
  WAIT_FOR (natter_room_get_member_count (room) == 5);
  WAIT_FOR (n_rows (settings, "members_list") == 5);
  WAIT_FOR (n_rows (settings, "bans_list") == 1);
  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (mallory, "room_removed");
    g_autoptr(JsonObject) entry = server_entry (bob, "{\"type\":\"room_bans\",\"room\":\"#design\"}",
                                                "bans", "mallory");

    g_assert_cmpstr (natter_test_get_str (removed, "ban_reason"), ==, "Spam links");
    g_assert_nonnull (entry);
    g_assert_cmpstr (json_object_get_string_member (entry, "reason"), ==, "Spam links");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"room_ban\",\"room\":\"#design\",\"username\":\"cheapwatches\"}");
  }

  /* Invitations: frank and grace, typed into the entry; a name nobody
   * has is refused with a toast, and stays to be mended. */
  show_page (settings, "invitations");
  gtk_editable_set_text (GTK_EDITABLE (child (settings, G_OBJECT_TYPE (settings), "invite_row")), "frnak");
  g_signal_emit_by_name (child (settings, G_OBJECT_TYPE (settings), "invite_row"), "apply");
  WAIT_FOR (find_widget (settings, is_label_with, "Nobody is called “frnak” on this server.") != NULL);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (settings, G_OBJECT_TYPE (settings), "invite_row"))), ==, "frnak");
  gtk_editable_set_text (GTK_EDITABLE (child (settings, G_OBJECT_TYPE (settings), "invite_row")), "frank");
  g_signal_emit_by_name (child (settings, G_OBJECT_TYPE (settings), "invite_row"), "apply");
  WAIT_FOR (n_rows (settings, "invited_list") == 1);
  gtk_editable_set_text (GTK_EDITABLE (child (settings, G_OBJECT_TYPE (settings), "invite_row")), "@grace");
  g_signal_emit_by_name (child (settings, G_OBJECT_TYPE (settings), "invite_row"), "apply");
  WAIT_FOR (n_rows (settings, "invited_list") == 2);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (settings, G_OBJECT_TYPE (settings), "invite_row"))), ==, "");
  {
    g_autoptr(JsonObject) invitation = natter_test_client_wait_type (frank, "room_invitation");
    g_autoptr(JsonObject) entry = server_entry (bob, "{\"type\":\"room_invited\",\"room\":\"#design\"}",
                                                "invitations", "frank");

    g_assert_cmpstr (natter_test_get_str (invitation, "invitation.by"), ==, "alice");
    g_assert_nonnull (entry);
  }

  /* Opened again: everything as the server has it (the stranger's ban
   * came from bob, and the server tells admins nothing of each other's
   * bans), each page for people to look at. */
  gtk_window_destroy (GTK_WINDOW (settings));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "conversation.room-settings", "s", "general"));
  settings = find_dialog (&fx);
  g_assert_true (NATTER_IS_ROOM_SETTINGS_WINDOW (settings));
  WAIT_FOR (n_rows (settings, "members_list") == 5);
  WAIT_FOR (n_rows (settings, "invited_list") == 2);
  WAIT_FOR (n_rows (settings, "bans_list") == 2);
  /* People alice shares nothing with are shown by their names too. */
  WAIT_FOR (natter_client_lookup_user (fx.client, "frank") != NULL &&
            g_strcmp0 (natter_user_get_display_name (natter_client_lookup_user (fx.client, "frank")), "Frank Li") == 0);
  show_page (settings, "general");
  save_widget_screenshot (&fx, settings, "room-settings.png");
  show_page (settings, "members");
  save_widget_screenshot (&fx, settings, "room-settings-members.png");
  show_page (settings, "invitations");
  save_widget_screenshot (&fx, settings, "room-settings-invitations.png");
  show_page (settings, "bans");
  save_widget_screenshot (&fx, settings, "room-settings-bans.png");
  gtk_widget_activate_action (GTK_WIDGET (settings), "room.uninvite", "s", "grace");
  WAIT_FOR (n_rows (settings, "invited_list") == 1);

  /* Unban: mallory may join again. */
  gtk_widget_activate_action (GTK_WIDGET (settings), "room.unban", "s", "mallory");
  WAIT_FOR (n_rows (settings, "bans_list") == 1);
  {
    g_autoptr(JsonObject) entry = server_entry (bob, "{\"type\":\"room_bans\",\"room\":\"#design\"}",
                                                "bans", "mallory");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (mallory,
      "{\"type\":\"room_join\",\"room\":\"#design\"}");

    g_assert_null (entry);
  }
  WAIT_FOR (natter_room_get_member_count (room) == 6);
  WAIT_FOR (n_rows (settings, "members_list") == 6);

  /* Live: bob (an admin) makes the room private; the switch follows. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"room_update\",\"room\":\"#design\",\"private\":true}");
  }
  WAIT_FOR (gtk_switch_get_active (child (settings, G_OBJECT_TYPE (settings), "private_switch")));

  /* The owner may manage everyone else: bob (an admin), carol, dave,
   * erin, mallory. */
  {
    GtkWidget *members = child (settings, G_OBJECT_TYPE (settings), "members_list");

    g_assert_cmpuint (count_member_menus (members, NULL), ==, 5);
    g_assert_cmpuint (count_member_menus (members, "room.make-member"), ==, 1);
    g_assert_cmpuint (count_member_menus (members, "room.transfer"), ==, 5);
  }

  /* Removed from the room through the menu's action, confirmed. */
  gtk_widget_activate_action (GTK_WIDGET (settings), "room.kick", "s", "erin");
  confirm ("remove");
  WAIT_FOR (natter_room_get_member_count (room) == 5);
  WAIT_FOR (n_rows (settings, "members_list") == 5);
  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (erin, "room_removed");

    g_assert_cmpstr (natter_test_get_str (removed, "reason"), ==, "kicked");
  }

  /* The room handed to bob, confirmed: alice is an admin, and may no
   * longer delete the room. */
  gtk_widget_activate_action (GTK_WIDGET (settings), "room.transfer", "s", "bob");
  confirm ("transfer");
  WAIT_FOR (g_strcmp0 (natter_room_get_owner (room), "bob") == 0);
  g_assert_cmpint (natter_room_get_role (room, "alice"), ==, NATTER_ROOM_ROLE_ADMIN);
  g_assert_false (gtk_widget_get_visible (child (settings, G_OBJECT_TYPE (settings), "delete_row")));
  /* An admin manages plain members only, and no roles: carol, dave,
   * mallory. */
  {
    GtkWidget *members = child (settings, G_OBJECT_TYPE (settings), "members_list");

    WAIT_FOR (count_member_menus (members, NULL) == 3);
    g_assert_cmpuint (count_member_menus (members, "room.ban"), ==, 3);
    g_assert_cmpuint (count_member_menus (members, "room.make-admin"), ==, 0);
    g_assert_cmpuint (count_member_menus (members, "room.transfer"), ==, 0);
  }
  {
    g_autoptr(JsonObject) entry = server_entry (carol, "{\"type\":\"room_members\",\"room\":\"#design\"}",
                                                "members", "bob");

    g_assert_cmpstr (json_object_get_string_member (entry, "role"), ==, "owner");
  }

  /* Removed by the new owner while the window is open: it closes. */
  g_object_add_weak_pointer (G_OBJECT (settings), &settings);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"room_kick\",\"room\":\"#design\",\"username\":\"alice\"}");
  }
  WAIT_FOR (settings == NULL);

  /* A room of alice's own, deleted from its settings, confirmed. */
  created = FALSE;
  natter_client_room_create_async (fx.client, "#scratch", NULL, NULL, created_cb, &created);
  WAIT_FOR (created);
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "#scratch");
  WAIT_FOR (natter_conversation_get_room (natter_conversation_view_get_conversation (view)) != NULL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "conversation.room-settings", "s", "general"));
  settings = find_dialog (&fx);
  g_assert_true (NATTER_IS_ROOM_SETTINGS_WINDOW (settings));
  g_assert_true (gtk_widget_get_visible (child (settings, G_OBJECT_TYPE (settings), "delete_row")));
  g_object_add_weak_pointer (G_OBJECT (settings), &settings);
  gtk_widget_activate_action (GTK_WIDGET (settings), "room.delete", NULL);
  confirm ("delete");
  WAIT_FOR (settings == NULL);
  g_assert_false (has_room (natter_client_get_rooms (fx.client), "#scratch"));
  {
    g_autoptr(JsonObject) r = natter_test_client_request_error (bob, "not_found",
      "{\"type\":\"room_join\",\"room\":\"#scratch\"}");
  }

  fixture_teardown (&fx);
}

/* ---- Walking the afternoon again ------------------------------------------ */

/* Someone who created their account in the app and signs out is asked to
 * sign in, not to create the account again (which could only fail), and
 * the display name they gave is not left in a hidden field. */
static void
test_gui_sign_out_after_create (void)
{
  Fixture fx = { 0 };
  NatterWelcomePage *page;
  g_autofree char *mode = NULL;

  if (!have_display () || !in_own_process ())
    return;
  page = setup_at_account_form (&fx);
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.mode", "s", "register");
  set_row_text (&fx, "username_row", "carol");
  set_row_text (&fx, "display_name_row", "Carol Jones");
  set_row_text (&fx, "password_row", NATTER_TEST_PASSWORD);
  gtk_widget_activate_action (GTK_WIDGET (page), "welcome.submit", NULL);
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "chat") == 0);
  WAIT_FOR (natter_client_get_state (fx.client) == NATTER_CLIENT_STATE_READY);

  sign_out (&fx);
  WAIT_FOR (g_strcmp0 (welcome_stage (&fx), "account") == 0);
  g_object_get (page, "mode", &mode, NULL);
  g_assert_cmpstr (mode, ==, "sign-in");
  g_assert_false (gtk_widget_get_visible (child (page, NATTER_TYPE_WELCOME_PAGE, "display_name_row")));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, NATTER_TYPE_WELCOME_PAGE, "display_name_row"))), ==, "");
  save_screenshot (&fx, "signed-out-after-create.png");

  fixture_teardown (&fx);
}

/* A search hit in a conversation that fits on screen opens with no "jump
 * to the newest" button over the last message: there is nothing below to
 * jump to. */
static void
test_gui_search_hit_short (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  gpointer search_page;
  GtkListBox *results;
  NatterConversationView *view;
  gint64 hit;

  if (!have_display () || !in_own_process ())
    return;
  fixture_setup_signed_in (&fx, "alice");
  bob = natter_test_client_new_user (fx.server, "bob");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Hi Alice! Pizza tonight?\",\"client_msg_id\":\"p1\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"I know a great place downtown.\",\"client_msg_id\":\"p2\"}");

    hit = natter_test_get_int (r, "message.id");
  }
  WAIT_FOR (natter_client_lookup_conversation (fx.client, "@bob", FALSE) != NULL);

  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-search", NULL);
  search_page = child (fx.window, NATTER_TYPE_WINDOW, "search_page");
  results = GTK_LIST_BOX (child (search_page, g_type_from_name ("NatterSearchPage"), "results_list"));
  gtk_editable_set_text (GTK_EDITABLE (child (search_page, g_type_from_name ("NatterSearchPage"), "search_entry")), "piz");
  WAIT_FOR (gtk_list_box_get_row_at_index (results, 0) != NULL);

  view = child (fx.window, NATTER_TYPE_WINDOW, "conversation_view");
  g_signal_emit_by_name (gtk_list_box_get_row_at_index (results, 0), "activate");
  WAIT_FOR (natter_conversation_view_is_message_marked (view, hit));
  settle (GTK_WIDGET (fx.window));
  g_assert_false (gtk_revealer_get_reveal_child (child (view, NATTER_TYPE_CONVERSATION_VIEW, "jump_revealer")));
  save_screenshot (&fx, "search-hit-short.png");

  fixture_teardown (&fx);
}

/* The list keeps its width whatever our status text says: a long one is
 * cut short in the header, it does not push the conversation aside (nor
 * does the list jump as "Connecting…" and the status take turns). */
static void
test_gui_long_status (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  GtkWidget *sidebar;
  AdwWindowTitle *sidebar_title;
  int width;

  if (!have_display ())
    return;
  bob = setup_alice_and_bob (&fx);
  sign_in (&fx, "alice");
  sidebar = GTK_WIDGET (child (fx.window, NATTER_TYPE_WINDOW, "sidebar"));
  sidebar_title = child (fx.window, NATTER_TYPE_WINDOW, "sidebar_title");
  settle (GTK_WIDGET (fx.window));
  width = gtk_widget_get_width (sidebar);

  gtk_editable_set_text (GTK_EDITABLE (child (fx.window, NATTER_TYPE_WINDOW, "status_entry")),
                         "In meetings all afternoon, back around six, call me if urgent");
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.set-status", NULL);
  WAIT_FOR (g_str_has_suffix (adw_window_title_get_subtitle (sidebar_title), "call me if urgent"));
  settle (GTK_WIDGET (fx.window));
  g_assert_cmpint (gtk_widget_get_width (sidebar), ==, width);
  save_screenshot (&fx, "long-status.png");

  fixture_teardown (&fx);
}

/* Presses and releases @widget's click gesture, as the pointer does: a
 * "clicked" emitted by hand would skip what a press does (focus on
 * click). */
static void
click (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  double x = gtk_widget_get_width (widget) / 2.0;
  double y = gtk_widget_get_height (widget) / 2.0;
  gboolean clicked = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller))
        {
          g_signal_emit_by_name (controller, "pressed", 1, x, y);
          g_signal_emit_by_name (controller, "released", 1, x, y);
          clicked = TRUE;
        }
    }
  g_assert_true (clicked);
}

/* TRUE when the keyboard focus of @widget's window is @widget or in it:
 * what is typed goes there. */
static gboolean
has_focus_in (GtkWidget *widget)
{
  GtkWidget *focus = gtk_root_get_focus (gtk_widget_get_root (widget));

  return focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget));
}

/* Switching between Sign In and Create Account with a click leaves the
 * focus in the form, in the field still to fill in: what is typed right
 * after the switch is not lost (issue 10). */
static void
test_gui_mode_switch_focus (void)
{
  Fixture fx = { 0 };
  NatterWelcomePage *page;
  GtkWidget *username_row, *display_name_row, *password_row;
  g_autofree char *mode = NULL;

  if (!have_display () || !in_own_process ())
    return;
  page = setup_at_account_form (&fx);
  username_row = child (page, NATTER_TYPE_WELCOME_PAGE, "username_row");
  display_name_row = child (page, NATTER_TYPE_WELCOME_PAGE, "display_name_row");
  password_row = child (page, NATTER_TYPE_WELCOME_PAGE, "password_row");
  settle (GTK_WIDGET (fx.window));
  g_assert_true (has_focus_in (username_row));

  click (find_widget (GTK_WIDGET (page), is_button_with, "Create Account"));
  g_object_get (page, "mode", &mode, NULL);
  g_assert_cmpstr (mode, ==, "register");
  g_assert_true (gtk_widget_get_visible (display_name_row));
  g_assert_true (has_focus_in (username_row));
  save_screenshot (&fx, "welcome-create-account.png");

  /* Back to Sign In from the display name, which goes: the focus moves on
   * to the first field still empty. */
  set_row_text (&fx, "username_row", "carol");
  gtk_widget_grab_focus (display_name_row);
  g_assert_true (has_focus_in (display_name_row));
  click (find_widget (GTK_WIDGET (page), is_button_with, "Sign In"));
  g_clear_pointer (&mode, g_free);
  g_object_get (page, "mode", &mode, NULL);
  g_assert_cmpstr (mode, ==, "sign-in");
  g_assert_false (gtk_widget_get_visible (display_name_row));
  g_assert_true (has_focus_in (password_row));
  save_screenshot (&fx, "welcome-sign-in-again.png");

  fixture_teardown (&fx);
}

/* Opening Contacts puts the focus in its search, each time: typing a
 * name finds them. Signing out clears the contacts and message searches:
 * the next account does not see the last one's (issue 10). */
static void
test_gui_contacts_search_reset (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  GtkWidget *contacts_button, *contacts_page, *search_page;
  GtkWidget *contacts_entry, *search_entry;
  GtkListBox *found;
  GtkStack *results;

  if (!have_display () || !in_own_process ())
    return;
  bob = setup_alice_and_bob (&fx);
  natter_test_client_free (natter_test_client_new_user (fx.server, "carol"));
  sign_in (&fx, "alice");
  contacts_button = child (fx.window, NATTER_TYPE_WINDOW, "contacts_button");
  contacts_page = child (fx.window, NATTER_TYPE_WINDOW, "contacts_page");
  contacts_entry = child (contacts_page, NATTER_TYPE_CONTACTS_PAGE, "search_entry");
  found = child (contacts_page, NATTER_TYPE_CONTACTS_PAGE, "search_list");
  search_page = child (fx.window, NATTER_TYPE_WINDOW, "search_page");
  search_entry = child (search_page, NATTER_TYPE_SEARCH_PAGE, "search_entry");
  results = child (search_page, NATTER_TYPE_SEARCH_PAGE, "stack");

  click (contacts_button);
  g_assert_true (has_focus_in (contacts_entry));
  gtk_editable_set_text (GTK_EDITABLE (contacts_entry), "bob");
  WAIT_FOR (gtk_list_box_get_row_at_index (found, 0) != NULL);
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-search", NULL);
  gtk_editable_set_text (GTK_EDITABLE (search_entry), "lunch");
  WAIT_FOR (g_strcmp0 (gtk_stack_get_visible_child_name (results), "empty") == 0);
  /* Opened again, with the button in the sidebar's header, which takes
   * the focus on the click. */
  click (contacts_button);
  g_assert_true (has_focus_in (contacts_entry));

  sign_out (&fx);
  sign_in (&fx, "carol");
  click (contacts_button);
  g_assert_true (has_focus_in (contacts_entry));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (contacts_entry)), ==, "");
  g_assert_null (gtk_list_box_get_row_at_index (found, 0));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (found)));
  save_screenshot (&fx, "contacts-after-sign-out.png");
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-search", NULL);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (search_entry)), ==, "");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (results), ==, "hint");

  fixture_teardown (&fx);
}

/* The toast for a request we sent names them as the toast of a request to
 * us does, by display name; and cancelling the request takes it back at
 * once, rather than leaving it up, saying the opposite, for its time
 * (issue 10). */
static void
test_gui_cancel_request_toast (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) carol = NULL;
  GtkWidget *contacts_page;
  GtkWidget *cancel;
  gint64 asked_at;

  if (!have_display () || !in_own_process ())
    return;
  fixture_setup (&fx);
  natter_test_client_free (natter_test_client_new_user (fx.server, "alice"));
  carol = natter_test_client_new (fx.server);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
      "{\"type\":\"register\",\"username\":\"carol\",\"password\":\"%s\",\"display_name\":\"Carol Jones\"}",
      NATTER_TEST_PASSWORD);
  }
  sign_in (&fx, "alice");
  click (child (fx.window, NATTER_TYPE_WINDOW, "contacts_button"));
  contacts_page = child (fx.window, NATTER_TYPE_WINDOW, "contacts_page");
  gtk_editable_set_text (GTK_EDITABLE (child (contacts_page, NATTER_TYPE_CONTACTS_PAGE, "search_entry")), "carol");
  {
    GtkWidget *found = child (contacts_page, NATTER_TYPE_CONTACTS_PAGE, "search_list");
    GtkWidget *add = NULL;

    WAIT_FOR ((add = find_widget (found, is_button_with, "_Add")) != NULL);
    click (add);
  }
  WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "Asked Carol Jones to be your contact") != NULL);
  asked_at = g_get_monotonic_time ();
  save_screenshot (&fx, "contacts-asked.png");

  WAIT_FOR ((cancel = find_widget (child (contacts_page, NATTER_TYPE_CONTACTS_PAGE, "outgoing_list"),
                                   is_button_with, "_Cancel Request")) != NULL);
  click (cancel);
  WAIT_FOR (find_widget (GTK_WIDGET (fx.window), is_label_with, "Request to Carol Jones cancelled") != NULL);
  g_assert_null (find_widget (GTK_WIDGET (fx.window), is_label_with, "Asked Carol Jones to be your contact"));
  /* Taken back, not timed out: a toast stays up 5 s. */
  g_assert_cmpint (g_get_monotonic_time () - asked_at, <, 5 * G_USEC_PER_SEC);
  save_screenshot (&fx, "contacts-request-cancelled.png");

  fixture_teardown (&fx);
}


/* ---- Message actions (feature message_actions) ---------------------------- */

/* @c signs in again with the feature on (the harness' users speak
 * protocol 1). FALSE when the server does not offer it. */
static gboolean
with_actions (NatterTestClient *c,
              const char       *username)
{
  g_autoptr(JsonObject) out = natter_test_client_request_ok (c, "{\"type\":\"logout\"}");
  g_autoptr(JsonObject) in = natter_test_client_requestf (c,
    "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\",\"features\":[\"message_actions\"]}",
    username, NATTER_TEST_PASSWORD);
  JsonNode *features = json_object_get_member (in, "features");

  return features != NULL && JSON_NODE_HOLDS_ARRAY (features) &&
         json_array_get_length (json_node_get_array (features)) == 1;
}

/* The capture-phase key controller of the composer's text view, which
 * sends, edits and completes. */
static gboolean
composer_key (NatterComposer *composer,
              guint           keyval,
              GdkModifierType state)
{
  GtkWidget *text_view = child (composer, NATTER_TYPE_COMPOSER, "text_view");
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (text_view);
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (c) &&
          gtk_event_controller_get_propagation_phase (c) == GTK_PHASE_CAPTURE)
        g_signal_emit_by_name (c, "key-pressed", keyval, 0, state, &handled);
    }
  return handled;
}

static NatterMessage *
message_with_id (GListModel *model,
                 gint64      id)
{
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) m = g_list_model_get_item (model, i);

      if (natter_message_get_id (m) == id)
        return m; /* the model keeps it */
    }
  return NULL;
}

/* The bound row of @message in @view, scrolled into sight first. */
static GtkWidget *
row_of (NatterConversationView *view,
        NatterMessage          *message)
{
  GListModel *model = natter_conversation_view_get_model (view);
  GtkWidget *list = child (view, NATTER_TYPE_CONVERSATION_VIEW, "list_view");

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) m = g_list_model_get_item (model, i);

      if (m == message)
        gtk_widget_activate_action (list, "list.scroll-to-item", "u", i);
    }
  WAIT_FOR (find_message_row (GTK_WIDGET (view), message) != NULL);
  return find_message_row (GTK_WIDGET (view), message);
}

/* Reads @c's frames until a message_changed of @kind for @id. */
static gboolean
saw_change (NatterTestClient *c,
            const char       *kind,
            gint64            id)
{
  JsonObject *event;
  gboolean seen = FALSE;

  while (!seen && (event = natter_test_client_try_wait_type (c, "message_changed", 0)) != NULL)
    {
      seen = g_strcmp0 (json_object_get_string_member_with_default (event, "kind", ""), kind) == 0 &&
             natter_test_get_int (event, "message.id") == id;
      json_object_unref (event);
    }
  return seen;
}

static gboolean
row_label_is (GtkWidget  *row,
              const char *name,
              const char *text)
{
  return g_strcmp0 (label_text (row, NATTER_TYPE_MESSAGE_ROW, name), text) == 0;
}

/* The pill of @emoji under @row, or NULL. */
static GtkWidget *
pill_of (GtkWidget  *row,
         const char *label)
{
  GtkWidget *box = child (row, NATTER_TYPE_MESSAGE_ROW, "reactions_box");

  for (GtkWidget *c = gtk_widget_get_first_child (box); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_BUTTON (c) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (c)), label) == 0)
      return c;
  return NULL;
}

/* Replies with their quote (one whose original is 60 messages back: a
 * click on the quote pages history in and shows it), an edit from the Up
 * key, Escape, reactions from both sides, a delete after its question,
 * the message menu; screenshots in light, dark and narrow. */
static void
test_gui_message_actions (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  NatterConversationView *view;
  NatterComposer *composer;
  GListModel *model;
  NatterMessage *original, *mine, *oops;
  GtkWidget *row;
  gint64 original_id, answer_id;
  gboolean offered;

  if (!have_display () || !in_own_process ())
    return;

  bob = setup_alice_and_bob (&fx);
  offered = with_actions (bob, "bob");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"When do we meet?\\nI am free all week.\",\"client_msg_id\":\"q\"}");

    original_id = natter_test_get_int (r, "message.id");
  }
  for (guint i = 0; i < 60; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_requestf (bob,
        "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"filler %u\",\"client_msg_id\":\"f%u\"}", i, i);
    }
  {
    g_autoptr(JsonObject) r = natter_test_client_requestf (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Answering myself: 8pm\",\"client_msg_id\":\"a\",\"reply_to\":%"
      G_GINT64_FORMAT "}", original_id);

    answer_id = natter_test_get_int (r, "message.id");
  }

  sign_in (&fx, "alice");
  if (!offered || !natter_client_get_message_actions (fx.client))
    {
      g_test_skip ("natterd does not offer message_actions");
      fixture_teardown (&fx);
      return;
    }

  view = open_conversation (&fx, "@bob", &composer, &model);
  WAIT_FOR (last_body_is (model, "Answering myself: 8pm"));
  g_assert_null (message_with_id (model, original_id));

  /* The quote: who, the first line; a click brings the original. */
  row = row_of (view, last_message (model));
  g_assert_true (gtk_widget_get_visible (child (row, NATTER_TYPE_MESSAGE_ROW, "quote_button")));
  g_assert_true (row_label_is (row, "quote_sender_label", "bob"));
  g_assert_true (row_label_is (row, "quote_body_label", "When do we meet?"));
  gtk_widget_activate_action (row, "message.show-original", NULL);
  WAIT_FOR (natter_conversation_view_is_message_marked (view, original_id));
  original = message_with_id (model, original_id);
  g_assert_nonnull (original);

  /* Reply from the menu's action: the composer quotes it, the answer
   * carries it, bob gets it. */
  gtk_widget_activate_action (row_of (view, original), "message.reply", NULL);
  g_assert_true (natter_composer_get_target (composer) == original);
  g_assert_false (natter_composer_is_editing (composer));
  natter_composer_set_text (composer, "Tonight works");
  g_assert_true (composer_key (composer, GDK_KEY_Return, 0));
  g_assert_null (natter_composer_get_target (composer));
  mine = last_message (model);
  g_assert_cmpstr (natter_message_get_body (mine), ==, "Tonight works");
  g_assert_cmpint (natter_message_get_reply_to (mine)->id, ==, original_id);
  WAIT_FOR (natter_message_get_id (mine) > 0);
  {
    g_autoptr(JsonObject) event = natter_test_client_wait_type (bob, "message");

    g_assert_cmpint (natter_test_get_int (event, "message.reply_to.id"), ==, original_id);
  }

  /* Up in the empty composer edits it; Escape lets go; Up again, and
   * Enter changes it for everyone. */
  g_assert_true (composer_key (composer, GDK_KEY_Up, 0));
  g_assert_true (natter_composer_is_editing (composer));
  g_assert_true (natter_composer_get_target (composer) == mine);
  {
    g_autofree char *text = natter_composer_dup_text (composer);
    g_assert_cmpstr (text, ==, "Tonight works");
  }
  g_assert_true (composer_key (composer, GDK_KEY_Escape, 0));
  g_assert_null (natter_composer_get_target (composer));
  {
    g_autofree char *text = natter_composer_dup_text (composer);
    g_assert_cmpstr (text, ==, "");
  }
  g_assert_true (composer_key (composer, GDK_KEY_Up, 0));
  natter_composer_set_text (composer, "Tonight works for me");
  g_assert_true (composer_key (composer, GDK_KEY_Return, 0));
  g_assert_cmpstr (natter_message_get_body (mine), ==, "Tonight works for me");
  {
    gboolean seen = FALSE;

    WAIT_FOR (seen || (seen = saw_change (bob, "edit", natter_message_get_id (mine))));
  }
  row = row_of (view, mine);
  g_assert_true (gtk_widget_get_visible (child (row, NATTER_TYPE_MESSAGE_ROW, "edited_label")));
  g_assert_nonnull (gtk_widget_get_tooltip_text (child (row, NATTER_TYPE_MESSAGE_ROW, "edited_label")));

  /* Reactions: bob's pill, mine joining it, taken back, and one more. */
  {
    g_autoptr(JsonObject) r = natter_test_client_requestf (bob,
      "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"👍\",\"on\":true}",
      answer_id);
  }
  row = row_of (view, message_with_id (model, answer_id));
  WAIT_FOR (pill_of (row, "👍 1") != NULL);
  g_assert_cmpstr (gtk_widget_get_tooltip_text (pill_of (row, "👍 1")), ==, "bob reacted with 👍");
  gtk_widget_activate_action (row, "message.toggle-reaction", "s", "👍");
  WAIT_FOR (pill_of (row, "👍 2") != NULL);
  g_assert_true (gtk_widget_has_css_class (pill_of (row, "👍 2"), "mine"));
  {
    gboolean seen = FALSE;

    WAIT_FOR (seen || (seen = saw_change (bob, "reaction", answer_id)));
  }
  gtk_widget_activate_action (row, "message.toggle-reaction", "s", "👍");
  WAIT_FOR (pill_of (row, "👍 1") != NULL);
  g_assert_true (natter_client_react (fx.client, message_with_id (model, answer_id), "🎉", TRUE));
  WAIT_FOR (pill_of (row, "🎉 1") != NULL);

  /* Delete, after its question. */
  oops = natter_client_send_message (fx.client, "@bob", "Oops, wrong chat");
  WAIT_FOR (natter_message_get_id (oops) > 0);
  row = row_of (view, oops);
  gtk_widget_activate_action (row, "message.delete", NULL);
  {
    AdwMessageDialog *dialog = find_dialog (&fx);

    g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
    g_assert_false (natter_message_get_deleted (oops));
    adw_message_dialog_response (dialog, "delete");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  WAIT_FOR (row_label_is (row, "body_label", "This message was deleted"));
  {
    gboolean seen = FALSE;

    WAIT_FOR (seen || (seen = saw_change (bob, "delete", natter_message_get_id (oops))));
  }

  /* The conversation with all of it, and the menu of a message. */
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.scroll-bottom", NULL);
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "message-actions.png");
  gtk_widget_activate_action (row_of (view, mine), "message.menu", NULL);
  save_root_screenshot (&fx, "message-menu.png");
  gtk_widget_activate_action (row_of (view, mine), "message.menu", NULL);

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  natter_composer_reply (composer, original);
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "message-actions-dark.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  natter_composer_cancel (composer);

  gtk_window_set_default_size (GTK_WINDOW (fx.window), 400, 700);
  WAIT_FOR (adw_leaflet_get_folded (child (fx.window, NATTER_TYPE_WINDOW, "leaflet")));
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.scroll-bottom", NULL);
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "message-actions-narrow.png");

  fixture_teardown (&fx);
}

/* Runs the shortcut bound to @accel ("<Alt>r", "Delete") among @widget's
 * own (its class's key bindings, in the controller GTK gives every widget
 * for them), as the key would with the focus in @widget. FALSE when no
 * shortcut of @widget has that key. */
static gboolean
press_bound_key (GtkWidget  *widget,
                 const char *accel)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  GdkModifierType mods;
  guint key;

  g_assert_true (gtk_accelerator_parse (accel, &key, &mods));
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (c))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (c)); k++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (c), k);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);

          if (GTK_IS_KEYVAL_TRIGGER (trigger) &&
              gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == key &&
              gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) == mods)
            return gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0, widget,
                                                 gtk_shortcut_get_arguments (shortcut));
        }
    }
  return FALSE;
}

/* The visible popover of @type among @row's children, or NULL. */
static GtkWidget *
shown_popover (GtkWidget *row,
               GType      type)
{
  for (GtkWidget *c = gtk_widget_get_first_child (row); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (G_TYPE_CHECK_INSTANCE_TYPE (c, type) && gtk_widget_get_visible (c))
      return c;
  return NULL;
}

/* Each action of a message has a keyboard path (issue 14): with the focus
 * on a message, Alt+R replies, Alt+E edits, Ctrl+. opens the emoji
 * chooser, Ctrl+C copies, Menu (or Shift+F10) opens its menu and Delete
 * asks to delete it (the keys the shortcuts window lists). And a quote
 * says when its original was deleted, live. */
/* A file sent from the app shows as a card (the name, no empty text),
 * with Save once the server has it and no progress bar left; a client
 * without files reads the protocol-1 line. */
static void
test_gui_file_card (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  NatterConversationView *view;
  NatterMessage *msg;
  GtkWidget *row, *files_box, *card, *labels;

  if (!have_display () || !in_own_process ())
    return;

  server_config = "[server]\nfiles=true\n";
  bob = setup_alice_and_bob (&fx);
  server_config = NULL;
  sign_in (&fx, "alice");
  g_assert_true (natter_client_get_files_enabled (fx.client));
  view = open_conversation (&fx, "@bob", NULL, NULL);

  dir = g_dir_make_tmp ("natter-gui-files-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "holiday.txt", NULL);
  g_assert_true (g_file_set_contents (path, "sunny and warm", -1, NULL));
  file = g_file_new_for_path (path);
  msg = natter_client_send_files (fx.client, "@bob", &file, 1, "", &error);
  g_assert_no_error (error);
  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_SENT);

  row = row_of (view, msg);
  files_box = child (row, NATTER_TYPE_MESSAGE_ROW, "files_box");
  g_assert_true (gtk_widget_get_visible (files_box));
  g_assert_false (gtk_widget_get_visible (child (row, NATTER_TYPE_MESSAGE_ROW, "body_label")));
  card = gtk_widget_get_first_child (files_box);
  g_assert_true (gtk_widget_has_css_class (card, "file-card"));
  g_assert_null (gtk_widget_get_next_sibling (card));
  labels = gtk_widget_get_next_sibling (gtk_widget_get_first_child (card));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (gtk_widget_get_first_child (labels))), ==, "holiday.txt");
  g_assert_true (gtk_widget_get_sensitive (gtk_widget_get_last_child (card)));

  {
    g_autoptr(JsonObject) event = natter_test_client_wait_type (bob, "message");

    g_assert_cmpstr (natter_test_get_str (event, "message.body"), ==, "[file: holiday.txt, 14 bytes]");
  }

  fixture_teardown (&fx);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* The composer's newest message in @conv once it has files and is sent. */
static NatterMessage *
sent_with_files (NatterConversation *conv,
                 NatterMessage      *before)
{
  NatterMessage *last;

  WAIT_FOR ((last = natter_conversation_get_last_message (conv)) != before && last != NULL &&
            g_list_model_get_n_items (natter_message_get_files (last)) > 0 &&
            natter_message_get_state (last) == NATTER_MESSAGE_STATE_SENT);
  return last;
}

/* The open image viewer, or NULL. */
static NatterImageViewer *
find_viewer (void)
{
  /* No references taken: a viewer just destroyed must not outlive it. */
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (NATTER_IS_IMAGE_VIEWER (l->data))
      return NATTER_IMAGE_VIEWER (l->data);
  return NULL;
}

/* An image attached from the composer goes with its size and a preview
 * the app made (320 pixels on its longer side) and shows inline, the
 * preview downloaded and decoded; a click opens it at full size in the
 * viewer. A hostile preview whose header claims 30000 × 30000 pixels is
 * refused: the row keeps a file card, and the viewer says why. Its
 * screenshot is data/screenshots/conversation-files.png, for the AppStream
 * metainfo: an image inline and a file card. To make it again:
 *   meson test -C BUILD test-gui --test-args '-p /gui/inline-image'
 *   cp BUILD/tests/gui/screenshots/conversation-files.png data/screenshots/ */
static void
test_gui_inline_image (void)
{
  static const guint8 bomb[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82,
  };
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GFile) image = NULL;
  g_autoptr(GFile) text = NULL;
  g_autoptr(GFile) hostile = NULL;
  g_autoptr(GBytes) bomb_bytes = g_bytes_new_static (bomb, sizeof bomb);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *image_path = NULL;
  g_autofree char *text_path = NULL;
  g_autofree char *hostile_path = NULL;
  NatterFileAttachment attachment = { 0 };
  NatterConversationView *view;
  NatterConversation *conv;
  NatterComposer *composer;
  NatterMessage *msg, *card_msg, *bad;
  NatterMessageFile *file, *preview;
  NatterImageViewer *viewer;
  GtkWidget *row, *files_box, *button;
  GdkPaintable *paintable;

  if (!have_display () || !in_own_process ())
    return;

  server_config = "[server]\nfiles=true\n";
  bob = setup_alice_and_bob (&fx);
  server_config = NULL;
  sign_in (&fx, "alice");
  view = open_conversation (&fx, "@bob", NULL, NULL);
  composer = NATTER_COMPOSER (child (view, NATTER_TYPE_CONVERSATION_VIEW, "composer"));
  conv = natter_client_lookup_conversation (fx.client, "@bob", FALSE);
  g_assert_nonnull (conv);

  dir = g_dir_make_tmp ("natter-gui-images-XXXXXX", &error);
  g_assert_no_error (error);
  /* An 800 × 600 photo of a sunny sky over sand. */
  image_path = g_build_filename (dir, "beach.png", NULL);
  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 800, 600);
  gdk_pixbuf_fill (pixbuf, 0x62a0eaff);
  {
    g_autoptr(GdkPixbuf) sand = gdk_pixbuf_new_subpixbuf (pixbuf, 0, 400, 800, 200);

    gdk_pixbuf_fill (sand, 0xf6d32dff);
  }
  g_assert_true (gdk_pixbuf_save (pixbuf, image_path, "png", &error, NULL));
  image = g_file_new_for_path (image_path);
  natter_composer_attach_files (composer, &image, 1);
  msg = sent_with_files (conv, NULL);

  file = g_list_model_get_item (natter_message_get_files (msg), 0);
  g_object_unref (file); /* the message holds it */
  g_assert_cmpstr (natter_message_file_get_name (file), ==, "beach.png");
  g_assert_cmpuint (natter_message_file_get_width (file), ==, 800);
  g_assert_cmpuint (natter_message_file_get_height (file), ==, 600);
  preview = natter_message_file_get_preview (file);
  g_assert_nonnull (preview);
  g_assert_cmpuint (natter_message_file_get_width (preview), ==, 320);
  g_assert_cmpuint (natter_message_file_get_height (preview), ==, 240);

  row = row_of (view, msg);
  files_box = child (row, NATTER_TYPE_MESSAGE_ROW, "files_box");
  button = gtk_widget_get_first_child (files_box);
  g_assert_true (gtk_widget_has_css_class (button, "inline-image"));
  g_assert_true (GTK_IS_PICTURE (gtk_button_get_child (GTK_BUTTON (button))));
  WAIT_FOR ((paintable = gtk_picture_get_paintable (GTK_PICTURE (gtk_button_get_child (GTK_BUTTON (button))))) != NULL);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (paintable), ==, 320);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (paintable), ==, 240);

  /* Bob, without the feature, reads the protocol-1 line of the image
   * alone (not of its preview). */
  {
    g_autoptr(JsonObject) event = natter_test_client_wait_type (bob, "message");

    g_assert_true (g_str_has_prefix (natter_test_get_str (event, "message.body"), "[file: beach.png, "));
    g_assert_null (strstr (natter_test_get_str (event, "message.body"), "\n"));
  }

  /* The full image in the viewer. */
  g_assert_null (find_viewer ());
  gtk_widget_activate_action (row, "message.view-image", "u", 0);
  WAIT_FOR ((viewer = find_viewer ()) != NULL);
  WAIT_FOR ((paintable = gtk_picture_get_paintable (natter_image_viewer_get_picture (viewer))) != NULL);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (paintable), ==, 800);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (paintable), ==, 600);
  gtk_window_destroy (GTK_WINDOW (viewer));
  WAIT_FOR (find_viewer () == NULL);

  /* A file card beside it, for the screenshot. */
  text_path = g_build_filename (dir, "itinerary.txt", NULL);
  g_assert_true (g_file_set_contents (text_path, "Monday: the beach. Tuesday: the beach.", -1, NULL));
  text = g_file_new_for_path (text_path);
  natter_composer_attach_files (composer, &text, 1);
  card_msg = sent_with_files (conv, msg);
  row = row_of (view, card_msg);
  files_box = child (row, NATTER_TYPE_MESSAGE_ROW, "files_box");
  g_assert_true (gtk_widget_has_css_class (gtk_widget_get_first_child (files_box), "file-card"));
  save_screenshot (&fx, "conversation-files.png");

  /* A preview (and an image) whose header claims 30000 × 30000 pixels. */
  hostile_path = g_build_filename (dir, "huge.png", NULL);
  g_assert_true (g_file_set_contents (hostile_path, (const char *) bomb, sizeof bomb, NULL));
  hostile = g_file_new_for_path (hostile_path);
  attachment.file = hostile;
  attachment.width = 30000;
  attachment.height = 30000;
  attachment.preview = bomb_bytes;
  attachment.preview_mime = "image/png";
  attachment.preview_width = 320;
  attachment.preview_height = 320;
  g_assert_nonnull (natter_client_send_attachments (fx.client, "@bob", &attachment, 1, NULL, &error));
  g_assert_no_error (error);
  bad = sent_with_files (conv, card_msg);
  row = row_of (view, bad);
  files_box = child (row, NATTER_TYPE_MESSAGE_ROW, "files_box");
  WAIT_FOR (gtk_widget_has_css_class (gtk_widget_get_first_child (files_box), "file-card"));
  g_assert_null (gtk_widget_get_next_sibling (gtk_widget_get_first_child (files_box)));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (gtk_widget_get_first_child (files_box)), "30000"));
  /* Its full image is refused in the viewer too, with the reason. */
  gtk_widget_activate_action (row, "message.view-image", "u", 0);
  WAIT_FOR ((viewer = find_viewer ()) != NULL);
  WAIT_FOR (g_strcmp0 (adw_status_page_get_icon_name (natter_image_viewer_get_status (viewer)),
                       "dialog-warning-symbolic") == 0);
  g_assert_nonnull (strstr (adw_status_page_get_description (natter_image_viewer_get_status (viewer)), "30000"));
  g_assert_null (gtk_picture_get_paintable (natter_image_viewer_get_picture (viewer)));
  gtk_window_destroy (GTK_WINDOW (viewer));

  fixture_teardown (&fx);
  g_assert_cmpint (g_remove (image_path), ==, 0);
  g_assert_cmpint (g_remove (text_path), ==, 0);
  g_assert_cmpint (g_remove (hostile_path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_gui_message_keys (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  NatterConversationView *view;
  NatterComposer *composer;
  GListModel *model;
  NatterMessage *question, *mine;
  GtkWidget *row;
  gint64 question_id, answer_id;

  if (!have_display () || !in_own_process ())
    return;

  bob = setup_alice_and_bob (&fx);
  if (!with_actions (bob, "bob"))
    {
      g_test_skip ("natterd does not offer message_actions");
      fixture_teardown (&fx);
      return;
    }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Shall we take the 9:40 train?\",\"client_msg_id\":\"q\"}");

    question_id = natter_test_get_int (r, "message.id");
  }
  sign_in (&fx, "alice");
  view = open_conversation (&fx, "@bob", &composer, &model);
  WAIT_FOR ((question = message_with_id (model, question_id)) != NULL);
  mine = natter_client_send_message (fx.client, "@bob", "I'd rather take the 10:10");
  WAIT_FOR (natter_message_get_id (mine) > 0);

  /* The focus can rest on a message. */
  row = row_of (view, question);
  g_assert_true (gtk_widget_grab_focus (row));
  g_assert_true (gtk_widget_has_focus (row));

  g_assert_true (press_bound_key (row, "<Alt>r"));
  g_assert_true (natter_composer_get_target (composer) == question);
  g_assert_false (natter_composer_is_editing (composer));
  g_assert_true (composer_key (composer, GDK_KEY_Escape, 0));
  g_assert_null (natter_composer_get_target (composer));

  row = row_of (view, mine);
  g_assert_true (press_bound_key (row, "<Alt>e"));
  g_assert_true (natter_composer_is_editing (composer));
  g_assert_true (natter_composer_get_target (composer) == mine);
  g_assert_true (composer_key (composer, GDK_KEY_Escape, 0));

  {
    g_autofree char *copied = NULL;

    g_assert_true (press_bound_key (row, "<Control>c"));
    gdk_clipboard_read_text_async (gtk_widget_get_clipboard (row), NULL, read_text_cb, &copied);
    WAIT_FOR (copied != NULL);
    g_assert_cmpstr (copied, ==, "I'd rather take the 10:10");
  }

  g_assert_true (press_bound_key (row, "<Control>period"));
  WAIT_FOR (shown_popover (row, GTK_TYPE_EMOJI_CHOOSER) != NULL);
  gtk_popover_popdown (GTK_POPOVER (shown_popover (row, GTK_TYPE_EMOJI_CHOOSER)));

  g_assert_true (press_bound_key (row, "Menu"));
  WAIT_FOR (shown_popover (row, GTK_TYPE_POPOVER_MENU) != NULL);
  gtk_popover_popdown (GTK_POPOVER (shown_popover (row, GTK_TYPE_POPOVER_MENU)));
  g_assert_true (press_bound_key (row, "<Shift>F10"));
  WAIT_FOR (shown_popover (row, GTK_TYPE_POPOVER_MENU) != NULL);
  gtk_popover_popdown (GTK_POPOVER (shown_popover (row, GTK_TYPE_POPOVER_MENU)));

  g_assert_true (press_bound_key (row, "Delete"));
  {
    AdwMessageDialog *dialog = find_dialog (&fx);

    g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
    adw_message_dialog_response (dialog, "cancel");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  g_assert_false (natter_message_get_deleted (mine));

  /* bob answers his own question, then takes the question back: the
   * answer's quote says so without reloading. */
  {
    g_autoptr(JsonObject) r = natter_test_client_requestf (bob,
      "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"Or the 10:10, fine\",\"client_msg_id\":\"a\",\"reply_to\":%"
      G_GINT64_FORMAT "}", question_id);

    answer_id = natter_test_get_int (r, "message.id");
  }
  WAIT_FOR (message_with_id (model, answer_id) != NULL);
  row = row_of (view, message_with_id (model, answer_id));
  g_assert_true (row_label_is (row, "quote_body_label", "Shall we take the 9:40 train?"));
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", question_id);
  }
  WAIT_FOR (row_label_is (row, "quote_body_label", "The original message was deleted"));

  fixture_teardown (&fx);
}

/* ---- The message actions screenshot -------------------------------------- */

/* Someone for the screenshot: registered with a display name, on a
 * connection with message_actions. */
static NatterTestClient *
new_person (Fixture    *fx,
            const char *username,
            const char *display_name)
{
  NatterTestClient *c = natter_test_client_new (fx->server);
  g_autofree char *name = natter_test_json_quote (display_name);
  g_autoptr(JsonObject) r = natter_test_client_requestf (c,
    "{\"type\":\"register\",\"username\":\"%s\",\"password\":\"%s\",\"display_name\":%s,"
    "\"features\":[\"message_actions\"]}", username, NATTER_TEST_PASSWORD, name);

  natter_assert_str (r, "type", "ok");
  return c;
}

/* Sends @body to @to (as a reply to @reply_to unless 0); the id. */
static gint64
say (NatterTestClient *c,
     const char       *to,
     const char       *body,
     gint64            reply_to)
{
  static guint n;
  g_autofree char *quoted = natter_test_json_quote (body);
  g_autofree char *reply = reply_to > 0 ? g_strdup_printf (",\"reply_to\":%" G_GINT64_FORMAT, reply_to) : g_strdup ("");
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"send\",\"to\":\"%s\",\"body\":%s,\"client_msg_id\":\"s%u\"%s}",
                                                           to, quoted, n++, reply);

  return natter_test_get_int (r, "message.id");
}

static void
react (NatterTestClient *c,
       gint64            message,
       const char       *emoji)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
    "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"%s\",\"on\":true}", message, emoji);
}

/* data/screenshots/conversation-actions.png, for the AppStream metainfo:
 * a room where people plan a hike, with a reply and its quote, an edited
 * message, a deleted one, reactions with counts and a mention of the user,
 * all made through natterd by four people; the rows are checked after the
 * picture is taken (checking scrolls). To make it again:
 *   meson test -C BUILD test-gui --test-args '-p /gui/screenshot/message-actions'
 *   cp BUILD/tests/gui/screenshots/conversation-actions.png data/screenshots/
 * (the emoji need fonts-noto-color-emoji, which install-deps.sh installs). */
static void
test_gui_screenshot_actions (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) jonas = NULL;
  g_autoptr(NatterTestClient) priya = NULL;
  g_autoptr(NatterTestClient) tomas = NULL;
  const char *room = "#weekend-hike";
  gint64 forecast, drive, typo, oops, snacks, hut, booked;
  NatterConversationView *view;
  GListModel *model;
  GtkWidget *row;

  if (!have_display () || !in_own_process ())
    return;

  fixture_setup (&fx);
  /* Tall enough for the whole plan. */
  gtk_window_set_default_size (GTK_WINDOW (fx.window), 1000, 800);
  alice = new_person (&fx, "alice", "Alice Martin");
  jonas = new_person (&fx, "jonas", "Jonas Weber");
  priya = new_person (&fx, "priya", "Priya Shah");
  tomas = new_person (&fx, "tomas", "Tomás Ortega");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (jonas,
      "{\"type\":\"room_create\",\"room\":\"#weekend-hike\",\"topic\":\"Ridge Trail, Saturday\"}");
    g_autoptr(JsonObject) b = natter_test_client_request_ok (priya,
      "{\"type\":\"room_create\",\"room\":\"#book-club\",\"topic\":\"Next up: Piranesi\"}");
  }
  for (NatterTestClient **c = (NatterTestClient *[]) { alice, priya, tomas, NULL }; *c != NULL; c++)
    {
      g_autoptr(JsonObject) r = natter_test_client_request_ok (*c,
        "{\"type\":\"room_join\",\"room\":\"#weekend-hike\"}");
    }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"room_join\",\"room\":\"#book-club\"}");
  }
  /* The other conversations of the sidebar, older than the room's. */
  say (priya, "#book-club", "Chapter 3 was wonderful. Thursday at mine?", 0);
  say (jonas, "@alice", "Thanks for the photos from last time!", 0);

  forecast = say (jonas, room, "The forecast says sun all Saturday ☀️ Ridge Trail, anyone?", 0);
  drive = say (priya, room, "Yes! I can drive, there's room for three more in the car.", 0);
  typo = say (alice, room, "Count me in. What tiem do we leave?", 0);
  oops = say (tomas, room, "Did anyone see my blue jacket?", 0);
  snacks = say (jonas, room, "Perfect, I'll bring snacks and the trail map 🗺️", drive);
  hut = say (priya, room, "@alice could you book the hut for Saturday night?", 0);
  booked = say (alice, room, "Booked! Four beds, breakfast included 🏕️", hut);
  {
    g_autoptr(JsonObject) e = natter_test_client_request_ok (alice,
      "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"Count me in. What time do we leave?\"}", typo);
    g_autoptr(JsonObject) d = natter_test_client_request_ok (tomas,
      "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", oops);
  }
  react (priya, forecast, "👍");
  react (tomas, forecast, "👍");
  react (alice, forecast, "👍");
  react (tomas, forecast, "😎");
  react (priya, snacks, "❤️");
  react (alice, snacks, "❤️");
  react (jonas, booked, "🎉");
  react (priya, booked, "🎉");
  react (tomas, booked, "🎉");
  react (jonas, booked, "🙌");

  sign_in (&fx, "alice");
  view = open_conversation (&fx, room, NULL, &model);
  WAIT_FOR (message_with_id (model, booked) != NULL && message_with_id (model, forecast) != NULL);

  /* As the conversation opens, with Priya typing. */
  natter_test_client_send (priya, "{\"type\":\"typing\",\"to\":\"#weekend-hike\",\"state\":\"active\"}");
  WAIT_FOR (natter_conversation_get_typing (natter_conversation_view_get_conversation (view)) != NULL);
  settle (GTK_WIDGET (fx.window));
  save_screenshot (&fx, "conversation-actions.png");

  /* What the picture must show. */
  row = row_of (view, message_with_id (model, forecast));
  WAIT_FOR (pill_of (row, "👍 3") != NULL);
  g_assert_true (gtk_widget_has_css_class (pill_of (row, "👍 3"), "mine"));
  row = row_of (view, message_with_id (model, typo));
  g_assert_true (row_label_is (row, "body_label", "Count me in. What time do we leave?"));
  g_assert_true (gtk_widget_get_visible (child (row, NATTER_TYPE_MESSAGE_ROW, "edited_label")));
  row = row_of (view, message_with_id (model, oops));
  g_assert_true (row_label_is (row, "body_label", "This message was deleted"));
  row = row_of (view, message_with_id (model, snacks));
  g_assert_true (gtk_widget_get_visible (child (row, NATTER_TYPE_MESSAGE_ROW, "quote_button")));
  g_assert_true (row_label_is (row, "quote_sender_label", "Priya Shah"));
  row = row_of (view, message_with_id (model, hut));
  g_assert_true (gtk_widget_has_css_class (child (row, NATTER_TYPE_MESSAGE_ROW, "bubble"), "mentioned"));
  row = row_of (view, message_with_id (model, booked));
  g_assert_nonnull (pill_of (row, "🎉 3"));
  g_assert_nonnull (pill_of (row, "🙌 1"));

  fixture_teardown (&fx);
}

/* "@" in a room offers its members, narrowed as one types and chosen with
 * the keys; a mention of us is highlighted; the bell menu sets the level,
 * and a room at "mentions" notifies only what mentions us. */
static void
test_gui_mentions_and_levels (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) carol = NULL;
  NatterConversationView *view;
  NatterComposer *composer;
  NatterConversation *room;
  GtkPopover *popover;
  GListModel *model;
  gboolean joined = FALSE;

  if (!have_display () || !in_own_process ())
    return;

  bob = setup_alice_and_bob (&fx);
  if (!with_actions (bob, "bob"))
    {
      g_test_skip ("natterd does not offer message_actions");
      fixture_teardown (&fx);
      return;
    }
  carol = natter_test_client_new_user (fx.server, "carol");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"room_create\",\"room\":\"#lunch\",\"topic\":\"Food\"}");
    g_autoptr(JsonObject) j = natter_test_client_request_ok (carol,
      "{\"type\":\"room_join\",\"room\":\"#lunch\"}");
  }
  sign_in (&fx, "alice");
  natter_client_room_join_async (fx.client, "#lunch", NULL, joined_cb, &joined);
  WAIT_FOR (joined);
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.open-conversation", "s", "#lunch");
  view = child (fx.window, NATTER_TYPE_WINDOW, "conversation_view");
  composer = child (view, NATTER_TYPE_CONVERSATION_VIEW, "composer");
  popover = child (composer, NATTER_TYPE_COMPOSER, "mention_popover");
  model = natter_conversation_view_get_model (view);

  /* "@" offers the others; "@ca" narrows it; Tab completes. */
  natter_composer_set_text (composer, "Lunch, @");
  WAIT_FOR (gtk_widget_get_visible (GTK_WIDGET (popover)));
  {
    GListModel *offered = G_LIST_MODEL (child (composer, NATTER_TYPE_COMPOSER, "mention_selection"));

    g_assert_cmpuint (g_list_model_get_n_items (offered), ==, 2);
    save_root_screenshot (&fx, "mention-completion.png");
    g_assert_true (composer_key (composer, GDK_KEY_Down, 0));
    g_assert_cmpuint (gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (offered)), ==, 1);
    g_assert_true (composer_key (composer, GDK_KEY_Up, 0));
    natter_composer_set_text (composer, "Lunch, @ca");
    WAIT_FOR (g_list_model_get_n_items (offered) == 1);
  }
  g_assert_true (composer_key (composer, GDK_KEY_Tab, 0));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (popover)));
  {
    g_autofree char *text = natter_composer_dup_text (composer);
    g_assert_cmpstr (text, ==, "Lunch, @carol ");
  }
  g_assert_true (composer_key (composer, GDK_KEY_Return, 0));
  {
    gboolean seen = FALSE;

    WAIT_FOR (seen || (seen = saw_message (carol, "Lunch, @carol")));
  }

  /* Someone who joins while the room is open is offered too (the list
   * was the one loaded when the room opened). */
  {
    NatterRoom *lunch = natter_conversation_get_room (natter_conversation_view_get_conversation (view));
    guint before = natter_room_get_member_count (lunch);
    g_autoptr(NatterTestClient) dave = natter_test_client_new_user (fx.server, "dave");
    g_autoptr(JsonObject) j = natter_test_client_request_ok (dave, "{\"type\":\"room_join\",\"room\":\"#lunch\"}");
    GListModel *offered = G_LIST_MODEL (child (composer, NATTER_TYPE_COMPOSER, "mention_selection"));

    WAIT_FOR (natter_room_get_member_count (lunch) == before + 1);
    natter_composer_set_text (composer, "@da");
    WAIT_FOR (g_list_model_get_n_items (offered) == 1 && gtk_widget_get_visible (GTK_WIDGET (popover)));
    natter_composer_set_text (composer, "");
    WAIT_FOR (!gtk_widget_get_visible (GTK_WIDGET (popover)));
  }

  /* A mention of alice stands out. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"send\",\"to\":\"#lunch\",\"body\":\"@alice pizza?\",\"client_msg_id\":\"m1\"}");
  }
  WAIT_FOR (last_body_is (model, "@alice pizza?"));
  {
    GtkWidget *row = row_of (view, last_message (model));

    g_assert_true (gtk_widget_has_css_class (child (row, NATTER_TYPE_MESSAGE_ROW, "bubble"), "mentioned"));
  }

  /* The bell menu: mentions only. */
  room = natter_conversation_view_get_conversation (view);
  g_assert_true (gtk_widget_get_visible (child (view, NATTER_TYPE_CONVERSATION_VIEW, "notify_button")));
  gtk_widget_activate_action (GTK_WIDGET (view), "conversation.notify-level", "s", "mentions");
  WAIT_FOR (natter_conversation_get_notify_level (room) == NATTER_NOTIFY_LEVEL_MENTIONS);
  gtk_menu_button_popup (child (view, NATTER_TYPE_CONVERSATION_VIEW, "notify_button"));
  save_root_screenshot (&fx, "notify-level-menu.png");
  gtk_menu_button_popdown (child (view, NATTER_TYPE_CONVERSATION_VIEW, "notify_button"));

  /* Away from the room: a plain message does not notify, a mention does. */
  gtk_widget_activate_action (GTK_WIDGET (fx.window), "win.show-contacts", NULL);
  {
    g_autoptr(JsonObject) r1 = natter_test_client_request_ok (carol,
      "{\"type\":\"send\",\"to\":\"#lunch\",\"body\":\"Anyone?\",\"client_msg_id\":\"c1\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (carol,
      "{\"type\":\"send\",\"to\":\"#lunch\",\"body\":\"@alice you in?\",\"client_msg_id\":\"c2\"}");
  }
  WAIT_FOR (notified ("you in?"));
  g_assert_false (notified ("Anyone?"));

  fixture_teardown (&fx);
}

static gboolean
is_account_page (GtkWidget    *widget,
                 gconstpointer data)
{
  return NATTER_IS_ACCOUNT_PAGE (widget);
}

static guint
count_rows (GtkListBox *list)
{
  guint n = 0;

  while (gtk_list_box_get_row_at_index (list, (int) n) != NULL)
    n++;
  return n;
}

/* The row of the device named @title, or NULL. */
static GtkListBoxRow *
device_row (GtkListBox *list,
            const char *title)
{
  GtkListBoxRow *row;

  for (int i = 0; (row = gtk_list_box_get_row_at_index (list, i)) != NULL; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), title) == 0)
      return row;
  return NULL;
}

static GtkWidget *
find_button (GtkWidget *widget)
{
  if (GTK_IS_BUTTON (widget))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The preferences' Account page (feature accounts) as alice uses it: her
 * phone, signed in too, listed and signed out (its connection closed by
 * the server); a new display name, seen by bob; a wrong current password
 * refused, then a new password, with which a new login works; bob
 * blocked from the people page (confirmed) and unblocked from the
 * Account page's list. */
static void
keep_result_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_gui_account (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) phone = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) later = NULL;
  g_autoptr(NatterTestClient) checker = NULL;
  JsonObject *entry = NULL;
  GtkListBox *blocked;
  NatterAccountPage *page;
  GtkListBox *devices;
  GtkListBoxRow *row;
  gpointer prefs;

  if (!have_display () || !in_own_process ())
    return;

  fixture_setup_signed_in_named (&fx, "alice", "Alice Moreau");
  if (!natter_client_get_accounts (fx.client))
    {
      g_test_skip ("natterd does not offer accounts");
      fixture_teardown (&fx);
      return;
    }
  phone = natter_test_client_new (fx.server);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (phone,
      "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\",\"device\":\"Alice’s phone\","
      "\"features\":[\"accounts\"]}", NATTER_TEST_PASSWORD);
  }
  bob = room_member_new (&fx, "bob", "Bob Jensen", NULL);

  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "preferences", NULL);
  prefs = find_dialog (&fx);
  g_assert_nonnull (prefs);
  show_page (prefs, "account");
  page = NATTER_ACCOUNT_PAGE (find_widget (GTK_WIDGET (prefs), is_account_page, NULL));
  g_assert_nonnull (page);
  devices = natter_account_page_get_devices (page);
  /* The app, the phone, and the session the registration made (its
   * connection gone, no device name given). */
  WAIT_FOR (count_rows (devices) == 3);
  row = device_row (devices, "Alice’s phone");
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "127.0.0.1 · Connected");
  g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (ADW_ACTION_ROW (device_row (devices, "Unknown device"))),
                                   "127.0.0.1 · Last active "));
  /* This device: no button (signing out here is the window's menu). */
  {
    guint here = 0;

    for (int i = 0; i < 3; i++)
      {
        GtkListBoxRow *r = gtk_list_box_get_row_at_index (devices, i);

        if (g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (r)), "This device") == 0)
          {
            g_assert_null (find_button (GTK_WIDGET (r)));
            here++;
          }
        else
          g_assert_nonnull (find_button (GTK_WIDGET (r)));
      }
    g_assert_cmpuint (here, ==, 1);
  }
  save_widget_screenshot (&fx, prefs, "account-preferences.png");

  /* The phone signed out: the server closes it, and the list has one. */
  g_signal_emit_by_name (find_button (GTK_WIDGET (row)), "clicked");
  natter_test_client_assert_closed (phone);
  WAIT_FOR (count_rows (devices) == 2 && device_row (devices, "Alice’s phone") == NULL);

  /* A new display name, as bob sees it. */
  gtk_editable_set_text (GTK_EDITABLE (child (page, NATTER_TYPE_ACCOUNT_PAGE, "display_name_row")), "Alice M.");
  g_signal_emit_by_name (child (page, NATTER_TYPE_ACCOUNT_PAGE, "display_name_row"), "apply");
  WAIT_FOR (g_strcmp0 (natter_user_get_display_name (natter_client_get_me (fx.client)), "Alice M.") == 0);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"user_info\",\"username\":\"alice\"}");

    natter_assert_str (r, "user.display_name", "Alice M.");
  }

  /* A status text, as the presence menu sets it; the server has it. */
  gtk_editable_set_text (GTK_EDITABLE (child (page, NATTER_TYPE_ACCOUNT_PAGE, "status_row")), "In a meeting");
  g_signal_emit_by_name (child (page, NATTER_TYPE_ACCOUNT_PAGE, "status_row"), "apply");
  WAIT_FOR (g_strcmp0 (natter_user_get_status_text (natter_client_get_me (fx.client)), "In a meeting") == 0);
  {
    g_autoptr(NatterTestClient) again = natter_test_client_new_login (fx.server, "alice");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (again,
      "{\"type\":\"user_info\",\"username\":\"alice\"}");

    natter_assert_str (r, "user.status_text", "In a meeting");
  }

  /* A picture: a landscape image file is made a square, sent, shown on
   * the page and in the sidebar, and bob reads the same hash. */
  {
    g_autoptr(GdkPixbuf) photo = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 600, 400);
    g_autofree char *dir = g_dir_make_tmp ("natter-gui-picture-XXXXXX", NULL);
    g_autofree char *path = g_build_filename (dir, "portrait.png", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);
    g_autoptr(GError) error = NULL;
    GtkWidget *shown = child (page, NATTER_TYPE_ACCOUNT_PAGE, "picture_avatar");
    const char *sha256;

    gdk_pixbuf_fill (photo, 0x3584e4ff);
    g_assert_true (gdk_pixbuf_save (photo, path, "png", &error, NULL));
    g_assert_no_error (error);
    g_assert_false (gtk_widget_get_visible (child (page, NATTER_TYPE_ACCOUNT_PAGE, "remove_picture_button")));
    natter_account_page_set_picture_file (page, file);
    WAIT_FOR (natter_user_get_avatar (natter_client_get_me (fx.client)) != NULL);
    sha256 = natter_user_get_avatar (natter_client_get_me (fx.client));
    {
      g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");

      natter_assert_str (r, "user.avatar", sha256);
    }
    WAIT_FOR (adw_avatar_get_custom_image (ADW_AVATAR (gtk_widget_get_first_child (shown))) != NULL);
    g_assert_cmpint (gdk_paintable_get_intrinsic_width (adw_avatar_get_custom_image (
                       ADW_AVATAR (gtk_widget_get_first_child (shown)))), ==, 256);
    g_assert_true (gtk_widget_get_visible (child (page, NATTER_TYPE_ACCOUNT_PAGE, "remove_picture_button")));
    save_widget_screenshot (&fx, prefs, "account-picture.png");
    g_assert_cmpint (g_remove (path), ==, 0);
    g_assert_cmpint (g_rmdir (dir), ==, 0);
  }

  /* A picture whose header claims 30000 × 30000 pixels (a decompression
   * bomb in 33 bytes) is refused before it is decoded. */
  {
    static const guint8 bomb[] = {
      0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
      0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 6, 0, 0, 0, 0, 0, 0, 0 };
    g_autofree char *text = g_base64_encode (bomb, sizeof bomb);
    g_autoptr(NatterTestClient) carol = natter_test_client_new (fx.server);
    g_autoptr(JsonObject) in = natter_test_client_request_ok (carol,
      "{\"type\":\"register\",\"username\":\"carol\",\"password\":\"%s\",\"features\":[\"accounts\"]}",
      NATTER_TEST_PASSWORD);
    g_autoptr(JsonObject) set = natter_test_client_request_ok (carol,
      "{\"type\":\"avatar_set\",\"data\":\"%s\"}", text);
    g_autoptr(JsonObject) info = NULL;
    GAsyncResult *result = NULL;
    g_autoptr(GdkTexture) texture = NULL;
    g_autoptr(GError) error = NULL;

    /* The app learns carol's user object (with its hash) from a search. */
    natter_client_user_search_async (fx.client, "carol", NULL, keep_result_cb, &result);
    WAIT_FOR (result != NULL);
    g_object_unref (natter_client_user_search_finish (fx.client, result, NULL));
    g_clear_object (&result);
    g_assert_nonnull (natter_user_get_avatar (natter_client_lookup_user (fx.client, "carol")));
    natter_avatar_picture_load_async (fx.client, natter_client_lookup_user (fx.client, "carol"), NULL,
                                      keep_result_cb, &result);
    WAIT_FOR (result != NULL);
    texture = natter_avatar_picture_load_finish (result, &error);
    g_assert_null (texture);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_object (&result);
  }

  /* The password: the button waits for both fields; a wrong current one
   * leaves the fields as they were, the right one empties them. */
  {
    GtkWidget *current = child (page, NATTER_TYPE_ACCOUNT_PAGE, "current_password_row");
    GtkWidget *next = child (page, NATTER_TYPE_ACCOUNT_PAGE, "new_password_row");
    GtkWidget *button = child (page, NATTER_TYPE_ACCOUNT_PAGE, "change_password_button");

    g_assert_false (gtk_widget_get_sensitive (button));
    gtk_editable_set_text (GTK_EDITABLE (current), "not my password");
    gtk_editable_set_text (GTK_EDITABLE (next), "a new horse battery");
    g_assert_true (gtk_widget_get_sensitive (button));
    g_signal_emit_by_name (button, "clicked");
    g_assert_false (gtk_widget_get_sensitive (button));
    WAIT_FOR (gtk_widget_get_sensitive (button));
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (next)), ==, "a new horse battery");

    gtk_editable_set_text (GTK_EDITABLE (current), NATTER_TEST_PASSWORD);
    g_signal_emit_by_name (button, "clicked");
    WAIT_FOR (*gtk_editable_get_text (GTK_EDITABLE (next)) == '\0');
  }
  /* "Sign out other devices" was on: this device alone is left. */
  WAIT_FOR (count_rows (devices) == 1);
  later = natter_test_client_new (fx.server);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (later,
      "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"a new horse battery\"}");
  }
  /* This device is still signed in. */
  g_assert_true (natter_client_get_accounts (fx.client));
  gtk_window_destroy (GTK_WINDOW (prefs));

  /* Blocking bob from the people page, confirmed; the server holds it
   * (asked by another device of alice's), and the Account page lists
   * him with Unblock, which the server follows. */
  checker = natter_test_client_new (fx.server);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (checker,
      "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"a new horse battery\","
      "\"features\":[\"accounts\"]}");
  }
  gtk_widget_activate_action (child (fx.window, NATTER_TYPE_WINDOW, "contacts_page"), "contacts.block", "s", "bob");
  {
    AdwMessageDialog *dialog = find_dialog (&fx);

    g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
    adw_message_dialog_response (dialog, "block");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  WAIT_FOR ((entry = server_entry (checker, "{\"type\":\"blocked\"}", "blocked", "bob")) != NULL);
  g_assert_nonnull (entry);
  g_clear_pointer (&entry, json_object_unref);

  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "preferences", NULL);
  prefs = find_dialog (&fx);
  show_page (prefs, "account");
  page = NATTER_ACCOUNT_PAGE (find_widget (GTK_WIDGET (prefs), is_account_page, NULL));
  blocked = natter_account_page_get_blocked (page);
  WAIT_FOR (count_rows (blocked) == 1 && find_button (GTK_WIDGET (gtk_list_box_get_row_at_index (blocked, 0))) != NULL);
  row = gtk_list_box_get_row_at_index (blocked, 0);
  g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (row)), ==, "bob");
  g_signal_emit_by_name (find_button (GTK_WIDGET (row)), "clicked");
  /* The list then says nobody is blocked: one row, no button. */
  WAIT_FOR (count_rows (blocked) == 1 && find_button (GTK_WIDGET (gtk_list_box_get_row_at_index (blocked, 0))) == NULL);
  entry = server_entry (checker, "{\"type\":\"blocked\"}", "blocked", "bob");
  g_assert_null (entry);

  gtk_window_destroy (GTK_WINDOW (prefs));
  fixture_teardown (&fx);
}

/* Delete Account… on the Account page: a dialog asks the password (its
 * button waits for one); a wrong one leaves everything as it was, the
 * right one deletes the account, closes the preferences and brings back
 * the welcome page; bob sees a deleted account. */
static void
test_gui_account_delete (void)
{
  Fixture fx = { 0 };
  g_autoptr(NatterTestClient) bob = NULL;
  NatterAccountPage *page;
  GtkWidget *button;
  AdwMessageDialog *dialog;
  gpointer prefs;

  if (!have_display () || !in_own_process ())
    return;

  fixture_setup_signed_in_named (&fx, "alice", "Alice Moreau");
  if (!natter_client_get_accounts (fx.client))
    {
      g_test_skip ("natterd does not offer accounts");
      fixture_teardown (&fx);
      return;
    }
  bob = room_member_new (&fx, "bob", "Bob Jensen", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (fx.app), "preferences", NULL);
  prefs = find_dialog (&fx);
  g_assert_nonnull (prefs);
  show_page (prefs, "account");
  page = NATTER_ACCOUNT_PAGE (find_widget (GTK_WIDGET (prefs), is_account_page, NULL));
  g_assert_nonnull (page);
  button = child (page, NATTER_TYPE_ACCOUNT_PAGE, "delete_account_button");
  g_assert_true (gtk_widget_has_css_class (button, "destructive-action"));

  for (int round = 0; round < 2; round++)
    {
      g_signal_emit_by_name (button, "clicked");
      WAIT_FOR ((dialog = find_message_dialog ()) != NULL);
      g_assert_false (adw_message_dialog_get_response_enabled (dialog, "delete"));
      gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog)),
                             round == 0 ? "not my password" : NATTER_TEST_PASSWORD);
      g_assert_true (adw_message_dialog_get_response_enabled (dialog, "delete"));
      if (round == 0)
        save_widget_screenshot (&fx, GTK_WIDGET (dialog), "account-delete.png");
      adw_message_dialog_response (dialog, "delete");
      gtk_window_destroy (GTK_WINDOW (dialog));
      if (round == 0)
        {
          /* Refused: the button comes back, alice is still signed in. */
          g_assert_false (gtk_widget_get_sensitive (button));
          WAIT_FOR (gtk_widget_get_sensitive (button));
          g_assert_cmpint (natter_client_get_state (fx.client), ==, NATTER_CLIENT_STATE_READY);
        }
    }
  /* Deleted: the preferences go, the welcome page comes back. */
  WAIT_FOR (g_strcmp0 (natter_window_get_page_name (fx.window), "welcome") == 0);
  WAIT_FOR (find_dialog (&fx) == NULL);
  g_assert_null (natter_client_get_token (fx.client));
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
      "{\"type\":\"user_info\",\"username\":\"alice\"}");

    g_assert_true (natter_test_get_bool (r, "user.deleted"));
  }
  fixture_teardown (&fx);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gui/flow", test_gui_flow);
  g_test_add_func ("/gui/close-with-conversation", test_gui_close_with_conversation);
  g_test_add_func ("/gui/quit-with-conversation", test_gui_quit_with_conversation);
  g_test_add_func ("/gui/narrow-sign-in-again", test_gui_narrow_sign_in_again);
  g_test_add_func ("/gui/first-start", test_gui_first_start);
  g_test_add_func ("/gui/no-secret-service", test_gui_no_secret_service);
  g_test_add_func ("/gui/read-receipts-switch", test_gui_read_receipts_switch);
  g_test_add_func ("/gui/typing-switch", test_gui_typing_switch);
#ifdef GDK_WINDOWING_X11
  g_test_add_func ("/gui/sound-switch", test_gui_sound_switch);
#endif

  g_test_add_func ("/gui/edges/offline-presence", test_gui_offline_presence);
  g_test_add_func ("/gui/edges/identity-changed", test_gui_identity_changed);
  g_test_add_func ("/gui/edges/session-ended", test_gui_session_ended);
  g_test_add_func ("/gui/search-as-you-type", test_gui_search_as_you_type);
  g_test_add_func ("/gui/cancel-request", test_gui_cancel_request);
  g_test_add_func ("/gui/room-notices", test_gui_room_notices);
  g_test_add_func ("/gui/sign-out-after-create", test_gui_sign_out_after_create);
  g_test_add_func ("/gui/search-hit-short", test_gui_search_hit_short);
  g_test_add_func ("/gui/long-status", test_gui_long_status);
  g_test_add_func ("/gui/mode-switch-focus", test_gui_mode_switch_focus);
  g_test_add_func ("/gui/contacts-search-reset", test_gui_contacts_search_reset);
  g_test_add_func ("/gui/cancel-request-toast", test_gui_cancel_request_toast);
  g_test_add_func ("/gui/several-addresses", test_gui_several_addresses);
  g_test_add_func ("/gui/settings-migration", test_gui_settings_migration);
  g_test_add_func ("/gui/message-actions", test_gui_message_actions);
  g_test_add_func ("/gui/file-card", test_gui_file_card);
  g_test_add_func ("/gui/inline-image", test_gui_inline_image);
  g_test_add_func ("/gui/message-actions/keys", test_gui_message_keys);
  g_test_add_func ("/gui/screenshot/message-actions", test_gui_screenshot_actions);
  g_test_add_func ("/gui/mentions-and-levels", test_gui_mentions_and_levels);
  g_test_add_func ("/gui/room-invitations", test_gui_room_invitations);
  g_test_add_func ("/gui/room-settings", test_gui_room_settings);
  g_test_add_func ("/gui/account", test_gui_account);
  g_test_add_func ("/gui/account-delete", test_gui_account_delete);
  return g_test_run ();
}
