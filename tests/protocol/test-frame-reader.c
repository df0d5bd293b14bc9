#define G_LOG_DOMAIN "natter-test"
#define _GNU_SOURCE /* memrchr */

#include <string.h>

#include "natter-frame-reader.h"

#define S(lit) lit, sizeof (lit) - 1

/* ---- collecting what the reader hands out ---- */

typedef struct {
  GPtrArray    *lines;        /* GBytes */
  GRand        *rand;         /* when set, stop at random */
  guint         stop_percent;
  gboolean      stop_always;
  /* The chunk being pushed, to check that whole lines are not copied. */
  const guint8 *chunk;
  gsize         chunk_len;
  guint         in_chunk;
  guint         copied;
} Collector;

static void
collector_init (Collector *c)
{
  memset (c, 0, sizeof *c);
  c->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

static void
collector_clear (Collector *c)
{
  g_ptr_array_unref (c->lines);
  g_clear_pointer (&c->rand, g_rand_free);
}

static gboolean
collect_cb (const char *line,
            gsize       len,
            gpointer    user_data)
{
  Collector *c = user_data;

  g_ptr_array_add (c->lines, g_bytes_new (line, len));

  if (c->chunk != NULL && (const guint8 *) line >= c->chunk &&
      (const guint8 *) line + len <= c->chunk + c->chunk_len)
    c->in_chunk++;
  else
    c->copied++;

  if (c->stop_always)
    return FALSE;
  if (c->rand != NULL && (guint) g_rand_int_range (c->rand, 0, 100) < c->stop_percent)
    return FALSE;
  return TRUE;
}

static NatterFrameReaderResult
push (NatterFrameReader *reader,
      Collector         *c,
      const char        *data,
      gsize              len)
{
  NatterFrameReaderResult r;

  c->chunk = (const guint8 *) data;
  c->chunk_len = len;
  r = natter_frame_reader_push (reader, (const guint8 *) data, len, collect_cb, c);
  c->chunk = NULL;
  return r;
}

/* Drains what a stop left behind. */
static NatterFrameReaderResult
resume_all (NatterFrameReader       *reader,
            Collector               *c,
            NatterFrameReaderResult  r)
{
  while (r == NATTER_FRAME_READER_STOPPED)
    {
      r = natter_frame_reader_resume (reader, collect_cb, c);
    }
  return r;
}

/* ---- the stream table ---- */

typedef struct {
  const char  *stream;
  gsize        len;
  gsize        max_frame;
  const char  *lines[8];   /* NULL-terminated */
  gsize        nul_line;   /* 1 + the index of a line holding a NUL, 0 if none */
  NatterFrameReaderResult result;
  gsize        tail;       /* bytes kept at the end when OK */
} StreamCase;

static const StreamCase stream_cases[] = {
  { S ("{\"type\":\"ping\"}\n"), 64, { "{\"type\":\"ping\"}" }, 0, NATTER_FRAME_READER_OK, 0 },
  { S ("a\nbb\nccc\n"), 4, { "a", "bb", "ccc" }, 0, NATTER_FRAME_READER_OK, 0 },
  /* max_frame counts the '\n': "cccc\n" is 5 bytes. */
  { S ("a\nbb\ncccc\n"), 4, { "a", "bb" }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  { S ("a\nbb\ncccc\nd\n"), 4, { "a", "bb" }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  { S ("\n\n\n"), 1, { "", "", "" }, 0, NATTER_FRAME_READER_OK, 0 },
  { S ("x\n"), 1, { NULL }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  { S ("\nx"), 1, { "" }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  /* A '\r' is JSON white space, kept. */
  { S ("a\r\nb\r\n"), 8, { "a\r", "b\r" }, 0, NATTER_FRAME_READER_OK, 0 },
  { S ("one\ntwo\nthr"), 8, { "one", "two" }, 0, NATTER_FRAME_READER_OK, 3 },
  /* A tail of max_frame - 1 bytes may still end well; max_frame cannot. */
  { S ("abcdefg"), 8, { NULL }, 0, NATTER_FRAME_READER_OK, 7 },
  { S ("abcdefgh"), 8, { NULL }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  { S ("ok\nabcdefgh"), 8, { "ok" }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  { S ("ok\nabcdefg"), 8, { "ok" }, 0, NATTER_FRAME_READER_OK, 7 },
  /* Exactly max_frame with its newline, and one more. */
  { S ("123456789abcdef\n"), 16, { "123456789abcdef" }, 0, NATTER_FRAME_READER_OK, 0 },
  { S ("123456789abcdefg\n"), 16, { NULL }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  { S ("x\n123456789abcdef\ny\n"), 16, { "x", "123456789abcdef", "y" }, 0, NATTER_FRAME_READER_OK, 0 },
  { S ("x\n123456789abcdefg\ny\n"), 16, { "x" }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
  /* The reader is byte-level: NULs and invalid UTF-8 pass through. */
  { S ("a\0b\n\xff\xfe\n"), 8, { "a\0b", "\xff\xfe" }, 1, NATTER_FRAME_READER_OK, 0 },
  { S (""), 8, { NULL }, 0, NATTER_FRAME_READER_OK, 0 },
  /* Frames as they arrive on the wire. */
  { S ("{\"type\":\"login\",\"id\":1}\n{\"type\":\"ping\"}\r\n\n{\"type\":\"send\",\"body\":\"h\\u00e9\"}\n{\"ty"),
    40, { "{\"type\":\"login\",\"id\":1}", "{\"type\":\"ping\"}\r", "", "{\"type\":\"send\",\"body\":\"h\\u00e9\"}" },
    0, NATTER_FRAME_READER_OK, 4 },
  { S ("{\"type\":\"ping\"}\n{\"type\":\"send\",\"body\":\"0123456789abcdefghijklmnopqrstuvwxyz\"}\n{\"type\":\"ping\"}\n"),
    40, { "{\"type\":\"ping\"}" }, 0, NATTER_FRAME_READER_TOO_LARGE, 0 },
};

static gsize
line_len (const StreamCase *sc,
          guint             i)
{
  /* The only line with a NUL is "a\0b". */
  if (sc->nul_line == i + 1)
    return 3;
  return strlen (sc->lines[i]);
}

static void
assert_lines (const StreamCase *sc,
              Collector        *c,
              const char       *how)
{
  guint n = 0;

  while (n < G_N_ELEMENTS (sc->lines) && sc->lines[n] != NULL)
    n++;

  if (c->lines->len != n)
    g_error ("%s: %u lines, want %u", how, c->lines->len, n);

  for (guint i = 0; i < n; i++)
    {
      gsize len;
      const char *got = g_bytes_get_data (c->lines->pdata[i], &len);

      if (len != line_len (sc, i) || (len > 0 && memcmp (got, sc->lines[i], len) != 0))
        g_error ("%s: line %u differs", how, i);
    }
}

/* Feeds @sc cut into pieces at @cuts (sorted, inside the stream). */
static void
run_split (const StreamCase *sc,
           const gsize      *cuts,
           guint             n_cuts,
           guint             stop_percent,
           gboolean          push_while_stopped,
           const char       *how)
{
  NatterFrameReader reader;
  Collector c;
  NatterFrameReaderResult r = NATTER_FRAME_READER_OK;
  gsize from = 0;

  collector_init (&c);
  if (stop_percent > 0)
    {
      c.rand = g_rand_new_with_seed (n_cuts * 7919 + (cuts && n_cuts ? cuts[0] : 0));
      c.stop_percent = stop_percent;
    }
  natter_frame_reader_init (&reader, sc->max_frame);

  for (guint k = 0; k <= n_cuts; k++)
    {
      gsize to = k < n_cuts ? cuts[k] : sc->len;

      if (!push_while_stopped)
        r = resume_all (&reader, &c, r);
      if (r == NATTER_FRAME_READER_TOO_LARGE)
        break;

      /* Push exact-size heap copies so ASan catches any overread. */
      {
        g_autofree char *piece = g_memdup2 (sc->stream + from, MAX (to - from, 1));
        r = push (&reader, &c, piece, to - from);
      }
      from = to;
      if (r == NATTER_FRAME_READER_TOO_LARGE)
        break;
    }
  r = resume_all (&reader, &c, r);

  if (r != sc->result)
    g_error ("%s: result %d, want %d", how, r, sc->result);
  assert_lines (sc, &c, how);
  if (r == NATTER_FRAME_READER_OK)
    {
      g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, sc->tail);
      /* No tail, no buffer. */
      g_assert_true ((reader.pending == NULL) == (sc->tail == 0));
      g_assert_false (natter_frame_reader_has_frame (&reader));
    }
  else
    g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, 0);

  natter_frame_reader_clear (&reader);
  g_assert_null (reader.pending);
  collector_clear (&c);
}

static void
test_streams_whole (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_cases); i++)
    run_split (&stream_cases[i], NULL, 0, 0, FALSE, "whole");
}

/* Two pieces, cut at every byte. */
static void
test_streams_every_split (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_cases); i++)
    for (gsize cut = 0; cut <= stream_cases[i].len; cut++)
      {
        g_autofree char *how = g_strdup_printf ("case %u cut at %" G_GSIZE_FORMAT, i, cut);
        run_split (&stream_cases[i], &cut, 1, 0, FALSE, how);
      }
}

/* Three pieces, every pair of cuts. */
static void
test_streams_every_double_split (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_cases); i++)
    for (gsize a = 0; a <= stream_cases[i].len; a++)
      for (gsize b = a; b <= stream_cases[i].len; b++)
        {
          gsize cuts[2] = { a, b };
          g_autofree char *how = g_strdup_printf ("case %u cuts %" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT, i, a, b);
          run_split (&stream_cases[i], cuts, 2, 0, FALSE, how);
        }
}

static void
test_streams_byte_by_byte (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_cases); i++)
    {
      gsize n = stream_cases[i].len;
      g_autofree gsize *cuts = g_new (gsize, n + 1);

      for (gsize k = 0; k < n; k++)
        cuts[k] = k;
      run_split (&stream_cases[i], cuts, (guint) n, 0, FALSE, "byte by byte");
    }
}

