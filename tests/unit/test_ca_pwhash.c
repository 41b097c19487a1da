/*
 * ca_pwhash: argon2id hashes, legacy bcrypt and sha512-crypt imports.
 * argon2id runs at libsodium's lowest cost here to keep the suite fast.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include <crypt.h>
#include <sodium.h>

#include "ca_pwhash.h"


#define S(s)  s, sizeof(s) - 1

#define PASSWORD  "Correct horse 1!"

#define THREADS     4
#define ITERATIONS  8


static const ca_pwhash_cost_t  low = {
    crypto_pwhash_OPSLIMIT_MIN, 8192 * 1024
};

static const ca_pwhash_cost_t  more_time = {
    crypto_pwhash_OPSLIMIT_MIN + 1, 8192 * 1024
};

static const ca_pwhash_cost_t  more_memory = {
    crypto_pwhash_OPSLIMIT_MIN, 16384 * 1024
};


/* Published vectors: openwall crypt_blowfish, Drepper's SHA-crypt spec. */

#define BCRYPT_2A_UXU                                                         \
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define BCRYPT_2Y_FF                                                          \
    "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"
#define BCRYPT_2B_FF                                                          \
    "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"
#define SHA512_HELLO                                                          \
    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"    \
    "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define SHA512_HELLO_ROUNDS                                                   \
    "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbb"  \
    "MCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."


static int
group_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}


/* A legacy hash as a portal would have stored it, made with libcrypt. */

static void
legacy_hash(const char *prefix, unsigned long count, const char *password,
    char *out, size_t size)
{
    char               setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data  data;

    assert_non_null(crypt_gensalt_rn(prefix, count, NULL, 0, setting,
                                     sizeof(setting)));

    memset(&data, 0, sizeof(data));
    assert_non_null(crypt_rn(password, setting, &data, sizeof(data)));
    assert_true(strlen(data.output) < size);

    strcpy(out, data.output);
}


static ca_pw_rc_e
verify(const char *stored, const char *password, size_t len,
    const ca_pwhash_cost_t *cost, int *rehash)
{
    /* a value the call must overwrite */
    *rehash = -1;

    return ca_pwhash_verify(stored, password, len, cost, rehash);
}


static void
expect(const char *stored, const char *password, size_t len,
    ca_pw_rc_e rc, int rehash)
{
    int  needs_rehash;

    assert_int_equal(verify(stored, password, len, &low, &needs_rehash), rc);
    assert_int_equal(needs_rehash, rehash);
}


#define MATCH(stored, pw, rehash)  expect(stored, S(pw), CA_PW_MATCH, rehash)
#define MISMATCH(stored, pw)       expect(stored, S(pw), CA_PW_MISMATCH, 0)
#define ERROR(stored)              expect(stored, S(PASSWORD), CA_PW_ERROR, 0)


static void
test_scheme_names(void **state)
{
    char  hash[CA_PWHASH_MAX];

    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &low, hash), 0);
    assert_string_equal(ca_pwhash_scheme(hash), "argon2id");

    assert_string_equal(ca_pwhash_scheme(BCRYPT_2A_UXU), "bcrypt");
    assert_string_equal(ca_pwhash_scheme(BCRYPT_2Y_FF), "bcrypt");
    assert_string_equal(ca_pwhash_scheme(BCRYPT_2B_FF), "bcrypt");
    assert_string_equal(ca_pwhash_scheme(SHA512_HELLO), "sha512crypt");
    assert_string_equal(ca_pwhash_scheme(SHA512_HELLO_ROUNDS), "sha512crypt");

    assert_null(ca_pwhash_scheme(NULL));
    assert_null(ca_pwhash_scheme(""));
    assert_null(ca_pwhash_scheme("secret"));
    assert_null(ca_pwhash_scheme("$argon2i$v=19$m=8192,t=3,p=1$x$y"));
    assert_null(ca_pwhash_scheme("$argon2d$v=19$m=8192,t=3,p=1$x$y"));
    assert_null(ca_pwhash_scheme("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRG"));
    assert_null(ca_pwhash_scheme("$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0"));
    assert_null(ca_pwhash_scheme("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3h"));
    assert_null(ca_pwhash_scheme("$y$j9T$salt$hash"));
    assert_null(ca_pwhash_scheme("$6"));
}


