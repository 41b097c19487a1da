
/*
 * Password reset: "forgot your password?", a single-use link by e-mail (an
 * outbox message), and the new password under the brand's rules.
 *
 * The request answers 202 with the same body after the same number of Redis
 * round trips whether the account exists or not.  The token is 256 random
 * bits; Redis keeps its hash only, with the reset's lifetime, and the user
 * record names the one token still valid, so a new request supersedes the
 * last.  Spending it is a claim (SET NX, kept as long as the token could
 * live) that exactly one submission wins, followed by a check-and-set on a
 * dedicated connection: WATCH the user, read it again, and only if it still
 * names this token and is active, one MULTI that stores the new hash, keeps
 * the old one in the history, revokes every session and clears the failure
 * count.  A link superseded, cancelled or locked while the password was
 * hashed so changes nothing, and leaves the newer link alone.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_cache.h"
#include "ngx_http_clientauth_hash.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_limit.h"

#include <sodium.h>


typedef enum {
    NGX_HTTP_CLIENTAUTH_RESET_START = 0,
    NGX_HTTP_CLIENTAUTH_RESET_PRECHECK,     /* request: index, address */
    NGX_HTTP_CLIENTAUTH_RESET_THROTTLE,     /* request: account */
    NGX_HTTP_CLIENTAUTH_RESET_USER,         /* request: the user */
    NGX_HTTP_CLIENTAUTH_RESET_ISSUED,       /* request: token stored */
    NGX_HTTP_CLIENTAUTH_RESET_TOKEN,        /* confirm: token -> user */
    NGX_HTTP_CLIENTAUTH_RESET_RECORD,       /* confirm: user, history ... */
    NGX_HTTP_CLIENTAUTH_RESET_VERIFY,       /* confirm: reuse check, hash */
    NGX_HTTP_CLIENTAUTH_RESET_CLAIM,        /* confirm: rules, then SET NX */
    NGX_HTTP_CLIENTAUTH_RESET_APPLY,        /* confirm: WATCH, read again */
    NGX_HTTP_CLIENTAUTH_RESET_WATCHED,      /* confirm: MULTI ... EXEC */
    NGX_HTTP_CLIENTAUTH_RESET_APPLIED
} ngx_http_clientauth_reset_step_e;


/* user hash fields read by both flows */
enum {
    NGX_HTTP_CLIENTAUTH_RF_EMAIL = 0,
    NGX_HTTP_CLIENTAUTH_RF_LOCALE,
    NGX_HTTP_CLIENTAUTH_RF_STATUS,
    NGX_HTTP_CLIENTAUTH_RF_RESET,
    NGX_HTTP_CLIENTAUTH_RF_HASH,
    NGX_HTTP_CLIENTAUTH_RF_ROLE,
    NGX_HTTP_CLIENTAUTH_RF_LAST
};

/* account hash fields: the owner's identifiers, never a password */
enum {
    NGX_HTTP_CLIENTAUTH_AF_CUSTOMER_NUMBER = 0,
    NGX_HTTP_CLIENTAUTH_AF_NIC,
    NGX_HTTP_CLIENTAUTH_AF_PHONE,
    NGX_HTTP_CLIENTAUTH_AF_DOMAIN,
    NGX_HTTP_CLIENTAUTH_AF_LAST
};


typedef struct {
    ngx_http_clientauth_reset_step_e  step;
    ca_form_t                         form;
    ngx_str_t                         identifier;
    ngx_str_t                         token;
    ngx_str_t                         password;
    ngx_str_t                         confirm;
    char                              token_hash[CA_TOKEN_HASH_LEN + 1];
    ngx_uint_t                        refused;
    ngx_str_t                         ref;
    char                              account[21];
    char                              user[21];
    ngx_str_t                         field[NGX_HTTP_CLIENTAUTH_RF_LAST];
    ngx_str_t                         account_field[
                                          NGX_HTTP_CLIENTAUTH_AF_LAST];
    ngx_array_t                      *history;     /* of ngx_str_t */
    ngx_array_t                      *sessions;    /* of ngx_str_t */
    ngx_uint_t                        claimed;
    ngx_uint_t                        members_at;  /* SMEMBERS in EXEC */
    ngx_uint_t                        applied;
    ngx_uint_t                        aborted;     /* EXEC: watched changed */
    ngx_uint_t                        tries;
    ngx_str_t                         now[3];      /* reset status hash */
    char                             *ukey;
    unsigned                          broken;      /* ca_rule_e bits */
    ngx_http_clientauth_attempt_t     attempt;
    ngx_http_clientauth_hash_out_t    verified;
} ngx_http_clientauth_reset_t;


static ngx_int_t ngx_http_clientauth_reset_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static void ngx_http_clientauth_reset_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);

