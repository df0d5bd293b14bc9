/* bench-cluster.c: the cluster under test (--nodes N): which node a
 * connection goes to, and what each node, the Redis bus and PostgreSQL
 * spent between two samples.
 *
 * CPU is read from /proc (utime + stime of each natterd and of
 * redis-server), the bus's work from Redis itself (INFO stats and INFO
 * commandstats: PUBLISH calls, every command, bytes in), the database's
 * from the transaction ids handed out (one per transaction that wrote)
 * and the WAL's position. On one machine the nodes, Redis, PostgreSQL and this
 * tool share the CPUs: CPU per delivery is the figure to compare, not
 * throughput.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <string.h>

#include "bench.h"
#include <libpq-fe.h>

guint16
bench_cluster_port (BenchOptions *o, guint i)
{
  if (o->n_nodes < 2)
    return 0;
  return o->nodes[i % o->n_nodes]->port;
}

guint
bench_cluster_node_of_port (BenchOptions *o, guint16 port)
{
  for (guint k = 0; k < o->n_nodes; k++)
    if (o->nodes[k]->port == port)
      return k;
  return 0;
}

/* The first column of the first row of @sql, as an integer. */
static gboolean
pg_query_int (PGconn *conn, const char *sql, gint64 *out)
{
  PGresult *res = PQexec (conn, sql);
  gboolean ok = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) > 0;

  if (ok)
    *out = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  else
    g_printerr ("natter-bench: %s: %s", sql, PQresultErrorMessage (res));
  PQclear (res);
  return ok;
}

static void
sample_pg (BenchOptions *o, BenchClusterSample *out)
{
  PGconn *conn;

  if (o->db_conninfo == NULL)
    return;
  conn = PQconnectdb (o->db_conninfo);
  if (PQstatus (conn) != CONNECTION_OK)
    g_printerr ("natter-bench: cannot read the database's counters: %s", PQerrorMessage (conn));
  /* Transactions that wrote: the next transaction id to be handed out
   * (an id is given only to a transaction that writes; reading it takes
   * none). pg_stat_database's xact_commit would count reads too, and its
   * backends report it up to 10 s late. */
  else if (pg_query_int (conn, "SELECT pg_snapshot_xmax (pg_current_snapshot ())::text::bigint",
                         &out->pg_write_xacts)
           && pg_query_int (conn, "SELECT pg_wal_lsn_diff (pg_current_wal_lsn (), '0/0')::bigint",
                            &out->pg_wal_bytes))
    out->has_pg = TRUE;
  PQfinish (conn);
}

void
bench_cluster_sample (BenchOptions *o, BenchClusterSample *out)
{
  memset (out, 0, sizeof *out);
  out->n_nodes = MIN (o->n_nodes, BENCH_MAX_NODES);
  for (guint k = 0; k < out->n_nodes; k++)
    bench_proc_sample_threads (o->nodes[k]->pid, &out->node[k]);
  if (o->bus != NULL)
    {
      bench_proc_sample (o->bus->pid, &out->bus_cpu);
      out->has_bus = bench_redis_sample (o->bus->port, &out->bus);
    }
  sample_pg (o, out);
  out->t_ns = bench_now_ns ();
}

/* @a / @b, or 0 when there is nothing to divide by. */
static double
ratio (double a, double b)
{
  return b > 0 ? a / b : 0;
}

