/*
 * The session cache (see ca_scache.h).
 *
 * One array of nodes: sessions in [0, capacity), users in [capacity,
 * 2 * capacity).  One chained hash table over both, so an invalidated key
 * is found whatever it names.  Slots are handed out first from a free
 * list, then from those never used: a flush forgets them all without
 * touching their pages, and a worker that caches little costs little.
 *
 * Every node carries an incarnation id (a ticket that names a slot reused
 * since is stale) and the clock of its last invalidation; the cache's
 * epoch moves at each flush, which makes every ticket stale at once.
 */

#include <stdlib.h>
#include <string.h>

#include "ca_scache.h"


typedef struct {
    uint32_t             next;          /* hash chain, or free list */
    uint32_t             id;            /* incarnation, 0: free */
    uint64_t             hash;
    uint64_t             stamp;         /* clock of its last invalidation */
    uint32_t             readers;       /* tickets naming it */
    uint32_t             refs;          /* a user: sessions naming it */
    uint32_t             prev;          /* a session: LRU neighbours */
    uint32_t             lnext;
    uint32_t             owner;         /* a session: its user's node */
    unsigned char        is_user;
    unsigned char        valid;         /* holds what Redis holds */
    unsigned short       key_len;
    char                 key[CA_SCACHE_KEY_MAX];
    union {
        ca_scache_session_t  s;
        ca_scache_user_t     u;
    } data;
} ca_scache_node_t;


struct ca_scache_s {
    uint32_t             capacity;
    uint32_t             mask;          /* buckets - 1 */
    uint32_t            *buckets;       /* chain heads */
    ca_scache_node_t    *nodes;
    uint32_t             free[2];       /* free lists: sessions, users */
    uint32_t             fresh[2];      /* slots never used */
    uint32_t             used[2];
    uint32_t             lru_head;      /* most recently used */
    uint32_t             lru_tail;
    uint32_t             entries;
    uint32_t             next_id;
    uint64_t             clock;
    uint64_t             epoch;
};


static void ca_scache_free_node(ca_scache_t *c, uint32_t i);


