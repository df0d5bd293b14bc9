/* natter-welcome-page.c: the way in.
 *
 * Stages (a GtkStack of AdwStatusPages): "server" asks for the server's
 * addresses ("host[:port]", several for a server with several nodes,
 * natter-server-address.h) and connects; "certificate" shows an unknown self-signed certificate's
 * fingerprint and asks to trust it (trust on first use); "certificate-changed"
 * refuses a certificate that differs from the trusted one; "account" signs
 * in or creates an account; "busy" shows a spinner while waiting.
 *
 * "certificate-changed" shows the certificate trusted before and the new
 * one, and trusts the new one only once the user enters the fingerprint
 * they got from the server's operator. Both certificate stages also serve
 * a session that stopped at a new certificate (client state UNTRUSTED):
 * trusting it carries that session on; and a sign-in with a kept token
 * goes on with the token: no password is asked for either.
 *
 * Errors are put in plain words under the field they concern, and that
 * field is marked, so people know what to fix.
 */
#define G_LOG_DOMAIN "natter-welcome-page"

#include "config.h"

#include <adwaita.h>
#include <string.h>
#include <glib/gi18n.h>

#include "natter-error.h"
#include "natter-ui-util.h"
#include "natter-welcome-page.h"

struct _NatterWelcomePage
{
  GtkWidget          parent_instance;

  /* template widgets */
  GtkStack          *stage_stack;
  AdwEntryRow       *server_row;
  GtkLabel          *server_error;
  AdwStatusPage     *certificate_status;
  GtkLabel          *fingerprint_label;
  GtkWidget         *trust_button;
  GtkWidget         *changed_back_button;
  AdwStatusPage     *changed_status;
  GtkLabel          *changed_old_label;
  GtkLabel          *changed_fingerprint_label;
  AdwEntryRow       *changed_entry;
  GtkLabel          *changed_error;
  GtkWidget         *changed_trust_button;
  AdwStatusPage     *account_status;
  AdwEntryRow       *username_row;
  AdwEntryRow       *display_name_row;
  AdwPasswordEntryRow *password_row;
  GtkLabel          *username_error;
  GtkLabel          *display_name_error;
  GtkLabel          *password_error;
  GtkLabel          *form_error;
  GtkLabel          *keyring_notice;
  GtkButton         *submit_button;
  AdwStatusPage     *busy_status;

  /* borrowed references */
  NatterApplication *application;
  NatterClient      *client;

  /* owned */
  GCancellable      *cancellable;
  char              *server;      /* the addresses, as the field shows them */
  char              *fingerprint; /* the one shown, to be trusted */
  char              *pending_token; /* a kept sign-in, to use once trusted */
  char              *mode; /* "sign-in" or "register" */

  /* The server drops a connection that has not signed in within its login
   * timeout; a form filled slowly is sent after connecting again. */
  gboolean           submit_after_connect;
  gboolean           reconnected_for_submit;
};

G_DEFINE_FINAL_TYPE (NatterWelcomePage, natter_welcome_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_MODE,
  N_PROPS,
};

