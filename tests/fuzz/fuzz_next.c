/*
 * ca_next_is_safe on arbitrary bytes: it accepts exactly the same-site
 * relative paths, as written out here a second time from the contract in
 * ca_next.h: one leading '/', not "//" nor "/\", printable ASCII only (no
 * control character, no white space, nothing above 0x7e), no '\' anywhere,
 * at most CA_NEXT_MAX bytes.  A scheme cannot come first after a '/'.
 */

#include "fuzz_common.h"
#include "ca_next.h"


static int
reference_is_safe(const unsigned char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > CA_NEXT_MAX || s[0] != '/') {
        return 0;
    }

    if (len >= 2 && (s[1] == '/' || s[1] == '\\')) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '\\') {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int    safe;
    char  *buf;

    buf = fuzz_dup(data, size, 0);

    safe = ca_next_is_safe(buf, size);

    FUZZ_CHECK(safe == 0 || safe == 1);
    FUZZ_CHECK(safe == reference_is_safe(data, size));

    if (safe) {
        /* same site: a path, never "scheme:" nor "//authority" */
        FUZZ_CHECK(buf[0] == '/');
        FUZZ_CHECK(size == 1 || (buf[1] != '/' && buf[1] != '\\'));
        FUZZ_CHECK(memchr(buf, '\\', size) == NULL);

        /* a browser strips tab and newline: none may hide a "//" */
        FUZZ_CHECK(memchr(buf, '\t', size) == NULL);
        FUZZ_CHECK(memchr(buf, '\n', size) == NULL);
        FUZZ_CHECK(memchr(buf, '\r', size) == NULL);
    }

    free(buf);

    return 0;
}
