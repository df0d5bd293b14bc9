/* natter-message-row.c: a message bubble.
 *
 * Consecutive messages from one sender form a group: only the first shows
 * the avatar and (in rooms) the name. Our own messages sit on the right in
 * the accent colour with their state: sending, sent, seen, or not sent. A
 * message the server refused for good offers to be sent again or deleted.
 * A notice (a room's "bob joined") is a centred, dim line instead.
 */
#define G_LOG_DOMAIN "natter-message-row"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-message-row.h"
#include "natter-ui-util.h"
#include "natter-user-avatar.h"

struct _NatterMessageRow
{
  GtkWidget           parent_instance;

  /* template widgets */
  GtkLabel           *day_label;
  GtkBox             *line_box;
  GtkLabel           *notice_label;
  GtkWidget          *avatar_box;
  GtkWidget          *failed_box;
  NatterUserAvatar   *avatar;
  GtkBox             *bubble;
  GtkLabel           *sender_label;
  GtkLabel           *body_label;
  GtkLabel           *time_label;
  GtkLabel           *status_label;

  /* borrowed references */
  NatterClient       *client;

  /* owned references */
  NatterMessage      *message;
  NatterConversation *conversation;
  gulong              message_handler;
  gulong              read_handler;

  GtkWidget          *menu; /* GtkPopoverMenu, made on first use */

  gboolean            show_day;
  gboolean            show_header;
};

G_DEFINE_FINAL_TYPE (NatterMessageRow, natter_message_row, GTK_TYPE_WIDGET)

static void
update_status (NatterMessageRow *self)
{
  const char *text = NULL;
  gboolean failed = FALSE;

  if (self->message == NULL || !natter_message_get_outgoing (self->message))
    {
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
      gtk_widget_set_visible (self->failed_box, FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.retry", FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.delete", FALSE);
      return;
    }

  switch (natter_message_get_state (self->message))
    {
    case NATTER_MESSAGE_STATE_SENDING:
      text = _("Sending…");
      break;
    case NATTER_MESSAGE_STATE_FAILED:
      text = _("Not sent");
      failed = TRUE;
      break;
    case NATTER_MESSAGE_STATE_SENT:
    default:
      if (self->conversation != NULL &&
          natter_message_get_id (self->message) > 0 &&
          natter_message_get_id (self->message) <= natter_conversation_get_peer_read_up_to (self->conversation))
        text = _("Seen");
      else
        text = _("Sent");
      break;
    }

  gtk_label_set_label (self->status_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
  gtk_widget_set_visible (self->failed_box, failed);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.retry", failed);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.delete", failed);

  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (self->bubble), "failed");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->bubble), "failed");

  if (natter_message_get_state (self->message) == NATTER_MESSAGE_STATE_SENDING)
    gtk_widget_add_css_class (GTK_WIDGET (self->bubble), "sending");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->bubble), "sending");
}

static void
update_layout (NatterMessageRow *self)
{
  gboolean outgoing;
  gboolean room;

  if (self->message == NULL)
    return;

  outgoing = natter_message_get_outgoing (self->message);
  room = self->conversation != NULL && natter_conversation_is_room (self->conversation);

  gtk_widget_set_visible (GTK_WIDGET (self->day_label), self->show_day);
  if (self->show_day)
    {
      g_autofree char *day = natter_format_day (natter_message_get_timestamp (self->message));
      gtk_label_set_label (self->day_label, day);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->notice_label), natter_message_is_notice (self->message));
  gtk_widget_set_visible (GTK_WIDGET (self->line_box), !natter_message_is_notice (self->message));
  gtk_widget_set_halign (GTK_WIDGET (self->line_box), outgoing ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_widget_set_visible (self->avatar_box, !outgoing);
  /* Hidden, not removed: later messages of a group keep the indent. */
  gtk_widget_set_child_visible (GTK_WIDGET (self->avatar), !outgoing && self->show_header);
  gtk_widget_set_visible (GTK_WIDGET (self->sender_label), !outgoing && room && self->show_header);

  if (outgoing)
    gtk_widget_add_css_class (GTK_WIDGET (self->bubble), "outgoing");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->bubble), "outgoing");

  if (self->show_header)
    gtk_widget_add_css_class (GTK_WIDGET (self), "first-in-group");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "first-in-group");
}

static void
message_notify_cb (NatterMessageRow *self,
                   GParamSpec       *pspec)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "timestamp"))
    {
      g_autofree char *clock = natter_format_clock (natter_message_get_timestamp (self->message));
      gtk_label_set_label (self->time_label, clock);
    }
  update_status (self);
}

NatterMessage *
natter_message_row_get_message (NatterMessageRow *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_ROW (self), NULL);
  return self->message;
}

void
natter_message_row_set_message (NatterMessageRow   *self,
                                NatterMessage      *message,
                                NatterConversation *conversation)
{
  g_autofree char *markup = NULL;
  g_autofree char *clock = NULL;
  NatterUser *sender;

  g_return_if_fail (NATTER_IS_MESSAGE_ROW (self));

  if (self->message != NULL)
    g_clear_signal_handler (&self->message_handler, self->message);
  if (self->conversation != NULL)
    g_clear_signal_handler (&self->read_handler, self->conversation);
  g_clear_object (&self->message);
  g_clear_object (&self->conversation);

  if (message == NULL)
    {
      natter_user_avatar_set_user (self->avatar, NULL);
      update_status (self);
      return;
    }

  self->message = g_object_ref (message);
  self->conversation = conversation ? g_object_ref (conversation) : NULL;
  self->message_handler = g_signal_connect_object (message, "notify",
                                                   G_CALLBACK (message_notify_cb), self,
                                                   G_CONNECT_SWAPPED);
  if (conversation != NULL)
    self->read_handler = g_signal_connect_object (conversation, "notify::peer-read-up-to",
                                                  G_CALLBACK (update_status), self,
                                                  G_CONNECT_SWAPPED);

  sender = natter_client_lookup_user (self->client, natter_message_get_sender (message));
  natter_user_avatar_set_user (self->avatar, sender);
  gtk_label_set_label (self->sender_label, natter_user_title (sender));

  markup = natter_linkify (natter_message_get_body (message));
  gtk_label_set_markup (self->body_label, markup);
  gtk_label_set_label (self->notice_label, natter_message_is_notice (message)
                                           ? natter_message_get_body (message) : "");

  clock = natter_format_clock (natter_message_get_timestamp (message));
  gtk_label_set_label (self->time_label, clock);

  update_status (self);
  update_layout (self);
}

