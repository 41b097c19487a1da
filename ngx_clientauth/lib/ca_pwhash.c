#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <crypt.h>
#include <sodium.h>

#include "ca_pwhash.h"


#if (crypto_pwhash_STRBYTES > CA_PWHASH_MAX)
#error "CA_PWHASH_MAX cannot hold a libsodium password hash"
#endif


static int ca_has_prefix(const char *s, const char *prefix);
static ca_pwhash_scheme_e ca_scheme_of(const char *stored);
static ca_pw_rc_e ca_argon2_verify(ca_pwhash_scheme_e scheme,
    const char *stored, const char *password, size_t pwlen,
    const ca_pwhash_cost_t *cost, int *needs_rehash);
static ca_pw_rc_e ca_crypt_verify(const char *stored, const char *password,
    size_t pwlen);
static const char *ca_number(const char *p, unsigned long *n);
static int ca_b64_run(const char *p, size_t n, char end);
static int ca_bcrypt_params(const char *stored, ca_pwhash_params_t *params);
static int ca_sha512_params(const char *stored, ca_pwhash_params_t *params);
static int ca_argon2_params(const char *stored, ca_pwhash_params_t *params);
static double ca_time_crypt_ms(const char *setting);
static double ca_now_ms(void);


ca_pw_rc_e
ca_pwhash_verify(const char *stored, const char *password, size_t pwlen,
    const ca_pwhash_cost_t *cost, int *needs_rehash)
{
    ca_pw_rc_e          rc;
    ca_pwhash_scheme_e  scheme;

    *needs_rehash = 0;

    scheme = ca_scheme_of(stored);

    if (scheme == CA_PWHASH_UNKNOWN) {
        return CA_PW_ERROR;
    }

    /* a hash made too costly would tie a thread up at every attempt */

    if (ca_pwhash_check(stored, cost, NULL, 0) != 0) {
        return CA_PW_ERROR;
    }

    /*
     * No hash was ever made of a password with a NUL in it (crypt would
     * have cut it short there): it cannot be the right one.
     */

    if (memchr(password, '\0', pwlen) != NULL) {
        return CA_PW_MISMATCH;
    }

    if (scheme == CA_PWHASH_ARGON2ID || scheme == CA_PWHASH_ARGON2I) {
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

    case CA_PWHASH_ARGON2ID:
        return "argon2id";

    case CA_PWHASH_BCRYPT:
        return "bcrypt";

    case CA_PWHASH_SHA512CRYPT:
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

static ca_pwhash_scheme_e
ca_scheme_of(const char *stored)
{
    if (stored == NULL) {
        return CA_PWHASH_UNKNOWN;
    }

    if (ca_has_prefix(stored, crypto_pwhash_argon2id_STRPREFIX)) {
        return CA_PWHASH_ARGON2ID;
    }

    if (ca_has_prefix(stored, crypto_pwhash_argon2i_STRPREFIX)) {
        return CA_PWHASH_ARGON2I;
    }

    if (ca_has_prefix(stored, "$2y$") || ca_has_prefix(stored, "$2b$")
        || ca_has_prefix(stored, "$2a$"))
    {
        return CA_PWHASH_BCRYPT;
    }

    if (ca_has_prefix(stored, "$6$")) {
        return CA_PWHASH_SHA512CRYPT;
    }

    return CA_PWHASH_UNKNOWN;
}


/*
 * crypto_pwhash_str_verify() returns -1 both for a wrong password and for a
 * hash it cannot parse, so the hash is parsed first: the needs_rehash
 * functions decode it fully and return -1 only when it is corrupt.  Of the
 * verify failures, only running out of memory is an error.
 */

static ca_pw_rc_e
ca_argon2_verify(ca_pwhash_scheme_e scheme, const char *stored,
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

    if (scheme == CA_PWHASH_ARGON2ID) {
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

    *needs_rehash = (scheme == CA_PWHASH_ARGON2I || rehash != 0);

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
    return ca_scheme_of(stored) == CA_PWHASH_ARGON2ID
           && crypto_pwhash_argon2id_str_needs_rehash(stored, cost->opslimit,
                                                      cost->memlimit) == 0;
}


/* The cost parameters, as the hash string spells them. */

int
ca_pwhash_params(const char *stored, ca_pwhash_params_t *params)
{
    memset(params, 0, sizeof(ca_pwhash_params_t));

    params->scheme = ca_scheme_of(stored);

    switch (params->scheme) {

    case CA_PWHASH_BCRYPT:
        return ca_bcrypt_params(stored, params);

    case CA_PWHASH_SHA512CRYPT:
        return ca_sha512_params(stored, params);

    case CA_PWHASH_ARGON2ID:
    case CA_PWHASH_ARGON2I:
        return ca_argon2_params(stored, params);

    default:
        return -1;
    }
}


int
ca_pwhash_check(const char *stored, const ca_pwhash_cost_t *cost,
    char *why, size_t len)
{
    char                 none[1];
    unsigned long        conf_m, m_max, work_max;
    ca_pwhash_params_t   hp;

    if (why == NULL) {
        why = none;
        len = sizeof(none);
    }

    if (ca_pwhash_params(stored, &hp) != 0) {
        snprintf(why, len, "malformed or unknown password hash");
        return -1;
    }

    switch (hp.scheme) {

    case CA_PWHASH_BCRYPT:
        if (hp.cost < CA_PWHASH_BCRYPT_COST_MIN
            || hp.cost > CA_PWHASH_BCRYPT_COST_MAX)
        {
            snprintf(why, len, "bcrypt cost %lu is outside %d..%d",
                     hp.cost, CA_PWHASH_BCRYPT_COST_MIN,
                     CA_PWHASH_BCRYPT_COST_MAX);
            return -1;
        }

        return 0;

    case CA_PWHASH_SHA512CRYPT:
        if (hp.cost < CA_PWHASH_SHA512_ROUNDS_MIN
            || hp.cost > CA_PWHASH_SHA512_ROUNDS_MAX)
        {
            snprintf(why, len, "sha512-crypt rounds %lu are outside %d..%d",
                     hp.cost, CA_PWHASH_SHA512_ROUNDS_MIN,
                     CA_PWHASH_SHA512_ROUNDS_MAX);
            return -1;
        }

        return 0;

    default: /* argon2 */
        break;
    }

    /* the configured cost may be lowered: hashes of the old one stay good */

    conf_m = (unsigned long) (cost->memlimit / 1024);
    m_max = conf_m * 2 > CA_PWHASH_ARGON2_M_MAX ? conf_m * 2
                                                : CA_PWHASH_ARGON2_M_MAX;
    work_max = (unsigned long) cost->opslimit * conf_m * 2;
    work_max = work_max > CA_PWHASH_ARGON2_WORK_MAX ? work_max
                                                    : CA_PWHASH_ARGON2_WORK_MAX;

    if (hp.p < 1 || hp.p > CA_PWHASH_ARGON2_P_MAX
        || hp.m < CA_PWHASH_ARGON2_M_MIN * hp.p || hp.cost < 1)
    {
        snprintf(why, len, "argon2 parameters m=%lu,t=%lu,p=%lu are not "
                 "allowed (p 1..%d, m at least %d KiB per lane, t >= 1)",
                 hp.m, hp.cost, hp.p, CA_PWHASH_ARGON2_P_MAX,
                 CA_PWHASH_ARGON2_M_MIN);
        return -1;
    }

    if (hp.m > m_max) {
        snprintf(why, len, "argon2 memory m=%lu KiB is over %lu KiB",
                 hp.m, m_max);
        return -1;
    }

    if (hp.cost > work_max / hp.m) {
        snprintf(why, len, "argon2 cost t=%lu x m=%lu KiB is over %lu",
                 hp.cost, hp.m, work_max);
        return -1;
    }

    return 0;
}


/* A decimal number of at most 9 digits, no leading zero: end or NULL. */

static const char *
ca_number(const char *p, unsigned long *n)
{
    size_t  i;

    if (p[0] < '0' || p[0] > '9' || (p[0] == '0' && p[1] >= '0'
                                     && p[1] <= '9'))
    {
        return NULL;
    }

    *n = 0;

    for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
        if (i == 9) {
            return NULL;
        }

        *n = *n * 10 + (unsigned long) (p[i] - '0');
    }

    return p + i;
}


/* n characters of crypt's base64 alphabet, then end. */

static int
ca_b64_run(const char *p, size_t n, char end)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '/'))
        {
            return -1;
        }
    }

    return p[n] == end ? 0 : -1;
}


