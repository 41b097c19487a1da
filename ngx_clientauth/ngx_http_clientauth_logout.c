
/*
 * The logout endpoint: POST ends the session in Redis and clears the cookie;
 * with everywhere=1 (form or JSON) it revokes every session of the user.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_cache.h"
#include "ngx_http_clientauth_body.h"


typedef enum {
    NGX_HTTP_CLIENTAUTH_LOGOUT_START = 0,   /* with a body: everywhere? */
    NGX_HTTP_CLIENTAUTH_LOGOUT_OWNER,       /* everywhere: whose session */
    NGX_HTTP_CLIENTAUTH_LOGOUT_MEMBERS,     /* everywhere: all of theirs */
    NGX_HTTP_CLIENTAUTH_LOGOUT_DELETED
} ngx_http_clientauth_logout_step_e;


typedef struct {
    ngx_http_clientauth_logout_step_e  step;
    ngx_uint_t                         everywhere;
    ngx_uint_t                         revoked;
    ngx_uint_t                         members_at; /* SMEMBERS in EXEC */
    ca_form_t                          form;
    ngx_str_t                          account;
    ngx_str_t                          user;
    ngx_array_t                       *members;    /* of ngx_str_t */
    char                               hash[CA_TOKEN_HASH_LEN + 1];
    char                               named[CA_TOKEN_ID_LEN];
    char                               named_user[CA_TOKEN_ID_LEN];
} ngx_http_clientauth_logout_t;


static ngx_int_t ngx_http_clientauth_logout_scope(ngx_http_request_t *r,
    ngx_http_clientauth_logout_t *lo);
static ngx_int_t ngx_http_clientauth_logout_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_logout_start(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_logout_t *lo);
static ngx_int_t ngx_http_clientauth_logout_members(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_logout_t *lo);
static ngx_int_t ngx_http_clientauth_logout_all(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_logout_t *lo);
static void ngx_http_clientauth_logout_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);
static ngx_int_t ngx_http_clientauth_logout_done(ngx_http_request_t *r);


ngx_int_t
ngx_http_clientauth_logout_handler(ngx_http_request_t *r)
{
    ngx_str_t                        cookie;
    ngx_http_clientauth_logout_t    *lo;
    ngx_http_clientauth_srv_conf_t  *ascf;

    if (r->method != NGX_HTTP_POST) {
        /* a link or an image must not end a session */
        return ngx_http_clientauth_not_allowed(r, "POST");
    }

    if (!ngx_http_clientauth_same_origin(r)) {
        return ngx_http_clientauth_cross_site(r);
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    lo = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_logout_t));
    if (lo == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clientauth_session_cookie(r, ascf, &cookie) != NGX_OK
        || ca_token_session((char *) cookie.data, cookie.len, lo->hash,
                            lo->named, lo->named_user)
           != 0)
    {
        /* nothing to end: still clear whatever the browser holds */
        return ngx_http_clientauth_logout_done(r);
    }

    return ngx_http_clientauth_flow_start(r, ngx_http_clientauth_logout_next,
                                          lo,
                                          r->headers_in.content_type != NULL);
}


/* everywhere=1 (or true, on) in a form or JSON body */

static ngx_int_t
ngx_http_clientauth_logout_scope(ngx_http_request_t *r,
    ngx_http_clientauth_logout_t *lo)
{
    ngx_int_t  rc;
    ngx_str_t  value;

    rc = ngx_http_clientauth_parse_form(r, &lo->form);

    if (rc != NGX_OK) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_send_message(r, rc, "malformed_request",
                   CA_T_BAD_TITLE, CA_T_BAD_REQUEST);
    }

    ngx_http_clientauth_form_value(&lo->form, "everywhere", &value);

    lo->everywhere = (value.len == 1 && value.data[0] == '1')
                     || (value.len == 4
                         && ngx_strncmp(value.data, "true", 4) == 0)
                     || (value.len == 2
                         && ngx_strncmp(value.data, "on", 2) == 0);

    return NGX_OK;
}


