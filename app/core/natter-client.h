/* natter-client.h: one account's connection to one natterd, and the live
 * models that show it.
 *
 * The client owns the connection (TLS, with trust-on-first-use for
 * self-signed certificates), signs in, syncs, keeps an on-disk outbox of
 * messages not yet acknowledged, and reconnects with backoff when the
 * connection drops after sign-in. Everything is async and runs on the
 * thread-default main context the client was created in; nothing blocks it.
 *
 * Server error codes come back as GErrors in the NATTER_ERROR domain
 * (protocol/natter-error.h) with the server's message; connection problems
 * in the NATTER_CLIENT_ERROR domain (natter-core-enums.h).
 */
#pragma once

#include <gio/gio.h>

#include "natter-core-enums.h"
#include "natter-conversation.h"
#include "natter-error.h"
#include "natter-file-transfer.h"
#include "natter-message.h"
#include "natter-room.h"
#include "natter-room-entry.h"
#include "natter-user.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CLIENT (natter_client_get_type ())
G_DECLARE_FINAL_TYPE (NatterClient, natter_client, NATTER, CLIENT, GObject)

/* @state_dir holds the outbox, the known certificate fingerprints and the
 * last synced message id; it is created if needed. The outbox is loaded
 * here, so messages left from a previous run show as SENDING at once. */
NatterClient      *natter_client_new                   (const char *state_dir);

const char        *natter_client_get_state_dir         (NatterClient *self);
NatterClientState  natter_client_get_state             (NatterClient *self);
/* The address being tried or in use, of the server's (one of the
 * natter_client_connect_server_async() list): the one that presented the
 * certificate an error speaks of (NULL / 0 before a connect). */
const char        *natter_client_get_host              (NatterClient *self);
guint16            natter_client_get_port              (NatterClient *self);
/* The signed-in user; NULL before sign-in. */
NatterUser        *natter_client_get_me                (NatterClient *self);
/* From the server's welcome. */
gboolean           natter_client_get_registration_open (NatterClient *self);
/* Unread messages over all conversations. */
guint              natter_client_get_unread_total      (NatterClient *self);
/* TRUE by default; FALSE only for servers started with --no-tls. */
gboolean           natter_client_get_use_tls           (NatterClient *self);
void               natter_client_set_use_tls           (NatterClient *self,
                                                        gboolean      use_tls);

/* ---- Connection ---------------------------------------------------------- */

/* Connects (TCP + TLS) and completes once the server's welcome is read
 * (state CONNECTED). Errors: NATTER_CLIENT_ERROR_UNREACHABLE,
 * _CERTIFICATE_UNKNOWN, _CERTIFICATE_CHANGED (see
 * natter_client_get_peer_fingerprint()), _PROTOCOL. Any previous connection
 * is closed first, and its sign-in forgotten (sign in again, e.g. with
 * natter_client_get_token() saved before). */
