/* natterd-rate.h: how many things happened per second over the last
 * minute (natterctl status: messages stored), in a ring of one-second
 * counts: a fixed 1 KiB, and adding is two stores.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NATTERD_RATE_SECONDS 60

typedef struct {
  gint64 second[NATTERD_RATE_SECONDS]; /* which second (monotonic) each slot counts */
  guint  count[NATTERD_RATE_SECONDS];
} NatterdRate;

/* One more, now. */
void   natterd_rate_add            (NatterdRate *self);
/* The mean per second over the NATTERD_RATE_SECONDS seconds before now. */
double natterd_rate_per_second     (const NatterdRate *self);

G_END_DECLS
