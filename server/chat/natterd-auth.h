/* natterd-auth.h: accounts, passwords (argon2id in a thread pool), tokens,
 * and the login limits. The handlers register, login and logout
 * (natterd-handlers-session.c) read the arguments and call these.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

NatterdAuth *natterd_auth_new  (NatterdDirectory *directory,
                                GError          **error);
/* Waits for the hashes under way; their requests are answered "internal". */
void         natterd_auth_free (NatterdAuth *self);
/* Logins, registrations and password checks not hashed because their
 * connection had closed while they waited for a hash thread (natterctl
 * status: logins_abandoned). */
guint64      natterd_auth_count_abandoned (NatterdAuth *self);

/* Each finishes @request (later, after hashing): logged in with a new
 * token, or an error. @username is normalised and taken; @display_name
 * NULL is the username. */
/* @invite_code, when not NULL, is used up in the account's own
 * transaction: an unknown, used-up or expired code answers
 * registration_closed (NATTERD_INVITE_REFUSED) and makes nothing. */
void         natterd_auth_register       (NatterdAuth    *self,
                                          NatterdRequest *request,
                                          char           *username,
                                          const char     *password,
                                          const char     *display_name,
                                          const char     *invite_code);
#define NATTERD_INVITE_REFUSED "The invitation code is unknown, used up or expired"
/* argon2id of @password in the hashing pool, for natterctl (a new
 * account, a reset): @hashed is called on the main loop with the encoded
 * hash, or NULL when hashing failed or natterd is stopping. */
typedef void (*NatterdAuthHashedFunc) (const char *password_hash,
                                       gpointer    user_data);
void         natterd_auth_hash_password  (NatterdAuth           *self,
                                          const char            *password,
                                          NatterdAuthHashedFunc  hashed,
                                          gpointer               user_data);
/* A logged-in @user's @password checked in the hashing pool (feature
 * accounts: a password change, an account's deletion), under the login's
 * limits: rate_limited before any hashing, and a wrong one is auth_failed
 * and counts as a failed login. With @new_password (checked by the
 * caller) its hash is made too. On success @verified is called on the
 * main loop with the new hash (NULL without @new_password) and owns
 * @user_data; otherwise the request is answered and @destroy frees it. */
typedef void (*NatterdAuthVerifiedFunc) (NatterdRequest *request,
                                         const char     *new_hash,
                                         gpointer        user_data);
void         natterd_auth_verify_password (NatterdAuth             *self,
                                           NatterdRequest          *request,
                                           NatterdUser             *user,
                                           const char              *password,
                                           const char              *new_password,
                                           NatterdAuthVerifiedFunc  verified,
                                           gpointer                 user_data,
                                           GDestroyNotify           destroy);
/* When a login last used the token of SHA-256 @hash on this node (ms),
 * or 0: not since natterd started (or the cache forgot it). */
gint64       natterd_auth_token_last_used (NatterdAuth           *self,
                                           const guint8          *hash);
/* A disabled account keeps its hash behind this mark (natterctl user
 * disable; enable takes it away): no password matches it, and a login
 * with the right one answers auth_failed, "This account is disabled". */
#define NATTERD_AUTH_LOCK '!'
gboolean     natterd_auth_hash_is_locked (const char            *password_hash);
/* @password_hash behind the mark (a new string), and without it (the
 * hash itself when it has none). */
char        *natterd_auth_hash_lock      (const char            *password_hash);
const char  *natterd_auth_hash_unlocked  (const char            *password_hash);
/* A deleted account's hash (account_delete, natterctl user delete): a
 * locked hash that is no hash, so that no password matches it and enable
 * cannot bring it back; a login is answered as for an unknown name. */
#define NATTERD_AUTH_HASH_DELETED "!deleted"
gboolean     natterd_auth_hash_is_deleted (const char           *password_hash);

/* An invitation code's shape: 1 to 64 bytes of letters, digits, '-' and
 * '_' (natterctl makes 16 letters and digits). */
gboolean     natterd_invite_code_is_valid (const char    *code);
void         natterd_auth_login_password (NatterdAuth    *self,
                                          NatterdRequest *request,
                                          const char     *raw_username,
                                          const char     *password);
void         natterd_auth_login_token    (NatterdAuth    *self,
                                          NatterdRequest *request,
                                          const char     *token);
/* Called on the main loop once the token's row is deleted (@error NULL)
 * or could not be. */
typedef void (*NatterdAuthRevokedFunc) (NatterdRequest *request,
                                        const guint8   *hash,
                                        const GError   *error);
/* Out of the token cache at once, then out of the store (by the writer
 * thread): a logout. */
void         natterd_auth_revoke_token   (NatterdAuth            *self,
                                          NatterdRequest         *request,
                                          const guint8           *hash,
                                          NatterdAuthRevokedFunc  revoked);
/* A token another node of the cluster revoked (its row is gone), told
 * over the bus or read by the refresh of the directory
 * (natterd-directory-diff.h): out of the cache, and every connection here
 * that logged in with it is closed, as on the node of the logout. Again
 * for one already forgotten does nothing. */
void         natterd_auth_forget_token   (NatterdAuth            *self,
                                          NatterdUser            *user,
                                          const guint8           *hash);

/* Revoking several of a user's tokens in a write job (natterctl, the
 * feature accounts): natterd_auth_revoke_run on the writer thread deletes
 * ALL of them, ALL_BUT those whose hash starts with @prefix, or only
 * those (ONE), and lists the hashes deleted in @revoked (an array of
 * NATTERD_TOKEN_HASH_LEN-byte elements); natterd_auth_revoked_apply then,
 * on the main loop, forgets them here and on the other nodes and closes
 * every connection that logged in with one. */
typedef enum {
  NATTERD_AUTH_REVOKE_ALL,
  NATTERD_AUTH_REVOKE_ALL_BUT,
  NATTERD_AUTH_REVOKE_ONE,
} NatterdAuthRevoke;
gboolean     natterd_auth_revoke_run     (NatterdStore           *store,
                                          gint64                  user_id,
                                          NatterdAuthRevoke       which,
                                          const guint8           *prefix,
                                          gsize                   prefix_len,
                                          GArray                 *revoked,
                                          GError                **error);
const guint8 *natterd_auth_revoked_hash  (GArray                 *revoked,
                                          guint                   i);
void         natterd_auth_revoked_apply  (NatterdDirectory       *dir,
                                          NatterdUser            *user,
                                          GArray                 *revoked);

/* A session's id (natterctl user sessions, the feature accounts'
 * sessions): the first bytes of its token's hash (which is the SHA-256 of
 * the token: it says nothing of the token), as lower-case hexadecimal
 * digits. from_text takes either case; FALSE when @text is not
 * NATTERD_SESSION_ID_LEN * 2 hexadecimal digits. */
#define NATTERD_SESSION_ID_LEN 8
void         natterd_auth_session_to_text   (const guint8 *hash,
                                             char          out[NATTERD_SESSION_ID_LEN * 2 + 1]);
gboolean     natterd_auth_session_from_text (const char   *text,
                                             guint8        out[NATTERD_SESSION_ID_LEN]);
/* A login or logout with the token of @hash now (natterd_auth_token_last_used). */
void         natterd_auth_token_touch       (NatterdAuth  *self,
                                             const guint8 *hash);

/* Logins, registrations and password checks waiting for a hash thread
 * (the metrics). */
guint natterd_auth_queue_length (NatterdAuth *self);

G_END_DECLS
