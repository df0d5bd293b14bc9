#define G_LOG_DOMAIN "natterd-token-bucket"

#include "natterd-token-bucket.h"

static void
refill (NatterdTokenBucket *bucket,
        double              capacity,
        double              per_second,
        gint64              now_us)
{
  if (!bucket->started)
    {
      bucket->started = TRUE;
      bucket->tokens = capacity;
      bucket->updated_us = now_us;
      return;
    }
  if (now_us > bucket->updated_us)
    {
      bucket->tokens += (double) (now_us - bucket->updated_us) * per_second / G_USEC_PER_SEC;
      if (bucket->tokens > capacity)
        bucket->tokens = capacity;
      bucket->updated_us = now_us;
    }
}

gint64
natterd_token_bucket_peek (NatterdTokenBucket *bucket,
                           double              capacity,
                           double              per_second,
                           gint64              now_us)
{
  gint64 wait;

  if (capacity <= 0)
    return 0;
  refill (bucket, capacity, per_second, now_us);
  if (bucket->tokens >= 1.0)
    return 0;
  if (per_second <= 0)
    return G_MAXINT32; /* never refills: no float-to-integer overflow */
  wait = (gint64) ((1.0 - bucket->tokens) * 1000.0 / per_second) + 1;
  return MAX (wait, 1);
}

gint64
natterd_token_bucket_take (NatterdTokenBucket *bucket,
                           double              capacity,
                           double              per_second,
                           gint64              now_us)
{
  gint64 wait = natterd_token_bucket_peek (bucket, capacity, per_second, now_us);

  if (wait == 0 && capacity > 0)
    bucket->tokens -= 1.0;
  return wait;
}

gboolean
natterd_token_bucket_is_full (NatterdTokenBucket *bucket,
                              double              capacity,
                              double              per_second,
                              gint64              now_us)
{
  refill (bucket, capacity, per_second, now_us);
  return bucket->tokens >= capacity;
}
