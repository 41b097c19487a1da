/*
 * Sessions: the module keeps each at ca:{<brand>:<account>}:sess:<token
 * hash>, in the account's slot, and adds
 * the hash to the user's session set, so revoking a user's sessions is
 * deleting the keys the set names and then the set, and changing what they
 * grant is writing the keys of the set that still exist.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ca_token.h"


/* "ca:{<brand>:<account>}:sess:<64 hex>" */
#define CTL_SESSION_KEY_MAX  (sizeof("ca:{:}:sess:") + CA_BRAND_MAX + 20      \
                              + CA_TOKEN_HASH_LEN)


typedef struct {
    ctl_user_t  *user;
    long long    revoked;
} ctl_revoke_job_t;


static int ctl_session_member_is_valid(const redisReply *member);
static int ctl_session_keys(const ctl_user_t *u, const redisReply *members,
    ctl_cmd_t *cmd, char **keys);
static int ctl_sessions_revoke_attempt(ctl_t *ctl, void *data);
static int ctl_sessions_drop_gone(ctl_t *ctl, const redisReply *members,
    char *keys);


static const char  ctl_sessions_revoke_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_SESSIONS_REVOKE
    "\n"
    "Ends every session of the user at once (the next request of each is\n"
    "sent to the login page) and prints how many were live.\n"
    "\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* The session set's members: after a WATCH of it, inside a transaction. */

redisReply *
ctl_sessions_members(ctl_t *ctl, const ctl_user_t *u)
{
    size_t       i;
    redisReply  *reply;

    reply = ctl_redis_call(ctl, CTL_R_ARRAY, "SMEMBERS", u->sessions_key,
                           NULL);
    if (reply == NULL) {
        return NULL;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            ctl_error("redis %s: SMEMBERS: unexpected reply", ctl->address);
            freeReplyObject(reply);
            return NULL;
        }
    }

    return reply;
}


/*
 * Queues (after MULTI) "DEL <session keys>", when there are any, and
 * "DEL <session set>".  *ndel tells whether the first was queued: its
 * reply, the number of sessions that were still live, is the revoked count.
 */

int
ctl_sessions_queue_revoke(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *members, int bump, int *ndel)
{
    int         rc;
    char       *keys;
    ctl_cmd_t   cmd;

    *ndel = 0;

    ctl_cmd_init(&cmd, "DEL");

    rc = ctl_session_keys(u, members, &cmd, &keys);

    if (rc == CTL_OK && cmd.argc > 1) {
        rc = ctl_cmd_queue(ctl, &cmd);
        *ndel = (rc == CTL_OK);

    } else {
        ctl_cmd_free(&cmd);
    }

    free(keys);

    if (rc != CTL_OK) {
        return rc;
    }

    rc = ctl_redis_do(ctl, CTL_R_STATUS, "DEL", u->sessions_key, NULL);

    if (rc == CTL_OK && bump) {
        /*
         * A login in flight writes its session after this DEL: the new
         * session generation tells it to drop that session.
         */
        rc = ctl_redis_do(ctl, CTL_R_STATUS, "HINCRBY", u->key, "sgen", "1",
                          NULL);
    }

    return rc;
}


/*
 * Adds the session keys that members name to cmd, in *keys: a buffer to
 * free once cmd is sent, CTL_SESSION_KEY_MAX bytes a member.  Members that
 * are not token hashes (the module writes nothing else) name no session:
 * their key is "", and they go with the set.
 */

static int
ctl_session_keys(const ctl_user_t *u, const redisReply *members,
    ctl_cmd_t *cmd, char **keys)
{
    char    *key;
    size_t   i;

    *keys = NULL;

    if (members->elements == 0) {
        return CTL_OK;
    }

    *keys = malloc(members->elements * CTL_SESSION_KEY_MAX);
    if (*keys == NULL) {
        return ctl_error("out of memory");
    }

    for (i = 0; i < members->elements; i++) {
        key = *keys + i * CTL_SESSION_KEY_MAX;

        if (ctl_session_member_is_valid(members->element[i])
            && ca_key_session(key, CTL_SESSION_KEY_MAX, u->brand, u->account,
                              members->element[i]->str)
               > 0)
        {
            ctl_cmd_arg(cmd, key);

        } else {
            key[0] = '\0';
        }
    }

    return CTL_OK;
}


