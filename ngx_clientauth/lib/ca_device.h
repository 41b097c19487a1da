/*
 * What the self-service area says about a session's device, and what a
 * login notice compares: a short, language-neutral name of the browser and
 * system ("Firefox (Linux)", "Safari (iOS)", "curl"), and the client's
 * network (IPv4 /24, IPv6 /48), and what a login notice remembers of the
 * two.  nginx-free.
 *
 * The name comes from the User-Agent the client sent: it says what the
 * client claims, never more, and holds only printable ASCII.
 */

#ifndef CA_DEVICE_H
#define CA_DEVICE_H

#include <stddef.h>

#define CA_DEVICE_NAME_MAX     48     /* with the NUL */
#define CA_DEVICE_NETWORK_MAX  sizeof("ffff:ffff:ffff::/48")

/*
 * The device name of a User-Agent into buf (CA_DEVICE_NAME_MAX bytes),
 * NUL-terminated; its length.  An empty or unknown User-Agent is its first
 * product token, sanitised, or "unknown".
 */
size_t ca_device_name(char *buf, const char *ua, size_t len);

/*
 * The network of addr (len 4: IPv4, 16: IPv6, network order) into buf
 * (CA_DEVICE_NETWORK_MAX bytes): "192.0.2.0/24", "2001:db8:1::/48"; an
 * IPv4-mapped IPv6 address is its IPv4 network.  Its length, or 0 for
 * another length.
 */
size_t ca_device_network(char *buf, const unsigned char *addr, size_t len);

/*
 * What a login notice remembers of a (device, network) pair: a hash of the
 * pair, personal to the user (BLAKE2b-128 of "account:user", the name and
 * the network), as 32 hex digits and a NUL.  sodium_init() must have run.
 */
#define CA_DEVICE_PRINT_LEN  32

void ca_device_print(char out[CA_DEVICE_PRINT_LEN + 1], const char *account,
    const char *user, const char *name, const char *network);

#endif /* CA_DEVICE_H */
