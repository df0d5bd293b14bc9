/* natterd-connection.h: one client connection (TCP or TLS).
 *
 * Holds what Redis keeps in `struct client`: the stream, a frame reader whose
 * buffer exists only while a partial line does, an output queue of shared
 * frames with a byte count, the time of last activity, the token bucket, and
 * the authentication state (an opaque session of the layer above). All of
 * it lives on the main thread.
 *
 * A connection is closed from an idle callback (natterd_connection_close),
 * never in the middle of its own read or write path; after close, sends are
 * dropped silently, so handlers may keep a reference safely.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _NatterdConnection NatterdConnection;
typedef struct _NatterdServer     NatterdServer;

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
/* Closed for good (not only closing): the one call any thread may make,
 * on a connection it holds a reference to (through a request). */
gboolean           natterd_connection_is_gone    (NatterdConnection *self);

/* The key limits are counted under: an IPv4 address, an IPv6 /64, or each
 * loopback address on its own ("127.0.0.1", "2001:db8:1:2::/64"). */
const char        *natterd_connection_get_address_key (NatterdConnection *self);

/* The service's state of a logged-in connection (natterd-service.h), or
 * NULL: the connection is not logged in (requests flagged NEEDS_AUTH are
 * refused, the login timeout runs). The service sets it at login and
 * clears it at logout; when the connection closes with a session, the
 * service's connection_closed frees it. Setting NULL restarts the login
 * timeout. */
gpointer           natterd_connection_get_session (NatterdConnection *self);
void               natterd_connection_set_session (NatterdConnection *self,
                                                   gpointer           session);

/* The features (natter-features.h) the layer above turned on for this
 * connection at login; 0 before, and again after a logout. Request types
 * of a feature the connection lacks are unknown_type. */
guint              natterd_connection_get_features (NatterdConnection *self);
void               natterd_connection_set_features (NatterdConnection *self,
                                                    guint              features);

/* A list link inside the connection, for the layer above to keep
 * connections in a list of its own (a user's connections) without an
 * allocation, and without a cache miss per element when a fan-out walks
 * that list and writes to each connection: the link and the connection
 * share their memory. Its data is the connection. */
GList             *natterd_connection_get_service_link (NatterdConnection *self);

G_END_DECLS
