
/*
 * The Redis bridge: one persistent hiredis async connection per worker and
 * clientauth_redis address, driven by nginx's event loop, commands from many
 * requests pipelined on it.
 */

#ifndef _NGX_HTTP_CLIENTAUTH_REDIS_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_REDIS_H_INCLUDED_


#include "ngx_http_clientauth_module.h"


#define NGX_HTTP_CLIENTAUTH_ARGS_MAX  32

/* a check-and-set whose watched key keeps changing gives up (503) */
#define NGX_HTTP_CLIENTAUTH_TXN_TRIES  3


/* One Redis command: its arguments point to memory that outlives the call
 * only until ngx_http_clientauth_redis_call returns (hiredis copies them). */
typedef struct {
    int                          argc;
    const char                  *argv[NGX_HTTP_CLIENTAUTH_ARGS_MAX];
    size_t                       argvlen[NGX_HTTP_CLIENTAUTH_ARGS_MAX];
} ngx_http_clientauth_argv_t;


/*
 * Called once for each reply of a call, in order, while the request is still
 * alive; reply is NULL when the connection failed or timed out.  It must only
 * record what it needs: the request resumes (r->write_event_handler) from a
 * posted event once every reply is in.
 */
typedef void (*ngx_http_clientauth_reply_pt)(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);


ngx_int_t ngx_http_clientauth_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_clientauth_redis_exit_process(ngx_cycle_t *cycle);

void ngx_http_clientauth_argv_reset(ngx_http_clientauth_argv_t *a);
void ngx_http_clientauth_argv_add(ngx_http_clientauth_argv_t *a,
    const void *data, size_t len);
void ngx_http_clientauth_argv_add_str(ngx_http_clientauth_argv_t *a,
    const char *s);

/*
 * Sends n commands for r.  NGX_OK: they are on their way, the request waits
 * (ctx->wait is WAITING); NGX_DECLINED: Redis is unavailable now (the caller
 * answers 503); NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_clientauth_redis_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_redis_conf_t *rcf,
    ngx_http_clientauth_reply_pt on_reply, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t n);

/*
 * A check-and-set transaction on one of the worker's dedicated connections:
 * the first call (WATCH, reads) takes one for the request, or waits for one
 * in a bounded queue; the next (MULTI ... EXEC) goes on the same; the
 * request gives it back with ngx_http_clientauth_redis_txn_end() or when it
 * ends.  Results as ngx_http_clientauth_redis_call()'s.  Never hold one
 * while hashing: others wait for it.
 */
ngx_int_t ngx_http_clientauth_redis_txn_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_redis_conf_t *rcf,
    ngx_http_clientauth_reply_pt on_reply, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t n);
void ngx_http_clientauth_redis_txn_end(ngx_http_clientauth_ctx_t *ctx);

/* Sends n commands whose replies nobody waits for (best-effort writes). */
ngx_int_t ngx_http_clientauth_redis_post(ngx_http_clientauth_redis_conf_t *rcf,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n);

/* A request that ends while its command is in flight lets go of it. */
void ngx_http_clientauth_redis_detach(ngx_http_clientauth_ctx_t *ctx);

/* Whom an outbox message is about and for. */
typedef struct {
    const char                  *account;
    const char                  *user;
    ngx_str_t                    email;
    ngx_str_t                    locale;
} ngx_http_clientauth_recipient_t;


/* ngx_http_clientauth_session.c */
ngx_int_t ngx_http_clientauth_revoke_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, const char *account,
    const char *user, ngx_array_t *listed, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t *members);
ngx_uint_t ngx_http_clientauth_revoke_size(ngx_array_t *listed);
void ngx_http_clientauth_revoke_late(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, redisReply *members);

/* ngx_http_clientauth_outbox.c */
ngx_int_t ngx_http_clientauth_outbox_message(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_argv_t *cmd,
    const char *type, ngx_http_clientauth_recipient_t *to);

/*
 * What a content handler's step returns after sending a call: NGX_DONE to
 * wait, or the 503 / 500 answer.
 */
ngx_int_t ngx_http_clientauth_wait(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_clientauth_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reply_pt on_reply,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n);
ngx_int_t ngx_http_clientauth_txn_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reply_pt on_reply,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n);

/*
 * Reply helpers over ca_reply: a bulk string copied into the pool (NGX_OK),
 * nil (NGX_DECLINED) or anything else (NGX_ERROR); a string copied.
 */
ngx_int_t ngx_http_clientauth_reply_str(ngx_pool_t *pool, redisReply *reply,
    ngx_str_t *out);
ngx_int_t ngx_http_clientauth_reply_copy(ngx_pool_t *pool, const char *s,
    size_t len, ngx_str_t *out);

/* A reply of MULTI ... EXEC: NGX_AGAIN, NGX_DECLINED (nil), NGX_OK, or
 * NGX_ERROR (a command refused, logged with what). */
ngx_int_t ngx_http_clientauth_exec_reply(ngx_http_request_t *r,
    redisReply *reply, const char *what);

/* The bulk strings of an array reply (of ngx_str_t), or NULL. */
ngx_array_t *ngx_http_clientauth_reply_strings(ngx_pool_t *pool,
    redisReply *reply);


#endif /* _NGX_HTTP_CLIENTAUTH_REDIS_H_INCLUDED_ */
