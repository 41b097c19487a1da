/*
 * ca_form: urlencoded and flat JSON login bodies, decoded in place.
 * Every body is parsed from a heap copy of its exact length, so that
 * AddressSanitizer catches any read past its end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "ca_form.h"


#define S(s)  s, sizeof(s) - 1


typedef struct {
    char       *buf;
    size_t      len;
    ca_form_t   form;
} body_t;


static int
group_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}


static int
body_setup(void **state)
{
    body_t  *b;

    b = calloc(1, sizeof(body_t));
    if (b == NULL) {
        return -1;
    }

    *state = b;

    return 0;
}


static int
body_teardown(void **state)
{
    body_t  *b = *state;

    free(b->buf);
    free(b);

    return 0;
}


static void
body_set(body_t *b, const char *text, size_t len)
{
    free(b->buf);

    b->buf = malloc(len ? len : 1);
    assert_non_null(b->buf);

    memcpy(b->buf, text, len);
    b->len = len;
}


static int
url(body_t *b, const char *text, size_t len)
{
    body_set(b, text, len);

    return ca_form_parse_urlencoded(b->buf, b->len, &b->form);
}


static int
json(body_t *b, const char *text, size_t len)
{
    body_set(b, text, len);

    return ca_form_parse_json(b->buf, b->len, &b->form);
}


static void
assert_field(body_t *b, const char *name, const char *value, size_t len)
{
    const ca_form_field_t  *f;

    f = ca_form_get(&b->form, name);
    assert_non_null(f);
    assert_int_equal(f->value_len, len);

    if (len > 0) {
        assert_memory_equal(f->value, value, len);
    }

    /* decoded in place: the fields point into the caller's buffer */
    assert_true(f->name >= b->buf && f->name + f->name_len <= b->buf + b->len);
    assert_true(f->value >= b->buf
                && f->value + f->value_len <= b->buf + b->len);
}


#define FIELD(b, name, value)  assert_field(b, name, S(value))

#define URL_OK(b, text, n)                                                    \
    do {                                                                      \
        assert_int_equal(url(b, S(text)), CA_FORM_OK);                        \
        assert_int_equal((b)->form.nfields, n);                               \
    } while (0)

#define URL_BAD(b, text)                                                      \
    do {                                                                      \
        assert_int_equal(url(b, S(text)), CA_FORM_MALFORMED);                 \
        assert_int_equal((b)->form.nfields, 0);                               \
    } while (0)

#define JSON_OK(b, text, n)                                                   \
    do {                                                                      \
        assert_int_equal(json(b, S(text)), CA_FORM_OK);                       \
        assert_int_equal((b)->form.nfields, n);                               \
    } while (0)

#define JSON_BAD(b, text)                                                     \
    do {                                                                      \
        assert_int_equal(json(b, S(text)), CA_FORM_MALFORMED);                \
        assert_int_equal((b)->form.nfields, 0);                               \
    } while (0)


/* "f0=v&f1=v&..." or {"f0":null,...} with n fields */

static size_t
many_fields(char *buf, size_t size, size_t n, int as_json, const char *value)
{
    size_t  i, len;

    len = 0;

    if (as_json) {
        len += snprintf(buf + len, size - len, "{");
    }

    for (i = 0; i < n; i++) {
        len += snprintf(buf + len, size - len,
                        as_json ? "%s\"f%zu\":%s" : "%sf%zu=%s",
                        i == 0 ? "" : (as_json ? "," : "&"), i, value);
    }

    if (as_json) {
        len += snprintf(buf + len, size - len, "}");
    }

    assert_true(len < size);

    return len;
}


/* urlencoded */

static void
test_url_login_form(void **state)
{
    body_t  *b = *state;

    URL_OK(b, "identifier=ana%40example.com&password=p%C3%A4ss+w%26rd%3d"
              "&next=%2Faccount%3Ftab%3D1", 3);

    FIELD(b, "identifier", "ana@example.com");
    FIELD(b, "password", "p\xc3\xa4ss w&rd=");
    FIELD(b, "next", "/account?tab=1");
    assert_null(ca_form_get(&b->form, "remember"));
}


