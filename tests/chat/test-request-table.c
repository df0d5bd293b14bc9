/* The chat layer's request table (server/chat/natterd-requests.def): kept
 * sorted for bsearch, every row found by its type, nothing else found. */
#include "natterd-handlers.h"

static void
test_sorted (void)
{
  g_assert_true (natterd_handlers_check_sorted ());
}

static void
test_lookup (void)
{
#define NATTERD_REQUEST(name, flags)                                     \
  {                                                                      \
    const NatterdHandler *h = natterd_handlers_lookup (#name);           \
    g_assert_nonnull (h);                                                \
    g_assert_cmpstr (h->type, ==, #name);                                \
  }
#include "natterd-requests.def"
#undef NATTERD_REQUEST

  /* The connection answers these itself; the rest is unknown_type. */
  g_assert_null (natterd_handlers_lookup ("ping"));
  g_assert_null (natterd_handlers_lookup ("pong"));
  g_assert_null (natterd_handlers_lookup (""));
  g_assert_null (natterd_handlers_lookup ("Send"));
  g_assert_null (natterd_handlers_lookup (NULL));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/request-table/sorted", test_sorted);
  g_test_add_func ("/request-table/lookup", test_lookup);
  return g_test_run ();
}
