/* natterd-bus.c: the live bus between natterd nodes, on Redis (natterd-bus.h).
 *
 * Two hiredis async connections per bus, each a GSource of hiredis's GLib
 * adapter on the bus's context: "command" for PUBLISH and the generic
 * commands, "subscriber" in SUBSCRIBE mode (Redis allows nothing else
 * there). Both are non-blocking from the connect on, so the main loop
 * never waits for Redis; a host name is resolved with GResolver's async
 * call (hiredis 0.14 would call getaddrinfo() and block), a literal
 * address goes to hiredis as it is.
 *
 * States. DOWN (a reconnect timer runs) -> CONNECTING (both connections
 * open, then SUBSCRIBE of every channel) -> UP once both are connected
 * and Redis has confirmed every subscription. Only then is the state
 * function told TRUE: a subscriber catches up from the database at that
 * moment and misses nothing after it. Any failure of either connection,
 * in any state, takes both down (bus_fail, then the teardown from an
 * idle): the pair is one link, and a half-up bus would deliver some
 * messages and not others. The reconnect waits 100 ms, doubling to 5 s
 * (NATTERD_BUS_BACKOFF_*); the first failure after being up (or at start)
 * is logged, the attempts after it only at debug level, and being back
 * is logged once.
 *
 * Silence. hiredis 0.14 has no timeouts in its async API, and a Redis
 * that is stopped (SIGSTOP, a hung host) keeps its sockets open, so
 * nothing would ever fail. A heartbeat does: every NATTERD_BUS_HEARTBEAT_MS
 * the command connection publishes a counter on a channel of this bus
 * alone, to which the subscriber connection is subscribed; a heartbeat
 * not back within NATTERD_BUS_DEADLINE_MS, or an attempt not UP within
 * it, fails the link. The heartbeat checks both connections and every
 * command queued before it (Redis answers in order), with no PING on the
 * subscribed connection (which hiredis 0.14 cannot parse in that mode).
 *
 * Bounds. Nothing is buffered while DOWN: a publish is dropped and
 * counted, a command fails at once, since the database is the truth and
 * a node catches up from it. While UP, what is sent and not yet answered
 * is counted (NATTERD_BUS_MAX_IN_FLIGHT and _BYTES); past the cap the
 * same happens. The heartbeat is exempt, or a full queue would hide a
 * dead link.
 *
 * Lifetimes, against hiredis 0.14's rules. A context is freed by hiredis
 * itself when its connection fails (after calling every waiting callback
 * with a NULL reply), by redisAsyncFree() at once, or, inside one of its
 * reply callbacks, once that callback returns. The one hook that runs in
 * every case is the adapter's cleanup; link_cleanup_cb wraps it, and it
 * is where a Link learns that its context is gone. Each live context
 * holds a reference on the bus, so that a deferred free still finds the
 * bus (natterd_bus_free only drops the caller's reference). The bus
 * never frees a context from inside onConnect (hiredis would go on using
 * it) and calls no user code from there or from the cleanup: failures
 * and state changes go through idles. Every command has a Pending in
 * bus->pending as well as hiredis's callback; natterd_bus_free answers
 * them all with NATTERD_BUS_ERROR_CLOSED and detaches them, and hiredis
 * then frees them without calling anyone.
 */
#define G_LOG_DOMAIN "natterd-bus"

#include "config.h"

#include <gio/gio.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/glib.h>
#include <poll.h>
#include <string.h>

#include "natterd-bus.h"
#include "natterd-bus-address.h"

typedef enum {
  BUS_DOWN,
  BUS_CONNECTING,
  BUS_UP,
} BusState;

typedef struct {
  NatterdBus        *bus;
  const char        *name;      /* for messages: "command", "subscriber" */
  redisAsyncContext *ac;        /* NULL: no connection */
  GSource           *source;    /* the adapter's source for ac */
  gboolean           connected; /* ac's connect() finished */
  gboolean           closing;   /* the bus frees ac: not a failure */
} Link;

typedef struct {
  NatterdBusMessageFunc func;
  gpointer              user_data;
} Subscription;

