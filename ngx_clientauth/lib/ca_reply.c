#include <string.h>

#include "ca_keys.h"
#include "ca_reply.h"


static int ca_reply_header_safe(const char *s, size_t len);


int
ca_reply_parse_int64(const char *s, size_t len, int64_t *value)
{
    size_t   i;
    int64_t  n, digit;

    if (len == 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        digit = s[i] - '0';

        if (n > (INT64_MAX - digit) / 10) {
            return -1;
        }

        n = n * 10 + digit;
    }

    *value = n;

    return 0;
}


int
ca_reply_str(const redisReply *reply, const char **str, size_t *len)
{
    *str = NULL;
    *len = 0;

    if (reply == NULL) {
        return CA_REPLY_BAD;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        return CA_REPLY_NIL;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        return CA_REPLY_BAD;
    }

    *str = reply->str;
    *len = reply->len;

    return CA_REPLY_OK;
}


int64_t
ca_reply_int(const redisReply *reply)
{
    int64_t  n;

    if (reply == NULL) {
        return 0;
    }

    if (reply->type == REDIS_REPLY_INTEGER) {
        return reply->integer;
    }

    if (reply->type == REDIS_REPLY_STRING
        && ca_reply_parse_int64(reply->str, reply->len, &n) == 0)
    {
        return n;
    }

    return 0;
}


int
ca_reply_session(const redisReply *reply, ca_reply_session_t *session)
{
    size_t       i, len[CA_REPLY_SESSION_FIELDS];
    const char  *field[CA_REPLY_SESSION_FIELDS];
    int64_t      generation;

    memset(session, 0, sizeof(ca_reply_session_t));

    if (reply == NULL
        || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != CA_REPLY_SESSION_FIELDS)
    {
        return CA_REPLY_BAD;
    }

    for (i = 0; i < CA_REPLY_SESSION_FIELDS; i++) {
        if (ca_reply_str(reply->element[i], &field[i], &len[i])
            != CA_REPLY_OK)
        {
            /* gone, expired, or a key that is not a whole session */
            return CA_REPLY_NIL;
        }
    }

    if (!ca_id_is_valid(field[0], len[0])
        || !ca_id_is_valid(field[1], len[1])
        || ca_reply_parse_int64(field[2], len[2], &session->expires) != 0
        || ca_reply_parse_int64(field[3], len[3], &session->refreshed) != 0
        || ca_reply_parse_int64(field[4], len[4], &generation) != 0)
    {
        memset(session, 0, sizeof(ca_reply_session_t));
        return CA_REPLY_CORRUPT;
    }

    session->account = field[0];
    session->account_len = len[0];
    session->user = field[1];
    session->user_len = len[1];
    session->generation = field[4];
    session->generation_len = len[4];

    return CA_REPLY_OK;
}


int
ca_reply_owner(const redisReply *reply, ca_reply_owner_t *owner)
{
    int64_t      generation;
    size_t       len;
    const char  *status;

    memset(owner, 0, sizeof(ca_reply_owner_t));

    if (reply == NULL
        || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != CA_REPLY_OWNER_FIELDS
        || ca_reply_str(reply->element[0], &status, &len) == CA_REPLY_BAD
        || ca_reply_str(reply->element[1], &owner->permissions,
                        &owner->permissions_len)
           == CA_REPLY_BAD
        || ca_reply_str(reply->element[2], &owner->generation,
                        &owner->generation_len)
           == CA_REPLY_BAD)
    {
        memset(owner, 0, sizeof(ca_reply_owner_t));
        return CA_REPLY_BAD;
    }

    if (owner->permissions == NULL) {
        owner->permissions = "";
    }

    if (owner->generation == NULL) {
        /* never revoked: the generation sessions start from */
        owner->generation = "0";
        owner->generation_len = 1;
    }

    if (!ca_reply_header_safe(owner->permissions, owner->permissions_len)
        || ca_reply_parse_int64(owner->generation, owner->generation_len,
                                &generation)
           != 0)
    {
        memset(owner, 0, sizeof(ca_reply_owner_t));
        return CA_REPLY_CORRUPT;
    }

    owner->active = (status != NULL && len == sizeof("active") - 1
                     && memcmp(status, "active", len) == 0);

    return CA_REPLY_OK;
}


/*
 * The permissions go upstream as X-Client-Permissions: a CR or LF would
 * start another request header, a NUL would cut it.
 */

static int
ca_reply_header_safe(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}
