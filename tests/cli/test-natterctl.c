/* test-natterctl.c: natterctl against a real natterd (over TLS, on a
 * temporary data directory; on PostgreSQL too, suite cli-pg, and on a
 * two-node cluster, suite cli-cluster, for what must reach every node), as an
 * operator runs it: every command, its exit status, what natterd's
 * clients see of it (a disabled user's connection dropped, a revoked
 * session's, registration closed or by invitation), the admin socket's
 * permissions and what it does with bad input.
 */
#define G_LOG_DOMAIN "natter-test"
/* posix_openpt and its kin, for a terminal of our own. */
#define _GNU_SOURCE

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "server-test-util.h"

#define NEW_PASSWORD "another horse battery"

/* Runs natterctl --data-dir (the server's) with @args and @input on its
 * standard input (NULL: none, closed); returns its exit status, and its
 * output in *@out (unless NULL). Its stderr is checked to be empty on
 * success and is given in *@err (unless NULL). */
static int
ctl_full (NatterTestServer   *srv,
          const char         *input,
          char              **out,
          char              **err,
          const char         *first,
          ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  va_list args;
  int status;

  g_ptr_array_add (argv, (char *) g_getenv ("NATTERCTL_PATH"));
  g_ptr_array_add (argv, "--data-dir");
  g_ptr_array_add (argv, (char *) natter_test_server_get_data_dir (srv));
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_nonnull (argv->pdata[0]);

  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  status = g_subprocess_get_exit_status (process);
  if (status != 0)
    natter_test_note ("natterctl %s: exit %d: %s", first, status, stderr_text);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  return status;
}

/* natterctl --json @args, asserting exit 0: the answer's object. */
static JsonObject *
ctl_json (NatterTestServer *srv,
          const char       *input,
          const char       *first,
          ...)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object = NULL;
  va_list args;
  int status;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (words, (char *) arg);
  va_end (args);
  /* At most five words after --json: enough for every command. */
  g_ptr_array_set_size (words, 6);
  status = ctl_full (srv, input, &out, NULL, "--json", words->pdata[0], words->pdata[1], words->pdata[2],
                     words->pdata[3], words->pdata[4], words->pdata[5], NULL);
  g_assert_cmpint (status, ==, 0);
  node = json_from_string (out, &error);
  g_assert_no_error (error);
  object = json_node_get_object (node);
  return json_object_ref (object);
}

static gint64
status_int (NatterTestServer *srv,
            const char       *key)
{
  g_autoptr(JsonObject) status = ctl_json (srv, NULL, "status", NULL);

  return natter_test_get_int (status, key);
}

static void
test_socket_mode (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autofree char *path = g_build_filename (natter_test_server_get_data_dir (srv), "natterd.sock", NULL);
  struct stat st;

  /* Only natterd's user may open it: the mode is the whole access control. */
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (stat (natter_test_server_get_data_dir (srv), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
  g_assert_cmpint (st.st_uid, ==, geteuid ());

  /* Gone after a clean stop, made again (over the one a kill left) at a restart. */
  natter_test_server_stop (srv);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  natter_test_server_restart (srv);
  natter_test_server_kill (srv);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  natter_test_server_restart (srv);
  g_assert_cmpint (status_int (srv, "users"), ==, 0);
}

static void
test_status (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(JsonObject) status = NULL;
  g_autofree char *out = NULL;

  status = ctl_json (srv, NULL, "status", NULL);
  g_assert_cmpstr (natter_test_get_str (status, "version"), ==, PACKAGE_VERSION);
  g_assert_cmpint (natter_test_get_int (status, "uptime"), >=, 0);
  g_assert_cmpint (natter_test_get_int (status, "users"), ==, 0);
  g_assert_cmpint (natter_test_get_int (status, "messages_stored"), ==, 0);
  g_assert_cmpint (natter_test_get_int (status, "database_bytes"), >, 0);
  g_assert_cmpstr (natter_test_get_str (status, "registration"), ==, "open");
  g_assert_cmpstr (natter_test_get_str (status, "database"), ==,
                   natter_test_on_postgresql () ? "postgresql" : "sqlite");
  g_clear_pointer (&status, json_object_unref);

  alice = natter_test_client_new_user (srv, "alice");
  bob = natter_test_client_new_user (srv, "bob");
  util_send (alice, "@bob", "one", "c1");
  util_send (alice, "@bob", "two", "c2");
  util_send (bob, "@alice", "three", "c3");

  status = ctl_json (srv, NULL, "status", NULL);
  g_assert_cmpint (natter_test_get_int (status, "users"), ==, 2);
  g_assert_cmpint (natter_test_get_int (status, "users_online"), ==, 2);
  g_assert_cmpint (natter_test_get_int (status, "connections"), ==, 2);
  g_assert_cmpint (natter_test_get_int (status, "messages_stored"), ==, 3);
  /* Three in the last minute: 3/60 a second. */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (status, "messages_per_second"), 0.05, 0.001);

  /* The text form says the same for people. */
  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "status", NULL), ==, 0);
  util_assert_contains (out, "messages stored      3\n");
  util_assert_contains (out, "users online         2\n");
}

/* Logins whose client went away while they waited for the one hash
 * thread are not hashed (natterd-auth's worker): in a storm of logins
 * whose clients give up and come back, that is most of the queue.
 * natterctl status counts them. The blockers' logins keep the thread
 * busy for tens of milliseconds each, so the leavers' FINs are seen long
 * before the thread reaches their logins. */
#define ABANDON_BLOCKERS 6
#define ABANDON_LEAVERS  8

#if NATTER_LINUX_CALLS
static void
test_logins_abandoned (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[server]\nhash_threads=1\n", NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  NatterTestClient *blockers[ABANDON_BLOCKERS];
  NatterTestClient *leavers[ABANDON_LEAVERS];
  const char *login = "{\"type\":\"login\",\"id\":1,\"username\":\"bob\","
                      "\"password\":\"" NATTER_TEST_PASSWORD "\"}";
  g_autoptr(NatterTestClient) stays = NULL;
  gint64 deadline = g_get_monotonic_time () / 1000 + natter_test_deadline_ms ();

  g_assert_cmpint (status_int (srv, "logins_abandoned"), ==, 0);
  for (guint i = 0; i < ABANDON_BLOCKERS; i++)
    blockers[i] = natter_test_client_new (srv);
  for (guint i = 0; i < ABANDON_LEAVERS; i++)
    leavers[i] = natter_test_client_new (srv);
  for (guint i = 0; i < ABANDON_BLOCKERS; i++)
    natter_test_client_send (blockers[i], login);
  for (guint i = 0; i < ABANDON_LEAVERS; i++)
    {
      natter_test_client_send (leavers[i], login);
      natter_test_client_free (leavers[i]);
    }
  for (guint i = 0; i < ABANDON_BLOCKERS; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (blockers[i], 1);

      g_assert_cmpstr (natter_test_get_str (r, "type"), ==, "ok");
    }
  /* The leavers' jobs come after the blockers' in the queue; each is
   * counted as the thread passes it. */
  while (status_int (srv, "logins_abandoned") < ABANDON_LEAVERS)
    g_assert_cmpint (g_get_monotonic_time () / 1000, <, deadline);
  g_assert_cmpint (status_int (srv, "logins_abandoned"), ==, ABANDON_LEAVERS);
  /* Nothing else is: a login that stays is hashed and answered. */
  stays = natter_test_client_new (srv);
  natter_test_client_login (stays, "bob", NULL);
  g_assert_cmpint (status_int (srv, "logins_abandoned"), ==, ABANDON_LEAVERS);
  for (guint i = 0; i < ABANDON_BLOCKERS; i++)
    natter_test_client_free (blockers[i]);
}
#else
/* Not in a child process: the isolated runner takes a child's skip for a
 * failure. */
static void
test_logins_abandoned (void)
{
  g_test_skip ("the portable poller cannot see a client's FIN while natterd is not reading "
               "(natterd-platform.h): there a login is hashed even if its client left");
}
#endif

