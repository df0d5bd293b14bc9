/* natter-test-redis.h: a throw-away Redis server for a test.
 *
 * /usr/bin/redis-server (or $NATTER_REDIS_SERVER) in the foreground, with
 * a config file in a fresh temporary directory: a free port on loopback
 * (127.0.0.1, and ::1 where there is one), a Unix socket in that
 * directory, no persistence (save "", appendonly no). A test running as
 * root runs it as Debian's "redis" user (or "nobody"), which owns the
 * directory. Starting waits, with a deadline, until it answers PING on
 * its socket, woken by the writes in its directory (never a sleep). A
 * test that dies (a failed assertion) still leaves no server behind: a
 * watcher process kills it and removes the directory when the test's
 * end of a pipe closes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NatterTestRedis NatterTestRedis;

/* NULL and a reason in *@out_skip when redis-server is not installed
 * (the caller skips); asserts on any other failure. */
NatterTestRedis *natter_test_redis_start        (char            **out_skip);
guint16          natter_test_redis_get_port     (NatterTestRedis  *self);
/* "redis://127.0.0.1:PORT" */
char            *natter_test_redis_address      (NatterTestRedis  *self);
/* The Unix socket's path. */
const char      *natter_test_redis_get_socket   (NatterTestRedis  *self);
/* SIGTERM (and SIGCONT, were it paused); waits for it to exit. Every
 * connection is closed. */
void             natter_test_redis_stop         (NatterTestRedis  *self);
/* Starts it again after natter_test_redis_stop: same port, same socket,
 * no data (a restart). */
void             natter_test_redis_start_again  (NatterTestRedis  *self);
/* SIGSTOP: Redis goes silent and keeps its connections open, as a hung
 * host would; natter_test_redis_resume (SIGCONT) wakes it. */
void             natter_test_redis_pause        (NatterTestRedis  *self);
void             natter_test_redis_resume       (NatterTestRedis  *self);
/* Stops it if running and removes its directory. */
void             natter_test_redis_free         (NatterTestRedis  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterTestRedis, natter_test_redis_free)

G_END_DECLS
