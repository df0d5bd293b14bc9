/* natterd-room-admin.h: what the feature room_management keeps of a room
 * in memory (docs/protocol.md, "Room management"): its display name and
 * privacy, its admins, bans and pending invitations, the roles that decide
 * who may do what, and the room object in its two forms.
 */
#pragma once

#include "natter-features.h"
#include "natterd-directory.h"

G_BEGIN_DECLS

/* Ordered: a higher role may do what a lower one may. */
typedef enum {
  NATTERD_ROLE_NONE   = 0, /* not a member */
  NATTERD_ROLE_MEMBER = 1,
  NATTERD_ROLE_ADMIN  = 2,
  NATTERD_ROLE_OWNER  = 3, /* the owner while a member */
} NatterdRole;

typedef struct {
  NatterdUser *by;
  char        *reason;  /* NULL: none given */
  gint64       ts;
} NatterdRoomBan;

typedef struct {
  NatterdUser *by;
  gint64       ts;
} NatterdRoomInvitation;

NatterdRole  natterd_room_role       (NatterdRoom *room, NatterdUser *user);
/* "owner", "admin", "member" (NULL for NONE). */
const char  *natterd_role_name       (NatterdRole role);

void         natterd_room_set_admin  (NatterdRoom *room, NatterdUser *user, gboolean admin);
NatterdRoomBan *natterd_room_find_ban (NatterdRoom *room, NatterdUser *user);
/* @by NULL removes the ban. */
void         natterd_room_set_ban    (NatterdRoom *room, NatterdUser *user, NatterdUser *by,
                                      const char *reason, gint64 ts);
NatterdRoomInvitation *natterd_room_find_invitation (NatterdRoom *room, NatterdUser *user);
/* @by NULL removes the invitation (from the user's list too). */
void         natterd_room_set_invitation (NatterdRoom *room, NatterdUser *user, NatterdUser *by,
                                          gint64 ts);
/* Frees what the feature keeps of @room (natterd-directory.c's room_free). */
void         natterd_room_admin_clear (NatterdRoom *room);
/* Loads it for every room, after the rooms and their members. */
gboolean     natterd_room_admin_load  (NatterdDirectory *directory, NatterdStore *store,
                                       GError **error);

/* The room object: protocol 1's fields, and with @management
 * display_name, private and admins (sorted). */
void         natterd_room_write       (NatterJsonWriter *writer, NatterdRoom *room,
                                       gboolean management);
/* TRUE when @connection has room_management on. */
#define natterd_has_room_management(connection) \
  ((natterd_connection_get_features (connection) & NATTER_FEATURE_ROOM_MANAGEMENT) != 0)

G_END_DECLS
