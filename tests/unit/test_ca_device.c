/*
 * ca_device: the device name of a User-Agent, the network of an address.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "ca_device.h"


#define S(s)  s, sizeof(s) - 1


static void
assert_names(const char *ua, size_t len, const char *expected)
{
    char    buf[CA_DEVICE_NAME_MAX];
    size_t  n;

    memset(buf, 'x', sizeof(buf));
    n = ca_device_name(buf, ua, len);

    assert_string_equal(buf, expected);
    assert_int_equal(n, strlen(expected));
}


static void
test_browsers_and_systems(void **state)
{
    assert_names(S("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
                   "Firefox/120.0"), "Firefox (Linux)");
    assert_names(S("Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                   "AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/120.0.0.0 Safari/537.36"), "Chrome (Windows)");
    assert_names(S("Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                   "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
                   "Safari/537.36 Edg/120.0.0.0"), "Edge (Windows)");
    assert_names(S("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
                   "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
                   "Mobile/15E148 Safari/604.1"), "Safari (iOS)");
    assert_names(S("Mozilla/5.0 (Linux; Android 14; Pixel 8) "
                   "AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/120.0.0.0 Mobile Safari/537.36"),
                 "Chrome (Android)");
    assert_names(S("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
                   "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
                   "Safari/605.1.15"), "Safari (macOS)");
    assert_names(S("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                   "(KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
                   "Safari/537.36"), "Chrome (Linux)");
}


static void
test_tools_keep_their_product_token(void **state)
{
    assert_names(S("curl/8.5.0"), "curl");
    assert_names(S("python-requests/2.31.0"), "python-requests");
    assert_names(S("Wget/1.21.3"), "Wget");
}


static void
test_hostile_or_empty_agents_stay_short_and_printable(void **state)
{
    char    buf[CA_DEVICE_NAME_MAX];
    char    ua[4096];
    size_t  n;

    assert_names(S(""), "unknown");
    assert_names(S("   "), "unknown");
    assert_names(S("<script>alert(1)</script>/1"), "scriptalert");
    assert_names(S("a\r\nX-Evil: 1"), "aX-Evil:");
    assert_names(S("\x01\x02\xff"), "unknown");

    memset(ua, 'A', sizeof(ua));
    n = ca_device_name(buf, ua, sizeof(ua));
    assert_int_equal(n, 24);
    assert_int_equal(strlen(buf), 24);

    memcpy(ua + 10, " (Linux)", 8);
    n = ca_device_name(buf, ua, sizeof(ua));
    assert_string_equal(buf, "AAAAAAAAAA (Linux)");
    assert_int_equal(n, strlen(buf));
}


static void
assert_network(const unsigned char *addr, size_t len, const char *expected)
{
    char    buf[CA_DEVICE_NETWORK_MAX];
    size_t  n;

    n = ca_device_network(buf, addr, len);

    assert_string_equal(buf, expected);
    assert_int_equal(n, strlen(expected));
}


static void
test_networks(void **state)
{
    char                 buf[CA_DEVICE_NETWORK_MAX];
    const unsigned char  v4[4] = { 192, 0, 2, 77 };
    const unsigned char  v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2,
                                    0, 0, 0, 0, 0, 0, 0, 9 };
    const unsigned char  mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0xff, 0xff, 203, 0, 113, 5 };
    const unsigned char  top[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff };

    assert_network(v4, 4, "192.0.2.0/24");
    assert_network(v6, 16, "2001:db8:1::/48");
    assert_network(mapped, 16, "203.0.113.0/24");
    assert_network(top, 16, "ffff:ffff:ffff::/48");
    assert_int_equal(ca_device_network(buf, v4, 3), 0);
}


static void
test_prints_are_per_user_device_and_network(void **state)
{
    char  a[CA_DEVICE_PRINT_LEN + 1], b[CA_DEVICE_PRINT_LEN + 1];

    ca_device_print(a, "1", "2", "Firefox (Linux)", "192.0.2.0/24");
    assert_int_equal(strlen(a), CA_DEVICE_PRINT_LEN);

    ca_device_print(b, "1", "2", "Firefox (Linux)", "192.0.2.0/24");
    assert_string_equal(a, b);

    ca_device_print(b, "1", "3", "Firefox (Linux)", "192.0.2.0/24");
    assert_string_not_equal(a, b);

    ca_device_print(b, "1", "2", "Chrome (Linux)", "192.0.2.0/24");
    assert_string_not_equal(a, b);

    ca_device_print(b, "1", "2", "Firefox (Linux)", "192.0.3.0/24");
    assert_string_not_equal(a, b);

    /* the separators keep "1","23" apart from "12","3" */
    ca_device_print(a, "1", "23", "x", "y");
    ca_device_print(b, "12", "3", "x", "y");
    assert_string_not_equal(a, b);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_browsers_and_systems),
        cmocka_unit_test(test_tools_keep_their_product_token),
        cmocka_unit_test(test_hostile_or_empty_agents_stay_short_and_printable),
        cmocka_unit_test(test_networks),
        cmocka_unit_test(test_prints_are_per_user_device_and_network),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
