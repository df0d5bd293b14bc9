/* natter-composer.c: multi-line message entry.
 *
 * Enter sends, Shift+Enter starts a new line. While the person types, the
 * peers are told (the client limits how often); five quiet seconds or an
 * empty entry tell them it stopped. Drafts are kept per conversation.
 *
 * Feature message_actions: the composer answers a message (a bar above
 * the entry quotes it) or edits one of ours (the entry holds its text);
 * Escape or the bar's button cancels, and Up in an empty entry edits our
 * last message, as in most chat apps. In a room, "@" offers its members
 * in a popover that follows the typing; the keys stay in the entry (Up,
 * Down, Enter or Tab, Escape drive the list), so typing never stops.
 */
#define G_LOG_DOMAIN "natter-composer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "natter-composer.h"
#include "natter-image-preview.h"
#include "natter-ui-util.h"

#define TYPING_PAUSE_SECONDS 5

struct _NatterComposer
{
  GtkWidget           parent_instance;

  /* template widgets */
  GtkTextView        *text_view;
  GtkLabel           *placeholder_label;
  GtkEmojiChooser    *emoji_chooser;
  GtkRevealer        *context_revealer;
  GtkImage           *context_icon;
  GtkLabel           *context_title;
  GtkLabel           *context_text;
  GtkPopover         *mention_popover;
  GtkListView        *mention_list;
  GtkSingleSelection *mention_selection;
  GtkFilterListModel *mention_filter_model;
  GtkCustomFilter    *mention_filter;

  /* borrowed references */
  NatterClient       *client;

  /* owned references */
  NatterConversation *conversation;
  NatterRoom         *room;    /* the conversation's, watched for joins and leaves */
  gulong              room_members_handler;
  GHashTable         *drafts; /* address → text */
  NatterMessage      *target;  /* the message answered or edited, or NULL */
  GListModel         *members; /* NatterUser: the room's, for mentions */
  GCancellable       *members_cancellable;
  char               *mention_prefix; /* what follows the "@" being typed */
  guint               typing_timeout;
  gboolean            editing;  /* target is edited, not answered */
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

gboolean
natter_composer_is_editing (NatterComposer *self)
{
  g_return_val_if_fail (NATTER_IS_COMPOSER (self), FALSE);
  return self->target != NULL && self->editing;
}

NatterMessage *
natter_composer_get_target (NatterComposer *self)
{
  g_return_val_if_fail (NATTER_IS_COMPOSER (self), NULL);
  return self->target;
}

static void
set_target (NatterComposer *self,
            NatterMessage  *message,
            gboolean        editing)
{
  g_set_object (&self->target, message);
  self->editing = message != NULL && editing;
  gtk_revealer_set_reveal_child (self->context_revealer, message != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.cancel", message != NULL);
  if (message == NULL)
    return;

  if (editing)
    {
      gtk_image_set_from_icon_name (self->context_icon, "document-edit-symbolic");
      gtk_label_set_label (self->context_title, _("Editing Message"));
      gtk_label_set_label (self->context_text, natter_message_get_body (message));
    }
  else
    {
      NatterUser *sender = natter_client_lookup_user (self->client, natter_message_get_sender (message));
      /* Translators: over the message entry; %s is a person's name. */
      g_autofree char *title = g_strdup_printf (_("Replying to %s"), natter_user_title (sender));
      g_autofree char *text = natter_message_quote_text (natter_message_get_body (message));

      gtk_image_set_from_icon_name (self->context_icon, "mail-reply-sender-symbolic");
      gtk_label_set_label (self->context_title, title);
      gtk_label_set_label (self->context_text, text);
    }
}

void
natter_composer_cancel (NatterComposer *self)
{
  g_return_if_fail (NATTER_IS_COMPOSER (self));

  if (self->target == NULL)
    return;
  /* An edit leaves nothing behind; a reply keeps what was typed. */
  if (self->editing)
    natter_composer_set_text (self, "");
  set_target (self, NULL, FALSE);
}

void
natter_composer_reply (NatterComposer *self,
                       NatterMessage  *message)
{
  g_return_if_fail (NATTER_IS_COMPOSER (self));
  g_return_if_fail (NATTER_IS_MESSAGE (message));

  if (self->editing)
    natter_composer_set_text (self, "");
  set_target (self, message, FALSE);
  natter_composer_focus (self);
}

void
natter_composer_edit (NatterComposer *self,
                      NatterMessage  *message)
{
  GtkTextBuffer *buffer;
  GtkTextIter end;

  g_return_if_fail (NATTER_IS_COMPOSER (self));
  g_return_if_fail (NATTER_IS_MESSAGE (message));

  set_target (self, message, TRUE);
  self->loading_draft = TRUE;
  natter_composer_set_text (self, natter_message_get_body (message));
  self->loading_draft = FALSE;
  buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_place_cursor (buffer, &end);
  natter_composer_focus (self);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  natter_composer_cancel (NATTER_COMPOSER (widget));
  natter_composer_focus (NATTER_COMPOSER (widget));
}

/* Up in an empty entry: our newest message that may still be edited. */
static gboolean
edit_last (NatterComposer *self)
{
  GListModel *model;

  if (self->client == NULL || self->conversation == NULL)
    return FALSE;
  model = natter_conversation_get_messages (self->conversation);
  for (guint i = g_list_model_get_n_items (model); i > 0; i--)
    {
      g_autoptr(NatterMessage) message = g_list_model_get_item (model, i - 1);

      if (natter_client_can_edit (self->client, message))
        {
          natter_composer_edit (self, message);
          return TRUE;
        }
    }
  return FALSE;
}

/* ---- mentions ------------------------------------------------------------ */

static gboolean
mention_match_cb (gpointer item,
                  gpointer user_data)
{
  NatterComposer *self = user_data;
  NatterUser *user = item;
  g_autofree char *name = NULL;
  g_autofree char *display = NULL;
  NatterUser *me = self->client != NULL ? natter_client_get_me (self->client) : NULL;
  gsize n;

  /* Nobody mentions themselves. */
  if (self->mention_prefix == NULL || user == me)
    return FALSE;
  n = strlen (self->mention_prefix);
  name = g_utf8_casefold (natter_user_get_username (user), -1);
  display = g_utf8_casefold (natter_user_get_display_name (user), -1);
  return strncmp (name, self->mention_prefix, n) == 0 || strncmp (display, self->mention_prefix, n) == 0;
}

static void update_mentions (NatterComposer *self);

static void
members_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterComposer) self = user_data;
  g_autoptr(GListModel) members = NULL;
  g_autoptr(GError) error = NULL;

