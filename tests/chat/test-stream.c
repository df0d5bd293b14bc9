/* test-stream.c: natterd-stream delivers runs of committed messages in id
 * order, whichever source brings them first, reads a gap from the
 * database when the bus does not fill it in time, and never delivers an id
 * twice.
 */
#define G_LOG_DOMAIN "test-stream"

#include "config.h"

#include "natterd-stream.h"

typedef struct {
  const char *name;
  gint64      first;
  gint64      last;
} Run;

typedef struct {
  GString *log;       /* "name:from;" for each delivery */
  gint64   read_after;
  gint64   read_before;
  guint    reads;
} Fixture;

static void
deliver_cb (gpointer run,
            gint64   from_id,
            gpointer user_data)
{
  Fixture *f = user_data;
  Run *r = run;

  if (from_id > r->last)
    g_string_append_printf (f->log, "%s:released;", r->name);
  else
    g_string_append_printf (f->log, "%s:%" G_GINT64_FORMAT ";", r->name, MAX (from_id, r->first));
}

static void
read_cb (NatterdStream *stream,
         gint64         after,
         gint64         before,
         gpointer       user_data)
{
  Fixture *f = user_data;

  f->read_after = after;
  f->read_before = before;
  f->reads++;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->log = g_string_new (NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_string_free (f->log, TRUE);
}

static NatterdStream *
new_stream (Fixture *f, gint64 delivered, guint gap_wait_ms)
{
  return natterd_stream_new (delivered, gap_wait_ms, deliver_cb, read_cb, f);
}

/* Runs the main loop until the stream has asked for @n reads in all, with
 * a deadline. */
static void
wait_for_reads (Fixture *f, guint n)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (f->reads < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
test_in_order (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 10, 60000);
  Run a = { "a", 11, 13 }, b = { "b", 14, 14 };

  natterd_stream_add (s, a.first, a.last, &a);
  natterd_stream_add (s, b.first, b.last, &b);
  g_assert_cmpstr (f->log->str, ==, "a:11;b:14;");
  g_assert_cmpint (natterd_stream_get_delivered_up_to (s), ==, 14);
  natterd_stream_free (s);
  g_assert_cmpuint (f->reads, ==, 0);
}

/* Another node's run comes after ours, or the other way round: each
 * waits for the one before it. */
static void
test_out_of_order (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 2, 60000);
  Run late = { "late", 5, 6 }, early = { "early", 3, 4 }, next = { "next", 7, 9 };

  natterd_stream_add (s, late.first, late.last, &late);
  natterd_stream_add (s, next.first, next.last, &next);
  g_assert_cmpstr (f->log->str, ==, "");
  natterd_stream_add (s, early.first, early.last, &early);
  g_assert_cmpstr (f->log->str, ==, "early:3;late:5;next:7;");
  g_assert_cmpint (natterd_stream_get_delivered_up_to (s), ==, 9);
  natterd_stream_free (s);
  g_assert_cmpuint (f->reads, ==, 0);
}

/* The bus lost a run: after the wait, the gap is read from the database
 * and delivered before what follows it. */
static void
test_gap_read (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 2, 5);
  Run after_gap = { "after", 6, 7 }, from_db = { "db", 3, 5 };

  natterd_stream_add (s, after_gap.first, after_gap.last, &after_gap);
  wait_for_reads (f, 1);
  g_assert_cmpint (f->read_after, ==, 2);
  g_assert_cmpint (f->read_before, ==, 6);
  g_assert_cmpstr (f->log->str, ==, "");
  natterd_stream_add_read (s, 2, 6, &from_db);
  g_assert_cmpstr (f->log->str, ==, "db:3;after:6;");
  g_assert_cmpint (natterd_stream_get_reads (s), ==, 1);
  natterd_stream_free (s);
}

/* A hole: ids a failed transaction took. The read finds nothing, and the
 * stream goes on. */