static void
test_argon2id_roundtrip(void **state)
{
    char  hash[CA_PWHASH_MAX];

    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &low, hash), 0);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_true(strlen(hash) < CA_PWHASH_MAX);

    MATCH(hash, PASSWORD, 0);

    MISMATCH(hash, "Correct horse 1");
    MISMATCH(hash, "Correct horse 1!!");
    MISMATCH(hash, "correct horse 1!");
    MISMATCH(hash, "");
}


static void
test_argon2id_is_salted(void **state)
{
    char  a[CA_PWHASH_MAX], b[CA_PWHASH_MAX];

    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &low, a), 0);
    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &low, b), 0);

    assert_string_not_equal(a, b);
    MATCH(a, PASSWORD, 0);
    MATCH(b, PASSWORD, 0);
}


static void
test_argon2id_empty_and_long_passwords(void **state)
{
    char  hash[CA_PWHASH_MAX], long_pw[1024];

    assert_int_equal(ca_pwhash_hash(S(""), &low, hash), 0);
    MATCH(hash, "", 0);
    MISMATCH(hash, " ");

    memset(long_pw, 'p', sizeof(long_pw));
    assert_int_equal(ca_pwhash_hash(long_pw, sizeof(long_pw), &low, hash),
                     0);
    expect(hash, long_pw, sizeof(long_pw), CA_PW_MATCH, 0);
    expect(hash, long_pw, sizeof(long_pw) - 1, CA_PW_MISMATCH, 0);
}


static void
test_argon2id_needs_rehash_on_cost_change(void **state)
{
    int   rehash;
    char  hash[CA_PWHASH_MAX];

    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &low, hash), 0);

    assert_int_equal(verify(hash, S(PASSWORD), &low, &rehash), CA_PW_MATCH);
    assert_int_equal(rehash, 0);

    assert_int_equal(verify(hash, S(PASSWORD), &more_time, &rehash),
                     CA_PW_MATCH);
    assert_int_equal(rehash, 1);

    assert_int_equal(verify(hash, S(PASSWORD), &more_memory, &rehash),
                     CA_PW_MATCH);
    assert_int_equal(rehash, 1);

    /* a wrong password says nothing about the hash */
    assert_int_equal(verify(hash, S("wrong"), &more_time, &rehash),
                     CA_PW_MISMATCH);
    assert_int_equal(rehash, 0);

    /* the upgraded hash is current */
    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &more_memory, hash), 0);
    assert_int_equal(verify(hash, S(PASSWORD), &more_memory, &rehash),
                     CA_PW_MATCH);
    assert_int_equal(rehash, 0);
}


static void
test_argon2i_is_verified_and_upgraded(void **state)
{
    int               rehash;
    char              hash[crypto_pwhash_STRBYTES];
    ca_pwhash_cost_t  same;

    same.opslimit = crypto_pwhash_argon2i_OPSLIMIT_MIN;
    same.memlimit = low.memlimit;

    assert_int_equal(crypto_pwhash_str_alg(hash, S(PASSWORD), same.opslimit,
                                           same.memlimit,
                                           crypto_pwhash_ALG_ARGON2I13),
                     0);
    assert_true(strncmp(hash, "$argon2i$", 9) == 0);

    /* even when its cost is the configured one: argon2id replaces it */
    assert_int_equal(verify(hash, S(PASSWORD), &same, &rehash), CA_PW_MATCH);
    assert_int_equal(rehash, 1);

    MATCH(hash, PASSWORD, 1);
    MISMATCH(hash, "wrong");
}


static void
test_bcrypt_vectors(void **state)
{
    MATCH(BCRYPT_2A_UXU, "U*U", 1);
    MATCH(BCRYPT_2Y_FF, "\xff\xff\xa3", 1);
    MATCH(BCRYPT_2B_FF, "\xff\xff\xa3", 1);

    MISMATCH(BCRYPT_2A_UXU, "U*U*");
    MISMATCH(BCRYPT_2A_UXU, "u*u");
    MISMATCH(BCRYPT_2A_UXU, "");
    MISMATCH(BCRYPT_2Y_FF, "\xff\xff");
}


