/* natter-window.c: the main window and the flow between its pages.
 *
 * The window shows the welcome page until the client is signed in, then the
 * chat: an AdwLeaflet with the conversation list on the left and the
 * selected page (a conversation, contacts, search) on the right. It follows
 * the client's state: a reconnect shows the banner, losing the sign-in
 * returns to the welcome page, and a server that comes back with another
 * certificate shows the welcome page's warning about it at once, with the
 * chat kept behind it for when the user trusts the new one.
 */
#define G_LOG_DOMAIN "natter-window"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-ui-util.h"
#include "natter-window-private.h"

/* The most the list's header title asks for, in (average) characters;
 * beside the header's four buttons that fits the list's 300 pixels. The
 * whole status text is in the presence menu. */
#define SIDEBAR_TITLE_MAX_CHARS 12

G_DEFINE_FINAL_TYPE (NatterWindow, natter_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_PRESENCE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void setup (NatterWindow *self);

NatterWindow *
natter_window_new (NatterApplication *application)
{
  NatterWindow *self = g_object_new (NATTER_TYPE_WINDOW, "application", application, NULL);

  /* "application" is not a construct property, so it is only set after
   * constructed(); everything that needs it happens here. */
  setup (self);
  return self;
}

const char *
natter_window_get_page_name (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->main_stack);
}

void
natter_window_show_toast (NatterWindow *self,
                          const char   *text)
{
  g_return_if_fail (NATTER_IS_WINDOW (self));
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static void
toast_dismissed_cb (NatterWindow *self,
                    AdwToast     *toast)
{
  if (self->request_toast == toast)
    g_clear_object (&self->request_toast);
  if (self->error_toast == toast)
    g_clear_object (&self->error_toast);
}

/* Shows @toast (transfer full) in place of the one @slot keeps, and keeps
 * it there until it is dismissed. */
static void
replace_toast (NatterWindow  *self,
               AdwToast     **slot,
               AdwToast      *toast)
{
  /* Dismissing clears the slot, through the signal. */
  if (*slot != NULL)
    adw_toast_dismiss (*slot);
  *slot = g_object_ref (toast);
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (toast_dismissed_cb),
                           self, G_CONNECT_SWAPPED);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* An error shows at once: a toast of high priority pushes the one on
 * screen back into the queue, and nothing pushes it back, as every other
 * toast is of normal priority. A second error while the first is still
 * up takes its place rather than queueing behind it. */
static void
show_error_text (NatterWindow *self,
                 const char   *text)
{
  AdwToast *toast = adw_toast_new (text);

  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  replace_toast (self, &self->error_toast, toast);
}

void
natter_window_show_error (NatterWindow *self,
                          const GError *error)
{
  g_autofree char *text = NULL;

  g_return_if_fail (NATTER_IS_WINDOW (self));

  text = natter_describe_error (error);
  show_error_text (self, text);
}

const char *
natter_window_get_current_address (NatterWindow *self)
{
  NatterConversation *conversation;

  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "chat") != 0 ||
      g_strcmp0 (gtk_stack_get_visible_child_name (self->content_stack), "conversation") != 0)
    return NULL;

  /* On a narrow window only the visible half counts. */
  if (adw_leaflet_get_folded (self->leaflet) &&
      g_strcmp0 (adw_leaflet_get_visible_child_name (self->leaflet), "content") != 0)
    return NULL;

  conversation = natter_conversation_view_get_conversation (self->conversation_view);
  return conversation ? natter_conversation_get_address (conversation) : NULL;
}

void
natter_window_show_content (NatterWindow *self,
                            const char   *name)
{
  gtk_stack_set_visible_child_name (self->content_stack, name);
  /* Folded, the empty page alone would be a dead end behind a back
   * button: the list is what to show then. */
  adw_leaflet_set_visible_child_name (self->leaflet, g_str_equal (name, "empty") ? "sidebar" : "content");
  natter_window_update_actions (self);
}

static void
show_conversation (NatterWindow       *self,
                   NatterConversation *conversation)
{
  g_autofree char *id = NULL;

  natter_conversation_view_set_conversation (self->conversation_view, conversation);
  natter_sidebar_set_selected (self->sidebar, conversation);
  natter_client_set_open_conversation (self->client, conversation);
  natter_window_show_content (self, conversation ? "conversation" : "empty");

  if (conversation == NULL)
    return;

  /* Its notification is stale once it is on screen. */
  id = g_strdup_printf ("message-%s", natter_conversation_get_address (conversation));
  g_application_withdraw_notification (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))), id);
  natter_conversation_view_focus_composer (self->conversation_view);
}

