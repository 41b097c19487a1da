/*
 * The two body parsers' shared checks: fields within the buffer and well
 * formed, and cross round trips (what one parser returned, written out in
 * either syntax, parses back to the same fields).
 */

#ifndef FUZZ_FORM_H
#define FUZZ_FORM_H

#include "fuzz_common.h"
#include "ca_form.h"


typedef struct {
    char    *data;
    size_t   len;
} fuzz_buf_t;


static inline void
fuzz_buf_put(fuzz_buf_t *b, const char *s, size_t n)
{
    b->data = realloc(b->data, b->len + n + 1);
    FUZZ_CHECK(b->data != NULL);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}


static inline void
fuzz_form_check(const ca_form_t *form, const char *buf, size_t len)
{
    size_t                  i, j;
    const ca_form_field_t  *f;

    FUZZ_CHECK(form->nfields <= CA_FORM_MAX_FIELDS);

    for (i = 0; i < form->nfields; i++) {
        f = &form->fields[i];

        FUZZ_CHECK(f->name_len > 0);
        FUZZ_CHECK(fuzz_within(f->name, f->name_len, buf, len));
        FUZZ_CHECK(f->value != NULL);
        FUZZ_CHECK(f->value_len == 0
                   || fuzz_within(f->value, f->value_len, buf, len));

        FUZZ_CHECK(memchr(f->name, '\0', f->name_len) == NULL);
        FUZZ_CHECK(memchr(f->value, '\0', f->value_len) == NULL);
        FUZZ_CHECK(fuzz_utf8((const unsigned char *) f->name, f->name_len,
                             NULL) >= 0);
        FUZZ_CHECK(fuzz_utf8((const unsigned char *) f->value, f->value_len,
                             NULL) >= 0);

        for (j = 0; j < i; j++) {
            FUZZ_CHECK(form->fields[j].name_len != f->name_len
                       || memcmp(form->fields[j].name, f->name,
                                 f->name_len) != 0);
        }
    }
}


static inline int
fuzz_form_equal(const ca_form_t *a, const ca_form_t *b)
{
    size_t  i;

    if (a->nfields != b->nfields) {
        return 0;
    }

    for (i = 0; i < a->nfields; i++) {
        if (a->fields[i].name_len != b->fields[i].name_len
            || a->fields[i].value_len != b->fields[i].value_len
            || memcmp(a->fields[i].name, b->fields[i].name,
                      a->fields[i].name_len) != 0
            || memcmp(a->fields[i].value, b->fields[i].value,
                      a->fields[i].value_len) != 0)
        {
            return 0;
        }
    }

    return 1;
}


static inline void
fuzz_json_string(fuzz_buf_t *b, const char *s, size_t n)
{
    char    esc[8];
    size_t  i;

    fuzz_buf_put(b, "\"", 1);

    for (i = 0; i < n; i++) {
        unsigned char  c = s[i];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char) c;
            fuzz_buf_put(b, esc, 2);

        } else if (c < 0x20 || (i % 7 == 3 && c < 0x80)) {
            /* some escapes that need not be, to exercise \u */
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            fuzz_buf_put(b, esc, 6);

        } else {
            fuzz_buf_put(b, (const char *) &c, 1);
        }
    }

    fuzz_buf_put(b, "\"", 1);
}


static inline void
fuzz_json_encode(fuzz_buf_t *b, const ca_form_t *form)
{
    size_t  i;

    fuzz_buf_put(b, " {", 2);

    for (i = 0; i < form->nfields; i++) {
        if (i > 0) {
            fuzz_buf_put(b, ",\n", 2);
        }

        fuzz_json_string(b, form->fields[i].name, form->fields[i].name_len);
        fuzz_buf_put(b, " : ", 3);
        fuzz_json_string(b, form->fields[i].value, form->fields[i].value_len);
    }

    fuzz_buf_put(b, "}\r\n", 3);
}