static uint64_t
ca_scache_hash(const char *key, size_t len)
{
    size_t    i;
    uint64_t  h;

    /* FNV-1a: keys end in a digest or ids, which spread well enough */
    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) key[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


static void
ca_scache_reset(ca_scache_t *c)
{
    memset(c->buckets, 0xff, ((size_t) c->mask + 1) * sizeof(uint32_t));

    c->free[0] = CA_SCACHE_NONE;
    c->free[1] = CA_SCACHE_NONE;
    c->fresh[0] = 0;
    c->fresh[1] = 0;
    c->used[0] = 0;
    c->used[1] = 0;
    c->lru_head = CA_SCACHE_NONE;
    c->lru_tail = CA_SCACHE_NONE;
    c->entries = 0;
}


ca_scache_t *
ca_scache_create(uint32_t capacity)
{
    uint32_t      buckets;
    ca_scache_t  *c;

    if (capacity == 0 || capacity > CA_SCACHE_CAPACITY_MAX) {
        return NULL;
    }

    c = calloc(1, sizeof(ca_scache_t));
    if (c == NULL) {
        return NULL;
    }

    /* twice as many buckets as nodes: short chains */
    for (buckets = 16; buckets < 4 * capacity; buckets <<= 1) {
        /* void */
    }

    c->capacity = capacity;
    c->mask = buckets - 1;
    c->buckets = malloc(buckets * sizeof(uint32_t));
    c->nodes = calloc(2 * (size_t) capacity, sizeof(ca_scache_node_t));

    if (c->buckets == NULL || c->nodes == NULL) {
        ca_scache_destroy(c);
        return NULL;
    }

    ca_scache_reset(c);

    return c;
}


void
ca_scache_destroy(ca_scache_t *c)
{
    if (c == NULL) {
        return;
    }

    free(c->buckets);
    free(c->nodes);
    free(c);
}


static uint32_t
ca_scache_find(ca_scache_t *c, const char *key, size_t len, uint64_t hash)
{
    uint32_t           i;
    ca_scache_node_t  *n;

    for (i = c->buckets[hash & c->mask]; i != CA_SCACHE_NONE; i = n->next) {
        n = &c->nodes[i];

        if (n->hash == hash && n->key_len == len
            && memcmp(n->key, key, len) == 0)
        {
            return i;
        }
    }

    return CA_SCACHE_NONE;
}


static void
ca_scache_unhash(ca_scache_t *c, uint32_t i)
{
    uint32_t  *link;

    for (link = &c->buckets[c->nodes[i].hash & c->mask];
         *link != CA_SCACHE_NONE;
         link = &c->nodes[*link].next)
    {
        if (*link == i) {
            *link = c->nodes[i].next;
            return;
        }
    }
}


static void
ca_scache_lru_unlink(ca_scache_t *c, uint32_t i)
{
    ca_scache_node_t  *n;

    n = &c->nodes[i];

    if (n->prev != CA_SCACHE_NONE) {
        c->nodes[n->prev].lnext = n->lnext;

    } else {
        c->lru_head = n->lnext;
    }

    if (n->lnext != CA_SCACHE_NONE) {
        c->nodes[n->lnext].prev = n->prev;

    } else {
        c->lru_tail = n->prev;
    }
}


static void
ca_scache_lru_push(ca_scache_t *c, uint32_t i)
{
    ca_scache_node_t  *n;

    n = &c->nodes[i];
    n->prev = CA_SCACHE_NONE;
    n->lnext = c->lru_head;

    if (c->lru_head != CA_SCACHE_NONE) {
        c->nodes[c->lru_head].prev = i;

    } else {
        c->lru_tail = i;
    }

    c->lru_head = i;
}


static void
ca_scache_touch(ca_scache_t *c, uint32_t i)
{
    if (c->lru_head != i) {
        ca_scache_lru_unlink(c, i);
        ca_scache_lru_push(c, i);
    }
}


/* A user whom no session and no read names any more goes. */

static void
ca_scache_user_unused(ca_scache_t *c, uint32_t u)
{
    ca_scache_node_t  *n;

    n = &c->nodes[u];

    if (n->refs == 0 && n->readers == 0) {
        ca_scache_free_node(c, u);
    }
}


/* A session's data goes; its slot stays while reads of it are in flight. */

static void
ca_scache_session_drop(ca_scache_t *c, uint32_t i)
{
    uint32_t           u;
    ca_scache_node_t  *n;

    n = &c->nodes[i];

    if (n->valid) {
        n->valid = 0;
        c->entries--;
    }

    u = n->owner;
    n->owner = CA_SCACHE_NONE;

    if (u != CA_SCACHE_NONE) {
        c->nodes[u].refs--;
        ca_scache_user_unused(c, u);
    }
}


static void
ca_scache_free_node(ca_scache_t *c, uint32_t i)
{
    int                kind;
    ca_scache_node_t  *n;

    n = &c->nodes[i];
    kind = n->is_user;

    ca_scache_unhash(c, i);

    if (!kind) {
        ca_scache_lru_unlink(c, i);
        ca_scache_session_drop(c, i);
    }

    n->id = 0;
    n->valid = 0;
    n->next = c->free[kind];
    c->free[kind] = i;
    c->used[kind]--;
}


static uint32_t
ca_scache_alloc(ca_scache_t *c, int kind)
{
    uint32_t  i;

    if (c->free[kind] != CA_SCACHE_NONE) {
        i = c->free[kind];
        c->free[kind] = c->nodes[i].next;

    } else if (c->fresh[kind] < c->capacity) {
        i = c->fresh[kind]++ + (kind ? c->capacity : 0);

    } else if (kind == 0 && c->lru_tail != CA_SCACHE_NONE) {
        /* the least recently used session makes room */
        i = c->lru_tail;
        ca_scache_free_node(c, i);
        c->free[0] = c->nodes[i].next;

    } else {
        return CA_SCACHE_NONE;
    }

    c->used[kind]++;

    return i;
}


static uint32_t
ca_scache_insert(ca_scache_t *c, int kind, const char *key, size_t len,
    uint64_t hash)
{
    uint32_t           i, *head;
    ca_scache_node_t  *n;

    i = ca_scache_alloc(c, kind);
    if (i == CA_SCACHE_NONE) {
        return i;
    }

    n = &c->nodes[i];

    if (++c->next_id == 0) {
        c->next_id = 1;
    }

    n->id = c->next_id;
    n->hash = hash;
    n->stamp = 0;
    n->readers = 0;
    n->refs = 0;
    n->owner = CA_SCACHE_NONE;
    n->is_user = (unsigned char) kind;
    n->valid = 0;
    n->key_len = (unsigned short) len;
    memcpy(n->key, key, len);

    head = &c->buckets[hash & c->mask];
    n->next = *head;
    *head = i;

    if (kind == 0) {
        ca_scache_lru_push(c, i);
    }

    return i;
}


int
ca_scache_get(ca_scache_t *c, const char *skey, size_t slen,
    const ca_scache_session_t **s, const ca_scache_user_t **u)
{
    uint32_t           i;
    ca_scache_node_t  *n, *owner;

    if (slen > CA_SCACHE_KEY_MAX) {
        return 0;
    }

    i = ca_scache_find(c, skey, slen, ca_scache_hash(skey, slen));
    if (i == CA_SCACHE_NONE) {
        return 0;
    }

    n = &c->nodes[i];

    if (!n->valid || n->owner == CA_SCACHE_NONE) {
        return 0;
    }

    owner = &c->nodes[n->owner];

    if (!owner->valid) {
        /* the user changed: read both again */
        return 0;
    }

    ca_scache_touch(c, i);

    *s = &n->data.s;
    *u = &owner->data.u;

    return 1;
}


static uint32_t
ca_scache_reader(ca_scache_t *c, int kind, const char *key, size_t len)
{
    uint32_t  i;
    uint64_t  hash;

    hash = ca_scache_hash(key, len);
    i = ca_scache_find(c, key, len, hash);

    if (i == CA_SCACHE_NONE) {
        i = ca_scache_insert(c, kind, key, len, hash);
        if (i == CA_SCACHE_NONE) {
            return i;
        }
    }

    c->nodes[i].readers++;

    return i;
}


int
ca_scache_begin(ca_scache_t *c, const char *skey, size_t slen,
    const char *ukey, size_t ulen, ca_scache_ticket_t *t)
{
    uint32_t  s, u;

    t->session = CA_SCACHE_NONE;
    t->user = CA_SCACHE_NONE;
    t->epoch = c->epoch;
    t->start = ++c->clock;

    if (slen > CA_SCACHE_KEY_MAX || ulen > CA_SCACHE_KEY_MAX) {
        return -1;
    }

    /* the session first: making room for it may free the user of the
     * session it evicts, which is then found again or made anew */
    s = ca_scache_reader(c, 0, skey, slen);
    if (s == CA_SCACHE_NONE) {
        return -1;
    }

    t->session = s;
    t->session_id = c->nodes[s].id;
    ca_scache_touch(c, s);

    u = ca_scache_reader(c, 1, ukey, ulen);
    if (u == CA_SCACHE_NONE) {
        ca_scache_abort(c, t);
        return -1;
    }

    t->user = u;
    t->user_id = c->nodes[u].id;

    return 0;
}


/* The ticket's nodes, if they are still the ones it named. */

static ca_scache_node_t *
ca_scache_ticket_node(ca_scache_t *c, ca_scache_ticket_t *t, uint32_t i,
    uint32_t id)
{
    if (t->epoch != c->epoch || i == CA_SCACHE_NONE || c->nodes[i].id != id
        || c->nodes[i].readers == 0)
    {
        return NULL;
    }

    return &c->nodes[i];
}


void
ca_scache_abort(ca_scache_t *c, ca_scache_ticket_t *t)
{
    ca_scache_node_t  *s, *u;

    s = ca_scache_ticket_node(c, t, t->session, t->session_id);
    u = ca_scache_ticket_node(c, t, t->user, t->user_id);

    if (s) {
        s->readers--;

        if (!s->valid && s->readers == 0) {
            ca_scache_free_node(c, t->session);
        }
    }

    if (u) {
        u->readers--;

        if (!u->valid || u->refs == 0) {
            ca_scache_user_unused(c, t->user);
        }
    }

    t->session = CA_SCACHE_NONE;
    t->user = CA_SCACHE_NONE;
}


int
ca_scache_fill(ca_scache_t *c, ca_scache_ticket_t *t,
    const ca_scache_session_t *s, const ca_scache_user_t *u)
{
    ca_scache_node_t  *sn, *un;

    sn = ca_scache_ticket_node(c, t, t->session, t->session_id);
    un = ca_scache_ticket_node(c, t, t->user, t->user_id);

    if (sn == NULL || un == NULL || sn->stamp >= t->start
        || un->stamp >= t->start || u->perms_len >= CA_SCACHE_PERMS_MAX)
    {
        ca_scache_abort(c, t);
        return 0;
    }

    un->data.u = *u;
    un->valid = 1;

    if (sn->owner != t->user) {
        ca_scache_session_drop(c, t->session);
        sn->owner = t->user;
        un->refs++;
    }

    sn->data.s = *s;

    if (!sn->valid) {
        sn->valid = 1;
        c->entries++;
    }

    ca_scache_touch(c, t->session);

    sn->readers--;
    un->readers--;

    t->session = CA_SCACHE_NONE;
    t->user = CA_SCACHE_NONE;

    return 1;
}


int
ca_scache_invalidate(ca_scache_t *c, const char *key, size_t len)
{
    uint32_t           i;
    ca_scache_node_t  *n;

    if (len > CA_SCACHE_KEY_MAX) {
        return 0;
    }

    i = ca_scache_find(c, key, len, ca_scache_hash(key, len));
    if (i == CA_SCACHE_NONE) {
        return 0;
    }

    n = &c->nodes[i];

    if (n->is_user) {
        if (n->refs == 0 && n->readers == 0) {
            ca_scache_free_node(c, i);
            return 1;
        }

        /* its sessions stay, and miss until the user is read again */
        n->valid = 0;
        n->stamp = ++c->clock;
        return 1;
    }

    if (n->readers == 0) {
        ca_scache_free_node(c, i);
        return 1;
    }

    ca_scache_session_drop(c, i);
    n->stamp = ++c->clock;

    return 1;
}


void
ca_scache_flush(ca_scache_t *c)
{
    c->epoch++;
    c->clock++;
    ca_scache_reset(c);
}


uint32_t
ca_scache_entries(const ca_scache_t *c)
{
    return c->entries;
}


uint32_t
ca_scache_capacity(const ca_scache_t *c)
{
    return c->capacity;
}


void
ca_scache_usage(const ca_scache_t *c, uint32_t *sessions, uint32_t *users)
{
    *sessions = c->used[0];
    *users = c->used[1];
}
