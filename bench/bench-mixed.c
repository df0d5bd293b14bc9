/* bench-mixed.c: the actions of the mixed scenario (issue 14, "Speed"):
 * a fan-out whose senders also edit, react to and delete messages, on
 * connections with the feature message_actions.
 *
 * Each sender keeps its own messages that the server acknowledged (their
 * ids come in the send's reply) and, per action, throws a die: edit one of
 * them, react to one, delete one, or send. A change is never a no-op (an
 * edit's body holds its send time and sequence number; a reaction is added
 * or taken away by what this user has on it; a deleted message leaves the
 * pool when the delete is written), so every action reaches every member.
 *
 * Latency of a change: its "message_changed" carries the change's id but
 * no time of ours (a delete's message has no body left, a reaction's body
 * is the old message's). So the sender keeps the time it wrote each
 * request, learns the change id from the reply, and the receivers keep
 * (change id, time read, time arrived); the two are joined after the run.
 * Message latencies are measured as in the plain fan-out, from the body.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <string.h>

#include "bench.h"

/* Messages of a sender that it may still change; past this many, a new
 * one takes the place of a random old one. */
#define POOL_MAX 256

/* Reactions a user puts on and takes off in turn (at most this many on a
 * message at once: the server allows 20 distinct per message). */
static const char *const emojis[] = { "👍", "❤️", "😂", "🎉", "👀", "🙏", "🔥", "✅" };
#define N_EMOJIS G_N_ELEMENTS (emojis)

typedef struct {
  gint64 id;
  guint  reaction_turn;  /* 0..N_EMOJIS-1: add emojis[turn]; then remove emojis[turn - N] */
} PoolEntry;

typedef struct {
  gint64 t;              /* written at (bench_now_ns) */
  guint8 kind;           /* BenchChangeKind, or BENCH_CHANGE_KINDS for a send */
} Pending;

typedef struct {
  gint64 change;
  gint64 t;
  guint8 kind;
} Stored;

struct _BenchMixSender {
  BenchMix  mix;
  guint     index;
  GRand    *rand;
  Pending  *pending;     /* [actions], by the request's sequence number */
  guint64   n_pending;
  PoolEntry pool[POOL_MAX];
  guint     pool_len;
  GArray   *stored;      /* Stored: the changes the server acknowledged */
  guint64   noop;        /* "change":null (should never happen) */
  guint64   refused;     /* error replies */
};

BenchMixSender *
bench_mix_sender_new (const BenchMix *mix, guint index, guint64 actions)
{
  BenchMixSender *s = g_new0 (BenchMixSender, 1);

  s->mix = *mix;
  s->index = index;
  /* The same actions in the same order on every run. */
  s->rand = g_rand_new_with_seed (index + 1);
  s->pending = g_new0 (Pending, MAX (actions, 1));
  s->n_pending = actions;
  s->stored = g_array_new (FALSE, FALSE, sizeof (Stored));
  return s;
}

void
bench_mix_sender_free (BenchMixSender *s)
{
  if (s == NULL)
    return;
  g_rand_free (s->rand);
  g_free (s->pending);
  g_array_unref (s->stored);
  g_free (s);
}

static void
note (BenchMixSender *s, guint64 seq, guint8 kind, gint64 now)
{
  if (seq < s->n_pending)
    s->pending[seq] = (Pending) { now, kind };
}

void
bench_mix_sender_note_send (BenchMixSender *s, guint64 seq, gint64 now)
{
  note (s, seq, BENCH_CHANGE_KINDS, now);
}

