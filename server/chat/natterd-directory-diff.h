/* natterd-directory-diff.h: a copy of the directory's durable state read
 * from the store, and what applying it to the directory changes.
 *
 * The copy is read on the reader thread (it touches nothing of the
 * directory); applying it runs on the main loop and changes only what
 * differs, in place: users, rooms and conversations are added or updated,
 * never freed, so the pointers connections and sessions hold stay good.
 * Each change is told to the local clients with the event a handler sends
 * for the same change made on this node (natterd-directory-events.h), to
 * the same people; a change this node made itself is already in the
 * directory, so it differs in nothing and tells nobody.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

typedef struct _NatterdDirectorySnapshot NatterdDirectorySnapshot;

/* Reader thread: everything natterd_directory_new loads, copied, and the
 * tokens revoked after @revoked_after (directory->revoked_up_to when the
 * read was queued; natterd_store_tokens_revoked). NULL with @error when a
 * query failed. */
NatterdDirectorySnapshot *natterd_directory_snapshot_read (NatterdStore  *store,
                                                           gint64         revoked_after,
                                                           GError       **error);
void                      natterd_directory_snapshot_free (NatterdDirectorySnapshot *snapshot);

/* Main loop: makes the directory hold @snapshot's state, and takes the
 * tokens revoked through other nodes out of the token cache, closing the
 * connections that logged in with them (natterd_auth_forget_token: what
 * the bus tells at once, for a node that missed it). A user whose
 * status text was changed on this node after @stamp (directory->local_stamp
 * when the snapshot's read was queued) keeps it: the read may have begun
 * before that write committed. The caller holds the turn of the model
 * writes (natterd-model-write.h), so no other change is half applied. */
void natterd_directory_snapshot_apply (NatterdDirectory         *self,
                                       NatterdDirectorySnapshot *snapshot,
                                       guint64                   stamp);

G_END_DECLS
