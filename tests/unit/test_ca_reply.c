/*
 * ca_reply: what the module makes of Redis replies.  The replies are built
 * by hiredis's own reader from RESP text, as the module receives them.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_reply.h"


#define S(s)  s, sizeof(s) - 1


static redisReply *
resp_n(const char *text, size_t len)
{
    void         *reply;
    redisReader  *reader;

    reader = redisReaderCreate();
    assert_non_null(reader);

    assert_int_equal(redisReaderFeed(reader, text, len), REDIS_OK);
    assert_int_equal(redisReaderGetReply(reader, &reply), REDIS_OK);
    assert_non_null(reply);

    redisReaderFree(reader);

    return reply;
}


static redisReply *
resp(const char *text)
{
    return resp_n(text, strlen(text));
}


static void
test_parse_int64_is_exact(void **state)
{
    int64_t  n;

    assert_int_equal(ca_reply_parse_int64(S("0"), &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ca_reply_parse_int64(S("1764547200000"), &n), 0);
    assert_int_equal(n, 1764547200000LL);
    assert_int_equal(ca_reply_parse_int64(S("007"), &n), 0);
    assert_int_equal(n, 7);
    assert_int_equal(ca_reply_parse_int64(S("9223372036854775807"), &n), 0);
    assert_int_equal(n, INT64_MAX);
}


static void
test_parse_int64_refuses_what_module_never_writes(void **state)
{
    int64_t  n;

    n = 42;
    assert_int_equal(ca_reply_parse_int64(S(""), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S("-1"), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S("+1"), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S(" 1"), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S("1 "), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S("1e3"), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S("0x10"), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S("9223372036854775808"), &n), -1);
    assert_int_equal(ca_reply_parse_int64(S("99999999999999999999"), &n),
                     -1);
    assert_int_equal(ca_reply_parse_int64("12\0" "3", 4, &n), -1);
    assert_int_equal(n, 42);
}


static void
test_str(void **state)
{
    size_t       len;
    const char  *s;
    redisReply  *r;

    r = resp("$5\r\n12:34\r\n");
    assert_int_equal(ca_reply_str(r, &s, &len), CA_REPLY_OK);
    assert_ptr_equal(s, r->str);
    assert_int_equal(len, 5);
    freeReplyObject(r);

    r = resp("$0\r\n\r\n");
    assert_int_equal(ca_reply_str(r, &s, &len), CA_REPLY_OK);
    assert_int_equal(len, 0);
    freeReplyObject(r);

    r = resp("$-1\r\n");
    assert_int_equal(ca_reply_str(r, &s, &len), CA_REPLY_NIL);
    assert_null(s);
    assert_int_equal(len, 0);
    freeReplyObject(r);

    /* a status, an error, an integer or an array is no value */
    r = resp("+OK\r\n");
    assert_int_equal(ca_reply_str(r, &s, &len), CA_REPLY_BAD);
    assert_null(s);
    freeReplyObject(r);

    r = resp("-WRONGTYPE Operation against a key\r\n");
    assert_int_equal(ca_reply_str(r, &s, &len), CA_REPLY_BAD);
    freeReplyObject(r);

    r = resp(":12\r\n");
    assert_int_equal(ca_reply_str(r, &s, &len), CA_REPLY_BAD);
    freeReplyObject(r);

    r = resp("*1\r\n$1\r\na\r\n");
    assert_int_equal(ca_reply_str(r, &s, &len), CA_REPLY_BAD);
    freeReplyObject(r);

    assert_int_equal(ca_reply_str(NULL, &s, &len), CA_REPLY_BAD);
}


static void
test_int(void **state)
{
    static const struct {
        const char  *resp;
        int64_t      value;
    } cases[] = {
        { ":7\r\n", 7 },
        { ":-3\r\n", -3 },                    /* a TTL: -2 no key, -1 none */
        { "$3\r\n123\r\n", 123 },             /* GET of a counter */
        { "$-1\r\n", 0 },                     /* not counted yet */
        { "$2\r\n-5\r\n", 0 },                /* never written */
        { "$3\r\n1x2\r\n", 0 },
        { "$20\r\n99999999999999999999\r\n", 0 },
        { "+OK\r\n", 0 },
        { "-ERR no\r\n", 0 },
        { "*0\r\n", 0 },
    };

    size_t       i;
    redisReply  *r;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = resp(cases[i].resp);
        assert_int_equal(ca_reply_int(r), cases[i].value);
        freeReplyObject(r);
    }

    assert_int_equal(ca_reply_int(NULL), 0);
}


