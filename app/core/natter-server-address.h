/* natter-server-address.h: the server field, "host[:port]" entries.
 *
 * One server may have several addresses (the nodes of a cluster, issue 13):
 * "chat.example.org:7447, chat2.example.org:7447". Entries are separated by
 * commas and/or spaces; a port is optional (NATTER_DEFAULT_PORT); an IPv6
 * address takes brackets when it has a port ("[::1]:7447"), and may go
 * without them when it has none ("::1"). At most
 * NATTER_SERVER_ADDRESSES_MAX entries: each is tried in turn when the
 * others are down, and a longer list would only make a failed round last
 * longer.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NATTER_SERVER_ADDRESSES_MAX 8

#define NATTER_SERVER_ADDRESS_ERROR (natter_server_address_error_quark ())
GQuark natter_server_address_error_quark (void);

typedef enum {
  NATTER_SERVER_ADDRESS_ERROR_EMPTY,     /* no entry, or an empty one between commas */
  NATTER_SERVER_ADDRESS_ERROR_HOST,      /* not a host name or an IP address */
  NATTER_SERVER_ADDRESS_ERROR_PORT,      /* not a number from 1 to 65535 */
  NATTER_SERVER_ADDRESS_ERROR_TOO_MANY,  /* more than NATTER_SERVER_ADDRESSES_MAX */
  NATTER_SERVER_ADDRESS_ERROR_DUPLICATE, /* the same host:port twice */
} NatterServerAddressError;

typedef struct {
  char    *host;  /* a name, or an IP address without brackets */
  guint16  port;
} NatterServerAddress;

NatterServerAddress *natter_server_address_new  (const char                *host,
                                                 guint16                    port);
void                 natter_server_address_free (NatterServerAddress       *address);
/* "host:port", "[v6]:port": what the list is written back as. */
char                *natter_server_address_to_string (const NatterServerAddress *address);

/* Parses the field into a GPtrArray of NatterServerAddress (in the order
 * given, at least one), or NULL with an error whose message says which
 * entry is wrong and how, ready to show under the field. */
GPtrArray           *natter_server_address_parse_list (const char  *text,
                                                       GError     **error);
/* Parses each string of @entries (as the GSettings key holds them). */
GPtrArray           *natter_server_address_parse_strv (const char *const *entries,
                                                       GError           **error);
/* The entries as strings ("host:port" each), NULL-terminated. */
GStrv                natter_server_address_list_to_strv (GPtrArray *list);
/* The entries joined with ", ", as the field shows them. */
char                *natter_server_address_list_to_string (GPtrArray *list);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterServerAddress, natter_server_address_free)

G_END_DECLS
