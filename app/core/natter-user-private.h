/* natter-user-private.h: what the client core changes on a NatterUser. */
#pragma once

#include <json-glib/json-glib.h>

#include "natter-user.h"

G_BEGIN_DECLS

NatterUser *natter_user_new            (const char *username);
/* Applies a wire user object; returns TRUE when the presence changed, with
 * the previous one in @out_old_presence. Fields that are absent or of the
 * wrong type are left alone. */
gboolean    natter_user_update_from_json (NatterUser     *self,
                                          JsonObject     *user,
                                          NatterPresence *out_old_presence);

/* Set by the client for everyone while its connection is down. */
void        natter_user_set_presence_stale (NatterUser *self,
                                            gboolean    stale);

G_END_DECLS
