
/*
 * The login throttle: sliding-window limits and lockout, counted in Redis.
 */

#ifndef _NGX_HTTP_CLIENTAUTH_LIMIT_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_LIMIT_H_INCLUDED_


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ca_form.h"


/*
 * The most commands one round trip of an attempt appends: the index GET,
 * the lockout's 5 and 3 for each window.
 */
#define NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS                                     \
    (1 + 5 + 3 * NGX_HTTP_CLIENTAUTH_LIMITS)

/*
 * What is counted: logins, or password-reset or identifier-reminder
 * requests (no lockout).
 */
#define NGX_HTTP_CLIENTAUTH_ATTEMPT_LOGIN   0
#define NGX_HTTP_CLIENTAUTH_ATTEMPT_RESET   1
#define NGX_HTTP_CLIENTAUTH_ATTEMPT_REMIND  2

ngx_int_t ngx_http_clientauth_attempt_start(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t what, ngx_str_t *identifier,
    ngx_http_clientauth_argv_t *cmds);
ngx_int_t ngx_http_clientauth_attempt_account(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t *refused, time_t *retry);
ngx_int_t ngx_http_clientauth_attempt_ask(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t what, ca_form_t *form,
    ngx_str_t *identifier, ngx_http_clientauth_argv_t *cmds, ngx_int_t *rc);
ngx_int_t ngx_http_clientauth_attempt_counted(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t *refused, ngx_str_t *ref, char *account, char *user);
ngx_int_t ngx_http_clientauth_attempt_wait(ngx_http_request_t *r,
    time_t retry);
ngx_int_t ngx_http_clientauth_attempt_banned(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_http_clientauth_argv_t *cmds,
    ngx_int_t *rc);
ngx_int_t ngx_http_clientauth_attempt_escalated(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a);
ngx_int_t ngx_http_clientauth_attempt_known(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_str_t *account, ngx_str_t *user,
    ngx_http_clientauth_argv_t *cmds);
ngx_int_t ngx_http_clientauth_limit_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t first, ngx_uint_t phase);
ngx_int_t ngx_http_clientauth_limit_reply(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t n, redisReply *reply);
ngx_int_t ngx_http_clientauth_limit_verdict(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    time_t *retry);
void ngx_http_clientauth_limit_undo(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a);
ngx_int_t ngx_http_clientauth_ban_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmds);
void ngx_http_clientauth_ban_reply(ngx_http_clientauth_attempt_t *a,
    ngx_uint_t n, redisReply *reply);
ngx_int_t ngx_http_clientauth_escalate_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmds);
void ngx_http_clientauth_escalate_reply(ngx_http_clientauth_attempt_t *a,
    ngx_uint_t n, redisReply *reply);
time_t ngx_http_clientauth_ban_apply(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a);
ngx_int_t ngx_http_clientauth_limit_success(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmd);


/*
 * A limit on something that only counts when it happens (an invitation
 * sent): read under WATCH first (ngx_http_clientauth_window_read(), two
 * GETs), judged (ngx_http_clientauth_window_wait()), then counted inside
 * the MULTI that does it (ngx_http_clientauth_window_count(), INCR and
 * PEXPIRE).  Watching the current bucket makes the count exact.
 */
typedef struct {
    char                        *current;      /* its bucket's key */
    char                        *previous;
    ngx_msec_t                   window;
    ngx_uint_t                   count;
    int64_t                      now;
} ngx_http_clientauth_window_t;

ngx_int_t ngx_http_clientauth_window_init(ngx_http_request_t *r,
    ngx_http_clientauth_window_t *w, const char *scope, const char *subject,
    ngx_uint_t count, ngx_msec_t window);
void ngx_http_clientauth_window_read(ngx_http_clientauth_window_t *w,
    ngx_http_clientauth_argv_t *cmds);
time_t ngx_http_clientauth_window_wait(ngx_http_clientauth_window_t *w,
    ngx_str_t *current, ngx_str_t *previous);
ngx_int_t ngx_http_clientauth_window_count(ngx_http_request_t *r,
    ngx_http_clientauth_window_t *w, ngx_http_clientauth_argv_t *cmds);


#endif /* _NGX_HTTP_CLIENTAUTH_LIMIT_H_INCLUDED_ */
