/* natterd-auth.c: accounts, passwords, tokens and the login limits; the
 * handlers that use them are in natterd-handlers-session.c.
 *
 * Passwords are hashed with argon2id (libsodium) in a GThreadPool: a hash
 * takes tens of milliseconds and 19 MiB, which must never stall the main
 * loop. The request is finished from the main loop afterwards; the handlers
 * are flagged PAUSES so the connection's next frames wait for the login.
 *
 * A login for a user that does not exist is verified against a dummy hash,
 * so it takes as long as a wrong password. Where the directory must be
 * read again before "no such user" (a store other nodes share), the dummy
 * is verified while it is read, not after: the answer then waits for the
 * longer of the two, as a wrong password waits for its hash alone. The failed-login limits are
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
#include "natterd-features.h"
#include "natterd-cluster.h"
#include "natterd-directory-refresh.h"
#include "natterd-handlers-private.h"
#include "natterd-presence.h"
#include "natterd-reads.h"
#include "natterd-session.h"
#include "natterd-token-bucket.h"

#ifndef NATTERD_FUZZ_CHEAP_HASH
/* OWASP's argon2id floor: m = 19 MiB, t = 2, p = 1. */
#define HASH_OPSLIMIT   2
#define HASH_MEMLIMIT   (19 * 1024 * 1024)
#else
/* Fuzz builds only (-Dfuzzing=true sets the define; server/meson.build):
 * at 19 MiB a hash takes tens of milliseconds, and tests/fuzz/fuzz-server
 * would spend nearly all of its time hashing instead of finding bugs in
 * the handlers. argon2id's own minimum keeps the same code path (the
 * parameters travel in the stored hash string) at a few microseconds.
 * A build without the define, natterd's every real one, never gets here. */
#define HASH_OPSLIMIT   crypto_pwhash_OPSLIMIT_MIN
#define HASH_MEMLIMIT   crypto_pwhash_MEMLIMIT_MIN
#endif

/* The least retry_after of a full hash queue, and a hash's duration
 * until one is measured. */
#define HASH_RETRY_MIN_MS 100
#define HASH_US_FIRST     (100 * 1000)

#define TOKEN_BYTES     32
#define TOKEN_TEXT_LEN  sodium_base64_ENCODED_LEN (TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
#define MINUTE_MS       (60 * 1000)
#define HOUR_MS         (60 * MINUTE_MS)
#define DAY_MS          (24 * HOUR_MS)
/* A limiter prunes its full buckets past this many keys. */
#define LIMITER_PRUNE   10000
/* The token cache is emptied (and refills from the store) at this size:
 * 64 bytes an entry, so at most ~6 MB. */
#define TOKEN_CACHE_MAX 100000

typedef struct {
  GHashTable       *buckets;   /* key -> NatterdTokenBucket* */
  gint64            window_ms;
  const char       *kind;      /* its name in a cluster's shared counts */
  NatterdDirectory *directory; /* borrowed: its cluster, if any */
} Limiter;

/* A token the store holds, as the store holds it. */
typedef struct {
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  gint64 user_id;
  gint64 expires;    /* ms since the epoch */
  gint64 last_used;  /* the last login with it on this node (ms), 0: none since natterd started */
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
  gint64            hash_us;     /* how long a hash takes, a moving average (µs) */
  guint64           abandoned;   /* jobs not hashed: their client had gone */
};

typedef enum {
  JOB_REGISTER,
  JOB_LOGIN,
  JOB_HASH,       /* natterd_auth_hash_password: a hash and nothing else */
  JOB_DUMMY,      /* LOGIN of an unknown name: the dummy verified while the directory is read */
  JOB_VERIFY,     /* natterd_auth_verify_password: a logged-in user's password, and perhaps a new hash */
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
  char           *invite_code;  /* REGISTER, with registration = invite */
  char           *address_key;
  GSource        *source;       /* the main-loop callback, once the work is done */
  gboolean        disabled;     /* LOGIN: the right password of a disabled account */
  NatterdAuthHashedFunc hashed; /* HASH: told the result */
  gpointer        hashed_data;
  char           *new_password; /* VERIFY: hashed once the password matched; wiped after use */
  gsize           new_password_len;
  char           *new_hash;     /* VERIFY: its hash */
  NatterdAuthVerifiedFunc verified; /* VERIFY: told on success */
  gpointer        verified_data;
  GDestroyNotify  verified_destroy; /* VERIFY: frees verified_data unless verified took it */
  gint64          hash_us;      /* how long the worker took */
  gboolean        abandoned;    /* not hashed: the request's connection had closed */
} Job;

/* --- limiters --- */

static void
limiter_init (Limiter          *limiter,
              gint64            window_ms,
              const char       *kind,
              NatterdDirectory *directory)
{
  limiter->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  limiter->window_ms = window_ms;
  limiter->kind = kind;
  limiter->directory = directory;
}

