/*
 * Redis replies: arbitrary bytes go through hiredis's reader (the one the
 * module's async context uses), fed in two pieces (the first byte says where
 * to cut), and every reply it makes,
 * nested ones included, goes to every ca_reply decoder:
 *
 *   - ca_reply_str gives a string only for a bulk string, pointing at it;
 *   - ca_reply_int gives the integer, or the exact value of a string of
 *     digits (checked against a reference parse and by printing it back),
 *     or 0;
 *   - ca_reply_session either refuses (and says why, consistently with the
 *     shape of the reply) or gives fields that lie within the reply's
 *     strings: ids of 1-20 digits, expiry, refresh and generation parsed
 *     exactly;
 *   - ca_reply_owner refuses what is not an HMGET of three fields, and
 *     never gives permissions with a control character (they become a
 *     request header) or a generation that is not a number.
 *
 * hiredis 0.14 has no limit on a multi-bulk count and callocs it whole: the
 * harness refuses counts above 1024 the way a failed calloc does, as the
 * module would see it, so that the fuzzer does not stop on a 16 GB
 * allocation of hiredis's.
 */

#include <inttypes.h>

#include "fuzz_common.h"
#include "ca_reply.h"


#define FUZZ_RESP_MAX_ELEMENTS  1024


static redisReplyObjectFunctions   fuzz_fn;
static void *(*fuzz_create_array)(const redisReadTask *task, int elements);


static void *
fuzz_bounded_array(const redisReadTask *task, int elements)
{
    if (elements < 0 || elements > FUZZ_RESP_MAX_ELEMENTS) {
        return NULL;
    }

    return fuzz_create_array(task, elements);
}


/*
 * The reference: digits only, and without its leading zeros at most the 19
 * of INT64_MAX, compared as text.
 */

static int
ref_int64(const char *s, size_t len, int64_t *value)
{
    size_t    i, skip;
    uint64_t  v;

    static const char  max[] = "9223372036854775807";

    if (len == 0) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
    }

    for (skip = 0; skip + 1 < len && s[skip] == '0'; skip++) {
        /* void */
    }

    if (len - skip > sizeof(max) - 1
        || (len - skip == sizeof(max) - 1
            && memcmp(s + skip, max, sizeof(max) - 1) > 0))
    {
        return -1;
    }

    for (v = 0, i = skip; i < len; i++) {
        v = v * 10 + (uint64_t) (s[i] - '0');
    }

    *value = (int64_t) v;

    return 0;
}


static void
check_int64(const char *s, size_t len)
{
    int      rc;
    char     text[32];
    size_t   skip;
    int64_t  value, want;

    value = -42;
    rc = ca_reply_parse_int64(s, len, &value);

    FUZZ_CHECK((rc == 0) == (ref_int64(s, len, &want) == 0));

    if (rc != 0) {
        FUZZ_CHECK(value == -42);
        return;
    }

    FUZZ_CHECK(value == want && value >= 0);

    /* exact: printed back, it is the text without its leading zeros */
    for (skip = 0; skip + 1 < len && s[skip] == '0'; skip++) {
        /* void */
    }

    snprintf(text, sizeof(text), "%" PRId64, value);
    FUZZ_CHECK(strlen(text) == len - skip);
    FUZZ_CHECK(memcmp(text, s + skip, len - skip) == 0);
}


