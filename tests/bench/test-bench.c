/* test-bench.c: every natter-bench scenario, run with tiny numbers against a
 * real natterd (which natter-bench starts itself, on 127.0.0.1:0 with a
 * temporary data directory), so the tool keeps working as the server
 * changes.
 *
 * Nothing here asserts a timing: only that each scenario finishes, exits 0,
 * and that its JSON line says every message, login and query was answered
 * (and, for files, that the file came back as it went up).
 */
#define G_LOG_DOMAIN "natter-test-bench"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

typedef struct {
  const char *name;
  const char *scenario;
  const char *args[20];
} BenchCase;

static char *
bench_path (void)
{
  const char *build = g_getenv ("NATTER_BUILD_DIR");

  g_assert_nonnull (build);
  return g_build_filename (build, "bench", "natter-bench", NULL);
}

/* Runs natter-bench and returns its standard output. The test runner's own
 * timeout bounds a run that hangs. */
static char *
run_bench_output (const char *scenario, const char *const *args, gboolean natterd, int *out_status)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  guint i;

  g_ptr_array_add (argv, bench_path ());
  if (natterd)
    {
      const char *natterd_path = g_getenv ("NATTERD_PATH");

      g_assert_nonnull (natterd_path);
      g_ptr_array_add (argv, g_strdup ("--natterd"));
      g_ptr_array_add (argv, g_strdup (natterd_path));
    }
  g_ptr_array_add (argv, g_strdup ("--threads=2"));
  g_ptr_array_add (argv, g_strdup ("--timeout=60"));
  for (i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, g_strdup (scenario));
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_newv ((const char *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("natter-bench %s stdout:\n%s", scenario, out);
  if (err && *err)
    g_test_message ("natter-bench %s stderr:\n%s", scenario, err);
  *out_status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  return out;
}

/* The parsed JSON line of @scenario in natter-bench's output (the last
 * one), or NULL. */
static JsonObject *
find_report (const char *out, const char *scenario, JsonNode **out_node)
{
  g_autofree char *prefix = g_strdup_printf ("{\"scenario\":\"%s\"", scenario);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  JsonObject *found = NULL;

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix))
      {
        g_autoptr(JsonParser) parser = json_parser_new ();
        g_autoptr(GError) error = NULL;

        g_assert_true (json_parser_load_from_data (parser, lines[i], -1, &error));
        g_assert_no_error (error);
        g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
        g_clear_pointer (out_node, json_node_unref);
        *out_node = json_node_copy (json_parser_get_root (parser));
        found = json_node_get_object (*out_node);
      }
  return found;
}

/* Runs natter-bench and returns the parsed JSON line of @scenario. */
static JsonObject *
run_bench (const char *scenario, const char *const *args, gboolean natterd, int *out_status,
           JsonNode **out_node)
{
  g_autofree char *out = run_bench_output (scenario, args, natterd, out_status);

  return find_report (out, scenario, out_node);
}

static gint64
get_int (JsonObject *o, const char *key)
{
  g_assert_true (json_object_has_member (o, key));
  return json_object_get_int_member (o, key);
}

static double
get_double (JsonObject *o, const char *key)
{
  g_assert_true (json_object_has_member (o, key));
  return json_object_get_double_member (o, key);
}

static void
test_fanout (gconstpointer data)
{
  const BenchCase *bc = data;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;
  int status;

  o = run_bench (bc->scenario, bc->args, TRUE, &status, &node);
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (get_int (o, "deliveries"), ==, get_int (o, "expected"));
  g_assert_cmpint (get_int (o, "expected"), ==, get_int (o, "messages") * get_int (o, "members"));
  g_assert_cmpint (get_int (o, "errors"), ==, 0);
  g_assert_cmpfloat (get_double (o, "p99_ms"), >=, get_double (o, "p50_ms"));
  /* Plain TCP deliveries carry the kernel's arrival stamp (so the arrival
   * figures are not the read figures again); TLS ones cannot. */
  if (g_strv_contains ((const char *const *) bc->args, "--tls"))
    g_assert_cmpint (get_int (o, "arrival_stamped"), ==, 0);
  else
    g_assert_cmpint (get_int (o, "arrival_stamped"), ==, get_int (o, "deliveries"));
  /* Arrival in the socket comes before the read, delivery by delivery. */
  g_assert_cmpfloat (get_double (o, "arrival_p99_ms"), >=, get_double (o, "arrival_p50_ms"));
  g_assert_cmpfloat (get_double (o, "arrival_p50_ms"), <=, get_double (o, "p50_ms"));
  g_assert_cmpfloat (get_double (o, "arrival_p99_ms"), <=, get_double (o, "p99_ms"));
}