static void
test_session_found(void **state)
{
    redisReply          *r;
    ca_reply_session_t   s;

    r = resp("*5\r\n$4\r\n1001\r\n$1\r\n1\r\n"
             "$13\r\n1764547200000\r\n$13\r\n1764540000000\r\n$2\r\n12\r\n");

    assert_int_equal(ca_reply_session(r, &s), CA_REPLY_OK);
    assert_int_equal(s.account_len, 4);
    assert_memory_equal(s.account, "1001", 4);
    assert_int_equal(s.user_len, 1);
    assert_memory_equal(s.user, "1", 1);
    assert_int_equal(s.expires, 1764547200000LL);
    assert_int_equal(s.refreshed, 1764540000000LL);
    assert_int_equal(s.generation_len, 2);
    assert_memory_equal(s.generation, "12", 2);

    freeReplyObject(r);
}


static void
test_session_gone(void **state)
{
    static const char  *cases[] = {
        /* no such key: HMGET answers five nils */
        "*5\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n",
        /* a bare {s} left by a refresh racing a delete */
        "*5\r\n$-1\r\n$-1\r\n$-1\r\n$3\r\n123\r\n$-1\r\n",
        /* a session made before sessions had a generation */
        "*5\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n5\r\n$1\r\n4\r\n$-1\r\n",
        /* a field that is not a string */
        "*5\r\n:1\r\n$1\r\n1\r\n$1\r\n5\r\n$1\r\n4\r\n$1\r\n0\r\n",
    };

    size_t               i;
    redisReply          *r;
    ca_reply_session_t   s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = resp(cases[i]);
        assert_int_equal(ca_reply_session(r, &s), CA_REPLY_NIL);
        assert_null(s.account);
        freeReplyObject(r);
    }
}


static void
test_session_corrupt(void **state)
{
    static const char  *cases[] = {
        /* account not digits */
        "*5\r\n$2\r\n1a\r\n$1\r\n1\r\n$1\r\n5\r\n$1\r\n4\r\n$1\r\n0\r\n",
        /* user empty */
        "*5\r\n$1\r\n1\r\n$0\r\n\r\n$1\r\n5\r\n$1\r\n4\r\n$1\r\n0\r\n",
        /* account of 21 digits */
        "*5\r\n$21\r\n123456789012345678901\r\n$1\r\n1\r\n"
        "$1\r\n5\r\n$1\r\n4\r\n$1\r\n0\r\n",
        /* expiry signed, refresh too large, expiry empty */
        "*5\r\n$1\r\n1\r\n$1\r\n1\r\n$2\r\n-5\r\n$1\r\n4\r\n$1\r\n0\r\n",
        "*5\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n5\r\n"
        "$19\r\n9223372036854775808\r\n$1\r\n0\r\n",
        "*5\r\n$1\r\n1\r\n$1\r\n1\r\n$0\r\n\r\n$1\r\n4\r\n$1\r\n0\r\n",
        /* generation not a number */
        "*5\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n5\r\n$1\r\n4\r\n$2\r\n1 \r\n",
    };

    size_t               i;
    redisReply          *r;
    ca_reply_session_t   s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = resp(cases[i]);
        assert_int_equal(ca_reply_session(r, &s), CA_REPLY_CORRUPT);
        assert_null(s.account);
        assert_null(s.generation);
        assert_int_equal(s.expires, 0);
        freeReplyObject(r);
    }
}


static void
test_session_unexpected(void **state)
{
    static const char  *cases[] = {
        "-LOADING Redis is loading the dataset in memory\r\n",
        "-NOAUTH Authentication required.\r\n",
        "$-1\r\n",
        "+OK\r\n",
        ":5\r\n",
        "*-1\r\n",
        "*0\r\n",
        "*4\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n5\r\n$1\r\n4\r\n",
        "*6\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n5\r\n$1\r\n4\r\n$1\r\n0\r\n"
        "$1\r\n4\r\n",
    };

    size_t               i;
    redisReply          *r;
    ca_reply_session_t   s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = resp(cases[i]);
        assert_int_equal(ca_reply_session(r, &s), CA_REPLY_BAD);
        freeReplyObject(r);
    }

    assert_int_equal(ca_reply_session(NULL, &s), CA_REPLY_BAD);
}


