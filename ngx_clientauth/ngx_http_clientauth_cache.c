
/*
 * The per-worker session cache, kept exact by Redis's client-side caching.
 *
 * The worker's shared connection runs CLIENT TRACKING on REDIRECT <id>
 * OPTIN, where <id> is a second connection of the worker subscribed to
 * __redis__:invalidate (hiredis 0.14 speaks RESP2: invalidations cannot
 * come on the tracked connection itself).  OPTIN: only the session
 * lookup's reads, preceded by CLIENT CACHING yes, are tracked, not the
 * login's or the reset's, whose keys no cache holds: Redis remembers
 * fewer keys and sends fewer invalidations.
 *
 * The cache serves only while tracking is confirmed on the current data
 * connection, the subscriber is subscribed, and it heard from Redis within
 * the last NGX_HTTP_CLIENTAUTH_SILENCE ms (a SUBSCRIBE again every
 * NGX_HTTP_CLIENTAUTH_HEARTBEAT ms is the heartbeat: hiredis 0.14 cannot
 * PING a subscribed connection), so that a Redis that stops answering
 * stops the cache within that time.  Invalidations and the heartbeat's
 * confirmations come in order on one connection: a confirmation heard
 * means every invalidation sent before it was heard too, so a cache that
 * stopped serving for a late confirmation may serve again without being
 * emptied.  Either connection lost, the subscriber silent for the bridge's
 * timeout, a nil invalidation (FLUSHALL, FLUSHDB): the cache empties and
 * lookups read Redis until tracking is back.  A set-up step refused (CLIENT
 * ID, CLIENT TRACKING) leaves the cache off and is tried again every
 * NGX_HTTP_CLIENTAUTH_RETRY ms; a reply of the wrong type means the
 * connection is out of step, and it is dropped.
 */


#include "ngx_http_clientauth_cache.h"


#define NGX_HTTP_CLIENTAUTH_INVALIDATE  "__redis__:invalidate"

/* ms; the heartbeat's period and the silence after which the cache
 * stops serving are at most half the bridge's timeout, and the timeout */
#define NGX_HTTP_CLIENTAUTH_HEARTBEAT   100
#define NGX_HTTP_CLIENTAUTH_SILENCE     250
#define NGX_HTTP_CLIENTAUTH_RETRY       1000


struct ngx_http_clientauth_cache_s {
    ca_scache_t                       *store;
    ngx_http_clientauth_redis_conf_t  *conf;
    ngx_http_clientauth_redis_t       *data;
    ngx_http_clientauth_redis_t       *sub;
    ngx_log_t                         *log;
    ngx_event_t                        heartbeat;
    ngx_msec_t                         heard;     /* from the subscriber */
    long long                          sub_id;    /* its CLIENT ID */
    ngx_uint_t                         reported;  /* entries in the gauge */
    ngx_msec_t                         refused;   /* when set-up failed */
    ngx_uint_t                         pending;   /* CLIENT TRACKING sent,
                                                     not answered */

    unsigned                           data_ready:1;
    unsigned                           started:1; /* CLIENT ID sent */
    unsigned                           subscribed:1;
    unsigned                           asked:1;   /* CLIENT TRACKING sent */
    unsigned                           tracking:1;
    unsigned                           warned:1;  /* since tracking was on */
    unsigned                           retry:1;   /* a step was refused */
};


static void ngx_http_clientauth_cache_subscribe(
    ngx_http_clientauth_cache_t *cache);
