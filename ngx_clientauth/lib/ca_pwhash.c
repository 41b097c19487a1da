#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>
#include <sodium.h>

#include "ca_pwhash.h"


#if (crypto_pwhash_STRBYTES > CA_PWHASH_MAX)
#error "CA_PWHASH_MAX cannot hold a libsodium password hash"
#endif


typedef enum {
    CA_SCHEME_UNKNOWN = 0,
    CA_SCHEME_ARGON2ID,
    CA_SCHEME_ARGON2I,
    CA_SCHEME_BCRYPT,
    CA_SCHEME_SHA512CRYPT
} ca_scheme_e;


static int ca_has_prefix(const char *s, const char *prefix);
static ca_scheme_e ca_scheme_of(const char *stored);
static ca_pw_rc_e ca_argon2_verify(ca_scheme_e scheme, const char *stored,
    const char *password, size_t pwlen, const ca_pwhash_cost_t *cost,
    int *needs_rehash);
static ca_pw_rc_e ca_crypt_verify(const char *stored, const char *password,
    size_t pwlen);


ca_pw_rc_e
ca_pwhash_verify(const char *stored, const char *password, size_t pwlen,
    const ca_pwhash_cost_t *cost, int *needs_rehash)
{
    ca_pw_rc_e   rc;
    ca_scheme_e  scheme;

    *needs_rehash = 0;

    scheme = ca_scheme_of(stored);

    if (scheme == CA_SCHEME_UNKNOWN) {
        return CA_PW_ERROR;
    }

    /*
     * No hash was ever made of a password with a NUL in it (crypt would
     * have cut it short there): it cannot be the right one.
     */

    if (memchr(password, '\0', pwlen) != NULL) {
        return CA_PW_MISMATCH;
    }

    if (scheme == CA_SCHEME_ARGON2ID || scheme == CA_SCHEME_ARGON2I) {
        return ca_argon2_verify(scheme, stored, password, pwlen, cost,
                                needs_rehash);
    }

    rc = ca_crypt_verify(stored, password, pwlen);

    /* legacy schemes are always upgraded to argon2id */

    if (rc == CA_PW_MATCH) {
        *needs_rehash = 1;
    }

    return rc;
}


int
ca_pwhash_hash(const char *password, size_t pwlen,
    const ca_pwhash_cost_t *cost, char out[CA_PWHASH_MAX])
{
    if (memchr(password, '\0', pwlen) != NULL) {
        return -1;
    }

    if (crypto_pwhash_str(out, password, pwlen, cost->opslimit,
                          cost->memlimit)
        != 0)
    {
        return -1;
    }

    return 0;
}


const char *
ca_pwhash_scheme(const char *stored)
{
    switch (ca_scheme_of(stored)) {

    case CA_SCHEME_ARGON2ID:
        return "argon2id";

    case CA_SCHEME_BCRYPT:
        return "bcrypt";

    case CA_SCHEME_SHA512CRYPT:
        return "sha512crypt";

    default:
        return NULL;
    }
}


static int
ca_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}


/*
 * $argon2i$ is not offered for import, but libsodium verifies it and older
 * libsodium users stored it: it is accepted and upgraded.
 */

static ca_scheme_e
ca_scheme_of(const char *stored)
{
    if (stored == NULL) {
        return CA_SCHEME_UNKNOWN;
    }

    if (ca_has_prefix(stored, crypto_pwhash_argon2id_STRPREFIX)) {
        return CA_SCHEME_ARGON2ID;
    }

    if (ca_has_prefix(stored, crypto_pwhash_argon2i_STRPREFIX)) {
        return CA_SCHEME_ARGON2I;
    }

    if (ca_has_prefix(stored, "$2y$") || ca_has_prefix(stored, "$2b$")
        || ca_has_prefix(stored, "$2a$"))
    {
        return CA_SCHEME_BCRYPT;
    }

    if (ca_has_prefix(stored, "$6$")) {
        return CA_SCHEME_SHA512CRYPT;
    }

    return CA_SCHEME_UNKNOWN;
}


/*
 * crypto_pwhash_str_verify() returns -1 both for a wrong password and for a
 * hash it cannot parse, so the hash is parsed first: the needs_rehash
 * functions decode it fully and return -1 only when it is corrupt.  Of the
 * verify failures, only running out of memory is an error.
 */

static ca_pw_rc_e
ca_argon2_verify(ca_scheme_e scheme, const char *stored,
    const char *password, size_t pwlen, const ca_pwhash_cost_t *cost,
    int *needs_rehash)
{
    int          rehash;
    const char  *tag;

    /*
     * A tag shorter than 32 bytes (43 base64 characters) is a hash cut
     * short, which argon2 would verify as a mere mismatch.
     */
    tag = strrchr(stored, '$');
    if (tag == NULL || strlen(tag + 1) < 43) {
        return CA_PW_ERROR;
    }

    if (scheme == CA_SCHEME_ARGON2ID) {
        rehash = crypto_pwhash_argon2id_str_needs_rehash(stored,
                                                         cost->opslimit,
                                                         cost->memlimit);

    } else {
        rehash = crypto_pwhash_argon2i_str_needs_rehash(stored,
                                                        cost->opslimit,
                                                        cost->memlimit);
    }

    if (rehash < 0) {
        return CA_PW_ERROR;
    }

    errno = 0;

    if (crypto_pwhash_str_verify(stored, password, pwlen) != 0) {
        return (errno == ENOMEM) ? CA_PW_ERROR : CA_PW_MISMATCH;
    }

    *needs_rehash = (scheme == CA_SCHEME_ARGON2I || rehash != 0);

    return CA_PW_MATCH;
}


/*
 * crypt_rn() wants a NUL-terminated password and a struct crypt_data of
 * 32 KiB: both live on the heap, only as long as needed, and are wiped.
 * Its output has the stored hash's length when the hash is well formed.
 */

static ca_pw_rc_e
ca_crypt_verify(const char *stored, const char *password, size_t pwlen)
{
    char                *pw, *out;
    size_t               len;
    ca_pw_rc_e           rc;
    struct crypt_data   *data;

    /* libxcrypt refuses longer passphrases: none can match a stored hash */

    if (pwlen >= CRYPT_MAX_PASSPHRASE_SIZE) {
        return CA_PW_MISMATCH;
    }

    len = strlen(stored);

    if (len >= CRYPT_OUTPUT_SIZE) {
        return CA_PW_ERROR;
    }

    pw = malloc(pwlen + 1);
    data = calloc(1, sizeof(struct crypt_data));

    if (pw == NULL || data == NULL) {
        free(pw);
        free(data);
        return CA_PW_ERROR;
    }

    memcpy(pw, password, pwlen);
    pw[pwlen] = '\0';

    out = crypt_rn(pw, stored, data, sizeof(struct crypt_data));

    if (out == NULL || strlen(out) != len) {
        rc = CA_PW_ERROR;

    } else {
        rc = (sodium_memcmp(out, stored, len) == 0) ? CA_PW_MATCH
                                                    : CA_PW_MISMATCH;
    }

    sodium_memzero(pw, pwlen + 1);
    sodium_memzero(data, sizeof(struct crypt_data));
    free(pw);
    free(data);

    return rc;
}


int
ca_pwhash_is_current(const char *stored, const ca_pwhash_cost_t *cost)
{
    return ca_scheme_of(stored) == CA_SCHEME_ARGON2ID
           && crypto_pwhash_argon2id_str_needs_rehash(stored, cost->opslimit,
                                                      cost->memlimit) == 0;
}
