/* natterd-tls-handshake.h: the TLS handshake starts only once the
 * client's ClientHello is there, so that a silent or slow client cannot
 * keep the others out.
 *
 * glib-networking (2.74) runs every handshake as one blocking call in a
 * thread of GLib's shared worker pool (its "async" handshake, and its sync
 * one too, which waits for such a thread), a pool of 10 threads that grows
 * by about one a second while they are all busy. A client that connected
 * and sent nothing, or its ClientHello a byte at a time, held a thread
 * until the login timeout: with 400 such connections open, a new client's
 * handshake waited more than a minute (docs/reliability.md, "Hostile
 * networks").
 *
 * natterd_tls_hello_check looks at the socket without reading: the
 * handshake starts once the client's first record (its ClientHello) is
 * wholly in the kernel's buffer. Until then the connection costs its
 * descriptor and a small struct and waits in the epoll set, not in a
 * thread; SO_RCVLOWAT makes the socket readable only once the bytes still
 * missing have come. What is left: a client that sends a whole ClientHello
 * and then stops holds a thread until the handshake timeout
 * (handshake_timeout, docs/server.md).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  NATTERD_TLS_HELLO_WAIT,  /* not all there: wait for the socket to be readable */
  NATTERD_TLS_HELLO_READY, /* start the handshake (also for what is not TLS: GnuTLS refuses it) */
  NATTERD_TLS_HELLO_GONE,  /* the client closed, or the socket failed */
} NatterdTlsHello;

/* Looks (without reading) at what @fd holds. *@buffered is the byte count
 * seen at the last WAIT (0 at first): readable again with nothing more
 * means the end of the stream. */
NatterdTlsHello natterd_tls_hello_check    (int             fd,
                                            gsize          *buffered);

G_END_DECLS
