/* natter-known-hosts.c: trust-on-first-use certificate fingerprints. */
#define G_LOG_DOMAIN "natter-known-hosts"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "natter-known-hosts.h"

struct _NatterKnownHosts
{
  GObject parent_instance;

  char       *path;
  GHashTable *hosts;  /* "host:port" → fingerprint */
};

G_DEFINE_FINAL_TYPE (NatterKnownHosts, natter_known_hosts, G_TYPE_OBJECT)

static void
natter_known_hosts_finalize (GObject *object)
{
  NatterKnownHosts *self = NATTER_KNOWN_HOSTS (object);

  g_hash_table_unref (self->hosts);
  g_free (self->path);

  G_OBJECT_CLASS (natter_known_hosts_parent_class)->finalize (object);
}

static void
natter_known_hosts_class_init (NatterKnownHostsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = natter_known_hosts_finalize;
}

static void
natter_known_hosts_init (NatterKnownHosts *self)
{
  self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static char *
make_key (const char *host,
          guint16     port)
{
  g_autofree char *lower = g_ascii_strdown (host, -1);

  return g_strdup_printf ("%s:%u", lower, port);
}

NatterKnownHosts *
natter_known_hosts_new (const char *path)
{
  NatterKnownHosts *self = g_object_new (NATTER_TYPE_KNOWN_HOSTS, NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  self->path = g_strdup (path);

  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("Cannot read known hosts %s: %s", path, error->message);
      return self;
    }

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (g_strstrip (lines[i]), " ", 2);

      if (fields[0] == NULL || fields[0][0] == '\0' || fields[0][0] == '#' || fields[1] == NULL)
        continue;
      g_hash_table_replace (self->hosts, g_strdup (fields[0]), g_strdup (g_strstrip (fields[1])));
    }

  return self;
}

const char *
natter_known_hosts_lookup (NatterKnownHosts *self,
                           const char       *host,
                           guint16           port)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (NATTER_IS_KNOWN_HOSTS (self), NULL);

  key = make_key (host, port);
  return g_hash_table_lookup (self->hosts, key);
}

gboolean
natter_known_hosts_trust (NatterKnownHosts *self,
                          const char       *host,
                          guint16           port,
                          const char       *fingerprint,
                          GError          **error)
{
  g_autoptr(GString) out = g_string_new ("# Natter: trusted server certificates (SHA-256)\n");
  g_autoptr(GList) keys = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (NATTER_IS_KNOWN_HOSTS (self), FALSE);
  g_return_val_if_fail (host != NULL && fingerprint != NULL, FALSE);

  if (strchr (fingerprint, ' ') != NULL || strchr (fingerprint, '\n') != NULL ||
      strchr (host, ' ') != NULL || strchr (host, '\n') != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Invalid host or fingerprint");
      return FALSE;
    }

  g_hash_table_replace (self->hosts, make_key (host, port), g_ascii_strup (fingerprint, -1));

  keys = g_list_sort (g_hash_table_get_keys (self->hosts), (GCompareFunc) g_strcmp0);
  for (GList *l = keys; l != NULL; l = l->next)
    g_string_append_printf (out, "%s %s\n", (char *) l->data,
                            (char *) g_hash_table_lookup (self->hosts, l->data));

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Cannot create %s: %s", dir, g_strerror (saved));
      return FALSE;
    }

  /* g_file_set_contents() writes a temporary file, fsyncs it and renames it
   * over the old one, so a crash leaves either list, never half of one. */
  return g_file_set_contents_full (self->path, out->str, out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                   G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}

char *
natter_known_hosts_fingerprint (GBytes *der)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;
  GString *out = g_string_sized_new (sizeof digest * 3);

  g_checksum_update (sum, g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  g_checksum_get_digest (sum, digest, &len);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, i == 0 ? "%02X" : ":%02X", digest[i]);
  return g_string_free (out, FALSE);
}
