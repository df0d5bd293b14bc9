/* natter-message-row.c: a message bubble.
 *
 * Consecutive messages from one sender form a group: only the first shows
 * the avatar and (in rooms) the name. Our own messages sit on the right in
 * the accent colour with their state: sending, sent, seen, or not sent. A
 * message the server refused for good offers to be sent again or deleted.
 * A notice (a room's "bob joined") is a centred, dim line instead.
 *
 * Feature message_actions: a reply quotes its original over the text (a
 * click shows it), an edited message says so beside its time, a deleted
 * one says only that, reactions are pills under the bubble, and a mention
 * of us is highlighted. The message changes in place, so the row follows
 * its notifications rather than being bound again. Its menu (right click,
 * long press, the hover button, the Menu key) offers what the client
 * allows on it; the actions of the composer (reply, edit) belong to the
 * conversation view, which the row asks through "conversation." actions.
 */
#define G_LOG_DOMAIN "natter-message-row"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include <adwaita.h>

#include "natter-image-cache.h"
#include "natter-image-preview.h"
#include "natter-image-viewer.h"
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
  GtkWidget          *content_box;
  GtkBox             *bubble;
  GtkLabel           *sender_label;
  GtkWidget          *quote_button;
  GtkLabel           *quote_sender_label;
  GtkLabel           *quote_body_label;
  GtkLabel           *body_label;
  GtkLabel           *edited_label;
  GtkLabel           *time_label;
  GtkLabel           *status_label;
  GtkWidget          *reactions_box;
  GtkWidget          *files_box;
  GtkWidget          *hover_button;

  /* borrowed references */
  NatterClient       *client;

  /* owned references */
  NatterMessage      *message;
  NatterConversation *conversation;
  gulong              message_handler;
  gulong              read_handler;

  GtkWidget          *menu;         /* GtkPopoverMenu, made on first use */
  GtkWidget          *emoji_chooser; /* GtkEmojiChooser for reactions, likewise */
  GCancellable       *images;       /* the inline images' loads, for the files shown */

  gboolean            show_day;
  gboolean            show_header;
};

G_DEFINE_FINAL_TYPE (NatterMessageRow, natter_message_row, GTK_TYPE_WIDGET)

static gboolean
is_failed (NatterMessageRow *self)
{
  return self->message != NULL &&
         natter_message_get_state (self->message) == NATTER_MESSAGE_STATE_FAILED;
}

/* What the client allows on the message: a menu item for each enabled
 * action (the others hide), and the hover button when there is any. */
static void
update_actions (NatterMessageRow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  NatterMessage *message = self->message;
  gboolean stored = message != NULL && self->client != NULL && !natter_message_is_notice (message);
  gboolean react = stored && natter_client_can_react (self->client, message);
  gboolean any;

  gtk_widget_action_set_enabled (widget, "message.retry", is_failed (self));
  gtk_widget_action_set_enabled (widget, "message.delete",
                                 is_failed (self) || (stored && natter_client_can_delete (self->client, message)));
  gtk_widget_action_set_enabled (widget, "message.edit", stored && natter_client_can_edit (self->client, message));
  gtk_widget_action_set_enabled (widget, "message.reply", react);
  gtk_widget_action_set_enabled (widget, "message.react", react);
  gtk_widget_action_set_enabled (widget, "message.toggle-reaction", react);
  gtk_widget_action_set_enabled (widget, "message.copy", stored && !natter_message_get_deleted (message));
  gtk_widget_action_set_enabled (widget, "message.show-original",
                                 message != NULL && natter_message_get_reply_to (message) != NULL);

  any = stored && (react || is_failed (self) || !natter_message_get_deleted (message));
  gtk_widget_action_set_enabled (widget, "message.menu", any);
  gtk_widget_set_visible (self->hover_button, any && natter_client_get_message_actions (self->client));
}

