
/*
 * Redis Sentinel: which address is the primary now, per worker and
 * clientauth_redis sentinel= ... master=NAME.
 *
 * Every worker asks the sentinels in turn (in the order written, from the
 * first, then on from the last that answered), from the event loop, with
 * hiredis's async API: AUTH (sentinel_password=), then SENTINEL
 * get-master-addr-by-name NAME on a short-lived connection.  A sentinel
 * that does not answer within the directive's timeout, refuses, or knows
 * no such master passes the question to the next; when none answers, the
 * round starts again after a capped backoff.  Each sentinel is also kept
 * on a connection subscribed to +switch-master, so a failover is followed
 * the moment the first of them announces it (the others learn it up to
 * a hello period later); a subscription lost or made again asks again, in
 * case a failover was missed meanwhile, and is made again with backoff.
 *
 * The bridge (ngx_http_clientauth_redis.c) connects wherever
 * ngx_http_clientauth_sentinel_primary() says, checks ROLE, and calls
 * ngx_http_clientauth_sentinel_doubt() when a connection is lost, answers
 * -READONLY or is not a master: the sentinels are asked again, and a node
 * that is no longer the primary is forgotten until they name one.  While
 * none is known, requests fail closed (503) as with a Redis that is down.
 */


#include <hiredis/async.h>

#include "ngx_http_clientauth_redis.h"
#include "ca_sentinel.h"


#define NGX_HTTP_CLIENTAUTH_SENTINEL_BACKOFF_MIN   50
#define NGX_HTTP_CLIENTAUTH_SENTINEL_BACKOFF_MAX   2000


typedef struct ngx_http_clientauth_sentinel_s  ngx_http_clientauth_sentinel_t;

/* One connection to a sentinel: a question, or the subscription. */
typedef struct {
    ngx_http_clientauth_sentinel_t    *st;
    redisAsyncContext                 *ac;
    ngx_connection_t                  *conn;
    ngx_event_t                        deadline;
    ngx_event_t                        drop;
    ngx_event_t                        retry;      /* a subscription's */
    ngx_msec_t                         backoff;
    ngx_uint_t                         sentinel;   /* its index */
    unsigned                           sub:1;
    unsigned                           done:1;     /* answered, subscribed */
} ngx_http_clientauth_sentinel_link_t;


struct ngx_http_clientauth_sentinel_s {
    ngx_http_clientauth_redis_conf_t  *conf;
    ngx_log_t                         *log;

    ca_sentinel_addr_t                 primary;
    ca_sentinel_addr_t                 refused;    /* found not primary */
    ngx_uint_t                         epoch;      /* grows when it moves */
    ngx_uint_t                         named_by;   /* who said so */
    ngx_uint_t                         next;       /* whom to ask next */
    ngx_uint_t                         failed;     /* this round */
    ngx_msec_t                         backoff;    /* between rounds */

    ngx_event_t                        retry;
    ngx_event_t                        again;
    ngx_event_t                        doubt;

    ngx_http_clientauth_sentinel_link_t  query;
    ngx_http_clientauth_sentinel_link_t *subs;     /* one per sentinel */

    unsigned                           known:1;
    unsigned                           forget:1;
    unsigned                           exiting:1;
};


static void ngx_http_clientauth_sentinel_ask(
    ngx_http_clientauth_sentinel_t *st);
static void ngx_http_clientauth_sentinel_ask_handler(ngx_event_t *ev);
static void ngx_http_clientauth_sentinel_doubt_handler(ngx_event_t *ev);
static void ngx_http_clientauth_sentinel_round_failed(
    ngx_http_clientauth_sentinel_t *st);
static void ngx_http_clientauth_sentinel_set(
    ngx_http_clientauth_sentinel_t *st, ca_sentinel_addr_t *addr,
    ngx_uint_t by, ngx_uint_t announced);
static ngx_msec_t ngx_http_clientauth_sentinel_delay(ngx_msec_t *backoff);

static ngx_int_t ngx_http_clientauth_link_open(
    ngx_http_clientauth_sentinel_link_t *link, ngx_uint_t sentinel);
static void ngx_http_clientauth_link_closed(
    ngx_http_clientauth_sentinel_link_t *link);
