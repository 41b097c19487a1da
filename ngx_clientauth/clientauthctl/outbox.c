/*
 * outbox show: the newest messages the gateway queued for an account's
 * mailers in the outbox stream, which all brands share: read backwards in
 * pages, keeping the entries of the brand and account.  Reset links carry
 * a live token, so url fields are redacted unless asked for.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"


#define CTL_OUTBOX_PAGE       "500"   /* entries a XREVRANGE */
#define CTL_OUTBOX_COUNT      20
#define CTL_OUTBOX_COUNT_MAX  10000
#define CTL_STREAM_ID_LEN     48      /* "<ms>-<seq>", 20 digits each */


enum {
    CTL_OPT_COUNT = CTL_OPT_VERB,
    CTL_OPT_SHOW_URLS
};

typedef struct {
    const char  *brand;
    const char  *account;
    long         count;               /* entries still wanted */
    unsigned     show_urls:1;
    unsigned     done:1;              /* the stream's start was reached */
    char         end[CTL_STREAM_ID_LEN];      /* "+", then the last id */
} ctl_outbox_job_t;


static int ctl_outbox_option(ctl_args_t *args, ctl_target_t *target,
    int id, const char *value, void *data);
static int ctl_outbox_page(ctl_t *ctl, ctl_outbox_job_t *job);
static int ctl_outbox_entry(ctl_outbox_job_t *job, const redisReply *entry);
static const redisReply *ctl_outbox_field(const redisReply *fields,
    const char *name);
static int ctl_outbox_is(const redisReply *value, const char *text);
static int ctl_outbox_is_url(const redisReply *name);
static void ctl_outbox_print(ctl_outbox_job_t *job, const redisReply *id,
    const redisReply *fields);


static const ctl_opt_t  ctl_outbox_opts[] = {
    { "count",          CTL_ARG_VALUE, CTL_OPT_COUNT },
    { "show-urls",      CTL_ARG_NONE,  CTL_OPT_SHOW_URLS },
    { "phone-country",  CTL_ARG_VALUE, CTL_OPT_PHONE_COUNTRY },
    { NULL, CTL_ARG_NONE, 0 }
};

static const char  ctl_outbox_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_OUTBOX_SHOW
    "\n"
    "Prints the newest messages the gateway queued in the outbox stream for\n"
    "the account of IDENTIFIER, newest first, one a line:\n"
    "\n"
    "  STREAM-ID TYPE to=ADDRESS NAME=VALUE...\n"
    "\n"
    "with the message's other fields but brand and account.  The values of\n"
    "url fields (url, *_url) print as \"<redacted>\": a reset link is a key\n"
    "to the account.\n"
    "\n"
    "  --count N              at most N messages (default 20, at most 10000)\n"
    "  --show-urls            print url fields as they are\n"
    "  --phone-country CC     country calling code for a national phone\n"
    "                         number as IDENTIFIER\n"
    "\n"
    "The stream is --outbox KEY (default " CTL_DEFAULT_OUTBOX "); the global\n"
    "options are described by '" CTL_NAME " --help'.\n";


/* outbox show BRAND IDENTIFIER [--count N] [--show-urls] */

int
ctl_outbox_show(ctl_t *ctl, int argc, char **argv)
{
    int               rc;
    ctl_args_t        args;
    ctl_user_t        u;
    ctl_target_t      target;
    ctl_outbox_job_t  job;

    memset(&job, 0, sizeof(job));
    job.count = CTL_OUTBOX_COUNT;
    strcpy(job.end, "+");
    ctl_args_init(&args, argc, argv, "outbox show");

    rc = ctl_args_verb(ctl, &args, ctl_outbox_usage, ctl_outbox_opts,
                       ctl_outbox_option, &job, &target);
    if (rc != CTL_OK || target.brand == NULL) {
        return rc;
    }

    rc = ctl_redis_connect(ctl);

    if (rc == CTL_OK) {
        rc = ctl_user_find(ctl, target.brand, target.identifier,
                           target.phone_country, &u);
    }

    job.brand = target.brand;
    job.account = u.account;

    while (rc == CTL_OK && job.count > 0 && !job.done) {
        rc = ctl_outbox_page(ctl, &job);
    }

    return rc;
}


