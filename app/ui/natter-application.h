/* natter-application.h: the app; owns the client core and the settings. */
#pragma once

#include <adwaita.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_APPLICATION (natter_application_get_type ())
G_DECLARE_FINAL_TYPE (NatterApplication, natter_application, NATTER, APPLICATION, AdwApplication)

NatterApplication *natter_application_new                (void);

/* The one client of the app (made at startup). */
NatterClient      *natter_application_get_client         (NatterApplication *self);
GSettings         *natter_application_get_settings       (NatterApplication *self);

/* Whether tokens are kept in the Secret Service (tests turn it off). */
gboolean           natter_application_get_use_secret_service (NatterApplication *self);
void               natter_application_set_use_secret_service (NatterApplication *self,
                                                              gboolean           use);

/* "host:port" of the configured server's first address: the key tokens
 * are stored under (the server's name, whichever address answers). */
char              *natter_application_dup_server_key     (NatterApplication *self);

/* The configured server's addresses, written as the server field shows
 * them ("a.example:7447, b.example:7447"): the "server-addresses" key, or,
 * before that was ever set, the "server-host" and "server-port" of
 * earlier versions. */
char              *natter_application_dup_server         (NatterApplication *self);
/* Remembers @addresses (the field's text, which must parse; see
 * natter-server-address.h) as the server. FALSE with the parser's error,
 * ready to show, when it does not. */
gboolean           natter_application_set_server         (NatterApplication  *self,
                                                          const char         *addresses,
                                                          GError            **error);

/* Keeps / forgets the current token in the Secret Service; failures are
 * only logged, as the app then just asks for the password next time. */
void               natter_application_remember_token     (NatterApplication *self);
void               natter_application_forget_token       (NatterApplication *self);

G_END_DECLS
