/* natterd-output-queue.h: the bytes a connection has yet to write.
 *
 * Small frames are copied into chunks, as Redis does with its reply buffer:
 * copying a few hundred bytes into memory that is already in cache costs
 * less than any per-frame bookkeeping, and a writev then carries one or two
 * vectors per connection instead of one per frame. Large frames (history
 * pages, the ack of a long message) are kept by reference, so a frame sent
 * to a thousand connections is never copied a thousand times when it is big.
 *
 * An empty queue owns no memory.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _NatterdOutputItem NatterdOutputItem;

typedef struct {
  NatterdOutputItem *items;
  guint              head;      /* first item not yet fully written */
  guint              tail;      /* one past the last item */
  guint              capacity;
  gsize              head_sent; /* bytes of items[head] already written */
  gsize              size;      /* bytes still to write */
} NatterdOutputQueue;

/* Frames up to this size are copied; larger ones are referenced. */
#define NATTERD_OUTPUT_COPY_MAX   1024
#define NATTERD_OUTPUT_CHUNK_SIZE (16 * 1024)

void     natterd_output_queue_push        (NatterdOutputQueue *self,
                                           GBytes             *frame);
/* Fills up to @max vectors with the bytes to write next; returns how many. */
guint    natterd_output_queue_get_vectors (NatterdOutputQueue *self,
                                           GOutputVector      *vectors,
                                           guint               max);
/* Drops @written bytes from the front (what a write took). */
void     natterd_output_queue_consume     (NatterdOutputQueue *self,
                                           gsize               written);
void     natterd_output_queue_clear       (NatterdOutputQueue *self);

static inline gsize
natterd_output_queue_get_size (const NatterdOutputQueue *self)
{
  return self->size;
}

G_END_DECLS
