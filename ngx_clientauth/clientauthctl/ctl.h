/*
 * clientauthctl: provisions and operates ngx_clientauth accounts by talking
 * to Redis directly, through the key layout of ca_keys.h and the identifier
 * and password code of the module, so that both always agree.
 *
 * Conventions: functions return an exit status (CTL_OK, CTL_FAIL,
 * CTL_USAGE) or a pointer that is NULL on failure; whoever detects a failure
 * prints the one-line error (ctl_error, ctl_usage_error) and the callers
 * only pass it on.
 */

#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "ca_ident.h"
#include "ca_keys.h"
#include "ca_perms.h"
#include "ca_pwhash.h"


#define CTL_NAME             "clientauthctl"

#define CTL_OK               0
#define CTL_FAIL             1        /* runtime error, not found */
#define CTL_USAGE            2        /* bad command line */
#define CTL_RETRY            (-1)     /* a watched key changed: try again */

#define CTL_ID_LEN           21       /* 20 digits and the NUL */
#define CTL_TIME_LEN         24       /* decimal time_t and the NUL */
#define CTL_PASSWORD_MAX     1024
#define CTL_PERMS_MAX        1024     /* "billing,orders,..." and the NUL */
#define CTL_TXN_ATTEMPTS     8

#define CTL_DEFAULT_REDIS    "127.0.0.1:6379"
#define CTL_DEFAULT_OUTBOX   "clientauth:outbox"
#define CTL_DEFAULT_T        2        /* argon2id: OWASP's minimum, */
#define CTL_DEFAULT_M_MIB    19       /* as the module's default */

#define CTL_SYNOPSIS_USER_ADD                                                \
    "  " CTL_NAME " [OPTIONS] user add BRAND --email E"                      \
    " [--customer-number N]\n"                                               \
    "        [--nic H] [--phone P] [--domain D] [--perm P]... [--locale L]\n"\
    "        [--phone-country CC] [--password-stdin]\n"                      \
    "  " CTL_NAME " [OPTIONS] user add BRAND --parent IDENTIFIER --email E\n"\
    "        --perm P... [--locale L] [--phone-country CC]"                  \
    " [--password-stdin]\n"
#define CTL_SYNOPSIS_USER_PASSWD                                             \
    "  " CTL_NAME " [OPTIONS] user passwd BRAND IDENTIFIER --password-stdin\n"
#define CTL_SYNOPSIS_USER_SHOW                                               \
    "  " CTL_NAME " [OPTIONS] user show BRAND IDENTIFIER\n"
#define CTL_SYNOPSIS_USER_LOCK                                               \
    "  " CTL_NAME " [OPTIONS] user lock BRAND IDENTIFIER\n"
#define CTL_SYNOPSIS_USER_UNLOCK                                             \
    "  " CTL_NAME " [OPTIONS] user unlock BRAND IDENTIFIER\n"
#define CTL_SYNOPSIS_USER_IMPORT                                             \
    "  " CTL_NAME " [OPTIONS] user import BRAND FILE.csv [--dry-run]\n"      \
    "        [--phone-country CC]\n"
#define CTL_SYNOPSIS_USER_LIST                                               \
    "  " CTL_NAME " [OPTIONS] user list BRAND IDENTIFIER\n"
#define CTL_SYNOPSIS_USER_PERMS                                              \
    "  " CTL_NAME " [OPTIONS] user perms BRAND IDENTIFIER --perm P...\n"
#define CTL_SYNOPSIS_USER_EMAIL                                              \
    "  " CTL_NAME " [OPTIONS] user email BRAND IDENTIFIER --email NEW\n"
#define CTL_SYNOPSIS_SESSIONS_REVOKE                                         \
    "  " CTL_NAME " [OPTIONS] sessions revoke BRAND IDENTIFIER\n"
/* self-service (issue 10) */
#define CTL_SYNOPSIS_SESSIONS_LIST                                           \
    "  " CTL_NAME " [OPTIONS] sessions list BRAND IDENTIFIER\n"
/* sub-users (issue 10) */
#define CTL_SYNOPSIS_INVITE_LIST                                             \
    "  " CTL_NAME " [OPTIONS] invite list BRAND IDENTIFIER\n"