static void
test_lists (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(JsonObject) users = NULL;
  g_autoptr(JsonObject) rooms = NULL;
  g_autofree char *out = NULL;
  JsonArray *array;

  util_room_create (alice, "#lunch");
  util_room_join (bob, "#lunch");
  natter_test_client_free (g_steal_pointer (&bob));

  users = ctl_json (srv, NULL, "user", "list", NULL);
  array = natter_test_get_array (users, "users");
  g_assert_cmpint (json_array_get_length (array), ==, 2);
  /* By username; bob's connection is gone (its close may still be on its way). */
  natter_assert_str (json_array_get_object_element (array, 0), "username", "alice");
  natter_assert_str (json_array_get_object_element (array, 0), "presence", "online");
  natter_assert_int (json_array_get_object_element (array, 0), "connections", 1);
  natter_assert_str (json_array_get_object_element (array, 1), "username", "bob");

  rooms = ctl_json (srv, NULL, "room", "list", NULL);
  array = natter_test_get_array (rooms, "rooms");
  g_assert_cmpint (json_array_get_length (array), ==, 1);
  natter_assert_str (json_array_get_object_element (array, 0), "room", "#lunch");
  natter_assert_str (json_array_get_object_element (array, 0), "owner", "alice");
  natter_assert_int (json_array_get_object_element (array, 0), "member_count", 2);

  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "room", "list", NULL), ==, 0);
  util_assert_contains (out, "#lunch");
}

static void
test_user_add (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = NULL;
  g_autoptr(NatterTestClient) d = NULL;
  g_autoptr(JsonObject) added = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;

  /* The password from standard input, never from the command line. */
  added = ctl_json (srv, NEW_PASSWORD "\n", "user", "add", "Carol", "--display-name", "Carol C", NULL);
  natter_assert_str (added, "username", "carol");
  c = natter_test_client_new (srv);
  natter_test_client_login (c, "carol", NEW_PASSWORD);
  g_clear_pointer (&added, json_object_unref);

  /* Or made up, and printed once. */
  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "user", "add", "dave", "--generate-password", NULL), ==, 0);
  g_strchomp (out);
  g_assert_cmpint (strlen (out), ==, 20);
  d = natter_test_client_new (srv);
  natter_test_client_login (d, "dave", out);

  /* Taken, invalid, weak, no password at all. */
  g_assert_cmpint (ctl_full (srv, NEW_PASSWORD "\n", NULL, &err, "user", "add", "carol", NULL), ==, 1);
  util_assert_contains (err, "exists");
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_full (srv, NEW_PASSWORD "\n", NULL, &err, "user", "add", "9lives", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_full (srv, "short\n", NULL, &err, "user", "add", "erin", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_full (srv, "", NULL, &err, "user", "add", "erin", NULL), ==, 2);
  util_assert_contains (err, "no password");
  g_assert_cmpint (status_int (srv, "users"), ==, 2);
}

static void
test_disable_enable (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) phone = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) again = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) users = NULL;
  g_autofree char *token = g_strdup (natter_test_client_get_token (alice));

  reply = ctl_json (srv, NULL, "user", "disable", "alice", NULL);
  natter_assert_int (reply, "sessions_revoked", 2);
  /* Both of alice's connections are closed at once; bob's stays. */
  natter_test_client_assert_closed (alice);
  natter_test_client_assert_closed (phone);
  natter_test_client_sync_ping (bob);

  /* The right password is told it is disabled; a wrong one learns nothing. */
  again = natter_test_client_new (srv);
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_error (again, "auth_failed", "{\"type\":\"login\",\"username\":\"alice\","
                                                                  "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  util_assert_contains (natter_test_get_str (reply, "message"), "disabled");
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_error (again, "auth_failed", "{\"type\":\"login\",\"username\":\"alice\","
                                                                  "\"password\":\"wrong password\"}");
  g_assert_null (strstr (natter_test_get_str (reply, "message"), "disabled"));
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_requestf (again, "{\"type\":\"login\",\"token\":\"%s\"}", token);
  natter_assert_error (reply, "auth_failed");

  users = ctl_json (srv, NULL, "user", "list", NULL);
  g_assert_true (natter_test_get_bool (users, "users.0.disabled"));
  g_assert_false (natter_test_get_bool (users, "users.1.disabled"));

  /* Enabled: the password works again (the tokens stay revoked). */
  g_clear_pointer (&reply, json_object_unref);
  reply = ctl_json (srv, NULL, "user", "enable", "alice", NULL);
  natter_test_client_login (again, "alice", NULL);
  g_clear_pointer (&reply, json_object_unref);
  reply = ctl_json (srv, NULL, "user", "enable", "alice", NULL);

  /* Still disabled after a restart: it is in the database. */
  g_clear_pointer (&reply, json_object_unref);
  reply = ctl_json (srv, NULL, "user", "disable", "alice", NULL);
  natter_assert_int (reply, "sessions_revoked", 1);
  natter_test_client_assert_closed (again);
  natter_test_client_free (g_steal_pointer (&bob));
  natter_test_server_restart (srv);
  natter_test_client_free (g_steal_pointer (&again));
  again = natter_test_client_new (srv);
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_error (again, "auth_failed", "{\"type\":\"login\",\"username\":\"alice\","
                                                                  "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
}

static void
test_reset_password (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) again = NULL;
  g_autoptr(JsonObject) reply = NULL;

  reply = ctl_json (srv, NEW_PASSWORD "\n", "user", "reset-password", "alice", NULL);
  natter_assert_int (reply, "sessions_revoked", 1);
  natter_test_client_assert_closed (alice);
  again = natter_test_client_new (srv);
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_error (again, "auth_failed", "{\"type\":\"login\",\"username\":\"alice\","
                                                                  "\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  natter_test_client_login (again, "alice", NEW_PASSWORD);
  g_assert_cmpint (ctl_full (srv, NEW_PASSWORD "\n", NULL, NULL, "user", "reset-password", "nobody", NULL), ==, 4);
}

/* The id natterctl shows for @c's session: the first 8 bytes of its
 * token's SHA-256, in hex. */
static char *
session_of (NatterTestClient *c)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, natter_test_client_get_token (c), -1);

  return g_strndup (sum, 16);
}

static void
test_sessions_revoke (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) laptop = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) phone = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) tablet = natter_test_client_new_login (srv, "alice");
  g_autoptr(JsonObject) sessions = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *err = NULL;
  JsonArray *array;
  g_autofree char *first = NULL;
  gint64 before = util_now_ms () - 60000;

  sessions = ctl_json (srv, NULL, "user", "sessions", "alice", NULL);
  array = natter_test_get_array (sessions, "sessions");
  g_assert_cmpint (json_array_get_length (array), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *s = json_array_get_object_element (array, i);

      g_assert_cmpint (strlen (natter_test_get_str (s, "session")), ==, 16);
      g_assert_cmpint (natter_test_get_int (s, "created"), >, before);
      g_assert_cmpint (natter_test_get_int (s, "expires"), >, util_now_ms ());
      g_assert_cmpint (natter_test_get_int (s, "last_used"), >=, natter_test_get_int (s, "created"));
      natter_assert_int (s, "connections", 1);
    }

  /* One session: only the connection that logged in with it goes. */
  first = session_of (phone);
  reply = ctl_json (srv, NULL, "user", "revoke", "alice", first, NULL);
  natter_assert_int (reply, "sessions_revoked", 1);
  natter_test_client_assert_closed (phone);
  natter_test_client_sync_ping (laptop);
  natter_test_client_sync_ping (tablet);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "user", "revoke", "alice", first, NULL), ==, 4);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "user", "revoke", "alice", "not-hex", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "user", "revoke", "alice", NULL), ==, 2);

  g_clear_pointer (&reply, json_object_unref);
  reply = ctl_json (srv, NULL, "user", "revoke", "alice", "--all", NULL);
  natter_assert_int (reply, "sessions_revoked", 2);
  g_clear_pointer (&sessions, json_object_unref);
  sessions = ctl_json (srv, NULL, "user", "sessions", "alice", NULL);
  g_assert_cmpint (json_array_get_length (natter_test_get_array (sessions, "sessions")), ==, 0);
}

static void
register_with (NatterTestClient *c,
               const char       *username,
               const char       *code,
               const char       *expect_error)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *code_field = code != NULL ? g_strdup_printf (",\"invite_code\":\"%s\"", code) : g_strdup ("");

  reply = natter_test_client_requestf (c, "{\"type\":\"register\",\"username\":\"%s\",\"password\":\""
                                          NATTER_TEST_PASSWORD "\"%s}", username, code_field);
  if (expect_error == NULL)
    natter_assert_ok (reply);
  else
    natter_assert_error (reply, expect_error);
}

