/*
 * ca_sentinel: who the primary is, from Sentinel's and Redis's replies,
 * built by hiredis's own reader from RESP text.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_sentinel.h"


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


static int
master_addr(const char *text, ca_sentinel_addr_t *addr)
{
    int          rc;
    redisReply  *r;

    r = resp(text);
    rc = ca_sentinel_master_addr(r, addr);
    freeReplyObject(r);

    return rc;
}


static int
switched(const char *text, ca_sentinel_addr_t *addr)
{
    int          rc;
    redisReply  *r;

    r = resp(text);
    rc = ca_sentinel_switch(r, "mymaster", 8, addr);
    freeReplyObject(r);

    return rc;
}


static int
role(const char *text)
{
    int          rc;
    redisReply  *r;

    r = resp(text);
    rc = ca_sentinel_role_is_master(r);
    freeReplyObject(r);

    return rc;
}


static void
test_master_addr(void **state)
{
    ca_sentinel_addr_t  a;

    assert_int_equal(master_addr("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n",
                                 &a), CA_SENTINEL_OK);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 6380);

    assert_int_equal(master_addr("*2\r\n$3\r\n::1\r\n$5\r\n65535\r\n", &a),
                     CA_SENTINEL_OK);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 65535);

    assert_int_equal(master_addr("*-1\r\n", &a), CA_SENTINEL_UNKNOWN);
    assert_int_equal(master_addr("$-1\r\n", &a), CA_SENTINEL_UNKNOWN);
}


static void
test_master_addr_refuses_names_and_bad_ports(void **state)
{
    redisReply          *r;
    ca_sentinel_addr_t   a;

    /* a name would need DNS inside a worker */
    assert_int_equal(master_addr("*2\r\n$9\r\nlocalhost\r\n$4\r\n6380\r\n",
                                 &a), CA_SENTINEL_BAD);
    assert_int_equal(master_addr("*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n", &a),
                     CA_SENTINEL_BAD);
    assert_int_equal(master_addr("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n65536\r\n",
                                 &a), CA_SENTINEL_BAD);
    assert_int_equal(master_addr("*2\r\n$9\r\n127.0.0.1\r\n$3\r\n6x9\r\n",
                                 &a), CA_SENTINEL_BAD);
    assert_int_equal(master_addr("*2\r\n$9\r\n127.0.0.1\r\n$6\r\n000080\r\n",
                                 &a), CA_SENTINEL_BAD);
    assert_int_equal(master_addr("*1\r\n$9\r\n127.0.0.1\r\n", &a),
                     CA_SENTINEL_BAD);
    assert_int_equal(master_addr("-IDONTKNOW\r\n", &a), CA_SENTINEL_BAD);
    /* found by fuzz_sentinel: "::" and a NUL is not "::" */
    r = resp_n(S("*2\r\n$3\r\n::\0\r\n$5\r\n26379\r\n"));
    assert_int_equal(ca_sentinel_master_addr(r, &a), CA_SENTINEL_BAD);
    freeReplyObject(r);
    assert_int_equal(master_addr("*2\r\n:1\r\n:2\r\n", &a), CA_SENTINEL_BAD);
    assert_int_equal(ca_sentinel_master_addr(NULL, &a), CA_SENTINEL_BAD);
}


static void
test_switch_master(void **state)
{
    ca_sentinel_addr_t  a;

    assert_int_equal(switched("*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master"
                              "\r\n$38\r\nmymaster 127.0.0.1 6379 "
                              "127.0.0.1 6380\r\n", &a), CA_SENTINEL_OK);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 6380);

    /* another master's failover, and the subscription's confirmation */
    assert_int_equal(switched("*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master"
                              "\r\n$38\r\nmymasteR 127.0.0.1 6379 "
                              "127.0.0.1 6380\r\n", &a), CA_SENTINEL_UNKNOWN);
    assert_int_equal(switched("*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master"
                              "\r\n$39\r\nmymaster2 127.0.0.1 6379 "
                              "127.0.0.1 6380\r\n", &a), CA_SENTINEL_UNKNOWN);
    assert_int_equal(switched("*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master"
                              "\r\n:1\r\n", &a), CA_SENTINEL_UNKNOWN);

    /* short, long, or not an address */
    assert_int_equal(switched("*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master"
                              "\r\n$33\r\nmymaster 127.0.0.1 6379 "
                              "127.0.0.1\r\n", &a), CA_SENTINEL_BAD);
    assert_int_equal(switched("*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master"
                              "\r\n$40\r\nmymaster 127.0.0.1 6379 "
                              "127.0.0.1 6380 x\r\n", &a), CA_SENTINEL_BAD);
    assert_int_equal(switched("*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master"
                              "\r\n$38\r\nmymaster 127.0.0.1 6379 "
                              "example.co 6380\r\n", &a), CA_SENTINEL_BAD);
    assert_int_equal(switched("*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master"
                              "\r\n$8\r\nmymaster\r\n", &a), CA_SENTINEL_BAD);
    assert_int_equal(switched("*2\r\n$7\r\nmessage\r\n$1\r\nx\r\n", &a),
                     CA_SENTINEL_BAD);
    assert_int_equal(switched("$7\r\nmessage\r\n", &a), CA_SENTINEL_BAD);
}


static void
test_role(void **state)
{
    assert_int_equal(role("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"), 1);
    assert_int_equal(role("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n"
                          ":6379\r\n$9\r\nconnected\r\n:0\r\n"), 0);
    assert_int_equal(role("*1\r\n$7\r\nmasterx\r\n"), 0);
    assert_int_equal(role("*0\r\n"), -1);
    assert_int_equal(role("+OK\r\n"), -1);
    assert_int_equal(ca_sentinel_role_is_master(NULL), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_master_addr),
        cmocka_unit_test(test_master_addr_refuses_names_and_bad_ports),
        cmocka_unit_test(test_switch_master),
        cmocka_unit_test(test_role),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
