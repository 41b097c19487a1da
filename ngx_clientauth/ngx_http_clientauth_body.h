
/*
 * Login and reset forms: reading the request body and parsing it.
 */

#ifndef _NGX_HTTP_CLIENTAUTH_BODY_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_BODY_H_INCLUDED_


#include "ngx_http_clientauth_module.h"
#include "ca_form.h"


ngx_int_t ngx_http_clientauth_read_form(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);
ngx_int_t ngx_http_clientauth_parse_form(ngx_http_request_t *r,
    ca_form_t *form);
ngx_int_t ngx_http_clientauth_parse_form_multi(ngx_http_request_t *r,
    ca_form_t *form, const char *multi);
void ngx_http_clientauth_form_value(ca_form_t *form, const char *name,
    ngx_str_t *value);
ngx_table_elt_t *ngx_http_clientauth_find_header(ngx_http_request_t *r,
    const char *name);
ngx_uint_t ngx_http_clientauth_same_origin(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_cross_site(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CLIENTAUTH_BODY_H_INCLUDED_ */