static void
test_registration_closed (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) before = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) after = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *out = NULL;
  g_autofree char *probe = natter_test_status_probe_text (512);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "registration", "closed", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "closed\n");
  register_with (before, "alice", NULL, "registration_closed");
  after = natter_test_client_new (srv);
  g_assert_false (natter_test_get_bool (natter_test_client_get_welcome (after), "registration"));
  answer = natter_test_udp_exchange (natter_test_server_get_port (srv), probe, strlen (probe),
                                     natter_test_deadline_ms ());
  g_assert_nonnull (answer);
  {
    g_autofree char *text = g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));

    node = json_from_string (text, NULL);
  }
  g_assert_false (json_object_get_boolean_member (json_node_get_object (node), "registration"));
  /* natterctl still makes accounts. */
  reply = ctl_json (srv, NEW_PASSWORD "\n", "user", "add", "alice", NULL);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "registration", "open", NULL), ==, 0);
  register_with (before, "bob", NULL, NULL);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "registration", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "open\n");
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "registration", "ajar", NULL), ==, 2);
}

static void
test_registration_config (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[server]\nregistration=invite\n", NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  JsonObject *welcome = natter_test_client_get_welcome (c);

  /* Protocol 1's flag says "not for anyone"; the field of its own says how. */
  g_assert_false (natter_test_get_bool (welcome, "registration"));
  g_assert_true (natter_test_get_bool (welcome, "registration_invite"));
  register_with (c, "alice", NULL, "registration_closed");
  g_assert_cmpint (status_int (srv, "users"), ==, 0);
}

static void
test_invites (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[server]\nregistration=invite\n", NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) d = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) e = natter_test_client_new (srv);
  g_autoptr(JsonObject) once = NULL;
  g_autoptr(JsonObject) twice = NULL;
  g_autoptr(JsonObject) brief = NULL;
  g_autoptr(JsonObject) spare = NULL;
  g_autoptr(JsonObject) list = NULL;
  g_autofree char *out = NULL;
  JsonArray *array;

  once = ctl_json (srv, NULL, "invite", "create", NULL);
  natter_assert_int (once, "uses", 1);
  g_assert_true (natter_test_is_null (once, "expires"));
  twice = ctl_json (srv, NULL, "invite", "create", "--uses", "2", "--expires", "7d", NULL);
  g_assert_cmpint (natter_test_get_int (twice, "expires"), >, util_now_ms () + 6 * 86400 * 1000LL);

  /* Unknown, then used, then used up. */
  register_with (c, "alice", "nosuchcode", "registration_closed");
  register_with (c, "alice", "bad code!", "registration_closed");
  register_with (c, "alice", natter_test_get_str (once, "code"), NULL);
  register_with (d, "bob", natter_test_get_str (once, "code"), "registration_closed");
  register_with (d, "bob", natter_test_get_str (twice, "code"), NULL);
  register_with (e, "carol", natter_test_get_str (twice, "code"), NULL);
  g_assert_cmpint (status_int (srv, "users"), ==, 3);

  /* Expired: a second's code, tried once that second has passed. */
  brief = ctl_json (srv, NULL, "invite", "create", "--expires", "1", NULL);
  while (util_now_ms () <= natter_test_get_int (brief, "expires"))
    g_usleep (50 * 1000);
  natter_test_client_free (g_steal_pointer (&e));
  e = natter_test_client_new (srv);
  register_with (e, "dave", natter_test_get_str (brief, "code"), "registration_closed");
  /* A refused code costs no account, and no use of another. */
  spare = ctl_json (srv, NULL, "invite", "create", NULL);
  register_with (e, "carol", natter_test_get_str (spare, "code"), "username_taken");

  list = ctl_json (srv, NULL, "invite", "list", NULL);
  array = natter_test_get_array (list, "invites");
  g_assert_cmpint (json_array_get_length (array), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      JsonObject *invite = json_array_get_object_element (array, i);
      const char *code = natter_test_get_str (invite, "code");

      if (g_str_equal (code, natter_test_get_str (once, "code")) ||
          g_str_equal (code, natter_test_get_str (twice, "code")))
        natter_assert_str (invite, "state", "used up");
      else if (g_str_equal (code, natter_test_get_str (brief, "code")))
        natter_assert_str (invite, "state", "expired");
      else
        {
          natter_assert_str (invite, "state", "valid");
          natter_assert_int (invite, "uses_left", 1);
        }
    }

  /* Revoked: gone, and no longer good for an account. */
  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "invite", "revoke", natter_test_get_str (spare, "code"), NULL),
                   ==, 0);
  register_with (e, "erin", natter_test_get_str (spare, "code"), "registration_closed");
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "invite", "revoke", natter_test_get_str (spare, "code"), NULL),
                   ==, 4);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "invite", "create", "--expires", "soon", NULL), ==, 2);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "invite", "create", "--uses", "0", NULL), ==, 2);

  /* Open registration needs no code, and a code given is not used. */
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "registration", "open", NULL), ==, 0);
  g_clear_pointer (&spare, json_object_unref);
  spare = ctl_json (srv, NULL, "invite", "create", NULL);
  register_with (e, "erin", natter_test_get_str (spare, "code"), NULL);
  g_clear_pointer (&list, json_object_unref);
  list = ctl_json (srv, NULL, "invite", "list", NULL);
  g_assert_cmpint (json_array_get_length (natter_test_get_array (list, "invites")), ==, 4);
  natter_assert_int (list, "invites.3.uses_left", 1);
}

/* A disabled user's connections close on every node: on a cluster
 * (suite cli-cluster) the two connections are on two nodes, and the
 * other node learns of the revoked sessions over the bus. */
static void
test_disable_everywhere (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) phone = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) tablet = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) again = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *token = g_strdup (natter_test_client_get_token (phone));
  g_autofree char *session = session_of (phone);

  /* One session, on the other node: the bus says so at once (the
   * refresh that would say it too is 30 s away). */
  reply = ctl_json (srv, NULL, "user", "revoke", "alice", session, NULL);
  natter_test_client_assert_closed (phone);
  natter_test_client_sync_ping (alice);
  natter_test_client_sync_ping (tablet);

  g_clear_pointer (&reply, json_object_unref);
  reply = ctl_json (srv, NULL, "user", "disable", "alice", NULL);
  natter_assert_int (reply, "sessions_revoked", 2);
  natter_test_client_assert_closed (alice);
  natter_test_client_assert_closed (tablet);
  /* The phone's node closed it, so it has dropped the token too. */
  again = natter_test_client_new (srv);
  if (natter_test_server_next_client_port (srv) != natter_test_server_get_port (srv))
    {
      natter_test_client_free (g_steal_pointer (&again));
      again = natter_test_client_new (srv);
    }
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_requestf (again, "{\"type\":\"login\",\"token\":\"%s\"}", token);
  natter_assert_error (reply, "auth_failed");
}

/* Whether @c's rooms list @room. */
static gboolean
lists_room (NatterTestClient *c,
            const char       *room)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"rooms\"}");
  JsonArray *rooms = natter_test_get_array (r, "rooms");

  for (guint i = 0; i < json_array_get_length (rooms); i++)
    if (g_str_equal (natter_test_get_str (json_array_get_object_element (rooms, i), "room"), room))
      return TRUE;
  return FALSE;
}

/* room delete: what the owner's room_delete does, asked by the operator.
 * The clients are protocol 1's here (on a cluster, suite cli-cluster,
 * alice and bob are on two nodes); what room_management clients get is
 * room-delete-told. Only a terminal's yes or --yes deletes. */
