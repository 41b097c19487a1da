
/*
 * Password hashing in nginx's thread pool.
 *
 * The task and its copies of the hashes and the password live outside
 * r->pool: a request that goes away while its task runs only detaches it,
 * and the completion handler frees it.  Each worker bounds the tasks it has
 * queued or running (clientauth_hash_queue) so that a login flood is refused
 * with 503 instead of queueing without bound.
 */


#include <sodium.h>

#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_hash.h"


typedef struct {
    ngx_thread_task_t                 task;
    ngx_http_request_t               *request;     /* NULL: detached */
    ngx_http_clientauth_ctx_t        *ctx;
    ngx_http_clientauth_hash_out_t   *out;
    ca_pwhash_cost_t                  cost;
    ngx_uint_t                        nstored;
    char                              stored[NGX_HTTP_CLIENTAUTH_HASHES_MAX]
                                            [CA_PWHASH_MAX];
    ngx_int_t                         matched;
    ngx_uint_t                        error;
    char                              new_hash[CA_PWHASH_MAX];
    ngx_msec_t                        elapsed;
    unsigned                          rehash:1;
    unsigned                          hash_new:1;
    size_t                            pwlen;
    char                              password[1];
} ngx_http_clientauth_hash_job_t;


static ngx_http_clientauth_hash_job_t *ngx_http_clientauth_hash_job(
    ngx_http_request_t *r, ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_hash_in_t *in);
static void ngx_http_clientauth_hash_thread(void *data, ngx_log_t *log);
static void ngx_http_clientauth_hash_done(ngx_event_t *ev);
static void ngx_http_clientauth_hash_free(ngx_http_clientauth_hash_job_t *job);
static void ngx_http_clientauth_hash_hold(ngx_event_t *ev);


static ngx_uint_t   ngx_http_clientauth_hash_inflight;

/* the legacy schemes' speed, measured once by the process that reads the
 * configuration */
static ca_pwhash_calib_t  ngx_http_clientauth_hash_calib;

/*
 * A worker that is shutting down exits once no timer but cancelable ones is
 * left; a task has none of its own, so this one holds the worker while any
 * task is queued or running.
 */
static ngx_event_t       ngx_http_clientauth_hash_holder;

/* what debug logging of the holder's timer takes for its connection */
static ngx_connection_t  ngx_http_clientauth_hash_dummy_conn;


void
ngx_http_clientauth_hash_init_process(ngx_cycle_t *cycle)
{
    ngx_http_clientauth_hash_inflight = 0;

    ngx_memzero(&ngx_http_clientauth_hash_holder, sizeof(ngx_event_t));
    ngx_http_clientauth_hash_dummy_conn.fd = (ngx_socket_t) -1;
    ngx_http_clientauth_hash_holder.handler = ngx_http_clientauth_hash_hold;
    ngx_http_clientauth_hash_holder.data = &ngx_http_clientauth_hash_dummy_conn;
    ngx_http_clientauth_hash_holder.log = cycle->log;
}


