/* natter-bench: load generator and measurement tool for natterd.
 *
 *   natter-bench [OPTION…] SCENARIO
 *
 * SCENARIO is fanout, mixed, redis, idle, dm, login, history or files. The tool either
 * starts natterd itself (--natterd PATH, default $NATTERD_PATH, on a data
 * directory it keeps between runs with --data-dir) or targets a running one
 * (--server HOST:PORT, with --pid PID to read its CPU and memory). Each
 * scenario prints a table for people and one JSON line for scripts.
 * docs/performance.md has the figures and the commands that made them.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "natter-test-pg.h"
#include "natter-tls-priority.h"

/* files: the default file, and the largest natterd takes by default
 * (max_file_bytes, docs/server.md). */
#define FILES_DEFAULT_SIZE (100 * 1024 * 1024)

/* --size's value: parsed by size_arg (suffixes), read by main. */
static gint64 size_arg_value = -1; /* not given */

/* --size N, with an optional K, M or G (KiB, MiB, GiB): a file's size
 * is easier to give as 100M than as 104857600. */
static gboolean
size_arg (const char *name,
          const char *value,
          gpointer    data,
          GError    **error)
{
  char *end = NULL;
  gint64 v = g_ascii_strtoll (value, &end, 10);
  gint64 unit = 1;

  if (end == value || v < 0)
    goto bad;
  switch (*end)
    {
    case 'K': case 'k': unit = 1024; end++; break;
    case 'M': case 'm': unit = 1024 * 1024; end++; break;
    case 'G': case 'g': unit = 1024 * 1024 * 1024; end++; break;
    default: break;
    }
  if (unit > 1 && (g_str_equal (end, "iB") || g_str_equal (end, "ib")))
    end += 2;
  if (*end != '\0' || v > G_MAXINT / unit)
    goto bad;
  size_arg_value = v * unit;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "--size: \"%s\" is not a size (bytes, or a number with K, M or G)", value);
  return FALSE;
}

static void
raise_file_limit (void)
{
  struct rlimit rl;
  g_autofree char *nr_open = NULL;
  rlim_t want = 1048576;

  if (g_file_get_contents ("/proc/sys/fs/nr_open", &nr_open, NULL, NULL))
    want = MIN (want, (rlim_t) strtoull (nr_open, NULL, 10));
  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur >= want)
    return;
  rl.rlim_cur = want;
  if (rl.rlim_max < want)
    rl.rlim_max = want; /* allowed for root; otherwise fall back below */
  if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
    {
      getrlimit (RLIMIT_NOFILE, &rl);
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static char *
find_redis (void)
{
  char *p = g_find_program_in_path ("redis-server");

  if (!p && g_file_test ("/usr/bin/redis-server", G_FILE_TEST_IS_EXECUTABLE))
    p = g_strdup ("/usr/bin/redis-server");
  return p;
}

static void
print_machine (const BenchOptions *o)
{
  g_autofree char *cpuinfo = NULL;
  g_autofree char *model = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *load = NULL;
  struct rlimit rl;

  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    {
      char *l = strstr (cpuinfo, "model name");

      if (l && (l = strchr (l, ':')))
        model = g_strndup (l + 2, strcspn (l + 2, "\n"));
    }
  g_file_get_contents ("/proc/sys/kernel/osrelease", &kernel, NULL, NULL);
  if (kernel)
    g_strchomp (kernel);
  getrlimit (RLIMIT_NOFILE, &rl);
  /* The load average says whether something else shared the CPUs. */
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  if (load)
    g_strchomp (load);
  g_print ("machine: %ld CPUs (%s), kernel %s, load %s; tool: %u worker threads, file limit %lu\n",
           sysconf (_SC_NPROCESSORS_ONLN), model ? model : "?", kernel ? kernel : "?",
           load ? load : "?", o->threads, (unsigned long) rl.rlim_cur);
}

/* --natterd-set GROUP.KEY=VALUE ... as config file lines, appended to the
 * benchmark's own (so that a setting can be compared back to back). */
static char *
settings_to_config (char  **settings,
                    GError **error)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; settings != NULL && settings[i] != NULL; i++)
    {
      const char *dot = strchr (settings[i], '.');
      const char *eq = strchr (settings[i], '=');

      if (dot == NULL || eq == NULL || dot > eq || dot == settings[i] || eq == dot + 1)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "\"%s\" is not GROUP.KEY=VALUE", settings[i]);
          g_string_free (out, TRUE);
          return NULL;
        }
      g_string_append_printf (out, "[%.*s]\n%.*s=%s\n", (int) (dot - settings[i]), settings[i],
                              (int) (eq - dot - 1), dot + 1, eq + 1);
    }
  return g_string_free (out, out->len == 0);
}

