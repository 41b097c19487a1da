/*
 * ca_cookie: one cookie found in a Cookie header, strictly (';' only, exact
 * name), and how often it is there.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_cookie.h"


#define S(s)   s, sizeof(s) - 1
#define NAME   "__Host-clientauth_magic"


static size_t
find(const char *header, const char **value, size_t *len)
{
    *value = NULL;
    *len = 0;

    return ca_cookie_find(header, strlen(header), S(NAME), value, len);
}


static void
assert_found_once(const char *header, const char *expected)
{
    size_t       len;
    const char  *value;

    assert_int_equal(find(header, &value, &len), 1);
    assert_non_null(value);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(value, expected, len);
}


static void
test_the_cookie_alone_and_among_others(void **state)
{
    assert_found_once(NAME "=tok", "tok");
    assert_found_once("theme=dark; " NAME "=tok; lang=es", "tok");
    assert_found_once("theme=dark;" NAME "=tok;lang=es", "tok");
    assert_found_once("a=1; " NAME "=tok", "tok");
    assert_found_once(NAME "=tok;", "tok");
}


static void
test_white_space_around_a_pair_is_ignored(void **state)
{
    assert_found_once("  " NAME "=tok  ", "tok");
    assert_found_once("a=1;\t" NAME "=tok\t; b=2", "tok");
    assert_found_once("a=1 ;  " NAME "=tok ;b=2", "tok");
}


static void
test_the_value_is_everything_after_the_first_equals(void **state)
{
    assert_found_once(NAME "=a=b", "a=b");
    assert_found_once(NAME "=", "");
    assert_found_once(NAME "=\"q\"", "\"q\"");
    /* a comma is part of the value, not a separator */
    assert_found_once(NAME "=tok, other=1", "tok, other=1");
}


static void
test_a_comma_does_not_start_a_pair(void **state)
{
    size_t       len;
    const char  *value;

    /* issue 13, finding 1: the attacker's pair hides behind a comma */
    assert_found_once("x=a, " NAME "=ATTACKER; " NAME "=VICTIM", "VICTIM");
    assert_int_equal(find("x=a, " NAME "=ATTACKER", &value, &len), 0);
    assert_int_equal(find("x=a," NAME "=ATTACKER", &value, &len), 0);
}


static void
test_names_are_compared_exactly(void **state)
{
    size_t       len;
    const char  *value;

    assert_int_equal(find("__host-clientauth_magic=tok", &value, &len), 0);
    assert_null(value);
    assert_int_equal(find("__HOST-CLIENTAUTH_MAGIC=tok", &value, &len), 0);
    assert_int_equal(find("__Host-clientauth_magic2=tok", &value, &len), 0);
    assert_int_equal(find("x__Host-clientauth_magic=tok", &value, &len), 0);
    assert_int_equal(find("__Host-clientauth_magi=tok", &value, &len), 0);
    assert_int_equal(find("__Host-clientauth_magic =tok", &value, &len), 0);
    assert_int_equal(find("__Host-clientauth_magic", &value, &len), 0);
    assert_int_equal(find("x=a, __Host-clientauth_magic=tok", &value, &len),
                     0);
    assert_int_equal(find("", &value, &len), 0);
    assert_int_equal(find(";;; ;", &value, &len), 0);
}


static void
test_every_occurrence_is_counted_and_the_first_kept(void **state)
{
    size_t       len;
    const char  *value;

    assert_int_equal(find(NAME "=one; " NAME "=two", &value, &len), 2);
    assert_int_equal(len, 3);
    assert_memory_equal(value, "one", 3);

    assert_int_equal(find(NAME "=a;" NAME "=b;x=1;" NAME "=c", &value, &len),
                     3);
    assert_int_equal(find("x=a, " NAME "=ATTACKER; " NAME "=VICTIM", &value,
                          &len), 1);
    assert_int_equal(find(NAME "=; " NAME "=", &value, &len), 2);
}


static void
test_value_is_left_alone_when_absent(void **state)
{
    size_t       len;
    const char  *value;

    value = "kept";
    len = 4;

    assert_int_equal(ca_cookie_find(S("a=1"), S(NAME), &value, &len), 0);
    assert_string_equal(value, "kept");
    assert_int_equal(len, 4);

    assert_int_equal(ca_cookie_find(NULL, 0, S(NAME), &value, &len), 0);
}


static void
test_the_length_bounds_the_search(void **state)
{
    size_t       len;
    const char  *value;
    const char   header[] = NAME "=tok; " NAME "=more";

    /* only the first pair is within the length given */
    assert_int_equal(ca_cookie_find(header, sizeof(NAME "=tok") - 1, S(NAME),
                                    &value, &len), 1);
    assert_int_equal(len, 3);

    /* a name cut short is another name */
    assert_int_equal(ca_cookie_find(header, 5, S(NAME), &value, &len), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_cookie_alone_and_among_others),
        cmocka_unit_test(test_white_space_around_a_pair_is_ignored),
        cmocka_unit_test(test_the_value_is_everything_after_the_first_equals),
        cmocka_unit_test(test_a_comma_does_not_start_a_pair),
        cmocka_unit_test(test_names_are_compared_exactly),
        cmocka_unit_test(test_every_occurrence_is_counted_and_the_first_kept),
        cmocka_unit_test(test_value_is_left_alone_when_absent),
        cmocka_unit_test(test_the_length_bounds_the_search),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
