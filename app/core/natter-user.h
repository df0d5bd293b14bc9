/* natter-user.h: one user as this client sees them.
 *
 * The client interns one NatterUser per username, so every list, row and
 * binding that shows "bob" holds the same object and updates live when a
 * presence or contact event changes it.
 */
#pragma once

#include <glib-object.h>

#include "natter-core-enums.h"

G_BEGIN_DECLS

#define NATTER_TYPE_USER (natter_user_get_type ())
G_DECLARE_FINAL_TYPE (NatterUser, natter_user, NATTER, USER, GObject)

const char     *natter_user_get_username     (NatterUser *self);
/* Never NULL: falls back to the username. */
const char     *natter_user_get_display_name (NatterUser *self);
NatterPresence  natter_user_get_presence     (NatterUser *self);
/* NULL when none is set (or not visible to us). */
const char     *natter_user_get_status_text  (NatterUser *self);
/* Milliseconds since the epoch; 0 when unknown. */
gint64          natter_user_get_last_seen    (NatterUser *self);
/* The SHA-256 (64 hex digits) of the user's picture, NULL when none
 * (natter_client_load_avatar_async reads it); "avatar" notifies. */
const char     *natter_user_get_avatar       (NatterUser *self);
/* FALSE when the server hides this user's presence from us (not a contact,
 * no room in common): it then says "offline" with no last_seen, which
 * anyone who was ever online and is visible has. Such a user is shown
 * without a presence rather than as offline. FALSE too while the client's
 * connection is down (until it is back and synced): what the server said
 * last is not live then. The "presence-known" property follows it. */
gboolean        natter_user_presence_is_known (NatterUser *self);

G_END_DECLS