/* The mixed scenario: the sends-only pass and the pass with changes both
 * reach every member, every change is stored (none refused, none a no-op)
 * and every member's message_changed is matched to the change it
 * reports, on SQLite and on PostgreSQL. */
static void
test_mixed (gconstpointer data)
{
  const BenchCase *bc = data;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) plain_node = NULL;
  JsonObject *o, *plain;
  gint64 changes, members;
  int status;
  g_autofree char *out = run_bench_output ("mixed", bc->args, TRUE, &status);

  o = find_report (out, "mixed", &node);
  if (status == 77)
    {
      g_test_skip ("PostgreSQL is not installed");
      return;
    }
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  members = get_int (o, "members");
  changes = get_int (o, "edits") + get_int (o, "reactions") + get_int (o, "deletes");
  g_assert_cmpint (get_int (o, "edits"), >, 0);
  g_assert_cmpint (get_int (o, "reactions"), >, 0);
  g_assert_cmpint (get_int (o, "deletes"), >, 0);
  g_assert_cmpint (get_int (o, "errors"), ==, 0);
  g_assert_cmpint (get_int (o, "change_noops"), ==, 0);
  g_assert_cmpint (get_int (o, "change_refused"), ==, 0);
  g_assert_cmpint (get_int (o, "change_unmatched"), ==, 0);
  g_assert_cmpint (get_int (o, "deliveries"), ==, get_int (o, "messages") * members);
  g_assert_cmpint (get_int (o, "change_deliveries"), ==, changes * members);
  g_assert_cmpint (get_int (o, "message_deliveries"), ==, (get_int (o, "messages") - changes) * members);
  g_assert_cmpfloat (get_double (o, "change_p99_ms"), >=, get_double (o, "change_p50_ms"));
  g_assert_cmpfloat (get_double (o, "change_arrival_p50_ms"), <=, get_double (o, "change_p50_ms"));
  g_assert_cmpfloat (get_double (o, "ratio_cpu"), >=, 0);

  /* The same run's sends-only pass, on connections with message_actions. */
  plain = find_report (out, "fanout", &plain_node);
  g_assert_nonnull (plain);
  g_assert_cmpstr (json_object_get_string_member (plain, "features"), ==, "message_actions");
  g_assert_cmpint (get_int (plain, "deliveries"), ==, get_int (plain, "messages") * members);
  g_assert_cmpint (get_int (plain, "errors"), ==, 0);
}

/* Two natterd nodes on one throw-away PostgreSQL and one throw-away Redis
 * bus, the members and senders over both: every message reaches every
 * member, each node delivers to its own half, and the messages cross the
 * bus in publishes of their own (a few, not one per member). */
static void
test_fanout_nodes (void)
{
  const char *const args[] = { "--nodes", "2", "--database", "postgresql-temp",
                               "-n", "6", "-p", "2", "-m", "20", "-w", "4", NULL };
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *redis = g_find_program_in_path ("redis-server");
  JsonObject *o;
  int status;

  /* natter-bench looks in PATH, then /usr/bin. */
  if (!redis && !g_file_test ("/usr/bin/redis-server", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("redis-server is not installed (the cluster's bus)");
      return;
    }
  o = run_bench ("fanout", args, TRUE, &status, &node);
  if (status == 77)
    {
      g_test_skip ("PostgreSQL is not installed (natter-bench --database postgresql-temp)");
      return;
    }
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (get_int (o, "nodes"), ==, 2);
  g_assert_cmpint (get_int (o, "expected"), ==, 120);
  g_assert_cmpint (get_int (o, "deliveries"), ==, 120);
  g_assert_cmpint (get_int (o, "errors"), ==, 0);
  /* Members 0, 2, 4 on the first node, 1, 3, 5 on the second. */
  g_assert_cmpfloat (get_double (o, "node0_deliveries"), ==, 60);
  g_assert_cmpfloat (get_double (o, "node1_deliveries"), ==, 60);
  /* Read (not judged: 20 messages may take less than a clock tick). */
  g_assert_cmpfloat (get_double (o, "node0_cpu_s"), >=, 0);
  g_assert_cmpfloat (get_double (o, "node1_cpu_s"), >=, 0);
  /* Both nodes' senders published; presence may add a few publishes
   * (hello, alive every 3 s), never one per recipient (120). */
  g_assert_cmpint (get_int (o, "bus_publishes"), >=, 2);
  g_assert_cmpint (get_int (o, "bus_publishes"), <=, 20 + 10);
  g_assert_cmpint (get_int (o, "db_commits"), >, 0);
}

static void
test_redis (void)
{
  const char *const args[] = { "-n", "5", "-p", "2", "-m", "20", NULL };
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *redis = g_find_program_in_path ("redis-server");
  JsonObject *o;
  int status;

  if (!redis)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }
  o = run_bench ("redis", args, FALSE, &status, &node);
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (get_int (o, "deliveries"), ==, 100);
  g_assert_cmpint (get_int (o, "errors"), ==, 0);
}

