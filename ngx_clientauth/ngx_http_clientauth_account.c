
/*
 * The self-service area (clientauth_account): one location, /auth/account/,
 * whose sub-paths are routed to handlers by a table.  The access phase has
 * checked the session (clientauth_account turns clientauth on); this file
 * reads what every handler needs about the session and its user, checks a
 * state-changing request's origin and CSRF token, and serves the area's
 * page.  How to add a handler: ngx_http_clientauth_account.h.
 */


#include <sodium.h>

#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_page.h"
#include "ngx_http_clientauth_account.h"
#include "ngx_http_clientauth_email.h"
#include "ngx_http_clientauth_users.h"


static ngx_http_clientauth_account_route_t *ngx_http_clientauth_account_route(
    ngx_http_request_t *r, ngx_uint_t *known);
static ngx_int_t ngx_http_clientauth_account_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static void ngx_http_clientauth_account_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);
static ngx_int_t ngx_http_clientauth_account_dispatch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_uint_t ngx_http_clientauth_account_csrf(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc);
static u_char *ngx_http_clientauth_account_esc(u_char *p, ngx_str_t *value,
    const char *then);
static ngx_int_t ngx_http_clientauth_account_json(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc);


/*
 * The area's requests.  Add yours in a block of your own, with a comment
 * naming the feature (ngx_http_clientauth_account.h).
 */

static ngx_http_clientauth_account_route_t
    ngx_http_clientauth_account_routes[] =
{
    /* the area's page (a due e-mail change applies first: …_email.c) */
    { ngx_string(""), NGX_HTTP_GET, ngx_http_clientauth_email_view, NULL },

    /* password change */
    { ngx_string("password"), NGX_HTTP_POST,
      ngx_http_clientauth_account_password, NULL },

    /* sessions */
    { ngx_string("sessions"), NGX_HTTP_GET,
      ngx_http_clientauth_account_sessions, NULL },
    { ngx_string("sessions/revoke"), NGX_HTTP_POST,
      ngx_http_clientauth_account_revoke, NULL },

    /* primary e-mail change (ngx_http_clientauth_email.c) */
    { ngx_string("email"), NGX_HTTP_GET,
      ngx_http_clientauth_email_status, NULL },
    { ngx_string("email"), NGX_HTTP_POST,
      ngx_http_clientauth_email_request, NULL },
    { ngx_string("email/confirm"), NGX_HTTP_POST,
      ngx_http_clientauth_email_confirm, NULL },
    { ngx_string("email/verify"), NGX_HTTP_GET,
      ngx_http_clientauth_email_verify, NULL },
    { ngx_string("email/cancel"), NGX_HTTP_POST,
      ngx_http_clientauth_email_cancel, NULL },

    /* sub-users */
    { ngx_string("users"), NGX_HTTP_GET,
      ngx_http_clientauth_users_list, NULL },
    { ngx_string("users/invite"), NGX_HTTP_POST,
      ngx_http_clientauth_users_invite, "perm" },
    { ngx_string("users/invite/cancel"), NGX_HTTP_POST,
      ngx_http_clientauth_users_invite_cancel, NULL },
    { ngx_string("users/perms"), NGX_HTTP_POST,
      ngx_http_clientauth_users_perms, "perm" },
    { ngx_string("users/remove"), NGX_HTTP_POST,
      ngx_http_clientauth_users_remove, NULL },

    { ngx_null_string, 0, NULL, NULL }
};


/*
 * ?done=WHAT after a change: the notice the page shows.  Add yours in a
 * block of your own.
 */

static struct {
    ngx_str_t                    done;
    ca_text_e                    text;
} ngx_http_clientauth_account_notices[] = {

    /* password change */
    { ngx_string("password"), CA_T_ACCOUNT_PASSWORD_DONE },

    /* sessions */
    { ngx_string("revoked"), CA_T_SESSION_REVOKED },
    { ngx_string("revoked_all"), CA_T_SESSIONS_REVOKED },

    /* primary e-mail change */
    { ngx_string("email_changed"), CA_T_EMAIL_CHANGED },
    { ngx_string("email_cancelled"), CA_T_EMAIL_CANCELLED },

    { ngx_null_string, CA_T_COUNT }
};


