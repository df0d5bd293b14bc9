#define G_LOG_DOMAIN "natterd-config"

#include "config.h"

#include <gio/gio.h>

#include <stdlib.h>
#include <string.h>

#include "natterd-config.h"

#include "natter-features.h"

NatterdConfig *
natterd_config_new_defaults (void)
{
  NatterdConfig *self = g_new0 (NatterdConfig, 1);
  const char *state_dir = g_getenv ("STATE_DIRECTORY");
  const char *default_listen[] = { "*:7447", NULL };

  self->listen = g_strdupv ((char **) default_listen);
  /* Under systemd, StateDirectory= tells us where our state belongs. */
  if (state_dir != NULL && *state_dir != '\0')
    self->data_dir = g_strdup (state_dir);
  else
    self->data_dir = g_build_filename (g_get_user_data_dir (), "natterd", NULL);
  self->tls = TRUE;
  self->registration = NATTERD_REGISTRATION_OPEN;
  self->token_lifetime_days = 30;
  self->hash_threads = MAX (1, g_get_num_processors ());
  self->send_threads = CLAMP (g_get_num_processors (), 1, 2);

  self->max_frame = 65536;
  self->frames_per_second = 200;
  self->frame_burst = 2000;
  self->connections_per_address = 64;
  self->registrations_per_hour_per_address = 20;
  self->failed_logins_per_minute_per_address = 20;
  self->failed_logins_per_minute_per_user = 5;
  self->hash_queue_per_thread = 32;
  self->output_queue_bytes = 8 * 1024 * 1024;
  self->handshake_timeout = 10;
  self->login_timeout = 30;
  self->idle_timeout = 120;
  self->messages_per_minute_per_user = 6000;
  self->max_file_bytes = 100 * 1024 * 1024;
  self->quota_bytes_per_user = G_GUINT64_CONSTANT (1024) * 1024 * 1024;
  self->uploads_per_user = 8;
  self->upload_expiry = 86400;
  self->blocks_per_user = 1000;

  self->synchronous_full = TRUE;
  self->database = g_strdup ("sqlite");

  /* NATTERD_DIRECTORY_REFRESH_MS_DEFAULT; the chat layer is not visible
   * from here. */
  self->directory_refresh_ms = 30000;
  return self;
}

void
natterd_config_free (NatterdConfig *self)
{
  if (self == NULL)
    return;
  g_strfreev (self->listen);
  g_free (self->data_dir);
  g_free (self->tls_cert);
  g_free (self->tls_key);
  g_free (self->database);
  g_free (self->password_file);
  g_free (self->bus);
  g_free (self->node_name);
  g_free (self->metrics);
  g_free (self->import_sqlite);
  g_free (self);
}

/* Reads an unsigned integer key, leaving *out alone when the key is absent.
 * Zero and negative values are refused: every limit must let something in. */