static ngx_int_t ngx_http_clientauth_reset_ask(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_account(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_lookup_user(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_issue(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_accepted(ngx_http_request_t *r);

static ngx_int_t ngx_http_clientauth_reset_check_token(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_read_record(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_verify(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_claim(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static ngx_uint_t ngx_http_clientauth_reset_token_valid(
    ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_gone(ngx_http_request_t *r);
static ngx_int_t ngx_http_clientauth_reset_rejected(ngx_http_request_t *r,
    ngx_http_clientauth_reset_t *rs);
static ngx_int_t ngx_http_clientauth_reset_forget_failures(
    ngx_http_request_t *r, ngx_http_clientauth_reset_t *rs,
    ngx_http_clientauth_argv_t *cmds);
static ngx_int_t ngx_http_clientauth_reset_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);
static void ngx_http_clientauth_reset_unclaim(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_reset_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs);


/* POST /auth/reset: "forgot your password?" */

ngx_int_t
ngx_http_clientauth_reset_request_handler(ngx_http_request_t *r)
{
    ngx_http_clientauth_reset_t  *rs;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clientauth_page_reset(r);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_clientauth_not_allowed(r, "GET, HEAD, POST");
    }

    if (!ngx_http_clientauth_same_origin(r)) {
        return ngx_http_clientauth_cross_site(r);
    }

    rs = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_reset_t));
    if (rs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_START;

    return ngx_http_clientauth_flow_start(r, ngx_http_clientauth_reset_next,
                                          rs, 1);
}


/* GET ?token=T checks a link, POST sets the new password. */

ngx_int_t
ngx_http_clientauth_reset_confirm_handler(ngx_http_request_t *r)
{
    ngx_http_clientauth_reset_t  *rs;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        return ngx_http_clientauth_not_allowed(r, "GET, HEAD, POST");
    }

    if (r->method == NGX_HTTP_POST && !ngx_http_clientauth_same_origin(r)) {
        return ngx_http_clientauth_cross_site(r);
    }

    rs = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_reset_t));
    if (rs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_TOKEN;

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_discard_request_body(r) != NGX_OK
            || ngx_http_clientauth_query_arg(r, "token", &rs->token)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_clientauth_flow_start(r, ngx_http_clientauth_reset_next,
                                          rs, r->method == NGX_HTTP_POST);
}


static ngx_int_t
ngx_http_clientauth_reset_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_http_clientauth_reset_t  *rs = ctx->flow;

    switch (rs->step) {

    case NGX_HTTP_CLIENTAUTH_RESET_START:
        return ngx_http_clientauth_reset_ask(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_PRECHECK:
        return ngx_http_clientauth_reset_account(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_THROTTLE:
        return ngx_http_clientauth_reset_lookup_user(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_USER:
        return ngx_http_clientauth_reset_issue(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_ISSUED:
        return ngx_http_clientauth_reset_accepted(r);

    case NGX_HTTP_CLIENTAUTH_RESET_TOKEN:
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_clientauth_reset_check_token(r, ctx, rs);
        }

        /* a POST whose body is in: read the fields, then the token */
        rc = ngx_http_clientauth_parse_form(r, &rs->form);
        if (rc != NGX_OK) {
            ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
            return ngx_http_clientauth_send_message(r, rc,
                       "malformed_request",
                   CA_T_BAD_TITLE, CA_T_BAD_REQUEST);
        }

        ngx_http_clientauth_form_value(&rs->form, "token", &rs->token);
        ngx_http_clientauth_form_value(&rs->form, "password", &rs->password);
        ngx_http_clientauth_form_value(&rs->form, "password_confirm",
                                       &rs->confirm);

        if (rs->token.len == 0 || rs->password.len == 0) {
            ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
            return ngx_http_clientauth_send_message(r, NGX_HTTP_BAD_REQUEST,
                       "missing_field", CA_T_BAD_TITLE, CA_T_MISSING_NEW);
        }

        return ngx_http_clientauth_reset_check_token(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_RECORD:
        return ngx_http_clientauth_reset_read_record(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_VERIFY:
        return ngx_http_clientauth_reset_verify(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_CLAIM:
        return ngx_http_clientauth_reset_claim(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_APPLY:
        return ngx_http_clientauth_reset_watch(r, ctx, rs);

    case NGX_HTTP_CLIENTAUTH_RESET_WATCHED:
        return ngx_http_clientauth_reset_apply(r, ctx, rs);

    default: /* NGX_HTTP_CLIENTAUTH_RESET_APPLIED */
        return ngx_http_clientauth_reset_done(r, ctx, rs);
    }
}


/* Request, step 1: the identifier and the limits, in one round trip. */

static ngx_int_t
ngx_http_clientauth_reset_ask(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    ngx_int_t                    rc, n;
    ngx_http_clientauth_argv_t   cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];

    n = ngx_http_clientauth_attempt_ask(r, &rs->attempt,
                                        NGX_HTTP_CLIENTAUTH_ATTEMPT_RESET,
                                        &rs->form, &rs->identifier, cmds, &rc);
    if (n == NGX_DECLINED) {
        return rc;
    }

    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_PRECHECK;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_reset_reply,
                                    cmds, n);
}


/*
 * Request, step 2: count the request against the account the identifier
 * names (or the identifier itself).  Requests the address already exceeds
 * go on all the same, to cost the same round trips as any other.
 */

static ngx_int_t
ngx_http_clientauth_reset_account(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    ngx_int_t                    n;
    ngx_http_clientauth_argv_t   cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];

    n = ngx_http_clientauth_attempt_counted(r, &rs->attempt, cmds,
                                            &rs->refused, &rs->ref,
                                            rs->account, rs->user);
    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_THROTTLE;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_reset_reply,
                                    cmds, n);
}


/*
 * Request, step 3: read the user.  Unknown and rate-limited requests read a
 * user that cannot exist, so that every request costs the same round trips.
 */

static ngx_int_t
ngx_http_clientauth_reset_lookup_user(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    char                            *account, *user;
    time_t                           retry;
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    account = "0";
    user = "0";

    if (rs->refused
        || ngx_http_clientauth_limit_verdict(r, ascf, &rs->attempt, &retry)
           != NGX_OK)
    {
        ngx_str_null(&rs->ref);

    } else if (rs->ref.len) {
        account = rs->account;
        user = rs->user;
    }

    if (ca_key_user(key, sizeof(key), (char *) ascf->brand.data, account,
                    user) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "HMGET");
    ngx_http_clientauth_argv_add_str(&cmd, key);
    ngx_http_clientauth_argv_add_str(&cmd, "email");
    ngx_http_clientauth_argv_add_str(&cmd, "locale");
    ngx_http_clientauth_argv_add_str(&cmd, "status");

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_USER;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_reset_reply,
                                    &cmd, 1);
}


/*
 * Request, step 4: a token, its hash in Redis for the reset's lifetime, the
 * user's record naming it (superseding any earlier one), and the e-mail in
 * the outbox, in one MULTI.
 */

static ngx_int_t
ngx_http_clientauth_reset_issue(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    u_char                           *p, *url, *ttl;
    ngx_uint_t                        n;
    ngx_http_clientauth_argv_t        cmds[5];
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_recipient_t   to;
    char                              token[CA_TOKEN_LEN + 1];
    char                              rkey[CA_KEY_MAX], ukey[CA_KEY_MAX];
    char                              esc[CA_LOGESC_SIZE];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    rs->step = NGX_HTTP_CLIENTAUTH_RESET_ISSUED;

    if (rs->ref.len == 0
        || rs->field[NGX_HTTP_CLIENTAUTH_RF_EMAIL].len == 0
        || rs->field[NGX_HTTP_CLIENTAUTH_RF_STATUS].len != sizeof("active") - 1
        || ngx_strncmp(rs->field[NGX_HTTP_CLIENTAUTH_RF_STATUS].data,
                       "active", 6) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: no reset link sent for \"%s\"",
                      ngx_http_clientauth_log_safe(esc, &rs->identifier));

        /* the round trip the MULTI below would have cost */
        ngx_http_clientauth_argv_reset(&cmds[0]);
        ngx_http_clientauth_argv_add_str(&cmds[0], "PING");

        return ngx_http_clientauth_call(r, ctx,
                                        ngx_http_clientauth_reset_reply,
                                        cmds, 1);
    }

    ca_token_generate(token);

    if (ca_token_hash(token, CA_TOKEN_LEN, rs->token_hash) != 0
        || ca_key_reset(rkey, sizeof(rkey), (char *) ascf->brand.data,
                        "reset", rs->token_hash) < 0
        || ca_key_user(ukey, sizeof(ukey), (char *) ascf->brand.data,
                       rs->account, rs->user) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the link comes from configuration, never from the request's Host */
    url = ngx_pnalloc(r->pool, ascf->reset_url.len + sizeof("?token=") - 1
                               + CA_TOKEN_LEN);
    ttl = ngx_pnalloc(r->pool, NGX_INT_T_LEN);

    if (url == NULL || ttl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(url, "%V%stoken=%s", &ascf->reset_url,
                    ngx_strlchr(ascf->reset_url.data,
                                ascf->reset_url.data + ascf->reset_url.len,
                                '?') ? "&" : "?", token);

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "SET");
    ngx_http_clientauth_argv_add_str(&cmds[n], rkey);
    ngx_http_clientauth_argv_add(&cmds[n], rs->ref.data, rs->ref.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PX");
    ngx_http_clientauth_argv_add(&cmds[n++], ttl,
                                 ngx_sprintf(ttl, "%M", ascf->reset_lifetime)
                                 - ttl);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], ukey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "reset");
    ngx_http_clientauth_argv_add_str(&cmds[n++], rs->token_hash);

    to.account = rs->account;
    to.user = rs->user;
    to.email = rs->field[NGX_HTTP_CLIENTAUTH_RF_EMAIL];
    to.locale = rs->field[NGX_HTTP_CLIENTAUTH_RF_LOCALE];

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n],
                                           "password_reset", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_add_str(&cmds[n], "url");
    ngx_http_clientauth_argv_add(&cmds[n++], url, p - url);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    sodium_memzero(token, sizeof(token));

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: reset link sent to user %s of account %s",
                  rs->user, rs->account);

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_reset_reply,
                                    cmds, n);
}


/* The one answer to every well-formed request. */

static ngx_int_t
ngx_http_clientauth_reset_accepted(ngx_http_request_t *r)
{
    return ngx_http_clientauth_page_sent(r);
}


/* Confirm, step 1: which user the token was issued to. */

static ngx_int_t
ngx_http_clientauth_reset_check_token(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ca_token_hash((char *) rs->token.data, rs->token.len, rs->token_hash)
        != 0
        || ca_key_reset(key, sizeof(key), (char *) ascf->brand.data,
                        "reset", rs->token_hash) < 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: malformed reset token");
        return ngx_http_clientauth_reset_gone(r);
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "GET");
    ngx_http_clientauth_argv_add_str(&cmd, key);

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_RECORD;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_reset_reply,
                                    &cmd, 1);
}