static void ngx_http_clientauth_link_auth_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_clientauth_link_query_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_clientauth_link_sub_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_clientauth_link_deadline_handler(ngx_event_t *ev);
static void ngx_http_clientauth_link_retry_handler(ngx_event_t *ev);
static void ngx_http_clientauth_link_drop_handler(ngx_event_t *ev);
static void ngx_http_clientauth_link_read_handler(ngx_event_t *ev);
static void ngx_http_clientauth_link_write_handler(ngx_event_t *ev);
static void ngx_http_clientauth_link_watch(
    ngx_http_clientauth_sentinel_link_t *link, ngx_uint_t write,
    ngx_uint_t on);
static void ngx_http_clientauth_link_add_read(void *privdata);
static void ngx_http_clientauth_link_del_read(void *privdata);
static void ngx_http_clientauth_link_add_write(void *privdata);
static void ngx_http_clientauth_link_del_write(void *privdata);
static void ngx_http_clientauth_link_cleanup(void *privdata);


/* Per worker, by clientauth_redis index; conf NULL: not sentinel= */
static ngx_http_clientauth_sentinel_t  *ngx_http_clientauth_sentinel_states;
static ngx_uint_t                       ngx_http_clientauth_sentinel_n;


#define ngx_http_clientauth_sentinel_name(st, i)                              \
    (&((ngx_http_clientauth_sentinel_addr_t *)                                \
       (st)->conf->sentinels->elts)[i].name)


ngx_int_t
ngx_http_clientauth_sentinel_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                            i, j;
    ngx_http_clientauth_sentinel_t       *st;
    ngx_http_clientauth_redis_conf_t    **rcfs;
    ngx_http_clientauth_main_conf_t      *amcf;
    ngx_http_clientauth_sentinel_link_t  *sub;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_clientauth_module);
    if (amcf == NULL || amcf->redis.nelts == 0) {
        return NGX_OK;
    }

    st = ngx_pcalloc(cycle->pool, amcf->redis.nelts
                                  * sizeof(ngx_http_clientauth_sentinel_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clientauth_sentinel_states = st;
    ngx_http_clientauth_sentinel_n = amcf->redis.nelts;
    rcfs = amcf->redis.elts;

    for (i = 0; i < amcf->redis.nelts; i++, st++) {
        if (rcfs[i]->sentinels == NULL) {
            continue;
        }

        st->conf = rcfs[i];
        st->log = cycle->log;

        st->retry.handler = ngx_http_clientauth_sentinel_ask_handler;
        st->retry.data = st;
        st->retry.log = cycle->log;
        st->retry.cancelable = 1;

        st->again.handler = ngx_http_clientauth_sentinel_ask_handler;
        st->again.data = st;
        st->again.log = cycle->log;

        st->doubt.handler = ngx_http_clientauth_sentinel_doubt_handler;
        st->doubt.data = st;
        st->doubt.log = cycle->log;

        st->query.st = st;

        st->subs = ngx_pcalloc(cycle->pool, st->conf->sentinels->nelts
                               * sizeof(ngx_http_clientauth_sentinel_link_t));
        if (st->subs == NULL) {
            return NGX_ERROR;
        }

        ngx_http_clientauth_sentinel_ask(st);

        for (j = 0; j < st->conf->sentinels->nelts; j++) {
            sub = &st->subs[j];
            sub->st = st;
            sub->sub = 1;

            sub->retry.handler = ngx_http_clientauth_link_retry_handler;
            sub->retry.data = sub;
            sub->retry.log = cycle->log;
            sub->retry.cancelable = 1;

            if (ngx_http_clientauth_link_open(sub, j) != NGX_OK) {
                ngx_add_timer(&sub->retry,
                              ngx_http_clientauth_sentinel_delay(
                                  &sub->backoff));
            }
        }
    }

    return NGX_OK;
}


void
ngx_http_clientauth_sentinel_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                       i, j;
    ngx_http_clientauth_sentinel_t  *st;

    for (i = 0; i < ngx_http_clientauth_sentinel_n; i++) {
        st = &ngx_http_clientauth_sentinel_states[i];

        if (st->conf == NULL) {
            continue;
        }

        st->exiting = 1;

        if (st->query.ac) {
            redisAsyncFree(st->query.ac);
        }

        for (j = 0; j < st->conf->sentinels->nelts; j++) {
            if (st->subs[j].ac) {
                redisAsyncFree(st->subs[j].ac);
            }

            if (st->subs[j].retry.timer_set) {
                ngx_del_timer(&st->subs[j].retry);
            }
        }

        if (st->doubt.posted) {
            ngx_delete_posted_event(&st->doubt);
        }

        if (st->again.posted) {
            ngx_delete_posted_event(&st->again);
        }
    }

    ngx_http_clientauth_sentinel_n = 0;
}


