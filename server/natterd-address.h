/* natterd-address.h: the key under which per-address limits are counted. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* An IPv4 address ("192.0.2.7"), an IPv6 /64 ("2001:db8:1:2::/64"), or a
 * loopback address on its own ("127.0.0.5", "::1"). IPv4-mapped IPv6
 * addresses count as the IPv4 address they carry. */
char *natterd_address_key (GSocketAddress *address);

G_END_DECLS
