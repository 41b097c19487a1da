/*
 * user email: changes a user's e-mail address, which is also a login
 * identifier: the index entry moves to the new address in the same
 * transaction that writes the user hash (and the account hash, for the
 * owner, whose address is the account's primary one), so the old address
 * stops logging in exactly when the new one starts.  A password-reset link
 * mailed to the old address dies with it: the user hash's "reset" field,
 * which names the one token the gateway still accepts, is cleared.
 */

#include <stdio.h>
#include <string.h>

#include "ctl.h"


enum {
    CTL_OPT_EMAIL = CTL_OPT_VERB
};

typedef struct {
    ctl_user_t   *user;
    const char   *given;
    char          email[CA_IDENT_MAX];        /* canonical */
    char          key[CA_KEY_MAX];            /* its index entry */
    char          account_key[CA_KEY_MAX];
    char          ref[CA_ID_REF_MAX];         /* "<account>:<user>" */
    char          old[CA_IDENT_MAX];          /* "": the user had none */
    char          old_key[CA_KEY_MAX];        /* "": nothing to delete */
    unsigned      owner:1;
    unsigned      unchanged:1;
} ctl_email_job_t;


static int ctl_email_option(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data);
static int ctl_email_check(ctl_email_job_t *job, const char *usage_of,
    const char *brand);
static int ctl_email_keys(ctl_email_job_t *job, ctl_user_t *u);
static int ctl_email_attempt(ctl_t *ctl, void *data);
static int ctl_email_read(ctl_t *ctl, ctl_email_job_t *job);
static int ctl_email_get(ctl_t *ctl, const char *key, const char *field,
    char *buf, size_t size);
static int ctl_email_check_free(ctl_t *ctl, ctl_email_job_t *job);
static int ctl_email_old_entry(ctl_t *ctl, ctl_email_job_t *job);
static int ctl_email_queue(ctl_t *ctl, ctl_email_job_t *job);


static const ctl_opt_t  ctl_email_opts[] = {
    { "email",          CTL_ARG_VALUE, CTL_OPT_EMAIL },
    { "phone-country",  CTL_ARG_VALUE, CTL_OPT_PHONE_COUNTRY },
    { NULL, CTL_ARG_NONE, 0 }
};

static const char  ctl_email_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_EMAIL
    "\n"
    "Changes the user's e-mail address, for a customer who lost access to\n"
    "the old mailbox: the new address logs in and gets the mail, the old\n"
    "one no longer identifies anybody.  For the account's owner it is the\n"
    "account's primary address too.  Refused when the new address is in use\n"
    "in the brand.  A reset link sent to the old address stops working;\n"
    "sessions are left as they are.\n"
    "\n"
    "  --email NEW            the new address\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* user email BRAND IDENTIFIER --email NEW */

