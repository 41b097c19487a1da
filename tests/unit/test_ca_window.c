#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ca_window.h"

#define MIN  60000


static void
test_bucket(void **state)
{
    assert_int_equal(ca_window_bucket(0, MIN), 0);
    assert_int_equal(ca_window_bucket(MIN - 1, MIN), 0);
    assert_int_equal(ca_window_bucket(MIN, MIN), 1);
}


static void
test_allows_up_to_limit_in_one_bucket(void **state)
{
    assert_true(ca_window_allows(5, 0, 10, MIN, 5));
    assert_false(ca_window_allows(6, 0, 10, MIN, 5));
}


static void
test_previous_bucket_weighs_by_overlap(void **state)
{
    /* at the start of a bucket the previous one counts whole */
    assert_false(ca_window_allows(1, 10, 10 * MIN, MIN, 10));
    assert_true(ca_window_allows(1, 9, 10 * MIN, MIN, 10));

    /* half-way it counts half */
    assert_true(ca_window_allows(5, 10, 10 * MIN + MIN / 2, MIN, 10));
    assert_false(ca_window_allows(6, 10, 10 * MIN + MIN / 2, MIN, 10));

    /* at the very end almost nothing, but rounded up: a limit of 10 never
     * lets 11 through across the boundary */
    assert_true(ca_window_allows(9, 10, 11 * MIN - 1, MIN, 10));
    assert_false(ca_window_allows(10, 10, 11 * MIN - 1, MIN, 10));
}


static void
test_retry_waits_for_next_bucket_when_full(void **state)
{
    int64_t  wait;

    /* 6 of 5 at 10 s into the bucket: the rest of it, then 1/6 of the next */
    wait = ca_window_retry_ms(6, 0, 10000, MIN, 5);
    assert_int_equal(wait, 50000 + MIN - 4 * MIN / 6);
    assert_true(ca_window_allows(1, 6, 10000 + wait, MIN, 5));
    assert_false(ca_window_allows(1, 6, 10000 + wait - 1000, MIN, 5));
}


static void
test_retry_within_bucket_when_previous_decays(void **state)
{
    int64_t  now, wait;

    now = 10 * MIN;                     /* previous = 10, limit 10 */
    assert_false(ca_window_allows(1, 10, now, MIN, 10));

    wait = ca_window_retry_ms(1, 10, now, MIN, 10);
    assert_true(wait > 0 && wait < MIN);
    assert_true(ca_window_allows(2, 10, now + wait, MIN, 10));
    assert_false(ca_window_allows(2, 10, now + wait - 1000, MIN, 10));
}


static void
test_retry_is_at_least_one_ms(void **state)
{
    assert_true(ca_window_retry_ms(1, 1, 10 * MIN + MIN - 1, MIN, 1) >= 1);
}


static void
test_backoff_doubles_and_caps(void **state)
{
    assert_int_equal(ca_backoff_ms(300000, 86400000, 1), 300000);
    assert_int_equal(ca_backoff_ms(300000, 86400000, 2), 600000);
    assert_int_equal(ca_backoff_ms(300000, 86400000, 3), 1200000);
    assert_int_equal(ca_backoff_ms(300000, 86400000, 40), 86400000);
    assert_int_equal(ca_backoff_ms(300000, 100000, 1), 100000);
}


#define DAY   ((int64_t) 24 * 60 * MIN)
#define YEAR  (365 * DAY)


/*
 * A flood can push the previous bucket's count high (refused attempts
 * count too): its weight must still be computed exactly, never wrap.
 */

