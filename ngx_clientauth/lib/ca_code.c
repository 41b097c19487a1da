#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "ca_code.h"


void
ca_code_generate(char code[CA_CODE_DIGITS + 1])
{
    snprintf(code, CA_CODE_DIGITS + 1, "%08u",
             (unsigned) randombytes_uniform(100000000));
}


void
ca_code_salt(char salt[CA_CODE_SALT_LEN + 1])
{
    unsigned char  raw[CA_CODE_SALT_LEN / 2];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(salt, CA_CODE_SALT_LEN + 1, raw, sizeof(raw));
}


int
ca_code_hash(const char *salt, size_t salt_len, const char *code,
    size_t len, char hash[CA_CODE_HASH_LEN + 1])
{
    size_t         i, n;
    char           digits[CA_CODE_DIGITS];
    unsigned char  key[CA_CODE_SALT_LEN / 2];
    unsigned char  out[CA_CODE_HASH_LEN / 2];

    if (salt_len != CA_CODE_SALT_LEN
        || sodium_hex2bin(key, sizeof(key), salt, salt_len, NULL, &n, NULL)
           != 0
        || n != sizeof(key))
    {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (code[i] >= '0' && code[i] <= '9') {
            if (n == CA_CODE_DIGITS) {
                return -1;
            }

            digits[n++] = code[i];

        } else if ((code[i] != ' ' && code[i] != '-') || n == 0
                   || n == CA_CODE_DIGITS)
        {
            /* separators only between digits */
            return -1;
        }
    }

    if (n != CA_CODE_DIGITS) {
        return -1;
    }

    crypto_generichash(out, sizeof(out), (unsigned char *) digits, n,
                       key, sizeof(key));
    sodium_bin2hex(hash, CA_CODE_HASH_LEN + 1, out, sizeof(out));
    sodium_memzero(digits, sizeof(digits));

    return 0;
}


int
ca_code_check(const char *salt, size_t salt_len, const char *stored,
    size_t stored_len, const char *code, size_t len)
{
    char  hash[CA_CODE_HASH_LEN + 1];

    if (stored_len != CA_CODE_HASH_LEN
        || ca_code_hash(salt, salt_len, code, len, hash) != 0)
    {
        return -1;
    }

    return sodium_memcmp(hash, stored, CA_CODE_HASH_LEN) == 0;
}


/*
 * Verified and confirmed: it applies.  Verified, with a grace time that has
 * passed (the current address did not cancel): it applies.  Otherwise it
 * waits until its deadline, except a verified change with a grace time,
 * which waits for its due time whatever the code's deadline.
 */

ca_ec_state_e
ca_email_change_state(const ca_email_change_t *ec, int64_t now)
{
    if (ec->tries >= CA_CODE_TRIES) {
        return CA_EC_DEAD;
    }

    if (ec->verified && (ec->confirmed || (ec->due && now >= ec->due))) {
        return CA_EC_APPLY;
    }

    if (now < ec->expires || (ec->verified && ec->due)) {
        return CA_EC_WAITING;
    }

    return CA_EC_DEAD;
}
