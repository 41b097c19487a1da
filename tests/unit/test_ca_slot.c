/*
 * ca_slot, Redis Cluster's key slot, and the key layout's promise: every key
 * of one account, its sessions included, is in the account's slot, so a
 * revocation or a password reset is one slot's transaction.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "ca_keys.h"
#include "ca_slot.h"
#include "ca_token.h"


#define SLOT(s)  ca_slot(s, sizeof(s) - 1)


static int
group_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}


/* What CLUSTER KEYSLOT answers (Redis 7.0, cluster-enabled). */

static void
test_slot_vectors(void **state)
{
    assert_int_equal(SLOT("123456789"), 12739);
    assert_int_equal(SLOT("foo"), 12182);
    assert_int_equal(SLOT("bar"), 5061);
    assert_int_equal(SLOT(""), 0);
    assert_int_equal(SLOT("{"), 4092);
    assert_int_equal(SLOT("a{b"), 13340);
    assert_int_equal(SLOT("{user1000}.following"), 3443);
    assert_int_equal(SLOT("ca:{magic:42}:account"), 10612);
    assert_int_equal(SLOT("magic:42"), 10612);
}


static void
test_slot_hash_tags(void **state)
{
    /* an empty tag hashes the whole key */
    assert_int_equal(SLOT("foo{}{bar}"), 8363);
    /* the tag ends at the first '}' after the first '{' */
    assert_int_equal(SLOT("foo{{bar}}zap"), 4015);
    assert_int_equal(SLOT("foo{{bar}}zap"), SLOT("{bar"));
    assert_int_equal(SLOT("foo{bar}{zap}"), SLOT("bar"));
}


static unsigned
key_slot(int len, const char *key)
{
    assert_true(len > 0);

    return ca_slot(key, len);
}


static void
check_account(const char *brand, const char *account, const char *user)
{
    unsigned  slot;
    char      key[CA_KEY_MAX];
    char      token[CA_TOKEN_LEN + 1], hash[CA_TOKEN_HASH_LEN + 1];
    char      named[CA_TOKEN_ID_LEN], named_user[CA_TOKEN_ID_LEN];

    slot = key_slot(ca_key_account(key, sizeof(key), brand, account), key);

    assert_int_equal(key_slot(ca_key_account_users(key, sizeof(key), brand,
                                                   account),
                              key),
                     slot);
    assert_int_equal(key_slot(ca_key_user(key, sizeof(key), brand, account,
                                          user),
                              key),
                     slot);
    assert_int_equal(key_slot(ca_key_user_sessions(key, sizeof(key), brand,
                                                   account, user),
                              key),
                     slot);
    assert_int_equal(key_slot(ca_key_user_history(key, sizeof(key), brand,
                                                  account, user),
                              key),
                     slot);

    /* a session as the gateway finds it: from its cookie alone */
    assert_int_equal(ca_token_generate_owned(token, account, user), 0);
    assert_int_equal(ca_token_session(token, CA_TOKEN_LEN, hash, named,
                                      named_user),
                     0);
    assert_string_equal(named, account);

    assert_int_equal(key_slot(ca_key_session(key, sizeof(key), brand, named,
                                             hash),
                              key),
                     slot);
}


static void
test_account_keys_share_a_slot(void **state)
{
    unsigned  i;
    char      account[CA_TOKEN_ID_LEN], user[CA_TOKEN_ID_LEN];

    check_account("magic", "42", "7");
    check_account("web-hosting_2", "4294967295", "1");

    for (i = 1; i < 200; i++) {
        snprintf(account, sizeof(account), "%u", i * 7919);
        snprintf(user, sizeof(user), "%u", i);
        check_account("magic", account, user);
    }
}


/* Not a tautology: two accounts of a brand are spread over the slots. */

static void
test_accounts_spread(void **state)
{
    char  a[CA_KEY_MAX], b[CA_KEY_MAX];

    assert_true(ca_key_account(a, sizeof(a), "magic", "42") > 0);
    assert_true(ca_key_account(b, sizeof(b), "magic", "43") > 0);
    assert_int_not_equal(ca_slot(a, strlen(a)), ca_slot(b, strlen(b)));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_slot_vectors),
        cmocka_unit_test(test_slot_hash_tags),
        cmocka_unit_test(test_account_keys_share_a_slot),
        cmocka_unit_test(test_accounts_spread),
    };

    return cmocka_run_group_tests_name("ca_slot", tests, group_setup, NULL);
}
