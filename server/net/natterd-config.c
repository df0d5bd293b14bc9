#define G_LOG_DOMAIN "natterd-config"

#include "config.h"

#include <stdlib.h>

#include "natterd-config.h"

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
  self->registration = TRUE;
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
  self->output_queue_bytes = 8 * 1024 * 1024;
  self->login_timeout = 30;
  self->idle_timeout = 120;
  self->messages_per_minute_per_user = 6000;

  self->synchronous_full = TRUE;
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
                   "[%s] %s: expected a whole number from 1 to %" G_GUINT64_FORMAT ", got “%s”",
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
  SIZE_KEY ("limits", output_queue_bytes, G_GUINT64_CONSTANT (1) << 40),
  UINT_KEY ("limits", login_timeout, 86400),
  UINT_KEY ("limits", idle_timeout, 86400 * 7),
  UINT_KEY ("limits", messages_per_minute_per_user, 100000000),
};

gboolean
natterd_config_load_file (NatterdConfig *self,
                          const char    *path,
                          GError       **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *sync_mode = NULL;
  g_autofree char *listen = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (uint_keys); i++)
    {
      const UintKey *k = &uint_keys[i];
      gpointer field = G_STRUCT_MEMBER_P (self, k->offset);
      guint64 value = k->is_size ? *(gsize *) field : *(guint *) field;

      if (!read_uint (file, k->group, k->key, k->max, &value, error))
        return FALSE;
      if (k->is_size)
        *(gsize *) field = value;
      else
        *(guint *) field = value;
    }

  if (!read_bool (file, "server", "tls", &self->tls, error) ||
      !read_bool (file, "server", "registration", &self->registration, error))
    return FALSE;
  read_string (file, "server", "data_dir", &self->data_dir);
  read_string (file, "server", "tls_cert", &self->tls_cert);
  read_string (file, "server", "tls_key", &self->tls_key);

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
      g_strfreev (self->listen);
      self->listen = g_steal_pointer (&list);
    }

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
                       "[storage] synchronous: expected “full” or “normal”, got “%s”", sync_mode);
          return FALSE;
        }
    }

  if (self->max_frame < 1024)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[limits] max_frame: must be at least 1024 bytes");
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
      "in the data directory. Every option can also be set in the config file.");
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
                   "Unexpected argument “%s” (see --help)", (*argv)[1]);
      return NULL;
    }

  if (config_file != NULL && !natterd_config_load_file (self, config_file, error))
    {
      g_prefix_error (error, "%s: ", config_file);
      return NULL;
    }

  /* The command line wins over the file. */
  if (listen != NULL)
    {
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

  if ((self->tls_cert == NULL) != (self->tls_key == NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls-cert and --tls-key go together");
      return NULL;
    }

  return g_steal_pointer (&self);
}