  members = natter_client_room_members_finish (NATTER_CLIENT (object), result, &error);
  if (members == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No members to mention: %s", error->message);
      return;
    }
  g_set_object (&self->members, members);
  gtk_filter_list_model_set_model (self->mention_filter_model, members);
  /* An "@" typed before they came. */
  update_mentions (self);
}

/* Asks the server for the room's members again; those offered now stay
 * until the answer replaces them. */
static void
fetch_members (NatterComposer *self)
{
  g_cancellable_cancel (self->members_cancellable);
  g_clear_object (&self->members_cancellable);
  if (self->client == NULL || self->conversation == NULL ||
      !natter_conversation_is_room (self->conversation))
    return;
  self->members_cancellable = g_cancellable_new ();
  natter_client_room_members_async (self->client, natter_conversation_get_address (self->conversation),
                                    self->members_cancellable, members_cb, g_object_ref (self));
}

/* Someone joined or left the open room (a room_member event moves the
 * count): "@" must offer who is in it now, not who was when it opened. */
static void
room_member_count_cb (NatterComposer *self)
{
  fetch_members (self);
}

static void
watch_room (NatterComposer *self)
{
  if (self->room != NULL)
    g_clear_signal_handler (&self->room_members_handler, self->room);
  g_clear_object (&self->room);
  if (self->conversation == NULL || !natter_conversation_is_room (self->conversation))
    return;
  self->room = natter_conversation_get_room (self->conversation);
  if (self->room == NULL)
    return;
  g_object_ref (self->room);
  self->room_members_handler = g_signal_connect_swapped (self->room, "notify::member-count",
                                                         G_CALLBACK (room_member_count_cb), self);
}