static int
fuzz_header_safe(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


static void
check_session(const redisReply *r)
{
    int                  rc, strings, valid;
    size_t               i;
    int64_t              x, s, g;
    ca_reply_session_t   session;

    rc = ca_reply_session(r, &session);

    if (r->type != REDIS_REPLY_ARRAY
        || r->elements != CA_REPLY_SESSION_FIELDS)
    {
        FUZZ_CHECK(rc == CA_REPLY_BAD);
        return;
    }

    strings = 1;

    for (i = 0; i < CA_REPLY_SESSION_FIELDS; i++) {
        strings = strings && r->element[i]->type == REDIS_REPLY_STRING;
    }

    if (!strings) {
        FUZZ_CHECK(rc == CA_REPLY_NIL);
        FUZZ_CHECK(session.account == NULL && session.generation == NULL);
        return;
    }

    valid = fuzz_digits(r->element[0]->str, r->element[0]->len, 20)
            && fuzz_digits(r->element[1]->str, r->element[1]->len, 20)
            && ref_int64(r->element[2]->str, r->element[2]->len, &x) == 0
            && ref_int64(r->element[3]->str, r->element[3]->len, &s) == 0
            && ref_int64(r->element[4]->str, r->element[4]->len, &g) == 0;

    FUZZ_CHECK(rc == (valid ? CA_REPLY_OK : CA_REPLY_CORRUPT));

    if (rc != CA_REPLY_OK) {
        FUZZ_CHECK(session.account == NULL);
        return;
    }

    FUZZ_CHECK(session.account == r->element[0]->str
               && session.account_len == r->element[0]->len);
    FUZZ_CHECK(session.user == r->element[1]->str
               && session.user_len == r->element[1]->len);
    FUZZ_CHECK(session.expires == x && session.refreshed == s);
    FUZZ_CHECK(session.generation == r->element[4]->str
               && session.generation_len == r->element[4]->len);
}


static void
check_owner(const redisReply *r)
{
    int                rc, shaped;
    size_t             i;
    int64_t            g;
    ca_reply_owner_t   owner;

    rc = ca_reply_owner(r, &owner);

    shaped = r->type == REDIS_REPLY_ARRAY
             && r->elements == CA_REPLY_OWNER_FIELDS;

    for (i = 0; shaped && i < CA_REPLY_OWNER_FIELDS; i++) {
        shaped = r->element[i]->type == REDIS_REPLY_STRING
                 || r->element[i]->type == REDIS_REPLY_NIL;
    }

    if (!shaped) {
        FUZZ_CHECK(rc == CA_REPLY_BAD);
        FUZZ_CHECK(owner.permissions == NULL && owner.active == 0);
        return;
    }

    if (rc != CA_REPLY_OK) {
        FUZZ_CHECK(rc == CA_REPLY_CORRUPT);
        FUZZ_CHECK(owner.permissions == NULL);
        FUZZ_CHECK(!fuzz_header_safe(r->element[1]->str, r->element[1]->len)
                   || (r->element[2]->type == REDIS_REPLY_STRING
                       && ref_int64(r->element[2]->str, r->element[2]->len,
                                    &g) != 0));
        return;
    }

    /* the permissions become a request header: no CR, LF, NUL, ... */
    FUZZ_CHECK(fuzz_header_safe(owner.permissions, owner.permissions_len));
    FUZZ_CHECK(ref_int64(owner.generation, owner.generation_len, &g) == 0);

    if (r->element[1]->type == REDIS_REPLY_STRING) {
        FUZZ_CHECK(owner.permissions == r->element[1]->str
                   && owner.permissions_len == r->element[1]->len);
    } else {
        FUZZ_CHECK(owner.permissions_len == 0);
    }

    FUZZ_CHECK(owner.active
               == (r->element[0]->type == REDIS_REPLY_STRING
                   && r->element[0]->len == 6
                   && memcmp(r->element[0]->str, "active", 6) == 0));
}


static void
check_reply(const redisReply *r)
{
    int          rc;
    size_t       i, len;
    int64_t      n, want;
    const char  *s;

    rc = ca_reply_str(r, &s, &len);

    if (r->type == REDIS_REPLY_STRING) {
        FUZZ_CHECK(rc == CA_REPLY_OK && s == r->str && len == r->len);

    } else {
        FUZZ_CHECK(s == NULL && len == 0);
        FUZZ_CHECK(rc == (r->type == REDIS_REPLY_NIL ? CA_REPLY_NIL
                                                     : CA_REPLY_BAD));
    }

    n = ca_reply_int(r);

    if (r->type == REDIS_REPLY_INTEGER) {
        FUZZ_CHECK(n == r->integer);

    } else if (r->type == REDIS_REPLY_STRING
               && ref_int64(r->str, r->len, &want) == 0)
    {
        FUZZ_CHECK(n == want);

    } else {
        FUZZ_CHECK(n == 0);
    }

    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
        || r->type == REDIS_REPLY_ERROR)
    {
        check_int64(r->str, r->len);
    }

    check_session(r);
    check_owner(r);

    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements; i++) {
            check_reply(r->element[i]);
        }
    }
}


/* Takes the replies there are; -1 once the reader has failed. */

static int
drain(redisReader *reader)
{
    void  *reply;

    for ( ;; ) {
        if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
            return -1;
        }

        if (reply == NULL) {
            return 0;
        }

        check_reply(reply);
        freeReplyObject(reply);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t        cut;
    redisReader  *reader;

    reader = redisReaderCreate();
    FUZZ_CHECK(reader != NULL);

    fuzz_fn = *reader->fn;
    fuzz_create_array = fuzz_fn.createArray;
    fuzz_fn.createArray = fuzz_bounded_array;
    reader->fn = &fuzz_fn;

    if (size == 0) {
        redisReaderFree(reader);
        return 0;
    }

    /*
     * The first byte says where to cut the rest in two: the module's reader
     * sees replies split across reads.
     */

    cut = data[0] % size;
    data++;
    size--;

    if (redisReaderFeed(reader, (const char *) data, cut) == REDIS_OK
        && drain(reader) == 0
        && redisReaderFeed(reader, (const char *) data + cut, size - cut)
           == REDIS_OK)
    {
        (void) drain(reader);
    }

    redisReaderFree(reader);

    return 0;
}
