/* natter-window.h: the main window: welcome page or the chat (leaflet of
 * conversation list and the selected page). */
#pragma once

#include <adwaita.h>

#include "natter-application.h"

G_BEGIN_DECLS

#define NATTER_TYPE_WINDOW (natter_window_get_type ())
G_DECLARE_FINAL_TYPE (NatterWindow, natter_window, NATTER, WINDOW, AdwApplicationWindow)

NatterWindow *natter_window_new                  (NatterApplication *application);

/* Shows the conversation at @address ("@bob", "#general"), making an empty
 * direct conversation when there is none yet. */
void          natter_window_open_conversation    (NatterWindow      *self,
                                                  const char        *address);
/* Opens the conversation at @address scrolled to the message @id, which
 * is marked for a moment (a search hit). */
void          natter_window_open_message         (NatterWindow      *self,
                                                  const char        *address,
                                                  gint64             id);
/* The address of the conversation on screen, or NULL. */
const char   *natter_window_get_current_address  (NatterWindow      *self);

/* "welcome" or "chat". */
const char   *natter_window_get_page_name        (NatterWindow      *self);

/* Shows @text in a toast at the bottom of the window. */
void          natter_window_show_toast           (NatterWindow      *self,
                                                  const char        *text);
/* Shows @error in plain words (see natter_describe_error()). */
void          natter_window_show_error           (NatterWindow      *self,
                                                  const GError      *error);

/* Shows the relative times (the sidebar's rows, the conversation's "Last
 * seen") against @now_ms. One timer aligned to the minute calls it with
 * the real time while the sidebar or the conversation is on screen. */
void          natter_window_refresh_times        (NatterWindow      *self,
                                                  gint64             now_ms);
/* TRUE while that timer is armed. */
gboolean      natter_window_get_ticking          (NatterWindow      *self);

G_END_DECLS