static void
test_huge_previous_count_in_a_long_window_is_refused(void **state)
{
    int64_t  now;

    now = 55 * YEAR + 1;
    assert_false(ca_window_allows(1, 300000000, now, YEAR, 1000));

    /* 30-day window, past 3.6e9 attempts */
    assert_false(ca_window_allows(1, 4000000000LL, 40 * 30 * DAY + 1,
                                  30 * DAY, 1000));
    assert_false(ca_window_allows(1, INT64_MAX, 10 * YEAR + 1, YEAR,
                                  1000));

    /* the weight is still exact: 1e12 half-way, and at the last ms */
    assert_false(ca_window_allows(1, 1000000000000LL, YEAR + YEAR / 2,
                                  YEAR, 500000000000LL));
    assert_true(ca_window_allows(1, 1000000000000LL, YEAR + YEAR / 2,
                                 YEAR, 500000000001LL));
    assert_false(ca_window_allows(1, 1000000000000LL, 2 * YEAR - 1, YEAR,
                                  32));
    assert_true(ca_window_allows(1, 1000000000000LL, 2 * YEAR - 1, YEAR,
                                 33));
}


static void
test_huge_current_count_or_limit(void **state)
{
    assert_false(ca_window_allows(INT64_MAX, INT64_MAX, YEAR, YEAR,
                                  INT64_MAX - 1));
    assert_true(ca_window_allows(INT64_MAX, 0, YEAR, YEAR, INT64_MAX));
    assert_false(ca_window_allows(INT64_MAX, 1, YEAR, YEAR, INT64_MAX));
}


static void
test_retry_with_extreme_counts_and_windows(void **state)
{
    int64_t  wait;

    /* a flooded previous bucket weighs until the next bucket begins */
    wait = ca_window_retry_ms(1, INT64_MAX, 10 * YEAR + 1, YEAR, 1000);
    assert_int_equal(wait, YEAR - 1);
    assert_true(ca_window_allows(1, 1, 10 * YEAR + 1 + wait, YEAR, 1000));

    wait = ca_window_retry_ms(1, 4000000000LL, 40 * 30 * DAY + 1,
                              30 * DAY, 1000);
    assert_true(wait >= 1 && wait <= 30 * DAY);

    /* a flooded current bucket: the rest of it, then nearly all the next */
    wait = ca_window_retry_ms(INT64_MAX, 0, 10 * YEAR, YEAR, 1000);
    assert_true(wait > YEAR && wait <= 2 * YEAR);

    /* a huge limit reached in a huge window */
    wait = ca_window_retry_ms(INT64_MAX / 2 + 2, INT64_MAX / 2,
                              INT64_MAX / 2, INT64_MAX / 4, INT64_MAX / 2);
    assert_true(wait >= 1);

    wait = ca_window_retry_ms(INT64_MAX, INT64_MAX, INT64_MAX - 1,
                              INT64_MAX, INT64_MAX);
    assert_true(wait >= 1);
}


static void
test_backoff_with_extreme_bans(void **state)
{
    /* doubling must stop at the cap, never wrap past it */
    assert_int_equal(ca_backoff_ms(1000, INT64_MAX, INT64_MAX), INT64_MAX);
    assert_int_equal(ca_backoff_ms(INT64_MAX / 2 + 1, INT64_MAX, 2),
                     INT64_MAX);
    assert_int_equal(ca_backoff_ms(3 * YEAR, 100 * YEAR, 1000),
                     100 * YEAR);
    assert_int_equal(ca_backoff_ms(INT64_MAX, INT64_MAX, 1), INT64_MAX);
    assert_int_equal(ca_backoff_ms(1000, 5000, INT64_MAX), 5000);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_allows_up_to_limit_in_one_bucket),
        cmocka_unit_test(test_previous_bucket_weighs_by_overlap),
        cmocka_unit_test(test_retry_waits_for_next_bucket_when_full),
        cmocka_unit_test(test_retry_within_bucket_when_previous_decays),
        cmocka_unit_test(test_retry_is_at_least_one_ms),
        cmocka_unit_test(test_backoff_doubles_and_caps),
        cmocka_unit_test(test_huge_previous_count_in_a_long_window_is_refused),
        cmocka_unit_test(test_huge_current_count_or_limit),
        cmocka_unit_test(test_retry_with_extreme_counts_and_windows),
        cmocka_unit_test(test_backoff_with_extreme_bans),
    };

    return cmocka_run_group_tests_name("ca_window", tests, NULL, NULL);
}
