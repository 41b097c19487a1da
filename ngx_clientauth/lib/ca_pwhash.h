/*
 * Password hashes: argon2id (libsodium) for new hashes; bcrypt ($2y$, $2b$)
 * and sha512-crypt ($6$) imported from legacy portals are verified through
 * libcrypt's crypt_rn and reported as needing a rehash.  Thread-safe, pure
 * CPU work: meant for nginx's thread pool, never the event loop.  nginx-free.
 */

#ifndef CA_PWHASH_H
#define CA_PWHASH_H

#include <stddef.h>

#define CA_PWHASH_MAX  128        /* stored hash text, NUL included */

typedef struct {
    unsigned long long  opslimit;     /* argon2id t */
    size_t              memlimit;     /* argon2id m, bytes */
} ca_pwhash_cost_t;

typedef enum {
    CA_PW_MATCH = 0,
    CA_PW_MISMATCH = 1,
    CA_PW_ERROR = -1              /* unknown scheme, corrupt hash, no memory */
} ca_pw_rc_e;

/*
 * Verifies password (pwlen bytes, no NUL inside) against stored (a
 * NUL-terminated hash of any supported scheme), comparing in constant time.
 * On CA_PW_MATCH, *needs_rehash is set when the hash is legacy or argon2id
 * with a cost other than cost; $argon2i$ hashes verify and always need a
 * rehash.  A password with a NUL inside is CA_PW_MISMATCH.
 */
ca_pw_rc_e ca_pwhash_verify(const char *stored, const char *password,
    size_t pwlen, const ca_pwhash_cost_t *cost, int *needs_rehash);

/* Writes a fresh argon2id hash of password into out.  Returns 0 or -1. */
int ca_pwhash_hash(const char *password, size_t pwlen,
    const ca_pwhash_cost_t *cost, char out[CA_PWHASH_MAX]);

/*
 * Whether stored is an argon2id hash of exactly this cost: what a login
 * with the right password would leave in place.  Cheap: parses only.
 */
int ca_pwhash_is_current(const char *stored, const ca_pwhash_cost_t *cost);

/* Which scheme a stored hash uses: "argon2id", "bcrypt", "sha512crypt"; NULL
 * for anything else (clientauthctl's import checks rows with this). */
const char *ca_pwhash_scheme(const char *stored);

#endif /* CA_PWHASH_H */