/* In a cluster, the uses on every node count (natterd-cluster-limits.h). */
static NatterdClusterLimits *
limiter_shared (Limiter *limiter)
{
  NatterdCluster *cluster = limiter->directory->cluster;

  return cluster != NULL ? natterd_cluster_get_limits (cluster) : NULL;
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
  return MAX (natterd_token_bucket_peek (limiter_bucket (limiter, key, capacity, now),
                                         capacity, limiter_rate (limiter, capacity), now * 1000),
              natterd_cluster_limits_peek (limiter_shared (limiter), limiter->kind, key, capacity,
                                           limiter->window_ms / 1000));
}

/* @answer, when not NULL, is the request about to be answered for this
 * use: in a cluster its answer waits until the use is counted there, so
 * that the client's next try, on whichever node, finds it counted. */
static void
limiter_take (Limiter        *limiter,
              const char     *key,
              guint           capacity,
              gint64          now,
              NatterdRequest *answer)
{
  if (capacity == 0 || key == NULL)
    return;
  natterd_token_bucket_take (limiter_bucket (limiter, key, capacity, now),
                             capacity, limiter_rate (limiter, capacity), now * 1000);
  natterd_cluster_limits_count (limiter_shared (limiter), limiter->kind, key, limiter->window_ms / 1000,
                                answer);
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
  if (job->new_password != NULL)
    {
      sodium_memzero (job->new_password, job->new_password_len);
      g_free (job->new_password);
    }
  g_free (job->new_hash);
  if (job->verified_destroy != NULL)
    job->verified_destroy (job->verified_data);
  g_free (job->hash);
  g_free (job->username);
  g_free (job->display_name);
  g_free (job->invite_code);
  g_free (job->address_key);
  if (job->source != NULL)
    {
      g_source_destroy (job->source);
      g_source_unref (job->source);
    }
  g_free (job);
}

static gboolean job_done_cb (gpointer user_data);

/* argon2id of @password (a new string), or NULL when hashing failed. */
static char *
hash_password (const char *password,
               gsize       len)
{
  char out[crypto_pwhash_STRBYTES];

  if (crypto_pwhash_str_alg (out, password, len, HASH_OPSLIMIT, HASH_MEMLIMIT,
                             crypto_pwhash_ALG_ARGON2ID13) == 0)
    return g_strdup (out);
  g_warning ("argon2id hashing failed (out of memory?)");
  return NULL;
}

static void
worker (gpointer data,
        gpointer user_data)
{
  Job *job = data;
  GSource *source;
  gint64 started = g_get_monotonic_time ();

  /* A client that went away while its login waited in the queue (it
   * gave up, and perhaps queued another) is not hashed for: in a storm of
   * logins that is most of the queue. Its reply would be dropped. */
  if (job->request != NULL && natterd_connection_is_gone (natterd_request_get_connection (job->request)))
    job->abandoned = TRUE;
  else if (job->kind == JOB_REGISTER || job->kind == JOB_HASH)
    {
      job->hash = hash_password (job->password, job->password_len);
      job->ok = job->hash != NULL;
    }
  else
    {
      /* A disabled account's hash is locked with a leading '!'
       * (natterd_auth_hash_is_locked): the right password is told
       * apart, so that its owner learns why, and nobody else does. */
      gboolean locked = natterd_auth_hash_is_locked (job->hash);
      gboolean match = crypto_pwhash_str_verify (natterd_auth_hash_unlocked (job->hash), job->password,
                                                 job->password_len) == 0;
      job->ok = match && !locked && job->user != NULL;
      job->disabled = match && locked && job->user != NULL;
      if (job->ok && job->new_password != NULL)
        {
          job->new_hash = hash_password (job->new_password, job->new_password_len);
          sodium_memzero (job->new_password, job->new_password_len);
        }
    }
  sodium_memzero (job->password, job->password_len);
  job->hash_us = g_get_monotonic_time () - started;

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, job_done_cb, job, NULL);
  g_source_set_static_name (source, "natterd-auth-done");
  job->source = source;
  g_source_attach (source, NULL);
}

/* A login or registration that would wait behind more than
 * hash_queue_per_thread others per hash thread is answered rate_limited at
 * once, with the time the queue takes to drain as retry_after. Unbounded,
 * a storm of password logins (256 clients on 2 threads in the soak) made
 * each wait 20 to 80 s with no answer, the connection's reading paused
 * and its login timeout stopped meanwhile; clients that gave up and came
 * back queued their hash again behind their own first one. */
static gboolean
refuse_when_queue_full (NatterdAuth *self, NatterdRequest *request)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  guint threads = MAX (1, (guint) g_thread_pool_get_max_threads (self->pool));
  guint waiting = g_thread_pool_unprocessed (self->pool);

  if (waiting < (guint64) config->hash_queue_per_thread * threads)
    return FALSE;
  natterd_request_rate_limited (request, MAX (HASH_RETRY_MIN_MS, (gint64) waiting * self->hash_us / threads / 1000));
  return TRUE;
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
      if (job->kind == JOB_HASH)
        job->hashed (NULL, job->hashed_data);
      else if (job->kind == JOB_DUMMY)
        natterd_request_release (job->request);
      else
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
 * as failed logins instead.
 *
 * In a cluster another node's logout deletes the row under this node's
 * cache. The entry leaves it when the bus says so (at once), and in any
 * case at this node's next refresh of the directory, which reads the
 * revocations noted since the last one it read (natterd_store_tokens_revoked:
 * every 30 s, and when the bus comes back), so a node that missed the
 * bus's word accepts the token for at most that long, never until it
 * restarts. A lookup of the reader thread that found the row before the
 * logout completes before a refresh that read the revocation (the reader
 * completes its jobs in order), so it cannot put the entry back after. */

