/* test-message-list.c: the conversation model: id order, dedupe, pending
 * messages at the end, and minimal items-changed emissions. */
#define G_LOG_DOMAIN "test-message-list"

#include "natter-message-list.h"
#include "natter-message-private.h"

typedef struct {
  guint position, removed, added;
} Change;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  GArray     *changes)
{
  Change c = { position, removed, added };

  g_array_append_val (changes, c);
}

static NatterMessage *
stored (gint64 id)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autofree char *body = g_strdup_printf ("m%" G_GINT64_FORMAT, id);

  json_object_set_int_member (obj, "id", id);
  json_object_set_string_member (obj, "conversation", "@bob");
  json_object_set_string_member (obj, "from", "bob");
  json_object_set_string_member (obj, "body", body);
  json_object_set_int_member (obj, "ts", 1000 + id);
  return natter_message_new_from_json (obj, "alice", NULL);
}

static void
assert_ids (NatterMessageList *list,
            const gint64      *ids,
            guint              n)
{
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterMessage) m = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_cmpint (natter_message_get_id (m), ==, ids[i]);
    }
}

static void
test_insert_order (void)
{
  g_autoptr(NatterMessageList) list = natter_message_list_new ();
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  static const struct { gint64 id; gboolean added; guint position; } cases[] = {
    { 10, TRUE, 0 },
    { 20, TRUE, 1 },
    { 15, TRUE, 1 },
    { 5, TRUE, 0 },
    { 15, FALSE, 0 },   /* duplicate */
    { 30, TRUE, 4 },
    { 5, FALSE, 0 },
  };
  static const gint64 expected[] = { 5, 10, 15, 20, 30 };

  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(NatterMessage) m = stored (cases[i].id);
      guint before = changes->len;

      g_assert_cmpint (natter_message_list_insert (list, m), ==, cases[i].added);
      if (cases[i].added)
        {
          Change c = g_array_index (changes, Change, changes->len - 1);

          g_assert_cmpuint (changes->len, ==, before + 1);
          g_assert_cmpuint (c.position, ==, cases[i].position);
          g_assert_cmpuint (c.removed, ==, 0);
          g_assert_cmpuint (c.added, ==, 1);
        }
      else
        g_assert_cmpuint (changes->len, ==, before);
    }
  assert_ids (list, expected, G_N_ELEMENTS (expected));
  g_assert_nonnull (natter_message_list_find_id (list, 15));
  g_assert_null (natter_message_list_find_id (list, 16));
  g_assert_cmpint (natter_message_get_id (natter_message_list_get_oldest (list)), ==, 5);
  g_assert_cmpint (natter_message_get_id (natter_message_list_get_newest_stored (list)), ==, 30);
  /* Unread counting: messages after 10 not from alice. */
  g_assert_cmpuint (natter_message_list_count_after (list, 10, "alice"), ==, 3);
  g_assert_cmpuint (natter_message_list_count_after (list, 10, "bob"), ==, 0);
}

static void
test_merge (void)
{
  g_autoptr(NatterMessageList) list = natter_message_list_new ();
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (g_object_unref);
  static const gint64 newer[] = { 103, 101, 102, 101 };  /* unsorted, one duplicate */
  static const gint64 older[] = { 50, 60 };
  static const gint64 mixed[] = { 55, 102, 104 };
  static const gint64 expected[] = { 50, 55, 60, 101, 102, 103, 104 };

  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);

  for (guint i = 0; i < G_N_ELEMENTS (newer); i++)
    g_ptr_array_add (batch, stored (newer[i]));
  g_assert_cmpuint (natter_message_list_merge (list, batch), ==, 3);
  g_assert_cmpuint (changes->len, ==, 1);       /* one block */
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 3);

  g_ptr_array_set_size (batch, 0);
  for (guint i = 0; i < G_N_ELEMENTS (older); i++)
    g_ptr_array_add (batch, stored (older[i]));
  g_assert_cmpuint (natter_message_list_merge (list, batch), ==, 2);
  g_assert_cmpuint (changes->len, ==, 2);       /* one block at the start */
  g_assert_cmpuint (g_array_index (changes, Change, 1).position, ==, 0);

  g_ptr_array_set_size (batch, 0);
  for (guint i = 0; i < G_N_ELEMENTS (mixed); i++)
    g_ptr_array_add (batch, stored (mixed[i]));
  g_assert_cmpuint (natter_message_list_merge (list, batch), ==, 2);

  assert_ids (list, expected, G_N_ELEMENTS (expected));
}

