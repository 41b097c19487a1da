#include <string.h>

#include "ca_form.h"
#include "ca_ident.h"             /* ca_utf8_decode() */


typedef struct {
    char  *p;
    char  *end;
} ca_json_t;


static int ca_form_pair(ca_form_t *form, char *pair, size_t len);
static int ca_form_unescape(char *s, size_t *len);
static int ca_form_hex(int c);
static int ca_form_text_is_valid(const char *p, size_t len);
static const ca_form_field_t *ca_form_find(const ca_form_t *form,
    const char *name, size_t len);
static int ca_form_add(ca_form_t *form, const char *name, size_t name_len,
    const char *value, size_t value_len);
static void ca_form_drop_nulls(ca_form_t *form);
static void ca_json_skip_ws(ca_json_t *js);
static int ca_json_object(ca_json_t *js, ca_form_t *form);
static int ca_json_member(ca_json_t *js, ca_form_t *form);
static int ca_form_is_multi(const ca_form_t *form, const char *name,
    size_t len);
static int ca_json_array(ca_json_t *js, ca_form_t *form, char *name,
    size_t name_len);
static int ca_json_value(ca_json_t *js, char **value, size_t *len);
static int ca_json_literal(ca_json_t *js, const char *text, size_t len);
static int ca_json_digits(ca_json_t *js);
static int ca_json_number(ca_json_t *js);
static int ca_json_string(ca_json_t *js, char **value, size_t *len);
static int ca_json_escape(ca_json_t *js, char **w);
static int ca_json_hex4(ca_json_t *js, uint32_t *cp);
static int ca_json_unicode(ca_json_t *js, uint32_t *cp);
static char *ca_utf8_encode(char *p, uint32_t cp);


int
ca_form_parse_urlencoded(char *buf, size_t len, ca_form_t *form)
{
    return ca_form_parse_urlencoded_multi(buf, len, form, NULL);
}


int
ca_form_parse_json(char *buf, size_t len, ca_form_t *form)
{
    return ca_form_parse_json_multi(buf, len, form, NULL);
}


int
ca_form_parse_urlencoded_multi(char *buf, size_t len, ca_form_t *form,
    const char *multi)
{
    int    rc;
    char  *p, *end, *amp;

    form->nfields = 0;
    form->multi = multi;

    p = buf;
    end = buf + len;

    while (p != end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if (amp != p) {
            rc = ca_form_pair(form, p, amp - p);
            if (rc != CA_FORM_OK) {
                form->nfields = 0;
                return rc;
            }
        }

        p = (amp == end) ? end : amp + 1;
    }

    return CA_FORM_OK;
}


int
ca_form_parse_json_multi(char *buf, size_t len, ca_form_t *form,
    const char *multi)
{
    int        rc;
    ca_json_t  js;

    form->nfields = 0;
    form->multi = multi;

    js.p = buf;
    js.end = buf + len;

    rc = ca_json_object(&js, form);

    if (rc == CA_FORM_OK) {
        ca_json_skip_ws(&js);

        if (js.p != js.end) {
            rc = CA_FORM_MALFORMED;
        }
    }

    if (rc != CA_FORM_OK) {
        form->nfields = 0;
        return rc;
    }

    ca_form_drop_nulls(form);

    return CA_FORM_OK;
}


const ca_form_field_t *
ca_form_get(const ca_form_t *form, const char *name)
{
    return ca_form_find(form, name, strlen(name));
}


/* "name=value", "name" (an empty value) */

static int
ca_form_pair(ca_form_t *form, char *pair, size_t len)
{
    char    *eq, *value;
    size_t   name_len, value_len;

    eq = memchr(pair, '=', len);

    if (eq == NULL) {
        name_len = len;
        value = pair + len;
        value_len = 0;

    } else {
        name_len = eq - pair;
        value = eq + 1;
        value_len = len - name_len - 1;
    }

    if (ca_form_unescape(pair, &name_len) != 0
        || ca_form_unescape(value, &value_len) != 0)
    {
        return CA_FORM_MALFORMED;
    }

    return ca_form_add(form, pair, name_len, value, value_len);
}


