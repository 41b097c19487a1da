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
#include <time.h>
#include <cmocka.h>
#include <crypt.h>
#include <sodium.h>

#include "ca_pwhash.h"


#define S(s)  s, sizeof(s) - 1

#define PASSWORD  "Correct horse 1!"
#define WRONG_PW  "Wrong horse 1!"

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


/*
 * Finding 13: a stored hash made arbitrarily costly would tie a hash thread
 * up at every attempt.  Out of bounds, it is an error and is not hashed.
 */

static void
argon2_hash_at(unsigned long long t, size_t m, char *out)
{
    assert_int_equal(crypto_pwhash_str(out, S(PASSWORD), t, m), 0);
}


static void
test_costs_out_of_bounds_are_errors_without_hashing(void **state)
{
    int   rehash;
    char  hash[CA_PWHASH_MAX];

    /* one step past each bound: each verifies, were it not refused */
    legacy_hash("$2b$", 13, PASSWORD, hash, sizeof(hash));
    assert_int_equal(verify(hash, S(PASSWORD), &low, &rehash), CA_PW_ERROR);

    legacy_hash("$6$", 700000, PASSWORD, hash, sizeof(hash));
    assert_int_equal(verify(hash, S(PASSWORD), &low, &rehash), CA_PW_ERROR);

    argon2_hash_at(1, 128 * 1024 * 1024, hash);          /* m over 64 MiB */
    assert_int_equal(verify(hash, S(PASSWORD), &low, &rehash), CA_PW_ERROR);

    argon2_hash_at(5, 64 * 1024 * 1024, hash);        /* t x m over 4 x 64 */
    assert_int_equal(verify(hash, S(PASSWORD), &low, &rehash), CA_PW_ERROR);

    /* hours of work each, were they hashed */
    ERROR("$2y$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
    ERROR("$6$rounds=999999999$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSM"
          "HWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1");
    ERROR("$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
          "wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA");
}


static void
test_costs_within_bounds_verify(void **state)
{
    char  hash[CA_PWHASH_MAX];

    legacy_hash("$2y$", 4, PASSWORD, hash, sizeof(hash));
    MATCH(hash, PASSWORD, 1);

    legacy_hash("$6$", 1000, PASSWORD, hash, sizeof(hash));
    MATCH(hash, PASSWORD, 1);

    /* PHP's argon2id default, next to a gateway of lower cost */
    argon2_hash_at(4, 64 * 1024 * 1024, hash);
    MATCH(hash, PASSWORD, 1);
}


#define CHECK_OK(stored, cost)                                                \
    assert_int_equal(ca_pwhash_check(stored, cost, why, sizeof(why)), 0)

#define CHECK_REFUSED(stored, cost, text)                                     \
    do {                                                                      \
        assert_int_equal(ca_pwhash_check(stored, cost, why, sizeof(why)),     \
                         -1);                                                 \
        assert_non_null(strstr(why, text));                                   \
    } while (0)

#define BCRYPT_TAIL  "CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define SHA512_TAIL                                                           \
    "saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"        \
    "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define ARGON2_TAIL  "$c2FsdHNhbHRzYWx0c2FsdA$wWKIMhR9lyDFvRz9YTZweHKfbftvj+q" \
                     "f+YFY4NeBbtA"


static void
test_params_are_parsed(void **state)
{
    char                hash[CA_PWHASH_MAX];
    ca_pwhash_params_t  hp;

    assert_int_equal(ca_pwhash_params(BCRYPT_2Y_FF, &hp), 0);
    assert_int_equal(hp.scheme, CA_PWHASH_BCRYPT);
    assert_int_equal(hp.cost, 5);

    assert_int_equal(ca_pwhash_params(SHA512_HELLO, &hp), 0);
    assert_int_equal(hp.scheme, CA_PWHASH_SHA512CRYPT);
    assert_int_equal(hp.cost, 5000);

    assert_int_equal(ca_pwhash_params(SHA512_HELLO_ROUNDS, &hp), 0);
    assert_int_equal(hp.cost, 10000);

    assert_int_equal(ca_pwhash_hash(S(PASSWORD), &more_memory, hash), 0);
    assert_int_equal(ca_pwhash_params(hash, &hp), 0);
    assert_int_equal(hp.scheme, CA_PWHASH_ARGON2ID);
    assert_int_equal(hp.cost, crypto_pwhash_OPSLIMIT_MIN);
    assert_int_equal(hp.m, 16384);
    assert_int_equal(hp.p, 1);

    /* malformed: cut short, spelled oddly, numbers too long */
    assert_int_equal(ca_pwhash_params("$2y$5$" BCRYPT_TAIL, &hp), -1);
    assert_int_equal(ca_pwhash_params("$2y$05$" BCRYPT_TAIL "x", &hp), -1);
    assert_int_equal(ca_pwhash_params("$2y$05$CCCC", &hp), -1);
    assert_int_equal(ca_pwhash_params("$6$rounds=05000$" SHA512_TAIL, &hp),
                     -1);
    assert_int_equal(ca_pwhash_params("$6$rounds=$" SHA512_TAIL, &hp), -1);
    assert_int_equal(ca_pwhash_params("$6$rounds=99999999999$" SHA512_TAIL,
                                      &hp), -1);
    assert_int_equal(ca_pwhash_params("$6$saltstring$short", &hp), -1);
    assert_int_equal(ca_pwhash_params("$6$$" SHA512_TAIL, &hp), -1);
    assert_int_equal(ca_pwhash_params("$argon2id$v=19$m=65536,p=1,t=2"
                                      ARGON2_TAIL, &hp), -1);
    assert_int_equal(ca_pwhash_params("$argon2id$v=19$m=1e9,t=2,p=1"
                                      ARGON2_TAIL, &hp), -1);
    assert_int_equal(ca_pwhash_params("$argon2id$v=19$m=65536,t=2,p=1",
                                      &hp), -1);
    assert_int_equal(ca_pwhash_params("$1$md5$x", &hp), -1);
}


static void
test_bounds_with_reasons(void **state)
{
    char                     why[160];
    const ca_pwhash_cost_t   dflt = { 2, 19 * 1024 * 1024 };
    const ca_pwhash_cost_t   high = { 3, 256 * 1024 * 1024 };

    CHECK_OK("$2y$04$" BCRYPT_TAIL, &dflt);
    CHECK_OK("$2b$12$" BCRYPT_TAIL, &dflt);
    CHECK_REFUSED("$2y$03$" BCRYPT_TAIL, &dflt, "bcrypt cost 3 is outside");
    CHECK_REFUSED("$2y$13$" BCRYPT_TAIL, &dflt, "bcrypt cost 13 is outside");
    CHECK_REFUSED("$2a$31$" BCRYPT_TAIL, &dflt, "bcrypt cost 31");

    CHECK_OK("$6$" SHA512_TAIL, &dflt);
    CHECK_OK("$6$rounds=1000$" SHA512_TAIL, &dflt);
    CHECK_OK("$6$rounds=656000$" SHA512_TAIL, &dflt);
    CHECK_REFUSED("$6$rounds=999$" SHA512_TAIL, &dflt, "rounds 999");
    CHECK_REFUSED("$6$rounds=656001$" SHA512_TAIL, &dflt, "rounds 656001");
    CHECK_REFUSED("$6$rounds=999999999$" SHA512_TAIL, &dflt,
                  "rounds 999999999 are outside 1000..656000");

    CHECK_OK("$argon2id$v=19$m=19456,t=2,p=1" ARGON2_TAIL, &dflt);
    CHECK_OK("$argon2id$v=19$m=65536,t=4,p=1" ARGON2_TAIL, &dflt);
    CHECK_OK("$argon2id$v=19$m=65536,t=3,p=4" ARGON2_TAIL, &dflt);
    CHECK_OK("$argon2id$v=19$m=8,t=1,p=1" ARGON2_TAIL, &dflt);
    CHECK_REFUSED("$argon2id$v=19$m=4194304,t=3,p=1" ARGON2_TAIL, &dflt,
                  "m=4194304 KiB is over 65536 KiB");
    CHECK_REFUSED("$argon2id$v=19$m=65536,t=5,p=1" ARGON2_TAIL, &dflt,
                  "t=5 x m=65536 KiB is over 262144");
    CHECK_REFUSED("$argon2id$v=19$m=8192,t=999999,p=1" ARGON2_TAIL, &dflt,
                  "is over");
    CHECK_REFUSED("$argon2id$v=19$m=65536,t=2,p=9" ARGON2_TAIL, &dflt,
                  "p=9");
    CHECK_REFUSED("$argon2id$v=19$m=65536,t=0,p=1" ARGON2_TAIL, &dflt,
                  "t=0");
    CHECK_REFUSED("$argon2id$v=19$m=16,t=2,p=4" ARGON2_TAIL, &dflt,
                  "per lane");

    /* near a costlier configured cost: up to twice it */
    CHECK_OK("$argon2id$v=19$m=524288,t=3,p=1" ARGON2_TAIL, &high);
    CHECK_OK("$argon2id$v=19$m=262144,t=6,p=1" ARGON2_TAIL, &high);
    CHECK_REFUSED("$argon2id$v=19$m=524289,t=1,p=1" ARGON2_TAIL, &high,
                  "over 524288 KiB");
    CHECK_REFUSED("$argon2id$v=19$m=262144,t=7,p=1" ARGON2_TAIL, &high,
                  "over 1572864");

    CHECK_REFUSED("secret", &dflt, "malformed or unknown");
    assert_int_equal(ca_pwhash_check("$2y$13$" BCRYPT_TAIL, &dflt, NULL, 0),
                     -1);
}


static void
test_ceiling_covers_the_costliest_hash(void **state)
{
    int64_t            ceiling, again;
    ca_pwhash_calib_t  calib;
    char               hash[CA_PWHASH_MAX];
    struct timespec    t0, t1;
    int64_t            took;
    int                rehash;

    memset(&calib, 0, sizeof(calib));

    ceiling = ca_pwhash_ceiling_ms(&low, &calib);
    assert_true(calib.bcrypt_ms > 0 && calib.sha512_ms > 0);

    /* a bcrypt hash at the highest cost allowed, timed (CPU) as it verifies */
    legacy_hash("$2b$", CA_PWHASH_BCRYPT_COST_MAX, PASSWORD, hash,
                sizeof(hash));
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    assert_int_equal(verify(hash, S(WRONG_PW), &low, &rehash),
                     CA_PW_MISMATCH);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    took = (t1.tv_sec - t0.tv_sec) * 1000
           + (t1.tv_nsec - t0.tv_nsec) / 1000000;

    /* scaled from cost 8, within the noise of a shared machine */
    assert_true(ceiling * 4 >= took * 3);
    assert_true(ceiling <= took * 2);

    /* the legacy figures are measured once */
    again = ca_pwhash_ceiling_ms(&low, &calib);
    assert_true(again > 0);
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
        cmocka_unit_test(test_costs_out_of_bounds_are_errors_without_hashing),
        cmocka_unit_test(test_costs_within_bounds_verify),
        cmocka_unit_test(test_params_are_parsed),
        cmocka_unit_test(test_bounds_with_reasons),
        cmocka_unit_test(test_ceiling_covers_the_costliest_hash),
    };

    return cmocka_run_group_tests_name("ca_pwhash", tests, group_setup, NULL);
}
