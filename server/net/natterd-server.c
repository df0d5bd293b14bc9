#define G_LOG_DOMAIN "natterd-server"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "natter-features.h"
#include "natter-json.h"
#include "natterd-address.h"
#include "natterd-connection-private.h"
#include "natterd-platform.h"
#include "natterd-poller.h"
#include "natterd-server-private.h"
#include "natterd-service.h"
#include "natterd-status-probe.h"
#include "natterd-tls-cert.h"

#define READ_BUFFER_SIZE (64 * 1024)
/* The kernel caps it at net.core.somaxconn (4096 on Debian 12). */
#define LISTEN_BACKLOG 4096
#define LOCK_FILENAME "natterd.lock"
/* Connections accepted per readiness event of a listening socket: the
 * backlog drains in a few iterations, while the connections already open
 * still get their turn in between. */
#define MAX_ACCEPTS_PER_EVENT 1024
/* Out of descriptors (or memory): stop accepting for this long, rather
 * than spin on a listening socket that stays readable. */
#define ACCEPT_PAUSE_MS 100
/* Connections to write to in one iteration before the send pool shares
 * the work: fewer cost less than waking a thread (a reply, a DM). */
#define SHARED_FLUSH_MIN 16
/* Pieces of a connection's queue one shared write takes; a fan-out
 * leaves one or two, and a longer queue goes on from the main loop. */
#define SHARED_FLUSH_VECTORS 8
/* Connections written in one round of a flush before the main loop looks
 * for input: ~0.1-0.2 ms of sendmsg here. A send that arrives during a big
 * fan-out is then read (and on its way to the writer) after this round, not
 * after the whole fan-out: at 100 k deliveries/s to 100 members that wait
 * was 0.4 ms at p90 and 0.8 ms at p99 (docs/performance.md, F18). */
#define FLUSH_ROUND 48

/* A listening socket. The GSocketListener owns the GSocket; natterd
 * watches its descriptor through the poller and accepts from it itself. */
typedef struct {
  NatterdServer     *server;
  int                fd;
  NatterdPollHandle  poll;
} Listener;

struct _NatterdServer {
  GSocketService    parent_instance;

  /* Owned. */
  NatterdConfig    *config;
  const NatterdService *service;      /* the layer above (natterd-service.h) */
  gpointer          service_data;
  GTlsCertificate  *certificate;      /* NULL with --no-tls */
  GBytes           *welcome;
  guint8           *read_buffer;
  GHashTable       *addresses;        /* key → NatterdAddressCount (key inside) */
  GQueue            connections;      /* every open connection, by server_link */
  GQueue            flush_queue;      /* connections with frames to write, by flush_link */
  GSource          *flush_source;
  NatterdSendPool  *send_pool;        /* NULL with send_threads = 1 */
  /* One round of a shared flush: its writes, their connections, the
   * vectors the writes point into. */
  NatterdSendItem   send_items[FLUSH_ROUND];
  NatterdConnection *send_connections[FLUSH_ROUND];
  GOutputVector     send_vectors[FLUSH_ROUND * SHARED_FLUSH_VECTORS];
  NatterdPoller    *poller;
  GPtrArray        *closed;           /* connections to drop from an idle */
  guint             reap_id;
  guint             tick_id;
  GPtrArray        *probes;           /* NatterdStatusProbe */
  GPtrArray        *listeners;        /* Listener */
  guint             accept_pause_id;
  gint64            accept_warned;    /* monotonic µs of the last warning */
  int               lock_fd;
};

G_DEFINE_FINAL_TYPE (NatterdServer, natterd_server, G_TYPE_SOCKET_SERVICE)

gint64
natterd_now_ms (void)
{
  return g_get_real_time () / 1000;
}

const NatterdConfig *
natterd_server_get_config (NatterdServer *self)
{
  return self->config;
}

static GBytes *encode_welcome (const NatterdConfig *config);

void
natterd_server_set_registration (NatterdServer       *self,
                                 NatterdRegistration  mode)
{
  self->config->registration = mode;
  /* Connections made from now on are welcomed with the new mode. */
  g_clear_pointer (&self->welcome, g_bytes_unref);
  self->welcome = encode_welcome (self->config);
}

guint
natterd_server_count_connections (NatterdServer *self)
{
  return self->connections.length;
}

/* Until a service is installed, every request type is unknown. */
static const NatterdHandler *
no_lookup (gpointer data, const char *type)
{
  return NULL;
}

static void
no_connection_closed (gpointer data, NatterdConnection *connection)
{
}