static void
test_url_plus_is_space_and_escaped_plus_is_plus(void **state)
{
    body_t  *b = *state;

    URL_OK(b, "a=1+2%2B3&b+c=x", 2);
    FIELD(b, "a", "1 2+3");
    FIELD(b, "b c", "x");
}


static void
test_url_empty_body_and_empty_pairs(void **state)
{
    body_t  *b = *state;

    URL_OK(b, "", 0);
    URL_OK(b, "&&&", 0);

    URL_OK(b, "&a=1&&b=2&", 2);
    FIELD(b, "a", "1");
    FIELD(b, "b", "2");
}


static void
test_url_missing_or_empty_value(void **state)
{
    body_t  *b = *state;

    URL_OK(b, "remember&a=&b==x", 3);
    FIELD(b, "remember", "");
    FIELD(b, "a", "");
    FIELD(b, "b", "=x");
}


static void
test_url_empty_name_is_malformed(void **state)
{
    body_t  *b = *state;

    URL_BAD(b, "=1");
    URL_BAD(b, "a=1&=2");
}


static void
test_url_bad_percent_escapes(void **state)
{
    body_t  *b = *state;

    URL_OK(b, "a=%41%4a%4A", 1);
    FIELD(b, "a", "AJJ");

    URL_BAD(b, "a=%");
    URL_BAD(b, "a=%4");
    URL_BAD(b, "a=%4&b=1");
    URL_BAD(b, "a=%zz");
    URL_BAD(b, "a=%4g");
    URL_BAD(b, "a=% 1");
    URL_BAD(b, "%=1");
    URL_BAD(b, "a%=1");
}


static void
test_url_decoded_nul_is_malformed(void **state)
{
    body_t  *b = *state;

    URL_BAD(b, "password=abc%00def");
    URL_BAD(b, "pass%00word=abc");
    URL_BAD(b, "password=abc\0def");
}


static void
test_url_utf8(void **state)
{
    body_t  *b = *state;

    URL_OK(b, "key=%F0%9F%94%91&name=Jos\xc3\xa9&max=%F4%8F%BF%BF", 3);
    FIELD(b, "key", "\xf0\x9f\x94\x91");
    FIELD(b, "name", "Jos\xc3\xa9");
    FIELD(b, "max", "\xf4\x8f\xbf\xbf");

    URL_BAD(b, "a=%C3");                  /* truncated */
    URL_BAD(b, "a=%C3%28");               /* bad continuation */
    URL_BAD(b, "a=%80");                  /* stray continuation */
    URL_BAD(b, "a=%C0%AF");               /* overlong '/' */
    URL_BAD(b, "a=%E0%80%AF");            /* overlong '/' */
    URL_BAD(b, "a=%F0%80%80%AF");         /* overlong '/' */
    URL_BAD(b, "a=%ED%A0%80");            /* surrogate U+D800 */
    URL_BAD(b, "a=%ED%BF%BF");            /* surrogate U+DFFF */
    URL_BAD(b, "a=%F4%90%80%80");         /* U+110000 */
    URL_BAD(b, "a=%FF");
    URL_BAD(b, "a=\xc3");                 /* raw bytes are checked too */
    URL_BAD(b, "%C0%AF=1");               /* and names */
}


static void
test_url_duplicate_names(void **state)
{
    body_t  *b = *state;

    URL_BAD(b, "identifier=a&password=x&identifier=b");
    URL_BAD(b, "a=1&%61=2");
    URL_BAD(b, "a=1&a");
    URL_BAD(b, "a+b=1&a%20b=2");

    URL_OK(b, "a=1&A=2&aa=3", 3);
}


static void
test_url_too_many_fields(void **state)
{
    char     text[512];
    size_t   len;
    body_t  *b = *state;

    len = many_fields(text, sizeof(text), CA_FORM_MAX_FIELDS, 0, "v");
    assert_int_equal(url(b, text, len), CA_FORM_OK);
    assert_int_equal(b->form.nfields, CA_FORM_MAX_FIELDS);
    FIELD(b, "f15", "v");

    len = many_fields(text, sizeof(text), CA_FORM_MAX_FIELDS + 1, 0, "v");
    assert_int_equal(url(b, text, len), CA_FORM_TOO_MANY);
    assert_int_equal(b->form.nfields, 0);
}


