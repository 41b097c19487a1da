#include <string.h>

#include "ca_ident.h"


#define CA_CUSTNO_MAX       20
#define CA_PHONE_MIN        8
#define CA_PHONE_MAX        15
#define CA_COUNTRY_MAX      3
#define CA_NIC_HEAD_MAX     12
#define CA_NIC_DIGITS_MAX   10
#define CA_NIC_SUFFIX_MIN   2
#define CA_NIC_SUFFIX_MAX   10
#define CA_LOCAL_MAX        64
#define CA_EMAIL_MAX        254
#define CA_DOMAIN_MAX       253
#define CA_LABEL_MAX        63
#define CA_NO_TRUNK         ((size_t) -1)

#define CA_ACE_PREFIX       "xn--"
#define CA_ACE_PREFIX_LEN   (sizeof(CA_ACE_PREFIX) - 1)

/* RFC 3492, section 5: the Punycode parameters used by IDNA */
#define CA_PUNY_BASE        36
#define CA_PUNY_TMIN        1
#define CA_PUNY_TMAX        26
#define CA_PUNY_SKEW        38
#define CA_PUNY_DAMP        700
#define CA_PUNY_BIAS        72
#define CA_PUNY_N           0x80


typedef struct {
    const char    *name;
    size_t         len;
    ca_id_kind_e   kind;
} ca_ident_name_t;


/*
 * The digits of a phone number as typed.  Room for "00", 15 digits and a
 * "(0)" trunk digit: anything longer cannot become a valid E.164 number.
 */
typedef struct {
    char           digits[CA_PHONE_MAX + 3];
    size_t         n;
    size_t         trunk;           /* index of a "(0)" digit */
    int            plus;
} ca_phone_t;


typedef int (*ca_char_pred_pt)(int c);


static int ca_is_digit(int c);
static int ca_is_alpha(int c);
static int ca_is_ldh(int c);
static int ca_is_space(int c);
static int ca_is_phone_sep(int c);
static int ca_lower(int c);
static size_t ca_span(const char *p, size_t len, ca_char_pred_pt pred);
static void ca_ident_trim(const char **in, size_t *len);
static ca_id_kind_e ca_ident_shape(unsigned accepted, const char *in,
    size_t len);
static ca_id_kind_e ca_ident_apply(ca_id_kind_e kind,
    const char *phone_country, const char *in, size_t len, char *out);
static int ca_custno_write(const char *in, size_t len, char *out);
static int ca_nic_shape(const char *in, size_t len);
static int ca_nic_write(const char *in, size_t len, char *out);
static int ca_phone_shape(const char *in, size_t len);
static int ca_phone_chars_only(const char *in, size_t len);
static int ca_phone_scan(const char *in, size_t len, ca_phone_t *ph);
static size_t ca_country_len(const char *country);
static int ca_phone_e164(const char *cc, size_t cclen, const char *digits,
    size_t n, char *out);
static int ca_phone_write(const char *country, const char *in, size_t len,
    char *out);
static int ca_email_local_write(const char *in, size_t len, char *out);
static int ca_email_write(const char *in, size_t len, char *out);
static int ca_domain_write(const char *in, size_t len, char *out,
    size_t size);
static int ca_label_write(const char *in, size_t len, char *out,
    size_t size);
static int ca_idn_label_write(const char *in, size_t len, char *out,
    size_t size);
static uint32_t ca_puny_adapt(uint32_t delta, uint32_t npoints, int first);
static char ca_puny_digit(uint32_t d);
static int ca_puny_encode(const uint32_t *cp, size_t n, char *out,
    size_t size, size_t *outlen);


#define ca_ident_name(s, k)  { s, sizeof(s) - 1, k }

static const ca_ident_name_t  ca_ident_names[] = {
    ca_ident_name("email", CA_ID_EMAIL),
    ca_ident_name("customer_number", CA_ID_CUSTOMER_NUMBER),
    ca_ident_name("nic", CA_ID_NIC),
    ca_ident_name("phone", CA_ID_PHONE),
    ca_ident_name("domain", CA_ID_DOMAIN)
};

#define CA_IDENT_NKINDS  (sizeof(ca_ident_names) / sizeof(ca_ident_names[0]))


ca_id_kind_e
ca_ident_normalise(const ca_ident_opts_t *opts, const char *in, size_t len,
    char out[CA_IDENT_MAX])
{
    ca_id_kind_e  kind;

    ca_ident_trim(&in, &len);
    kind = ca_ident_shape(opts->accepted, in, len);

    return ca_ident_apply(kind, opts->phone_country, in, len, out);
}