static ngx_http_clientauth_sentinel_t *
ngx_http_clientauth_sentinel_for(ngx_http_clientauth_redis_conf_t *rcf)
{
    ngx_http_clientauth_sentinel_t  *st;

    if (rcf->index >= ngx_http_clientauth_sentinel_n) {
        return NULL;
    }

    st = &ngx_http_clientauth_sentinel_states[rcf->index];

    return (st->conf == rcf) ? st : NULL;
}


ngx_int_t
ngx_http_clientauth_sentinel_primary(ngx_http_clientauth_redis_conf_t *rcf,
    const char **host, int *port, ngx_uint_t *epoch)
{
    ngx_http_clientauth_sentinel_t  *st;

    st = ngx_http_clientauth_sentinel_for(rcf);

    if (st == NULL || !st->known) {
        return NGX_DECLINED;
    }

    *host = st->primary.host;
    *port = st->primary.port;
    *epoch = st->epoch;

    return NGX_OK;
}


ngx_uint_t
ngx_http_clientauth_sentinel_epoch(ngx_http_clientauth_redis_conf_t *rcf)
{
    ngx_http_clientauth_sentinel_t  *st;

    st = ngx_http_clientauth_sentinel_for(rcf);

    return st ? st->epoch : 0;
}


/*
 * A connection to the primary was lost (ask again: a failover may be under
 * way), or found it is not the primary (forget it too).  Posted: the
 * bridge calls this from inside hiredis.
 */

void
ngx_http_clientauth_sentinel_doubt(ngx_http_clientauth_redis_conf_t *rcf,
    ngx_uint_t forget)
{
    ngx_http_clientauth_sentinel_t  *st;

    st = ngx_http_clientauth_sentinel_for(rcf);

    if (st == NULL || st->exiting) {
        return;
    }

    if (forget) {
        st->forget = 1;
    }

    if (!st->doubt.posted) {
        ngx_post_event(&st->doubt, &ngx_posted_events);
    }
}


static void
ngx_http_clientauth_sentinel_doubt_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_sentinel_t  *st;

    st = ev->data;

    /* the one who named it may be wrong: the next one is asked */
    st->next = (st->named_by + 1) % st->conf->sentinels->nelts;

    if (st->forget) {
        st->forget = 0;

        if (st->known) {
            ngx_log_error(NGX_LOG_WARN, st->log, 0,
                          "clientauth: redis %V at %s:%d is not the primary "
                          "any more, asking the sentinels",
                          &st->conf->name, st->primary.host,
                          st->primary.port);

            st->refused = st->primary;
            st->known = 0;
            st->epoch++;
            ngx_http_clientauth_redis_follow(st->conf, 0);
        }
    }

    ngx_http_clientauth_sentinel_ask(st);
}


static void
ngx_http_clientauth_sentinel_ask_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_sentinel_ask(ev->data);
}


static void
ngx_http_clientauth_sentinel_ask(ngx_http_clientauth_sentinel_t *st)
{
    if (st->exiting || st->query.ac) {
        /* a question is on its way: its answer will do */
        return;
    }

    if (st->retry.timer_set) {
        ngx_del_timer(&st->retry);
    }

    if (ngx_http_clientauth_link_open(&st->query, st->next) != NGX_OK) {
        ngx_http_clientauth_sentinel_round_failed(st);
    }
}


/* The sentinel asked did not answer: the next one, or a pause. */

static void
ngx_http_clientauth_sentinel_round_failed(ngx_http_clientauth_sentinel_t *st)
{
    ngx_msec_t  delay;

    st->next = (st->query.sentinel + 1) % st->conf->sentinels->nelts;

    if (++st->failed < st->conf->sentinels->nelts) {
        if (!st->again.posted) {
            ngx_post_event(&st->again, &ngx_posted_events);
        }

        return;
    }

    st->failed = 0;
    delay = ngx_http_clientauth_sentinel_delay(&st->backoff);

    ngx_log_error(NGX_LOG_WARN, st->log, 0,
                  "clientauth: no sentinel told where the primary of redis "
                  "%V is, asking again in %M ms", &st->conf->name, delay);

    if (!st->retry.timer_set) {
        ngx_add_timer(&st->retry, delay);
    }
}


