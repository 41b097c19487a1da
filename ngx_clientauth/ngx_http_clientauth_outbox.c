
/*
 * The outbox: the gateway sends no mail itself; it appends each message to
 * a Redis stream (clientauth_outbox) for the brands' mailers to consume.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"


/*
 * Starts "XADD <outbox> MAXLEN ~ N * type T brand B account A user U to E
 * locale L time ISO8601"; the caller may append more field pairs.  The
 * locale is the language the customer is using now, else the user's, else
 * the brand's first.
 */

ngx_int_t
ngx_http_clientauth_outbox_message(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_argv_t *cmd,
    const char *type, ngx_http_clientauth_recipient_t *to)
{
    u_char     *maxlen, *time;
    size_t      len;
    ngx_str_t   lang;

    maxlen = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    time = ngx_pnalloc(r->pool, ngx_cached_http_log_iso8601.len);

    if (maxlen == NULL || time == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sprintf(maxlen, "%ui", ascf->outbox_maxlen) - maxlen;
    ngx_memcpy(time, ngx_cached_http_log_iso8601.data,
               ngx_cached_http_log_iso8601.len);

    ngx_http_clientauth_argv_reset(cmd);
    ngx_http_clientauth_argv_add_str(cmd, "XADD");
    ngx_http_clientauth_argv_add(cmd, ascf->outbox.data, ascf->outbox.len);
    ngx_http_clientauth_argv_add_str(cmd, "MAXLEN");
    ngx_http_clientauth_argv_add_str(cmd, "~");
    ngx_http_clientauth_argv_add(cmd, maxlen, len);
    ngx_http_clientauth_argv_add_str(cmd, "*");
    ngx_http_clientauth_argv_add_str(cmd, "type");
    ngx_http_clientauth_argv_add_str(cmd, type);
    ngx_http_clientauth_argv_add_str(cmd, "brand");
    ngx_http_clientauth_argv_add(cmd, ascf->brand.data, ascf->brand.len);
    ngx_http_clientauth_argv_add_str(cmd, "account");
    ngx_http_clientauth_argv_add_str(cmd, to->account);
    ngx_http_clientauth_argv_add_str(cmd, "user");
    ngx_http_clientauth_argv_add_str(cmd, to->user);
    ngx_http_clientauth_argv_add_str(cmd, "to");
    ngx_http_clientauth_argv_add(cmd, to->email.data, to->email.len);
    ngx_http_clientauth_argv_add_str(cmd, "locale");

    if (ngx_http_clientauth_customer_lang(r, &lang) != NGX_DECLINED
        || to->locale.len == 0)
    {
        ngx_http_clientauth_argv_add(cmd, lang.data, lang.len);

    } else {
        ngx_http_clientauth_argv_add(cmd, to->locale.data, to->locale.len);
    }

    ngx_http_clientauth_argv_add_str(cmd, "time");
    ngx_http_clientauth_argv_add(cmd, time, ngx_cached_http_log_iso8601.len);

    return NGX_OK;
}
