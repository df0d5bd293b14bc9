/* natter-contacts-page.c: the people page.
 *
 * Four boxed lists bound to the client's live models: incoming requests
 * (accept / decline), requests we sent (cancel), contacts (message /
 * remove, block), and the results of a user search (add / message /
 * block). Each row's
 * buttons are actionable with the username as target, so the page has one
 * action per verb instead of per-row callbacks.
 */
#define G_LOG_DOMAIN "natter-contacts-page"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "natter-contacts-page.h"
#include "natter-ui-util.h"

typedef enum {
  ROW_CONTACT,
  ROW_INCOMING,
  ROW_OUTGOING,
  ROW_SEARCH,
} RowKind;

struct _NatterContactsPage
{
  NatterPage    parent_instance;

  /* template widgets */
  GtkSearchEntry *search_entry;
  GtkWidget    *search_group;
  GtkListBox   *search_list;
  GtkLabel     *search_status;
  GtkWidget    *incoming_group;
  GtkListBox   *incoming_list;
  GtkWidget    *outgoing_group;
  GtkListBox   *outgoing_list;
  GtkListBox   *contacts_list;

  /* borrowed references */
  NatterClient *client;

  /* owned references */
  GCancellable *search_cancellable;
  GListModel   *search_results;
  AdwToast     *asked_toast;    /* "Asked … to be your contact", until dismissed */
  char         *asked_username; /* whom asked_toast is about */
};

G_DEFINE_FINAL_TYPE (NatterContactsPage, natter_contacts_page, NATTER_TYPE_PAGE)

/* ---- Rows ---------------------------------------------------------------- */

static GtkWidget *
make_button (const char *label,
             const char *icon_name,
             const char *action,
             const char *username,
             const char *css_class)
{
  GtkWidget *button = gtk_button_new ();

  if (icon_name != NULL)
    {
      gtk_button_set_icon_name (GTK_BUTTON (button), icon_name);
      gtk_widget_set_tooltip_text (button, label);
      /* Icon-only: screen readers need the words. */
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      gtk_widget_add_css_class (button, "flat");
    }
  else
    {
      gtk_button_set_label (GTK_BUTTON (button), label);
      gtk_button_set_use_underline (GTK_BUTTON (button), TRUE);
    }
  if (css_class != NULL)
    gtk_widget_add_css_class (button, css_class);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", username);
  return button;
}

static gboolean
model_has (GListModel *model,
           gpointer    item)
{
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GObject) other = g_list_model_get_item (model, i);

      if (other == item)
        return TRUE;
    }
  return FALSE;
}

static GtkWidget *
create_row (NatterContactsPage *self,
            NatterUser         *user,
            RowKind             kind)
{
  const char *username = natter_user_get_username (user);
  NatterUser *me = self->client ? natter_client_get_me (self->client) : NULL;
  GtkWidget *row = natter_user_row_new (user, 36);

  switch (kind)
    {
    case ROW_INCOMING:
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 make_button (_("_Decline"), NULL, "contacts.decline", username, NULL));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 make_button (_("_Accept"), NULL, "contacts.accept", username, "suggested-action"));
      break;

    case ROW_OUTGOING:
      {
        GtkWidget *label = gtk_label_new (_("Waiting for an answer"));
        gtk_widget_add_css_class (label, "dim-label");
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
        adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                   make_button (_("_Cancel Request"), NULL, "contacts.cancel-request",
                                                username, NULL));
      }
      break;

    case ROW_CONTACT:
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 make_button (_("Send Message"), "mail-message-new-symbolic",
                                              "contacts.message", username, NULL));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 make_button (_("Remove Contact"), "user-trash-symbolic",
                                              "contacts.remove", username, NULL));
      if (natter_client_get_accounts (self->client))
        adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                   make_button (_("Block"), "action-unavailable-symbolic",
                                                "contacts.block", username, NULL));
      break;

    case ROW_SEARCH:
    default:
      if (user != me)
        {
          GtkWidget *label = NULL;

          adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                     make_button (_("Send Message"), "mail-message-new-symbolic",
                                                  "contacts.message", username, NULL));

          /* Users (interned by the client) already known need no "Add". */
          if (model_has (natter_client_get_contacts (self->client), user))
            label = gtk_label_new (_("Contact"));
          else if (model_has (natter_client_get_outgoing_requests (self->client), user))
            label = gtk_label_new (_("Asked"));
          else if (model_has (natter_client_get_incoming_requests (self->client), user))
            adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                       make_button (_("_Accept"), NULL, "contacts.accept", username,
                                                    "suggested-action"));
          else
            adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                       make_button (_("_Add"), NULL, "contacts.request", username, NULL));

          if (label != NULL)
            {
              gtk_widget_add_css_class (label, "dim-label");
              adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
            }
          if (natter_client_get_accounts (self->client))
            adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                       make_button (_("Block"), "action-unavailable-symbolic",
                                                    "contacts.block", username, NULL));
        }
      break;
    }

  return row;
}

