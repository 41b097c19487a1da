/*
 * Redis replies as the module reads them: what a reply means, decided
 * without nginx so that unit tests and a fuzzer can feed it any reply
 * hiredis's reader makes.  Nothing is allocated: strings point into the
 * reply, which the caller copies before hiredis frees it.  nginx-free.
 *
 * Numbers the module wrote itself (expiry times, counters kept as strings)
 * are read exactly: 1-19 decimal digits, no sign, no space, at most
 * INT64_MAX.  Anything else is not a number.
 */

#ifndef CA_REPLY_H
#define CA_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

typedef enum {
    CA_REPLY_OK = 0,
    CA_REPLY_NIL = 1,             /* nil, or a record that is not there */
    CA_REPLY_BAD = -1,            /* not the kind of reply asked */
    CA_REPLY_CORRUPT = -2         /* the record is there but unusable */
} ca_reply_rc_e;

/* The session HMGET a u x s g. */
#define CA_REPLY_SESSION_FIELDS  5

typedef struct {
    const char  *account;         /* 1-20 digits */
    size_t       account_len;
    const char  *user;            /* 1-20 digits */
    size_t       user_len;
    int64_t      expires;         /* absolute, ms */
    int64_t      refreshed;       /* last refresh, ms */
    const char  *generation;      /* the user's sgen at login: digits */
    size_t       generation_len;
} ca_reply_session_t;

/* Its user's HMGET status perms sgen. */
#define CA_REPLY_OWNER_FIELDS  3

typedef struct {
    int          active;          /* status is "active" */
    const char  *permissions;     /* no control characters; "" when nil */
    size_t       permissions_len;
    const char  *generation;      /* digits; "0" when never revoked */
    size_t       generation_len;
} ca_reply_owner_t;

/* 0 and *value for a number as above (len bytes), or -1. */
int ca_reply_parse_int64(const char *s, size_t len, int64_t *value);

/*
 * A bulk string: CA_REPLY_OK with *str and *len pointing into the reply,
 * CA_REPLY_NIL (str NULL, len 0), or CA_REPLY_BAD for any other reply and
 * for no reply at all.
 */
int ca_reply_str(const redisReply *reply, const char **str, size_t *len);

/*
 * A counter: an integer reply, or a bulk string holding a number (GET of a
 * counter).  0 for nil, for no reply and for anything else: a counter that
 * is not there has not counted yet.
 */
int64_t ca_reply_int(const redisReply *reply);

/*
 * The session lookup.  CA_REPLY_OK with every field checked; CA_REPLY_NIL
 * when the session is gone, expired, or its key holds no whole session (a
 * field missing or not a string: also a session made before sessions had a
 * generation); CA_REPLY_CORRUPT when a field does not hold what the module
 * writes there; CA_REPLY_BAD for a reply that is no answer to an HMGET of
 * the five fields (an error, a wrong type).
 */
int ca_reply_session(const redisReply *reply, ca_reply_session_t *session);

/*
 * The session's user, as it is now.  CA_REPLY_OK with the fields checked
 * (a user gone reads as not active); CA_REPLY_CORRUPT when permissions hold
 * a control character (they become a request header) or sgen is not a
 * number; CA_REPLY_BAD for a reply that is no answer to the HMGET.
 */
int ca_reply_owner(const redisReply *reply, ca_reply_owner_t *owner);

#endif /* CA_REPLY_H */