ca_id_kind_e
ca_ident_normalise_kind(ca_id_kind_e kind, const char *phone_country,
    const char *in, size_t len, char out[CA_IDENT_MAX])
{
    ca_ident_trim(&in, &len);

    return ca_ident_apply(kind, phone_country, in, len, out);
}


const char *
ca_ident_kind_name(ca_id_kind_e kind)
{
    size_t  i;

    for (i = 0; i < CA_IDENT_NKINDS; i++) {
        if (ca_ident_names[i].kind == kind) {
            return ca_ident_names[i].name;
        }
    }

    return NULL;
}


ca_id_kind_e
ca_ident_kind_from_name(const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < CA_IDENT_NKINDS; i++) {
        if (ca_ident_names[i].len == len
            && memcmp(ca_ident_names[i].name, name, len) == 0)
        {
            return ca_ident_names[i].kind;
        }
    }

    return CA_ID_NONE;
}


size_t
ca_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
    size_t    n, i;
    uint32_t  c, min;

    c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    /* 0xc0, 0xc1 and 0xf5-0xff only ever start overlongs or out-of-range */

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;

    return n;
}


static int
ca_is_digit(int c)
{
    return c >= '0' && c <= '9';
}


static int
ca_is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


/* letters, digits, hyphen: what a host name label may hold (RFC 952) */

static int
ca_is_ldh(int c)
{
    return (c >= 'a' && c <= 'z') || ca_is_digit(c) || c == '-';
}


static int
ca_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
           || c == '\f';
}


static int
ca_is_phone_sep(int c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}


/* ASCII only: the C library's tolower() depends on the locale */

static int
ca_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


static size_t
ca_span(const char *p, size_t len, ca_char_pred_pt pred)
{
    size_t  i;

    for (i = 0; i < len && pred((unsigned char) p[i]); i++) {
        /* void */
    }

    return i;
}


static void
ca_ident_trim(const char **in, size_t *len)
{
    while (*len > 0 && ca_is_space((unsigned char) (*in)[0])) {
        (*in)++;
        (*len)--;
    }

    while (*len > 0 && ca_is_space((unsigned char) (*in)[*len - 1])) {
        (*len)--;
    }
}


/*
 * The kind a value's shape suggests, among the accepted kinds, in the order
 * of ca_ident.h.  A dotted value made only of phone characters ("612.345.678")
 * is a phone number when phones are accepted: it could never be a valid
 * domain, whose last label must not be numeric.
 */

static ca_id_kind_e
ca_ident_shape(unsigned accepted, const char *in, size_t len)
{
    if (len == 0) {
        return CA_ID_NONE;
    }

    if ((accepted & CA_ID_EMAIL) && memchr(in, '@', len) != NULL) {
        return CA_ID_EMAIL;
    }

    if ((accepted & CA_ID_NIC) && ca_nic_shape(in, len)) {
        return CA_ID_NIC;
    }

    if ((accepted & CA_ID_DOMAIN) && memchr(in, '.', len) != NULL
        && !((accepted & CA_ID_PHONE) && ca_phone_chars_only(in, len)))
    {
        return CA_ID_DOMAIN;
    }

    if ((accepted & CA_ID_PHONE) && ca_phone_shape(in, len)) {
        return CA_ID_PHONE;
    }

    if (ca_span(in, len, ca_is_digit) == len) {
        if (accepted & CA_ID_CUSTOMER_NUMBER) {
            return CA_ID_CUSTOMER_NUMBER;
        }

        if (accepted & CA_ID_PHONE) {
            return CA_ID_PHONE;
        }
    }

    return CA_ID_NONE;
}


static ca_id_kind_e
ca_ident_apply(ca_id_kind_e kind, const char *phone_country, const char *in,
    size_t len, char *out)
{
    int  n;

    switch (kind) {

    case CA_ID_EMAIL:
        n = ca_email_write(in, len, out);
        break;

    case CA_ID_CUSTOMER_NUMBER:
        n = ca_custno_write(in, len, out);
        break;

    case CA_ID_NIC:
        n = ca_nic_write(in, len, out);
        break;

    case CA_ID_PHONE:
        n = ca_phone_write(phone_country, in, len, out);
        break;

    case CA_ID_DOMAIN:
        n = ca_domain_write(in, len, out, CA_IDENT_MAX);
        break;

    default:
        n = -1;
    }

    if (n < 0) {
        out[0] = '\0';
        return CA_ID_NONE;
    }

    return kind;
}


