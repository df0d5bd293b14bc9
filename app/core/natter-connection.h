/* natter-connection.h: one connection to natterd — TCP, TLS, line framing,
 * an ordered async write queue, and request/reply matching.
 *
 * Internal to the client core. The connection never blocks: it connects
 * with GSocketClient, reads with g_input_stream_read_bytes_async() into a
 * NatterFrameReader, and writes its queue one buffer at a time with
 * g_output_stream_write_all_async(), so frames leave in the order queued.
 *
 * Certificates: one the system trusts is accepted; otherwise its SHA-256
 * fingerprint must match the one @known_hosts has for host:port.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "natter-known-hosts.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CONNECTION (natter_connection_get_type ())
G_DECLARE_FINAL_TYPE (NatterConnection, natter_connection, NATTER, CONNECTION, GObject)

/* The largest frame we accept from a server: the contract's 4 MiB plus '\n'. */
#define NATTER_CONNECTION_MAX_FRAME (4 * 1024 * 1024 + 1)

NatterConnection *natter_connection_new               (NatterKnownHosts    *known_hosts);

/* Connects, does the TLS handshake when @use_tls, and completes once the
 * welcome frame is read; its object comes back from _finish (transfer
 * full). After that, frames without "re" are emitted as the "event"
 * signal (JsonObject *frame), and "closed" (GError *reason, or NULL when we
 * closed it) is emitted once. */
void              natter_connection_open_async        (NatterConnection    *self,
                                                       const char          *host,
                                                       guint16              port,
                                                       gboolean             use_tls,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
JsonObject       *natter_connection_open_finish       (NatterConnection    *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Before open: the fingerprints trusted for the other addresses of the same
 * server (a cluster's nodes, natter-server-address.h). A certificate not
 * known for this host:port but equal to one of them is accepted (the same
 * key proves the same operator), and natter_connection_get_adopted() says
 * so, for the caller to pin it for this address too. A certificate known
 * for this host:port is checked against that one only, as always. */
void              natter_connection_set_trusted_elsewhere (NatterConnection  *self,
                                                           const char *const *fingerprints);
gboolean          natter_connection_get_adopted       (NatterConnection    *self);

/* "AB:CD:…" of the certificate the peer presented; NULL before/without TLS. */
const char       *natter_connection_get_peer_fingerprint (NatterConnection *self);
gboolean          natter_connection_is_open           (NatterConnection    *self);

/* Sends @request (which must have "type"; an integer "id" is added) and
 * completes with the "ok" reply object (transfer full), or with a
 * NATTER_ERROR error from an "error" reply, or NATTER_CLIENT_ERROR_CLOSED
 * when the connection ends first. @request is not modified. Replies are
 * matched by "re", so requests may be pipelined. */
void              natter_connection_request_async     (NatterConnection    *self,
                                                       JsonObject          *request,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
JsonObject       *natter_connection_request_finish    (NatterConnection    *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Sends @request without an id (no reply unless it fails; failures come
 * back as "event" frames of type "error" with "re": null). */
void              natter_connection_send              (NatterConnection    *self,
                                                       JsonObject          *request);

/* Closes the connection; pending requests fail with NATTER_CLIENT_ERROR_CLOSED
 * and "closed" is emitted with a NULL reason. Safe to call twice. */
void              natter_connection_close             (NatterConnection    *self);

G_END_DECLS
