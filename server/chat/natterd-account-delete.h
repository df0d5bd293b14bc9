/* natterd-account-delete.h: what deleting an account changes (feature
 * accounts, docs/protocol.md "account_delete"), shared by the user's own
 * request (natterd-handlers-account-delete.c) and natterctl user delete
 * (natterd-admin-account-delete.c).
 *
 * The plan is read from the directory on the main loop while the model
 * writes' turn is held (natterd-model-write.h), so nothing changes under
 * it; it is written in the writer's one transaction, then applied to the
 * directory and told.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

typedef struct _NatterdAccountDelete NatterdAccountDelete;

/* Main loop, the turn held. The rooms that will be erased are hidden from
 * the directory at once (as room_delete does), so that no send is queued
 * into them behind the write. */
NatterdAccountDelete *natterd_account_delete_plan    (NatterdDirectory     *directory,
                                                      NatterdUser          *user);
/* Writer thread, inside the batch's transaction. */
gboolean              natterd_account_delete_run     (NatterdAccountDelete *self,
                                                      NatterdStore         *store,
                                                      GError              **error);
/* Main loop, after the commit: the directory changed and everyone told,
 * but the account's connections are still open (the caller answers
 * first, then signs them out). */
void                  natterd_account_delete_apply   (NatterdAccountDelete *self,
                                                      NatterdDirectory     *directory);
/* Closes every connection of the account (its tokens are gone). */
void                  natterd_account_delete_sign_out (NatterdAccountDelete *self,
                                                       NatterdDirectory     *directory);
/* The write failed: the rooms hidden are put back (@directory NULL: it is
 * going away, with them). */
void                  natterd_account_delete_abandon (NatterdAccountDelete *self,
                                                      NatterdDirectory     *directory);
guint                 natterd_account_delete_sessions (NatterdAccountDelete *self);
void                  natterd_account_delete_free    (NatterdAccountDelete *self);

G_END_DECLS
