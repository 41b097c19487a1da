#include <string.h>

#include "ca_slot.h"


/* Bit by bit: nothing calls this on a hot path. */

static unsigned
ca_crc16(const char *s, size_t len)
{
    size_t    i;
    unsigned  bit, crc;

    crc = 0;

    for (i = 0; i < len; i++) {
        crc ^= (unsigned) (unsigned char) s[i] << 8;

        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
            crc &= 0xffff;
        }
    }

    return crc;
}


unsigned
ca_slot(const char *key, size_t len)
{
    const char  *open, *close;

    open = memchr(key, '{', len);

    if (open != NULL) {
        close = memchr(open + 1, '}', key + len - open - 1);

        if (close != NULL && close > open + 1) {
            key = open + 1;
            len = close - open - 1;
        }
    }

    return ca_crc16(key, len) % CA_SLOTS;
}