void
bench_cluster_report (BenchReport *r, BenchOptions *o,
                      const BenchClusterSample *before, const BenchClusterSample *after,
                      const guint64 *deliveries, guint64 messages, double elapsed_s)
{
  double cpu_all = 0;
  guint64 deliveries_all = 0;

  bench_report_int (r, "nodes", after->n_nodes);
  if (after->n_nodes > 1)
    g_print ("  cluster of %u nodes on one PostgreSQL and one Redis bus (the server rows above: node 0)\n",
             after->n_nodes);
  for (guint k = 0; k < after->n_nodes; k++)
    {
      double cpu = after->node[k].cpu_s - before->node[k].cpu_s;
      g_autofree char *label = NULL;
      g_autofree char *key = NULL;

      cpu_all += cpu;
      deliveries_all += deliveries[k];
      if (after->n_nodes < 2)
        continue; /* the single node's rows are the server's rows above */
#define NODE_ROW(what, keyname, v, unit) \
      G_STMT_START { \
        g_free (label); g_free (key); \
        label = g_strdup_printf ("node %u %s", k, what); \
        key = g_strdup_printf ("node%u_%s", k, keyname); \
        bench_report_row (r, label, key, v, unit); \
      } G_STMT_END
      NODE_ROW ("deliveries", "deliveries", (double) deliveries[k], "");
      NODE_ROW ("CPU (user+sys)", "cpu_s", cpu, "s");
      NODE_ROW ("CPU, main thread", "main_cpu_s", after->node[k].main_cpu_s - before->node[k].main_cpu_s, "s");
      NODE_ROW ("CPU per delivery", "cpu_us_per_delivery",
                ratio (1e6 * cpu, deliveries[k]), "us");
      NODE_ROW ("CPU per message", "cpu_us_per_message", ratio (1e6 * cpu, messages), "us");
#undef NODE_ROW
    }
  bench_report_row (r, "natterd CPU per delivery (all nodes)", "cpu_us_per_delivery",
                    ratio (1e6 * cpu_all, deliveries_all), "us");
  bench_report_row (r, "natterd CPU per message (all nodes)", "cpu_us_per_message",
                    ratio (1e6 * cpu_all, messages), "us");
  if (after->has_bus && before->has_bus)
    {
      double cpu = after->bus_cpu.cpu_s - before->bus_cpu.cpu_s;
      gint64 pubs = after->bus.publishes - before->bus.publishes;
      gint64 cmds = after->bus.commands - before->bus.commands;
      gint64 in = after->bus.net_input_bytes - before->bus.net_input_bytes;
      gint64 outb = after->bus.net_output_bytes - before->bus.net_output_bytes;

      bench_report_row (r, "bus: Redis CPU (user+sys)", "bus_cpu_s", cpu, "s");
      bench_report_row (r, "bus: Redis CPU per message", "bus_cpu_us_per_message",
                        ratio (1e6 * cpu, messages), "us");
      bench_report_int (r, "bus_publishes", pubs);
      bench_report_int (r, "bus_commands", cmds);
      g_print ("  %-38s %14" G_GINT64_FORMAT " for %" G_GUINT64_FORMAT " messages\n",
               "bus: PUBLISH calls (all channels)", pubs, messages);
      bench_report_row (r, "bus: publishes per message", "bus_publishes_per_message",
                        ratio (pubs, messages), "");
      bench_report_row (r, "bus: publishes per second", "bus_publishes_per_s",
                        ratio (pubs, elapsed_s), "/s");
      bench_report_row (r, "bus: commands per second (all)", "bus_commands_per_s",
                        ratio (cmds, elapsed_s), "/s");
      bench_report_row (r, "bus: bytes in per message", "bus_in_bytes_per_message",
                        ratio (in, messages), "B");
      bench_report_row (r, "bus: bytes out per message", "bus_out_bytes_per_message",
                        ratio (outb, messages), "B");
    }
  if (after->has_pg && before->has_pg)
    {
      gint64 commits = after->pg_write_xacts - before->pg_write_xacts;
      gint64 wal = after->pg_wal_bytes - before->pg_wal_bytes;

      bench_report_int (r, "db_commits", commits);
      g_print ("  %-38s %14" G_GINT64_FORMAT " (transactions that wrote)\n", "database: commits", commits);
      bench_report_row (r, "database: commits per second", "db_commits_per_s",
                        ratio (commits, elapsed_s), "/s");
      bench_report_row (r, "database: messages per commit", "db_messages_per_commit",
                        ratio (messages, commits), "");
      bench_report_row (r, "database: WAL bytes per message", "db_wal_bytes_per_message",
                        ratio (wal, messages), "B");
    }
}
