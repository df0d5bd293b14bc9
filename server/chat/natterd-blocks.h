/* natterd-blocks.h: who blocks whom (feature accounts, docs/protocol.md
 * "Blocking"), in memory: loaded with the directory, written through by
 * the requests block and unblock (natterd-handlers-blocks.c).
 *
 * What a block stops is decided where each thing is sent, on the
 * sender's side: a direct message is stored hidden from the blocker
 * (natterd-commit.c), a contact request is answered and dropped
 * (natterd-handlers-contacts.c), typing is dropped
 * (natterd-handlers-messages.c), and the blocked user sees the blocker's
 * presence as nobody's (natterd-presence.c). The blocked user is never
 * told.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* TRUE when @user blocks @other. */
gboolean natterd_user_blocks       (NatterdUser      *user,
                                    NatterdUser      *other);
/* When @user blocked @other (ms), or 0 when they do not. */
gint64   natterd_user_blocked_since (NatterdUser     *user,
                                    NatterdUser      *other);
guint    natterd_user_n_blocked    (NatterdUser      *user);
/* @since 0 unblocks. */
void     natterd_user_set_blocked  (NatterdUser      *user,
                                    NatterdUser      *other,
                                    gint64            since);
/* The users @user blocks (borrowed), oldest block first. */
GPtrArray *natterd_user_list_blocked (NatterdUser    *user);
/* Frees what @user holds of blocks (natterd-directory.c's user_free). */
void     natterd_user_clear_blocks (NatterdUser      *user);

/* Every block from @store, once the users are loaded. */
gboolean natterd_blocks_load       (NatterdDirectory *directory,
                                    NatterdStore     *store,
                                    GError          **error);

/* On a shared store (natterd-directory-diff.h): every block as the store
 * has it, read on the reader thread (rows to hand to _apply, which frees
 * them), and made the directory's on the main loop, in place of what it
 * held: a block made through another node is known here from then on. */
GArray  *natterd_blocks_read       (NatterdStore     *store,
                                    GError          **error);
void     natterd_blocks_apply      (NatterdDirectory *directory,
                                    GArray           *rows);

G_END_DECLS
