#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ca_scache.h"


/* Keys shaped like the module's, built here: the cache only sees bytes. */

static size_t
skey(char *buf, int n)
{
    return (size_t) snprintf(buf, CA_SCACHE_KEY_MAX,
                             "ca:magic:sess:%064x", n);
}


static size_t
ukey(char *buf, int user)
{
    return (size_t) snprintf(buf, CA_SCACHE_KEY_MAX,
                             "ca:{magic:1}:user:%d", user);
}


static ca_scache_session_t
session_of(int user, int64_t refreshed)
{
    ca_scache_session_t  s;

    memset(&s, 0, sizeof(s));
    strcpy(s.account, "1");
    snprintf(s.user, sizeof(s.user), "%d", user);
    strcpy(s.generation, "0");
    s.expires = 1000000;
    s.refreshed = refreshed;
    s.deadline = 900000;

    return s;
}


static ca_scache_user_t
user_of(const char *perms)
{
    ca_scache_user_t  u;

    memset(&u, 0, sizeof(u));
    u.active = 1;
    u.perms_len = strlen(perms);
    memcpy(u.perms, perms, u.perms_len);
    strcpy(u.generation, "0");

    return u;
}


/* Reads session n of user and stores what it read; 1 if stored. */

static int
cache_read(ca_scache_t *c, int n, int user, const char *perms)
{
    char                 sk[CA_SCACHE_KEY_MAX], uk[CA_SCACHE_KEY_MAX];
    size_t               sl, ul;
    ca_scache_ticket_t   t;
    ca_scache_user_t     u;
    ca_scache_session_t  s;

    sl = skey(sk, n);
    ul = ukey(uk, user);

    if (ca_scache_begin(c, sk, sl, uk, ul, &t) != 0) {
        ca_scache_abort(c, &t);
        return 0;
    }

    s = session_of(user, n);
    u = user_of(perms);

    return ca_scache_fill(c, &t, &s, &u);
}


static int
cached(ca_scache_t *c, int n)
{
    char                        sk[CA_SCACHE_KEY_MAX];
    const ca_scache_user_t     *u;
    const ca_scache_session_t  *s;

    return ca_scache_get(c, sk, skey(sk, n), &s, &u);
}


static void
test_hit_returns_what_was_read(void **state)
{
    char                        sk[CA_SCACHE_KEY_MAX];
    ca_scache_t                *c;
    const ca_scache_user_t     *u;
    const ca_scache_session_t  *s;

    c = ca_scache_create(4);
    assert_non_null(c);

    assert_false(cached(c, 1));
    assert_true(cache_read(c, 1, 7, "billing,orders"));
    assert_true(ca_scache_get(c, sk, skey(sk, 1), &s, &u));
    assert_string_equal(s->user, "7");
    assert_int_equal(s->refreshed, 1);
    assert_int_equal(u->perms_len, strlen("billing,orders"));
    assert_memory_equal(u->perms, "billing,orders", u->perms_len);
    assert_int_equal(ca_scache_entries(c), 1);

    ca_scache_destroy(c);
}


static void
test_lru_keeps_the_recently_used_within_the_bound(void **state)
{
    int           i;
    uint32_t      sessions, users;
    ca_scache_t  *c;

    c = ca_scache_create(3);

    assert_true(cache_read(c, 1, 1, "all"));
    assert_true(cache_read(c, 2, 2, "all"));
    assert_true(cache_read(c, 3, 3, "all"));

    /* 1 used again: 2 is now the least recently used */
    assert_true(cached(c, 1));
    assert_true(cache_read(c, 4, 4, "all"));

    assert_true(cached(c, 1));
    assert_false(cached(c, 2));
    assert_true(cached(c, 3));
    assert_true(cached(c, 4));
    assert_int_equal(ca_scache_entries(c), 3);

    for (i = 10; i < 1000; i++) {
        assert_true(cache_read(c, i, i, "all"));
        ca_scache_usage(c, &sessions, &users);
        assert_true(sessions <= 3);
        assert_true(users <= 3);
        assert_true(ca_scache_entries(c) <= 3);
    }

    /* the evicted sessions let their users go */
    ca_scache_usage(c, &sessions, &users);
    assert_int_equal(sessions, 3);
    assert_int_equal(users, 3);

    ca_scache_destroy(c);
}


static void
test_user_invalidation_drops_all_its_sessions(void **state)
{
    char          uk[CA_SCACHE_KEY_MAX];
    ca_scache_t  *c;

    c = ca_scache_create(16);

    assert_true(cache_read(c, 1, 5, "all"));
    assert_true(cache_read(c, 2, 5, "all"));
    assert_true(cache_read(c, 3, 5, "all"));
    assert_true(cache_read(c, 4, 6, "all"));

    assert_true(ca_scache_invalidate(c, uk, ukey(uk, 5)));

    assert_false(cached(c, 1));
    assert_false(cached(c, 2));
    assert_false(cached(c, 3));
    assert_true(cached(c, 4));

    /*
     * One of them read again, with the user's new permissions: the user
     * record is shared, so the others hit again too, with the user as it
     * is now (the caller compares the session's g with the user's sgen).
     */
    assert_true(cache_read(c, 2, 5, "billing"));
    assert_true(cached(c, 2));
    {
        char                        sk[CA_SCACHE_KEY_MAX];
        const ca_scache_user_t     *u;
        const ca_scache_session_t  *s;

        assert_true(ca_scache_get(c, sk, skey(sk, 1), &s, &u));
        assert_memory_equal(u->perms, "billing", 7);
        assert_int_equal(u->perms_len, 7);
    }

    ca_scache_destroy(c);
}