void
natter_window_open_conversation (NatterWindow *self,
                                 const char   *address)
{
  NatterConversation *conversation;

  g_return_if_fail (NATTER_IS_WINDOW (self));

  if (g_strcmp0 (natter_window_get_page_name (self), "chat") != 0)
    return;

  conversation = natter_client_lookup_conversation (self->client, address, TRUE);
  if (conversation == NULL)
    {
      natter_window_show_toast (self, _("That conversation does not exist."));
      return;
    }
  show_conversation (self, conversation);
}

void
natter_window_open_message (NatterWindow *self,
                            const char   *address,
                            gint64        id)
{
  g_return_if_fail (NATTER_IS_WINDOW (self));

  natter_window_open_conversation (self, address);
  if (g_strcmp0 (natter_window_get_current_address (self), address) == 0)
    natter_conversation_view_show_message (self->conversation_view, id);
}

static void
conversation_activated_cb (NatterWindow       *self,
                           NatterConversation *conversation,
                           NatterSidebar      *sidebar)
{
  show_conversation (self, conversation);
}

static void
update_title (NatterWindow *self)
{
  guint unread = natter_client_get_unread_total (self->client);
  g_autofree char *title = NULL;

  if (unread > 0 && g_strcmp0 (natter_window_get_page_name (self), "chat") == 0)
    /* Translators: window title with the number of unread messages. */
    title = g_strdup_printf (_("Natter (%u)"), unread);
  else
    title = g_strdup (_("Natter"));

  gtk_window_set_title (GTK_WINDOW (self), title);
}

/* Our own presence as the others see it: while the connection is down
 * nobody sees us online, so the header says "Connecting…" and the avatar
 * has no dot, rather than the presence we chose. */
static void
update_me_subtitle (NatterWindow *self)
{
  NatterUser *me = natter_client_get_me (self->client);
  gboolean ready = natter_client_get_state (self->client) == NATTER_CLIENT_STATE_READY;
  g_autofree char *subtitle = NULL;

  g_object_set (self->me_avatar, "show-presence", ready, NULL);
  if (me == NULL)
    return;
  /* With our status text, as others' headers show theirs. */
  subtitle = ready ? natter_presence_status_text (me) : g_strdup (_("Connecting…"));
  adw_window_title_set_subtitle (self->sidebar_title, subtitle);
}

static void
update_me (NatterWindow *self)
{
  NatterUser *me = natter_client_get_me (self->client);
  g_autofree char *username = NULL;

  natter_user_avatar_set_user (self->me_avatar, me);
  if (me == NULL)
    return;

  /* The status entry shows the status in force, unless it is being edited. */
  if (gtk_widget_get_focus_child (GTK_WIDGET (self->status_entry)) == NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->status_entry),
                           natter_user_get_status_text (me) ? natter_user_get_status_text (me) : "");

  username = g_strdup_printf ("@%s", natter_user_get_username (me));
  gtk_label_set_label (self->me_name_label, natter_user_get_display_name (me));
  gtk_label_set_label (self->me_username_label, username);
  update_me_subtitle (self);
}

/* The content pane's empty page: "pick one" when there is one to pick.
 * With none at all the list's empty state (with what to do) is the one
 * that speaks; the pane shows the app's icon only, as GNOME apps do. */
static void
update_empty_status (NatterWindow *self)
{
  gboolean any = g_list_model_get_n_items (natter_client_get_conversations (self->client)) > 0;

  adw_status_page_set_title (self->empty_status, any ? _("No Conversation Selected") : "");
  adw_status_page_set_description (self->empty_status,
                                   any ? _("Pick a conversation from the list.") : NULL);
}

static void
show_chat (NatterWindow *self)
{
  self->untrusted_shown = FALSE;
  gtk_revealer_set_reveal_child (self->reconnect_revealer,
                                 natter_client_get_state (self->client) == NATTER_CLIENT_STATE_RECONNECTING);
  gtk_stack_set_visible_child_name (self->main_stack, "chat");
  update_me (self);
  update_title (self);
  natter_window_update_actions (self);
}

