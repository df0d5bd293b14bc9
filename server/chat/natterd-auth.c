/* natterd-auth.c: accounts, passwords, tokens and the login limits; the
 * handlers that use them are in natterd-handlers-session.c.
 *
 * Passwords are hashed with argon2id (libsodium) in a GThreadPool: a hash
 * takes tens of milliseconds and 19 MiB, which must never stall the main
 * loop. The request is finished from the main loop afterwards; the handlers
 * are flagged PAUSES so the connection's next frames wait for the login.
 *
 * A login for a user that does not exist is verified against a dummy hash,
 * so it takes as long as a wrong password. The failed-login limits are
 * checked before any hashing, so they also bound the CPU an attacker can
 * make us spend.
 *
 * Tokens are 32 random bytes sent as unpadded base64url; only their SHA-256
 * is stored. Tokens seen lately are also kept in memory by that hash (the
 * token cache below), so a token login costs no SQLite query.
 */
#define G_LOG_DOMAIN "natterd-auth"

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "natterd-auth.h"
#include "natterd-handlers-private.h"
#include "natterd-presence.h"
#include "natterd-session.h"
#include "natterd-token-bucket.h"

/* OWASP's argon2id floor: m = 19 MiB, t = 2, p = 1. */
#define HASH_OPSLIMIT   2
#define HASH_MEMLIMIT   (19 * 1024 * 1024)

#define TOKEN_BYTES     32
#define MINUTE_MS       (60 * 1000)
#define HOUR_MS         (60 * MINUTE_MS)
#define DAY_MS          (24 * HOUR_MS)
/* A limiter prunes its full buckets past this many keys. */
#define LIMITER_PRUNE   10000
/* The token cache is emptied (and refills from the store) at this size:
 * 64 bytes an entry, so at most ~6 MB. */
#define TOKEN_CACHE_MAX 100000

typedef struct {
  GHashTable *buckets; /* key -> NatterdTokenBucket* */
  gint64      window_ms;
} Limiter;

/* A token the store holds, as the store holds it. */
typedef struct {
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  gint64 user_id;
  gint64 expires;    /* ms since the epoch */
} CachedToken;

struct _NatterdAuth {
  NatterdDirectory *directory;
  GThreadPool      *pool;
  char             *dummy_hash;
  GHashTable       *jobs;        /* Job* under way */
  Limiter           registrations_by_address;
  Limiter           failures_by_address;
  Limiter           failures_by_user;
  GHashTable       *tokens;      /* hash -> CachedToken (hash inside) */
  guint             expire_source; /* hourly removal of expired tokens */
};

typedef enum {
  JOB_REGISTER,
  JOB_LOGIN,
} JobKind;

typedef struct {
  NatterdAuth    *auth;
  JobKind         kind;
  NatterdRequest *request;
  char           *password;     /* wiped after use */
  gsize           password_len;
  char           *hash;         /* LOGIN: the hash to verify; REGISTER: the result */
  gboolean        ok;
  NatterdUser    *user;         /* LOGIN: the user, or NULL (verified against the dummy) */
  char           *username;     /* REGISTER: normalised; LOGIN: the limiter key */
  char           *display_name;
  char           *address_key;
  GSource        *source;       /* the main-loop callback, once the work is done */
} Job;

/* --- limiters --- */

static void
limiter_init (Limiter *limiter, gint64 window_ms)
{
  limiter->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  limiter->window_ms = window_ms;
}

/* Tokens a second for a bucket of @capacity refilled over the window. */
static double
limiter_rate (Limiter *limiter, guint capacity)
{
  return capacity * 1000.0 / limiter->window_ms;
}

static NatterdTokenBucket *
limiter_bucket (Limiter *limiter, const char *key, guint capacity, gint64 now)
{
  NatterdTokenBucket *bucket = g_hash_table_lookup (limiter->buckets, key);

  if (bucket != NULL)
    return bucket;

  if (g_hash_table_size (limiter->buckets) >= LIMITER_PRUNE)
    {
      GHashTableIter iter;
      gpointer value;

      /* A full bucket is the same as no bucket: forget it. */
      g_hash_table_iter_init (&iter, limiter->buckets);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (natterd_token_bucket_is_full (value, capacity, limiter_rate (limiter, capacity), now * 1000))
          g_hash_table_iter_remove (&iter);
    }

  bucket = g_new0 (NatterdTokenBucket, 1);
  g_hash_table_insert (limiter->buckets, g_strdup (key), bucket);
  return bucket;
}

