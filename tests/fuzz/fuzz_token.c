/*
 * ca_token_hash: decoding a cookie or reset token.  It accepts exactly the
 * 43-character unpadded base64url spellings of 32 bytes (the canonical ones:
 * the last character's two spare bits zero), and the hash it writes is the
 * BLAKE2b-256 of those bytes, as libsodium's own decoder and hash give it.
 * The first 32 bytes also go the other way: encoded as ca_token_generate
 * does, they decode back to themselves.
 */

#include <sodium.h>

#include "fuzz_common.h"
#include "ca_token.h"


static void
hex_of_hash(const unsigned char raw[CA_TOKEN_BYTES],
    char hex[CA_TOKEN_HASH_LEN + 1])
{
    unsigned char  digest[CA_TOKEN_BYTES];

    crypto_generichash(digest, sizeof(digest), raw, CA_TOKEN_BYTES, NULL, 0);
    sodium_bin2hex(hex, CA_TOKEN_HASH_LEN + 1, digest, sizeof(digest));
}


static int
is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


static void
check_text(const uint8_t *data, size_t size)
{
    int             rc, ref;
    char           *text, hash[CA_TOKEN_HASH_LEN + 1];
    char            want[CA_TOKEN_HASH_LEN + 1];
    char            again[CA_TOKEN_LEN + 1];
    size_t          i, bin_len;
    const char     *end;
    unsigned char   raw[CA_TOKEN_BYTES + 8];

    text = fuzz_dup(data, size, 0);
    memset(hash, 'X', sizeof(hash));

    rc = ca_token_hash(text, size, hash);
    FUZZ_CHECK(rc == 0 || rc == -1);

    ref = (size == CA_TOKEN_LEN);

    for (i = 0; ref && i < size; i++) {
        ref = is_b64url(data[i]);
    }

    if (ref) {
        ref = sodium_base642bin(raw, sizeof(raw), text, size, NULL, &bin_len,
                                &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
              == 0
              && bin_len == CA_TOKEN_BYTES && end == text + size;
    }

    if (ref) {
        /* canonical: encoding the bytes again gives the same text */
        sodium_bin2base64(again, sizeof(again), raw, CA_TOKEN_BYTES,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        ref = memcmp(again, text, CA_TOKEN_LEN) == 0;
    }

    FUZZ_CHECK((rc == 0) == ref);

    if (rc == 0) {
        hex_of_hash(raw, want);
        FUZZ_CHECK(memcmp(hash, want, sizeof(want)) == 0);
    }

    free(text);
}


static void
check_round_trip(const uint8_t *data)
{
    char  text[CA_TOKEN_LEN + 1], hash[CA_TOKEN_HASH_LEN + 1];
    char  want[CA_TOKEN_HASH_LEN + 1];

    sodium_bin2base64(text, sizeof(text), data, CA_TOKEN_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    FUZZ_CHECK(strlen(text) == CA_TOKEN_LEN);
    FUZZ_CHECK(ca_token_hash(text, CA_TOKEN_LEN, hash) == 0);

    hex_of_hash(data, want);
    FUZZ_CHECK(memcmp(hash, want, sizeof(want)) == 0);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return sodium_init() < 0 ? -1 : 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_text(data, size);

    if (size >= CA_TOKEN_BYTES) {
        check_round_trip(data);
    }

    return 0;
}
