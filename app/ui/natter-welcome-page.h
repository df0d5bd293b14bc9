/* natter-welcome-page.h: first start and sign-in: server, certificate
 * trust, then sign in or create an account. */
#pragma once

#include <gtk/gtk.h>

#include "natter-application.h"

G_BEGIN_DECLS

#define NATTER_TYPE_WELCOME_PAGE (natter_welcome_page_get_type ())
G_DECLARE_FINAL_TYPE (NatterWelcomePage, natter_welcome_page, NATTER, WELCOME_PAGE, GtkWidget)

void        natter_welcome_page_set_application (NatterWelcomePage *self,
                                                 NatterApplication *application);
/* Signs in with the token kept in the Secret Service if there is one,
 * else asks for the server. */
void        natter_welcome_page_start           (NatterWelcomePage *self);
/* The client lost its sign-in: asks for the password again. */
void        natter_welcome_page_signed_out      (NatterWelcomePage *self);
/* The client's session stopped at a certificate it does not trust (state
 * UNTRUSTED): shows the certificate, old and new, and lets the user trust
 * it (the session then carries on) or use another server. */
void        natter_welcome_page_show_untrusted  (NatterWelcomePage *self);
/* "server", "certificate", "certificate-changed", "account" or "busy". */
const char *natter_welcome_page_get_stage       (NatterWelcomePage *self);

/* Signals:
 *   signed-in (): the client accepted a sign-in (it now syncs).
 */

G_END_DECLS
