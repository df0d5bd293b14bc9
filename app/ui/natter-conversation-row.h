/* natter-conversation-row.h: one conversation in the sidebar. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CONVERSATION_ROW (natter_conversation_row_get_type ())
G_DECLARE_FINAL_TYPE (NatterConversationRow, natter_conversation_row, NATTER, CONVERSATION_ROW, GtkWidget)

NatterConversation *natter_conversation_row_get_conversation (NatterConversationRow *self);
void                natter_conversation_row_set_conversation (NatterConversationRow *self,
                                                              NatterConversation    *conversation);

G_END_DECLS
