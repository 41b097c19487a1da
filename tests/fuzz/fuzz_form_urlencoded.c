/*
 * ca_form_parse_urlencoded on arbitrary bytes (login and reset bodies),
 * against a reference decoder written here: the same answer (ok, malformed,
 * too many), the same fields in the same order, all within the buffer; and
 * the fields written out again as a form or as JSON parse back to the same.
 */

#include "fuzz_form.h"


typedef struct {
    char    *name;
    size_t   name_len;
    char    *value;
    size_t   value_len;
} ref_field_t;


static int
hexval(int c)
{
    return (c >= '0' && c <= '9') ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}


/* Decodes s (n bytes) into a new buffer; -1 for a bad escape. */

static long
ref_unescape(const char *s, size_t n, char **out)
{
    size_t  i, o;
    char   *d;

    d = malloc(n + 1);
    FUZZ_CHECK(d != NULL);

    for (i = 0, o = 0; i < n; o++) {
        if (s[i] == '%') {
            if (n - i < 3) {
                free(d);
                return -1;
            }

            if (hexval((unsigned char) s[i + 1]) < 0
                || hexval((unsigned char) s[i + 2]) < 0)
            {
                free(d);
                return -1;
            }

            d[o] = (char) (hexval((unsigned char) s[i + 1]) * 16
                           + hexval((unsigned char) s[i + 2]));
            i += 3;

        } else {
            d[o] = (s[i] == '+') ? ' ' : s[i];
            i++;
        }
    }

    *out = d;

    return (long) o;
}


static int
ref_text_ok(const char *s, size_t n)
{
    return memchr(s, '\0', n) == NULL
           && fuzz_utf8((const unsigned char *) s, n, NULL) >= 0;
}


/* The reference answer, with the fields in ref[] (nref of them). */

static int
ref_parse(const char *s, size_t len, ref_field_t *ref, size_t *nref)
{
    long         nl, vl;
    size_t       i, n;
    const char  *p, *amp, *eq, *end;

    *nref = 0;
    end = s + len;

    for (p = s; p < end; p = amp + 1) {
        amp = memchr(p, '&', end - p);
        amp = amp ? amp : end;

        if (amp == p) {
            continue;
        }

        eq = memchr(p, '=', amp - p);
        n = *nref;

        nl = ref_unescape(p, (eq ? eq : amp) - p, &ref[n].name);
        if (nl < 0) {
            return CA_FORM_MALFORMED;
        }

        ref[n].name_len = nl;

        vl = eq ? ref_unescape(eq + 1, amp - eq - 1, &ref[n].value)
                : ref_unescape("", 0, &ref[n].value);
        if (vl < 0) {
            free(ref[n].name);
            return CA_FORM_MALFORMED;
        }

        ref[n].value_len = vl;
        (*nref)++;

        if (nl == 0 || !ref_text_ok(ref[n].name, nl)
            || !ref_text_ok(ref[n].value, vl))
        {
            return CA_FORM_MALFORMED;
        }

        for (i = 0; i < n; i++) {
            if (ref[i].name_len == (size_t) nl
                && memcmp(ref[i].name, ref[n].name, nl) == 0)
            {
                return CA_FORM_MALFORMED;
            }
        }

        if (n == CA_FORM_MAX_FIELDS) {
            return CA_FORM_TOO_MANY;
        }
    }

    return CA_FORM_OK;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc, want;
    char         *buf;
    size_t        i, nref;
    ca_form_t     form;
    ref_field_t   ref[CA_FORM_MAX_FIELDS + 1];

    buf = fuzz_dup(data, size, 0);

    rc = ca_form_parse_urlencoded(buf, size, &form);
    want = ref_parse((const char *) data, size, ref, &nref);

    FUZZ_CHECK(rc == want);

    if (rc == CA_FORM_OK) {
        fuzz_form_check(&form, buf, size);
        FUZZ_CHECK(form.nfields == nref);

        for (i = 0; i < nref; i++) {
            FUZZ_CHECK(form.fields[i].name_len == ref[i].name_len);
            FUZZ_CHECK(memcmp(form.fields[i].name, ref[i].name,
                              ref[i].name_len) == 0);
            FUZZ_CHECK(form.fields[i].value_len == ref[i].value_len);
            FUZZ_CHECK(memcmp(form.fields[i].value, ref[i].value,
                              ref[i].value_len) == 0);
        }

        fuzz_form_round_trips(&form);

    } else {
        FUZZ_CHECK(form.nfields == 0);
    }

    fuzz_form_multi_agrees(data, size, 0, rc, &form);

    for (i = 0; i < nref; i++) {
        free(ref[i].name);
        free(ref[i].value);
    }

    free(buf);

    return 0;
}
