#define G_LOG_DOMAIN "natter-protocol"

#include "natter-frame-reader.h"

#include <string.h>

/* Invariant between calls: when the last call returned OK, @pending holds at
 * most max_frame - 1 bytes and no '\n' (an incomplete tail). Only after
 * STOPPED may it hold complete lines, which resume() (or the next push())
 * hands out first. After TOO_LARGE the stream cannot be resynchronised, so
 * the reader drops what it kept; the caller closes the connection. */

void
natter_frame_reader_init (NatterFrameReader *self,
                          gsize              max_frame)
{
  g_return_if_fail (self != NULL);
  /* A frame is at least its '\n'. */
  g_warn_if_fail (max_frame >= 1);

  self->pending = NULL;
  self->max_frame = MAX (max_frame, 1);
  self->stopped = FALSE;
  self->clears = 0;
}

void
natter_frame_reader_clear (NatterFrameReader *self)
{
  g_return_if_fail (self != NULL);

  g_clear_pointer (&self->pending, g_byte_array_unref);
  self->stopped = FALSE;
  self->clears++;
}

/* Keeps @len bytes at @data as the (new) pending tail. */
static void
keep_tail (NatterFrameReader *self,
           const guint8      *data,
           gsize              len)
{
  if (len == 0)
    return;

  if (self->pending == NULL)
    self->pending = g_byte_array_sized_new (len);
  g_byte_array_append (self->pending, data, len);
}

static NatterFrameReaderResult
too_large (NatterFrameReader *self)
{
  g_clear_pointer (&self->pending, g_byte_array_unref);
  self->stopped = FALSE;
  return NATTER_FRAME_READER_TOO_LARGE;
}

/* Hands out the complete lines of the pending buffer; what follows a stop,
 * or an incomplete tail, stays pending. */
static NatterFrameReaderResult
drain_pending (NatterFrameReader *self,
               NatterFrameFunc    func,
               gpointer           user_data)
{
  GByteArray *buf = self->pending;
  NatterFrameReaderResult result = NATTER_FRAME_READER_OK;
  guint clears = self->clears;
  gsize pos = 0;

  if (buf == NULL)
    return NATTER_FRAME_READER_OK;

  for (;;)
    {
      const guint8 *line = buf->data + pos;
      gsize left = buf->len - pos;
      const guint8 *nl = memchr (line, '\n', left);
      gsize line_len;

      if (nl == NULL)
        {
          if (left > self->max_frame - 1)
            return too_large (self);
          /* Only a tail is left: back to the cheap state. */
          self->stopped = FALSE;
          break;
        }

      line_len = (gsize) (nl - line);
      if (line_len >= self->max_frame)
        return too_large (self);

      pos += line_len + 1;
      if (!func ((const char *) line, line_len, user_data))
        {
          result = NATTER_FRAME_READER_STOPPED;
          self->stopped = TRUE;
        }

      /* A clear() from the callback freed @buf: touch nothing. */
      if (self->clears != clears)
        return NATTER_FRAME_READER_STOPPED;
      if (result == NATTER_FRAME_READER_STOPPED)
        break;
    }

  /* No clear() happened, so @buf is still ours. */
  if (pos == buf->len)
    {
      g_clear_pointer (&self->pending, g_byte_array_unref);
      self->stopped = FALSE;
    }
  else if (pos > 0)
    g_byte_array_remove_range (buf, 0, (guint) pos);

  return result;
}

NatterFrameReaderResult
natter_frame_reader_push (NatterFrameReader *self,
                          const guint8      *data,
                          gsize              len,
                          NatterFrameFunc    func,
                          gpointer           user_data)
{
  gsize pos = 0;
  guint clears;
  gboolean go_on;

  g_return_val_if_fail (self != NULL, NATTER_FRAME_READER_TOO_LARGE);
  g_return_val_if_fail (data != NULL || len == 0, NATTER_FRAME_READER_TOO_LARGE);
  g_return_val_if_fail (func != NULL, NATTER_FRAME_READER_TOO_LARGE);

  /* After a stop, complete lines are still queued: keep the order by
   * queueing behind them (even an empty push hands them out). */
  if (self->stopped && self->pending != NULL)
    {
      if (len > 0)
        g_byte_array_append (self->pending, data, len);
      return drain_pending (self, func, user_data);
    }

  if (len == 0)
    return NATTER_FRAME_READER_OK;

  clears = self->clears;

  /* An incomplete tail from earlier: complete it with this chunk's first
   * line. This is the only copy a line ever needs. */
  if (self->pending != NULL)
    {
      GByteArray *buf = self->pending;
      const guint8 *nl = memchr (data, '\n', len);
      gsize head;

      if (nl == NULL)
        {
          if (buf->len + len > self->max_frame - 1)
            return too_large (self);
          g_byte_array_append (buf, data, len);
          return NATTER_FRAME_READER_OK;
        }

      head = (gsize) (nl - data);
      if (buf->len + head >= self->max_frame)
        return too_large (self);

      g_byte_array_append (buf, data, head);
      go_on = func ((const char *) buf->data, buf->len, user_data);
      if (self->clears != clears)
        return NATTER_FRAME_READER_STOPPED;
      g_clear_pointer (&self->pending, g_byte_array_unref);
      pos = head + 1;

      if (!go_on)
        {
          keep_tail (self, data + pos, len - pos);
          self->stopped = self->pending != NULL;
          return NATTER_FRAME_READER_STOPPED;
        }
    }

  /* Lines wholly inside this chunk go out without a copy. */
  while (pos < len)
    {
      const guint8 *line = data + pos;
      gsize left = len - pos;
      const guint8 *nl = memchr (line, '\n', left);
      gsize line_len;

      if (nl == NULL)
        {
          if (left > self->max_frame - 1)
            return too_large (self);
          keep_tail (self, line, left);
          return NATTER_FRAME_READER_OK;
        }

      line_len = (gsize) (nl - line);
      if (line_len >= self->max_frame)
        return too_large (self);

      pos += line_len + 1;
      go_on = func ((const char *) line, line_len, user_data);
      if (self->clears != clears)
        return NATTER_FRAME_READER_STOPPED;
      if (!go_on)
        {
          keep_tail (self, data + pos, len - pos);
          self->stopped = self->pending != NULL;
          return NATTER_FRAME_READER_STOPPED;
        }
    }

  return NATTER_FRAME_READER_OK;
}

NatterFrameReaderResult
natter_frame_reader_resume (NatterFrameReader *self,
                            NatterFrameFunc    func,
                            gpointer           user_data)
{
  g_return_val_if_fail (self != NULL, NATTER_FRAME_READER_TOO_LARGE);
  g_return_val_if_fail (func != NULL, NATTER_FRAME_READER_TOO_LARGE);

  return drain_pending (self, func, user_data);
}

gboolean
natter_frame_reader_has_frame (const NatterFrameReader *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->stopped && self->pending != NULL &&
         memchr (self->pending->data, '\n', self->pending->len) != NULL;
}

gsize
natter_frame_reader_pending_bytes (const NatterFrameReader *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->pending != NULL ? self->pending->len : 0;
}