static gint64
limiter_peek (Limiter *limiter, const char *key, guint capacity, gint64 now)
{
  if (capacity == 0 || key == NULL)
    return 0;
  return natterd_token_bucket_peek (limiter_bucket (limiter, key, capacity, now),
                                    capacity, limiter_rate (limiter, capacity), now * 1000);
}

static void
limiter_take (Limiter *limiter, const char *key, guint capacity, gint64 now)
{
  if (capacity == 0 || key == NULL)
    return;
  natterd_token_bucket_take (limiter_bucket (limiter, key, capacity, now),
                             capacity, limiter_rate (limiter, capacity), now * 1000);
}

/* --- the thread pool --- */

static void
job_free (Job *job)
{
  if (job->password != NULL)
    {
      sodium_memzero (job->password, job->password_len);
      g_free (job->password);
    }
  g_free (job->hash);
  g_free (job->username);
  g_free (job->display_name);
  g_free (job->address_key);
  if (job->source != NULL)
    {
      g_source_destroy (job->source);
      g_source_unref (job->source);
    }
  g_free (job);
}

static gboolean job_done_cb (gpointer user_data);

static void
worker (gpointer data,
        gpointer user_data)
{
  Job *job = data;
  GSource *source;

  if (job->kind == JOB_REGISTER)
    {
      char out[crypto_pwhash_STRBYTES];

      if (crypto_pwhash_str_alg (out, job->password, job->password_len,
                                 HASH_OPSLIMIT, HASH_MEMLIMIT,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0)
        {
          job->hash = g_strdup (out);
          job->ok = TRUE;
        }
      else
        g_warning ("argon2id hashing failed (out of memory?)");
    }
  else
    {
      gboolean match = crypto_pwhash_str_verify (job->hash, job->password, job->password_len) == 0;
      job->ok = match && job->user != NULL;
    }
  sodium_memzero (job->password, job->password_len);

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, job_done_cb, job, NULL);
  g_source_set_static_name (source, "natterd-auth-done");
  job->source = source;
  g_source_attach (source, NULL);
}

static void
queue_job (NatterdAuth *self, Job *job)
{
  g_autoptr(GError) error = NULL;

  job->auth = self;
  g_hash_table_add (self->jobs, job);
  if (!g_thread_pool_push (self->pool, job, &error))
    {
      g_hash_table_remove (self->jobs, job);
      natterd_request_error (job->request, NATTER_ERROR_INTERNAL, "Could not start hashing");
      job_free (job);
    }
}

/* --- the token cache ---
 *
 * A token login looked its token up in SQLite: with the WAL's fcntl locks,
 * ~8 % of natterd's CPU per token login. The store stays the durable
 * record: the cache is filled from it (read-through) and when a token is
 * issued, and an entry leaves the cache before its row leaves the store
 * (logout, expiry), so the cache never accepts a token the store would
 * refuse. Nothing else deletes tokens. Expiry is checked on every login,
 * from the cached expiry. Unknown tokens are not cached: they are counted
 * as failed logins instead. */

static guint
token_hash_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h); /* SHA-256 output: any four bytes will do */
  return h;
}

static gboolean
token_hash_equal (gconstpointer a,
                  gconstpointer b)
{
  return memcmp (a, b, NATTERD_TOKEN_HASH_LEN) == 0;
}

static void
token_cache_add (NatterdAuth  *self,
                 const guint8 *hash,
                 gint64        user_id,
                 gint64        expires)
{
  CachedToken *entry;

  if (g_hash_table_size (self->tokens) >= TOKEN_CACHE_MAX)
    g_hash_table_remove_all (self->tokens);

  entry = g_new (CachedToken, 1);
  memcpy (entry->hash, hash, sizeof entry->hash);
  entry->user_id = user_id;
  entry->expires = expires;
  g_hash_table_replace (self->tokens, entry->hash, entry);
}

/* Like natterd_store_token_lookup: TRUE with the user and expiry when the
 * store holds the token (expired or not), FALSE without error when not. */
