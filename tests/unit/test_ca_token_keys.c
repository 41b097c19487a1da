/*
 * ca_token and ca_keys: bearer tokens, their at-rest hashes, and the Redis
 * key layout.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "ca_token.h"
#include "ca_keys.h"


#define S(s)  s, sizeof(s) - 1

#define B64URL                                                                \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* Python: hashlib.blake2b(bytes(range(32)), digest_size=32).hexdigest() */
#define TOKEN_0_31  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define HASH_0_31                                                             \
    "cb2f5160fc1f7e05a55ef49d340b48da2e5a78099d53393351cd579dd42503d6"

/* hashlib.blake2b(bytes(32), digest_size=32).hexdigest() */
#define HASH_ZEROS                                                            \
    "89eb0d6a8a691dae2cd15ed0369931ce0a949ecafa5c3f93f8121833646e15c3"

#define HASH_SIZE  (CA_TOKEN_HASH_LEN + 1)


static int
group_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}


static int
token_hash(const char *text, size_t len, char *hash)
{
    memset(hash, 'X', HASH_SIZE);

    return ca_token_hash(text, len, hash);
}


/* ca_token */

static void
test_token_generate(void **state)
{
    char    a[CA_TOKEN_LEN + 1], b[CA_TOKEN_LEN + 1];
    size_t  i;

    memset(a, 'X', sizeof(a));
    ca_token_generate(a);
    ca_token_generate(b);

    assert_int_equal(strlen(a), CA_TOKEN_LEN);
    assert_string_not_equal(a, b);

    for (i = 0; i < CA_TOKEN_LEN; i++) {
        assert_non_null(strchr(B64URL, a[i]));
    }
}


