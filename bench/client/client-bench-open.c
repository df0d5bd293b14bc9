/* client-bench-open.c: opening a big conversation.
 *
 * The conversation "@cb0" of cb1 is filled once with N messages by cb0, on
 * the engine's thread, pipelined (a mark in the users cache remembers how
 * many a data directory holds). Then two clients of cb1 take it in:
 *
 * catch-up  a client that was signed in before the conversation began (its
 *           state file says it has seen everything up to id 0) signs in and
 *           syncs: the client core pages through all N (500 a page) before
 *           it is READY.
 * open      a new client (no state) signs in, gets the conversation list
 *           (with each conversation's newest message) and opens "@cb0" as
 *           the conversation view does: with fewer than 20 messages it asks
 *           for the page of 50 before the oldest (the first page shown),
 *           then, as scrolling up does, for every older page until the
 *           beginning. The bench asks for the next page as soon as the last
 *           one is merged: a person scrolling is slower, so this is the
 *           most the main loop can be asked to do.
 */
#define G_LOG_DOMAIN "natter-client-bench"

#include "config.h"

#include <malloc.h>

#include "client-bench.h"

#define PEER     "@" CLIENT_BENCH_PREFIX "0"
#define READER   CLIENT_BENCH_PREFIX "1"
#define SENDER   CLIENT_BENCH_PREFIX "0"
#define MARK     "client-open "
/* The conversation view pages in history while it holds fewer than this. */
#define VIEW_MIN_MESSAGES 20

static guint64
filled_so_far (BenchUsers *u)
{
  GHashTableIter it;
  gpointer key;
  guint64 have = 0;

  g_hash_table_iter_init (&it, u->marks);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (g_str_has_prefix (key, MARK))
      have = MAX (have, g_ascii_strtoull ((char *) key + strlen (MARK), NULL, 10));
  return have;
}

/* The first time the conversation's model holds a message. */
typedef struct {
  gint64 t0;
  gint64 first_ns;
  guint  first_count;
} FirstSeen;

static void
messages_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     FirstSeen  *seen)
{
  if (seen->first_ns == 0 && g_list_model_get_n_items (model) > 0)
    {
      seen->first_ns = bench_now_ns () - seen->t0;
      seen->first_count = g_list_model_get_n_items (model);
    }
}

static void
conversations_changed_cb (GListModel *model,
                          guint       position,
                          guint       removed,
                          guint       added,
                          FirstSeen  *seen)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(NatterConversation) conv = g_list_model_get_item (model, i);

      if (g_str_equal (natter_conversation_get_address (conv), PEER))
        g_signal_connect (natter_conversation_get_messages (conv), "items-changed",
                          G_CALLBACK (messages_changed_cb), seen);
    }
}

static void
watch_first_cb (NatterClient *client,
                gpointer      data)
{
  g_signal_connect (natter_client_get_conversations (client), "items-changed",
                    G_CALLBACK (conversations_changed_cb), data);
}

static guint
conversation_size (NatterClient *client)
{
  NatterConversation *conv = natter_client_lookup_conversation (client, PEER, FALSE);

  return conv ? g_list_model_get_n_items (natter_conversation_get_messages (conv)) : 0;
}

static gboolean
catch_up (ClientBenchOptions *o,
          BenchReport        *r,
          guint64             messages)
{
  g_autoptr(ClientBenchTempDir) dir = client_bench_temp_dir ();
  g_autofree char *state = g_build_filename (dir, "state.ini", NULL);
  g_autofree char *key = g_strdup_printf (READER "@%s:%u", o->natterd->host, o->natterd->port);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  FirstSeen seen = { 0 };
  ClientBenchLoop loop;
  NatterClient *client;
  gsize rss0, heap0;
  guint count;

  /* The client core's own state file: this account has seen nothing. */
  g_key_file_set_int64 (kf, "last-id", key, 0);
  g_key_file_set_string (kf, "client", "username", READER);
  if (!g_key_file_save_to_file (kf, state, &error))
    {
      g_printerr ("natter-client-bench: %s\n", error->message);
      return FALSE;
    }

  g_print ("catch-up: a client that has seen nothing of the %" G_GUINT64_FORMAT " messages signs in\n",
           messages);
  rss0 = client_bench_rss_kb ();
  heap0 = client_bench_heap_kb ();
  client_bench_loop_reset ();
  seen.t0 = bench_now_ns ();
  client = client_bench_sign_in (o, dir, READER, watch_first_cb, &seen);
  if (client == NULL)
    return FALSE;
  client_bench_loop_take (&loop);
  count = conversation_size (client);

  bench_report_int (r, "catchup_count", count);
  bench_report_row (r, "first messages in the model", "catchup_first_ms", seen.first_ns / 1e6, "ms");
  bench_report_row (r, "all of them, READY", "catchup_ready_ms", loop.wall_ns / 1e6, "ms");
  bench_report_row (r, "RSS growth", "catchup_rss_kb", (double) client_bench_rss_kb () - rss0, "kB");
  bench_report_row (r, "heap growth", "catchup_heap_kb", (double) client_bench_heap_kb () - heap0, "kB");
  client_bench_loop_report (&loop, r, "catchup");

  client_bench_client_free (client);
  /* Give the freed models back, so the next phase's RSS starts low. */
  malloc_trim (0);
  if (count != messages)
    g_printerr ("natter-client-bench: catch-up: %u messages in the model, %" G_GUINT64_FORMAT " expected\n",
                count, messages);
  return count == messages;
}

