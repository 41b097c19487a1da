/*
 * libFuzzer target for ca_logesc(): any bytes, escaped for a log line.
 *
 * Properties checked, besides memory safety: the output is printable ASCII
 * with no '"', fits CA_LOGESC_SIZE, every '\' starts a \xNN escape, and
 * decoding it gives back the input (its first CA_LOGESC_MAX bytes followed
 * by "..." when it was longer).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca_logesc.h"


static int
hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           out[CA_LOGESC_SIZE];
    size_t         n, i, d, shown;
    unsigned char  decoded[CA_LOGESC_MAX];

    n = ca_logesc(out, sizeof(out), (const char *) data, size);

    if (n >= sizeof(out) || out[n] != '\0' || strlen(out) != n) {
        abort();
    }

    shown = size < CA_LOGESC_MAX ? size : CA_LOGESC_MAX;
    d = 0;

    for (i = 0; i < n && d < shown; i++) {
        if (out[i] < 0x20 || out[i] > 0x7e || out[i] == '"') {
            abort();
        }

        if (out[i] != '\\') {
            decoded[d++] = (unsigned char) out[i];
            continue;
        }

        if (i + 3 >= n || out[i + 1] != 'x'
            || hex(out[i + 2]) < 0 || hex(out[i + 3]) < 0)
        {
            abort();
        }

        decoded[d++] = (unsigned char) (hex(out[i + 2]) << 4
                                        | hex(out[i + 3]));
        i += 3;
    }

    if (d != shown || memcmp(decoded, data, shown) != 0) {
        abort();
    }

    if (size > CA_LOGESC_MAX) {
        if (n - i != 3 || memcmp(out + i, "...", 3) != 0) {
            abort();
        }

    } else if (i != n) {
        abort();
    }

    return 0;
}
