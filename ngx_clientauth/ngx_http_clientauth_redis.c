
/*
 * The Redis bridge.
 *
 * hiredis's async API is driven by nginx's event loop through an adapter
 * (add/del read/write, cleanup), with level-triggered events so that a write
 * interest hiredis re-arms is never lost.  hiredis 0.14 has no timer hook, so
 * deadlines are kept here: the in-flight commands form a FIFO (Redis answers
 * in order), and one timer watches the oldest.  A command past its deadline
 * means Redis is stuck: the connection is dropped, every waiting request
 * fails closed (503), and a reconnect follows with capped, jittered backoff.
 *
 * Command state lives outside r->pool, in a per-worker free list, so a
 * request that goes away while its command is in flight only detaches it.
 *
 * Beside the shared pipelined connection, each bridge keeps a few dedicated
 * connections for check-and-set transactions (WATCH, read, compare in C,
 * MULTI ... EXEC), which cannot share it: another request's EXEC would end
 * the WATCH, and other commands would run between.  A request holds one from
 * its WATCH to its EXEC (never while it hashes), or queues for one, in a
 * bounded queue; they have the same deadlines, handshake and reconnection.
 * hiredis frees the context right after its cleanup hook and the disconnect
 * callback, so the context is never freed from inside one of its callbacks:
 * errors found there post an event that drops the connection.
 */


#include <hiredis/async.h>

#include "ngx_http_clientauth_redis.h"
#include "ca_reply.h"
#include "ca_reply_shape.h"


#define NGX_HTTP_CLIENTAUTH_BACKOFF_MIN   50
#define NGX_HTTP_CLIENTAUTH_BACKOFF_MAX   5000

/* per worker and clientauth_redis: dedicated connections, waiting room */
#define NGX_HTTP_CLIENTAUTH_TXN_CONNS     2
#define NGX_HTTP_CLIENTAUTH_TXN_WAITING   64
/* batches this long or shorter keep their replies' shapes inline */
#define NGX_HTTP_CLIENTAUTH_EXPECT_INLINE 24


struct ngx_http_clientauth_redis_s {
    ngx_http_clientauth_redis_conf_t  *conf;
    redisAsyncContext                 *ac;
    ngx_connection_t                  *conn;
    ngx_log_t                         *log;
    ngx_queue_t                        inflight;
    ngx_event_t                        deadline;
    ngx_event_t                        reconnect;
    ngx_event_t                        drop;
    ngx_event_t                        flush;
    ngx_msec_t                         backoff;

    /* the shared connection's: its dedicated ones, and who waits for one */
    ngx_http_clientauth_redis_t       *txn;
    ngx_queue_t                        waiting;
    ngx_uint_t                         nwaiting;
    ngx_event_t                        serve;

    /* a dedicated connection's: its shared one, and the request holding it */
    ngx_http_clientauth_redis_t       *shared;
    ngx_http_clientauth_ctx_t         *owner;

    unsigned                           ready:1;
    unsigned                           started:1;  /* its txn connect */
    unsigned                           exiting:1;
    unsigned                           flushing:1;
};


struct ngx_http_clientauth_cmd_s {
    ngx_queue_t                        queue;
    ngx_http_clientauth_redis_t       *redis;
    ngx_http_request_t                *request;    /* NULL: detached */
    ngx_http_clientauth_ctx_t         *ctx;
    ngx_http_clientauth_reply_pt       on_reply;
    ngx_event_t                        done;
    ngx_msec_t                         expires;
    ngx_uint_t                         sent;
    ngx_uint_t                         received;
    u_char                            *queued;     /* waiting: its commands */
    ngx_uint_t                         nqueued;
    ca_reply_expect_t                 *expect;
    ca_reply_expect_t                  expect_inline[
                                           NGX_HTTP_CLIENTAUTH_EXPECT_INLINE];
    unsigned                           handshake:1;
    unsigned                           waiting:1;
    unsigned                           failed:1;
};


static void ngx_http_clientauth_redis_connect(ngx_http_clientauth_redis_t *rd);
static ngx_int_t ngx_http_clientauth_redis_attach(
    ngx_http_clientauth_redis_t *rd, redisAsyncContext *ac);
static ngx_int_t ngx_http_clientauth_redis_handshake(
    ngx_http_clientauth_redis_t *rd);
static void ngx_http_clientauth_redis_schedule_reconnect(
    ngx_http_clientauth_redis_t *rd);
static void ngx_http_clientauth_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_clientauth_redis_deadline_handler(ngx_event_t *ev);
static void ngx_http_clientauth_redis_drop_handler(ngx_event_t *ev);
static void ngx_http_clientauth_redis_drop(ngx_http_clientauth_redis_t *rd);
static void ngx_http_clientauth_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_clientauth_redis_arm_deadline(
    ngx_http_clientauth_redis_t *rd);

static void ngx_http_clientauth_redis_read_handler(ngx_event_t *ev);
static void ngx_http_clientauth_redis_write_handler(ngx_event_t *ev);
static void ngx_http_clientauth_redis_add_read(void *privdata);
static void ngx_http_clientauth_redis_del_read(void *privdata);
static void ngx_http_clientauth_redis_add_write(void *privdata);
static void ngx_http_clientauth_redis_del_write(void *privdata);
static void ngx_http_clientauth_redis_cleanup(void *privdata);
static void ngx_http_clientauth_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_clientauth_redis_on_disconnect(
    const redisAsyncContext *ac, int status);

static ngx_http_clientauth_cmd_t *ngx_http_clientauth_cmd_for(
    ngx_http_request_t *r, ngx_http_clientauth_ctx_t *ctx,
    ngx_http_clientauth_redis_t *rd, ngx_http_clientauth_reply_pt on_reply);
static ngx_http_clientauth_cmd_t *ngx_http_clientauth_cmd_alloc(
    ngx_http_clientauth_redis_t *rd);
static void ngx_http_clientauth_cmd_free(ngx_http_clientauth_cmd_t *cmd);
static ngx_int_t ngx_http_clientauth_cmd_send(ngx_http_clientauth_cmd_t *cmd,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n);
static void ngx_http_clientauth_cmd_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_clientauth_cmd_done(ngx_event_t *ev);
static ngx_int_t ngx_http_clientauth_cmd_expect(ngx_http_clientauth_cmd_t *cmd,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n, ngx_uint_t watched);
static ngx_int_t ngx_http_clientauth_reply_valid(
    ngx_http_clientauth_cmd_t *cmd, ngx_uint_t n, redisReply *reply);