static guint
no_count_online (gpointer data)
{
  return 0;
}

static void
no_flush (gpointer data)
{
}

static const NatterdService no_service = {
  no_lookup, no_connection_closed, no_count_online, no_flush,
};

void
natterd_server_set_service (NatterdServer        *self,
                            const NatterdService *service,
                            gpointer              data)
{
  self->service = service != NULL ? service : &no_service;
  self->service_data = service != NULL ? data : NULL;
}

const NatterdService *
natterd_server_get_service (NatterdServer *self)
{
  return self->service;
}

gpointer
natterd_server_get_service_data (NatterdServer *self)
{
  return self->service_data;
}

NatterdPoller *
natterd_server_get_poller (NatterdServer *self)
{
  return self->poller;
}

GBytes *
natterd_server_get_welcome (NatterdServer *self)
{
  return self->welcome;
}

guint8 *
natterd_server_get_read_buffer (NatterdServer *self,
                                gsize         *out_size)
{
  *out_size = READ_BUFFER_SIZE;
  return self->read_buffer;
}

/* --- writing, batched per main-loop iteration --- */

/* Shares the writes of up to FLUSH_ROUND queued connections (plain TCP and
 * TLS) with the send pool; connections that have nothing to send right now
 * stay in the queue. Returns how many it wrote to. */
static guint
flush_shared (NatterdServer *self)
{
  guint n = 0;
  GList *link, *next;

  for (link = self->flush_queue.head; link != NULL && n < FLUSH_ROUND; link = next)
    {
      NatterdConnection *connection = link->data;

      next = link->next;
      if (!natterd_connection_prepare_send (connection, &self->send_items[n],
                                            &self->send_vectors[n * SHARED_FLUSH_VECTORS],
                                            SHARED_FLUSH_VECTORS))
        continue;
      g_queue_unlink (&self->flush_queue, link);
      self->send_connections[n++] = natterd_connection_ref (connection);
    }

  natterd_send_pool_write (self->send_pool, self->send_items, n);

  for (guint i = 0; i < n; i++)
    {
      natterd_connection_finish_send (self->send_connections[i], &self->send_items[i]);
      natterd_connection_unref (self->send_connections[i]);
    }
  return n;
}

/* Writes to up to FLUSH_ROUND queued connections on the main loop. */
static void
flush_plain (NatterdServer *self)
{
  GList *link;

  for (guint i = 0; i < FLUSH_ROUND && (link = g_queue_pop_head_link (&self->flush_queue)) != NULL; i++)
    {
      NatterdConnection *connection = natterd_connection_ref (link->data);

      natterd_connection_flush (connection);
      natterd_connection_unref (connection);
    }
}

/* Writes what is queued, in rounds. With @yield_to_input, input that came
 * meanwhile goes first between rounds: FALSE is returned and the rest
 * waits for the next iteration, right after the poller has read it. Each
 * round removes at least one connection from the queue, so it ends. */
static gboolean
flush_rounds (NatterdServer *self,
              gboolean       yield_to_input)
{
  while (self->flush_queue.length > 0)
    {
      guint shared = 0;

      if (self->send_pool != NULL && self->flush_queue.length >= SHARED_FLUSH_MIN)
        shared = flush_shared (self);
      if (shared == 0)
        flush_plain (self);
      if (yield_to_input && self->flush_queue.length > 0 && natterd_poller_has_events (self->poller))
        return FALSE;
    }
  return TRUE;
}

