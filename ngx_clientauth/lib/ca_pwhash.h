/*
 * Password hashes: argon2id (libsodium) for new hashes; bcrypt ($2y$, $2b$)
 * and sha512-crypt ($6$) imported from legacy portals are verified through
 * libcrypt's crypt_rn and reported as needing a rehash.  Thread-safe, pure
 * CPU work: meant for nginx's thread pool, never the event loop.  nginx-free.
 */

#ifndef CA_PWHASH_H
#define CA_PWHASH_H

#include <stddef.h>
#include <stdint.h>

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
 * A hash whose cost is out of bounds (ca_pwhash_check()) is CA_PW_ERROR,
 * without any hashing.
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

/*
 * Cost bounds of stored hashes.  Every login attempt on an account pays its
 * hash's cost, and every failed attempt is answered no sooner than the
 * costliest hash allowed here takes to verify (the login failure floor), so
 * the bounds are kept near what portals really use: bcrypt 10-12 (PHP,
 * Laravel), sha512-crypt 5000 rounds (glibc) to 656000 (passlib), argon2id
 * PHP's t=4 m=64 MiB or twice the configured cost.  A hash outside them is
 * refused at import and is corrupt at login (never hashed).
 */
#define CA_PWHASH_BCRYPT_COST_MIN       4
#define CA_PWHASH_BCRYPT_COST_MAX       12
#define CA_PWHASH_SHA512_ROUNDS_MIN     1000
#define CA_PWHASH_SHA512_ROUNDS_MAX     656000
#define CA_PWHASH_SHA512_ROUNDS_DEFAULT 5000
#define CA_PWHASH_ARGON2_M_MIN          8             /* KiB */
#define CA_PWHASH_ARGON2_M_MAX          65536         /* KiB, or 2 x conf */
#define CA_PWHASH_ARGON2_WORK_MAX       (4 * 65536)   /* t x m, or 2 x conf */
#define CA_PWHASH_ARGON2_P_MAX          8

typedef enum {
    CA_PWHASH_UNKNOWN = 0,
    CA_PWHASH_ARGON2ID,
    CA_PWHASH_ARGON2I,
    CA_PWHASH_BCRYPT,
    CA_PWHASH_SHA512CRYPT
} ca_pwhash_scheme_e;

/* What a stored hash costs to verify. */
typedef struct {
    ca_pwhash_scheme_e  scheme;
    unsigned long       cost;       /* bcrypt: log2 rounds; sha512-crypt:
                                       rounds; argon2: t */
    unsigned long       m;          /* argon2: KiB */
    unsigned long       p;          /* argon2: lanes */
} ca_pwhash_params_t;

/*
 * Parses the scheme and cost of a stored hash and checks its shape.
 * Returns 0, or -1 for an unknown scheme or a malformed hash.
 */
int ca_pwhash_params(const char *stored, ca_pwhash_params_t *params);

/*
 * Whether a stored hash may be verified next to new hashes of cost: 0, or
 * -1 with why (a sentence for an operator, never the hash) written to
 * why[len].  Parses only.
 */
int ca_pwhash_check(const char *stored, const ca_pwhash_cost_t *cost,
    char *why, size_t len);

/*
 * The CPU time, in ms, of the costliest verification the bounds allow next
 * to cost, on this machine: measured on cheap hashes of each scheme (a few
 * tens of ms of CPU, the legacy ones once per calib) and scaled up.  -1 on
 * error.  For configuration time, not for a worker's event loop.
 */
typedef struct {
    double              bcrypt_ms;      /* one 2^cost round */
    double              sha512_ms;      /* one round */
} ca_pwhash_calib_t;

int64_t ca_pwhash_ceiling_ms(const ca_pwhash_cost_t *cost,
    ca_pwhash_calib_t *calib);

/* Which scheme a stored hash uses: "argon2id", "bcrypt", "sha512crypt"; NULL
 * for anything else (clientauthctl's import checks rows with this). */
const char *ca_pwhash_scheme(const char *stored);

#endif /* CA_PWHASH_H */
