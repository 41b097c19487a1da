/*
 * ngx_clientauth: the flow runner.  An endpoint's flow is a chain of steps
 * that runs again each time Redis or the thread pool answers; this file
 * holds the request's context, the runner and its clean-up.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_cache.h"
#include "ngx_http_clientauth_hash.h"
#include "ngx_http_clientauth_body.h"


static void ngx_http_clientauth_flow_body(ngx_http_request_t *r);
static void ngx_http_clientauth_flow_resume(ngx_http_request_t *r);
static void ngx_http_clientauth_cleanup(void *data);


ngx_http_clientauth_ctx_t *
ngx_http_clientauth_get_ctx(ngx_http_request_t *r)
{
    ngx_http_clientauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_clientauth_module);
    if (ctx) {
        return ctx;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_clientauth_module);

    return ctx;
}


/*
 * Starts an endpoint's flow: its steps run now (or once the body is read)
 * and again each time Redis or the thread pool answers, until one returns
 * something other than NGX_DONE, which finalizes the request, once.  The
 * request is held (r->main->count) meanwhile: by the body reader, or here.
 */

ngx_int_t
ngx_http_clientauth_flow_start(ngx_http_request_t *r,
    ngx_http_clientauth_step_pt next, void *flow, ngx_uint_t read_body)
{
    ngx_int_t                   rc;
    ngx_http_clientauth_ctx_t  *ctx;

    ctx = ngx_http_clientauth_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->next = next;
    ctx->flow = flow;

    if (read_body) {
        /* no step may run before the body is all in */
        return ngx_http_clientauth_read_form(r,
                                             ngx_http_clientauth_flow_body);
    }

    r->write_event_handler = ngx_http_clientauth_flow_resume;

    rc = next(r, ctx);

    if (rc == NGX_DONE) {
        r->main->count++;
    }

    return rc;
}


static void
ngx_http_clientauth_flow_body(ngx_http_request_t *r)
{
    r->write_event_handler = ngx_http_clientauth_flow_resume;

    ngx_http_clientauth_flow_resume(r);
}


static void
ngx_http_clientauth_flow_resume(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_clientauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_clientauth_module);

    if (ctx->wait == NGX_HTTP_CLIENTAUTH_WAITING) {
        return;
    }

    ctx->wait = NGX_HTTP_CLIENTAUTH_IDLE;
    r->read_event_handler = ngx_http_block_reading;

    if (ctx->redis_error) {
        if (ctx->abandon) {
            ctx->abandon(r, ctx);
            ctx->abandon = NULL;
        }

        rc = ngx_http_clientauth_send_unavailable(r);

    } else {
        rc = ctx->next(r, ctx);
    }

    if (rc != NGX_DONE) {
        /* whatever the answer, others may wait for its connection */
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_http_finalize_request(r, rc);
    }
}


/* Lets go of Redis commands and hash tasks when the request's pool goes. */

ngx_int_t
ngx_http_clientauth_add_cleanup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    if (ctx->cleanup_added) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_clientauth_cleanup;
    cln->data = ctx;
    ctx->cleanup_added = 1;

    return NGX_OK;
}


static void
ngx_http_clientauth_cleanup(void *data)
{
    ngx_http_clientauth_ctx_t  *ctx = data;

    ngx_http_clientauth_redis_detach(ctx);
    ngx_http_clientauth_hash_detach(ctx);
    ngx_http_clientauth_cache_abort(ctx);
}


int64_t
ngx_http_clientauth_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/*
 * Client-controlled text for a log line (ca_logesc.h): a line break in an
 * identifier must not forge a line.  buf has CA_LOGESC_SIZE bytes.  Used
 * as an argument of ngx_log_error(), it runs only when the line is logged.
 */

char *
ngx_http_clientauth_log_safe(char *buf, ngx_str_t *s)
{
    (void) ca_logesc(buf, CA_LOGESC_SIZE, (char *) s->data, s->len);

    return buf;
}
