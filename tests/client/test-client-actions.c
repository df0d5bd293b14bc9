/* test-client-actions.c: feature message_actions between two clients in
 * one process through a real natterd: replies, edits, deletes, reactions
 * and notification levels, live and after an offline period (sync's
 * changes), actions kept in the outbox across a restart, and a client
 * that signs in without the feature. */
#define G_LOG_DOMAIN "test-client-actions"

#include <string.h>

#include "client-test-util.h"
#include "natter-client-private.h"

static NatterTestServer *server;

typedef struct {
  char         *dir;
  NatterClient *client;
  char         *name;
  char         *token;
} Peer;

typedef struct {
  Peer alice;
  Peer bob;
} Fixture;

static void
peer_start (Peer       *peer,
            const char *prefix)
{
  peer->dir = test_make_state_dir ();
  peer->name = test_username (prefix);
  peer->client = test_client_new (server, peer->dir);
  test_client_sign_up (peer->client, server, peer->name);
  peer->token = g_strdup (natter_client_get_token (peer->client));
}

static void
peer_stop (Peer *peer)
{
  if (peer->client != NULL)
    test_client_free (g_steal_pointer (&peer->client));
  test_remove_dir (peer->dir);
  g_free (peer->dir);
  g_free (peer->name);
  g_free (peer->token);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  peer_start (&f->alice, "alice");
  peer_start (&f->bob, "bob");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  peer_stop (&f->alice);
  peer_stop (&f->bob);
}

/* The server of this build may not have the feature yet: the tests of the
 * feature say so and skip. */
static gboolean
feature_on (Fixture *f)
{
  if (natter_client_get_message_actions (f->alice.client))
    return TRUE;
  g_test_skip ("natterd does not offer message_actions");
  return FALSE;
}

static char *
at (const char *name)
{
  return g_strconcat ("@", name, NULL);
}

/* @client's copy of the message @id in the conversation @address, or NULL. */
static NatterMessage *
find (NatterClient *client,
      const char   *address,
      gint64        id)
{
  NatterConversation *conv = natter_client_lookup_conversation (client, address, FALSE);
  GListModel *model;

  if (conv == NULL)
    return NULL;
  model = natter_conversation_get_messages (conv);
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) m = g_list_model_get_item (model, i);

      if (natter_message_get_id (m) == id)
        return m; /* the model keeps it */
    }
  return NULL;
}

static const char *
body_of (NatterClient *client,
         const char   *address,
         gint64        id)
{
  NatterMessage *m = find (client, address, id);

  return m != NULL ? natter_message_get_body (m) : NULL;
}

static guint
reaction_count (NatterMessage *m,
                const char    *emoji)
{
  const NatterReaction *r = m != NULL ? natter_message_find_reaction (m, emoji) : NULL;

  return r != NULL ? g_strv_length (r->users) : 0;
}

/* alice sends @body to bob and both have it; returns its id. */
static gint64
exchange (Fixture    *f,
          const char *body)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterMessage *msg = natter_client_send_message (f->alice.client, to_bob, body);
  gint64 id;

  g_assert_nonnull (msg);
  WAIT_FOR (natter_message_get_id (msg) > 0);
  id = natter_message_get_id (msg);
  WAIT_FOR (find (f->bob.client, to_alice, id) != NULL);
  return id;
}