void
natter_message_row_set_grouping (NatterMessageRow *self,
                                 gboolean          show_day,
                                 gboolean          show_header)
{
  g_return_if_fail (NATTER_IS_MESSAGE_ROW (self));

  self->show_day = !!show_day;
  self->show_header = !!show_header;
  update_layout (self);
}

static void
copy_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);

  if (self->message == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), natter_message_get_body (self->message));
  gtk_widget_activate_action (widget, "win.toast", "s", _("Message copied"));
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);

  if (self->message != NULL)
    natter_client_retry_message (self->client, self->message);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);

  /* The row is unbound (and may be reused) once the message leaves the
   * model: the toast goes out first, from a widget still in the window. */
  if (self->message == NULL)
    return;
  gtk_widget_activate_action (widget, "win.toast", "s", _("Message deleted"));
  natter_client_discard_message (self->client, self->message);
}

static void
append_hidden_when_disabled (GMenu      *menu,
                             const char *label,
                             const char *action)
{
  g_autoptr(GMenuItem) item = g_menu_item_new (label, action);

  g_menu_item_set_attribute (item, "hidden-when", "s", "action-disabled");
  g_menu_append_item (menu, item);
}

/* @x, @y in the bubble's coordinates (where the gestures are). */
static void
popup_menu_at (NatterMessageRow *self,
               double            x,
               double            y)
{
  if (self->message == NULL)
    return;

  gtk_widget_translate_coordinates (GTK_WIDGET (self->bubble), GTK_WIDGET (self), x, y, &x, &y);

  if (self->menu == NULL)
    {
      g_autoptr(GMenu) model = g_menu_new ();

      g_menu_append (model, _("_Copy Text"), "message.copy");
      append_hidden_when_disabled (model, _("_Retry"), "message.retry");
      append_hidden_when_disabled (model, _("_Delete"), "message.delete");
      self->menu = gtk_popover_menu_new_from_model (G_MENU_MODEL (model));
      gtk_popover_set_has_arrow (GTK_POPOVER (self->menu), FALSE);
      gtk_widget_set_halign (self->menu, GTK_ALIGN_START);
      gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
    }

  gtk_popover_set_pointing_to (GTK_POPOVER (self->menu),
                               &(GdkRectangle) { (int) x, (int) y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->menu));
}

static void
right_click_cb (GtkGestureClick  *gesture,
                int               n_press,
                double            x,
                double            y,
                NatterMessageRow *self)
{
  popup_menu_at (self, x, y);
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
long_press_cb (GtkGestureLongPress *gesture,
               double               x,
               double               y,
               NatterMessageRow    *self)
{
  popup_menu_at (self, x, y);
}

static void
menu_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);

  popup_menu_at (self,
                 gtk_widget_get_width (GTK_WIDGET (self->bubble)) / 2.0,
                 gtk_widget_get_height (GTK_WIDGET (self->bubble)) / 2.0);
}

static void
natter_message_row_size_allocate (GtkWidget *widget,
                                  int        width,
                                  int        height,
                                  int        baseline)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);

  GTK_WIDGET_CLASS (natter_message_row_parent_class)->size_allocate (widget, width, height, baseline);
  if (self->menu != NULL)
    gtk_popover_present (GTK_POPOVER (self->menu));
}

static void
natter_message_row_dispose (GObject *object)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (object);

  natter_message_row_set_message (self, NULL, NULL);
  g_clear_pointer (&self->menu, gtk_widget_unparent);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_MESSAGE_ROW);
  natter_widget_unparent_children (GTK_WIDGET (self));

  G_OBJECT_CLASS (natter_message_row_parent_class)->dispose (object);
}

static void
natter_message_row_class_init (NatterMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_message_row_dispose;
  widget_class->size_allocate = natter_message_row_size_allocate;

  g_type_ensure (NATTER_TYPE_USER_AVATAR);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "message-row");
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, day_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, line_box);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, notice_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, avatar_box);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, failed_box);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, avatar);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, bubble);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, body_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, status_label);
  gtk_widget_class_bind_template_callback (widget_class, right_click_cb);
  gtk_widget_class_bind_template_callback (widget_class, long_press_cb);

  gtk_widget_class_install_action (widget_class, "message.copy", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "message.menu", NULL, menu_action);
  gtk_widget_class_install_action (widget_class, "message.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "message.delete", NULL, delete_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, "message.menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Menu, 0, "message.menu", NULL);
}

static void
natter_message_row_init (NatterMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_status (self);
}

GtkWidget *
natter_message_row_new (NatterClient *client)
{
  NatterMessageRow *self = g_object_new (NATTER_TYPE_MESSAGE_ROW, NULL);

  self->client = client;
  return GTK_WIDGET (self);
}