static void
test_room_delete (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(JsonObject) deleted = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  util_room_create (alice, "#doomed");
  util_room_join (bob, "#doomed");
  util_send (bob, "#doomed", "pineapple pizza", "d1");
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  natter_test_client_clear_queue (bob);

  /* No terminal and no --yes: refused before natterd is asked. */
  g_assert_cmpint (ctl_full (srv, "y\n", NULL, &err, "room", "delete", "#doomed", NULL), ==, 2);
  util_assert_contains (err, "--yes");
  g_assert_true (lists_room (bob, "#doomed"));
  /* No such room; not a room's name. */
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "room", "delete", "#nowhere", "--yes", NULL), ==, 4);
  util_assert_contains (err, "#nowhere");
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "room", "delete", "Not A Room", "--yes", NULL), ==, 1);

  /* The '#' may be left out (the shell takes an unquoted one for a comment). */
  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "room", "delete", "doomed", "--yes", NULL), ==, 0);
  util_assert_contains (out, "deleted #doomed");
  {
    g_autoptr(JsonObject) a = natter_test_client_wait_type (alice, "room_member");
    g_autoptr(JsonObject) b = natter_test_client_wait_type (bob, "room_member");

    natter_assert_str (a, "change", "left");
    natter_assert_str (a, "user.username", "alice");
    natter_assert_str (b, "change", "left");
    natter_assert_str (b, "user.username", "bob");
  }
  g_assert_false (lists_room (alice, "#doomed"));
  g_assert_false (lists_room (bob, "#doomed"));
  {
    g_autoptr(JsonObject) h = natter_test_client_request (bob, "{\"type\":\"history\",\"conversation\":\"#doomed\"}");
    g_autoptr(JsonObject) y = natter_test_client_request_ok (bob, "{\"type\":\"sync\",\"since\":0}");

    natter_assert_error (h, "not_found");
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (y, "messages")), ==, 0);
  }
  deleted = ctl_json (srv, NULL, "room", "list", NULL);
  g_assert_cmpuint (json_array_get_length (natter_test_get_array (deleted, "rooms")), ==, 0);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "room", "delete", "#doomed", "--yes", NULL), ==, 4);
  /* The name is free again, on every node. */
  util_room_create (bob, "#doomed");
}

/* A pseudo-terminal for natterctl's standard input: the operator typing. */
static int
ctl_on_terminal (NatterTestServer *srv,
                 const char       *typed,
                 char            **err,
                 const char       *group,
                 const char       *name)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  int master = posix_openpt (O_RDWR | O_NOCTTY);
  int slave;

  g_assert_cmpint (master, >=, 0);
  g_assert_cmpint (grantpt (master), ==, 0);
  g_assert_cmpint (unlockpt (master), ==, 0);
  slave = open (ptsname (master), O_RDWR | O_NOCTTY);
  g_assert_cmpint (slave, >=, 0);
  g_subprocess_launcher_take_stdin_fd (launcher, slave);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("NATTERCTL_PATH"), "--data-dir",
                                         natter_test_server_get_data_dir (srv), group, "delete", name, NULL);
  g_assert_no_error (error);
  /* Typed ahead: the terminal keeps it until natterctl reads its answer. */
  g_assert_cmpint (write (master, typed, strlen (typed)), ==, (gssize) strlen (typed));
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, err, &error);
  g_assert_no_error (error);
  close (master);
  return g_subprocess_get_exit_status (process);
}

/* On a terminal, room delete asks, and only a yes deletes. */
static void
test_room_delete_asks (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autofree char *err = NULL;

  util_room_create (alice, "#doomed");
  g_assert_cmpint (ctl_on_terminal (srv, "\n", &err, "room", "#doomed"), ==, 1);
  util_assert_contains (err, "cannot be undone");
  util_assert_contains (err, "not deleted");
  g_assert_true (lists_room (alice, "#doomed"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_on_terminal (srv, "nope\n", &err, "room", "#doomed"), ==, 1);
  g_assert_true (lists_room (alice, "#doomed"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_on_terminal (srv, "yes\n", &err, "room", "#doomed"), ==, 0);
  g_assert_false (lists_room (alice, "#doomed"));
}

/* user delete: as account_delete, without the password; a deleted
 * account is not found from then on. */
static void
test_user_delete (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) phone = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) again = natter_test_client_new (srv);
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *err = NULL;
  gint64 id;

  util_make_contacts (alice, bob);
  id = util_send (alice, "@bob", "before I go", "m1");
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);

  /* No terminal and no --yes: refused, nothing deleted. */
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "user", "delete", "alice", NULL), ==, 2);
  util_assert_contains (err, "--yes");
  natter_test_client_sync_ping (alice);

  reply = ctl_json (srv, NULL, "user", "delete", "alice", "--yes", NULL);
  natter_assert_str (reply, "username", "alice");
  natter_assert_int (reply, "sessions_revoked", 2);
  natter_test_client_assert_closed (alice);
  natter_test_client_assert_closed (phone);
  {
    g_autoptr(JsonObject) told = natter_test_client_wait_type (bob, "contact");
    g_autoptr(JsonObject) history = natter_test_client_request_ok (bob,
        "{\"type\":\"history\",\"conversation\":\"@alice\"}");
    g_autoptr(JsonObject) info = natter_test_client_request_ok (bob,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
    JsonArray *messages = natter_test_get_array (history, "messages");

    natter_assert_str (told, "change", "removed");
    g_assert_cmpuint (json_array_get_length (messages), ==, 1);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (messages, 0), "id"), ==, id);
    g_assert_true (natter_test_get_bool (info, "user.deleted"));
  }
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_error (again, "auth_failed",
      "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");
  g_assert_null (strstr (natter_test_get_str (reply, "message"), "disabled"));
  g_clear_pointer (&reply, json_object_unref);
  reply = natter_test_client_request_error (again, "username_taken",
      "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");

  /* Listed as deleted (its username stays taken), not as disabled. */
  {
    g_autoptr(JsonObject) users = ctl_json (srv, NULL, "user", "list", NULL);

    natter_assert_str (users, "users.0.username", "alice");
    g_assert_true (natter_test_get_bool (users, "users.0.deleted"));
    g_assert_false (natter_test_get_bool (users, "users.0.disabled"));
    g_assert_false (natter_test_get_bool (users, "users.1.deleted"));
  }
  /* Gone for natterctl: deleted again, enabled or an unknown name, exit 4. */
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "delete", "alice", "--yes", NULL), ==, 4);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "enable", "alice", NULL), ==, 4);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "delete", "nobody", "--yes", NULL), ==, 4);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "delete", NULL), ==, 2);
}

/* On a terminal, user delete asks, and only a yes deletes. */
static void
test_user_delete_asks (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autofree char *err = NULL;

  g_assert_cmpint (ctl_on_terminal (srv, "n\n", &err, "user", "alice"), ==, 1);
  util_assert_contains (err, "cannot be brought back");
  util_assert_contains (err, "not deleted");
  natter_test_client_sync_ping (alice);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_on_terminal (srv, "y\n", &err, "user", "alice"), ==, 0);
  natter_test_client_assert_closed (alice);
}

/* What room_management clients are told of the operator's delete: as of
 * the owner's, "by" null; an invitation withdrawn. */
static void
test_room_delete_told (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = util_feature_user (srv, "alice", "room_management");
  g_autoptr(NatterTestClient) bob = util_feature_user (srv, "bob", "room_management");
  g_autoptr(NatterTestClient) carol = util_feature_user (srv, "carol", "room_management");
  g_autoptr(JsonObject) r = NULL;

  util_room_create (alice, "#doomed");
  util_room_join (bob, "#doomed");
  r = natter_test_client_request_ok (alice, "{\"type\":\"room_invite\",\"room\":\"#doomed\",\"username\":\"carol\"}");
  natter_test_client_sync_ping (bob);
  natter_test_client_sync_ping (carol);
  natter_test_client_clear_queue (bob);
  natter_test_client_clear_queue (carol);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "room", "delete", "#doomed", "--yes", NULL), ==, 0);
  {
    g_autoptr(JsonObject) a = natter_test_client_wait_type (alice, "room_removed");
    g_autoptr(JsonObject) b = natter_test_client_wait_type (bob, "room_removed");
    g_autoptr(JsonObject) c = natter_test_client_wait_type (carol, "room_invitation");

    natter_assert_str (a, "reason", "deleted");
    g_assert_true (natter_test_is_null (a, "by"));
    natter_assert_str (b, "room", "#doomed");
    g_assert_true (natter_test_is_null (b, "by"));
    natter_assert_str (c, "change", "removed");
  }
  g_clear_pointer (&r, json_object_unref);
  r = natter_test_client_request_ok (carol, "{\"type\":\"room_invitations\"}");
  g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "invitations")), ==, 0);
}

/* room set-owner: as room_transfer, to a member only. Protocol 1's
 * clients see the owner in rooms (on a cluster, on either node). */
