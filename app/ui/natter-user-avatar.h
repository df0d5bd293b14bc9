/* natter-user-avatar.h: an AdwAvatar with a presence dot in its corner. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_USER_AVATAR (natter_user_avatar_get_type ())
G_DECLARE_FINAL_TYPE (NatterUserAvatar, natter_user_avatar, NATTER, USER_AVATAR, GtkWidget)

GtkWidget  *natter_user_avatar_new      (NatterUser       *user,
                                         int               size);
NatterUser *natter_user_avatar_get_user (NatterUserAvatar *self);
void        natter_user_avatar_set_user (NatterUserAvatar *self,
                                         NatterUser       *user);
/* The avatar's initials source when there is no user (a room name). */
void        natter_user_avatar_set_text (NatterUserAvatar *self,
                                         const char       *text);

G_END_DECLS
