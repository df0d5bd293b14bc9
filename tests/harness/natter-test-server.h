/* natter-test-server.h: starts a real natterd for a test.
 *
 * The server is $NATTERD_PATH (set by tests/meson.build), started with
 * --listen 127.0.0.1:PORT and a fresh temporary --data-dir. Readiness is the
 * "listening 127.0.0.1:PORT" line natterd prints on stdout; it is read with a
 * deadline on a private main context, never by sleeping.
 *
 * Every function asserts on failure: a test that cannot start its server has
 * failed, there is nothing useful to return.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _NatterTestServer NatterTestServer;

/* Starts natterd over TLS (natterd makes its self-signed certificate) on an
 * ephemeral loopback port. @config_text, when not NULL, is written to a file
 * passed with --config (e.g. "[limits]\nframes_per_second=5\n");
 * @extra_args, when not NULL, is a NULL-terminated list appended to argv. */
NatterTestServer *natter_test_server_start      (const char         *config_text,
                                                 const char *const  *extra_args);

/* Same, with a given data dir (NULL: a fresh temporary one, removed by
 * free; a given one is left alone), port (0: ephemeral) and TLS or not
 * (FALSE passes --no-tls). */
NatterTestServer *natter_test_server_start_full (const char         *data_dir,
                                                 guint16             port,
                                                 gboolean            tls,
                                                 const char         *config_text,
                                                 const char *const  *extra_args);

/* natter_test_server_start() with natterd's stderr (its log) written to
 * @log_path instead of the test's, and G_MESSAGES_DEBUG=all so that every
 * log line natterd can write is written: for tests of what logs hold. */
NatterTestServer *natter_test_server_start_logged (const char     *config_text,
                                                   const char     *log_path);

/* The same in a given data dir, which is left alone. */
NatterTestServer *natter_test_server_start_logged_in (const char  *data_dir,
                                                      const char  *config_text,
                                                      const char  *log_path);

/* Runs $NATTERD_PATH with @args to its exit, for tests of a natterd that
 * must refuse to start: returns its exit status (asserting that it exited,
 * within the deadline, and was not killed by a signal) and its stderr in
 * *@out_stderr (and its stdout in *@out_stdout, unless NULL). It runs under LC_ALL=C, the locale of a bare service. With
 * @unprivileged, a test running as root runs natterd as "nobody" (uid and
 * gid 65534, no groups) so that file permissions apply to it; the files it
 * is to use must be reachable by that user (natter_test_give_to_nobody). */
int          natter_test_run_natterd         (const char *const *args,
                                              gboolean           unprivileged,
                                              char             **out_stdout,
                                              char             **out_stderr);
/* When running as root: hands @path, and everything under it, to uid and
 * gid 65534 and lets that user through every parent folder; otherwise
 * nothing. For natter_test_run_natterd (…, TRUE, …). */
void         natter_test_give_to_nobody      (const char        *path);

/* A loopback port that refuses connections, in *@out_port: the socket
 * returned is bound (so nothing else takes the port while it lives) and
 * never listens. For "the first address is down" tests. */
GSocket     *natter_test_closed_port_new     (guint16           *out_port);

/* The port of the node, node A in cluster mode (below). */
guint16      natter_test_server_get_port     (NatterTestServer *s);
/* The port the next client made from @s connects to (natter_test_client_new
 * and the helpers that call it): in cluster mode each in turn of the
 * nodes' (A, B, A, …), otherwise natter_test_server_get_port(). */
guint16      natter_test_server_next_client_port (NatterTestServer *s);
/* How many nodes @s stands for (1 unless in cluster mode), and the
 * @i-th of them (0: @s itself, node A). */
guint        natter_test_server_get_n_nodes  (NatterTestServer *s);
NatterTestServer *natter_test_server_get_node (NatterTestServer *s,
                                               guint             i);
const char  *natter_test_server_get_data_dir (NatterTestServer *s);
gboolean     natter_test_server_get_tls      (NatterTestServer *s);
/* The conninfo natterd was given with --database: the one the harness
 * made for its data dir on PostgreSQL, or the one in @extra_args; NULL on
 * SQLite. To run a second natterd on the same database (two nodes), pass
 * it as { "--database", that, NULL } in that natterd's @extra_args: the
 * harness then adds no database of its own. */
const char  *natter_test_server_get_database (NatterTestServer *s);
/* TRUE while the process (node A's) has not been seen to exit. */
gboolean     natter_test_server_is_running   (NatterTestServer *s);

/* SIGTERM, wait (30 s deadline), assert a clean exit with status 0. */
void         natter_test_server_stop         (NatterTestServer *s);
/* SIGKILL, wait. */
void         natter_test_server_kill         (NatterTestServer *s);
/* Starts again on the same data dir, port, TLS mode and config after
 * stop/kill (stops it first if it is still running). */