typedef enum {
  PENDING_COMMAND,
  PENDING_PUBLISH,
  PENDING_HEARTBEAT,
} PendingKind;

typedef struct {
  GList                node;      /* in bus->pending or bus->refused */
  NatterdBus          *bus;       /* NULL once detached by natterd_bus_free */
  PendingKind          kind;
  gsize                bytes;
  NatterdBusReplyFunc  func;      /* NULL once called */
  gpointer             user_data;
  GError              *error;     /* refused: why */
} Pending;

struct _NatterdBus {
  gint                 ref_count;
  GMainContext        *context;
  NatterdBusAddress   *address;
  char                *description;   /* the address as given */

  Link                 command;
  Link                 subscriber;
  BusState             state;
  gboolean             failing;       /* a teardown is scheduled */
  gboolean             closing;       /* natterd_bus_free was called */
  gboolean             announced;     /* the state function was last told TRUE */
  gboolean             ever_up;
  gboolean             down_logged;   /* a failure was logged since the last UP */
  guint                backoff_ms;
  gint64               attempt_started;
  GCancellable        *resolving;

  GHashTable          *subscriptions; /* channel -> Subscription */
  guint                subs_pending;  /* SUBSCRIBEs Redis has not confirmed */

  char                *heartbeat_channel;
  guint64              heartbeat_seq;
  gboolean             heartbeat_out;
  gint64               heartbeat_sent;

  GQueue               pending;       /* sent, waiting for Redis, in order */
  guint                in_flight;     /* pending.length plus detached ones: no */
  gsize                in_flight_bytes;
  GQueue               refused;       /* failed before being sent: answered from an idle */

  GSource             *tick;
  GSource             *reconnect;
  GSource             *teardown;
  GSource             *announce;
  GSource             *answer_refused;

  NatterdBusStateFunc  state_func;
  gpointer             state_data;
  char                *last_error;
  NatterdBusStats      stats;
};

G_DEFINE_QUARK (natterd-bus-error-quark, natterd_bus_error)

static void start_attempt (NatterdBus *self);

static NatterdBus *
bus_ref (NatterdBus *self)
{
  self->ref_count++;
  return self;
}

static void
bus_unref (NatterdBus *self)
{
  if (--self->ref_count > 0)
    return;
  g_assert (self->command.ac == NULL && self->subscriber.ac == NULL);
  g_assert (g_queue_is_empty (&self->pending) && g_queue_is_empty (&self->refused));
  g_clear_pointer (&self->subscriptions, g_hash_table_unref);
  g_clear_pointer (&self->address, natterd_bus_address_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->description);
  g_free (self->heartbeat_channel);
  g_free (self->last_error);
  g_free (self);
}