static gboolean
token_lookup (NatterdAuth   *self,
              const guint8  *hash,
              gint64        *out_user_id,
              gint64        *out_expires,
              GError       **error)
{
  CachedToken *entry = g_hash_table_lookup (self->tokens, hash);

  if (entry == NULL)
    {
      if (!natterd_store_token_lookup (self->directory->store, hash, out_user_id, out_expires, error))
        return FALSE;
      token_cache_add (self, hash, *out_user_id, *out_expires);
      return TRUE;
    }
  *out_user_id = entry->user_id;
  *out_expires = entry->expires;
  return TRUE;
}

/* Revokes a token: out of the cache first, then out of the store. */
static gboolean
token_delete (NatterdAuth   *self,
              const guint8  *hash,
              GError       **error)
{
  g_hash_table_remove (self->tokens, hash);
  return natterd_store_token_delete (self->directory->store, hash, error);
}

/* --- tokens and logging in --- */

static void
token_hash (const char *token, guint8 out[NATTERD_TOKEN_HASH_LEN])
{
  crypto_hash_sha256 (out, (const unsigned char *) token, strlen (token));
}

/* Logs @request's connection in as @user and answers it. */
static void
log_in (NatterdAuth    *self,
        NatterdRequest *request,
        NatterdUser    *user,
        const char     *token,
        const guint8   *hash,
        gint64          expires)
{
  NatterdConnection *connection = natterd_request_get_connection (request);
  NatterJsonWriter *w;

  if (!natterd_connection_is_closed (connection))
    natterd_session_attach (self->directory, connection, user, hash);

  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, user, NULL);
  natter_json_writer_key (w, "token");
  natter_json_writer_string (w, token);
  natter_json_writer_key (w, "expires");
  natter_json_writer_int (w, expires);
  natterd_request_finish_ok (request);
}

