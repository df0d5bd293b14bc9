/* natter-secret.c: the sign-in token in the Secret Service (libsecret). */
#define G_LOG_DOMAIN "natter-secret"

#include <string.h>
#include <libsecret/secret.h>

#include "natter-secret.h"

/* Our schema, as stored; and the same matched whatever the item's schema
 * name says (see "unlock first" below). */
#define TOKEN_SCHEMA(flags)                               \
  {                                                       \
    "io.github.natter.Natter.Token", (flags),             \
    {                                                     \
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },       \
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },     \
      { "NULL", 0 },                                      \
    }                                                     \
  }

static const SecretSchema token_schemas[] = {
  TOKEN_SCHEMA (SECRET_SCHEMA_NONE),
  TOKEN_SCHEMA (SECRET_SCHEMA_DONT_MATCH_NAME),
};

static const SecretSchema *
token_schema (void)
{
  return &token_schemas[0];
}

static const SecretSchema *
token_schema_any_name (void)
{
  return &token_schemas[1];
}

/* The values are copies: libsecret keeps (a reference to) the table until
 * its async call ends, after the caller's strings may be gone. */
static GHashTable *
make_attributes (const char *server,
                 const char *username)
{
  GHashTable *attributes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  g_hash_table_insert (attributes, (gpointer) "server", g_strdup (server));
  if (username != NULL)
    g_hash_table_insert (attributes, (gpointer) "username", g_strdup (username));
  return attributes;
}

/* ---- unlock first ----------------------------------------------------------
 *
 * gnome-keyring shows the items of a locked keyring with their attributes
 * hashed and their schema as "org.freedesktop.Secret.Generic", and keeps
 * showing them so after the unlock. A search by our schema name found
 * nothing there: a keyring not unlocked at login looked like "no sign-in
 * stored", and signing out left the token behind. So every operation first
 * searches without the name, with SECRET_SEARCH_UNLOCK (the keyring asks for
 * its password, once), and only then does its work with the full schema,
 * on unlocked items. If the user dismisses the prompt, the work finds
 * nothing, as before. */

typedef void (*UnlockedFunc) (GTask *task, const char *server);

typedef struct {
  GTask        *task;
  char         *server;
  UnlockedFunc  then;
} UnlockStep;

static void
unlocked_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  UnlockStep *step = user_data;
  GError *error = NULL;
  GList *items;

  items = secret_service_search_finish (NULL, result, &error);
  g_list_free_full (items, g_object_unref);
  if (error != NULL)
    g_task_return_error (step->task, error); /* no Secret Service: fail, do not hang */
  else
    step->then (g_object_ref (step->task), step->server);
  g_object_unref (step->task);
  g_free (step->server);
  g_free (step);
}

/* Takes @task; calls @then with a new reference once the keyring holding
 * @server's items (if any) is unlocked. */
static void
unlock_then (GTask        *task,
             const char   *server,
             UnlockedFunc  then)
{
  UnlockStep *step = g_new0 (UnlockStep, 1);
  g_autoptr(GHashTable) attributes = make_attributes (server, NULL);

  step->task = task;
  step->server = g_strdup (server);
  step->then = then;
  secret_service_search (NULL, token_schema_any_name (), attributes,
                         SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK,
                         g_task_get_cancellable (task), unlocked_cb, step);
}

/* ---- store: clear what the server had, then store the new token ---------- */

typedef struct {
  char *server;
  char *username;
  char *token;
} StoreData;

static void
store_data_free (gpointer data)
{
  StoreData *d = data;

  g_free (d->server);
  g_free (d->username);
  /* The token is a secret: do not leave it in freed memory. */
  if (d->token != NULL)
    memset (d->token, 0, strlen (d->token));
  g_free (d->token);
  g_free (d);
}

static void
store_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
store_cleared_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StoreData *d = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = NULL;
  g_autofree char *label = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  /* Failing to clear (nothing there) is fine; an unreachable service will
   * fail the store too, and that error is the one to report. */
  secret_password_clear_finish (result, &error);
  g_clear_error (&error);

  attributes = make_attributes (d->server, d->username);
  label = g_strdup_printf ("Natter sign-in for %s on %s", d->username, d->server);
  /* Not inline: argument order is unspecified, and the steal must come last. */
  cancellable = g_task_get_cancellable (task);
  secret_password_storev (token_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                          label, d->token, cancellable,
                          store_done_cb, g_steal_pointer (&task));
}

