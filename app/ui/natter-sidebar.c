/* natter-sidebar.c: the conversation list.
 *
 * The client's conversation model is already sorted by recent activity,
 * so it is shown as is. A conversation that moves to the top is removed and
 * inserted again by the model, which drops the selection; the sidebar puts
 * the highlight back on the conversation the window shows.
 *
 * The rows show relative times ("5 min"). The window's one timer, aligned
 * to the turn of the minute, refreshes the rows that exist (the list view
 * only makes rows for what is near the screen) through
 * natter_sidebar_refresh_times(); a row refreshes itself when bound.
 *
 * Above the list, the rooms we are invited to (feature room_management),
 * each with Join and Decline: joining opens the room.
 */
#define G_LOG_DOMAIN "natter-sidebar"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "natter-conversation-row.h"
#include "natter-sidebar.h"
#include "natter-ui-util.h"

struct _NatterSidebar
{
  GtkWidget           parent_instance;

  /* template widgets */
  GtkStack           *stack;
  GtkListView        *list_view;
  GtkListBox         *invitations_list;
  GtkSingleSelection *selection;

  /* borrowed references */
  NatterClient       *client;
  NatterConversation *selected;

  guint               syncing : 1;
};

G_DEFINE_FINAL_TYPE (NatterSidebar, natter_sidebar, GTK_TYPE_WIDGET)

enum {
  SIGNAL_CONVERSATION_ACTIVATED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
sync_selection (NatterSidebar *self)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (model);
  guint position = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; self->selected != NULL && i < n; i++)
    {
      g_autoptr(NatterConversation) item = g_list_model_get_item (model, i);

      if (item == self->selected)
        {
          position = i;
          break;
        }
    }

  self->syncing = TRUE;
  gtk_single_selection_set_selected (self->selection, position);
  self->syncing = FALSE;
}

static void
items_changed_cb (NatterSidebar *self)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  guint invitations = self->client != NULL
                      ? g_list_model_get_n_items (natter_client_get_invitations (self->client)) : 0;

  gtk_widget_set_visible (GTK_WIDGET (self->invitations_list), invitations > 0);
  gtk_stack_set_visible_child_name (self->stack,
                                    g_list_model_get_n_items (model) > 0 || invitations > 0
                                    ? "list" : "empty");
  sync_selection (self);
}

/* A Join or Decline on its way: the sidebar (a reference) and the room. */
typedef struct {
  NatterSidebar *self;
  char          *room;
} InvitationCall;

static InvitationCall *
invitation_call_new (NatterSidebar *self,
                     GtkButton     *button)
{
  InvitationCall *call = g_new0 (InvitationCall, 1);

  call->self = g_object_ref (self);
  call->room = g_strdup (g_object_get_data (G_OBJECT (button), "room"));
  return call;
}

static void
invitation_call_free (InvitationCall *call)
{
  g_object_unref (call->self);
  g_free (call->room);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (InvitationCall, invitation_call_free)

static void
invitation_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(InvitationCall) call = user_data;
  NatterSidebar *self = call->self;
  NatterClient *client = NATTER_CLIENT (object);
  const char *name = call->room;
  g_autoptr(GError) error = NULL;
  gboolean joined = g_task_get_source_tag (G_TASK (result)) == natter_client_room_join_async;
  gboolean ok = joined ? natter_client_room_join_finish (client, result, &error)
                       : natter_client_room_manage_finish (client, result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->client == NULL)
    return;
  if (!ok)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", error->message);
      return;
    }
  if (joined && name != NULL)
    {
      NatterConversation *conversation = natter_client_lookup_conversation (client, name, TRUE);

      if (conversation != NULL)
        {
          self->selected = conversation;
          g_signal_emit (self, signals[SIGNAL_CONVERSATION_ACTIVATED], 0, conversation);
        }
    }
}

static void
join_clicked_cb (GtkButton     *button,
                 NatterSidebar *self)
{
  InvitationCall *call;

  if (self->client == NULL)
    return;
  call = invitation_call_new (self, button);
  natter_client_room_join_async (self->client, call->room, NULL, invitation_done_cb, call);
}

static void
decline_clicked_cb (GtkButton     *button,
                    NatterSidebar *self)
{
  InvitationCall *call;

  if (self->client == NULL)
    return;
  call = invitation_call_new (self, button);
  natter_client_room_manage_async (self->client, call->room, NATTER_ROOM_ACTION_DECLINE, NULL, NULL,
                                   NULL, invitation_done_cb, call);
}

static GtkWidget *
invitation_button (NatterSidebar *self,
                   NatterRoom    *room,
                   const char    *label,
                   GCallback      callback)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_object_set_data_full (G_OBJECT (button), "room", g_strdup (natter_room_get_name (room)), g_free);
  g_signal_connect_object (button, "clicked", callback, self, 0);
  return button;
}

