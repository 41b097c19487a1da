/*
 * invite list | cancel: the sub-user invitations an account has pending.
 *
 * The gateway keeps each invitation under the hash of its token
 * (ca:<brand>:invite:<hash>, with the invitation's lifetime as TTL) and the
 * account names its pending ones (ca:{<brand>:<account>}:invites, e-mail ->
 * token hash).  An invitation's id is the start of its token hash: enough
 * to name it, useless to accept it.  Cancelling deletes the invitation and
 * the account's entry for it in one transaction, so its link answers 410.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ca_token.h"


#define CTL_INVITE_ID_LEN    16       /* hex digits of the token hash */
#define CTL_INVITE_FIELDS    5        /* account email perms inviter expires */


typedef struct {
    const char  *brand;
    char         key[CA_KEY_MAX];             /* the invitation */
    const char  *hash;                        /* its token hash */
    char         account[CTL_ID_LEN];
    char         email[CA_IDENT_MAX];
    int          cancelled;
} ctl_invite_job_t;


static int ctl_invite_list_one(ctl_t *ctl, const char *brand,
    const redisReply *email, const redisReply *hash);
static void ctl_invite_print_time(const redisReply *value);
static int ctl_invite_scan(ctl_t *ctl, const char *brand, const char *match,
    const char *email, int *found);
static int ctl_invite_cancel_key(ctl_t *ctl, const char *brand,
    const char *key, int *found);
static int ctl_invite_cancel_attempt(ctl_t *ctl, void *data);
static int ctl_invite_id_is_valid(const char *id);


static const char  ctl_invite_list_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_INVITE_LIST
    "\n"
    "Lists the pending sub-user invitations of the account of IDENTIFIER,\n"
    "one a line:\n"
    "\n"
    "  ID EMAIL PERMS INVITER EXPIRES\n"
    "\n"
    "ID names the invitation for 'invite cancel', INVITER is the user id\n"
    "that sent it, EXPIRES is UTC.  Invitations accepted, cancelled or\n"
    "expired are not listed.\n"
    "\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";

static const char  ctl_invite_cancel_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_INVITE_CANCEL
    "\n"
    "Cancels a pending sub-user invitation, named by the ID that 'invite\n"
    "list' shows, or every pending invitation of the brand to an e-mail\n"
    "address: its link stops working at once.  Prints each one cancelled.\n"
    "Finding them scans the brand's keys (SCAN), as support tools may.\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* invite list BRAND IDENTIFIER */

int
ctl_invite_list(ctl_t *ctl, int argc, char **argv)
{
    int          rc;
    size_t       i;
    char         key[CA_KEY_MAX];
    ctl_args_t   args;
    ctl_user_t   u;
    redisReply  *pending;

    ctl_args_init(&args, argc, argv, "invite list");

    rc = ctl_user_target(ctl, &args, ctl_invite_list_usage, 0, &u);
    if (rc != CTL_OK || u.brand == NULL) {
        return rc;
    }

    if (ca_key_account_invites(key, sizeof(key), u.brand, u.account) < 0) {
        return ctl_error("redis key too long for account %s", u.account);
    }

    pending = ctl_redis_call(ctl, CTL_R_ARRAY, "HGETALL", key, NULL);
    if (pending == NULL) {
        return CTL_FAIL;
    }

    for (i = 0; i + 1 < pending->elements && rc == CTL_OK; i += 2) {
        rc = ctl_invite_list_one(ctl, u.brand, pending->element[i],
                                 pending->element[i + 1]);
    }

    freeReplyObject(pending);

    return rc;
}


static int
ctl_invite_list_one(ctl_t *ctl, const char *brand, const redisReply *email,
    const redisReply *hash)
{
    size_t       i;
    char         key[CA_KEY_MAX];
    redisReply  *f;

    if (email->type != REDIS_REPLY_STRING || hash->type != REDIS_REPLY_STRING
        || hash->len != CA_TOKEN_HASH_LEN
        || ca_key_invite(key, sizeof(key), brand, hash->str) < 0)
    {
        /* not what the gateway writes: nothing to show */
        return CTL_OK;
    }

    f = ctl_redis_call(ctl, CTL_R_ARRAY, "HMGET", key, "account", "email",
                       "perms", "inviter", "expires", NULL);
    if (f == NULL) {
        return CTL_FAIL;
    }

    if (f->elements != CTL_INVITE_FIELDS
        || f->element[1]->type != REDIS_REPLY_STRING)
    {
        /* expired: the key is gone, the account's entry is stale */
        freeReplyObject(f);
        return CTL_OK;
    }

    printf("%.*s ", CTL_INVITE_ID_LEN, hash->str);
    ctl_print_safe(f->element[1]->str, f->element[1]->len);

    for (i = 2; i < 4; i++) {
        putchar(' ');

        if (f->element[i]->type == REDIS_REPLY_STRING
            && f->element[i]->len > 0)
        {
            ctl_print_safe(f->element[i]->str, f->element[i]->len);

        } else {
            putchar('-');
        }
    }

    putchar(' ');
    ctl_invite_print_time(f->element[4]);
    putchar('\n');

    freeReplyObject(f);

    return CTL_OK;
}


