/*
 * The subject a client address is counted under by the address limits.
 * nginx-free.
 *
 * IPv4: the address.  IPv6: its /64, which one subscriber usually owns
 * entirely ("2001:db8:0:1::/64").  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, what a dual-stack listener or realip gives for an IPv4
 * client) is that IPv4 address: all of them share ::/64 otherwise.
 */

#ifndef CA_ADDR_H
#define CA_ADDR_H

#include <stddef.h>

#define CA_ADDR_SUBJECT_MAX  sizeof("ffff:ffff:ffff:ffff::/64")

/*
 * Writes the subject of the address addr (len 4: IPv4, 16: IPv6, network
 * order) to buf, NUL-terminated; returns its length, or 0 for another
 * length or a buf smaller than CA_ADDR_SUBJECT_MAX.
 */
size_t ca_addr_subject(char *buf, size_t size, const unsigned char *addr,
    size_t len);

#endif /* CA_ADDR_H */
