#include <string.h>
#include <strings.h>

#include "ca_lang.h"


/* One range of an Accept-Language header, as parsed. */
typedef struct {
    const char  *tag;
    size_t       len;
    int          q;         /* thousandths */
} ca_lang_range_t;


static int
ca_lang_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


static int
ca_lang_alnum(char c)
{
    return ca_lang_alpha(c) || (c >= '0' && c <= '9');
}


int
ca_lang_tag_valid(const char *s, size_t len)
{
    size_t  i, sub, primary;

    if (len == 0 || len > CA_LANG_TAG_MAX) {
        return 0;
    }

    sub = 0;
    primary = 1;

    for (i = 0; i < len; i++) {
        if (s[i] == '-') {
            if (sub == 0 || i + 1 == len) {
                return 0;
            }

            sub = 0;
            primary = 0;
            continue;
        }

        /* the primary subtag is letters only */
        if (!(primary ? ca_lang_alpha(s[i]) : ca_lang_alnum(s[i]))
            || ++sub > 8)
        {
            return 0;
        }
    }

    return 1;
}


int
ca_lang_find(const char *const *offered, size_t n, const char *s, size_t len)
{
    size_t  i;

    if (!ca_lang_tag_valid(s, len)) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (strlen(offered[i]) == len && strncasecmp(offered[i], s, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


static int
ca_lang_ows(char c)
{
    return c == ' ' || c == '\t';
}


/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */

static int
ca_lang_qvalue(const char *p, size_t len)
{
    int     q, scale;
    size_t  i;

    if (len == 0 || (p[0] != '0' && p[0] != '1')) {
        return -1;
    }

    q = (p[0] - '0') * 1000;

    if (len == 1) {
        return q;
    }

    if (p[1] != '.' || len > 5) {
        return -1;
    }

    scale = 100;

    for (i = 2; i < len; i++) {
        if (p[i] < '0' || p[i] > '9' || (q == 1000 && p[i] != '0')) {
            return -1;
        }

        q += (p[i] - '0') * scale;
        scale /= 10;
    }

    return q;
}


/* One comma-separated element: range [ OWS ";" OWS "q=" qvalue ]. */

static int
ca_lang_range(const char *p, size_t len, ca_lang_range_t *range)
{
    size_t  i;

    while (len && ca_lang_ows(p[0])) {
        p++;
        len--;
    }

    while (len && ca_lang_ows(p[len - 1])) {
        len--;
    }

    for (i = 0; i < len && p[i] != ';' && !ca_lang_ows(p[i]); i++) {
        /* the range */
    }

    range->tag = p;
    range->len = i;
    range->q = 1000;

    if (!(i == 1 && p[0] == '*') && !ca_lang_tag_valid(p, i)) {
        return -1;
    }

    while (i < len && ca_lang_ows(p[i])) {
        i++;
    }

    if (i == len) {
        return 0;
    }

    if (p[i++] != ';') {
        return -1;
    }

    while (i < len && ca_lang_ows(p[i])) {
        i++;
    }

    if (len - i < 2 || (p[i] != 'q' && p[i] != 'Q') || p[i + 1] != '=') {
        return -1;
    }

    range->q = ca_lang_qvalue(p + i + 2, len - i - 2);

    return range->q < 0 ? -1 : 0;
}


/* 2: the range names the tag, 1: its primary subtag, 0: neither. */

static int
ca_lang_match(const ca_lang_range_t *range, const char *tag)
{
    size_t  tlen, plen, rlen;

    tlen = strlen(tag);

    if (range->len == tlen && strncasecmp(range->tag, tag, tlen) == 0) {
        return 2;
    }

    for (plen = 0; plen < tlen && tag[plen] != '-'; plen++) { /* void */ }
    for (rlen = 0; rlen < range->len && range->tag[rlen] != '-'; rlen++) {
        /* void */
    }

    return plen == rlen && strncasecmp(range->tag, tag, plen) == 0;
}


int
ca_lang_negotiate(const char *const *offered, size_t n, const char *header,
    size_t len)
{
    int              best, best_q, best_pos, q, pos, wild_q, wild_pos, m;
    int              how;
    size_t           i, j, nranges, start;
    ca_lang_range_t  ranges[CA_LANG_RANGES_MAX];

    if (header == NULL || len == 0 || len > CA_LANG_HEADER_MAX) {
        return -1;
    }

    nranges = 0;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && header[i] != ',') {
            continue;
        }

        if (i == start || header[start] == '\0') {
            /* empty elements are allowed by the list syntax */
            start = i + 1;
            continue;
        }

        if (nranges == CA_LANG_RANGES_MAX
            || memchr(header + start, '\0', i - start) != NULL
            || ca_lang_range(header + start, i - start, &ranges[nranges]) != 0)
        {
            return -1;
        }

        if (ranges[nranges].len != 0) {
            nranges++;
        }

        start = i + 1;
    }

    wild_q = -1;
    wild_pos = 0;

    for (j = 0; j < nranges; j++) {
        if (ranges[j].len == 1 && ranges[j].tag[0] == '*' && wild_q < 0) {
            wild_q = ranges[j].q;
            wild_pos = (int) j;
        }
    }

    best = -1;
    best_q = 0;
    best_pos = 0;

    for (i = 0; i < n; i++) {
        q = -1;
        pos = 0;
        how = 0;

        /* the most specific range naming it decides, the first of those */
        for (j = 0; j < nranges; j++) {
            m = ca_lang_match(&ranges[j], offered[i]);

            if (m > how) {
                how = m;
                q = ranges[j].q;
                pos = (int) j;
            }
        }

        if (q < 0) {
            q = wild_q;
            pos = wild_pos;
        }

        if (q > best_q || (q == best_q && q > 0 && pos < best_pos)) {
            best = (int) i;
            best_q = q;
            best_pos = pos;
        }
    }

    return best;
}
