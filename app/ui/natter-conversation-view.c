/* natter-conversation-view.c: a conversation on screen.
 *
 * The messages are the conversation's own GListModel in a GtkListView. The
 * rows are made by a signal factory rather than a .ui factory because each
 * row's look depends on the message before it (grouping by sender, day
 * separators), which a binding expression cannot reach; the view keeps the
 * bound rows in a table so it can fix the neighbour of an inserted message.
 *
 * Scrolling: the view sticks to the bottom while the person is there, so new
 * messages scroll into view; once they scroll up it stays put and offers a
 * jump button. Near the top it pages in older history.
 *
 * Showing one message (a search hit): protocol 1 pages history only
 * backwards (`before`), so the view pages back from what it holds until
 * the message is there, then scrolls to it and marks it for a moment.
 * A reply's quote shows its original the same way.
 *
 * Feature message_actions: the rows ask the view to answer or edit a
 * message ("conversation.reply", "conversation.edit"), which the composer
 * does; the header's bell menu sets the conversation's notification level
 * (a property action on "notify-level", so its radio items follow the
 * level wherever it was changed).
 */
#define G_LOG_DOMAIN "natter-conversation-view"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "natter-composer.h"
#include "natter-conversation-view.h"
#include "natter-message-list.h"
#include "natter-message-row.h"
#include "natter-room-settings-window.h"
#include "natter-ui-util.h"

/* Messages from one sender this close together share one header. */
#define GROUP_GAP_MS      (5 * 60 * 1000)
/* How close to an edge counts as being at it, in pixels. */
#define STICKY_DISTANCE   48
#define LOAD_OLDER_MARGIN 400
/* How long a message shown from a search stays marked. */
#define HIT_MARK_MS       2500

struct _NatterConversationView
{
  NatterPage          parent_instance;

  /* template widgets */
  AdwWindowTitle     *window_title;
  GtkWidget          *room_menu_button;
  GtkWidget          *notify_button;
  GtkScrolledWindow  *scrolled;
  GtkListView        *list_view;
  GtkNoSelection     *selection;
  GtkRevealer        *loading_revealer;
  GtkRevealer        *jump_revealer;
  GtkWidget          *empty_label;
  GtkRevealer        *typing_revealer;
  GtkLabel           *typing_label;
  NatterComposer     *composer;

  /* borrowed references */
  NatterClient       *client;

  /* owned references */
  NatterConversation *conversation;
  GHashTable         *rows; /* NatterMessage* → NatterMessageRow* (bound rows) */
  GCancellable       *load_cancellable;
  GSignalGroup       *conversation_signals;
  GSignalGroup       *peer_signals;
  GSignalGroup       *room_signals;
  GSignalGroup       *client_signals;
  guint               scroll_idle;
  NatterMessage      *hit;          /* the message shown from a search, marked */
  guint               hit_timeout;
  gint64              seek_id;      /* a message to show once it is loaded */

  gboolean            sticky;
  gboolean            loading_older;
};

G_DEFINE_FINAL_TYPE (NatterConversationView, natter_conversation_view, NATTER_TYPE_PAGE)

