/* natter-test-client.h: a synchronous test client for natterd.
 *
 * Real TCP (+ TLS, accepting natterd's self-signed certificate) on loopback.
 * Every read has a deadline (natter_test_deadline_ms(), 10 s by default,
 * changeable per client): a frame that never comes fails the test instead of
 * hanging it. I/O is non-blocking underneath and waits on a private main
 * context, so nothing sleeps.
 *
 * Frames are parsed with the project's strict parser (natter_json_parse_frame)
 * so a frame the server sends that breaks the contract's JSON rules fails the
 * test. Frames read while looking for another one (an event that arrives
 * before the awaited reply) are kept in a queue, in order, and handed out by
 * the next read first.
 *
 * Returned JsonObjects are new references (use g_autoptr (JsonObject)).
 * Functions named *_try_* return NULL/FALSE instead of asserting.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "natter-test-server.h"

G_BEGIN_DECLS

typedef struct _NatterTestClient NatterTestClient;

/* The password the helpers below register and log in with. */
#define NATTER_TEST_PASSWORD "correct horse battery"

/* Connects to @server (TLS as the server is) and reads the welcome
 * (asserting it is one). */
NatterTestClient *natter_test_client_new          (NatterTestServer *server);
/* Connects to 127.0.0.1:@port; reads the welcome only if @read_welcome.
 * Returns NULL with @error when the connection or TLS handshake fails. */
NatterTestClient *natter_test_client_try_new_full (guint16           port,
                                                   gboolean          tls,
                                                   gboolean          read_welcome,
                                                   GError          **error);
/* Same, connecting from the local address @local_ip (e.g. "127.0.0.2": every
 * loopback address counts as its own address for natterd's limits); NULL
 * lets the system choose. */
NatterTestClient *natter_test_client_try_new_from (guint16           port,
                                                   gboolean          tls,
                                                   const char       *local_ip,
                                                   gboolean          read_welcome,
                                                   GError          **error);
/* natter_test_client_new() from @local_ip. */
NatterTestClient *natter_test_client_new_from     (NatterTestServer *server,
                                                   const char       *local_ip);
void              natter_test_client_free         (NatterTestClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterTestClient, natter_test_client_free)

/* The welcome frame (NULL when not read). Borrowed. */
JsonObject       *natter_test_client_get_welcome  (NatterTestClient *c);
/* Who this client is logged in as (set by the register/login helpers,
 * cleared by natter_test_client_logout), and the token it got; NULL when
 * not logged in. For messages and assertions. */
const char       *natter_test_client_get_username (NatterTestClient *c);
const char       *natter_test_client_get_token    (NatterTestClient *c);
/* A short name for diagnostics: "alice#3" (username and connection
 * number) or "conn#3". */
const char       *natter_test_client_who          (NatterTestClient *c);

/* The socket's descriptor, for a test that acts below TLS (a reader that
 * takes a byte at a time); reading from it leaves the client unusable. */
int               natter_test_client_get_fd       (NatterTestClient *c);
/* The read deadline for this client, in ms. */
void              natter_test_client_set_timeout  (NatterTestClient *c,
                                                   guint             timeout_ms);

/* --- sending --- */

/* Writes @len bytes as they are (no newline added). Asserts on failure. */
void              natter_test_client_send_raw     (NatterTestClient *c,
                                                   const void       *data,
                                                   gsize             len);
/* Same, returning FALSE with @error (e.g. the server closed). */
gboolean          natter_test_client_try_send_raw (NatterTestClient *c,
                                                   const void       *data,
                                                   gsize             len,
                                                   GError          **error);
/* Sends @json followed by '\n'. */
void              natter_test_client_send         (NatterTestClient *c,
                                                   const char       *json);
void              natter_test_client_sendf        (NatterTestClient *c,
                                                   const char       *format,
                                                   ...) G_GNUC_PRINTF (2, 3);

/* --- receiving --- */

/* The next frame (queued ones first). Asserts within the deadline. */
JsonObject       *natter_test_client_next         (NatterTestClient *c);
/* The next frame, or NULL on timeout / close / error (@error says which:
 * G_IO_ERROR_TIMED_OUT, G_IO_ERROR_CLOSED for end of stream, or the socket
 * or TLS error). */
JsonObject       *natter_test_client_try_next     (NatterTestClient *c,
                                                   guint             timeout_ms,
                                                   GError          **error);
/* The first frame whose "type" is @type (and, for events, that carries no
 * "re"); others are kept queued. Asserts within the deadline. */
JsonObject       *natter_test_client_wait_type    (NatterTestClient *c,
                                                   const char       *type);
/* Same, or NULL after @timeout_ms. */
JsonObject       *natter_test_client_try_wait_type(NatterTestClient *c,
                                                   const char       *type,
                                                   guint             timeout_ms);
/* The first frame whose "re" equals the integer @re. */
JsonObject       *natter_test_client_wait_re      (NatterTestClient *c,
                                                   gint64            re);
/* Removes and returns the first queued frame of @type (NULL if none) without
 * reading from the socket. */
JsonObject       *natter_test_client_take_queued  (NatterTestClient *c,
                                                   const char       *type);
/* Number of frames read but not handed out yet. */
guint             natter_test_client_queued       (NatterTestClient *c);
/* Drops every queued frame. */
void              natter_test_client_clear_queue  (NatterTestClient *c);

/* Sends a ping with a fresh id and reads until its pong, queueing what came
 * before it. The server handles a connection's frames in order, so after
 * this, everything the server had sent to this connection before it handled
 * the ping is queued. */
