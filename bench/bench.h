/* bench.h: the pieces natter-bench is made of.
 *
 * The tool is a small event engine (one epoll loop per worker thread, many
 * non-blocking connections per loop), a latency histogram, helpers to start
 * natterd and redis-server and to read their CPU time and memory from /proc,
 * and one file per scenario. The hot path (counting deliveries, reading the
 * send time out of a message body) never builds a JSON tree: it scans the
 * frame's bytes. Control replies (login, register) are small and parsed.
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>

G_BEGIN_DECLS

/* ---- time ------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds: one clock for every thread and process of
 * the machine, so a time written into a message by a sender can be compared
 * with the time a receiver reads it. */
gint64 bench_now_ns (void);

/* ---- latency histogram -------------------------------------------------- */

/* Log-linear buckets: exact below 64 ns, then 32 buckets per power of two
 * (about 3 % resolution), up to 2^63 ns. */
#define BENCH_HIST_BUCKETS (32 * 60 + 64)

typedef struct {
  guint64 count;
  guint64 max;
  guint64 b[BENCH_HIST_BUCKETS];
} BenchHist;

void    bench_hist_add        (BenchHist *h, guint64 ns);
void    bench_hist_merge      (BenchHist *dst, const BenchHist *src);
/* @p in [0, 100]. */
guint64 bench_hist_percentile (const BenchHist *h, double p);
void    bench_hist_reset      (BenchHist *h);

/* ---- engine ------------------------------------------------------------- */

typedef struct _BenchWorker BenchWorker;
typedef struct _BenchConn   BenchConn;

typedef enum {
  BENCH_AUTH_NONE,     /* raw socket (redis), or natterd without login */
  BENCH_AUTH_TOKEN,
  BENCH_AUTH_PASSWORD,
  BENCH_AUTH_REGISTER,
} BenchAuth;

typedef enum {
  BENCH_PHASE_IDLE,
  BENCH_PHASE_CONNECTING,
  BENCH_PHASE_WELCOME,
  BENCH_PHASE_AUTH,
  BENCH_PHASE_READY,
  BENCH_PHASE_CLOSED,
} BenchPhase;

typedef struct {
  /* The connection is usable: logged in (natterd) or connected (raw). */
  void (*ready)  (BenchConn *c, gint64 now);
  /* One line without its '\n' (raw protocols keep a trailing '\r'). The
   * buffer may be written to; it is valid only during the call. */
  void (*line)   (BenchConn *c, char *line, gsize len, gint64 now);
  /* Connect, login or read failed, or the peer closed. @why is static. */
  void (*closed) (BenchConn *c, const char *why);
} BenchConnOps;

struct _BenchConn {
  BenchWorker        *worker;
  const BenchConnOps *ops;
  gpointer            group;    /* the scenario's shared state */
  int                 fd;
  guint               gen;      /* counts closes, so a handler's restart is seen */
  BenchPhase          phase;
  BenchAuth           auth;
  guint               index;    /* the scenario's number for it */
  guint               src;      /* picks the loopback source address */
  guint16             port;     /* set before start: this port on the
                                 * engine's host (a cluster node); 0: the
                                 * engine's port */
  gboolean            dirty;    /* on the worker's flush list */
  gboolean            want_out; /* EPOLLOUT is armed */
  gboolean            in_setup; /* counted in the worker's connect window */
  gboolean            raw;      /* not natterd (redis): ready once connected */
  gboolean            message_actions; /* set before start: logs in with the
                                        * feature message_actions on */
  gboolean            files;    /* set before start: with the feature files */
  gnutls_session_t    tls;      /* with bench_engine_set_tls, once connected */
  gboolean            tls_handshaking;
  const char         *username; /* borrowed */
  const char         *secret;   /* token or password, borrowed */
  char               *token;    /* the token the server answered with */
  char               *error_code; /* of a failed login, for reports */
  /* Set before bench_conn_start (plain TCP only): the kernel stamps each
   * read with when its newest bytes reached the socket (SO_TIMESTAMPNS),
   * kept in rx_ns (bench_now_ns's clock; 0 when the read had none). That
   * is when the server delivered them, whenever this thread gets to read. */
  gboolean            rx_stamp;
  gint64              rx_ns;
  char               *rtail;    /* incomplete line kept between reads */
  gsize               rtail_len;
  GString            *out;      /* bytes not yet written, from out_off */
  gsize               out_off;
  gint64              t_start;  /* connect started */
  gint64              t_ready;
  /* Scenario scratch. */
  guint64             sent;
  guint64             acked;
  guint64             received;
  guint               inflight;
  gint64              last_id;
  gint64              t_req;
  gint64              next_at;
  gpointer            data;
};