/*
 * Confirm, step 2: the user (is this token still the one it names?), its
 * former hashes, its account's identifiers and its sessions.
 */

static ngx_int_t
ngx_http_clientauth_reset_read_record(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    ngx_http_clientauth_argv_t       cmds[4];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             ukey[CA_KEY_MAX], skey[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (rs->ref.len == 0
        || ca_id_ref_parse((char *) rs->ref.data, rs->ref.len, rs->account,
                           rs->user) != 0
        || ca_key_user(ukey, sizeof(ukey), (char *) ascf->brand.data,
                       rs->account, rs->user) < 0
        || ca_key_user_sessions(skey, sizeof(skey), (char *) ascf->brand.data,
                                rs->account, rs->user) < 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: unknown, used or expired reset token");
        return ngx_http_clientauth_reset_gone(r);
    }

    if (ngx_http_clientauth_new_password_reads(r, rs->account, rs->user,
                                               &cmds[1])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[0], ukey);
    ngx_http_clientauth_argv_add_str(&cmds[0], "email");
    ngx_http_clientauth_argv_add_str(&cmds[0], "locale");
    ngx_http_clientauth_argv_add_str(&cmds[0], "status");
    ngx_http_clientauth_argv_add_str(&cmds[0], "reset");
    ngx_http_clientauth_argv_add_str(&cmds[0], "hash");
    ngx_http_clientauth_argv_add_str(&cmds[0], "role");

    ngx_http_clientauth_argv_reset(&cmds[3]);
    ngx_http_clientauth_argv_add_str(&cmds[3], "SMEMBERS");
    ngx_http_clientauth_argv_add_str(&cmds[3], skey);

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_VERIFY;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_reset_reply,
                                    cmds, 4);
}


