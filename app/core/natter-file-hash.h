/* natter-file-hash.h: a file's SHA-256, computed in a thread (GTask),
 * streaming: never the whole file in memory. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void  natter_file_hash_async  (const char          *path,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
/* The SHA-256 as 64 lower-case hex digits (free it), and the bytes read
 * in @out_size (may be NULL); NULL with @error. */
char *natter_file_hash_finish (GAsyncResult  *result,
                               gint64        *out_size,
                               GError       **error);

G_END_DECLS
