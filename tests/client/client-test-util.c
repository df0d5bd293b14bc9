/* client-test-util.c: see client-test-util.h. */
#define G_LOG_DOMAIN "client-test"

#include <glib/gstdio.h>

#include "client-test-util.h"
#include "natter-test-client.h"

void
test_init (void)
{
  g_tls_backend_get_default ();
}

gboolean
test_tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
wait_until (TestCondition condition,
            gpointer      data,
            guint         timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id;

  if (condition (data))
    return TRUE;

  id = g_timeout_add (timeout_ms, set_flag_cb, &timed_out);
  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return condition (data);
}

void
test_result_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

static gboolean
slot_filled (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

GAsyncResult *
test_wait_result (GAsyncResult **slot)
{
  if (!wait_until (slot_filled, slot, natter_test_deadline_ms ()))
    g_error ("timed out waiting for an async result");
  return *slot;
}

char *
test_make_state_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("natter-client-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
test_remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        test_remove_dir (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

NatterClient *
test_client_new (NatterTestServer *server,
                 const char       *state_dir)
{
  NatterClient *client = natter_client_new (state_dir);

  natter_client_set_use_tls (client, natter_test_server_get_tls (server));
  return client;
}

static gboolean
try_connect (NatterClient     *client,
             NatterTestServer *server,
             GError          **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  natter_client_connect_async (client, "127.0.0.1", natter_test_server_get_port (server),
                               NULL, test_result_cb, &result);
  ok = natter_client_connect_finish (client, test_wait_result (&result), error);
  g_clear_object (&result);
  return ok;
}

void
test_client_connect (NatterClient     *client,
                     NatterTestServer *server)
{
  g_autoptr(GError) error = NULL;

  if (!try_connect (client, server, &error))
    {
      g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN);
      g_assert_nonnull (natter_client_get_peer_fingerprint (client));
      g_clear_error (&error);
      natter_client_trust_fingerprint (client, "127.0.0.1", natter_test_server_get_port (server),
                                       natter_client_get_peer_fingerprint (client), &error);
      g_assert_no_error (error);
      try_connect (client, server, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_CONNECTED);
}

typedef enum { SIGN_UP, SIGN_IN, SIGN_IN_TOKEN } SignInKind;

static void
sign_in (NatterClient     *client,
         NatterTestServer *server,
         SignInKind        kind,
         const char       *arg)
{
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  gboolean ok = FALSE;

  test_client_connect (client, server);

  switch (kind)
    {
    case SIGN_UP:
      natter_client_register_async (client, arg, NATTER_TEST_PASSWORD, NULL, NULL,
                                    test_result_cb, &result);
      ok = natter_client_register_finish (client, test_wait_result (&result), &error);
      break;
    case SIGN_IN:
      natter_client_login_async (client, arg, NATTER_TEST_PASSWORD, NULL,
                                 test_result_cb, &result);
      ok = natter_client_login_finish (client, test_wait_result (&result), &error);
      break;
    case SIGN_IN_TOKEN:
      natter_client_login_token_async (client, arg, NULL, test_result_cb, &result);
      ok = natter_client_login_token_finish (client, test_wait_result (&result), &error);
      break;
    }
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_true (ok);

  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);
}

void
test_client_sign_up (NatterClient     *client,
                     NatterTestServer *server,
                     const char       *username)
{
  sign_in (client, server, SIGN_UP, username);
}

void
test_client_sign_in (NatterClient     *client,
                     NatterTestServer *server,
                     const char       *username)
{
  sign_in (client, server, SIGN_IN, username);
}

void
test_client_sign_in_token (NatterClient     *client,
                           NatterTestServer *server,
                           const char       *token)
{
  sign_in (client, server, SIGN_IN_TOKEN, token);
}

void
test_client_free (NatterClient *client)
{
  GObject *weak = G_OBJECT (client);

  g_object_add_weak_pointer (weak, (gpointer *) &weak);
  natter_client_disconnect (client);
  g_object_unref (client);
  /* Replies already returned to GTasks may hold a reference until their
   * callbacks run. */
  WAIT_FOR (weak == NULL);
}

char *
test_username (const char *prefix)
{
  static guint counter;

  return g_strdup_printf ("%s%u_%06x", prefix, ++counter, g_random_int_range (0, 0xffffff));
}

guint
test_count_messages (NatterConversation *conversation)
{
  return g_list_model_get_n_items (natter_conversation_get_messages (conversation));
}

void
test_assert_ordered (NatterConversation *conversation)
{
  GListModel *model = natter_conversation_get_messages (conversation);
  gint64 prev = 0;
  gboolean pending = FALSE;

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (model, i);
      gint64 id = natter_message_get_id (msg);

      if (id == 0)
        {
          pending = TRUE;
          continue;
        }
      g_assert_false (pending);
      g_assert_cmpint (id, >, prev);
      prev = id;
    }
}

guint
test_count_body (NatterConversation *conversation,
                 const char         *body)
{
  GListModel *model = natter_conversation_get_messages (conversation);
  guint count = 0;

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (model, i);

      if (g_strcmp0 (natter_message_get_body (msg), body) == 0)
        count++;
    }
  return count;
}

gboolean
test_all_sent (NatterConversation *conversation)
{
  GListModel *model = natter_conversation_get_messages (conversation);

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (model, i);

      if (natter_message_get_state (msg) != NATTER_MESSAGE_STATE_SENT)
        return FALSE;
    }
  return TRUE;
}
