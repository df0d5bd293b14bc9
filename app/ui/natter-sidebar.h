/* natter-sidebar.h: the list of conversations, newest first. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_SIDEBAR (natter_sidebar_get_type ())
G_DECLARE_FINAL_TYPE (NatterSidebar, natter_sidebar, NATTER, SIDEBAR, GtkWidget)

void natter_sidebar_set_client   (NatterSidebar      *self,
                                  NatterClient       *client);
/* Highlights @conversation (NULL: none). Does not emit conversation-activated. */
void natter_sidebar_set_selected (NatterSidebar      *self,
                                  NatterConversation *conversation);

/* Shows every visible row's time relative to @now_ms (ms since the epoch).
 * The window's timer (natter_window_refresh_times()) calls it. */
void     natter_sidebar_refresh_times (NatterSidebar *self,
                                       gint64         now_ms);

/* Signals:
 *   conversation-activated (NatterConversation *conversation)
 */

G_END_DECLS
