/*
 * ca_form_parse_json on arbitrary bytes (login and reset bodies).  Fields
 * lie within the buffer, are unique, valid UTF-8 without NUL, at most
 * CA_FORM_MAX_FIELDS; written out again as JSON or as a form, they parse
 * back to the same fields.
 */

#include "fuzz_form.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int         rc;
    char       *buf;
    ca_form_t   form;

    buf = fuzz_dup(data, size, 0);

    rc = ca_form_parse_json(buf, size, &form);

    FUZZ_CHECK(rc == CA_FORM_OK || rc == CA_FORM_MALFORMED
               || rc == CA_FORM_TOO_MANY);

    if (rc == CA_FORM_OK) {
        fuzz_form_check(&form, buf, size);
        fuzz_form_round_trips(&form);

    } else {
        FUZZ_CHECK(form.nfields == 0);
    }

    fuzz_form_multi_agrees(data, size, 1, rc, &form);

    free(buf);

    return 0;
}