enum {
  PROP_0,
  PROP_CONVERSATION,
  PROP_NOTIFY_LEVEL,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void maybe_load_older (NatterConversationView *self);
static void seek (NatterConversationView *self);

/* ---- Rows ---------------------------------------------------------------- */

static void
compute_grouping (NatterConversationView *self,
                  guint                   position,
                  NatterMessage          *message,
                  gboolean               *show_day,
                  gboolean               *show_header)
{
  g_autoptr(NatterMessage) previous = NULL;

  if (position > 0)
    previous = g_list_model_get_item (G_LIST_MODEL (self->selection), position - 1);

  if (previous == NULL)
    {
      *show_day = TRUE;
      *show_header = TRUE;
      return;
    }

  *show_day = !natter_same_day (natter_message_get_timestamp (previous),
                                natter_message_get_timestamp (message));
  *show_header = *show_day ||
                 g_strcmp0 (natter_message_get_sender (previous),
                            natter_message_get_sender (message)) != 0 ||
                 natter_message_get_timestamp (message) - natter_message_get_timestamp (previous) > GROUP_GAP_MS;
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          NatterConversationView   *self)
{
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_selectable (item, FALSE);
  gtk_list_item_set_child (item, natter_message_row_new (self->client));
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         NatterConversationView   *self)
{
  NatterMessageRow *row = NATTER_MESSAGE_ROW (gtk_list_item_get_child (item));
  NatterMessage *message = gtk_list_item_get_item (item);
  gboolean show_day, show_header;

  compute_grouping (self, gtk_list_item_get_position (item), message, &show_day, &show_header);
  natter_message_row_set_message (row, message, self->conversation);
  natter_message_row_set_grouping (row, show_day, show_header);
  if (message == self->hit)
    gtk_widget_add_css_class (GTK_WIDGET (row), "search-hit");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (row), "search-hit");
  g_hash_table_insert (self->rows, message, row);
}

static void
unbind_cb (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           NatterConversationView   *self)
{
  NatterMessageRow *row = NATTER_MESSAGE_ROW (gtk_list_item_get_child (item));
  NatterMessage *message = gtk_list_item_get_item (item);

  if (g_hash_table_lookup (self->rows, message) == row)
    g_hash_table_remove (self->rows, message);
  natter_message_row_set_message (row, NULL, NULL);
}

/* ---- Scrolling ----------------------------------------------------------- */

static GtkAdjustment *
get_vadjustment (NatterConversationView *self)
{
  return gtk_scrolled_window_get_vadjustment (self->scrolled);
}

static gboolean
is_at_bottom (NatterConversationView *self)
{
  GtkAdjustment *adj = get_vadjustment (self);

  return gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj)
         - gtk_adjustment_get_value (adj) < STICKY_DISTANCE;
}

static gboolean
scroll_idle_cb (gpointer user_data)
{
  NatterConversationView *self = user_data;
  GtkAdjustment *adj = get_vadjustment (self);

  self->scroll_idle = 0;
  if (self->sticky)
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  return G_SOURCE_REMOVE;
}

/* Layout settles after the list has measured its new rows, so the jump to
 * the bottom waits for an idle moment after it. */
static void
queue_scroll_to_bottom (NatterConversationView *self)
{
  /* Nothing to scroll without a conversation; and dispose drops the
   * conversation before it removes the idle, so none is queued after. */
  if (self->conversation == NULL)
    return;
  if (self->scroll_idle == 0)
    self->scroll_idle = g_idle_add_full (G_PRIORITY_LOW, scroll_idle_cb, self, NULL);
}

static void
scroll_to_bottom_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (widget);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));

  self->sticky = TRUE;
  gtk_revealer_set_reveal_child (self->jump_revealer, FALSE);
  if (n > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", n - 1);
  queue_scroll_to_bottom (self);
  natter_conversation_view_update_read (self);
}

static void
value_changed_cb (NatterConversationView *self)
{
  GtkAdjustment *adj = get_vadjustment (self);

  self->sticky = is_at_bottom (self);
  gtk_revealer_set_reveal_child (self->jump_revealer, !self->sticky);

  if (gtk_adjustment_get_value (adj) < LOAD_OLDER_MARGIN)
    maybe_load_older (self);
  if (self->sticky)
    natter_conversation_view_update_read (self);
}

/* Away from the bottom, the list growing or the window shrinking can put
 * messages below the person, or take away the last ones there were. */
static void
upper_changed_cb (NatterConversationView *self)
{
  if (self->sticky)
    queue_scroll_to_bottom (self);
  else
    gtk_revealer_set_reveal_child (self->jump_revealer, !is_at_bottom (self));
}

/* ---- Older history ------------------------------------------------------- */

