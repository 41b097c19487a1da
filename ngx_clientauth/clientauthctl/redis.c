/*
 * Redis: the connection, commands built as argv (binary-safe: user data
 * never goes through a format string), reply checks and WATCH/MULTI/EXEC.
 *
 * A failed transaction attempt drops its WATCH or half-queued MULTI
 * (ctl_txn_abandon), so that user import can go on with its next line; any
 * other failure ends the process, which closes the connection.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <sodium.h>

#include "ctl.h"


#define CTL_CONNECT_TIMEOUT  2        /* seconds */
#define CTL_COMMAND_TIMEOUT  10
#define CTL_HOST_MAX         256
#define CTL_TXN_BACKOFF      10000    /* microseconds, times the attempt */


static int ctl_redis_open(ctl_t *ctl);
static redisReply *ctl_redis_quiet(ctl_t *ctl, const char *command);
static int ctl_redis_login(ctl_t *ctl);
static void ctl_redis_io_error(ctl_t *ctl);
static void ctl_cmd_vargs(ctl_cmd_t *cmd, const char *arg0, va_list ap);


int
ctl_redis_connect(ctl_t *ctl)
{
    int             rc;
    struct timeval  tv;

    rc = ctl_redis_open(ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    if (ctl->redis == NULL) {
        return ctl_error("cannot connect to redis %s: out of memory",
                         ctl->address);
    }

    if (ctl->redis->err) {
        return ctl_error("cannot connect to redis %s: %s", ctl->address,
                         ctl->redis->errstr);
    }

    tv.tv_sec = CTL_COMMAND_TIMEOUT;
    tv.tv_usec = 0;

    if (redisSetTimeout(ctl->redis, tv) != REDIS_OK) {
        return ctl_error("cannot set the redis timeout: %s",
                         ctl->redis->errstr);
    }

    return ctl_redis_login(ctl);
}


/* "unix:/path", "host:port", "[v6 address]:port" or "host" (port 6379). */

static int
ctl_redis_open(ctl_t *ctl)
{
    char            host[CTL_HOST_MAX];
    long            port;
    struct timeval  tv;

    tv.tv_sec = CTL_CONNECT_TIMEOUT;
    tv.tv_usec = 0;

    if (ctl->sentinels) {
        return ctl_sentinel_connect(ctl, tv);
    }

    if (ctl->master) {
        return ctl_usage_error(NULL, "--master needs --sentinel");
    }

    if (strncmp(ctl->address, "unix:", 5) == 0) {
        ctl->redis = redisConnectUnixWithTimeout(ctl->address + 5, tv);
        return CTL_OK;
    }

    if (ctl_parse_hostport(ctl->address, strlen(ctl->address), 6379, host,
                           sizeof(host), &port)
        != 0)
    {
        return ctl_usage_error(NULL, "invalid --redis: %s (HOST:PORT or"
                               " unix:/PATH)", ctl->address);
    }

    ctl->redis = redisConnectWithTimeout(host, (int) port, tv);

    return CTL_OK;
}


/* "host:port", "[v6 address]:port" or "host" (len bytes): 0, or -1. */

int
ctl_parse_hostport(const char *addr, size_t alen, long default_port,
    char *host, size_t size, long *port)
{
    char        digits[8], *end;
    size_t      len, plen;
    const char  *colon, *last;

    last = addr + alen;
    *port = default_port;

    if (alen && addr[0] == '[') {
        colon = memchr(addr, ']', alen);
        if (colon == NULL || (colon + 1 < last && colon[1] != ':')) {
            return -1;
        }

        addr++;
        len = colon - addr;
        colon = (colon + 1 < last) ? colon + 1 : NULL;

    } else {
        colon = NULL;

        for (end = (char *) addr; end < last; end++) {
            if (*end == ':') {
                colon = end;
            }
        }

        len = colon ? (size_t) (colon - addr) : alen;
    }

    if (colon) {
        plen = last - (colon + 1);
        if (plen == 0 || plen >= sizeof(digits)) {
            return -1;
        }

        memcpy(digits, colon + 1, plen);
        digits[plen] = '\0';

        *port = strtol(digits, &end, 10);
        if (digits[0] < '0' || digits[0] > '9' || *end != '\0'
            || *port < 1 || *port > 65535)
        {
            return -1;
        }
    }

    if (len == 0 || len >= size) {
        return -1;
    }

    memcpy(host, addr, len);
    host[len] = '\0';

    return 0;
}


static int
ctl_redis_login(ctl_t *ctl)
{
    char  db[CTL_ID_LEN];

    if (ctl->password && ctl->password[0]) {
        if (ctl_redis_do(ctl, CTL_R_STATUS, "AUTH", ctl->password, NULL)
            != CTL_OK)
        {
            return CTL_FAIL;
        }
    }

    if (ctl->db != 0) {
        snprintf(db, sizeof(db), "%ld", ctl->db);

        if (ctl_redis_do(ctl, CTL_R_STATUS, "SELECT", db, NULL) != CTL_OK) {
            return CTL_FAIL;
        }
    }

    return CTL_OK;
}


void
ctl_redis_close(ctl_t *ctl)
{
    if (ctl->redis) {
        redisFree(ctl->redis);
        ctl->redis = NULL;
    }
}


static void
ctl_redis_io_error(ctl_t *ctl)
{
    if (ctl->redis->err == REDIS_ERR_IO
        && (errno == EAGAIN || errno == EWOULDBLOCK))
    {
        ctl_error("redis %s: timed out", ctl->address);
        return;
    }

    ctl_error("redis %s: %s", ctl->address, ctl->redis->errstr);
}


void
ctl_cmd_init(ctl_cmd_t *cmd, const char *name)
{
    memset(cmd, 0, sizeof(*cmd));
    ctl_cmd_arg(cmd, name);
}


void
ctl_cmd_arg(ctl_cmd_t *cmd, const char *arg)
{
    ctl_cmd_argn(cmd, arg, strlen(arg));
}


/* arg must live until the command is sent. */

void
ctl_cmd_argn(ctl_cmd_t *cmd, const char *arg, size_t len)
{
    int           n;
    size_t       *lens;
    const char  **argv;

    if (cmd->failed) {
        return;
    }

    if (cmd->argc == cmd->nalloc) {
        n = cmd->nalloc ? cmd->nalloc * 2 : 16;

        argv = realloc(cmd->argv, n * sizeof(*argv));
        if (argv == NULL) {
            cmd->failed = 1;
            return;
        }

        cmd->argv = argv;

        lens = realloc(cmd->lens, n * sizeof(*lens));
        if (lens == NULL) {
            cmd->failed = 1;
            return;
        }

        cmd->lens = lens;
        cmd->nalloc = n;
    }

    cmd->argv[cmd->argc] = arg;
    cmd->lens[cmd->argc] = len;
    cmd->argc++;
}


void
ctl_cmd_field(ctl_cmd_t *cmd, const char *field, const char *value)
{
    ctl_cmd_arg(cmd, field);
    ctl_cmd_arg(cmd, value);
}


void
ctl_cmd_free(ctl_cmd_t *cmd)
{
    free(cmd->argv);
    free(cmd->lens);
    memset(cmd, 0, sizeof(*cmd));
}


/*
 * Sends the command and frees it.  Returns the reply when its type is one
 * of types (a mask of CTL_R_*), else prints why and returns NULL.
 */

redisReply *
ctl_cmd_call(ctl_t *ctl, ctl_cmd_t *cmd, unsigned types)
{
    const char  *name;
    redisReply  *reply;

    name = cmd->argc ? cmd->argv[0] : "?";
    reply = NULL;

    if (cmd->failed) {
        ctl_error("out of memory");

    } else {
        reply = redisCommandArgv(ctl->redis, cmd->argc, cmd->argv,
                                 cmd->lens);
        if (reply == NULL) {
            ctl_redis_io_error(ctl);
        }
    }

    ctl_cmd_free(cmd);

    if (reply == NULL) {
        return NULL;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ctl_error("redis %s: %s: %.*s", ctl->address, name,
                  (int) reply->len, reply->str);
        freeReplyObject(reply);
        return NULL;
    }

    if (reply->type < 0 || reply->type > 31
        || !(types & CTL_R(reply->type)))
    {
        ctl_error("redis %s: %s: unexpected reply type %d", ctl->address,
                  name, reply->type);
        freeReplyObject(reply);
        return NULL;
    }

    return reply;
}


/* A command between MULTI and EXEC: its reply is "+QUEUED". */

int
ctl_cmd_queue(ctl_t *ctl, ctl_cmd_t *cmd)
{
    redisReply  *reply;

    reply = ctl_cmd_call(ctl, cmd, CTL_R_STATUS);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    freeReplyObject(reply);

    return CTL_OK;
}


static void
ctl_cmd_vargs(ctl_cmd_t *cmd, const char *arg0, va_list ap)
{
    const char  *arg;

    ctl_cmd_init(cmd, arg0);

    while ((arg = va_arg(ap, const char *)) != NULL) {
        ctl_cmd_arg(cmd, arg);
    }
}


/* ctl_redis_call(ctl, CTL_R_STRING | CTL_R_NIL, "GET", key, NULL) */

redisReply *
ctl_redis_call(ctl_t *ctl, unsigned types, const char *arg0, ...)
{
    va_list    ap;
    ctl_cmd_t  cmd;

    va_start(ap, arg0);
    ctl_cmd_vargs(&cmd, arg0, ap);
    va_end(ap);

    return ctl_cmd_call(ctl, &cmd, types);
}


/* The same, for a command whose reply only has to be of the right type. */

int
ctl_redis_do(ctl_t *ctl, unsigned types, const char *arg0, ...)
{
    va_list      ap;
    ctl_cmd_t    cmd;
    redisReply  *reply;

    va_start(ap, arg0);
    ctl_cmd_vargs(&cmd, arg0, ap);
    va_end(ap);

    reply = ctl_cmd_call(ctl, &cmd, types);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    freeReplyObject(reply);

    return CTL_OK;
}


int
ctl_redis_exists(ctl_t *ctl, const char *key, int *exists)
{
    redisReply  *reply;

    reply = ctl_redis_call(ctl, CTL_R_INTEGER, "EXISTS", key, NULL);
    if (reply == NULL) {
        return CTL_FAIL;
    }

    *exists = reply->integer > 0;
    freeReplyObject(reply);

    return CTL_OK;
}


/*
 * Optimistic transactions: attempt() WATCHes what it reads, checks it,
 * queues its writes between MULTI and EXEC, and returns CTL_RETRY when EXEC
 * found a watched key changed by someone else in the meantime.
 */

int
ctl_txn_retry(ctl_t *ctl, ctl_txn_pt attempt, void *data)
{
    int  i, rc;

    for (i = 0; i < CTL_TXN_ATTEMPTS; i++) {
        if (i > 0) {
            /* random backoff, growing: contenders stop colliding */
            usleep((1000 + randombytes_uniform(CTL_TXN_BACKOFF)) * i);
        }

        rc = attempt(ctl, data);

        if (rc == CTL_OK) {
            return rc;
        }

        if (rc != CTL_RETRY) {
            ctl_txn_abandon(ctl);
            return rc;
        }
    }

    return ctl_error("the data kept changing during %d attempts, nothing"
                     " was written: try again", CTL_TXN_ATTEMPTS);
}


/*
 * EXEC: the array of replies, or NULL, with *aborted set when a watched key
 * changed (nothing was written) and clear after an error (printed).
 */

redisReply *
ctl_txn_exec(ctl_t *ctl, int *aborted)
{
    size_t       i;
    redisReply  *reply, *r;

    *aborted = 0;

    reply = ctl_redis_call(ctl, CTL_R_ARRAY | CTL_R_NIL, "EXEC", NULL);
    if (reply == NULL) {
        return NULL;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        freeReplyObject(reply);
        *aborted = 1;
        return NULL;
    }

    for (i = 0; i < reply->elements; i++) {
        r = reply->element[i];

        /* Redis applies the rest of a transaction after an error in it */
        if (r->type == REDIS_REPLY_ERROR) {
            ctl_error("redis %s: error inside a transaction, partly"
                      " applied: %.*s", ctl->address, (int) r->len, r->str);
            freeReplyObject(reply);
            return NULL;
        }
    }

    return reply;
}


/* EXEC when its replies are not needed: CTL_OK, CTL_RETRY or CTL_FAIL. */

int
ctl_txn_commit(ctl_t *ctl)
{
    int          aborted;
    redisReply  *exec;

    exec = ctl_txn_exec(ctl, &aborted);
    if (exec == NULL) {
        return aborted ? CTL_RETRY : CTL_FAIL;
    }

    freeReplyObject(exec);

    return CTL_OK;
}


/*
 * After a failed attempt: DISCARD a MULTI being queued, else UNWATCH (an
 * error reply to DISCARD: there was none).  Silent: the failure that led
 * here was reported, and a broken connection shows in ctl_redis_usable().
 */

void
ctl_txn_abandon(ctl_t *ctl)
{
    int          discarded;
    redisReply  *reply;

    reply = ctl_redis_quiet(ctl, "DISCARD");
    if (reply == NULL) {
        return;
    }

    discarded = (reply->type == REDIS_REPLY_STATUS);
    freeReplyObject(reply);

    if (!discarded) {
        reply = ctl_redis_quiet(ctl, "UNWATCH");
        if (reply != NULL) {
            freeReplyObject(reply);
        }
    }
}


static redisReply *
ctl_redis_quiet(ctl_t *ctl, const char *command)
{
    size_t       len;
    const char  *argv[1];

    if (!ctl_redis_usable(ctl)) {
        return NULL;
    }

    argv[0] = command;
    len = strlen(command);

    return redisCommandArgv(ctl->redis, 1, argv, &len);
}


/* Connected, and no I/O error has spoilt the connection. */

int
ctl_redis_usable(const ctl_t *ctl)
{
    return ctl->redis != NULL && ctl->redis->err == 0;
}
