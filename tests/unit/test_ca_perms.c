/*
 * ca_perms: the permission lists of users, invitations and sessions.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ca_perms.h"


#define S(s)  s, sizeof(s) - 1


static void
test_parse_sorts_and_dedupes(void **state)
{
    ca_perms_t  p;
    char        buf[CA_PERMS_MAX];

    memset(&p, 0, sizeof(p));
    assert_int_equal(ca_perms_parse(&p, S("orders,billing,orders"), ','), 0);
    assert_int_equal(ca_perms_format(&p, buf), strlen("billing,orders"));
    assert_string_equal(buf, "billing,orders");

    /* "all" stands alone */
    assert_int_equal(ca_perms_parse(&p, S("all"), ','), 0);
    assert_int_equal(ca_perms_format(&p, buf), 3);
    assert_string_equal(buf, "all");
}


static void
test_parse_refuses_bad_names(void **state)
{
    ca_perms_t  p;
    char        many[CA_PERMS_N * 4 + 8];
    int         i;
    size_t      len;

    memset(&p, 0, sizeof(p));
    assert_int_equal(ca_perms_parse(&p, S(""), ','), -1);
    assert_int_equal(ca_perms_parse(&p, S("billing,"), ','), -1);
    assert_int_equal(ca_perms_parse(&p, S("Billing"), ','), -1);
    assert_int_equal(ca_perms_parse(&p, S("bill ing"), ','), -1);
    assert_int_equal(ca_perms_parse(&p,
                         S("a23456789012345678901234567890123"), ','), -1);
    assert_int_equal(ca_perms_parse(&p,
                         S("a2345678901234567890123456789012"), ','), 0);

    memset(&p, 0, sizeof(p));
    len = 0;
    for (i = 0; i <= CA_PERMS_N; i++) {
        len += sprintf(many + len, "%sp%d", i ? "," : "", i);
    }
    assert_int_equal(ca_perms_parse(&p, many, len, ','), -2);
}


static void
test_held_and_covers(void **state)
{
    ca_perms_t  want;

    assert_true(ca_perms_held(S("billing,orders"), "orders"));
    assert_false(ca_perms_held(S("billing,orders"), "order"));
    assert_false(ca_perms_held(S("billing,orders"), "users"));
    assert_true(ca_perms_held(S("all"), "users"));
    assert_false(ca_perms_held(S(""), "users"));
    assert_false(ca_perms_held(S("alls"), "users"));

    memset(&want, 0, sizeof(want));
    assert_int_equal(ca_perms_parse(&want, S("billing,users"), ','), 0);
    assert_true(ca_perms_covers(S("all"), &want));
    assert_true(ca_perms_covers(S("billing,orders,users"), &want));
    assert_false(ca_perms_covers(S("billing,orders"), &want));

    /* granting "all" needs "all" */
    memset(&want, 0, sizeof(want));
    assert_int_equal(ca_perms_parse(&want, S("all"), ','), 0);
    assert_false(ca_perms_covers(S("billing,orders,users"), &want));
    assert_true(ca_perms_covers(S("all"), &want));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sorts_and_dedupes),
        cmocka_unit_test(test_parse_refuses_bad_names),
        cmocka_unit_test(test_held_and_covers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