static int ngx_http_clientauth_redis_send_argv(redisAsyncContext *ac,
    redisCallbackFn *fn, void *privdata, ngx_http_clientauth_argv_t *a);
static void ngx_http_clientauth_handshake_reply(
    ngx_http_clientauth_cmd_t *cmd, redisReply *reply);
static void ngx_http_clientauth_bridge_init(ngx_http_clientauth_redis_t *rd,
    ngx_http_clientauth_redis_conf_t *rcf, ngx_log_t *log);
static ngx_http_clientauth_redis_t *ngx_http_clientauth_txn_free(
    ngx_http_clientauth_redis_t *rd);
static ngx_int_t ngx_http_clientauth_txn_queue(ngx_http_clientauth_cmd_t *cmd,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n);
static void ngx_http_clientauth_txn_serve_handler(ngx_event_t *ev);
static void ngx_http_clientauth_txn_send_queued(
    ngx_http_clientauth_redis_t *t, ngx_http_clientauth_cmd_t *cmd);
static void ngx_http_clientauth_txn_fail(ngx_http_clientauth_cmd_t *cmd);
static size_t ngx_http_clientauth_resp_size(ngx_http_clientauth_argv_t *a);
static u_char *ngx_http_clientauth_resp_format(u_char *p,
    ngx_http_clientauth_argv_t *a);


/* Per worker: one bridge per clientauth_redis, and recycled commands. */
static ngx_http_clientauth_redis_t  *ngx_http_clientauth_bridges;
static ngx_uint_t                    ngx_http_clientauth_nbridges;
static ngx_queue_t                   ngx_http_clientauth_free_cmds;

/* where commands are put in Redis's protocol before hiredis copies them */
static u_char                       *ngx_http_clientauth_wire;
static size_t                        ngx_http_clientauth_wire_size;


ngx_int_t
ngx_http_clientauth_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                         i, j;
    ngx_http_clientauth_redis_t       *rd;
    ngx_http_clientauth_redis_conf_t **rcfs;
    ngx_http_clientauth_main_conf_t   *amcf;

    ngx_queue_init(&ngx_http_clientauth_free_cmds);

    /*
     * The handshake's deadline counts from ngx_current_msec, which may still
     * be the master's: on a loaded machine it would expire at once.
     */
    ngx_time_update();

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_clientauth_module);
    if (amcf == NULL || amcf->redis.nelts == 0) {
        return NGX_OK;
    }

    rd = ngx_pcalloc(cycle->pool,
                     amcf->redis.nelts * sizeof(ngx_http_clientauth_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clientauth_bridges = rd;
    ngx_http_clientauth_nbridges = amcf->redis.nelts;
    rcfs = amcf->redis.elts;

    for (i = 0; i < amcf->redis.nelts; i++) {
        ngx_http_clientauth_bridge_init(&rd[i], rcfs[i], cycle->log);

        rd[i].txn = ngx_pcalloc(cycle->pool,
                                NGX_HTTP_CLIENTAUTH_TXN_CONNS
                                * sizeof(ngx_http_clientauth_redis_t));
        if (rd[i].txn == NULL) {
            return NGX_ERROR;
        }

        ngx_queue_init(&rd[i].waiting);
        rd[i].serve.handler = ngx_http_clientauth_txn_serve_handler;
        rd[i].serve.data = &rd[i];
        rd[i].serve.log = cycle->log;

        /* they connect once the shared one is ready (handshake_reply) */
        for (j = 0; j < NGX_HTTP_CLIENTAUTH_TXN_CONNS; j++) {
            ngx_http_clientauth_bridge_init(&rd[i].txn[j], rcfs[i],
                                            cycle->log);
            rd[i].txn[j].shared = &rd[i];
        }

        ngx_http_clientauth_redis_connect(&rd[i]);
    }

    return NGX_OK;
}


static void
ngx_http_clientauth_bridge_init(ngx_http_clientauth_redis_t *rd,
    ngx_http_clientauth_redis_conf_t *rcf, ngx_log_t *log)
{
    rd->conf = rcf;
    rd->log = log;
    ngx_queue_init(&rd->inflight);

    rd->deadline.handler = ngx_http_clientauth_redis_deadline_handler;
    rd->deadline.data = rd;
    rd->deadline.log = log;

    /* a worker that is shutting down need not wait for a reconnect */
    rd->reconnect.handler = ngx_http_clientauth_redis_reconnect_handler;
    rd->reconnect.data = rd;
    rd->reconnect.log = log;
    rd->reconnect.cancelable = 1;

    rd->drop.handler = ngx_http_clientauth_redis_drop_handler;
    rd->drop.data = rd;
    rd->drop.log = log;

    rd->flush.handler = ngx_http_clientauth_redis_flush_handler;
    rd->flush.data = rd;
    rd->flush.log = log;
}


void
ngx_http_clientauth_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i, j;
    ngx_queue_t                  *q;
    ngx_http_clientauth_redis_t  *rd, *t;

    for (i = 0; i < ngx_http_clientauth_nbridges; i++) {
        rd = &ngx_http_clientauth_bridges[i];
        rd->exiting = 1;

        if (rd->ac) {
            redisAsyncFree(rd->ac);
        }

        for (j = 0; j < NGX_HTTP_CLIENTAUTH_TXN_CONNS; j++) {
            t = &rd->txn[j];
            t->exiting = 1;

            if (t->ac) {
                redisAsyncFree(t->ac);
            }
        }
    }

    ngx_http_clientauth_nbridges = 0;

    /*
     * redisAsyncFree() has called back every command: all are on the free
     * list now.  Freed here so that a leak checker sees a clean exit.
     */

    while (!ngx_queue_empty(&ngx_http_clientauth_free_cmds)) {
        q = ngx_queue_head(&ngx_http_clientauth_free_cmds);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_clientauth_cmd_t, queue));
    }

    if (ngx_http_clientauth_wire) {
        ngx_free(ngx_http_clientauth_wire);
        ngx_http_clientauth_wire = NULL;
        ngx_http_clientauth_wire_size = 0;
    }
}