static void
test_live (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterMessage *original, *bobs_copy, *reply, *alices_reply;
  const NatterQuote *quote;
  gint64 id, reply_id;

  if (!feature_on (f))
    return;

  id = exchange (f, "When do we meet?\nI am free all week");
  original = find (f->alice.client, to_bob, id);
  bobs_copy = find (f->bob.client, to_alice, id);
  g_assert_true (natter_client_can_edit (f->alice.client, original));
  g_assert_true (natter_client_can_delete (f->alice.client, original));
  g_assert_false (natter_client_can_edit (f->bob.client, bobs_copy));
  g_assert_false (natter_client_can_delete (f->bob.client, bobs_copy));
  g_assert_true (natter_client_can_react (f->bob.client, bobs_copy));

  /* A reply shows its quote at once, and reaches alice with it. */
  reply = natter_client_reply_to_message (f->bob.client, bobs_copy, "8pm?");
  g_assert_nonnull (reply);
  quote = natter_message_get_reply_to (reply);
  g_assert_nonnull (quote);
  g_assert_cmpint (quote->id, ==, id);
  g_assert_cmpstr (quote->sender, ==, f->alice.name);
  g_assert_cmpstr (quote->body, ==, "When do we meet?");
  WAIT_FOR (natter_message_get_id (reply) > 0);
  reply_id = natter_message_get_id (reply);
  WAIT_FOR (find (f->alice.client, to_bob, reply_id) != NULL);
  alices_reply = find (f->alice.client, to_bob, reply_id);
  quote = natter_message_get_reply_to (alices_reply);
  g_assert_nonnull (quote);
  g_assert_cmpint (quote->id, ==, id);
  g_assert_cmpstr (quote->body, ==, "When do we meet?");

  /* An edit: shown at once, then on bob's side, where the reply's quote
   * follows it. */
  g_assert_true (natter_client_edit_message (f->alice.client, original, "When do we meet? Tonight?"));
  g_assert_cmpstr (natter_message_get_body (original), ==, "When do we meet? Tonight?");
  g_assert_cmpint (natter_message_get_edited_ts (original), >, 0);
  WAIT_FOR (g_strcmp0 (natter_message_get_body (bobs_copy), "When do we meet? Tonight?") == 0);
  g_assert_cmpint (natter_message_get_edited_ts (bobs_copy), >, 0);
  WAIT_FOR (g_strcmp0 (natter_message_get_reply_to (reply)->body, "When do we meet? Tonight?") == 0);
  WAIT_FOR (g_strcmp0 (natter_message_get_reply_to (alices_reply)->body, "When do we meet? Tonight?") == 0);

  /* Reactions from both, then one taken back. */
  g_assert_true (natter_client_react (f->bob.client, bobs_copy, "👍", TRUE));
  g_assert_false (natter_client_react (f->bob.client, bobs_copy, "👍", TRUE));
  WAIT_FOR (reaction_count (original, "👍") == 1);
  g_assert_true (natter_client_react (f->alice.client, original, "👍", TRUE));
  g_assert_true (natter_client_react (f->alice.client, original, "🎉", TRUE));
  WAIT_FOR (reaction_count (bobs_copy, "👍") == 2 && reaction_count (bobs_copy, "🎉") == 1);
  {
    const NatterReaction *r = natter_message_find_reaction (bobs_copy, "👍");

    g_assert_cmpstr (r->users[0], ==, f->bob.name);
    g_assert_cmpstr (r->users[1], ==, f->alice.name);
    g_assert_cmpstr (((NatterReaction *) g_ptr_array_index (natter_message_get_reactions (bobs_copy), 0))->emoji,
                     ==, "👍");
  }
  g_assert_true (natter_client_react (f->bob.client, bobs_copy, "👍", FALSE));
  WAIT_FOR (reaction_count (original, "👍") == 1);
  g_assert_false (natter_reaction_has_user (natter_message_find_reaction (original, "👍"), f->bob.name));

  /* A delete: everyone sees it deleted, the reply says its original is. */
  g_assert_true (natter_client_delete_message (f->alice.client, original));
  g_assert_true (natter_message_get_deleted (original));
  WAIT_FOR (natter_message_get_deleted (bobs_copy));
  g_assert_cmpstr (natter_message_get_body (bobs_copy), ==, "");
  g_assert_cmpuint (natter_message_get_reactions (bobs_copy)->len, ==, 0);
  WAIT_FOR (natter_message_get_reply_to (reply)->deleted);
  g_assert_false (natter_client_can_react (f->bob.client, bobs_copy));
  g_assert_false (natter_client_can_edit (f->alice.client, original));

  /* A message bob has not read, deleted: it no longer counts as unread
   * for him, live (docs/protocol.md, "history, search, conversations"). */
  {
    gint64 unread_id = exchange (f, "Forget this one");
    NatterConversation *bobs = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE);
    NatterMessage *gone = find (f->alice.client, to_bob, unread_id);
    guint before = natter_conversation_get_unread (bobs);

    g_assert_cmpuint (before, >, 0);
    g_assert_true (natter_client_delete_message (f->alice.client, gone));
    WAIT_FOR (natter_message_get_deleted (find (f->bob.client, to_alice, unread_id)));
    g_assert_cmpuint (natter_conversation_get_unread (bobs), ==, before - 1);
    g_assert_cmpuint (natter_client_get_unread_total (f->bob.client), ==, before - 1);
  }

  /* Everything confirmed: nothing waits in the outbox. */
  WAIT_FOR (natter_outbox_get_n_pending (f->alice.client->outbox) == 0);
  WAIT_FOR (g_hash_table_size (f->alice.client->action_bases) == 0);
}

