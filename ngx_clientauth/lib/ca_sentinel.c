/*
 * Replies about the primary (ca_sentinel.h).  nginx-free.
 */

#include <string.h>
#include <arpa/inet.h>

#include "ca_sentinel.h"


static int
ca_sentinel_is_str(const redisReply *r)
{
    return r != NULL
           && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}


int
ca_sentinel_addr_set(ca_sentinel_addr_t *addr, const char *host, size_t len,
    const char *port, size_t port_len)
{
    size_t          i;
    int             p;
    unsigned char   buf[sizeof(struct in6_addr)];
    char            text[CA_SENTINEL_HOST_MAX];

    /* a NUL inside would make it another address than the one said */
    if (len == 0 || len >= CA_SENTINEL_HOST_MAX || port_len == 0
        || port_len > 5 || memchr(host, '\0', len) != NULL)
    {
        return -1;
    }

    memcpy(text, host, len);
    text[len] = '\0';

    /* numeric only: a name would need DNS in the worker */
    if (inet_pton(AF_INET, text, buf) != 1
        && inet_pton(AF_INET6, text, buf) != 1)
    {
        return -1;
    }

    p = 0;

    for (i = 0; i < port_len; i++) {
        if (port[i] < '0' || port[i] > '9') {
            return -1;
        }

        p = p * 10 + (port[i] - '0');
    }

    if (p < 1 || p > 65535) {
        return -1;
    }

    memcpy(addr->host, text, len + 1);
    addr->port = p;

    return 0;
}


int
ca_sentinel_master_addr(const redisReply *reply, ca_sentinel_addr_t *addr)
{
    if (reply == NULL) {
        return CA_SENTINEL_BAD;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        return CA_SENTINEL_UNKNOWN;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || !ca_sentinel_is_str(reply->element[0])
        || !ca_sentinel_is_str(reply->element[1]))
    {
        return CA_SENTINEL_BAD;
    }

    if (ca_sentinel_addr_set(addr, reply->element[0]->str,
                             reply->element[0]->len,
                             reply->element[1]->str,
                             reply->element[1]->len)
        != 0)
    {
        return CA_SENTINEL_BAD;
    }

    return CA_SENTINEL_OK;
}


/* The n-th space-separated word of s (len bytes), or -1. */

static int
ca_sentinel_word(const char *s, size_t len, int n, const char **word,
    size_t *wlen)
{
    size_t  i, start;

    i = 0;

    for ( ;; ) {
        start = i;

        while (i < len && s[i] != ' ') {
            i++;
        }

        if (n-- == 0) {
            *word = s + start;
            *wlen = i - start;
            return (i > start) ? 0 : -1;
        }

        if (i == len) {
            return -1;
        }

        i++;
    }
}


int
ca_sentinel_switch(const redisReply *reply, const char *name, size_t len,
    ca_sentinel_addr_t *addr)
{
    size_t             wlen, plen;
    const char        *w, *p;
    const redisReply  *kind, *msg;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3 || !ca_sentinel_is_str(reply->element[0]))
    {
        return CA_SENTINEL_BAD;
    }

    kind = reply->element[0];

    if (kind->len != 7 || memcmp(kind->str, "message", 7) != 0) {
        /* "subscribe" and its count: the subscription is on */
        return CA_SENTINEL_UNKNOWN;
    }

    msg = reply->element[2];

    if (!ca_sentinel_is_str(msg)
        || ca_sentinel_word(msg->str, msg->len, 0, &w, &wlen) != 0)
    {
        return CA_SENTINEL_BAD;
    }

    if (wlen != len || memcmp(w, name, len) != 0) {
        return CA_SENTINEL_UNKNOWN;
    }

    if (ca_sentinel_word(msg->str, msg->len, 3, &w, &wlen) != 0
        || ca_sentinel_word(msg->str, msg->len, 4, &p, &plen) != 0
        || p + plen != msg->str + msg->len
        || ca_sentinel_addr_set(addr, w, wlen, p, plen) != 0)
    {
        return CA_SENTINEL_BAD;
    }

    return CA_SENTINEL_OK;
}


int
ca_sentinel_role_is_master(const redisReply *reply)
{
    const redisReply  *role;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0 || !ca_sentinel_is_str(reply->element[0]))
    {
        return -1;
    }

    role = reply->element[0];

    return role->len == 6 && memcmp(role->str, "master", 6) == 0;
}