static int
ctl_outbox_option(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data)
{
    char              *end;
    ctl_outbox_job_t  *job = data;

    switch (id) {

    case CTL_OPT_SHOW_URLS:
        job->show_urls = 1;
        return CTL_OK;

    case CTL_OPT_COUNT:
        job->count = strtol(value, &end, 10);

        if (value[0] < '0' || value[0] > '9' || *end != '\0'
            || job->count < 1 || job->count > CTL_OUTBOX_COUNT_MAX)
        {
            return ctl_usage_error(args->usage_of, "invalid --count: %s"
                                   " (1-%d)", value, CTL_OUTBOX_COUNT_MAX);
        }

        return CTL_OK;
    }

    return ctl_error("internal error: unhandled option %d", id);
}


/*
 * XREVRANGE from job->end down: the first page from "+", each next one from
 * the last id seen, which it repeats (an exclusive "(" needs Redis 6.2).
 */

static int
ctl_outbox_page(ctl_t *ctl, ctl_outbox_job_t *job)
{
    int                rc;
    size_t             i, first;
    redisReply        *reply;
    const redisReply  *entry;

    reply = ctl_redis_call(ctl, CTL_R_ARRAY, "XREVRANGE", ctl->outbox,
                           job->end, "-", "COUNT", CTL_OUTBOX_PAGE, NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    first = (strcmp(job->end, "+") != 0);
    job->done = (reply->elements <= first);
    rc = CTL_OK;

    for (i = first; i < reply->elements && job->count > 0; i++) {
        entry = reply->element[i];

        rc = ctl_outbox_entry(job, entry);
        if (rc != CTL_OK) {
            rc = ctl_error("redis %s: XREVRANGE %s: unexpected reply",
                           ctl->address, ctl->outbox);
            break;
        }

        /* checked by ctl_outbox_entry(): a short id string */
        strcpy(job->end, entry->element[0]->str);
    }

    freeReplyObject(reply);

    return rc;
}


/* [id, [name, value, ...]]: printed when brand and account match. */

static int
ctl_outbox_entry(ctl_outbox_job_t *job, const redisReply *entry)
{
    size_t             i;
    const redisReply  *id, *fields;

    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) {
        return CTL_FAIL;
    }

    id = entry->element[0];
    fields = entry->element[1];

    if (id->type != REDIS_REPLY_STRING || id->len >= CTL_STREAM_ID_LEN
        || strlen(id->str) != id->len
        || fields->type != REDIS_REPLY_ARRAY || fields->elements % 2)
    {
        return CTL_FAIL;
    }

    for (i = 0; i < fields->elements; i++) {
        if (fields->element[i]->type != REDIS_REPLY_STRING) {
            return CTL_FAIL;
        }
    }

    if (ctl_outbox_is(ctl_outbox_field(fields, "brand"), job->brand)
        && ctl_outbox_is(ctl_outbox_field(fields, "account"), job->account))
    {
        ctl_outbox_print(job, id, fields);
        job->count--;
    }

    return CTL_OK;
}


static const redisReply *
ctl_outbox_field(const redisReply *fields, const char *name)
{
    size_t  i;

    for (i = 0; i + 1 < fields->elements; i += 2) {
        if (ctl_outbox_is(fields->element[i], name)) {
            return fields->element[i + 1];
        }
    }

    return NULL;
}


static int
ctl_outbox_is(const redisReply *value, const char *text)
{
    return value != NULL && value->len == strlen(text)
           && memcmp(value->str, text, value->len) == 0;
}


static int
ctl_outbox_is_url(const redisReply *name)
{
    return ctl_outbox_is(name, "url")
           || (name->len > 4
               && memcmp(name->str + name->len - 4, "_url", 4) == 0);
}


static void
ctl_outbox_print(ctl_outbox_job_t *job, const redisReply *id,
    const redisReply *fields)
{
    size_t             i;
    const redisReply  *name, *value;

    value = ctl_outbox_field(fields, "type");
    printf("%s ", id->str);
    ctl_print_safe(value ? value->str : "-", value ? value->len : 1);

    value = ctl_outbox_field(fields, "to");
    fputs(" to=", stdout);
    ctl_print_safe(value ? value->str : "-", value ? value->len : 1);

    for (i = 0; i + 1 < fields->elements; i += 2) {
        name = fields->element[i];
        value = fields->element[i + 1];

        if (ctl_outbox_is(name, "type") || ctl_outbox_is(name, "to")
            || ctl_outbox_is(name, "brand") || ctl_outbox_is(name, "account"))
        {
            continue;
        }

        putchar(' ');
        ctl_print_safe(name->str, name->len);
        putchar('=');

        if (ctl_outbox_is_url(name) && !job->show_urls) {
            fputs("<redacted>", stdout);

        } else {
            ctl_print_safe(value->str, value->len);
        }
    }

    putchar('\n');
}
