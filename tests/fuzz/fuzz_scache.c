/*
 * The session cache against a model of Redis: operation sequences (reads
 * begun and answered in any order, invalidations of sessions and users,
 * flushes, lookups) on a few keys.  Each key has a version that every
 * change moves on; a read carries the versions of the moment it was sent.
 * Checked: a hit returns the current version of the session and of its
 * user (never a stale one), a stored read hits at once, and the cache
 * never holds more than its capacity.
 */

#include "fuzz_common.h"
#include "ca_scache.h"


#define SESSIONS  16
#define USERS     4
#define PENDING   8


typedef struct {
    ca_scache_ticket_t   ticket;
    int                  session;
    unsigned             sv, uv;       /* versions when it was sent */
    int                  live;
} fuzz_read_t;


static unsigned     sver[SESSIONS], uver[USERS];
static fuzz_read_t  reads[PENDING];


static size_t
skey(char *buf, int n)
{
    return (size_t) snprintf(buf, CA_SCACHE_KEY_MAX, "ca:b:sess:%02d", n);
}


static size_t
ukey(char *buf, int n)
{
    /* sessions n and n + USERS share a user */
    return (size_t) snprintf(buf, CA_SCACHE_KEY_MAX, "ca:{b:1}:user:%d",
                             n % USERS);
}


static void
fuzz_lookup(ca_scache_t *c, int n)
{
    char                        key[CA_SCACHE_KEY_MAX];
    unsigned                    uv;
    const ca_scache_user_t     *u;
    const ca_scache_session_t  *s;

    if (!ca_scache_get(c, key, skey(key, n), &s, &u)) {
        return;
    }

    uv = (unsigned) strtoul(u->generation, NULL, 10);

    FUZZ_CHECK(s->refreshed == (int64_t) sver[n]);
    FUZZ_CHECK(uv == uver[n % USERS]);
    FUZZ_CHECK(atoi(s->user) == n % USERS);
}


static void
fuzz_answer(ca_scache_t *c, fuzz_read_t *rd, int store)
{
    int                  stored;
    ca_scache_user_t     u;
    ca_scache_session_t  s;

    if (!rd->live) {
        return;
    }

    rd->live = 0;

    if (!store) {
        ca_scache_abort(c, &rd->ticket);
        return;
    }

    memset(&s, 0, sizeof(s));
    memset(&u, 0, sizeof(u));
    snprintf(s.user, sizeof(s.user), "%d", rd->session % USERS);
    s.refreshed = rd->sv;
    u.active = 1;
    snprintf(u.generation, sizeof(u.generation), "%u", rd->uv);

    stored = ca_scache_fill(c, &rd->ticket, &s, &u);

    if (stored) {
        /* stored only if nothing changed since it was sent */
        FUZZ_CHECK(rd->sv == sver[rd->session]);
        FUZZ_CHECK(rd->uv == uver[rd->session % USERS]);

        {
            char                        key[CA_SCACHE_KEY_MAX];
            const ca_scache_user_t     *cu;
            const ca_scache_session_t  *cs;

            FUZZ_CHECK(ca_scache_get(c, key, skey(key, rd->session), &cs,
                                     &cu));
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           i, n;
    char          key[CA_SCACHE_KEY_MAX], ukeyb[CA_SCACHE_KEY_MAX];
    size_t        at;
    uint32_t      sessions, users;
    ca_scache_t  *c;

    if (size < 1) {
        return 0;
    }

    c = ca_scache_create(1 + data[0] % 8);
    FUZZ_CHECK(c != NULL);

    memset(sver, 0, sizeof(sver));
    memset(uver, 0, sizeof(uver));
    memset(reads, 0, sizeof(reads));

    for (at = 1; at < size; at++) {
        n = data[at] >> 3;

        switch (data[at] & 7) {

        case 0:     /* a read sent */
            i = n % PENDING;
            fuzz_answer(c, &reads[i], 0);
            reads[i].session = n % SESSIONS;
            reads[i].sv = sver[n % SESSIONS];
            reads[i].uv = uver[n % USERS];
            reads[i].live = 1;
            (void) ca_scache_begin(c, key, skey(key, n % SESSIONS), ukeyb,
                                   ukey(ukeyb, n % SESSIONS),
                                   &reads[i].ticket);
            break;

        case 1:     /* its replies, stored */
            fuzz_answer(c, &reads[n % PENDING], 1);
            break;

        case 2:     /* its replies, not stored */
            fuzz_answer(c, &reads[n % PENDING], 0);
            break;

        case 3:     /* a session changed */
            sver[n % SESSIONS]++;
            (void) ca_scache_invalidate(c, key, skey(key, n % SESSIONS));
            break;

        case 4:     /* a user changed */
            uver[n % USERS]++;
            (void) ca_scache_invalidate(c, key, ukey(key, n % USERS));
            break;

        case 5:     /* FLUSHALL, or the connection lost */
            for (i = 0; i < SESSIONS; i++) {
                sver[i]++;
            }

            for (i = 0; i < USERS; i++) {
                uver[i]++;
            }

            ca_scache_flush(c);
            break;

        default:
            fuzz_lookup(c, n % SESSIONS);
            break;
        }

        ca_scache_usage(c, &sessions, &users);
        FUZZ_CHECK(sessions <= ca_scache_capacity(c));
        FUZZ_CHECK(users <= ca_scache_capacity(c));
        FUZZ_CHECK(ca_scache_entries(c) <= sessions);
    }

    for (i = 0; i < PENDING; i++) {
        fuzz_answer(c, &reads[i], 0);
    }

    ca_scache_destroy(c);

    return 0;
}
