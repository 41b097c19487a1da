/*
 * ca_csv on arbitrary bytes (clientauthctl user import).  Every record's
 * fields lie in the buffer, are NUL-terminated with no NUL inside, and the
 * line numbers only grow; the parser always gets to the end.  Round trip:
 * the records written out again as RFC 4180 (every field quoted, quotes
 * doubled, LF or CRLF ends) parse back to the same fields, with nothing
 * malformed.
 */

#include "fuzz_common.h"
#include "ca_csv.h"


typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
} out_t;


static void
out_put(out_t *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->data = realloc(o->data, o->cap);
        FUZZ_CHECK(o->data != NULL);
    }

    memcpy(o->data + o->len, s, n);
    o->len += n;
}


static void
out_field(out_t *o, const char *s, size_t n)
{
    size_t  i;

    out_put(o, "\"", 1);

    for (i = 0; i < n; i++) {
        out_put(o, &s[i], 1);

        if (s[i] == '"') {
            out_put(o, "\"", 1);
        }
    }

    out_put(o, "\"", 1);
}


/* Parses buf, checking the invariants; appends the records re-encoded. */

static size_t
parse(char *buf, size_t len, out_t *o, int crlf, size_t *malformed)
{
    int              rc;
    size_t           i, records, steps;
    ca_csv_t         csv;
    unsigned long    line;
    ca_csv_record_t  rec;

    ca_csv_init(&csv, buf, len);

    records = 0;
    line = 0;
    *malformed = 0;

    for (steps = 0; /* void */; steps++) {

        /* each call consumes at least a byte, or ends */
        FUZZ_CHECK(steps <= len + 1);

        rc = ca_csv_next(&csv, &rec);

        if (rc == CA_CSV_END) {
            break;
        }

        FUZZ_CHECK(rec.first_line > line);
        FUZZ_CHECK(rec.last_line >= rec.first_line);
        line = rec.last_line;

        if (rc == CA_CSV_MALFORMED) {
            FUZZ_CHECK(rec.error != NULL && rec.nfields == 0);
            (*malformed)++;
            continue;
        }

        FUZZ_CHECK(rc == CA_CSV_RECORD);
        FUZZ_CHECK(rec.nfields >= 1 && rec.nfields <= CA_CSV_MAX_FIELDS);

        for (i = 0; i < rec.nfields; i++) {
            FUZZ_CHECK(fuzz_within(rec.fields[i], rec.lens[i] + 1, buf,
                                   len + 1));
            FUZZ_CHECK(rec.fields[i][rec.lens[i]] == '\0');
            FUZZ_CHECK(memchr(rec.fields[i], '\0', rec.lens[i]) == NULL);

            if (o != NULL) {
                if (i > 0) {
                    out_put(o, ",", 1);
                }

                out_field(o, rec.fields[i], rec.lens[i]);
            }
        }

        if (o != NULL) {
            out_put(o, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
        }

        records++;
    }

    return records;
}


/* The fields of the records of buf, in order, as a flat list. */

static void
fields_of(char *buf, size_t len, out_t *o)
{
    size_t           i, n;
    ca_csv_t         csv;
    ca_csv_record_t  rec;

    ca_csv_init(&csv, buf, len);

    for ( ;; ) {
        n = ca_csv_next(&csv, &rec);

        if (n == (size_t) CA_CSV_END) {
            return;
        }

        if ((int) n != CA_CSV_RECORD) {
            continue;
        }

        out_put(o, (char *) &rec.nfields, sizeof(rec.nfields));

        for (i = 0; i < rec.nfields; i++) {
            out_put(o, (char *) &rec.lens[i], sizeof(rec.lens[i]));
            out_put(o, rec.fields[i], rec.lens[i]);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     crlf;
    char   *buf, *copy;
    size_t  records, again, malformed;
    out_t   enc = { NULL, 0, 0 }, want = { NULL, 0, 0 }, got = { NULL, 0, 0 };

    crlf = size > 0 && (data[0] & 1);

    buf = fuzz_dup(data, size, 1);
    records = parse(buf, size, &enc, crlf, &malformed);

    /* the fields as the first parse saw them (buf was decoded in place) */
    copy = fuzz_dup(data, size, 1);
    fields_of(copy, size, &want);
    free(copy);

    if (enc.len > 0) {
        copy = fuzz_dup((uint8_t *) enc.data, enc.len, 1);
        again = parse(copy, enc.len, NULL, crlf, &malformed);

        FUZZ_CHECK(malformed == 0);
        FUZZ_CHECK(again == records);

        free(copy);

        copy = fuzz_dup((uint8_t *) enc.data, enc.len, 1);
        fields_of(copy, enc.len, &got);
        free(copy);

        FUZZ_CHECK(got.len == want.len);
        FUZZ_CHECK(got.len == 0 || memcmp(got.data, want.data, got.len) == 0);

    } else {
        FUZZ_CHECK(records == 0);
    }

    free(buf);
    free(enc.data);
    free(want.data);
    free(got.data);

    return 0;
}
