/*
 * ca_keys where it takes what it did not make: the "<account>:<user>" index
 * value read back from Redis (ca_id_ref_parse), and keys built around
 * identifiers that come from requests (the login counters, the session,
 * reset and invitation keys).  The input is split on the first NUL bytes into a brand, an
 * identifier or hash and the rest; a byte chooses the buffer size, so that
 * every length up to the exact fit is tried.
 *
 *   - ca_id_ref_parse accepts exactly two runs of 1-20 digits around one
 *     ':', and gives them back;
 *   - a builder either refuses (-1) without writing past its size, or
 *     writes exactly the layout of ca_keys.h, NUL included, and returns its
 *     length;
 *   - a session key is in its account's hash slot (ca_slot).
 */

#include "fuzz_common.h"
#include "ca_keys.h"
#include "ca_slot.h"


static void
check_ref(const char *ref, size_t len)
{
    int          rc;
    char         account[21], user[21];
    const char  *colon;
    int          want;

    colon = memchr(ref, ':', len);
    want = colon != NULL && fuzz_digits(ref, colon - ref, 20)
           && fuzz_digits(colon + 1, len - (colon - ref) - 1, 20);

    rc = ca_id_ref_parse(ref, len, account, user);
    FUZZ_CHECK((rc == 0) == want);

    if (rc == 0) {
        FUZZ_CHECK(strlen(account) == (size_t) (colon - ref));
        FUZZ_CHECK(memcmp(account, ref, colon - ref) == 0);
        FUZZ_CHECK(strlen(user) == len - (colon - ref) - 1);
        FUZZ_CHECK(memcmp(user, colon + 1, strlen(user)) == 0);
    }
}


/* rc from a builder into buf (size bytes, more allocated) against want. */

static void
check_key(int rc, const char *buf, size_t size, const char *want)
{
    size_t  len;

    len = strlen(want);

    if (len < size) {
        FUZZ_CHECK(rc == (int) len);
        FUZZ_CHECK(memcmp(buf, want, len + 1) == 0);

    } else {
        FUZZ_CHECK(rc == -1);
    }
}


static void
check_builders(const char *brand, const char *ident, const char *kind,
    size_t size)
{
    int    rc;
    char  *buf, want[3 * 4096];

    /* exactly size bytes, so that ASan sees any write past them */
    buf = malloc(size);
    FUZZ_CHECK(buf != NULL);

    snprintf(want, sizeof(want), "ca:{%s:%s}:sess:%s", brand, kind, ident);
    rc = ca_key_session(buf, size, brand, kind, ident);
    check_key(rc, buf, size, want);

    /*
     * A session is in its account's slot.  Brands have no braces (and ids
     * are digits): with a '}' in them the tag would end early, or be empty
     * and so the whole key.
     */
    if (rc > 0 && ca_brand_is_valid(brand, strlen(brand))
        && strchr(kind, '}') == NULL)
    {
        char  akey[3 * 4096];

        FUZZ_CHECK(ca_key_account(akey, sizeof(akey), brand, kind) > 0);
        FUZZ_CHECK(ca_slot(buf, rc) == ca_slot(akey, strlen(akey)));
    }

    snprintf(want, sizeof(want), "ca:%s:fails:%s:%s", brand, kind, ident);
    rc = ca_key_login(buf, size, brand, "fails", kind, ident);
    check_key(rc, buf, size, want);

    snprintf(want, sizeof(want), "ca:%s:id:%s:%s", brand, kind, ident);
    rc = ca_key_ident(buf, size, brand, kind, ident);
    check_key(rc, buf, size, want);

    snprintf(want, sizeof(want), "ca:%s:reset-claim:%s", brand, ident);
    rc = ca_key_reset(buf, size, brand, "reset-claim", ident);
    check_key(rc, buf, size, want);

    snprintf(want, sizeof(want), "ca:%s:rl:%s:%s:%lld", brand, kind, ident,
             -12345LL);
    rc = ca_key_limit(buf, size, brand, kind, ident, -12345LL);
    check_key(rc, buf, size, want);

    snprintf(want, sizeof(want), "ca:{%s:%s}:user:%s:sessions", brand, ident,
             kind);
    rc = ca_key_user_sessions(buf, size, brand, ident, kind);
    check_key(rc, buf, size, want);

    /* sub-users: an invitation by its token hash, an account's pending */
    snprintf(want, sizeof(want), "ca:%s:invite:%s", brand, ident);
    rc = ca_key_invite(buf, size, brand, ident);
    check_key(rc, buf, size, want);

    snprintf(want, sizeof(want), "ca:{%s:%s}:invites", brand, ident);
    rc = ca_key_account_invites(buf, size, brand, ident);
    check_key(rc, buf, size, want);

    free(buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char        *in, *brand, *ident, *kind, *nul;
    size_t       bsize, len;

    if (size < 1 || size > 4000) {
        return 0;
    }

    check_ref((const char *) data + 1, size - 1);

    /* brand NUL identifier NUL kind: C strings, as the builders take */

    in = fuzz_dup(data + 1, size - 1, 3);
    len = size - 1;
    in[len] = '\0';
    in[len + 1] = '\0';
    in[len + 2] = '\0';

    brand = in;
    nul = memchr(brand, '\0', len + 1);
    ident = nul + 1;
    nul = memchr(ident, '\0', in + len + 2 - ident);
    kind = nul + 1;

    FUZZ_CHECK(ca_brand_is_valid(brand, strlen(brand)) == 0
               || (strlen(brand) <= CA_BRAND_MAX
                   && strspn(brand, "abcdefghijklmnopqrstuvwxyz0123456789_-")
                      == strlen(brand)));

    bsize = data[0] ? data[0] : CA_KEY_MAX;

    /* and the exact fit of the session key, and one byte short of it */
    check_builders(brand, ident, kind, bsize);
    bsize = strlen(brand) + strlen(kind) + strlen(ident)
            + sizeof("ca:{:}:sess:");
    check_builders(brand, ident, kind, bsize);
    check_builders(brand, ident, kind, bsize - 1);

    free(in);

    return 0;
}