static int
ca_custno_write(const char *in, size_t len, char *out)
{
    size_t  i, n;

    if (len == 0 || ca_span(in, len, ca_is_digit) != len) {
        return -1;
    }

    /* leading zeros go, but "0" itself stays */

    for (i = 0; i < len - 1 && in[i] == '0'; i++) {
        /* void */
    }

    n = len - i;

    if (n > CA_CUSTNO_MAX) {
        return -1;
    }

    memcpy(out, in + i, n);
    out[n] = '\0';

    return (int) n;
}


/* "dm429850-OVH": 1-12 letters, 1-10 digits, '-', 2-10 letters */

static int
ca_nic_shape(const char *in, size_t len)
{
    size_t  i, n;

    n = ca_span(in, len, ca_is_alpha);
    if (n < 1 || n > CA_NIC_HEAD_MAX) {
        return 0;
    }

    i = n;

    n = ca_span(in + i, len - i, ca_is_digit);
    if (n < 1 || n > CA_NIC_DIGITS_MAX) {
        return 0;
    }

    i += n;

    if (i == len || in[i] != '-') {
        return 0;
    }

    i++;

    n = ca_span(in + i, len - i, ca_is_alpha);

    return n >= CA_NIC_SUFFIX_MIN && n <= CA_NIC_SUFFIX_MAX && i + n == len;
}


static int
ca_nic_write(const char *in, size_t len, char *out)
{
    size_t  i;

    if (!ca_nic_shape(in, len)) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        out[i] = (char) ca_lower((unsigned char) in[i]);
    }

    out[len] = '\0';

    return (int) len;
}


static int
ca_phone_shape(const char *in, size_t len)
{
    size_t  i;

    if (in[0] == '+' || (len >= 2 && in[0] == '0' && in[1] == '0')) {
        return 1;
    }

    for (i = 0; i < len; i++) {
        if (ca_is_phone_sep((unsigned char) in[i])) {
            return 1;
        }
    }

    return 0;
}


static int
ca_phone_chars_only(const char *in, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!ca_is_digit((unsigned char) in[i]) && in[i] != '+'
            && !ca_is_phone_sep((unsigned char) in[i]))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Collects the digits; a '+' may only come first.  The "(0)" of
 * "+44 (0)20 7946 0958" marks a national trunk prefix that is not dialled
 * from abroad: its position is kept so that it can be dropped.
 */

static int
ca_phone_scan(const char *in, size_t len, ca_phone_t *ph)
{
    size_t  i;

    ph->n = 0;
    ph->trunk = CA_NO_TRUNK;
    ph->plus = (len > 0 && in[0] == '+');

    for (i = ph->plus; i < len; i++) {

        if (ph->trunk == CA_NO_TRUNK && len - i >= 3
            && memcmp(in + i, "(0)", 3) == 0)
        {
            ph->trunk = ph->n;
        }

        if (ca_is_digit((unsigned char) in[i])) {
            if (ph->n == sizeof(ph->digits)) {
                return -1;
            }

            ph->digits[ph->n++] = in[i];

        } else if (!ca_is_phone_sep((unsigned char) in[i])) {
            return -1;
        }
    }

    return ph->n > 0 ? 0 : -1;
}


/* 1-3 digits, not starting with 0 (ITU-T E.164); 0 when unusable */

static size_t
ca_country_len(const char *country)
{
    size_t  len;

    if (country == NULL) {
        return 0;
    }

    len = strlen(country);

    if (len == 0 || len > CA_COUNTRY_MAX || country[0] == '0'
        || ca_span(country, len, ca_is_digit) != len)
    {
        return 0;
    }

    return len;
}


static int
ca_phone_e164(const char *cc, size_t cclen, const char *digits, size_t n,
    char *out)
{
    size_t  total;

    total = cclen + n;

    if (total < CA_PHONE_MIN || total > CA_PHONE_MAX) {
        return -1;
    }

    /* a country code never starts with 0 */

    if (cclen == 0 && digits[0] == '0') {
        return -1;
    }

    out[0] = '+';
    memcpy(out + 1, cc, cclen);
    memcpy(out + 1 + cclen, digits, n);
    out[1 + total] = '\0';

    return (int) (1 + total);
}


