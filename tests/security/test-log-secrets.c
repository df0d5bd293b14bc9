/* test-log-secrets.c: natterd's log holds no password, token or message
 * body, at every level it can write (G_MESSAGES_DEBUG=all), through every
 * path a secret travels: registration, logins right and wrong, token
 * logins right, revoked and malformed, a direct message, a room message,
 * an edit and a reply with message actions, a search for a body, refused
 * sends and edits, a frame too large and a malformed frame holding the
 * password, a logout, and a restart that reads it all back
 * (docs/security.md, "Logs").
 *
 * tests/server/test-session checks the basic flow; this is the review's
 * wider one. The whole test suite's logs are scanned too, after each
 * build's run (tests/security/check-test-logs.py).
 */
#define G_LOG_DOMAIN "natter-test"

#include <glib/gstdio.h>
#include <string.h>

#include "server-test-util.h"

#define FEATURES "\"features\":[\"message_actions\"]"

/* Distinctive, so that a hit cannot be a coincidence. */
#define PASSWORD   "Pw-4f1c9e2d-never-logged"
#define WRONG      "Pw-wrong-b7a03d55-never-logged"
#define BODY_DM    "Body-dm-71c2e0aa-never-logged"
#define BODY_ROOM  "Body-room-3e9d41f0-never-logged"
#define BODY_EDIT  "Body-edit-c5f8a6b2-never-logged"
#define BODY_REPLY "Body-reply-0d2b7e94-never-logged"

/* Another connection of @username, with message actions on. */
static NatterTestClient *
login_with_actions (NatterTestServer *srv,
                    const char       *username)
{
  NatterTestClient *c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"" PASSWORD "\"," FEATURES "}",
      username);

  return c;
}

static NatterTestClient *
new_user (NatterTestServer *srv,
          const char       *username)
{
  NatterTestClient *c = natter_test_client_new (srv);

  natter_test_client_register (c, username, PASSWORD);
  return c;
}

static void
test_no_secret_in_log (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-logs-XXXXXX", &error);
  g_autofree char *log_path = g_build_filename (dir, "natterd.log", NULL);
  g_autofree char *alice_token = NULL;
  g_autofree char *revoked_token = NULL;
  g_autofree char *log = NULL;
  g_autofree char *big = NULL;
  g_autofree char *padding = NULL;
  g_autoptr(NatterTestServer) srv = NULL;
  gsize len = 0;

  g_assert_no_error (error);
  srv = natter_test_server_start_logged ("[limits]\nmax_frame = 4096\n", log_path);
  {
    g_autoptr(NatterTestClient) alice = new_user (srv, "alice");
    g_autoptr(NatterTestClient) bob = new_user (srv, "bob");
    g_autoptr(NatterTestClient) alice_actions = NULL;
    g_autoptr(NatterTestClient) bob_actions = NULL;
    g_autoptr(NatterTestClient) x = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) t = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) big_sender = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) bob2 = natter_test_client_new (srv);
    gint64 id;

    alice_token = g_strdup (natter_test_client_get_token (alice));
    alice_actions = login_with_actions (srv, "alice");
    bob_actions = login_with_actions (srv, "bob");
    util_make_contacts (alice, bob);
    id = util_send (alice, "@bob", BODY_DM, "dm1");
    util_room_create (alice, "#lobby");
    util_room_join (bob, "#lobby");
    util_send (bob, "#lobby", BODY_ROOM, "room1");
    {
      g_autoptr(JsonObject) edited = natter_test_client_request_ok (alice_actions,
          "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"" BODY_EDIT "\"}", id);
      g_autoptr(JsonObject) reply = natter_test_client_request_ok (bob_actions,
          "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"" BODY_REPLY "\","
          "\"client_msg_id\":\"r1\",\"reply_to\":%" G_GINT64_FORMAT "}", id);
      g_autoptr(JsonObject) found = natter_test_client_request_ok (bob,
          "{\"type\":\"search\",\"query\":\"" BODY_DM "\"}");
      /* Refused: to someone who is not a contact, an edit of another's
       * message, a wrong password, a wrong and a malformed token. */
      g_autoptr(JsonObject) e1 = natter_test_client_requestf (alice,
          "{\"type\":\"send\",\"to\":\"@nobody\",\"body\":\"" BODY_DM "\",\"client_msg_id\":\"x1\"}");
      g_autoptr(JsonObject) e2 = natter_test_client_requestf (bob_actions,
          "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"" BODY_EDIT "\"}", id);
      g_autoptr(JsonObject) e3 = natter_test_client_request_error (x, "auth_failed",
          "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"" WRONG "\"}");
      g_autoptr(JsonObject) e4 = natter_test_client_request_error (x, "auth_failed",
          "{\"type\":\"login\",\"token\":\"" WRONG "\"}");

      g_assert_cmpstr (natter_test_get_str (e1, "type"), ==, "error");
      g_assert_cmpstr (natter_test_get_str (e2, "type"), ==, "error");
    }
    /* A token used, then revoked by its logout, then refused. */
    natter_test_client_login_token (t, alice_token);
    revoked_token = g_strdup (natter_test_client_login (bob2, "bob", PASSWORD));
    {
      g_autoptr(NatterTestClient) r = natter_test_client_new (srv);
      g_autoptr(NatterTestClient) r2 = natter_test_client_new (srv);
      g_autofree char *tq = natter_test_json_quote (revoked_token);
      g_autoptr(JsonObject) e = NULL;

      natter_test_client_login_token (r, revoked_token);
      natter_test_client_logout (r);
      e = natter_test_client_request_error (r2, "auth_failed", "{\"type\":\"login\",\"token\":%s}", tq);
    }
    /* A frame with the password that is not JSON, and one too large. */
    natter_test_client_sendf (x, "{\"type\":\"login\",\"password\":\"" PASSWORD "\",}");
    {
      g_autoptr(JsonObject) e = natter_test_client_next (x);

      natter_assert_error (e, "bad_frame");
    }
    padding = util_repeat ('p', 5000);
    big = g_strdup_printf ("{\"type\":\"login\",\"username\":\"alice\",\"password\":\"" PASSWORD "%s\"}",
                           padding);
    natter_test_client_sendf (big_sender, "%s", big);
    {
      g_autoptr(JsonObject) e = natter_test_client_next (big_sender);

      natter_assert_error (e, "frame_too_large");
    }
  }
  /* What a restart reads back (messages, tokens) is not logged either. */
  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) again = natter_test_client_new (srv);

    natter_test_client_login_token (again, alice_token);
  }
  natter_test_server_stop (srv);

  g_assert_true (g_file_get_contents (log_path, &log, &len, NULL));
  natter_test_note ("natterd wrote %" G_GSIZE_FORMAT " bytes of log at every level", len);
  /* It did log, at debug level too: the test would pass on silence. */
  g_assert_cmpuint (len, >, 1000);
  util_assert_contains (log, "registered user alice");
  /* Text throughout, so that strstr sees all of it. */
  g_assert_cmpuint (strlen (log), ==, len);
  {
    const char *secrets[] = { PASSWORD, WRONG, BODY_DM, BODY_ROOM, BODY_EDIT, BODY_REPLY,
                              alice_token, revoked_token, "$argon2id$" };

    for (gsize i = 0; i < G_N_ELEMENTS (secrets); i++)
      if (strstr (log, secrets[i]) != NULL)
        g_error ("natterd's log holds %s:\n%s", secrets[i], log);
  }
  g_unlink (log_path);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add ("/security/logs/no-secret-in-log", test_no_secret_in_log);
  return g_test_run ();
}