void         natter_test_server_restart      (NatterTestServer *s);
/* Asserts that the process is still alive (did not crash); every node's
 * in cluster mode. */
void         natter_test_server_assert_alive (NatterTestServer *s);
/* Stops it if running (asserting exit 0), removes the temporary dir; in
 * cluster mode every node, and their Redis. */
void         natter_test_server_free         (NatterTestServer *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterTestServer, natter_test_server_free)

/* The deadline, in milliseconds, for every wait of the harness: 10 s by
 * default, multiplied by $NATTER_TEST_TIMEOUT_SCALE when set (e.g. under
 * valgrind). */
guint        natter_test_deadline_ms         (void);

/* Iterates @context until *@done is TRUE or @timeout_ms passes. Returns
 * *@done. The building block of every wait in the harness. */
gboolean     natter_test_wait_until          (GMainContext     *context,
                                              const gboolean   *done,
                                              guint             timeout_ms);

/* --- running tests --- */

/* g_test_init() for integration tests. */
void         natter_test_init                (int              *argc,
                                              char           ***argv);
/* Adds a test that runs in its own subprocess (g_test_trap_subprocess), so
 * that one failing assertion fails that test only and the program goes on
 * with the next: a server bug shows up as one "not ok", not as the end of
 * the run. The child's stderr (natterd's log, the assertion) is kept. */
void         natter_test_add                 (const char       *path,
                                              GTestFunc         func);
/* Same, for a test known to fail because of an unfinished server feature:
 * it is reported as skipped with @reason (and not run) unless
 * $NATTER_TEST_RUN_SKIPPED is set. */
void         natter_test_add_skip            (const char       *path,
                                              GTestFunc         func,
                                              const char       *reason);

/* TRUE when the run is on PostgreSQL ($NATTER_TEST_DATABASE=postgresql,
 * set by tests/server/meson.build for the server-pg suite): then
 * natter_test_init() starts a throw-away PostgreSQL (natter-test-pg.h)
 * for the whole program, and every natterd the harness starts gets
 * --database with a database of its own, the same for the same data dir
 * (restarts find their data), copied from one in which natterd made the
 * schema once. natter_test_run_natterd() adds the database of the
 * --data-dir it is given. Every test is skipped when the PostgreSQL
 * binaries are not installed. */
gboolean     natter_test_on_postgresql       (void);
/* The number of natterd nodes every server of this run stands for:
 * $NATTER_TEST_CLUSTER (tests/server/meson.build sets 2 for the suite
 * server-cluster) on PostgreSQL, 1 otherwise. In cluster mode
 * (natter_test_cluster_size() > 1) every natterd the harness starts is
 * a cluster: a throw-away Redis (natter-test-redis) and that many nodes
 * on one database, each with --bus and its --node-name (node-a, …) and a
 * data dir of its own (the others' are temporary; a log file, when
 * given, is shared, appended to by every node). The NatterTestServer
 * stands for them all: the clients made from it alternate between the
 * nodes (natter_test_server_next_client_port); everything else (stop,
 * kill, restart, the data dir, the port, the status probe) means node
 * A, except assert_alive and free, which mean every node. A natterd
 * started on a running cluster's database (extra_args "--database")
 * joins that cluster's bus as one node more; one given "--bus" is left
 * as it is (the test makes a cluster itself). */
guint        natter_test_cluster_size        (void);

/* natter_test_add(), for a test of one natterd process (its data dir,
 * its log, its files, per-node counts, its death and restart): in cluster
 * mode it is skipped, always, naming @why. */
void         natter_test_add_single_node     (const char       *path,
                                              GTestFunc         func,
                                              const char       *why);

/* natter_test_add(), for a test that fails in cluster mode for a reason
 * known and written down in @why: a gap between the nodes that the
 * cluster's design accepts (docs/cluster.md), or a cluster bug not fixed
 * yet. In cluster mode it is reported as skipped with @why unless
 * $NATTER_TEST_RUN_SKIPPED is set. */
void         natter_test_add_cluster_gap     (const char       *path,
                                              GTestFunc         func,
                                              const char       *why);

/* natter_test_add(), for a test of what natterd does with its SQLite
 * files: on PostgreSQL it is skipped, always, naming @why. */
void         natter_test_add_sqlite_only     (const char       *path,
                                              GTestFunc         func,
                                              const char       *why);

/* The other way round: on SQLite it is skipped, always, naming @why
 * (two natterd on one database, the database server stopping under
 * natterd). */
void         natter_test_add_pg_only         (const char       *path,
                                              GTestFunc         func,
                                              const char       *why);

/* g_test_message() that is seen from a test run by natter_test_add() (the
 * child's stdout is not shown; its stderr is). */
void         natter_test_note                (const char       *format,
                                              ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