static void
ngx_http_clientauth_redis_connect(ngx_http_clientauth_redis_t *rd)
{
    redisAsyncContext                 *ac;
    ngx_http_clientauth_redis_conf_t  *rcf;

    rcf = rd->conf;

    /* the address was resolved at configuration time: no DNS here */
    if (rcf->path.len) {
        ac = redisAsyncConnectUnix((char *) rcf->path.data);

    } else {
        ac = redisAsyncConnect((char *) rcf->host.data, rcf->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "clientauth: no memory to connect to redis %V",
                      &rcf->name);
        ngx_http_clientauth_redis_schedule_reconnect(rd);
        return;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "clientauth: cannot connect to redis %V: %s",
                      &rcf->name, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_clientauth_redis_schedule_reconnect(rd);
        return;
    }

    if (ngx_http_clientauth_redis_attach(rd, ac) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_clientauth_redis_schedule_reconnect(rd);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "clientauth: connecting to redis %V", &rcf->name);

    if (ngx_http_clientauth_redis_handshake(rd) != NGX_OK) {
        ngx_http_clientauth_redis_drop(rd);
    }
}


static ngx_int_t
ngx_http_clientauth_redis_attach(ngx_http_clientauth_redis_t *rd,
    redisAsyncContext *ac)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = rd;
    c->read->handler = ngx_http_clientauth_redis_read_handler;
    c->write->handler = ngx_http_clientauth_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->ac = ac;
    rd->conn = c;
    rd->ready = 0;

    ac->data = rd;
    ac->ev.data = rd;
    ac->ev.addRead = ngx_http_clientauth_redis_add_read;
    ac->ev.delRead = ngx_http_clientauth_redis_del_read;
    ac->ev.addWrite = ngx_http_clientauth_redis_add_write;
    ac->ev.delWrite = ngx_http_clientauth_redis_del_write;
    ac->ev.cleanup = ngx_http_clientauth_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_clientauth_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac,
                                    ngx_http_clientauth_redis_on_disconnect);

    return NGX_OK;
}


/*
 * AUTH and SELECT (or a PING) go first on every new connection; requests
 * queue behind them.  The handshake is an ordinary in-flight command, so a
 * Redis that accepts connections but never answers is caught by the same
 * deadline.
 */

static ngx_int_t
ngx_http_clientauth_redis_handshake(ngx_http_clientauth_redis_t *rd)
{
    u_char                            *p;
    ngx_uint_t                         n;
    ngx_http_clientauth_cmd_t         *cmd;
    ngx_http_clientauth_argv_t         cmds[2];
    ngx_http_clientauth_redis_conf_t  *rcf;
    u_char                             db[NGX_INT_T_LEN];

    rcf = rd->conf;
    n = 0;

    if (rcf->password.len) {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "AUTH");
        ngx_http_clientauth_argv_add(&cmds[n], rcf->password.data,
                                     rcf->password.len);
        n++;
    }

    if (rcf->db) {
        p = ngx_sprintf(db, "%i", rcf->db);
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "SELECT");
        ngx_http_clientauth_argv_add(&cmds[n], db, p - db);
        n++;
    }

    if (n == 0) {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "PING");
        n++;
    }

    cmd = ngx_http_clientauth_cmd_alloc(rd);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->handshake = 1;

    return ngx_http_clientauth_cmd_send(cmd, cmds, n);
}


static void
ngx_http_clientauth_handshake_reply(ngx_http_clientauth_cmd_t *cmd,
    redisReply *reply)
{
    ngx_http_clientauth_redis_t  *rd;

    rd = cmd->redis;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "clientauth: redis %V refused the connection set-up: %s",
                      &rd->conf->name, reply->str);
        ngx_post_event(&rd->drop, &ngx_posted_events);
        return;
    }

    if (reply->type != REDIS_REPLY_STATUS) {
        /* AUTH, SELECT and PING answer +OK or +PONG, nothing else: not
         * Redis, or out of step; commands could land in another database */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "clientauth: unexpected reply from redis %V to the "
                      "connection set-up (type %d)", &rd->conf->name,
                      reply->type);
        ngx_post_event(&rd->drop, &ngx_posted_events);
        return;
    }

    if (cmd->received == cmd->sent && !rd->drop.posted) {
        rd->ready = 1;
        rd->backoff = 0;

        if (rd->shared && !rd->shared->serve.posted) {
            ngx_post_event(&rd->shared->serve, &ngx_posted_events);
        }

        if (rd->txn && !rd->started) {
            /* its dedicated connections: not from inside hiredis */
            ngx_post_event(&rd->serve, &ngx_posted_events);
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "clientauth: redis %V ready", &rd->conf->name);
    }
}


static void
ngx_http_clientauth_redis_schedule_reconnect(ngx_http_clientauth_redis_t *rd)
{
    ngx_msec_t  delay;

    if (rd->exiting || rd->reconnect.timer_set) {
        return;
    }

    if (rd->backoff == 0) {
        rd->backoff = NGX_HTTP_CLIENTAUTH_BACKOFF_MIN;

    } else {
        rd->backoff = ngx_min(rd->backoff * 2,
                              NGX_HTTP_CLIENTAUTH_BACKOFF_MAX);
    }

    /* half fixed, half random: workers and instances spread their retries */
    delay = rd->backoff / 2 + (ngx_msec_t) ngx_random() % (rd->backoff / 2 + 1);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "clientauth: reconnect to redis %V in %M ms",
                   &rd->conf->name, delay);

    ngx_add_timer(&rd->reconnect, delay);
}


static void
ngx_http_clientauth_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_redis_t  *rd;

    rd = ev->data;

    if (rd->ac == NULL && !rd->exiting) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_RECONNECT);
        ngx_http_clientauth_redis_connect(rd);
    }
}


static void
ngx_http_clientauth_redis_deadline_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_cmd_t    *head;
    ngx_http_clientauth_redis_t  *rd;

    rd = ev->data;

    if (ngx_queue_empty(&rd->inflight)) {
        return;
    }

    head = ngx_queue_data(ngx_queue_head(&rd->inflight),
                          ngx_http_clientauth_cmd_t, queue);

    if ((ngx_msec_int_t) (head->expires - ngx_current_msec) > 0) {
        ngx_http_clientauth_redis_arm_deadline(rd);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "clientauth: redis %V did not answer within %M ms, "
                  "reconnecting", &rd->conf->name, rd->conf->timeout);

    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_TIMEOUT);
    ngx_http_clientauth_redis_drop(rd);
}