void               natter_client_connect_async         (NatterClient        *self,
                                                        const char          *host,
                                                        guint16              port,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_connect_finish        (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* The same for a server with several addresses: @addresses is the server
 * field's text, "host[:port]" entries separated by commas or spaces
 * (natter-server-address.h; a bad list fails with its
 * NATTER_SERVER_ADDRESS_ERROR). They are tried in the order given, each
 * once per attempt; one that cannot be reached passes the turn to the next
 * at once, and a certificate to decide about stops the attempt at its
 * address (natter_client_get_host(), _get_port()). After sign-in,
 * reconnecting goes round them the same way, one round per backoff step,
 * starting after the address whose connection died. Certificates are
 * trusted per host:port; one not known for an address but trusted for
 * another of the same server is trusted for it too. The first address
 * names the account (outbox, last id), whichever answers. */
void               natter_client_connect_server_async  (NatterClient        *self,
                                                        const char          *addresses,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);

/* The addresses of the last connect, written as the field shows them
 * ("a.example:7447, b.example:7447"); NULL before. */
char              *natter_client_dup_server            (NatterClient *self);

/* Closes the connection and stops reconnecting (state DISCONNECTED). The
 * token and the outbox are kept. */
void               natter_client_disconnect            (NatterClient *self);

/* The SHA-256 fingerprint ("AB:CD:…") of the last certificate the server
 * presented; NULL before one was seen. */
const char        *natter_client_get_peer_fingerprint  (NatterClient *self);

/* Remembers @fingerprint as the certificate of @host:@port (replacing any
 * other), written to the state dir at once. */
gboolean           natter_client_trust_fingerprint     (NatterClient  *self,
                                                        const char    *host,
                                                        guint16        port,
                                                        const char    *fingerprint,
                                                        GError       **error);

/* The fingerprint trusted for the server of the last connect (known hosts),
 * or NULL: the one to show next to natter_client_get_peer_fingerprint()
 * when they differ. */
const char        *natter_client_get_trusted_fingerprint (NatterClient *self);

/* Skips the wait before the next reconnect attempt (RECONNECTING only). */
void               natter_client_reconnect_now         (NatterClient *self);

/* Carries on a session that stopped in state UNTRUSTED (reconnecting met a
 * certificate other than the trusted one; an "error" signal said which):
 * reconnects now with the kept token, as after a lost connection, so no
 * password is needed. Call it once the user trusted the new certificate
 * (natter_client_trust_fingerprint()); without that it stops in UNTRUSTED
 * again. Does nothing in any other state. */
void               natter_client_resume                (NatterClient *self);

/* ---- Sign-in ------------------------------------------------------------- */

/* Each completes once the server accepted the sign-in; the client then
 * emits notify::me, syncs, flushes the outbox and goes READY (watch the
 * `state` property). @display_name may be NULL. */
void               natter_client_register_async        (NatterClient        *self,
                                                        const char          *username,
                                                        const char          *password,
                                                        const char          *display_name,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_register_finish       (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_login_async           (NatterClient        *self,
                                                        const char          *username,
                                                        const char          *password,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_login_finish          (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_login_token_async     (NatterClient        *self,
                                                        const char          *token,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_login_token_finish    (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
/* Revokes the token; the client stays connected but signed out
 * (state CONNECTED), and forgets its models. */
void               natter_client_logout_async          (NatterClient        *self,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_logout_finish         (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* The token of the current sign-in (keep it in the Secret Service); NULL
 * when signed out. */
const char        *natter_client_get_token             (NatterClient *self);

/* ---- Models (live; transfer none) ---------------------------------------- */

/* NatterConversation, most recent activity first. */
GListModel        *natter_client_get_conversations     (NatterClient *self);
/* NatterUser: accepted contacts. */
GListModel        *natter_client_get_contacts          (NatterClient *self);
/* NatterUser: contact requests to us / from us. */
GListModel        *natter_client_get_incoming_requests (NatterClient *self);
GListModel        *natter_client_get_outgoing_requests (NatterClient *self);
/* NatterRoom: the rooms we are a member of. */
GListModel        *natter_client_get_rooms             (NatterClient *self);

/* The conversation at @address ("@bob", "#general"); with @create, an
 * empty one is made (and listed) when there is none. NULL for an invalid
 * address or when it does not exist and !@create. Transfer none. */
NatterConversation *natter_client_lookup_conversation  (NatterClient *self,
                                                        const char   *address,
                                                        gboolean      create);

/* The interned user @username (made if unknown); transfer none. NULL for
 * an invalid username. */
NatterUser        *natter_client_lookup_user           (NatterClient *self,
                                                        const char   *username);

/* ---- Messages and presence ----------------------------------------------- */

/* Appends a SENDING message to the conversation at @address (creating the
 * conversation if needed), writes it to the on-disk outbox, and sends it
 * now or whenever the client is next READY (even after an app restart).
 * Returns the message (transfer none), or NULL when @address or @body is
 * invalid. Its sender is the signed-in user (before sign-in: the last one
 * who signed in with this state dir, or NULL if none ever did). One the
 * server refuses for good turns FAILED and stays on disk, shown FAILED
 * after a restart, until it is retried or discarded. */
NatterMessage     *natter_client_send_message          (NatterClient *self,
                                                        const char   *address,
                                                        const char   *body);

/* Sends a FAILED message (one the server refused for good) again, with the
 * same client_msg_id, so a retry can never store it twice. It goes back
 * to SENDING and into the outbox. FALSE when @message is not a failed
 * message of this client. */
gboolean           natter_client_retry_message         (NatterClient  *self,
                                                        NatterMessage *message);
/* Removes a FAILED message from its conversation and from the on-disk
 * outbox (it was never stored, so this is local). A conversation left with
 * no message that the server does not list either (see
 * natter_client_set_open_conversation()) is dropped from the models.
 * FALSE when @message is not a failed message of this client. */
gboolean           natter_client_discard_message       (NatterClient  *self,
                                                        NatterMessage *message);
/* Tells the client which conversation is on screen (NULL for none). A
 * conversation emptied by natter_client_discard_message() while open is
 * dropped from the models when another one opens, unless it got a message
 * or is a room we are in. */
void               natter_client_set_open_conversation (NatterClient       *self,
                                                        NatterConversation *conversation);

/* Sets our presence (ONLINE, AWAY or BUSY) and status text (NULL for none).
 * Kept and re-sent after a reconnect. */
void               natter_client_set_presence          (NatterClient   *self,
                                                        NatterPresence  presence,
                                                        const char     *status_text);

/* Tells the peers we are typing (or stopped). Repeated "active" calls are
 * sent at most every 3 s. */
void               natter_client_send_typing           (NatterClient *self,
                                                        const char   *address,
                                                        gboolean      active);

/* Whether our read markers go to the server (default TRUE). The one
 * marker of the protocol both tells the others and syncs our devices, so
 * with FALSE what is read is known to this client only. */
gboolean           natter_client_get_send_read_receipts (NatterClient *self);
void               natter_client_set_send_read_receipts (NatterClient *self,
                                                         gboolean      send);
/* Whether we tell others we are typing (default TRUE). */
gboolean           natter_client_get_send_typing       (NatterClient *self);
void               natter_client_set_send_typing       (NatterClient *self,
                                                        gboolean      send);

/* Marks @conversation read up to its newest stored message (telling the
 * server unless read receipts are off). */
void               natter_client_mark_read             (NatterClient       *self,
                                                        NatterConversation *conversation);

/* ---- Room management (feature room_management) ---------------------------- */

/* TRUE when the server turned the feature on for this sign-in: roles,
 * private rooms, invitations, kicks, bans, deleting a room. Without it
 * the invitations stay empty and natter_client_room_manage_async() is
 * refused by the server (unknown_type). */
gboolean           natter_client_get_room_management   (NatterClient *self);
/* The rooms we are invited to (NatterRoom, natter_room_get_invited_by()
 * says by whom). Accept with natter_client_room_join_async(), decline
 * with NATTER_ROOM_ACTION_DECLINE. Owned by the client. */
GListModel        *natter_client_get_invitations       (NatterClient *self);

typedef enum {
  NATTER_ROOM_ACTION_INVITE,           /* @username */
  NATTER_ROOM_ACTION_UNINVITE,         /* @username */
  NATTER_ROOM_ACTION_DECLINE,          /* our own invitation */
  NATTER_ROOM_ACTION_KICK,             /* @username */
  NATTER_ROOM_ACTION_BAN,              /* @username, @text the reason (may be NULL) */
  NATTER_ROOM_ACTION_UNBAN,            /* @username */
  NATTER_ROOM_ACTION_MAKE_ADMIN,       /* @username */
  NATTER_ROOM_ACTION_MAKE_MEMBER,      /* @username */
  NATTER_ROOM_ACTION_TRANSFER,         /* @username: the new owner */
  NATTER_ROOM_ACTION_DELETE,
  NATTER_ROOM_ACTION_SET_DISPLAY_NAME, /* @text; "" or NULL clears it */
  NATTER_ROOM_ACTION_SET_PRIVATE,
  NATTER_ROOM_ACTION_SET_PUBLIC,
} NatterRoomAction;

/* One request of room management on @room ("#plans"); the room and the
 * invitations follow once the server agrees. */
void               natter_client_room_manage_async     (NatterClient        *self,
                                                        const char          *room,
                                                        NatterRoomAction     action,
                                                        const char          *username,
                                                        const char          *text,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_room_manage_finish    (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* A room's bans and pending invitations (owner or admin): models of
 * NatterRoomEntry, by username, as the server has them now (not live:
 * ask again after a change). */
void               natter_client_room_bans_async       (NatterClient        *self,
                                                        const char          *room,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
GListModel        *natter_client_room_bans_finish      (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_room_invited_async    (NatterClient        *self,
                                                        const char          *room,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
GListModel        *natter_client_room_invited_finish   (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* ---- Accounts (feature accounts) ------------------------------------------- */

/* TRUE when the server turned the feature on for this sign-in. The
 * sign-in gives the server this device's name (the host name) for the
 * list of sessions. */
gboolean           natter_client_get_accounts          (NatterClient *self);
/* The account's password; unless @keep_sessions, every other device is
 * signed out (this one stays signed in). A wrong @old_password fails with
 * NATTER_ERROR_AUTH_FAILED, a weak new one NATTER_ERROR_WEAK_PASSWORD. */
void               natter_client_change_password_async  (NatterClient        *self,
                                                         const char          *old_password,
                                                         const char          *new_password,
                                                         gboolean             keep_sessions,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           natter_client_change_password_finish (NatterClient        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
/* Deletes the account (docs/protocol.md, "account_delete"); a wrong
 * @password fails with NATTER_ERROR_AUTH_FAILED. Once the server has
 * agreed, nothing of the account is kept here: its token (the caller
 * removes its stored copy), its models and its entries in the outbox go,
 * and the client is disconnected (state DISCONNECTED, no error). */
void               natter_client_delete_account_async   (NatterClient        *self,
                                                         const char          *password,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           natter_client_delete_account_finish  (NatterClient        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
/* The account's sessions (NatterDeviceSession), oldest first. */
void               natter_client_list_sessions_async    (NatterClient        *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
GListModel        *natter_client_list_sessions_finish   (NatterClient        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
/* Signs out the session of @session_id (natter_device_session_get_id);
 * not this client's own (sign out for that). */
void               natter_client_revoke_session_async   (NatterClient        *self,
                                                         const char          *session_id,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           natter_client_revoke_session_finish  (NatterClient        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
/* Our display name; our NatterUser follows once the server agrees. */
void               natter_client_set_display_name_async  (NatterClient        *self,
                                                          const char          *display_name,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
gboolean           natter_client_set_display_name_finish (NatterClient        *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);
/* Blocking (docs/protocol.md, "Blocking"): what @username sends us
 * directly no longer reaches us, and they are not told. Blocking someone
 * blocked already, or unblocking someone not blocked, succeeds. Our own
 * name fails with NATTER_ERROR_INVALID_ARGUMENT, an unknown user with
 * NATTER_ERROR_NOT_FOUND, one past the server's limit with
 * NATTER_ERROR_CONFLICT. */
void               natter_client_block_user_async       (NatterClient        *self,
                                                         const char          *username,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           natter_client_block_user_finish      (NatterClient        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
void               natter_client_unblock_user_async     (NatterClient        *self,
                                                         const char          *username,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           natter_client_unblock_user_finish    (NatterClient        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
/* The users we block (NatterUser), the oldest block first. */
void               natter_client_list_blocked_async     (NatterClient        *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
GListModel        *natter_client_list_blocked_finish    (NatterClient        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

/* Our picture: @picture's bytes (a PNG, JPEG or WebP of at most 32768
 * bytes: the app makes it small), or NULL to remove it. Our NatterUser's
 * "avatar" follows once the server agrees. */
void               natter_client_set_avatar_async   (NatterClient        *self,
                                                     GBytes              *picture,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean           natter_client_set_avatar_finish  (NatterClient        *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);
/* @user's picture (natter_user_get_avatar), its bytes checked against
 * its hash and not decoded; read once and kept. NATTER_ERROR_NOT_FOUND
 * when the user has none. */
void               natter_client_load_avatar_async  (NatterClient        *self,
                                                     NatterUser          *user,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
GBytes            *natter_client_load_avatar_finish (NatterClient        *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

/* ---- Message actions (feature message_actions) ---------------------------- */

/* TRUE when the server turned the feature on for this sign-in (replies,
 * edits, deletes, reactions, mentions, notification levels); without it
 * the calls below do nothing and return FALSE/NULL. */
gboolean           natter_client_get_message_actions   (NatterClient *self);

/* Sends @body as an answer to @original (a stored, undeleted message),
 * in @original's conversation, as natter_client_send_message() does. */
NatterMessage     *natter_client_reply_to_message      (NatterClient  *self,
                                                        NatterMessage *original,
                                                        const char    *body);
/* Whether we may edit (our own) / delete (our own; in a room we own, any)
 * / react to @message: stored, not deleted, the feature on. */
gboolean           natter_client_can_edit              (NatterClient  *self,
                                                        NatterMessage *message);
gboolean           natter_client_can_delete            (NatterClient  *self,
                                                        NatterMessage *message);
gboolean           natter_client_can_react             (NatterClient  *self,
                                                        NatterMessage *message);
/* Edits, deletes or reacts to @message. The change shows at once and waits
 * in the outbox (across restarts) until the server confirms it; one the
 * server refuses for good is undone and said with the "error" signal.
 * FALSE when not allowed (see the can_ functions) or @body is invalid. */
gboolean           natter_client_edit_message          (NatterClient  *self,
                                                        NatterMessage *message,
                                                        const char    *body);
gboolean           natter_client_delete_message        (NatterClient  *self,
                                                        NatterMessage *message);
gboolean           natter_client_react                 (NatterClient  *self,
                                                        NatterMessage *message,
                                                        const char    *emoji,
                                                        gboolean       on);
/* Sets how @conversation notifies us, on the server (so on our other
 * devices too); the conversation's notify-level changes once the server
 * said yes. */
void               natter_client_set_notify_level_async  (NatterClient        *self,
                                                          NatterConversation  *conversation,
                                                          NatterNotifyLevel    level,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
gboolean           natter_client_set_notify_level_finish (NatterClient        *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);
/* Whether @message (from someone else) should notify us, by its
 * conversation's level: all; mentions (it mentions us or answers one of
 * ours); none. */
gboolean           natter_client_should_notify         (NatterClient       *self,
                                                        NatterConversation *conversation,
                                                        NatterMessage      *message);

/* ---- Contacts ------------------------------------------------------------ */

void               natter_client_contact_request_async (NatterClient        *self,
                                                        const char          *username,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_contact_request_finish (NatterClient       *self,
                                                         GAsyncResult       *result,
                                                         GError            **error);
void               natter_client_contact_accept_async  (NatterClient        *self,
                                                        const char          *username,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_contact_accept_finish (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_contact_decline_async (NatterClient        *self,
                                                        const char          *username,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_contact_decline_finish (NatterClient       *self,
                                                         GAsyncResult       *result,
                                                         GError            **error);
void               natter_client_contact_remove_async  (NatterClient        *self,
                                                        const char          *username,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_contact_remove_finish (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* Prefix search on usernames and display names. */
void               natter_client_user_search_async     (NatterClient        *self,
                                                        const char          *query,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
/* A new GListModel of (interned) NatterUser, or NULL with @error. */
GListModel        *natter_client_user_search_finish    (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* ---- Rooms --------------------------------------------------------------- */

/* @topic may be NULL. */
void               natter_client_room_create_async     (NatterClient        *self,
                                                        const char          *name,
                                                        const char          *topic,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_room_create_finish    (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_room_join_async       (NatterClient        *self,
                                                        const char          *name,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_room_join_finish      (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_room_leave_async      (NatterClient        *self,
                                                        const char          *name,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_room_leave_finish     (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_room_set_topic_async  (NatterClient        *self,
                                                        const char          *name,
                                                        const char          *topic,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean           natter_client_room_set_topic_finish (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
/* Rooms whose names match @query (may be "" for all). */
void               natter_client_room_directory_async  (NatterClient        *self,
                                                        const char          *query,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
/* A new GListModel of NatterRoom, or NULL with @error. */
GListModel        *natter_client_room_directory_finish (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void               natter_client_room_members_async    (NatterClient        *self,
                                                        const char          *name,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
/* A new GListModel of (interned) NatterUser, or NULL with @error. */
GListModel        *natter_client_room_members_finish   (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* ---- Search -------------------------------------------------------------- */

/* Full-text search, newest first; @address NULL for every conversation. */
void               natter_client_search_async          (NatterClient        *self,
                                                        const char          *query,
                                                        const char          *address,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
/* A new GListModel of NatterMessage, or NULL with @error. */
GListModel        *natter_client_search_finish         (NatterClient        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* ---- Files (feature files, docs/protocol.md "Files") ---------------------- */

/* TRUE when the server turned the feature on for this sign-in. */
gboolean            natter_client_get_files_enabled   (NatterClient        *self);

/* Sends @n_files local files (1 to 10) with @body (NULL or "" for none)
 * to @address, as natter_client_send_message() does: the message is in
 * the outbox at once (its files by path, so it survives a restart) and
 * shows as sending with its files (natter_message_get_files(), id 0);
 * when the client is READY the files are uploaded (hashed off the main
 * loop, then chunk by chunk, resumed after a reconnect) and then the
 * message is sent. A limit of the server (file_too_large,
 * quota_exceeded, too_many_uploads) fails the message, with send-failed,
 * before its bytes are sent. Returns the message (transfer none), or
 * NULL with @error when a file cannot be sent (not a local regular file,
 * empty) or the address or text is invalid. */
NatterMessage      *natter_client_send_files          (NatterClient        *self,
                                                       const char          *address,
                                                       GFile              **files,
                                                       guint                n_files,
                                                       const char          *body,
                                                       GError             **error);
/* One file to send, and what the app measured of it when it is an image:
 * its pixels, and a smaller copy made by the app (PNG or JPEG) that the
 * receivers show inline (docs/protocol.md, "send, with files"). */
typedef struct {
  GFile      *file;
  guint       width;           /* 0 with height 0: not given */
  guint       height;
  GBytes     *preview;         /* NULL for none */
  const char *preview_mime;    /* "image/png" when NULL */
  guint       preview_width;
  guint       preview_height;
} NatterFileAttachment;

/* natter_client_send_files() with each file's image size and preview:
 * a preview's bytes are kept in the client's state dir with the outbox
 * entry (so they outlive a restart), uploaded as a file of their own
 * before the send, which names them as the file's `preview`, and removed
 * once the message is sent or discarded. */
NatterMessage      *natter_client_send_attachments    (NatterClient               *self,
                                                       const char                 *address,
                                                       const NatterFileAttachment *attachments,
                                                       guint                       n_files,
                                                       const char                 *body,
                                                       GError                    **error);
/* The upload of @message, a message with files being sent (or failed,
 * waiting for Retry), or NULL (transfer none: held by the client until
 * the message is sent or discarded). Its cancel fails the message; Retry
 * (natter_client_retry_message()) resumes the upload with a new transfer. */
NatterFileTransfer *natter_client_get_upload          (NatterClient        *self,
                                                       NatterMessage       *message);
/* Downloads @file (of a stored message) to @dest: chunk by chunk into
 * "@dest.part", renamed to @dest once its SHA-256 checks. A lost
 * connection pauses it: it goes on from the .part by itself when the
 * client is READY again. One that fails or is cancelled keeps the .part,
 * and the next call for the same @dest resumes from it. Returns the
 * transfer (transfer full) for its progress and Cancel. */
NatterFileTransfer *natter_client_download_file_async (NatterClient        *self,
                                                       NatterMessageFile   *file,
                                                       GFile               *dest,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean            natter_client_download_file_finish (NatterClient       *self,
                                                        GAsyncResult       *result,
                                                        GError            **error);

/* Signals:
 *   message-received (NatterConversation *conversation, NatterMessage *message)
 *       a message from someone else arrived live (not from sync or history).
 *   presence-changed (NatterUser *user, NatterPresence old_presence)
 *   contact-request  (NatterUser *from)
 *   send-failed      (NatterMessage *message, GError *error): the server
 *       refused a message for good (it stays, failed, until retried or
 *       deleted).
 *   error            (GError *error): an error no caller waits for.
 */

G_END_DECLS
