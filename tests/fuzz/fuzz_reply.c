/*
 * The bridge's reply check (lib/ca_reply_shape.c) on arbitrary RESP: the
 * first byte picks one of the gateway's batches, the rest is parsed by hiredis
 * as that batch's replies.  Properties: an error never passes; a passing
 * reply has the shape its command returns (+QUEUED inside MULTI, EXEC one
 * reply per queued command or nil only after a WATCH, HMGET one string or
 * nil per field, an integer for INCR).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ca_reply_shape.h"


#define MAXCMDS  12


static const char  *batches[] = {
    /* session validation: the session and its user, one round trip */
    "HMGET ca:magic:sess:h a u x s g|HMGET u status perms sgen",
    "GET ca:magic:id:email:x|INCR rl:a|PEXPIRE rl:a 600000|GET rl:b",
    "MULTI|HMGET u hash status sgen|HSET s a 1 u 1 g 0|PEXPIRE s 10|EXEC",
    "MULTI|SADD ss h|PEXPIRE ss 10 NX|PEXPIRE ss 10 GT|DEL f b|EXEC",
    "HMGET s a u|SMEMBERS ss",
    "MULTI|DEL s|SMEMBERS ss|DEL ss|HINCRBY u sgen 1|EXEC",
    "SET ca:magic:reset-claim:h 1 NX PX 7200000",
    "WATCH u|MULTI|HSET u hash x|XADD o MAXLEN ~ 10 * type t|EXEC",
    /* a dedicated connection: WATCH + read, then the transaction */
    "WATCH u|HGET u hash",
    "MULTI|HSET u hash x|EXEC",
    "UNWATCH",
    "PING"
};

/* An EXEC may answer nil: a WATCH in its batch or an earlier one. */
static int  nil_exec_allowed;


static size_t
batch(ca_reply_expect_t *e, const char *text, int watched)
{
    char         buf[256], *cmd, *save, *word, *save2;
    const char  *argv[16];
    size_t       argvlen[16], n;
    int          argc;

    strcpy(buf, text);
    n = 0;

    for (cmd = strtok_r(buf, "|", &save); cmd && n < MAXCMDS;
         cmd = strtok_r(NULL, "|", &save))
    {
        argc = 0;

        for (word = strtok_r(cmd, " ", &save2); word && argc < 16;
             word = strtok_r(NULL, " ", &save2))
        {
            argv[argc] = word;
            argvlen[argc++] = strlen(word);
        }

        ca_reply_expect(&e[n++], argc, argv, argvlen);
    }

    ca_reply_expect_batch(e, n, watched);
    nil_exec_allowed = watched || strncmp(text, "WATCH ", 6) == 0;

    return n;
}




static int
is_word(const redisReply *r, int type, const char *word)
{
    return r->type == type && r->len == strlen(word)
           && memcmp(r->str, word, r->len) == 0;
}


static void
check_passed(const redisReply *r, const ca_reply_expect_t *e, size_t i)
{
    size_t  j;

    if (r->type == REDIS_REPLY_ERROR) {
        abort();
    }

    if (e[i].queued) {
        if (!is_word(r, REDIS_REPLY_STATUS, "QUEUED")) {
            abort();
        }

        return;
    }

    switch (e[i].kind) {

    case CA_REPLY_EXEC:
        if (r->type == REDIS_REPLY_NIL) {
            if (!nil_exec_allowed) {
                abort();
            }

            return;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != e[i].n) {
            abort();
        }

        for (j = 0; j < r->elements; j++) {
            if (r->element[j]->type == REDIS_REPLY_ERROR) {
                abort();
            }
        }

        return;

    case CA_REPLY_FIELDS:
        if (r->type != REDIS_REPLY_ARRAY || r->elements != e[i].n) {
            abort();
        }

        for (j = 0; j < r->elements; j++) {
            if (r->element[j]->type != REDIS_REPLY_STRING
                && r->element[j]->type != REDIS_REPLY_NIL)
            {
                abort();
            }
        }

        return;

    case CA_REPLY_INTEGER:
        if (r->type != REDIS_REPLY_INTEGER) {
            abort();
        }

        return;

    case CA_REPLY_STATUS:
        if (r->type != REDIS_REPLY_STATUS) {
            abort();
        }

        return;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t              n, i;
    void               *reply;
    redisReader        *reader;
    ca_reply_expect_t   e[MAXCMDS];

    if (size < 1 || fuzz_declares_huge_lengths(data, size)) {
        return 0;
    }

    /* the first byte: which batch, and whether its connection is one that
     * may hold a WATCH of an earlier call */
    n = batch(e, batches[(data[0] & 0x7f)
                         % (sizeof(batches) / sizeof(batches[0]))],
              data[0] & 0x80);

    reader = redisReaderCreate();
    if (reader == NULL) {
        return 0;
    }

    if (redisReaderFeed(reader, (const char *) data + 1, size - 1)
        != REDIS_OK)
    {
        redisReaderFree(reader);
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (redisReaderGetReply(reader, &reply) != REDIS_OK
            || reply == NULL)
        {
            break;
        }

        if (ca_reply_check(reply, e, i) == 0) {
            check_passed(reply, e, i);
        }

        freeReplyObject(reply);
    }

    redisReaderFree(reader);

    return 0;
}