/* $2b$NN$ + 22 characters of salt and 31 of hash */

static int
ca_bcrypt_params(const char *stored, ca_pwhash_params_t *params)
{
    const char  *p;

    p = stored + 4;

    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] != '$') {
        return -1;
    }

    params->cost = (unsigned long) ((p[0] - '0') * 10 + (p[1] - '0'));

    return ca_b64_run(p + 3, 53, '\0');
}


/* $6$[rounds=N$]salt$ + 86 characters of hash; the salt is up to 16 */

static int
ca_sha512_params(const char *stored, ca_pwhash_params_t *params)
{
    size_t       n;
    const char  *p;

    p = stored + 3;
    params->cost = CA_PWHASH_SHA512_ROUNDS_DEFAULT;

    if (strncmp(p, "rounds=", 7) == 0) {
        p = ca_number(p + 7, &params->cost);

        if (p == NULL || *p++ != '$') {
            return -1;
        }
    }

    n = strcspn(p, "$");

    if (n == 0 || n > 16 || p[n] != '$') {
        return -1;
    }

    return ca_b64_run(p + n + 1, 86, '\0');
}


/* $argon2id$[v=19$]m=M,t=T,p=P$salt$hash: the rest is libsodium's to judge */

static int
ca_argon2_params(const char *stored, ca_pwhash_params_t *params)
{
    unsigned long   v;
    const char     *p;

    p = strchr(stored + 1, '$') + 1;

    if (strncmp(p, "v=", 2) == 0) {
        p = ca_number(p + 2, &v);

        if (p == NULL || *p++ != '$') {
            return -1;
        }
    }

    if (strncmp(p, "m=", 2) != 0
        || (p = ca_number(p + 2, &params->m)) == NULL
        || strncmp(p, ",t=", 3) != 0
        || (p = ca_number(p + 3, &params->cost)) == NULL
        || strncmp(p, ",p=", 3) != 0
        || (p = ca_number(p + 3, &params->p)) == NULL
        || *p != '$')
    {
        return -1;
    }

    return 0;
}