static gboolean
read_uint (GKeyFile   *file,
           const char *group,
           const char *key,
           guint64     max,
           guint64    *out,
           GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  guint64 value;

  text = g_key_file_get_value (file, group, key, &local_error);
  if (text == NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_strstrip (text);
  if (!g_ascii_string_to_unsigned (text, 10, 1, max, &value, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] %s: expected a whole number from 1 to %" G_GUINT64_FORMAT ", got '%s'",
                   group, key, max, text);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
read_bool (GKeyFile   *file,
           const char *group,
           const char *key,
           gboolean   *out,
           GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean value;

  if (!g_key_file_has_key (file, group, key, NULL))
    return TRUE;
  value = g_key_file_get_boolean (file, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] %s: expected true or false", group, key);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

gboolean
natterd_registration_from_string (const char          *text,
                                  NatterdRegistration *out)
{
  if (g_str_equal (text, "open") || g_str_equal (text, "true"))
    *out = NATTERD_REGISTRATION_OPEN;
  else if (g_str_equal (text, "closed") || g_str_equal (text, "false"))
    *out = NATTERD_REGISTRATION_CLOSED;
  else if (g_str_equal (text, "invite"))
    *out = NATTERD_REGISTRATION_INVITE;
  else
    return FALSE;
  return TRUE;
}

const char *
natterd_registration_to_string (NatterdRegistration mode)
{
  switch (mode)
    {
    case NATTERD_REGISTRATION_CLOSED: return "closed";
    case NATTERD_REGISTRATION_INVITE: return "invite";
    case NATTERD_REGISTRATION_OPEN:
    default:                          return "open";
    }
}

/* [server] registration: open, closed or invite; true and false (what
 * the key took before invitations) still mean open and closed. */
static gboolean
read_registration (GKeyFile            *file,
                   NatterdRegistration *out,
                   GError             **error)
{
  g_autofree char *value = NULL;

  if (!g_key_file_has_key (file, "server", "registration", NULL))
    return TRUE;
  value = g_key_file_get_string (file, "server", "registration", NULL);
  if (value == NULL || !natterd_registration_from_string (g_strstrip (value), out))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[server] registration: expected open, closed or invite");
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_string (GKeyFile   *file,
             const char *group,
             const char *key,
             char      **out)
{
  char *value;

  if (!g_key_file_has_key (file, group, key, NULL))
    return TRUE;
  value = g_key_file_get_string (file, group, key, NULL);
  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  g_free (*out);
  *out = value;
  return TRUE;
}

typedef struct {
  const char *group;
  const char *key;
  gsize       offset;
  gboolean    is_size; /* gsize, else guint */
  guint64     max;
} UintKey;

#define UINT_KEY(g, k, max) { g, #k, G_STRUCT_OFFSET (NatterdConfig, k), FALSE, max }
#define SIZE_KEY(g, k, max) { g, #k, G_STRUCT_OFFSET (NatterdConfig, k), TRUE, max }

static const UintKey uint_keys[] = {
  UINT_KEY ("server", token_lifetime_days, 3650),
  UINT_KEY ("server", hash_threads, 256),
  UINT_KEY ("server", send_threads, 64),
  SIZE_KEY ("limits", max_frame, 4 * 1024 * 1024),
  UINT_KEY ("limits", frames_per_second, 10000000),
  UINT_KEY ("limits", frame_burst, 100000000),
  UINT_KEY ("limits", connections_per_address, 10000000),
  UINT_KEY ("limits", registrations_per_hour_per_address, 10000000),
  UINT_KEY ("limits", failed_logins_per_minute_per_address, 10000000),
  UINT_KEY ("limits", failed_logins_per_minute_per_user, 10000000),
  UINT_KEY ("limits", hash_queue_per_thread, 10000000),
  SIZE_KEY ("limits", output_queue_bytes, G_GUINT64_CONSTANT (1) << 40),
  UINT_KEY ("limits", handshake_timeout, 3600),
  UINT_KEY ("limits", login_timeout, 86400),
  UINT_KEY ("limits", idle_timeout, 86400 * 7),
  UINT_KEY ("limits", messages_per_minute_per_user, 100000000),
  SIZE_KEY ("limits", max_file_bytes, G_GUINT64_CONSTANT (1) << 40),
  SIZE_KEY ("limits", quota_bytes_per_user, G_GUINT64_CONSTANT (1) << 40),
  UINT_KEY ("limits", uploads_per_user, 10000),
  UINT_KEY ("limits", upload_expiry, 86400 * 365),
  UINT_KEY ("limits", blocks_per_user, 100000),
  UINT_KEY ("cluster", directory_refresh_ms, 86400000),
};

/* Every key natterd reads that uint_keys does not list. */
static const struct {
  const char *group;
  const char *key;
} other_keys[] = {
  { "server", "listen" },
  { "server", "data_dir" },
  { "server", "tls" },
  { "server", "tls_cert" },
  { "server", "tls_key" },
  { "server", "registration" },
  { "server", "files" },
  { "server", "metrics" },
  { "storage", "synchronous" },
  { "storage", "database" },
  { "storage", "password_file" },
  { "cluster", "bus" },
  { "cluster", "node_name" },
};

static guint
n_known_keys (void)
{
  return G_N_ELEMENTS (uint_keys) + G_N_ELEMENTS (other_keys);
}

static void
known_key (guint        i,
           const char **out_group,
           const char **out_key)
{
  if (i < G_N_ELEMENTS (uint_keys))
    {
      *out_group = uint_keys[i].group;
      *out_key = uint_keys[i].key;
    }
  else
    {
      *out_group = other_keys[i - G_N_ELEMENTS (uint_keys)].group;
      *out_key = other_keys[i - G_N_ELEMENTS (uint_keys)].key;
    }
}

/* Levenshtein distance: how many letters to add, remove or change. */
static guint
edit_distance (const char *a,
               const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diagonal = row[0];

      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint above = row[j];

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] != b[j - 1]));
          diagonal = above;
        }
    }
  return row[lb];
}