ngx_int_t
ngx_http_clientauth_account_handler(ngx_http_request_t *r)
{
    ngx_uint_t                            known;
    ngx_http_clientauth_ctx_t            *ctx;
    ngx_http_clientauth_account_t        *acc;
    ngx_http_clientauth_srv_conf_t       *ascf;
    ngx_http_clientauth_account_route_t  *route;

    ctx = ngx_http_get_module_ctx(r, ngx_http_clientauth_module);

    if (ctx == NULL || !ctx->session_valid) {
        /* "satisfy any" let the request in without a session */
        return ngx_http_clientauth_send_message(r, NGX_HTTP_UNAUTHORIZED,
                   "unauthenticated", CA_T_LOGIN_TITLE, CA_T_NEED_LOGIN);
    }

    route = ngx_http_clientauth_account_route(r, &known);

    if (route == NULL) {
        if (!known) {
            return ngx_http_clientauth_send_message(r, NGX_HTTP_NOT_FOUND,
                       "not_found", CA_T_BAD_TITLE, CA_T_NOT_FOUND);
        }

        return ngx_http_clientauth_not_allowed(r,
                   known == NGX_HTTP_POST ? "POST" : "GET, HEAD");
    }

    if (route->method == NGX_HTTP_POST && !ngx_http_clientauth_same_origin(r))
    {
        return ngx_http_clientauth_cross_site(r);
    }

    acc = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_account_t));
    if (acc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    acc->route = route;
    acc->account = ctx->identity.account;
    acc->user = ctx->identity.user;
    acc->permissions = ctx->identity.permissions;
    acc->brand = ascf->brand;
    acc->token_hash = ctx->token_hash;
    acc->session_gen = ctx->session_gen;

    return ngx_http_clientauth_flow_start(r,
               ngx_http_clientauth_account_read, acc,
               route->method == NGX_HTTP_POST
               && r->headers_in.content_type != NULL);
}


/*
 * The route of the request's sub-path and method.  NULL: none; *known is
 * then 0 for an unknown path, else the method the path takes.
 */

static ngx_http_clientauth_account_route_t *
ngx_http_clientauth_account_route(ngx_http_request_t *r, ngx_uint_t *known)
{
    ngx_str_t                             path;
    ngx_uint_t                            method;
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_clientauth_account_route_t  *rt;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    path = r->uri;

    if (path.len >= clcf->name.len
        && ngx_strncmp(path.data, clcf->name.data, clcf->name.len) == 0)
    {
        path.data += clcf->name.len;
        path.len -= clcf->name.len;
    }

    while (path.len && path.data[0] == '/') {
        path.data++;
        path.len--;
    }

    while (path.len && path.data[path.len - 1] == '/') {
        path.len--;
    }

    method = (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) ? NGX_HTTP_GET
                                                         : r->method;
    *known = 0;

    for (rt = ngx_http_clientauth_account_routes; rt->handler; rt++) {
        if (rt->path.len != path.len
            || ngx_strncmp(rt->path.data, path.data, path.len) != 0)
        {
            continue;
        }

        if (rt->method == method) {
            return rt;
        }

        *known = rt->method;
    }

    return NULL;
}


/* The session's CSRF token and id, and its user's e-mail, role, locale. */

static ngx_int_t
ngx_http_clientauth_account_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_argv_t      cmds[2];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    char                            key[CA_KEY_MAX], ukey[CA_KEY_MAX];

    if (ca_key_session(key, sizeof(key), (char *) acc->brand.data,
                       (char *) acc->account.data,
                       (char *) acc->token_hash.data) < 0
        || ca_key_user(ukey, sizeof(ukey), (char *) acc->brand.data,
                       (char *) acc->account.data, (char *) acc->user.data)
           < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[0], key);
    ngx_http_clientauth_argv_add_str(&cmds[0], "k");
    ngx_http_clientauth_argv_add_str(&cmds[0], "i");

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], ukey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "email");
    ngx_http_clientauth_argv_add_str(&cmds[1], "role");
    ngx_http_clientauth_argv_add_str(&cmds[1], "locale");

    ctx->next = ngx_http_clientauth_account_dispatch;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_account_reply,
                                    cmds, 2);
}


static void
ngx_http_clientauth_account_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                      i;
    ngx_str_t                      *out[3];
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    if (reply == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY
        || reply->elements != (n == 0 ? 2 : 3))
    {
        ctx->redis_error = 1;
        return;
    }

    if (n == 0) {
        out[0] = &acc->csrf;
        out[1] = &acc->session_id;

    } else {
        out[0] = &acc->email;
        out[1] = &acc->role;
        out[2] = &acc->locale;
    }

    for (i = 0; i < reply->elements; i++) {
        if (ngx_http_clientauth_reply_str(r->pool, reply->element[i], out[i])
            == NGX_ERROR)
        {
            ctx->redis_error = 1;
            return;
        }
    }
}