/*
 * A hash's verification costs in proportion to its rounds (sha512-crypt),
 * 2^cost (bcrypt) and t x m (argon2, once beyond the caches): each scheme
 * is timed at a cheap cost, the best of two, in CPU time, and scaled to its
 * bound; the configured argon2id cost is timed as it is, since it changes
 * per server.
 */

int64_t
ca_pwhash_ceiling_ms(const ca_pwhash_cost_t *cost, ca_pwhash_calib_t *calib)
{
    int                 i;
    char                salt[16], hash[CA_PWHASH_MAX];
    double              start, took, argon2, worst, bcrypt, sha512;
    unsigned long       conf_m, work, work_max;
    unsigned char       random[7];

    if (calib->bcrypt_ms <= 0) {
        calib->bcrypt_ms = ca_time_crypt_ms("$2b$08$CCCCCCCCCCCCCCCCCCCCC.")
                           / 256;
        calib->sha512_ms = ca_time_crypt_ms("$6$rounds=20000$timing$")
                           / 20000;

        if (calib->bcrypt_ms <= 0 || calib->sha512_ms <= 0) {
            calib->bcrypt_ms = 0;
            return -1;
        }
    }

    argon2 = -1;

    for (i = 0; i < 2; i++) {
        randombytes_buf(random, sizeof(random));
        sodium_bin2hex(salt, sizeof(salt), random, sizeof(random));

        start = ca_now_ms();

        if (ca_pwhash_hash(salt, strlen(salt), cost, hash) != 0) {
            return -1;
        }

        took = ca_now_ms() - start;

        if (argon2 < 0 || took < argon2) {
            argon2 = took;
        }
    }

    conf_m = (unsigned long) (cost->memlimit / 1024);
    work = (unsigned long) cost->opslimit * conf_m;
    work_max = work * 2 > CA_PWHASH_ARGON2_WORK_MAX ? work * 2
                                                    : CA_PWHASH_ARGON2_WORK_MAX;

    worst = argon2 * (double) work_max / (double) (work ? work : 1);
    bcrypt = calib->bcrypt_ms * (double) (1UL << CA_PWHASH_BCRYPT_COST_MAX);
    sha512 = calib->sha512_ms * CA_PWHASH_SHA512_ROUNDS_MAX;

    if (bcrypt > worst) {
        worst = bcrypt;
    }

    if (sha512 > worst) {
        worst = sha512;
    }

    return (int64_t) worst + 1;
}


/* The best of two runs of crypt over setting, in ms; -1 on error. */

static double
ca_time_crypt_ms(const char *setting)
{
    int                 i;
    char               *out;
    double              start, took, best;
    struct crypt_data  *data;

    data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) {
        return -1;
    }

    best = -1;

    for (i = 0; i < 2; i++) {
        start = ca_now_ms();
        out = crypt_rn("timing", setting, data, sizeof(struct crypt_data));
        took = ca_now_ms() - start;

        if (out == NULL || out[0] == '*') {
            best = -1;
            break;
        }

        if (best < 0 || took < best) {
            best = took;
        }
    }

    free(data);

    return best;
}


/*
 * CPU time, not wall time: what a hash costs, whatever else the machine
 * is doing while the configuration is read.
 */

static double
ca_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return (double) ts.tv_sec * 1000 + (double) ts.tv_nsec / 1e6;
}
