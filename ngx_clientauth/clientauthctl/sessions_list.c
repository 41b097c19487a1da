/*
 * sessions list: a user's live sessions, as the self-service area lists
 * them, for support: the session's opaque id (never its token or hash),
 * when it was made and last seen, the client's address and user agent.
 * Sessions made before the gateway recorded a field show "-" for it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ca_token.h"


#define CTL_SESSION_FIELDS  5         /* i c s ip ua */


static int ctl_sessions_list_one(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *member);
static void ctl_print_ms(const redisReply *value);


static const char  ctl_sessions_list_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_SESSIONS_LIST
    "\n"
    "Lists the live sessions of the user, one a line:\n"
    "\n"
    "  ID CREATED LAST_SEEN ADDRESS USER_AGENT\n"
    "\n"
    "ID is the session's opaque id (the one the account pages show), times\n"
    "are UTC (LAST_SEEN to within clientauth_session_refresh), \"-\" stands\n"
    "for what a session does not record.\n"
    "\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* sessions list BRAND IDENTIFIER */

int
ctl_sessions_list(ctl_t *ctl, int argc, char **argv)
{
    int          rc;
    size_t       i;
    ctl_args_t   args;
    ctl_user_t   u;
    redisReply  *members;

    ctl_args_init(&args, argc, argv, "sessions list");

    rc = ctl_user_target(ctl, &args, ctl_sessions_list_usage, 0, &u);
    if (rc != CTL_OK || u.brand == NULL) {
        return rc;
    }

    members = ctl_sessions_members(ctl, &u);
    if (members == NULL) {
        return CTL_FAIL;
    }

    for (i = 0; i < members->elements && rc == CTL_OK; i++) {
        rc = ctl_sessions_list_one(ctl, &u, members->element[i]);
    }

    freeReplyObject(members);

    return rc;
}


static int
ctl_sessions_list_one(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *member)
{
    size_t       i, nil;
    char         key[CA_KEY_MAX];
    redisReply  *f, *v;

    if (member->len != CA_TOKEN_HASH_LEN
        || ca_key_session(key, sizeof(key), u->brand, member->str) < 0)
    {
        return CTL_OK;
    }

    f = ctl_redis_call(ctl, CTL_R_ARRAY, "HMGET", key, "i", "c", "s", "ip",
                       "ua", "a", NULL);
    if (f == NULL) {
        return CTL_FAIL;
    }

    if (f->elements != CTL_SESSION_FIELDS + 1) {
        freeReplyObject(f);
        return ctl_error("redis %s: HMGET: unexpected reply", ctl->address);
    }

    for (nil = 0, i = 0; i < f->elements; i++) {
        nil += (f->element[i]->type != REDIS_REPLY_STRING);
    }

    if (nil == f->elements) {
        /* ended (logout, expiry): the set still names it */
        freeReplyObject(f);
        return CTL_OK;
    }

    for (i = 0; i < CTL_SESSION_FIELDS; i++) {
        v = f->element[i];

        if (i > 0) {
            putchar(' ');
        }

        if (v->type != REDIS_REPLY_STRING || v->len == 0) {
            putchar('-');

        } else if (i == 1 || i == 2) {
            ctl_print_ms(v);

        } else {
            ctl_print_safe(v->str, v->len);
        }
    }

    putchar('\n');
    freeReplyObject(f);

    return CTL_OK;
}


/* Unix milliseconds as ISO 8601 UTC. */

static void
ctl_print_ms(const redisReply *value)
{
    char       buf[32], *end;
    time_t     t;
    struct tm  tm;

    t = (time_t) (strtoll(value->str, &end, 10) / 1000);

    if (*end != '\0' || gmtime_r(&t, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        ctl_print_safe(value->str, value->len);
        return;
    }

    fputs(buf, stdout);
}