static ngx_int_t
ngx_http_clientauth_logout_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_http_clientauth_logout_t  *lo = ctx->flow;

    switch (lo->step) {

    case NGX_HTTP_CLIENTAUTH_LOGOUT_START:
        if (r->headers_in.content_type) {
            rc = ngx_http_clientauth_logout_scope(r, lo);
            if (rc != NGX_OK) {
                return rc;
            }
        }

        return ngx_http_clientauth_logout_start(r, ctx, lo);

    case NGX_HTTP_CLIENTAUTH_LOGOUT_OWNER:
        return ngx_http_clientauth_logout_members(r, ctx, lo);

    case NGX_HTTP_CLIENTAUTH_LOGOUT_MEMBERS:
        return ngx_http_clientauth_logout_all(r, ctx, lo);

    default: /* NGX_HTTP_CLIENTAUTH_LOGOUT_DELETED */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: logout, %ui session(s) ended",
                      lo->revoked);
        return ngx_http_clientauth_logout_done(r);
    }
}


static ngx_int_t
ngx_http_clientauth_logout_start(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_logout_t *lo)
{
    ngx_uint_t                       n;
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ca_key_session(key, sizeof(key), (char *) ascf->brand.data, lo->named,
                       lo->hash)
        < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);

    if (lo->everywhere) {
        ngx_http_clientauth_argv_add_str(&cmds[0], "HMGET");
        ngx_http_clientauth_argv_add_str(&cmds[0], key);
        ngx_http_clientauth_argv_add_str(&cmds[0], "a");
        ngx_http_clientauth_argv_add_str(&cmds[0], "u");
        lo->step = NGX_HTTP_CLIENTAUTH_LOGOUT_OWNER;

        return ngx_http_clientauth_call(r, ctx,
                                        ngx_http_clientauth_logout_reply,
                                        cmds, 1);
    }

    ngx_http_clientauth_argv_add_str(&cmds[0], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[0], key);
    lo->step = NGX_HTTP_CLIENTAUTH_LOGOUT_DELETED;

    /* reads sent after the DEL see it; none may hit before */
    ngx_http_clientauth_cache_forget(ascf->redis, key);

    /* a failover must not bring the session back */
    n = 1 + ngx_http_clientauth_durable(r, &cmds[1]);

    return ngx_http_clientauth_durable_call(r, ctx,
                                            ngx_http_clientauth_logout_reply,
                                            cmds, n);
}


static ngx_int_t
ngx_http_clientauth_logout_members(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_logout_t *lo)
{
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    /* the session lives in its token's account's slot: it must say so */
    if (!ca_id_is_valid((char *) lo->account.data, lo->account.len)
        || !ca_id_is_valid((char *) lo->user.data, lo->user.len)
        || ngx_strcmp(lo->account.data, lo->named) != 0)
    {
        /* no such session any more: end just this one */
        lo->everywhere = 0;
        return ngx_http_clientauth_logout_start(r, ctx, lo);
    }

    if (ca_key_user_sessions(key, sizeof(key), (char *) ascf->brand.data,
                             (char *) lo->account.data,
                             (char *) lo->user.data) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "SMEMBERS");
    ngx_http_clientauth_argv_add_str(&cmd, key);

    lo->step = NGX_HTTP_CLIENTAUTH_LOGOUT_MEMBERS;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_logout_reply,
                                    &cmd, 1);
}


/*
 * One MULTI: this session, every session of the user and their index, and
 * a new session generation for logins in flight.
 */