static ngx_int_t
ngx_http_clientauth_account_dispatch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    if (acc->route->method == NGX_HTTP_POST) {

        if (r->headers_in.content_type) {
            rc = ngx_http_clientauth_parse_form_multi(r, &acc->form,
                                                      acc->route->multi);

            if (rc != NGX_OK) {
                ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
                return ngx_http_clientauth_send_message(r, rc,
                           "malformed_request", CA_T_BAD_TITLE,
                           CA_T_BAD_REQUEST);
            }
        }

        if (!ngx_http_clientauth_account_csrf(r, acc)) {
            return ngx_http_clientauth_send_message(r, NGX_HTTP_FORBIDDEN,
                       "csrf", CA_T_FORBIDDEN_TITLE, CA_T_CSRF);
        }
    }

    ctx->next = acc->route->handler;

    return acc->route->handler(r, ctx);
}


/*
 * The session's CSRF token, as the form field "csrf" or the header
 * X-CSRF-Token (a JSON client), in constant time.  A session made before
 * sessions had one has none to match: its user logs in again to change
 * anything.
 */

static ngx_uint_t
ngx_http_clientauth_account_csrf(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc)
{
    ngx_str_t         sent;
    ngx_table_elt_t  *h;

    ngx_http_clientauth_form_value(&acc->form, "csrf", &sent);

    if (sent.len == 0) {
        h = ngx_http_clientauth_find_header(r, "X-CSRF-Token");
        if (h) {
            sent = h->value;
        }
    }

    if (acc->csrf.len != CA_TOKEN_LEN || sent.len != CA_TOKEN_LEN
        || sodium_memcmp(sent.data, acc->csrf.data, CA_TOKEN_LEN) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: account request of user %V of account %V "
                      "refused: %s CSRF token", &acc->user, &acc->account,
                      sent.len ? "wrong" : "no");
        return 0;
    }

    return 1;
}