/* A source on the bus's context that calls @func with the bus. */
static GSource *
add_source (NatterdBus  *self,
            GSource     *source,
            GSourceFunc  func)
{
  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* --- failures and the teardown --- */

static gboolean teardown_cb (gpointer user_data);

/* Takes both connections down (from an idle: we may be inside hiredis
 * here) and reconnects later. The first failure after being up, or the
 * first at start, is logged; further attempts are not. */
G_GNUC_PRINTF (2, 3)
static void
bus_fail (NatterdBus *self,
          const char *format,
          ...)
{
  va_list args;

  if (self->closing || self->failing)
    return;
  self->failing = TRUE;

  g_free (self->last_error);
  va_start (args, format);
  self->last_error = g_strdup_vprintf (format, args);
  va_end (args);

  if (self->state == BUS_UP)
    {
      self->stats.links_lost++;
      g_message ("Lost the connection to Redis at %s: %s; reconnecting in the background",
                 self->description, self->last_error);
    }
  else
    {
      self->stats.connect_failures++;
      if (!self->down_logged)
        g_message ("Cannot reach Redis at %s: %s; trying again in the background",
                   self->description, self->last_error);
      else
        g_debug ("Redis at %s: %s", self->description, self->last_error);
    }
  self->down_logged = TRUE;
  self->state = BUS_DOWN;
  self->teardown = add_source (self, g_idle_source_new (), teardown_cb);
}

/* Frees the link's context; its waiting callbacks run now with a NULL
 * reply (or, inside one of its callbacks, when that returns). */
static void
close_link (Link *link)
{
  if (link->ac == NULL)
    return;
  link->closing = TRUE;
  redisAsyncFree (link->ac);
}

static gboolean
reconnect_cb (gpointer user_data)
{
  NatterdBus *self = user_data;

  g_clear_pointer (&self->reconnect, g_source_unref);
  start_attempt (self);
  return G_SOURCE_REMOVE;
}

static gboolean
teardown_cb (gpointer user_data)
{
  NatterdBus *self = bus_ref (user_data);

  g_clear_pointer (&self->teardown, g_source_unref);
  if (self->resolving != NULL)
    {
      g_cancellable_cancel (self->resolving);
      g_clear_object (&self->resolving);
    }
  /* Commands waiting on the command connection are answered with
   * NATTERD_BUS_ERROR_CONNECTION_LOST from here (reply_cb). */
  close_link (&self->command);
  close_link (&self->subscriber);
  self->subs_pending = 0;
  self->heartbeat_out = FALSE;
  self->failing = FALSE;

  if (!self->closing)
    {
      self->reconnect = add_source (self, g_timeout_source_new (self->backoff_ms), reconnect_cb);
      self->backoff_ms = MIN (self->backoff_ms * 2, NATTERD_BUS_BACKOFF_MAX_MS);
      if (self->announced)
        {
          self->announced = FALSE;
          if (self->state_func != NULL)
            self->state_func (self, FALSE, self->state_data);
        }
    }
  bus_unref (self);
  return G_SOURCE_REMOVE;
}

/* --- the state function --- */

static gboolean
announce_cb (gpointer user_data)
{
  NatterdBus *self = user_data;

  g_clear_pointer (&self->announce, g_source_unref);
  if (self->state == BUS_UP && !self->announced)
    {
      self->announced = TRUE;
      if (self->state_func != NULL)
        self->state_func (self, TRUE, self->state_data);
    }
  return G_SOURCE_REMOVE;
}

static void
check_up (NatterdBus *self)
{
  if (self->state != BUS_CONNECTING || !self->command.connected ||
      !self->subscriber.connected || self->subs_pending > 0)
    return;

  self->state = BUS_UP;
  self->backoff_ms = NATTERD_BUS_BACKOFF_MIN_MS;
  self->heartbeat_out = FALSE;
  if (!self->ever_up)
    g_message ("Connected to Redis at %s", self->description);
  else if (self->down_logged)
    g_message ("Connected to Redis at %s again", self->description);
  self->ever_up = TRUE;
  self->down_logged = FALSE;
  if (self->announce == NULL)
    self->announce = add_source (self, g_idle_source_new (), announce_cb);
}

/* --- replies --- */

static NatterdBusReply *
reply_copy (const redisReply *r)
{
  NatterdBusReply *out = g_new0 (NatterdBusReply, 1);

  switch (r->type)
    {
    case REDIS_REPLY_ARRAY:
      out->type = NATTERD_BUS_REPLY_ARRAY;
      out->n_elements = r->elements;
      out->elements = g_new0 (NatterdBusReply *, r->elements + 1);
      for (gsize i = 0; i < r->elements; i++)
        out->elements[i] = reply_copy (r->element[i]);
      break;
    case REDIS_REPLY_INTEGER:
      out->type = NATTERD_BUS_REPLY_INTEGER;
      out->integer = r->integer;
      break;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_STRING:
      out->type = r->type == REDIS_REPLY_STATUS ? NATTERD_BUS_REPLY_STATUS
                : r->type == REDIS_REPLY_ERROR ? NATTERD_BUS_REPLY_ERROR
                : NATTERD_BUS_REPLY_STRING;
      /* Borrowed: the reply lives until the callback returns. */
      out->str = r->str;
      out->len = r->len;
      break;
    default:
      out->type = NATTERD_BUS_REPLY_NIL;
      break;
    }
  return out;
}

static void
reply_free (NatterdBusReply *reply)
{
  for (gsize i = 0; i < reply->n_elements; i++)
    reply_free (reply->elements[i]);
  g_free (reply->elements);
  g_free (reply);
}

/* Calls the pending's function once, with @reply or @error. */
static void
answer (Pending          *pending,
        const redisReply *reply,
        const GError     *error)
{
  NatterdBusReplyFunc func = pending->func;

  if (func == NULL)
    return;
  pending->func = NULL;
  if (error != NULL)
    func (NULL, error, pending->user_data);
  else if (reply->type == REDIS_REPLY_ERROR)
    {
      g_autoptr(GError) redis_error = g_error_new (NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_REDIS,
                                                   "%.*s", (int) MIN (reply->len, 4096), reply->str);
      func (NULL, redis_error, pending->user_data);
    }
  else
    {
      NatterdBusReply *copy = reply_copy (reply);

      func (copy, NULL, pending->user_data);
      reply_free (copy);
    }
}

/* hiredis's callback for everything sent on the command connection;
 * @r is NULL when the connection is gone or the bus freed it. */
static void
reply_cb (redisAsyncContext *ac,
          void              *r,
          void              *privdata)
{
  Pending *pending = privdata;
  NatterdBus *self = pending->bus;
  const redisReply *reply = r;

  if (self != NULL)
    {
      g_queue_unlink (&self->pending, &pending->node);
      self->in_flight--;
      self->in_flight_bytes -= pending->bytes;
    }

  if (pending->kind == PENDING_COMMAND && pending->func != NULL)
    {
      if (reply == NULL)
        {
          g_autoptr(GError) error = g_error_new (NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CONNECTION_LOST,
                                                 "The connection to Redis was lost before its reply");
          if (self != NULL)
            self->stats.commands_failed++;
          answer (pending, NULL, error);
        }
      else
        answer (pending, reply, NULL);
    }
  else if (pending->kind == PENDING_PUBLISH && reply != NULL && reply->type == REDIS_REPLY_ERROR)
    g_debug ("Redis refused a PUBLISH: %s", reply->str);

  g_free (pending);
}

/* --- sending --- */

static gboolean
answer_refused_cb (gpointer user_data)
{
  NatterdBus *self = bus_ref (user_data);
  GList *node;

  g_clear_pointer (&self->answer_refused, g_source_unref);
  while (!self->closing && (node = g_queue_pop_head_link (&self->refused)) != NULL)
    {
      Pending *pending = node->data;

      answer (pending, NULL, pending->error);
      g_clear_error (&pending->error);
      g_free (pending);
    }
  bus_unref (self);
  return G_SOURCE_REMOVE;
}

/* A command that cannot be sent is answered from an idle, never inside
 * natterd_bus_command (its caller may hold locks or be half way). */
static void
refuse (NatterdBus          *self,
        NatterdBusReplyFunc  func,
        gpointer             user_data,
        GError              *error)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->node.data = pending;
  pending->func = func;
  pending->user_data = user_data;
  pending->error = error;
  self->stats.commands_failed++;
  g_queue_push_tail_link (&self->refused, &pending->node);
  if (self->answer_refused == NULL && !self->closing)
    self->answer_refused = add_source (self, g_idle_source_new (), answer_refused_cb);
}