static void
test_pending (void)
{
  g_autoptr(NatterMessageList) list = natter_message_list_new ();
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(NatterMessage) p1 = natter_message_new_pending ("@bob", "alice", "one", "c1", 1);
  g_autoptr(NatterMessage) p2 = natter_message_new_pending ("@bob", "alice", "two", "c2", 2);
  g_autoptr(NatterMessage) s10 = stored (10);
  g_autoptr(NatterMessage) s11 = stored (11);
  static const gint64 expected_a[] = { 10, 11, 0, 0 };
  static const gint64 expected_b[] = { 10, 11, 12, 0 };
  static const gint64 expected_c[] = { 10, 11, 12 };

  natter_message_list_insert (list, s10);
  natter_message_list_append_pending (list, p1);
  natter_message_list_append_pending (list, p2);
  /* A message from someone else lands before the pending ones. */
  natter_message_list_insert (list, s11);
  assert_ids (list, expected_a, G_N_ELEMENTS (expected_a));
  g_assert_true (natter_message_list_find_pending (list, "c1") == p1);
  g_assert_true (natter_message_list_get_last (list) == p2);

  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);

  /* The oldest pending one is acknowledged as the newest: it stays put,
   * nothing is emitted (the row updates through its own properties). */
  natter_message_set_sent (p1, 12, 100);
  g_assert_true (natter_message_list_settle (list, p1));
  g_assert_cmpuint (changes->len, ==, 0);
  g_assert_cmpint (natter_message_get_state (p1), ==, NATTER_MESSAGE_STATE_SENT);
  assert_ids (list, expected_b, G_N_ELEMENTS (expected_b));
  g_assert_null (natter_message_list_find_pending (list, "c1"));

  /* A pending one whose id is already there (it came back through sync
   * first) is dropped, not shown twice. */
  natter_message_set_sent (p2, 12, 100);
  g_assert_false (natter_message_list_settle (list, p2));
  assert_ids (list, expected_c, G_N_ELEMENTS (expected_c));
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, 1);
}

static void
test_remove_pending (void)
{
  g_autoptr(NatterMessageList) list = natter_message_list_new ();
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(NatterMessage) p1 = natter_message_new_pending ("@bob", "alice", "one", "c1", 1);
  g_autoptr(NatterMessage) p2 = natter_message_new_pending ("@bob", "alice", "two", "c2", 2);
  g_autoptr(NatterMessage) s10 = stored (10);
  static const gint64 expected[] = { 10, 0 };

  natter_message_list_insert (list, s10);
  natter_message_list_append_pending (list, p1);
  natter_message_list_append_pending (list, p2);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), changes);

  /* A stored message is not pending: nothing happens. */
  g_assert_false (natter_message_list_remove_pending (list, s10));
  g_assert_cmpuint (changes->len, ==, 0);

  g_assert_true (natter_message_list_remove_pending (list, p1));
  assert_ids (list, expected, G_N_ELEMENTS (expected));
  g_assert_true (natter_message_list_get_last (list) == p2);
  g_assert_null (natter_message_list_find_pending (list, "c1"));
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).position, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 0);

  /* Twice is a no-op. */
  g_assert_false (natter_message_list_remove_pending (list, p1));
  g_assert_cmpuint (changes->len, ==, 1);
}

