/*
 * user add: a new account with its owner, or with --parent a sub-user of an
 * existing account.  Race-safe: the identifier index keys are WATCHed and
 * checked free, and everything is written in one MULTI/EXEC, retried when
 * someone else changed a watched key meanwhile.  Two concurrent adds of one
 * e-mail address cannot both succeed, and a failed add writes nothing
 * (except, possibly, a counter increment: ids may have gaps).
 *
 * user import adds each line of its file through the same ctl_add_check()
 * and ctl_add_commit(), with the CSV column names in its messages.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"


enum {
    CTL_OPT_EMAIL = CTL_OPT_VERB + CTL_ADD_EMAIL,   /* as the fields */
    CTL_OPT_CUSTOMER_NUMBER = CTL_OPT_VERB + CTL_ADD_CUSTOMER_NUMBER,
    CTL_OPT_NIC = CTL_OPT_VERB + CTL_ADD_NIC,
    CTL_OPT_PHONE = CTL_OPT_VERB + CTL_ADD_PHONE,
    CTL_OPT_DOMAIN = CTL_OPT_VERB + CTL_ADD_DOMAIN,
    CTL_OPT_PERM = CTL_OPT_VERB + CTL_ADD_PERMS,
    CTL_OPT_LOCALE = CTL_OPT_VERB + CTL_ADD_LOCALE,
    CTL_OPT_PARENT = CTL_OPT_VERB + CTL_ADD_PARENT
};


