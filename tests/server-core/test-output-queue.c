/* The output queue hands back exactly the bytes pushed, in order, however
 * the kernel splits the writes. */
#include <string.h>

#include "natterd-output-queue.h"

static GBytes *
make_frame (gsize len, char fill)
{
  char *data = g_malloc (len);

  memset (data, fill, len - 1);
  data[len - 1] = '\n';
  return g_bytes_new_take (data, len);
}

/* Drains @queue in writes of at most @step bytes, appending to @out. */
static void
drain (NatterdOutputQueue *queue, gsize step, GString *out)
{
  while (natterd_output_queue_get_size (queue) > 0)
    {
      GOutputVector vectors[8];
      guint n = natterd_output_queue_get_vectors (queue, vectors, G_N_ELEMENTS (vectors));
      gsize taken = 0;

      g_assert_cmpuint (n, >, 0);
      for (guint i = 0; i < n && taken < step; i++)
        {
          gsize part = MIN (vectors[i].size, step - taken);
          g_string_append_len (out, vectors[i].buffer, part);
          taken += part;
        }
      natterd_output_queue_consume (queue, taken);
    }
}

static void
test_order_across_splits (void)
{
  /* Small frames are copied into chunks, large ones referenced: a mix
   * checks that the two kinds keep their order. */
  const gsize sizes[] = { 10, 300, 1024, 1025, 5000, 20, 16 * 1024, 16 * 1024 + 1, 7, 900, 900, 900 };
  const gsize steps[] = { 1, 7, 100, 1023, 4096, 70000 };

  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      NatterdOutputQueue queue = { 0 };
      g_autoptr(GString) expected = g_string_new (NULL);
      g_autoptr(GString) out = g_string_new (NULL);

      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          g_autoptr(GBytes) frame = make_frame (sizes[i], 'a' + i);
          natterd_output_queue_push (&queue, frame);
          g_string_append_len (expected, g_bytes_get_data (frame, NULL), sizes[i]);
        }
      g_assert_cmpuint (natterd_output_queue_get_size (&queue), ==, expected->len);

      drain (&queue, steps[s], out);
      g_assert_cmpuint (out->len, ==, expected->len);
      g_assert_true (memcmp (out->str, expected->str, out->len) == 0);
      /* Empty means no memory held. */
      g_assert_null (queue.items);
    }
}

static void
test_interleaved_push_and_consume (void)
{
  NatterdOutputQueue queue = { 0 };
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint round = 0; round < 200; round++)
    {
      g_autoptr(GBytes) frame = make_frame (1 + (round * 37) % 3000, 'A' + round % 26);
      natterd_output_queue_push (&queue, frame);
      g_string_append_len (expected, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));

      /* Take a bit now and then, as a slow reader would. */
      if (round % 3 == 0)
        {
          GOutputVector vectors[4];
          guint n = natterd_output_queue_get_vectors (&queue, vectors, 4);
          gsize part = MIN (vectors[0].size, 333);

          g_assert_cmpuint (n, >, 0);
          g_string_append_len (out, vectors[0].buffer, part);
          natterd_output_queue_consume (&queue, part);
        }
    }
  drain (&queue, 999, out);
  g_assert_cmpuint (out->len, ==, expected->len);
  g_assert_true (memcmp (out->str, expected->str, out->len) == 0);
}

static void
test_clear_releases_frames (void)
{
  NatterdOutputQueue queue = { 0 };
  GBytes *big = make_frame (4000, 'x');

  natterd_output_queue_push (&queue, big);
  g_bytes_unref (big); /* the queue holds the only reference now */
  natterd_output_queue_clear (&queue);
  g_assert_cmpuint (natterd_output_queue_get_size (&queue), ==, 0);
  g_assert_null (queue.items);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/output-queue/order-across-splits", test_order_across_splits);
  g_test_add_func ("/output-queue/interleaved", test_interleaved_push_and_consume);
  g_test_add_func ("/output-queue/clear", test_clear_releases_frames);
  return g_test_run ();
}
