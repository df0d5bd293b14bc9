/* test-haproxy.c: the example HAProxy configuration, data/server/haproxy.cfg,
 * in front of two natterd nodes (docs/cluster.md, "Behind HAProxy").
 *
 * It starts Redis and two nodes on one PostgreSQL database (as
 * test-cluster.c does), then the real haproxy on the example file as it
 * is: the file reads the addresses it needs from environment variables
 * ("${NATTER_NODE_A-…}"), so the test only sets them, and
 * NATTER_HAPROXY_UNPRIVILEGED, which leaves out what an unprivileged
 * haproxy cannot do (chroot, changing user, raising its descriptor
 * limit). The example has three servers; the third is a port that
 * refuses, which its health check must mark down.
 *
 * Clients connect to haproxy with real TLS (passed through to the nodes),
 * log in, and are spread over both nodes: which node a client landed on
 * is read from the nodes themselves, through their UDP status probes
 * (each counts the users connected to it). Messages cross from one node
 * to the other through haproxy. Then one node stops (SIGTERM): its
 * client reconnects through haproxy, lands on the other node and syncs
 * what was sent meanwhile, and haproxy's health check marks the stopped
 * node down.
 *
 * Only meaningful on PostgreSQL (the server-pg suite); skipped when
 * haproxy or Redis is not installed.
 */
#define G_LOG_DOMAIN "natter-test"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "natter-test-redis.h"
#include "natter-test-throwaway.h"
#include "server-test-util.h"

#define WHY "a cluster shares a PostgreSQL database"
#define N_USERS 4

static const char *const users[N_USERS] = { "alice", "bob", "carol", "dave" };

/* --- haproxy --- */

typedef struct {
  char              *dir;     /* the config, the admin socket, the log */
  char              *admin;   /* the admin (stats) socket */
  char              *log;     /* haproxy's stdout and stderr */
  guint16            port;    /* the frontend's, on 127.0.0.1 */
  gboolean           drop_privileges;
  uid_t              uid;
  gid_t              gid;
  GPid               pid;
  int                pidfd;
  NatterTestWatcher  watcher;
} Haproxy;

static const char *
haproxy_binary (void)
{
  const char *binary = g_getenv ("NATTER_HAPROXY");

  return binary != NULL ? binary : "/usr/sbin/haproxy";
}

static void
drop_privileges_cb (gpointer user_data)
{
  Haproxy *h = user_data;

  if (h->drop_privileges &&
      (setgroups (0, NULL) != 0 || setgid (h->gid) != 0 || setuid (h->uid) != 0))
    _exit (126);
}

static void
haproxy_show_log_and_fail (Haproxy    *h,
                           const char *what)
{
  g_autofree char *log = NULL;

  g_file_get_contents (h->log, &log, NULL, NULL);
  g_printerr ("haproxy's output:\n%s\n", log != NULL ? log : "(none)");
  g_error ("haproxy: %s", what);
}

/* One command on the admin socket; its whole answer (the socket closes
 * after it), or NULL while haproxy does not answer there yet. */
static char *
haproxy_admin (Haproxy    *h,
               const char *command)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_DEFAULT, NULL);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (h->admin);
  g_autofree char *line = g_strconcat (command, "\n", NULL);
  GString *out = g_string_new (NULL);
  char buffer[4096];
  gssize n;

  g_socket_set_timeout (socket, natter_test_deadline_ms () / 1000);
  if (!g_socket_connect (socket, address, NULL, NULL) ||
      g_socket_send (socket, line, strlen (line), NULL, NULL) != (gssize) strlen (line))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  while ((n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL)) > 0)
    g_string_append_len (out, buffer, n);
  return g_string_free (out, FALSE);
}

/* "show stat": the fields @field1 and @field2 of server @server of the
 * backend natterd ("status", "check_status"), in *@out1 and *@out2.
 * FALSE while haproxy does not answer. */