/* Stopping at random, resuming, or pushing more while stopped, gives the
 * same lines in the same order. */
static void
test_streams_stop_resume (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_cases); i++)
    for (gsize cut = 0; cut <= stream_cases[i].len; cut++)
      for (guint percent = 30; percent <= 100; percent += 35)
        {
          g_autofree char *how = g_strdup_printf ("case %u cut %" G_GSIZE_FORMAT " stop %u%%",
                                                  i, cut, percent);
          run_split (&stream_cases[i], &cut, 1, percent, FALSE, how);
          run_split (&stream_cases[i], &cut, 1, percent, TRUE, how);
        }
}

/* A realistic stream: many frames up to exactly max_frame, at the default
 * size, cut at many places and fed in random chunk sizes. */
static void
test_big_stream (void)
{
  const gsize max = 65536;
  GString *stream = g_string_new (NULL);
  g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  const gsize sizes[] = { 0, 1, 15, 4096, max - 2, max - 1, 100, max - 1, 3 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      char *line = g_malloc (sizes[i] + 1);

      for (gsize k = 0; k < sizes[i]; k++)
        line[k] = "abcdefghijklmnopqrstuvwxyz{}\":,0123456789"[(k * 7 + i) % 41];
      line[sizes[i]] = '\0';
      g_string_append_len (stream, line, (gssize) sizes[i]);
      g_string_append_c (stream, '\n');
      g_ptr_array_add (want, line);
    }

  for (guint round = 0; round < 60; round++)
    {
      NatterFrameReader reader;
      Collector c;
      NatterFrameReaderResult r = NATTER_FRAME_READER_OK;
      gsize from = 0;
      gsize line_start = 0;
      gsize max_chunk = round < 20 ? 17 : round < 40 ? 5000 : 200000;

      collector_init (&c);
      if (round % 3 == 1)
        {
          c.rand = g_rand_new_with_seed (round);
          c.stop_percent = 50;
        }
      natter_frame_reader_init (&reader, max);

      while (from < stream->len)
        {
          const char *nl;
          /* Not inside MIN(): it would draw twice. */
          gsize n = (gsize) g_rand_int_range (rand, 1, (gint32) max_chunk + 1);

          n = MIN (n, stream->len - from);

          r = resume_all (&reader, &c, r);
          r = push (&reader, &c, stream->str + from, n);
          g_assert_cmpint (r, !=, NATTER_FRAME_READER_TOO_LARGE);
          from += n;
          nl = memrchr (stream->str + from - n, '\n', n);
          if (nl != NULL)
            line_start = (gsize) (nl - stream->str) + 1;
          if (r == NATTER_FRAME_READER_OK)
            {
              /* Exactly the bytes after the last newline are kept. */
              gsize tail = from - line_start;
              if (natter_frame_reader_pending_bytes (&reader) != tail)
                g_error ("round %u at %" G_GSIZE_FORMAT " (+%" G_GSIZE_FORMAT "): kept %" G_GSIZE_FORMAT ", want %" G_GSIZE_FORMAT,
                         round, from, n, natter_frame_reader_pending_bytes (&reader), tail);
            }
        }
      r = resume_all (&reader, &c, r);
      g_assert_cmpint (r, ==, NATTER_FRAME_READER_OK);
      if (reader.pending != NULL)
        g_error ("round %u: %u bytes left", round, reader.pending->len);

      g_assert_cmpuint (c.lines->len, ==, want->len);
      for (guint i = 0; i < want->len; i++)
        {
          gsize len;
          const char *got = g_bytes_get_data (c.lines->pdata[i], &len);

          g_assert_cmpuint (len, ==, strlen (want->pdata[i]));
          g_assert_true (len == 0 || memcmp (got, want->pdata[i], len) == 0);
        }

      natter_frame_reader_clear (&reader);
      collector_clear (&c);
    }

  g_string_free (stream, TRUE);
}

