/* natterd-bus-address.c: parsing the bus's address (natterd-bus-address.h). */
#define G_LOG_DOMAIN "natterd-bus"

#include "config.h"

#include <gio/gio.h>
#include <string.h>
#include <sys/un.h>

#include "natterd-bus.h"
#include "natterd-bus-address.h"

static gboolean
bad (GError     **error,
     const char  *address,
     const char  *why)
{
  g_set_error (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_INVALID_ADDRESS,
               "Invalid Redis address \"%s\": %s (expected redis://HOST:PORT or unix:/PATH)",
               address, why);
  return FALSE;
}

/* A host name as DNS spells one: letters, digits, '-' and '.'. */
static gboolean
is_host_name (const char *host)
{
  if (*host == '\0' || strlen (host) > 253)
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
parse_tcp (NatterdBusAddress  *self,
           const char         *address,
           const char         *rest,
           GError            **error)
{
  g_autofree char *host = NULL;
  const char *port = NULL;
  guint64 number = NATTERD_BUS_DEFAULT_PORT;

  if (*rest == '[')
    {
      const char *end = strchr (rest, ']');
      g_autoptr(GInetAddress) inet = NULL;

      if (end == NULL)
        return bad (error, address, "'[' without ']'");
      host = g_strndup (rest + 1, end - rest - 1);
      inet = g_inet_address_new_from_string (host);
      if (inet == NULL || g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV6)
        return bad (error, address, "not an IPv6 address between '[' and ']'");
      if (end[1] == ':')
        port = end + 2;
      else if (end[1] != '\0')
        return bad (error, address, "unexpected text after ']'");
      self->is_literal = TRUE;
    }
  else
    {
      const char *colon = strchr (rest, ':');
      g_autoptr(GInetAddress) inet = NULL;

      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        return bad (error, address, "an IPv6 address must be written in brackets, [::1]");
      host = colon != NULL ? g_strndup (rest, colon - rest) : g_strdup (rest);
      if (colon != NULL)
        port = colon + 1;
      if (strchr (host, '/') != NULL || strchr (host, '@') != NULL || strchr (host, '?') != NULL)
        return bad (error, address, "no user, password, path or options are understood");
      inet = g_inet_address_new_from_string (host);
      if (inet != NULL)
        self->is_literal = TRUE;
      else if (!is_host_name (host))
        return bad (error, address, "the host is neither a name nor an IP address");
    }

  if (port != NULL &&
      !g_ascii_string_to_unsigned (port, 10, 1, 65535, &number, NULL))
    return bad (error, address, "the port must be a number from 1 to 65535");

  self->host = g_steal_pointer (&host);
  self->port = (guint16) number;
  return TRUE;
}

NatterdBusAddress *
natterd_bus_address_parse (const char  *address,
                           GError     **error)
{
  g_autoptr(NatterdBusAddress) self = g_new0 (NatterdBusAddress, 1);

  g_return_val_if_fail (address != NULL, NULL);

  if (g_str_has_prefix (address, "redis://"))
    {
      if (!parse_tcp (self, address, address + strlen ("redis://"), error))
        return NULL;
    }
  else if (g_str_has_prefix (address, "unix:"))
    {
      const char *path = address + strlen ("unix:");
      struct sockaddr_un sun;

      if (*path != '/')
        return bad (error, address, "the socket's path must be absolute"), NULL;
      /* hiredis would cut a longer path short without a word. */
      if (strlen (path) >= sizeof sun.sun_path)
        return bad (error, address, "the socket's path is too long"), NULL;
      self->path = g_strdup (path);
    }
  else
    return bad (error, address, "unknown scheme"), NULL;

  return g_steal_pointer (&self);
}

void
natterd_bus_address_free (NatterdBusAddress *self)
{
  if (self == NULL)
    return;
  g_free (self->host);
  g_free (self->path);
  g_free (self);
}
