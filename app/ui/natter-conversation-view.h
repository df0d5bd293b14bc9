/* natter-conversation-view.h: the messages of one conversation, with the
 * composer under them. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"
#include "natter-page.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CONVERSATION_VIEW (natter_conversation_view_get_type ())
G_DECLARE_FINAL_TYPE (NatterConversationView, natter_conversation_view, NATTER, CONVERSATION_VIEW, NatterPage)

void                natter_conversation_view_set_client       (NatterConversationView *self,
                                                               NatterClient           *client);
NatterConversation *natter_conversation_view_get_conversation (NatterConversationView *self);
void                natter_conversation_view_set_conversation (NatterConversationView *self,
                                                               NatterConversation     *conversation);
/* The list model the view shows (the conversation's messages). */
GListModel         *natter_conversation_view_get_model        (NatterConversationView *self);
/* Marks the conversation read when it is on screen, scrolled to the
 * bottom, in the active window. */
void                natter_conversation_view_update_read      (NatterConversationView *self);
void                natter_conversation_view_focus_composer   (NatterConversationView *self);
/* Scrolls to the message @id and marks it for a moment, paging in older
 * history until it is there (a search hit). */
void                natter_conversation_view_show_message     (NatterConversationView *self,
                                                               gint64                  id);
/* TRUE while the message @id is marked by show_message (for tests). */
gboolean            natter_conversation_view_is_message_marked (NatterConversationView *self,
                                                                gint64                  id);
/* Shows the header's relative time ("Last seen 5 minutes ago") against
 * @now_ms; the window's timer calls it (natter_window_refresh_times()). */
void                natter_conversation_view_refresh_times    (NatterConversationView *self,
                                                               gint64                  now_ms);

G_END_DECLS
