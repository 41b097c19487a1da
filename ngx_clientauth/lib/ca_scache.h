/*
 * The per-worker session cache: what a session validation read from Redis
 * (the session hash and its user's), kept until Redis says either key
 * changed.  nginx-free, so unit tests and a fuzzer drive it alone.
 *
 * Entries are keyed by the Redis keys themselves (opaque bytes, built
 * elsewhere by ca_keys), so an invalidation message is looked up as it
 * comes.  A session entry names the user entry it depends on; user entries
 * are shared by the user's sessions, so a change to the user (permissions,
 * lock, sgen bumped by a revocation) is one invalidation of one entry,
 * whatever the number of that user's sessions cached.
 *
 * The read/invalidate race: an invalidation may arrive (on the subscriber
 * connection) before the reply of a read that Redis answered with the old
 * value (on the data connection).  A read takes a ticket before it is
 * sent (ca_scache_begin); every invalidation stamps the entry with a clock
 * that only grows; a reply is stored (ca_scache_fill) only if neither key
 * was invalidated, nor the cache flushed, since its ticket was taken.
 *
 * Memory is bounded: capacity sessions and capacity users, allocated once
 * (calloc: untouched pages cost nothing); the least recently used session
 * goes when a new one needs its place.
 */

#ifndef CA_SCACHE_H
#define CA_SCACHE_H

#include <stddef.h>
#include <stdint.h>

#define CA_SCACHE_KEY_MAX    144       /* longer keys are not cached */
#define CA_SCACHE_ID_MAX     21        /* 20 digits and a NUL */
#define CA_SCACHE_PERMS_MAX  256       /* longer permissions: not cached */
#define CA_SCACHE_CAPACITY_MAX  (1u << 20)

#define CA_SCACHE_NONE  UINT32_MAX

typedef struct ca_scache_s  ca_scache_t;

/* The session hash a u x s g, and the key's deadline (now + PTTL). */
typedef struct {
    char         account[CA_SCACHE_ID_MAX];
    char         user[CA_SCACHE_ID_MAX];
    char         generation[CA_SCACHE_ID_MAX];
    int64_t      expires;              /* x, ms */
    int64_t      refreshed;            /* s, ms */
    int64_t      deadline;             /* when Redis lets the key expire */
} ca_scache_session_t;

/* Its user's status perms sgen. */
typedef struct {
    int          active;
    size_t       perms_len;
    char         perms[CA_SCACHE_PERMS_MAX];
    char         generation[CA_SCACHE_ID_MAX];
} ca_scache_user_t;

/* A read in flight: where its keys' entries are and when it began. */
typedef struct {
    uint32_t     session;
    uint32_t     user;
    uint32_t     session_id;
    uint32_t     user_id;
    uint64_t     start;
    uint64_t     epoch;
} ca_scache_ticket_t;

/* capacity sessions (1 to CA_SCACHE_CAPACITY_MAX); NULL without memory. */
ca_scache_t *ca_scache_create(uint32_t capacity);
void ca_scache_destroy(ca_scache_t *c);

/*
 * A hit: 1, *s and *u the session and its user (valid until the next call
 * that changes the cache), the session now the most recently used.  0: no
 * entry, or one whose session or user is being read or was invalidated.
 */
int ca_scache_get(ca_scache_t *c, const char *skey, size_t slen,
    const ca_scache_session_t **s, const ca_scache_user_t **u);

/*
 * Before a read of both keys is sent: 0 and a ticket, or -1 when this read
 * cannot be cached (a key too long, no room for the user); the read goes
 * on all the same.  Either way the ticket may be given to fill or abort.
 */
int ca_scache_begin(ca_scache_t *c, const char *skey, size_t slen,
    const char *ukey, size_t ulen, ca_scache_ticket_t *t);

/*
 * The read's replies: stored (1) only if neither key was invalidated and
 * the cache not flushed since the ticket was taken, else 0.  The ticket is
 * spent either way.
 */
int ca_scache_fill(ca_scache_t *c, ca_scache_ticket_t *t,
    const ca_scache_session_t *s, const ca_scache_user_t *u);

/* A read whose replies will not be stored (refused session, error). */
void ca_scache_abort(ca_scache_t *c, ca_scache_ticket_t *t);

/*
 * Redis (or the worker's own write) says key changed: what was cached of
 * it goes, and a read of it in flight will not be stored.  1 if the cache
 * held the key (cached or being read), else 0.
 */
int ca_scache_invalidate(ca_scache_t *c, const char *key, size_t len);

/* Everything goes; reads in flight will not be stored. */
void ca_scache_flush(ca_scache_t *c);

/* Sessions cached with their data (not counting reads in flight). */
uint32_t ca_scache_entries(const ca_scache_t *c);
uint32_t ca_scache_capacity(const ca_scache_t *c);

/* Sessions and users holding a slot, for tests: both <= capacity. */
void ca_scache_usage(const ca_scache_t *c, uint32_t *sessions,
    uint32_t *users);

#endif /* CA_SCACHE_H */