static guint
token_hash_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h); /* SHA-256 output: any four bytes will do */
  return h;
}

/* The key looked up is the SHA-256 of what a client sent, so even a
 * comparison that stopped at the first differing byte would only tell an
 * attacker how much of a hash of their own guess matches a stored hash,
 * which brings no guess closer (SHA-256 has no known preimages). Compared
 * in constant time all the same: it costs nothing here, and the argument
 * then need not be made again (docs/security.md, "Tokens"). */
static gboolean
token_hash_equal (gconstpointer a,
                  gconstpointer b)
{
  return sodium_memcmp (a, b, NATTERD_TOKEN_HASH_LEN) == 0;
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

  entry = g_new0 (CachedToken, 1);
  memcpy (entry->hash, hash, sizeof entry->hash);
  entry->user_id = user_id;
  entry->expires = expires;
  g_hash_table_replace (self->tokens, entry->hash, entry);
}

/* --- the store's token rows, written and read off the main loop ---
 *
 * A token row is written by the writer thread (a registration's user row
 * with it) and the login answered once it has committed; a token the cache
 * does not hold is looked up by the reader thread. The main loop never
 * waits on the database. Their completions find the NatterdAuth through
 * the directory: it is gone (NULL) when they complete during a stop. */

typedef struct {
  NatterdCommitWrite write;
  NatterdUser       *user;           /* NULL for a registration, until applied */
  gint64             user_id;
  char              *username;       /* a registration's, else NULL */
  char              *display_name;
  char              *password_hash;
  char              *invite_code;    /* used up with the account, or NULL */
  gboolean           invite_refused; /* unknown, used up or expired */
  guint8             hash[NATTERD_TOKEN_HASH_LEN];
  char               token[TOKEN_TEXT_LEN];  /* wiped when freed */
  gint64             expires;
  char              *device;         /* the login's (feature accounts), or NULL */
  char              *address;        /* the limit key of the login's connection */
} TokenWrite;

static void log_in (NatterdAuth *self, NatterdRequest *request, NatterdUser *user,
                    const char *token, const guint8 *hash, gint64 expires);

static void
token_write_free (TokenWrite *w)
{
  natterd_commit_write_clear (&w->write);
  sodium_memzero (w->token, sizeof w->token);
  g_free (w->username);
  g_free (w->display_name);
  g_free (w->password_hash);
  g_free (w->invite_code);
  g_free (w->device);
  g_free (w->address);
  g_free (w);
}

/* Writer thread. */
static gboolean
token_write_run (NatterdWriteJob *job,
                 NatterdStore    *store,
                 GError         **error)
{
  TokenWrite *w = (TokenWrite *) job;
  gboolean invite_ok = TRUE;

  /* The code's use and the account commit together or not at all (the
   * job is atomic): a failed registration leaves the use. */
  if (w->invite_code != NULL &&
      !natterd_store_invite_consume (store, w->invite_code, natterd_now_ms (), &invite_ok, error))
    return FALSE;
  if (!invite_ok)
    {
      w->invite_refused = TRUE;
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_REGISTRATION_CLOSED, NATTERD_INVITE_REFUSED);
      return FALSE;
    }
  if (w->username != NULL &&
      !natterd_store_user_insert (store, w->username, w->display_name, w->password_hash,
                                  natterd_now_ms (), &w->user_id, error))
    return FALSE;
  return natterd_store_token_insert (store, w->hash, w->user_id, w->expires, error) &&
         natterd_store_token_set_device (store, w->hash, w->device, w->address, error);
}

static void
token_write_done (NatterdWriteJob *job,
                  const GError    *error)
{
  TokenWrite *w = (TokenWrite *) job;
  NatterdRequest *request = w->write.request;
  NatterdDirectory *dir = natterd_directory_from_request (request);

  natterd_commit_write_done (&w->write);
  if (w->invite_refused)
    natterd_request_error (request, NATTER_ERROR_REGISTRATION_CLOSED, NATTERD_INVITE_REFUSED);
  else if (w->username != NULL && g_error_matches (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CONSTRAINT))
    /* Taken meanwhile, perhaps through another node. */
    natterd_request_error (request, NATTER_ERROR_USERNAME_TAKEN, "That username is taken");
  else if (error != NULL)
    natterd_request_store_error (request, error);
  else if (dir->auth == NULL)
    natterd_request_error (request, NATTER_ERROR_SERVER_BUSY, "The server is shutting down");
  else
    {
      if (w->username != NULL)
        {
          w->user = natterd_directory_add_user (dir, w->user_id, w->username, w->display_name,
                                                w->password_hash);
          g_message ("registered user %s", w->user->username);
          /* Answered once the other nodes have read it, as every change
           * of the directory: a message to the new user sent at once on
           * another node (or to another of the user's devices there)
           * finds them. */
          natterd_cluster_directory_changed (dir->cluster, request);
        }
      token_cache_add (dir->auth, w->hash, w->user->id, w->expires);
      log_in (dir->auth, request, w->user, w->token, w->hash, w->expires);
    }
  token_write_free (w);
}

