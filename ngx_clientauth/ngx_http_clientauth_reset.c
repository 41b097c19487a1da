
/*
 * The password-reset endpoints (clientauth_reset_request,
 * clientauth_reset_confirm).
 */


#include "ngx_http_clientauth_module.h"


ngx_int_t
ngx_http_clientauth_reset_request_handler(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "clientauth: password reset is not available in this "
                  "build yet");

    return ngx_http_clientauth_send_message(r, NGX_HTTP_NOT_IMPLEMENTED,
               "not_implemented", "Not available",
               "Password reset is not available yet.");
}


ngx_int_t
ngx_http_clientauth_reset_confirm_handler(ngx_http_request_t *r)
{
    return ngx_http_clientauth_reset_request_handler(r);
}