static void
update_status (NatterMessageRow *self)
{
  const char *text = NULL;
  gboolean failed = FALSE;

  update_actions (self);

  if (self->message == NULL || !natter_message_get_outgoing (self->message))
    {
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
      gtk_widget_set_visible (self->failed_box, FALSE);
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

  /* The pills and the hover button sit on the bubble's inner side. */
  gtk_widget_set_halign (GTK_WIDGET (self->bubble), outgoing ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_widget_set_halign (self->reactions_box, outgoing ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_box_reorder_child_after (self->line_box, self->hover_button,
                               outgoing ? self->failed_box : self->content_box);

  if (self->show_header)
    gtk_widget_add_css_class (GTK_WIDGET (self), "first-in-group");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "first-in-group");
}

static const char *
me_name (NatterMessageRow *self)
{
  NatterUser *me = self->client != NULL ? natter_client_get_me (self->client) : NULL;

  return me != NULL ? natter_user_get_username (me) : NULL;
}

static void
update_body (NatterMessageRow *self)
{
  NatterMessage *message = self->message;
  gboolean deleted = natter_message_get_deleted (message);
  gboolean mentioned = !deleted && !natter_message_get_outgoing (message) &&
                       natter_message_mentions (message, me_name (self));

  if (deleted)
    {
      gtk_label_set_label (self->body_label, _("This message was deleted"));
      gtk_widget_add_css_class (GTK_WIDGET (self->body_label), "deleted");
      gtk_widget_add_css_class (GTK_WIDGET (self->bubble), "deleted");
    }
  else
    {
      g_autofree char *markup = natter_linkify_mention (natter_message_get_body (message),
                                                         mentioned ? me_name (self) : NULL);

      gtk_widget_remove_css_class (GTK_WIDGET (self->bubble), "deleted");
      gtk_label_set_markup (self->body_label, markup);
      gtk_widget_remove_css_class (GTK_WIDGET (self->body_label), "deleted");
    }

  if (mentioned)
    gtk_widget_add_css_class (GTK_WIDGET (self->bubble), "mentioned");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->bubble), "mentioned");
}

static void
update_edited (NatterMessageRow *self)
{
  gint64 ts = natter_message_get_edited_ts (self->message);
  gboolean edited = ts > 0 && !natter_message_get_deleted (self->message);

  gtk_widget_set_visible (GTK_WIDGET (self->edited_label), edited);
  if (edited)
    {
      g_autofree char *day = natter_format_day (ts);
      g_autofree char *clock = natter_format_clock (ts);
      /* Translators: tooltip of a message's "edited" mark: "Edited Today, 14:03". */
      g_autofree char *tooltip = g_strdup_printf (_("Edited %s, %s"), day, clock);

      gtk_widget_set_tooltip_text (GTK_WIDGET (self->edited_label), tooltip);
    }
}

static void
update_quote (NatterMessageRow *self)
{
  const NatterQuote *quote = natter_message_get_reply_to (self->message);
  NatterUser *sender;

  gtk_widget_set_visible (self->quote_button, quote != NULL);
  if (quote == NULL)
    return;

  sender = natter_client_lookup_user (self->client, quote->sender);
  gtk_label_set_label (self->quote_sender_label, sender != NULL ? natter_user_title (sender) : quote->sender);
  if (quote->deleted)
    {
      gtk_label_set_label (self->quote_body_label, _("The original message was deleted"));
      gtk_widget_add_css_class (GTK_WIDGET (self->quote_body_label), "deleted");
    }
  else
    {
      gtk_label_set_label (self->quote_body_label, quote->body);
      gtk_widget_remove_css_class (GTK_WIDGET (self->quote_body_label), "deleted");
    }
}

/* "Bob and Carol reacted with 👍" (display names). */
static char *
reaction_tooltip (NatterMessageRow     *self,
                  const NatterReaction *reaction)
{
  g_autoptr(GString) names = g_string_new (NULL);
  guint n = g_strv_length (reaction->users);

  for (guint i = 0; i < n; i++)
    {
      NatterUser *user = natter_client_lookup_user (self->client, reaction->users[i]);
      const char *name = user != NULL ? natter_user_title (user) : reaction->users[i];

      if (i > 0)
        /* Translators: between names in "Bob, Carol and Dave reacted with 👍". */
        g_string_append (names, i == n - 1 ? _(" and ") : _(", "));
      g_string_append (names, name);
    }
  /* Translators: tooltip of a reaction pill: "Bob and Carol reacted with 👍". */
  return g_strdup_printf (_("%s reacted with %s"), names->str, reaction->emoji);
}

