/*
 * The verbs on one existing user: user passwd, show, lock and unlock.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"


#define CTL_HISTORY_LAST  "4"         /* LTRIM 0 4: five former hashes */


typedef struct {
    ctl_user_t  *user;
    char         hash[CA_PWHASH_MAX];
    char         now[CTL_TIME_LEN];
    long long    revoked;
} ctl_passwd_job_t;

typedef struct {
    ctl_user_t  *user;
    const char  *status;
    unsigned     revoke:1;
    long long    revoked;
} ctl_status_job_t;


static int ctl_passwd_attempt(ctl_t *ctl, void *data);
static int ctl_passwd_queue_history(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *old, int *queued);
static int ctl_queue_fresh_start(ctl_t *ctl, const ctl_user_t *u,
    int *queued);
static int ctl_user_set_status(ctl_t *ctl, int argc, char **argv,
    const char *verb, const char *usage, int lock);
static int ctl_status_attempt(ctl_t *ctl, void *data);
static int ctl_show_print(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *user, const redisReply *account);
static const redisReply *ctl_hash_get(const redisReply *hash,
    const char *field);
static void ctl_show_field(const char *name, const redisReply *value);
static void ctl_show_time(const char *name, const redisReply *value);
static int ctl_show_email_change(ctl_t *ctl, const ctl_user_t *u);


#define CTL_TARGET_HELP                                                      \
    "  --phone-country CC     country calling code for a national phone\n"  \
    "                         number as IDENTIFIER\n"                       \
    "\n"                                                                     \
    "The global options (--redis, ...) are described by '" CTL_NAME         \
    " --help'.\n"

static const char  ctl_passwd_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_PASSWD
    "\n"
    "Sets the user's password, read as one line of standard input, keeps\n"
    "the former hash in the password history (the last five) and revokes\n"
    "all the user's sessions.\n"
    "\n"
    "  --password-stdin       read the new password from standard input\n"
    CTL_TARGET_HELP;

static const char  ctl_show_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_SHOW
    "\n"
    "Prints the user and its account as \"key: value\" lines: ids, role,\n"
    "identifiers, permissions, status, locale, dates (UTC), the password\n"
    "scheme (never the hash), the number of live sessions and a pending\n"
    "e-mail change (its new address, whether the code was confirmed and the\n"
    "new address verified, and when it applies without the code).\n"
    "\n"
    CTL_TARGET_HELP;

static const char  ctl_lock_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_LOCK
    "\n"
    "Locks the user out (status \"locked\": logins are refused) and revokes\n"
    "all its sessions.\n"
    "\n"
    CTL_TARGET_HELP;

static const char  ctl_unlock_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_UNLOCK
    "\n"
    "Lets a locked user log in again (status \"active\").\n"
    "\n"
    CTL_TARGET_HELP;


/* user passwd BRAND IDENTIFIER --password-stdin */

int
ctl_user_passwd(ctl_t *ctl, int argc, char **argv)
{
    int               rc;
    ctl_args_t        args;
    ctl_user_t        u;
    ctl_passwd_job_t  job;

    ctl_args_init(&args, argc, argv, "user passwd");

    rc = ctl_user_target(ctl, &args, ctl_passwd_usage, 1, &u);
    if (rc != CTL_OK || u.brand == NULL) {
        return rc;
    }

    rc = ctl_password_read_hash(ctl, job.hash);
    if (rc != CTL_OK) {
        return rc;
    }

    job.user = &u;
    job.revoked = 0;
    ctl_time_now(job.now);

    rc = ctl_txn_retry(ctl, ctl_passwd_attempt, &job);
    if (rc != CTL_OK) {
        return rc;
    }

    printf("password changed for account %s user %s, revoked %lld"
           " session(s)\n", u.account, u.user, job.revoked);

    return CTL_OK;
}


