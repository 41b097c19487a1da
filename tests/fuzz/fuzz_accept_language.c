/*
 * Accept-Language negotiation on any bytes: an answer is one of the offered
 * languages, named in the header by its primary subtag or by "*"; ?lang=
 * lookups only ever name a language exactly.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_lang.h"


static const char  *offered[] = { "es", "fr", "en", "pt-br" };


static int
mentions(const char *h, size_t len, const char *what, size_t wlen)
{
    size_t  i;

    for (i = 0; i + wlen <= len; i++) {
        if (strncasecmp(h + i, what, wlen) == 0) {
            return 1;
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          i, j;
    const char  *h = (const char *) data;

    i = ca_lang_negotiate(offered, 4, h, size);

    if (i < -1 || i >= 4) {
        abort();
    }

    if (i >= 0 && !mentions(h, size, offered[i], 2)
        && memchr(h, '*', size) == NULL)
    {
        abort();
    }

    if (i >= 0 && size > CA_LANG_HEADER_MAX) {
        abort();
    }

    /* the same answer twice: no hidden state */
    if (ca_lang_negotiate(offered, 4, h, size) != i) {
        abort();
    }

    j = ca_lang_find(offered, 4, h, size);

    if (j >= 0 && (strlen(offered[j]) != size
                   || strncasecmp(offered[j], h, size) != 0))
    {
        abort();
    }

    return 0;
}