/* A token row deleted by the writer thread: a logout waits for it, an
 * expired token's removal (@request NULL) does not. */
typedef struct {
  NatterdCommitWrite write;
  guint8             hash[NATTERD_TOKEN_HASH_LEN];
  NatterdAuthRevokedFunc revoked;
} TokenDelete;

static gboolean
token_delete_run (NatterdWriteJob *job,
                  NatterdStore    *store,
                  GError         **error)
{
  TokenDelete *d = (TokenDelete *) job;

  return natterd_store_token_delete (store, d->hash, error);
}

static void
token_delete_done (NatterdWriteJob *job,
                   const GError    *error)
{
  TokenDelete *d = (TokenDelete *) job;

  if (d->revoked != NULL)
    {
      natterd_commit_write_done (&d->write);
      d->revoked (d->write.request, d->hash, error);
      natterd_commit_write_clear (&d->write);
    }
  else if (error != NULL)
    g_warning ("Could not remove an expired token: %s", error->message);
  g_free (d);
}

/* Revokes a token: out of the cache first, then out of the store. */
static void
token_delete (NatterdAuth            *self,
              NatterdRequest         *request,
              const guint8           *hash,
              NatterdAuthRevokedFunc  revoked)
{
  TokenDelete *d = g_new0 (TokenDelete, 1);

  g_hash_table_remove (self->tokens, hash);
  memcpy (d->hash, hash, sizeof d->hash);
  d->revoked = revoked;
  if (request == NULL)
    {
      d->write.job.run = token_delete_run;
      d->write.job.done = token_delete_done;
      natterd_commit_push (self->directory->commit, &d->write.job);
      return;
    }
  natterd_commit_write_init (&d->write, self->directory->commit, request,
                             token_delete_run, token_delete_done);
  natterd_commit_write_queue (&d->write);
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
  guint features = 0;
  gboolean has_features = FALSE;

  /* For natterctl user sessions and the feature accounts' sessions;
   * kept in memory only, since writing it would cost every login a
   * write. */
  natterd_auth_token_touch (self, hash);
  self->directory->counts.logins_ok++;

  /* Checked by the handler already: this cannot fail. The features
   * belong to this login (natterd_session_end turns them off). */
  natterd_features_read (request, &features, &has_features);
  if (!natterd_connection_is_closed (connection))
    {
      natterd_connection_set_features (connection, features);
      natterd_session_attach (self->directory, connection, user, hash);
    }

  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, user, NULL);
  natter_json_writer_key (w, "token");
  natter_json_writer_string (w, token);
  natter_json_writer_key (w, "expires");
  natter_json_writer_int (w, expires);
  if (has_features)
    natterd_features_write (w, features);
  natterd_request_finish_ok (request);
}

/* Makes a new token for @user (for a registration: @user NULL, and the
 * account from @job), has its hash stored (with the account), and then
 * logs in. */
static void
issue_token_and_log_in (NatterdAuth    *self,
                        NatterdRequest *request,
                        NatterdUser    *user,
                        Job            *job)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  TokenWrite *w = g_new0 (TokenWrite, 1);
  guint8 random[TOKEN_BYTES];
  const char *device = NULL;

  randombytes_buf (random, sizeof random);
  sodium_bin2base64 (w->token, sizeof w->token, random, sizeof random,
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (random, sizeof random);
  token_hash (w->token, w->hash);
  w->expires = natterd_now_ms () + (gint64) MAX (config->token_lifetime_days, 1) * DAY_MS;
  w->user = user;
  /* Checked by the handler already: this cannot fail. */
  natterd_arg_device (request, &device);
  w->device = g_strdup (device);
  w->address = g_strdup (natterd_connection_get_address_key (natterd_request_get_connection (request)));
  if (user != NULL)
    w->user_id = user->id;
  else
    {
      w->username = g_strdup (job->username);
      w->display_name = g_strdup (job->display_name);
      w->password_hash = g_strdup (job->hash);
      w->invite_code = g_strdup (job->invite_code);
    }
  natterd_commit_write_init (&w->write, self->directory->commit, request,
                             token_write_run, token_write_done);
  w->write.job.atomic = TRUE; /* an account without its token, or neither */
  natterd_commit_write_queue (&w->write);
}

static void
finish_register (NatterdAuth *self, Job *job)
{
  NatterdDirectory *dir = self->directory;

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
  issue_token_and_log_in (self, job->request, NULL, job);
}

/* A wrong password, counted against the address and the user. A failure
 * is answered once counted everywhere: a guesser that spreads over the
 * nodes meets one limit. */
static void
count_failure (NatterdAuth    *self,
               NatterdRequest *request,
               const char     *address_key,
               const char     *user_key)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  gint64 now = natterd_now_ms ();

  limiter_take (&self->failures_by_address, address_key,
                config->failed_logins_per_minute_per_address, now, request);
  limiter_take (&self->failures_by_user, user_key,
                config->failed_logins_per_minute_per_user, now, request);
}

