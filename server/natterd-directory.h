/* natterd-directory.h: users, rooms, memberships and contacts held in
 * memory (loaded from the store at start, written through to it), who is
 * connected, and presence.
 *
 * Owned by the data/handlers side; the server core calls only what is
 * declared in the first block.
 */
#pragma once

#include "natterd-connection.h"
#include "natterd-server.h"

G_BEGIN_DECLS

/* --- called by the server core --- */

/* Loads everything it keeps in memory from @store (borrowed). */
NatterdDirectory *natterd_directory_new               (NatterdServer     *server,
                                                       NatterdStore      *store,
                                                       GError           **error);
/* Commits what is pending (sends waiting for their group commit) and answers
 * them; called once at shutdown before the store closes. */
void              natterd_directory_flush             (NatterdDirectory  *self);
void              natterd_directory_free              (NatterdDirectory  *self);
/* A connection that had a user is going away: update presence, last_seen. */
void              natterd_directory_connection_closed (NatterdDirectory  *self,
                                                       NatterdConnection *connection);
/* Users with at least one authenticated connection (the UDP probe). */
guint             natterd_directory_count_online      (NatterdDirectory  *self);

/* --- the rest is the data side's own --- */

G_END_DECLS
