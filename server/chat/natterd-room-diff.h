/* natterd-room-diff.h: room management's part of a refresh of the
 * directory from a shared store (natterd-directory-diff.h): a room's
 * display name and privacy, admins, bans and pending invitations as
 * another node left them, applied with the events a handler sends for
 * the same change here (natterd-room-events.h).
 *
 * What the store does not say is who made a change (a role, the room's
 * settings or owner, a deletion), nor a kick from a leave (a kick leaves
 * no row): the node that did it says so over the bus first
 * (natterd_room_note_change), and the refresh that finds the change tells
 * it as that user's (a member gone: as a kick). A node that missed it
 * tells "by" null, and a kick as protocol 1's leave. The effect never
 * rests on the bus: the member is out, the role or the room gone, once
 * the store says so.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

typedef struct _NatterdRoomRows NatterdRoomRows;

/* Reader thread: natterd_store_room_rows_foreach, copied. */
NatterdRoomRows *natterd_room_rows_read (NatterdStore     *store,
                                         GError          **error);
void             natterd_room_rows_free (NatterdRoomRows  *rows);

/* How @user, a member of @room here whom the store no longer has as one,
 * came out: "banned" (*@by and *@ban_reason from the ban), "kicked"
 * (*@by: as the kicking node said), or NULL: left. */
const char      *natterd_room_rows_why_gone (NatterdDirectory *directory,
                                             NatterdRoomRows  *rows,
                                             NatterdRoom      *room,
                                             NatterdUser      *user,
                                             NatterdUser     **by,
                                             const char      **ban_reason);
/* Who deleted the room of @conversation_id, as its node said (NULL: not
 * said). */
NatterdUser     *natterd_room_deleted_by    (NatterdDirectory *directory,
                                             gint64            conversation_id);

/* After the memberships: @room's settings, admins, bans and invitations
 * made the store's, each change told as its handler tells it (a new
 * owner, @owner_before being the one before, and new settings as
 * room_updated; other admins as room_role; invitations to the invited).
 * A room @is_new here takes the rows silently but its invitations. */
void             natterd_room_rows_apply    (NatterdDirectory *directory,
                                             NatterdRoomRows  *rows,
                                             NatterdRoom      *room,
                                             NatterdUser      *owner_before,
                                             gboolean          is_new);

/* What another node said over the bus just before its notice of the
 * change (natterd_cluster_relay_room_change): @by_id changed the room
 * @conversation_id, about @user_id (0: the room itself); @removal: took
 * the user out of it (a kick or ban), or the room away (a deletion), else
 * a role, the settings or the owner. Kept until a refresh that began
 * reading after it is applied. */
void             natterd_room_note_change   (NatterdDirectory *directory,
                                             gint64            conversation_id,
                                             gint64            user_id,
                                             gboolean          removal,
                                             gint64            by_id);
/* Forgets what the refresh run @run (applied now) may have used. */
void             natterd_room_forget_changes (NatterdDirectory *directory,
                                              gint64            run);

G_END_DECLS