/* Makes a new token for @user, stores its hash, and logs in. */
static void
issue_token_and_log_in (NatterdAuth    *self,
                        NatterdRequest *request,
                        NatterdUser    *user)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  NatterdStore *store = self->directory->store;
  g_autoptr(GError) error = NULL;
  guint8 random[TOKEN_BYTES];
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  char token[sodium_base64_ENCODED_LEN (TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  gint64 expires;

  randombytes_buf (random, sizeof random);
  sodium_bin2base64 (token, sizeof token, random, sizeof random,
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (random, sizeof random);
  token_hash (token, hash);
  expires = natterd_now_ms () + (gint64) MAX (config->token_lifetime_days, 1) * DAY_MS;

  if (!natterd_store_token_insert (store, hash, user->id, expires, &error))
    {
      natterd_request_store_error (request, error);
      return;
    }
  token_cache_add (self, hash, user->id, expires);
  log_in (self, request, user, token, hash, expires);
  sodium_memzero (token, sizeof token);
}

static void
finish_register (NatterdAuth *self, Job *job)
{
  NatterdDirectory *dir = self->directory;
  g_autoptr(GError) error = NULL;
  NatterdUser *user;
  gint64 id;

  if (!job->ok)
    {
      natterd_request_error (job->request, NATTER_ERROR_INTERNAL, "Could not hash the password");
      return;
    }
  /* Someone may have taken the name while we hashed. */
  if (natterd_directory_find_user (dir, job->username) != NULL)
    {
      natterd_request_error (job->request, NATTER_ERROR_USERNAME_TAKEN, "That username is taken");
      return;
    }
  if (!natterd_store_user_insert (dir->store, job->username, job->display_name, job->hash,
                                  natterd_now_ms (), &id, &error))
    {
      if (g_error_matches (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT))
        natterd_request_error (job->request, NATTER_ERROR_USERNAME_TAKEN, "That username is taken");
      else
        natterd_request_store_error (job->request, error);
      return;
    }
  user = natterd_directory_add_user (dir, id, job->username, job->display_name, job->hash);
  g_message ("registered user %s", user->username);
  issue_token_and_log_in (self, job->request, user);
}

static void
finish_login (NatterdAuth *self, Job *job)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  gint64 now = natterd_now_ms ();

  if (!job->ok)
    {
      limiter_take (&self->failures_by_address, job->address_key,
                    config->failed_logins_per_minute_per_address, now);
      limiter_take (&self->failures_by_user, job->username,
                    config->failed_logins_per_minute_per_user, now);
      natterd_request_error (job->request, NATTER_ERROR_AUTH_FAILED, "Wrong username or password");
      return;
    }
  issue_token_and_log_in (self, job->request, job->user);
}

static gboolean
job_done_cb (gpointer user_data)
{
  Job *job = user_data;
  NatterdAuth *self = job->auth;

  g_hash_table_remove (self->jobs, job);
  /* The context drops its own reference when this returns. */
  g_clear_pointer (&job->source, g_source_unref);
  if (job->kind == JOB_REGISTER)
    finish_register (self, job);
  else
    finish_login (self, job);
  job_free (job);
  return G_SOURCE_REMOVE;
}

static gboolean
expire_tokens_cb (gpointer user_data)
{
  NatterdAuth *self = user_data;
  g_autoptr(GError) error = NULL;

  /* Expired tokens are refused anyway; this only keeps the table small.
   * None of them is in the cache: a token login past its expiry takes
   * its entry out. */
  if (!natterd_store_tokens_expire (self->directory->store, natterd_now_ms (), &error))
    g_warning ("Could not remove expired tokens: %s", error->message);
  return G_SOURCE_CONTINUE;
}

NatterdAuth *
natterd_auth_new (NatterdDirectory *directory,
                  GError          **error)
{
  const NatterdConfig *config = natterd_directory_get_config (directory);
  NatterdAuth *self;
  guint8 random[32];
  char out[crypto_pwhash_STRBYTES];
  guint threads;

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INTERNAL, "libsodium failed to initialise");
      return NULL;
    }
  if (!natterd_store_tokens_expire (directory->store, natterd_now_ms (), error))
    {
      g_prefix_error (error, "%s: ", natterd_store_get_path (directory->store));
      return NULL;
    }

  /* A hash of nothing anyone knows, with the same cost as real ones, for
   * logins of users that do not exist. */
  randombytes_buf (random, sizeof random);
  if (crypto_pwhash_str_alg (out, (const char *) random, sizeof random, HASH_OPSLIMIT,
                             HASH_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INTERNAL, "argon2id hashing failed");
      return NULL;
    }

  self = g_new0 (NatterdAuth, 1);
  self->directory = directory;
  self->dummy_hash = g_strdup (out);
  self->jobs = g_hash_table_new (NULL, NULL);
  limiter_init (&self->registrations_by_address, HOUR_MS);
  limiter_init (&self->failures_by_address, MINUTE_MS);
  limiter_init (&self->failures_by_user, MINUTE_MS);
  self->tokens = g_hash_table_new_full (token_hash_hash, token_hash_equal, NULL, g_free);

  threads = config->hash_threads > 0 ? config->hash_threads : g_get_num_processors ();
  self->pool = g_thread_pool_new (worker, self, (gint) MAX (threads, 1), FALSE, error);
  if (self->pool == NULL)
    {
      natterd_auth_free (self);
      return NULL;
    }
  self->expire_source = g_timeout_add_seconds (3600, expire_tokens_cb, self);
  return self;
}

void
natterd_auth_free (NatterdAuth *self)
{
  GHashTableIter iter;
  gpointer key;

  if (self == NULL)
    return;
  g_clear_handle_id (&self->expire_source, g_source_remove);
  /* Let the workers finish what they hold; after that no thread touches a
   * job, and the callbacks not yet run are cancelled here. */
  if (self->pool != NULL)
    g_thread_pool_free (self->pool, FALSE, TRUE);
  g_hash_table_iter_init (&iter, self->jobs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Job *job = key;
      natterd_request_error (job->request, NATTER_ERROR_SERVER_BUSY, "The server is shutting down");
      job_free (job);
    }
  g_hash_table_unref (self->jobs);
  g_hash_table_unref (self->registrations_by_address.buckets);
  g_hash_table_unref (self->failures_by_address.buckets);
  g_hash_table_unref (self->failures_by_user.buckets);
  g_clear_pointer (&self->tokens, g_hash_table_unref);
  g_free (self->dummy_hash);
  g_free (self);
}

/* --- what the session handlers call --- */