static void
load_members (NatterComposer *self)
{
  g_clear_object (&self->members);
  gtk_filter_list_model_set_model (self->mention_filter_model, NULL);
  watch_room (self);
  fetch_members (self);
}

static gboolean
mentioning (NatterComposer *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->mention_popover));
}

static void
hide_mentions (NatterComposer *self)
{
  g_clear_pointer (&self->mention_prefix, g_free);
  if (mentioning (self))
    gtk_popover_popdown (self->mention_popover);
}

/* The "@" being typed before the cursor: its iter in @at; FALSE when the
 * word at the cursor is not a mention. */
static gboolean
find_mention (NatterComposer *self,
              GtkTextIter    *at,
              GtkTextIter    *cursor)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);

  gtk_text_buffer_get_iter_at_mark (buffer, cursor, gtk_text_buffer_get_insert (buffer));
  *at = *cursor;
  while (gtk_text_iter_backward_char (at))
    {
      gunichar c = gtk_text_iter_get_char (at);

      if (c == '@')
        {
          GtkTextIter before = *at;

          /* protocol.md's rule: at the start or after a character that
           * cannot be part of a username. */
          if (!gtk_text_iter_backward_char (&before))
            return TRUE;
          c = gtk_text_iter_get_char (&before);
          return !(g_unichar_isalnum (c) || c == '_' || c == '.' || c == '-' || c == '@');
        }
      if (!(g_unichar_isalnum (c) || c == '_' || c == '.' || c == '-'))
        return FALSE;
    }
  return FALSE;
}

static void
update_mentions (NatterComposer *self)
{
  GtkTextIter at, cursor;
  GdkRectangle rect;
  int x, y;

  if (self->members == NULL || self->loading_draft || !find_mention (self, &at, &cursor))
    {
      hide_mentions (self);
      return;
    }

  {
    g_autofree char *typed = gtk_text_iter_get_text (&at, &cursor);

    g_free (self->mention_prefix);
    self->mention_prefix = g_utf8_casefold (typed + 1, -1);
  }
  gtk_filter_changed (GTK_FILTER (self->mention_filter), GTK_FILTER_CHANGE_DIFFERENT);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->mention_selection)) == 0)
    {
      if (mentioning (self))
        gtk_popover_popdown (self->mention_popover);
      return;
    }
  gtk_single_selection_set_selected (self->mention_selection, 0);

  /* Over the "@", in the composer's coordinates (the popover's parent). */
  gtk_text_view_get_iter_location (self->text_view, &at, &rect);
  gtk_text_view_buffer_to_window_coords (self->text_view, GTK_TEXT_WINDOW_WIDGET,
                                         rect.x, rect.y, &x, &y);
  {
    graphene_point_t point;

    if (!gtk_widget_compute_point (GTK_WIDGET (self->text_view), GTK_WIDGET (self),
                                   &GRAPHENE_POINT_INIT (x, y), &point))
      point = GRAPHENE_POINT_INIT (0, 0);
    gtk_popover_set_pointing_to (self->mention_popover,
                                 &(GdkRectangle) { (int) point.x, (int) point.y, 1, rect.height });
  }
  if (!mentioning (self))
    gtk_popover_popup (self->mention_popover);
}

/* Puts "@username " in place of what was typed after the "@". */
static void
insert_mention (NatterComposer *self,
                NatterUser     *user)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  g_autofree char *text = g_strdup_printf ("@%s ", natter_user_get_username (user));
  GtkTextIter at, cursor;

  if (!find_mention (self, &at, &cursor))
    return;
  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_delete (buffer, &at, &cursor);
  gtk_text_buffer_insert (buffer, &at, text, -1);
  gtk_text_buffer_end_user_action (buffer);
  hide_mentions (self);
}

/* A member: the name, and "@username" dim beside it. */
static void
mention_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *username = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (username), 0);
  gtk_widget_set_hexpand (username, TRUE);
  gtk_widget_add_css_class (username, "dim-label");
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), username);
  gtk_list_item_set_child (item, box);
}