static void
load_older_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(NatterConversationView) self = user_data;
  g_autoptr(GError) error = NULL;
  int added;

  added = natter_conversation_load_older_finish (NATTER_CONVERSATION (object), result, &error);
  if (added < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->loading_older = FALSE;
  gtk_revealer_set_reveal_child (self->loading_revealer, FALSE);

  if (added < 0)
    {
      g_debug ("Older history: %s", error->message);
      return;
    }

  if (self->seek_id != 0 && NATTER_CONVERSATION (object) == self->conversation)
    {
      seek (self);
      return;
    }

  /* A short screen may still show the top: keep paging until it is full. */
  if (added > 0 && NATTER_CONVERSATION (object) == self->conversation &&
      gtk_adjustment_get_value (get_vadjustment (self)) < LOAD_OLDER_MARGIN)
    maybe_load_older (self);
}

static void
maybe_load_older (NatterConversationView *self)
{
  if (self->conversation == NULL || self->loading_older ||
      !natter_conversation_get_has_more_history (self->conversation) ||
      natter_client_get_state (self->client) != NATTER_CLIENT_STATE_READY)
    return;

  self->loading_older = TRUE;
  gtk_revealer_set_reveal_child (self->loading_revealer, TRUE);
  natter_conversation_load_older_async (self->conversation, self->load_cancellable,
                                        load_older_cb, g_object_ref (self));
}

/* ---- Showing one message ------------------------------------------------- */

static void
set_hit (NatterConversationView *self,
         NatterMessage          *message)
{
  GtkWidget *row;

  if (self->hit != NULL && (row = g_hash_table_lookup (self->rows, self->hit)) != NULL)
    gtk_widget_remove_css_class (row, "search-hit");
  g_set_object (&self->hit, message);
  if (self->hit != NULL && (row = g_hash_table_lookup (self->rows, self->hit)) != NULL)
    gtk_widget_add_css_class (row, "search-hit");
}

static void
hit_timeout_cb (gpointer user_data)
{
  NatterConversationView *self = user_data;

  self->hit_timeout = 0;
  set_hit (self, NULL);
}

/* Scrolls to the message being sought if it is loaded, or pages back
 * towards it. */
static void
seek (NatterConversationView *self)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  gint pos = natter_message_list_find_position (NATTER_MESSAGE_LIST (natter_conversation_get_messages (self->conversation)),
                                                self->seek_id);

  if (pos < 0)
    {
      if (natter_conversation_get_has_more_history (self->conversation))
        maybe_load_older (self);
      else
        self->seek_id = 0; /* not in this conversation */
      return;
    }

  {
    g_autoptr(NatterMessage) message = g_list_model_get_item (model, pos);

    self->seek_id = 0;
    self->sticky = FALSE;
    g_clear_handle_id (&self->scroll_idle, g_source_remove);
    /* The jump button only when there is something below to jump to:
     * scrolling to the hit shows it (value-changed); a conversation that
     * fits on screen has nothing below. */
    gtk_revealer_set_reveal_child (self->jump_revealer, !is_at_bottom (self));
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", (guint) pos);
    set_hit (self, message);
    g_clear_handle_id (&self->hit_timeout, g_source_remove);
    self->hit_timeout = g_timeout_add_once (HIT_MARK_MS, hit_timeout_cb, self);
  }
}

void
natter_conversation_view_show_message (NatterConversationView *self,
                                       gint64                  id)
{
  g_return_if_fail (NATTER_IS_CONVERSATION_VIEW (self));
  g_return_if_fail (id > 0);

  if (self->conversation == NULL)
    return;
  self->seek_id = id;
  seek (self);
}

gboolean
natter_conversation_view_is_message_marked (NatterConversationView *self,
                                            gint64                  id)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION_VIEW (self), FALSE);
  return self->hit != NULL && natter_message_get_id (self->hit) == id;
}

/* ---- Model changes ------------------------------------------------------- */

