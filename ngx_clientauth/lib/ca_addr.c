#include <stdio.h>
#include <string.h>

#include "ca_addr.h"


static const unsigned char  ca_addr_v4_mapped[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};


static size_t
ca_addr_v4(char *buf, size_t size, const unsigned char *a)
{
    int  n;

    n = snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);

    return (n > 0 && (size_t) n < size) ? (size_t) n : 0;
}


size_t
ca_addr_subject(char *buf, size_t size, const unsigned char *addr,
    size_t len)
{
    int  n;

    if (size < CA_ADDR_SUBJECT_MAX) {
        return 0;
    }

    if (len == 4) {
        return ca_addr_v4(buf, size, addr);
    }

    if (len != 16) {
        return 0;
    }

    if (memcmp(addr, ca_addr_v4_mapped, sizeof(ca_addr_v4_mapped)) == 0) {
        return ca_addr_v4(buf, size, addr + 12);
    }

    n = snprintf(buf, size, "%x:%x:%x:%x::/64",
                 addr[0] << 8 | addr[1], addr[2] << 8 | addr[3],
                 addr[4] << 8 | addr[5], addr[6] << 8 | addr[7]);

    return (n > 0 && (size_t) n < size) ? (size_t) n : 0;
}
