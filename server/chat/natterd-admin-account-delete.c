/* natterd-admin-account-delete.c: natterctl user delete
 * (natterd-admin-private.h): what account_delete does
 * (natterd-account-delete.h), without the password.
 */
#define G_LOG_DOMAIN "natterd-admin"

#include "config.h"

#include "natterd-account-delete.h"
#include "natterd-admin-private.h"
#include "natterd-auth.h"
#include "natterd-cluster.h"

typedef struct {
  NatterdAdminWrite     write;
  char                 *username;
  NatterdAccountDelete *plan;   /* made once the turn is held */
} UserDelete;

static void
user_delete_clear (gpointer data)
{
  UserDelete *d = data;

  g_free (d->username);
  g_clear_pointer (&d->plan, natterd_account_delete_free);
}

/* The user is looked up once the turn is held, against the directory as
 * the writes before left it. */
static gboolean
user_delete_turn (NatterdAdminWrite *write,
                  NatterdDirectory  *dir)
{
  UserDelete *d = (UserDelete *) write;
  g_autofree char *username = natter_username_normalize (d->username, NULL);
  NatterdUser *user = username != NULL ? natterd_directory_find_user (dir, username) : NULL;

  if (user == NULL || natterd_auth_hash_is_deleted (user->password_hash))
    {
      natterd_admin_error (write->request, NATTER_ERROR_NOT_FOUND, "No user %s", d->username);
      return FALSE;
    }
  d->plan = natterd_account_delete_plan (dir, user);
  return TRUE;
}

static gboolean
user_delete_run (NatterdWriteJob *job,
                 NatterdStore    *store,
                 GError         **error)
{
  return natterd_account_delete_run (((UserDelete *) job)->plan, store, error);
}

/* The answer, sent once the other nodes of a cluster have read the
 * change (as room delete's): a login there right after it is refused. */
typedef struct {
  NatterdAdminRequest *request;
  char                *username;
  guint                sessions;
} Answer;

static void
answer_cb (gpointer data)
{
  Answer *a = data;
  NatterJsonWriter *w = natterd_admin_begin_ok (a->request);

  natter_json_writer_key (w, "username");
  natter_json_writer_string (w, a->username);
  natter_json_writer_key (w, "sessions_revoked");
  natter_json_writer_int (w, a->sessions);
  natterd_admin_finish_ok (a->request);
  g_free (a->username);
  g_free (a);
}

static void
user_delete_apply (NatterdAdminWrite *write,
                   NatterdDirectory  *dir,
                   const GError      *error)
{
  UserDelete *d = (UserDelete *) write;
  Answer *a;

  if (!natterd_admin_check_done (write->request, dir, error))
    {
      natterd_account_delete_abandon (d->plan, dir);
      return;
    }
  natterd_account_delete_apply (d->plan, dir);
  natterd_account_delete_sign_out (d->plan, dir);
  a = g_new0 (Answer, 1);
  a->request = write->request;
  a->username = g_strdup (d->username);
  a->sessions = natterd_account_delete_sessions (d->plan);
  natterd_cluster_directory_changed_then (dir->cluster, answer_cb, a);
}

/* {"type":"user_delete","username"} -> {"username","sessions_revoked"} */
void
natterd_admin_user_delete (NatterdAdminRequest *request,
                           JsonObject          *args)
{
  const char *username;
  UserDelete *d;

  if (!natterd_admin_arg_string (request, args, "username", TRUE, &username))
    return;
  d = g_new0 (UserDelete, 1);
  d->username = g_strdup (username);
  d->write.turn = user_delete_turn;
  natterd_admin_write_start (&d->write, request, user_delete_run, user_delete_apply, user_delete_clear);
}
