/*
 * Finding a user: an identifier of any kind, canonicalised as the module
 * does at login, names "<account>:<user>" in the brand's identifier index.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"


static int ctl_user_ref(ctl_t *ctl, const char *brand, const char *key,
    const char *identifier, ctl_user_t *u);
static int ctl_user_keys(ctl_user_t *u, const char *brand,
    const char *account, const char *user);


/* Parses "BRAND IDENTIFIER", connects and finds the user. */

int
ctl_user_target(ctl_t *ctl, ctl_args_t *args, const char *usage,
    int with_password, ctl_user_t *u)
{
    int           rc;
    ctl_target_t  target;

    rc = ctl_args_target(ctl, args, usage, with_password, &target);
    if (rc != CTL_OK || target.brand == NULL) {
        u->brand = NULL;
        return rc;
    }

    if (with_password && !target.password_stdin) {
        return ctl_usage_error(args->usage_of, "missing --password-stdin");
    }

    rc = ctl_redis_connect(ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    return ctl_user_find(ctl, target.brand, target.identifier,
                         target.phone_country, u);
}


int
ctl_user_find(ctl_t *ctl, const char *brand, const char *identifier,
    const char *phone_country, ctl_user_t *u)
{
    int   rc;
    char  key[CA_KEY_MAX];

    rc = ctl_ident_key(brand, identifier, phone_country, key);
    if (rc != CTL_OK) {
        return rc;
    }

    return ctl_user_ref(ctl, brand, key, identifier, u);
}


/* The index key of an identifier of any kind. */

int
ctl_ident_key(const char *brand, const char *identifier,
    const char *phone_country, char key[CA_KEY_MAX])
{
    char             canonical[CA_IDENT_MAX];
    ca_id_kind_e     kind;
    ca_ident_opts_t  opts;

    opts.accepted = CA_ID_ALL;
    opts.phone_country = phone_country;

    kind = ca_ident_normalise(&opts, identifier, strlen(identifier),
                              canonical);
    if (kind == CA_ID_NONE) {
        ctl_error("not a valid identifier: %s", identifier);
        return CTL_USAGE;
    }

    if (ca_key_ident(key, CA_KEY_MAX, brand, ca_ident_kind_name(kind),
                     canonical)
        < 0)
    {
        ctl_error("identifier too long: %s", identifier);
        return CTL_USAGE;
    }

    return CTL_OK;
}


static int
ctl_user_ref(ctl_t *ctl, const char *brand, const char *key,
    const char *identifier, ctl_user_t *u)
{
    int          rc;
    char         account[CTL_ID_LEN], user[CTL_ID_LEN];
    redisReply  *reply;

    reply = ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "GET", key, NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        freeReplyObject(reply);
        return ctl_error("no such account: %s", identifier);
    }

    rc = ca_id_ref_parse(reply->str, reply->len, account, user);
    freeReplyObject(reply);

    if (rc != 0) {
        return ctl_error("corrupt identifier index entry %s", key);
    }

    return ctl_user_keys(u, brand, account, user);
}


static int
ctl_user_keys(ctl_user_t *u, const char *brand, const char *account,
    const char *user)
{
    u->brand = brand;

    if (strlen(account) >= sizeof(u->account)
        || strlen(user) >= sizeof(u->user))
    {
        return ctl_error("invalid account or user id");
    }

    strcpy(u->account, account);
    strcpy(u->user, user);

    if (ca_key_user(u->key, sizeof(u->key), brand, account, user) < 0
        || ca_key_user_sessions(u->sessions_key, sizeof(u->sessions_key),
                                brand, account, user) < 0
        || ca_key_user_history(u->history_key, sizeof(u->history_key),
                               brand, account, user) < 0)
    {
        return ctl_error("redis key too long for account %s user %s",
                         account, user);
    }

    return CTL_OK;
}


/*
 * Starts a transaction on a user: WATCHes its hash and its session set
 * (changed by logins), then checks that the user still exists, so that the
 * writes that follow never create a partial user hash.
 */

int
ctl_user_watch(ctl_t *ctl, const ctl_user_t *u)
{
    int  exists;

    if (ctl_redis_do(ctl, CTL_R_STATUS, "WATCH", u->key, u->sessions_key,
                     NULL)
        != CTL_OK)
    {
        return CTL_FAIL;
    }

    if (ctl_redis_exists(ctl, u->key, &exists) != CTL_OK) {
        return CTL_FAIL;
    }

    if (!exists) {
        return ctl_error("no such user: account %s user %s (the identifier"
                         " index names a user that is gone)",
                         u->account, u->user);
    }

    return CTL_OK;
}


void
ctl_time_now(char buf[CTL_TIME_LEN])
{
    snprintf(buf, CTL_TIME_LEN, "%lld", (long long) time(NULL));
}
