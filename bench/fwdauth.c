/*
 * fwdauth: the forward-auth service of the benchmark's auth_request variant.
 *
 * The common way to protect a portal behind nginx without a module: nginx
 * sends a subrequest (auth_request) to a small authentication service that
 * checks the session cookie in Redis and answers 200 with the identity in
 * headers, or 401.  This one is written to be the best case of that design,
 * so the comparison with in-process validation is fair: C, one thread, epoll,
 * HTTP/1.1 keep-alive, and hiredis's async API with every session lookup
 * pipelined on one Redis connection.  It checks exactly what the module
 * checks: the cookie is hashed as ca_token_session() does (BLAKE2b-256 of
 * the base64url-decoded token, hex), the key is ca_key_session()'s
 * ca:{<brand>:<account>}:sess:<hash>, one HMGET a u p x s, and the session is valid when
 * all fields are there, the ids are well-formed, the absolute expiry (x) is
 * in the future and the last refresh (s) is within the idle timeout.
 *
 *   fwdauth --listen PORT --redis HOST:PORT --brand NAME
 *           [--cookie NAME] [--idle-ms N]
 *
 * Listens on 127.0.0.1 only.  Exits on SIGTERM/SIGINT, or when Redis goes
 * away (it is a benchmark tool: failing loudly beats reconnecting).
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <sodium.h>

#include "ca_keys.h"
#include "ca_token.h"


#define FA_INBUF    8192
#define FA_OUTBUF   1024
#define FA_EVENTS   256


typedef struct fa_conn_s  fa_conn_t;

struct fa_conn_s {
    fa_conn_t  *next_dead;
    int         fd;
    int         refs;          /* 1 for the socket, 1 per command in flight */
    int         closed;
    int         waiting;       /* a session lookup is in flight */
    int         want_write;
    size_t      inlen;
    size_t      outlen;
    size_t      outpos;
    char        in[FA_INBUF];
    char        out[FA_OUTBUF];
};


/* The epoll user data of the listening socket and of Redis. */
static char                    fa_listen_tag, fa_redis_tag;

static int                     fa_ep;
static int                     fa_listen_fd;
static redisAsyncContext      *fa_redis;
static int                     fa_redis_mask;
static const char             *fa_brand;
static char                    fa_cookie[64];
static size_t                  fa_cookie_len;
static int64_t                 fa_idle_ms = 30 * 60 * 1000;
static volatile sig_atomic_t   fa_stop;

/* freed after each epoll batch: a later event of the batch may name them */
static fa_conn_t              *fa_dead;


static void fa_conn_release(fa_conn_t *c);
static void fa_conn_process(fa_conn_t *c);


static int64_t
fa_now_ms(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}


static void
fa_die(const char *what)
{
    fprintf(stderr, "fwdauth: %s: %s\n", what, strerror(errno));
    exit(1);
}


/* ----------------------------------------------------- hiredis on epoll */

static void
fa_redis_update(int mask)
{
    struct epoll_event  ev;
    int                 op;

    if (mask == fa_redis_mask) {
        return;
    }

    ev.events = mask;
    ev.data.ptr = &fa_redis_tag;

    if (fa_redis_mask == 0) {
        op = EPOLL_CTL_ADD;

    } else if (mask == 0) {
        op = EPOLL_CTL_DEL;

    } else {
        op = EPOLL_CTL_MOD;
    }

    if (epoll_ctl(fa_ep, op, fa_redis->c.fd, &ev) != 0) {
        fa_die("epoll_ctl(redis)");
    }

    fa_redis_mask = mask;
}


static void
fa_redis_add_read(void *privdata)
{
    fa_redis_update(fa_redis_mask | EPOLLIN);
}


static void
fa_redis_del_read(void *privdata)
{
    fa_redis_update(fa_redis_mask & ~EPOLLIN);
}


static void
fa_redis_add_write(void *privdata)
{
    fa_redis_update(fa_redis_mask | EPOLLOUT);
}


static void
fa_redis_del_write(void *privdata)
{
    fa_redis_update(fa_redis_mask & ~EPOLLOUT);
}


static void
fa_redis_cleanup(void *privdata)
{
    fa_redis_update(0);
}


static void
fa_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    fprintf(stderr, "fwdauth: lost redis: %s\n",
            ac->errstr[0] ? ac->errstr : "closed");
    exit(1);
}


