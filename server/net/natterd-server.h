/* natterd-server.h: the GSocketService that owns every connection, and the
 * process-wide state the handlers reach through it.
 */
#pragma once

#include <gio/gio.h>
#include "natterd-config.h"

G_BEGIN_DECLS

typedef struct _NatterdService   NatterdService;    /* natterd-service.h */

#define NATTERD_TYPE_SERVER (natterd_server_get_type ())
G_DECLARE_FINAL_TYPE (NatterdServer, natterd_server, NATTERD, SERVER, GSocketService)

/* Takes ownership of @config; locks config->data_dir (one natterd per
 * data directory) and loads or makes the TLS certificate there. */
NatterdServer     *natterd_server_new           (NatterdConfig  *config,
                                                 GError        **error);
/* Binds every --listen address (TCP, and UDP for the status probe on the same
 * port) and prints "listening HOST:PORT" on stdout for each. */
gboolean           natterd_server_listen        (NatterdServer  *self,
                                                 GError        **error);
/* Stops accepting, lets the service flush (pending commits), writes what
 * is queued once more and closes every connection. */
void               natterd_server_shutdown      (NatterdServer  *self);

const NatterdConfig *natterd_server_get_config  (NatterdServer *self);
/* Changes [server] registration while running (natterctl registration):
 * the welcome and the status probe say the new mode from now on. */
void               natterd_server_set_registration (NatterdServer       *self,
                                                    NatterdRegistration  mode);
/* Open client connections, logged in or not. */
guint              natterd_server_count_connections (NatterdServer *self);
/* Installs the layer above (main.c does, before listening); @data is
 * passed to each of @service's calls. Until then no request type is
 * known. */
void               natterd_server_set_service   (NatterdServer        *self,
                                                 const NatterdService *service,
                                                 gpointer              data);
const NatterdService *natterd_server_get_service (NatterdServer *self);
gpointer           natterd_server_get_service_data (NatterdServer *self);

/* Milliseconds since the epoch, read once per main-loop iteration is fine. */
gint64             natterd_now_ms               (void);

G_END_DECLS