static void
test_token_hash_roundtrip(void **state)
{
    char           token[CA_TOKEN_LEN + 1], hash[HASH_SIZE],
                   again[HASH_SIZE], expected[HASH_SIZE];
    size_t         rawlen, i;
    unsigned char  raw[CA_TOKEN_BYTES], digest[CA_TOKEN_BYTES];

    for (i = 0; i < 64; i++) {
        ca_token_generate(token);

        assert_int_equal(token_hash(token, CA_TOKEN_LEN, hash), 0);
        assert_int_equal(strlen(hash), CA_TOKEN_HASH_LEN);

        assert_int_equal(token_hash(token, CA_TOKEN_LEN, again), 0);
        assert_string_equal(hash, again);

        /* the BLAKE2b-256 of the raw bytes, not of the text */
        assert_int_equal(sodium_base642bin(raw, sizeof(raw), token,
                             CA_TOKEN_LEN, NULL, &rawlen, NULL,
                             sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
        assert_int_equal(rawlen, CA_TOKEN_BYTES);
        crypto_generichash(digest, sizeof(digest), raw, sizeof(raw), NULL, 0);
        sodium_bin2hex(expected, sizeof(expected), digest, sizeof(digest));
        assert_string_equal(hash, expected);
    }
}


static void
test_token_owned_roundtrip(void **state)
{
    char  token[CA_TOKEN_LEN + 1], again[HASH_SIZE],
          hash[HASH_SIZE], a[CA_TOKEN_ID_LEN], u[CA_TOKEN_ID_LEN];

    assert_int_equal(ca_token_generate_owned(token, "4294967295", "7"), 0);
    assert_int_equal(strlen(token), CA_TOKEN_LEN);
    assert_int_equal(token_hash(token, CA_TOKEN_LEN, hash), 0);
    assert_int_equal(ca_token_session(token, CA_TOKEN_LEN, again, a, u), 0);
    assert_string_equal(again, hash);
    assert_string_equal(a, "4294967295");
    assert_string_equal(u, "7");

    /* the rest is random: two tokens of one user differ */
    assert_int_equal(ca_token_generate_owned(again, "4294967295", "7"), 0);
    assert_memory_not_equal(token, again, CA_TOKEN_LEN);
}


static void
test_token_owned_refuses_bad_ids(void **state)
{
    char  token[CA_TOKEN_LEN + 1], hash[HASH_SIZE], a[CA_TOKEN_ID_LEN],
          u[CA_TOKEN_ID_LEN], zeros[CA_TOKEN_LEN];

    assert_int_equal(ca_token_generate_owned(token, "4294967296", "1"), -1);
    assert_int_equal(ca_token_generate_owned(token, "1", "0"), -1);
    assert_int_equal(ca_token_generate_owned(token, "", "1"), -1);
    assert_int_equal(ca_token_generate_owned(token, "01", "1"), -1);
    assert_int_equal(ca_token_generate_owned(token, "1x", "1"), -1);

    /* a token whose ids are 0 names nobody */
    memset(zeros, 'A', sizeof(zeros));
    assert_int_equal(ca_token_session(zeros, sizeof(zeros), hash, a, u), -1);
    assert_int_equal(ca_token_session(zeros, sizeof(zeros) - 1, hash, a, u),
                     -1);
}


static void
test_token_hash_vectors(void **state)
{
    char  hash[HASH_SIZE], zeros[CA_TOKEN_LEN];

    assert_int_equal(token_hash(S(TOKEN_0_31), hash), 0);
    assert_string_equal(hash, HASH_0_31);

    memset(zeros, 'A', sizeof(zeros));
    assert_int_equal(token_hash(zeros, sizeof(zeros), hash), 0);
    assert_string_equal(hash, HASH_ZEROS);
}


static void
test_token_hash_length(void **state)
{
    char  token[CA_TOKEN_LEN + 2], hash[HASH_SIZE];

    memcpy(token, TOKEN_0_31 "A", sizeof(token));

    assert_int_equal(token_hash(token, CA_TOKEN_LEN, hash), 0);
    assert_int_equal(token_hash(token, CA_TOKEN_LEN - 1, hash), -1);
    assert_int_equal(token_hash(token, CA_TOKEN_LEN + 1, hash), -1);
    assert_int_equal(token_hash(token, 0, hash), -1);

    /* padded standard base64 is 44 characters */
    assert_int_equal(token_hash(S(TOKEN_0_31 "="), hash), -1);
}


static void
test_token_hash_alphabet(void **state)
{
    char               token[CA_TOKEN_LEN + 1], hash[HASH_SIZE];
    size_t             i;
    static const char  bad[] = "+/=. \t\n\0*%~";

    for (i = 0; i < sizeof(bad) - 1; i++) {
        memcpy(token, TOKEN_0_31, sizeof(token));
        token[10] = bad[i];

        assert_int_equal(token_hash(token, CA_TOKEN_LEN, hash), -1);
    }

    /* '-' and '_' are base64url */
    memcpy(token, TOKEN_0_31, sizeof(token));
    token[10] = '-';
    assert_int_equal(token_hash(token, CA_TOKEN_LEN, hash), 0);
    token[10] = '_';
    assert_int_equal(token_hash(token, CA_TOKEN_LEN, hash), 0);
}


/*
 * libsodium 1.0.18 (Debian 12) decodes every byte from 0x80 up as '_' (a
 * signed char in sodium_base642bin; fixed upstream): ca_token_hash() checks
 * the alphabet itself, so "x\x80y" never names the same token as "x_y".
 */

static void
test_token_hash_rejects_high_bytes(void **state)
{
    int     c, accepted;
    char    token[CA_TOKEN_LEN + 1], hash[HASH_SIZE];

    accepted = 0;

    for (c = 0x80; c <= 0xff; c++) {
        memcpy(token, TOKEN_0_31, sizeof(token));
        token[10] = (char) c;

        if (token_hash(token, CA_TOKEN_LEN, hash) == 0) {
            accepted++;
        }
    }

    assert_int_equal(accepted, 0);
}


/*
 * 43 characters carry 258 bits for 256: the last character's two low bits
 * must be zero, or two spellings would name one token.
 */

static void
test_token_hash_canonical_last_char(void **state)
{
    char    token[CA_TOKEN_LEN + 1], hash[HASH_SIZE];
    size_t  i;

    memcpy(token, TOKEN_0_31, sizeof(token));

    for (i = 0; i < 64; i++) {
        token[CA_TOKEN_LEN - 1] = B64URL[i];

        assert_int_equal(token_hash(token, CA_TOKEN_LEN, hash),
                         (i % 4 == 0) ? 0 : -1);
    }
}


/* ca_keys */

static void
test_brand_is_valid(void **state)
{
    char  brand[CA_BRAND_MAX + 1];

    assert_true(ca_brand_is_valid(S("magic")));
    assert_true(ca_brand_is_valid(S("nuxit-phpnet")));
    assert_true(ca_brand_is_valid(S("magic_jack2")));
    assert_true(ca_brand_is_valid(S("0")));

    memset(brand, 'a', sizeof(brand));
    assert_true(ca_brand_is_valid(brand, CA_BRAND_MAX));
    assert_false(ca_brand_is_valid(brand, CA_BRAND_MAX + 1));

    assert_false(ca_brand_is_valid(S("")));
    assert_false(ca_brand_is_valid(S("Magic")));
    assert_false(ca_brand_is_valid(S("ma gic")));
    assert_false(ca_brand_is_valid(S("ma:gic")));
    assert_false(ca_brand_is_valid(S("ma{gic}")));
    assert_false(ca_brand_is_valid(S("ma*")));
    assert_false(ca_brand_is_valid(S("magic\0")));
    assert_false(ca_brand_is_valid(S("m\xc3\xa1gic")));
}


static void
test_id_is_valid(void **state)
{
    assert_true(ca_id_is_valid(S("1")));
    assert_true(ca_id_is_valid(S("0042")));
    assert_true(ca_id_is_valid(S("12345678901234567890")));

    assert_false(ca_id_is_valid(S("")));
    assert_false(ca_id_is_valid(S("123456789012345678901")));
    assert_false(ca_id_is_valid(S("12a")));
    assert_false(ca_id_is_valid(S("-1")));
    assert_false(ca_id_is_valid(S(" 1")));
    assert_false(ca_id_is_valid(S("1:2")));
}


static void
test_key_builders(void **state)
{
    char  key[CA_KEY_MAX];

    assert_int_equal(ca_key_ident(key, sizeof(key), "magic", "email",
                                  "ana@example.com"),
                     strlen("ca:magic:id:email:ana@example.com"));
    assert_string_equal(key, "ca:magic:id:email:ana@example.com");

    assert_int_equal(ca_key_seq(key, sizeof(key), "magic", "account"),
                     strlen("ca:magic:seq:account"));
    assert_string_equal(key, "ca:magic:seq:account");

    assert_int_equal(ca_key_session(key, sizeof(key), "magic", "42",
                                    HASH_ZEROS),
                     strlen("ca:{magic:42}:sess:" HASH_ZEROS));
    assert_string_equal(key, "ca:{magic:42}:sess:" HASH_ZEROS);

    assert_int_equal(ca_key_account(key, sizeof(key), "magic", "42"),
                     strlen("ca:{magic:42}:account"));
    assert_string_equal(key, "ca:{magic:42}:account");

    assert_int_equal(ca_key_account_users(key, sizeof(key), "magic", "42"),
                     strlen("ca:{magic:42}:users"));
    assert_string_equal(key, "ca:{magic:42}:users");

    assert_int_equal(ca_key_user(key, sizeof(key), "magic", "42", "7"),
                     strlen("ca:{magic:42}:user:7"));
    assert_string_equal(key, "ca:{magic:42}:user:7");

    assert_int_equal(ca_key_user_sessions(key, sizeof(key), "magic", "42",
                                          "7"),
                     strlen("ca:{magic:42}:user:7:sessions"));
    assert_string_equal(key, "ca:{magic:42}:user:7:sessions");

    assert_int_equal(ca_key_user_history(key, sizeof(key), "magic", "42",
                                         "7"),
                     strlen("ca:{magic:42}:user:7:history"));
    assert_string_equal(key, "ca:{magic:42}:user:7:history");

    /* sub-user invitations */
    assert_int_equal(ca_key_invite(key, sizeof(key), "axarnet", HASH_ZEROS),
                     strlen("ca:axarnet:invite:" HASH_ZEROS));
    assert_string_equal(key, "ca:axarnet:invite:" HASH_ZEROS);

    assert_int_equal(ca_key_account_invites(key, sizeof(key), "axarnet",
                                            "42"),
                     strlen("ca:{axarnet:42}:invites"));
    assert_string_equal(key, "ca:{axarnet:42}:invites");
    assert_int_equal(ca_key_account_invites(key, 10, "axarnet", "42"), -1);
}


static void
test_key_builders_too_small(void **state)
{
    char    key[CA_KEY_MAX];
    size_t  need;

    need = strlen("ca:{magic:42}:user:7:sessions") + 1;

    assert_int_equal(ca_key_user_sessions(key, need, "magic", "42", "7"),
                     need - 1);
    assert_string_equal(key, "ca:{magic:42}:user:7:sessions");

    assert_int_equal(ca_key_user_sessions(key, need - 1, "magic", "42", "7"),
                     -1);
    assert_int_equal(ca_key_account(key, 0, "magic", "42"), -1);
    assert_int_equal(ca_key_ident(key, 10, "magic", "email", "a@b.c"), -1);
    assert_int_equal(ca_key_seq(key, 5, "magic", "account"), -1);
    assert_int_equal(ca_key_session(key, 20, "magic", "42", HASH_ZEROS), -1);
    need = strlen("ca:{magic:42}:sess:" HASH_ZEROS) + 1;
    assert_int_equal(ca_key_session(key, need, "magic", "42", HASH_ZEROS),
                     need - 1);
    assert_int_equal(ca_key_session(key, need - 1, "magic", "42", HASH_ZEROS),
                     -1);
}


static void
test_id_ref_parse(void **state)
{
    char  account[21], user[21];

    assert_int_equal(ca_id_ref_parse(S("42:7"), account, user), 0);
    assert_string_equal(account, "42");
    assert_string_equal(user, "7");

    assert_int_equal(ca_id_ref_parse(S("12345678901234567890:"
                                       "09876543210987654321"),
                                     account, user),
                     0);
    assert_string_equal(account, "12345678901234567890");
    assert_string_equal(user, "09876543210987654321");

    /* len bounds the text: it needs no NUL */
    assert_int_equal(ca_id_ref_parse("42:7:99", 4, account, user), 0);
    assert_string_equal(user, "7");
}


static void
test_id_ref_parse_invalid(void **state)
{
    char  account[21], user[21];

    assert_int_equal(ca_id_ref_parse(S(""), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S("42"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S("42:"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S(":7"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S(":"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S("42:7:1"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S("4a:7"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S("42:7 "), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S(" 42:7"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S("-42:7"), account, user), -1);
    assert_int_equal(ca_id_ref_parse(S("123456789012345678901:7"),
                                     account, user),
                     -1);
    assert_int_equal(ca_id_ref_parse(S("42:123456789012345678901"),
                                     account, user),
                     -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_token_generate),
        cmocka_unit_test(test_token_hash_roundtrip),
        cmocka_unit_test(test_token_hash_vectors),
        cmocka_unit_test(test_token_owned_roundtrip),
        cmocka_unit_test(test_token_owned_refuses_bad_ids),
        cmocka_unit_test(test_token_hash_length),
        cmocka_unit_test(test_token_hash_alphabet),
        cmocka_unit_test(test_token_hash_rejects_high_bytes),
        cmocka_unit_test(test_token_hash_canonical_last_char),
        cmocka_unit_test(test_brand_is_valid),
        cmocka_unit_test(test_id_is_valid),
        cmocka_unit_test(test_key_builders),
        cmocka_unit_test(test_key_builders_too_small),
        cmocka_unit_test(test_id_ref_parse),
        cmocka_unit_test(test_id_ref_parse_invalid),
    };

    return cmocka_run_group_tests_name("ca_token_keys", tests, group_setup,
                                       NULL);
}