static ngx_uint_t
ngx_http_clientauth_reset_token_valid(ngx_http_clientauth_reset_t *rs)
{
    ngx_str_t  *current;

    current = &rs->field[NGX_HTTP_CLIENTAUTH_RF_RESET];

    /* a newer request superseded this token */
    return current->len == CA_TOKEN_HASH_LEN
           && sodium_memcmp(current->data, rs->token_hash,
                            CA_TOKEN_HASH_LEN) == 0;
}


/*
 * Confirm, step 3: a GET shows the form; a POST checks the rules, then the
 * former passwords and makes the new hash in the thread pool.
 */

static ngx_int_t
ngx_http_clientauth_reset_verify(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    ngx_int_t                        rc;
    ngx_uint_t                       i, nids;
    const char                      *ids[1 + NGX_HTTP_CLIENTAUTH_AF_LAST];
    ngx_http_clientauth_hash_in_t    in;
    ngx_http_clientauth_srv_conf_t  *ascf;

    static ngx_str_t  ok = ngx_string("{\"ok\":true}");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (!ngx_http_clientauth_reset_token_valid(rs)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: superseded reset token");
        return ngx_http_clientauth_reset_gone(r);
    }

    if (rs->field[NGX_HTTP_CLIENTAUTH_RF_STATUS].len != sizeof("active") - 1
        || ngx_strncmp(rs->field[NGX_HTTP_CLIENTAUTH_RF_STATUS].data,
                       "active", 6) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: reset link of locked user %s of account "
                      "%s refused", rs->user, rs->account);
        return ngx_http_clientauth_reset_gone(r);
    }

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_clientauth_accepts(r, "application/json")) {
            return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &ok);
        }

        return ngx_http_clientauth_page_new_password(r, NGX_HTTP_OK,
                   &rs->token, &rs->field[NGX_HTTP_CLIENTAUTH_RF_EMAIL], 0);
    }

    nids = 0;
    ids[nids++] = (char *) rs->field[NGX_HTTP_CLIENTAUTH_RF_EMAIL].data;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_AF_LAST; i++) {
        if (rs->account_field[i].len) {
            ids[nids++] = (char *) rs->account_field[i].data;
        }
    }

    rs->broken = ngx_http_clientauth_new_password_rules(r, &rs->password,
                                                        &rs->confirm, ids,
                                                        nids);

    if (rs->broken & (CA_RULE_TOO_LONG|CA_RULE_INVALID)) {
        /* never hashed: too long to be worth it, or not text */
        return ngx_http_clientauth_reset_rejected(r, rs);
    }

    ngx_http_clientauth_new_password_in(r, &in,
                                        &rs->field[NGX_HTTP_CLIENTAUTH_RF_HASH],
                                        rs->history);

    in.password = rs->password;
    in.hash_new = (rs->broken == 0);

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_CLAIM;

    rc = ngx_http_clientauth_hash_run(r, ctx, ascf, &in, &rs->verified);

    if (rc == NGX_BUSY) {
        if (ngx_http_clientauth_retry_after(r, 1) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clientauth_send_message(r,
                   NGX_HTTP_SERVICE_UNAVAILABLE, "busy",
                   CA_T_UNAVAILABLE_TITLE, CA_T_BUSY);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}


/* Confirm, step 4: the rules hold; exactly one submission may spend it. */

static ngx_int_t
ngx_http_clientauth_reset_claim(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    u_char                          *ttl;
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (rs->verified.matched >= 0) {
        rs->broken |= CA_RULE_REUSED;
    }

    if (rs->broken) {
        return ngx_http_clientauth_reset_rejected(r, rs);
    }

    if (rs->verified.new_hash.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: could not hash the new password");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ttl = ngx_pnalloc(r->pool, NGX_INT_T_LEN);

    if (ttl == NULL
        || ca_key_reset(key, sizeof(key), (char *) ascf->brand.data,
                        "reset-claim", rs->token_hash) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* kept as long as the token could live: a late twin finds it taken */
    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "SET");
    ngx_http_clientauth_argv_add_str(&cmd, key);
    ngx_http_clientauth_argv_add_str(&cmd, rs->user);
    ngx_http_clientauth_argv_add_str(&cmd, "NX");
    ngx_http_clientauth_argv_add_str(&cmd, "PX");
    ngx_http_clientauth_argv_add(&cmd, ttl,
                                 ngx_sprintf(ttl, "%M", ascf->reset_lifetime)
                                 - ttl);

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_APPLY;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_reset_reply,
                                    &cmd, 1);
}


/*
 * Confirm, step 5: the winner watches the user on a dedicated connection
 * and reads it again: the password was hashed since it was last read.
 */

static ngx_int_t
ngx_http_clientauth_reset_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (!rs->claimed) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: reset token already being spent");
        return ngx_http_clientauth_reset_gone(r);
    }

    /* a 503 from here on gives the link back for another try */
    ctx->abandon = ngx_http_clientauth_reset_unclaim;

    if (rs->ukey == NULL) {
        if (ca_key_user(key, sizeof(key), (char *) ascf->brand.data,
                        rs->account, rs->user) < 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rs->ukey = ngx_http_clientauth_pool_cstr(r, key);
        if (rs->ukey == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], rs->ukey);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], rs->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "reset");
    ngx_http_clientauth_argv_add_str(&cmds[1], "status");
    ngx_http_clientauth_argv_add_str(&cmds[1], "hash");

    ngx_memzero(rs->now, sizeof(rs->now));
    rs->step = NGX_HTTP_CLIENTAUTH_RESET_WATCHED;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_reset_reply,
                                        cmds, 2);
}