static void
mention_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item)
{
  NatterUser *user = gtk_list_item_get_item (item);
  GtkWidget *name = gtk_widget_get_first_child (gtk_list_item_get_child (item));
  g_autofree char *at = g_strdup_printf ("@%s", natter_user_get_username (user));

  gtk_label_set_label (GTK_LABEL (name), natter_user_get_display_name (user));
  gtk_label_set_label (GTK_LABEL (gtk_widget_get_next_sibling (name)), at);
}

static void
mention_activate_cb (NatterComposer *self,
                     guint           position)
{
  g_autoptr(NatterUser) user = g_list_model_get_item (G_LIST_MODEL (self->mention_selection), position);

  if (user != NULL)
    insert_mention (self, user);
  natter_composer_focus (self);
}

/* Up, Down, Enter, Tab and Escape while the list shows. */
static gboolean
mention_key (NatterComposer *self,
             guint           keyval)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->mention_selection));
  guint selected = gtk_single_selection_get_selected (self->mention_selection);

  if (!mentioning (self) || n == 0)
    return FALSE;

  switch (keyval)
    {
    case GDK_KEY_Up:
    case GDK_KEY_Down:
      selected = selected == GTK_INVALID_LIST_POSITION ? 0 :
                 keyval == GDK_KEY_Down ? (selected + 1) % n : (selected + n - 1) % n;
      gtk_single_selection_set_selected (self->mention_selection, selected);
      gtk_widget_activate_action (GTK_WIDGET (self->mention_list), "list.scroll-to-item", "u", selected);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
    case GDK_KEY_Tab:
      mention_activate_cb (self, selected == GTK_INVALID_LIST_POSITION ? 0 : selected);
      return TRUE;
    case GDK_KEY_Escape:
      hide_mentions (self);
      return TRUE;
    default:
      return FALSE;
    }
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

  update_mentions (self);

  /* Editing is not typing a new message: nobody is told. */
  if (self->editing)
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
  hide_mentions (self);

  if (self->target != NULL && self->editing)
    {
      /* An edit the client no longer allows (deleted meanwhile) is
       * dropped with the edit bar; the text stays for the person. */
      if (natter_client_edit_message (self->client, self->target, text))
        natter_composer_set_text (self, "");
      set_target (self, NULL, FALSE);
      return;
    }

  if (self->target != NULL)
    message = natter_client_reply_to_message (self->client, self->target, text);
  else
    message = natter_client_send_message (self->client,
                                          natter_conversation_get_address (self->conversation),
                                          text);
  if (message == NULL)
    return;

  set_target (self, NULL, FALSE);
  natter_composer_set_text (self, "");
  g_signal_emit (self, signals[SIGNAL_SENT], 0, message);
}

typedef struct {
  NatterComposer *self;
  char           *address;   /* the conversation when the files were chosen */
} Attach;

static void
previews_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Attach *d = user_data;
  NatterComposer *self = d->self;
  NatterFileAttachment *attachments;
  g_autoptr(GError) error = NULL;
  NatterMessage *message = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  guint n = 0;

  attachments = natter_image_preview_attachments_finish (result, &n, &error);
  if (attachments != NULL && self->client != NULL)
    message = natter_client_send_attachments (self->client, d->address, attachments, n, NULL, &error);
  natter_image_preview_attachments_free (attachments, n);
  if (message != NULL)
    g_signal_emit (self, signals[SIGNAL_SENT], 0, message);
  else if (root != NULL && error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not send the file: %s"), error->message);

      gtk_widget_activate_action (GTK_WIDGET (root), "win.toast", "s", text);
    }
  g_object_unref (d->self);
  g_free (d->address);
  g_free (d);
}

void
natter_composer_attach_files (NatterComposer  *self,
                              GFile          **files,
                              guint            n_files)
{
  Attach *d;

  g_return_if_fail (NATTER_IS_COMPOSER (self));
  if (self->client == NULL || self->conversation == NULL || n_files == 0)
    return;
  d = g_new0 (Attach, 1);
  d->self = g_object_ref (self);
  d->address = g_strdup (natter_conversation_get_address (self->conversation));
  natter_image_preview_attachments_async (files, n_files, NULL, previews_cb, d);
}

/* The chosen files go at once, as a message of their own: the text being
 * written stays for the next message. */
