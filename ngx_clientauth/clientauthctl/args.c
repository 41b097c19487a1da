/*
 * The command-line parser.  Not getopt_long: options and positional
 * arguments mix freely ("user add magic --email E"), "--name=value" works,
 * the global options are understood after the verb too, and every error is
 * one line of ours that never echoes an option's value (it could be a
 * password typed in the wrong place).
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"


static const ctl_opt_t *ctl_opt_find(const ctl_opt_t *opts, const char *name,
    size_t len);
static int ctl_args_fail(ctl_args_t *args, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int ctl_target_password(ctl_args_t *args, ctl_target_t *target,
    int id, const char *value, void *data);
static int ctl_target_done(ctl_args_t *args, ctl_target_t *target,
    int npos);


static const ctl_opt_t  ctl_global_opts[] = {
    { "redis",          CTL_ARG_VALUE, CTL_OPT_REDIS },
    { "redis-password", CTL_ARG_VALUE, CTL_OPT_REDIS_PASSWORD },
    { "db",             CTL_ARG_VALUE, CTL_OPT_DB },
    { "hash-cost",      CTL_ARG_VALUE, CTL_OPT_HASH_COST },
    { "outbox",         CTL_ARG_VALUE, CTL_OPT_OUTBOX },
    { "sentinel",       CTL_ARG_VALUE, CTL_OPT_SENTINEL },
    { "master",         CTL_ARG_VALUE, CTL_OPT_MASTER },
    { "sentinel-password", CTL_ARG_VALUE, CTL_OPT_SENTINEL_PASSWORD },
    { NULL, CTL_ARG_NONE, 0 }
};

/* The options of the verbs that take just "BRAND IDENTIFIER". */
static const ctl_opt_t  ctl_target_opts[] = {
    { "phone-country",  CTL_ARG_VALUE, CTL_OPT_PHONE_COUNTRY },
    { "password-stdin", CTL_ARG_NONE,  CTL_OPT_PASSWORD_STDIN },
    { NULL, CTL_ARG_NONE, 0 }
};


void
ctl_args_init(ctl_args_t *args, int argc, char **argv, const char *usage_of)
{
    args->argc = argc;
    args->argv = argv;
    args->next = 0;
    args->options_done = 0;
    args->usage_of = usage_of;
    args->operand = "IDENTIFIER";
}


/*
 * Returns the id of the next option, with its value in *value, or
 * CTL_OPT_POSITIONAL with the argument in *value, CTL_OPT_HELP, CTL_OPT_END,
 * or CTL_OPT_ERROR once a usage error has been printed.
 */

int
ctl_args_next(ctl_args_t *args, const ctl_opt_t *opts, const char **value)
{
    char             *arg, *eq;
    size_t            len;
    const ctl_opt_t  *opt;

    *value = NULL;

    if (args->next >= args->argc) {
        return CTL_OPT_END;
    }

    arg = args->argv[args->next++];

    if (args->options_done || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return CTL_OPT_POSITIONAL;
    }

    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        return CTL_OPT_HELP;
    }

    if (strcmp(arg, "--") == 0) {
        args->options_done = 1;
        return ctl_args_next(args, opts, value);
    }

    if (arg[1] != '-') {
        return ctl_args_fail(args, "unknown option -%c", arg[1]);
    }

    arg += 2;
    eq = strchr(arg, '=');
    len = eq ? (size_t) (eq - arg) : strlen(arg);

    opt = ctl_opt_find(opts, arg, len);
    if (opt == NULL) {
        opt = ctl_opt_find(ctl_global_opts, arg, len);
    }

    if (opt == NULL) {
        if (len >= 8 && strncmp(arg, "password", 8) == 0) {
            return ctl_args_fail(args, "passwords are only read from"
                                 " standard input, with --password-stdin");
        }

        return ctl_args_fail(args, "unknown option --%.*s", (int) len, arg);
    }

    if (opt->arg == CTL_ARG_NONE) {
        if (eq) {
            return ctl_args_fail(args, "option --%s takes no value",
                                 opt->name);
        }

        return opt->id;
    }

    if (eq) {
        *value = eq + 1;

    } else if (args->next < args->argc) {
        *value = args->argv[args->next++];

    } else {
        return ctl_args_fail(args, "option --%s needs a value", opt->name);
    }

    return opt->id;
}


