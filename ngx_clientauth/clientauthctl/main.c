/*
 * clientauthctl: global options, the verb table, help and error reporting.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ctl.h"


typedef int (*ctl_verb_pt)(ctl_t *ctl, int argc, char **argv);

typedef struct {
    const char   *group;
    const char   *name;
    ctl_verb_pt   handler;
} ctl_verb_t;


static int ctl_dispatch(ctl_t *ctl, int argc, char **argv);
static int ctl_group_help(const char *group);
static int ctl_finish(int rc);
static void ctl_report(const char *hint, const char *fmt, va_list ap);


static const ctl_verb_t  ctl_verbs[] = {
    { "user",     "add",    ctl_user_add },
    { "user",     "import", ctl_user_import },
    { "user",     "passwd", ctl_user_passwd },
    { "user",     "show",   ctl_user_show },
    { "user",     "list",   ctl_user_list },
    { "user",     "perms",  ctl_user_perms },
    { "user",     "email",  ctl_user_email },
    { "user",     "lock",   ctl_user_lock },
    { "user",     "unlock", ctl_user_unlock },
    { "sessions", "revoke", ctl_sessions_revoke },
    { "outbox",   "show",   ctl_outbox_show },
    /* self-service (issue 10) */
    { "sessions", "list",   ctl_sessions_list },
    /* sub-users (issue 10) */
    { "invite",   "list",   ctl_invite_list },
    { "invite",   "cancel", ctl_invite_cancel },
    { NULL, NULL, NULL }
};

/* "line 3": what ctl_error() messages are about, when set */
static char  ctl_context[64];


#define CTL_SYNOPSIS_USER                                                    \
    CTL_SYNOPSIS_USER_ADD                                                    \
    CTL_SYNOPSIS_USER_IMPORT                                                 \
    CTL_SYNOPSIS_USER_PASSWD                                                 \
    CTL_SYNOPSIS_USER_SHOW                                                   \
    CTL_SYNOPSIS_USER_LIST                                                   \
    CTL_SYNOPSIS_USER_PERMS                                                  \
    CTL_SYNOPSIS_USER_EMAIL                                                  \
    CTL_SYNOPSIS_USER_LOCK                                                   \
    CTL_SYNOPSIS_USER_UNLOCK

static const char  ctl_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER
    CTL_SYNOPSIS_SESSIONS_REVOKE
    CTL_SYNOPSIS_SESSIONS_LIST
    CTL_SYNOPSIS_INVITE_LIST
    CTL_SYNOPSIS_INVITE_CANCEL
    CTL_SYNOPSIS_OUTBOX_SHOW
    "\n"
    "Provisions and operates ngx_clientauth accounts in Redis.\n"
    "\n"
    "OPTIONS (before or after the verb):\n"
    "  --redis HOST:PORT | unix:/PATH  Redis to use (default "
    CTL_DEFAULT_REDIS ")\n"
    "  --redis-password P     AUTH with P; the environment variable\n"
    "                         CLIENTAUTH_REDIS_PASSWORD keeps it out of ps\n"
    "  --sentinel H:P[,H:P...] --master NAME\n"
    "                         instead of --redis: the primary these Redis\n"
    "                         Sentinels name for NAME (port 26379 by default)\n"
    "  --sentinel-password P  AUTH with P on the sentinels; the environment\n"
    "                         variable CLIENTAUTH_SENTINEL_PASSWORD too\n"
    "  --db N                 SELECT database N (default 0)\n"
    "  --hash-cost T:MIB      argon2id cost of new password hashes\n"
    "                         (default 2:19: t=2, m=19 MiB)\n"
    "  --outbox KEY           the gateway's mail stream (default\n"
    "                         " CTL_DEFAULT_OUTBOX ")\n"
    "  -h, --help             this help; after a verb, the verb's help\n"
    "\n"
    "IDENTIFIER is any identifier of the user: e-mail address, customer\n"
    "number, NIC handle, phone number (international, or national with\n"
    "--phone-country) or domain name.  Passwords are read from standard\n"
    "input (one line) with --password-stdin, never from the command line.\n"
    "\n"
    "Exit status: 0 success, 1 failure (not found, Redis error; for user\n"
    "import: any line failed, the others were applied), 2 bad command line.\n";