/* Decodes '+' and "%XX" in place: the text only ever shrinks. */

static int
ca_form_unescape(char *s, size_t *len)
{
    int     hi, lo;
    size_t  r, w;

    for (r = 0, w = 0; r < *len; r++, w++) {

        if (s[r] == '+') {
            s[w] = ' ';

        } else if (s[r] == '%') {
            if (*len - r < 3) {
                return -1;
            }

            hi = ca_form_hex((unsigned char) s[r + 1]);
            lo = ca_form_hex((unsigned char) s[r + 2]);

            if (hi < 0 || lo < 0) {
                return -1;
            }

            s[w] = (char) ((hi << 4) | lo);
            r += 2;

        } else {
            s[w] = s[r];
        }
    }

    *len = w;

    return 0;
}


static int
ca_form_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* No NUL: the fields end up in C strings and Redis keys. */

static int
ca_form_text_is_valid(const char *p, size_t len)
{
    size_t    i, n;
    uint32_t  cp;

    for (i = 0; i < len; i += n) {
        n = ca_utf8_decode((const unsigned char *) p + i, len - i, &cp);

        if (n == 0 || cp == 0) {
            return 0;
        }
    }

    return 1;
}


static const ca_form_field_t *
ca_form_find(const ca_form_t *form, const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < form->nfields; i++) {
        if (form->fields[i].name_len == len
            && memcmp(form->fields[i].name, name, len) == 0)
        {
            return &form->fields[i];
        }
    }

    return NULL;
}


/*
 * A JSON null is added with a NULL value, so that it counts against
 * duplicates and the field limit like any other field, and is dropped once
 * the whole body has parsed.
 */

static int
ca_form_add(ca_form_t *form, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
    ca_form_field_t  *field;

    if (name_len == 0 || !ca_form_text_is_valid(name, name_len)
        || (value != NULL && !ca_form_text_is_valid(value, value_len)))
    {
        return CA_FORM_MALFORMED;
    }

    if (ca_form_find(form, name, name_len) != NULL
        && !ca_form_is_multi(form, name, name_len))
    {
        return CA_FORM_MALFORMED;
    }

    if (form->nfields == CA_FORM_MAX_FIELDS) {
        return CA_FORM_TOO_MANY;
    }

    field = &form->fields[form->nfields++];

    field->name = name;
    field->name_len = name_len;
    field->value = value;
    field->value_len = value_len;

    return CA_FORM_OK;
}


static int
ca_form_is_multi(const ca_form_t *form, const char *name, size_t len)
{
    return form->multi != NULL && strlen(form->multi) == len
           && memcmp(form->multi, name, len) == 0;
}


static void
ca_form_drop_nulls(ca_form_t *form)
{
    size_t  i, n;

    for (i = 0, n = 0; i < form->nfields; i++) {
        if (form->fields[i].value != NULL) {
            form->fields[n++] = form->fields[i];
        }
    }

    form->nfields = n;
}


/* RFC 8259, section 2: space, tab, line feed, carriage return */

static void
ca_json_skip_ws(ca_json_t *js)
{
    while (js->p != js->end
           && (*js->p == ' ' || *js->p == '\t' || *js->p == '\n'
               || *js->p == '\r'))
    {
        js->p++;
    }
}


static int
ca_json_object(ca_json_t *js, ca_form_t *form)
{
    int  rc;

    ca_json_skip_ws(js);

    if (js->p == js->end || *js->p != '{') {
        return CA_FORM_MALFORMED;
    }

    js->p++;
    ca_json_skip_ws(js);

    if (js->p != js->end && *js->p == '}') {
        js->p++;
        return CA_FORM_OK;
    }

    for ( ;; ) {
        rc = ca_json_member(js, form);
        if (rc != CA_FORM_OK) {
            return rc;
        }

        ca_json_skip_ws(js);

        if (js->p == js->end) {
            return CA_FORM_MALFORMED;
        }

        switch (*js->p++) {

        case ',':
            continue;

        case '}':
            return CA_FORM_OK;

        default:
            return CA_FORM_MALFORMED;
        }
    }
}


