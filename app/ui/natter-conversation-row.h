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

/* Shows the time of the last activity relative to @now_ms (ms since the
 * epoch); the sidebar calls it as the minutes turn. */
void                natter_conversation_row_update_time      (NatterConversationRow *self,
                                                              gint64                 now_ms);

G_END_DECLS