static void
attach_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    NatterComposer  *self)
{
  g_autoptr(GListModel) chosen = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      chosen = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      for (guint i = 0, n = g_list_model_get_n_items (chosen); i < n; i++)
        g_ptr_array_add (files, g_list_model_get_item (chosen, i));
      natter_composer_attach_files (self, (GFile **) files->pdata, files->len);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
attach_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  NatterComposer *self = NATTER_COMPOSER (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *chooser;

  if (self->client == NULL || self->conversation == NULL)
    return;
  if (!natter_client_get_files_enabled (self->client))
    {
      if (root != NULL)
        gtk_widget_activate_action (GTK_WIDGET (root), "win.toast", "s",
                                    _("This server does not accept files."));
      return;
    }
  chooser = gtk_file_chooser_native_new (_("Attach File"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (attach_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
key_pressed_cb (NatterComposer        *self,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                GtkEventControllerKey *controller)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  gboolean plain = (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) == 0;

  if (plain && mention_key (self, keyval))
    return TRUE;
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) && plain)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "composer.send", NULL);
      return TRUE;
    }
  if (keyval == GDK_KEY_Escape && plain && self->target != NULL)
    {
      natter_composer_cancel (self);
      return TRUE;
    }
  if (keyval == GDK_KEY_Up && plain && self->target == NULL &&
      gtk_text_buffer_get_char_count (buffer) == 0)
    return edit_last (self);
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
  hide_mentions (self);
  /* An edit's text is not a draft: it goes with the edit. */
  natter_composer_cancel (self);

  if (self->conversation != NULL)
    {
      g_autofree char *text = natter_composer_dup_text (self);
      g_hash_table_insert (self->drafts,
                           g_strdup (natter_conversation_get_address (self->conversation)),
                           g_steal_pointer (&text));
    }

  g_set_object (&self->conversation, conversation);
  load_members (self);

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
natter_composer_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  NatterComposer *self = NATTER_COMPOSER (widget);

  GTK_WIDGET_CLASS (natter_composer_parent_class)->size_allocate (widget, width, height, baseline);
  if (self->mention_popover != NULL)
    gtk_popover_present (self->mention_popover);
}

static void
natter_composer_dispose (GObject *object)
{
  NatterComposer *self = NATTER_COMPOSER (object);

  stop_typing (self);
  if (self->room != NULL)
    g_clear_signal_handler (&self->room_members_handler, self->room);
  g_clear_object (&self->room);
  g_cancellable_cancel (self->members_cancellable);
  g_clear_object (&self->members_cancellable);
  g_clear_object (&self->members);
  g_clear_object (&self->target);
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
  g_free (self->mention_prefix);

  G_OBJECT_CLASS (natter_composer_parent_class)->finalize (object);
}

static void
natter_composer_class_init (NatterComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_composer_dispose;
  object_class->finalize = natter_composer_finalize;
  widget_class->size_allocate = natter_composer_size_allocate;

  signals[SIGNAL_SENT] =
    g_signal_new ("sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, NATTER_TYPE_MESSAGE);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "composer");
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, text_view);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, placeholder_label);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, emoji_chooser);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, context_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, context_icon);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, context_title);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, context_text);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, mention_popover);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, mention_list);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, mention_selection);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, mention_filter_model);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, mention_filter);
  gtk_widget_class_bind_template_callback (widget_class, buffer_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, key_pressed_cb);
  gtk_widget_class_bind_template_callback (widget_class, emoji_picked_cb);
  gtk_widget_class_bind_template_callback (widget_class, mention_activate_cb);

  gtk_widget_class_install_action (widget_class, "composer.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "composer.attach", NULL, attach_action);
  gtk_widget_class_install_action (widget_class, "composer.cancel", NULL, cancel_action);
}

static void
natter_composer_init (NatterComposer *self)
{
  self->drafts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_custom_filter_set_filter_func (self->mention_filter, mention_match_cb, self, NULL);
  {
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

    g_signal_connect (factory, "setup", G_CALLBACK (mention_setup_cb), NULL);
    g_signal_connect (factory, "bind", G_CALLBACK (mention_bind_cb), NULL);
    gtk_list_view_set_factory (self->mention_list, factory);
    g_object_unref (factory);
  }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.send", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.cancel", FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
}