/* Removes every token of @server, then calls @callback with @task. */
static void
clear_tokens (GTask               *task,
              const char          *server,
              GAsyncReadyCallback  callback)
{
  g_autoptr(GHashTable) attributes = make_attributes (server, NULL);

  secret_password_clearv (token_schema (), attributes, g_task_get_cancellable (task),
                          callback, task);
}

static void
store_unlocked (GTask      *task,
                const char *server)
{
  /* One token per server: an earlier account's is replaced. */
  clear_tokens (task, server, store_cleared_cb);
}

void
natter_secret_store_token_async (const char          *server,
                                 const char          *username,
                                 const char          *token,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  StoreData *d;

  g_return_if_fail (server != NULL && username != NULL && token != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_secret_store_token_async);

  d = g_new0 (StoreData, 1);
  d->server = g_strdup (server);
  d->username = g_strdup (username);
  d->token = g_strdup (token);
  g_task_set_task_data (task, d, store_data_free);
  unlock_then (g_steal_pointer (&task), server, store_unlocked);
}

gboolean
natter_secret_store_token_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- lookup --------------------------------------------------------------- */

typedef struct {
  char *username;
  char *token;
} LookupResult;

static void
lookup_result_free (gpointer data)
{
  LookupResult *r = data;

  g_free (r->username);
  if (r->token != NULL)
    memset (r->token, 0, strlen (r->token));
  g_free (r->token);
  g_free (r);
}

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GList *items;

  items = secret_service_search_finish (NULL, result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  for (GList *l = items; l != NULL; l = l->next)
    {
      SecretItem *item = l->data;
      g_autoptr(SecretValue) value = secret_item_get_secret (item);
      g_autoptr(GHashTable) attributes = secret_item_get_attributes (item);
      const char *username = g_hash_table_lookup (attributes, "username");
      const char *token = value != NULL ? secret_value_get_text (value) : NULL;

      if (username != NULL && token != NULL && *token != '\0')
        {
          LookupResult *r = g_new0 (LookupResult, 1);

          r->username = g_strdup (username);
          r->token = g_strdup (token);
          g_task_return_pointer (task, r, lookup_result_free);
          g_list_free_full (items, g_object_unref);
          return;
        }
    }

  g_list_free_full (items, g_object_unref);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "No sign-in is stored for this server");
}

static void
lookup_unlocked (GTask      *task,
                 const char *server)
{
  g_autoptr(GHashTable) attributes = make_attributes (server, NULL);

  /* Unlocked already (unlock_then): only the secrets to load. */
  secret_service_search (NULL, token_schema (), attributes, SECRET_SEARCH_LOAD_SECRETS,
                         g_task_get_cancellable (task), lookup_cb, task);
}

void
natter_secret_lookup_token_async (const char          *server,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (server != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_secret_lookup_token_async);
  unlock_then (g_steal_pointer (&task), server, lookup_unlocked);
}

gboolean
natter_secret_lookup_token_finish (GAsyncResult  *result,
                                   char         **out_username,
                                   char         **out_token,
                                   GError       **error)
{
  LookupResult *r;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return FALSE;
  if (out_username != NULL)
    *out_username = g_steal_pointer (&r->username);
  if (out_token != NULL)
    *out_token = g_steal_pointer (&r->token);
  lookup_result_free (r);
  return TRUE;
}

/* ---- clear ---------------------------------------------------------------- */

static void
clear_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  /* FALSE without an error means there was nothing to remove. */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
clear_unlocked (GTask      *task,
                const char *server)
{
  clear_tokens (task, server, clear_cb);
}

void
natter_secret_clear_async (const char          *server,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (server != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_secret_clear_async);
  unlock_then (g_steal_pointer (&task), server, clear_unlocked);
}

gboolean
natter_secret_clear_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