static void
items_changed_cb (NatterConversationView *self,
                  guint                   position,
                  guint                   removed,
                  guint                   added,
                  GListModel             *model)
{
  guint n = g_list_model_get_n_items (model);
  g_autoptr(NatterMessage) next = NULL;

  gtk_widget_set_visible (self->empty_label,
                          n == 0 && !natter_conversation_get_has_more_history (self->conversation));

  /* The message after the change has a new neighbour; its header and day
   * separator may have to change. */
  if (position + added < n)
    {
      NatterMessageRow *row;

      next = g_list_model_get_item (model, position + added);
      row = g_hash_table_lookup (self->rows, next);
      if (row != NULL)
        {
          gboolean show_day, show_header;

          compute_grouping (self, position + added, next, &show_day, &show_header);
          natter_message_row_set_grouping (row, show_day, show_header);
        }
    }

  if (self->sticky)
    queue_scroll_to_bottom (self);
  natter_conversation_view_update_read (self);
}

void
natter_conversation_view_update_read (NatterConversationView *self)
{
  GtkRoot *root;

  g_return_if_fail (NATTER_IS_CONVERSATION_VIEW (self));

  if (self->conversation == NULL || self->client == NULL)
    return;
  if (natter_conversation_get_unread (self->conversation) == 0)
    return;
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)) || !self->sticky)
    return;

  root = gtk_widget_get_root (GTK_WIDGET (self));
  if (!GTK_IS_WINDOW (root) || !gtk_window_is_active (GTK_WINDOW (root)))
    return;

  natter_client_mark_read (self->client, self->conversation);
}

/* Inviting is offered to those who may: the room's admins and owner. */
static void
update_room_actions (NatterConversationView *self)
{
  NatterRoom *room = self->conversation != NULL ? natter_conversation_get_room (self->conversation) : NULL;
  NatterUser *me = self->client != NULL ? natter_client_get_me (self->client) : NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "conversation.invite",
                                 room != NULL && me != NULL && natter_client_get_room_management (self->client) &&
                                 natter_room_get_role (room, natter_user_get_username (me)) >= NATTER_ROOM_ROLE_ADMIN);
}

/* ---- Header -------------------------------------------------------------- */

/* The subtitle's "Last seen" is relative to @now_ms. */
static void
update_header_at (NatterConversationView *self,
                  gint64                  now_ms)
{
  NatterConversation *conversation = self->conversation;
  g_autofree char *subtitle = NULL;

  if (conversation == NULL)
    {
      adw_window_title_set_title (self->window_title, "");
      adw_window_title_set_subtitle (self->window_title, "");
      gtk_widget_set_visible (self->room_menu_button, FALSE);
      return;
    }

  adw_window_title_set_title (self->window_title, natter_conversation_get_title (conversation));

  if (natter_conversation_is_room (conversation))
    {
      NatterRoom *room = natter_conversation_get_room (conversation);

      if (room != NULL && *natter_room_get_topic (room) != '\0')
        subtitle = g_strdup (natter_room_get_topic (room));
      else if (room != NULL)
        subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members",
                                                 natter_room_get_member_count (room)),
                                    natter_room_get_member_count (room));
      gtk_widget_set_visible (self->room_menu_button, TRUE);
    }
  else
    {
      NatterUser *peer = natter_conversation_get_peer (conversation);

      if (peer == NULL)
        subtitle = g_strdup (natter_presence_label (NATTER_PRESENCE_OFFLINE));
      else if (!natter_user_presence_is_known (peer))
        subtitle = g_strdup_printf ("@%s", natter_user_get_username (peer));
      else if (natter_user_get_presence (peer) == NATTER_PRESENCE_OFFLINE && natter_user_get_last_seen (peer) > 0)
        subtitle = natter_format_last_seen (natter_user_get_last_seen (peer), now_ms);
      else
        subtitle = natter_presence_status_text (peer);
      gtk_widget_set_visible (self->room_menu_button, FALSE);
    }

  adw_window_title_set_subtitle (self->window_title, subtitle ? subtitle : "");
}

static void
update_header (NatterConversationView *self)
{
  update_header_at (self, g_get_real_time () / 1000);
  update_room_actions (self);
}

void
natter_conversation_view_refresh_times (NatterConversationView *self,
                                        gint64                  now_ms)
{
  g_return_if_fail (NATTER_IS_CONVERSATION_VIEW (self));
  update_header_at (self, now_ms);
}

