/* test-server-address.c: the server field's parser, table-driven. */
#define G_LOG_DOMAIN "test-server-address"

#include <string.h>

#include "natter-server-address.h"

typedef struct {
  const char *text;
  const char *expected;  /* the list as written back, or NULL: an error */
  int         code;      /* the error's code when expected is NULL */
} Case;

static const Case cases[] = {
  { "chat.example.org", "chat.example.org:7447", 0 },
  { "  chat.example.org  ", "chat.example.org:7447", 0 },
  { "chat.example.org:8000", "chat.example.org:8000", 0 },
  { "chat.example.org:7447, chat2.example.org:7447", "chat.example.org:7447, chat2.example.org:7447", 0 },
  { "a.example b.example:1,c.example:65535", "a.example:7447, b.example:1, c.example:65535", 0 },
  { "a.example,\tb.example", "a.example:7447, b.example:7447", 0 },
  { "127.0.0.1:7447", "127.0.0.1:7447", 0 },
  { "[::1]:9000", "[::1]:9000", 0 },
  { "[::1]", "[::1]:7447", 0 },
  { "::1", "[::1]:7447", 0 },
  { "fe80::1, [2001:db8::2]:7", "[fe80::1]:7447, [2001:db8::2]:7", 0 },
  { "localhost", "localhost:7447", 0 },
  { "my_host.local", "my_host.local:7447", 0 },
  { "bücher.example", "bücher.example:7447", 0 },
  { "A.EXAMPLE:1, b.example:1", "A.EXAMPLE:1, b.example:1", 0 },

  { "", NULL, NATTER_SERVER_ADDRESS_ERROR_EMPTY },
  { "   ", NULL, NATTER_SERVER_ADDRESS_ERROR_EMPTY },
  { "a.example,,b.example", NULL, NATTER_SERVER_ADDRESS_ERROR_EMPTY },
  { "a.example, ", NULL, NATTER_SERVER_ADDRESS_ERROR_EMPTY },
  { ",a.example", NULL, NATTER_SERVER_ADDRESS_ERROR_EMPTY },
  { "a.example:", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "a.example:0", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "a.example:65536", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "a.example:74x7", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "a.example:-1", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "a.example:+80", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "a.example:0000080", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "[::1]:", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "[::1]:99999", NULL, NATTER_SERVER_ADDRESS_ERROR_PORT },
  { "::1:7447:x", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { "[::1", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { "[::1]x", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { "[chat.example.org]:1", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { "https://chat.example.org", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { "me@chat.example.org", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { "a..example", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { ":7447", NULL, NATTER_SERVER_ADDRESS_ERROR_HOST },
  { "a.example b.example a.example", NULL, NATTER_SERVER_ADDRESS_ERROR_DUPLICATE },
  { "a.example:7447, A.EXAMPLE", NULL, NATTER_SERVER_ADDRESS_ERROR_DUPLICATE },
  { "a b c d e f g h", "a:7447, b:7447, c:7447, d:7447, e:7447, f:7447, g:7447, h:7447", 0 },
  { "a b c d e f g h i", NULL, NATTER_SERVER_ADDRESS_ERROR_TOO_MANY },
};

static void
test_parse_list (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) list = natter_server_address_parse_list (cases[i].text, &error);

      g_test_message ("%s", cases[i].text);
      if (cases[i].expected != NULL)
        {
          g_autofree char *text = NULL;

          g_assert_no_error (error);
          g_assert_nonnull (list);
          text = natter_server_address_list_to_string (list);
          g_assert_cmpstr (text, ==, cases[i].expected);
        }
      else
        {
          g_assert_null (list);
          g_assert_error (error, NATTER_SERVER_ADDRESS_ERROR, cases[i].code);
          g_assert_cmpstr (error->message, !=, "");
        }
    }
}

/* The message names the entry that is wrong, so the person knows which. */
static void
test_error_names_entry (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = natter_server_address_parse_list ("good.example, bad.example:70000", &error);

  g_assert_null (list);
  g_assert_nonnull (strstr (error->message, "bad.example:70000"));
}

/* What the settings key holds reads back into the same list, and an
 * entry of the key is one address (no splitting inside it). */
static void
test_strv_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = natter_server_address_parse_list ("[::1]:9, b.example", &error);
  g_auto(GStrv) strv = natter_server_address_list_to_strv (list);
  g_autoptr(GPtrArray) again = NULL;
  const char *const two_in_one[] = { "a.example b.example", NULL };
  const char *const empty[] = { NULL };

  g_assert_cmpuint (g_strv_length (strv), ==, 2);
  g_assert_cmpstr (strv[0], ==, "[::1]:9");
  g_assert_cmpstr (strv[1], ==, "b.example:7447");
  again = natter_server_address_parse_strv ((const char *const *) strv, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->len, ==, 2);
  g_assert_cmpstr (((NatterServerAddress *) again->pdata[0])->host, ==, "::1");
  g_assert_cmpuint (((NatterServerAddress *) again->pdata[0])->port, ==, 9);

  g_assert_null (natter_server_address_parse_strv (two_in_one, &error));
  g_assert_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_HOST);
  g_clear_error (&error);
  g_assert_null (natter_server_address_parse_strv (empty, &error));
  g_assert_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_EMPTY);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-address/parse-list", test_parse_list);
  g_test_add_func ("/server-address/error-names-entry", test_error_names_entry);
  g_test_add_func ("/server-address/strv-round-trip", test_strv_round_trip);

  return g_test_run ();
}