static ngx_msec_t
ngx_http_clientauth_sentinel_delay(ngx_msec_t *backoff)
{
    if (*backoff == 0) {
        *backoff = NGX_HTTP_CLIENTAUTH_SENTINEL_BACKOFF_MIN;

    } else {
        *backoff = ngx_min(*backoff * 2,
                           NGX_HTTP_CLIENTAUTH_SENTINEL_BACKOFF_MAX);
    }

    /* half fixed, half random: workers spread their questions */
    return *backoff / 2 + (ngx_msec_t) ngx_random() % (*backoff / 2 + 1);
}


/*
 * A sentinel named the primary: the bridge follows if it moved, at once
 * unless to the node just found not to be the primary (a sentinel behind
 * the others), which it retries with its backoff.  The sentinel that
 * named it is asked first from now on.
 */

static void
ngx_http_clientauth_sentinel_set(ngx_http_clientauth_sentinel_t *st,
    ca_sentinel_addr_t *addr, ngx_uint_t by, ngx_uint_t announced)
{
    ngx_uint_t  again;

    st->named_by = by;
    st->next = by;

    if (st->known && st->primary.port == addr->port
        && ngx_strcmp(st->primary.host, addr->host) == 0)
    {
        return;
    }

    again = (st->refused.port == addr->port
             && ngx_strcmp(st->refused.host, addr->host) == 0);

    if (announced || !again) {
        st->refused.port = 0;
    }

    if (st->epoch == 0) {
        ngx_log_error(NGX_LOG_NOTICE, st->log, 0,
                      "clientauth: redis %V: the primary is %s:%d "
                      "(sentinel %V)", &st->conf->name, addr->host,
                      addr->port, ngx_http_clientauth_sentinel_name(st, by));

    } else {
        ngx_log_error(NGX_LOG_WARN, st->log, 0,
                      "clientauth: redis %V: the primary is now %s:%d "
                      "(sentinel %V), reconnecting", &st->conf->name,
                      addr->host, addr->port,
                      ngx_http_clientauth_sentinel_name(st, by));

        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_FAILOVER);
    }

    st->primary = *addr;
    st->known = 1;
    st->epoch++;

    ngx_http_clientauth_redis_follow(st->conf, announced || !again);
}


/*
 * A connection to sentinel number i, driven by nginx's event loop as the
 * bridge's are: AUTH if configured, then the question or the subscription.
 */

static ngx_int_t
ngx_http_clientauth_link_open(ngx_http_clientauth_sentinel_link_t *link,
    ngx_uint_t i)
{
    int                                   rc;
    ngx_str_t                            *pw;
    ngx_connection_t                     *c;
    redisAsyncContext                    *ac;
    ngx_http_clientauth_sentinel_t       *st;
    ngx_http_clientauth_sentinel_addr_t  *sa;

    st = link->st;
    sa = &((ngx_http_clientauth_sentinel_addr_t *)
           st->conf->sentinels->elts)[i];

    link->sentinel = i;
    link->done = 0;

    ac = redisAsyncConnect((char *) sa->host.data, sa->port);
    if (ac == NULL) {
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_WARN, st->log, 0,
                      "clientauth: cannot connect to sentinel %V: %s",
                      &sa->name, ac->errstr);
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, st->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c->data = link;
    c->read->handler = ngx_http_clientauth_link_read_handler;
    c->write->handler = ngx_http_clientauth_link_write_handler;
    c->read->log = st->log;
    c->write->log = st->log;

    link->ac = ac;
    link->conn = c;

    ac->data = link;
    ac->ev.data = link;
    ac->ev.addRead = ngx_http_clientauth_link_add_read;
    ac->ev.delRead = ngx_http_clientauth_link_del_read;
    ac->ev.addWrite = ngx_http_clientauth_link_add_write;
    ac->ev.delWrite = ngx_http_clientauth_link_del_write;
    ac->ev.cleanup = ngx_http_clientauth_link_cleanup;

    link->deadline.handler = ngx_http_clientauth_link_deadline_handler;
    link->deadline.data = link;
    link->deadline.log = st->log;
    link->deadline.cancelable = 1;

    link->drop.handler = ngx_http_clientauth_link_drop_handler;
    link->drop.data = link;
    link->drop.log = st->log;

    pw = &st->conf->sentinel_password;
    rc = REDIS_OK;

    if (pw->len) {
        rc = redisAsyncCommand(ac, ngx_http_clientauth_link_auth_reply, link,
                               "AUTH %b", pw->data, pw->len);
    }

    if (rc == REDIS_OK && link->sub) {
        /* it only listens: a sentinel gone without a word is noticed by
         * TCP keepalive (a setsockopt(), it does not block) */
        (void) redisEnableKeepAlive(&ac->c);

        rc = redisAsyncCommand(ac, ngx_http_clientauth_link_sub_reply, link,
                               "SUBSCRIBE +switch-master");

    } else if (rc == REDIS_OK) {
        rc = redisAsyncCommand(ac, ngx_http_clientauth_link_query_reply,
                               link, "SENTINEL get-master-addr-by-name %b",
                               st->conf->master.data, st->conf->master.len);
    }

    if (rc != REDIS_OK) {
        ngx_post_event(&link->drop, &ngx_posted_events);
    }

    ngx_add_timer(&link->deadline, st->conf->timeout);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, st->log, 0,
                   "clientauth: %s sentinel %V",
                   link->sub ? "subscribing on" : "asking", &sa->name);

    return NGX_OK;
}