/* Sends a command on the command connection; FALSE and @error when not
 * connected or over the cap (unless @capped is FALSE). */
static gboolean
send_command (NatterdBus           *self,
              PendingKind           kind,
              gboolean              capped,
              NatterdBusReplyFunc   func,
              gpointer              user_data,
              int                   argc,
              const char          **argv,
              const gsize          *argvlen,
              GError              **error)
{
  Pending *pending;
  gsize bytes = 0;

  if (self->closing)
    return g_set_error_literal (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CLOSED,
                                "The bus is closed"), FALSE;
  if (self->state != BUS_UP || self->command.ac == NULL)
    return g_set_error (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_NOT_CONNECTED,
                        "Not connected to Redis at %s", self->description), FALSE;

  /* What hiredis keeps for it: the arguments and their framing. */
  for (int i = 0; i < argc; i++)
    bytes += argvlen[i] + 16;
  if (capped && (self->in_flight >= NATTERD_BUS_MAX_IN_FLIGHT ||
                 self->in_flight_bytes + bytes > NATTERD_BUS_MAX_IN_FLIGHT_BYTES))
    return g_set_error (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_BUSY,
                        "Redis at %s is behind: %u commands (%" G_GSIZE_FORMAT " bytes) wait for it",
                        self->description, self->in_flight, self->in_flight_bytes), FALSE;

  pending = g_new0 (Pending, 1);
  pending->node.data = pending;
  pending->bus = self;
  pending->kind = kind;
  pending->bytes = bytes;
  pending->func = func;
  pending->user_data = user_data;
  /* REDIS_ERR: the context is being torn down (this can run from a
   * callback hiredis makes while it frees it). */
  if (redisAsyncCommandArgv (self->command.ac, reply_cb, pending, argc, argv, argvlen) != REDIS_OK)
    {
      g_free (pending);
      return g_set_error (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_NOT_CONNECTED,
                          "The connection to Redis at %s is closing", self->description), FALSE;
    }
  g_queue_push_tail_link (&self->pending, &pending->node);
  self->in_flight++;
  self->in_flight_bytes += bytes;
  return TRUE;
}

