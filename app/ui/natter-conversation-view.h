/* natter-conversation-view.h: the messages of one conversation, with the
 * composer under them. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CONVERSATION_VIEW (natter_conversation_view_get_type ())
G_DECLARE_FINAL_TYPE (NatterConversationView, natter_conversation_view, NATTER, CONVERSATION_VIEW, GtkWidget)

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

G_END_DECLS