static const ctl_opt_t *
ctl_opt_find(const ctl_opt_t *opts, const char *name, size_t len)
{
    for ( /* void */ ; opts->name; opts++) {
        if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0) {
            return opts;
        }
    }

    return NULL;
}


static int
ctl_args_fail(ctl_args_t *args, const char *fmt, ...)
{
    char     msg[256];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    ctl_usage_error(args->usage_of, "%s", msg);

    return CTL_OPT_ERROR;
}


/*
 * "BRAND IDENTIFIER" with --phone-country and, with_password, also
 * --password-stdin.  For --help, prints usage to stdout and returns CTL_OK
 * with target->brand NULL: the caller has nothing more to do.
 */

int
ctl_args_target(ctl_t *ctl, ctl_args_t *args, const char *usage,
    int with_password, ctl_target_t *target)
{
    return ctl_args_verb(ctl, args, usage, ctl_target_opts,
                         ctl_target_password, &with_password, target);
}


static int
ctl_target_password(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data)
{
    int  *with_password = data;

    if (id != CTL_OPT_PASSWORD_STDIN || !*with_password) {
        return ctl_usage_error(args->usage_of, "unknown option"
                               " --password-stdin");
    }

    target->password_stdin = 1;

    return CTL_OK;
}


/*
 * The same for a verb with options of its own: opts lists them with
 * --phone-country; handler(args, target, id, value, data) takes each of
 * them, and returns CTL_OK or an exit status once it printed why.
 */

int
ctl_args_verb(ctl_t *ctl, ctl_args_t *args, const char *usage,
    const ctl_opt_t *opts, ctl_opt_pt handler, void *data,
    ctl_target_t *target)
{
    int          rc, id, npos;
    const char  *value;

    memset(target, 0, sizeof(*target));
    npos = 0;

    for ( ;; ) {
        id = ctl_args_next(args, opts, &value);

        switch (id) {

        case CTL_OPT_END:
            goto done;

        case CTL_OPT_HELP:
            fputs(usage, stdout);
            target->brand = NULL;
            return CTL_OK;

        case CTL_OPT_ERROR:
            return CTL_USAGE;

        case CTL_OPT_POSITIONAL:
            if (npos == 2) {
                /* not echoed: it may be a password */
                return ctl_usage_error(args->usage_of, "too many arguments");
            }

            if (npos++ == 0) {
                target->brand = value;

            } else {
                target->identifier = value;
            }

            break;

        case CTL_OPT_PHONE_COUNTRY:
            target->phone_country = value;
            break;

        default:
            if (CTL_OPT_IS_GLOBAL(id)) {
                rc = ctl_global_option(ctl, args, id, value);

            } else {
                rc = handler(args, target, id, value, data);
            }

            if (rc != CTL_OK) {
                target->brand = NULL;
                return rc;
            }
        }
    }

done:

    return ctl_target_done(args, target, npos);
}


static int
ctl_target_done(ctl_args_t *args, ctl_target_t *target, int npos)
{
    int  rc;

    if (npos < 2) {
        target->brand = NULL;
        return ctl_usage_error(args->usage_of, "missing %s%s",
                               npos == 0 ? "BRAND and " : "",
                               args->operand);
    }

    if (target->phone_country) {
        rc = ctl_check_phone_country(args->usage_of, target->phone_country);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    return ctl_check_brand(args->usage_of, target->brand);
}


int
ctl_check_brand(const char *usage_of, const char *brand)
{
    if (!ca_brand_is_valid(brand, strlen(brand))) {
        return ctl_usage_error(usage_of, "invalid brand: %s (1-32 of"
                               " a-z, 0-9, '_', '-')", brand);
    }

    return CTL_OK;
}


/* A country calling code: 1-3 digits, "34", "1", "351". */

int
ctl_check_phone_country(const char *usage_of, const char *cc)
{
    size_t  i, len;

    len = strlen(cc);

    for (i = 0; i < len; i++) {
        if (cc[i] < '0' || cc[i] > '9') {
            break;
        }
    }

    if (len == 0 || len > 3 || i < len || cc[0] == '0') {
        return ctl_usage_error(usage_of, "invalid --phone-country: %s"
                               " (a country calling code such as 34)", cc);
    }

    return CTL_OK;
}