/*
 * Confirm, step 6: if the user still names this token and is active, the
 * winner replaces the password, keeps the old hash in the history, spends
 * the token, revokes every session and clears the failure count, in one
 * MULTI that runs only if the user did not change since the WATCH; the
 * mailer hears of the change.
 */

static ngx_int_t
ngx_http_clientauth_reset_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    u_char                           *p, *now, *keep;
    ngx_int_t                         rc;
    ngx_str_t                        *old;
    ngx_uint_t                        n, max;
    ngx_http_clientauth_argv_t       *cmds;
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_recipient_t   to;
    char                              key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    rs->field[NGX_HTTP_CLIENTAUTH_RF_RESET] = rs->now[0];
    rs->field[NGX_HTTP_CLIENTAUTH_RF_STATUS] = rs->now[1];

    if (!ngx_http_clientauth_reset_token_valid(rs)
        || rs->now[1].len != sizeof("active") - 1
        || ngx_strncmp(rs->now[1].data, "active", 6) != 0)
    {
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: reset link of user %s of account %s "
                      "superseded, cancelled or locked while the new "
                      "password was hashed", rs->user, rs->account);
        return ngx_http_clientauth_reset_gone(r);
    }

    /* the hash now stored goes to the history (an upgrade may have run) */
    rs->field[NGX_HTTP_CLIENTAUTH_RF_HASH] = rs->now[2];

    /* MULTI, DEL, HSET, HDEL, LPUSH, LTRIM, the revocation, the failures
     * (at most 1), DEL of a pending e-mail change, XADD, EXEC, WAIT */
    max = 11 + ngx_http_clientauth_revoke_size(rs->sessions);

    cmds = ngx_palloc(r->pool, max * sizeof(ngx_http_clientauth_argv_t));
    now = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    keep = ngx_pnalloc(r->pool, NGX_INT_T_LEN);

    if (cmds == NULL || now == NULL || keep == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    if (ca_key_reset(key, sizeof(key), (char *) ascf->brand.data, "reset",
                     rs->token_hash) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = (u_char *) ngx_http_clientauth_pool_cstr(r, key);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n++], (char *) p);

    p = (u_char *) rs->ukey;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], (char *) p);
    ngx_http_clientauth_argv_add_str(&cmds[n], "hash");
    ngx_http_clientauth_argv_add(&cmds[n], rs->verified.new_hash.data,
                                 rs->verified.new_hash.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "pwchanged");
    ngx_http_clientauth_argv_add(&cmds[n++], now,
                                 ngx_sprintf(now, "%T", ngx_time()) - now);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HDEL");
    ngx_http_clientauth_argv_add_str(&cmds[n], (char *) p);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "reset");


    old = &rs->field[NGX_HTTP_CLIENTAUTH_RF_HASH];

    if (old->len && ascf->password_history > 1) {
        if (ca_key_user_history(key, sizeof(key), (char *) ascf->brand.data,
                                rs->account, rs->user) < 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = (u_char *) ngx_http_clientauth_pool_cstr(r, key);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "LPUSH");
        ngx_http_clientauth_argv_add_str(&cmds[n], (char *) p);
        ngx_http_clientauth_argv_add(&cmds[n++], old->data, old->len);

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "LTRIM");
        ngx_http_clientauth_argv_add_str(&cmds[n], (char *) p);
        ngx_http_clientauth_argv_add_str(&cmds[n], "0");
        ngx_http_clientauth_argv_add(&cmds[n++], keep,
                                     ngx_sprintf(keep, "%ui",
                                                 ascf->password_history - 2)
                                     - keep);
    }

    rc = ngx_http_clientauth_revoke_commands(r, ascf, rs->account, rs->user,
                                             rs->sessions, &cmds[n],
                                             &rs->members_at);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->members_at += n - 1;        /* its place in EXEC's reply */
    n += rc;

    rc = ngx_http_clientauth_reset_forget_failures(r, rs, &cmds[n]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n += rc;

    /* self-service: whoever asked for a pending e-mail change lost */
    if (ca_key_user_email_change(key, sizeof(key), (char *) ascf->brand.data,
                                 rs->account, rs->user)
        < 0
        || (p = (u_char *) ngx_http_clientauth_pool_cstr(r, key)) == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n++], (char *) p);

    to.account = rs->account;
    to.user = rs->user;
    to.email = rs->field[NGX_HTTP_CLIENTAUTH_RF_EMAIL];
    to.locale = rs->field[NGX_HTTP_CLIENTAUTH_RF_LOCALE];

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n++],
                                           "password_changed", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    /* a failover must not bring back the token or the old password */
    n += ngx_http_clientauth_durable(r, &cmds[n]);

    rs->step = NGX_HTTP_CLIENTAUTH_RESET_APPLIED;
    rs->aborted = 0;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_reset_reply,
                                        cmds, n);
}