/* A failed login: counted, then answered. */
static void
fail_login (NatterdAuth    *self,
            NatterdRequest *request,
            const char     *address_key,
            const char     *user_key)
{
  count_failure (self, request, address_key, user_key);
  self->directory->counts.logins_failed++;
  natterd_request_error (request, NATTER_ERROR_AUTH_FAILED, "Wrong username or password");
}

/* How long the failed-login limits make a login of @user_key from
 * @address wait (ms), or 0. */
static gint64
login_retry_after (NatterdAuth *self,
                   const char  *address,
                   const char  *user_key)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  gint64 now = natterd_now_ms ();

  return MAX (limiter_peek (&self->failures_by_address, address,
                            config->failed_logins_per_minute_per_address, now),
              limiter_peek (&self->failures_by_user, user_key,
                            config->failed_logins_per_minute_per_user, now));
}

static void
finish_login (NatterdAuth *self, Job *job)
{
  /* Disabled while the password was checked, or before. */
  if (job->disabled || (job->ok && natterd_auth_hash_is_locked (job->user->password_hash)))
    {
      self->directory->counts.logins_failed++;
      natterd_request_error (job->request, NATTER_ERROR_AUTH_FAILED, "This account is disabled");
      return;
    }
  if (!job->ok)
    {
      fail_login (self, job->request, job->address_key, job->username);
      return;
    }
  issue_token_and_log_in (self, job->request, job->user, job);
}

/* A logged-in user's password checked (natterd_auth_verify_password): a
 * wrong one counts as a failed login, as at login. */
static void
finish_verify (NatterdAuth *self, Job *job)
{
  NatterdAuthVerifiedFunc verified = job->verified;

  if (job->disabled || (job->ok && natterd_auth_hash_is_locked (job->user->password_hash)))
    {
      natterd_request_error (job->request, NATTER_ERROR_AUTH_FAILED, "This account is disabled");
      return;
    }
  if (!job->ok)
    {
      count_failure (self, job->request, job->address_key, job->username);
      natterd_request_error (job->request, NATTER_ERROR_AUTH_FAILED, "Wrong password");
      return;
    }
  if (job->new_password != NULL && job->new_hash == NULL)
    {
      natterd_request_error (job->request, NATTER_ERROR_INTERNAL, "Could not hash the password");
      return;
    }
  /* The callback owns the data from here. */
  job->verified_destroy = NULL;
  verified (job->request, job->new_hash, job->verified_data);
}

static gboolean
job_done_cb (gpointer user_data)
{
  Job *job = user_data;
  NatterdAuth *self = job->auth;

  g_hash_table_remove (self->jobs, job);
  /* The context drops its own reference when this returns. */
  g_clear_pointer (&job->source, g_source_unref);
  /* Not hashed: its client had gone (counted as nothing: no failed
   * login, no time of a hash). Or gone while it was hashed (natterd
   * stopping closes every connection too): nobody to give a token or an
   * answer to, and no account or password change made for nobody. */
  if (job->abandoned || (job->request != NULL &&
                         natterd_connection_is_gone (natterd_request_get_connection (job->request))))
    {
      if (job->abandoned)
        self->abandoned++;
      else
        self->hash_us += (job->hash_us - self->hash_us) / 8;
      if (job->kind == JOB_DUMMY)
        natterd_request_release (job->request);
      else
        natterd_request_error (job->request, NATTER_ERROR_INTERNAL, "The connection closed");
      job_free (job);
      return G_SOURCE_REMOVE;
    }
  self->hash_us += (job->hash_us - self->hash_us) / 8;
  if (job->kind == JOB_REGISTER)
    finish_register (self, job);
  else if (job->kind == JOB_HASH)
    job->hashed (job->ok ? job->hash : NULL, job->hashed_data);
  else if (job->kind == JOB_DUMMY)
    natterd_request_release (job->request);
  else if (job->kind == JOB_VERIFY)
    finish_verify (self, job);
  else
    finish_login (self, job);
  job_free (job);
  return G_SOURCE_REMOVE;
}

typedef struct {
  NatterdWriteJob job;
  gint64          now;
} ExpireTokens;

static gboolean
expire_tokens_run (NatterdWriteJob *job,
                   NatterdStore    *store,
                   GError         **error)
{
  return natterd_store_tokens_expire (store, ((ExpireTokens *) job)->now, error);
}

static void
expire_tokens_done (NatterdWriteJob *job,
                    const GError    *error)
{
  if (error != NULL)
    g_warning ("Could not remove expired tokens: %s", error->message);
  g_free (job);
}

