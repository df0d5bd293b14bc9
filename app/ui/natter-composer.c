/* natter-composer.c: multi-line message entry.
 *
 * Enter sends, Shift+Enter starts a new line. While the person types, the
 * peers are told (the client limits how often); five quiet seconds or an
 * empty entry tell them it stopped. Drafts are kept per conversation.
 */
#define G_LOG_DOMAIN "natter-composer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "natter-composer.h"
#include "natter-ui-util.h"

#define TYPING_PAUSE_SECONDS 5

struct _NatterComposer
{
  GtkWidget           parent_instance;

  /* template widgets */
  GtkTextView        *text_view;
  GtkLabel           *placeholder_label;
  GtkEmojiChooser    *emoji_chooser;

  /* borrowed references */
  NatterClient       *client;

  /* owned references */
  NatterConversation *conversation;
  GHashTable         *drafts; /* address → text */
  guint               typing_timeout;
  gboolean            typing;
  gboolean            loading_draft;
};

G_DEFINE_FINAL_TYPE (NatterComposer, natter_composer, GTK_TYPE_WIDGET)

enum {
  SIGNAL_SENT,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

char *
natter_composer_dup_text (NatterComposer *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

void
natter_composer_set_text (NatterComposer *self,
                          const char     *text)
{
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), text ? text : "", -1);
}

void
natter_composer_focus (NatterComposer *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

static void
stop_typing (NatterComposer *self)
{
  g_clear_handle_id (&self->typing_timeout, g_source_remove);
  if (self->typing && self->client != NULL && self->conversation != NULL)
    natter_client_send_typing (self->client, natter_conversation_get_address (self->conversation), FALSE);
  self->typing = FALSE;
}

static gboolean
typing_timeout_cb (gpointer user_data)
{
  NatterComposer *self = user_data;

  self->typing_timeout = 0;
  stop_typing (self);
  return G_SOURCE_REMOVE;
}

static gboolean
has_text (NatterComposer *self)
{
  g_autofree char *text = natter_composer_dup_text (self);

  g_strstrip (text);
  return *text != '\0';
}

static void
buffer_changed_cb (NatterComposer *self)
{
  gboolean any = has_text (self);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);

  gtk_widget_set_visible (GTK_WIDGET (self->placeholder_label),
                          gtk_text_buffer_get_char_count (buffer) == 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.send",
                                 any && self->conversation != NULL);

  if (self->loading_draft || self->client == NULL || self->conversation == NULL)
    return;

  if (!any)
    {
      stop_typing (self);
      return;
    }

  natter_client_send_typing (self->client, natter_conversation_get_address (self->conversation), TRUE);
  self->typing = TRUE;
  g_clear_handle_id (&self->typing_timeout, g_source_remove);
  self->typing_timeout = g_timeout_add_seconds (TYPING_PAUSE_SECONDS, typing_timeout_cb, self);
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterComposer *self = NATTER_COMPOSER (widget);
  g_autofree char *text = natter_composer_dup_text (self);
  NatterMessage *message;
  GtkRoot *root;
  char *end;

  if (self->client == NULL || self->conversation == NULL)
    return;

  /* Trailing blank lines are an accident of Enter, not content. */
  end = text + strlen (text);
  while (end > text && g_ascii_isspace (end[-1]))
    *--end = '\0';

  if (!natter_body_is_valid (text, strlen (text)))
    {
      root = gtk_widget_get_root (widget);
      if (*text != '\0' && root != NULL)
        gtk_widget_activate_action (GTK_WIDGET (root), "win.toast", "s",
                                    strlen (text) > 16384
                                    ? _("The message is too long to send.")
                                    : _("The message has characters that cannot be sent."));
      return;
    }

  stop_typing (self);
  message = natter_client_send_message (self->client,
                                        natter_conversation_get_address (self->conversation),
                                        text);
  if (message == NULL)
    return;

  natter_composer_set_text (self, "");
  g_signal_emit (self, signals[SIGNAL_SENT], 0, message);
}

static gboolean
key_pressed_cb (NatterComposer        *self,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                GtkEventControllerKey *controller)
{
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) &&
      (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) == 0)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "composer.send", NULL);
      return TRUE;
    }
  return FALSE;
}

static void
emoji_picked_cb (NatterComposer  *self,
                 const char      *emoji,
                 GtkEmojiChooser *chooser)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);

  gtk_text_buffer_delete_selection (buffer, TRUE, TRUE);
  gtk_text_buffer_insert_at_cursor (buffer, emoji, -1);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

void
natter_composer_set_client (NatterComposer *self,
                            NatterClient   *client)
{
  g_return_if_fail (NATTER_IS_COMPOSER (self));
  self->client = client;
}

void
natter_composer_set_conversation (NatterComposer     *self,
                                  NatterConversation *conversation)
{
  g_autofree char *placeholder = NULL;
  const char *draft = NULL;

  g_return_if_fail (NATTER_IS_COMPOSER (self));

  if (self->conversation == conversation)
    return;

  stop_typing (self);

  if (self->conversation != NULL)
    {
      g_autofree char *text = natter_composer_dup_text (self);
      g_hash_table_insert (self->drafts,
                           g_strdup (natter_conversation_get_address (self->conversation)),
                           g_steal_pointer (&text));
    }

  g_set_object (&self->conversation, conversation);

  if (conversation != NULL)
    {
      draft = g_hash_table_lookup (self->drafts, natter_conversation_get_address (conversation));
      /* Translators: placeholder of the message entry, %s is "Bob" or "#general". */
      placeholder = g_strdup_printf (_("Message %s"), natter_conversation_get_title (conversation));
      gtk_label_set_label (self->placeholder_label, placeholder);
    }

  self->loading_draft = TRUE;
  natter_composer_set_text (self, draft);
  self->loading_draft = FALSE;

  gtk_widget_set_sensitive (GTK_WIDGET (self), conversation != NULL);
}

static void
natter_composer_dispose (GObject *object)
{
  NatterComposer *self = NATTER_COMPOSER (object);

  stop_typing (self);
  g_clear_object (&self->conversation);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_COMPOSER);
  natter_widget_unparent_children (GTK_WIDGET (self));

  G_OBJECT_CLASS (natter_composer_parent_class)->dispose (object);
}

static void
natter_composer_finalize (GObject *object)
{
  NatterComposer *self = NATTER_COMPOSER (object);

  g_hash_table_unref (self->drafts);

  G_OBJECT_CLASS (natter_composer_parent_class)->finalize (object);
}

static void
natter_composer_class_init (NatterComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_composer_dispose;
  object_class->finalize = natter_composer_finalize;

  signals[SIGNAL_SENT] =
    g_signal_new ("sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, NATTER_TYPE_MESSAGE);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "composer");
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, text_view);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, placeholder_label);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, emoji_chooser);
  gtk_widget_class_bind_template_callback (widget_class, buffer_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, key_pressed_cb);
  gtk_widget_class_bind_template_callback (widget_class, emoji_picked_cb);

  gtk_widget_class_install_action (widget_class, "composer.send", NULL, send_action);
}

static void
natter_composer_init (NatterComposer *self)
{
  self->drafts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.send", FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
}