static GtkWidget *
create_contact_row (gpointer item, gpointer user_data)
{
  return create_row (user_data, item, ROW_CONTACT);
}

static GtkWidget *
create_incoming_row (gpointer item, gpointer user_data)
{
  return create_row (user_data, item, ROW_INCOMING);
}

static GtkWidget *
create_outgoing_row (gpointer item, gpointer user_data)
{
  return create_row (user_data, item, ROW_OUTGOING);
}

static GtkWidget *
create_search_row (gpointer item, gpointer user_data)
{
  return create_row (user_data, item, ROW_SEARCH);
}

static void update_groups (NatterContactsPage *self);

/* A search row's suffix says what the user is to us (contact, asked, asking
 * us); made again whenever one of those lists changes, so that "Add" turns
 * into "Asked" the moment the request is sent. */
static void
refresh_search_rows (NatterContactsPage *self)
{
  if (self->search_results != NULL)
    gtk_list_box_bind_model (self->search_list, self->search_results, create_search_row, self, NULL);
}

static void
relations_changed (NatterContactsPage *self)
{
  update_groups (self);
  refresh_search_rows (self);
}

static void
update_groups (NatterContactsPage *self)
{
  gtk_widget_set_visible (self->incoming_group,
                          g_list_model_get_n_items (natter_client_get_incoming_requests (self->client)) > 0);
  gtk_widget_set_visible (self->outgoing_group,
                          g_list_model_get_n_items (natter_client_get_outgoing_requests (self->client)) > 0);
}

/* ---- Actions ------------------------------------------------------------- */

typedef void (*ContactOp) (NatterClient *, const char *, GCancellable *, GAsyncReadyCallback, gpointer);
typedef gboolean (*ContactFinish) (NatterClient *, GAsyncResult *, GError **);
typedef void (*ContactDone) (NatterContactsPage *, const char *);

typedef struct {
  NatterContactsPage *self;
  ContactFinish       finish;
  ContactDone         done;     /* on success, or NULL */
  char               *username;
} OpData;

static void
op_done_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  OpData *data = user_data;
  g_autoptr(GError) error = NULL;

  if (!data->finish (NATTER_CLIENT (object), result, &error))
    {
      g_autofree char *text = natter_describe_error (error);
      gtk_widget_activate_action (GTK_WIDGET (data->self), "win.toast", "s", text);
    }
  else if (data->done != NULL)
    data->done (data->self, data->username);

  g_object_unref (data->self);
  g_free (data->username);
  g_free (data);
}

static void
run_op (NatterContactsPage *self,
        ContactOp           op,
        ContactFinish       finish,
        const char         *username,
        ContactDone         done)
{
  OpData *data = g_new0 (OpData, 1);

  data->self = g_object_ref (self);
  data->finish = finish;
  data->done = done;
  data->username = g_strdup (username);
  op (self->client, username, NULL, op_done_cb, data);
}

/* Whom @username is to the person: their display name when known, as the
 * toast of a request to us says it. */
static const char *
title_of (NatterContactsPage *self,
          const char         *username)
{
  NatterUser *user = natter_client_lookup_user (self->client, username);

  return user != NULL ? natter_user_title (user) : username;
}

static void
asked_toast_dismissed_cb (NatterContactsPage *self,
                          AdwToast           *toast)
{
  if (self->asked_toast == toast)
    {
      g_clear_object (&self->asked_toast);
      g_clear_pointer (&self->asked_username, g_free);
    }
}

/* The toast is kept, so that cancelling the request takes it back: it
 * would say the opposite of what is true. A newer one takes its place. */
static void
asked_done (NatterContactsPage *self,
            const char         *username)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  g_autofree char *text = NULL;

  /* Dismissing clears the slot, through the signal. */
  if (self->asked_toast != NULL)
    adw_toast_dismiss (self->asked_toast);
  if (overlay == NULL)
    return;

  /* Translators: %s is a display name. */
  text = g_strdup_printf (_("Asked %s to be your contact"), title_of (self, username));
  self->asked_toast = adw_toast_new (text);
  self->asked_username = g_strdup (username);
  g_signal_connect_object (self->asked_toast, "dismissed", G_CALLBACK (asked_toast_dismissed_cb),
                           self, G_CONNECT_SWAPPED);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), g_object_ref (self->asked_toast));
}