/* The server settings of --database postgresql-temp: those of the first
 * PostgreSQL figures (docs/performance.md), durable as a real server is
 * (the tests' throw-away server runs with fsync off). */
static const char *const temp_pg_settings[] = {
  "fsync=on", "full_page_writes=on", "synchronous_commit=on", "shared_buffers=256MB", NULL,
};

/* --database: the config lines for the natterd we start (NULL: its
 * default, SQLite), after starting a throw-away PostgreSQL into *@out_pg
 * for "postgresql-temp". */
static char *
database_to_config (const char    *database,
                    NatterTestPg **out_pg,
                    char         **out_conninfo,
                    GError       **error)
{
  g_autofree char *conninfo = NULL;
  g_autofree char *skip = NULL;

  if (database == NULL || g_str_equal (database, "sqlite"))
    return NULL;
  if (!g_str_equal (database, "postgresql-temp"))
    {
      *out_conninfo = g_strdup (database);
      return g_strdup_printf ("[storage]\ndatabase=%s\n", database);
    }
  *out_pg = natter_test_pg_start_with (temp_pg_settings, &skip);
  if (*out_pg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "postgresql-temp: %s", skip);
      return NULL;
    }
  conninfo = natter_test_pg_new_database (*out_pg, NULL);
  *out_conninfo = g_strdup (conninfo);
  g_print ("PostgreSQL (throw-away, %s) on 127.0.0.1:%u\n", temp_pg_settings[3],
           natter_test_pg_get_port (*out_pg));
  return g_strdup_printf ("[storage]\ndatabase=%s\n", conninfo);
}

/* Waits until every node's log says it is on the bus (each node says so
 * once its subscription is in place). */
