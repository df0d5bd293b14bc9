/* natterd-auth.h: accounts, passwords (argon2id in a thread pool), tokens,
 * and the login limits. The handlers register, login and logout live in
 * natterd-auth.c too.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

NatterdAuth *natterd_auth_new  (NatterdDirectory *directory,
                                GError          **error);
/* Waits for the hashes under way; their requests are answered "internal". */
void         natterd_auth_free (NatterdAuth *self);

void natterd_handle_register (NatterdRequest *request);
void natterd_handle_login    (NatterdRequest *request);
void natterd_handle_logout   (NatterdRequest *request);

G_END_DECLS