gboolean
bench_mix_sender_change (BenchMixSender *s, BenchConn *c, guint64 seq, guint size, gint64 now)
{
  guint roll = g_rand_int_range (s->rand, 0, 100);
  guint64 id = BENCH_FIRST_REQUEST_ID + seq;
  PoolEntry *e;
  guint pick;

  if (roll >= s->mix.edit_pct + s->mix.react_pct + s->mix.delete_pct || s->pool_len == 0)
    return FALSE;
  pick = g_rand_int_range (s->rand, 0, s->pool_len);
  e = &s->pool[pick];
  if (roll < s->mix.edit_pct)
    {
      char body[NATTER_BENCH_MAX_BODY + 1];

      bench_fill_body (body, MIN (size, NATTER_BENCH_MAX_BODY), now, s->index, seq);
      bench_conn_sendf (c, "{\"type\":\"edit\",\"id\":%" G_GUINT64_FORMAT ",\"message\":%" G_GINT64_FORMAT
                        ",\"body\":\"%s\"}\n", id, e->id, body);
      note (s, seq, BENCH_CHANGE_EDIT, now);
    }
  else if (roll < s->mix.edit_pct + s->mix.react_pct)
    {
      gboolean on = e->reaction_turn < N_EMOJIS;

      bench_conn_sendf (c, "{\"type\":\"react\",\"id\":%" G_GUINT64_FORMAT ",\"message\":%" G_GINT64_FORMAT
                        ",\"emoji\":\"%s\",\"on\":%s}\n", id, e->id,
                        emojis[e->reaction_turn % N_EMOJIS], on ? "true" : "false");
      e->reaction_turn = (e->reaction_turn + 1) % (2 * N_EMOJIS);
      note (s, seq, BENCH_CHANGE_REACT, now);
    }
  else
    {
      bench_conn_sendf (c, "{\"type\":\"delete\",\"id\":%" G_GUINT64_FORMAT ",\"message\":%" G_GINT64_FORMAT "}\n",
                        id, e->id);
      /* Gone from the pool now: no later action of ours may name it (the
       * server takes one connection's requests in order, so the ones
       * written before still find it). */
      *e = s->pool[--s->pool_len];
      note (s, seq, BENCH_CHANGE_DELETE, now);
    }
  return TRUE;
}

static void
pool_add (BenchMixSender *s, gint64 id)
{
  if (s->pool_len < POOL_MAX)
    s->pool[s->pool_len++] = (PoolEntry) { id, 0 };
  else
    s->pool[g_rand_int_range (s->rand, 0, POOL_MAX)] = (PoolEntry) { id, 0 };
}

void
bench_mix_sender_reply (BenchMixSender *s, const char *line, gsize len, gboolean ok)
{
  gint64 re = bench_frame_int (line, len, "re");
  const Pending *p;

  if (re < BENCH_FIRST_REQUEST_ID || (guint64) (re - BENCH_FIRST_REQUEST_ID) >= s->n_pending)
    return;
  p = &s->pending[re - BENCH_FIRST_REQUEST_ID];
  if (!ok)
    {
      s->refused++;
      return;
    }
  if (p->kind == BENCH_CHANGE_KINDS)
    {
      /* {"type":"ok","re":N,"message":{"id":M,…: the first "id" is M. */
      gint64 id = bench_frame_int (line, len, "id");

      if (id > 0)
        pool_add (s, id);
      return;
    }
  {
    /* {"type":"ok","re":N,"change":C,…; null: nothing changed. */
    gint64 change = bench_frame_int (line, len, "change");
    Stored st = { change, p->t, p->kind };

    if (change <= 0)
      s->noop++;
    else
      g_array_append_val (s->stored, st);
  }
}

void
bench_mix_note_arrival (GArray *arrivals, const char *line, gsize len, gint64 read_ns, gint64 arrived_ns)
{
  BenchChangeArrival a = { bench_frame_int (line, len, "change"), read_ns, arrived_ns };

  g_array_append_val (arrivals, a);
}