enum {
  SIGNAL_SIGNED_IN,
  N_SIGNALS,
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void connect_to_server (NatterWelcomePage *self);

const char *
natter_welcome_page_get_stage (NatterWelcomePage *self)
{
  g_return_val_if_fail (NATTER_IS_WELCOME_PAGE (self), NULL);
  return gtk_stack_get_visible_child_name (self->stage_stack);
}

static void
set_field_error (GtkWidget  *row,
                 GtkLabel   *label,
                 const char *text)
{
  gtk_label_set_label (label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL);
  if (row == NULL)
    return;
  if (text != NULL)
    gtk_widget_add_css_class (row, "error");
  else
    gtk_widget_remove_css_class (row, "error");
}

static void
clear_errors (NatterWelcomePage *self)
{
  set_field_error (GTK_WIDGET (self->server_row), self->server_error, NULL);
  set_field_error (GTK_WIDGET (self->username_row), self->username_error, NULL);
  set_field_error (GTK_WIDGET (self->display_name_row), self->display_name_error, NULL);
  set_field_error (GTK_WIDGET (self->password_row), self->password_error, NULL);
  set_field_error (NULL, self->form_error, NULL);
}

static void
show_busy (NatterWelcomePage *self,
           const char        *title)
{
  adw_status_page_set_title (self->busy_status, title);
  gtk_stack_set_visible_child_name (self->stage_stack, "busy");
}

/* The server in the words of its address in use: the one connected to,
 * or whose certificate is in question, or the first before any connect. */
static char *
server_label (NatterWelcomePage *self)
{
  const char *host = self->client != NULL ? natter_client_get_host (self->client) : NULL;
  guint16 port = self->client != NULL ? natter_client_get_port (self->client) : 0;
  g_autoptr(GPtrArray) list = NULL;

  if (host == NULL && (list = natter_server_address_parse_list (self->server, NULL)) != NULL)
    {
      const NatterServerAddress *first = g_ptr_array_index (list, 0);

      host = first->host;
      port = first->port;
    }
  if (host == NULL)
    return g_strdup (self->server);
  if (port == NATTER_DEFAULT_PORT)
    return g_strdup (host);
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

static void
show_server (NatterWelcomePage *self,
             const char        *error_text)
{
  gtk_stack_set_visible_child_name (self->stage_stack, "server");
  set_field_error (GTK_WIDGET (self->server_row), self->server_error, error_text);
  gtk_widget_grab_focus (GTK_WIDGET (self->server_row));
}

/* The first field of the form still empty, or the username's: where
 * typing should go. */
static GtkWidget *
first_empty_field (NatterWelcomePage *self)
{
  GtkWidget *fields[] = {
    GTK_WIDGET (self->username_row),
    GTK_WIDGET (self->display_name_row),
    GTK_WIDGET (self->password_row),
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (gtk_widget_get_visible (fields[i]) &&
        *gtk_editable_get_text (GTK_EDITABLE (fields[i])) == '\0')
      return fields[i];
  return fields[0];
}

static void
update_mode (NatterWelcomePage *self)
{
  gboolean registering = g_strcmp0 (self->mode, "register") == 0;
  g_autofree char *server = server_label (self);
  g_autofree char *title = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  GtkWidget *display_name = GTK_WIDGET (self->display_name_row);

  gtk_widget_set_visible (display_name, registering);
  /* Hiding the display name with the focus in it would leave the focus
   * nowhere, and what is typed next would be lost. */
  if (!registering && focus != NULL &&
      (focus == display_name || gtk_widget_is_ancestor (focus, display_name)))
    gtk_widget_grab_focus (first_empty_field (self));
  gtk_button_set_label (self->submit_button, registering ? _("_Create Account") : _("_Sign In"));
  if (registering)
    /* Translators: %s is a server such as chat.example.org. */
    title = g_strdup_printf (_("Create an Account on %s"), server);
  else
    /* Translators: %s is a server such as chat.example.org. */
    title = g_strdup_printf (_("Sign In to %s"), server);
  adw_status_page_set_title (self->account_status, title);
}

static void
show_account (NatterWelcomePage *self)
{
  if (!natter_client_get_registration_open (self->client) &&
      g_strcmp0 (self->mode, "register") == 0)
    {
      g_free (self->mode);
      self->mode = g_strdup ("sign-in");
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
    }

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "welcome.mode",
                                 natter_client_get_registration_open (self->client));
  update_mode (self);
  gtk_stack_set_visible_child_name (self->stage_stack, "account");
  gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
}

/* ---- Connecting ---------------------------------------------------------- */

/* "AB:CD:…" (32 pairs) as four lines of two blocks of four pairs, so two
 * of them can be compared block by block, and it never wraps at a random
 * colon. */
static char *
format_fingerprint (const char *fingerprint)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint pairs = 0;

  for (const char *p = fingerprint; p != NULL && *p != '\0'; p++)
    {
      if (*p != ':')
        g_string_append_c (out, *p);
      else if (++pairs % 8 == 0)
        g_string_append_c (out, '\n');
      else if (pairs % 4 == 0)
        g_string_append_c (out, ' ');
      else
        g_string_append_c (out, ':');
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The hex digits of @text, upper case: a fingerprint as pasted from a mail
 * or from `openssl x509 -fingerprint` (colons, spaces, line breaks drop
 * out; so does a "sha256 Fingerprint=" prefix, cut at its '='). */
static char *
fingerprint_digits (const char *text)
{
  g_autoptr(GString) out = g_string_new (NULL);
  const char *p = text != NULL ? strchr (text, '=') : NULL;

  for (p = p != NULL ? p + 1 : text; p != NULL && *p != '\0'; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (out, g_ascii_toupper (*p));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Trust New Identity is possible only once the fingerprint typed or
 * pasted is the one the server presents: the deliberate step that keeps
 * anyone from clicking through a warning about an interception. */
static void
update_changed_match (NatterWelcomePage *self)
{
  g_autofree char *typed = fingerprint_digits (gtk_editable_get_text (GTK_EDITABLE (self->changed_entry)));
  g_autofree char *expected = fingerprint_digits (self->fingerprint);
  g_autofree char *old = fingerprint_digits (natter_client_get_trusted_fingerprint (self->client));
  gboolean matches = *expected != '\0' && g_str_equal (typed, expected);
  const char *error = NULL;

  if (matches || strlen (typed) < strlen (expected))
    error = NULL;
  else if (g_str_equal (typed, old))
    error = _("That is the fingerprint trusted before. Enter the new one the server’s operator gave you.");
  else
    error = _("That is not the fingerprint the server presents now. Do not trust it: ask the server’s operator.");

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "welcome.trust-new", matches);
  set_field_error (GTK_WIDGET (self->changed_entry), self->changed_error, error);
}

static void
changed_entry_changed_cb (NatterWelcomePage *self)
{
  update_changed_match (self);
}

static void
changed_entry_activated_cb (NatterWelcomePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "welcome.trust-new", NULL);
}

/* A selectable label selects all of itself when focus passes through it,
 * as it does when its stage comes on screen: a fingerprint that looks
 * highlighted for no reason. */
static void
unselect_fingerprints (NatterWelcomePage *self)
{
  gtk_label_select_region (self->fingerprint_label, 0, 0);
  gtk_label_select_region (self->changed_old_label, 0, 0);
  gtk_label_select_region (self->changed_fingerprint_label, 0, 0);
}

static void
show_connect_error (NatterWelcomePage *self,
                    const GError      *error)
{
  g_autofree char *server = server_label (self);
  const char *fingerprint = natter_client_get_peer_fingerprint (self->client);

  g_free (self->fingerprint);
  self->fingerprint = g_strdup (fingerprint);

  if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN))
    {
      g_autofree char *description =
        /* Translators: %s is a server such as chat.example.org. */
        g_strdup_printf (_("Natter has not seen the certificate of %s before. Compare its fingerprint with the one the server’s operator gave you, and trust it only if they match."), server);

      g_autofree char *shown = format_fingerprint (fingerprint);

      adw_status_page_set_description (self->certificate_status, description);
      gtk_label_set_label (self->fingerprint_label, shown);
      gtk_stack_set_visible_child_name (self->stage_stack, "certificate");
      gtk_widget_grab_focus (self->trust_button);
      unselect_fingerprints (self);
      return;
    }

  if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED))
    {
      g_autofree char *description =
        /* Translators: %s is a server such as chat.example.org. */
        g_strdup_printf (_("The certificate of %s is not the one you trusted before: someone may be intercepting the connection. Trust the new one only if the server’s operator told you they replaced it, by entering the new fingerprint they gave you."), server);

      g_autofree char *shown = format_fingerprint (fingerprint);
      g_autofree char *old = format_fingerprint (natter_client_get_trusted_fingerprint (self->client));

      adw_status_page_set_description (self->changed_status, description);
      gtk_label_set_label (self->changed_old_label, old);
      gtk_label_set_label (self->changed_fingerprint_label, shown);
      gtk_editable_set_text (GTK_EDITABLE (self->changed_entry), "");
      update_changed_match (self);
      gtk_stack_set_visible_child_name (self->stage_stack, "certificate-changed");
      gtk_widget_grab_focus (GTK_WIDGET (self->changed_entry));
      unselect_fingerprints (self);
      return;
    }

  if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_UNREACHABLE))
    {
      g_autofree char *text = NULL;

      if (strchr (self->server, ',') != NULL)
        text = g_strdup (_("None of the addresses can be reached. Check them and your network connection."));
      else
        /* Translators: %s is a server such as chat.example.org. */
        text = g_strdup_printf (_("Cannot reach %s. Check the address and your network connection."), server);
      show_server (self, text);
      return;
    }

  {
    g_autofree char *text = natter_describe_error (error);
    show_server (self, text);
  }
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterWelcomePage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (natter_client_connect_finish (NATTER_CLIENT (object), result, &error))
    {
      /* Remembered once it answered, not when Connect was pressed: a typo
       * that never connected would otherwise be the server of the next
       * start, and its remembered sign-in (kept per server) be lost. */
      natter_application_set_server (self->application, self->server, NULL);
      show_account (self);
      if (self->submit_after_connect)
        {
          self->submit_after_connect = FALSE;
          self->reconnected_for_submit = TRUE;
          gtk_widget_activate_action (GTK_WIDGET (self), "welcome.submit", NULL);
          self->reconnected_for_submit = FALSE;
        }
    }
  else
    {
      self->submit_after_connect = FALSE;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_connect_error (self, error);
    }
}

