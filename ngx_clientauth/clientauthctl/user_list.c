/*
 * user list: the users of the account an identifier belongs to, one line
 * each, by user id (the owner, created first, usually leads).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"


#define CTL_LIST_FIELDS  4            /* role email perms status */


static redisReply *ctl_list_members(ctl_t *ctl, const ctl_user_t *u);
static int ctl_list_cmp(const void *a, const void *b);
static int ctl_list_user(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *id);
static void ctl_list_print(const redisReply *id, const redisReply *fields);


static const char  ctl_list_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_LIST
    "\n"
    "Lists the users of the account of IDENTIFIER (the owner's or any\n"
    "sub-user's), one a line, by id:\n"
    "\n"
    "  USER ROLE EMAIL PERMS STATUS\n"
    "\n"
    "ROLE is owner or subuser, PERMS \"all\" or a comma-separated list,\n"
    "STATUS active or locked; \"-\" stands for a field the user lacks, and a\n"
    "user the account names but that is gone shows as \"ID - - - missing\".\n"
    "\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* user list BRAND IDENTIFIER */

int
ctl_user_list(ctl_t *ctl, int argc, char **argv)
{
    int          rc;
    size_t       i;
    ctl_args_t   args;
    ctl_user_t   u;
    redisReply  *members;

    ctl_args_init(&args, argc, argv, "user list");

    rc = ctl_user_target(ctl, &args, ctl_list_usage, 0, &u);
    if (rc != CTL_OK || u.brand == NULL) {
        return rc;
    }

    members = ctl_list_members(ctl, &u);
    if (members == NULL) {
        return CTL_FAIL;
    }

    for (i = 0; i < members->elements && rc == CTL_OK; i++) {
        rc = ctl_list_user(ctl, &u, members->element[i]);
    }

    freeReplyObject(members);

    return rc;
}


/* The account's user ids, sorted as numbers. */

static redisReply *
ctl_list_members(ctl_t *ctl, const ctl_user_t *u)
{
    char         key[CA_KEY_MAX];
    size_t       i;
    redisReply  *reply, *id;

    if (ca_key_account_users(key, sizeof(key), u->brand, u->account) < 0) {
        ctl_error("redis key too long for account %s", u->account);
        return NULL;
    }

    reply = ctl_redis_call(ctl, CTL_R_ARRAY, "SMEMBERS", key, NULL);
    if (reply == NULL) {
        return NULL;
    }

    for (i = 0; i < reply->elements; i++) {
        id = reply->element[i];

        if (id->type != REDIS_REPLY_STRING
            || !ca_id_is_valid(id->str, id->len))
        {
            ctl_error("corrupt user set %s", key);
            freeReplyObject(reply);
            return NULL;
        }
    }

    if (reply->elements == 0) {
        ctl_error("account %s has no users (%s is empty)", u->account, key);
        freeReplyObject(reply);
        return NULL;
    }

    qsort(reply->element, reply->elements, sizeof(redisReply *),
          ctl_list_cmp);

    return reply;
}


/* Decimal ids without leading zeros: the shorter is the smaller. */

static int
ctl_list_cmp(const void *a, const void *b)
{
    const redisReply  *x = *(const redisReply *const *) a;
    const redisReply  *y = *(const redisReply *const *) b;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }

    return strcmp(x->str, y->str);
}


static int
ctl_list_user(ctl_t *ctl, const ctl_user_t *u, const redisReply *id)
{
    size_t       i;
    char         key[CA_KEY_MAX];
    redisReply  *reply;

    if (ca_key_user(key, sizeof(key), u->brand, u->account, id->str) < 0) {
        return ctl_error("redis key too long for user %s", id->str);
    }

    reply = ctl_redis_call(ctl, CTL_R_ARRAY, "HMGET", key, "role", "email",
                           "perms", "status", NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING
            && reply->element[i]->type != REDIS_REPLY_NIL)
        {
            break;
        }
    }

    if (reply->elements != CTL_LIST_FIELDS || i < reply->elements) {
        freeReplyObject(reply);
        return ctl_error("redis %s: HMGET: unexpected reply", ctl->address);
    }

    ctl_list_print(id, reply);
    freeReplyObject(reply);

    return CTL_OK;
}


/* Every field nil: there is no user hash. */

static void
ctl_list_print(const redisReply *id, const redisReply *fields)
{
    size_t             i, nil;
    const redisReply  *f;

    for (nil = 0, i = 0; i < CTL_LIST_FIELDS; i++) {
        nil += (fields->element[i]->type == REDIS_REPLY_NIL);
    }

    if (nil == CTL_LIST_FIELDS) {
        printf("%s - - - missing\n", id->str);
        return;
    }

    fputs(id->str, stdout);

    for (i = 0; i < CTL_LIST_FIELDS; i++) {
        f = fields->element[i];
        putchar(' ');

        if (f->type == REDIS_REPLY_STRING && f->len > 0) {
            ctl_print_safe(f->str, f->len);

        } else {
            putchar('-');
        }
    }

    putchar('\n');
}
