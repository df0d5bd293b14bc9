#define G_LOG_DOMAIN "natterd-address"

#include "natterd-address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

void
natterd_address_key_native (const struct sockaddr *address,
                            socklen_t              len,
                            char                   out[NATTERD_ADDRESS_KEY_MAX])
{
  static const guint8 v4_mapped_prefix[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
  const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *) address;
  const guint8 *bytes;

  if (address->sa_family == AF_INET && len >= sizeof (struct sockaddr_in))
    {
      inet_ntop (AF_INET, &((const struct sockaddr_in *) address)->sin_addr, out, NATTERD_ADDRESS_KEY_MAX);
      return;
    }
  if (address->sa_family != AF_INET6 || len < sizeof (struct sockaddr_in6))
    {
      g_strlcpy (out, "local", NATTERD_ADDRESS_KEY_MAX);
      return;
    }

  bytes = v6->sin6_addr.s6_addr;

  /* ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket. */
  if (memcmp (bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0)
    {
      g_snprintf (out, NATTERD_ADDRESS_KEY_MAX, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
      return;
    }

  if (IN6_IS_ADDR_LOOPBACK (&v6->sin6_addr))
    {
      inet_ntop (AF_INET6, &v6->sin6_addr, out, NATTERD_ADDRESS_KEY_MAX);
      return;
    }

  /* One household or host usually holds a whole /64, so that is what
   * counts as "one address" for IPv6. */
  g_snprintf (out, NATTERD_ADDRESS_KEY_MAX, "%x:%x:%x:%x::/64",
              (bytes[0] << 8) | bytes[1], (bytes[2] << 8) | bytes[3],
              (bytes[4] << 8) | bytes[5], (bytes[6] << 8) | bytes[7]);
}

char *
natterd_address_key (GSocketAddress *address)
{
  struct sockaddr_storage native;
  char key[NATTERD_ADDRESS_KEY_MAX];

  if (!G_IS_INET_SOCKET_ADDRESS (address) ||
      !g_socket_address_to_native (address, &native, sizeof native, NULL))
    return g_strdup ("local");

  natterd_address_key_native ((const struct sockaddr *) &native,
                              g_socket_address_get_native_size (address), key);
  return g_strdup (key);
}
