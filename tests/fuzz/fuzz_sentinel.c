/*
 * Who the primary is (lib/ca_sentinel.c), on arbitrary RESP parsed by
 * hiredis: a sentinel's answer, a +switch-master message, ROLE's reply.
 * Properties: an address accepted is numeric (inet_pton takes it back) with
 * a port 1-65535 and is what the reply says, byte for byte; a switch is
 * only taken for the master named; an error reply never names a primary and
 * ROLE is "master" only when its first element says exactly that.
 */

#define _GNU_SOURCE                     /* memmem */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "fuzz_common.h"
#include "ca_sentinel.h"


/* A numeric host and a port, as an independent second opinion. */

static void
check_addr(const ca_sentinel_addr_t *a, const char *host, size_t hlen,
    const char *port, size_t plen)
{
    unsigned char  buf[16];
    char           text[8];

    FUZZ_CHECK(strlen(a->host) == hlen && memcmp(a->host, host, hlen) == 0);
    FUZZ_CHECK(inet_pton(AF_INET, a->host, buf) == 1
               || inet_pton(AF_INET6, a->host, buf) == 1);
    FUZZ_CHECK(a->port >= 1 && a->port <= 65535);

    FUZZ_CHECK(plen < sizeof(text));
    memcpy(text, port, plen);
    text[plen] = '\0';
    FUZZ_CHECK(strtol(text, NULL, 10) == a->port);
    FUZZ_CHECK(strspn(text, "0123456789") == plen);
}


static void
check_switch(const redisReply *r)
{
    int                 rc;
    const char         *msg, *sp;
    ca_sentinel_addr_t  a;

    rc = ca_sentinel_switch(r, "mymaster", 8, &a);

    if (rc != CA_SENTINEL_OK) {
        return;
    }

    FUZZ_CHECK(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    FUZZ_CHECK(r->element[0]->len == 7
               && memcmp(r->element[0]->str, "message", 7) == 0);

    /* "mymaster old-host old-port new-host new-port" */
    msg = r->element[2]->str;
    FUZZ_CHECK(r->element[2]->len > 9 && memcmp(msg, "mymaster ", 9) == 0);

    sp = msg + r->element[2]->len;

    while (sp > msg && sp[-1] != ' ') {
        sp--;
    }

    FUZZ_CHECK(strtol(sp, NULL, 10) == a.port);
    FUZZ_CHECK(memmem(msg, r->element[2]->len, a.host, strlen(a.host))
               != NULL);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc, role;
    void                *reply;
    redisReply          *r;
    redisReader         *reader;
    ca_sentinel_addr_t   a;

    if (fuzz_declares_huge_lengths(data, size)) {
        return 0;
    }

    reader = redisReaderCreate();
    if (reader == NULL) {
        return 0;
    }

    if (redisReaderFeed(reader, (const char *) data, size) != REDIS_OK
        || redisReaderGetReply(reader, &reply) != REDIS_OK || reply == NULL)
    {
        redisReaderFree(reader);
        return 0;
    }

    r = reply;

    rc = ca_sentinel_master_addr(r, &a);

    if (rc == CA_SENTINEL_OK) {
        FUZZ_CHECK(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        check_addr(&a, r->element[0]->str, r->element[0]->len,
                   r->element[1]->str, r->element[1]->len);

    } else if (rc == CA_SENTINEL_UNKNOWN) {
        FUZZ_CHECK(r->type == REDIS_REPLY_NIL);
    }

    FUZZ_CHECK(r->type != REDIS_REPLY_ERROR || rc == CA_SENTINEL_BAD);

    check_switch(r);

    role = ca_sentinel_role_is_master(r);

    if (role == 1) {
        FUZZ_CHECK(r->type == REDIS_REPLY_ARRAY && r->elements > 0
                   && r->element[0]->len == 6
                   && memcmp(r->element[0]->str, "master", 6) == 0);
    }

    freeReplyObject(reply);
    redisReaderFree(reader);

    return 0;
}
