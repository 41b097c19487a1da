
/*
 * Sub-users (Axarnet), the account's side: the self-service area's
 * /auth/account/users requests (ngx_http_clientauth_users.c).
 */

#ifndef _NGX_HTTP_CLIENTAUTH_USERS_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_USERS_H_INCLUDED_


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_account.h"


ngx_uint_t ngx_http_clientauth_users_manager(
    ngx_http_clientauth_account_t *acc);
ngx_int_t ngx_http_clientauth_users_url(ngx_http_request_t *r,
    ngx_str_t *link);
ngx_int_t ngx_http_clientauth_users_list(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_users_invite(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_users_invite_cancel(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_users_perms(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_users_remove(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);


#endif /* _NGX_HTTP_CLIENTAUTH_USERS_H_INCLUDED_ */