static int
ctl_passwd_attempt(ctl_t *ctl, void *data)
{
    ctl_passwd_job_t  *job = data;

    int          rc, queued, ndel, aborted;
    redisReply  *old, *members, *exec;

    rc = ctl_user_watch(ctl, job->user);
    if (rc != CTL_OK) {
        return rc;
    }

    old = ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "HGET",
                         job->user->key, "hash", NULL);
    if (old == NULL) {
        return CTL_FAIL;
    }

    members = ctl_sessions_members(ctl, job->user);
    if (members == NULL) {
        freeReplyObject(old);
        return CTL_FAIL;
    }

    queued = 0;
    rc = ctl_redis_do(ctl, CTL_R_STATUS, "MULTI", NULL);

    if (rc == CTL_OK) {
        rc = ctl_passwd_queue_history(ctl, job->user, old, &queued);
    }

    if (rc == CTL_OK) {
        rc = ctl_redis_do(ctl, CTL_R_STATUS, "HSET", job->user->key,
                          "hash", job->hash, "pwchanged", job->now, NULL);
        queued++;
    }

    if (rc == CTL_OK) {
        rc = ctl_queue_fresh_start(ctl, job->user, &queued);
    }

    if (rc == CTL_OK) {
        rc = ctl_sessions_queue_revoke(ctl, job->user, members, 1, &ndel);
    }

    freeReplyObject(old);
    freeReplyObject(members);

    if (rc != CTL_OK) {
        return rc;
    }

    exec = ctl_txn_exec(ctl, &aborted);
    if (exec == NULL) {
        return aborted ? CTL_RETRY : CTL_FAIL;
    }

    job->revoked = ctl_sessions_revoked(exec, queued, ndel);
    freeReplyObject(exec);

    return CTL_OK;
}


/* The hash being replaced goes first in the history; five are kept. */

static int
ctl_passwd_queue_history(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *old, int *queued)
{
    ctl_cmd_t  cmd;

    if (old->type != REDIS_REPLY_STRING || old->len == 0) {
        return CTL_OK;
    }

    ctl_cmd_init(&cmd, "LPUSH");
    ctl_cmd_arg(&cmd, u->history_key);
    ctl_cmd_argn(&cmd, old->str, old->len);

    if (ctl_cmd_queue(ctl, &cmd) != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "LTRIM", u->history_key, "0",
                        CTL_HISTORY_LAST, NULL)
           != CTL_OK)
    {
        return CTL_FAIL;
    }

    *queued += 2;

    return CTL_OK;
}


/*
 * A password set by support, or an unlock, starts afresh: a reset link
 * still in a mailbox no longer works, and the gateway's failure count,
 * lockout and bans (kept per account) are cleared.
 */

static int
ctl_queue_fresh_start(ctl_t *ctl, const ctl_user_t *u, int *queued)
{
    int          i;
    char         keys[3][CA_KEY_MAX];
    static const char  *what[] = { "fails", "lock", "bans" };

    for (i = 0; i < 3; i++) {
        if (ca_key_login(keys[i], sizeof(keys[i]), u->brand, what[i],
                         "account", u->account) < 0)
        {
            return CTL_FAIL;
        }
    }

    if (ctl_redis_do(ctl, CTL_R_STATUS, "HDEL", u->key, "reset", NULL)
        != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "DEL", keys[0], keys[1], keys[2],
                        NULL)
           != CTL_OK)
    {
        return CTL_FAIL;
    }

    *queued += 2;

    return CTL_OK;
}


/* user lock BRAND IDENTIFIER */

int
ctl_user_lock(ctl_t *ctl, int argc, char **argv)
{
    return ctl_user_set_status(ctl, argc, argv, "user lock", ctl_lock_usage,
                               1);
}


/* user unlock BRAND IDENTIFIER */

int
ctl_user_unlock(ctl_t *ctl, int argc, char **argv)
{
    return ctl_user_set_status(ctl, argc, argv, "user unlock",
                               ctl_unlock_usage, 0);
}


