/* test-tls.c: the TLS versions and cipher suites a real natterd accepts,
 * asked with GnuTLS's own client, gnutls-cli (Debian: gnutls-bin), one
 * handshake per case: TLS 1.3 and 1.2 with forward-secret AEAD suites
 * only; no TLS 1.0 or 1.1, no CBC suite, no 3DES, RC4 or NULL cipher, no
 * anonymous or RSA key exchange (docs/security.md, "TLS").
 *
 * Each refused case first asks gnutls-cli --list that the client really
 * offers something under its priority string, so a refusal is natterd's.
 * The control case runs natterd with glib-networking's own default
 * priority (G_TLS_GNUTLS_PRIORITY=NORMAL:%COMPAT) and shows that the
 * probe does see TLS 1.0 and CBC-SHA1 accepted when they are.
 */
#define G_LOG_DOMAIN "natter-test"

#include <glib/gstdio.h>
#include <string.h>

#include "natter-test-server.h"
#include "natter-tls-priority.h"

/* What a case expects: a handshake of this version, or none (NULL). */
typedef struct {
  const char *name;
  const char *priority;   /* gnutls-cli's --priority */
  const char *expected;   /* "TLS1.3", "TLS1.2", or NULL: refused */
} TlsCase;

#define TLS12 "NORMAL:-VERS-ALL:+VERS-TLS1.2"

/* Against natterd's own ECDSA P-256 certificate. */
static const TlsCase ecdsa_cases[] = {
  { "tls1.3",              "NORMAL",                                                "TLS1.3" },
  { "tls1.3-aes128",       "NORMAL:-CIPHER-ALL:+AES-128-GCM",                       "TLS1.3" },
  { "tls1.3-chacha20",     "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305",                 "TLS1.3" },
  { "tls1.2-ecdhe-gcm",    TLS12,                                                   "TLS1.2" },
  { "tls1.2-ecdhe-chacha", TLS12 ":-CIPHER-ALL:+CHACHA20-POLY1305",                 "TLS1.2" },
  { "tls1.1",              "NORMAL:-VERS-ALL:+VERS-TLS1.1",                         NULL },
  { "tls1.0",              "NORMAL:-VERS-ALL:+VERS-TLS1.0",                         NULL },
  { "cbc-sha1",            TLS12 ":-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:-MAC-ALL:+SHA1", NULL },
  { "cbc-sha256",          TLS12 ":-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:-MAC-ALL:+SHA256:+SHA384", NULL },
  { "ccm",                 TLS12 ":-CIPHER-ALL:+AES-128-CCM:+AES-256-CCM",          NULL },
  { "3des",                TLS12 ":-CIPHER-ALL:+3DES-CBC",                          NULL },
  { "rc4",                 "NONE:+VERS-TLS1.2:+ARCFOUR-128:+SHA1:+RSA:+COMP-NULL:+SIGN-ALL:+CURVE-ALL", NULL },
  { "null-cipher",         TLS12 ":-CIPHER-ALL:+NULL:+SHA1:+SHA256",                NULL },
  { "anonymous",           TLS12 ":-KX-ALL:+ANON-ECDH:+ANON-DH",                    NULL },
};

/* Against an administrator's RSA certificate: the key exchange must
 * still be ECDHE, never RSA (no forward secrecy) nor DHE. */
static const TlsCase rsa_cases[] = {
  { "tls1.3",              "NORMAL",                                                "TLS1.3" },
  { "tls1.2-ecdhe-rsa",    TLS12,                                                   "TLS1.2" },
  { "rsa-key-exchange",    TLS12 ":-KX-ALL:+RSA",                                   NULL },
  { "dhe-rsa",             TLS12 ":-KX-ALL:+DHE-RSA",                               NULL },
  { "tls1.0",              "NORMAL:-VERS-ALL:+VERS-TLS1.0",                         NULL },
};

static const char *
gnutls_cli (void)
{
  static char *path;

  if (path == NULL)
    path = g_find_program_in_path ("gnutls-cli");
  return path;
}

/* Runs gnutls-cli with @args; returns its exit status, its output in
 * *@out (stdout and stderr). */