#define CTL_SYNOPSIS_INVITE_CANCEL                                           \
    "  " CTL_NAME " [OPTIONS] invite cancel BRAND ID|EMAIL\n"
#define CTL_SYNOPSIS_OUTBOX_SHOW                                             \
    "  " CTL_NAME " [OPTIONS] outbox show BRAND IDENTIFIER [--count N]\n"    \
    "        [--show-urls]\n"


typedef struct {
    const char         *address;      /* as given: for messages too */
    const char         *password;
    const char         *outbox;       /* the stream key */
    long                db;
    ca_pwhash_cost_t    cost;
    redisContext       *redis;

    /* --sentinel H:P,... --master NAME: the primary they name */
    const char         *sentinels;
    const char         *master;
    const char         *sentinel_password;
    unsigned            address_given:1;
    char                primary[64];  /* its "host:port", the address */
} ctl_t;


/* The command line: options and positional arguments in any order. */

typedef enum {
    CTL_ARG_NONE = 0,
    CTL_ARG_VALUE
} ctl_arg_e;

typedef struct {
    const char  *name;                /* the long name without "--" */
    ctl_arg_e    arg;
    int          id;
} ctl_opt_t;

typedef struct {
    int          argc;
    char       **argv;
    int          next;
    unsigned     options_done:1;      /* after "--" */
    const char  *usage_of;            /* "user add": for the help hint */
    const char  *operand;             /* what follows BRAND: "IDENTIFIER" */
} ctl_args_t;

enum {
    CTL_OPT_END = 0,
    CTL_OPT_POSITIONAL,
    CTL_OPT_HELP,
    CTL_OPT_ERROR,
    CTL_OPT_REDIS,                    /* the global options */
    CTL_OPT_REDIS_PASSWORD,
    CTL_OPT_DB,
    CTL_OPT_HASH_COST,
    CTL_OPT_OUTBOX,
    CTL_OPT_SENTINEL,                 /* Redis Sentinel (sentinel.c) */
    CTL_OPT_MASTER,
    CTL_OPT_SENTINEL_PASSWORD,
    CTL_OPT_PHONE_COUNTRY,            /* every verb taking an identifier */
    CTL_OPT_PASSWORD_STDIN,
    CTL_OPT_VERB                      /* the first id free for a verb */
};

#define CTL_OPT_IS_GLOBAL(id)                                               \
    ((id) >= CTL_OPT_REDIS && (id) <= CTL_OPT_SENTINEL_PASSWORD)

/* The usual positional "BRAND IDENTIFIER" of a verb. */

typedef struct {
    const char  *brand;
    const char  *identifier;          /* or what args->operand names */
    const char  *phone_country;
    unsigned     password_stdin:1;
} ctl_target_t;


/* A user found through one of its identifiers, with its keys. */

typedef struct {
    const char  *brand;
    char         account[CTL_ID_LEN];
    char         user[CTL_ID_LEN];
    char         key[CA_KEY_MAX];             /* the user hash */
    char         sessions_key[CA_KEY_MAX];    /* its set of session hashes */
    char         history_key[CA_KEY_MAX];     /* its former password hashes */
} ctl_user_t;


/* Permission names, sorted and unique (lib/ca_perms.h). */

#define CTL_PERM_LEN         CA_PERM_LEN
#define CTL_PERMS_N          CA_PERMS_N

typedef ca_perms_t  ctl_perms_t;


/*
 * A new user, from "user add" or a line of "user import": what it is told,
 * in the order of the names of ctl_add_name(), then what the add works out.
 */

enum {
    CTL_ADD_EMAIL = 0,                /* the identifiers: e-mail first */
    CTL_ADD_CUSTOMER_NUMBER,
    CTL_ADD_NIC,
    CTL_ADD_PHONE,
    CTL_ADD_DOMAIN,
    CTL_ADD_PERMS,
    CTL_ADD_LOCALE,
    CTL_ADD_PARENT,
    CTL_ADD_NFIELDS
};

#define CTL_ADD_NIDS         (CTL_ADD_DOMAIN + 1)

