/* natterd-connection-private.h: the connection's life cycle, for the server
 * and for requests.
 */
#pragma once

#include "natterd-connection.h"
#include "natterd-request.h"
#include "natterd-send-pool.h"

G_BEGIN_DECLS

typedef struct _NatterdAddressCount NatterdAddressCount;

struct _NatterdAddressCount {
  guint count;
  char  key[]; /* the limit key, see natterd-address.h */
};

/* Takes ownership of @fd, a connected, non-blocking TCP socket. Nothing
 * is sent or read before natterd_connection_start. */
NatterdConnection *natterd_connection_new     (NatterdServer       *server,
                                               int                  fd,
                                               NatterdAddressCount *address,
                                               gboolean             over_limit);
/* Sends the welcome (or server_busy when over the limit) and starts
 * reading; with a @certificate, after the TLS handshake. Plain TCP makes
 * no GIO object at all; TLS wraps @fd in a GSocketConnection for its
 * GTlsServerConnection. May close the connection at once. */
void               natterd_connection_start   (NatterdConnection *self,
                                               GTlsCertificate   *certificate);
/* Writes what is queued, without blocking. */
void               natterd_connection_flush   (NatterdConnection *self);
/* A flush shared with the send pool, in two steps. Prepare fills @item
 * with the connection's next write (up to @max_vectors of its queue, which
 * must not change until finish); FALSE when there is nothing to write this
 * way (closed, not yet past the handshake, waiting to be writable, empty). Finish
 * takes the call's result, then writes whatever is left as flush does. */
gboolean           natterd_connection_prepare_send (NatterdConnection *self,
                                                    NatterdSendItem   *item,
                                                    GOutputVector     *vectors,
                                                    guint              max_vectors);
void               natterd_connection_finish_send  (NatterdConnection     *self,
                                                    const NatterdSendItem *item);
/* At shutdown: drops whatever is sent from now on, reads nothing more. */
void               natterd_connection_refuse_output (NatterdConnection *self);
/* Closes at once: no more reads or writes. */
void               natterd_connection_close_now (NatterdConnection *self);
/* The once-a-second check of timeouts; @now is monotonic µs. */
void               natterd_connection_tick    (NatterdConnection *self,
                                               gint64             now);

GList             *natterd_connection_get_server_link (NatterdConnection *self);
GList             *natterd_connection_get_flush_link  (NatterdConnection *self);
NatterdAddressCount *natterd_connection_get_address   (NatterdConnection *self);

/* For requests: the queue of requests whose replies wait their turn. */
void               natterd_connection_enqueue_request (NatterdConnection *self,
                                                       NatterdRequest    *request);
/* A request finished: send every reply now at the head of the queue, and
 * resume reading if @request was the one holding it back. */
void               natterd_connection_request_done    (NatterdConnection *self,
                                                       NatterdRequest    *request);

/* Request internals, used by the connection. */
NatterdRequest    *natterd_request_new        (NatterdConnection *connection,
                                               JsonNode          *root,
                                               JsonObject        *frame,
                                               JsonNode          *id,
                                               const char        *type);
/* Answers a ping: {"type":"pong"}, with "re" when the ping had an id. */
void               natterd_request_pong        (NatterdRequest *self);
gboolean           natterd_request_is_finished (NatterdRequest *self);
/* The encoded reply ('\n'-ended), or NULL when nothing is to be sent. */
GBytes            *natterd_request_steal_reply (NatterdRequest *self);
void               natterd_request_free        (NatterdRequest *self);
GList             *natterd_request_get_link    (NatterdRequest *self);

G_END_DECLS