static void
test_get_matches_whole_names(void **state)
{
    body_t  *b = *state;

    URL_OK(b, "identifier=x", 1);
    assert_null(ca_form_get(&b->form, "ident"));
    assert_null(ca_form_get(&b->form, "identifiers"));
    assert_null(ca_form_get(&b->form, "Identifier"));
    assert_non_null(ca_form_get(&b->form, "identifier"));
}


/* JSON */

static void
test_json_login_body(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, " \r\n\t{ \"identifier\" :\t\"ana@example.com\" ,\n"
               "\"password\":\"p\\\"w\\\\d\", \"n\": 9000 }\r\n ", 3);

    FIELD(b, "identifier", "ana@example.com");
    FIELD(b, "password", "p\"w\\d");
    FIELD(b, "n", "9000");
}


static void
test_json_empty_object(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, "{}", 0);
    JSON_OK(b, " { \n } ", 0);
}


static void
test_json_must_be_an_object(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "");
    JSON_BAD(b, " \n ");
    JSON_BAD(b, "[]");
    JSON_BAD(b, "\"identifier\"");
    JSON_BAD(b, "9000");
    JSON_BAD(b, "null");
    JSON_BAD(b, "identifier=ana");
    JSON_BAD(b, "\xef\xbb\xbf{}");        /* no byte order mark */
}


static void
test_json_numbers_keep_their_text(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, "{\"a\":0,\"b\":-1.50,\"c\":1E9,\"d\":2.5e-3,\"e\":-0,"
               "\"f\":1e+2,\"g\":9000}", 7);
    FIELD(b, "a", "0");
    FIELD(b, "b", "-1.50");
    FIELD(b, "c", "1E9");
    FIELD(b, "d", "2.5e-3");
    FIELD(b, "e", "-0");
    FIELD(b, "f", "1e+2");
    FIELD(b, "g", "9000");

    JSON_BAD(b, "{\"a\":09000}");
    JSON_BAD(b, "{\"a\":-}");
    JSON_BAD(b, "{\"a\":+1}");
    JSON_BAD(b, "{\"a\":--1}");
    JSON_BAD(b, "{\"a\":1.}");
    JSON_BAD(b, "{\"a\":.5}");
    JSON_BAD(b, "{\"a\":1e}");
    JSON_BAD(b, "{\"a\":1e+}");
    JSON_BAD(b, "{\"a\":0x10}");
    JSON_BAD(b, "{\"a\":1 2}");
    JSON_BAD(b, "{\"a\":NaN}");
    JSON_BAD(b, "{\"a\":-Infinity}");
}


static void
test_json_true_false_as_text(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, "{\"remember\":true,\"notify\":false}", 2);
    FIELD(b, "remember", "true");
    FIELD(b, "notify", "false");

    JSON_BAD(b, "{\"a\":tru}");
    JSON_BAD(b, "{\"a\":truex}");
    JSON_BAD(b, "{\"a\":True}");
    JSON_BAD(b, "{\"a\":fals}");
    JSON_BAD(b, "{\"a\":nul}");
    JSON_BAD(b, "{\"a\":nullx}");
}


static void
test_json_null_leaves_the_field_out(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, "{\"next\":null,\"identifier\":\"ana\",\"x\":null}", 1);
    FIELD(b, "identifier", "ana");
    assert_null(ca_form_get(&b->form, "next"));
    assert_null(ca_form_get(&b->form, "x"));

    JSON_OK(b, "{\"next\":null}", 0);
}


static void
test_json_escapes(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
               "\"b\":\"caf\\u00e9 caf\\u00C9 \\u20ac\","
               "\"c\":\"\\ud83d\\udd11\","
               "\"d\":\"\\uDBFF\\uDFFF\","
               "\"e\":\"\",\"\\u0066\":\"\\u0041\"}", 6);

    FIELD(b, "a", "\"\\/\b\f\n\r\t");
    FIELD(b, "b", "caf\xc3\xa9 caf\xc3\x89 \xe2\x82\xac");
    FIELD(b, "c", "\xf0\x9f\x94\x91");
    FIELD(b, "d", "\xf4\x8f\xbf\xbf");
    FIELD(b, "e", "");
    FIELD(b, "f", "A");
}


