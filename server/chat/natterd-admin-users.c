/* natterd-admin-users.c: natterctl user … (natterd-admin-private.h).
 */
#define G_LOG_DOMAIN "natterd-admin"

#include "config.h"

#include <string.h>

#include "natter-fields.h"
#include "natterd-admin-private.h"
#include "natterd-auth.h"
#include "natterd-cluster.h"
#include "natterd-session.h"

static int
compare_users (gconstpointer a,
               gconstpointer b)
{
  const NatterdUser *ua = *(NatterdUser *const *) a, *ub = *(NatterdUser *const *) b;

  return strcmp (ua->username, ub->username);
}

/* {"type":"user_list"} -> {"users":[{"username","display_name",
 * "presence","connections","disabled","deleted"}…]}, by username. */
void
natterd_admin_user_list (NatterdAdminRequest *request,
                         JsonObject          *args)
{
  NatterdDirectory *dir = natterd_admin_request_directory (request);
  g_autoptr(GPtrArray) users = natterd_admin_sorted_values (dir->users_by_name, compare_users);
  NatterJsonWriter *w;

  w = natterd_admin_begin_ok (request);
  natter_json_writer_key (w, "users");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < users->len; i++)
    {
      NatterdUser *user = users->pdata[i];

      natter_json_writer_begin_object (w);
      natter_json_writer_key (w, "username");
      natter_json_writer_string (w, user->username);
      natter_json_writer_key (w, "display_name");
      natter_json_writer_string (w, user->display_name);
      natter_json_writer_key (w, "presence");
      natter_json_writer_string (w, natter_presence_to_string (user->presence));
      natter_json_writer_key (w, "connections");
      natter_json_writer_int (w, user->n_connections);
      natter_json_writer_key (w, "disabled");
      natter_json_writer_bool (w, natterd_auth_hash_is_locked (user->password_hash) &&
                                  !natterd_auth_hash_is_deleted (user->password_hash));
      natter_json_writer_key (w, "deleted");
      natter_json_writer_bool (w, natterd_auth_hash_is_deleted (user->password_hash));
      natter_json_writer_end_object (w);
    }
  natter_json_writer_end_array (w);
  natterd_admin_finish_ok (request);
}

/* --- user add --- */

typedef struct {
  NatterdAdminWrite write;
  char             *username;
  char             *display_name;
  char             *password_hash;
  gint64            user_id;
} UserAdd;

static void
user_add_clear (gpointer data)
{
  UserAdd *a = data;

  g_free (a->username);
  g_free (a->display_name);
  g_free (a->password_hash);
}

static gboolean
user_add_run (NatterdWriteJob *job,
              NatterdStore    *store,
              GError         **error)
{
  UserAdd *a = (UserAdd *) job;

  return natterd_store_user_insert (store, a->username, a->display_name, a->password_hash,
                                    natterd_now_ms (), &a->user_id, error);
}

static void
user_add_apply (NatterdAdminWrite *write,
                NatterdDirectory  *dir,
                const GError      *error)
{
  UserAdd *a = (UserAdd *) write;
  NatterJsonWriter *w;

  if (g_error_matches (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT))
    {
      natterd_admin_error (write->request, NATTER_ERROR_USERNAME_TAKEN, "%s exists already", a->username);
      return;
    }
  if (!natterd_admin_check_done (write->request, dir, error))
    return;
  natterd_directory_add_user (dir, a->user_id, a->username, a->display_name, a->password_hash);
  g_message ("registered user %s (natterctl)", a->username);
  natterd_cluster_directory_changed (dir->cluster, NULL);
  w = natterd_admin_begin_ok (write->request);
  natter_json_writer_key (w, "username");
  natter_json_writer_string (w, a->username);
  natterd_admin_finish_ok (write->request);
}

static void
user_add_hashed (const char *password_hash,
                 gpointer    user_data)
{
  UserAdd *a = user_data;

  if (password_hash == NULL)
    {
      natterd_admin_write_fail (&a->write, user_add_clear, NATTER_ERROR_INTERNAL, "Could not hash the password");
      return;
    }
  a->password_hash = g_strdup (password_hash);
  natterd_admin_write_start (&a->write, a->write.request, user_add_run, user_add_apply, user_add_clear);
}