int
ctl_user_email(ctl_t *ctl, int argc, char **argv)
{
    int              rc;
    ctl_args_t       args;
    ctl_user_t       u;
    ctl_target_t     target;
    ctl_email_job_t  job;

    memset(&job, 0, sizeof(job));
    ctl_args_init(&args, argc, argv, "user email");

    rc = ctl_args_verb(ctl, &args, ctl_email_usage, ctl_email_opts,
                       ctl_email_option, &job, &target);
    if (rc != CTL_OK || target.brand == NULL) {
        return rc;
    }

    rc = ctl_email_check(&job, args.usage_of, target.brand);

    if (rc == CTL_OK) {
        rc = ctl_redis_connect(ctl);
    }

    if (rc == CTL_OK) {
        rc = ctl_user_find(ctl, target.brand, target.identifier,
                           target.phone_country, &u);
    }

    if (rc == CTL_OK) {
        rc = ctl_email_keys(&job, &u);
    }

    if (rc == CTL_OK) {
        rc = ctl_txn_retry(ctl, ctl_email_attempt, &job);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    if (job.unchanged) {
        printf("e-mail of account %s user %s is already %s\n", u.account,
               u.user, job.email);

    } else {
        printf("e-mail of account %s user %s changed from %s to %s\n",
               u.account, u.user, job.old[0] ? job.old : "(none)",
               job.email);
    }

    return CTL_OK;
}


static int
ctl_email_option(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data)
{
    ctl_email_job_t  *job = data;

    if (id != CTL_OPT_EMAIL) {
        return ctl_error("internal error: unhandled option %d", id);
    }

    if (job->given) {
        return ctl_usage_error(args->usage_of, "--email given twice");
    }

    job->given = value;

    return CTL_OK;
}


static int
ctl_email_check(ctl_email_job_t *job, const char *usage_of,
    const char *brand)
{
    if (job->given == NULL) {
        return ctl_usage_error(usage_of, "missing --email");
    }

    if (ca_ident_normalise_kind(CA_ID_EMAIL, NULL, job->given,
                                strlen(job->given), job->email)
        != CA_ID_EMAIL)
    {
        return ctl_usage_error(usage_of, "invalid --email: %s", job->given);
    }

    if (ca_key_ident(job->key, sizeof(job->key), brand, "email", job->email)
        < 0)
    {
        return ctl_usage_error(usage_of, "--email too long");
    }

    return CTL_OK;
}


static int
ctl_email_keys(ctl_email_job_t *job, ctl_user_t *u)
{
    job->user = u;

    if (ca_key_account(job->account_key, sizeof(job->account_key), u->brand,
                       u->account) < 0)
    {
        return ctl_error("redis key too long for account %s", u->account);
    }

    snprintf(job->ref, sizeof(job->ref), "%s:%s", u->account, u->user);

    return CTL_OK;
}


static int
ctl_email_attempt(ctl_t *ctl, void *data)
{
    ctl_email_job_t  *job = data;

    int  rc;

    rc = ctl_email_read(ctl, job);

    if (rc == CTL_OK && job->unchanged) {
        ctl_txn_abandon(ctl);
        return CTL_OK;
    }

    if (rc == CTL_OK) {
        rc = ctl_email_check_free(ctl, job);
    }

    if (rc == CTL_OK) {
        rc = ctl_email_old_entry(ctl, job);
    }

    if (rc == CTL_OK) {
        rc = ctl_email_queue(ctl, job);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    return ctl_txn_commit(ctl);
}


/* WATCHes the user, its account and the new entry; reads the old state. */

static int
ctl_email_read(ctl_t *ctl, ctl_email_job_t *job)
{
    int   rc;
    char  owner[CTL_ID_LEN];

    rc = ctl_user_watch(ctl, job->user);
    if (rc != CTL_OK) {
        return rc;
    }

    if (ctl_redis_do(ctl, CTL_R_STATUS, "WATCH", job->account_key, job->key,
                     NULL)
        != CTL_OK
        || ctl_email_get(ctl, job->user->key, "email", job->old,
                         sizeof(job->old)) != CTL_OK
        || ctl_email_get(ctl, job->account_key, "owner", owner,
                         sizeof(owner)) != CTL_OK)
    {
        return CTL_FAIL;
    }

    job->owner = (strcmp(owner, job->user->user) == 0);
    job->unchanged = (strcmp(job->old, job->email) == 0);

    return CTL_OK;
}


/* A string field of a hash into buf, "" when there is none. */

static int
ctl_email_get(ctl_t *ctl, const char *key, const char *field, char *buf,
    size_t size)
{
    redisReply  *reply;

    reply = ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "HGET", key, field,
                           NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    buf[0] = '\0';

    if (reply->type == REDIS_REPLY_STRING) {
        if (reply->len >= size || memchr(reply->str, '\0', reply->len)) {
            freeReplyObject(reply);
            return ctl_error("corrupt field %s of %s", field, key);
        }

        memcpy(buf, reply->str, reply->len + 1);
    }

    freeReplyObject(reply);

    return CTL_OK;
}


/* The new address names nobody, or already this user (a repair). */

static int
ctl_email_check_free(ctl_t *ctl, ctl_email_job_t *job)
{
    int          taken;
    redisReply  *reply;

    reply = ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "GET", job->key,
                           NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    taken = reply->type == REDIS_REPLY_STRING
            && (reply->len != strlen(job->ref)
                || memcmp(reply->str, job->ref, reply->len) != 0);

    freeReplyObject(reply);

    if (taken) {
        return ctl_error("identifier already in use: email %s", job->email);
    }

    return CTL_OK;
}


/*
 * The old address's entry goes when it names this user; one naming someone
 * else (the data was inconsistent) is left alone.
 */

static int
ctl_email_old_entry(ctl_t *ctl, ctl_email_job_t *job)
{
    int          ours;
    redisReply  *reply;

    job->old_key[0] = '\0';

    if (job->old[0] == '\0') {
        return CTL_OK;
    }

    if (ca_key_ident(job->old_key, sizeof(job->old_key), job->user->brand,
                     "email", job->old) < 0)
    {
        return ctl_error("corrupt e-mail address of account %s user %s",
                         job->user->account, job->user->user);
    }

    if (ctl_redis_do(ctl, CTL_R_STATUS, "WATCH", job->old_key, NULL)
        != CTL_OK)
    {
        return CTL_FAIL;
    }

    reply = ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "GET",
                           job->old_key, NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    ours = reply->type == REDIS_REPLY_STRING
           && reply->len == strlen(job->ref)
           && memcmp(reply->str, job->ref, reply->len) == 0;

    freeReplyObject(reply);

    if (!ours) {
        job->old_key[0] = '\0';
    }

    return CTL_OK;
}


static int
ctl_email_queue(ctl_t *ctl, ctl_email_job_t *job)
{
    if (ctl_redis_do(ctl, CTL_R_STATUS, "MULTI", NULL) != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "SET", job->key, job->ref, NULL)
           != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "HSET", job->user->key, "email",
                        job->email, NULL)
           != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "HDEL", job->user->key, "reset",
                        NULL)
           != CTL_OK)
    {
        return CTL_FAIL;
    }

    if (job->old_key[0]
        && ctl_redis_do(ctl, CTL_R_STATUS, "DEL", job->old_key, NULL)
           != CTL_OK)
    {
        return CTL_FAIL;
    }

    if (job->owner
        && ctl_redis_do(ctl, CTL_R_STATUS, "HSET", job->account_key,
                        "email", job->email, NULL)
           != CTL_OK)
    {
        return CTL_FAIL;
    }

    return CTL_OK;
}
