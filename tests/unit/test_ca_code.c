/*
 * ca_code: the e-mail change's numeric code and its state.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "ca_code.h"
#include "ca_keys.h"


#define S(s)  s, sizeof(s) - 1

#define SALT  "000102030405060708090a0b0c0d0e0f"


static int
group_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}


static void
code_is_eight_digits(void **state)
{
    int   i, j;
    char  code[CA_CODE_DIGITS + 1];
    char  salt[CA_CODE_SALT_LEN + 1];

    for (i = 0; i < 200; i++) {
        ca_code_generate(code);
        assert_int_equal(strlen(code), CA_CODE_DIGITS);

        for (j = 0; j < CA_CODE_DIGITS; j++) {
            assert_true(code[j] >= '0' && code[j] <= '9');
        }
    }

    ca_code_salt(salt);
    assert_int_equal(strlen(salt), CA_CODE_SALT_LEN);
    assert_int_equal(strspn(salt, "0123456789abcdef"), CA_CODE_SALT_LEN);
}


static void
code_hash_round_trip(void **state)
{
    char  code[CA_CODE_DIGITS + 1];
    char  hash[CA_CODE_HASH_LEN + 1], other[CA_CODE_HASH_LEN + 1];

    ca_code_generate(code);
    assert_int_equal(ca_code_hash(S(SALT), code, strlen(code), hash), 0);
    assert_int_equal(strlen(hash), CA_CODE_HASH_LEN);
    assert_int_equal(ca_code_check(S(SALT), hash, strlen(hash), code,
                                   strlen(code)), 1);

    /* the salt is the key: another salt, another hash */
    assert_int_equal(ca_code_hash(S("ff0102030405060708090a0b0c0d0e0f"),
                                  code, strlen(code), other), 0);
    assert_string_not_equal(hash, other);
    assert_int_equal(ca_code_check(S("ff0102030405060708090a0b0c0d0e0f"),
                                   hash, strlen(hash), code, strlen(code)),
                     0);
}


static void
code_as_typed(void **state)
{
    char  a[CA_CODE_HASH_LEN + 1], b[CA_CODE_HASH_LEN + 1];

    assert_int_equal(ca_code_hash(S(SALT), S("12345678"), a), 0);
    assert_int_equal(ca_code_hash(S(SALT), S("1234 5678"), b), 0);
    assert_string_equal(a, b);
    assert_int_equal(ca_code_hash(S(SALT), S("1234-5678"), b), 0);
    assert_string_equal(a, b);

    assert_int_equal(ca_code_check(S(SALT), a, strlen(a), S("12345679")), 0);
}


static void
code_malformed(void **state)
{
    char  h[CA_CODE_HASH_LEN + 1];

    assert_int_equal(ca_code_hash(S(SALT), S(""), h), -1);
    assert_int_equal(ca_code_hash(S(SALT), S("1234567"), h), -1);
    assert_int_equal(ca_code_hash(S(SALT), S("123456789"), h), -1);
    assert_int_equal(ca_code_hash(S(SALT), S("1234567a"), h), -1);
    assert_int_equal(ca_code_hash(S(SALT), S(" 12345678"), h), -1);
    assert_int_equal(ca_code_hash(S(SALT), S("12345678 "), h), -1);
    assert_int_equal(ca_code_hash(S(SALT), S("1234\0" "5678"), h), -1);
    assert_int_equal(ca_code_hash(S("0001"), S("12345678"), h), -1);
    assert_int_equal(ca_code_hash(S("zz0102030405060708090a0b0c0d0e0f"),
                                  S("12345678"), h), -1);
    assert_int_equal(ca_code_check(S(SALT), S("abc"), S("12345678")), -1);
}


static void
change_state(void **state)
{
    ca_email_change_t  ec;

    memset(&ec, 0, sizeof(ec));
    ec.expires = 1000;

    /* nothing done yet: waits, then dies at its deadline */
    assert_int_equal(ca_email_change_state(&ec, 999), CA_EC_WAITING);
    assert_int_equal(ca_email_change_state(&ec, 1000), CA_EC_DEAD);

    /* only one of the two: still waits, dies at the deadline */
    ec.confirmed = 1;
    assert_int_equal(ca_email_change_state(&ec, 999), CA_EC_WAITING);
    assert_int_equal(ca_email_change_state(&ec, 1000), CA_EC_DEAD);
    ec.confirmed = 0;
    ec.verified = 500;
    assert_int_equal(ca_email_change_state(&ec, 999), CA_EC_WAITING);
    assert_int_equal(ca_email_change_state(&ec, 1000), CA_EC_DEAD);

    /* both: applies */
    ec.confirmed = 1;
    assert_int_equal(ca_email_change_state(&ec, 999), CA_EC_APPLY);

    /* grace: verified, no code, applies once due, even past the deadline */
    ec.confirmed = 0;
    ec.due = 5000;
    assert_int_equal(ca_email_change_state(&ec, 4999), CA_EC_WAITING);
    assert_int_equal(ca_email_change_state(&ec, 5000), CA_EC_APPLY);

    /* grace, but not verified: dies at the deadline */
    ec.verified = 0;
    assert_int_equal(ca_email_change_state(&ec, 5000), CA_EC_DEAD);

    /* out of tries: dead whatever else */
    ec.verified = 500;
    ec.confirmed = 1;
    ec.tries = CA_CODE_TRIES;
    assert_int_equal(ca_email_change_state(&ec, 10), CA_EC_DEAD);
    ec.tries = CA_CODE_TRIES - 1;
    assert_int_equal(ca_email_change_state(&ec, 10), CA_EC_APPLY);
}


static void
change_key(void **state)
{
    char  key[CA_KEY_MAX];

    assert_int_equal(ca_key_user_email_change(key, sizeof(key), "ovh", "7",
                                              "9"),
                     (int) strlen("ca:{ovh:7}:user:9:email-change"));
    assert_string_equal(key, "ca:{ovh:7}:user:9:email-change");
    assert_int_equal(ca_key_user_email_change(key, 10, "ovh", "7", "9"), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(code_is_eight_digits),
        cmocka_unit_test(code_hash_round_trip),
        cmocka_unit_test(code_as_typed),
        cmocka_unit_test(code_malformed),
        cmocka_unit_test(change_state),
        cmocka_unit_test(change_key),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