static const ctl_opt_t  ctl_no_opts[] = {
    { NULL, CTL_ARG_NONE, 0 }
};


int
main(int argc, char **argv)
{
    int    rc;
    ctl_t  ctl;

    if (sodium_init() < 0) {
        return ctl_error("cannot initialise libsodium");
    }

    memset(&ctl, 0, sizeof(ctl));
    ctl.address = CTL_DEFAULT_REDIS;
    ctl.outbox = CTL_DEFAULT_OUTBOX;
    ctl.password = getenv("CLIENTAUTH_REDIS_PASSWORD");
    ctl.sentinel_password = getenv("CLIENTAUTH_SENTINEL_PASSWORD");
    ctl.cost.opslimit = CTL_DEFAULT_T;
    ctl.cost.memlimit = (size_t) CTL_DEFAULT_M_MIB * 1024 * 1024;

    rc = ctl_dispatch(&ctl, argc - 1, argv + 1);

    ctl_redis_close(&ctl);

    return ctl_finish(rc);
}


/*
 * Global options come first, then "GROUP VERB"; the rest of the command line
 * belongs to the verb, which accepts the global options as well.
 */

static int
ctl_dispatch(ctl_t *ctl, int argc, char **argv)
{
    int                rc, id;
    const char        *value, *group;
    ctl_args_t         args;
    const ctl_verb_t  *verb;

    ctl_args_init(&args, argc, argv, NULL);
    group = NULL;

    while (group == NULL) {
        id = ctl_args_next(&args, ctl_no_opts, &value);

        switch (id) {

        case CTL_OPT_END:
            return ctl_usage_error(NULL, "missing command");

        case CTL_OPT_HELP:
            fputs(ctl_usage, stdout);
            return CTL_OK;

        case CTL_OPT_ERROR:
            return CTL_USAGE;

        case CTL_OPT_POSITIONAL:
            group = value;
            break;

        default:
            rc = ctl_global_option(ctl, &args, id, value);
            if (rc != CTL_OK) {
                return rc;
            }
        }
    }

    if (args.next == argc) {
        for (verb = ctl_verbs; verb->group; verb++) {
            if (strcmp(verb->group, group) == 0) {
                return ctl_usage_error(NULL, "%s: missing verb", group);
            }
        }

        return ctl_usage_error(NULL, "unknown command: %s", group);
    }

    value = argv[args.next++];

    if (strcmp(value, "-h") == 0 || strcmp(value, "--help") == 0) {
        return ctl_group_help(group);
    }

    for (verb = ctl_verbs; verb->group; verb++) {
        if (strcmp(verb->group, group) == 0
            && strcmp(verb->name, value) == 0)
        {
            return verb->handler(ctl, argc - args.next, argv + args.next);
        }
    }

    return ctl_usage_error(NULL, "unknown command: %s %s", group, value);
}


/* "clientauthctl user --help": the synopsis lines of that group. */

static int
ctl_group_help(const char *group)
{
    if (strcmp(group, "user") == 0) {
        fputs("usage:\n"
              CTL_SYNOPSIS_USER
              "\n'" CTL_NAME " user VERB --help' describes a verb.\n",
              stdout);
        return CTL_OK;
    }

    if (strcmp(group, "outbox") == 0) {
        fputs("usage:\n"
              CTL_SYNOPSIS_OUTBOX_SHOW
              "\n'" CTL_NAME " outbox VERB --help' describes a verb.\n",
              stdout);
        return CTL_OK;
    }

    if (strcmp(group, "sessions") == 0) {
        fputs("usage:\n"
              CTL_SYNOPSIS_SESSIONS_REVOKE
              CTL_SYNOPSIS_SESSIONS_LIST
              "\n'" CTL_NAME " sessions VERB --help' describes a verb.\n",
              stdout);
        return CTL_OK;
    }

    if (strcmp(group, "invite") == 0) {
        fputs("usage:\n"
              CTL_SYNOPSIS_INVITE_LIST
              CTL_SYNOPSIS_INVITE_CANCEL
              "\n'" CTL_NAME " invite VERB --help' describes a verb.\n",
              stdout);
        return CTL_OK;
    }

    return ctl_usage_error(NULL, "unknown command: %s", group);
}


