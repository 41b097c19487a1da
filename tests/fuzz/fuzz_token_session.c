/*
 * ca_token_session() and ca_token_hash() on any cookie value: they agree on
 * what is a token and on its hash; the ids a token names are canonical
 * decimal 32-bit numbers, never 0; and a token made for those ids names
 * them again.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ca_token.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int    owned, hashed;
    char   account[CA_TOKEN_ID_LEN], user[CA_TOKEN_ID_LEN];
    char   again_a[CA_TOKEN_ID_LEN], again_u[CA_TOKEN_ID_LEN];
    char   hash[CA_TOKEN_HASH_LEN + 1], token[CA_TOKEN_LEN + 1];
    char   shash[CA_TOKEN_HASH_LEN + 1], again_h[CA_TOKEN_HASH_LEN + 1];

    static int  ready;

    if (!ready) {
        assert(sodium_init() >= 0);
        ready = 1;
    }

    owned = ca_token_session((const char *) data, size, shash, account,
                             user);
    hashed = ca_token_hash((const char *) data, size, hash);

    if (owned != 0) {
        return 0;
    }

    /* a token that names a user is a token, with the same hash */
    assert(hashed == 0);
    assert(strcmp(hash, shash) == 0);

    assert(account[0] >= '1' && account[0] <= '9');
    assert(user[0] >= '1' && user[0] <= '9');
    assert(strtoull(account, NULL, 10) <= UINT32_MAX);
    assert(strtoull(user, NULL, 10) <= UINT32_MAX);

    /* a fresh token for the same user names it again, and differs */
    assert(ca_token_generate_owned(token, account, user) == 0);
    assert(ca_token_session(token, CA_TOKEN_LEN, again_h, again_a, again_u)
           == 0);
    assert(strcmp(account, again_a) == 0 && strcmp(user, again_u) == 0);
    assert(size != CA_TOKEN_LEN || memcmp(token, data, CA_TOKEN_LEN) != 0);

    return 0;
}