static void
test_room_set_owner (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) rooms = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  util_room_create (alice, "#plans");
  util_room_join (bob, "#plans");

  /* Not a member, nobody, no room: exit 4, nothing changed. */
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "room", "set-owner", "#plans", "carol", NULL), ==, 4);
  util_assert_contains (err, "not a member");
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "room", "set-owner", "#plans", "nobody", NULL), ==, 4);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "room", "set-owner", "#nowhere", "bob", NULL), ==, 4);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "room", "set-owner", "#plans", NULL), ==, 2);
  rooms = natter_test_client_request_ok (carol, "{\"type\":\"room_directory\"}");
  natter_assert_str (rooms, "rooms.0.owner", "alice");

  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "room", "set-owner", "plans", "Bob", NULL), ==, 0);
  util_assert_contains (out, "#plans is owned by bob");
  /* Answered once every node has read it: any client sees it now. */
  g_clear_pointer (&rooms, json_object_unref);
  rooms = natter_test_client_request_ok (carol, "{\"type\":\"room_directory\"}");
  natter_assert_str (rooms, "rooms.0.owner", "bob");
  g_clear_pointer (&rooms, json_object_unref);
  rooms = natter_test_client_request_ok (alice, "{\"type\":\"rooms\"}");
  natter_assert_str (rooms, "rooms.0.owner", "bob");
  /* Again: nothing to do. */
  reply = ctl_json (srv, NULL, "room", "set-owner", "#plans", "bob", NULL);
  natter_assert_str (reply, "owner", "bob");
  g_clear_pointer (&reply, json_object_unref);
  reply = ctl_json (srv, NULL, "room", "list", NULL);
  natter_assert_str (reply, "rooms.0.owner", "bob");
}

/* What room_management clients are told: room_updated, "by" null; the
 * old owner, a member still, is an admin; the new owner may delete. */
static void
test_room_set_owner_told (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = util_feature_user (srv, "alice", "room_management");
  g_autoptr(NatterTestClient) bob = util_feature_user (srv, "bob", "room_management");
  g_autoptr(JsonObject) r = NULL;

  util_room_create (alice, "#plans");
  util_room_join (bob, "#plans");
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "room", "set-owner", "#plans", "bob", NULL), ==, 0);
  {
    g_autoptr(JsonObject) a = natter_test_client_wait_type (alice, "room_updated");
    g_autoptr(JsonObject) b = natter_test_client_wait_type (bob, "room_updated");

    natter_assert_str (a, "room.owner", "bob");
    natter_assert_str (a, "room.admins.0", "alice");
    g_assert_true (natter_test_is_null (a, "by"));
    natter_assert_str (b, "room.owner", "bob");
  }
  r = natter_test_client_request (alice, "{\"type\":\"room_delete\",\"room\":\"#plans\"}");
  natter_assert_error (r, "forbidden");
  g_clear_pointer (&r, json_object_unref);
  r = natter_test_client_request_ok (bob, "{\"type\":\"room_delete\",\"room\":\"#plans\"}");
}

/* Raw lines on the socket: errors that name the fault, the connection
 * kept, and natterd unharmed; an over-long line closes it. */
static void
test_bad_input (void)
{
  static const struct {
    const char *line;
    const char *code;
  } cases[] = {
    { "not json\n",                                      "bad_frame" },
    { "{\"type\":\"status\",\"type\":\"status\"}\n",     "bad_frame" },
    { "[1,2]\n",                                         "bad_frame" },
    { "{\"no\":\"type\"}\n",                             "bad_frame" },
    { "{\"type\":\"shutdown\"}\n",                       "unknown_type" },
    { "{\"type\":\"user_disable\"}\n",                   "invalid_argument" },
    { "{\"type\":\"user_disable\",\"username\":7}\n",    "invalid_argument" },
    { "{\"type\":\"user_disable\",\"username\":\"nobody\"}\n", "not_found" },
    { "{\"type\":\"registration\",\"mode\":\"true\"}\n", "invalid_argument" },
    { "{\"type\":\"invite_create\",\"uses\":0}\n",       "invalid_argument" },
    { "{\"type\":\"invite_create\",\"uses\":1.5}\n",     "invalid_argument" },
    { "{\"type\":\"user_revoke\",\"username\":\"alice\"}\n", "invalid_argument" },
    { "{\"type\":\"room_delete\"}\n",                    "invalid_argument" },
    { "{\"type\":\"user_delete\"}\n",                    "invalid_argument" },
    { "{\"type\":\"user_delete\",\"username\":\"nobody\"}\n", "not_found" },
    { "{\"type\":\"room_delete\",\"room\":\"general\"}\n", "invalid_argument" },
    { "{\"type\":\"room_delete\",\"room\":\"#nowhere\"}\n", "not_found" },
    { "{\"type\":\"room_set_owner\",\"room\":\"#nowhere\"}\n", "invalid_argument" },
    { "{\"type\":\"room_set_owner\",\"room\":\"#nowhere\",\"username\":\"alice\"}\n", "not_found" },
    { "{\"type\":\"user_add\",\"username\":\"x y\",\"password\":\"" NATTER_TEST_PASSWORD "\"}\n", "invalid_username" },
  };
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autofree char *path = g_build_filename (natter_test_server_get_data_dir (srv), "natterd.sock", NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  GOutputStream *out;
  g_autofree char *huge = NULL;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_socket_set_timeout (g_socket_connection_get_socket (connection), natter_test_deadline_ms () / 1000);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *line = NULL;
      g_autoptr(JsonNode) node = NULL;
      JsonObject *reply;

      g_output_stream_write_all (out, cases[i].line, strlen (cases[i].line), NULL, NULL, &error);
      g_assert_no_error (error);
      line = g_data_input_stream_read_line (in, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
      node = json_from_string (line, &error);
      g_assert_no_error (error);
      reply = json_node_get_object (node);
      /* The case's number, not its line: one holds the suite's password,
       * which no test log may (tests/security/check-test-logs.py). */
      natter_test_note ("case %u -> %s", i, line);
      natter_assert_error (reply, cases[i].code);
      g_assert_true (strlen (natter_test_get_str (reply, "message")) > 0);
    }

  /* Past the longest line: frame_too_large, and closed. */
  huge = util_repeat ('x', 70000);
  g_output_stream_write_all (out, huge, strlen (huge), NULL, NULL, &error);
  g_assert_no_error (error);
  {
    g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, &error);

    g_assert_no_error (error);
    util_assert_contains (line, "\"frame_too_large\"");
  }

  /* natterd is fine, and so is its client. */
  natter_test_client_sync_ping (alice);
  g_assert_cmpint (status_int (srv, "users"), ==, 1);
}

static void
test_command_line (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  static const char *const helps[][2] = {
    { "status", NULL }, { "registration", NULL }, { "room", "list" }, { "user", "list" },
    { "user", "add" }, { "user", "disable" }, { "user", "enable" }, { "user", "reset-password" },
    { "user", "sessions" }, { "user", "revoke" }, { "invite", "create" }, { "invite", "list" },
    { "invite", "revoke" }, { "room", "delete" }, { "room", "set-owner" },
  };

  /* --help on every command: exit 0, its usage. */
  for (guint i = 0; i < G_N_ELEMENTS (helps); i++)
    {
      g_clear_pointer (&out, g_free);
      if (helps[i][1] != NULL)
        g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, helps[i][0], helps[i][1], "--help", NULL), ==, 0);
      else
        g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, helps[i][0], "--help", NULL), ==, 0);
      util_assert_contains (out, "Usage:");
      util_assert_contains (out, helps[i][0]);
    }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ctl_full (srv, NULL, &out, NULL, "--help", NULL), ==, 0);
  util_assert_contains (out, "invite create");

  /* 2: a bad command line; 4: not found; 1: refused. */
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "frobnicate", NULL), ==, 2);
  util_assert_contains (err, "unknown command");
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "disable", NULL), ==, 2);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "disable", "a", "b", NULL), ==, 2);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "list", "--colour", NULL), ==, 2);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "disable", "nobody", NULL), ==, 4);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, NULL, "user", "sessions", "nobody", NULL), ==, 4);

  /* 3: no natterd there. */
  natter_test_server_stop (srv);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "status", NULL), ==, 3);
  util_assert_contains (err, "natterd.sock");
}