static void
ctl_invite_print_time(const redisReply *value)
{
    char       buf[32], *end;
    time_t     t;
    struct tm  tm;

    if (value->type != REDIS_REPLY_STRING || value->len == 0) {
        putchar('-');
        return;
    }

    t = (time_t) strtoll(value->str, &end, 10);

    if (*end != '\0' || gmtime_r(&t, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        ctl_print_safe(value->str, value->len);
        return;
    }

    fputs(buf, stdout);
}


/* invite cancel BRAND ID | EMAIL */

int
ctl_invite_cancel(ctl_t *ctl, int argc, char **argv)
{
    int           rc, found;
    char          match[CA_KEY_MAX], email[CA_IDENT_MAX];
    ctl_args_t    args;
    ctl_target_t  target;

    ctl_args_init(&args, argc, argv, "invite cancel");
    args.operand = "ID-or-EMAIL";

    rc = ctl_args_target(ctl, &args, ctl_invite_cancel_usage, 0, &target);
    if (rc != CTL_OK || target.brand == NULL) {
        return rc;
    }

    if (strchr(target.identifier, '@') != NULL) {
        if (ca_ident_normalise_kind(CA_ID_EMAIL, NULL, target.identifier,
                                    strlen(target.identifier), email)
            != CA_ID_EMAIL)
        {
            return ctl_usage_error(args.usage_of, "invalid e-mail address:"
                                   " %s", target.identifier);
        }

        /* every account's pending invitations: ca:{<brand>:*}:invites */
        snprintf(match, sizeof(match), "ca:{%s:*}:invites", target.brand);

    } else if (ctl_invite_id_is_valid(target.identifier)) {
        email[0] = '\0';
        snprintf(match, sizeof(match), "ca:%s:invite:%s*", target.brand,
                 target.identifier);

    } else {
        return ctl_usage_error(args.usage_of, "not an invitation id (%d hex"
                               " digits) nor an e-mail address: %s",
                               CTL_INVITE_ID_LEN, target.identifier);
    }

    rc = ctl_redis_connect(ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    found = 0;

    rc = ctl_invite_scan(ctl, target.brand, match, email[0] ? email : NULL,
                         &found);
    if (rc != CTL_OK) {
        return rc;
    }

    if (found == 0) {
        return ctl_error("no pending invitation of brand %s matches %s",
                         target.brand, target.identifier);
    }

    return CTL_OK;
}


/* 16 to 64 lower-case hex digits: an id, or a whole token hash. */

static int
ctl_invite_id_is_valid(const char *id)
{
    size_t  i, len;

    len = strlen(id);

    if (len < CTL_INVITE_ID_LEN || len > CA_TOKEN_HASH_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((id[i] >= '0' && id[i] <= '9')
              || (id[i] >= 'a' && id[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * SCANs for match: invitation keys (an id), or the accounts' invitation
 * hashes whose entry for email names one.
 */

static int
ctl_invite_scan(ctl_t *ctl, const char *brand, const char *match,
    const char *email, int *found)
{
    int          rc;
    size_t       i;
    char         cursor[32], key[CA_KEY_MAX];
    redisReply  *reply, *keys, *hash;

    strcpy(cursor, "0");
    rc = CTL_OK;

    do {
        reply = ctl_redis_call(ctl, CTL_R_ARRAY, "SCAN", cursor, "MATCH",
                               match, "COUNT", "1000", NULL);
        if (reply == NULL) {
            return CTL_FAIL;
        }

        if (reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[0]->len >= sizeof(cursor)
            || reply->element[1]->type != REDIS_REPLY_ARRAY)
        {
            freeReplyObject(reply);
            return ctl_error("redis %s: SCAN: unexpected reply",
                             ctl->address);
        }

        memcpy(cursor, reply->element[0]->str, reply->element[0]->len + 1);
        keys = reply->element[1];

        for (i = 0; i < keys->elements && rc == CTL_OK; i++) {
            if (keys->element[i]->type != REDIS_REPLY_STRING) {
                continue;
            }

            if (email == NULL) {
                rc = ctl_invite_cancel_key(ctl, brand, keys->element[i]->str,
                                           found);
                continue;
            }

            hash = ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "HGET",
                                  keys->element[i]->str, email, NULL);
            if (hash == NULL) {
                rc = CTL_FAIL;
                break;
            }

            if (hash->type == REDIS_REPLY_STRING
                && hash->len == CA_TOKEN_HASH_LEN
                && ca_key_invite(key, sizeof(key), brand, hash->str) >= 0)
            {
                rc = ctl_invite_cancel_key(ctl, brand, key, found);
            }

            freeReplyObject(hash);
        }

        freeReplyObject(reply);

    } while (rc == CTL_OK && strcmp(cursor, "0") != 0);

    return rc;
}


static int
ctl_invite_cancel_key(ctl_t *ctl, const char *brand, const char *key,
    int *found)
{
    int               rc;
    size_t            prefix;
    ctl_invite_job_t  job;

    memset(&job, 0, sizeof(job));
    job.brand = brand;

    prefix = strlen("ca:") + strlen(brand) + strlen(":invite:");

    if (strlen(key) != prefix + CA_TOKEN_HASH_LEN
        || strlen(key) >= sizeof(job.key))
    {
        return CTL_OK;
    }

    strcpy(job.key, key);
    job.hash = job.key + prefix;

    rc = ctl_txn_retry(ctl, ctl_invite_cancel_attempt, &job);

    if (rc == CTL_OK && job.cancelled) {
        (*found)++;
        printf("cancelled invitation %.*s to %s (account %s)\n",
               CTL_INVITE_ID_LEN, job.hash, job.email, job.account);
    }

    return rc;
}


/*
 * WATCHes the invitation and its account's hash of pending ones, then
 * deletes the invitation and, if it still names this one, the account's
 * entry.  One already gone (accepted, expired) is not counted.
 */

static int
ctl_invite_cancel_attempt(ctl_t *ctl, void *data)
{
    ctl_invite_job_t  *job = data;

    int          rc, named;
    char         invites[CA_KEY_MAX];
    redisReply  *f, *hash;

    job->cancelled = 0;

    if (ctl_redis_do(ctl, CTL_R_STATUS, "WATCH", job->key, NULL) != CTL_OK) {
        return CTL_FAIL;
    }

    f = ctl_redis_call(ctl, CTL_R_ARRAY, "HMGET", job->key, "account",
                       "email", NULL);
    if (f == NULL) {
        return CTL_FAIL;
    }

    if (f->elements != 2
        || f->element[0]->type != REDIS_REPLY_STRING
        || f->element[1]->type != REDIS_REPLY_STRING
        || !ca_id_is_valid(f->element[0]->str, f->element[0]->len)
        || f->element[1]->len >= sizeof(job->email))
    {
        freeReplyObject(f);
        ctl_txn_abandon(ctl);
        return CTL_OK;
    }

    memcpy(job->account, f->element[0]->str, f->element[0]->len + 1);
    memcpy(job->email, f->element[1]->str, f->element[1]->len + 1);
    freeReplyObject(f);

    if (ca_key_account_invites(invites, sizeof(invites), job->brand,
                               job->account) < 0)
    {
        return ctl_error("redis key too long for account %s", job->account);
    }

    if (ctl_redis_do(ctl, CTL_R_STATUS, "WATCH", invites, NULL) != CTL_OK) {
        return CTL_FAIL;
    }

    hash = ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "HGET", invites,
                          job->email, NULL);
    if (hash == NULL) {
        return CTL_FAIL;
    }

    named = (hash->type == REDIS_REPLY_STRING
             && strcmp(hash->str, job->hash) == 0);
    freeReplyObject(hash);

    if (ctl_redis_do(ctl, CTL_R_STATUS, "MULTI", NULL) != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "DEL", job->key, NULL) != CTL_OK
        || (named
            && ctl_redis_do(ctl, CTL_R_STATUS, "HDEL", invites, job->email,
                            NULL)
               != CTL_OK))
    {
        return CTL_FAIL;
    }

    rc = ctl_txn_commit(ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    job->cancelled = 1;

    return CTL_OK;
}
