/* natter-server-address.c: see natter-server-address.h. */
#define G_LOG_DOMAIN "natter-server-address"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <gio/gio.h>

#include "natter-server-address.h"

G_DEFINE_QUARK (natter-server-address-error-quark, natter_server_address_error)

NatterServerAddress *
natter_server_address_new (const char *host,
                           guint16     port)
{
  NatterServerAddress *address = g_new0 (NatterServerAddress, 1);

  address->host = g_strdup (host);
  address->port = port;
  return address;
}

void
natter_server_address_free (NatterServerAddress *address)
{
  if (address == NULL)
    return;
  g_free (address->host);
  g_free (address);
}

char *
natter_server_address_to_string (const NatterServerAddress *address)
{
  if (strchr (address->host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", address->host, address->port);
  return g_strdup_printf ("%s:%u", address->host, address->port);
}

/* A DNS name (labels of letters, digits, '-' and '_', an
 * internationalised one too) or an IP address: what GResolver can look
 * up. Anything else (a URL, "user@host", a stray quote) is a typo better
 * caught here than reported as "cannot reach". */
static gboolean
host_is_valid (const char *host)
{
  g_autofree char *ascii = NULL;
  const char *p;
  gsize label = 0;

  if (g_hostname_is_ip_address (host))
    return TRUE;
  ascii = g_hostname_to_ascii (host);
  if (ascii == NULL || *ascii == '\0' || strlen (ascii) > 253)
    return FALSE;
  for (p = ascii; *p != '\0'; p++)
    {
      if (*p == '.')
        {
          if (label == 0)
            return FALSE;
          label = 0;
        }
      else if (g_ascii_isalnum (*p) || *p == '-' || *p == '_')
        {
          if (++label > 63)
            return FALSE;
        }
      else
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_port (const char  *entry,
            const char  *text,
            guint16     *out_port,
            GError     **error)
{
  guint64 value = 0;

  if (*text == '\0' || strlen (text) > 5 ||
      !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &value, NULL))
    {
      g_set_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_PORT,
                   /* Translators: %s is what was typed, such as chat.example.org:74x7. */
                   _("The port of “%s” is not a number from 1 to 65535."), entry);
      return FALSE;
    }
  *out_port = (guint16) value;
  return TRUE;
}

static NatterServerAddress *
parse_entry (const char  *entry,
             GError     **error)
{
  g_autofree char *host = NULL;
  const char *colon;
  guint16 port = NATTER_DEFAULT_PORT;

  /* A URL or "user@host" pasted whole: the host is what is wrong, even
   * when its ':' makes the rest look like a port. */
  if (strpbrk (entry, "/@?#") != NULL)
    goto bad_host;

  if (entry[0] == '[')
    {
      const char *close = strchr (entry, ']');

      if (close == NULL || (close[1] != '\0' && close[1] != ':'))
        goto bad_host;
      host = g_strndup (entry + 1, close - entry - 1);
      if (strchr (host, ':') == NULL || !g_hostname_is_ip_address (host))
        goto bad_host;
      if (close[1] == ':' && !parse_port (entry, close + 2, &port, error))
        return NULL;
      return natter_server_address_new (host, port);
    }

  colon = strchr (entry, ':');
  if (colon != NULL && strchr (colon + 1, ':') != NULL)
    {
      /* Two colons or more: an IPv6 address, which without brackets
       * cannot also carry a port ("::1:7447" is an address of its own). */
      if (!g_hostname_is_ip_address (entry))
        {
          g_set_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_HOST,
                       /* Translators: %s is what was typed. Keep [::1]:7447 as it is. */
                       _("“%s” is not an address. Write an IPv6 address with a port in brackets, such as [::1]:7447."),
                       entry);
          return NULL;
        }
      return natter_server_address_new (entry, port);
    }

  host = colon != NULL ? g_strndup (entry, colon - entry) : g_strdup (entry);
  if (!host_is_valid (host))
    goto bad_host;
  if (colon != NULL && !parse_port (entry, colon + 1, &port, error))
    return NULL;
  return natter_server_address_new (host, port);

bad_host:
  g_set_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_HOST,
               /* Translators: %s is what was typed. */
               _("“%s” is not a server address. Use a name such as chat.example.org, optionally followed by “:” and a port."),
               entry);
  return NULL;
}

