/* natter-file-transfer-private.h: what the client core changes on a
 * NatterFileTransfer (natter-client-files.c). */
#pragma once

#include "natter-file-transfer.h"

G_BEGIN_DECLS

NatterFileTransfer *natter_file_transfer_new            (gboolean            upload,
                                                         gint64              bytes_total);
void                natter_file_transfer_set_bytes_done (NatterFileTransfer *self,
                                                         gint64              bytes_done);
void                natter_file_transfer_add_chunk_sent (NatterFileTransfer *self);
/* Over: @error NULL for done. A second call is ignored. */
void                natter_file_transfer_finish         (NatterFileTransfer *self,
                                                         const GError       *error);

G_END_DECLS
