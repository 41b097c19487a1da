/*
 * ca_ident on arbitrary bytes.  The first byte chooses the accepted kinds
 * and the country calling code; the rest is what a customer typed.
 *
 *   - the kind returned is one of those accepted, or none with an empty
 *     output; the output is NUL-terminated within CA_IDENT_MAX;
 *   - the output matches its kind's grammar (ca_ident.h), checked here
 *     independently;
 *   - canonicalising is idempotent, by kind and by shape;
 *   - a domain's labels are the typed ones, ASCII lower-cased, and an
 *     "xn--" label decodes (RFC 3492, decoder written here) back to the
 *     typed label's code points.
 */

#include "fuzz_common.h"
#include "ca_ident.h"


static const char  *countries[8] = {
    "34", "1", "44", "358", NULL, "", "0", "1234"
};


static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}


static int
is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}


static size_t
span(const char *s, size_t len, int (*pred)(int))
{
    size_t  i;

    for (i = 0; i < len && pred((unsigned char) s[i]); i++) {
        /* void */
    }

    return i;
}


static int
label_ok(const char *s, size_t len)
{
    size_t  i;

    if (len < 1 || len > 63 || s[0] == '-' || s[len - 1] == '-') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-') {
            return 0;
        }
    }

    return 1;
}


static int
domain_ok(const char *s, size_t len)
{
    size_t       labels;
    const char  *p, *dot, *end, *last;

    if (len == 0 || len > 253) {
        return 0;
    }

    end = s + len;
    labels = 0;
    last = s;

    for (p = s; ; p = dot + 1) {
        dot = memchr(p, '.', end - p);
        if (dot == NULL) {
            dot = end;
        }

        if (!label_ok(p, dot - p)) {
            return 0;
        }

        labels++;
        last = p;

        if (dot == end) {
            break;
        }
    }

    return labels >= 2
           && span(last, end - last, is_digit) != (size_t) (end - last);
}


static int
email_ok(const char *s, size_t len)
{
    size_t       i, local;
    const char  *at;

    at = memchr(s, '@', len);
    if (at == NULL || len > 254) {
        return 0;
    }

    local = at - s;

    if (local == 0 || local > 64
        || fuzz_utf8((const unsigned char *) s, local, NULL) < 0)
    {
        return 0;
    }

    for (i = 0; i < local; i++) {
        unsigned char  c = s[i];

        if (c <= ' ' || c == 0x7f || (c >= 'A' && c <= 'Z') || c == '@') {
            return 0;
        }

        /* C1 controls: U+0080-U+009F are 0xc2 0x80-0x9f */
        if (c == 0xc2 && i + 1 < local && (unsigned char) s[i + 1] >= 0x80
            && (unsigned char) s[i + 1] <= 0x9f)
        {
            return 0;
        }
    }

    return domain_ok(at + 1, len - local - 1);
}


static int
nic_ok(const char *s, size_t len)
{
    size_t  i, n;

    n = span(s, len, is_lower);
    if (n < 1 || n > 12) {
        return 0;
    }

    i = n;
    n = span(s + i, len - i, is_digit);
    if (n < 1 || n > 10) {
        return 0;
    }

    i += n;
    if (i == len || s[i] != '-') {
        return 0;
    }

    i++;
    n = span(s + i, len - i, is_lower);

    return n >= 2 && n <= 10 && i + n == len;
}


static int
grammar_ok(ca_id_kind_e kind, const char *s, size_t len)
{
    switch (kind) {

    case CA_ID_EMAIL:
        return email_ok(s, len);

    case CA_ID_CUSTOMER_NUMBER:
        return len >= 1 && len <= 20 && span(s, len, is_digit) == len
               && (len == 1 || s[0] != '0');

    case CA_ID_NIC:
        return nic_ok(s, len);

    case CA_ID_PHONE:
        return len >= 9 && len <= 16 && s[0] == '+' && s[1] != '0'
               && span(s + 1, len - 1, is_digit) == len - 1;

    case CA_ID_DOMAIN:
        return domain_ok(s, len);

    default:
        return 0;
    }
}


/* RFC 3492, section 6.2, for the labels after "xn--". */

static uint32_t
puny_adapt(uint32_t delta, uint32_t npoints, int first)
{
    uint32_t  k;

    delta = first ? delta / 700 : delta / 2;
    delta += delta / npoints;

    for (k = 0; delta > ((36 - 1) * 26) / 2; k += 36) {
        delta /= 36 - 1;
    }

    return k + (36 - 1 + 1) * delta / (delta + 38);
}


