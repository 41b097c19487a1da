/*
 * ca_perms on arbitrary bytes: a list parses only when every name is 1-32
 * of [a-z0-9_] (and there are at most CA_PERMS_N distinct); what parses is sorted and unique, formats as "all" when
 * "all" is among it, and formatting then parsing again gives the same
 * list.  Whoever holds the formatted list holds each of its names, and
 * covers it; nothing but "all" grants "all".
 */

#include "fuzz_common.h"
#include "ca_perms.h"


static int
reference_valid(const unsigned char *s, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == ',') {
            if (n == 0 || n > 32) {
                return 0;
            }

            n = 0;
            continue;
        }

        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '_'))
        {
            return 0;
        }

        n++;
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int         rc, i, all;
    size_t      len;
    ca_perms_t  p, q;
    char        buf[CA_PERMS_MAX], again[CA_PERMS_MAX];

    memset(&p, 0, sizeof(p));

    rc = ca_perms_parse(&p, (const char *) data, size, ',');

    FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
    /* -2 (too many) may come before a bad name further on */
    FUZZ_CHECK(rc != -1 || !reference_valid(data, size));
    FUZZ_CHECK(rc != 0 || reference_valid(data, size));
    FUZZ_CHECK(!reference_valid(data, size) || rc != -1);

    if (rc != 0) {
        return 0;
    }

    all = 0;

    for (i = 0; i < p.n; i++) {
        FUZZ_CHECK(i == 0 || strcmp(p.names[i - 1], p.names[i]) < 0);
        all |= (strcmp(p.names[i], "all") == 0);
    }

    len = ca_perms_format(&p, buf);
    FUZZ_CHECK(len == strlen(buf));
    FUZZ_CHECK(!all || strcmp(buf, "all") == 0);

    memset(&q, 0, sizeof(q));
    FUZZ_CHECK(ca_perms_parse(&q, buf, len, ',') == 0);
    (void) ca_perms_format(&q, again);
    FUZZ_CHECK(strcmp(buf, again) == 0);

    FUZZ_CHECK(ca_perms_covers(buf, len, &p));

    for (i = 0; i < p.n; i++) {
        FUZZ_CHECK(ca_perms_held(buf, len, p.names[i]));
    }

    FUZZ_CHECK(ca_perms_held(buf, len, "all") == all);

    return 0;
}
