/* natter-test-pg.h: a throw-away PostgreSQL server for a test.
 *
 * initdb into a fresh temporary directory, then postgres on a Unix socket
 * in that directory and a free loopback port; pg_ctl waits (with a
 * deadline) until it accepts connections, never a sleep. PostgreSQL
 * refuses to run as root: a test running as root runs the server as
 * Debian's "postgres" user (runuser). The binaries are PostgreSQL 15's
 * (/usr/lib/postgresql/15/bin, or $NATTER_PG_BINDIR). A test that dies
 * (a failed assertion) still leaves no server behind: a watcher process
 * stops it when the test's end of a pipe closes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NatterTestPg NatterTestPg;

/* NULL and a reason in *@out_skip when the server binaries are not
 * installed (the caller skips); asserts on any other failure. */
NatterTestPg *natter_test_pg_start           (char         **out_skip);
/* The same, with settings of the server's ("name=value", NULL-terminated)
 * over the test defaults (fsync and full_page_writes off, 50
 * connections): natter-bench's durable server has fsync=on. */
NatterTestPg *natter_test_pg_start_with      (const char *const  *settings,
                                              char              **out_skip);
/* A new, empty database; its libpq conninfo ("host=... port=... dbname=...
 * user=postgres"), and its name in *@out_name unless NULL. */
char         *natter_test_pg_new_database    (NatterTestPg  *self,
                                              char         **out_name);
/* A conninfo for the server with these extra "key=value" pairs. */
char         *natter_test_pg_conninfo        (NatterTestPg  *self,
                                              const char    *dbname,
                                              const char    *extra);
/* Runs SQL (no result) in @dbname, as the superuser. */
void          natter_test_pg_exec            (NatterTestPg  *self,
                                              const char    *dbname,
                                              const char    *sql);
/* Runs @sql in @dbname, as the superuser: the integer in the first
 * column of its first row (which must exist). */
gint64        natter_test_pg_query_int       (NatterTestPg  *self,
                                              const char    *dbname,
                                              const char    *sql);
/* Puts the server's socket folder and port in the environment, for the
 * processes this one starts (natter_test_pg_attach). */
void          natter_test_pg_export          (NatterTestPg  *self);
/* The server an ancestor exported, or NULL if none did. Not owned: free
 * only frees the handle, the server runs on. */
NatterTestPg *natter_test_pg_attach          (void);
/* The conninfo of the database named after @key (a hash of it), made
 * as a copy of @template_name (NULL: template1, empty) when it does not
 * exist yet: the same @key finds the same database, in any process using
 * this server. */
char         *natter_test_pg_database_for    (NatterTestPg  *self,
                                              const char    *key,
                                              const char    *template_name);
/* pg_ctl restart -m fast: every connection is cut. */
void          natter_test_pg_restart         (NatterTestPg  *self);
/* pg_ctl stop -m immediate: the server dies at once, as in a crash or a
 * power cut of its machine (every connection is cut, nothing is shut
 * down cleanly), and stays down until natter_test_pg_start_again().
 * Works on an attached server too (a test in a subprocess): its data
 * folder is the exported one's. */
void          natter_test_pg_stop_immediate  (NatterTestPg  *self);
/* Starts a stopped server again in the same folder on the same port
 * (after an immediate stop it first recovers from its WAL); returns once
 * it accepts connections (pg_ctl -w, with a deadline). */
void          natter_test_pg_start_again     (NatterTestPg  *self);
guint16       natter_test_pg_get_port        (NatterTestPg  *self);
/* Stops the server (pg_ctl stop -m fast; unless it is not running) and
 * removes its directory; for an attached one, only frees the handle. */
void          natter_test_pg_free            (NatterTestPg  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterTestPg, natter_test_pg_free)

G_END_DECLS