struct sockaddr_in;

typedef void (*BenchWorkerFunc) (BenchWorker *w, gpointer data);
typedef void (*BenchTickFunc)   (BenchWorker *w, gint64 now, gpointer data);

typedef struct _BenchEngine BenchEngine;

struct _BenchWorker {
  BenchEngine       *engine;
  guint              index;
  GThread           *thread;
  int                epfd;
  int                evfd;
  GAsyncQueue       *calls;
  gint               stop;
  guint8            *buf;       /* shared read buffer */
  gsize              buf_cap;
  GPtrArray         *conns;     /* owned, every connection of this worker */
  GPtrArray         *dirty;     /* connections with bytes to write */
  GQueue             to_start;  /* connections waiting for the window */
  guint              in_setup;  /* connecting or logging in now */
  guint              window;    /* at most this many in setup at once */
  BenchHist         *hist;      /* latencies seen by this worker */
  BenchHist         *hist_arrival; /* the same, to the kernel's arrival stamp */
  BenchTickFunc      tick;      /* called at tick_at (ns), if set */
  gpointer           tick_data;
  gint64             tick_at;
  /* Counters the main thread reads (atomically). */
  guint64            lines;
  guint64            lines_local;
  guint64            bytes_in;
};

struct _BenchEngine {
  struct sockaddr_in addr;   /* server address (IPv4) */
  gboolean           loopback;
  gnutls_certificate_credentials_t tls_cred; /* set: every connection is TLS */
  guint              n_workers;
  BenchWorker      **workers;
};

BenchEngine *bench_engine_new      (const char *host, guint16 port, guint n_workers, GError **error);
void         bench_engine_free     (BenchEngine *e);
/* Every connection made from now on speaks TLS (natterd started with TLS). */
gboolean     bench_engine_set_tls  (BenchEngine *e, GError **error);
BenchWorker *bench_engine_worker   (BenchEngine *e, guint i); /* i modulo n */

/* Closes and frees every connection of every worker (between phases). */
void         bench_engine_drop_conns (BenchEngine *e);

/* Runs @func on @w's thread; _sync waits for it to return. */
void bench_worker_call      (BenchWorker *w, BenchWorkerFunc func, gpointer data);
void bench_worker_call_sync (BenchWorker *w, BenchWorkerFunc func, gpointer data);
/* Runs @func on every worker and waits. */
void bench_engine_call_all  (BenchEngine *e, BenchWorkerFunc func, gpointer data);

/* Makes a connection owned by @w (call from any thread; it starts when the
 * worker picks it up, within the worker's connect window). */
BenchConn *bench_conn_new   (BenchWorker *w, const BenchConnOps *ops, gpointer group,
                             guint index, BenchAuth auth,
                             const char *username, const char *secret);