/* What data/natterctl.bash-completion offers for the command line
 * @words, the cursor on the last word: bash sources it and runs its
 * function as bash's completion would, with natterctl's full path as
 * the first word. One word a line, sorted. */
static char *
complete_words (NatterTestServer   *srv,
                const char *const  *words)
{
  static const char script[] =
    "source \"$1\" && COMP_CWORD=$2 && shift 2 && COMP_WORDS=(\"$@\") && { _natterctl; true; }"
    " && printf '%s\\n' \"${COMPREPLY[@]}\" | sort";
  g_autofree char *file = g_build_filename (g_getenv ("NATTER_SOURCE_DIR"), "data",
                                            "natterctl.bash-completion", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  guint n = 0;

  while (words[n] != NULL)
    n++;
  g_ptr_array_add (argv, g_strdup ("bash"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup ("bash"));
  g_ptr_array_add (argv, g_strdup (file));
  g_ptr_array_add (argv, g_strdup_printf ("%u", n));
  g_ptr_array_add (argv, g_strdup (g_getenv ("NATTERCTL_PATH")));
  g_ptr_array_add (argv, g_strdup ("--data-dir"));
  g_ptr_array_add (argv, g_strdup (natter_test_server_get_data_dir (srv)));
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (argv, g_strdup (words[i]));
  g_ptr_array_add (argv, NULL);
  /* The cursor's word: its index counts natterctl and --data-dir DIR. */
  g_free (argv->pdata[5]);
  argv->pdata[5] = g_strdup_printf ("%u", n + 2);

  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_subprocess_get_successful (process));
  return g_strstrip (g_steal_pointer (&out));
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

#define assert_completes(srv, expected, ...) \
  G_STMT_START { \
    const char *const w_[] = { __VA_ARGS__, NULL }; \
    g_autofree char *got_ = complete_words (srv, w_); \
    g_assert_cmpstr (got_, ==, expected); \
  } G_STMT_END

/* The bash completion: every command natterctl --help lists and nothing
 * else, each command's own options, and the usernames and room names of
 * the running natterd (none, quietly, once it is gone). */
static void
test_bash_completion (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(GString) listed = g_string_new (NULL);
  g_autoptr(GString) offered = g_string_new (NULL);
  g_autofree char *help = NULL;
  g_autofree char *groups = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) group_list = NULL;

  util_room_create (alice, "#lunch");

  /* natterctl --help's commands: "  group verb ARGS" after "Commands:". */
  g_assert_cmpint (ctl_full (srv, NULL, &help, NULL, "--help", NULL), ==, 0);
  lines = g_strsplit (strstr (help, "Commands:\n") + strlen ("Commands:\n"), "\n", -1);
  for (guint i = 0; lines[i] != NULL && g_str_has_prefix (lines[i], "  "); i++)
    {
      g_auto(GStrv) w = g_strsplit (g_strstrip (lines[i]), " ", 3);

      if (w[1] != NULL && g_ascii_islower (w[1][0]))
        g_string_append_printf (listed, "%s %s\n", w[0], w[1]);
      else
        g_string_append_printf (listed, "%s\n", w[0]);
    }
  /* The completion's: its groups, then each group's verbs. */
  groups = complete_words (srv, (const char *const[]) { "", NULL });
  group_list = g_strsplit (groups, "\n", -1);
  for (guint i = 0; group_list[i] != NULL; i++)
    {
      g_autofree char *verbs = complete_words (srv, (const char *const[]) { group_list[i], "", NULL });
      g_auto(GStrv) verb_list = g_strsplit (verbs, "\n", -1);

      if (g_str_equal (group_list[i], "status") || g_str_equal (group_list[i], "registration") ||
          g_str_equal (group_list[i], "backup"))
        {
          g_string_append_printf (offered, "%s\n", group_list[i]);
          continue;
        }
      for (guint j = 0; verb_list[j] != NULL; j++)
        g_string_append_printf (offered, "%s %s\n", group_list[i], verb_list[j]);
    }
  {
    g_auto(GStrv) a = g_strsplit (listed->str, "\n", -1);
    g_auto(GStrv) b = g_strsplit (offered->str, "\n", -1);
    g_autofree char *sorted_a = NULL, *sorted_b = NULL;

    qsort (a, g_strv_length (a), sizeof (char *), compare_strings);
    qsort (b, g_strv_length (b), sizeof (char *), compare_strings);
    sorted_a = g_strjoinv ("\n", a);
    sorted_b = g_strjoinv ("\n", b);
    g_assert_cmpstr (sorted_b, ==, sorted_a);
  }

  assert_completes (srv, "user", "us");
  assert_completes (srv, "reset-password\nrevoke", "user", "re");
  assert_completes (srv, "closed\ninvite\nopen", "registration", "");
  /* backup's FILE is a path. */
  {
    g_autofree char *sock = g_build_filename (natter_test_server_get_data_dir (srv), "natterd.so", NULL);
    g_autofree char *full = g_build_filename (natter_test_server_get_data_dir (srv), "natterd.sock", NULL);

    assert_completes (srv, full, "backup", sock);
  }
  assert_completes (srv, "--help\n--yes", "room", "delete", "--");
  assert_completes (srv, "--expires\n--help\n--uses", "invite", "create", "--");
  /* natterd's names; a room without its '#'. */
  assert_completes (srv, "alice\nbob", "user", "disable", "");
  assert_completes (srv, "bob", "user", "sessions", "b");
  assert_completes (srv, "lunch", "room", "delete", "");
  assert_completes (srv, "alice\nbob", "room", "set-owner", "lunch", "");
  assert_completes (srv, "", "user", "disable", "bob", "");

  /* As bash splits "--socket=PATH" (at COMP_WORDBREAKS' "="): the option
   * is one with its value, and its value is completed as a path. */
  {
    g_autofree char *sock = g_build_filename (natter_test_server_get_data_dir (srv), "natterd.sock", NULL);

    assert_completes (srv, "user", "--socket", "=", sock, "us");
    assert_completes (srv, "alice\nbob", "--socket", "=", sock, "user", "disable", "");
    assert_completes (srv, sock, "--socket", "=", sock);
    assert_completes (srv, natter_test_server_get_data_dir (srv), "--data-dir", natter_test_server_get_data_dir (srv));
  }

  natter_test_server_stop (srv);
  assert_completes (srv, "", "user", "disable", "");
}

/* --- backup --- */

static void
subprocess_exited_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gint64
sqlite_int (sqlite3    *db,
            const char *sql)
{
  sqlite3_stmt *s = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &s, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  return value;
}

#define BACKUP_FILLER 300

/* natterctl backup while alice sends without pause: the copy is a sound
 * database holding every message acknowledged before it began (and none
 * of the stream's half-written), mode 0600, nothing else left beside it;
 * an existing file is refused; a relative path is the operator's working
 * directory's; and a natterd started on the copy serves its history. */
static void
test_backup (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestServer) restored = NULL;
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) again = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) listing = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-backup-XXXXXX", &error);
  g_autofree char *copy = g_build_filename (dir, "natter.db", NULL);
  g_autofree char *relative = g_build_filename (dir, "relative.db", NULL);
  g_autofree char *restore_dir = g_build_filename (dir, "data", NULL);
  g_autofree char *restore_db = g_build_filename (restore_dir, "natter.db", NULL);
  g_autofree char *filler = util_repeat ('x', 4000);
  g_autofree char *err = NULL;
  g_autofree char *contents = NULL;
  gint64 first_ids[BACKUP_FILLER];
  gint64 stored, during = 0;
  gsize length;
  sqlite3 *db = NULL;
  gboolean exited = FALSE;
  const char *name;
  struct stat st;

  g_assert_no_error (error);
  util_room_create (alice, "#log");
  util_send (alice, "#log", "pineapple pizza", "p1");
  /* Something to copy (about 1.2 MB), every message acknowledged. */
  for (guint i = 0; i < BACKUP_FILLER; i++)
    natter_test_client_sendf (alice, "{\"type\":\"send\",\"id\":%u,\"to\":\"#log\",\"body\":\"%s %u\","
                              "\"client_msg_id\":\"f%u\"}", 1000000 + i, filler, i, i);
  for (guint i = 0; i < BACKUP_FILLER; i++)
    {
      g_autoptr(JsonObject) reply = natter_test_client_wait_re (alice, 1000000 + i);

      natter_assert_ok (reply);
      first_ids[i] = natter_test_get_int (reply, "message.id");
    }

  /* The backup runs while the stream goes on: a send at a time, each
   * acknowledged, until natterctl is done. */
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, g_getenv ("NATTERCTL_PATH"),
                              "--data-dir", natter_test_server_get_data_dir (srv), "backup", copy, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (process, NULL, subprocess_exited_cb, &exited);
  while (!exited)
    {
      g_autofree char *id = g_strdup_printf ("s%" G_GINT64_FORMAT, during);

      util_send (alice, "#log", "during the backup", id);
      during++;
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  natter_test_note ("%" G_GINT64_FORMAT " messages sent during the backup", during);
  /* And after it, which the copy cannot hold. */
  util_send (alice, "#log", "after the backup", "after");

  g_assert_cmpint (stat (copy, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (sqlite3_open_v2 (copy, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  {
    sqlite3_stmt *s = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &s, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (s, 0), ==, "ok");
    sqlite3_finalize (s);
  }
  g_assert_cmpint (sqlite_int (db, "SELECT count(*) FROM messages WHERE client_msg_id LIKE 'f%'"), ==,
                   BACKUP_FILLER);
  g_assert_cmpint (sqlite_int (db, "SELECT max(id) FROM messages WHERE client_msg_id LIKE 'f%'"), ==,
                   first_ids[BACKUP_FILLER - 1]);
  g_assert_cmpint (sqlite_int (db, "SELECT count(*) FROM messages WHERE client_msg_id = 'after'"), ==, 0);
  /* A snapshot: the stream's messages in it are a prefix of it. */
  stored = sqlite_int (db, "SELECT count(*) FROM messages WHERE client_msg_id LIKE 's%'");
  g_assert_cmpint (stored, <=, during);
  if (stored > 0)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM messages WHERE client_msg_id = 's%" G_GINT64_FORMAT "'",
                                              stored - 1);

      g_assert_cmpint (sqlite_int (db, sql), ==, 1);
    }
  sqlite3_close (db);
  /* Nothing but the copy beside it: the temporary file is gone. */
  listing = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_cmpstr (name, ==, "natter.db");

  /* An existing file is never replaced. */
  g_assert_true (g_file_get_contents (copy, &contents, &length, NULL));
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "backup", copy, NULL), ==, 1);
  util_assert_contains (err, copy);
  util_assert_contains (err, "never replaces");
  {
    g_autofree char *now = NULL;
    gsize now_length;

    g_assert_true (g_file_get_contents (copy, &now, &now_length, NULL));
    g_assert_true (now_length == length && memcmp (now, contents, length) == 0);
  }
  /* A folder that is not there: refused, said. */
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *nowhere = g_build_filename (dir, "no", "such", "folder.db", NULL);

    g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "backup", nowhere, NULL), ==, 1);
    util_assert_contains (err, "No such file");
  }

  /* A relative path is natterctl's working directory's, not natterd's. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_cwd (launcher, dir);
  g_clear_object (&process);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("NATTERCTL_PATH"), "--data-dir",
                                         natter_test_server_get_data_dir (srv), "backup", "relative.db", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (process, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (relative, G_FILE_TEST_IS_REGULAR));

  /* Restored: a natterd on a data dir holding only the copy serves it
   * (search.db made again from it). */
  g_assert_cmpint (g_mkdir (restore_dir, 0700), ==, 0);
  g_assert_cmpint (g_rename (copy, restore_db), ==, 0);
  restored = natter_test_server_start_full (restore_dir, 0, TRUE, UTIL_RELAXED_LIMITS, NULL);
  again = natter_test_client_new_login (restored, "alice");
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (again, "{\"type\":\"history\",\"conversation\":\"#log\","
                                                                    "\"limit\":1,\"before\":%" G_GINT64_FORMAT "}",
                                                             first_ids[BACKUP_FILLER - 1] + 1);
    g_autoptr(JsonObject) resent = NULL;

    natter_assert_int (h, "messages.0.id", first_ids[BACKUP_FILLER - 1]);
    /* A message's resend is answered with the stored one. */
    resent = natter_test_client_request_ok (again, "{\"type\":\"send\",\"to\":\"#log\",\"body\":\"x\","
                                                   "\"client_msg_id\":\"f7\"}");
    natter_assert_int (resent, "message.id", first_ids[7]);
  }
  /* search.db, not copied, was made again from the messages. */
  {
    g_autoptr(JsonObject) found = natter_test_client_request_ok (again, "{\"type\":\"search\",\"query\":\"pineapple\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (found, "messages")), ==, 1);
    natter_assert_str (found, "messages.0.body", "pineapple pizza");
  }
  /* The harness removes dir (its TMPDIR's). */
}

