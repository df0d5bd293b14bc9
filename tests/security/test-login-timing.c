/* test-login-timing.c: a password login for a user that does not exist
 * takes as long as one with a wrong password for a user that does, so
 * the answer's time does not tell which names are accounts
 * (docs/security.md, "Logins"); and one for a deleted account
 * (account_delete) as long as one for a name nobody has.
 *
 * natterd verifies an unknown user's password against a dummy argon2id
 * hash of the same cost (natterd-auth.c). Measured here from the client,
 * as an attacker would: many tries of each, interleaved on one
 * connection so that drifts of the machine's load hit both alike, and
 * both their fastest tries and their medians compared, each within 4x.
 * Either alone has failed a 2x bound on the 2-core CI machine with
 * another test hashing beside it: medians 52.3 vs 22.8 ms while the
 * fastest tries were 18.6 and 19.1; and fastest tries 47.9 vs 19.2 ms
 * (one lucky try on an idle moment) while the medians were 55.2 and
 * 54.5. Without the dummy hash both ratios are in the hundreds (260 ms
 * against 0.4), so 4x still tells the two apart by two orders of
 * magnitude.
 */
#define G_LOG_DOMAIN "natter-test"

#include "natter-test-client.h"
#include "natter-test-server.h"

#define TRIES 15
/* The limits that would answer rate_limited long before TRIES. */
#define NO_LOGIN_LIMITS \
  "[limits]\nfailed_logins_per_minute_per_address = 10000000\n" \
  "failed_logins_per_minute_per_user = 10000000\n"
#define MAX_RATIO 4.0

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *values,
        gsize   n)
{
  qsort (values, n, sizeof *values, compare_doubles);
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* One failed login of @username, in milliseconds from request to answer. */
static double
failed_login_ms (NatterTestClient *c,
                 const char       *username)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(JsonObject) e = natter_test_client_request_error (c, "auth_failed",
      "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"not the password at all\"}",
      username);

  return (g_get_monotonic_time () - start) / 1000.0;
}

/* The failed logins of @known and of "nobody", interleaved on one
 * connection to @srv, take about as long. */
static void
assert_as_slow_as_unknown (NatterTestServer *srv,
                           const char       *known)
{
  g_autoptr(NatterTestClient) x = natter_test_client_new (srv);
  double wrong[TRIES], unknown[TRIES];
  double wrong_median, unknown_median, ratio;

  /* One of each first: the first hash pays for its memory. */
  failed_login_ms (x, known);
  failed_login_ms (x, "nobody");
  for (guint i = 0; i < TRIES; i++)
    {
      wrong[i] = failed_login_ms (x, known);
      unknown[i] = failed_login_ms (x, "nobody");
    }
  wrong_median = median (wrong, TRIES);
  unknown_median = median (unknown, TRIES);
  /* Sorted by median (): [0] is the fastest try. */
  ratio = MAX (wrong[0], unknown[0]) / MIN (wrong[0], unknown[0]);
  natter_test_note ("%s: median %.1f ms (%.1f to %.1f); unknown user: median %.1f ms "
                    "(%.1f to %.1f); ratio of the fastest %.2f over %d tries each",
                    known, wrong_median, wrong[0], wrong[TRIES - 1], unknown_median, unknown[0],
                    unknown[TRIES - 1], ratio, TRIES);
  /* Both paths hash: a login that hashes nothing answers in well under
   * a millisecond on loopback, argon2id at 19 MiB takes tens. */
  g_assert_cmpfloat (MIN (wrong[0], unknown[0]), >, 5.0);
  g_assert_cmpfloat (ratio, <=, MAX_RATIO);
  g_assert_cmpfloat (MAX (wrong_median, unknown_median) / MIN (wrong_median, unknown_median), <=, MAX_RATIO);
}

static void
test_unknown_user_as_slow_as_wrong_password (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NO_LOGIN_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");

  assert_as_slow_as_unknown (srv, "alice");
}

/* A deleted account's row stays, with a hash that is no hash: checking a
 * password against it would answer at once. natterd answers it with the
 * dummy's work, as for a name nobody has. */
static void
test_deleted_user_as_slow_as_unknown (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NO_LOGIN_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
      "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\",\"features\":[\"accounts\"]}",
      NATTER_TEST_PASSWORD);
  g_autoptr(JsonObject) deleted = natter_test_client_request_ok (alice,
      "{\"type\":\"account_delete\",\"password\":\"%s\"}", NATTER_TEST_PASSWORD);

  natter_test_client_assert_closed (alice);
  assert_as_slow_as_unknown (srv, "alice");
}

int
main (int argc, char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add ("/security/login-timing/unknown-user-as-slow-as-wrong-password",
                   test_unknown_user_as_slow_as_wrong_password);
  natter_test_add_single_node ("/security/login-timing/deleted-user-as-slow-as-unknown",
                               test_deleted_user_as_slow_as_unknown,
                               "a server of several nodes does not offer accounts yet");
  return g_test_run ();
}