static void ngx_http_clientauth_cache_track(ngx_http_clientauth_cache_t *cache);
static void ngx_http_clientauth_cache_id_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_clientauth_cache_message(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_clientauth_cache_track_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_clientauth_cache_refused(
    ngx_http_clientauth_cache_t *cache, const char *what, redisReply *reply);
static void ngx_http_clientauth_cache_heartbeat(ngx_event_t *ev);
static void ngx_http_clientauth_cache_retry(ngx_http_clientauth_cache_t *cache);
static ngx_msec_t ngx_http_clientauth_cache_interval(
    ngx_http_clientauth_cache_t *cache);
static void ngx_http_clientauth_cache_flush(ngx_http_clientauth_cache_t *cache,
    const char *why);
static void ngx_http_clientauth_cache_report(
    ngx_http_clientauth_cache_t *cache);


ngx_http_clientauth_cache_t *
ngx_http_clientauth_cache_create(ngx_cycle_t *cycle,
    ngx_http_clientauth_redis_t *data, ngx_http_clientauth_redis_conf_t *rcf,
    ngx_uint_t capacity)
{
    ngx_http_clientauth_cache_t  *cache;

    cache = ngx_pcalloc(cycle->pool, sizeof(ngx_http_clientauth_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    cache->store = ca_scache_create((uint32_t) capacity);
    if (cache->store == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "clientauth: no memory for a session cache of %ui "
                      "sessions", capacity);
        return NULL;
    }

    cache->conf = rcf;
    cache->data = data;
    cache->log = cycle->log;

    cache->heartbeat.handler = ngx_http_clientauth_cache_heartbeat;
    cache->heartbeat.data = cache;
    cache->heartbeat.log = cycle->log;
    cache->heartbeat.cancelable = 1;

    cache->sub = ngx_http_clientauth_redis_open(cycle, rcf, cache);
    if (cache->sub == NULL) {
        ca_scache_destroy(cache->store);
        return NULL;
    }

    return cache;
}


void
ngx_http_clientauth_cache_destroy(ngx_http_clientauth_cache_t *cache)
{
    if (cache->heartbeat.timer_set) {
        ngx_del_timer(&cache->heartbeat);
    }

    ngx_http_clientauth_redis_close(cache->sub);

    ca_scache_flush(cache->store);
    ngx_http_clientauth_cache_report(cache);
    ca_scache_destroy(cache->store);
    cache->store = NULL;
}


void
ngx_http_clientauth_cache_ready(ngx_http_clientauth_cache_t *cache,
    ngx_http_clientauth_redis_t *rd)
{
    if (rd == cache->sub) {
        ngx_http_clientauth_cache_subscribe(cache);
        return;
    }

    cache->data_ready = 1;
    ngx_http_clientauth_cache_track(cache);
}


void
ngx_http_clientauth_cache_lost(ngx_http_clientauth_cache_t *cache,
    ngx_http_clientauth_redis_t *rd)
{
    if (rd == cache->sub) {
        /* invalidations redirected to it go nowhere: tracking must be
         * redirected to the next subscriber */
        cache->started = 0;
        cache->subscribed = 0;
        cache->sub_id = 0;
        ngx_http_clientauth_cache_flush(cache, "subscriber connection lost");

    } else {
        cache->data_ready = 0;
        ngx_http_clientauth_cache_flush(cache, "data connection lost");
    }

    cache->tracking = 0;
    cache->asked = 0;
}


/* CLIENT ID first (answered before any message), then SUBSCRIBE. */

static void
ngx_http_clientauth_cache_subscribe(ngx_http_clientauth_cache_t *cache)
{
    ngx_http_clientauth_argv_t  cmd;

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "CLIENT");
    ngx_http_clientauth_argv_add_str(&cmd, "ID");

    if (ngx_http_clientauth_redis_send(cache->sub,
                                       ngx_http_clientauth_cache_id_reply,
                                       cache, &cmd)
        != NGX_OK)
    {
        return;
    }

    /* from now on the heartbeat waits for answers: a subscriber that gets
     * none, even to CLIENT ID, is dropped after the bridge's timeout */
    cache->started = 1;
    cache->heard = ngx_current_msec;

    if (!cache->heartbeat.timer_set) {
        ngx_add_timer(&cache->heartbeat,
                      ngx_http_clientauth_cache_interval(cache));
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "SUBSCRIBE");
    ngx_http_clientauth_argv_add_str(&cmd, NGX_HTTP_CLIENTAUTH_INVALIDATE);

    (void) ngx_http_clientauth_redis_send(cache->sub,
                                          ngx_http_clientauth_cache_message,
                                          cache, &cmd);
}


static void
ngx_http_clientauth_cache_id_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                   *reply = r;
    ngx_http_clientauth_cache_t  *cache = privdata;

    if (reply == NULL || cache->store == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_INTEGER || reply->integer <= 0) {
        /* a subscribed connection cannot ask again: a new one will */
        ngx_http_clientauth_cache_refused(cache, "CLIENT ID", reply);

        if (reply->type != REDIS_REPLY_ERROR) {
            ngx_http_clientauth_redis_drop_soon(cache->sub);
        }

        return;
    }

    cache->sub_id = reply->integer;
}