static void
test_hole (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 2, 5);
  Run after_hole = { "after", 5, 5 };

  natterd_stream_add (s, after_hole.first, after_hole.last, &after_hole);
  wait_for_reads (f, 1);
  natterd_stream_add_read (s, 2, 5, NULL);
  g_assert_cmpstr (f->log->str, ==, "after:5;");
  g_assert_cmpint (natterd_stream_get_delivered_up_to (s), ==, 5);
  natterd_stream_free (s);
}

/* The bus brings the gap while its read is under way: the read's
 * messages are not delivered again. A later gap waits for its own read. */
static void
test_read_overlaps_bus (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 2, 5);
  Run five = { "five", 5, 5 }, bus = { "bus", 3, 4 }, db = { "db", 3, 4 };
  Run nine = { "nine", 9, 9 }, db2 = { "db2", 6, 8 };

  natterd_stream_add (s, five.first, five.last, &five);
  wait_for_reads (f, 1);
  natterd_stream_add (s, bus.first, bus.last, &bus);
  g_assert_cmpstr (f->log->str, ==, "bus:3;five:5;");
  /* A new gap while the first read is out: no second read yet. */
  natterd_stream_add (s, nine.first, nine.last, &nine);
  natterd_stream_add_read (s, 2, 5, &db);
  g_assert_cmpstr (f->log->str, ==, "bus:3;five:5;db:released;");
  wait_for_reads (f, 2);
  g_assert_cmpint (f->read_after, ==, 5);
  g_assert_cmpint (f->read_before, ==, 9);
  natterd_stream_add_read (s, 5, 9, &db2);
  g_assert_cmpstr (f->log->str, ==, "bus:3;five:5;db:released;db2:6;nine:9;");
  natterd_stream_free (s);
}

/* A run already delivered (through a read) is released, not delivered:
 * a node's own sends are then acknowledged without a second fan-out. */
static void
test_late_own_run (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 2, 5);
  Run other = { "other", 6, 6 }, db = { "db", 3, 5 }, own = { "own", 3, 5 };
  Run part = { "part", 5, 7 };

  natterd_stream_add (s, other.first, other.last, &other);
  wait_for_reads (f, 1);
  natterd_stream_add_read (s, 2, 6, &db);
  natterd_stream_add (s, own.first, own.last, &own);
  g_assert_cmpstr (f->log->str, ==, "db:3;other:6;own:released;");
  /* Overlapping what was delivered: only the rest goes out. */
  natterd_stream_add (s, part.first, part.last, &part);
  g_assert_cmpstr (f->log->str, ==, "db:3;other:6;own:released;part:7;");
  natterd_stream_free (s);
}

/* At a stop, what follows what was delivered goes out; what waits behind
 * a gap is released undelivered: delivered past the gap, it would move
 * its clients past ids they never got. */
static void
test_free_releases (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 2, 60000);
  Run a = { "a", 3, 4 }, b = { "b", 8, 9 }, c = { "c", 10, 10 };

  natterd_stream_add (s, b.first, b.last, &b);
  natterd_stream_add (s, c.first, c.last, &c);
  natterd_stream_add (s, a.first, a.last, &a);
  natterd_stream_free (s);
  g_assert_cmpstr (f->log->str, ==, "a:3;b:released;c:released;");
  g_assert_cmpuint (f->reads, ==, 0);
}

/* Ids the database does not have (a corrupt publish) are dropped, and
 * delivery goes on from what the database has. */
static void
test_forget_beyond (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 10, 10);
  Run bogus = { "bogus", 4611686018427387904, 4611686018427387904 }, next = { "next", 13, 13 };

  natterd_stream_add (s, bogus.first, bogus.last, &bogus);
  wait_for_reads (f, 1);
  g_assert_cmpint (f->read_before, ==, bogus.first);
  /* The database goes up to 12. */
  natterd_stream_forget_beyond (s, 12);
  natterd_stream_add_read (s, 10, 13, NULL);
  g_assert_cmpstr (f->log->str, ==, "bogus:released;");
  g_assert_cmpint (natterd_stream_get_delivered_up_to (s), ==, 12);
  natterd_stream_add (s, next.first, next.last, &next);
  g_assert_cmpstr (f->log->str, ==, "bogus:released;next:13;");
  natterd_stream_free (s);
}