/*
 * The claim goes when the change could not be made: the link stays good for
 * another try.  If a lost EXEC did apply, the token is gone and the link
 * answers 410 all the same.
 */

static void
ngx_http_clientauth_reset_unclaim(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_reset_t     *rs;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    rs = ctx->flow;
    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ca_key_reset(key, sizeof(key), (char *) ascf->brand.data,
                     "reset-claim", rs->token_hash) < 0)
    {
        return;
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "DEL");
    ngx_http_clientauth_argv_add_str(&cmd, key);

    (void) ngx_http_clientauth_redis_post(ascf->redis, &cmd, 1);
}


/*
 * One DEL of the account's failure count, lockout and bans: they are
 * counted per account (ngx_http_clientauth_attempt_subject()).
 */

static ngx_int_t
ngx_http_clientauth_reset_forget_failures(ngx_http_request_t *r,
    ngx_http_clientauth_reset_t *rs, ngx_http_clientauth_argv_t *cmd)
{
    char                            *copy;
    ngx_uint_t                       k;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    static const char  *what[] = { "fails", "lock", "bans" };

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_http_clientauth_argv_reset(cmd);
    ngx_http_clientauth_argv_add_str(cmd, "DEL");

    for (k = 0; k < 3; k++) {
        if (ca_key_login(key, sizeof(key), (char *) ascf->brand.data,
                         what[k], "account", rs->account) >= 0)
        {
            copy = ngx_http_clientauth_pool_cstr(r, key);
            if (copy == NULL) {
                return NGX_ERROR;
            }

            ngx_http_clientauth_argv_add_str(cmd, copy);
        }
    }

    return cmd->argc > 1 ? 1 : 0;
}