static void
update_reactions (NatterMessageRow *self)
{
  GPtrArray *reactions = natter_message_get_reactions (self->message);
  GtkWidget *child;
  GtkWidget *add;

  while ((child = gtk_widget_get_first_child (self->reactions_box)) != NULL)
    gtk_box_remove (GTK_BOX (self->reactions_box), child);

  for (guint i = 0; i < reactions->len; i++)
    {
      const NatterReaction *reaction = g_ptr_array_index (reactions, i);
      g_autofree char *label = g_strdup_printf ("%s %u", reaction->emoji, g_strv_length (reaction->users));
      g_autofree char *tooltip = reaction_tooltip (self, reaction);
      GtkWidget *pill = gtk_button_new_with_label (label);

      gtk_widget_add_css_class (pill, "reaction");
      if (natter_reaction_has_user (reaction, me_name (self)))
        gtk_widget_add_css_class (pill, "mine");
      gtk_widget_set_tooltip_text (pill, tooltip);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (pill), "message.toggle-reaction");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (pill), "s", reaction->emoji);
      gtk_box_append (GTK_BOX (self->reactions_box), pill);
    }

  if (reactions->len > 0)
    {
      add = gtk_button_new_from_icon_name ("face-smile-symbolic");
      gtk_widget_add_css_class (add, "reaction");
      gtk_widget_add_css_class (add, "add-reaction");
      gtk_widget_set_tooltip_text (add, _("Add Reaction"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (add), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Add Reaction"), -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (add), "message.react");
      gtk_box_append (GTK_BOX (self->reactions_box), add);
    }
  gtk_widget_set_visible (self->reactions_box, reactions->len > 0);
}

/* The icon of a file's type, from its MIME type. */
static GIcon *
file_icon (NatterMessageFile *file)
{
  g_autofree char *type = g_content_type_from_mime_type (natter_message_file_get_mime (file));

  return g_content_type_get_symbolic_icon (type != NULL ? type : "application/octet-stream");
}

static void
upload_progress_cb (NatterFileTransfer *transfer,
                    GParamSpec         *pspec,
                    GtkProgressBar     *bar)
{
  gint64 total = natter_file_transfer_get_bytes_total (transfer);

  gtk_progress_bar_set_fraction (bar, total > 0 ? (double) natter_file_transfer_get_bytes_done (transfer) / total
                                                : 0.0);
}

/* While the message's files go up: a progress bar and Cancel. */
static void
add_upload_progress (NatterMessageRow *self)
{
  NatterFileTransfer *transfer;
  GtkWidget *box, *bar, *cancel;

  if (self->client == NULL ||
      natter_message_get_state (self->message) != NATTER_MESSAGE_STATE_SENDING ||
      (transfer = natter_client_get_upload (self->client, self->message)) == NULL ||
      natter_file_transfer_get_finished (transfer))
    return;

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  bar = gtk_progress_bar_new ();
  gtk_widget_set_hexpand (bar, TRUE);
  gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
  upload_progress_cb (transfer, NULL, GTK_PROGRESS_BAR (bar));
  /* Disconnected when the bar goes (the cards are rebuilt). */
  g_signal_connect_object (transfer, "notify::bytes-done", G_CALLBACK (upload_progress_cb), bar, 0);
  cancel = gtk_button_new_from_icon_name ("process-stop-symbolic");
  gtk_widget_add_css_class (cancel, "flat");
  gtk_widget_add_css_class (cancel, "circular");
  gtk_widget_set_tooltip_text (cancel, _("Cancel Upload"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (cancel), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Cancel Upload"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (cancel), "message.cancel-upload");
  gtk_box_append (GTK_BOX (box), bar);
  gtk_box_append (GTK_BOX (box), cancel);
  gtk_box_append (GTK_BOX (self->files_box), box);
}

static void
cancel_upload_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  NatterFileTransfer *transfer;

  if (self->message != NULL && self->client != NULL &&
      (transfer = natter_client_get_upload (self->client, self->message)) != NULL)
    natter_file_transfer_cancel (transfer);
}

/* A card for @file, the @index-th of the message: its type's icon, name
 * and size, and Save (once the server has the file). */
static GtkWidget *
file_card (NatterMessageFile *file,
           guint              index)
{
  g_autoptr(GIcon) icon = file_icon (file);
  g_autofree char *size = g_format_size (natter_message_file_get_size (file));
  const char *name = natter_message_file_get_name (file);
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *image = gtk_image_new_from_gicon (icon);
  GtkWidget *name_label = gtk_label_new (name);
  GtkWidget *size_label = gtk_label_new (size);
  GtkWidget *save = gtk_button_new_from_icon_name ("document-save-symbolic");

  gtk_widget_add_css_class (card, "file-card");
  gtk_widget_add_css_class (card, "card");
  gtk_image_set_icon_size (GTK_IMAGE (image), GTK_ICON_SIZE_LARGE);
  gtk_box_append (GTK_BOX (card), image);
  gtk_label_set_xalign (GTK_LABEL (name_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (size_label), 0);
  gtk_widget_add_css_class (size_label, "caption");
  gtk_widget_add_css_class (size_label, "dim-label");
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_widget_set_valign (labels, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (labels), name_label);
  gtk_box_append (GTK_BOX (labels), size_label);
  gtk_box_append (GTK_BOX (card), labels);
  gtk_widget_add_css_class (save, "flat");
  gtk_widget_add_css_class (save, "circular");
  gtk_widget_set_valign (save, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (save, _("Save File"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (save), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Save File"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (save), "message.save-file");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (save), "u", index);
  /* A file still being uploaded has nothing to save yet. */
  gtk_widget_set_sensitive (save, natter_message_file_get_id (file) > 0);
  gtk_box_append (GTK_BOX (card), save);
  return card;
}

typedef struct {
  NatterMessageRow  *row;
  GtkWidget         *button;
  NatterMessageFile *file;
  guint              index;
} InlineLoad;

static void
inline_loaded_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  InlineLoad *d = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  texture = natter_image_cache_load_finish (result, &error);
  if (gtk_widget_get_parent (d->button) != d->row->files_box)
    ; /* rebuilt meanwhile */
  else if (texture != NULL)
    gtk_picture_set_paintable (GTK_PICTURE (gtk_button_get_child (GTK_BUTTON (d->button))),
                               GDK_PAINTABLE (texture));
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Refused (past the pixel limit) or unreadable: a card instead. */
      GtkWidget *card = file_card (d->file, d->index);

      g_message ("Preview of %s not shown: %s", natter_message_file_get_name (d->file), error->message);
      gtk_widget_set_tooltip_text (card, error->message);
      gtk_box_insert_child_after (GTK_BOX (d->row->files_box), card, d->button);
      gtk_box_remove (GTK_BOX (d->row->files_box), d->button);
    }
  g_object_unref (d->row);
  g_object_unref (d->button);
  g_object_unref (d->file);
  g_free (d);
}

/* @file's preview shown inline, at most NATTER_IMAGE_PREVIEW_SIDE
 * pixels on its longer side, with its aspect; a click opens the viewer. */
static GtkWidget *
inline_image (NatterMessageRow  *self,
              NatterMessageFile *file,
              guint              index)
{
  NatterMessageFile *preview = natter_message_file_get_preview (file);
  guint pw = natter_message_file_get_width (preview), ph = natter_message_file_get_height (preview);
  GtkWidget *button = gtk_button_new ();
  GtkWidget *picture = gtk_picture_new ();
  double scale;
  InlineLoad *d;

  if (pw == 0 || ph == 0)
    {
      /* No size given: its image's, else a usual photo's. */
      pw = natter_message_file_get_width (file) > 0 ? natter_message_file_get_width (file) : 4;
      ph = natter_message_file_get_height (file) > 0 ? natter_message_file_get_height (file) : 3;
    }
  scale = MIN (1.0, (double) NATTER_IMAGE_PREVIEW_SIDE / MAX (pw, ph));
  if (MAX (pw, ph) < 48)
    scale = 48.0 / MAX (pw, ph);
  gtk_widget_set_size_request (picture, MAX (1, (int) (pw * scale)), MAX (1, (int) (ph * scale)));
  gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_CONTAIN);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_picture_set_alternative_text (GTK_PICTURE (picture), natter_message_file_get_name (file));
  gtk_button_set_child (GTK_BUTTON (button), picture);
  gtk_widget_add_css_class (button, "inline-image");
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (button, natter_message_file_get_name (file));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Open Image"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "message.view-image");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "u", index);

  d = g_new0 (InlineLoad, 1);
  d->row = g_object_ref (self);
  d->button = g_object_ref (button);
  d->file = g_object_ref (file);
  d->index = index;
  natter_image_cache_load_async (self->client, preview, NATTER_IMAGE_PREVIEW_MAX_PIXELS,
                                 NATTER_IMAGE_PREVIEW_SIDE, self->images, inline_loaded_cb, d);
  return button;
}

/* One card per file, or the image inline when the file has a preview
 * and the server has both. */
static void
update_files (NatterMessageRow *self)
{
  GListModel *files = natter_message_get_files (self->message);
  guint n = g_list_model_get_n_items (files);
  GtkWidget *child;
  const char *body = natter_message_get_body (self->message);

  if (self->images != NULL)
    g_cancellable_cancel (self->images);
  g_clear_object (&self->images);
  self->images = g_cancellable_new ();
  while ((child = gtk_widget_get_first_child (self->files_box)) != NULL)
    gtk_box_remove (GTK_BOX (self->files_box), child);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterMessageFile) file = g_list_model_get_item (files, i);
      NatterMessageFile *preview = natter_message_file_get_preview (file);

      if (self->client != NULL && preview != NULL && natter_message_file_get_id (file) > 0 &&
          natter_message_file_get_id (preview) > 0)
        gtk_box_append (GTK_BOX (self->files_box), inline_image (self, file, i));
      else
        gtk_box_append (GTK_BOX (self->files_box), file_card (file, i));
    }
  if (n > 0)
    add_upload_progress (self);
  gtk_widget_set_visible (self->files_box, n > 0);
  /* A message of files alone has no text to show. */
  gtk_widget_set_visible (GTK_WIDGET (self->body_label),
                          n == 0 || natter_message_get_deleted (self->message) || (body != NULL && *body != '\0'));
}

static void
view_image_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(NatterMessageFile) file = NULL;
  NatterImageViewer *viewer;

  if (self->message == NULL || self->client == NULL)
    return;
  file = g_list_model_get_item (natter_message_get_files (self->message), g_variant_get_uint32 (parameter));
  if (file == NULL || natter_message_file_get_id (file) <= 0)
    return;
  viewer = natter_image_viewer_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, self->client, file);
  gtk_window_present (GTK_WINDOW (viewer));
}