static gboolean
expire_tokens_cb (gpointer user_data)
{
  NatterdAuth *self = user_data;
  ExpireTokens *e = g_new0 (ExpireTokens, 1);

  /* Expired tokens are refused anyway; this only keeps the table small.
   * None of them is in the cache: a token login past its expiry takes
   * its entry out. */
  e->job.run = expire_tokens_run;
  e->job.done = expire_tokens_done;
  e->now = natterd_now_ms ();
  natterd_commit_push (self->directory->commit, &e->job);
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
  limiter_init (&self->registrations_by_address, HOUR_MS, "registrations-address", directory);
  limiter_init (&self->failures_by_address, MINUTE_MS, "failed-logins-address", directory);
  limiter_init (&self->failures_by_user, MINUTE_MS, "failed-logins-user", directory);
  self->tokens = g_hash_table_new_full (token_hash_hash, token_hash_equal, NULL, g_free);
  self->hash_us = HASH_US_FIRST;

  threads = config->hash_threads > 0 ? config->hash_threads : g_get_num_processors ();
  self->pool = g_thread_pool_new (worker, self, (gint) MAX (threads, 1), FALSE, error);
  if (self->pool == NULL)
    {
      natterd_auth_free (self);
      return NULL;
    }
  expire_tokens_cb (self);
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
      if (job->kind == JOB_HASH)
        job->hashed (NULL, job->hashed_data);
      else if (job->kind == JOB_DUMMY)
        natterd_request_release (job->request);
      else
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

guint64
natterd_auth_count_abandoned (NatterdAuth *self)
{
  return self->abandoned;
}

void
natterd_auth_register (NatterdAuth    *self,
                       NatterdRequest *request,
                       char           *username,
                       const char     *password,
                       const char     *display_name,
                       const char     *invite_code)
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
  /* Before the registration is counted: it did not happen. */
  if (refuse_when_queue_full (self, request))
    {
      g_free (username);
      return;
    }
  limiter_take (&self->registrations_by_address, address,
                config->registrations_per_hour_per_address, now, NULL);

  job = g_new0 (Job, 1);
  job->kind = JOB_REGISTER;
  job->request = request;
  job->password_len = strlen (password);
  job->password = g_memdup2 (password, job->password_len + 1);
  job->username = username;
  job->display_name = g_strdup (display_name ? display_name : job->username);
  job->invite_code = g_strdup (invite_code);
  queue_job (self, job);
}

/* A token login, once the token's row is known (@user_id 0: none). */
static void
finish_login_token (NatterdAuth    *self,
                    NatterdRequest *request,
                    const char     *token,
                    const guint8   *hash,
                    gint64          user_id,
                    gint64          expires)
{
  const NatterdConfig *config = natterd_directory_get_config (self->directory);
  const char *address = natterd_connection_get_address_key (natterd_request_get_connection (request));
  NatterdUser *user = user_id != 0 ? natterd_directory_find_user_id (self->directory, user_id) : NULL;
  gint64 now = natterd_now_ms ();

  /* A token made by another node, for an account registered there. */
  if (user_id != 0 && user == NULL && natterd_directory_refresh_wait (self->directory, request))
    return;

  if (user == NULL || expires <= now)
    {
      if (user != NULL)
        token_delete (self, NULL, hash, NULL); /* expired: nobody waits for it */
      limiter_take (&self->failures_by_address, address,
                    config->failed_logins_per_minute_per_address, now, request);
      self->directory->counts.logins_failed++;
      natterd_request_error (request, NATTER_ERROR_AUTH_FAILED, "Invalid or expired token");
      return;
    }
  log_in (self, request, user, token, hash, expires);
}

/* A token the cache does not hold, looked up by the reader thread. */
typedef struct {
  NatterdWriteJob  job;
  NatterdRequest  *request;
  char            *token;     /* wiped when freed */
  guint8           hash[NATTERD_TOKEN_HASH_LEN];
  gint64           user_id;   /* 0: not found */
  gint64           expires;
} TokenLookup;

static gboolean
token_lookup_run (NatterdWriteJob *job,
                  NatterdStore    *store,
                  GError         **error)
{
  TokenLookup *l = (TokenLookup *) job;
  g_autoptr(GError) local_error = NULL;

  if (natterd_store_token_lookup (store, l->hash, &l->user_id, &l->expires, &local_error))
    return TRUE;
  l->user_id = 0;
  if (local_error == NULL)
    return TRUE; /* no such token */
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static void
token_lookup_done (NatterdWriteJob *job,
                   const GError    *error)
{
  TokenLookup *l = (TokenLookup *) job;
  NatterdAuth *self = natterd_directory_from_request (l->request)->auth;

  if (error != NULL)
    natterd_request_store_error (l->request, error);
  else if (self == NULL)
    natterd_request_error (l->request, NATTER_ERROR_SERVER_BUSY, "The server is shutting down");
  else
    {
      /* Unknown tokens are not cached: they count as failed logins. */
      if (l->user_id != 0)
        token_cache_add (self, l->hash, l->user_id, l->expires);
      finish_login_token (self, l->request, l->token, l->hash, l->user_id, l->expires);
    }
  sodium_memzero (l->token, strlen (l->token));
  g_free (l->token);
  g_free (l);
}

void
natterd_auth_login_token (NatterdAuth    *self,
                          NatterdRequest *request,
                          const char     *token)
{
  NatterdDirectory *dir = self->directory;
  const NatterdConfig *config = natterd_directory_get_config (dir);
  const char *address = natterd_connection_get_address_key (natterd_request_get_connection (request));
  guint8 hash[NATTERD_TOKEN_HASH_LEN];
  CachedToken *entry;
  TokenLookup *l;
  gint64 retry;

  retry = limiter_peek (&self->failures_by_address, address,
                        config->failed_logins_per_minute_per_address, natterd_now_ms ());
  if (retry > 0)
    {
      natterd_request_rate_limited (request, retry);
      return;
    }

  token_hash (token, hash);
  entry = g_hash_table_lookup (self->tokens, hash);
  if (entry != NULL)
    {
      finish_login_token (self, request, token, hash, entry->user_id, entry->expires);
      return;
    }
  l = g_new0 (TokenLookup, 1);
  l->job.run = token_lookup_run;
  l->job.done = token_lookup_done;
  l->request = request;
  l->token = g_strdup (token);
  memcpy (l->hash, hash, sizeof hash);
  natterd_reads_push (dir->reads, &l->job);
}

/* A verification of PASSWORD (copied) against USER's hash, or the
 * dummy's; @user_key is taken. */
static Job *
new_login_job (NatterdAuth    *self,
               JobKind         kind,
               NatterdRequest *request,
               const char     *password,
               NatterdUser    *user,
               char           *user_key,
               const char     *address)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->request = request;
  job->password_len = strlen (password);
  job->password = g_memdup2 (password, job->password_len + 1);
  job->address_key = g_strdup (address);
  job->user = user;
  job->hash = g_strdup (user ? user->password_hash : self->dummy_hash);
  job->username = user_key;
  return job;
}

