/* client-test-util.h: driving the client core against a real natterd.
 *
 * Everything waits by iterating the default main context until a condition
 * holds or a deadline passes (natter_test_deadline_ms()); nothing sleeps.
 */
#pragma once

#include "natter-core.h"
#include "natter-test-server.h"

G_BEGIN_DECLS

/* Every test signs up several users from 127.0.0.1: lift the per-address
 * registration and failed-login limits (tests/server tests those). */
#define TEST_SERVER_CONFIG \
  "[limits]\n" \
  "registrations_per_hour_per_address=100000\n" \
  "failed_logins_per_minute_per_address=100000\n" \
  "hash_queue_per_thread=1000\n"

typedef gboolean (*TestCondition) (gpointer data);

/* Call first in main(): loads GIO's TLS module before any thread exists.
 * Under ASan, LeakSanitizer's exit-time scan sometimes crashes ("Tracer
 * caught signal 11") and fails a test that passed; loading the module
 * before threads start made that rarer here (about 1 in 3 suite runs
 * instead of 1-2 per run), not gone. */
void          test_init                 (void);

/* Iterates the default main context until @condition (@data) is TRUE or
 * @timeout_ms passes; returns the condition's last value. */
gboolean      wait_until                (TestCondition condition,
                                         gpointer      data,
                                         guint         timeout_ms);

/* Asserts that @expr becomes TRUE within the harness deadline, iterating
 * the default main context meanwhile. @expr is re-evaluated after every
 * iteration. */
#define WAIT_FOR(expr) \
  G_STMT_START { \
    gint64 wait_deadline_ = g_get_monotonic_time () + \
                            (gint64) natter_test_deadline_ms () * 1000; \
    guint wait_tick_ = g_timeout_add (50, test_tick_cb, NULL); \
    while (!(expr) && g_get_monotonic_time () < wait_deadline_) \
      g_main_context_iteration (NULL, TRUE); \
    g_source_remove (wait_tick_); \
    if (!(expr)) \
      g_error ("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #expr); \
  } G_STMT_END

/* Keeps the main loop waking up so WAIT_FOR re-checks its deadline. */
gboolean      test_tick_cb              (gpointer data);

/* Runs a _async call and waits for its result: pass
 * test_result_cb and &slot as the callback and user data, then
 * test_wait_result (&slot) returns the GAsyncResult (owned by the slot;
 * free with g_clear_object). */
void          test_result_cb            (GObject      *object,
                                         GAsyncResult *result,
                                         gpointer      user_data);
GAsyncResult *test_wait_result          (GAsyncResult **slot);

/* A new temporary state dir (remove with test_remove_dir). */
char         *test_make_state_dir       (void);
void          test_remove_dir           (const char *path);

/* A client on @state_dir, using TLS when the server does. */
NatterClient *test_client_new           (NatterTestServer *server,
                                         const char       *state_dir);

/* Connects; a certificate the client does not know yet is trusted (TOFU)
 * and the connect repeated. Asserts success; state CONNECTED. */
void          test_client_connect       (NatterClient     *client,
                                         NatterTestServer *server);
/* Connects, registers @username (password NATTER_TEST_PASSWORD) and waits
 * for READY. */
void          test_client_sign_up       (NatterClient     *client,
                                         NatterTestServer *server,
                                         const char       *username);
/* Connects, signs in with the password and waits for READY. */
void          test_client_sign_in       (NatterClient     *client,
                                         NatterTestServer *server,
                                         const char       *username);
/* Connects, signs in with @token and waits for READY. */
void          test_client_sign_in_token (NatterClient     *client,
                                         NatterTestServer *server,
                                         const char       *token);

/* Drops the client and asserts that it is finalized (iterating the main
 * context a little, for replies already on their way). */
void          test_client_free          (NatterClient     *client);

/* A unique username for this test run ("u" + counter + random). */
char         *test_username             (const char *prefix);

/* The messages of @conversation's model, checked to be in strictly
 * increasing id order (pending ones, id 0, at the end). */
guint         test_count_messages       (NatterConversation *conversation);
void          test_assert_ordered       (NatterConversation *conversation);
/* TRUE when every message of @conversation is SENT (acknowledged). */
gboolean      test_all_sent             (NatterConversation *conversation);
/* How many messages of @conversation carry @body. */
guint         test_count_body           (NatterConversation *conversation,
                                         const char         *body);

G_END_DECLS