void
natterd_bus_command (NatterdBus           *self,
                     NatterdBusReplyFunc   func,
                     gpointer              user_data,
                     int                   argc,
                     const char          **argv,
                     const gsize          *argvlen)
{
  GError *error = NULL;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);
  g_return_if_fail (argc > 0 && argv != NULL && argvlen != NULL);

  if (!send_command (self, PENDING_COMMAND, TRUE, func, user_data, argc, argv, argvlen, &error))
    refuse (self, func, user_data, error);
}

gboolean
natterd_bus_publish (NatterdBus   *self,
                     const char   *channel,
                     const guint8 *data,
                     gsize         len)
{
  const char *argv[] = { "PUBLISH", channel, data != NULL ? (const char *) data : "" };
  gsize argvlen[] = { strlen ("PUBLISH"), strlen (channel), len };
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (channel != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (!send_command (self, PENDING_PUBLISH, TRUE, NULL, NULL, 3, argv, argvlen, &error))
    {
      self->stats.publish_dropped++;
      g_debug ("Dropped a publish on %s: %s", channel, error->message);
      return FALSE;
    }
  self->stats.published++;
  return TRUE;
}

/* --- subscriptions and the heartbeat --- */

static void subscribed_cb (redisAsyncContext *ac, void *r, void *privdata);

/* SUBSCRIBE @channels on the subscriber connection. */
static void
send_subscribe (NatterdBus  *self,
                GPtrArray   *channels)
{
  g_autofree const char **argv = g_new0 (const char *, channels->len + 1);
  g_autofree gsize *argvlen = g_new0 (gsize, channels->len + 1);

  argv[0] = "SUBSCRIBE";
  argvlen[0] = strlen ("SUBSCRIBE");
  for (guint i = 0; i < channels->len; i++)
    {
      argv[i + 1] = channels->pdata[i];
      argvlen[i + 1] = strlen (channels->pdata[i]);
    }
  if (redisAsyncCommandArgv (self->subscriber.ac, subscribed_cb, &self->subscriber,
                             channels->len + 1, argv, argvlen) != REDIS_OK)
    {
      bus_fail (self, "cannot subscribe");
      return;
    }
  self->subs_pending += channels->len;
}

static void
heartbeat_back (NatterdBus        *self,
                const redisReply  *payload)
{
  g_autofree char *expected = g_strdup_printf ("%" G_GUINT64_FORMAT, self->heartbeat_seq);

  if (self->heartbeat_out && payload->len == strlen (expected) &&
      memcmp (payload->str, expected, payload->len) == 0)
    self->heartbeat_out = FALSE;
}

static void
send_heartbeat (NatterdBus *self)
{
  g_autofree char *seq = g_strdup_printf ("%" G_GUINT64_FORMAT, ++self->heartbeat_seq);
  const char *argv[] = { "PUBLISH", self->heartbeat_channel, seq };
  gsize argvlen[] = { strlen ("PUBLISH"), strlen (self->heartbeat_channel), strlen (seq) };

  /* Not capped: a full queue must not keep a dead link from being found. */
  if (send_command (self, PENDING_HEARTBEAT, FALSE, NULL, NULL, 3, argv, argvlen, NULL))
    {
      self->heartbeat_out = TRUE;
      self->heartbeat_sent = g_get_monotonic_time ();
    }
}

/* hiredis's callback for the subscriber connection: a confirmation
 * ["subscribe", channel, count], a message ["message", channel, data],
 * or NULL while the context is freed. */
static void
subscribed_cb (redisAsyncContext *ac,
               void              *r,
               void              *privdata)
{
  Link *link = privdata;
  NatterdBus *self = link->bus;
  const redisReply *reply = r;
  const char *kind, *channel;
  Subscription *subscription;

  if (reply == NULL || self->closing || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_STRING)
    return;
  kind = reply->element[0]->str;
  channel = reply->element[1]->str;

  if (g_ascii_strcasecmp (kind, "subscribe") == 0)
    {
      if (self->subs_pending > 0)
        self->subs_pending--;
      check_up (self);
      return;
    }
  if (g_ascii_strcasecmp (kind, "message") != 0 || reply->element[2]->type != REDIS_REPLY_STRING)
    return;

  if (strcmp (channel, self->heartbeat_channel) == 0)
    {
      heartbeat_back (self, reply->element[2]);
      return;
    }
  subscription = g_hash_table_lookup (self->subscriptions, channel);
  if (subscription == NULL)
    return;
  self->stats.received++;
  subscription->func (self, channel, (const guint8 *) reply->element[2]->str,
                      reply->element[2]->len, subscription->user_data);
}

void
natterd_bus_subscribe (NatterdBus            *self,
                       const char            *channel,
                       NatterdBusMessageFunc  func,
                       gpointer               user_data)
{
  Subscription *subscription;
  gboolean is_new;

  g_return_if_fail (self != NULL && !self->closing);
  g_return_if_fail (channel != NULL && *channel != '\0');
  g_return_if_fail (func != NULL);
  g_return_if_fail (strcmp (channel, self->heartbeat_channel) != 0);

  subscription = g_new0 (Subscription, 1);
  subscription->func = func;
  subscription->user_data = user_data;
  is_new = g_hash_table_replace (self->subscriptions, g_strdup (channel), subscription);

  /* Not connected yet: the connect subscribes to every channel. */
  if (is_new && self->subscriber.connected)
    {
      g_autoptr(GPtrArray) channels = g_ptr_array_new ();

      g_ptr_array_add (channels, (gpointer) channel);
      send_subscribe (self, channels);
    }
}

/* --- connecting --- */

/* The adapter's cleanup, which hiredis calls whenever it frees a context,
 * for any reason: the one place a Link learns that its context is gone. */
static void
link_cleanup_cb (void *data)
{
  RedisSource *source = data;
  redisAsyncContext *ac = source->ac;
  Link *link = ac->data;
  NatterdBus *self = link->bus;
  gboolean failed = !link->closing;
  g_autofree char *why = NULL;

  if (failed)
    why = g_strdup (ac->c.err != 0 ? ac->c.errstr : "the connection was closed");

  redis_source_cleanup (data);
  /* hiredis 0.14's adapter dispatches a read after a write even when the
   * write freed the context (a connection reset): nothing is left to
   * read. */
  source->poll_fd.revents = 0;
  drop_source (&link->source);

  link->ac = NULL;
  link->connected = FALSE;
  link->closing = FALSE;
  if (failed)
    bus_fail (self, "%s connection: %s", link->name, why);
  bus_unref (self);
}

static void
connect_cb (const redisAsyncContext *ac,
            int                      status)
{
  Link *link = ac->data;
  NatterdBus *self = link->bus;

  /* A failure: hiredis frees the context next, and link_cleanup_cb
   * says why. Nothing may free it here. */
  if (status != REDIS_OK)
    return;

  link->connected = TRUE;
  if (link == &self->subscriber)
    {
      g_autoptr(GPtrArray) channels = g_ptr_array_new ();
      GHashTableIter iter;
      gpointer channel;

      g_hash_table_iter_init (&iter, self->subscriptions);
      while (g_hash_table_iter_next (&iter, &channel, NULL))
        g_ptr_array_add (channels, channel);
      g_ptr_array_add (channels, self->heartbeat_channel);
      send_subscribe (self, channels);
    }
  check_up (self);
}

static gboolean
open_link (NatterdBus *self,
           Link       *link,
           const char *host)
{
  redisAsyncContext *ac;

  if (self->address->path != NULL)
    ac = redisAsyncConnectUnix (self->address->path);
  else
    ac = redisAsyncConnect (host, self->address->port);
  if (ac == NULL)
    g_error ("hiredis: out of memory");
  if (ac->err != 0)
    {
      bus_fail (self, "%s connection: %s", link->name, ac->errstr);
      redisAsyncFree (ac);
      return FALSE;
    }

  ac->data = link;
  link->source = redis_source_new (ac);
  ac->ev.cleanup = link_cleanup_cb;
  g_source_attach (link->source, self->context);
  link->ac = ac;
  bus_ref (self);
  redisAsyncSetConnectCallback (ac, connect_cb);
  return TRUE;
}

static void
open_links (NatterdBus *self,
            const char *host)
{
  if (open_link (self, &self->command, host))
    open_link (self, &self->subscriber, host);
}

static void
resolved_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  NatterdBus *self = user_data;
  g_autoptr(GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->closing)
    ;
  else if (addresses == NULL)
    bus_fail (self, "cannot resolve %s: %s", self->address->host, error->message);
  else
    {
      g_autofree char *host = g_inet_address_to_string (addresses->data);

      g_clear_object (&self->resolving);
      open_links (self, host);
    }
  g_resolver_free_addresses (addresses);
  bus_unref (self);
}