static void
update_typing (NatterConversationView *self)
{
  const char *typing = self->conversation ? natter_conversation_get_typing (self->conversation) : NULL;

  if (typing != NULL)
    gtk_label_set_label (self->typing_label, typing);
  gtk_revealer_set_reveal_child (self->typing_revealer, typing != NULL);
}

static void
conversation_notify_cb (NatterConversationView *self,
                        GParamSpec             *pspec)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "typing"))
    update_typing (self);
  else if (g_str_equal (name, "title") || g_str_equal (name, "room") || g_str_equal (name, "peer"))
    {
      g_signal_group_set_target (self->room_signals, natter_conversation_get_room (self->conversation));
      update_header (self);
    }
  else if (g_str_equal (name, "has-more-history"))
    gtk_widget_set_visible (self->empty_label,
                            g_list_model_get_n_items (G_LIST_MODEL (self->selection)) == 0 &&
                            !natter_conversation_get_has_more_history (self->conversation));
  else if (g_str_equal (name, "unread"))
    natter_conversation_view_update_read (self);
  else if (g_str_equal (name, "notify-level"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTIFY_LEVEL]);
}

/* The room's settings, on the page the menu item names. */
static void
room_settings_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  const char *page = parameter != NULL ? g_variant_get_string (parameter, NULL) : "invitations";
  GtkWindow *dialog;

  if (self->conversation == NULL || !natter_conversation_is_room (self->conversation))
    return;

  dialog = natter_room_settings_window_new (GTK_WINDOW (root), self->client,
                                            natter_conversation_get_address (self->conversation), page);
  gtk_window_present (dialog);
}

/* The stored message @id of the open conversation, or NULL. */
static NatterMessage *
message_by_id (NatterConversationView *self,
               GVariant               *parameter)
{
  GListModel *model = gtk_no_selection_get_model (self->selection);

  if (!NATTER_IS_MESSAGE_LIST (model))
    return NULL;
  return natter_message_list_find_id (NATTER_MESSAGE_LIST (model), g_variant_get_int64 (parameter));
}

static void
reply_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (widget);
  NatterMessage *message = message_by_id (self, parameter);

  if (message != NULL)
    natter_composer_reply (self->composer, message);
}

static void
edit_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (widget);
  NatterMessage *message = message_by_id (self, parameter);

  if (message != NULL && natter_client_can_edit (self->client, message))
    natter_composer_edit (self->composer, message);
}

static void
show_message_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  natter_conversation_view_show_message (NATTER_CONVERSATION_VIEW (widget),
                                         g_variant_get_int64 (parameter));
}

static void
update_notify_button (NatterConversationView *self)
{
  gtk_widget_set_visible (self->notify_button,
                          self->conversation != NULL && self->client != NULL &&
                          natter_client_get_message_actions (self->client));
}

static void
notify_level_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(NatterConversationView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!natter_client_set_notify_level_finish (NATTER_CLIENT (object), result, &error))
    {
      g_autofree char *text = natter_describe_error (error);

      /* The radio items go back to the level the server keeps. */
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTIFY_LEVEL]);
      gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
    }
}

static const char *
get_notify_level (NatterConversationView *self)
{
  if (self->conversation == NULL)
    return "all";
  return natter_notify_level_to_string (natter_conversation_get_notify_level (self->conversation));
}

static void
set_notify_level (NatterConversationView *self,
                  const char             *name)
{
  NatterNotifyLevel level;

  if (self->conversation == NULL || self->client == NULL ||
      !natter_notify_level_from_string (name, &level) ||
      level == natter_conversation_get_notify_level (self->conversation))
    return;
  natter_client_set_notify_level_async (self->client, self->conversation, level, NULL,
                                        notify_level_cb, g_object_ref (self));
}

static void
sent_cb (NatterConversationView *self,
         NatterMessage          *message)
{
  /* Sending is a clear sign of wanting to see the newest messages, and of
   * having read what came before: someone who answers has seen what they
   * answer, whether or not the window manager calls the window active. */
  self->sticky = TRUE;
  gtk_revealer_set_reveal_child (self->jump_revealer, FALSE);
  queue_scroll_to_bottom (self);
  if (self->client != NULL && self->conversation != NULL &&
      natter_conversation_get_unread (self->conversation) > 0)
    natter_client_mark_read (self->client, self->conversation);
}

