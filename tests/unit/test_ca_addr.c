/*
 * ca_addr: the subject an address limit counts a client address under.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "ca_addr.h"


static void
assert_subject(const char *text, const char *expected)
{
    char           buf[CA_ADDR_SUBJECT_MAX];
    size_t         n;
    unsigned char  addr[16];

    if (strchr(text, ':')) {
        assert_int_equal(inet_pton(AF_INET6, text, addr), 1);
        n = ca_addr_subject(buf, sizeof(buf), addr, 16);

    } else {
        assert_int_equal(inet_pton(AF_INET, text, addr), 1);
        n = ca_addr_subject(buf, sizeof(buf), addr, 4);
    }

    assert_string_equal(buf, expected);
    assert_int_equal(n, strlen(expected));
}


static void
test_ipv4_is_counted_whole(void **state)
{
    assert_subject("203.0.113.7", "203.0.113.7");
    assert_subject("0.0.0.0", "0.0.0.0");
    assert_subject("255.255.255.255", "255.255.255.255");
}


static void
test_ipv6_is_counted_by_its_64(void **state)
{
    assert_subject("2001:db8:0:1::5", "2001:db8:0:1::/64");
    assert_subject("2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:1::/64");
    assert_subject("ffff:ffff:ffff:ffff:1::1", "ffff:ffff:ffff:ffff::/64");
    assert_subject("::1", "0:0:0:0::/64");
}


static void
test_v4_mapped_ipv6_is_the_ipv4_address(void **state)
{
    assert_subject("::ffff:203.0.113.7", "203.0.113.7");
    assert_subject("::ffff:10.0.0.1", "10.0.0.1");
    assert_subject("::ffff:10.0.0.2", "10.0.0.2");
    assert_subject("::ffff:0.0.0.0", "0.0.0.0");
}


static void
test_near_misses_of_v4_mapped_stay_ipv6(void **state)
{
    /* IPv4-compatible (deprecated), NAT64, a mapped-looking /64 */
    assert_subject("::203.0.113.7", "0:0:0:0::/64");
    assert_subject("64:ff9b::203.0.113.7", "64:ff9b:0:0::/64");
    assert_subject("::fffe:203.0.113.7", "0:0:0:0::/64");
    assert_subject("1::ffff:203.0.113.7", "1:0:0:0::/64");
}


static void
test_bad_lengths_and_small_buffers_give_nothing(void **state)
{
    char                 buf[CA_ADDR_SUBJECT_MAX];
    static unsigned char addr[16];

    assert_int_equal(ca_addr_subject(buf, sizeof(buf), addr, 0), 0);
    assert_int_equal(ca_addr_subject(buf, sizeof(buf), addr, 5), 0);
    assert_int_equal(ca_addr_subject(buf, sizeof(buf), addr, 15), 0);
    assert_int_equal(ca_addr_subject(buf, sizeof(buf) - 1, addr, 4), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_is_counted_whole),
        cmocka_unit_test(test_ipv6_is_counted_by_its_64),
        cmocka_unit_test(test_v4_mapped_ipv6_is_the_ipv4_address),
        cmocka_unit_test(test_near_misses_of_v4_mapped_stay_ipv6),
        cmocka_unit_test(test_bad_lengths_and_small_buffers_give_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
