/* natter-ui-util.h: small text helpers the widgets share (times, presence
 * words, linkified markup, errors in plain words). */
#pragma once

#include <adwaita.h>

#include "natter-core.h"

G_BEGIN_DECLS

/* "online", "away", "busy" or "offline": the CSS class of a presence dot. */
const char *natter_presence_css_class   (NatterPresence presence);
/* "Online", "Away", … translated. */
const char *natter_presence_label       (NatterPresence presence);
/* "Busy — Writing the release notes", or "Busy" without a status text. */
char       *natter_presence_status_text (NatterUser    *user);

/* "14:03" */
char       *natter_format_clock         (gint64 ms);
/* For lists: "14:03" today, "Yesterday", a weekday within a week, else a date. */
char       *natter_format_time_short    (gint64 ms);
/* For the conversation list, counted in whole minutes of the clock against
 * @now_ms: "Now" within the same minute, "5 min" within the hour, then as
 * natter_format_time_short(). */
char       *natter_format_time_relative (gint64 ms,
                                         gint64 now_ms);
/* For a conversation's header, in minutes of the clock as
 * natter_format_time_relative(): "Last seen just now", "Last seen 5
 * minutes ago", then "Last seen " and natter_format_time_short(). */
char       *natter_format_last_seen     (gint64 ms,
                                         gint64 now_ms);
/* For day separators: "Today", "Yesterday", "Monday, 23 November". */
char       *natter_format_day           (gint64 ms);
gboolean    natter_same_day             (gint64 a_ms,
                                         gint64 b_ms);

/* @text as Pango markup, escaped, with http(s) URLs made into links. */
char       *natter_linkify              (const char *text);
/* The same, with the mentions of @mention (a username, may be NULL) in
 * bold. */
char       *natter_linkify_mention      (const char *text,
                                         const char *mention);

/* A sentence for people describing @error (never a stack of codes). */
char       *natter_describe_error       (const GError *error);

/* "Bob is online" style title for a user (never NULL). */
const char *natter_user_title           (NatterUser *user);

/* A row for @user: the display name as its title, "@username · Presence —
 * status" as its subtitle (just "@username" when the presence is hidden
 * from us), both following the interned user live, and an avatar of
 * @avatar_size pixels with the presence dot. */
GtkWidget  *natter_user_row_new         (NatterUser *user,
                                         int         avatar_size);

/* The GNotification id of @from's contact request (one per person, so
 * that seeing the contacts page can withdraw them). */
char       *natter_contact_request_notification_id (NatterUser *from);
/* "Alice wants to add you as a contact": the toast's and the
 * notification's words, one string for both. */
char       *natter_contact_request_title (NatterUser *from);

/* Unparents every child of @widget: what a GtkWidget subclass with a
 * template child must do in dispose (gtk_widget_dispose_template() only
 * drops the template's references in GTK 4.8). */
void        natter_widget_unparent_children (GtkWidget *widget);

G_END_DECLS