static void
connect_to_server (NatterWelcomePage *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  clear_errors (self);
  show_busy (self, _("Connecting…"));
  natter_client_connect_server_async (self->client, self->server, self->cancellable,
                                      connect_cb, g_object_ref (self));
}

/* Reads the addresses from the server row ("host", "host:port",
 * "[v6]:port", several separated by commas); the parser's error, which
 * names the entry that is wrong, goes under the field. */
static gboolean
parse_server (NatterWelcomePage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = natter_server_address_parse_list (gtk_editable_get_text (GTK_EDITABLE (self->server_row)),
                                                                &error);

  if (list == NULL)
    {
      show_server (self, error->message);
      return FALSE;
    }

  g_free (self->server);
  self->server = natter_server_address_list_to_string (list);
  return TRUE;
}

static void
connect_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (widget);

  if (parse_server (self))
    connect_to_server (self);
}

static void signed_in          (NatterWelcomePage *self);
static void connect_with_token (NatterWelcomePage *self,
                                char              *token);

/* Remembers the certificate shown and goes on with what it interrupted: a
 * session (the client kept it), a sign-in with a kept token, or a
 * connect. */
static void
trust_shown_fingerprint (NatterWelcomePage *self)
{
  g_autoptr(GError) error = NULL;
  gboolean resume = natter_client_get_state (self->client) == NATTER_CLIENT_STATE_UNTRUSTED;

  if (self->fingerprint == NULL)
    {
      show_server (self, NULL);
      return;
    }

  /* For the address that presented it: each is trusted on its own. */
  if (!natter_client_trust_fingerprint (self->client, natter_client_get_host (self->client),
                                        natter_client_get_port (self->client), self->fingerprint, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not remember the certificate: %s"), error->message);
      show_server (self, text);
      return;
    }

  if (resume)
    {
      natter_client_resume (self->client);
      signed_in (self);
    }
  else if (self->pending_token != NULL)
    connect_with_token (self, g_steal_pointer (&self->pending_token));
  else
    connect_to_server (self);
}

static void
trust_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  trust_shown_fingerprint (NATTER_WELCOME_PAGE (widget));
}