static void
test_large (void)
{
  g_autoptr(NatterMessageList) list = natter_message_list_new ();
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (g_object_unref);
  const guint n = 100000;
  gint64 start;
  double seconds;

  /* 100,000 messages one by one, as live events would come. */
  start = g_get_monotonic_time ();
  for (guint i = 1; i <= n; i++)
    {
      g_autoptr(NatterMessage) m = stored (i * 2);

      natter_message_list_insert (list, m);
    }
  seconds = (g_get_monotonic_time () - start) / 1e6;
  g_test_message ("appended %u messages in %.3f s (%.0f/s)", n, seconds, n / seconds);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n);

  /* A page of older history merged at the front: one block. */
  for (guint i = 0; i < 50; i++)
    g_ptr_array_add (batch, stored (2 * n + 1 + i));
  g_assert_cmpuint (natter_message_list_merge (list, batch), ==, 50);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n + 50);

  /* Lookups stay cheap. */
  start = g_get_monotonic_time ();
  for (guint i = 1; i <= n; i++)
    g_assert_nonnull (natter_message_list_find_id (list, i * 2));
  seconds = (g_get_monotonic_time () - start) / 1e6;
  g_test_message ("looked up %u ids in %.3f s", n, seconds);
  g_assert_cmpfloat (seconds, <, 5.0);
}

/* Notices stand after the message they came after, among history paged
 * in later too, and the message getters step over them. */
static void
test_notices (void)
{
  g_autoptr(NatterMessageList) list = natter_message_list_new ();
  g_autoptr(GPtrArray) older = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) newer = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(NatterMessage) m10 = stored (10);
  g_autoptr(NatterMessage) first = natter_message_new_notice ("#r", "first", 1, 10);
  g_autoptr(NatterMessage) second = natter_message_new_notice ("#r", "second", 2, 10);
  g_autoptr(NatterMessage) at0 = natter_message_new_notice ("#r", "at0", 3, 0);
  g_autoptr(NatterMessage) pending = natter_message_new_pending ("#r", "alice", "p", "c1", 4);
  static const char *const expected[] = { "at0", "m5", "m8", "m10", "first", "second", "m12", "m15", "p" };

  natter_message_list_insert (list, m10);
  natter_message_list_append_pending (list, pending);
  natter_message_list_insert_notice (list, first);
  natter_message_list_insert_notice (list, second);
  natter_message_list_insert_notice (list, at0);
  g_assert_true (natter_message_list_get_oldest (list) == m10);
  g_assert_true (natter_message_list_get_newest_stored (list) == m10);
  g_assert_true (natter_message_list_get_last (list) == pending);
  g_assert_cmpuint (natter_message_list_count_after (list, 0, "alice"), ==, 1);

  g_ptr_array_add (older, stored (5));
  g_ptr_array_add (older, stored (8));
  g_assert_cmpuint (natter_message_list_merge (list, older), ==, 2);
  g_ptr_array_add (newer, stored (15));
  g_ptr_array_add (newer, stored (12));
  g_assert_cmpuint (natter_message_list_merge (list, newer), ==, 2);
  g_assert_false (natter_message_list_insert (list, m10));

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(NatterMessage) m = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_cmpstr (natter_message_get_body (m), ==, expected[i]);
    }
  g_assert_cmpint (natter_message_get_id (natter_message_list_get_oldest (list)), ==, 5);
  g_assert_cmpint (natter_message_get_id (natter_message_list_get_newest_stored (list)), ==, 15);
  g_assert_true (natter_message_list_find_id (list, 10) == m10);
  g_assert_cmpint (natter_message_list_find_position (list, 10), ==, 3);
  g_assert_cmpint (natter_message_list_find_position (list, 12), ==, 6);
  g_assert_cmpint (natter_message_list_find_position (list, 11), ==, -1);
  g_assert_cmpuint (natter_message_list_count_after (list, 10, "alice"), ==, 2);

  /* The pending message settles after the notices. */
  natter_message_set_sent (pending, 20, 5);
  g_assert_true (natter_message_list_settle (list, pending));
  g_assert_true (natter_message_list_get_last (list) == pending);
  g_assert_cmpint (natter_message_list_find_position (list, 20), ==, 8);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/message-list/insert-order", test_insert_order);
  g_test_add_func ("/client/message-list/merge", test_merge);
  g_test_add_func ("/client/message-list/pending", test_pending);
  g_test_add_func ("/client/message-list/remove-pending", test_remove_pending);
  g_test_add_func ("/client/message-list/large", test_large);
  g_test_add_func ("/client/message-list/notices", test_notices);

  return g_test_run ();
}