static gboolean
haproxy_server_stat (Haproxy     *h,
                     const char  *server,
                     const char  *field1,
                     char       **out1,
                     const char  *field2,
                     char       **out2)
{
  g_autofree char *stat = haproxy_admin (h, "show stat");
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) header = NULL;
  gint i1 = -1, i2 = -1;

  if (stat == NULL || !g_str_has_prefix (stat, "# "))
    return FALSE;
  lines = g_strsplit (stat, "\n", -1);
  header = g_strsplit (lines[0] + 2, ",", -1);
  for (gint i = 0; header[i] != NULL; i++)
    {
      if (g_str_equal (header[i], field1))
        i1 = i;
      if (g_str_equal (header[i], field2))
        i2 = i;
    }
  g_assert_cmpint (i1, >=, 0);
  g_assert_cmpint (i2, >=, 0);
  for (guint l = 1; lines[l] != NULL; l++)
    {
      g_auto(GStrv) f = g_strsplit (lines[l], ",", -1);

      if (g_strv_length (f) > (guint) MAX (i1, i2) &&
          g_str_equal (f[0], "natterd") && g_str_equal (f[1], server))
        {
          *out1 = g_strdup (f[i1]);
          *out2 = g_strdup (f[i2]);
          return TRUE;
        }
    }
  return FALSE;
}

/* Polls (every 50 ms, within the deadline) until @server's status starts
 * with @status and, unless NULL, its last check is @check_status
 * ("L7OK": the whole tcp-check of the example passed). Health checks
 * change nothing anyone can wait on, so this polls. */
static void
haproxy_wait_server (Haproxy    *h,
                     const char *server,
                     const char *status,
                     const char *check_status)
{
  gint64 end = g_get_monotonic_time () + 3 * natter_test_deadline_ms () * G_TIME_SPAN_MILLISECOND;
  g_autofree char *last = NULL;

  for (;;)
    {
      g_autofree char *got_status = NULL;
      g_autofree char *got_check = NULL;
      struct pollfd fd = { h->pidfd, POLLIN, 0 };

      if (haproxy_server_stat (h, server, "status", &got_status, "check_status", &got_check))
        {
          if (g_str_has_prefix (got_status, status) &&
              (check_status == NULL || g_str_equal (got_check, check_status)))
            return;
          g_free (last);
          last = g_strdup_printf ("%s, last check %s", got_status, got_check);
        }
      if (g_get_monotonic_time () > end)
        {
          g_autofree char *what = g_strdup_printf ("server %s is not %s %s in time (%s)", server, status,
                                                   check_status != NULL ? check_status : "",
                                                   last != NULL ? last : "no answer on the admin socket");
          haproxy_show_log_and_fail (h, what);
        }
      /* The wait between two polls ends early if haproxy exits. */
      if (poll (&fd, 1, 50) > 0)
        haproxy_show_log_and_fail (h, "exited");
    }
}

/* Starts haproxy on the example file with the nodes at @node_ports. */
static Haproxy *
haproxy_start (const guint16 node_ports[3])
{
  const char *binary = haproxy_binary ();
  g_autofree char *config = NULL;
  g_autofree char *example = NULL;
  g_autofree char *script = NULL;
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  const char *argv[] = { binary, "-db", "-f", NULL, NULL };
  Haproxy *h;
  int log_fd;

  h = g_new0 (Haproxy, 1);
  h->pidfd = -1;
  if (getuid () == 0)
    {
      /* Debian's package makes the user "haproxy". */
      struct passwd *pw = getpwnam ("haproxy");

      if (pw == NULL)
        pw = getpwnam ("nobody");
      if (pw == NULL)
        g_error ("running as root and there is neither a 'haproxy' nor a 'nobody' user "
                 "to run haproxy as");
      h->drop_privileges = TRUE;
      h->uid = pw->pw_uid;
      h->gid = pw->pw_gid;
    }
  /* Not under $TMPDIR, a private folder of root's when the test runs as
   * root (natter_test_add). */
  h->dir = g_mkdtemp (g_strdup ("/tmp/natter-haproxy-XXXXXX"));
  g_assert_nonnull (h->dir);
  if (h->drop_privileges)
    g_assert_cmpint (chown (h->dir, h->uid, h->gid), ==, 0);
  h->admin = g_build_filename (h->dir, "admin.sock", NULL);
  h->log = g_build_filename (h->dir, "haproxy.log", NULL);
  h->port = natter_test_free_port ();

  /* A copy of the example, as it is: the unprivileged user may not reach
   * the source tree. */
  {
    g_autofree char *path = g_build_filename (g_getenv ("NATTER_SOURCE_DIR"), "data", "server",
                                              "haproxy.cfg", NULL);

    g_file_get_contents (path, &example, NULL, &error);
  }
  g_assert_no_error (error);
  config = g_build_filename (h->dir, "haproxy.cfg", NULL);
  g_file_set_contents (config, example, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (config, 0644), ==, 0);
  argv[3] = config;

  env = g_environ_setenv (env, "NATTER_HAPROXY_UNPRIVILEGED", "1", TRUE);
  env = g_environ_setenv (env, "NATTER_HAPROXY_ADMIN", h->admin, TRUE);
  {
    g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", h->port);

    env = g_environ_setenv (env, "NATTER_LISTEN", listen, TRUE);
  }
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("NATTER_NODE_%c", 'A' + i);
      g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", node_ports[i]);

      env = g_environ_setenv (env, name, address, TRUE);
    }

  log_fd = g_open (h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  g_assert_cmpint (log_fd, >=, 0);
  {
    GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL;

    g_spawn_async_with_pipes_and_fds (h->dir, argv, (const char *const *) env, flags,
                                      drop_privileges_cb, h, -1, log_fd, log_fd,
                                      NULL, NULL, 0, &h->pid, NULL, NULL, NULL, &error);
  }
  close (log_fd);
  g_assert_no_error (error);
  h->pidfd = pidfd_open (h->pid, 0);
  g_assert_cmpint (h->pidfd, >=, 0);
  /* A test that fails leaves no haproxy behind. */
  script = g_strdup_printf ("kill -KILL %d; rm -rf '%s'", (int) h->pid, h->dir);
  natter_test_watcher_start (&h->watcher, script);
  return h;
}