/* Exactly max_frame and max_frame + 1 at the default size, every cut. */
static void
test_exact_max (void)
{
  const gsize max = 65536;

  for (int extra = 0; extra <= 1; extra++)
    {
      gsize len = max - 1 + (gsize) extra;
      char *stream = g_malloc (len + 1);
      StreamCase sc = { stream, len + 1, max, { NULL }, 0, 0, 0 };
      char *line = g_strndup (stream, 0);

      memset (stream, 'x', len);
      stream[len] = '\n';
      g_free (line);
      line = g_strndup (stream, len);
      sc.lines[0] = extra ? NULL : line;
      sc.result = extra ? NATTER_FRAME_READER_TOO_LARGE : NATTER_FRAME_READER_OK;

      run_split (&sc, NULL, 0, 0, FALSE, "whole");
      for (gsize cut = 0; cut <= sc.len; cut += (cut < 10 || cut > sc.len - 10) ? 1 : 4093)
        run_split (&sc, &cut, 1, 0, FALSE, "split");

      g_free (line);
      g_free (stream);
    }
}

/* A line that never ends is refused as soon as it is too long, whatever
 * the chunk size, and the reader never holds more than max_frame - 1 bytes
 * for it. */
static void
test_never_ending (void)
{
  const gsize chunk_sizes[] = { 1, 2, 7, 1000, 65535, 65536, 70000 };
  const gsize max = 65536;
  g_autofree char *chunk = g_malloc (70000);

  memset (chunk, 'z', 70000);

  for (guint i = 0; i < G_N_ELEMENTS (chunk_sizes); i++)
    {
      NatterFrameReader reader;
      Collector c;
      gsize total = 0;
      NatterFrameReaderResult r;

      collector_init (&c);
      natter_frame_reader_init (&reader, max);
      for (;;)
        {
          r = push (&reader, &c, chunk, chunk_sizes[i]);
          total += chunk_sizes[i];
          if (r != NATTER_FRAME_READER_OK)
            break;
          g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, total);
          g_assert_cmpuint (total, <=, max - 1);
        }

      g_assert_cmpint (r, ==, NATTER_FRAME_READER_TOO_LARGE);
      /* Reported by the very chunk that took the tail to max_frame bytes. */
      g_assert_cmpuint (total, >=, max);
      g_assert_cmpuint (total - chunk_sizes[i], <, max);
      g_assert_cmpuint (c.lines->len, ==, 0);
      g_assert_null (reader.pending);

      natter_frame_reader_clear (&reader);
      collector_clear (&c);
    }

  /* The same after some good lines, with a tail already pending. */
  {
    NatterFrameReader reader;
    Collector c;

    collector_init (&c);
    natter_frame_reader_init (&reader, 8);
    g_assert_cmpint (push (&reader, &c, S ("ok\nabc")), ==, NATTER_FRAME_READER_OK);
    g_assert_cmpint (push (&reader, &c, S ("defg")), ==, NATTER_FRAME_READER_OK);
    g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, 7);
    g_assert_cmpint (push (&reader, &c, S ("h")), ==, NATTER_FRAME_READER_TOO_LARGE);
    g_assert_cmpuint (c.lines->len, ==, 1);
    natter_frame_reader_clear (&reader);
    collector_clear (&c);
  }
}

