
/*
 * Primary e-mail change: the self-service area's routes
 * (ngx_http_clientauth_account.c) and the "this was not me" link's own
 * location (clientauth_email_cancel).
 */

#ifndef _NGX_HTTP_CLIENTAUTH_EMAIL_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_EMAIL_H_INCLUDED_


#include "ngx_http_clientauth_module.h"


ngx_int_t ngx_http_clientauth_email_view(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_email_request(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_email_status(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_email_confirm(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_email_verify(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_email_cancel(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);


#endif /* _NGX_HTTP_CLIENTAUTH_EMAIL_H_INCLUDED_ */
