/*
 * Random bearer tokens (session cookies, reset links) and their at-rest
 * form.  A token is 256 random bits from libsodium, sent as unpadded
 * base64url; Redis only ever stores the BLAKE2b-256 of the raw bytes, as hex.
 * nginx-free: used by the module, clientauthctl and the unit tests.
 */

#ifndef CA_TOKEN_H
#define CA_TOKEN_H

#include <stddef.h>

#define CA_TOKEN_BYTES     32
#define CA_TOKEN_LEN       43          /* base64url, no padding */
#define CA_TOKEN_HASH_LEN  64          /* hex of 32 bytes */

/* Writes a fresh token and its NUL; sodium_init() must have run. */
void ca_token_generate(char token[CA_TOKEN_LEN + 1]);

/*
 * Checks that text is a well-formed token and writes the hex hash of its
 * raw bytes (plus NUL).  Returns 0, or -1 for anything that is not exactly
 * CA_TOKEN_LEN base64url characters.
 */
int ca_token_hash(const char *text, size_t len,
    char hash[CA_TOKEN_HASH_LEN + 1]);

#endif /* CA_TOKEN_H */
