/*
 * ca_pwhash_params() and ca_pwhash_check() read stored hashes, which come
 * from CSV imports and from Redis.  Properties: a hash the check accepts
 * parses, names a known scheme and has its cost within the bounds; a
 * refusal always says why; nothing here ever hashes.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca_pwhash.h"


static void
check_accepted(const ca_pwhash_params_t *hp, const ca_pwhash_cost_t *cost)
{
    unsigned long  conf_m;

    conf_m = (unsigned long) (cost->memlimit / 1024);

    switch (hp->scheme) {

    case CA_PWHASH_BCRYPT:
        if (hp->cost < CA_PWHASH_BCRYPT_COST_MIN
            || hp->cost > CA_PWHASH_BCRYPT_COST_MAX)
        {
            abort();
        }
        break;

    case CA_PWHASH_SHA512CRYPT:
        if (hp->cost < CA_PWHASH_SHA512_ROUNDS_MIN
            || hp->cost > CA_PWHASH_SHA512_ROUNDS_MAX)
        {
            abort();
        }
        break;

    case CA_PWHASH_ARGON2ID:
    case CA_PWHASH_ARGON2I:
        if (hp->p < 1 || hp->p > CA_PWHASH_ARGON2_P_MAX || hp->cost < 1
            || (hp->m > CA_PWHASH_ARGON2_M_MAX && hp->m > 2 * conf_m)
            || (hp->cost * hp->m > CA_PWHASH_ARGON2_WORK_MAX
                && hp->cost * hp->m > 2 * cost->opslimit * conf_m))
        {
            abort();
        }
        break;

    default:
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                      rc;
    char                     stored[CA_PWHASH_MAX], why[160];
    ca_pwhash_params_t       hp;
    static const ca_pwhash_cost_t  costs[] = {
        { 2, 19 * 1024 * 1024 }, { 1, 8 * 1024 * 1024 },
        { 4, 256 * 1024 * 1024 }
    };

    if (size == 0 || size >= sizeof(stored)) {
        return 0;
    }

    memcpy(stored, data + 1, size - 1);
    stored[size - 1] = '\0';

    why[0] = '\0';
    rc = ca_pwhash_check(stored, &costs[data[0] % 3], why, sizeof(why));

    if (rc == 0) {
        if (ca_pwhash_params(stored, &hp) != 0) {
            abort();
        }

        check_accepted(&hp, &costs[data[0] % 3]);

    } else if (rc != -1 || why[0] == '\0' || memchr(why, '\0', sizeof(why))
               == NULL)
    {
        abort();
    }

    return 0;
}
