/* natterd-handlers-accounts.c: the requests of the feature accounts
 * (docs/protocol.md, "Accounts"): a password change, the user's sessions
 * (devices) and signing one out, the display name.
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
#include "natterd-features.h"
#include "natterd-reads.h"
#include "natterd-handlers-private.h"

gboolean
natterd_arg_device (NatterdRequest  *request,
                    const char     **out)
{
  guint features = 0;
  gboolean present = FALSE;

  *out = NULL;
  if (!natterd_features_read (request, &features, &present))
    return FALSE;
  /* Without the feature "device" is an unknown field: ignored. */
  if ((features & NATTER_FEATURE_ACCOUNTS) == 0)
    return TRUE;
  if (!natterd_arg_string (request, "device", FALSE, out))
    return FALSE;
  if (*out != NULL && !natter_display_name_is_valid (*out))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "device must be 1 to 64 characters without control characters");
      return FALSE;
    }
  return TRUE;
}

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

/* --- sessions --- */

typedef struct {
  guint8  hash[NATTERD_TOKEN_HASH_LEN];
  gint64  created;
  gint64  expires;
  char   *device;
  char   *address;
} SessionRow;

typedef struct {
  NatterdWriteJob  job;
  NatterdRequest  *request;
  NatterdUser     *user;
  gint64           user_id;
  GArray          *rows;   /* SessionRow */
} SessionsRead;

static void
session_row_clear (gpointer data)
{
  SessionRow *row = data;

  g_free (row->device);
  g_free (row->address);
}

static void
add_row (const guint8 *hash,
         gint64        created_ms,
         gint64        expires_ms,
         const char   *device,
         const char   *address,
         gpointer      user_data)
{
  SessionsRead *r = user_data;
  SessionRow row;

  memcpy (row.hash, hash, sizeof row.hash);
  row.created = created_ms;
  row.expires = expires_ms;
  row.device = g_strdup (device);
  row.address = g_strdup (address);
  g_array_append_val (r->rows, row);
}

/* Reader thread. */
static gboolean
sessions_run (NatterdWriteJob *job,
              NatterdStore    *store,
              GError         **error)
{
  SessionsRead *r = (SessionsRead *) job;

  return natterd_store_tokens_of_user (store, r->user_id, add_row, r, error);
}

static void
write_nullable_string (NatterJsonWriter *w,
                       const char       *key,
                       const char       *value)
{
  natter_json_writer_key (w, key);
  if (value != NULL)
    natter_json_writer_string (w, value);
  else
    natter_json_writer_null (w);
}

static void
write_nullable_ts (NatterJsonWriter *w,
                   const char       *key,
                   gint64            ts)
{
  natter_json_writer_key (w, key);
  if (ts > 0)
    natter_json_writer_int (w, ts);
  else
    natter_json_writer_null (w);
}

/* One session object (docs/protocol.md, sessions). */
static void
write_session (NatterJsonWriter *w,
               NatterdDirectory *dir,
               NatterdUser      *user,
               SessionRow       *row,
               const guint8     *current,
               gint64            now)
{
  char id[NATTERD_SESSION_ID_LEN * 2 + 1];
  const char *address = row->address;
  guint connections = 0;
  gint64 last_active;

  /* Where it is connected from now, when it is: its newest connection. */
  for (GList *l = user->connections; l != NULL; l = l->next)
    if (memcmp (natterd_session_get_token_hash (l->data), row->hash, NATTERD_TOKEN_HASH_LEN) == 0)
      {
        if (connections++ == 0)
          address = natterd_connection_get_address_key (l->data);
      }
  if (connections > 0)
    last_active = now;
  else
    {
      last_active = dir->auth != NULL ? natterd_auth_token_last_used (dir->auth, row->hash) : 0;
      if (last_active == 0)
        last_active = row->created;
    }
  natterd_auth_session_to_text (row->hash, id);
  natter_json_writer_begin_object (w);
  natter_json_writer_key (w, "session");
  natter_json_writer_string (w, id);
  write_nullable_string (w, "device", row->device);
  write_nullable_string (w, "address", address);
  write_nullable_ts (w, "created", row->created);
  write_nullable_ts (w, "last_active", last_active);
  natter_json_writer_key (w, "current");
  natter_json_writer_bool (w, memcmp (row->hash, current, NATTERD_TOKEN_HASH_LEN) == 0);
  natter_json_writer_key (w, "connections");
  natter_json_writer_int (w, connections);
  natter_json_writer_end_object (w);
}

static void
sessions_done (NatterdWriteJob *job,
               const GError    *error)
{
  SessionsRead *r = (SessionsRead *) job;
  NatterdRequest *request = r->request;
  NatterdDirectory *dir = natterd_directory_from_request (request);
  const guint8 *current = natterd_session_get_token_hash (natterd_request_get_connection (request));
  gint64 now = natterd_now_ms ();
  NatterJsonWriter *w;

  if (error != NULL)
    natterd_request_store_error (request, error);
  else
    {
      w = natterd_request_begin_ok (request);
      natter_json_writer_key (w, "sessions");
      natter_json_writer_begin_array (w);
      for (guint i = 0; i < r->rows->len; i++)
        {
          SessionRow *row = &g_array_index (r->rows, SessionRow, i);

          /* Refused already; the hourly expiry removes it. */
          if (row->expires > now)
            write_session (w, dir, r->user, row, current, now);
        }
      natter_json_writer_end_array (w);
      natterd_request_finish_ok (request);
    }
  g_array_unref (r->rows);
  g_free (r);
}

