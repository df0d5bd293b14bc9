/* natter-test-throwaway.h: what the throw-away servers of the tests
 * (natter-test-pg, natter-test-redis) share: a free loopback port, and a
 * watcher that cleans up after a test that dies. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A TCP port on 127.0.0.1 that nothing listened on a moment ago (bound
 * to port 0 and read back, then closed). */
guint16 natter_test_free_port    (void);

typedef struct {
  GPid pid;
  int  fd;  /* the pipe's write end: closed when this process dies */
} NatterTestWatcher;

/* A test that fails aborts without freeing its server: a child process
 * waits for the end of a pipe only this process holds, and then runs
 * @script (/bin/sh -c) to stop the server and remove its directory. Its
 * arguments are made before fork(), so the child only reads and execs. */
void    natter_test_watcher_start (NatterTestWatcher *watcher,
                                   const char        *script);
/* Ends the watcher without running its script (the server was stopped
 * the ordinary way). */
void    natter_test_watcher_stop  (NatterTestWatcher *watcher);

G_END_DECLS
