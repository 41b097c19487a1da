#include <stdint.h>
#include <string.h>
#include <sodium.h>

#include "ca_token.h"


void
ca_token_generate(char token[CA_TOKEN_LEN + 1])
{
    unsigned char  raw[CA_TOKEN_BYTES];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token, CA_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}


/*
 * The token is public (it is the cookie), so its decoding need not be
 * constant-time: a table is several times cheaper than libsodium's
 * decoder, on a path every protected request takes.  -1: not base64url.
 */

static const signed char  ca_b64url[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};


/*
 * 43 characters carry 258 bits for 256: the last one's two low bits must
 * be zero, or two spellings would name one token.
 */

static int
ca_token_decode(const char *text, unsigned char raw[CA_TOKEN_BYTES])
{
    int       v;
    size_t    i, n;
    uint32_t  acc;
    unsigned  bits;

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < CA_TOKEN_LEN; i++) {
        v = ca_b64url[(unsigned char) text[i]];
        if (v < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (unsigned char) (acc >> bits);
        }
    }

    return (acc & ((1u << bits) - 1)) == 0 ? 0 : -1;
}


static void
ca_token_digest(const unsigned char raw[CA_TOKEN_BYTES],
    char hash[CA_TOKEN_HASH_LEN + 1])
{
    size_t          i;
    unsigned char   digest[CA_TOKEN_BYTES];

    static const char  hex[] = "0123456789abcdef";

    crypto_generichash(digest, sizeof(digest), raw, CA_TOKEN_BYTES, NULL, 0);

    for (i = 0; i < CA_TOKEN_BYTES; i++) {
        hash[2 * i] = hex[digest[i] >> 4];
        hash[2 * i + 1] = hex[digest[i] & 0x0f];
    }

    hash[CA_TOKEN_HASH_LEN] = '\0';
}


int
ca_token_hash(const char *text, size_t len, char hash[CA_TOKEN_HASH_LEN + 1])
{
    unsigned char  raw[CA_TOKEN_BYTES];

    if (len != CA_TOKEN_LEN || ca_token_decode(text, raw) != 0) {
        return -1;
    }

    ca_token_digest(raw, hash);

    return 0;
}

static int
ca_token_id_parse(const char *id, uint32_t *out)
{
    uint64_t  v;

    if (*id == '\0' || *id == '0') {
        return -1;
    }

    for (v = 0; *id; id++) {
        if (*id < '0' || *id > '9') {
            return -1;
        }

        v = v * 10 + (uint64_t) (*id - '0');

        if (v > UINT32_MAX) {
            return -1;
        }
    }

    *out = (uint32_t) v;

    return 0;
}


static void
ca_token_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


static uint32_t
ca_token_get32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


int
ca_token_generate_owned(char token[CA_TOKEN_LEN + 1], const char *account,
    const char *user)
{
    uint32_t       a, u;
    unsigned char  raw[CA_TOKEN_BYTES];

    if (ca_token_id_parse(account, &a) != 0
        || ca_token_id_parse(user, &u) != 0)
    {
        return -1;
    }

    ca_token_put32(raw, a);
    ca_token_put32(raw + 4, u);
    randombytes_buf(raw + 8, sizeof(raw) - 8);

    sodium_bin2base64(token, CA_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));

    return 0;
}


/* snprintf("%u") costs more than the rest of the lookup's key making */

static void
ca_token_id_format(uint32_t v, char out[CA_TOKEN_ID_LEN])
{
    char    digits[CA_TOKEN_ID_LEN];
    size_t  n;

    n = 0;

    do {
        digits[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    while (n) {
        *out++ = digits[--n];
    }

    *out = '\0';
}


int
ca_token_session(const char *text, size_t len,
    char hash[CA_TOKEN_HASH_LEN + 1], char account[CA_TOKEN_ID_LEN],
    char user[CA_TOKEN_ID_LEN])
{
    uint32_t       a, u;
    unsigned char  raw[CA_TOKEN_BYTES];

    if (len != CA_TOKEN_LEN || ca_token_decode(text, raw) != 0) {
        return -1;
    }

    a = ca_token_get32(raw);
    u = ca_token_get32(raw + 4);

    if (a == 0 || u == 0) {
        return -1;
    }

    ca_token_digest(raw, hash);
    ca_token_id_format(a, account);
    ca_token_id_format(u, user);

    return 0;
}
