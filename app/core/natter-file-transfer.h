/* natter-file-transfer.h: the progress of one upload (the files of a
 * message being sent) or one download (a file of a message), for a
 * progress bar and a Cancel button. Made by the client
 * (natter_client_send_files(), natter_client_download_file_async()).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define NATTER_TYPE_FILE_TRANSFER (natter_file_transfer_get_type ())
G_DECLARE_FINAL_TYPE (NatterFileTransfer, natter_file_transfer, NATTER, FILE_TRANSFER, GObject)

/* TRUE for an upload, FALSE for a download. */
gboolean      natter_file_transfer_get_upload      (NatterFileTransfer *self);
/* Bytes acknowledged by the server (upload) or written to disk
 * (download), and of all the files; both notify. */
gint64        natter_file_transfer_get_bytes_done  (NatterFileTransfer *self);
gint64        natter_file_transfer_get_bytes_total (NatterFileTransfer *self);
/* TRUE once over, done or failed (notifies); then get_error says which. */
gboolean      natter_file_transfer_get_finished    (NatterFileTransfer *self);
/* Why it failed, or NULL (still going, or done). */
const GError *natter_file_transfer_get_error       (NatterFileTransfer *self);
/* Chunks put on the wire so far, resent ones included (diagnostics and
 * tests: a resumed transfer sends only what the server lacks). */
guint         natter_file_transfer_get_chunks_sent (NatterFileTransfer *self);
/* Stops it: an upload's message fails (it can be retried, and resumes),
 * a download fails and keeps its .part file for the next try. */
void          natter_file_transfer_cancel          (NatterFileTransfer *self);
GCancellable *natter_file_transfer_get_cancellable (NatterFileTransfer *self);

G_END_DECLS
