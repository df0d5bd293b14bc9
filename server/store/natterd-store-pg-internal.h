/* natterd-store-pg-internal.h: what natterd-store-pg.c lends to the rest
 * of the storage layer (natterd-store-import.c copies a SQLite database
 * into PostgreSQL with COPY, on the engine's own connection, and must
 * store each message's words exactly as the engine's insert does). Never
 * for the chat layer, which sees natterd-store.h only.
 */
#pragma once

#include <libpq-fe.h>

#include "natterd-store.h"

G_BEGIN_DECLS

/* The SQL expression that makes a message's words column from its
 * lexemes (a text of natterd_store_pg_message_lexemes()): @lexemes is the
 * SQL for that text, a parameter or a column. */
#define NATTERD_STORE_PG_WORDS(lexemes) "array_to_tsvector (string_to_array (" lexemes ", ' '))"

/* A message's search words, folded, each once, separated by spaces. */
char     *natterd_store_pg_message_lexemes (const char    *body,
                                            gsize          body_len);
/* The connection of a store opened by natterd_store_pg_open(). */
PGconn   *natterd_store_pg_get_conn        (NatterdStore  *store);
/* Runs @sql (no parameters, perhaps several statements) for its effect;
 * on failure sets @error ("@what: cause") and rolls back the transaction
 * in progress, as every call of the engine does. */
gboolean  natterd_store_pg_exec            (NatterdStore  *store,
                                            const char    *sql,
                                            const char    *what,
                                            GError       **error);
/* Sets @error from a failed result @res (taken; NULL: the connection's
 * error) and rolls back the transaction in progress. Returns FALSE. */
gboolean  natterd_store_pg_set_error       (NatterdStore  *store,
                                            PGresult      *res,
                                            const char    *what,
                                            GError       **error);

G_END_DECLS
