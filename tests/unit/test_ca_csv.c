/*
 * ca_csv: RFC 4180 records decoded in place, line numbers, recovery after a
 * malformed record.  Every text is parsed from a heap copy of exactly its
 * length plus the one byte the parser may write, so that AddressSanitizer
 * catches any access past it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ca_csv.h"


#define S(s)  s, sizeof(s) - 1


typedef struct {
    char             *buf;
    ca_csv_t          csv;
    ca_csv_record_t   rec;
} doc_t;


static int
doc_setup(void **state)
{
    doc_t  *d;

    d = calloc(1, sizeof(doc_t));
    if (d == NULL) {
        return -1;
    }

    *state = d;

    return 0;
}


static int
doc_teardown(void **state)
{
    doc_t  *d = *state;

    free(d->buf);
    free(d);

    return 0;
}


static void
doc_set(doc_t *d, const char *text, size_t len)
{
    free(d->buf);

    d->buf = malloc(len + 1);
    assert_non_null(d->buf);

    memcpy(d->buf, text, len);
    ca_csv_init(&d->csv, d->buf, len);
}


/* The next record must be one with these fields (NULL-terminated list). */

static void
expect_record(doc_t *d, unsigned long first, unsigned long last, ...)
{
    size_t       i;
    va_list      ap;
    const char  *want;

    assert_int_equal(ca_csv_next(&d->csv, &d->rec), CA_CSV_RECORD);
    assert_null(d->rec.error);
    assert_int_equal(d->rec.first_line, first);
    assert_int_equal(d->rec.last_line, last);

    va_start(ap, last);

    for (i = 0; (want = va_arg(ap, const char *)) != NULL; i++) {
        assert_true(i < d->rec.nfields);
        assert_string_equal(d->rec.fields[i], want);
        assert_int_equal(d->rec.lens[i], strlen(want));
    }

    va_end(ap);

    assert_int_equal(d->rec.nfields, i);
}


static void
expect_malformed(doc_t *d, unsigned long first, unsigned long last,
    const char *error)
{
    assert_int_equal(ca_csv_next(&d->csv, &d->rec), CA_CSV_MALFORMED);
    assert_int_equal(d->rec.nfields, 0);
    assert_int_equal(d->rec.first_line, first);
    assert_int_equal(d->rec.last_line, last);
    assert_non_null(d->rec.error);
    assert_non_null(strstr(d->rec.error, error));
}


static void
expect_end(doc_t *d)
{
    assert_int_equal(ca_csv_next(&d->csv, &d->rec), CA_CSV_END);
    assert_int_equal(ca_csv_next(&d->csv, &d->rec), CA_CSV_END);
}


/* ------------------------------------------------------------ records */

static void
test_plain_records_with_lf(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("email,perms\nana@example.com,all\nbob@example.com,"
                 "billing;orders\n"));

    expect_record(d, 1, 1, "email", "perms", NULL);
    expect_record(d, 2, 2, "ana@example.com", "all", NULL);
    expect_record(d, 3, 3, "bob@example.com", "billing;orders", NULL);
    expect_end(d);
}


static void
test_crlf_and_no_final_line_end(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("a,b\r\nc,d\r\ne,f"));

    expect_record(d, 1, 1, "a", "b", NULL);
    expect_record(d, 2, 2, "c", "d", NULL);
    expect_record(d, 3, 3, "e", "f", NULL);
    expect_end(d);
}


static void
test_empty_fields(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S(",x,,\n\"\",\"\"\n,"));

    expect_record(d, 1, 1, "", "x", "", "", NULL);
    expect_record(d, 2, 2, "", "", NULL);
    expect_record(d, 3, 3, "", "", NULL);
    expect_end(d);
}


static void
test_quoted_fields_hold_commas_quotes_and_line_breaks(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\"\"\n"
                 "\"crlf\r\ninside\"\r\nnext,\"x\"\n"));

    expect_record(d, 1, 2, "a,b", "say \"hi\"", "two\nlines", "\"", NULL);
    expect_record(d, 3, 4, "crlf\r\ninside", NULL);
    expect_record(d, 5, 5, "next", "x", NULL);
    expect_end(d);
}


static void
test_quoted_field_at_the_end_of_the_data(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("a,\"end\""));

    expect_record(d, 1, 1, "a", "end", NULL);
    expect_end(d);
}


static void
test_spaces_are_data(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S(" a , b\n"));

    expect_record(d, 1, 1, " a ", " b", NULL);
    expect_end(d);
}


static void
test_bom_and_empty_lines_are_skipped(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("\xef\xbb\xbf" "email\n\n\r\nana@example.com\n\n\n"));

    expect_record(d, 1, 1, "email", NULL);
    expect_record(d, 4, 4, "ana@example.com", NULL);
    expect_end(d);
}


static void
test_nothing_is_no_record(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S(""));
    expect_end(d);

    doc_set(d, S("\xef\xbb\xbf"));
    expect_end(d);

    doc_set(d, S("\n\r\n\n"));
    expect_end(d);
}


static void
test_utf8_passes_through(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("jos\xc3\xa9@ejemplo.es,\"Espa\xc3\xb1" "a\"\n"));

    expect_record(d, 1, 1, "jos\xc3\xa9@ejemplo.es", "Espa\xc3\xb1" "a",
                  NULL);
    expect_end(d);
}


