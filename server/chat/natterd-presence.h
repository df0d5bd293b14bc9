/* natterd-presence.h: who may see whom, presence, who is online, and the
 * writes of last_seen and status text that no reply waits for.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* Recomputes @user's presence (the most available of their connections')
 * and, when it changed or @force_push, tells everyone allowed to see it.
 * @except is a connection not to tell (the one that caused the change,
 * which gets a reply instead); may be NULL. */
void     natterd_presence_update       (NatterdDirectory  *self,
                                        NatterdUser       *user,
                                        gboolean           force_push,
                                        NatterdConnection *except);
/* The same when what changed is @user's presence on another node of the
 * cluster (natterd-cluster-presence.h), which has told the others
 * already; @gone_at, when not 0, is when a node @user was on went away:
 * their last_seen if they are now offline everywhere. */
void     natterd_presence_update_from_elsewhere (NatterdDirectory *self,
                                                 NatterdUser      *user,
                                                 gboolean          force_push,
                                                 gint64            gone_at);
gboolean natterd_presence_can_see      (NatterdUser       *viewer,
                                        NatterdUser       *user);
gboolean natterd_presence_share_room   (NatterdUser       *a,
                                        NatterdUser       *b);
/* Writes a user object as @viewer may see it (@viewer NULL: fully). */
void     natterd_presence_write_user   (NatterJsonWriter  *writer,
                                        NatterdUser       *user,
                                        NatterdUser       *viewer);
/* The same with "role" (room_members with room_management); NULL: none. */
void     natterd_presence_write_member (NatterJsonWriter  *writer,
                                        NatterdUser       *user,
                                        NatterdUser       *viewer,
                                        const char        *role);

/* @user's first connection logged in / last one went: counts who is
 * online; going offline sets last_seen (written within a second, many
 * users in one transaction). */
void     natterd_presence_user_online  (NatterdDirectory  *self,
                                        NatterdUser       *user);
void     natterd_presence_user_offline (NatterdDirectory  *self,
                                        NatterdUser       *user);
/* Users with at least one authenticated connection. */
guint    natterd_presence_count_online (NatterdDirectory  *self);

/* Stores a user's status text with the next group commit (no reply
 * waits for it; a failure is logged). @text NULL clears it. */
void     natterd_presence_store_status_text (NatterdDirectory *self,
                                             NatterdUser      *user,
                                             const char       *text);
/* At shutdown: the last_seen values still waiting go to the writer. */
void     natterd_presence_flush        (NatterdDirectory  *self);

/* @user's presence as @viewer may see it now, to @viewer's connections
 * (a block or an unblock changed what they may see: natterd-blocks.h). */
void natterd_presence_tell_one (NatterdUser *user,
                                NatterdUser *viewer);

G_END_DECLS
