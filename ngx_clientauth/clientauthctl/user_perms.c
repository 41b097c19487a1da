/*
 * user perms: sets a user's permissions, in its hash for the next logins
 * and in the "p" field of each of its live sessions, which the gateway
 * reads on every request: one transaction, so the change is at once
 * everywhere or nowhere.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"


enum {
    CTL_OPT_PERM = CTL_OPT_VERB
};

typedef struct {
    ctl_user_t   *user;
    ctl_perms_t   perms;
    char          text[CTL_PERMS_MAX];
    long long     updated;            /* live sessions written */
} ctl_perms_job_t;


static int ctl_perms_option(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data);
static int ctl_perms_attempt(ctl_t *ctl, void *data);
static int ctl_perms_queue(ctl_t *ctl, ctl_perms_job_t *job,
    const redisReply *members, const char *keys);


static const ctl_opt_t  ctl_perms_opts[] = {
    { "perm",           CTL_ARG_VALUE, CTL_OPT_PERM },
    { "phone-country",  CTL_ARG_VALUE, CTL_OPT_PHONE_COUNTRY },
    { NULL, CTL_ARG_NONE, 0 }
};

static const char  ctl_perms_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_PERMS
    "\n"
    "Replaces the user's permissions with those given, for its next logins\n"
    "and, at once, in all its live sessions.  Prints the new list and how\n"
    "many live sessions got it.\n"
    "\n"
    "  --perm P               a permission ([a-z0-9_]{1,32}, or \"all\");\n"
    "                         repeat it or give a comma-separated list\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* user perms BRAND IDENTIFIER --perm P... */

int
ctl_user_perms(ctl_t *ctl, int argc, char **argv)
{
    int              rc;
    ctl_args_t       args;
    ctl_user_t       u;
    ctl_target_t     target;
    ctl_perms_job_t  job;

    memset(&job, 0, sizeof(job));
    ctl_args_init(&args, argc, argv, "user perms");

    rc = ctl_args_verb(ctl, &args, ctl_perms_usage, ctl_perms_opts,
                       ctl_perms_option, &job, &target);
    if (rc != CTL_OK || target.brand == NULL) {
        return rc;
    }

    if (job.perms.n == 0) {
        return ctl_usage_error(args.usage_of, "missing --perm");
    }

    ctl_perms_format(&job.perms, job.text);

    rc = ctl_redis_connect(ctl);

    if (rc == CTL_OK) {
        rc = ctl_user_find(ctl, target.brand, target.identifier,
                           target.phone_country, &u);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    job.user = &u;

    rc = ctl_txn_retry(ctl, ctl_perms_attempt, &job);
    if (rc != CTL_OK) {
        return rc;
    }

    printf("permissions of account %s user %s: %s, updated %lld live"
           " session(s)\n", u.account, u.user, job.text, job.updated);

    return CTL_OK;
}


static int
ctl_perms_option(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data)
{
    ctl_perms_job_t  *job = data;

    if (id != CTL_OPT_PERM) {
        return ctl_error("internal error: unhandled option %d", id);
    }

    return ctl_perms_add(&job->perms, args->usage_of, value);
}


/*
 * WATCHes the user, its session set and its session keys (a login adds to
 * the set, a logout or expiry deletes a key), then writes the hash and the
 * sessions that exist.
 */

static int
ctl_perms_attempt(ctl_t *ctl, void *data)
{
    ctl_perms_job_t  *job = data;

    int          rc;
    char        *keys;
    redisReply  *members;

    rc = ctl_user_watch(ctl, job->user);
    if (rc != CTL_OK) {
        return rc;
    }

    members = ctl_sessions_members(ctl, job->user);
    if (members == NULL) {
        return CTL_FAIL;
    }

    keys = NULL;
    rc = ctl_sessions_watch_live(ctl, job->user, members, &keys);

    if (rc == CTL_OK) {
        rc = ctl_perms_queue(ctl, job, members, keys);
    }

    free(keys);
    freeReplyObject(members);

    if (rc != CTL_OK) {
        return rc;
    }

    return ctl_txn_commit(ctl);
}


static int
ctl_perms_queue(ctl_t *ctl, ctl_perms_job_t *job, const redisReply *members,
    const char *keys)
{
    if (ctl_redis_do(ctl, CTL_R_STATUS, "MULTI", NULL) != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "HSET", job->user->key, "perms",
                        job->text, NULL)
           != CTL_OK)
    {
        return CTL_FAIL;
    }

    return ctl_sessions_queue_hset(ctl, members, keys, "p", job->text,
                                   &job->updated);
}