static int
ca_json_member(ca_json_t *js, ca_form_t *form)
{
    char    *name, *value;
    size_t   name_len, value_len;

    ca_json_skip_ws(js);

    if (ca_json_string(js, &name, &name_len) != 0) {
        return CA_FORM_MALFORMED;
    }

    ca_json_skip_ws(js);

    if (js->p == js->end || *js->p != ':') {
        return CA_FORM_MALFORMED;
    }

    js->p++;
    ca_json_skip_ws(js);

    if (js->p != js->end && *js->p == '['
        && ca_form_is_multi(form, name, name_len))
    {
        return ca_json_array(js, form, name, name_len);
    }

    if (ca_json_value(js, &value, &value_len) != 0) {
        return CA_FORM_MALFORMED;
    }

    return ca_form_add(form, name, name_len, value, value_len);
}


/* The multi-valued field's ["a", "b"]: strings only, each a field. */

static int
ca_json_array(ca_json_t *js, ca_form_t *form, char *name, size_t name_len)
{
    int      rc;
    char    *value;
    size_t   value_len;

    js->p++;
    ca_json_skip_ws(js);

    if (js->p != js->end && *js->p == ']') {
        js->p++;
        return CA_FORM_OK;
    }

    for ( ;; ) {
        if (js->p == js->end || *js->p != '"'
            || ca_json_string(js, &value, &value_len) != 0)
        {
            return CA_FORM_MALFORMED;
        }

        rc = ca_form_add(form, name, name_len, value, value_len);
        if (rc != CA_FORM_OK) {
            return rc;
        }

        ca_json_skip_ws(js);

        if (js->p == js->end) {
            return CA_FORM_MALFORMED;
        }

        switch (*js->p++) {

        case ',':
            ca_json_skip_ws(js);
            continue;

        case ']':
            return CA_FORM_OK;

        default:
            return CA_FORM_MALFORMED;
        }
    }
}


/*
 * A string is decoded; a number, true and false are kept as their text;
 * null gives a NULL value.  Objects and arrays are refused: the bodies we
 * accept are flat.
 */

static int
ca_json_value(ca_json_t *js, char **value, size_t *len)
{
    char  *start;

    if (js->p == js->end) {
        return -1;
    }

    start = js->p;

    switch (*js->p) {

    case '"':
        return ca_json_string(js, value, len);

    case 't':
        if (ca_json_literal(js, "true", 4) != 0) {
            return -1;
        }
        break;

    case 'f':
        if (ca_json_literal(js, "false", 5) != 0) {
            return -1;
        }
        break;

    case 'n':
        if (ca_json_literal(js, "null", 4) != 0) {
            return -1;
        }

        *value = NULL;
        *len = 0;
        return 0;

    default:
        if (ca_json_number(js) != 0) {
            return -1;
        }
    }

    *value = start;
    *len = js->p - start;

    return 0;
}


static int
ca_json_literal(ca_json_t *js, const char *text, size_t len)
{
    if ((size_t) (js->end - js->p) < len || memcmp(js->p, text, len) != 0) {
        return -1;
    }

    js->p += len;

    return 0;
}


/* One or more decimal digits. */

static int
ca_json_digits(ca_json_t *js)
{
    char  *start;

    start = js->p;

    while (js->p != js->end && *js->p >= '0' && *js->p <= '9') {
        js->p++;
    }

    return js->p == start ? -1 : 0;
}


/* RFC 8259, section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static int
ca_json_number(ca_json_t *js)
{
    if (js->p != js->end && *js->p == '-') {
        js->p++;
    }

    if (js->p == js->end) {
        return -1;
    }

    if (*js->p == '0') {
        js->p++;

    } else if (ca_json_digits(js) != 0) {
        return -1;
    }

    if (js->p != js->end && *js->p == '.') {
        js->p++;

        if (ca_json_digits(js) != 0) {
            return -1;
        }
    }

    if (js->p != js->end && (*js->p == 'e' || *js->p == 'E')) {
        js->p++;

        if (js->p != js->end && (*js->p == '+' || *js->p == '-')) {
            js->p++;
        }

        if (ca_json_digits(js) != 0) {
            return -1;
        }
    }

    return 0;
}


/*
 * Decodes the string in place, from just after its opening quote: every
 * escape is at least as long as the UTF-8 it stands for, so the write
 * position never passes the read position.
 */