void
bench_mix_join (BenchMixSender **senders, guint n_senders,
                GArray **arrivals, guint n_arrivals,
                BenchMixResult *out)
{
  g_autoptr(GHashTable) by_change = g_hash_table_new (g_int64_hash, g_int64_equal);

  memset (out, 0, sizeof *out);
  for (guint i = 0; i < n_senders; i++)
    {
      BenchMixSender *s = senders[i];

      out->noop += s->noop;
      out->refused += s->refused;
      for (guint k = 0; k < s->stored->len; k++)
        {
          Stored *st = &g_array_index (s->stored, Stored, k);

          out->changes[st->kind]++;
          g_hash_table_insert (by_change, &st->change, st);
        }
    }
  for (guint w = 0; w < n_arrivals; w++)
    for (guint k = 0; k < arrivals[w]->len; k++)
      {
        const BenchChangeArrival *a = &g_array_index (arrivals[w], BenchChangeArrival, k);
        const Stored *st = g_hash_table_lookup (by_change, &a->change);
        guint64 read, arrived;

        if (st == NULL)
          {
            /* A change whose reply never came back (the run stopped). */
            out->unmatched++;
            continue;
          }
        read = a->read_ns > st->t ? (guint64) (a->read_ns - st->t) : 0;
        arrived = a->arrived_ns > st->t ? (guint64) (a->arrived_ns - st->t) : 0;
        bench_hist_add (&out->read, read);
        bench_hist_add (&out->arrival, arrived);
        bench_hist_add (&out->by_kind[st->kind], read);
        out->deliveries++;
      }
}

void
bench_mix_report (BenchReport *r, const BenchMixResult *m)
{
  static const char *const names[BENCH_CHANGE_KINDS] = { "edit", "reaction", "delete" };

  bench_report_int (r, "change_deliveries", m->deliveries);
  g_print ("  %-38s %14" G_GUINT64_FORMAT " (edits %" G_GUINT64_FORMAT ", reactions %" G_GUINT64_FORMAT
           ", deletes %" G_GUINT64_FORMAT ")\n", "changes stored",
           m->changes[BENCH_CHANGE_EDIT] + m->changes[BENCH_CHANGE_REACT] + m->changes[BENCH_CHANGE_DELETE],
           m->changes[BENCH_CHANGE_EDIT], m->changes[BENCH_CHANGE_REACT], m->changes[BENCH_CHANGE_DELETE]);
  g_print ("  %-38s %14" G_GUINT64_FORMAT "\n", "deliveries of changes", m->deliveries);
  for (guint k = 0; k < BENCH_CHANGE_KINDS; k++)
    {
      g_autofree char *key = g_strdup_printf ("%ss", names[k]);

      bench_report_int (r, key, m->changes[k]);
    }
  bench_report_int (r, "change_noops", m->noop);
  bench_report_int (r, "change_refused", m->refused);
  bench_report_int (r, "change_unmatched", m->unmatched);
  bench_report_row (r, "change latency p50", "change_p50_ms", bench_hist_percentile (&m->read, 50) / 1e6, "ms");
  bench_report_row (r, "change latency p99", "change_p99_ms", bench_hist_percentile (&m->read, 99) / 1e6, "ms");
  bench_report_row (r, "change latency p99.9", "change_p999_ms", bench_hist_percentile (&m->read, 99.9) / 1e6, "ms");
  bench_report_row (r, "change latency max", "change_max_ms", m->read.max / 1e6, "ms");
  bench_report_row (r, "change arrival latency p50", "change_arrival_p50_ms",
                    bench_hist_percentile (&m->arrival, 50) / 1e6, "ms");
  bench_report_row (r, "change arrival latency p99", "change_arrival_p99_ms",
                    bench_hist_percentile (&m->arrival, 99) / 1e6, "ms");
  for (guint k = 0; k < BENCH_CHANGE_KINDS; k++)
    {
      g_autofree char *label50 = g_strdup_printf ("%s latency p50", names[k]);
      g_autofree char *label99 = g_strdup_printf ("%s latency p99", names[k]);
      g_autofree char *key50 = g_strdup_printf ("%s_p50_ms", names[k]);
      g_autofree char *key99 = g_strdup_printf ("%s_p99_ms", names[k]);

      bench_report_row (r, label50, key50, bench_hist_percentile (&m->by_kind[k], 50) / 1e6, "ms");
      bench_report_row (r, label99, key99, bench_hist_percentile (&m->by_kind[k], 99) / 1e6, "ms");
    }
}
