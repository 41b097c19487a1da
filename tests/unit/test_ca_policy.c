#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_policy.h"


static const ca_policy_t  seeds = { CA_POLICY_DEFAULT, 8, 128 };
static const ca_policy_t  nist = { CA_POLICY_NIST, 15, 128 };
static const char *const  ids[] = { "ana@example.com", "9000" };


static unsigned
check(const ca_policy_t *p, const char *pw)
{
    return ca_policy_check(p, pw, strlen(pw), ids, 2);
}


static void
test_seeds_rules_accept_a_good_password(void **state)
{
    assert_int_equal(check(&seeds, "Secret-2026"), 0);
    assert_int_equal(check(&seeds, "Contraseña-9"), 0);
}


static void
test_seeds_rules_each_fail_alone(void **state)
{
    assert_int_equal(check(&seeds, "Sec-202"), CA_RULE_TOO_SHORT);
    assert_int_equal(check(&seeds, "secret-2026"), CA_RULE_NO_UPPER);
    assert_int_equal(check(&seeds, "SECRET-2026"), CA_RULE_NO_LOWER);
    assert_int_equal(check(&seeds, "Secret-word"), CA_RULE_NO_DIGIT);
    assert_int_equal(check(&seeds, "Secret2026"), CA_RULE_NO_SPECIAL);
    assert_int_equal(check(&seeds, "Secret 2026!"), CA_RULE_WHITESPACE);
    assert_int_equal(check(&seeds, "Secret\t2026!"), CA_RULE_WHITESPACE);
}


static void
test_every_broken_rule_is_listed(void **state)
{
    assert_int_equal(check(&seeds, "abc"),
                     CA_RULE_TOO_SHORT | CA_RULE_NO_UPPER | CA_RULE_NO_DIGIT
                     | CA_RULE_NO_SPECIAL);
}


static void
test_characters_not_bytes_count(void **state)
{
    /* 8 characters, 10 bytes */
    assert_false(check(&seeds, "Añ-4ñxyz") & CA_RULE_TOO_SHORT);
    /* 7 characters, 9 bytes */
    assert_true(check(&seeds, "Añ-4ñxy") & CA_RULE_TOO_SHORT);
}


static void
test_identifier_refused_any_case(void **state)
{
    assert_true(check(&seeds, "Ana@Example.com") & CA_RULE_IDENTIFIER);
    assert_true(check(&nist, "ANA@EXAMPLE.COM") & CA_RULE_IDENTIFIER);
    assert_false(check(&seeds, "Ana@Example.com1") & CA_RULE_IDENTIFIER);
}


static void
test_max_length_in_bytes(void **state)
{
    char  pw[200];

    memset(pw, 'a', sizeof(pw) - 1);
    pw[sizeof(pw) - 1] = '\0';

    assert_true(check(&nist, pw) & CA_RULE_TOO_LONG);

    pw[128] = '\0';
    assert_false(check(&nist, pw) & CA_RULE_TOO_LONG);
}


static void
test_invalid_bytes_refused(void **state)
{
    assert_int_equal(check(&seeds, "Secret-2026\x01"), CA_RULE_INVALID);
    assert_int_equal(check(&seeds, "Secret-2026\xff"), CA_RULE_INVALID);
}


/* C1 controls are control characters too (found by fuzz_policy) */

static void
test_c1_controls_refused(void **state)
{
    assert_int_equal(check(&seeds, "Secret-2026\xc2\x85"), CA_RULE_INVALID);
    assert_int_equal(check(&seeds, "Secret-2026\xc2\x80"), CA_RULE_INVALID);
    assert_int_equal(check(&seeds, "Secret-2026\xc2\x9f"), CA_RULE_INVALID);
    assert_int_equal(check(&seeds, "Secret-2026\xc2\xa9"), 0);
}


static void
test_nist_length_no_composition(void **state)
{
    assert_int_equal(check(&nist, "correct horse battery"), 0);
    assert_int_equal(check(&nist, "short one here"), CA_RULE_TOO_SHORT);
}


static void
test_nist_common_passwords_any_case(void **state)
{
    assert_int_equal(check(&nist, "passwordpassword"), CA_RULE_COMMON);
    assert_int_equal(check(&nist, "PasswordPassword"), CA_RULE_COMMON);
    assert_int_equal(check(&nist, "123456789012345"), CA_RULE_COMMON);
    assert_true(ca_policy_is_common("qwerty", 6));
    assert_false(ca_policy_is_common("qwertz-unusual-x", 16));
}


static void
test_codes_and_texts(void **state)
{
    unsigned  rule;

    for (rule = 1; rule <= CA_RULE_LAST; rule <<= 1) {
        assert_non_null(ca_rule_code(rule));
        assert_non_null(ca_rule_text(rule));
    }

    assert_string_equal(ca_rule_code(CA_RULE_REUSED), "reused");
    assert_null(ca_rule_code(0));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_rules_accept_a_good_password),
        cmocka_unit_test(test_seeds_rules_each_fail_alone),
        cmocka_unit_test(test_every_broken_rule_is_listed),
        cmocka_unit_test(test_characters_not_bytes_count),
        cmocka_unit_test(test_identifier_refused_any_case),
        cmocka_unit_test(test_max_length_in_bytes),
        cmocka_unit_test(test_invalid_bytes_refused),
        cmocka_unit_test(test_c1_controls_refused),
        cmocka_unit_test(test_nist_length_no_composition),
        cmocka_unit_test(test_nist_common_passwords_any_case),
        cmocka_unit_test(test_codes_and_texts),
    };

    return cmocka_run_group_tests_name("ca_policy", tests, NULL, NULL);
}
