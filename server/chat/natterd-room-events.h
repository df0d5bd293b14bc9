/* natterd-room-events.h: the events of the feature room_management
 * (docs/protocol.md, "Room management"). Each goes to the connections
 * with the feature; where protocol 1 has a frame for the same outcome (a
 * member gone) the others get that one instead, and otherwise nothing.
 * A NULL "by" user is natterd's operator (natterctl): "by" is null.
 */
#pragma once

#include "natterd-room-admin.h"

G_BEGIN_DECLS

/* {"type":"room_updated","room":{…},"by":@by} to the members. */
void natterd_events_room_updated        (NatterdRoom       *room,
                                         NatterdUser       *by,
                                         NatterdConnection *except);
/* {"type":"room_role","room":…,"user":…,"role":…,"by":@by} to the members. */
void natterd_events_room_role           (NatterdRoom       *room,
                                         NatterdUser       *user,
                                         NatterdUser       *by,
                                         NatterdConnection *except);
/* {"type":"room_invitation","change":"added","invitation":{…}} or
 * {"type":"room_invitation","change":"removed","room":…} to @user. */
void natterd_events_room_invitation     (NatterdRoom       *room,
                                         NatterdUser       *user,
                                         gboolean           added,
                                         NatterdConnection *except);
/* To @user, no longer in @room (@reason "kicked", "banned" or "deleted"):
 * {"type":"room_removed",…}, or protocol 1's room_member "left" about
 * themselves. */
void natterd_events_room_removed        (NatterdRoom       *room,
                                         NatterdUser       *user,
                                         const char        *reason,
                                         NatterdUser       *by,
                                         const char        *ban_reason,
                                         NatterdConnection *except);
/* To the members who stay: room_member with @change ("kicked",
 * "banned") and "by", or protocol 1's "left". */
void natterd_events_room_member_removed (NatterdRoom       *room,
                                         NatterdUser       *user,
                                         const char        *change,
                                         NatterdUser       *by,
                                         NatterdConnection *except);

/* @room was deleted (by @by): its invited users are told the invitation
 * is gone and its members room_removed "deleted" (but the connection
 * @except), and it keeps none of them, nor its bans. */
void natterd_events_room_deleted        (NatterdRoom       *room,
                                         NatterdUser       *by,
                                         NatterdConnection *except);

/* {"room":{…},"by":…,"ts":…}: an invitation, as listed and told. */
void natterd_room_invitation_write      (NatterJsonWriter      *writer,
                                         NatterdRoom           *room,
                                         NatterdRoomInvitation *invitation);

G_END_DECLS
