/*
 * What Redis Sentinel and a Redis server say about who the primary is:
 * SENTINEL get-master-addr-by-name's reply, a +switch-master message, and
 * ROLE's reply.  nginx-free.
 *
 * An address must be numeric (an IPv4 or IPv6 address and a port 1-65535):
 * the module never resolves a name inside a worker, where it would block.
 */

#ifndef CA_SENTINEL_H
#define CA_SENTINEL_H

#include <stddef.h>
#include <hiredis/hiredis.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" and its NUL */
#define CA_SENTINEL_HOST_MAX  46

typedef struct {
    char  host[CA_SENTINEL_HOST_MAX];
    int   port;
} ca_sentinel_addr_t;

typedef enum {
    CA_SENTINEL_OK = 0,
    CA_SENTINEL_UNKNOWN = 1,      /* nil: the sentinel knows no such master;
                                     a message about another master */
    CA_SENTINEL_BAD = -1          /* malformed, or a name, not an address */
} ca_sentinel_rc_e;

/* SENTINEL get-master-addr-by-name's reply: *2 $host $port, or nil. */
int ca_sentinel_master_addr(const redisReply *reply, ca_sentinel_addr_t *addr);

/*
 * A reply on a connection subscribed to +switch-master: a message
 * "NAME old-ip old-port new-ip new-port" about the master named name
 * (len bytes) gives CA_SENTINEL_OK and the new address; the subscription's
 * confirmation or a message about another master CA_SENTINEL_UNKNOWN.
 */
int ca_sentinel_switch(const redisReply *reply, const char *name, size_t len,
    ca_sentinel_addr_t *addr);

/* ROLE's reply: 1 for "master", 0 for another role, -1 if malformed. */
int ca_sentinel_role_is_master(const redisReply *reply);

/* 0 for host (len bytes) and port as above, copied into addr; or -1. */
int ca_sentinel_addr_set(ca_sentinel_addr_t *addr, const char *host,
    size_t len, const char *port, size_t port_len);

#endif /* CA_SENTINEL_H */
