
/*
 * The per-worker session cache (clientauth_session_cache), kept exact by
 * Redis's client-side caching: the bridge's connection is tracked, its
 * invalidations are redirected to a second connection of the worker,
 * subscribed to __redis__:invalidate.  The data structure is lib/ca_scache.
 */

#ifndef _NGX_HTTP_CLIENTAUTH_CACHE_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_CACHE_H_INCLUDED_


#include <hiredis/async.h>

#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ca_scache.h"


/* ngx_http_clientauth_redis.c, for the cache's subscriber connection */
ngx_http_clientauth_redis_t *ngx_http_clientauth_redis_open(ngx_cycle_t *cycle,
    ngx_http_clientauth_redis_conf_t *rcf,
    ngx_http_clientauth_cache_t *cache);
void ngx_http_clientauth_redis_close(ngx_http_clientauth_redis_t *rd);
void ngx_http_clientauth_redis_drop_soon(ngx_http_clientauth_redis_t *rd);
ngx_int_t ngx_http_clientauth_redis_send(ngx_http_clientauth_redis_t *rd,
    redisCallbackFn *fn,
    void *privdata, ngx_http_clientauth_argv_t *cmd);
ngx_http_clientauth_cache_t *ngx_http_clientauth_redis_cache(
    ngx_http_clientauth_redis_conf_t *rcf);


/* the bridge tells the cache about its data connection (and the
 * subscriber's): set up and ready, or gone */
ngx_http_clientauth_cache_t *ngx_http_clientauth_cache_create(
    ngx_cycle_t *cycle, ngx_http_clientauth_redis_t *data,
    ngx_http_clientauth_redis_conf_t *rcf, ngx_uint_t capacity);
void ngx_http_clientauth_cache_destroy(ngx_http_clientauth_cache_t *cache);
void ngx_http_clientauth_cache_ready(ngx_http_clientauth_cache_t *cache,
    ngx_http_clientauth_redis_t *rd);
void ngx_http_clientauth_cache_lost(ngx_http_clientauth_cache_t *cache,
    ngx_http_clientauth_redis_t *rd);

/*
 * The session lookup: the cache of rcf if it may serve now (tracking on
 * the current data connection, the subscriber subscribed and heard lately),
 * else NULL: the lookup reads Redis as without a cache.
 */
ngx_http_clientauth_cache_t *ngx_http_clientauth_cache_serving(
    ngx_http_clientauth_redis_conf_t *rcf);
ngx_int_t ngx_http_clientauth_cache_lookup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_cache_t *cache,
    const char *skey, const char *ukey);
void ngx_http_clientauth_cache_store(ngx_http_clientauth_ctx_t *ctx,
    ca_scache_session_t *s, ca_scache_user_t *u);
void ngx_http_clientauth_cache_abort(ngx_http_clientauth_ctx_t *ctx);

/* The worker's own writes: what it cached of the key goes at once. */
void ngx_http_clientauth_cache_forget(ngx_http_clientauth_redis_conf_t *rcf,
    const char *key);
void ngx_http_clientauth_cache_forget_user(
    ngx_http_clientauth_srv_conf_t *ascf, const char *account,
    const char *user);


#endif /* _NGX_HTTP_CLIENTAUTH_CACHE_H_INCLUDED_ */
