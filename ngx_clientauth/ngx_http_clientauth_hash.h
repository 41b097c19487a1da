
/*
 * Password hashing in nginx's thread pool: argon2id costs tens of
 * milliseconds of CPU and must never run in the event loop.
 */

#ifndef _NGX_HTTP_CLIENTAUTH_HASH_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_HASH_H_INCLUDED_


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"


/* the current hash and the former ones */
#define NGX_HTTP_CLIENTAUTH_HASHES_MAX  (1 + NGX_HTTP_CLIENTAUTH_HISTORY_MAX)


typedef struct {
    ngx_uint_t                   nstored;
    const char                  *stored[NGX_HTTP_CLIENTAUTH_HASHES_MAX];
    ngx_str_t                    password;
    unsigned                     rehash:1;      /* upgrade stored[0] */
    unsigned                     hash_new:1;    /* hash the password */
} ngx_http_clientauth_hash_in_t;


typedef struct {
    ngx_int_t                    matched;       /* index, or -1 */
    ngx_uint_t                   error;         /* a stored hash is unusable */
    ngx_str_t                    new_hash;      /* empty if none was made */
    ngx_msec_t                   elapsed;       /* in the thread */
} ngx_http_clientauth_hash_out_t;


void ngx_http_clientauth_hash_init_process(ngx_cycle_t *cycle);

/*
 * Verifies the password against each stored hash and makes a new hash when
 * asked (hash_new) or when stored[0] matched and is outdated (rehash).
 * NGX_OK: the task is queued, the request waits and resumes with out filled
 * in; NGX_BUSY: the worker's queue is full (503 with Retry-After);
 * NGX_ERROR: no memory or the pool refused the task.
 */
ngx_int_t ngx_http_clientauth_hash_run(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_hash_in_t *in, ngx_http_clientauth_hash_out_t *out);

void ngx_http_clientauth_hash_detach(ngx_http_clientauth_ctx_t *ctx);

/* An argon2id hash of a random password, for accounts that do not exist. */
char *ngx_http_clientauth_hash_dummy(ngx_conf_t *cf, ca_pwhash_cost_t *cost);

/*
 * The least time a failed login spends in its hash task, timer included:
 * the costliest verification the cost bounds allow, measured now, with a
 * margin.  0 on error.
 */
ngx_msec_t ngx_http_clientauth_hash_floor(ngx_conf_t *cf,
    ca_pwhash_cost_t *cost);

/* ngx_http_clientauth_reset.c: a new password, for reset and change */
unsigned ngx_http_clientauth_new_password_rules(ngx_http_request_t *r,
    ngx_str_t *password, ngx_str_t *confirm, const char **ids,
    ngx_uint_t nids);
void ngx_http_clientauth_new_password_in(ngx_http_request_t *r,
    ngx_http_clientauth_hash_in_t *in, ngx_str_t *current,
    ngx_array_t *history);
ngx_int_t ngx_http_clientauth_new_password_reads(ngx_http_request_t *r,
    const char *account, const char *user, ngx_http_clientauth_argv_t *cmds);


#endif /* _NGX_HTTP_CLIENTAUTH_HASH_H_INCLUDED_ */