/* A new password's checks, and its hash in the pool: @hashed then. */
static gboolean
hash_new_password (NatterdAdminRequest   *request,
                   JsonObject            *args,
                   NatterdAuthHashedFunc  hashed,
                   gpointer               data)
{
  NatterdDirectory *dir = natterd_admin_request_directory (request);
  g_autoptr(GError) error = NULL;
  const char *password;

  if (!natterd_admin_arg_string (request, args, "password", TRUE, &password))
    return FALSE;
  if (!natter_password_check (password, &error))
    {
      natterd_admin_error (request, error->code, "%s", error->message);
      return FALSE;
    }
  natterd_auth_hash_password (dir->auth, password, hashed, data);
  return TRUE;
}

/* {"type":"user_add","username","password","display_name"?} */
void
natterd_admin_user_add (NatterdAdminRequest *request,
                        JsonObject          *args)
{
  NatterdDirectory *dir = natterd_admin_request_directory (request);
  g_autoptr(GError) error = NULL;
  g_autofree char *username = NULL;
  const char *raw, *display_name;
  UserAdd *a;

  if (!natterd_admin_arg_string (request, args, "username", TRUE, &raw) ||
      !natterd_admin_arg_string (request, args, "display_name", FALSE, &display_name))
    return;
  username = natter_username_normalize (raw, &error);
  if (username == NULL)
    {
      natterd_admin_error (request, error->code, "%s", error->message);
      return;
    }
  if (display_name != NULL && !natter_display_name_is_valid (display_name))
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                           "The display name must be 1 to 64 characters without control characters");
      return;
    }
  if (natterd_directory_find_user (dir, username) != NULL)
    {
      natterd_admin_error (request, NATTER_ERROR_USERNAME_TAKEN, "%s exists already", username);
      return;
    }
  a = g_new0 (UserAdd, 1);
  a->write.request = request;
  a->username = g_steal_pointer (&username);
  a->display_name = g_strdup (display_name != NULL ? display_name : a->username);
  if (!hash_new_password (request, args, user_add_hashed, a))
    {
      user_add_clear (a);
      g_free (a);
    }
}

/* --- disable, enable, reset-password, revoke: a new hash and/or tokens
 * revoked, in one transaction --- */

typedef struct {
  NatterdAdminWrite write;
  NatterdUser      *user;          /* users are never freed */
  gint64            user_id;
  char             *password_hash; /* the new one, or NULL: unchanged */
  gboolean          revoke_all;
  guint8            session[NATTERD_SESSION_ID_LEN]; /* else this session only, if revoke */
  gboolean          revoke_one;
  GArray           *revoked;       /* token hashes (NATTERD_TOKEN_HASH_LEN each) deleted */
  const char       *done_message;  /* logged, with the username */
} UserChange;

static void
user_change_clear (gpointer data)
{
  UserChange *c = data;

  g_free (c->password_hash);
  g_clear_pointer (&c->revoked, g_array_unref);
}

static gboolean
user_change_run (NatterdWriteJob *job,
                 NatterdStore    *store,
                 GError         **error)
{
  UserChange *c = (UserChange *) job;

  if (c->password_hash != NULL &&
      !natterd_store_user_set_password_hash (store, c->user_id, c->password_hash, error))
    return FALSE;
  if (!c->revoke_all && !c->revoke_one)
    return TRUE;
  return natterd_auth_revoke_run (store, c->user_id,
                                  c->revoke_all ? NATTERD_AUTH_REVOKE_ALL : NATTERD_AUTH_REVOKE_ONE,
                                  c->session, sizeof c->session, c->revoked, error);
}

static void
user_change_apply (NatterdAdminWrite *write,
                   NatterdDirectory  *dir,
                   const GError      *error)
{
  UserChange *c = (UserChange *) write;
  NatterJsonWriter *w;

  if (!natterd_admin_check_done (write->request, dir, error))
    return;
  if (c->revoke_one && c->revoked->len == 0)
    {
      natterd_admin_error (write->request, NATTER_ERROR_NOT_FOUND, "%s has no session %s", c->user->username,
                           natterd_admin_request_arg (write->request));
      return;
    }
  if (c->password_hash != NULL)
    {
      g_free (c->user->password_hash);
      c->user->password_hash = g_strdup (c->password_hash);
    }
  /* A disabled user's clients are disconnected now. */
  natterd_auth_revoked_apply (dir, c->user, c->revoked);
  if (c->password_hash != NULL)
    natterd_cluster_directory_changed (dir->cluster, NULL);
  g_message ("%s %s (natterctl)", c->done_message, c->user->username);
  w = natterd_admin_begin_ok (write->request);
  natter_json_writer_key (w, "username");
  natter_json_writer_string (w, c->user->username);
  natter_json_writer_key (w, "sessions_revoked");
  natter_json_writer_int (w, c->revoked->len);
  natterd_admin_finish_ok (write->request);
}