/* Whole lines go out straight from the pushed chunk; only a line split
 * across pushes is copied, and an idle reader holds no buffer. */
static void
test_zero_copy (void)
{
  NatterFrameReader reader;
  Collector c;

  collector_init (&c);
  natter_frame_reader_init (&reader, 64);

  g_assert_cmpint (push (&reader, &c, S ("{\"a\":1}\n{\"b\":2}\n{\"c\"")), ==, NATTER_FRAME_READER_OK);
  g_assert_cmpuint (c.in_chunk, ==, 2);
  g_assert_cmpuint (c.copied, ==, 0);
  g_assert_nonnull (reader.pending);
  g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, 4);

  g_assert_cmpint (push (&reader, &c, S (":3}\n{\"d\":4}\n")), ==, NATTER_FRAME_READER_OK);
  g_assert_cmpuint (c.in_chunk, ==, 3);
  g_assert_cmpuint (c.copied, ==, 1);
  g_assert_null (reader.pending);
  g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, 0);
  g_assert_false (natter_frame_reader_has_frame (&reader));

  g_assert_cmpstr (g_bytes_get_data (c.lines->pdata[2], NULL), !=, NULL);
  {
    gsize len;
    const char *third = g_bytes_get_data (c.lines->pdata[2], &len);
    g_assert_cmpmem (third, len, "{\"c\":3}", 7);
  }

  /* An empty push changes nothing. */
  g_assert_cmpint (push (&reader, &c, "", 0), ==, NATTER_FRAME_READER_OK);
  g_assert_null (reader.pending);

  natter_frame_reader_clear (&reader);
  collector_clear (&c);
}