void
natterd_auth_register (NatterdAuth    *self,
                       NatterdRequest *request,
                       char           *username,
                       const char     *password,
                       const char     *display_name)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  const char *address = natterd_connection_get_address_key (natterd_request_get_connection (request));
  gint64 now = natterd_now_ms ();
  gint64 retry;
  Job *job;

  retry = limiter_peek (&self->registrations_by_address, address,
                        config->registrations_per_hour_per_address, now);
  if (retry > 0)
    {
      g_free (username);
      natterd_request_rate_limited (request, retry);
      return;
    }
  if (natterd_directory_find_user (self->directory, username) != NULL)
    {
      g_free (username);
      natterd_request_error (request, NATTER_ERROR_USERNAME_TAKEN, "That username is taken");
      return;
    }
  limiter_take (&self->registrations_by_address, address,
                config->registrations_per_hour_per_address, now);

  job = g_new0 (Job, 1);
  job->kind = JOB_REGISTER;
  job->request = request;
  job->password_len = strlen (password);
  job->password = g_memdup2 (password, job->password_len + 1);
  job->username = username;
  job->display_name = g_strdup (display_name ? display_name : job->username);
  queue_job (self, job);
}

void
natterd_auth_login_token (NatterdAuth    *self,
                          NatterdRequest *request,
                          const char     *token)
{
  NatterdDirectory *dir = self->directory;
  const NatterdConfig *config = natterd_directory_get_config (dir);
  const char *address = natterd_connection_get_address_key (natterd_request_get_connection (request));
  g_autoptr(GError) error = NULL;
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  gint64 now = natterd_now_ms ();
  gint64 user_id = 0, expires = 0;
  NatterdUser *user = NULL;
  gint64 retry;

  retry = limiter_peek (&self->failures_by_address, address,
                        config->failed_logins_per_minute_per_address, now);
  if (retry > 0)
    {
      natterd_request_rate_limited (request, retry);
      return;
    }

  token_hash (token, hash);
  if (token_lookup (self, hash, &user_id, &expires, &error))
    user = natterd_directory_find_user_id (dir, user_id);
  else if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }

  if (user == NULL || expires <= now)
    {
      if (user != NULL)
        token_delete (self, hash, NULL); /* expired: best effort, no reply waits for it */
      limiter_take (&self->failures_by_address, address,
                    config->failed_logins_per_minute_per_address, now);
      natterd_request_error (request, NATTER_ERROR_AUTH_FAILED, "Invalid or expired token");
      return;
    }

  log_in (self, request, user, token, hash, expires);
}

void
natterd_auth_login_password (NatterdAuth    *self,
                             NatterdRequest *request,
                             const char     *raw_username,
                             const char     *password)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  const char *address = natterd_connection_get_address_key (natterd_request_get_connection (request));
  g_autofree char *username = NULL;
  g_autofree char *user_key = NULL;
  NatterdUser *user;
  gint64 now = natterd_now_ms ();
  gint64 retry;
  Job *job;

  username = natter_username_normalize (raw_username, NULL);
  /* Failures are counted per name as typed (lower-cased, bounded), so a
   * name that cannot exist is limited like one that does. */
  user_key = username ? g_strdup (username) : g_ascii_strdown (raw_username, MIN (strlen (raw_username), 64));

  retry = MAX (limiter_peek (&self->failures_by_address, address,
                             config->failed_logins_per_minute_per_address, now),
               limiter_peek (&self->failures_by_user, user_key,
                             config->failed_logins_per_minute_per_user, now));
  if (retry > 0)
    {
      natterd_request_rate_limited (request, retry);
      return;
    }

  user = natterd_directory_find_user (self->directory, username);

  job = g_new0 (Job, 1);
  job->kind = JOB_LOGIN;
  job->request = request;
  job->password_len = strlen (password);
  job->password = g_memdup2 (password, job->password_len + 1);
  job->user = user;
  job->hash = g_strdup (user ? user->password_hash : self->dummy_hash);
  job->username = g_steal_pointer (&user_key);
  job->address_key = g_strdup (address);
  queue_job (self, job);
}

gboolean
natterd_auth_revoke_token (NatterdAuth   *self,
                           const guint8  *hash,
                           GError       **error)
{
  return token_delete (self, hash, error);
}
