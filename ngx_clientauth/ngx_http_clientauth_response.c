
/*
 * Responses of the module's own: JSON for clients that accept it, HTML
 * for browsers (the pages themselves are ngx_http_clientauth_page.c's),
 * the session cookie, redirects.  Every one is
 * marked not to be stored: they carry credentials or their outcome.
 */


#include "ngx_http_clientauth_module.h"


static ngx_str_t  ngx_http_clientauth_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_clientauth_html_type =
    ngx_string("text/html; charset=utf-8");


ngx_uint_t
ngx_http_clientauth_accepts(ngx_http_request_t *r, const char *type)
{
    ngx_table_elt_t  *accept;

    accept = r->headers_in.accept;

    if (accept == NULL) {
        return 0;
    }

    return ngx_strlcasestrn(accept->value.data,
                            accept->value.data + accept->value.len,
                            (u_char *) type, ngx_strlen(type) - 1)
           != NULL;
}


ngx_int_t
ngx_http_clientauth_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_clientauth_protect(ngx_http_request_t *r)
{
    static ngx_str_t  no_store = ngx_string("no-store");
    static ngx_str_t  nosniff = ngx_string("nosniff");
    static ngx_str_t  no_referrer = ngx_string("no-referrer");

    if (ngx_http_clientauth_add_header(r, "Cache-Control", &no_store)
        != NGX_OK
        || ngx_http_clientauth_add_header(r, "X-Content-Type-Options",
                                          &nosniff) != NGX_OK
        || ngx_http_clientauth_add_header(r, "Referrer-Policy", &no_referrer)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_clientauth_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_clientauth_protect(r) != NGX_OK) {
        return NGX_ERROR;
    }

    r->headers_out.status = status;

    if (status == NGX_HTTP_CLIENTAUTH_UNPROCESSABLE) {
        /* nginx has no status line of its own for 422 */
        ngx_str_set(&r->headers_out.status_line, "422 Unprocessable Entity");
    }

    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = body->len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (body->len == 0) {
        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_clientauth_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json)
{
    return ngx_http_clientauth_send(r, status, &ngx_http_clientauth_json_type,
                                    json);
}


ngx_int_t
ngx_http_clientauth_send_html(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *html)
{
    return ngx_http_clientauth_send(r, status, &ngx_http_clientauth_html_type,
                                    html);
}


ngx_int_t
ngx_http_clientauth_send_redirect(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *location)
{
    ngx_str_t         empty = ngx_null_string;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = *location;

    /*
     * Not r->headers_out.location: nginx would make it absolute from the
     * request's Host, which the client chooses.
     */

    return ngx_http_clientauth_send(r, status, &ngx_http_clientauth_html_type,
                                    &empty);
}


ngx_int_t
ngx_http_clientauth_retry_after(ngx_http_request_t *r, time_t seconds)
{
    ngx_str_t  value;

    value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%T", seconds) - value.data;

    return ngx_http_clientauth_add_header(r, "Retry-After", &value);
}


/* Sets the session cookie, or clears it when token is empty. */

ngx_int_t
ngx_http_clientauth_set_cookie(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_str_t *token)
{
    u_char     *p;
    ngx_str_t   value;

    value.len = ascf->cookie_name.len + 1 + token->len
                + sizeof("; Path=/; HttpOnly; SameSite=Lax; Secure") - 1
                + sizeof("; Max-Age=0") - 1;

    value.data = ngx_pnalloc(r->pool, value.len);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(value.data, "%V=%V; Path=/; HttpOnly; SameSite=Lax",
                    &ascf->cookie_name, token);

    if (ascf->cookie_secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    if (token->len == 0) {
        p = ngx_cpymem(p, "; Max-Age=0", sizeof("; Max-Age=0") - 1);
    }

    value.len = p - value.data;

    return ngx_http_clientauth_add_header(r, "Set-Cookie", &value);
}


/* Fail closed: Redis or the hash pool cannot serve this request now. */

ngx_int_t
ngx_http_clientauth_send_unavailable(ngx_http_request_t *r)
{
    if (ngx_http_clientauth_retry_after(r, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_clientauth_send_message(r, NGX_HTTP_SERVICE_UNAVAILABLE,
               "unavailable", CA_T_UNAVAILABLE_TITLE, CA_T_UNAVAILABLE);
}


/*
 * An access-phase handler that answered by itself ends the request and tells
 * the phase engine so (NGX_DONE).
 */

ngx_int_t
ngx_http_clientauth_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}


/* A query-string argument, percent-decoded; empty when absent. */

ngx_int_t
ngx_http_clientauth_query_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   raw;

    ngx_str_null(value);

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_OK;
    }

    value->data = ngx_pnalloc(r->pool, raw.len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    dst = value->data;
    src = raw.data;

    ngx_unescape_uri(&dst, &src, raw.len, NGX_UNESCAPE_URI);
    value->len = dst - value->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_clientauth_not_allowed(ngx_http_request_t *r, const char *allow)
{
    ngx_str_t  value;

    value.data = (u_char *) allow;
    value.len = ngx_strlen(allow);

    if (ngx_http_clientauth_add_header(r, "Allow", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_send_message(r, NGX_HTTP_NOT_ALLOWED,
               "method_not_allowed", CA_T_BAD_TITLE, CA_T_NOT_ALLOWED);
}


/* A copy in r->pool, NUL included: Redis arguments outlive the stack. */

char *
ngx_http_clientauth_pool_cstr(ngx_http_request_t *r, const char *s)
{
    char    *copy;
    size_t   len;

    len = ngx_strlen(s) + 1;

    copy = ngx_pnalloc(r->pool, len);
    if (copy == NULL) {
        return NULL;
    }

    ngx_memcpy(copy, s, len);

    return copy;
}


ngx_uint_t
ngx_http_clientauth_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    /* an empty reply field has no data: strncmp() must not see NULL */

    return a->len == b->len
           && (a->len == 0 || ngx_strncmp(a->data, b->data, a->len) == 0);
}