static void
test_idle (gconstpointer data)
{
  const BenchCase *bc = data;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;
  int status;

  o = run_bench ("idle", bc->args, TRUE, &status, &node);
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (get_int (o, "ready"), ==, get_int (o, "connections"));
  g_assert_cmpint (get_int (o, "lost"), ==, 0);
  g_assert_cmpfloat (get_double (o, "rss_after_kb"), >, 0);
}

static void
test_dm (gconstpointer data)
{
  const BenchCase *bc = data;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;
  int status;

  o = run_bench ("dm", bc->args, TRUE, &status, &node);
  if (status == 77)
    {
      g_test_skip ("PostgreSQL is not installed");
      return;
    }
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (get_int (o, "acked"), ==, 40);
  g_assert_cmpint (get_int (o, "delivered"), ==, 40);
  g_assert_cmpint (get_int (o, "errors"), ==, 0);
}

/* The files scenario with a small file: it went up over TLS (natterd
 * checked its SHA-256 against the declared one before naming the file)
 * and came down the same, chunk by chunk and as a whole; the raw TLS copy
 * beside it was made with the same suite; natterd's memory was read. On
 * SQLite and on PostgreSQL (where the chunks are rows). */
static void
test_files (gconstpointer data)
{
  const BenchCase *bc = data;
  g_autoptr(JsonNode) node = NULL;
  const char *up, *down;
  JsonObject *o;
  int status;

  o = run_bench ("files", bc->args, TRUE, &status, &node);
  if (status == 77)
    {
      g_test_skip ("PostgreSQL is not installed");
      return;
    }
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (get_int (o, "size"), ==, 2 * 1024 * 1024);
  g_assert_cmpint (get_int (o, "chunks"), ==, 64);
  g_assert_cmpint (get_int (o, "file"), >, 0);
  up = json_object_get_string_member (o, "sha256_uploaded");
  down = json_object_get_string_member (o, "sha256_downloaded");
  g_assert_nonnull (up);
  g_assert_cmpuint (strlen (up), ==, 64);
  g_assert_cmpuint (strspn (up, "0123456789abcdef"), ==, 64);
  g_assert_cmpstr (down, ==, up);
  g_assert_cmpint (get_int (o, "bytes_downloaded"), ==, get_int (o, "size"));
  g_assert_cmpint (get_int (o, "chunks_differing"), ==, 0);
  g_assert_cmpint (get_int (o, "errors"), ==, 0);
  g_assert_cmpfloat (get_double (o, "up_mb_s"), >, 0);
  g_assert_cmpfloat (get_double (o, "down_mb_s"), >, 0);
  g_assert_cmpfloat (get_double (o, "raw_up_mb_s"), >, 0);
  g_assert_cmpfloat (get_double (o, "raw_down_mb_s"), >, 0);
  g_assert_cmpfloat (get_double (o, "ratio_up"), >, 0);
  g_assert_cmpfloat (get_double (o, "ratio_down"), >, 0);
  /* The reference speaks the TLS natterd speaks. */
  g_assert_nonnull (json_object_get_string_member (o, "tls"));
  g_assert_cmpstr (json_object_get_string_member (o, "raw_tls"), ==,
                   json_object_get_string_member (o, "tls"));
  /* A phase's peak is at least the memory it started with. */
  g_assert_cmpfloat (get_double (o, "rss_before_kb"), >, 0);
  g_assert_cmpfloat (get_double (o, "peak_rss_up_kb"), >=, get_double (o, "rss_before_kb"));
  g_assert_cmpfloat (get_double (o, "peak_rss_down_kb"), >, 0);
}

static void
test_login (void)
{
  const char *const args[] = { "-c", "4", "-u", "3", "-d", "0.3", "--storm", "10", NULL };
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;
  int status;

  o = run_bench ("login", args, TRUE, &status, &node);
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpfloat (get_double (o, "token_per_s"), >, 0);
  g_assert_cmpfloat (get_double (o, "password_per_s"), >, 0);
  g_assert_cmpint (get_int (o, "token_lost"), ==, 0);
  g_assert_cmpint (get_int (o, "storm_synced"), ==, 10);
}