/*
 * Redis refused a set-up step (a Redis 5, a replica that is loading...):
 * the cache stays off, and the step is tried again (retry), one warning
 * until tracking is back.
 */

static void
ngx_http_clientauth_cache_refused(ngx_http_clientauth_cache_t *cache,
    const char *what, redisReply *reply)
{
    if (!cache->warned) {
        ngx_log_error(NGX_LOG_WARN, cache->log, 0,
                      "clientauth: redis %V refused %s (%s): the session "
                      "cache stays off, trying again every %M ms",
                      &cache->conf->name, what,
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "unexpected reply",
                      (ngx_msec_t) NGX_HTTP_CLIENTAUTH_RETRY);
        cache->warned = 1;
    }

    cache->refused = ngx_current_msec;
    cache->retry = 1;
}


/*
 * Everything the subscriber receives: SUBSCRIBE's confirmations (the first
 * one, and each heartbeat's) and the invalidations, an array of keys or a
 * nil for a flush of the database.
 */

static void
ngx_http_clientauth_cache_message(redisAsyncContext *ac, void *r,
    void *privdata)
{
    size_t                        i;
    redisReply                   *reply = r, *keys, *key;
    ngx_http_clientauth_cache_t  *cache = privdata;

    if (reply == NULL || cache->store == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, cache->log, 0,
                      "clientauth: unexpected message on the invalidation "
                      "channel of redis %V", &cache->conf->name);
        ngx_http_clientauth_redis_drop_soon(cache->sub);
        return;
    }

    cache->heard = ngx_current_msec;

    if (ngx_strcmp(reply->element[0]->str, "subscribe") == 0) {
        if (!cache->subscribed) {
            cache->subscribed = 1;
            ngx_http_clientauth_cache_track(cache);
        }

        return;
    }

    if (ngx_strcmp(reply->element[0]->str, "message") != 0) {
        return;
    }

    keys = reply->element[2];

    if (keys->type != REDIS_REPLY_ARRAY) {
        /* FLUSHALL, FLUSHDB, or the tracking table full */
        ngx_http_clientauth_cache_flush(cache, "redis flushed its keys");
        return;
    }

    for (i = 0; i < keys->elements; i++) {
        key = keys->element[i];

        if (key->type == REDIS_REPLY_STRING
            && ca_scache_invalidate(cache->store, key->str, key->len))
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cache->log, 0,
                           "clientauth: session cache invalidated %s",
                           key->str);
            ngx_http_clientauth_count(
                                 NGX_HTTP_CLIENTAUTH_M_SCACHE_INVALIDATION);
        }
    }

    ngx_http_clientauth_cache_report(cache);
}


/* Once both connections are up: the data connection is tracked. */

static void
ngx_http_clientauth_cache_track(ngx_http_clientauth_cache_t *cache)
{
    u_char                      *p;
    ngx_http_clientauth_argv_t   cmd;
    u_char                       id[NGX_INT64_LEN];

    if (!cache->data_ready || !cache->subscribed || cache->sub_id <= 0
        || cache->asked)
    {
        return;
    }

    p = ngx_sprintf(id, "%L", (int64_t) cache->sub_id);

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "CLIENT");
    ngx_http_clientauth_argv_add_str(&cmd, "TRACKING");
    ngx_http_clientauth_argv_add_str(&cmd, "on");
    ngx_http_clientauth_argv_add_str(&cmd, "REDIRECT");
    ngx_http_clientauth_argv_add(&cmd, id, p - id);
    ngx_http_clientauth_argv_add_str(&cmd, "OPTIN");

    if (ngx_http_clientauth_redis_send(cache->data,
                                       ngx_http_clientauth_cache_track_reply,
                                       cache, &cmd)
        == NGX_OK)
    {
        cache->asked = 1;
        cache->pending++;
    }
}


