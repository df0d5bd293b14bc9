/* natter-tls-priority.h: the TLS versions and cipher suites Natter uses,
 * natterd and the app alike (docs/security.md, "TLS").
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A GnuTLS priority string: TLS 1.3 and 1.2 only, forward-secret key
 * exchange, AEAD ciphers only. natterd appends %SERVER_PRECEDENCE. */
#define NATTER_TLS_PRIORITY \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" \
  ":-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM" \
  ":-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA" \
  ":-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1"

/* The environment variable through which glib-networking's GnuTLS
 * backend (2.74) takes its priority string: read once per process, when
 * the first TLS connection is made; there is no other way to choose the
 * versions or suites of a GTlsConnection. */
#define NATTER_TLS_PRIORITY_VARIABLE "G_TLS_GNUTLS_PRIORITY"

/* Sets NATTER_TLS_PRIORITY_VARIABLE to @priority unless it is set already
 * (the user's or administrator's own choice, which is then kept); returns
 * whether it set it. Call it before any thread starts (it changes the
 * environment) and before the first TLS connection. */
gboolean natter_tls_priority_use (const char *priority);

G_END_DECLS
