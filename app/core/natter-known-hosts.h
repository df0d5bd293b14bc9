/* natter-known-hosts.h: trust-on-first-use certificate fingerprints.
 *
 * One line per server, "host:port SHA256-FINGERPRINT", in a file of the
 * state dir, rewritten atomically on each change.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define NATTER_TYPE_KNOWN_HOSTS (natter_known_hosts_get_type ())
G_DECLARE_FINAL_TYPE (NatterKnownHosts, natter_known_hosts, NATTER, KNOWN_HOSTS, GObject)

/* Loads @path if it exists (a missing or unreadable file is an empty list). */
NatterKnownHosts *natter_known_hosts_new     (const char       *path);

/* The fingerprint trusted for @host:@port, or NULL. */
const char       *natter_known_hosts_lookup  (NatterKnownHosts *self,
                                              const char       *host,
                                              guint16           port);
gboolean          natter_known_hosts_trust   (NatterKnownHosts *self,
                                              const char       *host,
                                              guint16           port,
                                              const char       *fingerprint,
                                              GError          **error);

/* "AB:CD:…" (upper-case hex pairs) of the SHA-256 of @der. */
char             *natter_known_hosts_fingerprint (GBytes        *der);

G_END_DECLS
