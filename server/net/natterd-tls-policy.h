/* natterd-tls-policy.h: the TLS versions and cipher suites natterd offers.
 */
#pragma once

#include <glib.h>

#include "natter-tls-priority.h"

G_BEGIN_DECLS

/* natterd's GnuTLS priority string: Natter's own (the app uses it too),
 * with the server's order of preference. */
#define NATTERD_TLS_PRIORITY NATTER_TLS_PRIORITY ":%SERVER_PRECEDENCE"

/* Makes natterd's TLS connections use NATTERD_TLS_PRIORITY, unless the
 * administrator set G_TLS_GNUTLS_PRIORITY, which is then used as it is.
 * Fails when that string is not one GnuTLS accepts. Call it before any
 * thread starts (it sets an environment variable) and before the first
 * TLS connection. */
gboolean natterd_tls_policy_apply (GError **error);

G_END_DECLS
