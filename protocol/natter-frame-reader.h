/* natter-frame-reader.h: splits a byte stream into newline-ended frames.
 *
 * Frames that arrive whole inside one pushed chunk are handed out without a
 * copy; only an incomplete tail is kept, in a buffer that exists only while
 * there is such a tail (an idle connection costs no buffer).
 *
 * max_frame counts the '\n': a line of exactly max_frame bytes including its
 * newline is accepted, one byte more is NATTER_FRAME_READER_TOO_LARGE, and
 * that is reported as soon as the buffered tail proves it, without waiting
 * for a newline that may never come.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GByteArray *pending;   /* incomplete or not yet handed-out bytes; NULL when empty */
  gsize       max_frame; /* including the '\n' */
  gboolean    stopped;   /* private: after a stop, pending may hold complete
                          * lines; otherwise it never does, so a slow sender's
                          * tail is never rescanned (no quadratic work) */
  guint       clears;    /* private: counts clear() calls, so push() and
                          * resume() notice one made by their callback */
} NatterFrameReader;

typedef enum {
  NATTER_FRAME_READER_OK,        /* everything pushed was consumed or kept */
  NATTER_FRAME_READER_STOPPED,   /* the callback asked to stop; the rest is kept */
  NATTER_FRAME_READER_TOO_LARGE, /* a line is longer than max_frame */
} NatterFrameReaderResult;

/* Called once per complete line, without its '\n' (a trailing '\r' is kept:
 * it is JSON white space). @line is not NUL-terminated and is valid only
 * during the call. Return FALSE to stop: the bytes after this line stay in
 * the reader until natter_frame_reader_resume().
 *
 * The callback may call natter_frame_reader_clear() (say, when it closes
 * the connection): push() or resume() then returns STOPPED at once, and
 * keeps nothing. It must not push() to or resume() the same reader. */
typedef gboolean (*NatterFrameFunc) (const char *line,
                                     gsize       len,
                                     gpointer    user_data);

void                    natter_frame_reader_init    (NatterFrameReader *self,
                                                     gsize              max_frame);
void                    natter_frame_reader_clear   (NatterFrameReader *self);

NatterFrameReaderResult natter_frame_reader_push    (NatterFrameReader *self,
                                                     const guint8      *data,
                                                     gsize              len,
                                                     NatterFrameFunc    func,
                                                     gpointer           user_data);

/* Hands out the complete lines kept after a stop, as push() would. */
NatterFrameReaderResult natter_frame_reader_resume  (NatterFrameReader *self,
                                                     NatterFrameFunc    func,
                                                     gpointer           user_data);

/* TRUE when a complete line is kept (after a stop). */
gboolean                natter_frame_reader_has_frame (const NatterFrameReader *self);

/* Bytes kept, complete or not. */
gsize                   natter_frame_reader_pending_bytes (const NatterFrameReader *self);

G_END_DECLS