/* The known name closest to @name, if it is close enough to be a typo:
 * a third of its letters, at least two, at most three. @group NULL: among
 * the groups, else among the keys of every group (a key may sit in the
 * wrong group), setting *out_group. */
static const char *
closest_name (const char  *name,
              const char  *group,
              const char **out_group)
{
  static const char *const groups[] = { "server", "limits", "storage", "cluster" };
  guint limit = CLAMP (strlen (name) / 3, 2, 3);
  const char *best = NULL;
  guint best_distance = G_MAXUINT;

  if (group == NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
        {
          guint d = edit_distance (name, groups[i]);

          if (d < best_distance)
            {
              best_distance = d;
              best = groups[i];
            }
        }
      return best_distance <= limit ? best : NULL;
    }
  for (guint i = 0; i < n_known_keys (); i++)
    {
      const char *g, *k;
      guint d;

      known_key (i, &g, &k);
      d = edit_distance (name, k);
      /* The same group wins a tie. */
      if (d < best_distance || (d == best_distance && g_str_equal (g, group)))
        {
          best_distance = d;
          best = k;
          *out_group = g;
        }
    }
  return best_distance <= limit ? best : NULL;
}

/* The line (from 1) of [@group], or of @key in it, in @text; 0 if not
 * found. */
static guint
find_line (const char *text,
           const char *group,
           const char *key)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *current = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *end;

      if (line[0] == '[' && (end = strchr (line, ']')) != NULL)
        {
          g_free (current);
          current = g_strndup (line + 1, end - line - 1);
          if (key == NULL && g_str_equal (current, group))
            return i + 1;
        }
      else if (key != NULL && current != NULL && g_str_equal (current, group) &&
               (end = strchr (line, '=')) != NULL)
        {
          *end = '\0';
          if (g_str_equal (g_strstrip (line), key))
            return i + 1;
        }
    }
  return 0;
}

static gboolean
is_known_key (const char *group,
              const char *key)
{
  for (guint i = 0; i < n_known_keys (); i++)
    {
      const char *g, *k;

      known_key (i, &g, &k);
      if (g_str_equal (g, group) && g_str_equal (k, key))
        return TRUE;
    }
  return FALSE;
}

/* A key natterd does not know is refused, not ignored: a misspelt
 * "registraton=false" would leave registration open without a word. */