static long
puny_decode(const char *in, size_t len, uint32_t *out, size_t max)
{
    size_t       b, j, n_out;
    uint32_t     n, i, bias, oldi, w, k, digit, t;
    const char  *p;

    n = 0x80;
    i = 0;
    bias = 72;

    for (b = len; b > 0 && in[b - 1] != '-'; b--) {
        /* void */
    }

    if (b > 0) {
        b--;                        /* the delimiter */
    }

    if (b > max) {
        return -1;
    }

    for (j = 0; j < b; j++) {
        out[j] = (unsigned char) in[j];
    }

    n_out = b;
    p = in + (b > 0 ? b + 1 : 0);

    while (p < in + len) {
        oldi = i;
        w = 1;

        for (k = 36; ; k += 36) {
            if (p == in + len) {
                return -1;
            }

            digit = (*p >= 'a' && *p <= 'z') ? (uint32_t) (*p - 'a')
                    : (*p >= '0' && *p <= '9') ? (uint32_t) (*p - '0' + 26)
                    : 36;
            p++;

            if (digit >= 36 || digit > (UINT32_MAX - i) / w) {
                return -1;
            }

            i += digit * w;
            t = (k <= bias) ? 1 : (k >= bias + 26) ? 26 : k - bias;

            if (digit < t) {
                break;
            }

            if (w > UINT32_MAX / (36 - t)) {
                return -1;
            }

            w *= 36 - t;
        }

        bias = puny_adapt(i - oldi, (uint32_t) n_out + 1, oldi == 0);

        if (i / (n_out + 1) > UINT32_MAX - n) {
            return -1;
        }

        n += i / (n_out + 1);
        i %= n_out + 1;

        if (n_out == max) {
            return -1;
        }

        memmove(out + i + 1, out + i, (n_out - i) * sizeof(uint32_t));
        out[i++] = n;
        n_out++;
    }

    return (long) n_out;
}


static int
ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* The typed domain (trimmed) against its canonical form, label by label. */

static void
check_labels(const char *in, size_t len, const char *out, size_t olen)
{
    long         n, m;
    size_t       i, ilen, llen;
    uint32_t     want[256], got[256];
    const char  *ip, *idot, *iend, *op, *odot, *oend;

    while (len > 0 && strchr(" \t\r\n\v\f", in[0]) && in[0]) {
        in++;
        len--;
    }

    while (len > 0 && strchr(" \t\r\n\v\f", in[len - 1]) && in[len - 1]) {
        len--;
    }

    if (len > 0 && in[len - 1] == '.') {
        len--;
    }

    iend = in + len;
    oend = out + olen;

    for (ip = in, op = out; ; ip = idot + 1, op = odot + 1) {
        idot = memchr(ip, '.', iend - ip);
        idot = idot ? idot : iend;
        odot = memchr(op, '.', oend - op);
        odot = odot ? odot : oend;

        ilen = idot - ip;
        llen = odot - op;

        n = fuzz_utf8((const unsigned char *) ip, ilen, want);
        FUZZ_CHECK(n > 0);

        for (i = 0; i < (size_t) n; i++) {
            want[i] = (uint32_t) ascii_lower((int) want[i]);
        }

        if ((size_t) n == ilen) {
            /* ASCII: lower-cased as typed */
            FUZZ_CHECK(llen == ilen);

            for (i = 0; i < ilen; i++) {
                FUZZ_CHECK(op[i] == ascii_lower((unsigned char) ip[i]));
            }

        } else {
            FUZZ_CHECK(llen > 4 && memcmp(op, "xn--", 4) == 0);

            m = puny_decode(op + 4, llen - 4, got, 256);
            FUZZ_CHECK(m == n);
            FUZZ_CHECK(memcmp(got, want, n * sizeof(uint32_t)) == 0);
        }

        FUZZ_CHECK((idot == iend) == (odot == oend));

        if (idot == iend) {
            break;
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             *in;
    char              out[CA_IDENT_MAX], again[CA_IDENT_MAX];
    size_t            len, olen;
    ca_id_kind_e      kind, kind2;
    ca_ident_opts_t   opts;

    if (size == 0) {
        return 0;
    }

    opts.accepted = data[0] & CA_ID_ALL;
    opts.phone_country = countries[data[0] >> 5];

    in = fuzz_dup(data + 1, size - 1, 0);
    len = size - 1;

    memset(out, 'X', sizeof(out));
    kind = ca_ident_normalise(&opts, in, len, out);

    FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL);
    olen = strlen(out);

    if (kind == CA_ID_NONE) {
        FUZZ_CHECK(olen == 0);
        free(in);
        return 0;
    }

    FUZZ_CHECK((opts.accepted & kind) == (unsigned) kind);
    FUZZ_CHECK(ca_ident_kind_name(kind) != NULL);
    FUZZ_CHECK(grammar_ok(kind, out, olen));

    /* idempotent: by kind (clientauthctl) and by shape (login) */

    kind2 = ca_ident_normalise_kind(kind, opts.phone_country, out, olen,
                                    again);
    FUZZ_CHECK(kind2 == kind);
    FUZZ_CHECK(strcmp(again, out) == 0);

    kind2 = ca_ident_normalise(&opts, out, olen, again);
    FUZZ_CHECK(kind2 == kind);
    FUZZ_CHECK(strcmp(again, out) == 0);

    if (kind == CA_ID_DOMAIN) {
        check_labels(in, len, out, olen);
    }

    free(in);

    return 0;
}
