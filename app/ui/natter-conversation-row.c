/* natter-conversation-row.c: avatar with presence, title, the last message,
 * its time and the unread count of one conversation. */
#define G_LOG_DOMAIN "natter-conversation-row"

#include "config.h"

#include <glib/gi18n.h>

#include "natter-conversation-row.h"
#include "natter-ui-util.h"
#include "natter-user-avatar.h"

struct _NatterConversationRow
{
  GtkWidget           parent_instance;

  /* template widgets */
  NatterUserAvatar   *avatar;
  GtkLabel           *title_label;
  GtkLabel           *time_label;
  GtkLabel           *preview_label;
  GtkLabel           *unread_label;

  /* owned references */
  NatterConversation *conversation;
  gulong              notify_handler;
  GSignalGroup       *last_message_signals; /* "Not sent" shows without a new message */
  GSignalGroup       *last_sender_signals;  /* a room's preview follows the sender's name */
};

G_DEFINE_FINAL_TYPE (NatterConversationRow, natter_conversation_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CONVERSATION,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

/* A message of files alone: its first file's name, or a photo's word,
 * and how many more there are. */
static char *
files_preview (GListModel *files)
{
  g_autoptr(NatterMessageFile) first = g_list_model_get_item (files, 0);
  guint n = g_list_model_get_n_items (files);
  const char *mime = natter_message_file_get_mime (first);
  g_autofree char *what = g_str_has_prefix (mime, "image/") ? g_strdup (_("Photo"))
                                                            : g_strdup (natter_message_file_get_name (first));

  if (n == 1)
    return g_steal_pointer (&what);
  /* Translators: preview of a message of files, "holiday.pdf and 2 more". */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s and %u more", "%s and %u more", n - 1), what, n - 1);
}

/* One line of preview: "You: …" for ours, "Bob Builder: …" in rooms. */
static char *
make_preview (NatterConversation *conversation)
{
  NatterMessage *last = natter_conversation_get_last_message (conversation);
  g_autofree char *body = NULL;

  if (last == NULL)
    return g_strdup (natter_conversation_is_room (conversation)
                     ? _("No messages yet")
                     : _("Say hello!"));

  if (natter_message_get_deleted (last))
    body = g_strdup (_("Message deleted"));
  else if (natter_message_get_body (last) != NULL && *natter_message_get_body (last) == '\0' &&
           natter_message_get_files (last) != NULL &&
           g_list_model_get_n_items (natter_message_get_files (last)) > 0)
    body = files_preview (natter_message_get_files (last));
  else
    body = g_strdup (natter_message_get_body (last));
  g_strdelimit (body, "\n\t", ' ');

  if (natter_message_get_outgoing (last))
    {
      if (natter_message_get_state (last) == NATTER_MESSAGE_STATE_FAILED)
        /* Translators: preview of a message that could not be sent. */
        return g_strdup_printf (_("Not sent: %s"), body);
      /* Translators: preview of our own last message. */
      return g_strdup_printf (_("You: %s"), body);
    }

  if (natter_conversation_is_room (conversation))
    {
      NatterUser *sender = natter_conversation_get_last_sender (conversation);

      /* Translators: preview of a room's last message, "Bob Builder: hi". */
      return g_strdup_printf (_("%s: %s"), sender ? natter_user_get_display_name (sender)
                                                  : natter_message_get_sender (last),
                              body);
    }

  return g_steal_pointer (&body);
}

static void
update (NatterConversationRow *self)
{
  NatterConversation *conversation = self->conversation;
  g_autofree char *preview = NULL;
  g_autofree char *unread = NULL;
  const char *typing;
  guint n_unread;

  if (conversation == NULL)
    return;

  gtk_label_set_label (self->title_label, natter_conversation_get_title (conversation));

  typing = natter_conversation_get_typing (conversation);
  if (typing != NULL)
    {
      gtk_label_set_label (self->preview_label, typing);
      gtk_widget_add_css_class (GTK_WIDGET (self->preview_label), "typing");
    }
  else
    {
      preview = make_preview (conversation);
      gtk_label_set_label (self->preview_label, preview);
      gtk_widget_remove_css_class (GTK_WIDGET (self->preview_label), "typing");
    }

  natter_conversation_row_update_time (self, g_get_real_time () / 1000);
  g_signal_group_set_target (self->last_message_signals,
                             natter_conversation_get_last_message (conversation));
  g_signal_group_set_target (self->last_sender_signals,
                             natter_conversation_is_room (conversation)
                             ? natter_conversation_get_last_sender (conversation) : NULL);

  n_unread = natter_conversation_get_unread (conversation);
  unread = n_unread > 99 ? g_strdup ("99+") : g_strdup_printf ("%u", n_unread);
  gtk_label_set_label (self->unread_label, unread);
  gtk_widget_set_visible (GTK_WIDGET (self->unread_label), n_unread > 0);
  if (n_unread > 0)
    {
      g_autofree char *a11y = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u unread message",
                                                            "%u unread messages", n_unread),
                                               n_unread);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->unread_label),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
      gtk_widget_add_css_class (GTK_WIDGET (self), "unread");
    }
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "unread");
}

