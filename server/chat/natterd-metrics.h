/* natterd-metrics.h: natterd's numbers for monitoring, in Prometheus's
 * text exposition format (version 0.0.4) over plain HTTP/1.1 on the
 * address of --metrics / [server] metrics (docs/server.md, "Metrics").
 *
 * GET /metrics (or HEAD) answers 200; another path 404; another method
 * 405; a request line that is not HTTP 400; a request larger than
 * NATTERD_METRICS_MAX_REQUEST 431. One request per connection (the answer
 * says Connection: close); a connection that has not sent its whole
 * request within NATTERD_METRICS_TIMEOUT_SECONDS is closed, and at most
 * NATTERD_METRICS_MAX_CONNECTIONS are open at once (more are closed at
 * once), so a slow or hostile client holds at most that many buffers.
 * No authentication: keep it on a loopback address. Everything runs on
 * the main loop with asynchronous GIO; the one count the database holds
 * (messages stored) is read on the reader thread.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

typedef struct _NatterdMetrics NatterdMetrics;

#define NATTERD_METRICS_MAX_REQUEST      8192
#define NATTERD_METRICS_TIMEOUT_SECONDS  10
#define NATTERD_METRICS_MAX_CONNECTIONS  16

/* Listens on @address ("HOST:PORT", HOST an IP address or "*"). */
NatterdMetrics *natterd_metrics_new  (NatterdDirectory  *directory,
                                      const char        *address,
                                      GError           **error);
void            natterd_metrics_free (NatterdMetrics    *self);

G_END_DECLS