static int
ctl_session_member_is_valid(const redisReply *member)
{
    size_t  i;

    if (member->len != CA_TOKEN_HASH_LEN) {
        return 0;
    }

    for (i = 0; i < member->len; i++) {
        if (!((member->str[i] >= '0' && member->str[i] <= '9')
              || (member->str[i] >= 'a' && member->str[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * For a write to the user's live sessions: after ctl_user_watch() and the
 * set's members, WATCHes the session keys and leaves in *keys (as
 * ctl_session_keys() does; free it) those that still exist, "" for the
 * others.  A session that ends before EXEC (logout, expiry: Redis 6.0.9 and
 * later abort on an expired watched key) then aborts the transaction, so
 * that no write ever recreates a session key.
 */

int
ctl_sessions_watch_live(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *members, char **keys)
{
    int        rc;
    ctl_cmd_t  cmd;

    ctl_cmd_init(&cmd, "WATCH");

    rc = ctl_session_keys(u, members, &cmd, keys);

    if (rc != CTL_OK || cmd.argc == 1) {
        ctl_cmd_free(&cmd);
        return rc;
    }

    if (ctl_cmd_queue(ctl, &cmd) != CTL_OK) {
        return CTL_FAIL;
    }

    return ctl_sessions_drop_gone(ctl, members, *keys);
}


static int
ctl_sessions_drop_gone(ctl_t *ctl, const redisReply *members, char *keys)
{
    int      exists;
    char    *key;
    size_t   i;

    for (i = 0; i < members->elements; i++) {
        key = keys + i * CTL_SESSION_KEY_MAX;

        if (key[0] == '\0') {
            continue;
        }

        if (ctl_redis_exists(ctl, key, &exists) != CTL_OK) {
            return CTL_FAIL;
        }

        if (!exists) {
            key[0] = '\0';
        }
    }

    return CTL_OK;
}


/*
 * Queues (after MULTI) "HSET <session> <field> <value>" for each key that
 * ctl_sessions_watch_live() kept; *n is how many.
 */

int
ctl_sessions_queue_hset(ctl_t *ctl, const redisReply *members,
    const char *keys, const char *field, const char *value, long long *n)
{
    size_t       i;
    const char  *key;

    *n = 0;

    for (i = 0; keys && i < members->elements; i++) {
        key = keys + i * CTL_SESSION_KEY_MAX;

        if (key[0] == '\0') {
            continue;
        }

        if (ctl_redis_do(ctl, CTL_R_STATUS, "HSET", key, field, value, NULL)
            != CTL_OK)
        {
            return CTL_FAIL;
        }

        (*n)++;
    }

    return CTL_OK;
}


/* The number of sessions deleted, from the EXEC reply. */

long long
ctl_sessions_revoked(const redisReply *exec, int first, int ndel)
{
    const redisReply  *r;

    if (!ndel || (size_t) first >= exec->elements) {
        return 0;
    }

    r = exec->element[first];

    return r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
}


/* How many of the user's sessions are live: their keys still exist. */

int
ctl_sessions_live(ctl_t *ctl, const ctl_user_t *u, long long *live)
{
    int          rc;
    char        *keys;
    ctl_cmd_t    cmd;
    redisReply  *members, *reply;

    *live = 0;

    members = ctl_sessions_members(ctl, u);
    if (members == NULL) {
        return CTL_FAIL;
    }

    ctl_cmd_init(&cmd, "EXISTS");

    rc = ctl_session_keys(u, members, &cmd, &keys);

    if (rc == CTL_OK && cmd.argc > 1) {
        reply = ctl_cmd_call(ctl, &cmd, CTL_R_INTEGER);

        if (reply == NULL) {
            rc = CTL_FAIL;

        } else {
            *live = reply->integer;
            freeReplyObject(reply);
        }

    } else {
        ctl_cmd_free(&cmd);
    }

    free(keys);
    freeReplyObject(members);

    return rc;
}


/* sessions revoke BRAND IDENTIFIER */

int
ctl_sessions_revoke(ctl_t *ctl, int argc, char **argv)
{
    int               rc;
    ctl_args_t        args;
    ctl_user_t        u;
    ctl_target_t      target;
    ctl_revoke_job_t  job;

    ctl_args_init(&args, argc, argv, "sessions revoke");

    rc = ctl_args_target(ctl, &args, ctl_sessions_revoke_usage, 0, &target);
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

    job.user = &u;
    job.revoked = 0;

    rc = ctl_txn_retry(ctl, ctl_sessions_revoke_attempt, &job);
    if (rc != CTL_OK) {
        return rc;
    }

    printf("revoked %lld session(s)\n", job.revoked);

    return CTL_OK;
}


/*
 * Sessions of a user that is gone are revoked all the same: the session
 * set is watched, and the user hash only to bump its session generation
 * when it exists (never to create it).
 */

static int
ctl_sessions_revoke_attempt(ctl_t *ctl, void *data)
{
    ctl_revoke_job_t  *job = data;

    int          rc, ndel, aborted, exists;
    redisReply  *members, *exec, *reply;

    if (ctl_redis_do(ctl, CTL_R_STATUS, "WATCH", job->user->sessions_key,
                     job->user->key, NULL)
        != CTL_OK)
    {
        return CTL_FAIL;
    }

    reply = ctl_redis_call(ctl, CTL_R_INTEGER, "EXISTS", job->user->key,
                           NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    exists = (reply->integer == 1);
    freeReplyObject(reply);

    members = ctl_sessions_members(ctl, job->user);
    if (members == NULL) {
        return CTL_FAIL;
    }

    rc = ctl_redis_do(ctl, CTL_R_STATUS, "MULTI", NULL);

    if (rc == CTL_OK) {
        rc = ctl_sessions_queue_revoke(ctl, job->user, members, exists,
                                       &ndel);
    }

    freeReplyObject(members);

    if (rc != CTL_OK) {
        return rc;
    }

    exec = ctl_txn_exec(ctl, &aborted);
    if (exec == NULL) {
        return aborted ? CTL_RETRY : CTL_FAIL;
    }

    job->revoked = ctl_sessions_revoked(exec, 0, ndel);
    freeReplyObject(exec);

    return CTL_OK;
}