static void
fa_redis_connect(const char *addr)
{
    char         host[256];
    size_t       len;
    const char  *colon;

    colon = strrchr(addr, ':');
    len = colon ? (size_t) (colon - addr) : 0;

    if (colon == NULL || len == 0 || len >= sizeof(host)) {
        fprintf(stderr, "fwdauth: --redis wants HOST:PORT\n");
        exit(2);
    }

    memcpy(host, addr, len);
    host[len] = '\0';

    fa_redis = redisAsyncConnect(host, atoi(colon + 1));
    if (fa_redis == NULL || fa_redis->err) {
        fprintf(stderr, "fwdauth: cannot connect to redis %s\n", addr);
        exit(1);
    }

    fa_redis->ev.addRead = fa_redis_add_read;
    fa_redis->ev.delRead = fa_redis_del_read;
    fa_redis->ev.addWrite = fa_redis_add_write;
    fa_redis->ev.delWrite = fa_redis_del_write;
    fa_redis->ev.cleanup = fa_redis_cleanup;
    fa_redis->ev.data = NULL;

    redisAsyncSetDisconnectCallback(fa_redis, fa_redis_on_disconnect);

    /* a non-blocking connect completes when the socket turns writable */
    fa_redis_add_write(NULL);
}


/* ------------------------------------------------------------ responses */

static void
fa_conn_flush(fa_conn_t *c)
{
    ssize_t             n;
    struct epoll_event  ev;
    int                 want;

    while (c->outpos < c->outlen) {
        n = write(c->fd, c->out + c->outpos, c->outlen - c->outpos);

        if (n > 0) {
            c->outpos += n;
            continue;
        }

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }

        c->closed = 1;
        return;
    }

    if (c->outpos == c->outlen) {
        c->outpos = c->outlen = 0;
    }

    want = (c->outlen != 0);

    if (want != c->want_write) {
        ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
        ev.data.ptr = c;
        epoll_ctl(fa_ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_write = want;
    }
}


static void
fa_conn_respond(fa_conn_t *c, const char *status, const char *account,
    const char *user, const char *perms, size_t plen)
{
    int  n;

    if (account) {
        n = snprintf(c->out + c->outlen, FA_OUTBUF - c->outlen,
                     "HTTP/1.1 %s\r\nContent-Length: 0\r\n"
                     "X-Client-Account: %s\r\nX-Client-User: %s\r\n"
                     "X-Client-Permissions: %.*s\r\n\r\n",
                     status, account, user, (int) plen, perms);

    } else {
        n = snprintf(c->out + c->outlen, FA_OUTBUF - c->outlen,
                     "HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n", status);
    }

    if (n < 0 || (size_t) n >= FA_OUTBUF - c->outlen) {
        c->closed = 1;
        return;
    }

    c->outlen += n;
    fa_conn_flush(c);
}


/* -------------------------------------------------------- session check */

static int
fa_id_ok(redisReply *r)
{
    return r->type == REDIS_REPLY_STRING && ca_id_is_valid(r->str, r->len);
}


static int
fa_int64(redisReply *r, int64_t *v)
{
    char  *end;

    if (r->type != REDIS_REPLY_STRING || r->len == 0) {
        return -1;
    }

    *v = strtoll(r->str, &end, 10);

    return end == r->str + r->len ? 0 : -1;
}


static void
fa_session_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    int64_t      x, s, now;
    redisReply  *reply = r;
    fa_conn_t   *c = privdata;

    c->waiting = 0;
    c->refs--;                         /* the command's reference */

    if (c->fd < 0) {
        fa_conn_release(c);            /* the client went away meanwhile */
        return;
    }

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 5)
    {
        fa_conn_respond(c, "503 Service Unavailable", NULL, NULL, NULL, 0);

    } else if (fa_id_ok(reply->element[0]) && fa_id_ok(reply->element[1])
               && reply->element[2]->type == REDIS_REPLY_STRING
               && fa_int64(reply->element[3], &x) == 0
               && fa_int64(reply->element[4], &s) == 0
               && (now = fa_now_ms()) < x && now - s < fa_idle_ms)
    {
        fa_conn_respond(c, "200 OK", reply->element[0]->str,
                        reply->element[1]->str, reply->element[2]->str,
                        reply->element[2]->len);

    } else {
        fa_conn_respond(c, "401 Unauthorized", NULL, NULL, NULL, 0);
    }

    fa_conn_process(c);
}