/* Stop after each line: STOPPED keeps the rest, has_frame says so, and
 * resume() hands out the kept lines one at a time, in order. */
static void
test_stop_resume (void)
{
  NatterFrameReader reader;
  Collector c;
  NatterFrameReaderResult r;

  collector_init (&c);
  c.stop_always = TRUE;
  natter_frame_reader_init (&reader, 64);

  r = push (&reader, &c, S ("one\ntwo\nthree\nfo"));
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
  g_assert_cmpuint (c.lines->len, ==, 1);
  g_assert_true (natter_frame_reader_has_frame (&reader));
  g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, strlen ("two\nthree\nfo"));

  /* More data while stopped queues behind what is kept. */
  r = push (&reader, &c, S ("ur\nfive\n"));
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
  g_assert_cmpuint (c.lines->len, ==, 2);

  r = natter_frame_reader_resume (&reader, collect_cb, &c);
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
  r = natter_frame_reader_resume (&reader, collect_cb, &c);
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
  g_assert_true (natter_frame_reader_has_frame (&reader));
  r = natter_frame_reader_resume (&reader, collect_cb, &c);
  /* "five" was the last line: stopped, with nothing left. */
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
  g_assert_cmpuint (c.lines->len, ==, 5);
  g_assert_false (natter_frame_reader_has_frame (&reader));
  g_assert_null (reader.pending);
  r = natter_frame_reader_resume (&reader, collect_cb, &c);
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_OK);

  {
    const char *want[] = { "one", "two", "three", "four", "five" };

    for (guint i = 0; i < G_N_ELEMENTS (want); i++)
      {
        gsize len;
        const char *got = g_bytes_get_data (c.lines->pdata[i], &len);
        g_assert_cmpmem (got, len, want[i], strlen (want[i]));
      }
  }

  /* A stop on the first line of a split frame keeps only the rest. */
  c.stop_always = TRUE;
  r = push (&reader, &c, S ("par"));
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_OK);
  r = push (&reader, &c, S ("tial\nnext\nta"));
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
  g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, strlen ("next\nta"));
  c.stop_always = FALSE;
  r = natter_frame_reader_resume (&reader, collect_cb, &c);
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_OK);
  g_assert_false (natter_frame_reader_has_frame (&reader));
  g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, 2);
  g_assert_cmpuint (c.lines->len, ==, 7);

  /* The rest of a stopped push may prove a line too long. */
  c.stop_always = TRUE;
  natter_frame_reader_clear (&reader);
  natter_frame_reader_init (&reader, 4);
  r = push (&reader, &c, S ("a\nbbbbbbbb"));
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
  r = natter_frame_reader_resume (&reader, collect_cb, &c);
  g_assert_cmpint (r, ==, NATTER_FRAME_READER_TOO_LARGE);

  natter_frame_reader_clear (&reader);
  collector_clear (&c);
}

/* The callback may clear the reader (its connection closed): push() and
 * resume() return STOPPED at once, touch nothing freed and keep nothing.
 * ASan checks the "touch nothing", LeakSanitizer the "keep nothing". */
