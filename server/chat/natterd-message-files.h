/* natterd-message-files.h: the files of a send (feature files,
 * docs/protocol.md "send, with files"): read from the request on the
 * main loop, checked against the store by the writer thread in the
 * send's own transaction, and stored as the message's
 * NATTERD_STORE_FILES lines (natterd-store.h).
 */
#pragma once

#include "natterd-request.h"
#include "natterd-store.h"

G_BEGIN_DECLS

typedef struct _NatterdSendFiles NatterdSendFiles;

/* The send's optional "files" on a connection with the feature: *@out
 * NULL when absent (or null). FALSE after answering invalid_argument. */
gboolean natterd_send_files_read  (NatterdRequest    *request,
                                   NatterdSendFiles **out);
/* Writer thread: every file and preview named is one @sender_id may
 * attach (natterd_store_file_readable: their own complete upload, or a
 * file of a conversation they take part in), else not_found; the lines
 * to store, with each file's size and hash, into *@out_lines. */
gboolean natterd_send_files_lines (const NatterdSendFiles  *files,
                                   NatterdStore            *store,
                                   gint64                   sender_id,
                                   char                   **out_lines,
                                   GError                 **error);
void     natterd_send_files_free  (NatterdSendFiles        *files);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterdSendFiles, natterd_send_files_free)

G_END_DECLS