typedef struct {
  GtkWidget         *window;  /* for the toast */
  NatterClient      *client;
  NatterMessageFile *file;
} SaveData;

static void
save_data_free (SaveData *d)
{
  g_clear_object (&d->window);
  g_object_unref (d->client);
  g_object_unref (d->file);
  g_free (d);
}

static void
saved_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  SaveData *d = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *name = natter_message_file_get_name (d->file);

  if (natter_client_download_file_finish (NATTER_CLIENT (object), result, &error))
    text = g_strdup_printf (_("Saved %s"), name);
  else
    text = g_strdup_printf (_("Could not save %s: %s"), name, error->message);
  if (d->window != NULL)
    gtk_widget_activate_action (d->window, "win.toast", "s", text);
  save_data_free (d);
}

static void
save_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  SaveData        *d)
{
  g_autoptr(GFile) dest = NULL;

  if (response == GTK_RESPONSE_ACCEPT &&
      (dest = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))) != NULL)
    {
      g_autoptr(NatterFileTransfer) transfer = NULL;

      transfer = natter_client_download_file_async (d->client, d->file, dest, NULL, saved_cb, d);
    }
  else
    save_data_free (d);
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
save_file_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(NatterMessageFile) file = NULL;
  GtkFileChooserNative *chooser;
  SaveData *d;

  if (self->message == NULL || self->client == NULL)
    return;
  file = g_list_model_get_item (natter_message_get_files (self->message), g_variant_get_uint32 (parameter));
  if (file == NULL || natter_message_file_get_id (file) <= 0)
    return;

  d = g_new0 (SaveData, 1);
  d->window = root != NULL ? g_object_ref (GTK_WIDGET (root)) : NULL;
  d->client = g_object_ref (self->client);
  d->file = g_object_ref (file);
  chooser = gtk_file_chooser_native_new (_("Save File"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, NULL, NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), natter_message_file_get_name (file));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (save_response_cb), d);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
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
  else if (g_str_equal (name, "body") || g_str_equal (name, "deleted") || g_str_equal (name, "mentions"))
    {
      update_body (self);
      update_edited (self);
      update_files (self);
    }
  else if (g_str_equal (name, "edited-ts"))
    update_edited (self);
  else if (g_str_equal (name, "reply-to"))
    update_quote (self);
  else if (g_str_equal (name, "reactions"))
    update_reactions (self);
  else if (g_str_equal (name, "files") || g_str_equal (name, "state"))
    update_files (self);
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

  update_body (self);
  update_edited (self);
  update_quote (self);
  update_reactions (self);
  update_files (self);
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