ngx_uint_t
ngx_http_clientauth_account_held(ngx_http_clientauth_account_t *acc,
    const char *perm)
{
    size_t   len;
    u_char  *p, *last, *comma;

    len = ngx_strlen(perm);
    last = acc->permissions.data + acc->permissions.len;

    for (p = acc->permissions.data; p && p < last; p = comma + 1) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if ((comma - p == 3 && ngx_strncmp(p, "all", 3) == 0)
            || ((size_t) (comma - p) == len && ngx_strncmp(p, perm, len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


ngx_str_t *
ngx_http_clientauth_account_url(ngx_http_request_t *r)
{
    return ngx_http_clientauth_page_url(r, NGX_HTTP_CLIENTAUTH_ACCOUNT);
}


ngx_int_t
ngx_http_clientauth_account_ok(ngx_http_request_t *r, const char *done,
    ca_text_e text)
{
    u_char     *p;
    ngx_str_t  *url, location;

    static ngx_str_t  ok = ngx_string("{\"ok\":true}");

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        if (text == CA_T_COUNT) {
            return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &ok);
        }

        return ngx_http_clientauth_send_message(r, NGX_HTTP_OK, done,
                                                CA_T_ACCOUNT_TITLE, text);
    }

    url = ngx_http_clientauth_account_url(r);

    location.data = ngx_pnalloc(r->pool, url->len + sizeof("?done=") - 1
                                         + ngx_strlen(done));
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(location.data, url->data, url->len);
    p = ngx_cpymem(p, "?done=", sizeof("?done=") - 1);
    p = ngx_cpymem(p, done, ngx_strlen(done));
    location.len = p - location.data;

    return ngx_http_clientauth_send_redirect(r, NGX_HTTP_SEE_OTHER,
                                             &location);
}


/* GET /auth/account/: JSON clients get who they are and the token. */

ngx_int_t
ngx_http_clientauth_account_view(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_account_json(r, acc);
    }

    /* the page lists the sessions too */
    return ngx_http_clientauth_account_sessions_page(r, ctx);
}


/*
 * {"ok":true,"csrf":"…","user":"7","account":"3","email":"…",
 * "permissions":["billing",…],"role":"owner","brand":"magic",
 * "session":"<this session's id>"}
 */

static u_char *
ngx_http_clientauth_account_esc(u_char *p, ngx_str_t *value,
    const char *then)
{
    p = (u_char *) ngx_escape_json(p, value->data, value->len);

    return ngx_cpymem(p, then, ngx_strlen(then));
}


static ngx_int_t
ngx_http_clientauth_account_json(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc)
{
    u_char     *p, *q, *last, *comma;
    size_t      len;
    ngx_str_t   json;

    len = sizeof("{\"ok\":true,\"csrf\":\"\",\"user\":\"\",\"account\":\"\","
                 "\"email\":\"\",\"permissions\":[],\"role\":\"\","
                 "\"brand\":\"\",\"session\":\"\"}")
          + 6 * (acc->csrf.len + acc->user.len + acc->account.len
                 + acc->email.len + acc->role.len + acc->brand.len
                 + acc->session_id.len)
          + 9 * (acc->permissions.len + 1);

    json.data = ngx_pnalloc(r->pool, len);
    if (json.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(json.data, "{\"ok\":true,\"csrf\":\"", 19);
    p = ngx_http_clientauth_account_esc(p, &acc->csrf, "\",\"user\":\"");
    p = ngx_http_clientauth_account_esc(p, &acc->user, "\",\"account\":\"");
    p = ngx_http_clientauth_account_esc(p, &acc->account, "\",\"email\":\"");
    p = ngx_http_clientauth_account_esc(p, &acc->email,
                                        "\",\"permissions\":[");

    last = acc->permissions.data + acc->permissions.len;

    for (q = acc->permissions.data; q && q < last; q = comma + 1) {
        comma = ngx_strlchr(q, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if (comma == q) {
            continue;
        }

        if (p[-1] != '[') {
            *p++ = ',';
        }

        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, q, comma - q);
        *p++ = '"';
    }

    p = ngx_cpymem(p, "],\"role\":\"", 10);
    p = ngx_http_clientauth_account_esc(p, &acc->role, "\",\"brand\":\"");
    p = ngx_http_clientauth_account_esc(p, &acc->brand, "\",\"session\":\"");
    p = ngx_http_clientauth_account_esc(p, &acc->session_id, "\"}");

    json.len = p - json.data;

    return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &json);
}


/*
 * The area's page; after a refused change, with its status, the rules it
 * broke (a new password's) or the error text.
 */

ngx_int_t
ngx_http_clientauth_account_page(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_uint_t status, unsigned broken,
    ca_text_e error)
{
    ngx_str_t    done;
    ngx_uint_t   i;
    ca_texts_t  *texts;
    ngx_str_t    vars[NGX_HTTP_CLIENTAUTH_V_COUNT];

    ngx_memzero(vars, sizeof(vars));

    texts = ngx_http_clientauth_page_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                    (u_char *) texts->t[CA_T_ACCOUNT_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                    ngx_strlen(texts->t[CA_T_ACCOUNT_TITLE]);
    vars[NGX_HTTP_CLIENTAUTH_V_CSRF] = acc->csrf;
    vars[NGX_HTTP_CLIENTAUTH_V_EMAIL] = acc->email;
    vars[NGX_HTTP_CLIENTAUTH_V_USERNAME] = acc->email;
    vars[NGX_HTTP_CLIENTAUTH_V_SESSIONS] = acc->sessions_html;
    vars[NGX_HTTP_CLIENTAUTH_V_ACCOUNT_URL] =
                                        *ngx_http_clientauth_account_url(r);
    vars[NGX_HTTP_CLIENTAUTH_V_LOGOUT_URL] =
                  *ngx_http_clientauth_page_url(r, NGX_HTTP_CLIENTAUTH_LOGOUT);

    if (ngx_http_clientauth_users_manager(acc)
        && ngx_http_clientauth_users_url(r,
               &vars[NGX_HTTP_CLIENTAUTH_V_USERS_URL]) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (broken) {
        error = CA_T_RULES_BROKEN;
    }

    if (error != CA_T_COUNT) {
        vars[NGX_HTTP_CLIENTAUTH_V_ERROR].data = (u_char *) texts->t[error];
        vars[NGX_HTTP_CLIENTAUTH_V_ERROR].len = ngx_strlen(texts->t[error]);

    } else if (ngx_http_arg(r, (u_char *) "done", 4, &done) == NGX_OK) {
        for (i = 0; ngx_http_clientauth_account_notices[i].done.len; i++) {
            if (ngx_http_clientauth_str_eq(&done,
                    &ngx_http_clientauth_account_notices[i].done))
            {
                vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].data = (u_char *)
                    texts->t[ngx_http_clientauth_account_notices[i].text];
                vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].len = ngx_strlen(
                    vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].data);
                break;
            }
        }
    }

    if (ngx_http_clientauth_page_password_vars(r, broken, vars) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_page_render(r, status,
                                           NGX_HTTP_CLIENTAUTH_P_ACCOUNT,
                                           vars);
}
