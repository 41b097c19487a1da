/*
 * --sentinel H:P[,H:P...] --master NAME: the Redis to use is the primary
 * the sentinels name.  They are asked in the order given; an answer is
 * trusted only once the server named says ROLE master, as the gateway
 * does (lib/ca_sentinel.c reads the replies for both).
 */

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "ctl.h"
#include "ca_sentinel.h"


#define CTL_SENTINEL_PORT  26379


static int ctl_sentinel_ask(ctl_t *ctl, const char *sentinel, size_t len,
    struct timeval tv, ca_sentinel_addr_t *addr);
static redisContext *ctl_sentinel_primary(ctl_t *ctl,
    ca_sentinel_addr_t *addr, struct timeval tv);


/* --redis and --sentinel are two answers to one question. */

int
ctl_sentinel_check(ctl_t *ctl, const char *usage_of)
{
    if (ctl->sentinels && ctl->address_given) {
        return ctl_usage_error(usage_of, "--redis and --sentinel exclude "
                               "each other");
    }

    return CTL_OK;
}


int
ctl_sentinel_connect(ctl_t *ctl, struct timeval tv)
{
    int                  rc;
    size_t               len;
    const char          *p, *comma;
    ca_sentinel_addr_t   addr;

    if (ctl->master == NULL) {
        return ctl_usage_error(NULL, "--sentinel needs --master NAME");
    }

    for (p = ctl->sentinels; *p; p = comma + 1) {
        comma = strchr(p, ',');
        len = comma ? (size_t) (comma - p) : strlen(p);

        rc = ctl_sentinel_ask(ctl, p, len, tv, &addr);

        if (rc == CTL_OK) {
            ctl->redis = ctl_sentinel_primary(ctl, &addr, tv);
            if (ctl->redis) {
                return CTL_OK;
            }

        } else if (rc != CTL_FAIL) {
            return rc;                  /* a usage error */
        }

        if (comma == NULL) {
            break;
        }
    }

    return ctl_error("no sentinel of %s named a reachable primary for %s",
                     ctl->sentinels, ctl->master);
}


/* SENTINEL get-master-addr-by-name NAME on one sentinel (AUTH first). */

static int
ctl_sentinel_ask(ctl_t *ctl, const char *sentinel, size_t len,
    struct timeval tv, ca_sentinel_addr_t *addr)
{
    int            rc;
    long           port;
    char           host[256];
    redisReply    *reply;
    redisContext  *c;

    if (ctl_parse_hostport(sentinel, len, CTL_SENTINEL_PORT, host,
                           sizeof(host), &port)
        != 0)
    {
        return ctl_usage_error(NULL, "invalid --sentinel: %.*s (HOST:PORT)",
                               (int) len, sentinel);
    }

    c = redisConnectWithTimeout(host, (int) port, tv);
    if (c == NULL || c->err) {
        ctl_error("sentinel %.*s: %s", (int) len, sentinel,
                  c ? c->errstr : "out of memory");
        goto failed;
    }

    if (redisSetTimeout(c, tv) != REDIS_OK) {
        goto failed;
    }

    if (ctl->sentinel_password && ctl->sentinel_password[0]) {
        reply = redisCommand(c, "AUTH %s", ctl->sentinel_password);
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            ctl_error("sentinel %.*s: AUTH: %s", (int) len, sentinel,
                      reply ? reply->str : c->errstr);
            freeReplyObject(reply);
            goto failed;
        }

        freeReplyObject(reply);
    }

    reply = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
                         ctl->master);
    if (reply == NULL) {
        ctl_error("sentinel %.*s: %s", (int) len, sentinel, c->errstr);
        goto failed;
    }

    rc = ca_sentinel_master_addr(reply, addr);

    if (rc != CA_SENTINEL_OK) {
        ctl_error("sentinel %.*s: %s", (int) len, sentinel,
                  reply->type == REDIS_REPLY_ERROR ? reply->str
                  : (rc == CA_SENTINEL_UNKNOWN ? "no such master"
                                               : "unexpected reply"));
    }

    freeReplyObject(reply);
    redisFree(c);

    return (rc == CA_SENTINEL_OK) ? CTL_OK : CTL_FAIL;

failed:

    if (c) {
        redisFree(c);
    }

    return CTL_FAIL;
}


/* The connection to the server named, if it says it is the master. */

static redisContext *
ctl_sentinel_primary(ctl_t *ctl, ca_sentinel_addr_t *addr, struct timeval tv)
{
    int            master;
    redisReply    *reply;
    redisContext  *c;

    snprintf(ctl->primary, sizeof(ctl->primary),
             strchr(addr->host, ':') ? "[%s]:%d" : "%s:%d",
             addr->host, addr->port);
    ctl->address = ctl->primary;

    c = redisConnectWithTimeout(addr->host, addr->port, tv);
    if (c == NULL || c->err) {
        ctl_error("cannot connect to redis %s: %s", ctl->address,
                  c ? c->errstr : "out of memory");
        goto failed;
    }

    if (redisSetTimeout(c, tv) != REDIS_OK) {
        goto failed;
    }

    /* ROLE needs no AUTH on a default ACL; with one, AUTH goes first */
    if (ctl->password && ctl->password[0]) {
        reply = redisCommand(c, "AUTH %s", ctl->password);
        freeReplyObject(reply);
    }

    reply = redisCommand(c, "ROLE");
    master = ca_sentinel_role_is_master(reply);

    if (master == 1) {
        freeReplyObject(reply);
        return c;
    }

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ctl_error("redis %s: ROLE: %s", ctl->address, reply->str);

    } else {
        ctl_error("redis %s is not a master (named by a sentinel)",
                  ctl->address);
    }

    freeReplyObject(reply);

failed:

    if (c) {
        redisFree(c);
    }

    return NULL;
}
