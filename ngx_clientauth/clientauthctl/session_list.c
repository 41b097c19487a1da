/*
 * sessions list BRAND IDENTIFIER: what the customer sees in the
 * self-service area's list of sessions, for support: one line per session
 * the user's index names and Redis still holds, with its opaque id (never
 * the token nor its hash), when it was made and last seen, the client's
 * address and device.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ca_keys.h"


static void ctl_session_line(const redisReply *r);
static void ctl_session_time(const char *label, const redisReply *ms);


static const char  ctl_sessions_list_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_SESSIONS_LIST
    "\n"
    "Prints the user's live sessions, one a line:\n"
    "  ID created=TIME last_seen=TIME address=ADDRESS device=\"NAME\"\n"
    "(ID as the self-service area's list shows it; times in UTC).\n"
    "\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


int
ctl_sessions_list(ctl_t *ctl, int argc, char **argv)
{
    int           rc;
    size_t        i;
    ctl_args_t    args;
    ctl_user_t    u;
    ctl_target_t  target;
    redisReply   *members, *r;
    char          key[CA_KEY_MAX];

    ctl_args_init(&args, argc, argv, "sessions list");

    rc = ctl_args_target(ctl, &args, ctl_sessions_list_usage, 0, &target);
    if (rc != CTL_OK || target.brand == NULL) {
        return rc;
    }

    rc = ctl_redis_connect(ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    rc = ctl_user_find(ctl, target.brand, target.identifier,
                       target.phone_country, &u);
    if (rc != CTL_OK) {
        return rc;
    }

    members = ctl_sessions_members(ctl, &u);
    if (members == NULL) {
        return CTL_FAIL;
    }

    for (i = 0; i < members->elements; i++) {
        if (ca_key_session(key, sizeof(key), target.brand, u.account,
                           members->element[i]->str) < 0)
        {
            continue;
        }

        r = ctl_redis_call(ctl, CTL_R_ARRAY, "HMGET", key, "i", "c", "s",
                           "ip", "ua", NULL);
        if (r == NULL) {
            freeReplyObject(members);
            return CTL_FAIL;
        }

        if (r->elements == 5 && r->element[0]->type == REDIS_REPLY_STRING) {
            ctl_session_line(r);
        }

        freeReplyObject(r);
    }

    freeReplyObject(members);

    return CTL_OK;
}


static void
ctl_session_line(const redisReply *r)
{
    size_t             i;
    const redisReply  *ua;

    printf("%s", r->element[0]->str);
    ctl_session_time("created", r->element[1]);
    ctl_session_time("last_seen", r->element[2]);

    if (r->element[3]->type == REDIS_REPLY_STRING) {
        printf(" address=%s", r->element[3]->str);
    }

    /* the module keeps it printable ASCII: quotes and backslashes aside */
    ua = r->element[4];

    if (ua->type == REDIS_REPLY_STRING) {
        fputs(" device=\"", stdout);

        for (i = 0; i < ua->len; i++) {
            if (ua->str[i] >= 0x20 && ua->str[i] < 0x7f
                && ua->str[i] != '"' && ua->str[i] != '\\')
            {
                putchar(ua->str[i]);
            }
        }

        putchar('"');
    }

    putchar('\n');
}


static void
ctl_session_time(const char *label, const redisReply *ms)
{
    char       buf[32];
    time_t     t;
    struct tm  tm;

    if (ms->type != REDIS_REPLY_STRING) {
        return;
    }

    t = (time_t) (strtoll(ms->str, NULL, 10) / 1000);

    if (gmtime_r(&t, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        return;
    }

    printf(" %s=%s", label, buf);
}