/* ---- Public -------------------------------------------------------------- */

void
natter_conversation_view_set_client (NatterConversationView *self,
                                     NatterClient           *client)
{
  g_return_if_fail (NATTER_IS_CONVERSATION_VIEW (self));

  self->client = client;
  natter_composer_set_client (self->composer, client);
  g_signal_group_set_target (self->client_signals, client);
  update_notify_button (self);
}

NatterConversation *
natter_conversation_view_get_conversation (NatterConversationView *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION_VIEW (self), NULL);
  return self->conversation;
}

GListModel *
natter_conversation_view_get_model (NatterConversationView *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION_VIEW (self), NULL);
  return gtk_no_selection_get_model (self->selection);
}

void
natter_conversation_view_focus_composer (NatterConversationView *self)
{
  g_return_if_fail (NATTER_IS_CONVERSATION_VIEW (self));
  natter_composer_focus (self->composer);
}

void
natter_conversation_view_set_conversation (NatterConversationView *self,
                                           NatterConversation     *conversation)
{
  GListModel *messages = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION_VIEW (self));

  if (self->conversation == conversation)
    return;

  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  self->loading_older = FALSE;
  self->seek_id = 0;
  g_clear_handle_id (&self->hit_timeout, g_source_remove);
  set_hit (self, NULL);
  gtk_revealer_set_reveal_child (self->loading_revealer, FALSE);

  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_func (natter_conversation_get_messages (self->conversation),
                                          items_changed_cb, self);

  g_set_object (&self->conversation, conversation);
  g_signal_group_set_target (self->conversation_signals, conversation);
  g_signal_group_set_target (self->peer_signals, conversation ? natter_conversation_get_peer (conversation) : NULL);
  g_signal_group_set_target (self->room_signals, conversation ? natter_conversation_get_room (conversation) : NULL);

  if (conversation != NULL)
    messages = natter_conversation_get_messages (conversation);

  g_hash_table_remove_all (self->rows);
  gtk_no_selection_set_model (self->selection, messages);
  natter_composer_set_conversation (self->composer, conversation);

  if (messages != NULL)
    {
      g_signal_connect_object (messages, "items-changed", G_CALLBACK (items_changed_cb),
                               self, G_CONNECT_SWAPPED | G_CONNECT_AFTER);
      gtk_widget_set_visible (self->empty_label,
                              g_list_model_get_n_items (messages) == 0 &&
                              !natter_conversation_get_has_more_history (conversation));
    }

  self->sticky = TRUE;
  gtk_revealer_set_reveal_child (self->jump_revealer, FALSE);
  queue_scroll_to_bottom (self);

  update_header (self);
  update_typing (self);
  update_notify_button (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTIFY_LEVEL]);

  /* A conversation we know nothing of yet gets its newest page at once. */
  if (messages != NULL && g_list_model_get_n_items (messages) < 20)
    maybe_load_older (self);

  natter_conversation_view_update_read (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONVERSATION]);
}

/* ---- GObject ------------------------------------------------------------- */

static void
natter_conversation_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (natter_conversation_view_parent_class)->map (widget);
  natter_conversation_view_update_read (NATTER_CONVERSATION_VIEW (widget));
}

static void
natter_conversation_view_dispose (GObject *object)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (object);

  /* The conversation first: dropping it may queue work (a scroll), which
   * must be removed with everything else before the children go. The
   * adjustment outlives nothing here, but tearing the list down moves it,
   * and its handlers need the children. */
  natter_conversation_view_set_conversation (self, NULL);
  g_clear_handle_id (&self->scroll_idle, g_source_remove);
  if (self->scrolled != NULL)
    g_signal_handlers_disconnect_by_data (get_vadjustment (self), self);
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->conversation_signals);
  g_clear_object (&self->peer_signals);
  g_clear_object (&self->room_signals);
  g_clear_object (&self->client_signals);
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_CONVERSATION_VIEW);
  natter_widget_unparent_children (GTK_WIDGET (self));

  G_OBJECT_CLASS (natter_conversation_view_parent_class)->dispose (object);
}

