/* natterd-token-bucket.h: the one token bucket of natterd.
 *
 * A bucket holds up to @capacity tokens and gains @per_second of them a
 * second; every request (a frame, a send, a login attempt) takes one. It
 * starts full. Used for a connection's frames_per_second, a user's
 * messages_per_minute and the login and registration limits.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  double   tokens;
  gint64   updated_us;
  gboolean started;
} NatterdTokenBucket;

/* 0 when a token was taken; else the milliseconds until one is available
 * (nothing is taken then). A capacity of 0 means no limit; a bucket that
 * never refills (@per_second 0) answers G_MAXINT32 once empty. @now_us is any
 * clock in microseconds, the same one on every call for one bucket. */
gint64 natterd_token_bucket_take (NatterdTokenBucket *bucket,
                                  double              capacity,
                                  double              per_second,
                                  gint64              now_us);
/* Like take, but only looks. */
gint64 natterd_token_bucket_peek (NatterdTokenBucket *bucket,
                                  double              capacity,
                                  double              per_second,
                                  gint64              now_us);
/* TRUE when the bucket is full (then it is the same as no bucket at all,
 * and a table of buckets may forget it). */
gboolean natterd_token_bucket_is_full (NatterdTokenBucket *bucket,
                                       double              capacity,
                                       double              per_second,
                                       gint64              now_us);

G_END_DECLS