void
natterd_auth_login_password (NatterdAuth    *self,
                             NatterdRequest *request,
                             const char     *raw_username,
                             const char     *password)
{
  const char *address = natterd_connection_get_address_key (natterd_request_get_connection (request));
  g_autofree char *username = NULL;
  g_autofree char *user_key = NULL;
  NatterdUser *user;
  gint64 retry;

  username = natter_username_normalize (raw_username, NULL);
  /* Failures are counted per name as typed (lower-cased, bounded), so a
   * name that cannot exist is limited like one that does. */
  user_key = username ? g_strdup (username) : g_ascii_strdown (raw_username, MIN (strlen (raw_username), 64));

  retry = login_retry_after (self, address, user_key);
  if (retry > 0)
    {
      natterd_request_rate_limited (request, retry);
      return;
    }
  /* Known user or not, before anything is hashed; a login resumed after
   * the directory's read was let in already. */
  if (self->directory->resuming_refreshed != request && refuse_when_queue_full (self, request))
    return;

  user = natterd_directory_find_user (self->directory, username);
  /* A deleted account is answered as a name nobody has, after the same
   * work (the dummy's hash): its name tells nothing of it. */
  if (user != NULL && natterd_auth_hash_is_deleted (user->password_hash))
    user = NULL;
  if (user == NULL && username != NULL)
    {
      /* Perhaps registered through another node: asked again once this
       * one has read the store (the limits above are asked again too,
       * not taken). The dummy is verified meanwhile and holds the reply
       * back until it is done (natterd_request_hold), so an unknown name
       * is answered after the longer of the read and a hash. */
      if (natterd_directory_refresh_wait (self->directory, request))
        {
          natterd_request_hold (request);
          queue_job (self, new_login_job (self, JOB_DUMMY, request, password, NULL, NULL, address));
          return;
        }
      /* Still unknown after that read: the dummy was verified already. */
      if (self->directory->resuming_refreshed == request)
        {
          fail_login (self, request, address, user_key);
          return;
        }
    }

  queue_job (self, new_login_job (self, JOB_LOGIN, request, password, user, g_steal_pointer (&user_key), address));
}

void
natterd_auth_verify_password (NatterdAuth             *self,
                              NatterdRequest          *request,
                              NatterdUser             *user,
                              const char              *password,
                              const char              *new_password,
                              NatterdAuthVerifiedFunc  verified,
                              gpointer                 user_data,
                              GDestroyNotify           destroy)
{
  const char *address = natterd_connection_get_address_key (natterd_request_get_connection (request));
  gint64 retry;
  Job *job;

  /* The login's limits, before any hashing: a stolen session cannot
   * guess the password faster than a login could. */
  retry = login_retry_after (self, address, user->username);
  if (retry > 0 || refuse_when_queue_full (self, request))
    {
      if (destroy != NULL)
        destroy (user_data);
      if (retry > 0)
        natterd_request_rate_limited (request, retry);
      return;
    }

  job = new_login_job (self, JOB_VERIFY, request, password, user, g_strdup (user->username), address);
  if (new_password != NULL)
    {
      job->new_password_len = strlen (new_password);
      job->new_password = g_memdup2 (new_password, job->new_password_len + 1);
    }
  job->verified = verified;
  job->verified_data = user_data;
  job->verified_destroy = destroy;
  queue_job (self, job);
}

void
natterd_auth_hash_password (NatterdAuth           *self,
                            const char            *password,
                            NatterdAuthHashedFunc  hashed,
                            gpointer               user_data)
{
  Job *job = g_new0 (Job, 1);

  job->kind = JOB_HASH;
  job->password_len = strlen (password);
  job->password = g_memdup2 (password, job->password_len + 1);
  job->hashed = hashed;
  job->hashed_data = user_data;
  queue_job (self, job);
}

gint64
natterd_auth_token_last_used (NatterdAuth  *self,
                              const guint8 *hash)
{
  CachedToken *entry = g_hash_table_lookup (self->tokens, hash);

  return entry != NULL ? entry->last_used : 0;
}

