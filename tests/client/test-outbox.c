/* test-outbox.c: the on-disk outbox log: add, remove, reload, a torn last
 * line, truncation when empty, failed entries kept and retried. */
#define G_LOG_DOMAIN "test-outbox"

#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "natter-outbox.h"

static char *
make_path (char **out_dir)
{
  g_autoptr(GError) error = NULL;

  *out_dir = g_dir_make_tmp ("natter-outbox-XXXXXX", &error);
  g_assert_no_error (error);
  return g_build_filename (*out_dir, "outbox.log", NULL);
}

static void
assert_pending (NatterOutbox      *outbox,
                const char *const *ids)
{
  GPtrArray *pending = natter_outbox_get_pending (outbox);

  g_assert_cmpuint (pending->len, ==, g_strv_length ((char **) ids));
  for (guint i = 0; ids[i] != NULL; i++)
    {
      NatterOutboxEntry *e = g_ptr_array_index (pending, i);

      g_assert_cmpstr (e->client_msg_id, ==, ids[i]);
    }
}

static void
test_roundtrip (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = make_path (&dir);
  g_autoptr(GError) error = NULL;
  NatterOutbox *outbox;
  NatterOutboxEntry *e;
  static const char *const after_remove[] = { "a", "c", NULL };

  outbox = natter_outbox_new (path);
  g_assert_cmpuint (natter_outbox_get_n_pending (outbox), ==, 0);
  g_assert_true (natter_outbox_add (outbox, "a", "@bob", "line one\nline \"two\" ☃", 11, &error));
  g_assert_true (natter_outbox_add (outbox, "b", "#room", "second", 12, &error));
  /* Entries name the account that wrote them (a shared device). */
  natter_outbox_set_account (outbox, "alice@example.org:7447");
  g_assert_true (natter_outbox_add (outbox, "c", "@carol", "third", 13, &error));
  g_assert_no_error (error);
  g_assert_true (natter_outbox_remove (outbox, "b", &error));
  g_assert_true (natter_outbox_remove (outbox, "unknown", &error));
  assert_pending (outbox, after_remove);
  g_object_unref (outbox);

  /* Reloaded from disk: same entries, same order, same contents. */
  outbox = natter_outbox_new (path);
  assert_pending (outbox, after_remove);
  e = g_ptr_array_index (natter_outbox_get_pending (outbox), 0);
  g_assert_cmpstr (e->to, ==, "@bob");
  g_assert_cmpstr (e->body, ==, "line one\nline \"two\" ☃");
  g_assert_cmpint (e->ts, ==, 11);
  g_assert_null (e->account);
  e = g_ptr_array_index (natter_outbox_get_pending (outbox), 1);
  g_assert_cmpstr (e->account, ==, "alice@example.org:7447");

  /* Emptied: the log is truncated. */
  g_assert_true (natter_outbox_remove (outbox, "a", &error));
  g_assert_true (natter_outbox_remove (outbox, "c", &error));
  g_assert_no_error (error);
  g_object_unref (outbox);
  {
    g_autofree char *contents = NULL;
    gsize len = 1;

    g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
    g_assert_cmpuint (len, ==, 0);
  }

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_torn_and_junk (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = make_path (&dir);
  static const char *const expected[] = { "ok1", "ok2", NULL };
  const char *log =
    "{\"op\":\"add\",\"client_msg_id\":\"ok1\",\"to\":\"@bob\",\"body\":\"x\",\"ts\":1}\n"
    "not json at all\n"
    "{\"op\":\"add\",\"client_msg_id\":\"nobody\",\"to\":\"@bob\"}\n"
    "{\"op\":\"frob\",\"client_msg_id\":\"ok1\"}\n"
    "{\"op\":\"add\",\"client_msg_id\":\"ok2\",\"to\":\"@bob\",\"body\":\"y\",\"ts\":2}\n"
    "{\"op\":\"add\",\"client_msg_id\":\"torn\",\"to\":\"@bo";
  NatterOutbox *outbox;

  g_assert_true (g_file_set_contents (path, log, -1, NULL));
  outbox = natter_outbox_new (path);
  assert_pending (outbox, expected);

  /* Appending after a torn line still reloads cleanly. */
  g_assert_true (natter_outbox_add (outbox, "ok3", "@bob", "z", 3, NULL));
  g_object_unref (outbox);
  outbox = natter_outbox_new (path);
  g_assert_cmpuint (natter_outbox_get_n_pending (outbox), ==, 3);
  g_object_unref (outbox);

  g_unlink (path);
  g_rmdir (dir);
}

static gboolean
entry_failed (NatterOutbox *outbox,
              guint         index)
{
  NatterOutboxEntry *e = g_ptr_array_index (natter_outbox_get_pending (outbox), index);

  return e->failed;
}

static void
test_failed (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = make_path (&dir);
  g_autoptr(GError) error = NULL;
  static const char *const both[] = { "a", "b", NULL };
  static const char *const only_b[] = { "b", NULL };
  NatterOutbox *outbox;

  outbox = natter_outbox_new (path);
  g_assert_true (natter_outbox_add (outbox, "a", "@nobody", "refused", 1, &error));
  g_assert_true (natter_outbox_add (outbox, "b", "@bob", "pending", 2, &error));
  g_assert_true (natter_outbox_mark_failed (outbox, "a", &error));
  g_assert_true (natter_outbox_mark_failed (outbox, "unknown", &error));
  g_assert_no_error (error);
  g_assert_true (entry_failed (outbox, 0));
  g_assert_false (entry_failed (outbox, 1));
  g_object_unref (outbox);

  /* Reloaded: still there, still failed. */
  outbox = natter_outbox_new (path);
  assert_pending (outbox, both);
  g_assert_true (entry_failed (outbox, 0));
  g_assert_false (entry_failed (outbox, 1));

  /* Added again (a retry): pending, in its place, on disk too. */
  g_assert_true (natter_outbox_add (outbox, "a", "@nobody", "refused", 1, &error));
  g_assert_false (entry_failed (outbox, 0));
  g_object_unref (outbox);
  outbox = natter_outbox_new (path);
  assert_pending (outbox, both);
  g_assert_false (entry_failed (outbox, 0));

  /* Failed again, then removed (deleted): gone for good. */
  g_assert_true (natter_outbox_mark_failed (outbox, "a", &error));
  g_assert_true (natter_outbox_remove (outbox, "a", &error));
  g_assert_no_error (error);
  g_object_unref (outbox);
  outbox = natter_outbox_new (path);
  assert_pending (outbox, only_b);
  g_assert_true (natter_outbox_mark_failed (outbox, "b", &error));
  g_object_unref (outbox);

  /* A torn tail makes the log be rewritten: the mark survives that. */
  {
    g_autofree char *contents = NULL;
    g_autofree char *torn = NULL;

    g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
    torn = g_strconcat (contents, "{\"op\":\"add\",\"client", NULL);
    g_assert_true (g_file_set_contents (path, torn, -1, NULL));
  }
  outbox = natter_outbox_new (path);
  g_object_unref (outbox);
  outbox = natter_outbox_new (path);
  assert_pending (outbox, only_b);
  g_assert_true (entry_failed (outbox, 0));
  g_object_unref (outbox);

  g_unlink (path);
  g_rmdir (dir);
}

/* Actions on stored messages and replies keep every field across a
 * reload, and a kind this version does not know is left alone. */
static void
test_actions (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = make_path (&dir);
  g_autoptr(GError) error = NULL;
  NatterOutbox *outbox;
  NatterOutboxEntry *e;
  static const char *const ids[] = { "s", "e", "d", "r", NULL };
  NatterOutboxEntry send = { "s", "#room", "an answer", 20, .reply_to = 7,
                             .reply_from = "bob", .reply_body = "the question" };
  NatterOutboxEntry edit = { "e", "@bob", "new text", 21, .kind = NATTER_OUTBOX_EDIT, .message = 5 };
  NatterOutboxEntry del = { "d", "@bob", "", 22, .kind = NATTER_OUTBOX_DELETE, .message = 6 };
  NatterOutboxEntry react = { "r", "@bob", "", 23, .kind = NATTER_OUTBOX_REACT, .message = 5,
                              .emoji = "👍🏽", .on = TRUE };

  outbox = natter_outbox_new (path);
  g_assert_true (natter_outbox_add_entry (outbox, &send, &error));
  g_assert_true (natter_outbox_add_entry (outbox, &edit, &error));
  g_assert_true (natter_outbox_add_entry (outbox, &del, &error));
  g_assert_true (natter_outbox_add_entry (outbox, &react, &error));
  g_assert_no_error (error);
  g_object_unref (outbox);

  {
    FILE *f = g_fopen (path, "a");

    g_assert_nonnull (f);
    fputs ("{\"op\":\"add\",\"client_msg_id\":\"x\",\"to\":\"@bob\",\"body\":\"\","
           "\"kind\":\"pin\",\"message\":5}\n", f);
    fclose (f);
  }
  outbox = natter_outbox_new (path);
  assert_pending (outbox, ids);
  e = natter_outbox_lookup (outbox, "s");
  g_assert_cmpint (e->kind, ==, NATTER_OUTBOX_SEND);
  g_assert_cmpint (e->reply_to, ==, 7);
  g_assert_cmpstr (e->reply_from, ==, "bob");
  g_assert_cmpstr (e->reply_body, ==, "the question");
  e = natter_outbox_lookup (outbox, "e");
  g_assert_cmpint (e->kind, ==, NATTER_OUTBOX_EDIT);
  g_assert_cmpint (e->message, ==, 5);
  g_assert_cmpstr (e->body, ==, "new text");
  e = natter_outbox_lookup (outbox, "d");
  g_assert_cmpint (e->kind, ==, NATTER_OUTBOX_DELETE);
  g_assert_cmpint (e->message, ==, 6);
  e = natter_outbox_lookup (outbox, "r");
  g_assert_cmpint (e->kind, ==, NATTER_OUTBOX_REACT);
  g_assert_cmpstr (e->emoji, ==, "👍🏽");
  g_assert_true (e->on);
  g_object_unref (outbox);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A send with files keeps them across a reload and a compaction; a log
 * of an older version (no files) reads as before, and a send_files line
 * without its files is skipped, not sent as text alone. */
static void
test_files (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = make_path (&dir);
  g_autoptr(GError) error = NULL;
  static const char files[] = "[{\"path\":\"/tmp/a b.png\",\"name\":\"a b.png\",\"mime\":\"image/png\",\"size\":5}]";
  static const char *const both[] = { "old", "f", NULL };
  NatterOutboxEntry entry = { "f", "@bob", "", 20 };
  NatterOutboxEntry *e;
  NatterOutbox *outbox;
  g_autofree char *log = NULL;

  g_assert_true (g_file_set_contents (path,
      "{\"op\":\"add\",\"client_msg_id\":\"old\",\"to\":\"@bob\",\"body\":\"text\",\"ts\":1}\n"
      "{\"op\":\"add\",\"client_msg_id\":\"bad\",\"to\":\"@bob\",\"body\":\"x\",\"ts\":2,\"kind\":\"send_files\"}\n",
      -1, NULL));
  outbox = natter_outbox_new (path);
  entry.files = (char *) files;
  g_assert_true (natter_outbox_add_entry (outbox, &entry, &error));
  g_assert_no_error (error);
  g_object_unref (outbox);

  outbox = natter_outbox_new (path);
  assert_pending (outbox, both);
  g_assert_null (natter_outbox_lookup (outbox, "old")->files);
  e = natter_outbox_lookup (outbox, "f");
  g_assert_cmpint (e->kind, ==, NATTER_OUTBOX_SEND);
  g_assert_cmpstr (e->body, ==, "");
  g_assert_cmpstr (e->files, ==, files);
  g_assert_true (g_file_get_contents (path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "\"kind\":\"send_files\""));

  /* The files as uploaded so far replace the first ones, across a reload. */
  g_assert_true (natter_outbox_set_files (outbox, "f", "[{\"path\":\"/x\",\"upload\":7}]", &error));
  g_assert_true (natter_outbox_set_files (outbox, "unknown", "[]", &error));
  g_assert_no_error (error);
  g_object_unref (outbox);
  outbox = natter_outbox_new (path);
  assert_pending (outbox, both);
  g_assert_cmpstr (natter_outbox_lookup (outbox, "f")->files, ==, "[{\"path\":\"/x\",\"upload\":7}]");
  g_assert_null (natter_outbox_lookup (outbox, "old")->files);
  g_object_unref (outbox);

  g_remove (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/outbox/roundtrip", test_roundtrip);
  g_test_add_func ("/client/outbox/torn-and-junk", test_torn_and_junk);
  g_test_add_func ("/client/outbox/failed", test_failed);
  g_test_add_func ("/client/outbox/actions", test_actions);
  g_test_add_func ("/client/outbox/files", test_files);

  return g_test_run ();
}