void
natterd_handle_sessions (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  SessionsRead *r = g_new0 (SessionsRead, 1);

  r->job.run = sessions_run;
  r->job.done = sessions_done;
  r->request = request;
  r->user = me;
  r->user_id = me->id;
  r->rows = g_array_new (FALSE, FALSE, sizeof (SessionRow));
  g_array_set_clear_func (r->rows, session_row_clear);
  natterd_reads_push (dir->reads, &r->job);
}

/* --- session_revoke --- */

typedef struct {
  NatterdModelWrite write;
  NatterdUser      *user;
  gint64            user_id;
  guint8            session[NATTERD_SESSION_ID_LEN];
  GArray           *revoked;
} SessionRevoke;

static void
session_revoke_clear (gpointer data)
{
  g_clear_pointer (&((SessionRevoke *) data)->revoked, g_array_unref);
}

static gboolean
session_revoke_run (NatterdWriteJob *job,
                    NatterdStore    *store,
                    GError         **error)
{
  SessionRevoke *v = (SessionRevoke *) job;

  if (!natterd_auth_revoke_run (store, v->user_id, NATTERD_AUTH_REVOKE_ONE, v->session,
                                sizeof v->session, v->revoked, error))
    return FALSE;
  /* Nothing written: the other nodes need not read anything. */
  v->write.unchanged = v->revoked->len == 0;
  return TRUE;
}

static void
session_revoke_apply (NatterdModelWrite *write,
                      const GError      *error)
{
  SessionRevoke *v = (SessionRevoke *) write;
  NatterdRequest *request = write->write.request;

  if (error != NULL)
    natterd_request_job_error (request, error);
  else if (v->revoked->len == 0)
    natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such session");
  else
    {
      natterd_auth_revoked_apply (natterd_directory_from_request (request), v->user, v->revoked);
      natterd_request_ok (request);
    }
}

void
natterd_handle_session_revoke (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  const guint8 *current = natterd_session_get_token_hash (natterd_request_get_connection (request));
  guint8 id[NATTERD_SESSION_ID_LEN];
  const char *session;
  SessionRevoke *v;

  if (!natterd_arg_string (request, "session", TRUE, &session))
    return;
  if (!natterd_auth_session_from_text (session, id))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "session must be 16 hexadecimal digits, as sessions gives it");
      return;
    }
  if (memcmp (id, current, sizeof id) == 0)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "This is the session of this connection: log out instead");
      return;
    }
  if (natterd_model_write_wait (dir, request, natterd_handle_session_revoke))
    return;

  v = g_new0 (SessionRevoke, 1);
  v->user = me;
  v->user_id = me->id;
  memcpy (v->session, id, sizeof id);
  v->revoked = g_array_new (FALSE, FALSE, NATTERD_TOKEN_HASH_LEN);
  natterd_model_write_start (&v->write, request, session_revoke_run, session_revoke_apply,
                             session_revoke_clear);
}

/* --- profile_update --- */

typedef struct {
  NatterdModelWrite write;
  NatterdUser      *user;
  gint64            user_id;
  char             *display_name;
} ProfileUpdate;

static void
profile_update_clear (gpointer data)
{
  g_free (((ProfileUpdate *) data)->display_name);
}

static gboolean
profile_update_run (NatterdWriteJob *job,
                    NatterdStore    *store,
                    GError         **error)
{
  ProfileUpdate *u = (ProfileUpdate *) job;

  return natterd_store_user_set_display_name (store, u->user_id, u->display_name, error);
}

void
natterd_reply_user (NatterdRequest *request,
                    NatterdUser    *user)
{
  NatterJsonWriter *w = natterd_request_begin_ok (request);

  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, user, NULL);
  natterd_request_finish_ok (request);
}

static void
profile_update_apply (NatterdModelWrite *write,
                      const GError      *error)
{
  ProfileUpdate *u = (ProfileUpdate *) write;
  NatterdRequest *request = write->write.request;
  NatterdUser *user = u->user;

  if (error != NULL)
    {
      natterd_request_job_error (request, error);
      return;
    }
  g_free (user->display_name);
  user->display_name = g_steal_pointer (&u->display_name);
  g_free (user->display_folded);
  user->display_folded = g_utf8_casefold (user->display_name, -1);
  /* The user object with the new name goes where presence goes: the
   * contacts, the members of the user's rooms, the user's other
   * connections. */
  natterd_presence_update (natterd_directory_from_request (request), user, TRUE,
                           natterd_request_get_connection (request));
  natterd_reply_user (request, user);
}

void
natterd_handle_profile_update (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  const char *display_name;
  ProfileUpdate *u;

  if (!natterd_arg_string (request, "display_name", TRUE, &display_name))
    return;
  if (!natter_display_name_is_valid (display_name))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "display_name must be 1 to 64 characters without control characters");
      return;
    }
  if (natterd_model_write_wait (dir, request, natterd_handle_profile_update))
    return;
  if (g_str_equal (display_name, me->display_name))
    {
      natterd_reply_user (request, me);
      return;
    }
  u = g_new0 (ProfileUpdate, 1);
  u->user = me;
  u->user_id = me->id;
  u->display_name = g_strdup (display_name);
  natterd_model_write_start (&u->write, request, profile_update_run, profile_update_apply,
                             profile_update_clear);
}
