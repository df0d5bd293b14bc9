/* The keys per-address limits are counted under. */
#include "natterd-address.h"

typedef struct {
  const char *address;
  const char *key;
} AddressCase;

static const AddressCase cases[] = {
  { "192.0.2.7",                 "192.0.2.7" },
  { "127.0.0.1",                 "127.0.0.1" },
  { "127.0.0.5",                 "127.0.0.5" },        /* each loopback address on its own */
  { "::1",                       "::1" },
  { "::ffff:198.51.100.4",       "198.51.100.4" },     /* IPv4 on a dual-stack socket */
  { "2001:db8:1:2:3:4:5:6",      "2001:db8:1:2::/64" },
  { "2001:db8:1:2:ffff::1",      "2001:db8:1:2::/64" }, /* same /64, same key */
  { "2001:db8:1:3::1",           "2001:db8:1:3::/64" },
  { "fe80::1",                   "fe80:0:0:0::/64" },
};

static void
test_address_keys (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (cases[i].address);
      g_autoptr(GSocketAddress) address = NULL;
      g_autofree char *key = NULL;

      g_assert_nonnull (inet);
      address = g_inet_socket_address_new (inet, 7447);
      key = natterd_address_key (address);
      g_assert_cmpstr (key, ==, cases[i].key);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/address/keys", test_address_keys);
  return g_test_run ();
}