static void
ngx_http_clientauth_link_auth_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                           *r = reply;
    ngx_http_clientauth_sentinel_link_t  *link = privdata;

    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, link->st->log, 0,
                      "clientauth: sentinel %V refused AUTH: %s",
                      ngx_http_clientauth_sentinel_name(link->st,
                                                        link->sentinel),
                      r->str);
    }
}


static void
ngx_http_clientauth_link_query_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_int_t                             rc;
    redisReply                           *r = reply;
    ca_sentinel_addr_t                    addr;
    ngx_http_clientauth_sentinel_t       *st;
    ngx_http_clientauth_sentinel_link_t  *link = privdata;

    if (r == NULL) {
        /* the connection is going */
        return;
    }

    st = link->st;
    rc = ca_sentinel_master_addr(r, &addr);

    if (rc == CA_SENTINEL_OK) {
        link->done = 1;
        st->failed = 0;
        st->backoff = 0;
        ngx_http_clientauth_sentinel_set(st, &addr, link->sentinel, 0);

    } else {
        ngx_log_error(NGX_LOG_WARN, st->log, 0,
                      "clientauth: sentinel %V does not know the primary "
                      "\"%V\" (%s)",
                      ngx_http_clientauth_sentinel_name(st, link->sentinel),
                      &st->conf->master,
                      r->type == REDIS_REPLY_ERROR ? r->str
                      : (rc == CA_SENTINEL_UNKNOWN ? "no such master"
                                                   : "unexpected reply"));
    }

    /* not from inside hiredis */
    ngx_post_event(&link->drop, &ngx_posted_events);
}


static void
ngx_http_clientauth_link_sub_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_int_t                             rc;
    redisReply                           *r = reply;
    ca_sentinel_addr_t                    addr;
    ngx_http_clientauth_sentinel_t       *st;
    ngx_http_clientauth_sentinel_link_t  *link = privdata;

    if (r == NULL) {
        return;
    }

    st = link->st;

    if (r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_WARN, st->log, 0,
                      "clientauth: sentinel %V refused SUBSCRIBE: %s",
                      ngx_http_clientauth_sentinel_name(st, link->sentinel),
                      r->str);
        ngx_post_event(&link->drop, &ngx_posted_events);
        return;
    }

    rc = ca_sentinel_switch(r, (char *) st->conf->master.data,
                            st->conf->master.len, &addr);

    if (rc == CA_SENTINEL_OK) {
        ngx_http_clientauth_sentinel_set(st, &addr, link->sentinel, 1);
        return;
    }

    if (rc == CA_SENTINEL_BAD) {
        ngx_log_error(NGX_LOG_WARN, st->log, 0,
                      "clientauth: sentinel %V sent a malformed "
                      "+switch-master message",
                      ngx_http_clientauth_sentinel_name(st, link->sentinel));
        return;
    }

    if (!link->done) {
        /* subscribed: a failover missed while it was not is caught by
         * asking once more */
        link->done = 1;
        link->backoff = 0;

        if (link->deadline.timer_set) {
            ngx_del_timer(&link->deadline);
        }

        ngx_log_error(NGX_LOG_INFO, st->log, 0,
                      "clientauth: redis %V: following failovers through "
                      "sentinel %V", &st->conf->name,
                      ngx_http_clientauth_sentinel_name(st, link->sentinel));

        if (!st->again.posted) {
            ngx_post_event(&st->again, &ngx_posted_events);
        }
    }
}