static gboolean
same_address (const NatterServerAddress *a,
              const NatterServerAddress *b)
{
  return a->port == b->port && g_ascii_strcasecmp (a->host, b->host) == 0;
}

/* Adds the entry @entry to @list, or says what is wrong with it. */
static gboolean
add_entry (GPtrArray   *list,
           const char  *entry,
           GError     **error)
{
  g_autoptr(NatterServerAddress) address = NULL;

  if (list->len == NATTER_SERVER_ADDRESSES_MAX)
    {
      g_set_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_TOO_MANY,
                   g_dngettext (GETTEXT_PACKAGE,
                                "A server can have at most %d address.",
                                "A server can have at most %d addresses.",
                                NATTER_SERVER_ADDRESSES_MAX),
                   NATTER_SERVER_ADDRESSES_MAX);
      return FALSE;
    }

  address = parse_entry (entry, error);
  if (address == NULL)
    return FALSE;

  for (guint i = 0; i < list->len; i++)
    if (same_address (g_ptr_array_index (list, i), address))
      {
        g_autofree char *text = natter_server_address_to_string (address);

        g_set_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_DUPLICATE,
                     /* Translators: %s is an address such as chat.example.org:7447. */
                     _("%s is listed twice."), text);
        return FALSE;
      }

  g_ptr_array_add (list, g_steal_pointer (&address));
  return TRUE;
}

static GPtrArray *
new_list (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) natter_server_address_free);
}

static GPtrArray *
empty_error (GError **error)
{
  g_set_error_literal (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_EMPTY,
                       _("Enter the address of a server, such as chat.example.org."));
  return NULL;
}

GPtrArray *
natter_server_address_parse_list (const char  *text,
                                  GError     **error)
{
  g_autoptr(GPtrArray) list = new_list ();
  g_auto(GStrv) parts = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_auto(GStrv) words = g_strsplit_set (parts[i], " \t\r\n", -1);
      guint added = 0;

      for (guint j = 0; words[j] != NULL; j++)
        {
          if (words[j][0] == '\0')
            continue;
          if (!add_entry (list, words[j], error))
            return NULL;
          added++;
        }

      /* "a,,b" or a trailing comma: something was meant to be there. A
       * field of blanks alone is simply empty. */
      if (added == 0 && parts[1] != NULL)
        {
          g_set_error_literal (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_EMPTY,
                               _("There is an empty entry between commas. Remove the extra comma."));
          return NULL;
        }
    }

  if (list->len == 0)
    return empty_error (error);
  return g_steal_pointer (&list);
}

GPtrArray *
natter_server_address_parse_strv (const char *const  *entries,
                                  GError            **error)
{
  g_autoptr(GPtrArray) list = new_list ();

  for (guint i = 0; entries != NULL && entries[i] != NULL; i++)
    {
      g_autofree char *entry = g_strstrip (g_strdup (entries[i]));

      if (*entry == '\0')
        return empty_error (error);
      if (!add_entry (list, entry, error))
        return NULL;
    }

  if (list->len == 0)
    return empty_error (error);
  return g_steal_pointer (&list);
}

GStrv
natter_server_address_list_to_strv (GPtrArray *list)
{
  GStrv strv = g_new0 (char *, list->len + 1);

  for (guint i = 0; i < list->len; i++)
    strv[i] = natter_server_address_to_string (g_ptr_array_index (list, i));
  return strv;
}

char *
natter_server_address_list_to_string (GPtrArray *list)
{
  g_auto(GStrv) strv = natter_server_address_list_to_strv (list);

  return g_strjoinv (", ", strv);
}