ngx_int_t
ngx_http_clientauth_hash_run(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_hash_in_t *in, ngx_http_clientauth_hash_out_t *out)
{
    ngx_http_clientauth_hash_job_t   *job;
    ngx_http_clientauth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_clientauth_module);

    if (ngx_http_clientauth_hash_inflight >= amcf->hash_queue) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: password hash queue is full (%ui tasks)",
                      ngx_http_clientauth_hash_inflight);
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_HASH_QUEUE_FULL);
        return NGX_BUSY;
    }

    if (ascf->thread_pool == NULL
        || ngx_http_clientauth_add_cleanup(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    job = ngx_http_clientauth_hash_job(r, ascf, in);
    if (job == NULL) {
        return NGX_ERROR;
    }

    job->ctx = ctx;
    job->out = out;

    if (ngx_thread_task_post(ascf->thread_pool, &job->task) != NGX_OK) {
        ngx_http_clientauth_hash_free(job);
        return NGX_BUSY;
    }

    if (ngx_http_clientauth_hash_inflight++ == 0) {
        ngx_add_timer(&ngx_http_clientauth_hash_holder, 60000);
    }

    ctx->task = job;
    ctx->wait = NGX_HTTP_CLIENTAUTH_WAITING;

    return NGX_OK;
}


static ngx_http_clientauth_hash_job_t *
ngx_http_clientauth_hash_job(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_hash_in_t *in)
{
    size_t                           len;
    ngx_uint_t                       i;
    ngx_http_clientauth_hash_job_t  *job;

    job = ngx_calloc(sizeof(ngx_http_clientauth_hash_job_t)
                     + in->password.len, r->connection->log);
    if (job == NULL) {
        return NULL;
    }

    job->request = r;
    job->cost = ascf->hash_cost;
    job->matched = -1;
    job->rehash = in->rehash;
    job->hash_new = in->hash_new;

    for (i = 0; i < in->nstored; i++) {
        len = ngx_strlen(in->stored[i]);

        if (len >= CA_PWHASH_MAX) {
            /* cannot be a hash we know: verifies as unusable */
            len = 0;
        }

        ngx_memcpy(job->stored[i], in->stored[i], len);
    }

    job->nstored = in->nstored;

    job->pwlen = in->password.len;
    ngx_memcpy(job->password, in->password.data, in->password.len);

    job->task.ctx = job;
    job->task.handler = ngx_http_clientauth_hash_thread;
    job->task.event.handler = ngx_http_clientauth_hash_done;
    job->task.event.data = job;

    /* the request, and its connection's log, may be gone when it ends */
    job->task.event.log = ngx_cycle->log;

    return job;
}


/* Runs in a pool thread: touches nothing but the job. */

static void
ngx_http_clientauth_hash_thread(void *data, ngx_log_t *log)
{
    int                              needs_rehash, ignored;
    ngx_uint_t                       i;
    ca_pw_rc_e                       rc;
    struct timespec                  start, end;
    ngx_http_clientauth_hash_job_t  *job = data;

    /* the event loop's cached time does not move in a pool thread */
    (void) clock_gettime(CLOCK_MONOTONIC, &start);

    needs_rehash = 0;
    ignored = 0;

    for (i = 0; i < job->nstored; i++) {
        rc = ca_pwhash_verify(job->stored[i], job->password, job->pwlen,
                              &job->cost, i == 0 ? &needs_rehash : &ignored);

        if (rc == CA_PW_ERROR) {
            job->error++;

        } else if (rc == CA_PW_MATCH && job->matched < 0) {
            job->matched = i;
        }
    }

    if ((job->hash_new && job->matched < 0)
        || (job->rehash && job->matched == 0 && needs_rehash))
    {
        if (ca_pwhash_hash(job->password, job->pwlen, &job->cost,
                           job->new_hash) != 0)
        {
            job->new_hash[0] = '\0';
            job->error++;
        }
    }

    sodium_memzero(job->password, job->pwlen);

    (void) clock_gettime(CLOCK_MONOTONIC, &end);

    job->elapsed = (ngx_msec_t) ((end.tv_sec - start.tv_sec) * 1000
                                 + (end.tv_nsec - start.tv_nsec) / 1000000);
}


static void
ngx_http_clientauth_hash_done(ngx_event_t *ev)
{
    size_t                           len;
    ngx_connection_t                *c;
    ngx_http_request_t              *r;
    ngx_http_clientauth_ctx_t       *ctx;
    ngx_http_clientauth_hash_out_t  *out;
    ngx_http_clientauth_hash_job_t  *job = ev->data;

    if (--ngx_http_clientauth_hash_inflight == 0
        && ngx_http_clientauth_hash_holder.timer_set)
    {
        ngx_del_timer(&ngx_http_clientauth_hash_holder);
    }

    r = job->request;

    if (r == NULL) {
        ngx_http_clientauth_hash_free(job);
        return;
    }

    ctx = job->ctx;
    out = job->out;

    out->matched = job->matched;
    out->error = job->error;
    out->elapsed = job->elapsed;
    ngx_str_null(&out->new_hash);

    len = ngx_strlen(job->new_hash);

    if (len) {
        out->new_hash.data = ngx_pnalloc(r->pool, len + 1);

        if (out->new_hash.data) {
            ngx_memcpy(out->new_hash.data, job->new_hash, len + 1);
            out->new_hash.len = len;

        } else {
            out->error++;
        }
    }

    ngx_http_clientauth_hash_free(job);

    ctx->task = NULL;
    ctx->wait = NGX_HTTP_CLIENTAUTH_REPLIED;

    c = r->connection;
    ngx_http_set_log_request(c->log, r);

    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}


void
ngx_http_clientauth_hash_detach(ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_hash_job_t  *job;

    job = ctx->task;
    if (job == NULL) {
        return;
    }

    /* the thread may be running it: the completion handler frees it */
    job->request = NULL;
    job->ctx = NULL;
    job->out = NULL;
    ctx->task = NULL;
}


static void
ngx_http_clientauth_hash_free(ngx_http_clientauth_hash_job_t *job)
{
    sodium_memzero(job->password, job->pwlen);
    ngx_free(job);
}


static void
ngx_http_clientauth_hash_hold(ngx_event_t *ev)
{
    if (ngx_http_clientauth_hash_inflight) {
        ngx_add_timer(ev, 60000);
    }
}


char *
ngx_http_clientauth_hash_dummy(ngx_conf_t *cf, ca_pwhash_cost_t *cost)
{
    char           *dummy;
    size_t          len;
    unsigned char   random[32];
    char            password[sodium_base64_ENCODED_LEN(32,
                                 sodium_base64_VARIANT_ORIGINAL)];
    char            hash[CA_PWHASH_MAX];

    randombytes_buf(random, sizeof(random));
    sodium_bin2base64(password, sizeof(password), random, sizeof(random),
                      sodium_base64_VARIANT_ORIGINAL);

    if (ca_pwhash_hash(password, ngx_strlen(password), cost, hash) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth: cannot make an argon2id hash with "
                           "t=%uL m=%uz", cost->opslimit, cost->memlimit);
        return NULL;
    }

    len = ngx_strlen(hash);

    dummy = ngx_pnalloc(cf->pool, len + 1);
    if (dummy == NULL) {
        return NULL;
    }

    ngx_memcpy(dummy, hash, len + 1);

    return dummy;
}


/*
 * Half more than the CPU time measured: the hash threads share the
 * machine with the event loops and whatever else runs there, and wait.
 */

ngx_msec_t
ngx_http_clientauth_hash_floor(ngx_conf_t *cf, ca_pwhash_cost_t *cost)
{
    int64_t     ceiling;
    ngx_msec_t  floor;

    ceiling = ca_pwhash_ceiling_ms(cost, &ngx_http_clientauth_hash_calib);

    if (ceiling <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth: cannot time password hashing");
        return 0;
    }

    floor = (ngx_msec_t) (ceiling + ceiling / 2);

    ngx_conf_log_error(NGX_LOG_INFO, cf, 0,
                       "clientauth: failed logins with argon2id t=%uL m=%uz "
                       "are answered after at least %M ms of hashing",
                       cost->opslimit, cost->memlimit, floor);

    return floor;
}
