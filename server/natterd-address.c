#define G_LOG_DOMAIN "natterd-address"

#include "natterd-address.h"

#include <string.h>

char *
natterd_address_key (GSocketAddress *address)
{
  GInetAddress *inet;
  const guint8 *bytes;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("local");

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV4)
    return g_inet_address_to_string (inet);

  bytes = g_inet_address_to_bytes (inet);

  /* ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket. */
  {
    static const guint8 v4_mapped_prefix[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
    if (memcmp (bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0)
      return g_strdup_printf ("%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
  }

  if (g_inet_address_get_is_loopback (inet))
    return g_inet_address_to_string (inet);

  /* One household or host usually holds a whole /64, so that is what
   * counts as "one address" for IPv6. */
  return g_strdup_printf ("%x:%x:%x:%x::/64",
                          (bytes[0] << 8) | bytes[1], (bytes[2] << 8) | bytes[3],
                          (bytes[4] << 8) | bytes[5], (bytes[6] << 8) | bytes[7]);
}