void
natter_conversation_row_update_time (NatterConversationRow *self,
                                     gint64                 now_ms)
{
  g_autofree char *time = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION_ROW (self));

  if (self->conversation == NULL)
    return;
  time = natter_format_time_relative (natter_conversation_get_last_activity (self->conversation),
                                      now_ms);
  gtk_label_set_label (self->time_label, time);
}

NatterConversation *
natter_conversation_row_get_conversation (NatterConversationRow *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION_ROW (self), NULL);
  return self->conversation;
}

void
natter_conversation_row_set_conversation (NatterConversationRow *self,
                                          NatterConversation    *conversation)
{
  g_return_if_fail (NATTER_IS_CONVERSATION_ROW (self));

  if (self->conversation == conversation)
    return;

  if (self->conversation != NULL)
    {
      g_clear_signal_handler (&self->notify_handler, self->conversation);
      g_clear_object (&self->conversation);
      g_signal_group_set_target (self->last_message_signals, NULL);
      g_signal_group_set_target (self->last_sender_signals, NULL);
    }

  if (conversation != NULL)
    {
      self->conversation = g_object_ref (conversation);
      /* Everything the row shows comes from the conversation's properties. */
      self->notify_handler = g_signal_connect_object (conversation, "notify",
                                                      G_CALLBACK (update), self,
                                                      G_CONNECT_SWAPPED);
      if (natter_conversation_is_room (conversation))
        natter_user_avatar_set_text (self->avatar, natter_conversation_get_address (conversation));
      else
        natter_user_avatar_set_user (self->avatar, natter_conversation_get_peer (conversation));
      update (self);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONVERSATION]);
}

static void
natter_conversation_row_dispose (GObject *object)
{
  NatterConversationRow *self = NATTER_CONVERSATION_ROW (object);

  natter_conversation_row_set_conversation (self, NULL);
  g_clear_object (&self->last_message_signals);
  g_clear_object (&self->last_sender_signals);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_CONVERSATION_ROW);
  natter_widget_unparent_children (GTK_WIDGET (self));

  G_OBJECT_CLASS (natter_conversation_row_parent_class)->dispose (object);
}

static void
natter_conversation_row_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  NatterConversationRow *self = NATTER_CONVERSATION_ROW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_conversation_row_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  NatterConversationRow *self = NATTER_CONVERSATION_ROW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      natter_conversation_row_set_conversation (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_conversation_row_class_init (NatterConversationRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_conversation_row_dispose;
  object_class->get_property = natter_conversation_row_get_property;
  object_class->set_property = natter_conversation_row_set_property;

  properties[PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL, NATTER_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (NATTER_TYPE_USER_AVATAR);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "conversation-row");
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-conversation-row.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterConversationRow, avatar);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationRow, preview_label);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationRow, unread_label);
}

static void
natter_conversation_row_init (NatterConversationRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->last_message_signals = g_signal_group_new (NATTER_TYPE_MESSAGE);
  g_signal_group_connect_swapped (self->last_message_signals, "notify::state",
                                  G_CALLBACK (update), self);
  /* An edit or a delete changes the preview. */
  g_signal_group_connect_swapped (self->last_message_signals, "notify::body",
                                  G_CALLBACK (update), self);
  g_signal_group_connect_swapped (self->last_message_signals, "notify::deleted",
                                  G_CALLBACK (update), self);
  self->last_sender_signals = g_signal_group_new (NATTER_TYPE_USER);
  g_signal_group_connect_swapped (self->last_sender_signals, "notify::display-name",
                                  G_CALLBACK (update), self);
}
