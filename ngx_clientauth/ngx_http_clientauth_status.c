
/*
 * Counters shared by all workers (atomics in a shared memory zone that
 * survives reloads) and the clientauth_status endpoint that prints them in
 * Prometheus text format.
 */


#include "ngx_http_clientauth_module.h"


typedef struct {
    const char  *name;
    const char  *labels;
    const char  *help;
} ngx_http_clientauth_metric_t;


static ngx_int_t ngx_http_clientauth_metrics_zone_init(
    ngx_shm_zone_t *shm_zone, void *data);


/* Indexed by ngx_http_clientauth_metric_e; one HELP/TYPE per name run. */
static ngx_http_clientauth_metric_t  ngx_http_clientauth_metrics_table[] = {
    { "clientauth_session_checks_total", "result=\"valid\"",
      "Protected requests by the outcome of their session check." },
    { "clientauth_session_checks_total", "result=\"invalid\"", NULL },
    { "clientauth_session_checks_total", "result=\"forbidden\"", NULL },
    { "clientauth_session_refreshes_total", NULL,
      "Idle deadlines pushed back in Redis." },
    { "clientauth_logins_total", "result=\"success\"",
      "Login attempts by outcome." },
    { "clientauth_logins_total", "result=\"failure\"", NULL },
    { "clientauth_logins_total", "result=\"throttled\"", NULL },
    { "clientauth_password_rehashes_total", NULL,
      "Legacy or outdated password hashes upgraded at login." },
    { "clientauth_logouts_total", NULL, "Sessions ended by logout." },
    { "clientauth_password_resets_total", NULL,
      "Passwords replaced through a reset link." },
    { "clientauth_hash_queue_full_total", NULL,
      "Requests refused because the password-hash queue was full." },
    { "clientauth_redis_unavailable_total", NULL,
      "Requests refused because Redis could not be reached." },
    { "clientauth_redis_timeouts_total", NULL,
      "Redis connections dropped for not answering in time." },
    { "clientauth_redis_reconnects_total", NULL,
      "Reconnection attempts to Redis." },
    { "clientauth_bad_requests_total", NULL,
      "Malformed login or reset requests." },
    /* the session cache (issue 11) */
    { "clientauth_session_cache_hits_total", NULL,
      "Protected requests validated from the worker's session cache." },
    { "clientauth_session_cache_misses_total", NULL,
      "Protected requests whose session was read from Redis while the "
      "session cache was on." },
    { "clientauth_session_cache_invalidations_total", NULL,
      "Cached sessions and users dropped because Redis or the worker "
      "changed them." },
    { "clientauth_session_cache_flushes_total", NULL,
      "Session caches emptied: a connection to Redis lost, tracking "
      "refused, a FLUSHALL." },
    { "clientauth_session_cache_entries", NULL,
      "Sessions held by the workers' session caches." },
    /* Redis Sentinel */
    { "clientauth_redis_failovers_total", NULL,
      "Moves of a worker's Redis connections to a primary newly named by "
      "Redis Sentinel." },
    /* durable writes (issue 12) */
    { "clientauth_durable_writes_total", "replicas=\"confirmed\"",
      "Writes a failover must not undo, by whether clientauth_redis "
      "replicas= confirmed them in time." },
    { "clientauth_durable_writes_total", "replicas=\"unconfirmed\"", NULL }
};


static ngx_atomic_t  *ngx_http_clientauth_metrics;
static ngx_atomic_t   ngx_http_clientauth_metrics_local[
                          NGX_HTTP_CLIENTAUTH_M_LAST];


ngx_int_t
ngx_http_clientauth_metrics_init(ngx_conf_t *cf,
    ngx_http_clientauth_main_conf_t *amcf)
{
    ngx_str_t  name = ngx_string("clientauth_metrics");

    amcf->metrics = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                          &ngx_http_clientauth_module);
    if (amcf->metrics == NULL) {
        return NGX_ERROR;
    }

    amcf->metrics->init = ngx_http_clientauth_metrics_zone_init;

    return NGX_OK;
}


static ngx_int_t
ngx_http_clientauth_metrics_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload: keep counting where the old cycle was */
        shm_zone->data = data;
        ngx_http_clientauth_metrics = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    ngx_http_clientauth_metrics = ngx_slab_calloc(shpool,
                            NGX_HTTP_CLIENTAUTH_M_LAST * sizeof(ngx_atomic_t));
    if (ngx_http_clientauth_metrics == NULL) {
        return NGX_ERROR;
    }

    shm_zone->data = (void *) ngx_http_clientauth_metrics;

    return NGX_OK;
}


void
ngx_http_clientauth_gauge_add(ngx_http_clientauth_metric_e metric,
    ngx_int_t delta)
{
    ngx_atomic_t  *counters;

    counters = ngx_http_clientauth_metrics ? ngx_http_clientauth_metrics
                                           : ngx_http_clientauth_metrics_local;

    (void) ngx_atomic_fetch_add(&counters[metric], (ngx_atomic_int_t) delta);
}


void
ngx_http_clientauth_count(ngx_http_clientauth_metric_e metric)
{
    ngx_atomic_t  *counters;

    counters = ngx_http_clientauth_metrics ? ngx_http_clientauth_metrics
                                           : ngx_http_clientauth_metrics_local;

    (void) ngx_atomic_fetch_add(&counters[metric], 1);
}


ngx_int_t
ngx_http_clientauth_status_handler(ngx_http_request_t *r)
{
    u_char                        *p;
    size_t                         len;
    ngx_uint_t                     i;
    ngx_str_t                      body, type;
    ngx_http_clientauth_metric_t  *m;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    len = 0;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_M_LAST; i++) {
        m = &ngx_http_clientauth_metrics_table[i];

        len += 2 * ngx_strlen(m->name) + sizeof(" {}") + NGX_ATOMIC_T_LEN
               + (m->labels ? ngx_strlen(m->labels) : 0)
               + (m->help ? ngx_strlen(m->help) + ngx_strlen(m->name)
                            + sizeof("# HELP  \n# TYPE  counter\n") : 0);
    }

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body.data;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_M_LAST; i++) {
        m = &ngx_http_clientauth_metrics_table[i];

        if (m->help) {
            p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n",
                            m->name, m->help, m->name,
                            i == NGX_HTTP_CLIENTAUTH_M_SCACHE_ENTRIES
                            ? "gauge" : "counter");
        }

        p = ngx_sprintf(p, m->labels ? "%s{%s} %uA\n" : "%s%s %uA\n",
                        m->name, m->labels ? m->labels : "",
                        ngx_http_clientauth_metrics
                        ? ngx_http_clientauth_metrics[i]
                        : ngx_http_clientauth_metrics_local[i]);
    }

    body.len = p - body.data;
    ngx_str_set(&type, "text/plain; version=0.0.4");

    return ngx_http_clientauth_send(r, NGX_HTTP_OK, &type, &body);
}
