/* natterd-platform.h: the calls natterd makes that differ between
 * systems, behind one seam (docs/building.md, "The platform seam").
 *
 * Linux gets its fast calls: accept4, flock, MSG_NOSIGNAL, malloc_trim, and
 * an epoll poller (natterd-poller-epoll.c). Every other POSIX system gets
 * fallbacks on plain POSIX and GLib (accept and fcntl, fcntl record
 * locks, SIGPIPE ignored, no malloc_trim, one GLib source watching
 * every socket: natterd-poller-glib.c), and so does a Linux build with
 * -Dportable=true, which build-aux/test.sh runs the whole suite in, so
 * that the fallbacks are tested on every change. Linux-only calls
 * appear nowhere else (tests/platform/check-linux-calls.sh).
 */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Readiness of a socket, as the poller reports it (natterd-poller.h).
 * The values are GLib's, which are poll()'s (and epoll's). */
#define NATTERD_POLL_IN  ((guint32) G_IO_IN)
#define NATTERD_POLL_OUT ((guint32) G_IO_OUT)
#define NATTERD_POLL_ERR ((guint32) G_IO_ERR)
#define NATTERD_POLL_HUP ((guint32) G_IO_HUP)
/* The peer has closed its side (a FIN) while natterd was not reading: on
 * Linux the epoll poller asks for it (EPOLLRDHUP) and reports it; the
 * portable poller has no such event in poll() and never reports it, so
 * there a vanished client is only noticed when reading resumes. A bit of
 * our own, above every G_IO_ value. */
#define NATTERD_POLL_PEER_CLOSED ((guint32) 1u << 24)

/* Accepts a connection from the non-blocking listening socket @fd: the
 * new descriptor is non-blocking and close-on-exec, with TCP_NODELAY
 * (which Linux passes on from the listening socket, and other systems
 * do not). -1 with errno as accept() sets it. */
int         natterd_platform_accept       (int              fd,
                                           struct sockaddr *remote,
                                           socklen_t       *remote_len);
/* TRUE when the connection error @error_number concerns only the
 * connection being accepted (the listener is fine: go on accepting). */
gboolean    natterd_platform_accept_error_is_transient (int error_number);
/* Takes an exclusive lock of the open file @fd without waiting; FALSE
 * when another process holds it. Held until the descriptor is closed. */
gboolean    natterd_platform_lock_exclusive (int fd);
/* The flags of every send on a socket: no SIGPIPE where the system
 * offers that per call (elsewhere natterd_platform_init ignores SIGPIPE
 * for the whole process). */
int         natterd_platform_send_flags   (void);
/* At start: SIGPIPE ignored. (No malloc tuning: see natterd-platform.c.) */
void        natterd_platform_init         (void);
/* Hands the free pages inside malloc's heaps back to the kernel (glibc:
 * malloc_trim), which free() alone keeps; elsewhere nothing. main.c calls
 * it once a minute. */
void        natterd_platform_release_free_memory (void);
/* What the poller and the other calls are, for the start-up log line. */
const char *natterd_platform_describe     (void);

G_END_DECLS