static void
ngx_http_clientauth_cache_track_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                   *reply = r;
    ngx_http_clientauth_cache_t  *cache = privdata;

    cache->pending--;

    /*
     * Only the reply to the last one sent says where the data connection
     * redirects now: an +OK to an earlier REDIRECT (a subscriber gone
     * since) followed by a refusal would leave invalidations going nowhere.
     */

    if (reply == NULL || cache->store == NULL || !cache->asked
        || cache->pending)
    {
        return;
    }

    if (reply->type != REDIS_REPLY_STATUS) {
        cache->tracking = 0;
        ngx_http_clientauth_cache_refused(cache, "client tracking", reply);

        if (reply->type != REDIS_REPLY_ERROR) {
            /* out of step: what answers the next read is unknown */
            ngx_http_clientauth_redis_drop_soon(cache->data);
        }

        return;
    }

    if (!cache->subscribed) {
        /* the subscriber went meanwhile: asked again once it is back */
        return;
    }

    cache->tracking = 1;
    cache->warned = 0;
    cache->retry = 0;

    ngx_log_error(NGX_LOG_INFO, cache->log, 0,
                  "clientauth: session cache on, kept exact by redis %V",
                  &cache->conf->name);
}


static void
ngx_http_clientauth_cache_heartbeat(ngx_event_t *ev)
{
    ngx_http_clientauth_argv_t    cmd;
    ngx_http_clientauth_cache_t  *cache = ev->data;

    if (cache->retry
        && ngx_current_msec - cache->refused >= NGX_HTTP_CLIENTAUTH_RETRY)
    {
        ngx_http_clientauth_cache_retry(cache);
    }

    if (cache->started) {

        if (ngx_current_msec - cache->heard > cache->conf->timeout) {
            ngx_log_error(NGX_LOG_ERR, cache->log, 0,
                          "clientauth: redis %V did not answer the session "
                          "cache's subscriber within %M ms, reconnecting",
                          &cache->conf->name, cache->conf->timeout);
            ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_REDIS_TIMEOUT);
            ngx_http_clientauth_cache_flush(cache, "subscriber silent");
            cache->tracking = 0;
            ngx_http_clientauth_redis_drop_soon(cache->sub);
            return;
        }

        ngx_http_clientauth_argv_reset(&cmd);
        ngx_http_clientauth_argv_add_str(&cmd, "SUBSCRIBE");
        ngx_http_clientauth_argv_add_str(&cmd,
                                         NGX_HTTP_CLIENTAUTH_INVALIDATE);

        (void) ngx_http_clientauth_redis_send(cache->sub,
                                           ngx_http_clientauth_cache_message,
                                           cache, &cmd);
    }

    ngx_add_timer(ev, ngx_http_clientauth_cache_interval(cache));
}


static ngx_msec_t
ngx_http_clientauth_cache_interval(ngx_http_clientauth_cache_t *cache)
{
    return ngx_max(ngx_min(NGX_HTTP_CLIENTAUTH_HEARTBEAT,
                           cache->conf->timeout / 2), 1);
}


/* A refused set-up step again: CLIENT ID on a new subscriber, or tracking. */

static void
ngx_http_clientauth_cache_retry(ngx_http_clientauth_cache_t *cache)
{
    cache->retry = 0;

    if (cache->sub_id <= 0) {
        ngx_http_clientauth_redis_drop_soon(cache->sub);
        return;
    }

    cache->asked = 0;
    ngx_http_clientauth_cache_track(cache);
}


static void
ngx_http_clientauth_cache_flush(ngx_http_clientauth_cache_t *cache,
    const char *why)
{
    if (cache->tracking || ca_scache_entries(cache->store)) {
        ngx_log_error(NGX_LOG_INFO, cache->log, 0,
                      "clientauth: session cache emptied: %s", why);
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SCACHE_FLUSH);
    }

    ca_scache_flush(cache->store);
    ngx_http_clientauth_cache_report(cache);
}


/* The workers' entries gauge moves by what this cache changed. */

static void
ngx_http_clientauth_cache_report(ngx_http_clientauth_cache_t *cache)
{
    ngx_uint_t  entries;

    entries = ca_scache_entries(cache->store);

    if (entries != cache->reported) {
        ngx_http_clientauth_gauge_add(NGX_HTTP_CLIENTAUTH_M_SCACHE_ENTRIES,
                                      (ngx_int_t) entries
                                      - (ngx_int_t) cache->reported);
        cache->reported = entries;
    }
}