/* Finds NAME=value in the Cookie header between p and end. */
static int
fa_find_cookie(const char *p, const char *end, const char **val,
    size_t *len)
{
    const char  *v;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == ';')) {
            p++;
        }

        v = p;

        while (v < end && *v != ';') {
            v++;
        }

        if ((size_t) (v - p) > fa_cookie_len
            && memcmp(p, fa_cookie, fa_cookie_len) == 0)
        {
            *val = p + fa_cookie_len;
            *len = v - *val;
            return 0;
        }

        p = v;
    }

    return -1;
}


/*
 * Handles one request whose headers end at hend; returns the bytes it
 * consumed, or 0 while the body (which is not needed) is still incomplete.
 */
static size_t
fa_request(fa_conn_t *c, const char *hend)
{
    const char  *p, *eol, *cookie = NULL;
    size_t       clen = 0, cookie_len = 0, used;
    char         hash[CA_TOKEN_HASH_LEN + 1];
    char         named[CA_TOKEN_ID_LEN], named_user[CA_TOKEN_ID_LEN];
    char         key[CA_KEY_MAX];
    const char  *argv[7];
    size_t       argvlen[7];
    int          i;

    static const char  *fields[5] = { "a", "u", "p", "x", "s" };

    /* skip the request line; look at the headers we need */
    p = memchr(c->in, '\n', hend - c->in);
    p = p ? p + 1 : hend;

    for ( /* void */ ; p < hend; p = eol + 1) {
        eol = memchr(p, '\n', hend - p);
        if (eol == NULL) {
            break;
        }

        if (eol - p > 7 && strncasecmp(p, "cookie:", 7) == 0) {
            const char  *v = p + 7, *e = eol;

            while (e > v && (e[-1] == '\r' || e[-1] == ' ')) {
                e--;
            }

            if (cookie == NULL) {
                fa_find_cookie(v, e, &cookie, &cookie_len);
            }

        } else if (eol - p > 15 && strncasecmp(p, "content-length:", 15) == 0)
        {
            clen = strtoul(p + 15, NULL, 10);
        }
    }

    used = (hend - c->in) + clen;

    if (used > c->inlen) {
        if (used > FA_INBUF) {
            c->closed = 1;             /* a body larger than the buffer */
        }
        return 0;
    }

    if (cookie == NULL
        || ca_token_session(cookie, cookie_len, hash, named, named_user)
           != 0
        || ca_key_session(key, sizeof(key), fa_brand, named, hash) < 0)
    {
        fa_conn_respond(c, "401 Unauthorized", NULL, NULL, NULL, 0);
        return used;
    }

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = key;
    argvlen[1] = strlen(key);

    for (i = 0; i < 5; i++) {
        argv[2 + i] = fields[i];
        argvlen[2 + i] = 1;
    }

    if (redisAsyncCommandArgv(fa_redis, fa_session_reply, c, 7, argv, argvlen)
        != REDIS_OK)
    {
        fa_conn_respond(c, "503 Service Unavailable", NULL, NULL, NULL, 0);
        return used;
    }

    c->waiting = 1;
    c->refs++;

    return used;
}


/* Serves the complete requests in the buffer, one at a time, in order. */
static void
fa_conn_process(fa_conn_t *c)
{
    char    *hend;
    size_t   used;

    while (!c->waiting && !c->closed && c->inlen > 0) {
        hend = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (hend == NULL) {
            if (c->inlen == FA_INBUF) {
                c->closed = 1;          /* headers too large */
            }
            break;
        }

        used = fa_request(c, hend + 4);
        if (used == 0) {
            break;
        }

        memmove(c->in, c->in + used, c->inlen - used);
        c->inlen -= used;
    }

    if (c->closed) {
        fa_conn_release(c);
    }
}


/* ---------------------------------------------------------- connections */

static void
fa_conn_release(fa_conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(fa_ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        c->closed = 1;
        c->refs--;                     /* the socket's reference */
    }

    if (c->refs == 0) {
        c->refs = -1;
        c->next_dead = fa_dead;
        fa_dead = c;
    }
}