/* PostgreSQL: natterd says to use pg_dump, natterctl exits 5, no file. */
static void
test_backup_pg (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-backup-XXXXXX", &error);
  g_autofree char *copy = g_build_filename (dir, "natter.db", NULL);
  g_autofree char *err = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ctl_full (srv, NULL, NULL, &err, "backup", copy, NULL), ==, 5);
  util_assert_contains (err, "pg_dump");
  g_assert_false (g_file_test (copy, G_FILE_TEST_EXISTS));
}

/* --- metrics --- */

/* Sends @request as it is to 127.0.0.1:@port and returns everything
 * natterd answered, to its close. */
static char *
http_raw (guint16     port,
          const char *request,
          gsize       len)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) answer = g_byte_array_new ();
  guint8 buffer[4096];
  gssize n;

  g_socket_client_set_timeout (client, natter_test_deadline_ms () / 1000 + 1);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), request, len, NULL, NULL,
                             &error);
  g_assert_no_error (error);
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)), buffer, sizeof buffer,
                                   NULL, &error)) > 0)
    g_byte_array_append (answer, buffer, n);
  /* natterd closes a request it stopped reading (too large) with bytes
   * unread: the kernel resets the connection after the answer. */
  if (!(answer->len > 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)))
    g_assert_no_error (error);
  g_byte_array_append (answer, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&answer), FALSE);
}

static char *
http_get (guint16     port,
          const char *path)
{
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);

  return http_raw (port, request, strlen (request));
}

/* The value of the sample line "NAME VALUE" in a 200's body. */
static gint64
sample (const char *answer,
        const char *name)
{
  g_autofree char *key = g_strdup_printf ("\n%s ", name);
  const char *at = strstr (answer, key);

  g_assert_nonnull (at);
  return g_ascii_strtoll (at + strlen (key), NULL, 10);
}

/* --metrics: the Prometheus text format over HTTP, its counts moving by
 * exactly what clients did, and what it does with anything but GET
 * /metrics. */