static gboolean
flush_cb (gpointer user_data)
{
  NatterdServer *self = user_data;

  if (!flush_rounds (self, TRUE))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&self->flush_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static gboolean
is_linked (GQueue *queue,
           GList  *link)
{
  return link->prev != NULL || link->next != NULL || queue->head == link;
}

void
natterd_server_schedule_flush (NatterdServer     *self,
                               NatterdConnection *connection)
{
  GList *link = natterd_connection_get_flush_link (connection);

  if (!is_linked (&self->flush_queue, link))
    g_queue_push_tail_link (&self->flush_queue, link);

  /* Same priority as the sockets, so that steady input cannot starve the
   * output; attached after them, so that it runs after this iteration's
   * reads and writes all they queued together. */
  if (self->flush_source == NULL)
    {
      self->flush_source = g_idle_source_new ();
      g_source_set_priority (self->flush_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->flush_source, flush_cb, self, NULL);
      g_source_attach (self->flush_source, NULL);
    }
}

/* --- connections --- */

static gboolean
reap_cb (gpointer user_data)
{
  NatterdServer *self = user_data;

  self->reap_id = 0;
  g_ptr_array_set_size (self->closed, 0);
  return G_SOURCE_REMOVE;
}

void
natterd_server_connection_closed (NatterdServer     *self,
                                  NatterdConnection *connection)
{
  NatterdAddressCount *address = natterd_connection_get_address (connection);
  GList *flush_link = natterd_connection_get_flush_link (connection);

  if (is_linked (&self->flush_queue, flush_link))
    g_queue_unlink (&self->flush_queue, flush_link);
  g_queue_unlink (&self->connections, natterd_connection_get_server_link (connection));

  if (--address->count == 0)
    g_hash_table_remove (self->addresses, address->key);

  /* Dropped from an idle, never in the middle of its own read or write
   * path, nor while the poller's batch may still name it. */
  g_ptr_array_add (self->closed, connection);
  if (self->reap_id == 0)
    self->reap_id = g_idle_add_full (G_PRIORITY_DEFAULT, reap_cb, self, NULL);
}

/* One more connection from @key; NULL, counting nothing, when it already
 * has twice connections_per_address. Up to that, a connection over the
 * limit is told server_busy (over TLS, after a handshake); past it, it
 * is closed at once, unanswered, so that a flood from one address holds
 * at most that many descriptors. */
static NatterdAddressCount *
count_address (NatterdServer *self,
               const char    *key)
{
  NatterdAddressCount *address = g_hash_table_lookup (self->addresses, key);

  if (address != NULL && address->count >= 2 * (guint64) self->config->connections_per_address)
    return NULL;
  if (address == NULL)
    {
      gsize len = strlen (key);
      address = g_malloc0 (sizeof *address + len + 1);
      memcpy (address->key, key, len + 1);
      g_hash_table_insert (self->addresses, address->key, address);
    }
  address->count++;
  return address;
}

static void
add_connection (NatterdServer         *self,
                int                    fd,
                const struct sockaddr *remote,
                socklen_t              remote_len)
{
  char key[NATTERD_ADDRESS_KEY_MAX];
  NatterdAddressCount *address;
  NatterdConnection *connection;

  natterd_address_key_native (remote, remote_len, key);
  address = count_address (self, key);
  if (address == NULL)
    {
      close (fd);
      return;
    }
  connection = natterd_connection_new (self, fd, address,
                                       address->count > self->config->connections_per_address);
  g_queue_push_tail_link (&self->connections, natterd_connection_get_server_link (connection));
  natterd_connection_start (connection, self->certificate);
}

static void
watch_listeners (NatterdServer *self,
                 guint32        events)
{
  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *listener = self->listeners->pdata[i];
      natterd_poller_watch (self->poller, &listener->poll, events);
    }
}

static gboolean
resume_accepting_cb (gpointer user_data)
{
  NatterdServer *self = user_data;

  self->accept_pause_id = 0;
  watch_listeners (self, NATTERD_POLL_IN);
  return G_SOURCE_REMOVE;
}

static void
pause_accepting (NatterdServer *self,
                 int            error)
{
  gint64 now = g_get_monotonic_time ();

  if (self->accept_warned == 0 || now - self->accept_warned > 60 * G_USEC_PER_SEC)
    {
      self->accept_warned = now;
      g_warning ("Cannot accept connections: %s; trying again every %d ms "
                 "(raise LimitNOFILE?)", g_strerror (error), ACCEPT_PAUSE_MS);
    }
  watch_listeners (self, 0);
  if (self->accept_pause_id == 0)
    self->accept_pause_id = g_timeout_add (ACCEPT_PAUSE_MS, resume_accepting_cb, self);
}

/* Accepts until the backlog is empty, not one connection per main-loop
 * iteration as GSocketService does: in a reconnect storm the backlog
 * (LISTEN_BACKLOG) otherwise overflows, and every dropped SYN costs its
 * client a retransmission a second or more later. Plain TCP connections
 * are bare descriptors from here on; see natterd_server_listen for why
 * GIO's accept is not used. */
static void
on_listener_event (gpointer data,
                   guint32  events)
{
  Listener *listener = data;
  NatterdServer *self = listener->server;

  for (guint i = 0; i < MAX_ACCEPTS_PER_EVENT; i++)
    {
      struct sockaddr_storage remote;
      socklen_t remote_len = sizeof remote;
      int fd = natterd_platform_accept (listener->fd, (struct sockaddr *) &remote, &remote_len);

      if (fd >= 0)
        {
          add_connection (self, fd, (struct sockaddr *) &remote, remote_len);
          continue;
        }

      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      /* That one connection failed before we took it: go on. Anything
       * else (out of descriptors or memory) pauses accepting. */
      if (!natterd_platform_accept_error_is_transient (errno))
        {
          pause_accepting (self, errno);
          return;
        }
    }
}

