/* natter-search-page.c: message search, as you type.
 *
 * GtkSearchEntry waits for a pause in typing (search-delay, 250 ms in the
 * template); each new query cancels the one in flight, so a late answer
 * (its task returns cancelled) never overwrites a newer one. The words the
 * query matched are highlighted by the server's rule
 * (natter_search_highlight_markup). Activating a result opens its
 * conversation at that message.
 */
#define G_LOG_DOMAIN "natter-search-page"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "natter-search-page.h"
#include "natter-ui-util.h"
#include "natter-user-avatar.h"

struct _NatterSearchPage
{
  NatterPage      parent_instance;

  /* template widgets */
  GtkSearchEntry *search_entry;
  GtkStack       *stack;
  GtkListBox     *results_list;

  /* borrowed references */
  NatterClient   *client;

  /* owned references */
  GCancellable   *cancellable;
  GListModel     *results;
  char           *query;   /* the query the results answer */
};

G_DEFINE_FINAL_TYPE (NatterSearchPage, natter_search_page, NATTER_TYPE_PAGE)

static GtkWidget *
create_result_row (gpointer item,
                   gpointer user_data)
{
  NatterSearchPage *self = user_data;
  NatterMessage *message = item;
  NatterUser *sender = natter_client_lookup_user (self->client, natter_message_get_sender (message));
  const char *address = natter_message_get_conversation (message);
  g_autofree char *when = natter_format_time_short (natter_message_get_timestamp (message));
  g_autofree char *where = NULL;
  g_autofree char *body = g_strdup (natter_message_get_body (message));
  g_autofree char *markup = NULL;
  GtkWidget *row, *box, *text_box, *top, *label;

  if (address[0] == '#')
    /* Translators: "Bob in #general". */
    where = g_strdup_printf (_("%s in %s"), natter_user_title (sender), address);
  else
    where = g_strdup (natter_user_title (sender));

  g_strdelimit (body, "\n\t", ' ');
  markup = natter_search_highlight_markup (body, self->query ? self->query : "");

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (box, "search-result");
  gtk_box_append (GTK_BOX (box), g_object_new (NATTER_TYPE_USER_AVATAR,
                                               "size", 32, "show-presence", FALSE,
                                               "user", sender, NULL));

  text_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  gtk_widget_set_hexpand (text_box, TRUE);
  gtk_box_append (GTK_BOX (box), text_box);

  top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (text_box), top);

  label = gtk_label_new (where);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (top), label);

  label = gtk_label_new (when);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (top), label);

  label = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (label), markup);
  gtk_widget_add_css_class (label, "search-result-body");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (label), 3);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (text_box), label);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.open-message");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "(sx)", address,
                                    natter_message_get_id (message));
  return row;
}

static void
search_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(NatterSearchPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) results = NULL;

  results = natter_client_search_finish (NATTER_CLIENT (object), result, &error);
  if (results == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = natter_describe_error (error);
          gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
          gtk_stack_set_visible_child_name (self->stack, "empty");
        }
      return;
    }

  g_set_object (&self->results, results);
  gtk_list_box_bind_model (self->results_list, results, create_result_row, self, NULL);
  gtk_stack_set_visible_child_name (self->stack,
                                    g_list_model_get_n_items (results) > 0 ? "results" : "empty");
}

static void
search_changed_cb (NatterSearchPage *self)
{
  g_autofree char *query = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (*query == '\0' || self->client == NULL)
    {
      gtk_list_box_bind_model (self->results_list, NULL, NULL, NULL, NULL);
      g_clear_object (&self->results);
      gtk_stack_set_visible_child_name (self->stack, "hint");
      return;
    }

  g_free (self->query);
  self->query = g_steal_pointer (&query);
  self->cancellable = g_cancellable_new ();
  gtk_stack_set_visible_child_name (self->stack, "loading");
  natter_client_search_async (self->client, self->query, NULL, self->cancellable,
                              search_cb, g_object_ref (self));
}

static void
stop_search_cb (NatterSearchPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.go-back", NULL);
}

void
natter_search_page_set_client (NatterSearchPage *self,
                               NatterClient     *client)
{
  g_return_if_fail (NATTER_IS_SEARCH_PAGE (self));
  self->client = client;
}

static void
natter_search_page_dispose (GObject *object)
{
  NatterSearchPage *self = NATTER_SEARCH_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->results);
  g_clear_pointer (&self->query, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_SEARCH_PAGE);
  natter_widget_unparent_children (GTK_WIDGET (self));

  G_OBJECT_CLASS (natter_search_page_parent_class)->dispose (object);
}

static void
natter_search_page_class_init (NatterSearchPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_search_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-search-page.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterSearchPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, NatterSearchPage, stack);
  gtk_widget_class_bind_template_child (widget_class, NatterSearchPage, results_list);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, stop_search_cb);
}

static void
natter_search_page_init (NatterSearchPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  natter_page_set_search_entry (NATTER_PAGE (self), GTK_WIDGET (self->search_entry));
}