typedef struct {
  NatterClient  *client;   /* borrowed: the application owns it */
  NatterMessage *message;
} DeleteData;

static void
delete_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    DeleteData       *d)
{
  if (g_str_equal (response, "delete"))
    natter_client_delete_message (d->client, d->message);
  g_object_unref (d->message);
  g_free (d);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  GtkWidget *dialog;
  DeleteData *d;

  if (self->message == NULL)
    return;

  /* Never stored: it goes from this device only, no need to ask. The row
   * is unbound (and may be reused) once the message leaves the model: the
   * toast goes out first, from a widget still in the window. */
  if (is_failed (self))
    {
      gtk_widget_activate_action (widget, "win.toast", "s", _("Message deleted"));
      natter_client_discard_message (self->client, self->message);
      return;
    }

  /* The dialog may outlive the row (scrolled away and reused): it holds
   * the message, not the row. */
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                   _("Delete Message?"),
                                   _("It will be deleted for everyone in this conversation. This cannot be undone."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  d = g_new0 (DeleteData, 1);
  d->client = self->client;
  d->message = g_object_ref (self->message);
  g_signal_connect (dialog, "response", G_CALLBACK (delete_response_cb), d);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* "message.reply" and "message.edit" are the composer's work: the view's
 * "conversation.reply" and "conversation.edit", with the message's id. */
static void
composer_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  g_autofree char *name = g_strconcat ("conversation.", action_name + strlen ("message."), NULL);

  if (self->message != NULL)
    gtk_widget_activate_action (widget, name, "x", natter_message_get_id (self->message));
}

static void
show_original_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  const NatterQuote *quote = self->message != NULL ? natter_message_get_reply_to (self->message) : NULL;

  if (quote != NULL)
    gtk_widget_activate_action (widget, "conversation.show-message", "x", quote->id);
}