static void
test_history (void)
{
  const char *const args[] = { "--prefill", "200", "-q", "10", "-w", "8", NULL };
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;
  int status;

  o = run_bench ("history", args, TRUE, &status, &node);
  g_assert_nonnull (o);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpint (get_int (o, "messages_in_db"), ==, 200);
  g_assert_cmpint (get_int (o, "history_count"), ==, 10);
  g_assert_cmpint (get_int (o, "sync_count"), ==, 10);
  g_assert_cmpint (get_int (o, "search_common_count"), ==, 10);
  g_assert_cmpint (get_int (o, "search_rare_count"), ==, 10);
  g_assert_cmpint (get_int (o, "search_prefix_count"), ==, 10);
  g_assert_cmpint (get_int (o, "failed"), ==, 0);
  g_assert_cmpint (get_int (o, "last_id") - get_int (o, "first_id"), >=, 199);
}

static const BenchCase fanout_window = {
  "window", "fanout", { "-n", "5", "-p", "2", "-m", "20", "-s", "64", "-w", "4", NULL } };
/* 20 members: the tool's TLS engine, and natterd's send pool over TLS. */
static const BenchCase fanout_tls = {
  "tls", "fanout", { "--tls", "-n", "20", "-p", "2", "-m", "10", NULL } };
static const BenchCase fanout_rate = {
  "rate", "fanout", { "-n", "3", "-m", "10", "--rate", "200", NULL } };
static const BenchCase dm_sqlite = {
  "sqlite", "dm", { "--pairs", "2", "-m", "40", "-w", "4", NULL } };
/* natter-bench starts a throw-away PostgreSQL itself. */
static const BenchCase dm_pg = {
  "postgresql-temp", "dm", { "--database", "postgresql-temp", "--pairs", "2", "-m", "40", "-w", "4", NULL } };
/* A large share of changes, so that each kind shows up in 300 actions. */
static const BenchCase mixed_sqlite = {
  "sqlite", "mixed", { "-n", "5", "-p", "2", "-m", "300", "-w", "4",
                       "--edits", "20", "--reactions", "20", "--deletes", "10", NULL } };
static const BenchCase mixed_pg = {
  "postgresql-temp", "mixed", { "--database", "postgresql-temp", "-n", "5", "-p", "2", "-m", "300", "-w", "4",
                                "--edits", "20", "--reactions", "20", "--deletes", "10", NULL } };
/* 2 MiB: 64 chunks, four windows' worth each way. */
static const BenchCase files_sqlite = {
  "sqlite", "files", { "--size", "2M", NULL } };
static const BenchCase files_pg = {
  "postgresql-temp", "files", { "--database", "postgresql-temp", "--size", "2MiB", NULL } };
static const BenchCase idle_plain = {
  "plain", "idle", { "-c", "20", "-u", "4", NULL } };
static const BenchCase idle_tls = {
  "tls", "idle", { "-c", "6", "-u", "2", "--tls", NULL } };

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/bench/fanout/window", &fanout_window, test_fanout);
  g_test_add_data_func ("/bench/fanout/rate", &fanout_rate, test_fanout);
  g_test_add_data_func ("/bench/fanout/tls", &fanout_tls, test_fanout);
  g_test_add_func ("/bench/fanout/nodes", test_fanout_nodes);
  g_test_add_data_func ("/bench/mixed/sqlite", &mixed_sqlite, test_mixed);
  g_test_add_data_func ("/bench/mixed/postgresql-temp", &mixed_pg, test_mixed);
  g_test_add_func ("/bench/redis", test_redis);
  g_test_add_data_func ("/bench/idle/plain", &idle_plain, test_idle);
  g_test_add_data_func ("/bench/idle/tls", &idle_tls, test_idle);
  g_test_add_data_func ("/bench/dm/sqlite", &dm_sqlite, test_dm);
  g_test_add_data_func ("/bench/dm/postgresql-temp", &dm_pg, test_dm);
  g_test_add_data_func ("/bench/files/sqlite", &files_sqlite, test_files);
  g_test_add_data_func ("/bench/files/postgresql-temp", &files_pg, test_files);
  g_test_add_func ("/bench/login", test_login);
  g_test_add_func ("/bench/history", test_history);
  return g_test_run ();
}
