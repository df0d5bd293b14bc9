/* natterd-rate.c: a ring of one-second counts (natterd-rate.h). */
#define G_LOG_DOMAIN "natterd-rate"

#include "config.h"

#include "natterd-rate.h"

static gint64
now_second (void)
{
  return g_get_monotonic_time () / G_USEC_PER_SEC;
}

void
natterd_rate_add (NatterdRate *self)
{
  gint64 second = now_second ();
  guint slot = (guint) (second % NATTERD_RATE_SECONDS);

  /* A slot last used a minute ago or more starts again. */
  if (self->second[slot] != second)
    {
      self->second[slot] = second;
      self->count[slot] = 0;
    }
  self->count[slot]++;
}

double
natterd_rate_per_second (const NatterdRate *self)
{
  gint64 second = now_second ();
  guint64 total = 0;

  for (guint i = 0; i < NATTERD_RATE_SECONDS; i++)
    if (self->count[i] > 0 && second - self->second[i] < NATTERD_RATE_SECONDS)
      total += self->count[i];
  return (double) total / NATTERD_RATE_SECONDS;
}