static void
test_json_bad_escapes(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "{\"a\":\"\\x41\"}");
    JSON_BAD(b, "{\"a\":\"\\'\"}");
    JSON_BAD(b, "{\"a\":\"\\u12\"}");
    JSON_BAD(b, "{\"a\":\"\\u12g4\"}");
    JSON_BAD(b, "{\"a\":\"\\U0041\"}");
    JSON_BAD(b, "{\"a\":\"\\");
    JSON_BAD(b, "{\"a\":\"\\u00");
}


static void
test_json_lone_surrogates(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "{\"a\":\"\\ud83d\"}");
    JSON_BAD(b, "{\"a\":\"\\ud83dx\"}");
    JSON_BAD(b, "{\"a\":\"\\ud83d\\n\"}");
    JSON_BAD(b, "{\"a\":\"\\ud83d\\u0041\"}");
    JSON_BAD(b, "{\"a\":\"\\ud83d\\ud83d\"}");
    JSON_BAD(b, "{\"a\":\"\\udd11\"}");
    JSON_BAD(b, "{\"a\":\"\\udd11\\ud83d\"}");
}


static void
test_json_decoded_nul(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "{\"password\":\"abc\\u0000def\"}");
    JSON_BAD(b, "{\"pass\\u0000word\":\"abc\"}");
    JSON_BAD(b, "{\"password\":\"abc\0def\"}");
}


static void
test_json_utf8(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, "{\"name\":\"Jos\xc3\xa9 \xf0\x9f\x94\x91\"}", 1);
    FIELD(b, "name", "Jos\xc3\xa9 \xf0\x9f\x94\x91");

    JSON_BAD(b, "{\"a\":\"\xc3\"}");
    JSON_BAD(b, "{\"a\":\"\xc0\xaf\"}");
    JSON_BAD(b, "{\"a\":\"\xed\xa0\x80\"}");
    JSON_BAD(b, "{\"a\":\"\xf4\x90\x80\x80\"}");
    JSON_BAD(b, "{\"\xff\":\"a\"}");

    /* raw bytes are checked with the escapes decoded around them */
    JSON_BAD(b, "{\"a\":\"\xc3\\u00a9\"}");
}


static void
test_json_raw_control_characters(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "{\"a\":\"line\nbreak\"}");
    JSON_BAD(b, "{\"a\":\"tab\there\"}");
    JSON_BAD(b, "{\"a\x01\":\"x\"}");

    /* DEL is not a JSON control character */
    JSON_OK(b, "{\"a\":\"\x7f\"}", 1);
}


static void
test_json_nested_values_are_refused(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "{\"a\":{}}");
    JSON_BAD(b, "{\"a\":{\"b\":\"c\"}}");
    JSON_BAD(b, "{\"a\":[]}");
    JSON_BAD(b, "{\"a\":[\"x\",\"y\"]}");
}


static void
test_json_trailing_garbage(void **state)
{
    body_t  *b = *state;

    JSON_OK(b, "{\"a\":\"b\"} \n", 1);

    JSON_BAD(b, "{\"a\":\"b\"}x");
    JSON_BAD(b, "{\"a\":\"b\"}{}");
    JSON_BAD(b, "{\"a\":\"b\"},");
    JSON_BAD(b, "{\"a\":\"b\"} \0");
}


static void
test_json_syntax_errors(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "{");
    JSON_BAD(b, "}");
    JSON_BAD(b, "{\"a\":\"b\"");
    JSON_BAD(b, "{\"a\":\"b");
    JSON_BAD(b, "{\"a\":\"b\",}");
    JSON_BAD(b, "{,\"a\":\"b\"}");
    JSON_BAD(b, "{\"a\":\"b\",,\"c\":\"d\"}");
    JSON_BAD(b, "{\"a\" \"b\"}");
    JSON_BAD(b, "{\"a\"::\"b\"}");
    JSON_BAD(b, "{\"a\":}");
    JSON_BAD(b, "{\"a\"}");
    JSON_BAD(b, "{a:\"b\"}");
    JSON_BAD(b, "{'a':'b'}");
    JSON_BAD(b, "{\"a\":\"b\";\"c\":\"d\"}");
    JSON_BAD(b, "{\"a\":\"b\" \"c\":\"d\"}");
    JSON_BAD(b, "{9000:\"b\"}");
    JSON_BAD(b, "{\f\"a\":\"b\"}");       /* form feed is not JSON space */
}


