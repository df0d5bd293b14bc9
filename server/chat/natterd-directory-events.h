/* natterd-directory-events.h: the events that tell local clients of a
 * change of the directory (a room's members or topic, contacts). The
 * handlers send them when a change is made on this node, the refresh
 * (natterd-directory-refresh.h) when it learns of one made on another:
 * one encoder each, so that both send the same frames to the same people.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* {"type":"room_member","room":…,"user":…,"change":@change} to every
 * member of @room but the connection @except (may be NULL). */
void natterd_events_room_member     (NatterdRoom       *room,
                                     NatterdUser       *user,
                                     const char        *change,
                                     NatterdConnection *except);
/* The same frame, to send oneself. */
GBytes *natterd_events_room_member_frame (NatterdRoom *room,
                                          NatterdUser *user,
                                          const char  *change);
/* {"type":"room_topic","room":…,"topic":…,"by":@by} to every member. */
void natterd_events_room_topic      (NatterdRoom       *room,
                                     NatterdUser       *by);
/* {"type":"contact","change":@change,"user":@about} to @to's connections. */
void natterd_events_contact         (NatterdUser       *to,
                                     NatterdUser       *about,
                                     const char        *change);
/* {"type":"contact_request","from":@from} to @to's connections. */
void natterd_events_contact_request (NatterdUser       *from,
                                     NatterdUser       *to);

/* Brings the pair @u, @v of the directory to @want (from @u's side),
 * telling both users' connections what a handler tells for the same
 * change; nothing when the directory says @want already. For a change
 * made through another node: read by a refresh (natterd-directory-diff),
 * or found by a contact request's write (natterd-handlers-contacts). */
void natterd_events_contact_to      (NatterdUser         *u,
                                     NatterdUser         *v,
                                     NatterdContactState  want);

G_END_DECLS
