/* natter-window-private.h: what natter-window.c and natter-window-actions.c
 * share (the split follows gnome-text-editor's editor-window-*.c). */
#pragma once

#include "natter-contacts-page.h"
#include "natter-conversation-view.h"
#include "natter-search-page.h"
#include "natter-sidebar.h"
#include "natter-user-avatar.h"
#include "natter-welcome-page.h"
#include "natter-window.h"

G_BEGIN_DECLS

struct _NatterWindow
{
  AdwApplicationWindow    parent_instance;

  /* template widgets */
  AdwToastOverlay        *toast_overlay;
  GtkStack               *main_stack;
  NatterWelcomePage      *welcome_page;
  GtkRevealer            *reconnect_revealer;
  GtkLabel               *reconnect_label;
  AdwLeaflet             *leaflet;
  AdwWindowTitle         *sidebar_title;
  NatterUserAvatar       *me_avatar;
  GtkLabel               *me_name_label;
  GtkLabel               *me_username_label;
  GtkEntry               *status_entry;
  GtkPopover             *presence_popover;
  GtkWidget              *contacts_button;
  GtkLabel               *requests_badge;
  NatterSidebar          *sidebar;
  GtkStack               *content_stack;
  AdwStatusPage          *empty_status;
  NatterConversationView *conversation_view;
  NatterContactsPage     *contacts_page;
  NatterSearchPage       *search_page;

  /* borrowed references */
  NatterClient           *client;
  GSettings              *settings;

  /* owned references */
  AdwToast               *request_toast; /* the last contact request's, until dismissed */
  AdwToast               *error_toast;   /* the last error's, until dismissed */
  GSignalGroup           *me_signals;    /* on the signed-in user */

  /* state */
  char                   *presence; /* "online", "away" or "busy" */
  guint                   clock_id; /* the minute timer of relative times */
  gboolean                untrusted_shown; /* the certificate warning is over the chat */
};

void natter_window_class_init_actions (GtkWidgetClass *widget_class);
void natter_window_update_actions     (NatterWindow   *self);
/* Shows one of the content pages ("empty", "conversation", "contacts",
 * "search") and, when the leaflet is folded, navigates to it; to the
 * list instead for "empty". */
void natter_window_show_content       (NatterWindow   *self,
                                       const char     *name);
void natter_window_set_presence       (NatterWindow   *self,
                                       const char     *presence);
void natter_window_sign_out           (NatterWindow   *self);
/* Takes away the toast of a contact request (seen, or answered). */
void natter_window_dismiss_request_toast (NatterWindow *self);

G_END_DECLS
