/* test-client-bench.c: natter-client-bench's two scenarios with tiny
 * numbers, against a real natterd it starts itself, so the tool keeps
 * working as the client core and the server change.
 *
 * Only counts are checked (every message reached the model, once), never a
 * timing.
 */
#define G_LOG_DOMAIN "natter-test-client-bench"

#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

/* Runs the tool with @args; returns its JSON line (the last line that
 * starts with '{'), parsed. */
static JsonNode *
run_client_bench (const char *const *args)
{
  g_autofree char *tool = g_build_filename (g_getenv ("NATTER_BUILD_DIR"), "bench", "client",
                                            "natter-client-bench", NULL);
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_auto(GStrv) argv_v = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  const char *json = NULL;

  g_strv_builder_add_many (argv, tool, "--natterd", g_getenv ("NATTERD_PATH"), "--timeout=120", NULL);
  g_strv_builder_addv (argv, (const char **) args);
  argv_v = g_strv_builder_end (argv);

  /* stderr goes to the test log as it is. */
  proc = g_subprocess_newv ((const char *const *) argv_v, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", out);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);

  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] == '{')
      json = lines[i];
  g_assert_nonnull (json);
  return json_from_string (json, &error);
}

static void
test_open (void)
{
  const char *const args[] = { "open", "-n", "200", NULL };
  g_autoptr(JsonNode) node = run_client_bench (args);
  JsonObject *o = json_node_get_object (node);

  g_assert_cmpstr (json_object_get_string_member (o, "scenario"), ==, "open");
  g_assert_cmpint (json_object_get_int_member (o, "messages"), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "catchup_count"), ==, 200);
  /* The conversation list brought the newest, the first page 50 more. */
  g_assert_cmpint (json_object_get_int_member (o, "open_first_count"), ==, 51);
  g_assert_cmpint (json_object_get_int_member (o, "scroll_count"), ==, 200);
  g_assert_cmpint (json_object_get_int_member (o, "scroll_pages"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "scroll_loop_iterations"), >, 0);
}

static void
test_stream (void)
{
  const char *const args[] = { "stream", "-r", "50", "-d", "1", "-c", "3", NULL };
  g_autoptr(JsonNode) node = run_client_bench (args);
  JsonObject *o = json_node_get_object (node);

  g_assert_cmpstr (json_object_get_string_member (o, "scenario"), ==, "stream");
  /* Two rooms with a message each, and the streamed conversation. */
  g_assert_cmpint (json_object_get_int_member (o, "conversations"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "sent"), ==, 50);
  g_assert_cmpint (json_object_get_int_member (o, "acked"), ==, 50);
  g_assert_cmpint (json_object_get_int_member (o, "errors"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "received"), ==, 50);
  g_assert_cmpint (json_object_get_int_member (o, "model_added"), ==, 50);
  g_assert_cmpint (json_object_get_int_member (o, "stream_loop_iterations"), >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client-bench/open", test_open);
  g_test_add_func ("/client-bench/stream", test_stream);

  return g_test_run ();
}