static int
ca_phone_write(const char *country, const char *in, size_t len, char *out)
{
    size_t      skip, cclen;
    ca_phone_t  ph;

    if (ca_phone_scan(in, len, &ph) != 0) {
        return -1;
    }

    if (ph.plus || (ph.n >= 2 && ph.digits[0] == '0' && ph.digits[1] == '0'))
    {
        skip = ph.plus ? 0 : 2;

        if (ph.trunk != CA_NO_TRUNK) {
            if (ph.trunk <= skip) {
                return -1;
            }

            memmove(ph.digits + ph.trunk, ph.digits + ph.trunk + 1,
                    ph.n - ph.trunk - 1);
            ph.n--;
        }

        return ca_phone_e164("", 0, ph.digits + skip, ph.n - skip, out);
    }

    cclen = ca_country_len(country);
    if (cclen == 0) {
        return -1;
    }

    skip = (ph.digits[0] == '0');

    return ca_phone_e164(country, cclen, ph.digits + skip, ph.n - skip, out);
}


/*
 * The local part: 1-64 bytes of printable ASCII or UTF-8 (RFC 6531), ASCII
 * lower-cased.  Quoting and comments are not supported: no portal uses them.
 */

static int
ca_email_local_write(const char *in, size_t len, char *out)
{
    size_t    i, n;
    uint32_t  cp;

    if (len == 0 || len > CA_LOCAL_MAX) {
        return -1;
    }

    for (i = 0; i < len; i += n) {
        n = ca_utf8_decode((const unsigned char *) in + i, len - i, &cp);

        /* no controls: C0, DEL and C1 */

        if (n == 0 || cp <= ' ' || (cp >= 0x7f && cp < 0xa0)) {
            return -1;
        }

        if (n == 1) {
            out[i] = (char) ca_lower((int) cp);

        } else {
            memcpy(out + i, in + i, n);
        }
    }

    return 0;
}


static int
ca_email_write(const char *in, size_t len, char *out)
{
    int          n;
    size_t       local;
    const char  *at;

    at = memchr(in, '@', len);
    if (at == NULL) {
        return -1;
    }

    local = at - in;

    if (memchr(at + 1, '@', len - local - 1) != NULL) {
        return -1;
    }

    if (ca_email_local_write(in, local, out) != 0) {
        return -1;
    }

    out[local] = '@';

    n = ca_domain_write(at + 1, len - local - 1, out + local + 1,
                        CA_IDENT_MAX - local - 1);

    if (n < 0 || local + 1 + n > CA_EMAIL_MAX) {
        return -1;
    }

    return (int) (local + 1 + n);
}


/*
 * Writes the canonical domain and its NUL into out (size bytes).  The last
 * label must not be all digits (RFC 3696, section 2): that keeps IPv4
 * addresses and dotted phone numbers out.
 */

static int
ca_domain_write(const char *in, size_t len, char *out, size_t size)
{
    int          n;
    size_t       o, last, nlabels;
    const char  *label, *dot, *end;

    if (len > 0 && in[len - 1] == '.') {
        len--;
    }

    end = in + len;
    o = 0;
    last = 0;
    nlabels = 0;

    for (label = in; /* void */; label = dot + 1) {
        dot = memchr(label, '.', end - label);
        if (dot == NULL) {
            dot = end;
        }

        if (nlabels > 0) {
            if (o + 1 >= size) {
                return -1;
            }

            out[o++] = '.';
        }

        n = ca_label_write(label, dot - label, out + o, size - o);
        if (n < 0) {
            return -1;
        }

        last = o;
        o += n;
        nlabels++;

        if (dot == end) {
            break;
        }
    }

    if (nlabels < 2 || o > CA_DOMAIN_MAX
        || ca_span(out + last, o - last, ca_is_digit) == o - last)
    {
        return -1;
    }

    out[o] = '\0';

    return (int) o;
}


/* One label, without NUL; fewer than size bytes are written. */

static int
ca_label_write(const char *in, size_t len, char *out, size_t size)
{
    int     c;
    size_t  i;

    if (len == 0 || in[0] == '-' || in[len - 1] == '-') {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) in[i] >= 0x80) {
            return ca_idn_label_write(in, len, out, size);
        }
    }

    if (len > CA_LABEL_MAX || len >= size) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = ca_lower((unsigned char) in[i]);

        if (!ca_is_ldh(c)) {
            return -1;
        }

        out[i] = (char) c;
    }

    return (int) len;
}


/*
 * A label with non-ASCII characters becomes "xn--" and its Punycode.  Only
 * ASCII letters are lower-cased: Unicode case folding and IDNA2008 mapping
 * need tables this library does not carry.
 */