static void
trust_new_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (widget);
  g_autofree char *typed = fingerprint_digits (gtk_editable_get_text (GTK_EDITABLE (self->changed_entry)));
  g_autofree char *expected = fingerprint_digits (self->fingerprint);

  /* Disabled until they match, but Enter in the entry comes here too. */
  if (*expected == '\0' || !g_str_equal (typed, expected))
    {
      update_changed_match (self);
      return;
    }
  trust_shown_fingerprint (self);
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (widget);

  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->pending_token, g_free);
  natter_client_disconnect (self->client);
  clear_errors (self);
  show_server (self, NULL);
}

/* ---- Signing in ---------------------------------------------------------- */

static void
signed_in (NatterWelcomePage *self)
{
  g_clear_pointer (&self->pending_token, g_free);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  /* The account exists now: when this page shows again (after signing
   * out) it is to sign in to it, not to create it a second time. */
  gtk_editable_set_text (GTK_EDITABLE (self->display_name_row), "");
  g_object_set (self, "mode", "sign-in", NULL);
  clear_errors (self);
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0);
}

static void
show_sign_in_error (NatterWelcomePage *self,
                    const GError      *error)
{
  g_autofree char *text = natter_describe_error (error);

  show_account (self);

  if (error->domain == NATTER_ERROR)
    {
      switch ((NatterErrorCode) error->code)
        {
        case NATTER_ERROR_USERNAME_TAKEN:
        case NATTER_ERROR_INVALID_USERNAME:
          set_field_error (GTK_WIDGET (self->username_row), self->username_error, text);
          gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
          return;
        case NATTER_ERROR_WEAK_PASSWORD:
        case NATTER_ERROR_AUTH_FAILED:
          set_field_error (GTK_WIDGET (self->password_row), self->password_error, text);
          gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
          return;
        case NATTER_ERROR_INVALID_ARGUMENT:
          if (gtk_widget_get_visible (GTK_WIDGET (self->display_name_row)))
            {
              set_field_error (GTK_WIDGET (self->display_name_row), self->display_name_error,
                               _("The display name is 1 to 64 characters, without control characters."));
              return;
            }
          break;
        default:
          break;
        }
    }
  else if (error->domain == NATTER_CLIENT_ERROR &&
           error->code != NATTER_CLIENT_ERROR_PROTOCOL)
    {
      g_autofree char *server = server_label (self);
      g_autofree char *unreachable =
        /* Translators: %s is a server such as chat.example.org. */
        g_strdup_printf (_("Lost the connection to %s. Check your network connection and try again."), server);
      show_server (self, unreachable);
      return;
    }

  set_field_error (NULL, self->form_error, text);
}

