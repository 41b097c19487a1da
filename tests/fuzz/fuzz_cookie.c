/*
 * libFuzzer target for ca_cookie_find(): a Cookie header value and a cookie
 * name.  Input: the first byte gives the name's length (mod 40), the name
 * follows, the rest is the header value.
 *
 * Properties checked, besides memory safety: the count and the first value
 * are those of a naive reference (split on every ';', trim SP and HTAB,
 * cut at the first '='); a value found lies inside the header, holds no
 * ';', directly follows "<name>=", and is left as it was when none is.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca_cookie.h"


static size_t
reference(const char *h, size_t len, const char *name, size_t nlen,
    const char **value, size_t *vlen)
{
    size_t  found, i, start, end, j;

    found = 0;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && h[i] != ';') {
            continue;
        }

        end = i;

        while (start < end && (h[start] == ' ' || h[start] == '\t')) {
            start++;
        }

        while (end > start && (h[end - 1] == ' ' || h[end - 1] == '\t')) {
            end--;
        }

        for (j = start; j < end && h[j] != '='; j++) {
            /* void */
        }

        if (j < end && j - start == nlen
            && memcmp(h + start, name, nlen) == 0)
        {
            if (found++ == 0) {
                *value = h + j + 1;
                *vlen = end - j - 1;
            }
        }

        start = i + 1;
    }

    return found;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t       nlen, hlen, vlen, rlen, found;
    const char  *name, *h, *value, *rvalue;
    static const char  unset[] = "unset";

    if (size == 0) {
        return 0;
    }

    nlen = data[0] % 40;

    if (size - 1 < nlen) {
        return 0;
    }

    name = (const char *) data + 1;
    h = name + nlen;
    hlen = size - 1 - nlen;

    value = unset;
    vlen = sizeof(unset) - 1;
    rvalue = NULL;
    rlen = 0;

    found = ca_cookie_find(h, hlen, name, nlen, &value, &vlen);

    if (found != reference(h, hlen, name, nlen, &rvalue, &rlen)) {
        abort();
    }

    if (found == 0) {
        if (value != unset || vlen != sizeof(unset) - 1) {
            abort();
        }

        return 0;
    }

    if (value != rvalue || vlen != rlen
        || value < h + nlen + 1 || value + vlen > h + hlen
        || memchr(value, ';', vlen) != NULL
        || value[-1] != '='
        || memcmp(value - 1 - nlen, name, nlen) != 0)
    {
        abort();
    }

    return 0;
}
