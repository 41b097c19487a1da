
/*
 * Durable writes.  Redis replicates asynchronously: a write the primary
 * acknowledged may not have reached a replica when the primary dies, and
 * the replica Sentinel promotes then never saw it.  For most writes that
 * is harmless (a session refresh, a login counter), but a failover must not
 * bring back a spent reset token, a replaced password or a revoked session.
 * So after those writes, on the connection that made them, the flow asks
 * Redis to WAIT until clientauth_redis replicas=N replicas have everything
 * that connection wrote so far, at most half the command timeout (so that
 * the wait never trips the connection's deadline).
 *
 * Fewer replicas in time is a warning, not a failure: the write is on the
 * primary, and refusing the request would not undo it.  The customer can
 * rely on the change unless the primary dies before a replica catches up;
 * the warning says when that window was open.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"


ngx_uint_t
ngx_http_clientauth_durable(ngx_http_request_t *r,
    ngx_http_clientauth_argv_t *cmd)
{
    u_char                            *p;
    ngx_http_clientauth_srv_conf_t    *ascf;
    ngx_http_clientauth_redis_conf_t  *rcf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    rcf = ascf->redis;

    if (rcf->replicas == 0) {
        return 0;
    }

    p = ngx_pnalloc(r->pool, 2 * NGX_INT_T_LEN);
    if (p == NULL) {
        /* no wait is no worse than replicas=0: the write is made */
        return 0;
    }

    ngx_http_clientauth_argv_reset(cmd);
    ngx_http_clientauth_argv_add_str(cmd, "WAIT");
    ngx_http_clientauth_argv_add(cmd, p,
                                 ngx_sprintf(p, "%ui", rcf->replicas) - p);
    p += NGX_INT_T_LEN;
    ngx_http_clientauth_argv_add(cmd, p,
                                 ngx_sprintf(p, "%M",
                                     ngx_http_clientauth_durable_wait(rcf))
                                 - p);

    return 1;
}


/* 0 would wait forever */

ngx_msec_t
ngx_http_clientauth_durable_wait(ngx_http_clientauth_redis_conf_t *rcf)
{
    return ngx_max(rcf->timeout / 2, 1);
}


/*
 * A write that needs no check-and-set (a logout) goes on the shared
 * connection, where a WAIT would hold up every session lookup the worker
 * pipelines behind it for as long as a replica lags: when replicas are
 * awaited it goes on a dedicated connection instead.
 */

ngx_int_t
ngx_http_clientauth_durable_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reply_pt on_reply,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n)
{
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ascf->redis->replicas == 0) {
        return ngx_http_clientauth_call(r, ctx, on_reply, cmds, n);
    }

    return ngx_http_clientauth_txn_call(r, ctx, on_reply, cmds, n);
}


/* The bridge hands over a WAIT's reply here; the flow does not see it. */

void
ngx_http_clientauth_durable_reply(ngx_http_clientauth_redis_conf_t *rcf,
    ngx_log_t *log, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_INTEGER
        && reply->integer >= (long long) rcf->replicas)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "clientauth: write confirmed by %L of %ui replicas",
                       (int64_t) reply->integer, rcf->replicas);
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_DURABLE_CONFIRMED);
        return;
    }

    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_DURABLE_UNCONFIRMED);

    if (reply->type == REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "clientauth: write confirmed by %L of %ui replicas of "
                      "redis %V within %Mms: it stands on the primary, but "
                      "a failover before the replicas catch up would lose "
                      "it", (int64_t) reply->integer, rcf->replicas,
                      &rcf->name, ngx_http_clientauth_durable_wait(rcf));
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "clientauth: redis %V did not wait for its replicas "
                  "(reply type %d%s%*s): the write stands on the primary "
                  "only", &rcf->name, reply->type,
                  reply->type == REDIS_REPLY_ERROR ? ", " : "",
                  (size_t) (reply->type == REDIS_REPLY_ERROR
                            ? ngx_min(reply->len, 256) : 0),
                  reply->type == REDIS_REPLY_ERROR ? reply->str : "");
}