static GtkWidget *
create_invitation_row (gpointer item,
                       gpointer user_data)
{
  NatterSidebar *self = user_data;
  NatterRoom *room = item;
  const char *title = natter_room_get_display_name (room);
  g_autofree char *subtitle = NULL;
  AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());
  GtkWidget *join, *decline;

  /* Translators: under a room's name in the list of invitations. */
  subtitle = g_strdup_printf (_("Invited by %s"), natter_room_get_invited_by (room));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 title != NULL ? title : natter_room_get_name (room));
  adw_action_row_set_subtitle (row, subtitle);
  decline = invitation_button (self, room, _("_Decline"), G_CALLBACK (decline_clicked_cb));
  join = invitation_button (self, room, _("_Join"), G_CALLBACK (join_clicked_cb));
  gtk_widget_add_css_class (decline, "flat");
  gtk_widget_add_css_class (join, "suggested-action");
  adw_action_row_add_suffix (row, decline);
  adw_action_row_add_suffix (row, join);
  return GTK_WIDGET (row);
}

static void
selection_changed_cb (NatterSidebar *self)
{
  NatterConversation *conversation;

  if (self->syncing)
    return;

  /* Losing the selection (the model moved the item) is not a choice the
   * person made; only a new selection opens a conversation. */
  conversation = gtk_single_selection_get_selected_item (self->selection);
  if (conversation == NULL)
    {
      sync_selection (self);
      return;
    }

  if (conversation != self->selected)
    {
      self->selected = conversation;
      g_signal_emit (self, signals[SIGNAL_CONVERSATION_ACTIVATED], 0, conversation);
    }
}

static void
activate_cb (NatterSidebar *self,
             guint          position)
{
  g_autoptr(NatterConversation) conversation =
    g_list_model_get_item (G_LIST_MODEL (self->selection), position);

  /* Activating the selected row again (Enter, or a click on a folded
   * leaflet) shows it again. */
  if (conversation != NULL)
    {
      self->selected = conversation;
      g_signal_emit (self, signals[SIGNAL_CONVERSATION_ACTIVATED], 0, conversation);
    }
}

static void
refresh_rows (GtkWidget *widget,
              gint64     now_ms)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      if (NATTER_IS_CONVERSATION_ROW (c))
        natter_conversation_row_update_time (NATTER_CONVERSATION_ROW (c), now_ms);
      else
        refresh_rows (c, now_ms);
    }
}

void
natter_sidebar_refresh_times (NatterSidebar *self,
                              gint64         now_ms)
{
  g_return_if_fail (NATTER_IS_SIDEBAR (self));
  refresh_rows (GTK_WIDGET (self->list_view), now_ms);
}

void
natter_sidebar_set_selected (NatterSidebar      *self,
                             NatterConversation *conversation)
{
  g_return_if_fail (NATTER_IS_SIDEBAR (self));

  self->selected = conversation;
  sync_selection (self);
}

void
natter_sidebar_set_client (NatterSidebar *self,
                           NatterClient  *client)
{
  GListModel *conversations;

  g_return_if_fail (NATTER_IS_SIDEBAR (self));
  g_return_if_fail (self->client == NULL);

  self->client = client;
  conversations = natter_client_get_conversations (client);
  gtk_single_selection_set_model (self->selection, conversations);
  g_signal_connect_object (conversations, "items-changed", G_CALLBACK (items_changed_cb),
                           self, G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  gtk_list_box_bind_model (self->invitations_list, natter_client_get_invitations (client),
                           create_invitation_row, self, NULL);
  g_signal_connect_object (natter_client_get_invitations (client), "items-changed",
                           G_CALLBACK (items_changed_cb), self, G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  items_changed_cb (self);
}

static void
natter_sidebar_dispose (GObject *object)
{
  NatterSidebar *self = NATTER_SIDEBAR (object);

  /* The client's list outlives the sidebar: no call into it once its
   * children start to go. */
  if (self->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (natter_client_get_conversations (self->client), self);
      g_signal_handlers_disconnect_by_data (natter_client_get_invitations (self->client), self);
      gtk_list_box_bind_model (self->invitations_list, NULL, NULL, NULL, NULL);
    }
  self->client = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), NATTER_TYPE_SIDEBAR);
  natter_widget_unparent_children (GTK_WIDGET (self));
  self->selected = NULL;

  G_OBJECT_CLASS (natter_sidebar_parent_class)->dispose (object);
}

static void
natter_sidebar_class_init (NatterSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_sidebar_dispose;

  signals[SIGNAL_CONVERSATION_ACTIVATED] =
    g_signal_new ("conversation-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, NATTER_TYPE_CONVERSATION);

  g_type_ensure (NATTER_TYPE_CONVERSATION_ROW);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, stack);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, list_view);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, invitations_list);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, selection);
  gtk_widget_class_bind_template_callback (widget_class, selection_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, activate_cb);
}

static void
natter_sidebar_init (NatterSidebar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
