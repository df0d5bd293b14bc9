/* natterd-status-probe.h: the UDP status probe on the server's port.
 *
 * A datagram {"type":"status",…} is answered with one datagram that is never
 * larger than the request, so the probe cannot amplify traffic; anything
 * else is dropped without an answer.
 */
#pragma once

#include <gio/gio.h>
#include "natterd-server.h"

G_BEGIN_DECLS

typedef struct _NatterdStatusProbe NatterdStatusProbe;

/* Binds UDP on @address (the TCP listener's own address and port). */
NatterdStatusProbe *natterd_status_probe_new  (NatterdServer   *server,
                                               GSocketAddress  *address,
                                               GError         **error);
void                natterd_status_probe_free (NatterdStatusProbe *self);

G_END_DECLS
