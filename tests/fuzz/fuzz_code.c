/*
 * ca_code_hash / ca_code_check: the e-mail change's code as typed.  A text
 * is accepted exactly when it holds 8 digits with single spaces or hyphens
 * only between them (a reference written here, not the library's), its
 * hash is the keyed BLAKE2b-256 of the 8 digits alone, so every spelling of
 * one code hashes alike, it checks against its own hash, and changing one
 * digit makes it fail.  The first 16 bytes are the salt.
 */

#include <sodium.h>

#include "fuzz_common.h"
#include "ca_code.h"


/* The digits of an accepted spelling into out (8), else -1. */

static int
reference(const char *s, size_t len, char out[CA_CODE_DIGITS])
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (n == CA_CODE_DIGITS) {
                return -1;
            }

            out[n++] = s[i];
            continue;
        }

        if ((s[i] != ' ' && s[i] != '-') || n == 0 || n == CA_CODE_DIGITS) {
            return -1;
        }
    }

    return n == CA_CODE_DIGITS ? 0 : -1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc;
    char          *text;
    char           salt[CA_CODE_SALT_LEN + 1];
    char           hash[CA_CODE_HASH_LEN + 1], want[CA_CODE_HASH_LEN + 1];
    char           digits[CA_CODE_DIGITS];
    unsigned char  key[CA_CODE_SALT_LEN / 2], digest[CA_CODE_HASH_LEN / 2];

    if (size < sizeof(key)) {
        return 0;
    }

    memcpy(key, data, sizeof(key));
    sodium_bin2hex(salt, sizeof(salt), key, sizeof(key));
    data += sizeof(key);
    size -= sizeof(key);

    text = fuzz_dup(data, size, 0);

    rc = ca_code_hash(salt, CA_CODE_SALT_LEN, text, size, hash);
    FUZZ_CHECK(rc == reference(text, size, digits));

    if (rc == 0) {
        crypto_generichash(digest, sizeof(digest),
                           (unsigned char *) digits, CA_CODE_DIGITS,
                           key, sizeof(key));
        sodium_bin2hex(want, sizeof(want), digest, sizeof(digest));
        FUZZ_CHECK(strcmp(hash, want) == 0);

        FUZZ_CHECK(ca_code_check(salt, CA_CODE_SALT_LEN, hash,
                                 CA_CODE_HASH_LEN, text, size) == 1);
        FUZZ_CHECK(ca_code_check(salt, CA_CODE_SALT_LEN, hash,
                                 CA_CODE_HASH_LEN, digits, CA_CODE_DIGITS)
                   == 1);

        digits[0] = (char) ('0' + (digits[0] - '0' + 1) % 10);
        FUZZ_CHECK(ca_code_check(salt, CA_CODE_SALT_LEN, hash,
                                 CA_CODE_HASH_LEN, digits, CA_CODE_DIGITS)
                   == 0);

    } else {
        FUZZ_CHECK(ca_code_check(salt, CA_CODE_SALT_LEN, want, 0, text,
                                 size) == -1);
    }

    free(text);

    return 0;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return sodium_init() < 0 ? -1 : 0;
}
