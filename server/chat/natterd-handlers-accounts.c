/* natterd-handlers-accounts.c: the requests of the feature accounts
 * (docs/protocol.md, "Accounts"): a password change.
 *
 * A request that needs the user's password holds the directory's write
 * turn (natterd-model-write.h) from its arguments' checks until its write
 * is applied, the password's check in the hashing pool included: a write
 * of the same user's rows (natterctl's reset, a refresh of the directory
 * on a shared store) cannot come between the check and the write. The
 * turn is given back by the data's free function when the check fails.
 */
#define G_LOG_DOMAIN "natterd-accounts"

#include "config.h"

#include <string.h>

#include "natterd-auth.h"
#include "natterd-handlers-private.h"

/* --- password_change --- */

typedef struct {
  NatterdModelWrite write;
  NatterdDirectory *directory;   /* its turn is held until the write starts */
  NatterdUser      *user;        /* users are never freed */
  gint64            user_id;
  char             *password_hash;
  gboolean          keep_sessions;
  guint8            token_hash[NATTERD_TOKEN_HASH_LEN]; /* the asking connection's: kept */
  GArray           *revoked;     /* token hashes deleted */
} PasswordChange;

static void
password_change_clear (gpointer data)
{
  PasswordChange *c = data;

  g_free (c->password_hash);
  g_clear_pointer (&c->revoked, g_array_unref);
}

/* The check failed (and was answered): the turn goes back. */
static void
password_change_abandon (gpointer data)
{
  PasswordChange *c = data;

  natterd_model_write_release (c->directory);
  password_change_clear (c);
  g_free (c);
}

static gboolean
password_change_run (NatterdWriteJob *job,
                     NatterdStore    *store,
                     GError         **error)
{
  PasswordChange *c = (PasswordChange *) job;

  if (!natterd_store_user_set_password_hash (store, c->user_id, c->password_hash, error))
    return FALSE;
  if (c->keep_sessions)
    return TRUE;
  return natterd_auth_revoke_run (store, c->user_id, NATTERD_AUTH_REVOKE_ALL_BUT,
                                  c->token_hash, sizeof c->token_hash, c->revoked, error);
}

static void
password_change_apply (NatterdModelWrite *write,
                       const GError      *error)
{
  PasswordChange *c = (PasswordChange *) write;
  NatterdRequest *request = write->write.request;
  NatterJsonWriter *w;

  if (error != NULL)
    {
      natterd_request_job_error (request, error);
      return;
    }
  g_free (c->user->password_hash);
  c->user->password_hash = g_strdup (c->password_hash);
  /* The other devices are signed out: their connections close as a
   * revoked token's do (natterctl user revoke). */
  natterd_auth_revoked_apply (c->directory, c->user, c->revoked);
  g_message ("%s changed their password", c->user->username);
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "sessions_revoked");
  natter_json_writer_int (w, c->revoked->len);
  natterd_request_finish_ok (request);
}

static void
password_verified (NatterdRequest *request,
                   const char     *new_hash,
                   gpointer        user_data)
{
  PasswordChange *c = user_data;

  /* Disabled while the hash was made: stays disabled, with the new
   * password (as natterctl's reset does). */
  c->password_hash = natterd_auth_hash_is_locked (c->user->password_hash)
                       ? natterd_auth_hash_lock (new_hash)
                       : g_strdup (new_hash);
  natterd_model_write_start_held (&c->write, request, password_change_run, password_change_apply,
                                  password_change_clear);
}

void
natterd_handle_password_change (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GError) error = NULL;
  const char *old_password, *new_password;
  gboolean keep = FALSE, present = FALSE;
  PasswordChange *c;

  if (!natterd_arg_string (request, "old_password", TRUE, &old_password) ||
      !natterd_arg_string (request, "new_password", TRUE, &new_password) ||
      !natterd_arg_bool (request, "keep_sessions", &present, &keep))
    return;
  if (!natter_password_check (new_password, &error))
    {
      natterd_request_error_from (request, error);
      return;
    }
  if (!natterd_model_write_hold (dir, request, natterd_handle_password_change))
    return;

  c = g_new0 (PasswordChange, 1);
  c->directory = dir;
  c->user = me;
  c->user_id = me->id;
  c->keep_sessions = keep;
  memcpy (c->token_hash, natterd_session_get_token_hash (natterd_request_get_connection (request)),
          sizeof c->token_hash);
  c->revoked = g_array_new (FALSE, FALSE, NATTERD_TOKEN_HASH_LEN);
  natterd_auth_verify_password (dir->auth, request, me, old_password, new_password,
                                password_verified, c, password_change_abandon);
}
