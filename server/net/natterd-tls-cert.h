/* natterd-tls-cert.h: the server's TLS certificate: loaded from the
 * operator's files, or self-signed on first start and kept in the data
 * directory.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Loads @cert_file/@key_file when given; otherwise DATA_DIR/tls-cert.pem and
 * DATA_DIR/tls-key.pem, creating them (ECDSA P-256, 10 years) if missing. */
GTlsCertificate *natterd_tls_cert_load_or_create (const char  *data_dir,
                                                  const char  *cert_file,
                                                  const char  *key_file,
                                                  GError     **error);

/* "AB:CD:…", the SHA-256 of the certificate's DER: what the app shows the
 * user to compare on first contact. */
char            *natterd_tls_cert_fingerprint    (GTlsCertificate *certificate);

G_END_DECLS
