/* client-bench.h: the pieces of natter-client-bench.
 *
 * The tool measures the client core (app/core: NatterClient and its models)
 * the way the app uses it, against a real natterd it starts itself. The
 * other side of each conversation (the sender that fills it, the sender
 * that streams into it) is a connection of natter-bench's engine, on its
 * own thread, so the main thread runs nothing but the client core and the
 * measurement.
 *
 * Every wait iterates the main context through client_bench_loop_run(),
 * which times each iteration without the time spent in poll(): that is the
 * time the main loop could not have drawn a frame or handled input.
 */
#pragma once

#include "bench.h"
#include "natter-core.h"

G_BEGIN_DECLS

/* ---- the main-loop probe -------------------------------------------------- */

typedef struct {
  BenchHist hist;          /* busy time of each iteration, ns */
  guint64   iterations;
  gint64    busy_ns;       /* sum of every iteration's busy time */
  gint64    over_4_ns;     /* sum of the iterations longer than 4 ms */
  guint64   over_4;        /* iterations longer than 4 ms (a 240 Hz frame) */
  guint64   over_16;       /* … longer than 16 ms (a 60 Hz frame) */
  gint64    max_cpu_ns;    /* the most CPU time one iteration used */
  guint64   over_4_cpu;    /* iterations that used more than 4 ms of CPU */
  gint64    wall_ns;       /* from client_bench_loop_reset() to the report */
  double    cpu_s;         /* the main thread's CPU time over that span */
} ClientBenchLoop;

/* Installs the timing poll function on the default main context. */
void     client_bench_loop_init   (void);
/* Starts a new measurement span. */
void     client_bench_loop_reset  (void);
/* Iterates the default main context until @done (@data) is TRUE or
 * @timeout_s passes; returns @done's last value. */
gboolean client_bench_loop_run    (gboolean (*done) (gpointer data),
                                   gpointer  data,
                                   double    timeout_s);
/* The figures since the last reset (wall time and CPU taken now). */
void     client_bench_loop_take   (ClientBenchLoop *out);
/* Adds the span's figures to @r with keys PREFIX_… and prints them. */
void     client_bench_loop_report (const ClientBenchLoop *l,
                                   BenchReport           *r,
                                   const char            *prefix);

/* ---- the setup both scenarios share --------------------------------------- */

typedef struct {
  /* Options. */
  char        *natterd_path;
  char        *data_dir;
  double       timeout_s;
  guint64      messages;      /* open: the conversation's size */
  guint        size;          /* body bytes */
  guint        window;        /* sends in flight while filling */
  double       rate;          /* stream: messages per second */
  double       duration_s;    /* stream: seconds */
  guint        conversations; /* stream: conversations the client holds */
  /* Filled in by the runner. */
  BenchServer *natterd;
  BenchEngine *engine;
  BenchUsers  *users;
} ClientBenchOptions;

/* The benchmark's users: "cb0" fills the conversation "cb1" opens, "cb2"
 * streams into "cb3"'s. */
#define CLIENT_BENCH_PREFIX "cb"
#define CLIENT_BENCH_USERS  4

/* A sender on the engine: fills (@rate 0: @window sends in flight until
 * @count are acknowledged) or streams (@count sends at @rate per second).
 * Bodies are bench_fill_body()'s ("t=<CLOCK_MONOTONIC ns> s=@tag q=<seq> x…"),
 * @size bytes. */
typedef struct {
  guint64  count;
  double   rate;
  guint    window;
  guint    size;
  guint    tag;
  char    *to;              /* "@username" */
  /* Counters the main thread reads atomically. */
  guint64  ready;
  guint64  sent;
  guint64  acked;
  guint64  errors;
  guint64  lost;
  gint64   first_id;        /* id of the first acknowledged message */
  gint64   last_send_ns;
} ClientBenchSender;

/* Signs @username in on the engine and sends as @s says; returns once all
 * are acknowledged (or the timeout, or the connection is lost), iterating
 * the main loop meanwhile. The loop's measurement span starts when the
 * first send leaves. FALSE on a failure. */
gboolean      client_bench_send       (ClientBenchOptions *o,
                                       ClientBenchSender  *s,
                                       const char         *username);

/* An async call run to its end: pass client_bench_result_cb and a slot as
 * callback and user data, then client_bench_wait() iterates the loop until
 * the result is in the slot (NULL after the timeout). The slot owns it:
 * g_clear_object (&slot.result). */
typedef struct {
  GAsyncResult *result;
} ClientBenchResult;

void          client_bench_result_cb  (GObject            *object,
                                       GAsyncResult       *result,
                                       gpointer            user_data);
GAsyncResult *client_bench_wait       (ClientBenchOptions *o,
                                       ClientBenchResult  *slot);

/* A NatterClient on @state_dir (plain TCP), signed in as @username with the
 * cached token; returns once it is READY, or NULL. @created (may be NULL)
 * is called with the new client before it connects. */
NatterClient *client_bench_sign_in    (ClientBenchOptions *o,
                                       const char         *state_dir,
                                       const char         *username,
                                       void              (*created) (NatterClient *client,
                                                                     gpointer      data),
                                       gpointer            data);
/* Disconnects and drops the client, and runs the loop until it is gone. */
void          client_bench_client_free (NatterClient *client);

/* VmRSS of this process, kB. */
gsize         client_bench_rss_kb     (void);
/* Heap in use (malloc's allocated bytes, every arena), kB: unlike RSS it
 * goes down when memory is freed and up when freed memory is reused. */
gsize         client_bench_heap_kb    (void);
/* A new temporary directory. As a ClientBenchTempDir in g_autoptr() it is
 * removed with everything in it when the scope ends, on every early return
 * too (a failed sign-in used to leave it behind). */
typedef char ClientBenchTempDir;
ClientBenchTempDir *client_bench_temp_dir      (void);
void                client_bench_temp_dir_free (ClientBenchTempDir *dir);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClientBenchTempDir, client_bench_temp_dir_free)
/* The send time written in a benchmark body, or -1; *tag gets its "s=". */
gint64        client_bench_body_ts    (const char *body,
                                       guint      *tag);

int client_bench_open   (ClientBenchOptions *o);
int client_bench_stream (ClientBenchOptions *o);

G_END_DECLS