static void
toggle_reaction_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  const char *emoji = g_variant_get_string (parameter, NULL);
  gboolean mine;

  if (self->message == NULL)
    return;
  /* One's own pill takes the reaction back; another's joins it. */
  mine = natter_reaction_has_user (natter_message_find_reaction (self->message, emoji), me_name (self));
  natter_client_react (self->client, self->message, emoji, !mine);
}

static void
emoji_picked_cb (NatterMessageRow *self,
                 const char       *emoji)
{
  if (self->message != NULL &&
      !natter_reaction_has_user (natter_message_find_reaction (self->message, emoji), me_name (self)))
    natter_client_react (self->client, self->message, emoji, TRUE);
}

static void
react_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);
  graphene_point_t point;

  if (self->message == NULL)
    return;

  if (self->emoji_chooser == NULL)
    {
      self->emoji_chooser = gtk_emoji_chooser_new ();
      gtk_widget_set_parent (self->emoji_chooser, widget);
      g_signal_connect_object (self->emoji_chooser, "emoji-picked", G_CALLBACK (emoji_picked_cb),
                               self, G_CONNECT_SWAPPED);
    }

  if (!gtk_widget_compute_point (GTK_WIDGET (self->bubble), widget,
                                 &GRAPHENE_POINT_INIT (gtk_widget_get_width (GTK_WIDGET (self->bubble)) / 2.f, 0),
                                 &point))
    point = GRAPHENE_POINT_INIT (0, 0);
  gtk_popover_set_pointing_to (GTK_POPOVER (self->emoji_chooser),
                               &(GdkRectangle) { (int) point.x, (int) point.y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->emoji_chooser));
}