void              natter_test_client_sync_ping    (NatterTestClient *c);
/* natter_test_client_sync_ping(), then asserts that nothing at all (queued or
 * new) arrived. */
void              natter_test_client_expect_no_frame (NatterTestClient *c);
/* natter_test_client_sync_ping(), then asserts that no frame of @type is
 * queued (other frames stay queued). */
void              natter_test_client_expect_no_frame_of_type (NatterTestClient *c,
                                                              const char       *type);

/* Reads until the server closes the connection (end of stream or a reset),
 * queueing the frames that came before. Returns FALSE if it stays open
 * for @timeout_ms (0: the client's deadline). */
gboolean          natter_test_client_wait_closed  (NatterTestClient *c,
                                                   guint             timeout_ms);
/* Asserting form of natter_test_client_wait_closed(). */
void              natter_test_client_assert_closed(NatterTestClient *c);

/* --- requests --- */

/* Sends the object @json (text starting with '{', without an "id") with a
 * fresh integer "id" inserted, and returns the reply with that "re" (ok or
 * error), queueing everything that came before it. */
JsonObject       *natter_test_client_request      (NatterTestClient *c,
                                                   const char       *json);
JsonObject       *natter_test_client_requestf     (NatterTestClient *c,
                                                   const char       *format,
                                                   ...) G_GNUC_PRINTF (2, 3);
/* Asserts the reply is "ok" and returns it. */
JsonObject       *natter_test_client_request_ok   (NatterTestClient *c,
                                                   const char       *format,
                                                   ...) G_GNUC_PRINTF (2, 3);
/* Asserts the reply is an error with @code and returns it. */
JsonObject       *natter_test_client_request_error(NatterTestClient *c,
                                                   const char       *code,
                                                   const char       *format,
                                                   ...) G_GNUC_PRINTF (3, 4);

/* --- accounts --- */

/* Registers @username with @password (NULL: NATTER_TEST_PASSWORD), asserts
 * ok, remembers and returns the token (owned by the client). */
const char       *natter_test_client_register     (NatterTestClient *c,
                                                   const char       *username,
                                                   const char       *password);
const char       *natter_test_client_login        (NatterTestClient *c,
                                                   const char       *username,
                                                   const char       *password);
const char       *natter_test_client_login_token  (NatterTestClient *c,
                                                   const char       *token);
void              natter_test_client_logout       (NatterTestClient *c);
/* Connect + register (NATTER_TEST_PASSWORD). */
NatterTestClient *natter_test_client_new_user     (NatterTestServer *server,
                                                   const char       *username);
/* Connect + log in with NATTER_TEST_PASSWORD (a second device). */
NatterTestClient *natter_test_client_new_login    (NatterTestServer *server,
                                                   const char       *username);

/* --- helpers for assertions --- */

/* A node by a dotted path: "user.username", "messages.0.id" (array index as
 * a segment). NULL if any step is missing. Borrowed. */
JsonNode         *natter_test_path                (JsonObject       *obj,
                                                   const char       *path);
/* The string at @path; asserts it is a string (NULL allowed if the node is
 * JSON null: returns NULL). */
const char       *natter_test_get_str             (JsonObject       *obj,
                                                   const char       *path);
gint64            natter_test_get_int             (JsonObject       *obj,
                                                   const char       *path);
gboolean          natter_test_get_bool            (JsonObject       *obj,
                                                   const char       *path);
JsonArray        *natter_test_get_array           (JsonObject       *obj,
                                                   const char       *path);
JsonObject       *natter_test_get_object          (JsonObject       *obj,
                                                   const char       *path);
gboolean          natter_test_is_null             (JsonObject       *obj,
                                                   const char       *path);
/* The compact text of @obj (for messages). Newly allocated. */
char             *natter_test_to_string           (JsonObject       *obj);
/* @s as a JSON string literal, quotes included. Newly allocated. */
char             *natter_test_json_quote          (const char       *s);

#define natter_assert_type(obj, type_) \
  natter_test_assert_type_impl (__FILE__, __LINE__, (obj), (type_))
#define natter_assert_ok(obj) \
  natter_test_assert_type_impl (__FILE__, __LINE__, (obj), "ok")
#define natter_assert_error(obj, code_) \
  natter_test_assert_error_impl (__FILE__, __LINE__, (obj), (code_))
#define natter_assert_str(obj, path, expected) \
  natter_test_assert_str_impl (__FILE__, __LINE__, (obj), (path), (expected))
#define natter_assert_int(obj, path, expected) \
  natter_test_assert_int_impl (__FILE__, __LINE__, (obj), (path), (expected))

void natter_test_assert_type_impl  (const char *file, int line, JsonObject *obj, const char *type);
void natter_test_assert_error_impl (const char *file, int line, JsonObject *obj, const char *code);
void natter_test_assert_str_impl   (const char *file, int line, JsonObject *obj,
                                    const char *path, const char *expected);
void natter_test_assert_int_impl   (const char *file, int line, JsonObject *obj,
                                    const char *path, gint64 expected);

/* --- UDP status probe --- */

/* Sends @len bytes to 127.0.0.1:@port over UDP and returns the first
 * datagram that comes back within @timeout_ms, or NULL. */
GBytes           *natter_test_udp_exchange        (guint16           port,
                                                   const void       *data,
                                                   gsize             len,
                                                   guint             timeout_ms);
/* The contract's probe padded to @total_len bytes. Newly allocated. */
char             *natter_test_status_probe_text   (gsize             total_len);

G_END_DECLS