typedef struct {
  NatterFrameReader *reader;
  guint              lines;
  guint              clear_at;
  gboolean           stop_always;
} ClearingData;

static gboolean
clearing_cb (const char *line,
             gsize       len,
             gpointer    user_data)
{
  ClearingData *d = user_data;

  if (++d->lines == d->clear_at)
    {
      natter_frame_reader_clear (d->reader);
      /* As a closing connection's callback does. */
      return FALSE;
    }
  return !d->stop_always;
}

static void
test_clear_in_callback (void)
{
  const char *stream = "one\ntwo\nthree\nfour\nfive\nsix";
  gsize len = strlen (stream);

  /* mode 0: the callback never stops; mode 1: it stops after every line,
   * and more is pushed while stopped; mode 2: it stops after every line,
   * and the kept lines are resumed before more is pushed. */
  for (guint clear_at = 1; clear_at <= 5; clear_at++)
    for (gsize cut = 0; cut <= len; cut++)
      for (int mode = 0; mode < 3; mode++)
        {
          NatterFrameReader reader;
          ClearingData d = { &reader, 0, clear_at, mode != 0 };
          NatterFrameReaderResult r;
          g_autofree char *a = g_memdup2 (stream, MAX (cut, 1));
          g_autofree char *b = g_memdup2 (stream + cut, MAX (len - cut, 1));

          natter_frame_reader_init (&reader, 16);
          r = natter_frame_reader_push (&reader, (const guint8 *) a, cut, clearing_cb, &d);
          if (mode == 2)
            while (r == NATTER_FRAME_READER_STOPPED && d.lines < clear_at)
              r = natter_frame_reader_resume (&reader, clearing_cb, &d);
          if (d.lines < clear_at)
            r = natter_frame_reader_push (&reader, (const guint8 *) b, len - cut, clearing_cb, &d);
          while (r == NATTER_FRAME_READER_STOPPED && d.lines < clear_at)
            r = natter_frame_reader_resume (&reader, clearing_cb, &d);

          g_assert_cmpuint (d.lines, ==, clear_at);
          g_assert_cmpint (r, ==, NATTER_FRAME_READER_STOPPED);
          g_assert_null (reader.pending);
          g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, 0);
          g_assert_false (natter_frame_reader_has_frame (&reader));
          natter_frame_reader_clear (&reader);
        }
}

/* A tail sent one byte at a time must cost linear work, not quadratic:
 * 4 MiB of frames, each up to 64 KiB, byte by byte. A quadratic reader
 * would take minutes here; the test's timeout catches it. */
static void
test_slow_sender_linear (void)
{
  const gsize max = 65536;
  NatterFrameReader reader;
  Collector c;
  g_autofree char *frame = g_malloc (max);
  gsize frames = 0;

  memset (frame, 'q', max - 1);
  frame[max - 1] = '\n';
  collector_init (&c);
  natter_frame_reader_init (&reader, max);

  for (guint f = 0; f < 64; f++)
    for (gsize i = 0; i < max; i++)
      g_assert_cmpint (push (&reader, &c, frame + i, 1), ==, NATTER_FRAME_READER_OK);

  frames = c.lines->len;
  g_assert_cmpuint (frames, ==, 64);
  natter_frame_reader_clear (&reader);
  collector_clear (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/frame-reader/streams/whole", test_streams_whole);
  g_test_add_func ("/frame-reader/streams/every-split", test_streams_every_split);
  g_test_add_func ("/frame-reader/streams/every-double-split", test_streams_every_double_split);
  g_test_add_func ("/frame-reader/streams/byte-by-byte", test_streams_byte_by_byte);
  g_test_add_func ("/frame-reader/streams/stop-resume", test_streams_stop_resume);
  g_test_add_func ("/frame-reader/big-stream", test_big_stream);
  g_test_add_func ("/frame-reader/exact-max", test_exact_max);
  g_test_add_func ("/frame-reader/never-ending", test_never_ending);
  g_test_add_func ("/frame-reader/zero-copy", test_zero_copy);
  g_test_add_func ("/frame-reader/stop-resume", test_stop_resume);
  g_test_add_func ("/frame-reader/slow-sender-linear", test_slow_sender_linear);
  g_test_add_func ("/frame-reader/clear-in-callback", test_clear_in_callback);

  return g_test_run ();
}
