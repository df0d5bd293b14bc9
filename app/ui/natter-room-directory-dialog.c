/* natter-room-directory-dialog.c: the room directory and room creation.
 *
 * Two pages in a view stack: "browse" searches the server's directory
 * (each room with Join, or Open when we are in it already); "create" makes a
 * new room from a name and a topic. Either way the room then opens in the
 * main window and the dialog closes.
 */
#define G_LOG_DOMAIN "natter-room-directory-dialog"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "natter-error.h"
#include "natter-room-directory-dialog.h"
#include "natter-ui-util.h"

struct _NatterRoomDirectoryDialog
{
  AdwWindow        parent_instance;

  /* template widgets */
  AdwToastOverlay *toast_overlay;
  GtkStack        *stack;
  GtkSearchEntry  *search_entry;
  GtkStack        *results_stack;
  GtkListBox      *rooms_list;
  AdwEntryRow     *name_row;
  AdwEntryRow     *topic_row;
  GtkLabel        *name_error;

  /* borrowed references */
  NatterClient    *client;

  /* owned references */
  GCancellable    *cancellable;
  GCancellable    *search_cancellable;
  GListModel      *rooms;
};

G_DEFINE_FINAL_TYPE (NatterRoomDirectoryDialog, natter_room_directory_dialog, ADW_TYPE_WINDOW)

static gboolean
is_member (NatterRoomDirectoryDialog *self,
           const char                *name)
{
  GListModel *rooms = natter_client_get_rooms (self->client);

  for (guint i = 0; i < g_list_model_get_n_items (rooms); i++)
    {
      g_autoptr(NatterRoom) room = g_list_model_get_item (rooms, i);

      if (g_strcmp0 (natter_room_get_name (room), name) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
open_room (NatterRoomDirectoryDialog *self,
           const char                *name)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

  if (parent != NULL)
    gtk_widget_activate_action (GTK_WIDGET (parent), "win.open-conversation", "s", name);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
show_error (NatterRoomDirectoryDialog *self,
            const GError              *error)
{
  g_autofree char *text = natter_describe_error (error);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

/* ---- Browse -------------------------------------------------------------- */

static GtkWidget *
create_room_row (gpointer item,
                 gpointer user_data)
{
  NatterRoomDirectoryDialog *self = user_data;
  NatterRoom *room = item;
  const char *name = natter_room_get_name (room);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button;
  g_autofree char *subtitle = NULL;
  guint members = natter_room_get_member_count (room);
  g_autofree char *count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members", members), members);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  if (*natter_room_get_topic (room) != '\0')
    subtitle = g_strdup_printf ("%s · %s", count, natter_room_get_topic (room));
  else
    subtitle = g_strdup (count);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);

  if (is_member (self, name))
    {
      button = gtk_button_new_with_mnemonic (_("_Open"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "directory.open");
    }
  else
    {
      button = gtk_button_new_with_mnemonic (_("_Join"));
      gtk_widget_add_css_class (button, "suggested-action");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "directory.join");
    }
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", name);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

static void
directory_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(NatterRoomDirectoryDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) rooms = NULL;

  rooms = natter_client_room_directory_finish (NATTER_CLIENT (object), result, &error);
  if (rooms == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          show_error (self, error);
          gtk_stack_set_visible_child_name (self->results_stack, "empty");
        }
      return;
    }

  g_set_object (&self->rooms, rooms);
  gtk_list_box_bind_model (self->rooms_list, rooms, create_room_row, self, NULL);
  gtk_stack_set_visible_child_name (self->results_stack,
                                    g_list_model_get_n_items (rooms) > 0 ? "list" : "empty");
}

static void
search_changed_cb (NatterRoomDirectoryDialog *self)
{
  g_autofree char *query = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))));

  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  self->search_cancellable = g_cancellable_new ();

  gtk_stack_set_visible_child_name (self->results_stack, "loading");
  natter_client_room_directory_async (self->client, query, self->search_cancellable,
                                      directory_cb, g_object_ref (self));
}

static void
join_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(NatterRoomDirectoryDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  const char *name = g_object_get_data (G_OBJECT (self), "joining");

  if (!natter_client_room_join_finish (NATTER_CLIENT (object), result, &error))
    {
      show_error (self, error);
      return;
    }
  open_room (self, name);
}

static void
join_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterRoomDirectoryDialog *self = NATTER_ROOM_DIRECTORY_DIALOG (widget);
  const char *name = g_variant_get_string (parameter, NULL);

  g_object_set_data_full (G_OBJECT (self), "joining", g_strdup (name), g_free);
  natter_client_room_join_async (self->client, name, self->cancellable, join_cb, g_object_ref (self));
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  open_room (NATTER_ROOM_DIRECTORY_DIALOG (widget), g_variant_get_string (parameter, NULL));
}

