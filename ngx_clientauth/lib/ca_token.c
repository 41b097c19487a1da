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


static int
ca_token_is_base64url(const char *text, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        char  ch = text[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
        {
            return 0;
        }
    }

    return 1;
}


int
ca_token_hash(const char *text, size_t len, char hash[CA_TOKEN_HASH_LEN + 1])
{
    size_t          rawlen;
    const char     *end;
    unsigned char   raw[CA_TOKEN_BYTES], digest[CA_TOKEN_BYTES];

    /* libsodium 1.0.18 decodes bytes above 0x7f as '_': check first */
    if (len != CA_TOKEN_LEN || !ca_token_is_base64url(text, len)) {
        return -1;
    }

    if (sodium_base642bin(raw, sizeof(raw), text, len, NULL, &rawlen, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
        || rawlen != CA_TOKEN_BYTES || end != text + len)
    {
        return -1;
    }

    crypto_generichash(digest, sizeof(digest), raw, sizeof(raw), NULL, 0);
    sodium_bin2hex(hash, CA_TOKEN_HASH_LEN + 1, digest, sizeof(digest));

    return 0;
}
