/* natterd-server.h: the GSocketService that owns every connection, and the
 * process-wide state the handlers reach through it.
 */
#pragma once

#include <gio/gio.h>
#include "natterd-config.h"

G_BEGIN_DECLS

typedef struct _NatterdStore     NatterdStore;      /* natterd-store.h */
typedef struct _NatterdDirectory NatterdDirectory;  /* natterd-directory.h */

#define NATTERD_TYPE_SERVER (natterd_server_get_type ())
G_DECLARE_FINAL_TYPE (NatterdServer, natterd_server, NATTERD, SERVER, GSocketService)

/* Takes ownership of @config, opens the store in config->data_dir. */
NatterdServer     *natterd_server_new           (NatterdConfig  *config,
                                                 GError        **error);
/* Binds every --listen address (TCP, and UDP for the status probe on the same
 * port) and prints "listening HOST:PORT" on stdout for each. */
gboolean           natterd_server_listen        (NatterdServer  *self,
                                                 GError        **error);
/* Stops accepting, flushes pending commits and queued frames, closes the
 * store. */
void               natterd_server_shutdown      (NatterdServer  *self);

const NatterdConfig *natterd_server_get_config  (NatterdServer *self);
NatterdStore      *natterd_server_get_store     (NatterdServer *self);
NatterdDirectory  *natterd_server_get_directory (NatterdServer *self);

/* Milliseconds since the epoch, read once per main-loop iteration is fine. */
gint64             natterd_now_ms               (void);

G_END_DECLS