static int ctl_add_parse(ctl_t *ctl, ctl_args_t *args, ctl_add_t *add);
static int ctl_add_option(ctl_add_t *add, int id, const char *value);
static int ctl_add_invalid(const ctl_add_t *add, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int ctl_add_check_ids(ctl_add_t *add);
static int ctl_locale_is_valid(const char *locale);
static int ctl_add_parent(ctl_t *ctl, ctl_add_t *add);
static int ctl_add_attempt(ctl_t *ctl, void *data);
static int ctl_add_check_free(ctl_t *ctl, ctl_add_t *add);
static int ctl_add_allocate(ctl_t *ctl, ctl_add_t *add);
static int ctl_add_next_id(ctl_t *ctl, const char *brand, const char *name,
    char id[CTL_ID_LEN]);
static int ctl_add_check_new_keys(ctl_t *ctl, ctl_add_t *add);
static int ctl_add_check_unused(ctl_t *ctl, ctl_add_t *add, const char *key);
static int ctl_add_queue(ctl_t *ctl, ctl_add_t *add);
static int ctl_add_queue_account(ctl_t *ctl, ctl_add_t *add);
static int ctl_add_queue_user(ctl_t *ctl, ctl_add_t *add);


static const ctl_opt_t  ctl_add_opts[] = {
    { "email",           CTL_ARG_VALUE, CTL_OPT_EMAIL },
    { "customer-number", CTL_ARG_VALUE, CTL_OPT_CUSTOMER_NUMBER },
    { "nic",             CTL_ARG_VALUE, CTL_OPT_NIC },
    { "phone",           CTL_ARG_VALUE, CTL_OPT_PHONE },
    { "domain",          CTL_ARG_VALUE, CTL_OPT_DOMAIN },
    { "perm",            CTL_ARG_VALUE, CTL_OPT_PERM },
    { "locale",          CTL_ARG_VALUE, CTL_OPT_LOCALE },
    { "parent",          CTL_ARG_VALUE, CTL_OPT_PARENT },
    { "phone-country",   CTL_ARG_VALUE, CTL_OPT_PHONE_COUNTRY },
    { "password-stdin",  CTL_ARG_NONE,  CTL_OPT_PASSWORD_STDIN },
    { NULL, CTL_ARG_NONE, 0 }
};

/* The names of the fields in messages: options, or the CSV columns. */
static const char  *ctl_add_names[2][CTL_ADD_NFIELDS] = {
    { "--email", "--customer-number", "--nic", "--phone", "--domain",
      "--perm", "--locale", "--parent" },
    { "email", "customer_number", "nic", "phone", "domain",
      "perms", "locale", "parent" }
};

static const char  ctl_add_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_ADD
    "\n"
    "Creates an account and its owner or, with --parent, a sub-user of the\n"
    "account of IDENTIFIER, and prints \"account A user U\".  Every\n"
    "identifier given must be free in the brand.\n"
    "\n"
    "  --email E              the user's e-mail address (required)\n"
    "  --customer-number N    account identifiers: they log the owner in\n"
    "  --nic H\n"
    "  --phone P\n"
    "  --domain D\n"
    "  --perm P               a permission ([a-z0-9_]{1,32}, or \"all\");\n"
    "                         repeat it or give a comma-separated list;\n"
    "                         an owner gets \"all\" by default, a sub-user\n"
    "                         needs at least one\n"
    "  --locale L             language of the user's mail (default en)\n"
    "  --phone-country CC     country calling code for national phone\n"
    "                         numbers (--phone, --parent)\n"
    "  --parent IDENTIFIER    any identifier of the account to join\n"
    "  --password-stdin       read the password from standard input; without\n"
    "                         it the user has none and cannot log in until\n"
    "                         a password reset\n"
    "\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* user add BRAND ... */

int
ctl_user_add(ctl_t *ctl, int argc, char **argv)
{
    int         rc;
    ctl_args_t  args;
    ctl_add_t   add;

    ctl_add_init(&add, "user add");
    ctl_args_init(&args, argc, argv, add.usage_of);

    rc = ctl_add_parse(ctl, &args, &add);
    if (rc != CTL_OK || add.brand == NULL) {
        return rc;
    }

    rc = ctl_check_brand(add.usage_of, add.brand);
    if (rc != CTL_OK) {
        return rc;
    }

    if (add.phone_country) {
        rc = ctl_check_phone_country(add.usage_of, add.phone_country);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    rc = ctl_add_check(&add);
    if (rc != CTL_OK) {
        return rc;
    }

    if (add.password_stdin) {
        rc = ctl_password_read_hash(ctl, add.hash);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    rc = ctl_redis_connect(ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    rc = ctl_add_commit(ctl, &add);
    if (rc != CTL_OK) {
        return rc;
    }

    printf("account %s user %s\n", add.account, add.user);

    return CTL_OK;
}


/* usage_of: the verb of a command line, or NULL for a CSV line. */

void
ctl_add_init(ctl_add_t *add, const char *usage_of)
{
    static const ca_id_kind_e  kinds[CTL_ADD_NIDS] = {
        CA_ID_EMAIL, CA_ID_CUSTOMER_NUMBER, CA_ID_NIC, CA_ID_PHONE,
        CA_ID_DOMAIN
    };

    int  i;

    memset(add, 0, sizeof(*add));
    add->usage_of = usage_of;

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        add->ids[i].kind = kinds[i];
    }
}


/* "--email" for user add, "email" for a CSV line: field is CTL_ADD_*. */

const char *
ctl_add_name(const ctl_add_t *add, int field)
{
    return ctl_add_names[add->usage_of == NULL][field];
}


/* The CSV column of a field: "customer_number". */

const char *
ctl_add_column(int field)
{
    return ctl_add_names[1][field];
}


/* For --help, prints usage and returns CTL_OK with add->brand NULL. */

static int
ctl_add_parse(ctl_t *ctl, ctl_args_t *args, ctl_add_t *add)
{
    int          rc, id;
    const char  *value;

    for ( ;; ) {
        id = ctl_args_next(args, ctl_add_opts, &value);

        switch (id) {

        case CTL_OPT_END:
            if (add->brand == NULL) {
                return ctl_usage_error(add->usage_of, "missing BRAND");
            }

            return CTL_OK;

        case CTL_OPT_HELP:
            fputs(ctl_add_usage, stdout);
            add->brand = NULL;
            return CTL_OK;

        case CTL_OPT_ERROR:
            return CTL_USAGE;

        case CTL_OPT_POSITIONAL:
            if (add->brand) {
                /* not echoed: it may be a password */
                return ctl_usage_error(add->usage_of, "too many arguments");
            }

            add->brand = value;
            break;

        default:
            if (CTL_OPT_IS_GLOBAL(id)) {
                rc = ctl_global_option(ctl, args, id, value);

            } else {
                rc = ctl_add_option(add, id, value);
            }

            if (rc != CTL_OK) {
                return rc;
            }
        }
    }
}


static int
ctl_add_option(ctl_add_t *add, int id, const char *value)
{
    const char  **slot;

    switch (id) {

    case CTL_OPT_PASSWORD_STDIN:
        add->password_stdin = 1;
        return CTL_OK;

    case CTL_OPT_PERM:
        return ctl_perms_add(&add->perms, add->usage_of, value);

    case CTL_OPT_LOCALE:
        slot = &add->locale;
        break;

    case CTL_OPT_PARENT:
        slot = &add->parent;
        break;

    case CTL_OPT_PHONE_COUNTRY:
        slot = &add->phone_country;
        break;

    default:
        slot = &add->ids[id - CTL_OPT_EMAIL].given;
    }

    if (*slot) {
        return ctl_usage_error(add->usage_of, "%s given twice",
                               id == CTL_OPT_PHONE_COUNTRY
                               ? "--phone-country"
                               : ctl_add_name(add, id - CTL_OPT_VERB));
    }

    *slot = value;

    return CTL_OK;
}


/* A bad value: a usage error on the command line, a line's error in CSV. */

static int
ctl_add_invalid(const ctl_add_t *add, const char *fmt, ...)
{
    char     msg[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (add->usage_of) {
        return ctl_usage_error(add->usage_of, "%s", msg);
    }

    ctl_error("%s", msg);

    return CTL_USAGE;
}


/*
 * Checks what the add was told (the brand and the phone country were
 * checked by the verb) and works out the canonical identifiers, the
 * permission list and the defaults.
 */

int
ctl_add_check(ctl_add_t *add)
{
    int  i;

    if (add->ids[CTL_ADD_EMAIL].given == NULL) {
        return ctl_add_invalid(add, "missing %s",
                               ctl_add_name(add, CTL_ADD_EMAIL));
    }

    if (add->parent) {
        for (i = 1; i < CTL_ADD_NIDS; i++) {
            if (add->ids[i].given) {
                return ctl_add_invalid(add, "%s identifies an account: not"
                                       " with %s", ctl_add_name(add, i),
                                       ctl_add_name(add, CTL_ADD_PARENT));
            }
        }

        if (add->perms.n == 0) {
            return ctl_add_invalid(add, "a sub-user needs %s",
                                   ctl_add_name(add, CTL_ADD_PERMS));
        }
    }

    if (add->perms.n == 0) {
        (void) ctl_perms_parse(&add->perms, "all", ',');
    }

    ctl_perms_format(&add->perms, add->perms_text);

    if (add->locale == NULL) {
        add->locale = "en";

    } else if (!ctl_locale_is_valid(add->locale)) {
        return ctl_add_invalid(add, "invalid %s: %s (such as en, es, pt-BR)",
                               ctl_add_name(add, CTL_ADD_LOCALE),
                               add->locale);
    }

    ctl_time_now(add->now);

    return ctl_add_check_ids(add);
}


/* Canonical forms, as the module finds them at login, and their keys. */

static int
ctl_add_check_ids(ctl_add_t *add)
{
    int               i;
    ca_id_kind_e      kind;
    ctl_add_ident_t  *id;

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        id = &add->ids[i];

        if (id->given == NULL) {
            continue;
        }

        kind = ca_ident_normalise_kind(id->kind, add->phone_country,
                                       id->given, strlen(id->given),
                                       id->canonical);
        if (kind != id->kind) {
            return ctl_add_invalid(add, "invalid %s: %s",
                                   ctl_add_name(add, i), id->given);
        }

        if (ca_key_ident(id->key, sizeof(id->key), add->brand,
                         ca_ident_kind_name(id->kind), id->canonical)
            < 0)
        {
            return ctl_add_invalid(add, "%s too long",
                                   ctl_add_name(add, i));
        }
    }

    return CTL_OK;
}


/* "en", "pt-BR", "es_ES", "zh-Hant": a language and an optional region. */

static int
ctl_locale_is_valid(const char *locale)
{
    size_t  i, n;

    for (n = 0; locale[n] >= 'a' && locale[n] <= 'z'; n++) {
        /* void */
    }

    if (n < 2 || n > 3) {
        return 0;
    }

    if (locale[n] == '\0') {
        return 1;
    }

    if (locale[n] != '-' && locale[n] != '_') {
        return 0;
    }

    for (i = n + 1; locale[i]; i++) {
        if (!((locale[i] >= 'a' && locale[i] <= 'z')
              || (locale[i] >= 'A' && locale[i] <= 'Z')
              || (locale[i] >= '0' && locale[i] <= '9')))
        {
            return 0;
        }
    }

    return i - n - 1 >= 2 && i - n - 1 <= 8;
}


/* Writes the user (and its account), checked: after ctl_add_check(). */

int
ctl_add_commit(ctl_t *ctl, ctl_add_t *add)
{
    int  rc;

    if (add->parent) {
        rc = ctl_add_parent(ctl, add);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    return ctl_txn_retry(ctl, ctl_add_attempt, add);
}


/*
 * A dry run of ctl_add_commit(): the same checks against Redis, nothing
 * written.  With parent_pending, the parent is the user of an earlier line
 * of the same dry run: the caller knows it, Redis does not.
 */

int
ctl_add_verify(ctl_t *ctl, ctl_add_t *add)
{
    int  rc;

    if (add->parent && !add->parent_pending) {
        rc = ctl_add_parent(ctl, add);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    rc = ctl_add_check_free(ctl, add);

    ctl_txn_abandon(ctl);

    return rc;
}


/* --parent: any identifier of the account names it. */

static int
ctl_add_parent(ctl_t *ctl, ctl_add_t *add)
{
    int         rc;
    ctl_user_t  parent;

    rc = ctl_user_find(ctl, add->brand, add->parent, add->phone_country,
                       &parent);
    if (rc != CTL_OK) {
        return rc;
    }

    strcpy(add->account, parent.account);

    if (ca_key_account(add->account_key, sizeof(add->account_key),
                       add->brand, add->account) < 0
        || ca_key_account_users(add->users_key, sizeof(add->users_key),
                                add->brand, add->account) < 0)
    {
        return ctl_error("redis key too long for account %s", add->account);
    }

    return CTL_OK;
}


static int
ctl_add_attempt(ctl_t *ctl, void *data)
{
    ctl_add_t  *add = data;

    int  rc;

    rc = ctl_add_check_free(ctl, add);

    if (rc == CTL_OK && !add->allocated) {
        rc = ctl_add_allocate(ctl, add);
    }

    if (rc == CTL_OK) {
        rc = ctl_add_check_new_keys(ctl, add);
    }

    if (rc == CTL_OK) {
        rc = ctl_add_queue(ctl, add);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    return ctl_txn_commit(ctl);
}


/*
 * WATCHes the index keys of the identifiers given and checks that none is
 * taken; for a sub-user, that its account is still there.
 */

static int
ctl_add_check_free(ctl_t *ctl, ctl_add_t *add)
{
    int               i, exists;
    ctl_cmd_t         cmd;
    ctl_add_ident_t  *id;

    ctl_cmd_init(&cmd, "WATCH");

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        if (add->ids[i].given) {
            ctl_cmd_arg(&cmd, add->ids[i].key);
        }
    }

    if (add->parent && !add->parent_pending) {
        ctl_cmd_arg(&cmd, add->account_key);
    }

    if (ctl_cmd_queue(ctl, &cmd) != CTL_OK) {
        return CTL_FAIL;
    }

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        id = &add->ids[i];

        if (id->given == NULL) {
            continue;
        }

        if (ctl_redis_exists(ctl, id->key, &exists) != CTL_OK) {
            return CTL_FAIL;
        }

        if (exists) {
            return ctl_error("identifier already in use: %s %s",
                             ca_ident_kind_name(id->kind), id->canonical);
        }
    }

    if (add->parent && !add->parent_pending) {
        if (ctl_redis_exists(ctl, add->account_key, &exists) != CTL_OK) {
            return CTL_FAIL;
        }

        if (!exists) {
            return ctl_error("no such account: %s (the identifier index"
                             " names account %s that is gone)",
                             add->parent, add->account);
        }
    }

    return CTL_OK;
}


/*
 * New ids, taken once: a retry reuses them.  A counter is not WATCHed, so
 * INCR between WATCH and MULTI is safe.
 */

static int
ctl_add_allocate(ctl_t *ctl, ctl_add_t *add)
{
    if (add->parent == NULL) {
        if (ctl_add_next_id(ctl, add->brand, "account", add->account)
            != CTL_OK)
        {
            return CTL_FAIL;
        }

        if (ca_key_account(add->account_key, sizeof(add->account_key),
                           add->brand, add->account) < 0
            || ca_key_account_users(add->users_key, sizeof(add->users_key),
                                    add->brand, add->account) < 0)
        {
            return ctl_error("redis key too long for account %s",
                             add->account);
        }
    }

    if (ctl_add_next_id(ctl, add->brand, "user", add->user) != CTL_OK) {
        return CTL_FAIL;
    }

    if (ca_key_user(add->user_key, sizeof(add->user_key), add->brand,
                    add->account, add->user) < 0)
    {
        return ctl_error("redis key too long for user %s", add->user);
    }

    snprintf(add->ref, sizeof(add->ref), "%s:%s", add->account, add->user);
    add->allocated = 1;

    return CTL_OK;
}


static int
ctl_add_next_id(ctl_t *ctl, const char *brand, const char *name,
    char id[CTL_ID_LEN])
{
    char         key[CA_KEY_MAX];
    redisReply  *reply;

    if (ca_key_seq(key, sizeof(key), brand, name) < 0) {
        return ctl_error("redis key too long for the %s counter", name);
    }

    reply = ctl_redis_call(ctl, CTL_R_INTEGER, "INCR", key, NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    if (reply->integer < 1) {
        freeReplyObject(reply);
        return ctl_error("%s is not a valid id counter", key);
    }

    snprintf(id, CTL_ID_LEN, "%lld", reply->integer);
    freeReplyObject(reply);

    return CTL_OK;
}


/*
 * A fresh id names nothing yet, unless something wrote ids behind the
 * counters' back (an import, a restored dump): then refuse, never overwrite.
 */

static int
ctl_add_check_new_keys(ctl_t *ctl, ctl_add_t *add)
{
    if (add->parent == NULL
        && ctl_add_check_unused(ctl, add, add->account_key) != CTL_OK)
    {
        return CTL_FAIL;
    }

    return ctl_add_check_unused(ctl, add, add->user_key);
}


static int
ctl_add_check_unused(ctl_t *ctl, ctl_add_t *add, const char *key)
{
    int  exists;

    if (ctl_redis_do(ctl, CTL_R_STATUS, "WATCH", key, NULL) != CTL_OK
        || ctl_redis_exists(ctl, key, &exists) != CTL_OK)
    {
        return CTL_FAIL;
    }

    if (exists) {
        return ctl_error("%s already exists: the counters ca:%s:seq:* are"
                         " behind the data", key, add->brand);
    }

    return CTL_OK;
}


static int
ctl_add_queue(ctl_t *ctl, ctl_add_t *add)
{
    int        i;
    ctl_cmd_t  cmd;

    if (ctl_redis_do(ctl, CTL_R_STATUS, "MULTI", NULL) != CTL_OK) {
        return CTL_FAIL;
    }

    if (add->parent == NULL && ctl_add_queue_account(ctl, add) != CTL_OK) {
        return CTL_FAIL;
    }

    if (ctl_add_queue_user(ctl, add) != CTL_OK
        || ctl_redis_do(ctl, CTL_R_STATUS, "SADD", add->users_key,
                        add->user, NULL)
           != CTL_OK)
    {
        return CTL_FAIL;
    }

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        if (add->ids[i].given == NULL) {
            continue;
        }

        ctl_cmd_init(&cmd, "SET");
        ctl_cmd_arg(&cmd, add->ids[i].key);
        ctl_cmd_arg(&cmd, add->ref);

        if (ctl_cmd_queue(ctl, &cmd) != CTL_OK) {
            return CTL_FAIL;
        }
    }

    return CTL_OK;
}


static int
ctl_add_queue_account(ctl_t *ctl, ctl_add_t *add)
{
    int        i;
    ctl_cmd_t  cmd;

    ctl_cmd_init(&cmd, "HSET");
    ctl_cmd_arg(&cmd, add->account_key);
    ctl_cmd_field(&cmd, "owner", add->user);

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        if (add->ids[i].given) {
            ctl_cmd_field(&cmd, ca_ident_kind_name(add->ids[i].kind),
                          add->ids[i].canonical);
        }
    }

    ctl_cmd_field(&cmd, "created", add->now);

    return ctl_cmd_queue(ctl, &cmd);
}


static int
ctl_add_queue_user(ctl_t *ctl, ctl_add_t *add)
{
    ctl_cmd_t  cmd;

    ctl_cmd_init(&cmd, "HSET");
    ctl_cmd_arg(&cmd, add->user_key);
    ctl_cmd_field(&cmd, "email", add->ids[CTL_ADD_EMAIL].canonical);
    ctl_cmd_field(&cmd, "hash", add->hash);
    ctl_cmd_field(&cmd, "perms", add->perms_text);
    ctl_cmd_field(&cmd, "status", "active");
    ctl_cmd_field(&cmd, "locale", add->locale);
    ctl_cmd_field(&cmd, "role", add->parent ? "subuser" : "owner");
    ctl_cmd_field(&cmd, "created", add->now);
    ctl_cmd_field(&cmd, "account", add->account);

    if (add->hash[0]) {
        ctl_cmd_field(&cmd, "pwchanged", add->now);
    }

    return ctl_cmd_queue(ctl, &cmd);
}