static void
show_welcome (NatterWindow *self)
{
  natter_conversation_view_set_conversation (self->conversation_view, NULL);
  natter_client_set_open_conversation (self->client, NULL);
  /* The next sign-in (this account or another) starts on the list, with
   * nothing of the last one's searches. */
  natter_window_show_content (self, "empty");
  natter_page_clear_search (NATTER_PAGE (self->contacts_page));
  natter_page_clear_search (NATTER_PAGE (self->search_page));
  gtk_stack_set_visible_child_name (self->main_stack, "welcome");
  gtk_revealer_set_reveal_child (self->reconnect_revealer, FALSE);
  update_title (self);
  natter_window_update_actions (self);
}

/* The session stopped at a certificate other than the trusted one: the
 * warning takes the window wherever the user was, and the chat stays as
 * it is (conversation open, models, outbox) behind it. */
static void
show_untrusted (NatterWindow *self)
{
  self->untrusted_shown = TRUE;
  gtk_revealer_set_reveal_child (self->reconnect_revealer, FALSE);
  gtk_stack_set_visible_child_name (self->main_stack, "welcome");
  natter_welcome_page_show_untrusted (self->welcome_page);
  update_title (self);
  natter_window_update_actions (self);
}

static void
signed_in_cb (NatterWindow      *self,
              NatterWelcomePage *page)
{
  natter_application_remember_token (NATTER_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))));
  show_chat (self);
}

static void
client_state_cb (NatterWindow *self)
{
  NatterClientState state = natter_client_get_state (self->client);
  gboolean in_chat = g_strcmp0 (natter_window_get_page_name (self), "chat") == 0;

  if (state == NATTER_CLIENT_STATE_UNTRUSTED)
    {
      show_untrusted (self);
      return;
    }
  /* The user chose another server rather than trust the new one: the
   * chat behind the warning goes as on a sign-out. */
  if (self->untrusted_shown && (state == NATTER_CLIENT_STATE_DISCONNECTED ||
                                state == NATTER_CLIENT_STATE_CONNECTING ||
                                state == NATTER_CLIENT_STATE_CONNECTED))
    {
      self->untrusted_shown = FALSE;
      show_welcome (self);
    }

  gtk_revealer_set_reveal_child (self->reconnect_revealer,
                                 in_chat && state == NATTER_CLIENT_STATE_RECONNECTING);
  update_me_subtitle (self);

  /* Losing the sign-in (token revoked on another device, or sign-out)
   * brings back the welcome page; its own flow handles the rest. */
  if (in_chat && (state == NATTER_CLIENT_STATE_CONNECTED ||
                  state == NATTER_CLIENT_STATE_DISCONNECTED))
    {
      show_welcome (self);
      natter_welcome_page_signed_out (self->welcome_page);
    }

  natter_window_update_actions (self);
}

void
natter_window_set_presence (NatterWindow *self,
                            const char   *presence)
{
  NatterPresence value;
  const char *status = NULL;

  if (!natter_presence_from_string (presence, FALSE, &value))
    return;
  if (g_strcmp0 (self->presence, presence) == 0)
    return;

  g_free (self->presence);
  self->presence = g_strdup (presence);

  if (self->client != NULL && natter_client_get_me (self->client) != NULL)
    {
      status = gtk_editable_get_text (GTK_EDITABLE (self->status_entry));
      natter_client_set_presence (self->client, value,
                                  status != NULL && *status != '\0' ? status : NULL);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE]);
}

static void
me_presence_cb (NatterWindow *self)
{
  NatterUser *me = natter_client_get_me (self->client);
  NatterPresence presence;

  if (me == NULL)
    return;

  /* Another device may change it: the menu's radio buttons follow,
   * without sending it back. */
  presence = natter_user_get_presence (me);
  if (presence != NATTER_PRESENCE_OFFLINE &&
      g_strcmp0 (self->presence, natter_presence_to_string (presence)) != 0)
    {
      g_free (self->presence);
      self->presence = g_strdup (natter_presence_to_string (presence));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE]);
    }

  update_me_subtitle (self);
}

static void
me_changed_cb (NatterWindow *self)
{
  /* A signal group: the user of the last sign-in is let go of, rather than
   * keeping its handlers (one more set with every sign-in). */
  g_signal_group_set_target (self->me_signals, natter_client_get_me (self->client));
  update_me (self);
}