static gboolean
wait_on_bus (BenchOptions *o, GError **error)
{
  gint64 deadline = bench_now_ns () + G_GINT64_CONSTANT (30000000000);

  for (guint k = 0; k < o->n_nodes; k++)
    {
      for (;;)
        {
          g_autofree char *line = bench_natterd_log_line (o->nodes[k]->data_dir, "is on the cluster's bus");

          if (line)
            break;
          if (bench_now_ns () > deadline)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           "node bench-%u did not join the bus within 30 s (log in %s/natterd.log)",
                           k, o->nodes[k]->data_dir);
              return FALSE;
            }
          g_usleep (10000);
        }
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  BenchOptions o = {
    .threads = 0,
    .timeout_s = 300,
    .members = 100,
    .senders = 1,
    .messages = 10000,
    .size = 0,   /* per scenario, below */
    .window = 0,
    .connections = 1000,
    .users = 100,
    .duration_s = 5,
    .pairs = 50,
    .storm = 1000,
    .queries = 1000,
    .prefill = 1000000,
    .connect_window = 256,
    .mix = { .edit_pct = 10, .react_pct = 10, .delete_pct = 2 },
  };
  gint64 messages = -1, prefill = -1;
  int pid = 0;
  int nodes = 0;
  gboolean temp_dir = FALSE;
  gboolean engine_tls, files;
  g_auto(GStrv) settings = NULL;
  g_autofree char *database = NULL;
  g_autoptr(NatterTestPg) pg = NULL;
  const GOptionEntry entries[] = {
    { "natterd", 0, 0, G_OPTION_ARG_FILENAME, &o.natterd_path, "natterd to start (default $NATTERD_PATH)", "PATH" },
    { "database", 0, 0, G_OPTION_ARG_STRING, &database, "Where the natterd we start stores: sqlite (the default), a PostgreSQL URL or key=value conninfo, or postgresql-temp (a throw-away PostgreSQL started here, fsync on)", "URL" },
    { "natterd-set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &settings, "A setting for the natterd we start, as in its config file (repeatable)", "GROUP.KEY=VALUE" },
    { "nodes", 0, 0, G_OPTION_ARG_INT, &nodes, "fanout/dm: start N natterd nodes on one database and a throw-away Redis bus, connections spread over them in turn (N > 1 needs a PostgreSQL --database, e.g. postgresql-temp)", "N" },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.data_dir, "Data directory for the natterd we start (kept; default: a temporary one)", "DIR" },
    { "server", 0, 0, G_OPTION_ARG_STRING, &o.server, "Target a running natterd instead (plain TCP)", "HOST:PORT" },
    { "pid", 0, 0, G_OPTION_ARG_INT, &pid, "PID of the --server natterd, for CPU and memory", "PID" },
    { "users-cache", 0, 0, G_OPTION_ARG_FILENAME, &o.users_cache, "File of benchmark users' tokens (default DATA_DIR/bench-users.txt)", "FILE" },
    { "redis-server", 0, 0, G_OPTION_ARG_FILENAME, &o.redis_path, "redis-server for the reference (default: from PATH)", "PATH" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "Worker threads (default: number of CPUs)", "T" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o.timeout_s, "Give up a phase after this many seconds (300)", "S" },
    { "tls", 0, 0, G_OPTION_ARG_NONE, &o.tls, "Connect with TLS. idle: the natterd we start is restarted with TLS on once the users exist (with --server the users must be in --users-cache); other scenarios: natterd runs TLS from the start and every connection of the tool speaks it", NULL },
    { "members", 'n', 0, G_OPTION_ARG_INT, &o.members, "fanout/mixed/redis: receiving members (100)", "N" },
    { "senders", 'p', 0, G_OPTION_ARG_INT, &o.senders, "fanout/mixed/redis: sending connections (1)", "P" },
    { "messages", 'm', 0, G_OPTION_ARG_INT64, &messages, "fanout/mixed/redis/dm: messages (mixed: actions) in all (10000)", "M" },
    { "size", 's', 0, G_OPTION_ARG_CALLBACK, size_arg, "Message body bytes (100); files: the file's bytes, K, M or G for KiB, MiB, GiB (100M)", "S" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &o.window, "Unacknowledged sends per sender (64); files: chunk requests in flight (16)", "W" },
    { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &o.rate, "fanout/redis: messages per second in all (default: as fast as possible)", "R" },
    { "edits", 0, 0, G_OPTION_ARG_INT, &o.mix.edit_pct, "mixed: per cent of the actions that edit one of the sender's messages (10)", "PCT" },
    { "reactions", 0, 0, G_OPTION_ARG_INT, &o.mix.react_pct, "mixed: per cent that add or remove a reaction (10)", "PCT" },
    { "deletes", 0, 0, G_OPTION_ARG_INT, &o.mix.delete_pct, "mixed: per cent that delete one (2)", "PCT" },
    { "compare-redis", 0, 0, G_OPTION_ARG_NONE, &o.compare_redis, "fanout: run the same fan-out through redis-server and print the ratio", NULL },
    { "connections", 'c', 0, G_OPTION_ARG_INT, &o.connections, "idle/login: connections (1000)", "N" },
    { "users", 'u', 0, G_OPTION_ARG_INT, &o.users, "idle/login: distinct users behind the connections (100)", "U" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &o.duration_s, "login: seconds per measurement (5)", "S" },
    { "pairs", 0, 0, G_OPTION_ARG_INT, &o.pairs, "dm: pairs of users (50)", "N" },
    { "storm", 0, 0, G_OPTION_ARG_INT, &o.storm, "login: clients in the reconnect storm (1000)", "N" },
    { "queries", 'q', 0, G_OPTION_ARG_INT, &o.queries, "history: requests of each kind (1000)", "N" },
    { "prefill", 0, 0, G_OPTION_ARG_INT64, &prefill, "history: messages in the database (1000000)", "N" },
    { "connect-window", 0, 0, G_OPTION_ARG_INT, &o.connect_window, "Connections being set up at once, per thread (256)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("SCENARIO — fanout, mixed, redis, idle, dm, login, history, files");
  g_autoptr(GError) error = NULL;
  const char *scenario;
  int rc = 2;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Starts natterd itself unless --server is given; see docs/performance.md.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("natter-bench: %s\n", error->message);
      return 2;
    }
  if (argc != 2)
    {
      g_printerr ("%s", g_option_context_get_help (ctx, TRUE, NULL));
      return 2;
    }
  scenario = argv[1];
  files = g_str_equal (scenario, "files");
  if (files)
    {
      /* A file goes over TLS, as every client's does; the raw copy it is
       * compared with is made by this process with the TLS versions and
       * suites natterd offers (before any thread: it sets the
       * environment glib-networking reads). */
      o.tls = TRUE;
      natter_tls_priority_use (NATTER_TLS_PRIORITY ":%SERVER_PRECEDENCE");
    }
  engine_tls = o.tls && !g_str_equal (scenario, "idle");
  if (engine_tls && o.compare_redis)
    {
      g_printerr ("natter-bench: --compare-redis compares plain TCP; leave out --tls\n");
      return 2;
    }
  if (nodes < 0 || nodes > BENCH_MAX_NODES)
    {
      g_printerr ("natter-bench: --nodes must be 1 to %d\n", BENCH_MAX_NODES);
      return 2;
    }
  if (nodes > 0 && !g_str_equal (scenario, "fanout") && !g_str_equal (scenario, "mixed")
      && !g_str_equal (scenario, "dm"))
    {
      g_printerr ("natter-bench: --nodes works with fanout, mixed and dm\n");
      return 2;
    }
  if (files && o.server)
    {
      g_printerr ("natter-bench: files starts its own natterd (its memory and its certificate for the raw copy); leave out --server\n");
      return 2;
    }
  if (nodes > 0 && o.server)
    {
      g_printerr ("natter-bench: --nodes starts its own natterd nodes; leave out --server\n");
      return 2;
    }
  if (nodes > 1 && (database == NULL || g_str_equal (database, "sqlite")))
    {
      g_printerr ("natter-bench: --nodes %d needs a PostgreSQL --database (e.g. postgresql-temp): "
                  "only one natterd can open a SQLite database\n", nodes);
      return 2;
    }
  if ((guint64) o.mix.edit_pct + o.mix.react_pct + o.mix.delete_pct > 100)
    {
      g_printerr ("natter-bench: --edits, --reactions and --deletes add up to more than 100\n");
      return 2;
    }
  if (messages >= 0)
    o.messages = messages;
  if (prefill >= 0)
    o.prefill = prefill;
  o.server_pid = pid;
  if (o.threads == 0)
    o.threads = MAX (1, (guint) sysconf (_SC_NPROCESSORS_ONLN));
  o.size = size_arg_value >= 0 ? (guint) size_arg_value : files ? FILES_DEFAULT_SIZE : 100;
  if (o.window == 0)
    o.window = files ? 16 : 64;
  if (files && o.size < 1)
    {
      g_printerr ("natter-bench: --size must be at least 1\n");
      return 2;
    }
  if (!files && (o.size < 32 || o.size > NATTER_BENCH_MAX_BODY))
    {
      g_printerr ("natter-bench: --size must be 32 to %d\n", NATTER_BENCH_MAX_BODY);
      return 2;
    }
  if (!o.redis_path)
    o.redis_path = find_redis ();
  raise_file_limit ();
  print_machine (&o);

  if (g_str_equal (scenario, "redis"))
    {
      if (!o.redis_path)
        {
          g_print ("natter-bench: redis-server not found, skipping\n");
          return 77;
        }
      if (!o.data_dir)
        {
          o.data_dir = g_dir_make_tmp ("natter-bench-XXXXXX", &error);
          temp_dir = TRUE;
        }
      rc = bench_redis (&o, 0);
      goto out;
    }

  if (o.server)
    {
      const char *colon = strrchr (o.server, ':');

      if (!colon)
        {
          g_printerr ("natter-bench: --server wants HOST:PORT\n");
          return 2;
        }
      o.host = g_strndup (o.server, colon - o.server);
      o.port = (guint16) atoi (colon + 1);
      o.pid = o.server_pid;
      if (!o.users_cache)
        {
          g_printerr ("natter-bench: with --server, give --users-cache FILE (tokens of the users made)\n");
          return 2;
        }
    }
  else
    {
      if (!o.natterd_path)
        o.natterd_path = g_strdup (g_getenv ("NATTERD_PATH"));
      if (!o.natterd_path)
        {
          g_printerr ("natter-bench: give --natterd PATH or --server HOST:PORT\n");
          return 2;
        }
      if (!o.data_dir)
        {
          o.data_dir = g_dir_make_tmp ("natter-bench-XXXXXX", &error);
          if (!o.data_dir)
            {
              g_printerr ("natter-bench: %s\n", error->message);
              return 2;
            }
          temp_dir = TRUE;
        }
      /* idle --tls starts plain and restarts natterd with TLS once the
       * users exist (its TLS clients are GIO's); the other scenarios run
       * TLS from the start, the engine speaking it. */
      if (database != NULL && g_str_equal (database, "postgresql-temp") && !temp_dir)
        {
          /* The users cache there names users of another database. */
          g_printerr ("natter-bench: --database postgresql-temp starts with an empty database; leave out --data-dir\n");
          return 2;
        }
      {
        g_autofree char *storage = database_to_config (database, &pg, &o.db_conninfo, &error);
        g_autofree char *set = error == NULL ? settings_to_config (settings, &error) : NULL;

        /* files: the feature on, and a file past natterd's default
         * largest allowed (--natterd-set, after, still wins). */
        if (files)
          {
            g_autofree char *on = o.size > FILES_DEFAULT_SIZE
                                  ? g_strdup_printf ("[server]\nfiles=true\n[limits]\nmax_file_bytes=%u\n", o.size)
                                  : g_strdup ("[server]\nfiles=true\n");
            char *joined = g_strconcat (storage ? storage : "", on, NULL);

            g_free (storage);
            storage = joined;
          }

        if (error != NULL)
          {
            g_printerr ("natter-bench: %s\n", error->message);
            /* 77: what meson takes for a skip. */
            rc = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED) ? 77 : 2;
            goto out;
          }
        /* --natterd-set comes last: it may override the storage. */
        o.natterd_config = storage == NULL ? g_steal_pointer (&set)
                           : set == NULL ? g_steal_pointer (&storage)
                           : g_strconcat (storage, set, NULL);
      }
      if (nodes > 0 && o.db_conninfo != NULL)
        {
          /* A cluster: one Redis for the bus, the nodes on it. */
          g_autofree char *dir = g_build_filename (o.data_dir, "redis", NULL);

          if (!o.redis_path)
            {
              g_print ("natter-bench: --nodes: redis-server not found, skipping\n");
              rc = 77;
              goto out;
            }
          o.bus = bench_redis_start (o.redis_path, dir, &error);
          if (!o.bus)
            {
              g_printerr ("natter-bench: %s\n", error->message);
              rc = 1;
              goto out;
            }
          g_print ("Redis (throw-away, the bus) %s on 127.0.0.1:%u, pid %d\n", o.redis_path,
                   o.bus->port, (int) o.bus->pid);
        }
      else if (nodes > 0)
        g_print ("natter-bench: --nodes 1 without a PostgreSQL --database: one natterd without a bus\n");
      o.n_nodes = MAX (nodes, 1);
      o.nodes = g_new0 (BenchServer *, o.n_nodes);
      for (guint k = 0; k < o.n_nodes; k++)
        {
          g_autofree char *dir = k == 0 ? g_strdup (o.data_dir)
                                 : g_strdup_printf ("%s/node-%u", o.data_dir, k);
          g_autofree char *bus = o.bus ? g_strdup_printf ("redis://127.0.0.1:%u", o.bus->port) : NULL;
          g_autofree char *name = g_strdup_printf ("bench-%u", k);
          const char *const args[] = { "--bus", bus, "--node-name", name, NULL };

          o.nodes[k] = bench_natterd_start_args (o.natterd_path, dir, engine_tls, o.natterd_config,
                                                 o.bus ? args : NULL, &error);
          if (!o.nodes[k])
            {
              g_printerr ("natter-bench: cannot start natterd%s%s: %s\n", o.bus ? " " : "",
                          o.bus ? name : "", error->message);
              rc = 1;
              goto out;
            }
          if (k == 0)
            o.natterd = o.nodes[0];
          if (o.bus)
            g_print ("node %s: natterd pid %d on %s:%u, data %s\n", name, (int) o.nodes[k]->pid,
                     o.nodes[k]->host, o.nodes[k]->port, dir);
        }
      if (o.bus && !wait_on_bus (&o, &error))
        {
          g_printerr ("natter-bench: %s\n", error->message);
          rc = 1;
          goto out;
        }
      o.natterd = o.nodes[0];
      o.host = g_strdup (o.natterd->host);
      o.port = o.natterd->port;
      o.pid = o.natterd->pid;
      if (!o.users_cache)
        o.users_cache = g_build_filename (o.data_dir, "bench-users.txt", NULL);
      g_print ("natterd %s (pid %d) on %s:%u, data %s, database %s\n", o.natterd_path, (int) o.pid,
               o.host, o.port, o.data_dir, database == NULL || g_str_equal (database, "sqlite") ? "sqlite" : "postgresql");
    }

  o.users_db = bench_users_load (o.users_cache);
  o.engine = bench_engine_new (o.host, o.port, o.threads, &error);
  if (o.engine && engine_tls && !bench_engine_set_tls (o.engine, &error))
    g_clear_pointer (&o.engine, bench_engine_free);
  if (!o.engine)
    {
      g_printerr ("natter-bench: %s\n", error->message);
      rc = 2;
      goto out;
    }

  if (g_str_equal (scenario, "fanout"))
    rc = bench_fanout (&o);
  else if (g_str_equal (scenario, "mixed"))
    rc = bench_mixed (&o);
  else if (g_str_equal (scenario, "idle"))
    rc = bench_idle (&o);
  else if (g_str_equal (scenario, "dm"))
    rc = bench_dm (&o);
  else if (g_str_equal (scenario, "login"))
    rc = bench_login (&o);
  else if (g_str_equal (scenario, "history"))
    rc = bench_history (&o);
  else if (files)
    rc = bench_files (&o);
  else
    {
      g_printerr ("natter-bench: unknown scenario \"%s\"\n", scenario);
      rc = 2;
    }

out:
  bench_engine_free (o.engine);
  bench_users_free (o.users_db);
  /* nodes[0] is o.natterd (which idle --tls may have restarted). */
  for (guint k = 0; k < o.n_nodes; k++)
    {
      BenchServer *node = k == 0 ? o.natterd : o.nodes[k];
      g_autofree char *dir = node ? g_strdup (node->data_dir) : NULL;
      g_autofree char *line = NULL;

      if (node == NULL)
        continue;
      bench_server_stop (node);
      /* What each node says it published and received, over the whole run
       * (setup included). */
      if (o.bus && (line = bench_natterd_log_line (dir, "leaves the cluster")))
        g_print ("node bench-%u log: %s\n", k, line);
    }
  if (o.n_nodes == 0)
    bench_server_stop (o.natterd);
  g_free (o.nodes);
  bench_server_stop (o.bus);
  if (temp_dir && o.data_dir)
    {
      bench_remove_dir (o.data_dir);
    }
  g_free (o.host);
  g_free (o.natterd_path);
  g_free (o.natterd_config);
  g_free (o.redis_path);
  g_free (o.data_dir);
  g_free (o.server);
  g_free (o.users_cache);
  g_free (o.db_conninfo);
  return rc;
}