/* Timeouts are checked once a second for every connection, which costs far
 * less than a timer per connection. */
static gboolean
tick_cb (gpointer user_data)
{
  NatterdServer *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GList *l = self->connections.head;

  while (l != NULL)
    {
      GList *next = l->next;
      natterd_connection_tick (l->data, now);
      l = next;
    }
  return G_SOURCE_CONTINUE;
}

/* --- start and stop --- */

/* The files natterd makes are its own (0600), but a folder others may
 * enter still shows them, and whatever was put there before. natterd makes
 * the folder 0700; one made by someone else is theirs to change. */
static void
warn_if_shared (const char *data_dir)
{
  struct stat st;

  if (stat (data_dir, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    g_warning ("The data directory %s can be entered by other users (mode %04o): "
               "'chmod 700 %s' keeps the accounts and messages in it private",
               data_dir, (unsigned) (st.st_mode & 07777), data_dir);
}

static gboolean
lock_data_dir (NatterdServer  *self,
               GError        **error)
{
  g_autofree char *path = g_build_filename (self->config->data_dir, LOCK_FILENAME, NULL);
  g_autofree char *pid = NULL;

  if (g_mkdir_with_parents (self->config->data_dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot create the data directory %s: %s", self->config->data_dir, g_strerror (saved));
      return FALSE;
    }

  warn_if_shared (self->config->data_dir);

  self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->lock_fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }

  /* Two servers on one database would corrupt nothing in SQLite, but they
   * would each believe they own every connection's state: refuse. */
  if (!natterd_platform_lock_exclusive (self->lock_fd))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "Another natterd is already using the data directory %s", self->config->data_dir);
      close (self->lock_fd);
      self->lock_fd = -1;
      return FALSE;
    }

  /* The pid is for people; yet a data directory natterd cannot write
   * these few bytes into (a full disk, an I/O error) is one its database
   * cannot be written in either: said now, in one line, rather than as a
   * database error later or, worse, not at all. */
  pid = g_strdup_printf ("%d\n", (int) getpid ());
  if (ftruncate (self->lock_fd, 0) != 0 || write (self->lock_fd, pid, strlen (pid)) != (gssize) strlen (pid))
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot write to %s: %s", path, g_strerror (saved));
      close (self->lock_fd);
      self->lock_fd = -1;
      return FALSE;
    }
  return TRUE;
}

static GBytes *
encode_welcome (const NatterdConfig *config)
{
  GString *out = g_string_sized_new (128);
  guint offered;
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "type");
  natter_json_writer_string (&w, "welcome");
  natter_json_writer_key (&w, "protocol");
  natter_json_writer_int (&w, 1);
  natter_json_writer_key (&w, "server");
  natter_json_writer_string (&w, "natterd/" PACKAGE_VERSION);
  natter_json_writer_key (&w, "max_frame");
  natter_json_writer_int (&w, config->max_frame);
  /* Protocol 1's boolean says whether anyone may register (the app
   * offers it then); invitation-only registration adds a field of its
   * own, which protocol-1 clients ignore (docs/protocol.md). */
  natter_json_writer_key (&w, "registration");
  natter_json_writer_bool (&w, config->registration == NATTERD_REGISTRATION_OPEN);
  if (config->registration == NATTERD_REGISTRATION_INVITE)
    {
      natter_json_writer_key (&w, "registration_invite");
      natter_json_writer_bool (&w, TRUE);
    }
  natter_json_writer_key (&w, "features");
  natter_json_writer_begin_array (&w);
  offered = natterd_config_features_offered (config);
  for (guint i = 0; natter_features_offered[i] != NULL; i++)
    if (offered & (1u << i))
      natter_json_writer_string (&w, natter_features_offered[i]);
  natter_json_writer_end_array (&w);
  natter_json_writer_end_object (&w);
  g_string_append_c (out, '\n');
  return g_string_free_to_bytes (out);
}

