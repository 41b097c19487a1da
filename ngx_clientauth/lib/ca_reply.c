#include <string.h>
#include <strings.h>

#include "ca_reply.h"


enum {
    CA_CMD_OTHER = 0,
    CA_CMD_MULTI,
    CA_CMD_EXEC,
    CA_CMD_DISCARD,
    CA_CMD_WATCH
};


typedef struct {
    const char     *name;
    unsigned char   kind;
    unsigned char   command;
} ca_reply_command_t;


/* The commands the gateway sends; any other only must not fail. */
static const ca_reply_command_t  ca_reply_commands[] = {
    { "DECR", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "DECRBY", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "DEL", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "EXISTS", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "EXPIRE", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "HDEL", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "HEXISTS", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "HINCRBY", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "HSET", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "HSETNX", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "INCR", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "INCRBY", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "LPUSH", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "PERSIST", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "PEXPIRE", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "PEXPIREAT", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "PTTL", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "RPUSH", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "SADD", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "SCARD", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "SISMEMBER", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "SREM", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "TTL", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "UNLINK", CA_REPLY_INTEGER, CA_CMD_OTHER },
    { "GET", CA_REPLY_BULK, CA_CMD_OTHER },
    { "GETDEL", CA_REPLY_BULK, CA_CMD_OTHER },
    { "HGET", CA_REPLY_BULK, CA_CMD_OTHER },
    { "XADD", CA_REPLY_BULK, CA_CMD_OTHER },
    { "HMGET", CA_REPLY_FIELDS, CA_CMD_OTHER },
    { "MGET", CA_REPLY_FIELDS, CA_CMD_OTHER },
    { "LRANGE", CA_REPLY_STRINGS, CA_CMD_OTHER },
    { "SMEMBERS", CA_REPLY_STRINGS, CA_CMD_OTHER },
    { "SET", CA_REPLY_SET, CA_CMD_OTHER },
    { "AUTH", CA_REPLY_STATUS, CA_CMD_OTHER },
    { "LTRIM", CA_REPLY_STATUS, CA_CMD_OTHER },
    { "PING", CA_REPLY_STATUS, CA_CMD_OTHER },
    { "SELECT", CA_REPLY_STATUS, CA_CMD_OTHER },
    { "UNWATCH", CA_REPLY_STATUS, CA_CMD_OTHER },
    { "MULTI", CA_REPLY_STATUS, CA_CMD_MULTI },
    { "EXEC", CA_REPLY_EXEC, CA_CMD_EXEC },
    { "DISCARD", CA_REPLY_STATUS, CA_CMD_DISCARD },
    { "WATCH", CA_REPLY_STATUS, CA_CMD_WATCH }
};


static int
ca_reply_word(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
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
        if (ca_reply_word(argv[0], argvlen[0], ca_reply_commands[k].name)) {
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


void
ca_reply_expect_batch(ca_reply_expect_t *e, size_t n)
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
                e[i].watch = (unsigned char) watch;
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
