/*
 * ca_logesc: client-controlled text escaped for a log line, bounded.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_logesc.h"


#define S(s)  s, sizeof(s) - 1


static void
assert_escapes_to(const char *src, size_t len, const char *expected)
{
    char    out[CA_LOGESC_SIZE];
    size_t  n;

    n = ca_logesc(out, sizeof(out), src, len);

    assert_string_equal(out, expected);
    assert_int_equal(n, strlen(expected));
}


static void
test_printable_ascii_is_kept(void **state)
{
    assert_escapes_to(S("marie.dupont@magic.example"),
                      "marie.dupont@magic.example");
    assert_escapes_to(S("+34 600 000 000"), "+34 600 000 000");
    assert_escapes_to(S("a~b{c}|'`"), "a~b{c}|'`");
    assert_escapes_to(S(""), "");
}


static void
test_line_breaks_and_controls_are_escaped(void **state)
{
    assert_escapes_to(S("a\nb"), "a\\x0ab");
    assert_escapes_to(S("a\r\n2026/01/01 [alert] forged"),
                      "a\\x0d\\x0a2026/01/01 [alert] forged");
    assert_escapes_to(S("\x01\x1b[31m\x7f"), "\\x01\\x1b[31m\\x7f");
    assert_escapes_to(S("tab\there"), "tab\\x09here");
    assert_escapes_to("nul\0byte", 8, "nul\\x00byte");
}


static void
test_quotes_and_backslashes_are_escaped(void **state)
{
    /* a quoted value cannot be closed, an escape cannot be faked */
    assert_escapes_to(S("a\"b"), "a\\x22b");
    assert_escapes_to(S("a\\x0ab"), "a\\x5cx0ab");
}


static void
test_bytes_above_ascii_are_escaped(void **state)
{
    assert_escapes_to(S("caf\xc3\xa9"), "caf\\xc3\\xa9");
    assert_escapes_to(S("\xff"), "\\xff");
}


static void
test_long_input_is_cut_with_an_ellipsis(void **state)
{
    char    in[CA_LOGESC_MAX + 50], out[CA_LOGESC_SIZE];
    size_t  n;

    memset(in, 'a', sizeof(in));

    n = ca_logesc(out, sizeof(out), in, CA_LOGESC_MAX);
    assert_int_equal(n, CA_LOGESC_MAX);
    assert_int_equal(out[n - 1], 'a');

    n = ca_logesc(out, sizeof(out), in, sizeof(in));
    assert_int_equal(n, CA_LOGESC_MAX + 3);
    assert_memory_equal(out + CA_LOGESC_MAX, "...", 4);
}


static void
test_worst_case_fits_the_documented_size(void **state)
{
    char    in[CA_LOGESC_MAX + 1], out[CA_LOGESC_SIZE];
    size_t  n;

    memset(in, '\n', sizeof(in));

    n = ca_logesc(out, sizeof(out), in, sizeof(in));

    assert_int_equal(n, CA_LOGESC_MAX * 4 + 3);
    assert_int_equal(n + 1, sizeof(out));
    assert_memory_equal(out + n - 3, "...", 4);
}


static void
test_small_buffer_never_splits_an_escape(void **state)
{
    char    out[9];
    size_t  n;

    memset(out, 'Z', sizeof(out));

    /* "ab" fits, then \x0a would not leave room for "..." and the NUL */
    n = ca_logesc(out, sizeof(out), S("ab\ncd"));
    assert_string_equal(out, "ab...");
    assert_int_equal(n, 5);

    assert_int_equal(ca_logesc(out, 1, S("abc")), 0);
    assert_string_equal(out, "");

    assert_int_equal(ca_logesc(out, 0, S("abc")), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable_ascii_is_kept),
        cmocka_unit_test(test_line_breaks_and_controls_are_escaped),
        cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
        cmocka_unit_test(test_bytes_above_ascii_are_escaped),
        cmocka_unit_test(test_long_input_is_cut_with_an_ellipsis),
        cmocka_unit_test(test_worst_case_fits_the_documented_size),
        cmocka_unit_test(test_small_buffer_never_splits_an_escape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
