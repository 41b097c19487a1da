#include "ca_logesc.h"


static int
ca_logesc_keeps(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
}


size_t
ca_logesc(char *dst, size_t size, const char *src, size_t len)
{
    size_t               i, n, need;
    unsigned char        c;
    static const char    hex[] = "0123456789abcdef";

    if (size == 0) {
        return 0;
    }

    n = 0;

    for (i = 0; i < len && i < CA_LOGESC_MAX; i++) {
        c = (unsigned char) src[i];
        need = ca_logesc_keeps(c) ? 1 : 4;

        /* room for this byte, the "..." that may follow and the NUL */
        if (n + need + sizeof("...") > size) {
            break;
        }

        if (need == 1) {
            dst[n++] = (char) c;
            continue;
        }

        dst[n++] = '\\';
        dst[n++] = 'x';
        dst[n++] = hex[c >> 4];
        dst[n++] = hex[c & 0x0f];
    }

    if (i < len && n + sizeof("...") <= size) {
        dst[n++] = '.';
        dst[n++] = '.';
        dst[n++] = '.';
    }

    dst[n] = '\0';

    return n;
}