NatterdServer *
natterd_server_new (NatterdConfig  *config,
                    GError        **error)
{
  /* Not active until natterd_server_listen has bound every address. */
  g_autoptr(NatterdServer) self = g_object_new (NATTERD_TYPE_SERVER, "active", FALSE, NULL);

  self->config = config;

  if (!lock_data_dir (self, error))
    return NULL;

  if (config->tls)
    {
      g_autofree char *fingerprint = NULL;

      self->certificate = natterd_tls_cert_load_or_create (config->data_dir, config->tls_cert,
                                                           config->tls_key, error);
      if (self->certificate == NULL)
        return NULL;
      fingerprint = natterd_tls_cert_fingerprint (self->certificate);
      g_message ("TLS certificate SHA-256 fingerprint: %s", fingerprint);
    }
  else
    g_warning ("TLS is off (--no-tls): passwords, tokens and messages cross the network in clear text");

  if (config->send_threads > 1)
    self->send_pool = natterd_send_pool_new (config->send_threads);

  self->welcome = encode_welcome (config);
  return g_steal_pointer (&self);
}

static GSocket *
bind_tcp (GInetAddress  *address,
          guint16        port,
          GError       **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bind_address = g_inet_socket_address_new (address, port);

  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  /* Chat frames are small and latency matters more than packet count
   * (frames that pile up still leave together in one sendmsg). Linux
   * hands TCP_NODELAY on to every accepted socket: set once here, it
   * costs no system call per connection. */
  if (!g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, error))
    return NULL;
  if (!g_socket_bind (socket, bind_address, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

/* Binds TCP, then UDP on the same port. With port 0 the kernel's choice for
 * TCP may be taken for UDP: then try another. */
static gboolean
listen_on (NatterdServer *self,
           GInetAddress  *address,
           guint16        port,
           GError       **error)
{
  for (guint attempt = 0; attempt < 32; attempt++)
    {
      g_autoptr(GSocket) tcp = bind_tcp (address, port, error);
      g_autoptr(GSocketAddress) local = NULL;
      g_autoptr(GError) udp_error = NULL;
      g_autofree char *host = NULL;
      NatterdStatusProbe *probe;
      guint16 bound_port;

      if (tcp == NULL)
        return FALSE;
      local = g_socket_get_local_address (tcp, error);
      if (local == NULL)
        return FALSE;

      probe = natterd_status_probe_new (self, local, &udp_error);
      if (probe == NULL)
        {
          if (port == 0)
            continue;
          g_propagate_prefixed_error (error, g_steal_pointer (&udp_error),
                                      "Cannot bind the UDP status probe: ");
          return FALSE;
        }
      g_ptr_array_add (self->probes, probe);

      if (!g_socket_listener_add_socket (G_SOCKET_LISTENER (self), tcp, NULL, error))
        return FALSE;
      {
        Listener *listener = g_new0 (Listener, 1);

        listener->server = self;
        listener->fd = g_socket_get_fd (tcp);
        natterd_poll_handle_init (&listener->poll, listener->fd, on_listener_event, listener);
        g_ptr_array_add (self->listeners, listener);
      }

      bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
      host = g_inet_address_to_string (address);
      if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
        g_print ("listening [%s]:%u\n", host, bound_port);
      else
        g_print ("listening %s:%u\n", host, bound_port);
      g_message ("Listening on %s%s%s:%u (%s)",
                 g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? "[" : "", host,
                 g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? "]" : "",
                 bound_port, self->certificate != NULL ? "TLS" : "plain TCP");
      return TRUE;
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
               "Cannot find a port free for both TCP and UDP");
  return FALSE;
}

gboolean
natterd_server_listen (NatterdServer  *self,
                       GError        **error)
{
  for (guint i = 0; self->config->listen[i] != NULL; i++)
    {
      g_autofree char *host = NULL;
      g_autoptr(GInetAddress) address = NULL;
      guint16 port;

      if (!natterd_config_parse_listen (self->config->listen[i], &host, &port, error))
        return FALSE;

      if (g_str_equal (host, "*"))
        {
          /* One dual-stack socket takes IPv6 and IPv4; without IPv6, IPv4. */
          g_autoptr(GError) v6_error = NULL;
          address = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
          if (listen_on (self, address, port, &v6_error))
            continue;
          g_clear_object (&address);
          address = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
          if (!listen_on (self, address, port, error))
            return FALSE;
          continue;
        }

      address = g_inet_address_new_from_string (host);
      if (address == NULL)
        {
          /* A name: listen on what it resolves to, first address only. */
          g_autoptr(GResolver) resolver = g_resolver_get_default ();
          GList *addresses = g_resolver_lookup_by_name (resolver, host, NULL, error);
          if (addresses == NULL)
            return FALSE;
          address = g_object_ref (addresses->data);
          g_resolver_free_addresses (addresses);
        }
      if (!listen_on (self, address, port, error))
        {
          g_prefix_error (error, "%s: ", self->config->listen[i]);
          return FALSE;
        }
    }

  fflush (stdout);
  self->tick_id = g_timeout_add_seconds (1, tick_cb, self);

  /* The GSocketService stays the listener object (it owns the listening
   * GSockets, as bound above), but it is never started: its accept takes
   * one connection per main-loop iteration and makes a GSocket and a
   * GSocketConnection for each, with about ten system calls (fcntl,
   * getsockname, getpeername, getsockopt, and the re-armed accept source
   * adding and removing a poll record), objects that cost again in every
   * read, write and close. Without them a token login costs 47 µs of CPU
   * instead of 82, and a reconnect storm of 10,000 clients no longer
   * overflows the backlog. natterd accepts from the same sockets through
   * its epoll poller instead, until the backlog is empty
   * (on_listener_event); TLS still gets its GSocketConnection
   * (natterd_connection_start). */
  watch_listeners (self, NATTERD_POLL_IN);
  return TRUE;
}

void
natterd_server_shutdown (NatterdServer *self)
{
  GList *l;

  if (self->listeners != NULL)
    {
      for (guint i = 0; i < self->listeners->len; i++)
        {
          Listener *listener = self->listeners->pdata[i];
          natterd_poller_remove (self->poller, &listener->poll);
        }
      g_ptr_array_set_size (self->listeners, 0);
    }
  g_clear_handle_id (&self->accept_pause_id, g_source_remove);
  g_socket_listener_close (G_SOCKET_LISTENER (self));
  g_ptr_array_set_size (self->probes, 0);
  g_clear_handle_id (&self->tick_id, g_source_remove);

  /* Sends waiting for their commit are committed and answered, then every
   * connection gets one last try at writing what it has queued. */
  self->service->flush (self->service_data);
  if (self->flush_source != NULL)
    {
      g_source_destroy (self->flush_source);
      g_clear_pointer (&self->flush_source, g_source_unref);
    }
  flush_rounds (self, FALSE);

  /* Nobody is left to tell: every connection stops taking frames first, so
   * that the presence changes of thousands of closes are not queued on
   * thousands of connections that close next (a 10,000-member room took
   * minutes to shut down). */
  for (l = self->connections.head; l != NULL; l = l->next)
    natterd_connection_refuse_output (l->data);

  while ((l = self->connections.head) != NULL)
    natterd_connection_close_now (l->data);

  g_clear_handle_id (&self->reap_id, g_source_remove);
  if (self->closed != NULL)
    g_ptr_array_set_size (self->closed, 0);
}

static void
natterd_server_finalize (GObject *object)
{
  NatterdServer *self = NATTERD_SERVER (object);

  natterd_server_shutdown (self);
  g_clear_pointer (&self->probes, g_ptr_array_unref);
  g_clear_pointer (&self->listeners, g_ptr_array_unref);
  g_clear_pointer (&self->closed, g_ptr_array_unref);
  g_clear_pointer (&self->poller, natterd_poller_free);
  g_clear_pointer (&self->flush_source, g_source_unref);
  g_clear_pointer (&self->send_pool, natterd_send_pool_free);
  g_clear_pointer (&self->welcome, g_bytes_unref);
  g_clear_object (&self->certificate);
  g_clear_pointer (&self->addresses, g_hash_table_unref);
  g_clear_pointer (&self->read_buffer, g_free);
  g_clear_pointer (&self->config, natterd_config_free);
  if (self->lock_fd >= 0)
    close (self->lock_fd);

  G_OBJECT_CLASS (natterd_server_parent_class)->finalize (object);
}

static void
natterd_server_class_init (NatterdServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natterd_server_finalize;
}

static void
natterd_server_init (NatterdServer *self)
{
  self->lock_fd = -1;
  self->service = &no_service;
  self->read_buffer = g_malloc (READ_BUFFER_SIZE);
  self->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  self->probes = g_ptr_array_new_with_free_func ((GDestroyNotify) natterd_status_probe_free);
  self->listeners = g_ptr_array_new_with_free_func (g_free);
  self->closed = g_ptr_array_new_with_free_func ((GDestroyNotify) natterd_connection_unref);
  self->poller = natterd_poller_new ();
  g_queue_init (&self->connections);
  g_queue_init (&self->flush_queue);
}
