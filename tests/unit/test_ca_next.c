/*
 * ca_next: which post-login redirect targets are followed.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "ca_next.h"


#define S(s)  s, sizeof(s) - 1


static int
group_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}


static void
test_same_site_paths_are_safe(void **state)
{
    assert_true(ca_next_is_safe(S("/")));
    assert_true(ca_next_is_safe(S("/account")));
    assert_true(ca_next_is_safe(S("/billing/invoices?year=2025&page=2#top")));
    assert_true(ca_next_is_safe(S("/a/../b/./c")));
    assert_true(ca_next_is_safe(S("/search?q=a:b@c")));
}


static void
test_percent_escapes_are_left_alone(void **state)
{
    /* the browser does not decode them when it resolves the Location */
    assert_true(ca_next_is_safe(S("/%2F%2Fevil.example")));
    assert_true(ca_next_is_safe(S("/%5Cevil.example")));
    assert_true(ca_next_is_safe(S("/%09/evil.example")));
    assert_true(ca_next_is_safe(S("/caf%C3%A9")));
}


static void
test_empty_and_relative_are_unsafe(void **state)
{
    assert_false(ca_next_is_safe(NULL, 0));
    assert_false(ca_next_is_safe(S("")));
    assert_false(ca_next_is_safe(S("account")));
    assert_false(ca_next_is_safe(S("./account")));
    assert_false(ca_next_is_safe(S("?next=/")));
}


static void
test_absolute_and_scheme_relative_are_unsafe(void **state)
{
    assert_false(ca_next_is_safe(S("https://evil.example/")));
    assert_false(ca_next_is_safe(S("javascript:alert(1)")));
    assert_false(ca_next_is_safe(S("//evil.example")));
    assert_false(ca_next_is_safe(S("//evil.example/path")));
    assert_false(ca_next_is_safe(S("/\\evil.example")));
    assert_false(ca_next_is_safe(S("\\\\evil.example")));
}


static void
test_backslash_anywhere_is_unsafe(void **state)
{
    assert_false(ca_next_is_safe(S("/a\\b")));
    assert_false(ca_next_is_safe(S("/account\\")));
}


static void
test_white_space_and_controls_are_unsafe(void **state)
{
    /* browsers drop tabs and newlines: "/\t/evil" becomes "//evil" */
    assert_false(ca_next_is_safe(S("/\t/evil.example")));
    assert_false(ca_next_is_safe(S("/\n/evil.example")));
    assert_false(ca_next_is_safe(S("/\r/evil.example")));
    assert_false(ca_next_is_safe(S(" /account")));
    assert_false(ca_next_is_safe(S("/my account")));
    assert_false(ca_next_is_safe(S("/account\r\nSet-Cookie: x=1")));
    assert_false(ca_next_is_safe(S("/a\0b")));
    assert_false(ca_next_is_safe(S("/a\x7f")));
    assert_false(ca_next_is_safe(S("/a\x1b")));
}


static void
test_raw_non_ascii_is_unsafe(void **state)
{
    assert_false(ca_next_is_safe(S("/caf\xc3\xa9")));
    assert_false(ca_next_is_safe(S("/\xc2\x85/evil.example")));
}


static void
test_length_limit(void **state)
{
    char  buf[CA_NEXT_MAX + 1];

    memset(buf, 'a', sizeof(buf));
    buf[0] = '/';

    assert_true(ca_next_is_safe(buf, CA_NEXT_MAX));
    assert_false(ca_next_is_safe(buf, CA_NEXT_MAX + 1));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_same_site_paths_are_safe),
        cmocka_unit_test(test_percent_escapes_are_left_alone),
        cmocka_unit_test(test_empty_and_relative_are_unsafe),
        cmocka_unit_test(test_absolute_and_scheme_relative_are_unsafe),
        cmocka_unit_test(test_backslash_anywhere_is_unsafe),
        cmocka_unit_test(test_white_space_and_controls_are_unsafe),
        cmocka_unit_test(test_raw_non_ascii_is_unsafe),
        cmocka_unit_test(test_length_limit),
    };

    return cmocka_run_group_tests_name("ca_next", tests, group_setup, NULL);
}