static void
test_owner_found(void **state)
{
    redisReply        *r;
    ca_reply_owner_t   o;

    r = resp("*3\r\n$6\r\nactive\r\n$14\r\nbilling,orders\r\n$1\r\n3\r\n");
    assert_int_equal(ca_reply_owner(r, &o), CA_REPLY_OK);
    assert_true(o.active);
    assert_int_equal(o.permissions_len, 14);
    assert_memory_equal(o.permissions, "billing,orders", 14);
    assert_int_equal(o.generation_len, 1);
    assert_memory_equal(o.generation, "3", 1);
    freeReplyObject(r);

    /* never revoked, no permissions: generation 0, none held */
    r = resp("*3\r\n$6\r\nactive\r\n$-1\r\n$-1\r\n");
    assert_int_equal(ca_reply_owner(r, &o), CA_REPLY_OK);
    assert_true(o.active);
    assert_int_equal(o.permissions_len, 0);
    assert_int_equal(o.generation_len, 1);
    assert_memory_equal(o.generation, "0", 1);
    freeReplyObject(r);

    /* locked, or gone (every field nil): not active */
    r = resp("*3\r\n$6\r\nlocked\r\n$3\r\nall\r\n$1\r\n1\r\n");
    assert_int_equal(ca_reply_owner(r, &o), CA_REPLY_OK);
    assert_false(o.active);
    freeReplyObject(r);

    r = resp("*3\r\n$-1\r\n$-1\r\n$-1\r\n");
    assert_int_equal(ca_reply_owner(r, &o), CA_REPLY_OK);
    assert_false(o.active);
    freeReplyObject(r);
}


static void
test_owner_corrupt(void **state)
{
    static const struct {
        const char  *text;
        size_t       len;
    } cases[] = {
        /* permissions that would add a header to the proxied request */
        { S("*3\r\n$6\r\nactive\r\n$25\r\nall\r\nX-Client-Role: admin\r\n"
            "$1\r\n1\r\n") },
        { S("*3\r\n$6\r\nactive\r\n$4\r\nal\0l\r\n$1\r\n1\r\n") },
        { S("*3\r\n$6\r\nactive\r\n$4\r\nall\x7f\r\n$1\r\n1\r\n") },
        /* a generation that is not a number */
        { S("*3\r\n$6\r\nactive\r\n$3\r\nall\r\n$2\r\n-1\r\n") },
    };

    size_t             i;
    redisReply        *r;
    ca_reply_owner_t   o;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = resp_n(cases[i].text, cases[i].len);
        assert_int_equal(ca_reply_owner(r, &o), CA_REPLY_CORRUPT);
        assert_null(o.permissions);
        assert_false(o.active);
        freeReplyObject(r);
    }
}


static void
test_owner_unexpected(void **state)
{
    static const char  *cases[] = {
        "-ERR wrong\r\n",
        "$-1\r\n",
        "*2\r\n$6\r\nactive\r\n$3\r\nall\r\n",
        "*3\r\n:1\r\n$3\r\nall\r\n$1\r\n1\r\n",
        "*3\r\n$6\r\nactive\r\n*0\r\n$1\r\n1\r\n",
    };

    size_t             i;
    redisReply        *r;
    ca_reply_owner_t   o;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = resp(cases[i]);
        assert_int_equal(ca_reply_owner(r, &o), CA_REPLY_BAD);
        freeReplyObject(r);
    }

    assert_int_equal(ca_reply_owner(NULL, &o), CA_REPLY_BAD);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_int64_is_exact),
        cmocka_unit_test(test_parse_int64_refuses_what_module_never_writes),
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_session_found),
        cmocka_unit_test(test_session_gone),
        cmocka_unit_test(test_session_corrupt),
        cmocka_unit_test(test_session_unexpected),
        cmocka_unit_test(test_owner_found),
        cmocka_unit_test(test_owner_corrupt),
        cmocka_unit_test(test_owner_unexpected),
    };

    return cmocka_run_group_tests_name("ca_reply", tests, NULL, NULL);
}