static void
test_bcrypt_generated(void **state)
{
    char         hash[CRYPT_OUTPUT_SIZE];
    const char  *prefixes[] = { "$2y$", "$2b$", "$2a$" };
    size_t       i;

    for (i = 0; i < 3; i++) {
        legacy_hash(prefixes[i], 4, PASSWORD, hash, sizeof(hash));
        assert_true(strncmp(hash, prefixes[i], 4) == 0);
        assert_string_equal(ca_pwhash_scheme(hash), "bcrypt");

        MATCH(hash, PASSWORD, 1);
        MISMATCH(hash, "Correct horse 1");
        MISMATCH(hash, "correct horse 1!");
    }
}


static void
test_sha512crypt_vectors(void **state)
{
    MATCH(SHA512_HELLO, "Hello world!", 1);
    MATCH(SHA512_HELLO_ROUNDS, "Hello world!", 1);

    MISMATCH(SHA512_HELLO, "Hello world");
    MISMATCH(SHA512_HELLO, "hello world!");
    MISMATCH(SHA512_HELLO_ROUNDS, "Hello world!!");
}


static void
test_sha512crypt_generated(void **state)
{
    char  hash[CRYPT_OUTPUT_SIZE];

    legacy_hash("$6$", 1000, PASSWORD, hash, sizeof(hash));
    assert_true(strncmp(hash, "$6$rounds=1000$", 15) == 0);

    MATCH(hash, PASSWORD, 1);
    MISMATCH(hash, "Correct horse 1");
    MISMATCH(hash, "");
}


static void
test_nul_in_password(void **state)
{
    char  hash[CA_PWHASH_MAX], legacy[CRYPT_OUTPUT_SIZE];

    /* crypt would stop at the NUL: "abc\0def" must not pass for "abc" */

    legacy_hash("$6$", 1000, "abc", legacy, sizeof(legacy));
    MATCH(legacy, "abc", 1);
    MISMATCH(legacy, "abc\0def");
    MISMATCH(legacy, "abc\0");

    legacy_hash("$2b$", 4, "abc", legacy, sizeof(legacy));
    MISMATCH(legacy, "abc\0def");

    assert_int_equal(ca_pwhash_hash(S("abc"), &low, hash), 0);
    MISMATCH(hash, "abc\0def");

    assert_int_equal(ca_pwhash_hash(S("abc\0def"), &low, hash), -1);
    assert_int_equal(ca_pwhash_hash(S("\0"), &low, hash), -1);
}


static void
test_legacy_password_too_long_for_libcrypt(void **state)
{
    char  hash[CRYPT_OUTPUT_SIZE], long_pw[CRYPT_MAX_PASSPHRASE_SIZE];

    legacy_hash("$6$", 1000, PASSWORD, hash, sizeof(hash));

    memset(long_pw, 'p', sizeof(long_pw));
    memcpy(long_pw, PASSWORD, sizeof(PASSWORD) - 1);

    /* one byte short of libcrypt's limit is still hashed */
    expect(hash, long_pw, sizeof(long_pw) - 1, CA_PW_MISMATCH, 0);

    /* past it, a mismatch rather than an error */
    expect(hash, long_pw, sizeof(long_pw), CA_PW_MISMATCH, 0);
}


static void
test_unknown_schemes_are_errors(void **state)
{
    ERROR(NULL);
    ERROR("");
    ERROR(PASSWORD);
    ERROR("$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0");
    ERROR("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF5rxXMB5");
    ERROR("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
    ERROR("$argon2d$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
          "QWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY");
}


static void
test_corrupt_argon2id(void **state)
{
    char    hash[CA_PWHASH_MAX], bad[2 * CA_PWHASH_MAX];
    size_t  len;

    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &low, hash), 0);
    len = strlen(hash);

    ERROR("$argon2id$");
    ERROR("$argon2id$v=19$m=8192,t=1,p=1$garbage");

    /* cut short */
    memcpy(bad, hash, len - 1);
    bad[len - 1] = '\0';
    ERROR(bad);

    /* a cost that is not a number */
    strcpy(bad, hash);
    bad[strlen("$argon2id$v=19$m=")] = 'x';
    ERROR(bad);

    /* longer than any libsodium hash */
    memset(bad, 'A', sizeof(bad) - 1);
    memcpy(bad, hash, len);
    bad[sizeof(bad) - 1] = '\0';
    ERROR(bad);
}