static int
ca_idn_label_write(const char *in, size_t len, char *out, size_t size)
{
    char      puny[CA_LABEL_MAX - CA_ACE_PREFIX_LEN];
    size_t    i, k, n, enc;
    uint32_t  cp[CA_LABEL_MAX];

    n = 0;

    for (i = 0; i < len; i += k) {

        /* every code point costs at least one output character */

        if (n == CA_LABEL_MAX) {
            return -1;
        }

        k = ca_utf8_decode((const unsigned char *) in + i, len - i, &cp[n]);
        if (k == 0 || (cp[n] >= 0x80 && cp[n] < 0xa0)) {
            return -1;
        }

        if (cp[n] < 0x80) {
            cp[n] = ca_lower((int) cp[n]);

            if (!ca_is_ldh((int) cp[n])) {
                return -1;
            }
        }

        n++;
    }

    if (ca_puny_encode(cp, n, puny, sizeof(puny), &enc) != 0
        || CA_ACE_PREFIX_LEN + enc >= size)
    {
        return -1;
    }

    memcpy(out, CA_ACE_PREFIX, CA_ACE_PREFIX_LEN);
    memcpy(out + CA_ACE_PREFIX_LEN, puny, enc);

    return (int) (CA_ACE_PREFIX_LEN + enc);
}


/* RFC 3492, section 6.1 */

static uint32_t
ca_puny_adapt(uint32_t delta, uint32_t npoints, int first)
{
    uint32_t  k;

    delta = first ? delta / CA_PUNY_DAMP : delta / 2;
    delta += delta / npoints;

    for (k = 0; delta > ((CA_PUNY_BASE - CA_PUNY_TMIN) * CA_PUNY_TMAX) / 2;
         k += CA_PUNY_BASE)
    {
        delta /= CA_PUNY_BASE - CA_PUNY_TMIN;
    }

    return k + (CA_PUNY_BASE - CA_PUNY_TMIN + 1) * delta
               / (delta + CA_PUNY_SKEW);
}


static char
ca_puny_digit(uint32_t d)
{
    return (char) (d < 26 ? 'a' + d : '0' + (d - 26));
}


/*
 * RFC 3492, section 6.3: the basic code points, a '-' when there were any,
 * then the deltas of the others as generalised variable-length integers.
 * Fails when out (size bytes, no NUL written) is too small or on overflow.
 */

static int
ca_puny_encode(const uint32_t *cp, size_t n, char *out, size_t size,
    size_t *outlen)
{
    size_t    i, o, h, b;
    uint32_t  code, m, delta, bias, q, k, t;

    o = 0;

    for (i = 0; i < n; i++) {
        if (cp[i] < CA_PUNY_N) {
            if (o == size) {
                return -1;
            }

            out[o++] = (char) cp[i];
        }
    }

    h = b = o;

    if (b > 0) {
        if (o == size) {
            return -1;
        }

        out[o++] = '-';
    }

    code = CA_PUNY_N;
    delta = 0;
    bias = CA_PUNY_BIAS;

    while (h < n) {

        m = UINT32_MAX;

        for (i = 0; i < n; i++) {
            if (cp[i] >= code && cp[i] < m) {
                m = cp[i];
            }
        }

        if (m - code > (UINT32_MAX - delta) / (h + 1)) {
            return -1;
        }

        delta += (m - code) * (uint32_t) (h + 1);
        code = m;

        for (i = 0; i < n; i++) {

            if (cp[i] < code && ++delta == 0) {
                return -1;
            }

            if (cp[i] != code) {
                continue;
            }

            for (q = delta, k = CA_PUNY_BASE; /* void */; k += CA_PUNY_BASE) {
                t = (k <= bias) ? CA_PUNY_TMIN
                    : (k >= bias + CA_PUNY_TMAX) ? CA_PUNY_TMAX : k - bias;

                if (q < t) {
                    break;
                }

                if (o == size) {
                    return -1;
                }

                out[o++] = ca_puny_digit(t + (q - t) % (CA_PUNY_BASE - t));
                q = (q - t) / (CA_PUNY_BASE - t);
            }

            if (o == size) {
                return -1;
            }

            out[o++] = ca_puny_digit(q);

            bias = ca_puny_adapt(delta, (uint32_t) (h + 1), h == b);
            delta = 0;
            h++;
        }

        delta++;
        code++;
    }

    *outlen = o;

    return 0;
}