static void
sign_in_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterWelcomePage) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_strcmp0 (self->mode, "register") == 0)
    ok = natter_client_register_finish (NATTER_CLIENT (object), result, &error);
  else
    ok = natter_client_login_finish (NATTER_CLIENT (object), result, &error);

  if (ok)
    signed_in (self);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_sign_in_error (self, error);
}

static void
submit_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *username = NULL;
  g_autofree char *display_name = NULL;
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  gboolean registering = g_strcmp0 (self->mode, "register") == 0;

  clear_errors (self);

  /* Check what can be checked here first, so the common mistakes get an
   * answer at once and next to the field. */
  username = natter_username_normalize (g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->username_row)))), &error);
  if (username == NULL)
    {
      g_autofree char *text = natter_describe_error (error);
      set_field_error (GTK_WIDGET (self->username_row), self->username_error, text);
      gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
      return;
    }

  if (registering)
    {
      display_name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->display_name_row))));
      if (*display_name == '\0')
        g_clear_pointer (&display_name, g_free);
      else if (!natter_display_name_is_valid (display_name))
        {
          set_field_error (GTK_WIDGET (self->display_name_row), self->display_name_error,
                           _("The display name is 1 to 64 characters, without control characters."));
          return;
        }

      g_clear_error (&error);
      if (!natter_password_check (password, &error))
        {
          g_autofree char *text = natter_describe_error (error);
          set_field_error (GTK_WIDGET (self->password_row), self->password_error, text);
          gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
          return;
        }
    }
  else if (*password == '\0')
    {
      set_field_error (GTK_WIDGET (self->password_row), self->password_error,
                       _("Enter your password."));
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }

  /* The connection may have dropped while the person was typing (the
   * server allows a while to sign in, not forever): connect again and
   * send the form then, once. */
  if (natter_client_get_state (self->client) != NATTER_CLIENT_STATE_CONNECTED &&
      !self->reconnected_for_submit)
    {
      self->submit_after_connect = TRUE;
      connect_to_server (self);
      return;
    }
  if (natter_client_get_state (self->client) != NATTER_CLIENT_STATE_CONNECTED)
    {
      g_autofree char *server = server_label (self);
      g_autofree char *text = g_strdup_printf (_("Not connected to %s any more. Connect again."), server);
      show_server (self, text);
      return;
    }

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  if (registering)
    {
      show_busy (self, _("Creating Your Account…"));
      natter_client_register_async (self->client, username, password, display_name,
                                    self->cancellable, sign_in_cb, g_object_ref (self));
    }
  else
    {
      show_busy (self, _("Signing In…"));
      natter_client_login_async (self->client, username, password,
                                 self->cancellable, sign_in_cb, g_object_ref (self));
    }
}