static gboolean
check_known_keys (GKeyFile    *file,
                  const char  *text,
                  GError     **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (file, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      const char *group = groups[i];
      g_auto(GStrv) keys = NULL;

      if (!g_str_equal (group, "server") && !g_str_equal (group, "limits") &&
          !g_str_equal (group, "storage") && !g_str_equal (group, "cluster"))
        {
          const char *guess = closest_name (group, NULL, NULL);
          g_autofree char *hint = guess != NULL ? g_strdup_printf (" (did you mean [%s]?)", guess)
                                                : g_strdup (" (natterd knows [server], [limits], [storage] and [cluster])");

          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                       "%u: unknown group [%s]%s", find_line (text, group, NULL), group, hint);
          return FALSE;
        }

      keys = g_key_file_get_keys (file, group, NULL, NULL);
      for (guint j = 0; keys != NULL && keys[j] != NULL; j++)
        {
          const char *guess_group = NULL;
          const char *guess;
          g_autofree char *hint = NULL;

          if (is_known_key (group, keys[j]))
            continue;
          guess = closest_name (keys[j], group, &guess_group);
          if (guess != NULL && g_str_equal (guess, keys[j]))
            hint = g_strdup_printf (" (it belongs in [%s])", guess_group);
          else if (guess != NULL && g_str_equal (guess_group, group))
            hint = g_strdup_printf (" (did you mean '%s'?)", guess);
          else if (guess != NULL)
            hint = g_strdup_printf (" (did you mean '%s', in [%s]?)", guess, guess_group);
          else
            hint = g_strdup (" (natterd.conf.example lists every key)");
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                       "%u: unknown key '%s' in [%s]%s",
                       find_line (text, group, keys[j]), keys[j], group, hint);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
natterd_config_parse_listen (const char  *entry,
                             char       **out_host,
                             guint16     *out_port,
                             GError     **error)
{
  const char *colon = strrchr (entry, ':');
  g_autofree char *host = NULL;
  guint64 port;

  if (colon == NULL || colon[1] == '\0')
    goto bad;
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXUINT64, &port, NULL))
    {
      /* All digits, yet no number: too long for one. */
      if (strspn (colon + 1, "0123456789") != strlen (colon + 1))
        goto bad;
      port = G_MAXUINT64;
    }
  if (port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "'%s': port %s out of range (1-65535, or 0 for any free port)", entry, colon + 1);
      return FALSE;
    }

  host = g_strndup (entry, colon - entry);
  if (host[0] == '[')
    {
      gsize len = strlen (host);
      if (len < 3 || host[len - 1] != ']')
        goto bad;
      memmove (host, host + 1, len - 2);
      host[len - 2] = '\0';
    }
  if (host[0] == '\0')
    goto bad;

  if (out_host != NULL)
    *out_host = g_steal_pointer (&host);
  if (out_port != NULL)
    *out_port = port;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "'%s': expected HOST:PORT, [IPv6]:PORT or *:PORT", entry);
  return FALSE;
}

/* [server] metrics and --metrics: HOST:PORT with HOST an IP address or
 * "*" (natterd-metrics binds it as it is: no name lookups). */
static gboolean
check_metrics (const char  *entry,
               GError     **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) address = NULL;

  if (!natterd_config_parse_listen (entry, &host, NULL, error))
    return FALSE;
  if (g_str_equal (host, "*") || (address = g_inet_address_new_from_string (host)) != NULL)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "'%s': the host must be an IP address (127.0.0.1, [::1]) or *", entry);
  return FALSE;
}

static gboolean
check_listen (char       **listen,
              GError     **error)
{
  for (guint i = 0; listen[i] != NULL; i++)
    if (!natterd_config_parse_listen (listen[i], NULL, NULL, error))
      return FALSE;
  return TRUE;
}