/*
 * The timer is left alone while it is set: deadlines only grow along the
 * FIFO, so it fires no later than the head's, and its handler re-arms.
 */

static void
ngx_http_clientauth_redis_arm_deadline(ngx_http_clientauth_redis_t *rd)
{
    ngx_msec_int_t              delay;
    ngx_http_clientauth_cmd_t  *head;

    if (rd->deadline.timer_set || ngx_queue_empty(&rd->inflight)) {
        return;
    }

    head = ngx_queue_data(ngx_queue_head(&rd->inflight),
                          ngx_http_clientauth_cmd_t, queue);

    delay = (ngx_msec_int_t) (head->expires - ngx_current_msec);

    ngx_add_timer(&rd->deadline, delay > 0 ? (ngx_msec_t) delay : 1);
}


static void
ngx_http_clientauth_redis_drop_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_redis_drop(ev->data);
}


/* Fails every command in flight (their callbacks get NULL) and reconnects. */

static void
ngx_http_clientauth_redis_drop(ngx_http_clientauth_redis_t *rd)
{
    if (rd->drop.posted) {
        ngx_delete_posted_event(&rd->drop);
    }

    if (rd->ac) {
        redisAsyncFree(rd->ac);     /* ends in the cleanup hook */
    }
}


static void
ngx_http_clientauth_redis_flush_handler(ngx_event_t *ev)
{
    ngx_http_clientauth_redis_t  *rd = ev->data;

    if (rd->ac == NULL) {
        return;
    }

    /* a write that stays unfinished asks for real write interest */
    rd->flushing = 1;
    redisAsyncHandleWrite(rd->ac);

    /* the context may be gone, the bridge stays */
    rd->flushing = 0;
}


static void
ngx_http_clientauth_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t             *c;
    ngx_http_clientauth_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    /* may free the context and this connection: touch neither after */
    redisAsyncHandleRead(rd->ac);
}


static void
ngx_http_clientauth_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t             *c;
    ngx_http_clientauth_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    redisAsyncHandleWrite(rd->ac);
}


static void
ngx_http_clientauth_redis_add_read(void *privdata)
{
    ngx_event_t                  *rev;
    ngx_http_clientauth_redis_t  *rd = privdata;

    rev = rd->conn->read;

    if (!rev->active
        && ngx_add_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK)
    {
        ngx_post_event(&rd->drop, &ngx_posted_events);
    }
}


static void
ngx_http_clientauth_redis_del_read(void *privdata)
{
    ngx_event_t                  *rev;
    ngx_http_clientauth_redis_t  *rd = privdata;

    rev = rd->conn->read;

    if (rev->active && ngx_del_event(rev, NGX_READ_EVENT, 0) != NGX_OK) {
        ngx_post_event(&rd->drop, &ngx_posted_events);
    }
}


/*
 * Commands queued while the event loop runs are written once, from a posted
 * event at the end of the loop's pass: one write for all the requests of a
 * pass, and no write interest in epoll unless the socket is full.
 */

static void
ngx_http_clientauth_redis_add_write(void *privdata)
{
    ngx_event_t                  *wev;
    ngx_http_clientauth_redis_t  *rd = privdata;

    wev = rd->conn->write;

    if (!rd->flushing && !wev->active
        && (rd->ac->c.flags & REDIS_CONNECTED))
    {
        ngx_post_event(&rd->flush, &ngx_posted_events);
        return;
    }

    if (!wev->active
        && ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK)
    {
        ngx_post_event(&rd->drop, &ngx_posted_events);
    }
}


static void
ngx_http_clientauth_redis_del_write(void *privdata)
{
    ngx_event_t                  *wev;
    ngx_http_clientauth_redis_t  *rd = privdata;

    wev = rd->conn->write;

    if (wev->active && ngx_del_event(wev, NGX_WRITE_EVENT, 0) != NGX_OK) {
        ngx_post_event(&rd->drop, &ngx_posted_events);
    }
}


/*
 * hiredis calls this just before it closes the socket and frees the context,
 * however the connection ends.  The socket is hiredis's to close: the nginx
 * connection is released without closing the descriptor.
 */

static void
ngx_http_clientauth_redis_cleanup(void *privdata)
{
    ngx_connection_t             *c;
    ngx_http_clientauth_redis_t  *rd = privdata;

    c = rd->conn;

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (ngx_del_conn) {
        ngx_del_conn(c, NGX_CLOSE_EVENT);

    } else {
        if (c->read->active) {
            ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
        }

        if (c->write->active) {
            ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
        }
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    rd->conn = NULL;
    rd->ac = NULL;
    rd->ready = 0;

    if (rd->drop.posted) {
        ngx_delete_posted_event(&rd->drop);
    }

    if (rd->flush.posted) {
        ngx_delete_posted_event(&rd->flush);
    }

    /* who waits for a dedicated connection may have none left to wait for */
    if (rd->shared && !rd->shared->serve.posted && !rd->exiting) {
        ngx_post_event(&rd->shared->serve, &ngx_posted_events);
    }

    ngx_http_clientauth_redis_schedule_reconnect(rd);
}


static void
ngx_http_clientauth_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_clientauth_redis_t  *rd = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "clientauth: cannot connect to redis %V: %s",
                      &rd->conf->name, ac->errstr);
    }
}


static void
ngx_http_clientauth_redis_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_clientauth_redis_t  *rd = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "clientauth: lost connection to redis %V: %s",
                      &rd->conf->name, ac->errstr);
    }
}


void
ngx_http_clientauth_argv_reset(ngx_http_clientauth_argv_t *a)
{
    a->argc = 0;
}


void
ngx_http_clientauth_argv_add(ngx_http_clientauth_argv_t *a, const void *data,
    size_t len)
{
    if (a->argc == NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
        /* a programming error: caught in tests by the command failing */
        a->argc = NGX_HTTP_CLIENTAUTH_ARGS_MAX + 1;
        return;
    }

    if (a->argc > NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
        return;
    }

    a->argv[a->argc] = data;
    a->argvlen[a->argc] = len;
    a->argc++;
}


void
ngx_http_clientauth_argv_add_str(ngx_http_clientauth_argv_t *a,
    const char *s)
{
    ngx_http_clientauth_argv_add(a, s, ngx_strlen(s));
}


