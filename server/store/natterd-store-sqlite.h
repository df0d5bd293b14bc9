/* natterd-store-sqlite.h: opening a store on SQLite, the embedded default
 * engine (natterd-store-sqlite.c). Everything else goes through
 * natterd-store.h.
 */
#pragma once

#include "natterd-store.h"

G_BEGIN_DECLS

/* Opens (creating and migrating) DATA_DIR/natter.db, with search.db (the
 * full-text index) beside it. */
NatterdStore *natterd_store_sqlite_open      (const char  *data_dir,
                                              gboolean     synchronous_full,
                                              GError     **error);
/* Opens a database at an explicit path (":memory:" works too); what the
 * tests use. */
NatterdStore *natterd_store_sqlite_open_path (const char  *path,
                                              gboolean     synchronous_full,
                                              GError     **error);
/* The schema version natter.db has once this natterd has opened it
 * (PRAGMA user_version after every migration). */
int           natterd_store_sqlite_schema_version (void);
/* The FTS5 expression for a user's query: its words (runs of letters,
 * digits and combining marks; anything else separates them), each quoted
 * and, from NATTERD_STORE_SEARCH_PREFIX_MIN letters, a prefix; ANDed.
 * NULL when the query has no word (nothing can match). The query must be
 * valid UTF-8. */
char         *natterd_store_sqlite_fts_query (const char  *query);

G_END_DECLS
