/* natterd-handlers-account-delete.c: account_delete (feature accounts,
 * docs/protocol.md "account_delete"): the user deletes their own account,
 * with their password.
 *
 * As password_change (natterd-handlers-accounts.c), the directory's write
 * turn is held from before the password's check in the hashing pool until
 * the write is applied; the plan is read once the password is right. The
 * asking connection gets its ok, then every connection of the account is
 * closed as a revoked session's is.
 */
#define G_LOG_DOMAIN "natterd-accounts"

#include "config.h"

#include "natterd-account-delete.h"
#include "natterd-auth.h"
#include "natterd-handlers-private.h"

typedef struct {
  NatterdModelWrite     write;
  NatterdDirectory     *directory;  /* its turn is held until the write starts */
  NatterdUser          *user;
  NatterdAccountDelete *plan;       /* made once the password is right */
} AccountDelete;

static void
account_delete_clear (gpointer data)
{
  AccountDelete *d = data;

  g_clear_pointer (&d->plan, natterd_account_delete_free);
}

/* The check failed (and was answered): the turn goes back. */
static void
account_delete_abandon (gpointer data)
{
  AccountDelete *d = data;

  natterd_model_write_release (d->directory);
  account_delete_clear (d);
  g_free (d);
}

static gboolean
account_delete_run (NatterdWriteJob *job,
                    NatterdStore    *store,
                    GError         **error)
{
  return natterd_account_delete_run (((AccountDelete *) job)->plan, store, error);
}

static void
account_delete_apply (NatterdModelWrite *write,
                      const GError      *error)
{
  AccountDelete *d = (AccountDelete *) write;
  NatterdRequest *request = write->write.request;
  NatterJsonWriter *w;

  if (error != NULL)
    {
      natterd_account_delete_abandon (d->plan, d->directory);
      natterd_request_job_error (request, error);
      return;
    }
  natterd_account_delete_apply (d->plan, d->directory);
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "sessions_revoked");
  natter_json_writer_int (w, natterd_account_delete_sessions (d->plan));
  natterd_request_finish_ok (request);
  /* After the ok is queued: a close sends what is queued first. */
  natterd_account_delete_sign_out (d->plan, d->directory);
}

static void
password_verified (NatterdRequest *request,
                   const char     *new_hash,
                   gpointer        user_data)
{
  AccountDelete *d = user_data;

  d->plan = natterd_account_delete_plan (d->directory, d->user);
  natterd_model_write_start_held (&d->write, request, account_delete_run, account_delete_apply,
                                  account_delete_clear);
}

void
natterd_handle_account_delete (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  const char *password;
  AccountDelete *d;

  if (!natterd_arg_string (request, "password", TRUE, &password))
    return;
  if (!natterd_model_write_hold (dir, request, natterd_handle_account_delete))
    return;
  d = g_new0 (AccountDelete, 1);
  d->directory = dir;
  d->user = me;
  natterd_auth_verify_password (dir->auth, request, me, password, NULL,
                                password_verified, d, account_delete_abandon);
}