static void
test_json_names(void **state)
{
    body_t  *b = *state;

    JSON_BAD(b, "{\"\":\"x\"}");
    JSON_BAD(b, "{\"a\":\"1\",\"a\":\"2\"}");
    JSON_BAD(b, "{\"a\":\"1\",\"\\u0061\":\"2\"}");

    /* a null still names its field: no second value through the back door */
    JSON_BAD(b, "{\"identifier\":null,\"identifier\":\"ana\"}");
    JSON_BAD(b, "{\"identifier\":\"ana\",\"identifier\":null}");

    JSON_OK(b, "{\"a\":\"1\",\"A\":\"2\"}", 2);
}


static void
test_json_too_many_fields(void **state)
{
    char     text[1024];
    size_t   len;
    body_t  *b = *state;

    len = many_fields(text, sizeof(text), CA_FORM_MAX_FIELDS, 1, "\"v\"");
    assert_int_equal(json(b, text, len), CA_FORM_OK);
    assert_int_equal(b->form.nfields, CA_FORM_MAX_FIELDS);
    FIELD(b, "f0", "v");
    FIELD(b, "f15", "v");

    len = many_fields(text, sizeof(text), CA_FORM_MAX_FIELDS + 1, 1, "\"v\"");
    assert_int_equal(json(b, text, len), CA_FORM_TOO_MANY);
    assert_int_equal(b->form.nfields, 0);

    /* null fields are fields of the body too */
    len = many_fields(text, sizeof(text), CA_FORM_MAX_FIELDS + 1, 1, "null");
    assert_int_equal(json(b, text, len), CA_FORM_TOO_MANY);
    assert_int_equal(b->form.nfields, 0);
}


/* multi-valued fields (issue 10: perm=billing&perm=orders) */

static int
url_multi(body_t *b, const char *text, size_t len, const char *multi)
{
    body_set(b, text, len);

    return ca_form_parse_urlencoded_multi(b->buf, b->len, &b->form, multi);
}


static int
json_multi(body_t *b, const char *text, size_t len, const char *multi)
{
    body_set(b, text, len);

    return ca_form_parse_json_multi(b->buf, b->len, &b->form, multi);
}


static void
assert_nth(body_t *b, size_t i, const char *name, const char *value)
{
    assert_true(i < b->form.nfields);
    assert_int_equal(b->form.fields[i].name_len, strlen(name));
    assert_memory_equal(b->form.fields[i].name, name, strlen(name));
    assert_int_equal(b->form.fields[i].value_len, strlen(value));
    assert_memory_equal(b->form.fields[i].value, value, strlen(value));
}


static void
test_url_multi_field_repeats(void **state)
{
    char     text[512];
    size_t   i, len;
    body_t  *b = *state;

    assert_int_equal(url_multi(b, S("csrf=t&perm=orders&perm=billing%2Cx"),
                               "perm"), CA_FORM_OK);
    assert_int_equal(b->form.nfields, 3);
    assert_nth(b, 1, "perm", "orders");
    assert_nth(b, 2, "perm", "billing,x");
    FIELD(b, "perm", "orders");                /* the first */

    /* every other field still may not repeat, nor "perm" without multi */
    assert_int_equal(url_multi(b, S("perm=a&csrf=t&perm=b&csrf=u"), "perm"),
                     CA_FORM_MALFORMED);
    assert_int_equal(b->form.nfields, 0);
    assert_int_equal(url_multi(b, S("perm=a&perm=b"), NULL),
                     CA_FORM_MALFORMED);
    assert_int_equal(url_multi(b, S("perm=a&perm=b"), "per"),
                     CA_FORM_MALFORMED);
    assert_int_equal(url_multi(b, S("perm=a&perm=b"), "perms"),
                     CA_FORM_MALFORMED);
    URL_BAD(b, "perm=a&perm=b");

    /* each value counts against the limit */
    len = snprintf(text, sizeof(text), "perm=a");
    for (i = 1; i < CA_FORM_MAX_FIELDS; i++) {
        len += snprintf(text + len, sizeof(text) - len, "&perm=a");
    }
    assert_int_equal(url_multi(b, text, len, "perm"), CA_FORM_OK);
    assert_int_equal(b->form.nfields, CA_FORM_MAX_FIELDS);
    len += snprintf(text + len, sizeof(text) - len, "&perm=a");
    assert_int_equal(url_multi(b, text, len, "perm"), CA_FORM_TOO_MANY);
    assert_int_equal(b->form.nfields, 0);
}