static void
start_attempt (NatterdBus *self)
{
  self->state = BUS_CONNECTING;
  self->attempt_started = g_get_monotonic_time ();

  if (self->address->path != NULL || self->address->is_literal)
    {
      open_links (self, self->address->host);
      return;
    }

  /* GResolver calls back on the thread-default context of the call. */
  {
    g_autoptr(GResolver) resolver = g_resolver_get_default ();

    self->resolving = g_cancellable_new ();
    g_main_context_push_thread_default (self->context);
    g_resolver_lookup_by_name_async (resolver, self->address->host, self->resolving,
                                     resolved_cb, bus_ref (self));
    g_main_context_pop_thread_default (self->context);
  }
}

/* Every NATTERD_BUS_HEARTBEAT_MS: deadlines, and the heartbeat. */
static gboolean
tick_cb (gpointer user_data)
{
  NatterdBus *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 deadline = (gint64) NATTERD_BUS_DEADLINE_MS * 1000;

  if (self->state == BUS_CONNECTING && !self->failing && now - self->attempt_started > deadline)
    bus_fail (self, "no answer within %d ms while connecting", NATTERD_BUS_DEADLINE_MS);
  else if (self->state == BUS_UP && self->heartbeat_out && now - self->heartbeat_sent > deadline)
    bus_fail (self, "no answer within %d ms", NATTERD_BUS_DEADLINE_MS);
  else if (self->state == BUS_UP && !self->heartbeat_out)
    send_heartbeat (self);
  return G_SOURCE_CONTINUE;
}

