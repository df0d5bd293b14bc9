/* server-test-util.h: small helpers shared by the natterd integration tests
 * (tests/server/test-*.c). Everything asserts on failure.
 */
#pragma once

#include "natter-test-client.h"

G_BEGIN_DECLS

/* Makes @a and @b accepted contacts (a asks, b accepts) and drops the
 * contact events both got, so that each client's queue is empty after. */
void    util_make_contacts    (NatterTestClient *a,
                               NatterTestClient *b);

/* Sends @body to @to ("@bob", "#room") with @client_msg_id, asserts ok and
 * returns the message id. */
gint64  util_send             (NatterTestClient *c,
                               const char       *to,
                               const char       *body,
                               const char       *client_msg_id);

/* Every message of @c's conversations, through sync pages: asserting
 * that none comes twice and that ids increase. Its ids by client_msg_id
 * (gint64 *). */
GHashTable *util_sync_all     (NatterTestClient *c);

/* Creates @room (asserting ok). */
void    util_room_create      (NatterTestClient *c,
                               const char       *room);
/* Joins @room (asserting ok). */
void    util_room_join        (NatterTestClient *c,
                               const char       *room);

/* A new account (or another connection of @username) whose connection
 * has @feature on (asserting the server turned it on). */
NatterTestClient *util_feature_user  (NatterTestServer *srv,
                                      const char       *username,
                                      const char       *feature);
NatterTestClient *util_feature_login (NatterTestServer *srv,
                                      const char       *username,
                                      const char       *feature);

/* The ids of the message objects in @messages (a JSON array), in order. */
GArray *util_message_ids      (JsonArray        *messages);

/* Asserts that the array of user objects @users holds exactly the
 * usernames given (NULL-terminated), in any order. */
void    util_assert_usernames (JsonArray        *users,
                               ...) G_GNUC_NULL_TERMINATED;
/* Asserts that the array of strings @names holds exactly those given. */
void    util_assert_strings   (JsonArray        *names,
                               ...) G_GNUC_NULL_TERMINATED;

/* Finds the user object for @username in an array of user objects, or
 * NULL. */
JsonObject *util_find_user    (JsonArray        *users,
                               const char       *username);

/* Waits (with the client's deadline) for a "presence" event about
 * @username, skipping presence events about others. */
JsonObject *util_wait_presence (NatterTestClient *c,
                                const char       *username);

/* Waits (with the client's deadline) for the "message" event of id @id,
 * skipping other events and messages; asserts that none of the messages
 * before it had a higher id (a node delivers in id order). */
JsonObject *util_wait_message (NatterTestClient *c,
                               gint64            id);

/* Asserts a user object has the contract's fields with the right types. */
void    util_assert_user_object (JsonObject     *user);
/* Asserts a message object has the contract's fields with the right types. */
void    util_assert_message_object (JsonObject  *message);

/* Connects one client more than the per-address limit allows (TLS as
 * @server is) and asserts that it gets server_busy, no welcome, and is
 * closed. */
void    util_assert_over_limit (NatterTestServer *server);

/* The process id of @server's natterd (node A's in cluster mode). */
int     util_natterd_pid      (NatterTestServer *server);
/* A line of /proc/@pid/status in KiB or as a count: "VmRSS", "Threads". */
gint64  util_proc_status_kb   (int               pid,
                               const char       *field);
/* The most memory @server's natterd has held so far (VmHWM), in KiB. */
gint64  util_natterd_peak_kb  (NatterTestServer *server);

/* Milliseconds since the epoch (for checking ts and last_seen). */
gint64  util_now_ms           (void);

/* Fails the test, showing @haystack, unless @needle is in it. */
void    util_assert_contains  (const char       *haystack,
                               const char       *needle);

/* A string of @n copies of @c. Newly allocated. */
char   *util_repeat           (char              c,
                               gsize             n);

/* The config text that turns the rate limits out of the way, for tests that
 * pipeline many frames. */
/* The last line of @text (natterd's stderr: its own one-line reason for
 * refusing to start comes last), with its newline. */
const char *util_last_line   (const char       *text);

#define UTIL_RELAXED_LIMITS \
  "[limits]\nframes_per_second=100000\nframe_burst=100000\n" \
  "registrations_per_hour_per_address=1000\nhash_queue_per_thread=1000\n"

G_END_DECLS
