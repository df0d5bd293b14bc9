/* test-durability.c: what natterd acknowledged survives a SIGKILL and a
 * restart on the same data dir; resending with the same client_msg_ids
 * after it creates no duplicate; a clean restart keeps everything.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

#define N_SENDS 400

static void
record_ack (GHashTable *acked,
            JsonObject *r)
{
  gint64 id;
  const char *cmid;

  natter_assert_ok (r);
  id = natter_test_get_int (r, "message.id");
  cmid = natter_test_get_str (r, "message.client_msg_id");
  g_hash_table_insert (acked, g_strdup (cmid), g_memdup2 (&id, sizeof id));
}

/* Records every ok queued on @c (an ack), and asserts nothing else came. */
static void
take_acks (NatterTestClient *c,
           GHashTable       *acked)
{
  JsonObject *r;

  while ((r = natter_test_client_take_queued (c, "ok")) != NULL)
    {
      record_ack (acked, r);
      json_object_unref (r);
    }
  if (natter_test_client_queued (c) > 0)
    {
      g_autoptr(JsonObject) other = natter_test_client_try_next (c, 0, NULL);
      g_autofree char *text = natter_test_to_string (other);

      g_error ("unexpected frame while streaming sends: %s", text);
    }
}

static void
test_sigkill_mid_stream (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) after = NULL;
  g_autofree char *token = g_strdup (natter_test_client_get_token (alice));
  gboolean killed = FALSE;
  guint written = 0;

  {
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  }

  /* Stream sends; once 150 acks are in, SIGKILL while more are in flight. */
  for (guint i = 0; i < N_SENDS && !killed; i++)
    {
      g_autofree char *frame = g_strdup_printf (
          "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"durable %u\",\"client_msg_id\":\"k%u\"}\n",
          i + 1000, i, i);

      if (!natter_test_client_try_send_raw (alice, frame, strlen (frame), NULL))
        break;
      written++;
      /* Keep about 50 sends in flight: wait for the ack of the one sent 50
       * before, and take whatever else has come. */
      if (i % 10 == 9)
        {
          /* Unless an earlier take_acks already had it. */
          g_autofree char *behind = g_strdup_printf ("k%u", i - 50);
          if (i >= 50 && !g_hash_table_contains (acked, behind))
            {
              g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, i + 1000 - 50);

              record_ack (acked, r);
            }
          take_acks (alice, acked);
          if (g_hash_table_size (acked) >= 150)
            {
              /* A burst the server is still reading and committing when
               * SIGKILL lands. */
              GString *burst = g_string_new (NULL);

              for (guint j = i + 1; j < N_SENDS; j++)
                g_string_append_printf (burst,
                    "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"durable %u\",\"client_msg_id\":\"k%u\"}\n",
                    j + 1000, j, j);
              if (natter_test_client_try_send_raw (alice, burst->str, burst->len, NULL))
                written += N_SENDS - i - 1;
              g_string_free (burst, TRUE);
              natter_test_server_kill (srv);
              killed = TRUE;
            }
        }
    }
  g_assert_true (killed);
  /* Acks already on their way before the kill count too. */
  natter_test_client_wait_closed (alice, 0);
  take_acks (alice, acked);
  natter_test_note ("wrote %u sends, %u acknowledged before SIGKILL", written, g_hash_table_size (acked));
  g_assert_cmpuint (g_hash_table_size (acked), >=, 150);

  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) a2 = natter_test_client_new (srv);
    GHashTableIter iter;
    gpointer key, value;

    natter_test_client_login_token (a2, token);
    after = util_sync_all (a2);

    /* Every acknowledged message is there, with the same id and body. */
    g_hash_table_iter_init (&iter, acked);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        gint64 *id = g_hash_table_lookup (after, key);

        if (id == NULL)
          g_error ("acknowledged message %s (id %" G_GINT64_FORMAT ") lost by SIGKILL",
                   (char *) key, *(gint64 *) value);
        g_assert_cmpint (*id, ==, *(gint64 *) value);
      }
    g_assert_cmpuint (g_hash_table_size (after), <=, written);

    /* The recipient sees the same. */
    {
      g_autoptr(NatterTestClient) bob = natter_test_client_new_login (srv, "bob");
      g_autoptr(GHashTable) bobs = util_sync_all (bob);

      g_assert_cmpuint (g_hash_table_size (bobs), ==, g_hash_table_size (after));
    }

    /* Resend everything with the same client_msg_ids: the stored ones come
     * back as they were, the rest are stored now, nothing twice. */
    {
      GString *batch = g_string_new (NULL);
      g_autoptr(GHashTable) final = NULL;

      for (guint i = 0; i < N_SENDS; i++)
        g_string_append_printf (batch,
            "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"durable %u\",\"client_msg_id\":\"k%u\"}\n",
            i + 5000, i, i);
      natter_test_client_send_raw (a2, batch->str, batch->len);
      g_string_free (batch, TRUE);
      for (guint i = 0; i < N_SENDS; i++)
        {
          g_autoptr(JsonObject) r = natter_test_client_wait_re (a2, i + 5000);
          g_autofree char *cmid = g_strdup_printf ("k%u", i);
          gint64 *before = g_hash_table_lookup (after, cmid);

          natter_assert_ok (r);
          if (before != NULL)
            natter_assert_int (r, "message.id", *before);
        }
      final = util_sync_all (a2);
      g_assert_cmpuint (g_hash_table_size (final), ==, N_SENDS);
      {
        g_autoptr(JsonObject) h = natter_test_client_request_ok (a2,
            "{\"type\":\"history\",\"conversation\":\"@bob\",\"limit\":200}");

        g_assert_true (natter_test_get_bool (h, "has_more"));
      }
    }
  }
}

