/* natterd-admin.h: natterd's admin channel, the Unix socket natterctl
 * talks to (docs/server.md, "natterctl").
 *
 * natterd.sock in the data directory, mode 0600 (the data directory is
 * 0700): whoever may open it is the operator, as with prosodyctl and
 * ejabberdctl. No password, no network listener; a peer whose user is
 * neither natterd's nor root is refused besides. One JSON object per line
 * each way, with the client protocol's framing and strict parser, one
 * request at a time per connection; never on a path that blocks the main
 * loop (the store's work goes to the writer and reader threads).
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

typedef struct _NatterdAdmin NatterdAdmin;

/* The socket's file name in the data directory. */
#define NATTERD_ADMIN_SOCKET_NAME "natterd.sock"
/* The longest request line, its '\n' included. */
#define NATTERD_ADMIN_MAX_FRAME   65536

/* Listens on DATA_DIR/natterd.sock (a stale one is replaced: the data
 * directory's lock says no other natterd uses it). */
NatterdAdmin *natterd_admin_new  (NatterdDirectory *directory,
                                  GError          **error);
/* Stops listening, removes the socket, drops the connections; requests
 * still with the writer or reader are dropped unanswered when they come
 * back. */
void          natterd_admin_free (NatterdAdmin     *self);

G_END_DECLS
