/* natterd-tls-policy.c: the TLS versions and cipher suites natterd offers.
 *
 * natterd's TLS is glib-networking's. Its GnuTLS backend (2.74, Debian 12)
 * reads one priority string for the whole process, once, when the first
 * TLS connection is made: $G_TLS_GNUTLS_PRIORITY if set, else the system's
 * default with %COMPAT appended. GnuTLS 3.7's default still offers TLS 1.0
 * and 1.1 and the CBC suites with SHA-1 MACs, so natterd sets the variable
 * to its own string before anything made a connection. GIO has no other
 * way to choose the versions or suites of a GTlsServerConnection.
 *
 * The string is checked here with GnuTLS itself: an administrator's typo
 * would otherwise leave glib-networking without a priority, and every TLS
 * handshake would fail with nothing but a warning per connection.
 */
#define G_LOG_DOMAIN "natterd-tls"

#include "natterd-tls-policy.h"

#include <gio/gio.h>
#include <gnutls/gnutls.h>

gboolean
natterd_tls_policy_apply (GError **error)
{
  const char *priority;
  const char *error_pos = NULL;
  gnutls_priority_t parsed;
  int rc;

  if (!natter_tls_priority_use (NATTERD_TLS_PRIORITY))
    g_message ("TLS versions and suites from %s: %s", NATTER_TLS_PRIORITY_VARIABLE,
               g_getenv (NATTER_TLS_PRIORITY_VARIABLE));
  priority = g_getenv (NATTER_TLS_PRIORITY_VARIABLE);

  rc = gnutls_priority_init2 (&parsed, priority, &error_pos, 0);
  if (rc < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s='%s' is not a GnuTLS priority string (%s, at '%s')",
                   NATTER_TLS_PRIORITY_VARIABLE, priority, gnutls_strerror (rc),
                   error_pos != NULL ? error_pos : "");
      return FALSE;
    }
  gnutls_priority_deinit (parsed);
  return TRUE;
}