static ngx_http_clientauth_redis_t *
ngx_http_clientauth_bridge(ngx_http_clientauth_redis_conf_t *rcf)
{
    if (rcf == NULL || rcf->index >= ngx_http_clientauth_nbridges) {
        return NULL;
    }

    return &ngx_http_clientauth_bridges[rcf->index];
}


static ngx_int_t
ngx_http_clientauth_redis_send_for(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_redis_t *rd,
    ngx_http_clientauth_reply_pt on_reply, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t n)
{
    ngx_int_t                   rc;
    ngx_http_clientauth_cmd_t  *cmd;

    if (rd->ac == NULL) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_UNAVAILABLE);
        return NGX_DECLINED;
    }

    cmd = ngx_http_clientauth_cmd_for(r, ctx, rd, on_reply);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_clientauth_cmd_send(cmd, cmds, n);
    if (rc != NGX_OK) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_UNAVAILABLE);
        return rc;
    }

    ctx->cmd = cmd;
    ctx->wait = NGX_HTTP_CLIENTAUTH_WAITING;
    ctx->redis_error = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_clientauth_redis_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_redis_conf_t *rcf,
    ngx_http_clientauth_reply_pt on_reply, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t n)
{
    ngx_http_clientauth_redis_t  *rd;

    rd = ngx_http_clientauth_bridge(rcf);

    if (rd == NULL) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_UNAVAILABLE);
        return NGX_DECLINED;
    }

    return ngx_http_clientauth_redis_send_for(r, ctx, rd, on_reply, cmds, n);
}


ngx_int_t
ngx_http_clientauth_redis_txn_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_redis_conf_t *rcf,
    ngx_http_clientauth_reply_pt on_reply, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t n)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i, connected;
    ngx_http_clientauth_cmd_t    *cmd;
    ngx_http_clientauth_redis_t  *rd, *t;

    if (ctx->txn) {
        /* the transaction's next step, on its connection */
        return ngx_http_clientauth_redis_send_for(r, ctx, ctx->txn, on_reply,
                                                  cmds, n);
    }

    rd = ngx_http_clientauth_bridge(rcf);

    if (rd == NULL) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_UNAVAILABLE);
        return NGX_DECLINED;
    }

    t = ngx_http_clientauth_txn_free(rd);

    if (t) {
        t->owner = ctx;
        ctx->txn = t;

        rc = ngx_http_clientauth_redis_send_for(r, ctx, t, on_reply, cmds, n);
        if (rc != NGX_OK) {
            ngx_http_clientauth_redis_txn_end(ctx);
        }

        return rc;
    }

    connected = 0;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_TXN_CONNS; i++) {
        connected += (rd->txn[i].ac != NULL);
    }

    if (connected == 0 || rd->nwaiting >= NGX_HTTP_CLIENTAUTH_TXN_WAITING) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: no connection to redis %V for a "
                      "transaction (%ui waiting)", &rcf->name, rd->nwaiting);
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_UNAVAILABLE);
        return NGX_DECLINED;
    }

    cmd = ngx_http_clientauth_cmd_for(r, ctx, rd, on_reply);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_clientauth_txn_queue(cmd, cmds, n) != NGX_OK) {
        ngx_http_clientauth_cmd_free(cmd);
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "clientauth: waiting for a transaction connection, "
                   "%ui waiting", rd->nwaiting);

    ctx->cmd = cmd;
    ctx->wait = NGX_HTTP_CLIENTAUTH_WAITING;
    ctx->redis_error = 0;

    return NGX_OK;
}


/*
 * Gives the request's dedicated connection back.  What it watched is
 * forgotten (UNWATCH) before the next holder's commands, which follow it.
 */

void
ngx_http_clientauth_redis_txn_end(ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_argv_t    unwatch;
    ngx_http_clientauth_redis_t  *t;

    t = ctx->txn;
    if (t == NULL) {
        return;
    }

    ctx->txn = NULL;
    t->owner = NULL;

    if (t->ac) {
        ngx_http_clientauth_argv_reset(&unwatch);
        ngx_http_clientauth_argv_add_str(&unwatch, "UNWATCH");

        if (ngx_http_clientauth_redis_send_argv(t->ac, NULL, NULL, &unwatch)
            != REDIS_OK)
        {
            ngx_post_event(&t->drop, &ngx_posted_events);
        }
    }

    if (!t->shared->serve.posted) {
        ngx_post_event(&t->shared->serve, &ngx_posted_events);
    }
}


static ngx_http_clientauth_redis_t *
ngx_http_clientauth_txn_free(ngx_http_clientauth_redis_t *rd)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_TXN_CONNS; i++) {
        if (rd->txn[i].owner == NULL && rd->txn[i].ac != NULL) {
            return &rd->txn[i];
        }
    }

    return NULL;
}


/* A waiting request's commands, formatted now: its memory may go first. */