static void
test_session_invalidation_drops_only_it(void **state)
{
    char          sk[CA_SCACHE_KEY_MAX];
    ca_scache_t  *c;

    c = ca_scache_create(16);

    assert_true(cache_read(c, 1, 5, "all"));
    assert_true(cache_read(c, 2, 5, "all"));

    assert_true(ca_scache_invalidate(c, sk, skey(sk, 1)));
    assert_false(ca_scache_invalidate(c, sk, skey(sk, 1)));
    assert_false(cached(c, 1));
    assert_true(cached(c, 2));
    assert_int_equal(ca_scache_entries(c), 1);

    /* a key the cache never held */
    assert_false(ca_scache_invalidate(c, "ca:magic:outbox", 15));

    ca_scache_destroy(c);
}


/* The race: Redis answered the read, then the key changed, and the
 * invalidation arrives before the reply. */

static void
test_invalidation_during_a_read_is_not_cached(void **state)
{
    char                 sk[CA_SCACHE_KEY_MAX], uk[CA_SCACHE_KEY_MAX];
    size_t               sl, ul;
    ca_scache_t         *c;
    ca_scache_user_t     u;
    ca_scache_ticket_t   t;
    ca_scache_session_t  s;

    c = ca_scache_create(16);
    sl = skey(sk, 1);
    ul = ukey(uk, 5);
    s = session_of(5, 1);
    u = user_of("all");

    /* the session key */
    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &t), 0);
    assert_false(cached(c, 1));
    assert_true(ca_scache_invalidate(c, sk, sl));
    assert_false(ca_scache_fill(c, &t, &s, &u));
    assert_false(cached(c, 1));

    /* the user key */
    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &t), 0);
    assert_true(ca_scache_invalidate(c, uk, ul));
    assert_false(ca_scache_fill(c, &t, &s, &u));
    assert_false(cached(c, 1));

    /* a flush */
    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &t), 0);
    ca_scache_flush(c);
    assert_false(ca_scache_fill(c, &t, &s, &u));
    assert_false(cached(c, 1));

    /* nothing in between: cached, and no placeholder is left behind */
    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &t), 0);
    assert_true(ca_scache_fill(c, &t, &s, &u));
    assert_true(cached(c, 1));

    ca_scache_destroy(c);
}


/* Two reads of one session: one sent before the invalidation was heard,
 * one after.  Only the later one may be stored. */

static void
test_a_read_begun_after_the_invalidation_is_cached(void **state)
{
    char                 sk[CA_SCACHE_KEY_MAX], uk[CA_SCACHE_KEY_MAX];
    size_t               sl, ul;
    ca_scache_t         *c;
    ca_scache_user_t     u;
    ca_scache_ticket_t   early, late;
    ca_scache_session_t  s;

    c = ca_scache_create(16);
    sl = skey(sk, 1);
    ul = ukey(uk, 5);
    s = session_of(5, 1);
    u = user_of("all");

    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &early), 0);
    assert_true(ca_scache_invalidate(c, uk, ul));
    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &late), 0);

    assert_false(ca_scache_fill(c, &early, &s, &u));
    assert_true(ca_scache_fill(c, &late, &s, &u));
    assert_true(cached(c, 1));

    /* and the other way round: the late reply first, the stale one
     * after must not overwrite it */
    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &early), 0);
    assert_true(ca_scache_invalidate(c, sk, sl));
    assert_int_equal(ca_scache_begin(c, sk, sl, uk, ul, &late), 0);
    s.refreshed = 2;
    assert_true(ca_scache_fill(c, &late, &s, &u));
    s.refreshed = 1;
    assert_false(ca_scache_fill(c, &early, &s, &u));

    {
        const ca_scache_user_t     *cu;
        const ca_scache_session_t  *cs;

        assert_true(ca_scache_get(c, sk, sl, &cs, &cu));
        assert_int_equal(cs->refreshed, 2);
    }

    ca_scache_destroy(c);
}


static void
test_abandoned_reads_leave_nothing(void **state)
{
    int                  i;
    char                 sk[CA_SCACHE_KEY_MAX], uk[CA_SCACHE_KEY_MAX];
    uint32_t             sessions, users;
    ca_scache_t         *c;
    ca_scache_ticket_t   t;

    c = ca_scache_create(8);

    for (i = 0; i < 100; i++) {
        assert_int_equal(ca_scache_begin(c, sk, skey(sk, i), uk,
                                         ukey(uk, i), &t), 0);
        ca_scache_abort(c, &t);
        /* twice: a ticket is spent once */
        ca_scache_abort(c, &t);
    }

    ca_scache_usage(c, &sessions, &users);
    assert_int_equal(sessions, 0);
    assert_int_equal(users, 0);
    assert_int_equal(ca_scache_entries(c), 0);

    ca_scache_destroy(c);
}


