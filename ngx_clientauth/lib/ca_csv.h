/*
 * CSV as RFC 4180 describes it, for clientauthctl's user import: records of
 * comma-separated fields, each record ending in CRLF or LF (the last one may
 * end at the end of the data).  A field in double quotes may hold commas,
 * line breaks and quotes, these doubled ("").  Fields are decoded in place in
 * the caller's buffer and NUL-terminated there; nothing is allocated.
 * nginx-free.
 *
 * Lenient where exports differ harmlessly: a UTF-8 byte order mark at the
 * start is skipped, and empty lines are no records (a trailing blank line is
 * common).  Malformed: a quote inside an unquoted field, anything but a comma
 * or the line end after a closing quote, a quoted field still open at the end
 * of the data, a CR not followed by LF outside quotes, a NUL byte, more than
 * CA_CSV_MAX_FIELDS fields.  A malformed record is skipped up to the end of
 * the physical line where the error was found, and the next call goes on
 * from there: lines first_line..last_line are the ones it spoiled.
 */

#ifndef CA_CSV_H
#define CA_CSV_H

#include <stddef.h>

#define CA_CSV_MAX_FIELDS  32

typedef enum {
    CA_CSV_RECORD = 0,
    CA_CSV_END = 1,
    CA_CSV_MALFORMED = -1
} ca_csv_rc_e;

typedef struct {
    char           *pos;            /* the next byte to parse */
    char           *end;
    unsigned long   line;           /* the physical line of pos, from 1 */
} ca_csv_t;

typedef struct {
    char           *fields[CA_CSV_MAX_FIELDS];   /* NUL-terminated */
    size_t          lens[CA_CSV_MAX_FIELDS];     /* no NUL inside */
    size_t          nfields;
    unsigned long   first_line;     /* physical lines of the record */
    unsigned long   last_line;
    const char     *error;          /* CA_CSV_MALFORMED: why, static text */
} ca_csv_record_t;

/* buf holds len bytes of CSV and has room for one more (a final NUL). */
void ca_csv_init(ca_csv_t *csv, char *buf, size_t len);

/*
 * The next record: CA_CSV_RECORD with its fields, CA_CSV_END when the data
 * is exhausted, or CA_CSV_MALFORMED with rec->error, no fields, and the
 * lines it spans.
 */
int ca_csv_next(ca_csv_t *csv, ca_csv_record_t *rec);

#endif /* CA_CSV_H */