static inline void
fuzz_url_text(fuzz_buf_t *b, const char *s, size_t n)
{
    char    esc[4];
    size_t  i;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < n; i++) {
        unsigned char  c = s[i];

        if (c == ' ') {
            fuzz_buf_put(b, "+", 1);

        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                   || c == '.' || c == '_')
        {
            fuzz_buf_put(b, (const char *) &c, 1);

        } else {
            esc[0] = '%';
            esc[1] = hex[c >> 4];
            esc[2] = (i & 1) ? hex[c & 0xf] | 0x20 : hex[c & 0xf];
            fuzz_buf_put(b, esc, 3);
        }
    }
}


static inline void
fuzz_url_encode(fuzz_buf_t *b, const ca_form_t *form)
{
    size_t  i;

    fuzz_buf_put(b, "&", 1);

    for (i = 0; i < form->nfields; i++) {
        fuzz_url_text(b, form->fields[i].name, form->fields[i].name_len);
        fuzz_buf_put(b, "=", 1);
        fuzz_url_text(b, form->fields[i].value, form->fields[i].value_len);
        fuzz_buf_put(b, "&&", i % 2 ? 2 : 1);
    }
}


/* form, written out in both syntaxes, parses back to itself. */

static inline void
fuzz_form_round_trips(const ca_form_t *form)
{
    ca_form_t   back;
    fuzz_buf_t  b;

    b.data = NULL;
    b.len = 0;
    fuzz_json_encode(&b, form);
    FUZZ_CHECK(ca_form_parse_json(b.data, b.len, &back) == CA_FORM_OK);
    fuzz_form_check(&back, b.data, b.len);
    FUZZ_CHECK(fuzz_form_equal(form, &back));
    free(b.data);

    b.data = NULL;
    b.len = 0;
    fuzz_url_encode(&b, form);
    FUZZ_CHECK(ca_form_parse_urlencoded(b.data, b.len, &back) == CA_FORM_OK);
    fuzz_form_check(&back, b.data, b.len);
    FUZZ_CHECK(fuzz_form_equal(form, &back));
    free(b.data);
}

/*
 * The same bytes with "perm" multi-valued (issue 10): whatever the plain
 * parse (rc, form) accepts parses the same; what only this one accepts
 * repeats "perm" and nothing else; each field stays checked.
 */

static inline void
fuzz_form_multi_agrees(const uint8_t *data, size_t size, int json, int rc,
    const ca_form_t *form)
{
    int                     mrc;
    char                   *buf;
    size_t                  i, j;
    ca_form_t               multi;
    const ca_form_field_t  *f, *g;

    buf = fuzz_dup(data, size, 0);

    mrc = json ? ca_form_parse_json_multi(buf, size, &multi, "perm")
               : ca_form_parse_urlencoded_multi(buf, size, &multi, "perm");

    if (rc == CA_FORM_OK) {
        FUZZ_CHECK(mrc == CA_FORM_OK && multi.nfields == form->nfields);

        for (i = 0; i < form->nfields; i++) {
            f = &form->fields[i];
            g = &multi.fields[i];
            FUZZ_CHECK(f->name_len == g->name_len
                       && memcmp(f->name, g->name, f->name_len) == 0
                       && f->value_len == g->value_len
                       && memcmp(f->value, g->value, f->value_len) == 0);
        }
    }

    if (mrc != CA_FORM_OK) {
        FUZZ_CHECK(rc != CA_FORM_OK && multi.nfields == 0);
        free(buf);
        return;
    }

    FUZZ_CHECK(multi.nfields <= CA_FORM_MAX_FIELDS);

    for (i = 0; i < multi.nfields; i++) {
        f = &multi.fields[i];

        FUZZ_CHECK(f->name_len > 0 && f->value != NULL);
        FUZZ_CHECK(fuzz_within(f->name, f->name_len, buf, size));
        FUZZ_CHECK(memchr(f->value, '\0', f->value_len) == NULL);

        for (j = 0; j < i; j++) {
            g = &multi.fields[j];
            FUZZ_CHECK(g->name_len != f->name_len
                       || memcmp(g->name, f->name, f->name_len) != 0
                       || (f->name_len == 4
                           && memcmp(f->name, "perm", 4) == 0));
        }
    }

    free(buf);
}

#endif /* FUZZ_FORM_H */
