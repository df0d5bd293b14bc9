/* natterd-server-private.h: what connections and requests need from the
 * server that handlers do not.
 */
#pragma once

#include "natterd-server.h"
#include "natterd-connection.h"

G_BEGIN_DECLS

typedef struct _NatterdPoller NatterdPoller;

/* The epoll set every connection's socket is watched through. */
NatterdPoller *natterd_server_get_poller    (NatterdServer *self);
/* The welcome frame, encoded once at start. */
GBytes  *natterd_server_get_welcome         (NatterdServer *self);
/* One read buffer for every connection: reads happen one at a time on the
 * main thread, so an idle connection needs no buffer of its own. */
guint8  *natterd_server_get_read_buffer     (NatterdServer *self,
                                             gsize         *out_size);
/* Asks for @connection's queue to be written at the end of this main-loop
 * iteration, together with everything else queued meanwhile. */
void     natterd_server_schedule_flush      (NatterdServer     *self,
                                             NatterdConnection *connection);
/* Called once when a connection is gone for good. */
void     natterd_server_connection_closed   (NatterdServer     *self,
                                             NatterdConnection *connection);

G_END_DECLS