/* ---- Create -------------------------------------------------------------- */

static char *
room_name_from_entry (NatterRoomDirectoryDialog *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));

  if (text[0] == '#')
    return g_ascii_strdown (text, -1);
  return g_strdup_printf ("#%s", g_ascii_strdown (text, -1));
}

/* As Slack and Mattermost do: "Lunch Club" turns into "lunch-club" while it
 * is typed, so the name on screen is the name the room gets, and a space
 * (the most natural thing to type in a name) is no error. */
static void
name_changed_cb (NatterRoomDirectoryDialog *self)
{
  GtkEditable *entry = GTK_EDITABLE (self->name_row);
  const char *text = gtk_editable_get_text (entry);
  guint leading = strspn (text, " ");
  g_autofree char *tidy = g_ascii_strdown (text + leading, -1);

  /* Leading spaces go (" Team" is not "-team"); the others become "-". */
  for (char *c = tidy; *c != '\0'; c++)
    if (*c == ' ')
      *c = '-';
  if (strcmp (tidy, text) != 0)
    {
      int position = gtk_editable_get_position (entry);

      gtk_editable_set_text (entry, tidy);
      gtk_editable_set_position (entry, MAX (position - (int) leading, 0));
    }
}

static void
set_name_error (NatterRoomDirectoryDialog *self,
                const char                *text)
{
  gtk_label_set_label (self->name_error, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->name_error), text != NULL);
  if (text != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
}

static void
create_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(NatterRoomDirectoryDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = room_name_from_entry (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "directory.create", TRUE);

  if (!natter_client_room_create_finish (NATTER_CLIENT (object), result, &error))
    {
      if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_CONFLICT))
        set_name_error (self, _("A room with that name exists already. Join it from the directory, or pick another name."));
      else
        {
          g_autofree char *text = natter_describe_error (error);
          set_name_error (self, text);
        }
      return;
    }

  open_room (self, name);
}

static void
create_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  NatterRoomDirectoryDialog *self = NATTER_ROOM_DIRECTORY_DIALOG (widget);
  g_autofree char *name = room_name_from_entry (self);
  g_autofree char *topic = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->topic_row))));

  set_name_error (self, NULL);

  if (!natter_room_name_is_valid (name))
    {
      set_name_error (self, _("Room names are 1 to 64 lower-case letters, digits, “_” or “-”."));
      gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
      return;
    }
  if (!natter_topic_is_valid (topic))
    {
      set_name_error (self, _("The topic is too long or has characters that are not allowed."));
      return;
    }

  gtk_widget_action_set_enabled (widget, "directory.create", FALSE);
  natter_client_room_create_async (self->client, name, *topic ? topic : NULL,
                                   self->cancellable, create_cb, g_object_ref (self));
}

static void
name_activated_cb (NatterRoomDirectoryDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "directory.create", NULL);
}

/* ---- GObject ------------------------------------------------------------- */

static void
natter_room_directory_dialog_dispose (GObject *object)
{
  NatterRoomDirectoryDialog *self = NATTER_ROOM_DIRECTORY_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->rooms);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_ROOM_DIRECTORY_DIALOG);

  G_OBJECT_CLASS (natter_room_directory_dialog_parent_class)->dispose (object);
}

static void
natter_room_directory_dialog_class_init (NatterRoomDirectoryDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_room_directory_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-room-directory-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, search_entry);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, results_stack);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, rooms_list);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, topic_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDirectoryDialog, name_error);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, name_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, name_activated_cb);

  gtk_widget_class_install_action (widget_class, "directory.join", "s", join_action);
  gtk_widget_class_install_action (widget_class, "directory.open", "s", open_action);
  gtk_widget_class_install_action (widget_class, "directory.create", NULL, create_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
natter_room_directory_dialog_init (NatterRoomDirectoryDialog *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWindow *
natter_room_directory_dialog_new (GtkWindow    *parent,
                                  NatterClient *client,
                                  gboolean      create)
{
  NatterRoomDirectoryDialog *self;

  g_return_val_if_fail (NATTER_IS_CLIENT (client), NULL);

  self = g_object_new (NATTER_TYPE_ROOM_DIRECTORY_DIALOG,
                       "transient-for", parent,
                       "modal", TRUE,
                       NULL);
  self->client = client;

  gtk_stack_set_visible_child_name (self->stack, create ? "create" : "browse");
  if (create)
    gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));

  /* The whole directory at first; the search narrows it. */
  search_changed_cb (self);

  return GTK_WINDOW (self);
}
