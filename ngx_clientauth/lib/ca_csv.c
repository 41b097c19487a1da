/*
 * RFC 4180 CSV, decoded in place: an unquoted field is NUL-terminated over
 * its separator; a quoted one is written from its opening quote on, which
 * stays behind the byte being read, and NUL-terminated there.
 */

#include <string.h>

#include "ca_csv.h"


#define CA_CSV_MORE  0                /* a comma: another field follows */
#define CA_CSV_LAST  1                /* the record ended */


static void ca_csv_skip_empty_lines(ca_csv_t *csv);
static int ca_csv_plain(ca_csv_t *csv, ca_csv_record_t *rec);
static int ca_csv_quoted(ca_csv_t *csv, ca_csv_record_t *rec);
static int ca_csv_field_end(ca_csv_t *csv, ca_csv_record_t *rec,
    char *value, size_t len, char *p);
static int ca_csv_fail(ca_csv_t *csv, ca_csv_record_t *rec, char *at,
    const char *error);


void
ca_csv_init(ca_csv_t *csv, char *buf, size_t len)
{
    csv->pos = buf;
    csv->end = buf + len;
    csv->line = 1;

    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        csv->pos += 3;
    }
}


int
ca_csv_next(ca_csv_t *csv, ca_csv_record_t *rec)
{
    int  rc;

    rec->nfields = 0;
    rec->error = NULL;

    ca_csv_skip_empty_lines(csv);

    if (csv->pos == csv->end) {
        return CA_CSV_END;
    }

    rec->first_line = csv->line;

    do {
        if (rec->nfields == CA_CSV_MAX_FIELDS) {
            return ca_csv_fail(csv, rec, csv->pos, "too many fields");
        }

        if (csv->pos < csv->end && *csv->pos == '"') {
            rc = ca_csv_quoted(csv, rec);

        } else {
            rc = ca_csv_plain(csv, rec);
        }

    } while (rc == CA_CSV_MORE);

    return rc == CA_CSV_LAST ? CA_CSV_RECORD : CA_CSV_MALFORMED;
}


static void
ca_csv_skip_empty_lines(ca_csv_t *csv)
{
    for ( ;; ) {
        if (csv->pos < csv->end && csv->pos[0] == '\n') {
            csv->pos++;

        } else if (csv->end - csv->pos >= 2
                   && csv->pos[0] == '\r' && csv->pos[1] == '\n')
        {
            csv->pos += 2;

        } else {
            return;
        }

        csv->line++;
    }
}


static int
ca_csv_plain(ca_csv_t *csv, ca_csv_record_t *rec)
{
    char  *p;

    for (p = csv->pos; p < csv->end; p++) {
        switch (*p) {

        case ',':
        case '\n':
            return ca_csv_field_end(csv, rec, csv->pos, p - csv->pos, p);

        case '\r':
            if (p + 1 < csv->end && p[1] == '\n') {
                return ca_csv_field_end(csv, rec, csv->pos, p - csv->pos, p);
            }

            return ca_csv_fail(csv, rec, p, "CR without LF outside quotes");

        case '"':
            return ca_csv_fail(csv, rec, p, "quote inside an unquoted field"
                               " (quote the field and double the quote)");

        case '\0':
            return ca_csv_fail(csv, rec, p, "NUL byte");
        }
    }

    return ca_csv_field_end(csv, rec, csv->pos, p - csv->pos, p);
}


static int
ca_csv_quoted(ca_csv_t *csv, ca_csv_record_t *rec)
{
    char  *p, *w, *value;

    value = csv->pos;
    w = value;

    for (p = csv->pos + 1; p < csv->end; p++) {
        if (*p == '\0') {
            return ca_csv_fail(csv, rec, p, "NUL byte");
        }

        if (*p == '"') {
            if (p + 1 < csv->end && p[1] == '"') {
                p++;

            } else {
                break;
            }

        } else if (*p == '\n') {
            csv->line++;
        }

        *w++ = *p;
    }

    if (p == csv->end) {
        ca_csv_fail(csv, rec, p, "quoted field not closed");

        /* the line end that closed the data starts no line of the record;
         * the decoding never wrote as far as the last byte */
        if (p[-1] == '\n') {
            rec->last_line--;
        }

        return CA_CSV_MALFORMED;
    }

    p++;

    if (p == csv->end || *p == ',' || *p == '\n'
        || (*p == '\r' && p + 1 < csv->end && p[1] == '\n'))
    {
        return ca_csv_field_end(csv, rec, value, w - value, p);
    }

    return ca_csv_fail(csv, rec, p, "text after a closing quote");
}


/*
 * Stores the field and steps over what ends it at p: a comma, LF, CRLF or
 * the end of the data.  The NUL goes at value[len], where the separator or
 * an already decoded byte was (at most at the end of the data: the extra
 * byte of ca_csv_init).
 */

static int
ca_csv_field_end(ca_csv_t *csv, ca_csv_record_t *rec, char *value,
    size_t len, char *p)
{
    int  rc;

    rc = CA_CSV_LAST;
    rec->last_line = csv->line;

    if (p == csv->end) {
        csv->pos = p;

    } else if (*p == ',') {
        csv->pos = p + 1;
        rc = CA_CSV_MORE;

    } else {
        csv->pos = p + (*p == '\r' ? 2 : 1);
        csv->line++;
    }

    rec->fields[rec->nfields] = value;
    rec->lens[rec->nfields] = len;
    rec->nfields++;
    value[len] = '\0';

    return rc;
}


/* Skips to the end of the line holding the error at "at". */

static int
ca_csv_fail(ca_csv_t *csv, ca_csv_record_t *rec, char *at,
    const char *error)
{
    char  *nl;

    rec->error = error;
    rec->nfields = 0;
    rec->last_line = csv->line;

    nl = memchr(at, '\n', csv->end - at);

    if (nl) {
        csv->pos = nl + 1;
        csv->line++;

    } else {
        csv->pos = csv->end;
    }

    return CA_CSV_MALFORMED;
}