static void
haproxy_free (Haproxy *h)
{
  const char *rm[] = { "rm", "-rf", NULL, NULL };
  struct pollfd fd;
  int status = 0;

  if (h == NULL)
    return;
  natter_test_watcher_stop (&h->watcher);
  /* SIGTERM: haproxy stops at once, closing every connection. */
  kill (h->pid, SIGTERM);
  fd = (struct pollfd) { h->pidfd, POLLIN, 0 };
  while (poll (&fd, 1, natter_test_deadline_ms ()) < 0 && errno == EINTR)
    ;
  if (fd.revents == 0)
    {
      g_printerr ("haproxy did not stop on SIGTERM in time; killing it\n");
      kill (h->pid, SIGKILL);
    }
  g_assert_cmpint (waitpid (h->pid, &status, 0), ==, h->pid);
  g_spawn_close_pid (h->pid);
  close (h->pidfd);
  rm[2] = h->dir;
  g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (h->dir);
  g_free (h->admin);
  g_free (h->log);
  g_free (h);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Haproxy, haproxy_free)

/* --- the nodes --- */

/* users_online in @node's answer to the UDP status probe: the users
 * connected to that node, not to the cluster. */
static gint64
users_online (NatterTestServer *node)
{
  g_autofree char *probe = natter_test_status_probe_text (512);
  g_autoptr(GBytes) reply = natter_test_udp_exchange (natter_test_server_get_port (node),
                                                      probe, 512, natter_test_deadline_ms ());
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data;

  g_assert_nonnull (reply);
  data = g_bytes_get_data (reply, &len);
  json_parser_load_from_data (parser, data, len, &error);
  g_assert_no_error (error);
  return natter_test_get_int (json_node_get_object (json_parser_get_root (parser)), "users_online");
}

/* Connects to haproxy, logs in as @username and returns the index (0 or
 * 1) of the node it landed on, seen by the nodes themselves: the one
 * whose users_online went up. @up says which nodes are running. */
static NatterTestClient *
login_through (Haproxy           *h,
               NatterTestServer  *nodes[2],
               const gboolean     up[2],
               const char        *username,
               guint             *out_node)
{
  gint64 before[2] = { 0, 0 };
  g_autoptr(GError) error = NULL;
  NatterTestClient *c;
  gint landed = -1;

  for (guint i = 0; i < 2; i++)
    if (up[i])
      before[i] = users_online (nodes[i]);
  c = natter_test_client_try_new_full (h->port, TRUE, TRUE, &error);
  if (c == NULL)
    haproxy_show_log_and_fail (h, error->message);
  natter_test_client_login (c, username, NULL);
  for (guint i = 0; i < 2; i++)
    if (up[i] && users_online (nodes[i]) == before[i] + 1)
      {
        g_assert_cmpint (landed, ==, -1);
        landed = i;
      }
  g_assert_cmpint (landed, >=, 0);
  natter_test_note ("%s landed on node-%c", username, 'a' + landed);
  *out_node = landed;
  return c;
}