int
ctl_global_option(ctl_t *ctl, ctl_args_t *args, int id, const char *value)
{
    char  *end;

    switch (id) {

    case CTL_OPT_REDIS:
        if (value[0] == '\0') {
            return ctl_usage_error(args->usage_of, "empty --redis");
        }

        ctl->address = value;
        ctl->address_given = 1;
        return ctl_sentinel_check(ctl, args->usage_of);

    case CTL_OPT_REDIS_PASSWORD:
        ctl->password = value;
        return CTL_OK;

    case CTL_OPT_DB:
        ctl->db = strtol(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || *end != '\0'
            || ctl->db > 65535)
        {
            return ctl_usage_error(args->usage_of, "invalid --db: %s",
                                   value);
        }

        return CTL_OK;

    case CTL_OPT_HASH_COST:
        if (ctl_parse_hash_cost(value, &ctl->cost) != 0) {
            return ctl_usage_error(args->usage_of,
                                   "invalid --hash-cost: %s (T:MIB, e.g. 2:19)",
                                   value);
        }

        return CTL_OK;

    case CTL_OPT_OUTBOX:
        if (value[0] == '\0') {
            return ctl_usage_error(args->usage_of, "empty --outbox");
        }

        ctl->outbox = value;
        return CTL_OK;

    case CTL_OPT_SENTINEL:
        if (value[0] == '\0') {
            return ctl_usage_error(args->usage_of, "empty --sentinel");
        }

        ctl->sentinels = value;
        return ctl_sentinel_check(ctl, args->usage_of);

    case CTL_OPT_MASTER:
        if (value[0] == '\0') {
            return ctl_usage_error(args->usage_of, "empty --master");
        }

        ctl->master = value;
        return CTL_OK;

    case CTL_OPT_SENTINEL_PASSWORD:
        ctl->sentinel_password = value;
        return CTL_OK;
    }

    /* an id of the verb's table that its parser forgot */
    return ctl_error("internal error: unhandled option %d", id);
}


/* Output that could not be written is a failure too (a full disk, a pipe). */

static int
ctl_finish(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ctl_error("cannot write the output");
        return rc == CTL_OK ? CTL_FAIL : rc;
    }

    return rc;
}


int
ctl_error(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    ctl_report(NULL, fmt, ap);
    va_end(ap);

    return CTL_FAIL;
}


/*
 * ctl_error_context("line %lu", n): the errors that follow are about that
 * ("clientauthctl: line 3: identifier already in use: ..."); NULL ends it.
 */

void
ctl_error_context(const char *fmt, ...)
{
    va_list  ap;

    ctl_context[0] = '\0';

    if (fmt == NULL) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(ctl_context, sizeof(ctl_context), fmt, ap);
    va_end(ap);
}


int
ctl_usage_error(const char *usage_of, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    ctl_report(usage_of ? usage_of : "", fmt, ap);
    va_end(ap);

    return CTL_USAGE;
}


/*
 * One line, whatever the arguments quoted in it contain: control characters
 * become '?', so that a pasted identifier cannot split the message or play
 * with the terminal.
 */

static void
ctl_report(const char *hint, const char *fmt, va_list ap)
{
    char    msg[1024];
    size_t  i;

    vsnprintf(msg, sizeof(msg), fmt, ap);

    for (i = 0; msg[i]; i++) {
        if ((unsigned char) msg[i] < 0x20 || msg[i] == 0x7f) {
            msg[i] = '?';
        }
    }

    /* what went to stdout so far comes first, when both are one file */
    fflush(stdout);

    if (hint == NULL) {
        fprintf(stderr, CTL_NAME ": %s%s%s\n", ctl_context,
                ctl_context[0] ? ": " : "", msg);

    } else {
        fprintf(stderr, CTL_NAME ": %s (see '" CTL_NAME "%s%s --help')\n",
                msg, hint[0] ? " " : "", hint);
    }
}


/* A value from Redis or a file, on one line whatever it holds. */

void
ctl_print_safe(const char *text, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        unsigned char  ch = text[i];

        putchar(ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
}