typedef struct {
    ca_id_kind_e   kind;
    const char    *given;
    char           canonical[CA_IDENT_MAX];
    char           key[CA_KEY_MAX];
} ctl_add_ident_t;

typedef struct {
    const char       *usage_of;       /* "user add"; NULL for a CSV line */
    const char       *brand;
    const char       *parent;
    const char       *locale;
    const char       *phone_country;
    unsigned          password_stdin:1;
    unsigned          allocated:1;        /* ids taken from the counters */
    unsigned          parent_pending:1;   /* dry run: an earlier line's */
    ctl_perms_t       perms;
    ctl_add_ident_t   ids[CTL_ADD_NIDS];

    char              perms_text[CTL_PERMS_MAX];
    char              hash[CA_PWHASH_MAX];    /* "": no password */
    char              now[CTL_TIME_LEN];
    char              account[CTL_ID_LEN];
    char              user[CTL_ID_LEN];
    char              ref[CA_ID_REF_MAX];
    char              account_key[CA_KEY_MAX];
    char              users_key[CA_KEY_MAX];
    char              user_key[CA_KEY_MAX];
} ctl_add_t;


/* A Redis command being built: the argv of redisCommandArgv. */

typedef struct {
    const char  **argv;
    size_t       *lens;
    int           argc;
    int           nalloc;
    unsigned      failed:1;           /* out of memory while adding */
} ctl_cmd_t;

/* Accepted reply types, as a mask for ctl_redis_call(). */
#define CTL_R(type)          (1u << (type))
#define CTL_R_STRING         CTL_R(REDIS_REPLY_STRING)
#define CTL_R_ARRAY          CTL_R(REDIS_REPLY_ARRAY)
#define CTL_R_INTEGER        CTL_R(REDIS_REPLY_INTEGER)
#define CTL_R_NIL            CTL_R(REDIS_REPLY_NIL)
#define CTL_R_STATUS         CTL_R(REDIS_REPLY_STATUS)

typedef int (*ctl_txn_pt)(ctl_t *ctl, void *data);
typedef int (*ctl_opt_pt)(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data);