void       bench_conn_start (BenchConn *c); /* any thread */
/* Worker thread only. */
void       bench_conn_send  (BenchConn *c, const char *data, gsize len);
void       bench_conn_sendf (BenchConn *c, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
void       bench_conn_close (BenchConn *c);
/* Closes and connects again (login again with the same secret). */
void       bench_conn_restart (BenchConn *c);
/* Sets the worker's connect window (worker thread). */
void       bench_worker_set_window (BenchWorker *w, guint window);
void       bench_worker_set_tick   (BenchWorker *w, BenchTickFunc tick, gpointer data, gint64 at);

/* Sum of a counter over workers, read atomically. */
guint64 bench_engine_sum_lines (BenchEngine *e);
/* Waits until *counter (atomic) reaches @target or @deadline_ns passes;
 * returns the last value read. Polls every millisecond: the tool, not the
 * test suite, waits like this, and 1 ms is below every figure it reports. */
guint64 bench_wait_counter (const guint64 *counter, guint64 target, gint64 deadline_ns);

/* ---- frame scanning ----------------------------------------------------- */

/* The value of the frame's "type" (the first "type" key: bodies are escaped,
 * so a raw "type":" never comes from inside a string). Copies at most
 * @size-1 bytes into @out. FALSE when none. */
gboolean bench_frame_type    (const char *line, gsize len, char *out, gsize size);
gboolean bench_frame_is      (const char *line, gsize len, const char *type);
/* The integer after the first "key": in the line, or -1. */
gint64   bench_frame_int     (const char *line, gsize len, const char *key);
/* The send time written into a benchmark body ("t=<ns> ..."), or -1. */
gint64   bench_frame_body_ts (const char *line, gsize len);
/* Parses a small control frame; NULL if it is not an object. */
JsonObject *bench_parse_object (const char *line, gsize len, JsonNode **out_node);

/* ---- the process under test --------------------------------------------- */

typedef struct {
  GPid     pid;
  double   cpu_s;    /* utime + stime */
  double   main_cpu_s;   /* of the main thread (tid == pid) */
  double   writer_cpu_s; /* of the thread named "natterd-writer", if any */
  double   send_cpu_s;   /* of the "natterd-send" threads together */
  double   index_cpu_s;  /* of the "natterd-index" thread */
  double   reader_cpu_s; /* of the "natterd-reader" threads together */
  gsize    rss_kb;   /* VmRSS */
  gsize    hwm_kb;   /* VmHWM */
} BenchProcSample;

/* CPU and memory of the process; _threads also splits the CPU by thread
 * (reading every /proc/PID/task/N/stat: only where the report shows it). */
gboolean bench_proc_sample         (GPid pid, BenchProcSample *out);
gboolean bench_proc_sample_threads (GPid pid, BenchProcSample *out);
/* The tool's own CPU so far (all its threads), to show whether it or
 * natterd is the bottleneck: on two CPUs they share the machine. */
double   bench_tool_cpu_s          (void);
/* rm -rf @path (a temporary data directory). */
void     bench_remove_dir          (const char *path);

typedef struct {
  GSubprocess *proc;
  GPid         pid;
  char        *host;
  guint16      port;
  char        *data_dir;
  gboolean     tls;
} BenchServer;

/* Starts natterd with a config that lifts the limits a benchmark would hit
 * and waits for its "listening" line. */
BenchServer *bench_natterd_start (const char *natterd_path, const char *data_dir,
                                  gboolean tls, const char *extra_config, GError **error);
/* The same with more command-line arguments (--bus, --node-name). */
BenchServer *bench_natterd_start_args (const char *natterd_path, const char *data_dir,
                                       gboolean tls, const char *extra_config,
                                       const char *const *extra_args, GError **error);
/* Starts redis-server on a free loopback port, no persistence. */
BenchServer *bench_redis_start   (const char *redis_path, const char *dir, GError **error);
void         bench_server_stop   (BenchServer *s);
/* The last line of natterd's log (its stderr, @data_dir/natterd.log) that
 * holds @needle, or NULL. */
char        *bench_natterd_log_line (const char *data_dir, const char *needle);

/* Counters of the Redis on 127.0.0.1:PORT (INFO stats, INFO commandstats). */
typedef struct {
  gint64 commands;         /* total_commands_processed */
  gint64 publishes;        /* cmdstat_publish calls */
  gint64 net_input_bytes;
  gint64 net_output_bytes;
} BenchRedisSample;

gboolean     bench_redis_sample  (guint16 port, BenchRedisSample *out);

/* ---- users and rooms ---------------------------------------------------- */

typedef struct {
  char       *cache_path;   /* "username token" lines; NULL: not kept */
  GHashTable *tokens;       /* username → token */
  GHashTable *marks;        /* "room #x 1000" lines that say setup is done */
} BenchUsers;

BenchUsers *bench_users_load  (const char *cache_path);
void        bench_users_free  (BenchUsers *u);
const char *bench_users_token (BenchUsers *u, const char *username);
gboolean    bench_users_has_mark (BenchUsers *u, const char *mark);
void        bench_users_add_mark (BenchUsers *u, const char *mark);
/* Makes users PREFIX0 .. PREFIX(count-1) exist with a token (registering in
 * parallel, or logging in with the password when they exist but have no
 * cached token). */
gboolean    bench_users_ensure (BenchUsers *u, BenchEngine *e, const char *prefix,
                                guint count, GError **error);
/* Makes users PREFIX0 .. PREFIX(count-1) members of @room (created by the
 * first if missing). Connections come and go a few at a time, so the joins'
 * events reach almost no one. */
gboolean    bench_room_ensure  (BenchUsers *u, BenchEngine *e, const char *room,
                                const char *prefix, guint count, GError **error);
char       *bench_username     (const char *prefix, guint i);
#define BENCH_PASSWORD "bench-password-1"
#define NATTER_BENCH_MAX_BODY 16384

/* ---- reporting ---------------------------------------------------------- */

typedef struct {
  GString *json;   /* the machine-readable line being built */
  gboolean first;
} BenchReport;

/* Rows for the server's threads' CPU between two samples: main, writer,
 * send helpers, search indexer (each only when there is one: redis-server
 * has none of the others). */
void     bench_report_thread_cpu (BenchReport           *r,
                                  const BenchProcSample *before,
                                  const BenchProcSample *after);
void bench_report_begin  (BenchReport *r, const char *scenario);
void bench_report_int    (BenchReport *r, const char *key, gint64 v);
void bench_report_double (BenchReport *r, const char *key, double v);
void bench_report_string (BenchReport *r, const char *key, const char *v);
/* Prints the human row "key: value" as well. */
void bench_report_row    (BenchReport *r, const char *label, const char *key, double v, const char *unit);
void bench_report_end    (BenchReport *r); /* prints the JSON line */

/* ---- scenarios ---------------------------------------------------------- */

/* The mixed scenario: per cent of all actions that are each change (the
 * rest are sends). */
typedef struct {
  guint edit_pct;
  guint react_pct;
  guint delete_pct;
} BenchMix;

typedef struct {
  /* Where. */
  char        *natterd_path;
  char        *natterd_config; /* extra lines for the natterd we start, or NULL */
  char        *redis_path;
  char        *data_dir;
  char        *server;        /* HOST:PORT of a running natterd */
  GPid         server_pid;    /* for CPU and memory when --server */
  char        *users_cache;
  guint        threads;
  gboolean     tls;
  double       timeout_s;
  /* Scenario parameters. */
  guint        members;
  guint        senders;
  guint64      messages;
  guint        size;
  guint        window;
  double       rate;
  guint        connections;
  guint        users;
  double       duration_s;
  guint        pairs;
  guint        storm;
  guint        queries;
  guint64      prefill;
  gboolean     compare_redis;
  BenchMix     mix;           /* mixed: the share of each change */
  guint        connect_window;
  /* --nodes: a cluster on one PostgreSQL and one Redis bus. */
  guint        n_nodes;       /* natterd processes started (0: --server) */
  BenchServer **nodes;        /* [n_nodes]; nodes[0] is natterd */
  BenchServer *bus;           /* the Redis the nodes share, or NULL */
  char        *db_conninfo;   /* the PostgreSQL database, or NULL (SQLite) */
  /* Filled in by the runner. */
  BenchServer *natterd;       /* started by us, or NULL */
  BenchEngine *engine;
  BenchUsers  *users_db;
  char        *host;
  guint16      port;
  GPid         pid;           /* natterd's, 0 when unknown */
} BenchOptions;

/* ---- the cluster under test (bench-cluster.c) ----------------------------- */

/* The port of the node that connection @i of a scenario goes to: the nodes
 * in turn (0: the engine's own port, with one node or --server). */
#define BENCH_MAX_NODES 64

guint16 bench_cluster_port (BenchOptions *o, guint i);
/* The node with that port (0 for 0 or an unknown port). */
guint   bench_cluster_node_of_port (BenchOptions *o, guint16 port);

typedef struct {
  guint            n_nodes;
  BenchProcSample  node[BENCH_MAX_NODES];
  gboolean         has_bus;
  BenchProcSample  bus_cpu;
  BenchRedisSample bus;
  gboolean         has_pg;
  gint64           pg_write_xacts; /* next transaction id */
  gint64           pg_wal_bytes;   /* WAL position */
  gint64           t_ns;
} BenchClusterSample;

/* Before and after the measured run. */
void bench_cluster_sample (BenchOptions *o, BenchClusterSample *out);
/* Rows and JSON keys per node (CPU per delivery and per message), the
 * bus (Redis CPU, publishes) and the database (commits) between two
 * samples. @deliveries: per node, [n_nodes]. */
void bench_cluster_report (BenchReport *r, BenchOptions *o,
                           const BenchClusterSample *before, const BenchClusterSample *after,
                           const guint64 *deliveries, guint64 messages, double elapsed_s);

int bench_fanout  (BenchOptions *o);
int bench_redis   (BenchOptions *o, double natterd_rate);
int bench_idle    (BenchOptions *o);
int bench_dm      (BenchOptions *o);
int bench_login   (BenchOptions *o);
int bench_history (BenchOptions *o);
int bench_mixed   (BenchOptions *o);
int bench_files   (BenchOptions *o);

/* files: a raw TLS copy of @bytes over loopback (bench-files-raw.c), up
 * to a thread of this process that serves TLS as natterd does (GIO's, with
 * the certificate and key given) and down again. */
typedef struct {
  gint64 up_ns;    /* the client's first byte to the server's word that it
                    * has the last */
  gint64 down_ns;  /* the client's request to its last byte */
  char  *desc;     /* the session's TLS version and suite (g_free) */
} BenchFilesRaw;

gboolean bench_files_raw_copy (const guint8 *bytes, gsize size, const char *cert_path,
                               const char *key_path, BenchFilesRaw *out, GError **error);
/* The TLS version and suite of a connection's session, or NULL (any
 * thread: asks the connection's worker). */
char    *bench_conn_tls_desc  (BenchConn *c);

/* Common fan-out driver used by natterd and redis modes. */
typedef struct {
  double   deliveries_per_s;
  double   msgs_per_s;
  guint64  deliveries;
  guint64  stamped;        /* deliveries with a kernel arrival stamp */
  guint64  expected;
  guint64  errors;
  double   elapsed_s;
  double   cpu_s;
  BenchProcSample cpu_before; /* per thread: bench_report_thread_cpu() */
  BenchProcSample cpu_after;
  double   tool_cpu_s;
  guint64  bytes_in;       /* read by the tool during the run */
  BenchHist hist;          /* send to read by the receiving thread */
  BenchHist hist_arrival;  /* send to arrival in the receiving socket */
  /* natterd only: every node, the bus and the database. */
  BenchClusterSample cluster_before;
  BenchClusterSample cluster_after;
  guint64  node_deliveries[BENCH_MAX_NODES];
} BenchFanoutResult;

/* ---- the mixed scenario's actions (bench-mixed.c) ----------------------- */

/* The JSON id of a scenario's request number 0 (ids below are the login's). */
#define BENCH_FIRST_REQUEST_ID 10

typedef enum {
  BENCH_CHANGE_EDIT,
  BENCH_CHANGE_REACT,
  BENCH_CHANGE_DELETE,
  BENCH_CHANGE_KINDS,
} BenchChangeKind;

typedef struct _BenchMixSender BenchMixSender;

/* A sender's state, touched on its worker's thread only. @actions: the
 * requests it will make in all. */
BenchMixSender *bench_mix_sender_new    (const BenchMix *mix, guint index, guint64 actions);
void            bench_mix_sender_free   (BenchMixSender *s);
/* Request number @seq: writes an edit, react or delete when the die says
 * so and one of our messages is there to change; FALSE: the caller sends
 * a message (and calls _note_send). */
gboolean        bench_mix_sender_change (BenchMixSender *s, BenchConn *c, guint64 seq, guint size, gint64 now);
void            bench_mix_sender_note_send (BenchMixSender *s, guint64 seq, gint64 now);
/* An "ok" (@ok) or "error" reply to one of the sender's requests. */
void            bench_mix_sender_reply  (BenchMixSender *s, const char *line, gsize len, gboolean ok);

typedef struct {
  gint64 change;
  gint64 read_ns;
  gint64 arrived_ns;
} BenchChangeArrival;

/* A receiver read a "message_changed": kept in @arrivals (its worker's). */
void bench_mix_note_arrival (GArray *arrivals, const char *line, gsize len, gint64 read_ns, gint64 arrived_ns);

typedef struct {
  guint64   changes[BENCH_CHANGE_KINDS]; /* acknowledged with a change id */
  guint64   noop;        /* acknowledged with "change":null */
  guint64   refused;     /* error replies */
  guint64   deliveries;  /* message_changed events matched to a change */
  guint64   unmatched;
  BenchHist read;        /* write of the request to the member's read */
  BenchHist arrival;     /* … to the kernel's arrival stamp */
  BenchHist by_kind[BENCH_CHANGE_KINDS];
} BenchMixResult;

/* After the run: the senders' changes joined with the receivers' arrivals. */
void bench_mix_join   (BenchMixSender **senders, guint n_senders,
                       GArray **arrivals, guint n_arrivals, BenchMixResult *out);
void bench_mix_report (BenchReport *r, const BenchMixResult *m);

/* Builds a body of exactly @size bytes (at least 32) starting "t=<ns> ". */
void bench_fill_body (char *buf, gsize size, gint64 t, guint sender, guint64 seq);

G_END_DECLS
