/* fuzz-cluster-bus: what a node of a cluster does with whatever comes off
 * the bus: messages of other nodes (cut into runs, put in id order,
 * delivered), directory notices and their acknowledgements, typing and
 * read markers, presence updates, hellos and snapshots.
 *
 * The bus is trusted infrastructure, but a Redis shared with something
 * else, a node of another version or a corrupted publish must cost at
 * most a log line: never a crash, a hang or unbounded memory. So natterd
 * is started once in-process (network layer, SQLite store, chat layer
 * with a cluster whose bus points at a port nobody listens on, so nothing
 * real ever arrives), with a few users, a room and a direct conversation
 * that inputs can name (no client is connected: the fan-out itself is
 * fuzz-server's). Each
 * input is one publish: its first byte picks the channel, the rest is
 * the payload, handed to the node as the bus would. Then the main loop
 * runs what became ready, and everything the stream holds is delivered
 * (natterd_cluster_flush), so that memory does not build up across
 * inputs.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "natterd-cluster.h"
#include "fuzz-natterd.h"
#include "fuzz-target.h"

static const char *const channels[] = {
  NATTERD_CLUSTER_CHANNEL_MESSAGES,
  NATTERD_CLUSTER_CHANNEL_DIRECTORY,
  NATTERD_CLUSTER_CHANNEL_EVENTS,
  NATTERD_CLUSTER_CHANNEL_PRESENCE,
};

static FuzzNatterd natterd;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  /* Criticals and warnings are findings (fatal); the rest is noise. */
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

/* Users 1-3 (alice, bob, carol), the room #r (alice and bob) and a direct
 * conversation: ids an input can name. */
static void
seed_store (NatterdStore *store)
{
  static const char *const names[] = { "alice", "bob", "carol" };
  g_autoptr(GError) error = NULL;
  gint64 ids[G_N_ELEMENTS (names)], room, direct;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_true (natterd_store_user_insert (store, names[i], names[i], "$argon2id$none", 1, &ids[i], &error));
      g_assert_no_error (error);
    }
  g_assert_true (natterd_store_room_insert (store, "#r", "", ids[0], 1, &room, &error));
  g_assert_true (natterd_store_participant_add (store, room, ids[0], &error));
  g_assert_true (natterd_store_participant_add (store, room, ids[1], &error));
  g_assert_true (natterd_store_direct_ensure (store, ids[0], ids[2], &direct, &error));
  g_assert_no_error (error);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  /* Port 1 on loopback: the bus never connects, and keeps trying in the
   * background without a word above a message. */
  fuzz_natterd_start (&natterd,
                      "[server]\nlisten=127.0.0.1:0\ntls=false\n"
                      "hash_threads=1\nsend_threads=1\n"
                      "[storage]\nsynchronous=normal\n"
                      "[cluster]\nbus=redis://127.0.0.1:1\nnode_name=fuzz\n",
                      seed_store);
  g_assert_nonnull (natterd.chat->cluster);

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  NatterdCluster *cluster = natterd.chat->cluster;
  guint spins = 0;

  if (size < 1)
    return 0;
  natterd_cluster_receive (cluster, channels[data[0] % G_N_ELEMENTS (channels)], data + 1, size - 1);
  /* What became ready (deliveries, reads answered) runs; a bounded number
   * of turns, since timers keep the loop busy forever. */
  while (spins++ < 64 && g_main_context_iteration (NULL, FALSE))
    ;
  natterd_cluster_flush (cluster);
  while (spins++ < 128 && g_main_context_iteration (NULL, FALSE))
    ;
  return 0;
}
