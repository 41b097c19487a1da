#include "ca_window.h"


int64_t
ca_window_bucket(int64_t now_ms, int64_t window_ms)
{
    return now_ms / window_ms;
}


/*
 * The previous bucket's attempts still inside the window, rounded up: a
 * limit of N never lets N + 1 through across a bucket boundary.
 */

static int64_t
ca_window_carried(int64_t previous, int64_t now_ms, int64_t window_ms)
{
    int64_t  remaining;

    remaining = window_ms - now_ms % window_ms;

    return (previous * remaining + window_ms - 1) / window_ms;
}


int
ca_window_allows(int64_t current, int64_t previous, int64_t now_ms,
    int64_t window_ms, int64_t limit)
{
    return current + ca_window_carried(previous, now_ms, window_ms) <= limit;
}


/*
 * The next attempt counts current + 1.  In this bucket it fits once the
 * previous bucket's weight, rounded up, has decayed to the room left:
 * previous * (W - e) / W <= limit - current - 1, i.e.
 * e >= W - room * W / previous.  Otherwise in the next bucket, where it
 * counts 1 and this bucket weighs current * (W - t) / W <= limit - 1.
 */

int64_t
ca_window_retry_ms(int64_t current, int64_t previous, int64_t now_ms,
    int64_t window_ms, int64_t limit)
{
    int64_t  elapsed, room, at, t;

    elapsed = now_ms % window_ms;
    room = limit - current - 1;

    if (room > 0 && previous > 0) {
        at = window_ms - room * window_ms / previous;

        if (at < window_ms) {
            return at > elapsed ? at - elapsed : 1;
        }
    }

    if (limit <= 0) {
        return window_ms - elapsed;
    }

    t = window_ms - (limit - 1) * window_ms / (current > 0 ? current : 1);

    return window_ms - elapsed + (t > 0 ? t : 0);
}


int64_t
ca_backoff_ms(int64_t base_ms, int64_t max_ms, int64_t n)
{
    int64_t  ban;

    ban = base_ms;

    while (--n > 0 && ban < max_ms) {
        ban *= 2;
    }

    return ban < max_ms ? ban : max_ms;
}