static UserChange *
user_change_new (NatterdAdminRequest *request,
                 NatterdUser         *user,
                 const char          *done_message)
{
  UserChange *c = g_new0 (UserChange, 1);

  c->write.request = request;
  c->user = user;
  c->user_id = user->id;
  c->revoked = g_array_new (FALSE, FALSE, NATTERD_TOKEN_HASH_LEN);
  c->done_message = done_message;
  return c;
}

static void
user_change_start (UserChange *c)
{
  natterd_admin_write_start (&c->write, c->write.request, user_change_run, user_change_apply,
                             user_change_clear);
}

/* {"type":"user_disable","username"} */
void
natterd_admin_user_disable (NatterdAdminRequest *request,
                            JsonObject          *args)
{
  NatterdUser *user = natterd_admin_arg_user (request, args);
  UserChange *c;

  if (user == NULL)
    return;
  c = user_change_new (request, user, "disabled user");
  if (!natterd_auth_hash_is_locked (user->password_hash))
    c->password_hash = natterd_auth_hash_lock (user->password_hash);
  /* Again for one disabled already: any session left goes. */
  c->revoke_all = TRUE;
  user_change_start (c);
}

/* {"type":"user_enable","username"} */
void
natterd_admin_user_enable (NatterdAdminRequest *request,
                           JsonObject          *args)
{
  NatterdUser *user = natterd_admin_arg_user (request, args);
  UserChange *c;

  if (user == NULL)
    return;
  c = user_change_new (request, user, "enabled user");
  if (natterd_auth_hash_is_locked (user->password_hash))
    c->password_hash = g_strdup (natterd_auth_hash_unlocked (user->password_hash));
  user_change_start (c);
}

static void
reset_hashed (const char *password_hash,
              gpointer    user_data)
{
  UserChange *c = user_data;

  if (password_hash == NULL)
    {
      natterd_admin_write_fail (&c->write, user_change_clear, NATTER_ERROR_INTERNAL, "Could not hash the password");
      return;
    }
  /* A disabled account stays disabled, with its new password. */
  c->password_hash = natterd_auth_hash_is_locked (c->user->password_hash)
                       ? natterd_auth_hash_lock (password_hash)
                       : g_strdup (password_hash);
  user_change_start (c);
}

/* {"type":"user_reset_password","username","password"}: every session
 * of the user is revoked with the old password. */
void
natterd_admin_user_reset_password (NatterdAdminRequest *request,
                                   JsonObject          *args)
{
  NatterdUser *user = natterd_admin_arg_user (request, args);
  UserChange *c;

  if (user == NULL)
    return;
  c = user_change_new (request, user, "reset the password of");
  c->revoke_all = TRUE;
  if (!hash_new_password (request, args, reset_hashed, c))
    {
      user_change_clear (c);
      g_free (c);
    }
}

/* {"type":"user_revoke","username","session"?,"all"?}: one session (its
 * id from user_sessions) or, with "all":true, every one. */
void
natterd_admin_user_revoke (NatterdAdminRequest *request,
                           JsonObject          *args)
{
  NatterdUser *user = natterd_admin_arg_user (request, args);
  const char *session = NULL;
  gboolean all = FALSE, present = FALSE;
  g_autoptr(GError) error = NULL;
  guint8 id[NATTERD_SESSION_ID_LEN] = { 0 };
  UserChange *c;

  if (user == NULL || !natterd_admin_arg_string (request, args, "session", FALSE, &session))
    return;
  if (!natter_fields_get_bool (args, "all", FALSE, &present, &all, &error))
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT, "%s", error->message);
      return;
    }
  if ((session == NULL) == (!all))
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT, "Give either a session or \"all\":true");
      return;
    }
  if (session != NULL && !natterd_auth_session_from_text (session, id))
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                           "A session is the %d hexadecimal digits user_sessions shows",
                           NATTERD_SESSION_ID_LEN * 2);
      return;
    }
  c = user_change_new (request, user, all ? "revoked every session of" : "revoked a session of");
  c->revoke_all = all;
  c->revoke_one = session != NULL;
  memcpy (c->session, id, sizeof id);
  natterd_admin_request_set_arg (request, session);
  user_change_start (c);
}

