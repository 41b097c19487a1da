#include "ca_window.h"


static int64_t ca_window_muldiv(int64_t a, int64_t b, int64_t d, int up);


int64_t
ca_window_bucket(int64_t now_ms, int64_t window_ms)
{
    return now_ms / window_ms;
}


/*
 * a * b / d, rounded down or up, for a, b >= 0, d > 0 and a <= d or
 * b <= d (so the result fits).  The counters come from Redis and grow with
 * a flood, the windows are configured: their product may not fit in 64
 * bits, so it is built bit by bit as quotient and remainder of d, every step
 * below 2^64.
 */

static int64_t
ca_window_muldiv(int64_t a, int64_t b, int64_t d, int up)
{
    int       bit;
    uint64_t  q, r, qa, ra, ud;

    if (a == 0 || b == 0) {
        return 0;
    }

    if (a <= INT64_MAX / b) {
        q = (uint64_t) (a * b / d);
        return (int64_t) q + (up && (a * b) % d != 0);
    }

    ud = (uint64_t) d;
    qa = (uint64_t) a / ud;
    ra = (uint64_t) a % ud;
    q = 0;
    r = 0;

    for (bit = 62; bit >= 0; bit--) {
        q <<= 1;
        r <<= 1;                            /* r < d < 2^63 */

        if (r >= ud) {
            r -= ud;
            q++;
        }

        if ((uint64_t) b & ((uint64_t) 1 << bit)) {
            q += qa;
            r += ra;

            if (r >= ud) {
                r -= ud;
                q++;
            }
        }
    }

    return (int64_t) q + (up && r != 0);
}


/*
 * The previous bucket's attempts still inside the window, rounded up: a
 * limit of N never lets N + 1 through across a bucket boundary.
 */

static int64_t
ca_window_carried(int64_t previous, int64_t now_ms, int64_t window_ms)
{
    int64_t  remaining;

    if (previous <= 0) {
        return 0;
    }

    remaining = window_ms - now_ms % window_ms;

    return ca_window_muldiv(previous, remaining, window_ms, 1);
}


int
ca_window_allows(int64_t current, int64_t previous, int64_t now_ms,
    int64_t window_ms, int64_t limit)
{
    if (current < 0) {
        current = 0;
    }

    /* current + carried <= limit, without the sum */

    return current <= limit
           && ca_window_carried(previous, now_ms, window_ms)
              <= limit - current;
}


/*
 * The next attempt counts current + 1.  In this bucket it fits once the
 * previous bucket's weight, rounded up, has decayed to the room left:
 * previous * (W - e) / W <= limit - current - 1, i.e.
 * e >= W - room * W / previous.  Otherwise in the next bucket, where it
 * counts 1 and this bucket weighs current * (W - t) / W <= limit - 1.
 * Each product is taken only where its result is below W; the sum of the
 * two waits saturates.
 */

int64_t
ca_window_retry_ms(int64_t current, int64_t previous, int64_t now_ms,
    int64_t window_ms, int64_t limit)
{
    int64_t  elapsed, room, at, t, rest;

    elapsed = now_ms % window_ms;
    rest = window_ms - elapsed;

    if (current < 0) {
        current = 0;
    }

    room = (current < limit) ? limit - current - 1 : 0;

    if (room > 0 && previous > room) {
        at = window_ms - ca_window_muldiv(room, window_ms, previous, 0);

        return at > elapsed ? at - elapsed : 1;
    }

    if (room > 0 && previous > 0) {
        /* the previous bucket already fits: only a race refused this */
        return 1;
    }

    if (limit <= 0) {
        return rest;
    }

    if (limit - 1 >= current) {
        return rest;
    }

    t = window_ms - ca_window_muldiv(limit - 1, window_ms, current, 0);

    return (t > INT64_MAX - rest) ? INT64_MAX : rest + t;
}


int64_t
ca_backoff_ms(int64_t base_ms, int64_t max_ms, int64_t n)
{
    int64_t  ban;

    if (base_ms <= 0) {
        return 0;
    }

    ban = base_ms;

    while (--n > 0 && ban < max_ms) {

        if (ban > max_ms / 2) {
            return max_ms;
        }

        ban *= 2;
    }

    return ban < max_ms ? ban : max_ms;
}