static void
fa_accept(void)
{
    int                 fd, one = 1;
    fa_conn_t          *c;
    struct epoll_event  ev;

    for ( ;; ) {
        fd = accept4(fa_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }

        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        c = calloc(1, sizeof(fa_conn_t));
        if (c == NULL) {
            close(fd);
            continue;
        }

        c->fd = fd;
        c->refs = 1;

        ev.events = EPOLLIN;
        ev.data.ptr = c;

        if (epoll_ctl(fa_ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
        }
    }
}


static void
fa_conn_event(fa_conn_t *c, uint32_t events)
{
    ssize_t  n;

    if (c->fd < 0) {
        return;                        /* released earlier in this batch */
    }

    if (events & EPOLLOUT) {
        fa_conn_flush(c);

        if (c->closed) {
            fa_conn_release(c);
            return;
        }
    }

    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        return;
    }

    for ( ;; ) {
        if (c->inlen == FA_INBUF) {
            break;
        }

        n = read(c->fd, c->in + c->inlen, FA_INBUF - c->inlen);

        if (n > 0) {
            c->inlen += n;
            continue;
        }

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }

        c->closed = 1;                 /* EOF or error */
        break;
    }

    if (c->closed) {
        fa_conn_release(c);
        return;
    }

    fa_conn_process(c);
}


static void
fa_on_signal(int signo)
{
    fa_stop = 1;
}


static void
fa_usage(void)
{
    fprintf(stderr, "usage: fwdauth --listen PORT --redis HOST:PORT "
            "--brand NAME [--cookie NAME] [--idle-ms N]\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int                  i, n, port = 0, one = 1;
    const char          *redis = NULL, *cookie = NULL;
    struct sockaddr_in   sin;
    struct epoll_event   ev, events[FA_EVENTS];

    for (i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            fa_usage();
        }

        if (strcmp(argv[i], "--listen") == 0) {
            port = atoi(argv[++i]);

        } else if (strcmp(argv[i], "--redis") == 0) {
            redis = argv[++i];

        } else if (strcmp(argv[i], "--brand") == 0) {
            fa_brand = argv[++i];

        } else if (strcmp(argv[i], "--cookie") == 0) {
            cookie = argv[++i];

        } else if (strcmp(argv[i], "--idle-ms") == 0) {
            fa_idle_ms = atoll(argv[++i]);

        } else {
            fa_usage();
        }
    }

    if (port <= 0 || redis == NULL || fa_brand == NULL
        || !ca_brand_is_valid(fa_brand, strlen(fa_brand)))
    {
        fa_usage();
    }

    if (cookie) {
        n = snprintf(fa_cookie, sizeof(fa_cookie), "%s=", cookie);

    } else {
        n = snprintf(fa_cookie, sizeof(fa_cookie), "clientauth_%s=",
                     fa_brand);
    }

    if (n < 0 || (size_t) n >= sizeof(fa_cookie)) {
        fa_usage();
    }

    fa_cookie_len = n;

    if (sodium_init() < 0) {
        fprintf(stderr, "fwdauth: sodium_init failed\n");
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, fa_on_signal);
    signal(SIGINT, fa_on_signal);

    fa_ep = epoll_create1(EPOLL_CLOEXEC);
    if (fa_ep < 0) {
        fa_die("epoll_create1");
    }

    fa_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          0);
    if (fa_listen_fd < 0) {
        fa_die("socket");
    }

    setsockopt(fa_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fa_listen_fd, (struct sockaddr *) &sin, sizeof(sin)) != 0) {
        fa_die("bind");
    }

    if (listen(fa_listen_fd, 1024) != 0) {
        fa_die("listen");
    }

    ev.events = EPOLLIN;
    ev.data.ptr = &fa_listen_tag;
    epoll_ctl(fa_ep, EPOLL_CTL_ADD, fa_listen_fd, &ev);

    fa_redis_connect(redis);

    while (!fa_stop) {
        n = epoll_wait(fa_ep, events, FA_EVENTS, 1000);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fa_die("epoll_wait");
        }

        for (i = 0; i < n; i++) {
            if (events[i].data.ptr == &fa_listen_tag) {
                fa_accept();

            } else if (events[i].data.ptr == &fa_redis_tag) {
                if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                    redisAsyncHandleRead(fa_redis);
                }

                if (fa_redis && (events[i].events & EPOLLOUT)) {
                    redisAsyncHandleWrite(fa_redis);
                }

            } else {
                fa_conn_event(events[i].data.ptr, events[i].events);
            }
        }

        while (fa_dead) {
            fa_conn_t  *c = fa_dead;

            fa_dead = c->next_dead;
            free(c);
        }
    }

    return 0;
}
