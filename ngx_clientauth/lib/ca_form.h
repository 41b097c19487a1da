/*
 * Login and reset request bodies: application/x-www-form-urlencoded or a
 * flat JSON object.  Both parsers decode in place in the caller's buffer and
 * point the fields into it; nothing is allocated.  nginx-free.
 *
 * Rejected as malformed (nothing partial is returned): bad percent or JSON
 * escapes, a decoded NUL or invalid UTF-8 in a name or value, a field name
 * seen twice (no parameter pollution) unless it is the one multi-valued field
 * the caller names, nested JSON objects or arrays (but an array of strings
 * for the multi-valued field), trailing
 * garbage after the JSON object, more than CA_FORM_MAX_FIELDS fields.  An
 * empty name is malformed too.  A JSON null counts as a field for the
 * duplicate and CA_FORM_MAX_FIELDS checks before it is left out.
 */

#ifndef CA_FORM_H
#define CA_FORM_H

#include <stddef.h>

#define CA_FORM_MAX_FIELDS  16

typedef enum {
    CA_FORM_OK = 0,
    CA_FORM_MALFORMED = -1,
    CA_FORM_TOO_MANY = -2
} ca_form_rc_e;

typedef struct {
    const char  *name;
    size_t       name_len;
    const char  *value;
    size_t       value_len;
} ca_form_field_t;

typedef struct {
    ca_form_field_t  fields[CA_FORM_MAX_FIELDS];
    size_t           nfields;
    const char      *multi;           /* the field that may repeat, or NULL */
} ca_form_t;

/*
 * "a=1&b=x+y%21"; '+' is a space; empty pairs ("a=1&&b=2") are skipped; a
 * name without '=' has an empty value.
 */
int ca_form_parse_urlencoded(char *buf, size_t len, ca_form_t *form);

/*
 * {"identifier": "ana@example.com", "password": "...", "n": 9000}: values are
 * strings, numbers (their text), true or false (their text); null leaves the
 * field out.  \uXXXX escapes (with surrogate pairs) become UTF-8.
 */
int ca_form_parse_json(char *buf, size_t len, ca_form_t *form);

/*
 * As above, but the field named multi (NUL-terminated; NULL: none) may
 * repeat, as checkboxes of one name send it ("perm=a&perm=b"), or be a JSON
 * array of strings ({"perm": ["a", "b"]}): each value is a field of its
 * own, each counting against CA_FORM_MAX_FIELDS.
 */
int ca_form_parse_urlencoded_multi(char *buf, size_t len, ca_form_t *form,
    const char *multi);
int ca_form_parse_json_multi(char *buf, size_t len, ca_form_t *form,
    const char *multi);

/* The (first) field of that name (NUL-terminated name), or NULL. */
const ca_form_field_t *ca_form_get(const ca_form_t *form, const char *name);

#endif /* CA_FORM_H */
