/*
 * ca_policy_check on arbitrary bytes (a new password as typed), with the
 * account's identifiers from the input too.  Checked against the contract
 * of ca_policy.h, written out here:
 *
 *   - only known rule bits, and never reused or mismatch (checked
 *     elsewhere);
 *   - invalid exactly when the bytes are not UTF-8 or hold a control
 *     character (C0 but tab, LF and CR; DEL; C1), and then nothing else but
 *     too long;
 *   - too long exactly when longer than max_length bytes; too short exactly
 *     when fewer than min_length characters;
 *   - identifier exactly when equal to one of them, ignoring ASCII case.
 */

#include <strings.h>

#include "fuzz_common.h"
#include "ca_policy.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             invalid, is_id;
    long            n, i;
    char           *pw, *ids_buf;
    size_t          len, idlen, nids;
    unsigned        broken, known;
    uint32_t       *cps;
    ca_policy_t     policy;
    const char     *ids[2];
    const uint8_t  *nul;

    if (size < 2) {
        return 0;
    }

    policy.preset = (data[0] & 1) ? CA_POLICY_NIST : CA_POLICY_DEFAULT;
    policy.min_length = (data[0] >> 1) & 0x1f;
    policy.max_length = 16 + data[1];

    /* password, then after a NUL byte an identifier */

    data += 2;
    size -= 2;

    len = size;
    nids = 0;
    ids_buf = NULL;

    nul = memchr(data, '\0', size);

    if (nul != NULL && (data[0] & 1)) {
        len = nul - data;
        idlen = size - len - 1;
        ids_buf = fuzz_dup(nul + 1, idlen, 1);
        ids_buf[idlen] = '\0';
        ids[0] = ids_buf;
        ids[1] = NULL;
        nids = 2;
    }

    pw = fuzz_dup(data, len, 0);

    broken = ca_policy_check(&policy, pw, len, ids, nids);

    known = (CA_RULE_LAST << 1) - 1;
    FUZZ_CHECK((broken & ~known) == 0);
    FUZZ_CHECK((broken & (CA_RULE_REUSED | CA_RULE_MISMATCH)) == 0);

    FUZZ_CHECK(((broken & CA_RULE_TOO_LONG) != 0)
               == (len > policy.max_length));

    cps = malloc((len + 1) * sizeof(uint32_t));
    FUZZ_CHECK(cps != NULL);

    n = fuzz_utf8(data, len, cps);
    invalid = (n < 0);

    for (i = 0; !invalid && i < n; i++) {
        uint32_t  c = cps[i];

        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            || (c >= 0x7f && c < 0xa0))
        {
            invalid = 1;
        }
    }

    FUZZ_CHECK(((broken & CA_RULE_INVALID) != 0) == invalid);

    if (invalid) {
        FUZZ_CHECK((broken & ~(CA_RULE_INVALID | CA_RULE_TOO_LONG)) == 0);

    } else {
        FUZZ_CHECK(((broken & CA_RULE_TOO_SHORT) != 0)
                   == ((size_t) n < policy.min_length));

        is_id = ids_buf != NULL && ids_buf[0] != '\0'
                && strlen(ids_buf) == len
                && strncasecmp(ids_buf, pw, len) == 0;
        FUZZ_CHECK(((broken & CA_RULE_IDENTIFIER) != 0) == is_id);

        if (policy.preset == CA_POLICY_NIST) {
            FUZZ_CHECK((broken & (CA_RULE_NO_UPPER | CA_RULE_NO_LOWER
                                  | CA_RULE_NO_DIGIT | CA_RULE_NO_SPECIAL))
                       == 0);
        } else {
            FUZZ_CHECK((broken & CA_RULE_COMMON) == 0);
        }
    }

    for (i = 0; i <= 11; i++) {
        if (broken & (1u << i)) {
            FUZZ_CHECK(ca_rule_code(1u << i) != NULL);
            FUZZ_CHECK(ca_rule_text(1u << i) != NULL);
        }
    }

    (void) ca_policy_is_common(pw, len);

    free(cps);
    free(pw);
    free(ids_buf);

    return 0;
}