/* natter_conversation_load_older_async(), run to its end; -1 on failure. */
static gint
load_older (ClientBenchOptions *o,
            NatterConversation *conv)
{
  g_autoptr(GError) error = NULL;
  ClientBenchResult p = { NULL };
  gint added;

  natter_conversation_load_older_async (conv, NULL, client_bench_result_cb, &p);
  if (!client_bench_wait (o, &p))
    return -1;
  added = natter_conversation_load_older_finish (conv, p.result, &error);
  g_clear_object (&p.result);
  if (added < 0)
    g_printerr ("natter-client-bench: history: %s\n", error->message);
  return added;
}

static gboolean
open_new (ClientBenchOptions *o,
          BenchReport        *r,
          guint64             messages)
{
  g_autoptr(ClientBenchTempDir) dir = client_bench_temp_dir ();
  ClientBenchLoop loop;
  NatterConversation *conv;
  NatterClient *client;
  gint64 t0, t_ready, t_first;
  gsize rss0, heap0;
  guint pages = 0, count;
  gint added = 0;

  g_print ("open: a new client signs in and opens the conversation, then pages back through all of it\n");
  rss0 = client_bench_rss_kb ();
  heap0 = client_bench_heap_kb ();
  client_bench_loop_reset ();
  t0 = bench_now_ns ();
  client = client_bench_sign_in (o, dir, READER, NULL, NULL);
  if (client == NULL)
    return FALSE;
  t_ready = bench_now_ns ();
  conv = natter_client_lookup_conversation (client, PEER, FALSE);
  if (conv == NULL)
    {
      g_printerr ("natter-client-bench: open: no conversation %s after sign-in\n", PEER);
      client_bench_client_free (client);
      return FALSE;
    }
  if (g_list_model_get_n_items (natter_conversation_get_messages (conv)) < VIEW_MIN_MESSAGES)
    added = load_older (o, conv);
  t_first = bench_now_ns ();
  client_bench_loop_take (&loop);

  bench_report_int (r, "open_first_count", g_list_model_get_n_items (natter_conversation_get_messages (conv)));
  bench_report_row (r, "signed in, READY", "open_ready_ms", (t_ready - t0) / 1e6, "ms");
  bench_report_row (r, "first page in the model", "open_first_page_ms", (t_first - t0) / 1e6, "ms");
  client_bench_loop_report (&loop, r, "open");

  client_bench_loop_reset ();
  while (added >= 0 && natter_conversation_get_has_more_history (conv))
    {
      added = load_older (o, conv);
      pages++;
    }
  client_bench_loop_take (&loop);
  count = g_list_model_get_n_items (natter_conversation_get_messages (conv));

  g_print ("scroll back: %u pages of history\n", pages);
  bench_report_int (r, "scroll_pages", pages);
  bench_report_int (r, "scroll_count", count);
  bench_report_row (r, "all of them in the model", "scroll_all_ms", loop.wall_ns / 1e6, "ms");
  bench_report_row (r, "RSS growth (sign-in to all)", "scroll_rss_kb",
                    (double) client_bench_rss_kb () - rss0, "kB");
  bench_report_row (r, "heap growth (sign-in to all)", "scroll_heap_kb",
                    (double) client_bench_heap_kb () - heap0, "kB");
  client_bench_loop_report (&loop, r, "scroll");

  client_bench_client_free (client);
  if (count != messages)
    g_printerr ("natter-client-bench: open: %u messages in the model, %" G_GUINT64_FORMAT " expected\n",
                count, messages);
  return added >= 0 && count == messages;
}

int
client_bench_open (ClientBenchOptions *o)
{
  guint64 have = filled_so_far (o->users);
  double fill_s = 0;
  BenchReport r;
  gboolean ok;

  if (have < o->messages)
    {
      ClientBenchSender s = {
        .count = o->messages - have,
        .window = o->window,
        .size = o->size,
        .to = (char *) "@" READER,
      };
      g_autofree char *mark = g_strdup_printf (MARK "%" G_GUINT64_FORMAT, o->messages);
      gint64 t0 = bench_now_ns ();

      g_print ("filling %s with %" G_GUINT64_FORMAT " messages (window %u)\n", PEER, s.count, s.window);
      if (!client_bench_send (o, &s, SENDER))
        {
          g_printerr ("natter-client-bench: the fill failed (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " stored)\n",
                      s.acked, s.count);
          return 1;
        }
      fill_s = (bench_now_ns () - t0) / 1e9;
      g_print ("filled %" G_GUINT64_FORMAT " messages in %.1f s (%.0f acknowledged/s)\n",
               s.count, fill_s, s.count / fill_s);
      bench_users_add_mark (o->users, mark);
      have = o->messages;
    }
  else if (have > o->messages)
    g_print ("note: %s holds %" G_GUINT64_FORMAT " messages from an earlier run with this --data-dir\n",
             PEER, have);

  bench_report_begin (&r, "open");
  bench_report_int (&r, "messages", (gint64) have);
  bench_report_int (&r, "size", o->size);
  bench_report_row (&r, "fill (not the measured figure)", "fill_s", fill_s, "s");
  ok = catch_up (o, &r, have) && open_new (o, &r, have);
  bench_report_end (&r);
  return ok ? 0 : 1;
}