static int
run_cli (const char *const *args,
         char              **out)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;

  g_ptr_array_add (argv, (gpointer) gnutls_cli ());
  for (const char *const *a = args; *a != NULL; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  /* Empty input: gnutls-cli shakes hands, reads end of file, closes. */
  g_assert_true (g_subprocess_communicate_utf8 (proc, "", NULL, &stdout_text, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  *out = g_steal_pointer (&stdout_text);
  return g_subprocess_get_exit_status (proc);
}

/* The "- Description: (TLS1.3-X.509)-(…)" line of a handshake, or NULL. */
static char *
handshake (guint16     port,
           const char *priority)
{
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  const char *args[] = { "--insecure", "--priority", priority, "-p", port_text, "127.0.0.1", NULL };
  g_autofree char *out = NULL;
  const char *line;
  int status = run_cli (args, &out);

  line = strstr (out, "- Description: ");
  if (status != 0 || line == NULL)
    {
      /* A refusal, and not a client that could not parse its string. */
      g_assert_null (strstr (out, "Syntax error"));
      return NULL;
    }
  line += strlen ("- Description: ");
  return g_strndup (line, strcspn (line, "\n"));
}

/* Asserts that gnutls-cli offers at least one suite under @priority. */
static void
assert_client_offers (const char *priority)
{
  g_autofree char *list_arg = g_strdup_printf ("--priority=%s", priority);
  const char *args[] = { list_arg, "--list", NULL };
  g_autofree char *out = NULL;

  g_assert_cmpint (run_cli (args, &out), ==, 0);
  if (strstr (out, "\nTLS_") == NULL)
    g_error ("gnutls-cli offers no suite for %s:\n%s", priority, out);
}

static void
run_cases (NatterTestServer *srv,
           const TlsCase    *cases,
           gsize             n_cases)
{
  guint16 port = natter_test_server_get_port (srv);

  for (gsize i = 0; i < n_cases; i++)
    {
      const TlsCase *c = &cases[i];
      g_autofree char *got = NULL;

      if (c->expected == NULL)
        assert_client_offers (c->priority);
      got = handshake (port, c->priority);
      natter_test_note ("%s: %s", c->name, got != NULL ? got : "refused");
      if (c->expected == NULL && got != NULL)
        g_error ("%s (%s): natterd accepted %s", c->name, c->priority, got);
      if (c->expected != NULL)
        {
          g_autofree char *prefix = g_strdup_printf ("(%s-", c->expected);

          if (got == NULL)
            g_error ("%s (%s): natterd refused the handshake", c->name, c->priority);
          g_assert_true (g_str_has_prefix (got, prefix));
          /* Forward secrecy and an AEAD cipher, whatever was chosen. */
          g_assert_true (strstr (got, "(ECDHE-") != NULL);
          g_assert_true (strstr (got, "GCM") != NULL || strstr (got, "CHACHA20") != NULL);
        }
    }
}

static gboolean
have_gnutls_cli (void)
{
  if (gnutls_cli () != NULL)
    return TRUE;
  g_test_skip ("gnutls-cli is not installed (Debian: gnutls-bin; build-aux/install-deps.sh)");
  return FALSE;
}

static void
test_default_certificate (void)
{
  g_autoptr(NatterTestServer) srv = NULL;

  if (!have_gnutls_cli ())
    return;
  g_unsetenv ("G_TLS_GNUTLS_PRIORITY");
  srv = natter_test_server_start (NULL, NULL);
  run_cases (srv, ecdsa_cases, G_N_ELEMENTS (ecdsa_cases));
}

/* Makes an RSA key and a self-signed certificate for it with certtool
 * (gnutls-bin, as gnutls-cli) in @dir. */
static void
make_rsa_certificate (const char *dir,
                      char      **out_cert,
                      char      **out_key)
{
  g_autofree char *key = g_build_filename (dir, "rsa-key.pem", NULL);
  g_autofree char *cert = g_build_filename (dir, "rsa-cert.pem", NULL);
  g_autofree char *template = g_build_filename (dir, "template", NULL);
  g_autofree char *certtool = g_find_program_in_path ("certtool");
  g_autoptr(GError) error = NULL;
  const char *gen_key[] = { certtool, "--generate-privkey", "--key-type=rsa", "--bits=2048",
                            "--outfile", key, NULL };
  const char *gen_cert[] = { certtool, "--generate-self-signed", "--load-privkey", key,
                             "--template", template, "--outfile", cert, NULL };
  const char *const *commands[] = { gen_key, gen_cert };

  g_assert_nonnull (certtool);
  g_assert_true (g_file_set_contents (template,
                                      "cn = localhost\nip_address = 127.0.0.1\n"
                                      "expiration_days = 2\ntls_www_server\nsigning_key\n"
                                      "encryption_key\n", -1, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr(GSubprocess) proc = g_subprocess_newv (commands[i],
                                                       G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_wait_check (proc, NULL, &error));
      g_assert_no_error (error);
    }
  *out_cert = g_steal_pointer (&cert);
  *out_key = g_steal_pointer (&key);
}

static void
test_rsa_certificate (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *template = NULL;
  g_autoptr(NatterTestServer) srv = NULL;

  if (!have_gnutls_cli ())
    return;
  g_unsetenv ("G_TLS_GNUTLS_PRIORITY");
  dir = g_dir_make_tmp ("natter-rsa-XXXXXX", &error);
  g_assert_no_error (error);
  make_rsa_certificate (dir, &cert, &key);
  {
    const char *args[] = { "--tls-cert", cert, "--tls-key", key, NULL };

    srv = natter_test_server_start (NULL, args);
  }
  run_cases (srv, rsa_cases, G_N_ELEMENTS (rsa_cases));
  natter_test_server_stop (srv);
  g_unlink (cert);
  g_unlink (key);
  template = g_build_filename (dir, "template", NULL);
  g_unlink (template);
  g_rmdir (dir);
}

/* The control: the probe sees an old version and a CBC suite when
 * natterd is told to allow them, here with glib-networking's own
 * default. It also shows that an administrator's G_TLS_GNUTLS_PRIORITY
 * is used as it is. */
static void
test_probe_sees_weak_priority (void)
{
  g_autoptr(NatterTestServer) srv = NULL;
  g_autofree char *tls10 = NULL;
  g_autofree char *cbc = NULL;
  guint16 port;

  if (!have_gnutls_cli ())
    return;
  g_setenv ("G_TLS_GNUTLS_PRIORITY", "NORMAL:%COMPAT", TRUE);
  srv = natter_test_server_start (NULL, NULL);
  port = natter_test_server_get_port (srv);
  tls10 = handshake (port, "NORMAL:-VERS-ALL:+VERS-TLS1.0");
  cbc = handshake (port, TLS12 ":-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1");
  g_assert_nonnull (tls10);
  g_assert_true (g_str_has_prefix (tls10, "(TLS1.0-"));
  g_assert_nonnull (cbc);
  g_assert_nonnull (strstr (cbc, "CBC"));
}

static gboolean
accept_any_certificate (void)
{
  return TRUE;
}

/* The app's side: natterd made to offer TLS 1.1 and 1.0 only, and a
 * GIO TLS client (as the app's, app/core/natter-connection.c) in this
 * process. Returns the version the handshake agreed, or NULL. */
static const char *
client_handshake_with_old_server (void)
{
  g_autoptr(NatterTestServer) srv = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) tcp = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *kept = g_strdup (g_getenv (NATTER_TLS_PRIORITY_VARIABLE));
  GTlsProtocolVersion version;

  g_setenv (NATTER_TLS_PRIORITY_VARIABLE, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0:%COMPAT", TRUE);
  srv = natter_test_server_start (NULL, NULL);
  /* The server has read it; this process reads its own at its first
   * connection, below. */
  if (kept != NULL)
    g_setenv (NATTER_TLS_PRIORITY_VARIABLE, kept, TRUE);
  else
    g_unsetenv (NATTER_TLS_PRIORITY_VARIABLE);

  tcp = g_socket_client_connect_to_host (client, "127.0.0.1", natter_test_server_get_port (srv), NULL, &error);
  g_assert_no_error (error);
  tls = g_tls_client_connection_new (G_IO_STREAM (tcp), NULL, &error);
  g_assert_no_error (error);
  /* Any certificate: the version is what is asked here. */
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error))
    {
      natter_test_note ("client handshake refused: %s", error->message);
      return NULL;
    }
  version = g_tls_connection_get_protocol_version (G_TLS_CONNECTION (tls));
  return version == G_TLS_PROTOCOL_VERSION_TLS_1_1 ? "TLS1.1"
       : version == G_TLS_PROTOCOL_VERSION_TLS_1_0 ? "TLS1.0" : "other";
}

/* natter_tls_priority_use, as the app's main() calls it: no agreement. */
static void
test_client_refuses_old_versions (void)
{
  g_unsetenv (NATTER_TLS_PRIORITY_VARIABLE);
  g_assert_true (natter_tls_priority_use (NATTER_TLS_PRIORITY));
  g_assert_null (client_handshake_with_old_server ());
}

/* The control: with GnuTLS's default, the same client agrees to TLS 1.1
 * (and a priority the user set is kept by natter_tls_priority_use). */
static void
test_client_default_takes_old_versions (void)
{
  g_setenv (NATTER_TLS_PRIORITY_VARIABLE, "NORMAL:%COMPAT", TRUE);
  g_assert_false (natter_tls_priority_use (NATTER_TLS_PRIORITY));
  g_assert_cmpstr (g_getenv (NATTER_TLS_PRIORITY_VARIABLE), ==, "NORMAL:%COMPAT");
  g_assert_cmpstr (client_handshake_with_old_server (), ==, "TLS1.1");
}

/* A priority string GnuTLS cannot read: natterd refuses to start and
 * says which, instead of failing every handshake later. */
static void
test_bad_priority_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-tls-XXXXXX", &error);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autofree char *err = NULL;
  const char *args[] = { "--listen", "127.0.0.1:0", "--data-dir", data, NULL };

  g_assert_no_error (error);
  g_setenv ("G_TLS_GNUTLS_PRIORITY", "NORMAL:+NO-SUCH-THING", TRUE);
  g_assert_cmpint (natter_test_run_natterd (args, FALSE, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "G_TLS_GNUTLS_PRIORITY='NORMAL:+NO-SUCH-THING' is not a GnuTLS priority string"));
  g_assert_false (g_file_test (data, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add ("/security/tls/default-certificate", test_default_certificate);
  natter_test_add ("/security/tls/rsa-certificate", test_rsa_certificate);
  natter_test_add ("/security/tls/probe-sees-weak-priority", test_probe_sees_weak_priority);
  natter_test_add ("/security/tls/bad-priority-refused", test_bad_priority_refused);
  natter_test_add ("/security/tls/client-refuses-old-versions", test_client_refuses_old_versions);
  natter_test_add ("/security/tls/client-default-takes-old-versions", test_client_default_takes_old_versions);
  return g_test_run ();
}