/* A node that may have missed the bus (it reconnected) is told how far
 * the database goes: with nothing held, the gap up to there is read after
 * the usual wait; a read cut at a page's end goes on at once from where
 * it stopped. */
static void
test_catch_up_pages (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 10, 10);
  Run page1 = { "p1", 11, 20 }, page2 = { "p2", 21, 25 };

  natterd_stream_catch_up (s, 9);   /* behind: nothing to do */
  g_assert_cmpuint (f->reads, ==, 0);
  natterd_stream_catch_up (s, 25);
  wait_for_reads (f, 1);
  g_assert_cmpint (f->read_after, ==, 10);
  g_assert_cmpint (f->read_before, ==, 26);
  natterd_stream_add_read_page (s, 10, 20, &page1);
  g_assert_cmpuint (f->reads, ==, 2);
  g_assert_cmpint (f->read_after, ==, 20);
  g_assert_cmpint (f->read_before, ==, 26);
  natterd_stream_add_read (s, 20, 26, &page2);
  g_assert_cmpstr (f->log->str, ==, "p1:11;p2:21;");
  g_assert_cmpint (natterd_stream_get_delivered_up_to (s), ==, 25);
  natterd_stream_catch_up (s, 25);  /* delivered already */
  g_assert_cmpuint (f->reads, ==, 2);
  natterd_stream_free (s);
}

/* Many runs held behind one gap, arriving in order: the queue takes
 * them from its tail, and they go out in order once the gap is filled. */
static void
test_many_behind_gap (Fixture *f, gconstpointer data)
{
  NatterdStream *s = new_stream (f, 0, 60000);
  g_autofree Run *runs = g_new0 (Run, 10001);

  for (guint i = 1; i <= 10000; i++)
    {
      runs[i].name = "r";
      runs[i].first = runs[i].last = i + 1;
      natterd_stream_add (s, runs[i].first, runs[i].last, &runs[i]);
    }
  g_assert_cmpint (natterd_stream_get_delivered_up_to (s), ==, 0);
  runs[0].name = "gap";
  runs[0].first = runs[0].last = 1;
  natterd_stream_add (s, 1, 1, &runs[0]);
  g_assert_cmpint (natterd_stream_get_delivered_up_to (s), ==, 10001);
  g_assert_true (g_str_has_prefix (f->log->str, "gap:1;r:2;r:3;"));
  g_assert_true (g_str_has_suffix (f->log->str, "r:10000;r:10001;"));
  natterd_stream_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/stream/in-order", Fixture, NULL, fixture_setup, test_in_order, fixture_teardown);
  g_test_add ("/stream/out-of-order", Fixture, NULL, fixture_setup, test_out_of_order, fixture_teardown);
  g_test_add ("/stream/gap-read", Fixture, NULL, fixture_setup, test_gap_read, fixture_teardown);
  g_test_add ("/stream/hole", Fixture, NULL, fixture_setup, test_hole, fixture_teardown);
  g_test_add ("/stream/read-overlaps-bus", Fixture, NULL, fixture_setup, test_read_overlaps_bus,
              fixture_teardown);
  g_test_add ("/stream/late-own-run", Fixture, NULL, fixture_setup, test_late_own_run, fixture_teardown);
  g_test_add ("/stream/free-releases", Fixture, NULL, fixture_setup, test_free_releases, fixture_teardown);
  g_test_add ("/stream/forget-beyond", Fixture, NULL, fixture_setup, test_forget_beyond, fixture_teardown);
  g_test_add ("/stream/catch-up-pages", Fixture, NULL, fixture_setup, test_catch_up_pages, fixture_teardown);
  g_test_add ("/stream/many-behind-gap", Fixture, NULL, fixture_setup, test_many_behind_gap, fixture_teardown);
  return g_test_run ();
}