/* --- the bus --- */

NatterdBus *
natterd_bus_new (const char    *address,
                 GMainContext  *context,
                 GError       **error)
{
  g_autoptr(NatterdBusAddress) parsed = NULL;
  NatterdBus *self;

  g_return_val_if_fail (address != NULL, NULL);

  parsed = natterd_bus_address_parse (address, error);
  if (parsed == NULL)
    return NULL;

  self = g_new0 (NatterdBus, 1);
  self->ref_count = 1;
  self->context = context != NULL ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  self->address = g_steal_pointer (&parsed);
  self->description = g_strdup (address);
  self->command.bus = self;
  self->command.name = "command";
  self->subscriber.bus = self;
  self->subscriber.name = "subscriber";
  self->backoff_ms = NATTERD_BUS_BACKOFF_MIN_MS;
  self->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* A channel of this bus alone: other nodes' heartbeats never reach it. */
  self->heartbeat_channel = g_strdup_printf ("natterd-bus:heartbeat:%08x%08x",
                                             g_random_int (), g_random_int ());
  g_queue_init (&self->pending);
  g_queue_init (&self->refused);
  self->tick = add_source (self, g_timeout_source_new (NATTERD_BUS_HEARTBEAT_MS), tick_cb);
  start_attempt (self);
  return self;
}

