/* natterd-bus-address.h: where the bus's Redis is, parsed once.
 *
 * Two forms: "redis://HOST:PORT" (HOST a name, a literal IPv4 address or
 * a literal IPv6 address in brackets; PORT 6379 when left out) and
 * "unix:PATH" (an absolute path to Redis's Unix socket). Anything else is
 * an error at once, with the reason, so a typo in the config stops
 * natterd at start instead of showing up as a bus that never connects.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NATTERD_BUS_DEFAULT_PORT 6379

typedef struct {
  char     *host;       /* TCP: a name or a literal address (no brackets); NULL for unix: */
  guint16   port;
  gboolean  is_literal; /* host is an IP address: nothing to resolve */
  char     *path;       /* unix: the socket's path; NULL for TCP */
} NatterdBusAddress;

NatterdBusAddress *natterd_bus_address_parse (const char         *address,
                                              GError            **error);
void               natterd_bus_address_free  (NatterdBusAddress  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterdBusAddress, natterd_bus_address_free)

G_END_DECLS