static ngx_int_t
ngx_http_clientauth_logout_all(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_logout_t *lo)
{
    ngx_int_t                        rc;
    ngx_uint_t                       n;
    char                            *skey;
    ngx_http_clientauth_argv_t      *cmds;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    cmds = ngx_palloc(r->pool, (4 + ngx_http_clientauth_revoke_size(
                                        lo->members))
                               * sizeof(ngx_http_clientauth_argv_t));
    if (cmds == NULL
        || ca_key_session(key, sizeof(key), (char *) ascf->brand.data,
                          lo->named, lo->hash)
           < 0
        || (skey = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n++], skey);

    rc = ngx_http_clientauth_revoke_commands(r, ascf,
                                             (char *) lo->account.data,
                                             (char *) lo->user.data,
                                             lo->members, &cmds[n],
                                             &lo->members_at);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lo->members_at += n - 1;        /* its place in EXEC's reply */
    n += rc;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    n += ngx_http_clientauth_durable(r, &cmds[n]);

    lo->step = NGX_HTTP_CLIENTAUTH_LOGOUT_DELETED;

    return ngx_http_clientauth_durable_call(r, ctx,
                                            ngx_http_clientauth_logout_reply,
                                            cmds, n);
}


static void
ngx_http_clientauth_logout_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                     i;
    ngx_str_t                     *s;
    ngx_http_clientauth_logout_t  *lo;

    lo = ctx->flow;

    if (reply == NULL) {
        return;
    }

    switch (lo->step) {

    case NGX_HTTP_CLIENTAUTH_LOGOUT_OWNER:
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
            ctx->redis_error = 1;
            break;
        }

        (void) ngx_http_clientauth_reply_str(r->pool, reply->element[0],
                                             &lo->account);
        (void) ngx_http_clientauth_reply_str(r->pool, reply->element[1],
                                             &lo->user);
        break;

    case NGX_HTTP_CLIENTAUTH_LOGOUT_MEMBERS:
        if (reply->type != REDIS_REPLY_ARRAY) {
            ctx->redis_error = 1;
            break;
        }

        lo->members = ngx_array_create(r->pool,
                                       reply->elements ? reply->elements : 1,
                                       sizeof(ngx_str_t));
        if (lo->members == NULL) {
            ctx->redis_error = 1;
            break;
        }

        for (i = 0; i < reply->elements; i++) {
            s = ngx_array_push(lo->members);
            if (s == NULL
                || ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                                 s) != NGX_OK)
            {
                ctx->redis_error = 1;
                break;
            }
        }

        break;

    default: /* NGX_HTTP_CLIENTAUTH_LOGOUT_DELETED */
        if (!lo->everywhere) {
            if (reply->type != REDIS_REPLY_INTEGER) {
                ctx->redis_error = 1;
                break;
            }

            lo->revoked = reply->integer;
            break;
        }

        if (n == 0) {
            break;                  /* +OK of MULTI, then +QUEUED */
        }

        if (reply->type != REDIS_REPLY_ARRAY) {
            if (reply->type == REDIS_REPLY_ERROR) {
                ctx->redis_error = 1;
            }

            break;
        }

        /* EXEC: the DELs of sessions, then SMEMBERS, DEL, HINCRBY */
        for (i = 0; i < reply->elements; i++) {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                ctx->redis_error = 1;

            } else if (i < lo->members_at
                       && reply->element[i]->type == REDIS_REPLY_INTEGER)
            {
                lo->revoked += reply->element[i]->integer;
            }
        }

        if (!ctx->redis_error && lo->members_at < reply->elements) {
            ngx_http_clientauth_revoke_late(r,
                ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
                (char *) lo->account.data, reply->element[lo->members_at]);
        }

        break;
    }
}


static ngx_int_t
ngx_http_clientauth_logout_done(ngx_http_request_t *r)
{
    ngx_str_t                        empty = ngx_null_string;
    ngx_http_clientauth_srv_conf_t  *ascf;

    static ngx_str_t  ok = ngx_string("{\"ok\":true}");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_LOGOUT);

    if (ngx_http_clientauth_set_cookie(r, ascf, &empty) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &ok);
    }

    return ngx_http_clientauth_redirect_login(r, "logout");
}