static ngx_int_t
ngx_http_clientauth_txn_queue(ngx_http_clientauth_cmd_t *cmd,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n)
{
    u_char                       *p;
    size_t                        len, *lens;
    ngx_uint_t                    i;
    ngx_http_clientauth_redis_t  *rd;

    rd = cmd->redis;
    len = n * sizeof(size_t);

    for (i = 0; i < n; i++) {
        if (cmds[i].argc < 1 || cmds[i].argc > NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
            ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                          "clientauth: malformed redis command");
            return NGX_ERROR;
        }

        len += ngx_http_clientauth_resp_size(&cmds[i]);
    }

    /* it goes on a dedicated connection, where a WATCH may abort EXEC */
    if (ngx_http_clientauth_cmd_expect(cmd, cmds, n, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    cmd->queued = ngx_alloc(len + 1, rd->log);
    if (cmd->queued == NULL) {
        return NGX_ERROR;
    }

    lens = (size_t *) cmd->queued;
    p = cmd->queued + n * sizeof(size_t);

    for (i = 0; i < n; i++) {
        lens[i] = ngx_http_clientauth_resp_format(p, &cmds[i]) - p;
        p += lens[i];
    }

    /* hiredis reads the byte after a one-word command: see send_argv */
    *p = '\0';

    cmd->nqueued = n;
    cmd->waiting = 1;
    ngx_queue_insert_tail(&rd->waiting, &cmd->queue);
    rd->nwaiting++;

    return NGX_OK;
}


/*
 * A dedicated connection was given back, came up or went down: the first
 * waiting requests take the free ones.  With none held and none free to
 * take, no connection will come back soon: they fail (503).  The dedicated
 * connections are made here too, once the shared one is first ready: not
 * all at the worker's start, where a slow first pass of the event loop
 * would time them all out at once.
 */

static void
ngx_http_clientauth_txn_serve_handler(ngx_event_t *ev)
{
    ngx_uint_t                    i, held;
    ngx_queue_t                  *q;
    ngx_http_clientauth_cmd_t    *cmd;
    ngx_http_clientauth_redis_t  *rd, *t;

    rd = ev->data;

    if (!rd->started && rd->ready) {
        rd->started = 1;

        for (i = 0; i < NGX_HTTP_CLIENTAUTH_TXN_CONNS; i++) {
            ngx_http_clientauth_redis_connect(&rd->txn[i]);
        }
    }

    while (!ngx_queue_empty(&rd->waiting)) {
        t = ngx_http_clientauth_txn_free(rd);
        if (t == NULL) {
            break;
        }

        q = ngx_queue_head(&rd->waiting);
        ngx_queue_remove(q);
        rd->nwaiting--;

        cmd = ngx_queue_data(q, ngx_http_clientauth_cmd_t, queue);
        cmd->waiting = 0;
        t->owner = cmd->ctx;
        cmd->ctx->txn = t;

        ngx_http_clientauth_txn_send_queued(t, cmd);
    }

    held = 0;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_TXN_CONNS; i++) {
        held += (rd->txn[i].owner != NULL);
    }

    while (held == 0 && !ngx_queue_empty(&rd->waiting)) {
        q = ngx_queue_head(&rd->waiting);
        ngx_queue_remove(q);
        rd->nwaiting--;

        cmd = ngx_queue_data(q, ngx_http_clientauth_cmd_t, queue);
        cmd->waiting = 0;
        ngx_free(cmd->queued);
        cmd->queued = NULL;

        ngx_http_clientauth_txn_fail(cmd);
    }
}


static void
ngx_http_clientauth_txn_send_queued(ngx_http_clientauth_redis_t *t,
    ngx_http_clientauth_cmd_t *cmd)
{
    u_char      *p;
    size_t      *lens;
    ngx_uint_t   i;

    lens = (size_t *) cmd->queued;
    p = cmd->queued + cmd->nqueued * sizeof(size_t);
    cmd->redis = t;

    for (i = 0; i < cmd->nqueued; i++) {
        if (redisAsyncFormattedCommand(t->ac, ngx_http_clientauth_cmd_reply,
                                       cmd, (char *) p, lens[i])
            != REDIS_OK)
        {
            break;
        }

        p += lens[i];
        cmd->sent++;
    }

    ngx_free(cmd->queued);
    cmd->queued = NULL;

    if (cmd->sent == 0) {
        ngx_http_clientauth_txn_fail(cmd);
        return;
    }

    cmd->expires = ngx_current_msec + t->conf->timeout;
    ngx_queue_insert_tail(&t->inflight, &cmd->queue);
    ngx_http_clientauth_redis_arm_deadline(t);

    if (i < cmd->nqueued) {
        /* part of a MULTI may be queued: the connection goes, and the
         * request hears of it through its callbacks */
        ngx_post_event(&t->drop, &ngx_posted_events);
    }
}


/* The request resumes, with a Redis error. */

static void
ngx_http_clientauth_txn_fail(ngx_http_clientauth_cmd_t *cmd)
{
    cmd->ctx->redis_error = 1;
    ngx_post_event(&cmd->done, &ngx_posted_events);
}