void
natterd_auth_token_touch (NatterdAuth  *self,
                          const guint8 *hash)
{
  CachedToken *entry = g_hash_table_lookup (self->tokens, hash);

  if (entry != NULL)
    entry->last_used = natterd_now_ms ();
}

void
natterd_auth_session_to_text (const guint8 *hash,
                              char          out[NATTERD_SESSION_ID_LEN * 2 + 1])
{
  for (guint i = 0; i < NATTERD_SESSION_ID_LEN; i++)
    g_snprintf (out + 2 * i, 3, "%02x", hash[i]);
}

gboolean
natterd_auth_session_from_text (const char *text,
                                guint8      out[NATTERD_SESSION_ID_LEN])
{
  if (strlen (text) != NATTERD_SESSION_ID_LEN * 2)
    return FALSE;
  for (guint i = 0; i < NATTERD_SESSION_ID_LEN; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]), lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

gboolean
natterd_auth_hash_is_locked (const char *password_hash)
{
  return password_hash[0] == NATTERD_AUTH_LOCK;
}

char *
natterd_auth_hash_lock (const char *password_hash)
{
  return g_strdup_printf ("%c%s", NATTERD_AUTH_LOCK, password_hash);
}

gboolean
natterd_auth_hash_is_deleted (const char *password_hash)
{
  return strcmp (password_hash, NATTERD_AUTH_HASH_DELETED) == 0;
}

const char *
natterd_auth_hash_unlocked (const char *password_hash)
{
  return password_hash + (natterd_auth_hash_is_locked (password_hash) ? 1 : 0);
}

gboolean
natterd_invite_code_is_valid (const char *code)
{
  gsize len = strlen (code);

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (code[i]) && code[i] != '-' && code[i] != '_')
      return FALSE;
  return TRUE;
}

void
natterd_auth_forget_token (NatterdAuth  *self,
                           NatterdUser  *user,
                           const guint8 *hash)
{
  GList *l;

  g_hash_table_remove (self->tokens, hash);
  if (user == NULL)
    return;
  l = user->connections;
  while (l != NULL)
    {
      NatterdConnection *connection = l->data;
      GList *next = l->next;

      if (memcmp (natterd_session_get_token_hash (connection), hash, NATTERD_TOKEN_HASH_LEN) == 0)
        natterd_connection_close (connection);
      l = next;
    }
}

typedef struct {
  NatterdAuthRevoke which;
  const guint8     *prefix;
  gsize             prefix_len;
  GArray           *revoked;
} RevokeChoice;

static void
choose_token (const guint8 *hash,
              gint64        created_ms,
              gint64        expires_ms,
              const char   *device,
              const char   *address,
              gpointer      user_data)
{
  RevokeChoice *c = user_data;
  gboolean match = c->prefix != NULL && memcmp (hash, c->prefix, c->prefix_len) == 0;

  if (c->which == NATTERD_AUTH_REVOKE_ALL ||
      (c->which == NATTERD_AUTH_REVOKE_ALL_BUT) != match)
    g_array_append_vals (c->revoked, hash, 1);
}

gboolean
natterd_auth_revoke_run (NatterdStore      *store,
                         gint64             user_id,
                         NatterdAuthRevoke  which,
                         const guint8      *prefix,
                         gsize              prefix_len,
                         GArray            *revoked,
                         GError           **error)
{
  RevokeChoice choice = { which, prefix, prefix_len, revoked };

  /* Listed and deleted in one transaction: a token made meanwhile was
   * committed before it (the writer's order) and goes too. Each delete
   * is noted for the other nodes as a logout's is. */
  g_array_set_size (revoked, 0);
  if (!natterd_store_tokens_of_user (store, user_id, choose_token, &choice, error))
    return FALSE;
  for (guint i = 0; i < revoked->len; i++)
    if (!natterd_store_token_delete (store, natterd_auth_revoked_hash (revoked, i), error))
      return FALSE;
  return TRUE;
}

const guint8 *
natterd_auth_revoked_hash (GArray *revoked,
                           guint   i)
{
  return (const guint8 *) revoked->data + (gsize) i * NATTERD_TOKEN_HASH_LEN;
}

void
natterd_auth_revoked_apply (NatterdDirectory *dir,
                            NatterdUser      *user,
                            GArray           *revoked)
{
  /* Out of the token cache, here and on the other nodes, with every
   * connection that logged in with them: their next login is refused. */
  for (guint i = 0; i < revoked->len; i++)
    {
      const guint8 *hash = natterd_auth_revoked_hash (revoked, i);

      natterd_cluster_relay_revoked (dir->cluster, user->id, hash);
      if (dir->auth != NULL)
        natterd_auth_forget_token (dir->auth, user, hash);
    }
}

void
natterd_auth_revoke_token (NatterdAuth            *self,
                           NatterdRequest         *request,
                           const guint8           *hash,
                           NatterdAuthRevokedFunc  revoked)
{
  token_delete (self, request, hash, revoked);
}

guint
natterd_auth_queue_length (NatterdAuth *self)
{
  return g_thread_pool_unprocessed (self->pool);
}