/* ---- Stored token -------------------------------------------------------- */

typedef struct {
  NatterWelcomePage *self;
  char              *token;
} TokenLogin;

static void
token_login_free (TokenLogin *tl)
{
  g_clear_object (&tl->self);
  g_clear_pointer (&tl->token, g_free);
  g_free (tl);
}

static void
token_login_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(NatterWelcomePage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (natter_client_login_token_finish (NATTER_CLIENT (object), result, &error))
    {
      signed_in (self);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* An expired or revoked token is useless: forget it and ask. */
  if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED))
    natter_application_forget_token (self->application);

  if (natter_client_get_state (self->client) == NATTER_CLIENT_STATE_CONNECTED)
    {
      show_account (self);
      if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED))
        set_field_error (NULL, self->form_error, _("Your session has ended. Sign in again."));
    }
  else
    show_sign_in_error (self, error);
}

static void
token_connect_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  TokenLogin *tl = user_data;
  NatterWelcomePage *self = tl->self;
  g_autoptr(GError) error = NULL;

  if (!natter_client_connect_finish (NATTER_CLIENT (object), result, &error))
    {
      /* A certificate to decide about: once trusted, the kept sign-in
       * goes on (no password). */
      if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED) ||
          g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN))
        {
          g_free (self->pending_token);
          self->pending_token = g_steal_pointer (&tl->token);
        }
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_connect_error (self, error);
      token_login_free (tl);
      return;
    }

  show_busy (self, _("Signing In…"));
  natter_client_login_token_async (self->client, tl->token, self->cancellable,
                                   token_login_cb, g_object_ref (self));
  token_login_free (tl);
}

static void
lookup_token_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(NatterWelcomePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *username = NULL;
  g_autofree char *token = NULL;
  if (!natter_secret_lookup_token_finish (result, &username, &token, &error))
    {
      /* The window went away (or another start replaced this one). */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* No Secret Service: the app works, but the user must know why it
       * asks for the password at every start. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_message ("No keyring: %s", error->message);
          gtk_widget_set_visible (GTK_WIDGET (self->keyring_notice), TRUE);
        }
      show_server (self, NULL);
      return;
    }

  /* Prefill the name so that a failed token sign-in only needs the password. */
  gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
  connect_with_token (self, g_steal_pointer (&token));
}

/* Connects and signs in with @token (transfer full). */
static void
connect_with_token (NatterWelcomePage *self,
                    char              *token)
{
  TokenLogin *tl = g_new0 (TokenLogin, 1);

  tl->self = g_object_ref (self);
  tl->token = token;
  show_busy (self, _("Connecting…"));
  natter_client_connect_server_async (self->client, self->server, self->cancellable,
                                      token_connect_cb, tl);
}

void
natter_welcome_page_show_untrusted (NatterWelcomePage *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (NATTER_IS_WELCOME_PAGE (self));

  /* In the words of the server the session is on. */
  {
    char *server = natter_client_dup_server (self->client);

    if (server != NULL)
      {
        g_free (self->server);
        self->server = server;
      }
  }
  g_cancellable_cancel (self->cancellable);

  error = g_error_new_literal (NATTER_CLIENT_ERROR,
                               natter_client_get_trusted_fingerprint (self->client) != NULL ?
                               NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED :
                               NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN,
                               "");
  show_connect_error (self, error);
}