static ngx_int_t
ngx_http_clientauth_reset_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_reset_t *rs)
{
    static ngx_str_t  ok = ngx_string("{\"ok\":true}");

    if (rs->aborted) {
        /* the user changed between the WATCH and EXEC: look again */
        if (++rs->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_reset_watch(r, ctx, rs);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: user %s of account %s kept changing "
                      "during its password reset", rs->user, rs->account);
        ngx_http_clientauth_reset_unclaim(r, ctx);
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_http_clientauth_redis_txn_end(ctx);

    if (!rs->applied) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis did not apply the password reset");
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: password of user %s of account %s reset, "
                  "%ui session(s) revoked", rs->user, rs->account,
                  rs->sessions ? rs->sessions->nelts : 0);

    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_RESET_DONE);

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &ok);
    }

    /* not logged in: the customer logs in with the new password */
    return ngx_http_clientauth_redirect_login(r, "reset");
}


static ngx_int_t
ngx_http_clientauth_reset_gone(ngx_http_request_t *r)
{
    ngx_http_clientauth_outcome_t  oc;

    /* a dead end otherwise: the page offers to ask for a new link */
    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
    oc.title = CA_T_GONE_TITLE;
    oc.text = CA_T_GONE;
    oc.link_text = CA_T_RESET_LINK;
    oc.link = *ngx_http_clientauth_page_url(r,
                                           NGX_HTTP_CLIENTAUTH_RESET_REQUEST);

    return ngx_http_clientauth_send_outcome(r, NGX_HTTP_CLIENTAUTH_GONE,
                                            "invalid_token", &oc);
}


/* 422 with every rule broken: codes for programs, sentences for people. */

static ngx_int_t
ngx_http_clientauth_reset_rejected(ngx_http_request_t *r,
    ngx_http_clientauth_reset_t *rs)
{
    ngx_str_t  body;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: new password refused (rules 0x%xd)",
                  rs->broken);

    if (!ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_page_new_password(r,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, &rs->token,
                   &rs->field[NGX_HTTP_CLIENTAUTH_RF_EMAIL], rs->broken);
    }

    if (ngx_http_clientauth_rules_json(r, rs->broken, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_send_json(r, NGX_HTTP_CLIENTAUTH_UNPROCESSABLE,
                                         &body);
}



static void
ngx_http_clientauth_reset_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                       i;
    ngx_http_clientauth_reset_t     *rs;

    rs = ctx->flow;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused a reset command: %s",
                      reply->str);
        ctx->redis_error = 1;
        return;
    }

    switch (rs->step) {

    case NGX_HTTP_CLIENTAUTH_RESET_PRECHECK:
    case NGX_HTTP_CLIENTAUTH_RESET_THROTTLE:
        if (ngx_http_clientauth_limit_reply(r, &rs->attempt, n, reply)
            != NGX_OK)
        {
            ctx->redis_error = 1;
        }

        break;

    case NGX_HTTP_CLIENTAUTH_RESET_USER:
        for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements
                    && i < NGX_HTTP_CLIENTAUTH_RF_LAST; i++)
        {
            (void) ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                                 &rs->field[i]);
        }

        break;

    case NGX_HTTP_CLIENTAUTH_RESET_RECORD:
        (void) ngx_http_clientauth_reply_str(r->pool, reply, &rs->ref);
        break;

    case NGX_HTTP_CLIENTAUTH_RESET_VERIFY:
        if (n == 1) {
            rs->history = ngx_http_clientauth_reply_strings(r->pool, reply);
            break;
        }

        if (n == 3) {
            rs->sessions = ngx_http_clientauth_reply_strings(r->pool, reply);
            break;
        }

        for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
             i++)
        {
            if (n == 0 && i < NGX_HTTP_CLIENTAUTH_RF_LAST) {
                (void) ngx_http_clientauth_reply_str(r->pool,
                                                     reply->element[i],
                                                     &rs->field[i]);

            } else if (n == 2 && i < NGX_HTTP_CLIENTAUTH_AF_LAST) {
                (void) ngx_http_clientauth_reply_str(r->pool,
                                                     reply->element[i],
                                                     &rs->account_field[i]);
            }
        }

        break;

    case NGX_HTTP_CLIENTAUTH_RESET_APPLY:
        rs->claimed = (reply->type == REDIS_REPLY_STATUS);
        break;

    case NGX_HTTP_CLIENTAUTH_RESET_WATCHED:
        for (i = 0; n == 1 && reply->type == REDIS_REPLY_ARRAY
                    && i < reply->elements && i < 3; i++)
        {
            (void) ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                                 &rs->now[i]);
        }

        break;

    default: /* ISSUED, APPLIED: MULTI ... EXEC */
        if (reply->type == REDIS_REPLY_NIL
            && rs->step == NGX_HTTP_CLIENTAUTH_RESET_APPLIED)
        {
            /* EXEC: a watched key changed, nothing was done */
            rs->aborted = 1;
            break;
        }

        if (reply->type != REDIS_REPLY_ARRAY) {
            break;
        }

        rs->applied = 1;

        for (i = 0; i < reply->elements; i++) {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "clientauth: redis refused a reset write: %s",
                              reply->element[i]->str);
                rs->applied = 0;
            }
        }

        if (rs->step == NGX_HTTP_CLIENTAUTH_RESET_APPLIED && rs->applied) {
            /* committed on a connection of its own: the invalidation may
             * come after the answer, the worker forgets the user now */
            ngx_http_clientauth_cache_forget_user(
                ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
                rs->account, rs->user);
        }

        if (rs->step == NGX_HTTP_CLIENTAUTH_RESET_APPLIED && rs->applied
            && rs->members_at < reply->elements)
        {
            ngx_http_clientauth_revoke_late(r,
                ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
                rs->account, reply->element[rs->members_at]);
        }

        break;
    }
}