static void
cancelled_done (NatterContactsPage *self,
                const char         *username)
{
  g_autofree char *text = NULL;

  if (self->asked_toast != NULL && g_strcmp0 (self->asked_username, username) == 0)
    adw_toast_dismiss (self->asked_toast);
  /* Translators: %s is a display name. */
  text = g_strdup_printf (_("Request to %s cancelled"), title_of (self, username));
  gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
}

static void
accept_action (GtkWidget *widget, const char *name, GVariant *param)
{
  run_op (NATTER_CONTACTS_PAGE (widget), natter_client_contact_accept_async,
          natter_client_contact_accept_finish, g_variant_get_string (param, NULL), NULL);
}

static void
decline_action (GtkWidget *widget, const char *name, GVariant *param)
{
  run_op (NATTER_CONTACTS_PAGE (widget), natter_client_contact_decline_async,
          natter_client_contact_decline_finish, g_variant_get_string (param, NULL), NULL);
}

/* Withdrawing our own request is contact_remove; the server tells both
 * sides, so the row goes from every list (ours on each device, theirs)
 * by the contact event, not here. */
static void
cancel_request_action (GtkWidget *widget, const char *name, GVariant *param)
{
  run_op (NATTER_CONTACTS_PAGE (widget), natter_client_contact_remove_async,
          natter_client_contact_remove_finish, g_variant_get_string (param, NULL), cancelled_done);
}

static void
request_action (GtkWidget *widget, const char *name, GVariant *param)
{
  run_op (NATTER_CONTACTS_PAGE (widget), natter_client_contact_request_async,
          natter_client_contact_request_finish, g_variant_get_string (param, NULL), asked_done);
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  NatterContactsPage *self = user_data;
  const char *username = g_object_get_data (G_OBJECT (dialog), "username");

  if (g_strcmp0 (response, "remove") == 0)
    run_op (self, natter_client_contact_remove_async,
            natter_client_contact_remove_finish, username, NULL);
}

static void
remove_action (GtkWidget *widget, const char *name, GVariant *param)
{
  NatterContactsPage *self = NATTER_CONTACTS_PAGE (widget);
  const char *username = g_variant_get_string (param, NULL);
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  /* Translators: %s is a display name. */
  heading = g_strdup_printf (_("Remove %s?"), title_of (self, username));
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), heading,
                                   _("You will no longer see each other’s presence. Your conversation stays."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "username", g_strdup (username), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
blocked_done (NatterContactsPage *self,
              const char         *username)
{
  g_autofree char *text = NULL;

  /* Translators: %s is a display name. */
  text = g_strdup_printf (_("%s is blocked"), title_of (self, username));
  gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
}

static void
block_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   gpointer          user_data)
{
  NatterContactsPage *self = user_data;
  const char *username = g_object_get_data (G_OBJECT (dialog), "username");

  if (g_strcmp0 (response, "block") == 0)
    run_op (self, natter_client_block_user_async, natter_client_block_user_finish, username, blocked_done);
}

/* Blocking (docs/protocol.md, "Blocking"), confirmed first; unblocking
 * is the Account page's. */
static void
block_action (GtkWidget *widget, const char *name, GVariant *param)
{
  NatterContactsPage *self = NATTER_CONTACTS_PAGE (widget);
  const char *username = g_variant_get_string (param, NULL);
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  /* Translators: %s is a display name. */
  heading = g_strdup_printf (_("Block %s?"), title_of (self, username));
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), heading,
                                   _("Their direct messages, contact requests and typing will no longer reach you, "
                                     "and they will not see when you are online. They are not told. "
                                     "You can unblock them on the Account page."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "block", _("_Block"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "block",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "username", g_strdup (username), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (block_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
message_action (GtkWidget *widget, const char *name, GVariant *param)
{
  g_autofree char *address = g_strdup_printf ("@%s", g_variant_get_string (param, NULL));

  gtk_widget_activate_action (widget, "win.open-conversation", "s", address);
}

/* ---- Search -------------------------------------------------------------- */

static void
search_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(NatterContactsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) users = NULL;

  users = natter_client_user_search_finish (NATTER_CLIENT (object), result, &error);
  if (users == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = natter_describe_error (error);
          gtk_label_set_label (self->search_status, text);
          gtk_widget_set_visible (GTK_WIDGET (self->search_status), TRUE);
        }
      return;
    }

  g_set_object (&self->search_results, users);
  gtk_list_box_bind_model (self->search_list, users, create_search_row, self, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->search_list), g_list_model_get_n_items (users) > 0);
  gtk_label_set_label (self->search_status, _("No one found. Try another name."));
  gtk_widget_set_visible (GTK_WIDGET (self->search_status), g_list_model_get_n_items (users) == 0);
}

