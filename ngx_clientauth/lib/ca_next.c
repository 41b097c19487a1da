#include "ca_next.h"


/*
 * Control characters and white space are stripped or misread by browsers,
 * '\' is read as '/'.  Raw bytes above 0x7f are refused too: a browser would
 * percent-encode them, so a genuine target never holds them, and they have
 * no business in a Location header.
 */

static int
ca_next_char_is_safe(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != '\\';
}


int
ca_next_is_safe(const char *next, size_t len)
{
    size_t  i;

    if (next == NULL || len == 0 || len > CA_NEXT_MAX || next[0] != '/') {
        return 0;
    }

    /* "//host" and "/\host" are scheme-relative: another site */

    if (len > 1 && (next[1] == '/' || next[1] == '\\')) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!ca_next_char_is_safe((unsigned char) next[i])) {
            return 0;
        }
    }

    return 1;
}