void
natterd_bus_free (NatterdBus *self)
{
  GList *node;

  if (self == NULL)
    return;
  g_return_if_fail (!self->closing);

  self->closing = TRUE;
  bus_ref (self);
  drop_source (&self->tick);
  drop_source (&self->reconnect);
  drop_source (&self->teardown);
  drop_source (&self->announce);
  drop_source (&self->answer_refused);
  if (self->resolving != NULL)
    {
      g_cancellable_cancel (self->resolving);
      g_clear_object (&self->resolving);
    }
  self->state_func = NULL;

  /* Every command gets its answer now, and nothing afterwards: the
   * Pendings hiredis still holds are detached, and it frees them. A
   * function called here may still call natterd_bus_command, which is
   * refused: hence the loop until both queues are empty. */
  for (;;)
    {
      if ((node = g_queue_pop_head_link (&self->pending)) != NULL)
        {
          Pending *pending = node->data;
          g_autoptr(GError) error = g_error_new (NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CLOSED,
                                                 "The bus was closed before Redis answered");

          pending->bus = NULL;
          if (pending->kind == PENDING_COMMAND && pending->func != NULL)
            {
              self->stats.commands_failed++;
              answer (pending, NULL, error);
            }
        }
      else if ((node = g_queue_pop_head_link (&self->refused)) != NULL)
        {
          Pending *pending = node->data;

          answer (pending, NULL, pending->error);
          g_clear_error (&pending->error);
          g_free (pending);
        }
      else
        break;
    }
  self->in_flight = 0;
  self->in_flight_bytes = 0;

  close_link (&self->command);
  close_link (&self->subscriber);
  g_hash_table_remove_all (self->subscriptions);

  bus_unref (self); /* the caller's */
  bus_unref (self);
}

void
natterd_bus_set_state_func (NatterdBus          *self,
                            NatterdBusStateFunc  func,
                            gpointer             user_data)
{
  g_return_if_fail (self != NULL);

  self->state_func = func;
  self->state_data = user_data;
}

gboolean
natterd_bus_is_connected (NatterdBus *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->state == BUS_UP;
}

const char *
natterd_bus_get_last_error (NatterdBus *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->last_error;
}

void
natterd_bus_get_stats (NatterdBus      *self,
                       NatterdBusStats *out_stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (out_stats != NULL);

  *out_stats = self->stats;
}

void
natterd_bus_push_out (NatterdBus *self,
                      guint       timeout_ms)
{
  redisAsyncContext *ac = self->state == BUS_UP ? self->command.ac : NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  int done = 0;

  if (ac == NULL)
    return;
  /* Behind the adapter's back, but harmless: its next write finds the
   * buffer empty. The replies are not waited for. */
  while (!done)
    {
      struct pollfd fd = { ac->c.fd, POLLOUT, 0 };
      gint64 left_ms;

      if (redisBufferWrite (&ac->c, &done) == REDIS_ERR || done)
        return;
      left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      if (left_ms <= 0 || poll (&fd, 1, (int) left_ms) <= 0)
        return;
    }
}
