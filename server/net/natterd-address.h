/* natterd-address.h: the key under which per-address limits are counted. */
#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Room for any key, its '\0' included. */
#define NATTERD_ADDRESS_KEY_MAX 48

/* An IPv4 address ("192.0.2.7"), an IPv6 /64 ("2001:db8:1:2::/64"), or a
 * loopback address on its own ("127.0.0.5", "::1"). IPv4-mapped IPv6
 * addresses count as the IPv4 address they carry. */
char *natterd_address_key        (GSocketAddress *address);
/* The same key from what accept4() returned, into @out, with no
 * allocation: the accept path builds no GSocketAddress. */
void  natterd_address_key_native (const struct sockaddr *address,
                                  socklen_t              len,
                                  char                   out[NATTERD_ADDRESS_KEY_MAX]);

G_END_DECLS