static void
test_corrupt_legacy_hashes(void **state)
{
    char    bad[CRYPT_OUTPUT_SIZE];
    size_t  len;

    /* an impossible bcrypt cost, a setting without its hash */
    ERROR("$2y$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
    ERROR("$2y$05$CCCCCCCCCCCCCCCCCCCCC.");
    ERROR("$6$saltstring");
    ERROR("$6$saltstring$");

    len = strlen(SHA512_HELLO);

    /* cut short, or with something after the hash */
    memcpy(bad, SHA512_HELLO, len - 1);
    bad[len - 1] = '\0';
    ERROR(bad);

    strcpy(bad, SHA512_HELLO);
    strcat(bad, "x");
    ERROR(bad);

    len = strlen(BCRYPT_2A_UXU);
    memcpy(bad, BCRYPT_2A_UXU, len - 1);
    bad[len - 1] = '\0';
    ERROR(bad);
}


/* ca_pwhash runs in nginx's thread pool: no shared state between calls. */

static void *
verify_many(void *arg)
{
    int          rehash, i;
    const char  *legacy = arg;
    ca_pw_rc_e   ok = CA_PW_MATCH;

    for (i = 0; i < ITERATIONS && ok == CA_PW_MATCH; i++) {
        if (ca_pwhash_verify(legacy, S("Hello world!"), &low, &rehash)
                != CA_PW_MATCH
            || ca_pwhash_verify(legacy, S("Hello world?"), &low, &rehash)
                != CA_PW_MISMATCH
            || ca_pwhash_verify(BCRYPT_2A_UXU, S("U*U"), &low, &rehash)
                != CA_PW_MATCH)
        {
            ok = CA_PW_ERROR;
        }
    }

    return ok == CA_PW_MATCH ? arg : NULL;
}


static void
test_concurrent_verifications(void **state)
{
    void       *result;
    size_t      i;
    pthread_t   threads[THREADS];

    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, verify_many,
                                        (void *) SHA512_HELLO),
                         0);
    }

    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_non_null(result);
    }
}


static void
test_is_current_only_for_argon2id_of_this_cost(void **state)
{
    char              hash[CA_PWHASH_MAX];
    ca_pwhash_cost_t  other = { low.opslimit + 1, low.memlimit };

    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &low, hash), 0);

    assert_true(ca_pwhash_is_current(hash, &low));
    assert_false(ca_pwhash_is_current(hash, &other));
    assert_false(ca_pwhash_is_current("$6$salt$abc", &low));
    assert_false(ca_pwhash_is_current("$argon2id$garbage", &low));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_scheme_names),
        cmocka_unit_test(test_argon2id_roundtrip),
        cmocka_unit_test(test_argon2id_is_salted),
        cmocka_unit_test(test_argon2id_empty_and_long_passwords),
        cmocka_unit_test(test_argon2id_needs_rehash_on_cost_change),
        cmocka_unit_test(test_argon2i_is_verified_and_upgraded),
        cmocka_unit_test(test_bcrypt_vectors),
        cmocka_unit_test(test_bcrypt_generated),
        cmocka_unit_test(test_sha512crypt_vectors),
        cmocka_unit_test(test_sha512crypt_generated),
        cmocka_unit_test(test_nul_in_password),
        cmocka_unit_test(test_legacy_password_too_long_for_libcrypt),
        cmocka_unit_test(test_unknown_schemes_are_errors),
        cmocka_unit_test(test_corrupt_argon2id),
        cmocka_unit_test(test_is_current_only_for_argon2id_of_this_cost),
        cmocka_unit_test(test_corrupt_legacy_hashes),
        cmocka_unit_test(test_concurrent_verifications),
    };

    return cmocka_run_group_tests_name("ca_pwhash", tests, group_setup, NULL);
}
