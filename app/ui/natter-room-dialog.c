/* natter-room-dialog.c: details of one room.
 *
 * Shows the topic (editable by the owner), the members with their presence
 * (fetched when the dialog opens), and a way to leave the room.
 */
#define G_LOG_DOMAIN "natter-room-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-room-dialog.h"
#include "natter-ui-util.h"

struct _NatterRoomDialog
{
  AdwWindow        parent_instance;

  /* template widgets */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle  *window_title;
  AdwEntryRow     *topic_row;
  AdwActionRow    *topic_view_row;
  AdwPreferencesGroup *members_group;
  GtkListBox      *members_list;
  GtkWidget       *members_spinner;

  /* borrowed references */
  NatterClient    *client;

  /* owned references */
  char            *room_name;
  GListModel      *members;
  GCancellable    *cancellable;
};

G_DEFINE_FINAL_TYPE (NatterRoomDialog, natter_room_dialog, ADW_TYPE_WINDOW)

static NatterRoom *
find_room (NatterRoomDialog *self)
{
  GListModel *rooms = natter_client_get_rooms (self->client);

  for (guint i = 0; i < g_list_model_get_n_items (rooms); i++)
    {
      g_autoptr(NatterRoom) room = g_list_model_get_item (rooms, i);

      if (g_strcmp0 (natter_room_get_name (room), self->room_name) == 0)
        return room;
    }
  return NULL;
}

static void
show_error (NatterRoomDialog *self,
            const GError     *error)
{
  g_autofree char *text = natter_describe_error (error);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static GtkWidget *
create_member_row (gpointer item,
                   gpointer user_data)
{
  NatterRoomDialog *self = user_data;
  NatterUser *user = item;
  NatterRoom *room = find_room (self);
  GtkWidget *row = natter_user_row_new (user, 32);

  if (room != NULL && g_strcmp0 (natter_room_get_owner (room), natter_user_get_username (user)) == 0)
    {
      GtkWidget *label = gtk_label_new (_("Owner"));
      gtk_widget_add_css_class (label, "dim-label");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
    }

  return row;
}

static void
members_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterRoomDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) members = NULL;
  g_autofree char *description = NULL;
  guint n;

  members = natter_client_room_members_finish (NATTER_CLIENT (object), result, &error);
  if (members == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_widget_set_visible (self->members_spinner, FALSE);
          show_error (self, error);
        }
      return;
    }

  gtk_widget_set_visible (self->members_spinner, FALSE);
  g_set_object (&self->members, members);
  gtk_list_box_bind_model (self->members_list, members, create_member_row, self, NULL);
  n = g_list_model_get_n_items (members);
  description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members", n), n);
  adw_preferences_group_set_description (self->members_group, description);
}

static void
topic_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(NatterRoomDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!natter_client_room_set_topic_finish (NATTER_CLIENT (object), result, &error))
    show_error (self, error);
  else
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Topic changed")));
}

static void
topic_apply_cb (NatterRoomDialog *self)
{
  g_autofree char *topic = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->topic_row))));

  if (!natter_topic_is_valid (topic))
    {
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("The topic is too long or has characters that are not allowed.")));
      return;
    }

  natter_client_room_set_topic_async (self->client, self->room_name, topic,
                                      self->cancellable, topic_cb, g_object_ref (self));
}

static void
leave_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(NatterRoomDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  GtkWindow *parent;

  if (!natter_client_room_leave_finish (NATTER_CLIENT (object), result, &error))
    {
      show_error (self, error);
      return;
    }

  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (parent != NULL)
    gtk_widget_activate_action (GTK_WIDGET (parent), "win.close-conversation", NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
leave_response_cb (NatterRoomDialog *self,
                   const char       *response)
{
  if (g_strcmp0 (response, "leave") == 0)
    natter_client_room_leave_async (self->client, self->room_name, self->cancellable,
                                    leave_cb, g_object_ref (self));
}

static void
leave_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  NatterRoomDialog *self = NATTER_ROOM_DIALOG (widget);
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  /* Translators: %s is a room name such as #general. */
  heading = g_strdup_printf (_("Leave %s?"), self->room_name);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading,
                                   _("You will stop getting its messages. You can join again from the room directory."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "leave", _("_Leave"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "leave",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (leave_response_cb), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
natter_room_dialog_dispose (GObject *object)
{
  NatterRoomDialog *self = NATTER_ROOM_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->members);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_ROOM_DIALOG);

  G_OBJECT_CLASS (natter_room_dialog_parent_class)->dispose (object);
}

static void
natter_room_dialog_finalize (GObject *object)
{
  NatterRoomDialog *self = NATTER_ROOM_DIALOG (object);

  g_free (self->room_name);

  G_OBJECT_CLASS (natter_room_dialog_parent_class)->finalize (object);
}

static void
natter_room_dialog_class_init (NatterRoomDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_room_dialog_dispose;
  object_class->finalize = natter_room_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-room-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDialog, topic_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDialog, topic_view_row);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDialog, members_group);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDialog, members_list);
  gtk_widget_class_bind_template_child (widget_class, NatterRoomDialog, members_spinner);
  gtk_widget_class_bind_template_callback (widget_class, topic_apply_cb);

  gtk_widget_class_install_action (widget_class, "room.leave", NULL, leave_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
natter_room_dialog_init (NatterRoomDialog *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWindow *
natter_room_dialog_new (GtkWindow    *parent,
                        NatterClient *client,
                        const char   *room_name)
{
  NatterRoomDialog *self;
  NatterRoom *room;
  NatterUser *me;
  gboolean owner;

  g_return_val_if_fail (NATTER_IS_CLIENT (client), NULL);
  g_return_val_if_fail (room_name != NULL, NULL);

  self = g_object_new (NATTER_TYPE_ROOM_DIALOG,
                       "transient-for", parent,
                       "modal", TRUE,
                       NULL);
  self->client = client;
  self->room_name = g_strdup (room_name);

  adw_window_title_set_title (self->window_title, room_name);

  room = find_room (self);
  me = natter_client_get_me (client);
  owner = room != NULL && me != NULL &&
          g_strcmp0 (natter_room_get_owner (room), natter_user_get_username (me)) == 0;

  /* Only the owner may change the topic (the server checks it too); the
   * others see it as plain text. */
  gtk_editable_set_text (GTK_EDITABLE (self->topic_row), room ? natter_room_get_topic (room) : "");
  gtk_widget_set_visible (GTK_WIDGET (self->topic_row), owner);
  gtk_widget_set_visible (GTK_WIDGET (self->topic_view_row), !owner);
  adw_action_row_set_subtitle (self->topic_view_row,
                               room && *natter_room_get_topic (room) ? natter_room_get_topic (room)
                                                                     : _("No topic"));

  natter_client_room_members_async (client, room_name, self->cancellable,
                                    members_cb, g_object_ref (self));

  return GTK_WINDOW (self);
}