static void
test_sigterm_flushes (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GString *batch = g_string_new (NULL);

  {
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  }
  for (guint i = 0; i < 200; i++)
    g_string_append_printf (batch,
        "{\"type\":\"send\",\"id\":%u,\"to\":\"@bob\",\"body\":\"t %u\",\"client_msg_id\":\"t%u\"}\n", i, i, i);
  natter_test_client_send_raw (alice, batch->str, batch->len);
  g_string_free (batch, TRUE);
  /* The first ack proves the server is handling them; stop at once. */
  {
    g_autoptr(JsonObject) first = natter_test_client_wait_re (alice, 0);

    natter_assert_ok (first);
    record_ack (acked, first);
  }
  natter_test_server_stop (srv);   /* asserts exit status 0 */
  natter_test_client_wait_closed (alice, 0);
  take_acks (alice, acked);
  natter_test_note ("%u acknowledged before SIGTERM", g_hash_table_size (acked));

  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) a2 = natter_test_client_new_login (srv, "alice");
    g_autoptr(GHashTable) after = util_sync_all (a2);
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, acked);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        gint64 *id = g_hash_table_lookup (after, key);

        g_assert_nonnull (id);
        g_assert_cmpint (*id, ==, *(gint64 *) value);
      }
  }
}

/* The search index is written in bulk behind the messages: a message
 * acknowledged just before a kill -9 may not be in it yet. natterd
 * indexes what is missing when it starts, so it is found after all. */
static void
test_sigkill_before_indexing (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  gint64 id;

  id = util_send (alice, "@bob", "kingfisher just before the crash", "k1");
  natter_test_server_kill (srv);
  natter_test_client_wait_closed (alice, 0);
  natter_test_client_wait_closed (bob, 0);

  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) b2 = natter_test_client_new_login (srv, "bob");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (b2,
        "{\"type\":\"search\",\"query\":\"kingfisher\"}");
    JsonArray *found = natter_test_get_array (r, "messages");

    g_assert_cmpuint (json_array_get_length (found), ==, 1);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (found, 0), "id"), ==, id);
  }
}