static void
search_changed_cb (NatterContactsPage *self)
{
  g_autofree char *query = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))));

  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);

  if (*query == '\0' || self->client == NULL)
    {
      gtk_list_box_bind_model (self->search_list, NULL, NULL, NULL, NULL);
      g_clear_object (&self->search_results);
      gtk_widget_set_visible (GTK_WIDGET (self->search_list), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->search_status), FALSE);
      return;
    }

  self->search_cancellable = g_cancellable_new ();
  natter_client_user_search_async (self->client, query, self->search_cancellable,
                                   search_cb, g_object_ref (self));
}

/* ---- Public -------------------------------------------------------------- */

void
natter_contacts_page_set_client (NatterContactsPage *self,
                                 NatterClient       *client)
{
  g_return_if_fail (NATTER_IS_CONTACTS_PAGE (self));
  g_return_if_fail (self->client == NULL);

  self->client = client;

  gtk_list_box_bind_model (self->contacts_list, natter_client_get_contacts (client),
                           create_contact_row, self, NULL);
  gtk_list_box_bind_model (self->incoming_list, natter_client_get_incoming_requests (client),
                           create_incoming_row, self, NULL);
  gtk_list_box_bind_model (self->outgoing_list, natter_client_get_outgoing_requests (client),
                           create_outgoing_row, self, NULL);

  g_signal_connect_object (natter_client_get_incoming_requests (client), "items-changed",
                           G_CALLBACK (relations_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (natter_client_get_outgoing_requests (client), "items-changed",
                           G_CALLBACK (relations_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (natter_client_get_contacts (client), "items-changed",
                           G_CALLBACK (refresh_search_rows), self, G_CONNECT_SWAPPED);
  update_groups (self);
}

/* ---- GObject ------------------------------------------------------------- */

static void
natter_contacts_page_dispose (GObject *object)
{
  NatterContactsPage *self = NATTER_CONTACTS_PAGE (object);

  /* The client's lists outlive the page: no call into it once its
   * children start to go. */
  if (self->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (natter_client_get_incoming_requests (self->client), self);
      g_signal_handlers_disconnect_by_data (natter_client_get_outgoing_requests (self->client), self);
      g_signal_handlers_disconnect_by_data (natter_client_get_contacts (self->client), self);
      self->client = NULL;
    }
  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->search_results);
  g_clear_object (&self->asked_toast);
  g_clear_pointer (&self->asked_username, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_CONTACTS_PAGE);
  natter_widget_unparent_children (GTK_WIDGET (self));

  G_OBJECT_CLASS (natter_contacts_page_parent_class)->dispose (object);
}

static void
natter_contacts_page_class_init (NatterContactsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_contacts_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-contacts-page.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, search_group);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, search_list);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, search_status);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, incoming_group);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, incoming_list);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, outgoing_group);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, outgoing_list);
  gtk_widget_class_bind_template_child (widget_class, NatterContactsPage, contacts_list);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);

  gtk_widget_class_install_action (widget_class, "contacts.accept", "s", accept_action);
  gtk_widget_class_install_action (widget_class, "contacts.decline", "s", decline_action);
  gtk_widget_class_install_action (widget_class, "contacts.cancel-request", "s", cancel_request_action);
  gtk_widget_class_install_action (widget_class, "contacts.request", "s", request_action);
  gtk_widget_class_install_action (widget_class, "contacts.remove", "s", remove_action);
  gtk_widget_class_install_action (widget_class, "contacts.message", "s", message_action);
  gtk_widget_class_install_action (widget_class, "contacts.block", "s", block_action);
}

static void
natter_contacts_page_init (NatterContactsPage *self)
{
  GtkWidget *placeholder;

  gtk_widget_init_template (GTK_WIDGET (self));
  /* Opening the page is mostly to find someone: typing goes there. */
  natter_page_set_search_entry (NATTER_PAGE (self), GTK_WIDGET (self->search_entry));

  placeholder = gtk_label_new (_("No contacts yet. Find people above and add them."));
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_add_css_class (placeholder, "list-placeholder");
  gtk_list_box_set_placeholder (self->contacts_list, placeholder);
}