static void
natter_conversation_view_finalize (GObject *object)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (object);

  g_hash_table_unref (self->rows);

  G_OBJECT_CLASS (natter_conversation_view_parent_class)->finalize (object);
}

static void
natter_conversation_view_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    case PROP_NOTIFY_LEVEL:
      g_value_set_string (value, get_notify_level (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_conversation_view_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  NatterConversationView *self = NATTER_CONVERSATION_VIEW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      natter_conversation_view_set_conversation (self, g_value_get_object (value));
      break;
    case PROP_NOTIFY_LEVEL:
      set_notify_level (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_conversation_view_class_init (NatterConversationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_conversation_view_dispose;
  object_class->finalize = natter_conversation_view_finalize;
  object_class->get_property = natter_conversation_view_get_property;
  object_class->set_property = natter_conversation_view_set_property;
  widget_class->map = natter_conversation_view_map;

  properties[PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL, NATTER_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* "all", "mentions" or "none": the open conversation's, on the server. */
  properties[PROP_NOTIFY_LEVEL] =
    g_param_spec_string ("notify-level", NULL, NULL, "all",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (NATTER_TYPE_COMPOSER);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-conversation-view.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, window_title);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, room_menu_button);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, notify_button);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, scrolled);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, list_view);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, selection);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, loading_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, jump_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, empty_label);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, typing_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, typing_label);
  gtk_widget_class_bind_template_child (widget_class, NatterConversationView, composer);
  gtk_widget_class_bind_template_callback (widget_class, sent_cb);

  gtk_widget_class_install_action (widget_class, "conversation.scroll-bottom", NULL, scroll_to_bottom_action);
  gtk_widget_class_install_action (widget_class, "conversation.room-settings", "s", room_settings_action);
  gtk_widget_class_install_action (widget_class, "conversation.invite", NULL, room_settings_action);
  gtk_widget_class_install_action (widget_class, "conversation.reply", "x", reply_action);
  gtk_widget_class_install_action (widget_class, "conversation.edit", "x", edit_action);
  gtk_widget_class_install_action (widget_class, "conversation.show-message", "x", show_message_action);
  gtk_widget_class_install_property_action (widget_class, "conversation.notify-level", "notify-level");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_End, GDK_CONTROL_MASK,
                                       "conversation.scroll-bottom", NULL);
}

static void
natter_conversation_view_init (NatterConversationView *self)
{
  GtkListItemFactory *factory;
  GtkAdjustment *adj;

  self->rows = g_hash_table_new (NULL, NULL);
  self->sticky = TRUE;
  self->load_cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);

  adj = get_vadjustment (self);
  g_signal_connect_object (adj, "value-changed", G_CALLBACK (value_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (adj, "notify::upper", G_CALLBACK (upper_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (adj, "notify::page-size", G_CALLBACK (upper_changed_cb),
                           self, G_CONNECT_SWAPPED);

  self->conversation_signals = g_signal_group_new (NATTER_TYPE_CONVERSATION);
  g_signal_group_connect_swapped (self->conversation_signals, "notify",
                                  G_CALLBACK (conversation_notify_cb), self);

  self->peer_signals = g_signal_group_new (NATTER_TYPE_USER);
  g_signal_group_connect_swapped (self->peer_signals, "notify",
                                  G_CALLBACK (update_header), self);

  self->room_signals = g_signal_group_new (NATTER_TYPE_ROOM);
  g_signal_group_connect_swapped (self->room_signals, "notify",
                                  G_CALLBACK (update_header), self);

  self->client_signals = g_signal_group_new (NATTER_TYPE_CLIENT);
  g_signal_group_connect_swapped (self->client_signals, "notify::message-actions",
                                  G_CALLBACK (update_notify_button), self);
}
