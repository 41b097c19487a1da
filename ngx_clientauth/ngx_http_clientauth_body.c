
/*
 * Reading a login or reset form: application/x-www-form-urlencoded or JSON,
 * bounded by clientauth_max_body_size, parsed by lib/ca_form.c.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_body.h"


static ngx_int_t ngx_http_clientauth_body_type(ngx_http_request_t *r);
static ngx_int_t ngx_http_clientauth_body_copy(ngx_http_request_t *r,
    ngx_str_t *body);


#define NGX_HTTP_CLIENTAUTH_FORM  1
#define NGX_HTTP_CLIENTAUTH_JSON  2


/*
 * Starts reading the body; the handler runs when it is all in.  Returns what
 * a content handler returns: NGX_DONE, or a status to finalize with.
 */

ngx_int_t
ngx_http_clientauth_read_form(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler)
{
    ngx_int_t                        rc;
    ngx_http_clientauth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_clientauth_module);

    if (ngx_http_clientauth_body_type(r) == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: unsupported request body type");
        return NGX_HTTP_BAD_REQUEST;
    }

    if (r->headers_in.content_length_n > (off_t) alcf->max_body_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: request body of %O bytes is larger than "
                      "clientauth_max_body_size %uz",
                      r->headers_in.content_length_n, alcf->max_body_size);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * Parses the body that was read into form.  NGX_OK, or the status to answer:
 * 413 for a body over the limit, 400 for anything malformed.
 */

ngx_int_t
ngx_http_clientauth_parse_form(ngx_http_request_t *r, ca_form_t *form)
{
    return ngx_http_clientauth_parse_form_multi(r, form, NULL);
}


/* multi: the one field the endpoint lets repeat (ca_form.h), or NULL */

ngx_int_t
ngx_http_clientauth_parse_form_multi(ngx_http_request_t *r, ca_form_t *form,
    const char *multi)
{
    int        rc;
    ngx_int_t  status;
    ngx_str_t  body;

    status = ngx_http_clientauth_body_copy(r, &body);
    if (status != NGX_OK) {
        return status;
    }

    if (ngx_http_clientauth_body_type(r) == NGX_HTTP_CLIENTAUTH_JSON) {
        rc = ca_form_parse_json_multi((char *) body.data, body.len, form,
                                      multi);

    } else {
        rc = ca_form_parse_urlencoded_multi((char *) body.data, body.len,
                                            form, multi);
    }

    if (rc != CA_FORM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: malformed request body");
        return NGX_HTTP_BAD_REQUEST;
    }

    return NGX_OK;
}


/* The value of a form field, or an empty string when it is absent. */

void
ngx_http_clientauth_form_value(ca_form_t *form, const char *name,
    ngx_str_t *value)
{
    const ca_form_field_t  *field;

    field = ca_form_get(form, name);

    if (field == NULL) {
        ngx_str_null(value);
        return;
    }

    value->data = (u_char *) field->value;
    value->len = field->value_len;
}


static ngx_int_t
ngx_http_clientauth_body_type(ngx_http_request_t *r)
{
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;

    if (type->len >= sizeof("application/x-www-form-urlencoded") - 1
        && ngx_strncasecmp(type->data,
                           (u_char *) "application/x-www-form-urlencoded",
                           sizeof("application/x-www-form-urlencoded") - 1)
           == 0)
    {
        return NGX_HTTP_CLIENTAUTH_FORM;
    }

    if (type->len >= sizeof("application/json") - 1
        && ngx_strncasecmp(type->data, (u_char *) "application/json",
                           sizeof("application/json") - 1)
           == 0)
    {
        return NGX_HTTP_CLIENTAUTH_JSON;
    }

    return 0;
}


/* One contiguous, writable copy: the parsers decode in place. */

static ngx_int_t
ngx_http_clientauth_body_copy(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                          *p;
    size_t                           len;
    ngx_chain_t                     *cl;
    ngx_http_clientauth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_clientauth_module);
    len = 0;

    if (r->request_body == NULL) {
        ngx_str_set(body, "");
        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "clientauth: request body was buffered to a file: "
                          "keep clientauth_max_body_size below "
                          "client_body_buffer_size");
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    if (len > alcf->max_body_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: request body of %uz bytes is larger than "
                      "clientauth_max_body_size %uz", len,
                      alcf->max_body_size);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    body->data = ngx_pnalloc(r->pool, len + 1);
    if (body->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body->data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {

        /* an empty body's buffer may have no memory: keep NULL from memcpy */

        if (cl->buf->pos == cl->buf->last) {
            continue;
        }

        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    *p = '\0';
    body->len = len;

    return NGX_OK;
}


/* A request header by name, in any letter case; the first, or NULL. */

ngx_table_elt_t *
ngx_http_clientauth_find_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * A form posted from another site (login CSRF, forced logout) is refused.
 * Browsers say where a request comes from with Sec-Fetch-Site, older ones
 * with Origin, compared with the Host the request was sent to; clients that
 * send neither are not browsers and are let through.
 */

ngx_uint_t
ngx_http_clientauth_same_origin(ngx_http_request_t *r)
{
    u_char           *host;
    ngx_str_t        *origin;
    ngx_table_elt_t  *h;

    h = ngx_http_clientauth_find_header(r, "Sec-Fetch-Site");

    if (h) {
        return (h->value.len == sizeof("same-origin") - 1
                && ngx_strncasecmp(h->value.data, (u_char *) "same-origin",
                                   h->value.len) == 0)
               || (h->value.len == sizeof("none") - 1
                   && ngx_strncasecmp(h->value.data, (u_char *) "none",
                                      h->value.len) == 0);
    }

    h = ngx_http_clientauth_find_header(r, "Origin");

    if (h == NULL) {
        return 1;
    }

    origin = &h->value;
    host = ngx_strlcasestrn(origin->data, origin->data + origin->len,
                            (u_char *) "://", 3 - 1);

    if (host == NULL || r->headers_in.host == NULL) {
        return 0;
    }

    host += 3;

    return (size_t) (origin->data + origin->len - host)
               == r->headers_in.host->value.len
           && ngx_strncasecmp(host, r->headers_in.host->value.data,
                              r->headers_in.host->value.len) == 0;
}


ngx_int_t
ngx_http_clientauth_cross_site(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "clientauth: cross-site form post refused");

    return ngx_http_clientauth_send_message(r, NGX_HTTP_FORBIDDEN,
               "cross_site", CA_T_FORBIDDEN_TITLE, CA_T_CROSS_SITE);
}