static void
test_metrics (void)
{
  g_autoptr(NatterTestServer) srv = NULL;
  g_autoptr(NatterTestClient) alice = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(NatterTestClient) stranger = NULL;
  g_autofree char *address = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *big = NULL;
  guint16 port;

  {
    GSocket *reserved = natter_test_closed_port_new (&port);

    g_object_unref (reserved);
  }
  address = g_strdup_printf ("127.0.0.1:%u", port);
  srv = natter_test_server_start (NULL, (const char *const[]) { "--metrics", address, NULL });
  alice = natter_test_client_new_user (srv, "alice");
  bob = natter_test_client_new_user (srv, "bob");
  util_send (alice, "@bob", "first", "m0");
  natter_test_client_wait_type (bob, "message");

  before = http_get (port, "/metrics");
  g_assert_true (g_str_has_prefix (before, "HTTP/1.1 200 OK\r\n"));
  util_assert_contains (before, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
  util_assert_contains (before, "\r\nConnection: close\r\n");
  for (guint i = 0; i < 11; i++)
    {
      static const char *const names[][2] = {
        { "natterd_connections", "gauge" }, { "natterd_logins_total", "counter" },
        { "natterd_sends_total", "counter" }, { "natterd_deliveries_total", "counter" },
        { "natterd_commit_seconds", "summary" }, { "natterd_writer_queue", "gauge" },
        { "natterd_hash_queue", "gauge" }, { "natterd_users_online", "gauge" },
        { "natterd_messages_stored", "gauge" }, { "natterd_database_bytes", "gauge" },
        { "natterd_uptime_seconds", "gauge" },
      };
      g_autofree char *help = g_strdup_printf ("\n# HELP %s ", names[i][0]);
      g_autofree char *type = g_strdup_printf ("\n# TYPE %s %s\n", names[i][0], names[i][1]);

      util_assert_contains (before, help);
      util_assert_contains (before, type);
    }
  g_assert_cmpint (sample (before, "natterd_connections"), ==, 2);
  g_assert_cmpint (sample (before, "natterd_users_online"), ==, 2);
  g_assert_cmpint (sample (before, "natterd_messages_stored"), ==, 1);
  g_assert_cmpint (sample (before, "natterd_sends_total"), ==, 1);
  g_assert_cmpint (sample (before, "natterd_logins_total{result=\"ok\"}"), ==, 2);
  g_assert_cmpint (sample (before, "natterd_logins_total{result=\"failed\"}"), ==, 0);
  g_assert_cmpint (sample (before, "natterd_commit_seconds_count"), >, 0);
  g_assert_cmpint (sample (before, "natterd_writer_queue"), ==, 0);
  g_assert_cmpint (sample (before, "natterd_hash_queue"), ==, 0);

  /* Five sends, and a resend answered with its original: five more
   * stored, five delivered to bob's one connection. */
  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("m%u", i);

      util_send (alice, "@bob", "more", id);
      natter_test_client_wait_type (bob, "message");
    }
  util_send (alice, "@bob", "more", "m3");
  natter_test_client_sync_ping (bob);
  /* A wrong password. */
  stranger = natter_test_client_new (srv);
  g_clear_pointer (&answer, g_free);
  {
    g_autoptr(JsonObject) refused = natter_test_client_request_error (stranger, "auth_failed",
                                                                      "{\"type\":\"login\",\"username\":\"alice\","
                                                                      "\"password\":\"not the password\"}");
  }
  after = http_get (port, "/metrics");
  g_assert_cmpint (sample (after, "natterd_sends_total"), ==, sample (before, "natterd_sends_total") + 5);
  g_assert_cmpint (sample (after, "natterd_deliveries_total"), ==, sample (before, "natterd_deliveries_total") + 5);
  g_assert_cmpint (sample (after, "natterd_messages_stored"), ==, 6);
  g_assert_cmpint (sample (after, "natterd_logins_total{result=\"failed\"}"), ==, 1);
  g_assert_cmpint (sample (after, "natterd_connections"), ==, 3);

  /* Anything else. */
  answer = http_get (port, "/");
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 404 Not Found\r\n"));
  g_clear_pointer (&answer, g_free);
  answer = http_raw (port, "POST /metrics HTTP/1.1\r\n\r\n", strlen ("POST /metrics HTTP/1.1\r\n\r\n"));
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 405 Method Not Allowed\r\n"));
  util_assert_contains (answer, "\r\nAllow: GET, HEAD\r\n");
  g_clear_pointer (&answer, g_free);
  answer = http_raw (port, "HEAD /metrics HTTP/1.1\r\n\r\n", strlen ("HEAD /metrics HTTP/1.1\r\n\r\n"));
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 200 OK\r\n"));
  g_assert_true (g_str_has_suffix (answer, "\r\n\r\n"));
  g_clear_pointer (&answer, g_free);
  answer = http_raw (port, "\x16\x03\x01 garbage\xff\r\n\r\n", strlen ("\x16\x03\x01 garbage\xff\r\n\r\n"));
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 400 Bad Request\r\n"));
  g_clear_pointer (&answer, g_free);
  answer = http_raw (port, "GET /metrics\r\n\r\n", strlen ("GET /metrics\r\n\r\n"));
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 400 Bad Request\r\n"));
  /* A request that never ends its head: cut off at the limit. */
  big = util_repeat ('a', 20000);
  memcpy (big, "GET /", 5);
  g_clear_pointer (&answer, g_free);
  answer = http_raw (port, big, strlen (big));
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 431 "));

  /* Slow clients: 16 that never finish their request hold every place
   * (a 17th is closed at once, unanswered) until their 10 s are up. */
  {
    g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func (g_object_unref);
    g_autoptr(GSocketClient) client = g_socket_client_new ();
    g_autoptr(GError) error = NULL;
    guint8 byte;
    gint64 started = g_get_monotonic_time ();

    g_socket_client_set_timeout (client, 30);
    for (guint i = 0; i <= 16; i++)
      {
        GSocketConnection *c = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);

        g_assert_no_error (error);
        g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (c)), "GET /met", 8, NULL, NULL,
                                   &error);
        g_assert_no_error (error);
        g_ptr_array_add (slow, c);
      }
    /* Closed before its request was read: an end, or a reset. */
    if (g_input_stream_read (g_io_stream_get_input_stream (slow->pdata[16]), &byte, 1, NULL, &error) != 0)
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
    g_clear_error (&error);
    g_assert_cmpint (g_get_monotonic_time () - started, <, 8 * G_USEC_PER_SEC);
    for (guint i = 0; i < 16; i++)
      {
        g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (slow->pdata[i]), &byte, 1, NULL, &error),
                         ==, 0);
        g_assert_no_error (error);
      }
    g_assert_cmpint (g_get_monotonic_time () - started, >=, 9 * G_USEC_PER_SEC);
  }

  /* natterd is none the worse. */
  natter_test_server_assert_alive (srv);
  g_clear_pointer (&answer, g_free);
  answer = http_get (port, "/metrics");
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 200 OK\r\n"));
  util_send (bob, "@alice", "still here", "b1");
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_single_node ("/natterctl/socket-mode", test_socket_mode, "the files of one natterd");
  natter_test_add_single_node ("/natterctl/status", test_status, "status counts one node's connections");
  natter_test_add_single_node ("/natterctl/lists", test_lists, "user list counts one node's connections");
#if NATTER_LINUX_CALLS
  natter_test_add_single_node ("/natterctl/logins-abandoned", test_logins_abandoned,
                               "status counts one node's hash queue");
#else
  g_test_add_func ("/natterctl/logins-abandoned", test_logins_abandoned);
#endif
  natter_test_add ("/natterctl/user-add", test_user_add);
  natter_test_add_single_node ("/natterctl/bash-completion", test_bash_completion,
                               "the completion's words, not the nodes");
  natter_test_add_single_node ("/natterctl/disable-enable", test_disable_enable,
                               "another node learns a disabled or enabled password at its refresh, "
                               "after natterctl's answer (docs/server.md, natterctl)");
  natter_test_add_single_node ("/natterctl/reset-password", test_reset_password,
                               "another node learns a new password at its refresh, after natterctl's answer");
  natter_test_add_single_node ("/natterctl/sessions-revoke", test_sessions_revoke,
                               "user sessions counts one node's connections");
  natter_test_add ("/natterctl/disable-everywhere", test_disable_everywhere);
  natter_test_add ("/natterctl/room-delete", test_room_delete);
  natter_test_add_single_node ("/natterctl/room-delete-asks", test_room_delete_asks,
                               "what a terminal does, not what the nodes do");
  natter_test_add ("/natterctl/room-delete-told", test_room_delete_told);
  natter_test_add ("/natterctl/user-delete", test_user_delete);
  natter_test_add_single_node ("/natterctl/user-delete-asks", test_user_delete_asks,
                               "natterctl on a terminal: one node is enough");
  natter_test_add ("/natterctl/room-set-owner", test_room_set_owner);
  natter_test_add ("/natterctl/room-set-owner-told", test_room_set_owner_told);
  natter_test_add_single_node ("/natterctl/registration-closed", test_registration_closed,
                               "natterctl registration changes one node's mode");
  natter_test_add ("/natterctl/registration-config", test_registration_config);
  natter_test_add_single_node ("/natterctl/invites", test_invites,
                               "natterctl registration changes one node's mode");
  natter_test_add ("/natterctl/bad-input", test_bad_input);
  natter_test_add ("/natterctl/command-line", test_command_line);
  natter_test_add_sqlite_only ("/natterctl/backup", test_backup, "PostgreSQL's is /natterctl/backup-pg");
  natter_test_add_pg_only ("/natterctl/backup-pg", test_backup_pg, "SQLite's is /natterctl/backup");
  natter_test_add_single_node ("/natterd/metrics", test_metrics, "the metrics count one node's clients");
  return g_test_run ();
}