void
natter_welcome_page_start (NatterWelcomePage *self)
{
  g_autofree char *server = NULL;

  g_return_if_fail (NATTER_IS_WELCOME_PAGE (self));
  g_return_if_fail (self->application != NULL);

  if (!natter_application_get_use_secret_service (self->application))
    {
      show_server (self, NULL);
      return;
    }

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  show_busy (self, _("Signing In…"));
  server = natter_application_dup_server_key (self->application);
  natter_secret_lookup_token_async (server, self->cancellable, lookup_token_cb, g_object_ref (self));
}

void
natter_welcome_page_signed_out (NatterWelcomePage *self)
{
  g_return_if_fail (NATTER_IS_WELCOME_PAGE (self));

  if (natter_client_get_state (self->client) == NATTER_CLIENT_STATE_CONNECTED)
    show_account (self);
  else
    show_server (self, NULL);
}

void
natter_welcome_page_set_application (NatterWelcomePage *self,
                                     NatterApplication *application)
{
  g_return_if_fail (NATTER_IS_WELCOME_PAGE (self));

  self->application = application;
  self->client = natter_application_get_client (application);

  g_free (self->server);
  self->server = natter_application_dup_server (application);
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), self->server);
}

static void
server_activated_cb (NatterWelcomePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "welcome.connect", NULL);
}

static void
field_activated_cb (NatterWelcomePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "welcome.submit", NULL);
}

/* ---- GObject ------------------------------------------------------------- */

static void
natter_welcome_page_dispose (GObject *object)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_WELCOME_PAGE);
  natter_widget_unparent_children (GTK_WIDGET (self));

  G_OBJECT_CLASS (natter_welcome_page_parent_class)->dispose (object);
}

static void
natter_welcome_page_finalize (GObject *object)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (object);

  g_free (self->server);
  g_free (self->mode);
  g_free (self->fingerprint);
  g_free (self->pending_token);

  G_OBJECT_CLASS (natter_welcome_page_parent_class)->finalize (object);
}

static void
natter_welcome_page_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (object);

  switch (prop_id)
    {
    case PROP_MODE:
      g_value_set_string (value, self->mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_welcome_page_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  NatterWelcomePage *self = NATTER_WELCOME_PAGE (object);
  const char *mode;

  switch (prop_id)
    {
    case PROP_MODE:
      mode = g_value_get_string (value);
      if (g_strcmp0 (mode, "register") != 0)
        mode = "sign-in";
      if (g_strcmp0 (self->mode, mode) != 0)
        {
          g_free (self->mode);
          self->mode = g_strdup (mode);
          clear_errors (self);
          update_mode (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_welcome_page_class_init (NatterWelcomePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_welcome_page_dispose;
  object_class->finalize = natter_welcome_page_finalize;
  object_class->get_property = natter_welcome_page_get_property;
  object_class->set_property = natter_welcome_page_set_property;

  properties[PROP_MODE] =
    g_param_spec_string ("mode", NULL, NULL, "sign-in",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_SIGNED_IN] =
    g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-welcome-page.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, stage_stack);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, server_row);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, server_error);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, certificate_status);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, trust_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, changed_back_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, changed_status);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, changed_old_label);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, changed_fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, changed_entry);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, changed_error);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, changed_trust_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, account_status);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, username_row);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, display_name_row);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, password_row);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, username_error);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, display_name_error);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, password_error);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, form_error);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, keyring_notice);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, submit_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWelcomePage, busy_status);

  gtk_widget_class_bind_template_callback (widget_class, server_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, field_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, changed_entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, changed_entry_activated_cb);

  gtk_widget_class_install_action (widget_class, "welcome.connect", NULL, connect_action);
  gtk_widget_class_install_action (widget_class, "welcome.trust", NULL, trust_action);
  gtk_widget_class_install_action (widget_class, "welcome.trust-new", NULL, trust_new_action);
  gtk_widget_class_install_action (widget_class, "welcome.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "welcome.submit", NULL, submit_action);
  gtk_widget_class_install_property_action (widget_class, "welcome.mode", "mode");
}

static void
natter_welcome_page_init (NatterWelcomePage *self)
{
  self->mode = g_strdup ("sign-in");
  self->server = g_strdup_printf ("localhost:%u", NATTER_DEFAULT_PORT);
  gtk_widget_init_template (GTK_WIDGET (self));
  clear_errors (self);
  update_mode (self);
}
