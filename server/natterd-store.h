/* natterd-store.h: SQLite storage (WAL, versioned schema, prepared
 * statements only). Owned by the data/handlers side; the server core calls
 * only the first block.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NatterdStore NatterdStore;

/* --- called by the server core --- */

/* Opens (creating and migrating) DATA_DIR/natter.db. */
NatterdStore *natterd_store_open  (const char  *data_dir,
                                   gboolean     synchronous_full,
                                   GError     **error);
void          natterd_store_close (NatterdStore *self);

/* --- the rest is the data side's own --- */

G_END_DECLS