/* Reads every setting but the checks of known keys. Errors say which key. */
static gboolean
load_values (NatterdConfig *self,
             GKeyFile      *file,
             const char   **out_group,
             const char   **out_key,
             GError       **error)
{
  g_autofree char *sync_mode = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (uint_keys); i++)
    {
      const UintKey *k = &uint_keys[i];
      gpointer field = G_STRUCT_MEMBER_P (self, k->offset);
      guint64 value = k->is_size ? *(gsize *) field : *(guint *) field;

      *out_group = k->group;
      *out_key = k->key;
      if (!read_uint (file, k->group, k->key, k->max, &value, error))
        return FALSE;
      if (k->is_size)
        *(gsize *) field = value;
      else
        *(guint *) field = value;
    }

  *out_group = "server";
  *out_key = "tls";
  if (!read_bool (file, "server", "tls", &self->tls, error))
    return FALSE;
  *out_key = "registration";
  if (!read_registration (file, &self->registration, error))
    return FALSE;
  *out_key = "files";
  if (!read_bool (file, "server", "files", &self->files, error))
    return FALSE;
  read_string (file, "server", "data_dir", &self->data_dir);
  read_string (file, "server", "tls_cert", &self->tls_cert);
  read_string (file, "server", "tls_key", &self->tls_key);
  *out_key = "metrics";
  read_string (file, "server", "metrics", &self->metrics);
  if (self->metrics != NULL && self->metrics[0] == '\0')
    g_clear_pointer (&self->metrics, g_free);
  if (self->metrics != NULL && !check_metrics (self->metrics, error))
    {
      g_prefix_error (error, "[server] metrics: ");
      return FALSE;
    }

  *out_key = "listen";
  if (g_key_file_has_key (file, "server", "listen", NULL))
    {
      g_auto(GStrv) list = g_key_file_get_string_list (file, "server", "listen", NULL, NULL);
      if (list == NULL || list[0] == NULL)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "[server] listen: expected one or more HOST:PORT, separated by ';'");
          return FALSE;
        }
      for (guint i = 0; list[i] != NULL; i++)
        g_strstrip (list[i]);
      if (!check_listen (list, error))
        {
          g_prefix_error (error, "[server] listen: ");
          return FALSE;
        }
      g_strfreev (self->listen);
      self->listen = g_steal_pointer (&list);
    }

  *out_group = "storage";
  *out_key = "synchronous";
  read_string (file, "storage", "synchronous", &sync_mode);
  if (sync_mode != NULL)
    {
      if (g_str_equal (sync_mode, "full"))
        self->synchronous_full = TRUE;
      else if (g_str_equal (sync_mode, "normal"))
        self->synchronous_full = FALSE;
      else
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "[storage] synchronous: expected 'full' or 'normal', got '%s'", sync_mode);
          return FALSE;
        }
    }

  /* Which engine: the store layer reads the string (natterd_store_open_database). */
  *out_key = "database";
  read_string (file, "storage", "database", &self->database);
  if (self->database[0] == '\0')
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[storage] database: expected 'sqlite' or a PostgreSQL connection string");
      return FALSE;
    }
  read_string (file, "storage", "password_file", &self->password_file);
  read_string (file, "cluster", "bus", &self->bus);
  read_string (file, "cluster", "node_name", &self->node_name);

  *out_group = "limits";
  *out_key = "max_frame";
  if (self->max_frame < 1024)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[limits] max_frame: must be at least 1024 bytes");
      return FALSE;
    }
  return TRUE;
}

