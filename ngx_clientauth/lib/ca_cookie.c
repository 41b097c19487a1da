#include <string.h>

#include "ca_cookie.h"


static int
ca_cookie_ows(char c)
{
    return c == ' ' || c == '\t';
}


size_t
ca_cookie_find(const char *header, size_t len, const char *name,
    size_t name_len, const char **value, size_t *value_len)
{
    size_t       found;
    const char  *p, *last, *end, *start, *eq;

    found = 0;
    p = header;
    last = header + len;

    while (p < last) {
        end = memchr(p, ';', last - p);
        if (end == NULL) {
            end = last;
        }

        start = p;
        p = end + 1;

        while (start < end && ca_cookie_ows(*start)) {
            start++;
        }

        while (end > start && ca_cookie_ows(end[-1])) {
            end--;
        }

        eq = memchr(start, '=', end - start);

        if (eq == NULL
            || (size_t) (eq - start) != name_len
            || memcmp(start, name, name_len) != 0)
        {
            continue;
        }

        if (found++ == 0) {
            *value = eq + 1;
            *value_len = end - (eq + 1);
        }
    }

    return found;
}