static int
ca_json_string(ca_json_t *js, char **value, size_t *len)
{
    char  *w;

    if (js->p == js->end || *js->p != '"') {
        return -1;
    }

    js->p++;
    *value = js->p;
    w = js->p;

    for ( ;; ) {

        if (js->p == js->end) {
            return -1;
        }

        if (*js->p == '"') {
            js->p++;
            *len = w - *value;
            return 0;
        }

        if (*js->p == '\\') {
            if (ca_json_escape(js, &w) != 0) {
                return -1;
            }

            continue;
        }

        /* RFC 8259 wants control characters escaped */

        if ((unsigned char) *js->p < 0x20) {
            return -1;
        }

        *w++ = *js->p++;
    }
}


static int
ca_json_escape(ca_json_t *js, char **w)
{
    uint32_t  cp;

    js->p++;

    if (js->p == js->end) {
        return -1;
    }

    switch (*js->p++) {

    case '"':
        *(*w)++ = '"';
        break;

    case '\\':
        *(*w)++ = '\\';
        break;

    case '/':
        *(*w)++ = '/';
        break;

    case 'b':
        *(*w)++ = '\b';
        break;

    case 'f':
        *(*w)++ = '\f';
        break;

    case 'n':
        *(*w)++ = '\n';
        break;

    case 'r':
        *(*w)++ = '\r';
        break;

    case 't':
        *(*w)++ = '\t';
        break;

    case 'u':
        if (ca_json_unicode(js, &cp) != 0) {
            return -1;
        }

        *w = ca_utf8_encode(*w, cp);
        break;

    default:
        return -1;
    }

    return 0;
}


static int
ca_json_hex4(ca_json_t *js, uint32_t *cp)
{
    int     d;
    size_t  i;

    if (js->end - js->p < 4) {
        return -1;
    }

    *cp = 0;

    for (i = 0; i < 4; i++) {
        d = ca_form_hex((unsigned char) js->p[i]);
        if (d < 0) {
            return -1;
        }

        *cp = (*cp << 4) | (uint32_t) d;
    }

    js->p += 4;

    return 0;
}


/*
 * The code point of a \u escape, after the "\u": a high surrogate must be
 * followed by an escaped low surrogate, a lone one of either is refused.
 */

static int
ca_json_unicode(ca_json_t *js, uint32_t *cp)
{
    uint32_t  lo;

    if (ca_json_hex4(js, cp) != 0) {
        return -1;
    }

    if (*cp >= 0xdc00 && *cp <= 0xdfff) {
        return -1;
    }

    if (*cp < 0xd800 || *cp > 0xdbff) {
        return 0;
    }

    if (js->end - js->p < 2 || js->p[0] != '\\' || js->p[1] != 'u') {
        return -1;
    }

    js->p += 2;

    if (ca_json_hex4(js, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
        return -1;
    }

    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);

    return 0;
}


static char *
ca_utf8_encode(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        *p++ = (char) cp;

    } else if (cp < 0x800) {
        *p++ = (char) (0xc0 | (cp >> 6));
        *p++ = (char) (0x80 | (cp & 0x3f));

    } else if (cp < 0x10000) {
        *p++ = (char) (0xe0 | (cp >> 12));
        *p++ = (char) (0x80 | ((cp >> 6) & 0x3f));
        *p++ = (char) (0x80 | (cp & 0x3f));

    } else {
        *p++ = (char) (0xf0 | (cp >> 18));
        *p++ = (char) (0x80 | ((cp >> 12) & 0x3f));
        *p++ = (char) (0x80 | ((cp >> 6) & 0x3f));
        *p++ = (char) (0x80 | (cp & 0x3f));
    }

    return p;
}