gboolean
natterd_config_load_file (NatterdConfig *self,
                          const char    *path,
                          GError       **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  const char *group = NULL, *key = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  if (!g_key_file_load_from_data (file, text, len, G_KEY_FILE_NONE, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return FALSE;
    }
  /* check_known_keys says "LINE: …". */
  if (!check_known_keys (file, text, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s:", path);
      return FALSE;
    }
  if (!load_values (self, file, &group, &key, &local_error))
    {
      guint line = find_line (text, group, key);

      if (line > 0)
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s:%u: ", path, line);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

static void
replace_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

NatterdConfig *
natterd_config_from_args (int        *argc,
                          char     ***argv,
                          gboolean   *out_exit,
                          GError    **error)
{
  g_autoptr(NatterdConfig) self = natterd_config_new_defaults ();
  g_autoptr(GOptionContext) context = NULL;
  g_auto(GStrv) listen = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *config_file = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *database = NULL;
  g_autofree char *import_sqlite = NULL;
  g_autofree char *bus = NULL;
  g_autofree char *node_name = NULL;
  g_autofree char *metrics = NULL;
  gboolean no_tls = FALSE;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &listen,
      "Address to listen on, HOST:PORT (repeatable; default *:7447, every address)", "HOST:PORT" },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      "Directory for the database, certificate and lock file", "DIR" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
      "Configuration file (GKeyFile; see natterd.conf.example)", "FILE" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      "TLS certificate chain, PEM (default: a self-signed one in the data directory)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
      "TLS private key, PEM", "FILE" },
    { "database", 0, 0, G_OPTION_ARG_STRING, &database,
      "Where messages are stored: sqlite (the default: natter.db in the data directory) "
      "or a PostgreSQL postgresql:// URI or key=value connection string", "URL" },
    { "import-sqlite", 0, 0, G_OPTION_ARG_FILENAME, &import_sqlite,
      "Copy the SQLite database FILE (a stopped natterd's natter.db) into the empty "
      "PostgreSQL database of --database, print the counts and exit", "FILE" },
    { "bus", 0, 0, G_OPTION_ARG_STRING, &bus,
      "Join a cluster: the Redis bus shared by every node, redis://HOST:PORT or unix:PATH "
      "(needs a shared PostgreSQL --database)", "ADDRESS" },
    { "node-name", 0, 0, G_OPTION_ARG_STRING, &node_name,
      "This node's name in the cluster (default: the host name and the listening port)", "NAME" },
    { "metrics", 0, 0, G_OPTION_ARG_STRING, &metrics,
      "Serve Prometheus metrics over plain HTTP (GET /metrics, no authentication) on HOST:PORT "
      "(default: off; keep it on 127.0.0.1)", "HOST:PORT" },
    { "no-tls", 0, 0, G_OPTION_ARG_NONE, &no_tls,
      "Serve plain TCP without TLS (only behind a trusted tunnel)", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
      "Print the version and exit", NULL },
    { NULL }
  };

  *out_exit = FALSE;
  context = g_option_context_new ("- the Natter chat server");
  g_option_context_set_summary (context,
      "Serves the Natter protocol (version 1) over TLS on TCP port 7447,\n"
      "with a UDP status probe on the same port. Messages are stored in SQLite\n"
      "in the data directory, or in PostgreSQL (--database). Every option can\n"
      "also be set in the config file.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return NULL;

  if (version)
    {
      g_print ("natterd %s\n", PACKAGE_VERSION);
      *out_exit = TRUE;
      return NULL;
    }

  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "unexpected argument '%s' (see --help)", (*argv)[1]);
      return NULL;
    }

  if (config_file != NULL && !natterd_config_load_file (self, config_file, error))
    return NULL;

  /* The command line wins over the file. Addresses are checked here, so
   * that a bad one stops natterd before it touches its data directory. */
  if (listen != NULL)
    {
      if (!check_listen (listen, error))
        {
          g_prefix_error (error, "--listen ");
          return NULL;
        }
      g_strfreev (self->listen);
      self->listen = g_steal_pointer (&listen);
    }
  if (data_dir != NULL)
    replace_string (&self->data_dir, data_dir);
  if (tls_cert != NULL)
    replace_string (&self->tls_cert, tls_cert);
  if (tls_key != NULL)
    replace_string (&self->tls_key, tls_key);
  if (no_tls)
    self->tls = FALSE;
  if (database != NULL)
    {
      if (database[0] == '\0')
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--database: expected 'sqlite' or a PostgreSQL connection string");
          return NULL;
        }
      replace_string (&self->database, database);
    }

  if (import_sqlite != NULL)
    {
      if (import_sqlite[0] == '\0')
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--import-sqlite: expected the path of a natter.db");
          return NULL;
        }
      self->import_sqlite = g_steal_pointer (&import_sqlite);
    }

  if (metrics != NULL)
    {
      if (!check_metrics (metrics, error))
        {
          g_prefix_error (error, "--metrics ");
          return NULL;
        }
      replace_string (&self->metrics, metrics);
    }
  if (bus != NULL)
    replace_string (&self->bus, bus);
  if (node_name != NULL)
    replace_string (&self->node_name, node_name);
  if (self->bus != NULL && self->bus[0] == '\0')
    g_clear_pointer (&self->bus, g_free);
  if (self->node_name != NULL && self->node_name[0] == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--node-name: expected a name");
      return NULL;
    }
  /* One natterd owns a SQLite database: a second node could not share it,
   * so a bus would only cost. */
  if (self->bus != NULL && g_str_equal (self->database, "sqlite"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--bus: a cluster shares a PostgreSQL database; give it with --database "
                   "(SQLite serves a single node)");
      return NULL;
    }

  if ((self->tls_cert == NULL) != (self->tls_key == NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls-cert and --tls-key go together");
      return NULL;
    }

  return g_steal_pointer (&self);
}

guint
natterd_config_features_offered (const NatterdConfig *config)
{
  guint all = 0;

  for (guint i = 0; natter_features_offered[i] != NULL; i++)
    all |= 1u << i;
  /* Accounts do not reach the other nodes yet: sessions and a new display
   * name are this node's only (docs/cluster.md, "Not done yet"). */
  if (config->bus != NULL)
    all &= ~(guint) NATTER_FEATURE_ACCOUNTS;
  /* Files: not on a cluster yet (a message's files do not travel on the
   * bus), and only when asked for until sending files lands. */
  if (config->bus != NULL || !config->files)
    all &= ~(guint) NATTER_FEATURE_FILES;
  return all;
}