/* A question unanswered asks the next; a subscription lost is made again. */

static void
ngx_http_clientauth_link_closed(ngx_http_clientauth_sentinel_link_t *link)
{
    ngx_http_clientauth_sentinel_t  *st;

    st = link->st;

    if (st->exiting) {
        return;
    }

    if (!link->sub) {
        if (!link->done) {
            ngx_http_clientauth_sentinel_round_failed(st);
        }

        return;
    }

    if (link->done) {
        ngx_log_error(NGX_LOG_WARN, st->log, 0,
                      "clientauth: lost the connection to sentinel %V, "
                      "subscribing again",
                      ngx_http_clientauth_sentinel_name(st, link->sentinel));

        /* the next question skips it */
        if (st->next == link->sentinel) {
            st->next = (link->sentinel + 1) % st->conf->sentinels->nelts;
        }
    }

    if (!link->retry.timer_set) {
        ngx_add_timer(&link->retry,
                      ngx_http_clientauth_sentinel_delay(&link->backoff));
    }
}


static void
ngx_http_clientauth_link_retry_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_sentinel_link_t  *link = ev->data;

    if (link->ac || link->st->exiting) {
        return;
    }

    if (ngx_http_clientauth_link_open(link, link->sentinel) != NGX_OK) {
        ngx_add_timer(&link->retry,
                      ngx_http_clientauth_sentinel_delay(&link->backoff));
    }
}


static void
ngx_http_clientauth_link_deadline_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_sentinel_link_t  *link = ev->data;

    ngx_log_error(NGX_LOG_WARN, link->st->log, 0,
                  "clientauth: sentinel %V did not answer within %M ms",
                  ngx_http_clientauth_sentinel_name(link->st, link->sentinel),
                  link->st->conf->timeout);

    if (link->ac) {
        redisAsyncFree(link->ac);
    }
}


static void
ngx_http_clientauth_link_drop_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_sentinel_link_t  *link = ev->data;

    if (link->ac) {
        redisAsyncFree(link->ac);       /* ends in the cleanup hook */
    }
}


static void
ngx_http_clientauth_link_read_handler(ngx_event_t *ev)
{
    ngx_connection_t                     *c = ev->data;
    ngx_http_clientauth_sentinel_link_t  *link = c->data;

    redisAsyncHandleRead(link->ac);
}


static void
ngx_http_clientauth_link_write_handler(ngx_event_t *ev)
{
    ngx_connection_t                     *c = ev->data;
    ngx_http_clientauth_sentinel_link_t  *link = c->data;

    redisAsyncHandleWrite(link->ac);
}


/* hiredis's event hooks: interest in reading or writing, on or off. */

static void
ngx_http_clientauth_link_watch(ngx_http_clientauth_sentinel_link_t *link,
    ngx_uint_t write, ngx_uint_t on)
{
    ngx_int_t  rc;

    if (write) {
        rc = ngx_http_clientauth_redis_interest(link->conn->write,
                                                NGX_WRITE_EVENT, on);

    } else {
        rc = ngx_http_clientauth_redis_interest(link->conn->read,
                                                NGX_READ_EVENT, on);
    }

    if (rc != NGX_OK) {
        ngx_post_event(&link->drop, &ngx_posted_events);
    }
}


static void
ngx_http_clientauth_link_add_read(void *privdata)
{
    ngx_http_clientauth_link_watch(privdata, 0, 1);
}


static void
ngx_http_clientauth_link_del_read(void *privdata)
{
    ngx_http_clientauth_link_watch(privdata, 0, 0);
}


static void
ngx_http_clientauth_link_add_write(void *privdata)
{
    ngx_http_clientauth_link_watch(privdata, 1, 1);
}


static void
ngx_http_clientauth_link_del_write(void *privdata)
{
    ngx_http_clientauth_link_watch(privdata, 1, 0);
}


static void
ngx_http_clientauth_link_cleanup(void *privdata)
{
    ngx_http_clientauth_sentinel_link_t  *link = privdata;

    ngx_http_clientauth_redis_release(link->conn);

    link->conn = NULL;
    link->ac = NULL;

    if (link->deadline.timer_set) {
        ngx_del_timer(&link->deadline);
    }

    if (link->drop.posted) {
        ngx_delete_posted_event(&link->drop);
    }

    ngx_http_clientauth_link_closed(link);
}
