/* natter-message-row.h: one message in a conversation view. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_MESSAGE_ROW (natter_message_row_get_type ())
G_DECLARE_FINAL_TYPE (NatterMessageRow, natter_message_row, NATTER, MESSAGE_ROW, GtkWidget)

GtkWidget     *natter_message_row_new          (NatterClient       *client);
NatterMessage *natter_message_row_get_message  (NatterMessageRow   *self);
/* Shows @message of @conversation (both NULL to clear the row). */
void           natter_message_row_set_message  (NatterMessageRow   *self,
                                                NatterMessage      *message,
                                                NatterConversation *conversation);
/* @show_day: a day separator above; @show_header: first of a group of
 * messages from one sender, so the name and avatar show. */
void           natter_message_row_set_grouping (NatterMessageRow   *self,
                                                gboolean            show_day,
                                                gboolean            show_header);

G_END_DECLS
