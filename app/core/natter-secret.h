/* natter-secret.h: keeping the sign-in token in the Secret Service.
 *
 * Schema "io.github.natter.Natter.Token", attributes "server" (such as
 * "chat.example.org:7447") and "username". Everything is async; when no
 * Secret Service is reachable the calls fail with its error and the app
 * simply asks for the password.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void     natter_secret_store_token_async  (const char           *server,
                                           const char           *username,
                                           const char           *token,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
gboolean natter_secret_store_token_finish (GAsyncResult         *result,
                                           GError              **error);

/* Looks up the token stored for @server. */
void     natter_secret_lookup_token_async (const char           *server,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
/* TRUE with both out values set (free them) when a token is stored; FALSE
 * with G_IO_ERROR_NOT_FOUND when none is, or with the Secret Service's
 * error when it cannot be reached. */
gboolean natter_secret_lookup_token_finish (GAsyncResult        *result,
                                            char               **out_username,
                                            char               **out_token,
                                            GError             **error);

/* Removes every token stored for @server. TRUE also when there was none. */
void     natter_secret_clear_async        (const char           *server,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
gboolean natter_secret_clear_finish       (GAsyncResult         *result,
                                           GError              **error);

G_END_DECLS