ngx_http_clientauth_cache_t *
ngx_http_clientauth_cache_serving(ngx_http_clientauth_redis_conf_t *rcf)
{
    ngx_http_clientauth_cache_t  *cache;

    cache = ngx_http_clientauth_redis_cache(rcf);

    if (cache == NULL || !cache->tracking || !cache->subscribed
        || ngx_current_msec - cache->heard
           > ngx_min(NGX_HTTP_CLIENTAUTH_SILENCE, rcf->timeout))
    {
        return NULL;
    }

    return cache;
}


/*
 * A hit: NGX_OK, the session's fields in ctx as a read would put them.
 * NGX_DECLINED: a miss; the read that follows takes a ticket, so that its
 * replies may be stored.
 */

ngx_int_t
ngx_http_clientauth_cache_lookup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_cache_t *cache,
    const char *skey, const char *ukey)
{
    size_t                      slen;
    const ca_scache_user_t     *u;
    const ca_scache_session_t  *s;

    slen = ngx_strlen(skey);

    if (!ca_scache_get(cache->store, skey, slen, &s, &u)) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SCACHE_MISS);

        if (ca_scache_begin(cache->store, skey, slen, ukey, ngx_strlen(ukey),
                            &ctx->cache_ticket)
            == 0)
        {
            ctx->cache_reading = cache;

        } else {
            ca_scache_abort(cache->store, &ctx->cache_ticket);
        }

        return NGX_DECLINED;
    }

    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SCACHE_HIT);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "clientauth: session from the cache");

    ctx->session_expires = s->expires;
    ctx->session_refreshed = s->refreshed;
    ctx->session_deadline = s->deadline;

    if (!u->active
        || ngx_strcmp(s->generation, u->generation) != 0)
    {
        /* the user, read since for another of its sessions, was locked or
         * had its sessions revoked: this one will not be valid again */
        (void) ca_scache_invalidate(cache->store, skey, slen);
        ngx_http_clientauth_cache_report(cache);
        return NGX_OK;
    }

    /* the account area moves the current session to a new generation */
    if (ngx_http_clientauth_reply_copy(r->pool, u->perms, u->perms_len,
                                       &ctx->identity.permissions)
        != NGX_OK
        || ngx_http_clientauth_reply_copy(r->pool, s->generation,
                                          ngx_strlen(s->generation),
                                          &ctx->session_gen)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->session_found = 1;

    return NGX_OK;
}


void
ngx_http_clientauth_cache_store(ngx_http_clientauth_ctx_t *ctx,
    ca_scache_session_t *s, ca_scache_user_t *u)
{
    ngx_http_clientauth_cache_t  *cache;

    cache = ctx->cache_reading;
    if (cache == NULL) {
        return;
    }

    ctx->cache_reading = NULL;

    if (cache->store == NULL) {
        return;
    }

    if (ca_scache_fill(cache->store, &ctx->cache_ticket, s, u)) {
        ngx_http_clientauth_cache_report(cache);
    }
}


void
ngx_http_clientauth_cache_abort(ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_cache_t  *cache;

    cache = ctx->cache_reading;
    if (cache == NULL) {
        return;
    }

    ctx->cache_reading = NULL;

    if (cache->store) {
        ca_scache_abort(cache->store, &ctx->cache_ticket);
        ngx_http_clientauth_cache_report(cache);
    }
}


void
ngx_http_clientauth_cache_forget(ngx_http_clientauth_redis_conf_t *rcf,
    const char *key)
{
    ngx_http_clientauth_cache_t  *cache;

    cache = ngx_http_clientauth_redis_cache(rcf);

    if (cache == NULL || cache->store == NULL) {
        return;
    }

    if (ca_scache_invalidate(cache->store, key, ngx_strlen(key))) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SCACHE_INVALIDATION);
        ngx_http_clientauth_cache_report(cache);
    }
}


void
ngx_http_clientauth_cache_forget_user(ngx_http_clientauth_srv_conf_t *ascf,
    const char *account, const char *user)
{
    char  key[CA_KEY_MAX];

    if (ca_key_user(key, sizeof(key), (char *) ascf->brand.data, account,
                    user)
        >= 0)
    {
        ngx_http_clientauth_cache_forget(ascf->redis, key);
    }
}
