/* natterd-connection.h: one client connection (TCP or TLS).
 *
 * Holds what Redis keeps in `struct client`: the stream, a frame reader whose
 * buffer exists only while a partial line does, an output queue of shared
 * frames with a byte count, the time of last activity, the token bucket, and
 * the authentication state. All of it lives on the main thread.
 *
 * A connection is closed from an idle callback (natterd_connection_close),
 * never in the middle of its own read or write path; after close, sends are
 * dropped silently, so handlers may keep a reference safely.
 */
#pragma once

#include <gio/gio.h>
#include "natter-validate.h"

G_BEGIN_DECLS

typedef struct _NatterdConnection NatterdConnection;
typedef struct _NatterdServer     NatterdServer;
typedef struct _NatterdUser       NatterdUser;   /* natterd-directory.h */

NatterdConnection *natterd_connection_ref        (NatterdConnection *self);
void               natterd_connection_unref      (NatterdConnection *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterdConnection, natterd_connection_unref)

NatterdServer     *natterd_connection_get_server (NatterdConnection *self);

/* Queues a complete frame (its bytes end with '\n'). The bytes are shared,
 * not copied: encode an event once and send the same GBytes to every
 * recipient. Frames queued in one main-loop iteration leave in one write. */
void               natterd_connection_send_bytes (NatterdConnection *self,
                                                  GBytes            *frame);
/* Convenience: copies @frame (which must end with '\n'). */
void               natterd_connection_send_str   (NatterdConnection *self,
                                                  const char        *frame,
                                                  gsize              len);
/* Sends {"type":"error","re":null,"code":…,"message":…}. */
void               natterd_connection_send_error (NatterdConnection *self,
                                                  const char        *code,
                                                  const char        *message);

/* Schedules the close (after the queued frames have been tried once). */
void               natterd_connection_close      (NatterdConnection *self);
gboolean           natterd_connection_is_closed  (NatterdConnection *self);

/* The key limits are counted under: an IPv4 address, an IPv6 /64, or each
 * loopback address on its own ("127.0.0.1", "2001:db8:1:2::/64"). */
const char        *natterd_connection_get_address_key (NatterdConnection *self);

/* Authentication: the directory sets the user on login and clears it on
 * logout (NULL). The token hash is that of the token this connection logged
 * in with (SHA-256, 32 bytes), so logout can close the others using it. */
NatterdUser       *natterd_connection_get_user       (NatterdConnection *self);
void               natterd_connection_set_user       (NatterdConnection *self,
                                                      NatterdUser       *user,
                                                      const guint8      *token_hash);
const guint8      *natterd_connection_get_token_hash (NatterdConnection *self);

/* This connection's own presence; the user's is the most available of its
 * connections' (computed by the directory). Starts as ONLINE at login. */
NatterPresence     natterd_connection_get_presence   (NatterdConnection *self);
void               natterd_connection_set_presence   (NatterdConnection *self,
                                                      NatterPresence     presence);

/* For the directory's per-user list of connections: an intrusive link, so
 * that tracking a connection costs no allocation. */
GList             *natterd_connection_get_user_link  (NatterdConnection *self);

G_END_DECLS