static void
client_error_cb (NatterWindow *self,
                 GError       *error)
{
  /* A certificate to decide about gets the welcome page's warning, which
   * says more than a toast could (client_state_cb). */
  if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED) ||
      g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN))
    return;
  /* The sign-in ended elsewhere (revoked on another device, expired): the
   * state change brought the welcome page before this came, so it is said
   * here, wherever the window is, and the dead token leaves the keyring. */
  if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED))
    {
      natter_application_forget_token (NATTER_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))));
      show_error_text (self, _("Your session has ended. Sign in again."));
      return;
    }
  if (g_strcmp0 (natter_window_get_page_name (self), "chat") == 0)
    natter_window_show_error (self, error);
}

static void
client_send_failed_cb (NatterWindow  *self,
                       NatterMessage *message,
                       GError        *error)
{
  const char *to = natter_message_get_conversation (message);
  g_autofree char *text = NULL;

  /* Which message, and why, in words about sending; the red bubble with
   * Retry and Delete says the rest. */
  if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND))
    text = g_strdup_printf (_("Your message to %s was not sent: there is no such user or room."), to);
  else if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_FORBIDDEN))
    text = g_strdup_printf (_("Your message to %s was not sent: you are not a member of that room."), to);
  else
    text = g_strdup_printf (_("Your message to %s was not sent: the server did not accept it."), to);
  show_error_text (self, text);
}

/* The count of contact requests waiting for an answer, on the contacts
 * button of the sidebar's header. */
static void
update_requests_badge (NatterWindow *self)
{
  guint n = g_list_model_get_n_items (natter_client_get_incoming_requests (self->client));
  g_autofree char *count = n > 99 ? g_strdup ("99+") : g_strdup_printf ("%u", n);
  g_autofree char *a11y = NULL;

  gtk_label_set_label (self->requests_badge, count);
  gtk_widget_set_visible (GTK_WIDGET (self->requests_badge), n > 0);
  /* Answered (here or on another device): nothing left to show. */
  if (n == 0)
    natter_window_dismiss_request_toast (self);

  if (n > 0)
    /* Translators: the contacts button when contact requests wait. */
    a11y = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Contacts, %u request",
                                         "Contacts, %u requests", n), n);
  gtk_widget_set_tooltip_text (self->contacts_button, a11y != NULL ? a11y : _("Contacts"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->contacts_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  a11y != NULL ? a11y : _("Contacts"), -1);
}

void
natter_window_dismiss_request_toast (NatterWindow *self)
{
  /* Dismissing clears the pointer, through the signal. */
  if (self->request_toast != NULL)
    adw_toast_dismiss (self->request_toast);
}

/* Someone else took us out of a room (room_management): the sidebar
 * has already lost it; this says why. */
static void
room_removed_cb (NatterWindow *self,
                 NatterRoom   *room,
                 const char   *reason,
                 const char   *by,
                 const char   *ban_reason)
{
  g_autofree char *text = NULL;
  const char *name = natter_room_get_name (room);

  if (by == NULL)
    by = "?";
  if (g_strcmp0 (reason, "deleted") == 0)
    /* Translators: a toast; the first %s is a username, the second a room ("#plans"). */
    text = g_strdup_printf (_("%s deleted %s"), by, name);
  else if (g_strcmp0 (reason, "banned") == 0)
    /* Translators: a toast; the first %s is a username, the second a room ("#plans"). */
    text = g_strdup_printf (_("%s banned you from %s"), by, name);
  else
    /* Translators: a toast; the first %s is a username, the second a room ("#plans"). */
    text = g_strdup_printf (_("%s removed you from %s"), by, name);
  natter_window_show_toast (self, text);
}

static void
contact_request_cb (NatterWindow *self,
                    NatterUser   *from)
{
  g_autofree char *title = NULL;
  AdwToast *toast;

  if (g_strcmp0 (natter_window_get_page_name (self), "chat") != 0)
    return;
  /* The contacts page lists it already. */
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->content_stack), "contacts") == 0 &&
      gtk_widget_get_mapped (GTK_WIDGET (self->contacts_page)))
    return;

  title = natter_contact_request_title (from);
  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_Show"));
  adw_toast_set_action_name (toast, "win.show-contacts");
  /* Normal priority: a request must not push an error back. */
  replace_toast (self, &self->request_toast, toast);
}

