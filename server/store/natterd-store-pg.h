/* natterd-store-pg.h: opening a store on PostgreSQL (natterd-store-pg.c),
 * the engine for a database that several natterd nodes share. Everything
 * else goes through natterd-store.h.
 */
#pragma once

#include "natterd-store.h"

G_BEGIN_DECLS

/* Connects to @conninfo (a "postgresql://" URI or "key=value" pairs, as
 * libpq takes them), creating and migrating the schema. Fails at once when
 * the server does not answer. */
NatterdStore *natterd_store_pg_open            (const char  *conninfo,
                                                GError     **error);
/* natterd's way in: the password read from @password_file (NULL: from
 * the conninfo or libpq's own PGPASSFILE), and a server that does not
 * answer (yet) is tried again with a growing pause, each attempt logged,
 * for up to @retry_seconds. */
NatterdStore *natterd_store_pg_open_full       (const char  *conninfo,
                                                const char  *password_file,
                                                guint        retry_seconds,
                                                GError     **error);
/* The value natterd connects with for @keyword, given @conninfo: the
 * conninfo's own, else natterd's default (connect_timeout, keepalives_*,
 * tcp_user_timeout: docs/server.md), else NULL (libpq's default). NULL
 * and @error for a conninfo libpq cannot parse. For tests. */
char         *natterd_store_pg_connection_param (const char  *conninfo,
                                                 const char  *keyword,
                                                 GError     **error);
/* Whether @database names a PostgreSQL database (a "postgresql://" or
 * "postgres://" URI, or conninfo pairs) rather than an engine keyword. */
gboolean      natterd_store_pg_is_conninfo     (const char  *database);
/* The words of @query as a tsquery literal: each folded word quoted, a
 * prefix (":*") from NATTERD_STORE_SEARCH_PREFIX_MIN letters, ANDed. NULL
 * when the query has no word. The query must be valid UTF-8. */
char         *natterd_store_pg_tsquery         (const char  *query);

G_END_DECLS