ngx_int_t
ngx_http_clientauth_redis_post(ngx_http_clientauth_redis_conf_t *rcf,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n)
{
    ngx_uint_t                    i;
    ngx_http_clientauth_redis_t  *rd;

    rd = ngx_http_clientauth_bridge(rcf);

    /* before AUTH and SELECT succeeded, a write could land anywhere */
    if (rd == NULL || rd->ac == NULL || !rd->ready) {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_clientauth_redis_send_argv(rd->ac, NULL, NULL, &cmds[i])
            != REDIS_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_http_clientauth_redis_detach(ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_cmd_t  *cmd;

    cmd = ctx->cmd;
    ctx->cmd = NULL;

    if (cmd == NULL) {
        /* nothing in flight */

    } else if (cmd->waiting) {
        /* never sent: it leaves the waiting room */
        ngx_queue_remove(&cmd->queue);
        cmd->redis->nwaiting--;
        ngx_free(cmd->queued);
        ngx_http_clientauth_cmd_free(cmd);

    } else if (cmd->done.posted) {
        /* every reply is in: nobody else refers to it */
        ngx_delete_posted_event(&cmd->done);
        ngx_http_clientauth_cmd_free(cmd);

    } else {
        /* replies still to come: the last one frees it */
        cmd->request = NULL;
        cmd->ctx = NULL;
    }

    ngx_http_clientauth_redis_txn_end(ctx);
}


/* A command of r's, its replies for on_reply: r lets go of it if it ends. */

static ngx_http_clientauth_cmd_t *
ngx_http_clientauth_cmd_for(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_redis_t *rd,
    ngx_http_clientauth_reply_pt on_reply)
{
    ngx_http_clientauth_cmd_t  *cmd;

    if (ngx_http_clientauth_add_cleanup(r, ctx) != NGX_OK) {
        return NULL;
    }

    cmd = ngx_http_clientauth_cmd_alloc(rd);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->request = r;
    cmd->ctx = ctx;
    cmd->on_reply = on_reply;

    return cmd;
}


static ngx_http_clientauth_cmd_t *
ngx_http_clientauth_cmd_alloc(ngx_http_clientauth_redis_t *rd)
{
    ngx_queue_t                *q;
    ngx_http_clientauth_cmd_t  *cmd;

    if (!ngx_queue_empty(&ngx_http_clientauth_free_cmds)) {
        q = ngx_queue_head(&ngx_http_clientauth_free_cmds);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_clientauth_cmd_t, queue);

    } else {
        cmd = ngx_alloc(sizeof(ngx_http_clientauth_cmd_t), rd->log);
        if (cmd == NULL) {
            return NULL;
        }
    }

    ngx_memzero(cmd, sizeof(ngx_http_clientauth_cmd_t));

    cmd->redis = rd;
    cmd->done.handler = ngx_http_clientauth_cmd_done;
    cmd->done.data = cmd;
    cmd->done.log = rd->log;

    return cmd;
}


static void
ngx_http_clientauth_cmd_free(ngx_http_clientauth_cmd_t *cmd)
{
    if (cmd->expect != cmd->expect_inline && cmd->expect != NULL) {
        ngx_free(cmd->expect);
    }

    cmd->expect = NULL;

    ngx_queue_insert_head(&ngx_http_clientauth_free_cmds, &cmd->queue);
}


static ngx_int_t
ngx_http_clientauth_cmd_send(ngx_http_clientauth_cmd_t *cmd,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n)
{
    ngx_uint_t                    i;
    ngx_http_clientauth_redis_t  *rd;

    rd = cmd->redis;

    if (!cmd->handshake
        && ngx_http_clientauth_cmd_expect(cmd, cmds, n, rd->shared != NULL)
           != NGX_OK)
    {
        ngx_http_clientauth_cmd_free(cmd);
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (cmds[i].argc > NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
            ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                          "clientauth: redis command with too many arguments");
            break;
        }

        if (ngx_http_clientauth_redis_send_argv(rd->ac,
                                                ngx_http_clientauth_cmd_reply,
                                                cmd, &cmds[i])
            != REDIS_OK)
        {
            break;
        }

        cmd->sent++;
    }

    if (cmd->sent == 0) {
        ngx_http_clientauth_cmd_free(cmd);
        return NGX_DECLINED;
    }

    cmd->expires = ngx_current_msec + rd->conf->timeout;
    ngx_queue_insert_tail(&rd->inflight, &cmd->queue);
    ngx_http_clientauth_redis_arm_deadline(rd);

    if (i < n) {
        /*
         * Part of the batch is queued: fail it whole, and the connection
         * with it, which may be left inside a MULTI with no EXEC.
         */
        cmd->request = NULL;
        cmd->ctx = NULL;
        ngx_post_event(&rd->drop, &ngx_posted_events);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* What each reply of the batch must look like (lib/ca_reply.c). */

static ngx_int_t
ngx_http_clientauth_cmd_expect(ngx_http_clientauth_cmd_t *cmd,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n, ngx_uint_t watched)
{
    ngx_uint_t  i;

    if (n <= NGX_HTTP_CLIENTAUTH_EXPECT_INLINE) {
        cmd->expect = cmd->expect_inline;

    } else {
        cmd->expect = ngx_alloc(n * sizeof(ca_reply_expect_t),
                                cmd->redis->log);
        if (cmd->expect == NULL) {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < n; i++) {
        ca_reply_expect(&cmd->expect[i],
                        ngx_min(cmds[i].argc, NGX_HTTP_CLIENTAUTH_ARGS_MAX),
                        cmds[i].argv, cmds[i].argvlen);
    }

    ca_reply_expect_batch(cmd->expect, n, (int) watched);

    return NGX_OK;
}


/* "*3\r\n", "$5\r\n": ngx_sprintf() costs more than the rest of a command. */

static u_char *
ngx_http_clientauth_resp_header(u_char *p, u_char type, size_t n)
{
    u_char   digits[NGX_SIZE_T_LEN];
    size_t   len;

    len = 0;

    do {
        digits[len++] = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    *p++ = type;

    while (len) {
        *p++ = digits[--len];
    }

    *p++ = '\r';
    *p++ = '\n';

    return p;
}


/*
 * Formats a command in Redis's protocol (RESP) and hands it to hiredis,
 * which copies it: hiredis's own argv formatting costs several times more
 * on the path every protected request takes.
 */

static size_t
ngx_http_clientauth_resp_size(ngx_http_clientauth_argv_t *a)
{
    int     i;
    size_t  len;

    len = sizeof("*\r\n") - 1 + NGX_INT_T_LEN;

    for (i = 0; i < a->argc; i++) {
        len += sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN + a->argvlen[i];
    }

    return len;
}


static u_char *
ngx_http_clientauth_resp_format(u_char *p, ngx_http_clientauth_argv_t *a)
{
    int  i;

    p = ngx_http_clientauth_resp_header(p, '*', a->argc);

    for (i = 0; i < a->argc; i++) {
        p = ngx_http_clientauth_resp_header(p, '$', a->argvlen[i]);
        p = ngx_cpymem(p, a->argv[i], a->argvlen[i]);
        *p++ = '\r';
        *p++ = '\n';
    }

    return p;
}


static int
ngx_http_clientauth_redis_send_argv(redisAsyncContext *ac,
    redisCallbackFn *fn, void *privdata, ngx_http_clientauth_argv_t *a)
{
    u_char  *p;
    size_t   len;

    if (a->argc < 1 || a->argc > NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
        return REDIS_ERR;
    }

    /* and a NUL after the command: see below */
    len = ngx_http_clientauth_resp_size(a) + 1;

    if (len > ngx_http_clientauth_wire_size) {
        p = ngx_alloc(ngx_max(len, 4096), ngx_cycle->log);
        if (p == NULL) {
            return REDIS_ERR;
        }

        if (ngx_http_clientauth_wire) {
            ngx_free(ngx_http_clientauth_wire);
        }

        ngx_http_clientauth_wire = p;
        ngx_http_clientauth_wire_size = ngx_max(len, 4096);
    }

    p = ngx_http_clientauth_resp_format(ngx_http_clientauth_wire, a);

    /*
     * hiredis looks at the byte after a command's first argument to see
     * whether more follow (its own formatter leaves a NUL there): with a
     * one-word command (MULTI, EXEC, PING) that is past the end.
     */

    *p = '\0';

    return redisAsyncFormattedCommand(ac, fn, privdata,
                                      (char *) ngx_http_clientauth_wire,
                                      p - ngx_http_clientauth_wire);
}


static void
ngx_http_clientauth_cmd_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_int_t                   rc;
    ngx_uint_t                  n;
    ngx_http_clientauth_cmd_t  *cmd = privdata;

    n = cmd->received++;

    if (cmd->handshake) {
        ngx_http_clientauth_handshake_reply(cmd, reply);

    } else {
        if (!cmd->redis->ready) {
            /* AUTH or SELECT failed: the command ran as the wrong user or
             * in the wrong database, its answer means nothing */
            reply = NULL;

        } else if (reply != NULL) {
            rc = ngx_http_clientauth_reply_valid(cmd, n, reply);

            if (rc != NGX_OK) {
                /* the request fails whatever its flow makes of it */
                cmd->failed = 1;
            }

            if (rc == NGX_ERROR) {
                /* flows only see the shapes their commands can get */
                reply = NULL;
            }
        }

        if (reply == NULL) {
            cmd->failed = 1;
        }

        if (cmd->request) {
            cmd->on_reply(cmd->request, cmd->ctx, n, reply);
        }
    }

    if (cmd->received < cmd->sent) {
        return;
    }

    ngx_queue_remove(&cmd->queue);

    if (ngx_queue_empty(&cmd->redis->inflight)
        && cmd->redis->deadline.timer_set)
    {
        /* nothing to wait for: a worker shutting down need not wait */
        ngx_del_timer(&cmd->redis->deadline);
    }

    if (cmd->request == NULL) {
        ngx_http_clientauth_cmd_free(cmd);
        return;
    }

    if (cmd->failed) {
        cmd->ctx->redis_error = 1;
    }

    /* never resume a request from inside hiredis */
    ngx_post_event(&cmd->done, &ngx_posted_events);
}


/*
 * An error reply (or an error inside EXEC's) is Redis refusing a command:
 * NGX_DECLINED, the request fails and its flow sees the error (to know that
 * a MULTI was refused whole, say); the connection stays, unless Redis
 * forgot who it talks to (NOAUTH), which a new handshake settles.  Any other
 * surprise (a reply of another type, a nil Redis never sends there, an
 * array of the wrong length) means the connection is out of step:
 * NGX_ERROR, the flow sees NULL and the connection is dropped.
 */

static ngx_int_t
ngx_http_clientauth_reply_valid(ngx_http_clientauth_cmd_t *cmd, ngx_uint_t n,
    redisReply *reply)
{
    size_t                        i;
    redisReply                   *error;
    ngx_http_clientauth_redis_t  *rd;

    if (ca_reply_check(reply, cmd->expect, n) == 0) {
        return NGX_OK;
    }

    rd = cmd->redis;
    error = (reply->type == REDIS_REPLY_ERROR) ? reply : NULL;

    for (i = 0; error == NULL && reply->type == REDIS_REPLY_ARRAY
                && i < reply->elements; i++)
    {
        if (reply->element[i]->type == REDIS_REPLY_ERROR) {
            error = reply->element[i];
        }
    }

    if (error) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "clientauth: redis %V refused a command: %*s",
                      &rd->conf->name, (size_t) ngx_min(error->len, 256),
                      error->str);

        if (error->len >= 6 && ngx_strncmp(error->str, "NOAUTH", 6) == 0) {
            ngx_post_event(&rd->drop, &ngx_posted_events);
        }

        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "clientauth: unexpected reply from redis %V (type %d), "
                  "reconnecting", &rd->conf->name, reply->type);

    ngx_post_event(&rd->drop, &ngx_posted_events);

    return NGX_ERROR;
}


static void
ngx_http_clientauth_cmd_done(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_clientauth_cmd_t  *cmd;
    ngx_http_clientauth_ctx_t  *ctx;

    cmd = ev->data;
    r = cmd->request;
    ctx = cmd->ctx;

    ctx->cmd = NULL;
    ctx->wait = NGX_HTTP_CLIENTAUTH_REPLIED;
    ngx_http_clientauth_cmd_free(cmd);

    c = r->connection;
    ngx_http_set_log_request(c->log, r);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "clientauth: redis replied, resuming request");

    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_clientauth_reply_str(ngx_pool_t *pool, redisReply *reply,
    ngx_str_t *out)
{
    size_t       len;
    const char  *s;

    switch (ca_reply_str(reply, &s, &len)) {

    case CA_REPLY_OK:
        return ngx_http_clientauth_reply_copy(pool, s, len, out);

    case CA_REPLY_NIL:
        ngx_str_null(out);
        return NGX_DECLINED;

    default:
        return NGX_ERROR;
    }
}


/* A copy in the pool, NUL-terminated: hiredis frees the reply. */

ngx_int_t
ngx_http_clientauth_reply_copy(ngx_pool_t *pool, const char *s, size_t len,
    ngx_str_t *out)
{
    out->len = len;
    out->data = ngx_pnalloc(pool, len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, len);
    out->data[len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_clientauth_wait(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_OK) {
        /* a client that goes away meanwhile ends the request */
        r->read_event_handler = ngx_http_test_reading;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_send_unavailable(r);
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* A flow's step sends its commands and waits (ngx_http_clientauth_wait()). */

ngx_int_t
ngx_http_clientauth_txn_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reply_pt on_reply,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n)
{
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    return ngx_http_clientauth_wait(r,
               ngx_http_clientauth_redis_txn_call(r, ctx, ascf->redis,
                                                  on_reply, cmds, n));
}



ngx_int_t
ngx_http_clientauth_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reply_pt on_reply,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n)
{
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    return ngx_http_clientauth_wait(r,
               ngx_http_clientauth_redis_call(r, ctx, ascf->redis, on_reply,
                                              cmds, n));
}


/* The bulk strings of an array reply, NUL-terminated, in r->pool. */

ngx_array_t *
ngx_http_clientauth_reply_strings(ngx_pool_t *pool, redisReply *reply)
{
    size_t        i;
    ngx_str_t    *s;
    ngx_array_t  *a;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    a = ngx_array_create(pool, reply->elements ? reply->elements : 1,
                         sizeof(ngx_str_t));
    if (a == NULL) {
        return NULL;
    }

    for (i = 0; i < reply->elements; i++) {
        s = ngx_array_push(a);
        if (s == NULL
            || ngx_http_clientauth_reply_str(pool, reply->element[i], s)
               != NGX_OK)
        {
            return NULL;
        }
    }

    return a;
}


/*
 * A reply of a MULTI ... EXEC block: NGX_AGAIN for MULTI's +OK and the
 * +QUEUED before EXEC; for the EXEC, NGX_DECLINED when it is nil (a
 * watched key changed, nothing was done), NGX_OK when every command was
 * applied, NGX_ERROR (logged) when Redis refused one.
 */

ngx_int_t
ngx_http_clientauth_exec_reply(ngx_http_request_t *r, redisReply *reply,
    const char *what)
{
    size_t  i;

    if (reply->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        return NGX_AGAIN;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "clientauth: redis refused a %s write: %s", what,
                          reply->element[i]->str);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