static void
test_two_nodes (void)
{
  g_autoptr(NatterTestRedis) redis = NULL;
  g_autofree char *skip = NULL;
  g_autofree char *bus = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GSocket) refusing = NULL;
  NatterTestServer *nodes[2] = { NULL, NULL };
  gboolean up[2] = { TRUE, TRUE };
  guint16 ports[3];
  Haproxy *h;
  NatterTestClient *clients[N_USERS];
  guint landed[N_USERS];
  guint per_node[2] = { 0, 0 };
  gint on_a = -1, on_b = -1;
  gint64 id, last_seen;
  gint64 missed[3];

  /* main() has checked that haproxy and Redis are installed. */
  redis = natter_test_redis_start (&skip);
  g_assert_nonnull (redis);
  bus = natter_test_redis_address (redis);

  /* Node A, and on it the accounts and the room: a node learns the
   * directory from the database when it starts. */
  {
    const char *args[] = { "--bus", bus, "--node-name", "node-a", NULL };

    nodes[0] = natter_test_server_start (UTIL_RELAXED_LIMITS, args);
  }
  for (guint i = 0; i < N_USERS; i++)
    {
      g_autoptr(NatterTestClient) c = natter_test_client_new_user (nodes[0], users[i]);

      if (i == 0)
        util_room_create (c, "#lobby");
      else
        util_room_join (c, "#lobby");
    }

  /* Node B presents node A's certificate: clients pin one certificate
   * for the one address, whichever node answers (docs/cluster.md). */
  cert = g_build_filename (natter_test_server_get_data_dir (nodes[0]), "tls-cert.pem", NULL);
  key = g_build_filename (natter_test_server_get_data_dir (nodes[0]), "tls-key.pem", NULL);
  {
    const char *args[] = { "--bus", bus, "--node-name", "node-b",
                           "--database", natter_test_server_get_database (nodes[0]),
                           "--tls-cert", cert, "--tls-key", key, NULL };

    nodes[1] = natter_test_server_start (UTIL_RELAXED_LIMITS, args);
  }

  ports[0] = natter_test_server_get_port (nodes[0]);
  ports[1] = natter_test_server_get_port (nodes[1]);
  refusing = natter_test_closed_port_new (&ports[2]);
  h = haproxy_start (ports);

  /* The example's health check (TLS handshake, welcome, ping, pong)
   * passes on both nodes and fails on the port where nothing listens. */
  haproxy_wait_server (h, "node-a", "UP", "L7OK");
  haproxy_wait_server (h, "node-b", "UP", "L7OK");
  haproxy_wait_server (h, "node-c", "DOWN", NULL);

  /* Four clients through haproxy, one after the other: leastconn sends
   * each to the node with fewer connections, so two land on each. */
  for (guint i = 0; i < N_USERS; i++)
    {
      clients[i] = login_through (h, nodes, up, users[i], &landed[i]);
      per_node[landed[i]]++;
      if (landed[i] == 0 && on_a < 0)
        on_a = i;
      if (landed[i] == 1 && on_b < 0)
        on_b = i;
    }
  g_assert_cmpuint (per_node[0], ==, 2);
  g_assert_cmpuint (per_node[1], ==, 2);

  /* A room message from a client on node A reaches everyone, on both
   * nodes, through haproxy; a direct message from node B to node A. */
  id = util_send (clients[on_a], "#lobby", "hello from node a", "h1");
  for (guint i = 0; i < N_USERS; i++)
    {
      g_autoptr(JsonObject) event = NULL;

      if ((gint) i == on_a)
        continue;  /* the sender has the ok */
      event = util_wait_message (clients[i], id);
      natter_assert_str (event, "message.conversation", "#lobby");
      natter_assert_str (event, "message.from", users[on_a]);
    }
  {
    g_autofree char *to = g_strconcat ("@", users[on_a], NULL);
    g_autofree char *from = g_strconcat ("@", users[on_b], NULL);
    g_autoptr(JsonObject) event = NULL;

    id = util_send (clients[on_b], to, "hello from node b", "h2");
    event = util_wait_message (clients[on_a], id);
    natter_assert_str (event, "message.conversation", from);
    natter_assert_str (event, "message.body", "hello from node b");
  }
  last_seen = id;

  /* Node A stops. Its clients are closed; while the one that was on A
   * is away, the others send. */
  natter_test_server_stop (nodes[0]);
  up[0] = FALSE;
  for (guint i = 0; i < N_USERS; i++)
    if (landed[i] == 0)
      {
        natter_test_client_assert_closed (clients[i]);
        g_clear_pointer (&clients[i], natter_test_client_free);
      }
  for (guint m = 0; m < G_N_ELEMENTS (missed); m++)
    {
      g_autofree char *body = g_strdup_printf ("while you were away %u", m);
      g_autofree char *cmid = g_strdup_printf ("away%u", m);

      missed[m] = util_send (clients[on_b], "#lobby", body, cmid);
    }

  /* It reconnects through haproxy at once, before the health check has
   * marked node A down: haproxy's retry and redispatch take it to B. */
  {
    g_autoptr(JsonObject) reply = NULL;
    JsonArray *messages;
    guint node;

    clients[on_a] = login_through (h, nodes, up, users[on_a], &node);
    g_assert_cmpuint (node, ==, 1);
    reply = natter_test_client_request_ok (clients[on_a], "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT "}",
                                           last_seen);
    g_assert_false (natter_test_get_bool (reply, "has_more"));
    messages = natter_test_get_array (reply, "messages");
    g_assert_cmpuint (json_array_get_length (messages), ==, G_N_ELEMENTS (missed));
    for (guint m = 0; m < G_N_ELEMENTS (missed); m++)
      {
        JsonObject *message = json_array_get_object_element (messages, m);
        g_autofree char *body = g_strdup_printf ("while you were away %u", m);

        natter_assert_int (message, "id", missed[m]);
        natter_assert_str (message, "conversation", "#lobby");
        natter_assert_str (message, "body", body);
      }
  }

  /* And it goes on live, on node B. */
  id = util_send (clients[on_b], "#lobby", "welcome back", "h3");
  {
    g_autoptr(JsonObject) event = util_wait_message (clients[on_a], id);

    natter_assert_str (event, "message.body", "welcome back");
  }

  /* The health check has seen node A go. */
  haproxy_wait_server (h, "node-a", "DOWN", NULL);
  haproxy_wait_server (h, "node-b", "UP", "L7OK");

  for (guint i = 0; i < N_USERS; i++)
    g_clear_pointer (&clients[i], natter_test_client_free);
  haproxy_free (h);
  natter_test_server_assert_alive (nodes[1]);
  /* The later node first: the first one's database is the harness's. */
  natter_test_server_free (nodes[1]);
  natter_test_server_free (nodes[0]);
}

/* A test skipped inside natter_test_add()'s subprocess counts as failed
 * there, so what is missing is found here, in the parent. */
static void
skip_test (gconstpointer data)
{
  g_test_skip (data);
}

int
main (int argc, char **argv)
{
  const char *redis = g_getenv ("NATTER_REDIS_SERVER");
  g_autofree char *missing = NULL;

  natter_test_init (&argc, &argv);
  if (redis == NULL)
    redis = "/usr/bin/redis-server";
  if (!g_file_test (haproxy_binary (), G_FILE_TEST_IS_EXECUTABLE))
    missing = g_strdup_printf ("HAProxy is not installed (no %s; build-aux/install-deps.sh "
                               "installs haproxy)", haproxy_binary ());
  else if (!g_file_test (redis, G_FILE_TEST_IS_EXECUTABLE))
    missing = g_strdup_printf ("Redis is not installed (no %s; build-aux/install-deps.sh "
                               "installs redis-server)", redis);
  if (missing != NULL && natter_test_on_postgresql ())
    g_test_add_data_func ("/haproxy/two-nodes", missing, skip_test);
  else
    natter_test_add_pg_only ("/haproxy/two-nodes", test_two_nodes, WHY);
  return g_test_run ();
}