static void
test_json_multi_field_array(void **state)
{
    const char  **t;
    body_t       *b = *state;

    static const char  *bad[] = {
        "{\"perm\":[1]}", "{\"perm\":[null]}", "{\"perm\":[true]}",
        "{\"perm\":[[\"a\"]]}", "{\"perm\":[{}]}", "{\"perm\":[\"a\",]}",
        "{\"perm\":[,\"a\"]}", "{\"perm\":[\"a\"", "{\"perm\":[\"a\" \"b\"]}",
        "{\"perm\":[\"a\"]", "{\"email\":[\"a\"]}", "{\"perm\":[\"\\u0000\"]}",
        "{\"email\":\"a\",\"email\":\"b\"}", NULL
    };

    assert_int_equal(json_multi(b, S("{\"csrf\":\"t\", \"perm\" : [ "
                                     "\"orders\" , \"b\\u0069lling\" ]}"),
                                "perm"), CA_FORM_OK);
    assert_int_equal(b->form.nfields, 3);
    assert_nth(b, 1, "perm", "orders");
    assert_nth(b, 2, "perm", "billing");

    assert_int_equal(json_multi(b, S("{\"perm\":[]}"), "perm"), CA_FORM_OK);
    assert_int_equal(b->form.nfields, 0);
    assert_int_equal(json_multi(b, S("{\"perm\":\"all\"}"), "perm"),
                     CA_FORM_OK);
    assert_nth(b, 0, "perm", "all");
    assert_int_equal(json_multi(b, S("{\"perm\":\"a\",\"perm\":[\"b\"]}"),
                                "perm"), CA_FORM_OK);
    assert_int_equal(b->form.nfields, 2);

    /* strings only, flat, closed; arrays only for the multi field */
    for (t = bad; *t; t++) {
        assert_int_equal(json_multi(b, *t, strlen(*t), "perm"),
                         CA_FORM_MALFORMED);
        assert_int_equal(b->form.nfields, 0);
    }

    JSON_BAD(b, "{\"perm\":[\"a\"]}");         /* no multi: as before */
}


#define body_test(f)  cmocka_unit_test_setup_teardown(f, body_setup,         \
                                                      body_teardown)

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        body_test(test_url_login_form),
        body_test(test_url_plus_is_space_and_escaped_plus_is_plus),
        body_test(test_url_empty_body_and_empty_pairs),
        body_test(test_url_missing_or_empty_value),
        body_test(test_url_empty_name_is_malformed),
        body_test(test_url_bad_percent_escapes),
        body_test(test_url_decoded_nul_is_malformed),
        body_test(test_url_utf8),
        body_test(test_url_duplicate_names),
        body_test(test_url_too_many_fields),
        body_test(test_get_matches_whole_names),
        body_test(test_json_login_body),
        body_test(test_json_empty_object),
        body_test(test_json_must_be_an_object),
        body_test(test_json_numbers_keep_their_text),
        body_test(test_json_true_false_as_text),
        body_test(test_json_null_leaves_the_field_out),
        body_test(test_json_escapes),
        body_test(test_json_bad_escapes),
        body_test(test_json_lone_surrogates),
        body_test(test_json_decoded_nul),
        body_test(test_json_utf8),
        body_test(test_json_raw_control_characters),
        body_test(test_json_nested_values_are_refused),
        body_test(test_json_trailing_garbage),
        body_test(test_json_syntax_errors),
        body_test(test_json_names),
        body_test(test_json_too_many_fields),
        body_test(test_url_multi_field_repeats),
        body_test(test_json_multi_field_array),
    };

    return cmocka_run_group_tests_name("ca_form", tests, group_setup, NULL);
}