/* --- sessions --- */

typedef struct {
  NatterdAdminWrite write;
  NatterdUser      *user;
  gint64            user_id;
  GArray           *tokens;  /* Session */
} SessionsRead;

typedef struct {
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  gint64 created;
  gint64 expires;
} Session;

static void
sessions_clear (gpointer data)
{
  g_clear_pointer (&((SessionsRead *) data)->tokens, g_array_unref);
}

static void
add_session (const guint8 *hash,
             gint64        created_ms,
             gint64        expires_ms,
             const char   *device,
             const char   *address,
             gpointer      user_data)
{
  Session s;

  memcpy (s.hash, hash, sizeof s.hash);
  s.created = created_ms;
  s.expires = expires_ms;
  g_array_append_val (((SessionsRead *) user_data)->tokens, s);
}

static gboolean
sessions_run (NatterdWriteJob *job,
              NatterdStore    *store,
              GError         **error)
{
  SessionsRead *r = (SessionsRead *) job;

  return natterd_store_tokens_of_user (store, r->user_id, add_session, r, error);
}

static void
sessions_apply (NatterdAdminWrite *read,
                NatterdDirectory  *dir,
                const GError      *error)
{
  SessionsRead *r = (SessionsRead *) read;
  gint64 now = natterd_now_ms ();
  NatterJsonWriter *w;

  if (!natterd_admin_check_done (read->request, dir, error))
    return;
  w = natterd_admin_begin_ok (read->request);
  natter_json_writer_key (w, "sessions");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < r->tokens->len; i++)
    {
      Session *s = &g_array_index (r->tokens, Session, i);
      char id[NATTERD_SESSION_ID_LEN * 2 + 1];
      guint connections = 0;
      gint64 last_used;

      if (s->expires <= now)
        continue; /* refused already; the hourly expiry removes it */
      for (GList *l = r->user->connections; l != NULL; l = l->next)
        if (memcmp (natterd_session_get_token_hash (l->data), s->hash, NATTERD_TOKEN_HASH_LEN) == 0)
          connections++;
      natterd_auth_session_to_text (s->hash, id);
      natter_json_writer_begin_object (w);
      natter_json_writer_key (w, "session");
      natter_json_writer_string (w, id);
      natter_json_writer_key (w, "created");
      if (s->created > 0)
        natter_json_writer_int (w, s->created);
      else
        natter_json_writer_null (w);
      natter_json_writer_key (w, "expires");
      natter_json_writer_int (w, s->expires);
      natter_json_writer_key (w, "last_used");
      last_used = dir->auth != NULL ? natterd_auth_token_last_used (dir->auth, s->hash) : 0;
      if (last_used > 0)
        natter_json_writer_int (w, last_used);
      else
        natter_json_writer_null (w);
      natter_json_writer_key (w, "connections");
      natter_json_writer_int (w, connections);
      natter_json_writer_end_object (w);
    }
  natter_json_writer_end_array (w);
  natterd_admin_finish_ok (read->request);
}

/* {"type":"user_sessions","username"} -> {"sessions":[{"session",
 * "created","expires","last_used","connections"}…]}, oldest first. */
void
natterd_admin_user_sessions (NatterdAdminRequest *request,
                             JsonObject          *args)
{
  NatterdUser *user = natterd_admin_arg_user (request, args);
  SessionsRead *r;

  if (user == NULL)
    return;
  r = g_new0 (SessionsRead, 1);
  r->user = user;
  r->user_id = user->id;
  r->tokens = g_array_new (FALSE, FALSE, sizeof (Session));
  natterd_admin_read_start (&r->write, request, sessions_run, sessions_apply, sessions_clear);
}