/*
 * A new password against the brand's rules (lib/ca_policy) and its
 * confirmation; ids are the user's identifiers.  The broken rules' bits.
 */

unsigned
ngx_http_clientauth_new_password_rules(ngx_http_request_t *r,
    ngx_str_t *password, ngx_str_t *confirm, const char **ids,
    ngx_uint_t nids)
{
    unsigned                         broken;
    ca_policy_t                      policy;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    policy.preset = ascf->password_policy;
    policy.min_length = ascf->password_min;
    policy.max_length = ascf->password_max;

    broken = ca_policy_check(&policy, (char *) password->data, password->len,
                             ids, nids);

    if (confirm->len != password->len
        || ngx_strncmp(confirm->data, password->data, password->len) != 0)
    {
        broken |= CA_RULE_MISMATCH;
    }

    return broken;
}


/*
 * The hash task's input for a new password: the current hash and the
 * former ones it may not be (the last clientauth_password_history).
 */

void
ngx_http_clientauth_new_password_in(ngx_http_request_t *r,
    ngx_http_clientauth_hash_in_t *in, ngx_str_t *current,
    ngx_array_t *history)
{
    ngx_str_t                       *old;
    ngx_uint_t                       i;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_memzero(in, sizeof(ngx_http_clientauth_hash_in_t));

    if (current->len && ascf->password_history > 0) {
        in->stored[in->nstored++] = (char *) current->data;
    }

    old = history ? history->elts : NULL;

    /* LRANGE 0 -1 and 0 -2 (history 1 and 0) read more than wanted */
    for (i = 0; history && i < history->nelts
                && i + 1 < ascf->password_history
                && in->nstored < NGX_HTTP_CLIENTAUTH_HASHES_MAX; i++)
    {
        in->stored[in->nstored++] = (char *) old[i].data;
    }
}


/*
 * The reads a new password needs besides its user: the last N passwords
 * (the current one and N - 1 former ones: LRANGE of the history) and the
 * account's identifiers (HMGET), into cmds[0] and cmds[1].
 */

ngx_int_t
ngx_http_clientauth_new_password_reads(ngx_http_request_t *r,
    const char *account, const char *user, ngx_http_clientauth_argv_t *cmds)
{
    u_char                          *p;
    char                            *hkey, *akey;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);

    if (p == NULL
        || ca_key_user_history(key, sizeof(key), (char *) ascf->brand.data,
                               account, user) < 0
        || (hkey = ngx_http_clientauth_pool_cstr(r, key)) == NULL
        || ca_key_account(key, sizeof(key), (char *) ascf->brand.data,
                          account) < 0
        || (akey = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
    {
        return NGX_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "LRANGE");
    ngx_http_clientauth_argv_add_str(&cmds[0], hkey);
    ngx_http_clientauth_argv_add_str(&cmds[0], "0");
    ngx_http_clientauth_argv_add(&cmds[0], p,
                                 ngx_sprintf(p, "%i",
                                     (ngx_int_t) ascf->password_history - 2)
                                 - p);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], akey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "customer_number");
    ngx_http_clientauth_argv_add_str(&cmds[1], "nic");
    ngx_http_clientauth_argv_add_str(&cmds[1], "phone");
    ngx_http_clientauth_argv_add_str(&cmds[1], "domain");

    return NGX_OK;
}