static void
pointer_enter_cb (NatterMessageRow *self)
{
  gtk_widget_set_opacity (self->hover_button, 1);
}

static void
pointer_leave_cb (NatterMessageRow *self)
{
  gtk_widget_set_opacity (self->hover_button, 0);
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

      append_hidden_when_disabled (model, _("_Reply"), "message.reply");
      append_hidden_when_disabled (model, _("Add _Reaction…"), "message.react");
      append_hidden_when_disabled (model, _("_Edit"), "message.edit");
      append_hidden_when_disabled (model, _("_Copy Text"), "message.copy");
      append_hidden_when_disabled (model, _("_Retry"), "message.retry");
      append_hidden_when_disabled (model, _("_Delete…"), "message.delete");
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
  if (self->emoji_chooser != NULL)
    gtk_popover_present (GTK_POPOVER (self->emoji_chooser));
}

static void
natter_message_row_dispose (GObject *object)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (object);

  natter_message_row_set_message (self, NULL, NULL);
  if (self->images != NULL)
    g_cancellable_cancel (self->images);
  g_clear_object (&self->images);
  g_clear_pointer (&self->menu, gtk_widget_unparent);
  g_clear_pointer (&self->emoji_chooser, gtk_widget_unparent);
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
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, content_box);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, bubble);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, quote_button);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, quote_sender_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, quote_body_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, body_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, edited_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, reactions_box);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, files_box);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, hover_button);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, status_label);
  gtk_widget_class_bind_template_callback (widget_class, right_click_cb);
  gtk_widget_class_bind_template_callback (widget_class, long_press_cb);
  gtk_widget_class_bind_template_callback (widget_class, pointer_enter_cb);
  gtk_widget_class_bind_template_callback (widget_class, pointer_leave_cb);

  gtk_widget_class_install_action (widget_class, "message.copy", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "message.menu", NULL, menu_action);
  gtk_widget_class_install_action (widget_class, "message.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "message.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "message.reply", NULL, composer_action);
  gtk_widget_class_install_action (widget_class, "message.edit", NULL, composer_action);
  gtk_widget_class_install_action (widget_class, "message.react", NULL, react_action);
  gtk_widget_class_install_action (widget_class, "message.toggle-reaction", "s", toggle_reaction_action);
  gtk_widget_class_install_action (widget_class, "message.show-original", NULL, show_original_action);
  gtk_widget_class_install_action (widget_class, "message.save-file", "u", save_file_action);
  gtk_widget_class_install_action (widget_class, "message.view-image", "u", view_image_action);
  gtk_widget_class_install_action (widget_class, "message.cancel-upload", NULL, cancel_upload_action);

  /* A focused message: its menu, and each action of it (the shortcuts
   * window lists them). */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, "message.menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Menu, 0, "message.menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_ALT_MASK, "message.reply", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_ALT_MASK, "message.edit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "message.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_period, GDK_CONTROL_MASK, "message.react", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK, "message.copy", NULL);
}

static void
natter_message_row_init (NatterMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Focusable itself, so that the keys above reach it from the list. */
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  update_status (self);
}

GtkWidget *
natter_message_row_new (NatterClient *client)
{
  NatterMessageRow *self = g_object_new (NATTER_TYPE_MESSAGE_ROW, NULL);

  self->client = client;
  return GTK_WIDGET (self);
}