static void
test_max_fields_is_accepted(void **state)
{
    int     i;
    char    text[2 * CA_CSV_MAX_FIELDS + 1];
    doc_t  *d = *state;

    for (i = 0; i < CA_CSV_MAX_FIELDS; i++) {
        text[2 * i] = 'x';
        text[2 * i + 1] = ',';
    }

    text[2 * CA_CSV_MAX_FIELDS - 1] = '\n';
    doc_set(d, text, 2 * CA_CSV_MAX_FIELDS);

    assert_int_equal(ca_csv_next(&d->csv, &d->rec), CA_CSV_RECORD);
    assert_int_equal(d->rec.nfields, CA_CSV_MAX_FIELDS);
    assert_string_equal(d->rec.fields[CA_CSV_MAX_FIELDS - 1], "x");
    expect_end(d);

    /* one more field */
    text[2 * CA_CSV_MAX_FIELDS - 1] = ',';
    text[2 * CA_CSV_MAX_FIELDS] = 'y';
    doc_set(d, text, 2 * CA_CSV_MAX_FIELDS + 1);

    expect_malformed(d, 1, 1, "too many fields");
    expect_end(d);
}


/* ------------------------------------------------------------ malformed */

static void
test_quote_inside_unquoted_field(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("h1,h2\nab\"c,d\nok,1\n"));

    expect_record(d, 1, 1, "h1", "h2", NULL);
    expect_malformed(d, 2, 2, "quote inside an unquoted field");
    expect_record(d, 3, 3, "ok", "1", NULL);
    expect_end(d);
}


static void
test_text_after_closing_quote(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("\"a\"b,c\r\n \"a\",b\nok\n"));

    expect_malformed(d, 1, 1, "text after a closing quote");
    expect_malformed(d, 2, 2, "quote inside an unquoted field");
    expect_record(d, 3, 3, "ok", NULL);
    expect_end(d);
}


static void
test_error_on_a_later_line_of_a_quoted_record(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("a,\"one\ntwo\nthree\"x,b\nok\n"));

    expect_malformed(d, 1, 3, "text after a closing quote");
    expect_record(d, 4, 4, "ok", NULL);
    expect_end(d);
}


static void
test_unclosed_quote_spoils_the_rest(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("ok,1\nbad,\"open\nnext,2\nlast,3\n"));

    expect_record(d, 1, 1, "ok", "1", NULL);
    expect_malformed(d, 2, 4, "quoted field not closed");
    expect_end(d);

    doc_set(d, S("\""));
    expect_malformed(d, 1, 1, "quoted field not closed");
    expect_end(d);
}


static void
test_bare_cr(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("a\rb,c\nok\n"));
    expect_malformed(d, 1, 1, "CR without LF");
    expect_record(d, 2, 2, "ok", NULL);
    expect_end(d);

    doc_set(d, S("a,b\r"));
    expect_malformed(d, 1, 1, "CR without LF");
    expect_end(d);

    doc_set(d, S("\"a\"\r"));
    expect_malformed(d, 1, 1, "text after a closing quote");
    expect_end(d);
}


static void
test_nul_bytes(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("a\0b,c\n\"x\0\"\nok\n"));

    expect_malformed(d, 1, 1, "NUL byte");
    expect_malformed(d, 2, 2, "NUL byte");
    expect_record(d, 3, 3, "ok", NULL);
    expect_end(d);
}


static void
test_malformed_last_line_without_line_end(void **state)
{
    doc_t  *d = *state;

    doc_set(d, S("ok\nx\"y"));

    expect_record(d, 1, 1, "ok", NULL);
    expect_malformed(d, 2, 2, "quote inside");
    expect_end(d);
}


/* Every prefix of a tricky text parses without reading past its end. */

static void
test_every_prefix_is_safe(void **state)
{
    int          rc;
    size_t       len, n;
    doc_t       *d = *state;
    const char   text[] = "\xef\xbb\xbf" "a,\"b\"\"c\r\nd\",e\r\n\"\"\"\"x,"
                          "\r\n\n\"f\"\r\ng\rh\"";

    for (len = 0; len < sizeof(text); len++) {
        doc_set(d, text, len);

        for (n = 0; n < 32; n++) {
            rc = ca_csv_next(&d->csv, &d->rec);
            if (rc == CA_CSV_END) {
                break;
            }

            assert_true(d->rec.first_line <= d->rec.last_line);
        }

        assert_int_equal(rc, CA_CSV_END);
    }
}


#define doc_test(f)  cmocka_unit_test_setup_teardown(f, doc_setup,           \
                                                      doc_teardown)

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        doc_test(test_plain_records_with_lf),
        doc_test(test_crlf_and_no_final_line_end),
        doc_test(test_empty_fields),
        doc_test(test_quoted_fields_hold_commas_quotes_and_line_breaks),
        doc_test(test_quoted_field_at_the_end_of_the_data),
        doc_test(test_spaces_are_data),
        doc_test(test_bom_and_empty_lines_are_skipped),
        doc_test(test_nothing_is_no_record),
        doc_test(test_utf8_passes_through),
        doc_test(test_max_fields_is_accepted),
        doc_test(test_quote_inside_unquoted_field),
        doc_test(test_text_after_closing_quote),
        doc_test(test_error_on_a_later_line_of_a_quoted_record),
        doc_test(test_unclosed_quote_spoils_the_rest),
        doc_test(test_bare_cr),
        doc_test(test_nul_bytes),
        doc_test(test_malformed_last_line_without_line_end),
        doc_test(test_every_prefix_is_safe),
    };

    return cmocka_run_group_tests_name("ca_csv", tests, NULL, NULL);
}
