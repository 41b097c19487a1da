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

/*
 * A session token names its user, so that the gateway reads the user's
 * record (session generation, status, permissions) in the same round trip
 * as the session: raw bytes 0-3 are the account id, 4-7 the user id (big
 * endian), the other 24 (192 bits) random.  Tampering with the ids changes
 * the token's hash, so it names no session.
 */
#define CA_TOKEN_ID_LEN    11          /* a 32-bit id in decimal, and NUL */

/* -1 if an id is not a decimal number from 1 to 2^32 - 1. */
int ca_token_generate_owned(char token[CA_TOKEN_LEN + 1],
    const char *account, const char *user);

/*
 * A session cookie's at-rest hash (as ca_token_hash()) and the ids it
 * names, in decimal, from one decoding; -1 if it is not a token or names
 * nobody (an id of 0).
 */
int ca_token_session(const char *text, size_t len,
    char hash[CA_TOKEN_HASH_LEN + 1], char account[CA_TOKEN_ID_LEN],
    char user[CA_TOKEN_ID_LEN]);

#endif /* CA_TOKEN_H */
