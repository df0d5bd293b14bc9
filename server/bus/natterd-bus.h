/* natterd-bus.h: the live bus between the natterd nodes of a cluster.
 *
 * A node publishes what it committed; the others deliver it. The bus is
 * a hint, the database is the truth: nothing here is buffered for a
 * link that is down, nothing is retried, and a subscriber that is told
 * "connected" again (NatterdBusStateFunc) must catch up from the
 * database, since whatever was published meanwhile is lost. Redis,
 * spoken through hiredis; no other layer sees hiredis (the replies come
 * as NatterdBusReply). Everything runs on the GMainContext given to
 * natterd_bus_new() and never blocks it. The design is at the top of
 * natterd-bus.c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The defaults, and the bounds they make. */

/* Reconnecting: the first try again after 100 ms, then twice as long
 * after each failure, up to 5 s; back to 100 ms once connected. */
#define NATTERD_BUS_BACKOFF_MIN_MS      100
#define NATTERD_BUS_BACKOFF_MAX_MS      5000
/* A heartbeat goes round the bus (PUBLISH on the command connection, the
 * message back on the subscribed one) every 500 ms; a link whose
 * heartbeat has not come back within 2 s, or that has not finished
 * connecting within 2 s, is given up. So a Redis that goes silent
 * without closing its connections is noticed within
 * NATTERD_BUS_SILENCE_BOUND_MS. */
#define NATTERD_BUS_HEARTBEAT_MS        500
#define NATTERD_BUS_DEADLINE_MS         2000
#define NATTERD_BUS_SILENCE_BOUND_MS    (NATTERD_BUS_DEADLINE_MS + 2 * NATTERD_BUS_HEARTBEAT_MS)
/* Publishes and commands sent and not yet answered: at most 10000 of
 * them and 64 MiB. Past either, a publish is dropped and a command
 * fails (NATTERD_BUS_ERROR_BUSY), both counted: a Redis that is slow
 * must not make the node's memory grow without bound. */
#define NATTERD_BUS_MAX_IN_FLIGHT       10000
#define NATTERD_BUS_MAX_IN_FLIGHT_BYTES (64 * 1024 * 1024)

#define NATTERD_BUS_ERROR (natterd_bus_error_quark ())

typedef enum {
  NATTERD_BUS_ERROR_INVALID_ADDRESS,
  NATTERD_BUS_ERROR_NOT_CONNECTED,   /* the bus is not connected now */
  NATTERD_BUS_ERROR_BUSY,            /* over NATTERD_BUS_MAX_IN_FLIGHT(_BYTES) */
  NATTERD_BUS_ERROR_CONNECTION_LOST, /* sent, and the link went down before the reply */
  NATTERD_BUS_ERROR_CLOSED,          /* the bus was freed before the reply */
  NATTERD_BUS_ERROR_REDIS,           /* Redis answered with an error (its text) */
} NatterdBusError;

typedef enum {
  NATTERD_BUS_REPLY_STRING,
  NATTERD_BUS_REPLY_ARRAY,
  NATTERD_BUS_REPLY_INTEGER,
  NATTERD_BUS_REPLY_NIL,
  NATTERD_BUS_REPLY_STATUS,
  NATTERD_BUS_REPLY_ERROR,  /* only inside an array (EXEC's results); an error
                             * answering the command comes as a GError */
} NatterdBusReplyType;

/* A reply of Redis, valid during the callback only. */
typedef struct _NatterdBusReply NatterdBusReply;
struct _NatterdBusReply {
  NatterdBusReplyType  type;
  gint64               integer;    /* INTEGER */
  const char          *str;        /* STRING, STATUS, ERROR: binary-safe, NUL after len */
  gsize                len;
  NatterdBusReply    **elements;   /* ARRAY */
  gsize                n_elements;
};

typedef struct _NatterdBus NatterdBus;

/* @connected: TRUE when both connections are up and every subscription
 * is in place (again): catch up from the database now. FALSE when the
 * link is lost. Called on the bus's context, never from inside a call of
 * the bus; TRUE and FALSE alternate, starting with TRUE. */
typedef void (*NatterdBusStateFunc)   (NatterdBus            *bus,
                                       gboolean               connected,
                                       gpointer               user_data);
typedef void (*NatterdBusMessageFunc) (NatterdBus            *bus,
                                       const char            *channel,
                                       const guint8          *data,
                                       gsize                  len,
                                       gpointer               user_data);
/* Exactly one of @reply and @error is set. */
typedef void (*NatterdBusReplyFunc)   (const NatterdBusReply *reply,
                                       const GError          *error,
                                       gpointer               user_data);

/* Counters since natterd_bus_new(). */
typedef struct {
  guint64 published;          /* publishes handed to Redis */
  guint64 publish_dropped;    /* publishes dropped: not connected, or over the cap */
  guint64 received;           /* messages delivered to subscribers */
  guint64 commands_failed;    /* commands answered with an error of the bus, not of Redis */
  guint64 links_lost;         /* times a connected bus lost its link */
  guint64 connect_failures;   /* connection attempts that failed */
} NatterdBusStats;

GQuark      natterd_bus_error_quark    (void);

/* Parses @address (natterd-bus-address.h: "redis://HOST:PORT" or
 * "unix:/PATH"; a bad one is an error here) and starts connecting in the
 * background on @context (NULL: the thread-default one). Host names are
 * resolved with GResolver, asynchronously, at each attempt. */
NatterdBus *natterd_bus_new            (const char            *address,
                                        GMainContext          *context,
                                        GError               **error);
/* Fails every command still waiting (NATTERD_BUS_ERROR_CLOSED) before it
 * returns, closes both connections, and calls nothing afterwards. May be
 * called from any of the bus's callbacks. */
void        natterd_bus_free           (NatterdBus            *self);

void        natterd_bus_set_state_func (NatterdBus            *self,
                                        NatterdBusStateFunc    func,
                                        gpointer               user_data);
/* Delivers every message published on @channel from now on (once
 * Redis has confirmed the subscription), on the bus's context. One
 * function per channel. */
void        natterd_bus_subscribe      (NatterdBus            *self,
                                        const char            *channel,
                                        NatterdBusMessageFunc  func,
                                        gpointer               user_data);
/* Fire and forget: TRUE if handed to Redis, FALSE if dropped (not
 * connected, or over the cap; counted in publish_dropped). */
gboolean    natterd_bus_publish        (NatterdBus            *self,
                                        const char            *channel,
                                        const guint8          *data,
                                        gsize                  len);
/* Any Redis command that is not (un)subscribe, e.g. SET key value PX ms.
 * @func is called once, on the bus's context and never before this
 * returns: with the reply, or with an error (not connected, over the
 * cap, the link lost, Redis's error, the bus freed). */
void        natterd_bus_command        (NatterdBus            *self,
                                        NatterdBusReplyFunc    func,
                                        gpointer               user_data,
                                        int                    argc,
                                        const char           **argv,
                                        const gsize           *argvlen);

/* At a stop, with no main loop to run: writes what waits to go out on
 * the command connection (publishes, mostly) now, for at most
 * @timeout_ms, without waiting for the replies. */
void        natterd_bus_push_out       (NatterdBus            *self,
                                        guint                  timeout_ms);

gboolean    natterd_bus_is_connected   (NatterdBus            *self);
/* Why the last attempt or link failed; NULL if none has. */
const char *natterd_bus_get_last_error (NatterdBus            *self);
void        natterd_bus_get_stats      (NatterdBus            *self,
                                        NatterdBusStats       *out_stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterdBus, natterd_bus_free)

G_END_DECLS