static void
test_restart_keeps_state (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autofree char *alice_token = NULL;
  gint64 m1, m2;

  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) bob = natter_test_client_new (srv);
    g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
    g_autoptr(JsonObject) r1 = natter_test_client_request_ok (alice,
        "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"" NATTER_TEST_PASSWORD "\","
        "\"display_name\":\"Alice A.\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (bob,
        "{\"type\":\"register\",\"username\":\"bob\",\"password\":\"" NATTER_TEST_PASSWORD "\"}");

    alice_token = g_strdup (natter_test_get_str (r1, "token"));
    {
      g_autoptr(JsonObject) cr = natter_test_client_request_ok (alice,
          "{\"type\":\"contact_request\",\"username\":\"bob\"}");
      g_autoptr(JsonObject) ca = natter_test_client_request_ok (bob,
          "{\"type\":\"contact_accept\",\"username\":\"alice\"}");
      g_autoptr(JsonObject) pending = natter_test_client_request_ok (carol,
          "{\"type\":\"contact_request\",\"username\":\"alice\"}");
      g_autoptr(JsonObject) room = natter_test_client_request_ok (alice,
          "{\"type\":\"room_create\",\"room\":\"#keep\",\"topic\":\"kept topic\"}");
      g_autoptr(JsonObject) join = natter_test_client_request_ok (bob,
          "{\"type\":\"room_join\",\"room\":\"#keep\"}");
    }
    m1 = util_send (bob, "@alice", "before restart", "p1");
    m2 = util_send (bob, "#keep", "in the room", "p2");
    {
      g_autoptr(JsonObject) rd = natter_test_client_request_ok (alice,
          "{\"type\":\"read\",\"conversation\":\"@bob\",\"up_to\":%" G_GINT64_FORMAT "}", m1);
    }
  }

  /* natterd made its certificate in the data dir; a restart reuses it
   * (clients pin it). */
  {
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autoptr(GDir) dir = g_dir_open (natter_test_server_get_data_dir (srv), 0, NULL);
    const char *name;
    GString *all = g_string_new (NULL);

    natter_test_server_stop (srv);
    while ((name = g_dir_read_name (dir)) != NULL)
      if (g_str_has_suffix (name, ".pem"))
        {
          g_autofree char *path = g_build_filename (natter_test_server_get_data_dir (srv), name, NULL);
          g_autofree char *contents = NULL;

          g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
          g_string_append (all, contents);
        }
    g_assert_cmpuint (all->len, >, 0);
    before = g_string_free (all, FALSE);

    natter_test_server_restart (srv);
    all = g_string_new (NULL);
    g_dir_rewind (dir);
    while ((name = g_dir_read_name (dir)) != NULL)
      if (g_str_has_suffix (name, ".pem"))
        {
          g_autofree char *path = g_build_filename (natter_test_server_get_data_dir (srv), name, NULL);
          g_autofree char *contents = NULL;

          g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
          g_string_append (all, contents);
        }
    after = g_string_free (all, FALSE);
    g_assert_cmpstr (before, ==, after);
  }

  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new (srv);

    /* The token still works; the profile is kept. */
    natter_test_client_login_token (alice, alice_token);
    {
      g_autoptr(JsonObject) info = natter_test_client_request_ok (alice,
          "{\"type\":\"user_info\",\"username\":\"alice\"}");

      natter_assert_str (info, "user.display_name", "Alice A.");
    }
    {
      g_autoptr(JsonObject) c = natter_test_client_request_ok (alice, "{\"type\":\"contacts\"}");

      util_assert_usernames (natter_test_get_array (c, "contacts"), "bob", NULL);
      util_assert_strings (natter_test_get_array (c, "incoming"), "carol", NULL);
      /* bob is offline, and alice may see that he was here. */
      natter_assert_str (util_find_user (natter_test_get_array (c, "contacts"), "bob"),
                         "presence", "offline");
      g_assert_false (natter_test_is_null (util_find_user (natter_test_get_array (c, "contacts"), "bob"),
                                           "last_seen"));
    }
    {
      g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"rooms\"}");
      JsonObject *room = json_array_get_object_element (natter_test_get_array (r, "rooms"), 0);

      g_assert_nonnull (room);
      natter_assert_str (room, "room", "#keep");
      natter_assert_str (room, "topic", "kept topic");
      natter_assert_str (room, "owner", "alice");
      natter_assert_int (room, "member_count", 2);
    }
    {
      g_autoptr(JsonObject) h = natter_test_client_request_ok (alice,
          "{\"type\":\"history\",\"conversation\":\"#keep\"}");

      natter_assert_int (h, "messages.0.id", m2);
    }
    {
      g_autoptr(JsonObject) c = natter_test_client_request_ok (alice, "{\"type\":\"conversations\"}");
      JsonArray *convs = natter_test_get_array (c, "conversations");

      for (guint i = 0; i < json_array_get_length (convs); i++)
        {
          JsonObject *conv = json_array_get_object_element (convs, i);

          if (g_str_equal (natter_test_get_str (conv, "conversation"), "@bob"))
            {
              natter_assert_int (conv, "read_up_to", m1);
              natter_assert_int (conv, "unread", 0);
            }
        }
    }
    /* Ids keep increasing after a restart. */
    g_assert_cmpint (util_send (alice, "@bob", "after restart", "a1"), >, m2);
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/durability/sigkill-mid-stream", test_sigkill_mid_stream);
  natter_test_add ("/durability/sigterm-flushes", test_sigterm_flushes);
  natter_test_add ("/durability/sigkill-before-indexing", test_sigkill_before_indexing);
  natter_test_add ("/durability/restart-keeps-state", test_restart_keeps_state);

  return g_test_run ();
}
