#define G_LOG_DOMAIN "natterd-tls"

#include "natterd-tls-cert.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CERT_FILENAME "tls-cert.pem"
#define KEY_FILENAME  "tls-key.pem"
#define CERT_LIFETIME_DAYS (10 * 365)

static gboolean
gnutls_check (int rc, const char *what, GError **error)
{
  if (rc >= 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "Could not create the TLS certificate (%s): %s", what, gnutls_strerror (rc));
  return FALSE;
}

static char *
export_pem (int (*export_fn) (void *, gnutls_x509_crt_fmt_t, gnutls_datum_t *),
            void *object)
{
  gnutls_datum_t out = { NULL, 0 };
  char *pem;

  if (export_fn (object, GNUTLS_X509_FMT_PEM, &out) < 0)
    return NULL;
  pem = g_strndup ((const char *) out.data, out.size);
  gnutls_free (out.data);
  return pem;
}

static int
export_key2 (void *key, gnutls_x509_crt_fmt_t fmt, gnutls_datum_t *out)
{
  return gnutls_x509_privkey_export2 (key, fmt, out);
}

static int
export_crt2 (void *crt, gnutls_x509_crt_fmt_t fmt, gnutls_datum_t *out)
{
  return gnutls_x509_crt_export2 (crt, fmt, out);
}

/* A self-signed leaf certificate for this host. Clients cannot check it
 * against a CA; they pin its fingerprint on first use instead. */
static gboolean
create_self_signed (const char *cert_path,
                    const char *key_path,
                    GError    **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *crt_pem = NULL;
  const char *hostname = g_get_host_name ();
  guint8 serial[16];
  time_t now = time (NULL);
  gboolean ok = FALSE;
  static const guint8 loopback_v4[4] = { 127, 0, 0, 1 };

  if (!gnutls_check (gnutls_x509_privkey_init (&key), "key", error))
    goto out;
  if (!gnutls_check (gnutls_x509_privkey_generate2 (key, GNUTLS_PK_ECDSA,
                                                     GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                                     0, NULL, 0),
                     "key generation", error))
    goto out;
  if (!gnutls_check (gnutls_x509_crt_init (&crt), "certificate", error))
    goto out;

  if (!gnutls_check (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial), "serial", error))
    goto out;
  serial[0] &= 0x7f; /* a positive serial number */

  if (!gnutls_check (gnutls_x509_crt_set_version (crt, 3), "version", error) ||
      !gnutls_check (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "serial", error) ||
      !gnutls_check (gnutls_x509_crt_set_activation_time (crt, now - 24 * 3600), "activation", error) ||
      !gnutls_check (gnutls_x509_crt_set_expiration_time (crt, now + (time_t) CERT_LIFETIME_DAYS * 24 * 3600),
                     "expiration", error) ||
      !gnutls_check (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                    hostname, strlen (hostname)), "name", error) ||
      !gnutls_check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, hostname,
                                                           strlen (hostname), GNUTLS_FSAN_SET),
                     "alt name", error) ||
      !gnutls_check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, "localhost",
                                                           strlen ("localhost"), GNUTLS_FSAN_APPEND),
                     "alt name", error) ||
      !gnutls_check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, loopback_v4,
                                                           sizeof loopback_v4, GNUTLS_FSAN_APPEND),
                     "alt name", error) ||
      !gnutls_check (gnutls_x509_crt_set_key (crt, key), "key", error) ||
      !gnutls_check (gnutls_x509_crt_set_basic_constraints (crt, 0, -1), "constraints", error) ||
      !gnutls_check (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "usage", error) ||
      !gnutls_check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "purpose", error) ||
      !gnutls_check (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0), "signature", error))
    goto out;

  key_pem = export_pem (export_key2, key);
  crt_pem = export_pem (export_crt2, crt);
  if (key_pem == NULL || crt_pem == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not encode the TLS certificate");
      goto out;
    }

  /* The key is written first. Both are natterd's alone, as everything in
   * its data directory; the certificate is public, but nobody else needs
   * to read it there. */
  if (!g_file_set_contents_full (key_path, key_pem, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) ||
      !g_file_set_contents_full (cert_path, crt_pem, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    {
      /* GLib names the temporary file it wrote, not what it was for. A
       * key without its certificate is made again at the next start. */
      g_prefix_error (error, "Could not save the new TLS certificate: ");
      goto out;
    }

  ok = TRUE;

out:
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit (key);
  return ok;
}

/* The administrator's key is theirs to place, but a key anyone on the
 * machine can read lets anyone pose as the server: said at every start.
 * A group that may read it is a choice (Debian's ssl-cert), not a slip. */
static void
warn_if_key_readable (const char *key_file)
{
  struct stat st;

  if (key_file != NULL && stat (key_file, &st) == 0 && (st.st_mode & S_IROTH) != 0)
    g_warning ("The TLS key %s can be read by every user of this machine (mode %04o): "
               "'chmod o-rwx %s' keeps the server's identity its own",
               key_file, (unsigned) (st.st_mode & 07777), key_file);
}

GTlsCertificate *
natterd_tls_cert_load_or_create (const char  *data_dir,
                                 const char  *cert_file,
                                 const char  *key_file,
                                 GError     **error)
{
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  GTlsCertificate *certificate;

  if (cert_file != NULL)
    {
      warn_if_key_readable (key_file);
      certificate = g_tls_certificate_new_from_files (cert_file, key_file, error);
      if (certificate == NULL)
        g_prefix_error (error, "Could not load the TLS certificate %s: ", cert_file);
      return certificate;
    }

  cert_path = g_build_filename (data_dir, CERT_FILENAME, NULL);
  key_path = g_build_filename (data_dir, KEY_FILENAME, NULL);

  /* A certificate is what users compared and trusted: never replaced
   * because its key is missing. A key without its certificate is a first
   * start cut short (the key is written first), and is made again. */
  if (g_file_test (cert_path, G_FILE_TEST_EXISTS) && !g_file_test (key_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s is missing, but its certificate %s is there: restore the key from a backup, "
                   "or delete %s to make a new certificate (users will be told it changed)",
                   key_path, cert_path, cert_path);
      return NULL;
    }
  if (!g_file_test (cert_path, G_FILE_TEST_EXISTS))
    {
      if (!create_self_signed (cert_path, key_path, error))
        return NULL;
      g_message ("Created a self-signed TLS certificate in %s", cert_path);
    }

  certificate = g_tls_certificate_new_from_files (cert_path, key_path, error);
  if (certificate == NULL)
    g_prefix_error (error, "Could not load the TLS certificate %s: ", cert_path);
  return certificate;
}

char *
natterd_tls_cert_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  GString *out = g_string_sized_new (96);

  g_object_get (certificate, "certificate", &der, NULL);
  g_checksum_update (checksum, der->data, der->len);
  g_checksum_get_digest (checksum, digest, &digest_len);
  for (gsize i = 0; i < digest_len; i++)
    g_string_append_printf (out, i == 0 ? "%02X" : ":%02X", digest[i]);
  return g_string_free (out, FALSE);
}