/* main.c */
int ctl_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int ctl_usage_error(const char *usage_of, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ctl_global_option(ctl_t *ctl, ctl_args_t *args, int id,
    const char *value);
void ctl_error_context(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void ctl_print_safe(const char *text, size_t len);

/* args.c */
void ctl_args_init(ctl_args_t *args, int argc, char **argv,
    const char *usage_of);
int ctl_args_next(ctl_args_t *args, const ctl_opt_t *opts,
    const char **value);
int ctl_args_target(ctl_t *ctl, ctl_args_t *args, const char *usage,
    int with_password, ctl_target_t *target);
int ctl_args_verb(ctl_t *ctl, ctl_args_t *args, const char *usage,
    const ctl_opt_t *opts, ctl_opt_pt handler, void *data,
    ctl_target_t *target);
int ctl_check_brand(const char *usage_of, const char *brand);
int ctl_check_phone_country(const char *usage_of, const char *cc);

/* redis.c */
int ctl_redis_connect(ctl_t *ctl);
int ctl_parse_hostport(const char *addr, size_t len, long default_port,
    char *host, size_t size, long *port);

/* sentinel.c */
int ctl_sentinel_connect(ctl_t *ctl, struct timeval tv);
int ctl_sentinel_check(ctl_t *ctl, const char *usage_of);
void ctl_redis_close(ctl_t *ctl);
void ctl_cmd_init(ctl_cmd_t *cmd, const char *name);
void ctl_cmd_arg(ctl_cmd_t *cmd, const char *arg);
void ctl_cmd_argn(ctl_cmd_t *cmd, const char *arg, size_t len);
void ctl_cmd_field(ctl_cmd_t *cmd, const char *field, const char *value);
void ctl_cmd_free(ctl_cmd_t *cmd);
redisReply *ctl_cmd_call(ctl_t *ctl, ctl_cmd_t *cmd, unsigned types);
int ctl_cmd_queue(ctl_t *ctl, ctl_cmd_t *cmd);
redisReply *ctl_redis_call(ctl_t *ctl, unsigned types, const char *arg0,
    ...) __attribute__((sentinel));
int ctl_redis_do(ctl_t *ctl, unsigned types, const char *arg0, ...)
    __attribute__((sentinel));
int ctl_redis_exists(ctl_t *ctl, const char *key, int *exists);
int ctl_redis_usable(const ctl_t *ctl);
int ctl_txn_retry(ctl_t *ctl, ctl_txn_pt attempt, void *data);
redisReply *ctl_txn_exec(ctl_t *ctl, int *aborted);
int ctl_txn_commit(ctl_t *ctl);
void ctl_txn_abandon(ctl_t *ctl);

/* lookup.c */
int ctl_ident_key(const char *brand, const char *identifier,
    const char *phone_country, char key[CA_KEY_MAX]);
int ctl_user_find(ctl_t *ctl, const char *brand, const char *identifier,
    const char *phone_country, ctl_user_t *u);
int ctl_user_target(ctl_t *ctl, ctl_args_t *args, const char *usage,
    int with_password, ctl_user_t *u);
int ctl_user_watch(ctl_t *ctl, const ctl_user_t *u);
void ctl_time_now(char buf[CTL_TIME_LEN]);

/* password.c */
int ctl_parse_hash_cost(const char *text, ca_pwhash_cost_t *cost);
int ctl_password_read_hash(ctl_t *ctl, char hash[CA_PWHASH_MAX]);

/* perms.c */
int ctl_perms_parse(ctl_perms_t *perms, const char *list, int sep);
int ctl_perms_add(ctl_perms_t *perms, const char *usage_of,
    const char *list);
void ctl_perms_format(const ctl_perms_t *perms, char buf[CTL_PERMS_MAX]);

/* session.c */
redisReply *ctl_sessions_members(ctl_t *ctl, const ctl_user_t *u);
int ctl_sessions_queue_revoke(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *members, int bump, int *ndel);
long long ctl_sessions_revoked(const redisReply *exec, int first, int ndel);
int ctl_sessions_live(ctl_t *ctl, const ctl_user_t *u, long long *live);
int ctl_sessions_watch_live(ctl_t *ctl, const ctl_user_t *u,
    const redisReply *members, char **keys);
int ctl_sessions_queue_hset(ctl_t *ctl, const redisReply *members,
    const char *keys, const char *field, const char *value, long long *n);
int ctl_sessions_revoke(ctl_t *ctl, int argc, char **argv);
int ctl_sessions_list(ctl_t *ctl, int argc, char **argv);  /* issue 10 */

/* user_add.c: the add shared by user add and user import */
void ctl_add_init(ctl_add_t *add, const char *usage_of);
const char *ctl_add_name(const ctl_add_t *add, int field);
const char *ctl_add_column(int field);
int ctl_add_check(ctl_add_t *add);
int ctl_add_commit(ctl_t *ctl, ctl_add_t *add);
int ctl_add_verify(ctl_t *ctl, ctl_add_t *add);

/* the verbs: user.c, user_add.c, user_import.c, user_list.c,
 * user_perms.c, user_email.c, outbox.c */
int ctl_user_add(ctl_t *ctl, int argc, char **argv);
int ctl_user_import(ctl_t *ctl, int argc, char **argv);
int ctl_user_list(ctl_t *ctl, int argc, char **argv);
int ctl_user_perms(ctl_t *ctl, int argc, char **argv);
int ctl_user_email(ctl_t *ctl, int argc, char **argv);
int ctl_outbox_show(ctl_t *ctl, int argc, char **argv);
int ctl_user_passwd(ctl_t *ctl, int argc, char **argv);
int ctl_user_show(ctl_t *ctl, int argc, char **argv);
int ctl_user_lock(ctl_t *ctl, int argc, char **argv);
int ctl_user_unlock(ctl_t *ctl, int argc, char **argv);

/* sub-users (issue 10): invite.c */
int ctl_invite_list(ctl_t *ctl, int argc, char **argv);
int ctl_invite_cancel(ctl_t *ctl, int argc, char **argv);

#endif /* CTL_H */