static void
is_active_cb (NatterWindow *self)
{
  /* Coming back to the window reads what is on screen. */
  if (gtk_window_is_active (GTK_WINDOW (self)))
    natter_conversation_view_update_read (self->conversation_view);
}

static void
status_activate_cb (NatterWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.set-status", NULL);
}

static void
leaflet_folded_cb (NatterWindow *self)
{
  natter_window_update_actions (self);
}

static gboolean
natter_window_close_request (GtkWindow *window)
{
  NatterWindow *self = NATTER_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  if (!gtk_window_is_maximized (window))
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_apply (self->settings);

  return GTK_WINDOW_CLASS (natter_window_parent_class)->close_request (window);
}

static void
setup (NatterWindow *self)
{
  NatterApplication *app;

  app = NATTER_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_return_if_fail (app != NULL);

  self->client = natter_application_get_client (app);
  self->settings = natter_application_get_settings (app);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  natter_sidebar_set_client (self->sidebar, self->client);
  natter_conversation_view_set_client (self->conversation_view, self->client);
  natter_contacts_page_set_client (self->contacts_page, self->client);
  natter_search_page_set_client (self->search_page, self->client);
  natter_welcome_page_set_application (self->welcome_page, app);

  g_signal_connect_object (self->client, "notify::state", G_CALLBACK (client_state_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "notify::unread-total", G_CALLBACK (update_title),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "notify::me", G_CALLBACK (me_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "error", G_CALLBACK (client_error_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "send-failed", G_CALLBACK (client_send_failed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "contact-request", G_CALLBACK (contact_request_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "room-removed", G_CALLBACK (room_removed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (natter_client_get_incoming_requests (self->client), "items-changed",
                           G_CALLBACK (update_requests_badge), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (natter_client_get_conversations (self->client), "items-changed",
                           G_CALLBACK (update_empty_status), self, G_CONNECT_SWAPPED);
  update_requests_badge (self);
  update_empty_status (self);

  if (natter_client_get_state (self->client) == NATTER_CLIENT_STATE_READY ||
      natter_client_get_state (self->client) == NATTER_CLIENT_STATE_RECONNECTING ||
      natter_client_get_state (self->client) == NATTER_CLIENT_STATE_UNTRUSTED)
    {
      me_changed_cb (self);
      show_chat (self);
      client_state_cb (self);
    }
  else
    {
      show_welcome (self);
      natter_welcome_page_start (self->welcome_page);
    }
}

/* ---- the clock -------------------------------------------------------------- */

void
natter_window_refresh_times (NatterWindow *self,
                             gint64        now_ms)
{
  g_return_if_fail (NATTER_IS_WINDOW (self));

  natter_sidebar_refresh_times (self->sidebar, now_ms);
  natter_conversation_view_refresh_times (self->conversation_view, now_ms);
}

gboolean
natter_window_get_ticking (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), FALSE);
  return self->clock_id != 0;
}

static gboolean clock_cb (gpointer user_data);

/* Arms the timer for just after the next turn of the minute. It is armed
 * again each time rather than repeating, so it never drifts. */
static void
arm_clock (NatterWindow *self)
{
  gint64 now_ms = g_get_real_time () / 1000;

  self->clock_id = g_timeout_add (60000 - now_ms % 60000 + 50, clock_cb, self);
}

static gboolean
clock_cb (gpointer user_data)
{
  NatterWindow *self = user_data;

  natter_window_refresh_times (self, g_get_real_time () / 1000);
  arm_clock (self);
  return G_SOURCE_REMOVE;
}

/* The sidebar or the conversation came on screen (a folded leaflet shows
 * one at a time, a wide window both): time went by while hidden. */
static void
times_mapped_cb (NatterWindow *self)
{
  natter_window_refresh_times (self, g_get_real_time () / 1000);
  if (self->clock_id == 0)
    arm_clock (self);
}

static void
times_unmapped_cb (NatterWindow *self)
{
  if (!gtk_widget_get_mapped (GTK_WIDGET (self->sidebar)) &&
      !gtk_widget_get_mapped (GTK_WIDGET (self->conversation_view)))
    g_clear_handle_id (&self->clock_id, g_source_remove);
}

static void
natter_window_dispose (GObject *object)
{
  NatterWindow *self = NATTER_WINDOW (object);

  /* The client outlives the window (the application owns it): it must not
   * go on thinking a conversation is on screen, nor call into the window
   * while its children are torn down. */
  if (self->client != NULL)
    {
      natter_client_set_open_conversation (self->client, NULL);
      g_signal_handlers_disconnect_by_data (self->client, self);
      g_signal_handlers_disconnect_by_data (natter_client_get_incoming_requests (self->client), self);
      g_signal_handlers_disconnect_by_data (natter_client_get_conversations (self->client), self);
      self->client = NULL;
    }
  g_clear_object (&self->me_signals);
  g_clear_handle_id (&self->clock_id, g_source_remove);
  g_clear_object (&self->request_toast);
  g_clear_object (&self->error_toast);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_WINDOW);

  G_OBJECT_CLASS (natter_window_parent_class)->dispose (object);
}

static void
natter_window_finalize (GObject *object)
{
  NatterWindow *self = NATTER_WINDOW (object);

  g_free (self->presence);

  G_OBJECT_CLASS (natter_window_parent_class)->finalize (object);
}

static void
natter_window_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  NatterWindow *self = NATTER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_PRESENCE:
      g_value_set_string (value, self->presence);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_window_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  NatterWindow *self = NATTER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_PRESENCE:
      natter_window_set_presence (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_window_class_init (NatterWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = natter_window_dispose;
  object_class->finalize = natter_window_finalize;
  object_class->get_property = natter_window_get_property;
  object_class->set_property = natter_window_set_property;
  window_class->close_request = natter_window_close_request;

  /* Our own presence, as a string so that "win.presence" can be a
   * stateful property action the radio buttons of the menu follow. */
  properties[PROP_PRESENCE] =
    g_param_spec_string ("presence", NULL, NULL, "online",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (NATTER_TYPE_WELCOME_PAGE);
  g_type_ensure (NATTER_TYPE_SIDEBAR);
  g_type_ensure (NATTER_TYPE_CONVERSATION_VIEW);
  g_type_ensure (NATTER_TYPE_CONTACTS_PAGE);
  g_type_ensure (NATTER_TYPE_SEARCH_PAGE);
  g_type_ensure (NATTER_TYPE_USER_AVATAR);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, welcome_page);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, reconnect_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, reconnect_label);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, sidebar_title);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, me_avatar);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, me_name_label);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, me_username_label);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, status_entry);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, presence_popover);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, contacts_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, requests_badge);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, empty_status);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, conversation_view);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, contacts_page);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, search_page);
  gtk_widget_class_bind_template_callback (widget_class, conversation_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, signed_in_cb);
  gtk_widget_class_bind_template_callback (widget_class, is_active_cb);
  gtk_widget_class_bind_template_callback (widget_class, leaflet_folded_cb);
  gtk_widget_class_bind_template_callback (widget_class, status_activate_cb);

  natter_window_class_init_actions (widget_class);
}

