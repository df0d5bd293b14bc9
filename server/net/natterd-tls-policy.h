/* natterd-tls-policy.h: the TLS versions and cipher suites natterd offers.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* natterd's GnuTLS priority string: TLS 1.3 and 1.2 only, forward-secret
 * key exchange, AEAD ciphers only (docs/security.md). */
#define NATTERD_TLS_PRIORITY \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" \
  ":-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM" \
  ":-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA" \
  ":-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:%SERVER_PRECEDENCE"

/* Makes natterd's TLS connections use NATTERD_TLS_PRIORITY, unless the
 * administrator set G_TLS_GNUTLS_PRIORITY, which is then used as it is.
 * Fails when that string is not one GnuTLS accepts. Call it before any
 * thread starts (it sets an environment variable) and before the first
 * TLS connection. */
gboolean natterd_tls_policy_apply (GError **error);

G_END_DECLS
