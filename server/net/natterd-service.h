/* natterd-service.h: what the network layer asks of the layer above.
 *
 * The network layer (this folder) knows frames, connections and requests,
 * but nothing of users, rooms or messages. main.c installs a service on
 * the server: a table of request types with their handlers, and three
 * calls back up. Those are the only calls from the network layer into the
 * chat layer; the build keeps it so (tests/server-core links this layer
 * alone).
 */
#pragma once

#include "natterd-request.h"
#include "natterd-server.h"

G_BEGIN_DECLS

typedef enum {
  NATTERD_HANDLER_NEEDS_AUTH     = 1 << 0, /* not_authenticated before login */
  NATTERD_HANDLER_BEFORE_AUTH    = 1 << 1, /* already_authenticated after login */
  NATTERD_HANDLER_PAUSES         = 1 << 2, /* later frames wait until it finishes */
  /* A chunk of a transfer (feature files): takes no token from the frame
   * bucket; after one, the connection's next frame is read only once
   * fewer than NATTERD_BULK_WINDOW of its requests are unanswered. */
  NATTERD_HANDLER_BULK           = 1 << 3,
} NatterdHandlerFlags;

/* The bits from here on are features (natter-features.h) a request type
 * belongs to: on a connection that has not turned each of them on
 * (natterd_connection_set_features), the type is unknown_type, before
 * login too. */
#define NATTERD_HANDLER_FEATURE_SHIFT 8

/* Requests of a connection unanswered at most after a BULK one
 * (docs/protocol.md, "Fairness and flow"). */
#define NATTERD_BULK_WINDOW 8
/* ...and only while less than this is queued for it to read: answered
 * chunks the client has not read yet count too (a download's replies). */
#define NATTERD_BULK_OUTPUT_BYTES (NATTERD_BULK_WINDOW * 64 * 1024)

typedef void (*NatterdHandlerFunc) (NatterdRequest *request);

/* One row of the dispatch table, after Redis's command table. */
typedef struct {
  const char          *type;
  NatterdHandlerFunc   func;
  guint                flags;  /* NatterdHandlerFlags, and the features above the shift */
} NatterdHandler;

struct _NatterdService {
  /* The handler of a request type; NULL answers unknown_type. "ping" and
   * "pong" never get here: the connection answers them itself. */
  const NatterdHandler *(*lookup)            (gpointer           data,
                                              const char        *type);
  /* A connection that had a session (natterd_connection_set_session) is
   * gone; the service forgets it and frees the session. */
  void                  (*connection_closed) (gpointer           data,
                                              NatterdConnection *connection);
  /* Users with at least one authenticated connection (the UDP probe). */
  guint                 (*count_online)      (gpointer           data);
  /* At shutdown, before the connections close: finish what is pending
   * (commit and answer sends waiting for their group commit). */
  void                  (*flush)             (gpointer           data);
};

G_END_DECLS