static void
test_mentions_and_levels (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  g_autofree char *body = NULL;
  g_autofree char *second_dir = test_make_state_dir ();
  NatterConversation *conv;
  NatterClient *second;
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 plain, mention;

  if (!feature_on (f))
    return;

  plain = exchange (f, "no names here");
  body = g_strdup_printf ("are you there, @%s?", f->bob.name);
  mention = exchange (f, body);
  conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE);
  g_assert_false (natter_message_mentions (find (f->bob.client, to_alice, plain), f->bob.name));
  g_assert_true (natter_message_mentions (find (f->bob.client, to_alice, mention), f->bob.name));

  /* A second device of bob's, to see the level follow him. */
  second = test_client_new (server, second_dir);
  test_client_sign_in_token (second, server, f->bob.token);

  g_assert_cmpint (natter_conversation_get_notify_level (conv), ==, NATTER_NOTIFY_LEVEL_ALL);
  natter_client_set_notify_level_async (f->bob.client, conv, NATTER_NOTIFY_LEVEL_MENTIONS,
                                        NULL, test_result_cb, &result);
  g_assert_true (natter_client_set_notify_level_finish (f->bob.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpint (natter_conversation_get_notify_level (conv), ==, NATTER_NOTIFY_LEVEL_MENTIONS);
  g_assert_false (natter_client_should_notify (f->bob.client, conv, find (f->bob.client, to_alice, plain)));
  g_assert_true (natter_client_should_notify (f->bob.client, conv, find (f->bob.client, to_alice, mention)));

  WAIT_FOR (natter_client_lookup_conversation (second, to_alice, FALSE) != NULL &&
            natter_conversation_get_notify_level (natter_client_lookup_conversation (second, to_alice, FALSE))
            == NATTER_NOTIFY_LEVEL_MENTIONS);

  /* And a fresh sign-in hears it from "conversations". */
  test_client_free (second);
  test_remove_dir (second_dir);
  g_free (second_dir);
  second_dir = test_make_state_dir ();
  second = test_client_new (server, second_dir);
  test_client_sign_in_token (second, server, f->bob.token);
  conv = natter_client_lookup_conversation (second, to_alice, FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpint (natter_conversation_get_notify_level (conv), ==, NATTER_NOTIFY_LEVEL_MENTIONS);

  natter_client_set_notify_level_async (second, conv, NATTER_NOTIFY_LEVEL_NONE, NULL, test_result_cb, &result);
  g_assert_true (natter_client_set_notify_level_finish (second, test_wait_result (&result), &error));
  g_clear_object (&result);
  g_assert_false (natter_client_should_notify (second, conv, find (second, to_alice, mention)));
  WAIT_FOR (natter_conversation_get_notify_level (natter_client_lookup_conversation (f->bob.client, to_alice, FALSE))
            == NATTER_NOTIFY_LEVEL_NONE);
  test_client_free (second);
  test_remove_dir (second_dir);
  (void) to_bob;
}

/* bob is away while alice edits, reacts and deletes: his next sign-in
 * syncs the changes, even of messages older than where he stopped. */
static void
test_sync_changes (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *to_alice = at (f->alice.name);
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *reply_body = NULL;
  NatterMessage *a, *b, *reply;
  gint64 first, second, reply_id, last_before;

  if (!feature_on (f))
    return;

  first = exchange (f, "first");
  second = exchange (f, "second");
  reply = natter_client_reply_to_message (f->bob.client, find (f->bob.client, to_alice, first), "re: first");
  WAIT_FOR (natter_message_get_id (reply) > 0);
  reply_id = natter_message_get_id (reply);
  WAIT_FOR (find (f->alice.client, to_bob, reply_id) != NULL);

  natter_client_disconnect (f->bob.client);
  last_before = f->bob.client->last_id;

  a = find (f->alice.client, to_bob, first);
  b = find (f->alice.client, to_bob, second);
  g_assert_true (natter_client_edit_message (f->alice.client, a, "first, edited"));
  g_assert_true (natter_client_react (f->alice.client, a, "🎉", TRUE));
  g_assert_true (natter_client_delete_message (f->alice.client, b));
  WAIT_FOR (natter_outbox_get_n_pending (f->alice.client->outbox) == 0);

  test_client_sign_in_token (f->bob.client, server, f->bob.token);
  g_assert_cmpstr (body_of (f->bob.client, to_alice, first), ==, "first, edited");
  g_assert_cmpint (natter_message_get_edited_ts (find (f->bob.client, to_alice, first)), >, 0);
  g_assert_cmpuint (reaction_count (find (f->bob.client, to_alice, first), "🎉"), ==, 1);
  g_assert_true (natter_message_get_deleted (find (f->bob.client, to_alice, second)));
  reply_body = g_strdup (natter_message_get_reply_to (reply)->body);
  g_assert_cmpstr (reply_body, ==, "first, edited");
  /* Changes take ids from the message sequence: the sync position moved
   * past them, so the next sync does not bring them again. */
  g_assert_cmpint (f->bob.client->last_id, >=, last_before + 3);
}

/* Actions made offline wait in the outbox, across a restart, and are
 * done once. */
static void
test_outbox_restart (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *to_alice = at (f->alice.name);
  g_autofree char *to_bob = at (f->bob.name);
  NatterMessage *mine, *theirs, *bobs_copy;
  NatterConversation *conv;
  gint64 id, other;

  if (!feature_on (f))
    return;

  id = exchange (f, "typo hree");
  other = natter_message_get_id (natter_client_send_message (f->bob.client, to_alice, "hello")) ;
  WAIT_FOR ((other = natter_message_get_id (natter_conversation_get_last_message (
               natter_client_lookup_conversation (f->bob.client, to_alice, FALSE)))) > 0);
  WAIT_FOR (find (f->alice.client, to_bob, other) != NULL);

  natter_client_disconnect (f->alice.client);
  mine = find (f->alice.client, to_bob, id);
  theirs = find (f->alice.client, to_bob, other);
  g_assert_true (natter_client_edit_message (f->alice.client, mine, "typo here"));
  g_assert_true (natter_client_react (f->alice.client, theirs, "❤️", TRUE));
  g_assert_cmpstr (natter_message_get_body (mine), ==, "typo here");
  g_assert_cmpuint (reaction_count (theirs, "❤️"), ==, 1);
  g_assert_cmpuint (natter_outbox_get_n_pending (f->alice.client->outbox), ==, 2);
  test_client_free (g_steal_pointer (&f->alice.client));

  /* A restart: the edit and the reaction are still to be sent, and show
   * on their messages once these are loaded. */
  f->alice.client = test_client_new (server, f->alice.dir);
  g_assert_cmpuint (natter_outbox_get_n_pending (f->alice.client->outbox), ==, 2);
  test_client_sign_in_token (f->alice.client, server, f->alice.token);

  bobs_copy = find (f->bob.client, to_alice, id);
  WAIT_FOR (g_strcmp0 (natter_message_get_body (bobs_copy), "typo here") == 0);
  WAIT_FOR (reaction_count (find (f->bob.client, to_alice, other), "❤️") == 1);
  WAIT_FOR (natter_outbox_get_n_pending (f->alice.client->outbox) == 0);

  conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);
  g_assert_nonnull (conv);
  if (find (f->alice.client, to_bob, id) == NULL)
    {
      GAsyncResult *result = NULL;

      natter_conversation_load_older_async (conv, NULL, test_result_cb, &result);
      natter_conversation_load_older_finish (conv, test_wait_result (&result), NULL);
      g_clear_object (&result);
    }
  g_assert_cmpstr (body_of (f->alice.client, to_bob, id), ==, "typo here");
  g_assert_cmpuint (reaction_count (find (f->alice.client, to_bob, other), "❤️"), ==, 1);
}

/* A client that signs in without the feature (as protocol 1) offers no
 * actions, and what it sends has no new field. */
static void
test_without_feature (void)
{
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *name = test_username ("carol");
  g_autofree char *to_self = NULL;
  NatterClient *client = test_client_new (server, dir);
  NatterMessage *msg;
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  client->no_features = TRUE;
  test_client_sign_up (client, server, name);
  g_assert_false (natter_client_get_message_actions (client));

  to_self = at (name);
  msg = natter_client_send_message (client, to_self, "notes");
  WAIT_FOR (natter_message_get_id (msg) > 0);
  g_assert_false (natter_client_can_edit (client, msg));
  g_assert_false (natter_client_can_delete (client, msg));
  g_assert_false (natter_client_can_react (client, msg));
  g_assert_false (natter_client_edit_message (client, msg, "other notes"));
  g_assert_false (natter_client_react (client, msg, "👍", TRUE));
  g_assert_null (natter_client_reply_to_message (client, msg, "hm"));
  g_assert_cmpstr (natter_message_get_body (msg), ==, "notes");
  g_assert_cmpuint (natter_outbox_get_n_pending (client->outbox), ==, 0);

  natter_client_set_notify_level_async (client,
                                        natter_client_lookup_conversation (client, to_self, FALSE),
                                        NATTER_NOTIFY_LEVEL_NONE, NULL, test_result_cb, &result);
  g_assert_false (natter_client_set_notify_level_finish (client, test_wait_result (&result), &error));
  g_assert_nonnull (error);
  g_clear_object (&result);

  test_client_free (client);
  test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  test_init ();
  g_test_init (&argc, &argv, NULL);

  server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);

  g_test_add ("/client/actions/live", Fixture, NULL, fixture_set_up, test_live, fixture_tear_down);
  g_test_add ("/client/actions/mentions-and-levels", Fixture, NULL, fixture_set_up,
              test_mentions_and_levels, fixture_tear_down);
  g_test_add ("/client/actions/sync-changes", Fixture, NULL, fixture_set_up, test_sync_changes,
              fixture_tear_down);
  g_test_add ("/client/actions/outbox-restart", Fixture, NULL, fixture_set_up, test_outbox_restart,
              fixture_tear_down);
  g_test_add_func ("/client/actions/without-feature", test_without_feature);

  ret = g_test_run ();
  natter_test_server_free (server);
  return ret;
}