static int
ctl_user_set_status(ctl_t *ctl, int argc, char **argv, const char *verb,
    const char *usage, int lock)
{
    int               rc;
    ctl_args_t        args;
    ctl_user_t        u;
    ctl_status_job_t  job;

    ctl_args_init(&args, argc, argv, verb);

    rc = ctl_user_target(ctl, &args, usage, 0, &u);
    if (rc != CTL_OK || u.brand == NULL) {
        return rc;
    }

    job.user = &u;
    job.status = lock ? "locked" : "active";
    job.revoke = lock;
    job.revoked = 0;

    rc = ctl_txn_retry(ctl, ctl_status_attempt, &job);
    if (rc != CTL_OK) {
        return rc;
    }

    if (lock) {
        printf("locked account %s user %s, revoked %lld session(s)\n",
               u.account, u.user, job.revoked);

    } else {
        printf("unlocked account %s user %s\n", u.account, u.user);
    }

    return CTL_OK;
}


static int
ctl_status_attempt(ctl_t *ctl, void *data)
{
    ctl_status_job_t  *job = data;

    int          rc, ndel, aborted, queued;
    redisReply  *members, *exec;

    rc = ctl_user_watch(ctl, job->user);
    if (rc != CTL_OK) {
        return rc;
    }

    members = NULL;
    ndel = 0;

    if (job->revoke) {
        members = ctl_sessions_members(ctl, job->user);
        if (members == NULL) {
            return CTL_FAIL;
        }
    }

    rc = ctl_redis_do(ctl, CTL_R_STATUS, "MULTI", NULL);

    queued = 1;

    if (rc == CTL_OK) {
        rc = ctl_redis_do(ctl, CTL_R_STATUS, "HSET", job->user->key,
                          "status", job->status, NULL);
    }

    if (rc == CTL_OK) {
        rc = ctl_queue_fresh_start(ctl, job->user, &queued);
    }

    if (rc == CTL_OK && members) {
        rc = ctl_sessions_queue_revoke(ctl, job->user, members, 1, &ndel);
    }

    if (members) {
        freeReplyObject(members);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    exec = ctl_txn_exec(ctl, &aborted);
    if (exec == NULL) {
        return aborted ? CTL_RETRY : CTL_FAIL;
    }

    job->revoked = ctl_sessions_revoked(exec, queued, ndel);
    freeReplyObject(exec);

    return CTL_OK;
}


/* user show BRAND IDENTIFIER */

int
ctl_user_show(ctl_t *ctl, int argc, char **argv)
{
    int          rc;
    char         key[CA_KEY_MAX];
    ctl_args_t   args;
    ctl_user_t   u;
    redisReply  *user, *account;

    ctl_args_init(&args, argc, argv, "user show");

    rc = ctl_user_target(ctl, &args, ctl_show_usage, 0, &u);
    if (rc != CTL_OK || u.brand == NULL) {
        return rc;
    }

    if (ca_key_account(key, sizeof(key), u.brand, u.account) < 0) {
        return ctl_error("redis key too long for account %s", u.account);
    }

    user = ctl_redis_call(ctl, CTL_R_ARRAY, "HGETALL", u.key, NULL);
    if (user == NULL) {
        return CTL_FAIL;
    }

    account = ctl_redis_call(ctl, CTL_R_ARRAY, "HGETALL", key, NULL);
    if (account == NULL) {
        freeReplyObject(user);
        return CTL_FAIL;
    }

    rc = ctl_show_print(ctl, &u, user, account);

    freeReplyObject(user);
    freeReplyObject(account);

    return rc;
}


static int
ctl_show_print(ctl_t *ctl, const ctl_user_t *u, const redisReply *user,
    const redisReply *account)
{
    long long          live;
    const char        *scheme;
    ca_id_kind_e       kind;
    const redisReply  *role, *hash;
    char               why[160];

    if (user->elements == 0) {
        return ctl_error("no such user: account %s user %s (the identifier"
                         " index names a user that is gone)",
                         u->account, u->user);
    }

    if (ctl_sessions_live(ctl, u, &live) != CTL_OK) {
        return CTL_FAIL;
    }

    printf("account: %s\nuser: %s\n", u->account, u->user);

    role = ctl_hash_get(user, "role");
    ctl_show_field("role", role);
    ctl_show_field("owner", ctl_hash_get(account, "owner"));
    ctl_show_field("email", ctl_hash_get(user, "email"));

    /* the account's other identifiers lead to its owner, not a sub-user */
    if (role && strcmp(role->str, "owner") == 0) {
        for (kind = CA_ID_CUSTOMER_NUMBER; kind <= CA_ID_DOMAIN; kind <<= 1) {
            ctl_show_field(ca_ident_kind_name(kind),
                           ctl_hash_get(account, ca_ident_kind_name(kind)));
        }
    }

    ctl_show_field("perms", ctl_hash_get(user, "perms"));
    ctl_show_field("status", ctl_hash_get(user, "status"));
    ctl_show_field("locale", ctl_hash_get(user, "locale"));
    ctl_show_time("created", ctl_hash_get(user, "created"));

    hash = ctl_hash_get(user, "hash");
    scheme = hash && hash->len ? ca_pwhash_scheme(hash->str) : "none";

    /* what makes every login fail, without printing the hash */
    if (scheme && hash && hash->len
        && ca_pwhash_check(hash->str, &ctl->cost, why, sizeof(why)) != 0)
    {
        printf("password: %s, unusable: %s\n", scheme, why);

    } else {
        printf("password: %s\n", scheme ? scheme : "unknown scheme");
    }

    ctl_show_time("password_changed", ctl_hash_get(user, "pwchanged"));

    printf("sessions: %lld\n", live);

    return ctl_show_email_change(ctl, u);
}


/*
 * Self-service: the user's pending e-mail change, as the gateway keeps it
 * (ngx_http_clientauth_email.c); the gateway applies one that is due when
 * the user next touches it.
 */

static int
ctl_show_email_change(ctl_t *ctl, const ctl_user_t *u)
{
    time_t             t;
    struct tm          tm;
    redisReply        *change;
    const redisReply  *email, *confirmed, *verified, *due;
    char               key[CA_KEY_MAX], buf[32];

    if (ca_key_user_email_change(key, sizeof(key), u->brand, u->account,
                                 u->user)
        < 0)
    {
        return ctl_error("redis key too long for account %s", u->account);
    }

    change = ctl_redis_call(ctl, CTL_R_ARRAY, "HGETALL", key, NULL);
    if (change == NULL) {
        return CTL_FAIL;
    }

    email = ctl_hash_get(change, "email");

    if (email) {
        confirmed = ctl_hash_get(change, "confirmed");
        verified = ctl_hash_get(change, "verified");
        due = ctl_hash_get(change, "due");

        printf("email_change: %s (code confirmed: %s, new address "
               "verified: %s)\n", email->str,
               confirmed && strcmp(confirmed->str, "1") == 0 ? "yes" : "no",
               verified && verified->len ? "yes" : "no");

        if (due) {
            t = (time_t) (strtoll(due->str, NULL, 10) / 1000);

            if (gmtime_r(&t, &tm) != NULL
                && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
            {
                printf("email_change_due: %s\n", buf);
            }
        }
    }

    freeReplyObject(change);

    return CTL_OK;
}


/* A field of an HGETALL reply (name, value, name, value, ...), or NULL. */

static const redisReply *
ctl_hash_get(const redisReply *hash, const char *field)
{
    size_t             i;
    const redisReply  *name, *value;

    for (i = 0; i + 1 < hash->elements; i += 2) {
        name = hash->element[i];
        value = hash->element[i + 1];

        if (name->type == REDIS_REPLY_STRING
            && value->type == REDIS_REPLY_STRING
            && strcmp(name->str, field) == 0)
        {
            return value;
        }
    }

    return NULL;
}


/* A value from Redis, on one line whatever it holds. */

static void
ctl_show_field(const char *name, const redisReply *value)
{
    if (value == NULL) {
        return;
    }

    printf("%s: ", name);
    ctl_print_safe(value->str, value->len);
    putchar('\n');
}


/* Unix seconds as ISO 8601 UTC. */

static void
ctl_show_time(const char *name, const redisReply *value)
{
    char       buf[32], *end;
    time_t     t;
    struct tm  tm;

    if (value == NULL) {
        return;
    }

    t = (time_t) strtoll(value->str, &end, 10);

    if (value->len == 0 || *end != '\0' || gmtime_r(&t, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        ctl_show_field(name, value);
        return;
    }

    printf("%s: %s\n", name, buf);
}
