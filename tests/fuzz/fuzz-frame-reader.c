/* fuzz-frame-reader: NatterFrameReader against a model of what it must do.
 *
 * The input is a stream with a few leading bytes that steer the reader:
 * max_frame, where the stream is cut into chunks, which frames the
 * callback stops at (as a connection does while a login runs) and whether
 * it clears the reader (as a connection that closes does). Whatever the
 * cuts and stops, the frames handed out must be the stream's lines in
 * order, none of max_frame bytes or more, and a line that long must end
 * the stream with TOO_LARGE.
 */
#include <string.h>

#include <glib.h>

#include "natter-frame-reader.h"
#include "fuzz-target.h"

typedef struct {
  GPtrArray    *seen;        /* GBytes: every frame handed out */
  const guint8 *control;     /* one byte per frame: stop, clear or go on */
  gsize         control_len;
  gboolean      cleared;
  NatterFrameReader *reader;
} Run;

static gboolean
on_frame (const char *line,
          gsize       len,
          gpointer    user_data)
{
  Run *run = user_data;
  guint8 what = run->control_len > 0 ? run->control[run->seen->len % run->control_len] : 0;

  g_assert (!run->cleared);
  g_assert (memchr (line, '\n', len) == NULL);
  g_assert_cmpuint (len, <, run->reader->max_frame);
  g_ptr_array_add (run->seen, g_bytes_new (line, len));

  if (what == 0xff)
    {
      natter_frame_reader_clear (run->reader);
      run->cleared = TRUE;
      return FALSE;
    }
  return (what & 3) != 0; /* a quarter of the frames stop the reader */
}

/* The model: the stream's complete lines, and whether a line (complete,
 * or a tail that cannot fit any more) is too long. */
static GPtrArray *
model_lines (const guint8 *data,
             gsize         len,
             gsize         max_frame,
             gboolean     *out_too_large)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize pos = 0;

  *out_too_large = FALSE;
  while (pos < len)
    {
      const guint8 *nl = memchr (data + pos, '\n', len - pos);
      gsize line_len = nl != NULL ? (gsize) (nl - (data + pos)) : len - pos;

      if (line_len >= max_frame)
        {
          *out_too_large = TRUE;
          break;
        }
      if (nl == NULL)
        break;
      g_ptr_array_add (lines, g_bytes_new (data + pos, line_len));
      pos += line_len + 1;
    }
  return lines;
}


int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  NatterFrameReader reader;
  Run run = { 0 };
  g_autoptr(GPtrArray) expected = NULL;
  NatterFrameReaderResult result = NATTER_FRAME_READER_OK;
  const guint8 *cuts;
  const guint8 *stream;
  gsize max_frame, n_cuts, stream_len, pos = 0, cut = 0;
  gboolean too_large;

  if (size < 4)
    return 0;

  /* Header: max_frame (1..256, small so that TOO_LARGE is reached), the
   * number of cut bytes, the number of control bytes; then the cuts, the
   * controls and the stream. */
  max_frame = (gsize) data[0] + 1;
  n_cuts = MIN ((gsize) data[1] % 16, size - 3);
  run.control_len = MIN ((gsize) data[2] % 8, size - 3 - n_cuts);
  cuts = data + 3;
  run.control = cuts + n_cuts;
  stream = run.control + run.control_len;
  stream_len = size - 3 - n_cuts - run.control_len;

  natter_frame_reader_init (&reader, max_frame);
  run.reader = &reader;
  run.seen = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  /* Push the stream in chunks; after a stop, resume (or push the next
   * chunk, which must hand the kept frames out first). */
  while (pos < stream_len && !run.cleared && result != NATTER_FRAME_READER_TOO_LARGE)
    {
      gsize chunk = n_cuts > 0 ? (gsize) cuts[cut++ % n_cuts] + 1 : stream_len;

      chunk = MIN (chunk, stream_len - pos);
      result = natter_frame_reader_push (&reader, stream + pos, chunk, on_frame, &run);
      pos += chunk;
      if (result == NATTER_FRAME_READER_STOPPED && !run.cleared && (cut & 1))
        result = natter_frame_reader_resume (&reader, on_frame, &run);
    }
  /* Hand out whatever a stop kept back, with a callback that goes on. */
  run.control_len = 0;
  while (result == NATTER_FRAME_READER_STOPPED && !run.cleared)
    result = natter_frame_reader_resume (&reader, on_frame, &run);

  expected = model_lines (stream, stream_len, max_frame, &too_large);
  if (run.cleared)
    {
      g_assert_cmpint (result, ==, NATTER_FRAME_READER_STOPPED);
      g_assert_cmpuint (natter_frame_reader_pending_bytes (&reader), ==, 0);
      g_assert_cmpuint (run.seen->len, <=, expected->len);
    }
  else if (too_large)
    {
      g_assert_cmpint (result, ==, NATTER_FRAME_READER_TOO_LARGE);
      g_assert_cmpuint (run.seen->len, ==, expected->len);
    }
  else
    {
      g_assert_cmpint (result, ==, NATTER_FRAME_READER_OK);
      g_assert_cmpuint (run.seen->len, ==, expected->len);
      g_assert_false (natter_frame_reader_has_frame (&reader));
    }
  for (guint i = 0; i < run.seen->len; i++)
    g_assert_true (g_bytes_equal (run.seen->pdata[i], expected->pdata[i]));

  natter_frame_reader_clear (&reader);
  g_ptr_array_unref (run.seen);
  return 0;
}
