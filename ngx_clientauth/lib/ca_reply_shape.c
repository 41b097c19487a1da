#include <string.h>
#include <strings.h>

#include "ca_reply_shape.h"


enum {
    CA_CMD_OTHER = 0,
    CA_CMD_MULTI,
    CA_CMD_EXEC,
    CA_CMD_DISCARD,
    CA_CMD_WATCH,
    CA_CMD_WAIT
};


typedef struct {
    const char     *name;
    size_t          len;
    unsigned char   kind;
    unsigned char   command;
} ca_reply_command_t;


#define C(name, kind, command)                                             \
    { name, sizeof(name) - 1, CA_REPLY_##kind, CA_CMD_##command }

/* The commands the gateway sends, HMGET first (every protected request
 * sends one); any other only must not fail. */
static const ca_reply_command_t  ca_reply_commands[] = {
    C("HMGET", FIELDS, OTHER),
    C("DECR", INTEGER, OTHER),
    C("DECRBY", INTEGER, OTHER),
    C("DEL", INTEGER, OTHER),
    C("EXISTS", INTEGER, OTHER),
    C("EXPIRE", INTEGER, OTHER),
    C("HDEL", INTEGER, OTHER),
    C("HEXISTS", INTEGER, OTHER),
    C("HINCRBY", INTEGER, OTHER),
    C("HSET", INTEGER, OTHER),
    C("HSETNX", INTEGER, OTHER),
    C("INCR", INTEGER, OTHER),
    C("INCRBY", INTEGER, OTHER),
    C("LPUSH", INTEGER, OTHER),
    C("PERSIST", INTEGER, OTHER),
    C("PEXPIRE", INTEGER, OTHER),
    C("PEXPIREAT", INTEGER, OTHER),
    C("PTTL", INTEGER, OTHER),
    C("RPUSH", INTEGER, OTHER),
    C("SADD", INTEGER, OTHER),
    C("SCARD", INTEGER, OTHER),
    C("SISMEMBER", INTEGER, OTHER),
    C("SREM", INTEGER, OTHER),
    C("TTL", INTEGER, OTHER),
    C("UNLINK", INTEGER, OTHER),
    C("GET", BULK, OTHER),
    C("GETDEL", BULK, OTHER),
    C("HGET", BULK, OTHER),
    C("XADD", BULK, OTHER),
    C("MGET", FIELDS, OTHER),
    C("LRANGE", STRINGS, OTHER),
    C("SMEMBERS", STRINGS, OTHER),
    C("SET", SET, OTHER),
    C("AUTH", STATUS, OTHER),
    C("LTRIM", STATUS, OTHER),
    C("PING", STATUS, OTHER),
    C("SELECT", STATUS, OTHER),
    C("UNWATCH", STATUS, OTHER),
    C("MULTI", STATUS, MULTI),
    C("EXEC", EXEC, EXEC),
    C("DISCARD", STATUS, DISCARD),
    C("WATCH", STATUS, WATCH),
    /* durable writes (clientauth_redis replicas=) */
    C("WAIT", INTEGER, WAIT),
    /* the session cache (issue 11): CLIENT CACHING yes, whose +OK alone
     * says that the next read is tracked */
    C("CLIENT", STATUS, OTHER)
};

#undef C


static int
ca_reply_word(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}


static int
ca_reply_named(const char *s, size_t len, const ca_reply_command_t *c)
{
    return c->len == len && (s[0] & ~0x20) == c->name[0]
           && strncasecmp(s, c->name, len) == 0;
}


void
ca_reply_expect(ca_reply_expect_t *e, int argc, const char *const *argv,
    const size_t *argvlen)
{
    int     i;
    size_t  k;

    memset(e, 0, sizeof(ca_reply_expect_t));

    if (argc < 1) {
        return;
    }

    for (k = 0; k < sizeof(ca_reply_commands) / sizeof(ca_reply_commands[0]);
         k++)
    {
        if (ca_reply_named(argv[0], argvlen[0], &ca_reply_commands[k])) {
            e->kind = ca_reply_commands[k].kind;
            e->command = ca_reply_commands[k].command;
            break;
        }
    }

    switch (e->kind) {

    case CA_REPLY_FIELDS:
        /* HMGET key field...: one per field; MGET key...: one per key */
        i = ca_reply_word(argv[0], argvlen[0], "HMGET") ? 2 : 1;
        e->n = (unsigned int) (argc > i ? argc - i : 0);
        break;

    case CA_REPLY_SET:
        for (i = 3; i < argc; i++) {
            if (ca_reply_word(argv[i], argvlen[i], "NX")
                || ca_reply_word(argv[i], argvlen[i], "XX")
                || ca_reply_word(argv[i], argvlen[i], "GET"))
            {
                return;
            }
        }

        e->kind = CA_REPLY_STATUS;      /* a plain SET always sets */
        break;
    }
}


int
ca_reply_is_wait(const ca_reply_expect_t *e)
{
    return e->command == CA_CMD_WAIT && !e->queued;
}


void
ca_reply_expect_batch(ca_reply_expect_t *e, size_t n, int watched)
{
    size_t  i, multi;
    int     open, watch;

    open = 0;
    watch = 0;
    multi = 0;

    for (i = 0; i < n; i++) {
        switch (e[i].command) {

        case CA_CMD_WATCH:
            if (!open) {
                watch = 1;
            }
            break;

        case CA_CMD_MULTI:
            if (!open) {
                open = 1;
                multi = i;
                continue;
            }
            break;

        case CA_CMD_EXEC:
        case CA_CMD_DISCARD:
            if (open) {
                open = 0;
                e[i].n = (unsigned int) (i - multi - 1);
                e[i].watch = (unsigned char) (watch || watched);
                watch = 0;
                continue;
            }

            if (e[i].command == CA_CMD_EXEC) {
                /* its MULTI went in another call: nothing to size it by */
                e[i].kind = CA_REPLY_ANY;
            }

            break;
        }

        e[i].queued = (unsigned char) open;
    }
}


static int
ca_reply_is(const redisReply *r, const ca_reply_expect_t *e)
{
    size_t  i;

    switch (e->kind) {

    case CA_REPLY_INTEGER:
        return r->type == REDIS_REPLY_INTEGER;

    case CA_REPLY_STATUS:
        return r->type == REDIS_REPLY_STATUS;

    case CA_REPLY_BULK:
        return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL;

    case CA_REPLY_SET:
        /* SET ... NX: +OK when it set, nil when it did not (GET: the old
         * value) */
        return (r->type == REDIS_REPLY_STATUS && r->len == 2
                && memcmp(r->str, "OK", 2) == 0)
               || r->type == REDIS_REPLY_NIL || r->type == REDIS_REPLY_STRING;

    case CA_REPLY_STRINGS:
    case CA_REPLY_FIELDS:
        if (r->type != REDIS_REPLY_ARRAY
            || (e->kind == CA_REPLY_FIELDS && r->elements != e->n))
        {
            return 0;
        }

        for (i = 0; i < r->elements; i++) {
            if (r->element[i]->type != REDIS_REPLY_STRING
                && !(e->kind == CA_REPLY_FIELDS
                     && r->element[i]->type == REDIS_REPLY_NIL))
            {
                return 0;
            }
        }

        return 1;

    default: /* CA_REPLY_ANY */
        return r->type != REDIS_REPLY_ERROR;
    }
}


int
ca_reply_check(const redisReply *reply, const ca_reply_expect_t *e, size_t i)
{
    size_t                    j;
    const ca_reply_expect_t  *ran;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        return -1;
    }

    if (e[i].queued) {
        return (reply->type == REDIS_REPLY_STATUS && reply->len == 6
                && memcmp(reply->str, "QUEUED", 6) == 0) ? 0 : -1;
    }

    if (e[i].kind != CA_REPLY_EXEC) {
        return ca_reply_is(reply, &e[i]) ? 0 : -1;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        return e[i].watch ? 0 : -1;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != e[i].n) {
        return -1;
    }

    ran = &e[i - e[i].n];

    for (j = 0; j < reply->elements; j++) {
        if (reply->element[j]->type == REDIS_REPLY_ERROR
            || !ca_reply_is(reply->element[j], &ran[j]))
        {
            return -1;
        }
    }

    return 0;
}
