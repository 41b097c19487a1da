/*
 * Sliding-window rate limits and lockout back-off, as arithmetic only: the
 * counters live in Redis (one INCR per attempt, exact under concurrency),
 * this decides what they mean.  nginx-free.
 *
 * A window of W ms is approximated by two fixed buckets: the attempts of the
 * current bucket plus the previous bucket's, weighted by how much of it the
 * sliding window still covers (Cloudflare's sliding window counter).
 *
 * Windows are > 0 and times >= 0; counts may be anything Redis holds (a
 * flood makes them huge, negative ones count as 0): every product is exact
 * and no sum overflows, waits saturate at INT64_MAX.
 */

#ifndef CA_WINDOW_H
#define CA_WINDOW_H

#include <stdint.h>

/* The bucket a time falls in. */
int64_t ca_window_bucket(int64_t now_ms, int64_t window_ms);

/*
 * Whether an attempt is allowed: current counts the attempts of this bucket
 * including this one, previous those of the bucket before.
 */
int ca_window_allows(int64_t current, int64_t previous, int64_t now_ms,
    int64_t window_ms, int64_t limit);

/*
 * When a refused attempt could next be allowed, in ms from now (at least 1),
 * assuming no other attempt is made meanwhile.
 */
int64_t ca_window_retry_ms(int64_t current, int64_t previous, int64_t now_ms,
    int64_t window_ms, int64_t limit);

/* The length of the n-th ban (n >= 1): base doubled each time, capped. */
int64_t ca_backoff_ms(int64_t base_ms, int64_t max_ms, int64_t n);

#endif /* CA_WINDOW_H */