/* A label asks for the width of its whole text, and the leaflet gives the
 * list pane all it asks: a long status text under our name widened the
 * list, squeezing the conversation, and it jumped back with "Connecting…".
 * AdwWindowTitle has no property for it, so its labels (plain GtkLabels
 * that ellipsize) get a cap here; the pane keeps its 300 pixels. */
static void
cap_title_width (GtkWidget *widget)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_LABEL (c))
        gtk_label_set_max_width_chars (GTK_LABEL (c), SIDEBAR_TITLE_MAX_CHARS);
      else
        cap_title_width (c);
    }
}

static void
natter_window_init (NatterWindow *self)
{
  self->presence = g_strdup ("online");
  gtk_widget_init_template (GTK_WIDGET (self));
  cap_title_width (GTK_WIDGET (self->sidebar_title));

  self->me_signals = g_signal_group_new (NATTER_TYPE_USER);
  g_signal_group_connect_swapped (self->me_signals, "notify::presence", G_CALLBACK (me_presence_cb), self);
  g_signal_group_connect_swapped (self->me_signals, "notify::display-name", G_CALLBACK (update_me), self);
  g_signal_group_connect_swapped (self->me_signals, "notify::status-text", G_CALLBACK (update_me), self);

  g_signal_connect_object (self->sidebar, "map", G_CALLBACK (times_mapped_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sidebar, "unmap", G_CALLBACK (times_unmapped_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->conversation_view, "map", G_CALLBACK (times_mapped_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->conversation_view, "unmap", G_CALLBACK (times_unmapped_cb), self, G_CONNECT_SWAPPED);

#ifdef DEVELOPMENT_BUILD
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif
}
