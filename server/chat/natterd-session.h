/* natterd-session.h: what the chat layer keeps of one logged-in
 * connection: its user, the token it logged in with, its own presence.
 *
 * The network layer holds it as an opaque pointer
 * (natterd_connection_get_session); a connection without one is not
 * logged in.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* The user the connection is logged in as, or NULL. */
NatterdUser    *natterd_session_get_user       (NatterdConnection *connection);
/* The user of the request's connection (AUTH handlers: never NULL). */
NatterdUser    *natterd_session_request_user   (NatterdRequest    *request);
/* The SHA-256 of the token it logged in with (32 bytes); zeros when not
 * logged in. */
const guint8   *natterd_session_get_token_hash (NatterdConnection *connection);
/* The connection's own presence (ONLINE at login, OFFLINE when not
 * logged in); the user's is the most available of these. */
NatterPresence  natterd_session_get_presence   (NatterdConnection *connection);
void            natterd_session_set_presence   (NatterdConnection *connection,
                                                NatterPresence     presence);

/* Login: @connection is @user's from now on. */
void            natterd_session_attach         (NatterdDirectory  *dir,
                                                NatterdConnection *connection,
                                                NatterdUser       *user,
                                                const guint8      *token_hash);
/* Logout (the connection stays open, logged out), or the service's
 * connection_closed: the connection leaves its user's list and the
 * session is freed. Nothing when not logged in. */
void            natterd_session_end            (NatterdDirectory  *dir,
                                                NatterdConnection *connection);

G_END_DECLS