/* More reads in flight than room: the oldest lose their place, none is
 * stored in another's slot. */

static void
test_evicted_placeholder_is_not_filled(void **state)
{
    int                  i;
    char                 sk[CA_SCACHE_KEY_MAX], uk[CA_SCACHE_KEY_MAX];
    ca_scache_t         *c;
    ca_scache_user_t     u;
    ca_scache_ticket_t   t[6];
    ca_scache_session_t  s;

    c = ca_scache_create(4);
    u = user_of("all");

    for (i = 0; i < 4; i++) {
        assert_int_equal(ca_scache_begin(c, sk, skey(sk, i), uk,
                                         ukey(uk, 1), &t[i]), 0);
    }

    /* two more: sessions 0 and 1 make room */
    assert_int_equal(ca_scache_begin(c, sk, skey(sk, 4), uk, ukey(uk, 1),
                                     &t[4]), 0);
    assert_int_equal(ca_scache_begin(c, sk, skey(sk, 5), uk, ukey(uk, 1),
                                     &t[5]), 0);

    for (i = 0; i < 6; i++) {
        s = session_of(1, i);
        assert_int_equal(ca_scache_fill(c, &t[i], &s, &u), i >= 2);
    }

    for (i = 0; i < 6; i++) {
        const ca_scache_user_t     *cu;
        const ca_scache_session_t  *cs;

        assert_int_equal(ca_scache_get(c, sk, skey(sk, i), &cs, &cu),
                         i >= 2);

        if (i >= 2) {
            assert_int_equal(cs->refreshed, i);
        }
    }

    ca_scache_destroy(c);
}


static void
test_flush_empties_and_caching_resumes(void **state)
{
    int           i;
    uint32_t      sessions, users;
    ca_scache_t  *c;

    c = ca_scache_create(64);

    for (i = 0; i < 50; i++) {
        assert_true(cache_read(c, i, i % 7, "all"));
    }

    assert_int_equal(ca_scache_entries(c), 50);
    ca_scache_flush(c);
    assert_int_equal(ca_scache_entries(c), 0);
    ca_scache_usage(c, &sessions, &users);
    assert_int_equal(sessions + users, 0);

    for (i = 0; i < 50; i++) {
        assert_false(cached(c, i));
    }

    for (i = 0; i < 200; i++) {
        assert_true(cache_read(c, i, i % 7, "all"));
    }

    assert_int_equal(ca_scache_entries(c), 64);

    ca_scache_destroy(c);
}


static void
test_limits(void **state)
{
    char                 long_key[CA_SCACHE_KEY_MAX + 2];
    char                 uk[CA_SCACHE_KEY_MAX];
    char                 perms[CA_SCACHE_PERMS_MAX + 1];
    ca_scache_t         *c;
    ca_scache_ticket_t   t;

    assert_null(ca_scache_create(0));
    assert_null(ca_scache_create(CA_SCACHE_CAPACITY_MAX + 1));

    c = ca_scache_create(2);

    memset(long_key, 'k', sizeof(long_key));
    assert_int_equal(ca_scache_begin(c, long_key, sizeof(long_key), uk,
                                     ukey(uk, 1), &t), -1);
    ca_scache_abort(c, &t);
    assert_false(ca_scache_invalidate(c, long_key, sizeof(long_key)));

    /* permissions too long to keep are read every time */
    memset(perms, 'p', sizeof(perms) - 1);
    perms[sizeof(perms) - 1] = '\0';
    {
        char                 sk[CA_SCACHE_KEY_MAX];
        ca_scache_user_t     u;
        ca_scache_session_t  s;

        assert_int_equal(ca_scache_begin(c, sk, skey(sk, 1), uk, ukey(uk, 1),
                                         &t), 0);
        s = session_of(1, 1);
        memset(&u, 0, sizeof(u));
        u.perms_len = CA_SCACHE_PERMS_MAX;
        assert_false(ca_scache_fill(c, &t, &s, &u));
        assert_false(cached(c, 1));
    }

    ca_scache_destroy(c);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_returns_what_was_read),
        cmocka_unit_test(test_lru_keeps_the_recently_used_within_the_bound),
        cmocka_unit_test(test_user_invalidation_drops_all_its_sessions),
        cmocka_unit_test(test_session_invalidation_drops_only_it),
        cmocka_unit_test(test_invalidation_during_a_read_is_not_cached),
        cmocka_unit_test(test_a_read_begun_after_the_invalidation_is_cached),
        cmocka_unit_test(test_abandoned_reads_leave_nothing),
        cmocka_unit_test(test_evicted_placeholder_is_not_filled),
        cmocka_unit_test(test_flush_empties_and_caching_resumes),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests_name("ca_scache", tests, NULL, NULL);
}
