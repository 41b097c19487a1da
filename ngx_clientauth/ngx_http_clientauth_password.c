
/*
 * Password change from the self-service area: POST /auth/account/password
 * with current_password, password and password_confirm.
 *
 * The new password is checked against the brand's rules first (nothing is
 * counted or hashed for a password that could never be accepted), then the
 * current one is verified in the thread pool, counted by the lockout like a
 * login (a wrong one is a failed login of the account; 403
 * wrong_password: the session is valid, so not 401), then the history and
 * the new hash (a second task).  The change is a check-and-set on a
 * dedicated connection: WATCH the user and the session, read them again,
 * and only if the password, the status and the session generation are
 * still those checked, one MULTI stores the new hash, keeps the old one in
 * the history, kills a pending reset link, ends every other session (a
 * new generation, which this session is moved to:
 * ngx_http_clientauth_sessions_end_others()), clears the failure count
 * and queues password_changed.  This session stays logged in.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_cache.h"
#include "ngx_http_clientauth_hash.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_limit.h"
#include "ngx_http_clientauth_account.h"


typedef enum {
    NGX_HTTP_CLIENTAUTH_PW_RECORD = 0,      /* user, history, identifiers */
    NGX_HTTP_CLIENTAUTH_PW_THROTTLE,        /* lockout, account, brand */
    NGX_HTTP_CLIENTAUTH_PW_BAN,
    NGX_HTTP_CLIENTAUTH_PW_ESCALATE,
    NGX_HTTP_CLIENTAUTH_PW_CURRENT,         /* the current one verified */
    NGX_HTTP_CLIENTAUTH_PW_NEW,             /* history checked, hashed */
    NGX_HTTP_CLIENTAUTH_PW_WATCHED,         /* WATCH, read again */
    NGX_HTTP_CLIENTAUTH_PW_APPLIED          /* MULTI ... EXEC */
} ngx_http_clientauth_pw_step_e;


/* the user's fields, read first and again under WATCH */
enum {
    NGX_HTTP_CLIENTAUTH_PF_HASH = 0,
    NGX_HTTP_CLIENTAUTH_PF_STATUS,
    NGX_HTTP_CLIENTAUTH_PF_SGEN,
    NGX_HTTP_CLIENTAUTH_PF_LAST
};

/* the account's identifiers, which a password may not be */
#define NGX_HTTP_CLIENTAUTH_PW_IDS  4


typedef struct {
    ngx_http_clientauth_pw_step_e     step;
    ngx_str_t                         current;
    ngx_str_t                         password;
    ngx_str_t                         confirm;
    ngx_str_t                         field[NGX_HTTP_CLIENTAUTH_PF_LAST];
    ngx_str_t                         now[NGX_HTTP_CLIENTAUTH_PF_LAST];
    ngx_str_t                         session_now;  /* "a", under WATCH */
    ngx_str_t                         ids[NGX_HTTP_CLIENTAUTH_PW_IDS];
    ngx_array_t                      *history;      /* of ngx_str_t */
    ngx_array_t                      *sessions;     /* of ngx_str_t */
    ngx_http_clientauth_attempt_t     attempt;
    ngx_http_clientauth_hash_out_t    verified;     /* the current one */
    ngx_http_clientauth_hash_out_t    hashed;       /* the new one */
    unsigned                          broken;       /* ca_rule_e bits */
    ngx_uint_t                        tries;
    ngx_uint_t                        aborted;      /* EXEC: nil */
    ngx_uint_t                        applied;
    ngx_uint_t                        ended;        /* sessions ended */
    char                             *ukey;
    char                             *skey;
} ngx_http_clientauth_pw_t;


static ngx_int_t ngx_http_clientauth_pw_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_pw_record(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_rules(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_throttled(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_banned(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_hash(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_hash_in_t *in,
    ngx_http_clientauth_hash_out_t *out);
static ngx_int_t ngx_http_clientauth_pw_current(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_new(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static ngx_int_t ngx_http_clientauth_pw_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw);
static void ngx_http_clientauth_pw_forget_failures(ngx_http_request_t *r,
    ngx_http_clientauth_pw_t *pw);
static void ngx_http_clientauth_pw_unavailable(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_pw_refused(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, ca_text_e text, unsigned broken);
static void ngx_http_clientauth_pw_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);


/* The route's step: the form, then the flow. */

ngx_int_t
ngx_http_clientauth_account_password(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_pw_t        *pw;
    ngx_http_clientauth_account_t   *acc = ctx->flow;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    pw = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_pw_t));
    if (pw == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    acc->data = pw;

    ngx_http_clientauth_form_value(&acc->form, "current_password",
                                   &pw->current);
    ngx_http_clientauth_form_value(&acc->form, "password", &pw->password);
    ngx_http_clientauth_form_value(&acc->form, "password_confirm",
                                   &pw->confirm);

    if (pw->current.len == 0 || pw->password.len == 0) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_pw_refused(r, NGX_HTTP_BAD_REQUEST,
                                              "missing_field",
                                              CA_T_MISSING_CHANGE, 0);
    }

    if (pw->current.len > ascf->password_max) {
        /* refused whole before any hashing: never truncated */
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_pw_refused(r, NGX_HTTP_BAD_REQUEST,
                                              "password_too_long",
                                              CA_T_PASSWORD_TOO_LONG, 0);
    }

    ctx->next = ngx_http_clientauth_pw_next;

    return ngx_http_clientauth_pw_record(r, ctx, pw);
}


static ngx_int_t
ngx_http_clientauth_pw_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_pw_t       *pw = acc->data;

    switch (pw->step) {

    case NGX_HTTP_CLIENTAUTH_PW_RECORD:
        return ngx_http_clientauth_pw_rules(r, ctx, pw);

    case NGX_HTTP_CLIENTAUTH_PW_THROTTLE:
        return ngx_http_clientauth_pw_throttled(r, ctx, pw);

    case NGX_HTTP_CLIENTAUTH_PW_BAN:
        return ngx_http_clientauth_pw_banned(r, ctx, pw);

    case NGX_HTTP_CLIENTAUTH_PW_ESCALATE:
        return ngx_http_clientauth_attempt_escalated(r, &pw->attempt);

    case NGX_HTTP_CLIENTAUTH_PW_CURRENT:
        return ngx_http_clientauth_pw_current(r, ctx, pw);

    case NGX_HTTP_CLIENTAUTH_PW_NEW:
        return ngx_http_clientauth_pw_new(r, ctx, pw);

    case NGX_HTTP_CLIENTAUTH_PW_WATCHED:
        return ngx_http_clientauth_pw_apply(r, ctx, pw);

    default: /* NGX_HTTP_CLIENTAUTH_PW_APPLIED */
        return ngx_http_clientauth_pw_done(r, ctx, pw);
    }
}


/* The user's hash, status and generation, its history, identifiers and
 * sessions. */

static ngx_int_t
ngx_http_clientauth_pw_record(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    ngx_http_clientauth_argv_t      cmds[4];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    char                           *brand, *a, *u;
    char                            key[CA_KEY_MAX], setkey[CA_KEY_MAX];

    brand = (char *) acc->brand.data;
    a = (char *) acc->account.data;
    u = (char *) acc->user.data;

    if (ca_key_user_sessions(setkey, sizeof(setkey), brand, a, u) < 0
        || ca_key_user(key, sizeof(key), brand, a, u) < 0
        || (pw->ukey = ngx_http_clientauth_pool_cstr(r, key)) == NULL
        || ca_key_session(key, sizeof(key), brand, a,
                          (char *) acc->token_hash.data) < 0
        || (pw->skey = ngx_http_clientauth_pool_cstr(r, key)) == NULL
        || ngx_http_clientauth_new_password_reads(r, a, u, &cmds[1])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[0], pw->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[0], "hash");
    ngx_http_clientauth_argv_add_str(&cmds[0], "status");
    ngx_http_clientauth_argv_add_str(&cmds[0], "sgen");

    ngx_http_clientauth_argv_reset(&cmds[3]);
    ngx_http_clientauth_argv_add_str(&cmds[3], "SMEMBERS");
    ngx_http_clientauth_argv_add_str(&cmds[3], setkey);

    pw->step = NGX_HTTP_CLIENTAUTH_PW_RECORD;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_pw_reply,
                                    cmds, 4);
}


/*
 * The rules need no hashing: a password that breaks them is refused before
 * anything is counted.  Then the attempt is counted like a login.
 */

static ngx_int_t
ngx_http_clientauth_pw_rules(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    ngx_int_t                        n;
    ngx_uint_t                       i, nids;
    const char                      *ids[1 + NGX_HTTP_CLIENTAUTH_PW_IDS];
    ngx_http_clientauth_argv_t       cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];
    ngx_http_clientauth_account_t   *acc = ctx->flow;

    nids = 0;

    if (acc->email.len) {
        ids[nids++] = (char *) acc->email.data;
    }

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_PW_IDS; i++) {
        if (pw->ids[i].len) {
            ids[nids++] = (char *) pw->ids[i].data;
        }
    }

    pw->broken = ngx_http_clientauth_new_password_rules(r, &pw->password,
                                                        &pw->confirm, ids,
                                                        nids);
    if (pw->broken) {
        return ngx_http_clientauth_pw_refused(r,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, NULL, CA_T_COUNT,
                   pw->broken);
    }

    n = ngx_http_clientauth_attempt_known(r, &pw->attempt, &acc->account,
                                          &acc->user, cmds);
    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pw->step = NGX_HTTP_CLIENTAUTH_PW_THROTTLE;

    if (n == 0) {
        return ngx_http_clientauth_pw_throttled(r, ctx, pw);
    }

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_pw_reply,
                                    cmds, n);
}


static ngx_int_t
ngx_http_clientauth_pw_throttled(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    time_t                           retry;
    ngx_int_t                        rc;
    ngx_http_clientauth_hash_in_t    in;
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    rc = ngx_http_clientauth_limit_verdict(r, ascf, &pw->attempt, &retry);

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_pw_refused(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                              NULL, CA_T_COUNT,
                                              (unsigned) retry);
    }

    if (rc == NGX_AGAIN) {
        /* one failure too many: the account is locked out, as by logins */
        rc = ngx_http_clientauth_ban_commands(r, ascf, &pw->attempt, cmds);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        pw->step = NGX_HTTP_CLIENTAUTH_PW_BAN;

        return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_pw_reply,
                                        cmds, rc);
    }

    /* counted from here on: a Redis failure gives the attempt back */
    ctx->abandon = ngx_http_clientauth_pw_unavailable;

    ngx_memzero(&in, sizeof(ngx_http_clientauth_hash_in_t));

    /* no hash (an invited user who never set one): nothing matches */
    in.nstored = 1;
    in.stored[0] = pw->field[NGX_HTTP_CLIENTAUTH_PF_HASH].len
                   ? (char *) pw->field[NGX_HTTP_CLIENTAUTH_PF_HASH].data
                   : ascf->dummy_hash;
    in.password = pw->current;

    pw->step = NGX_HTTP_CLIENTAUTH_PW_CURRENT;

    return ngx_http_clientauth_pw_hash(r, ctx, &in, &pw->verified);
}


static ngx_int_t
ngx_http_clientauth_pw_banned(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    ngx_int_t                    n, rc;
    ngx_http_clientauth_argv_t   cmds[2];

    n = ngx_http_clientauth_attempt_banned(r, &pw->attempt, cmds, &rc);
    if (n == NGX_DECLINED) {
        return rc;
    }

    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pw->step = NGX_HTTP_CLIENTAUTH_PW_ESCALATE;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_pw_reply,
                                    cmds, n);
}


static ngx_int_t
ngx_http_clientauth_pw_hash(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_hash_in_t *in,
    ngx_http_clientauth_hash_out_t *out)
{
    ngx_int_t                        rc;
    ngx_http_clientauth_account_t   *acc = ctx->flow;
    ngx_http_clientauth_pw_t        *pw = acc->data;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    rc = ngx_http_clientauth_hash_run(r, ctx, ascf, in, out);

    if (rc == NGX_OK) {
        r->read_event_handler = ngx_http_test_reading;
        return NGX_DONE;
    }

    if (pw->step == NGX_HTTP_CLIENTAUTH_PW_CURRENT) {
        /* not a guess: the password was never checked */
        ngx_http_clientauth_limit_undo(r, ascf, &pw->attempt);
    }

    ctx->abandon = NULL;

    if (rc != NGX_BUSY) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clientauth_retry_after(r, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_send_message(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "busy", CA_T_UNAVAILABLE_TITLE,
                                            CA_T_BUSY);
}


/* The current password: wrong, it stays a failed login of the account. */

static ngx_int_t
ngx_http_clientauth_pw_current(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    ngx_http_clientauth_hash_in_t   in;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    ctx->abandon = NULL;

    if (pw->field[NGX_HTTP_CLIENTAUTH_PF_HASH].len == 0
        || pw->verified.error || pw->verified.matched != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: password change of user %V of account "
                      "%V refused: wrong current password%s", &acc->user,
                      &acc->account,
                      pw->verified.error ? " (unusable stored hash)" : "");
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_LOGIN_FAILURE);
        return ngx_http_clientauth_pw_refused(r, NGX_HTTP_FORBIDDEN,
                                              "wrong_password",
                                              CA_T_WRONG_PASSWORD, 0);
    }

    ngx_http_clientauth_new_password_in(r, &in,
                                        &pw->field[NGX_HTTP_CLIENTAUTH_PF_HASH],
                                        pw->history);
    in.password = pw->password;
    in.hash_new = 1;

    pw->step = NGX_HTTP_CLIENTAUTH_PW_NEW;

    return ngx_http_clientauth_pw_hash(r, ctx, &in, &pw->hashed);
}


static ngx_int_t
ngx_http_clientauth_pw_new(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    if (pw->hashed.matched >= 0) {
        /* the current password was right: that is a success, not a guess */
        ngx_http_clientauth_pw_forget_failures(r, pw);

        return ngx_http_clientauth_pw_refused(r,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, NULL, CA_T_COUNT,
                   CA_RULE_REUSED);
    }

    if (pw->hashed.new_hash.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: could not hash the new password");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pw->tries = 0;

    return ngx_http_clientauth_pw_watch(r, ctx, pw);
}


/*
 * The passwords took a while: the user and this session are watched on a
 * dedicated connection and read again.
 */

static ngx_int_t
ngx_http_clientauth_pw_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    ngx_http_clientauth_argv_t  cmds[3];

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], pw->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[0], pw->skey);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], pw->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "hash");
    ngx_http_clientauth_argv_add_str(&cmds[1], "status");
    ngx_http_clientauth_argv_add_str(&cmds[1], "sgen");

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "HGET");
    ngx_http_clientauth_argv_add_str(&cmds[2], pw->skey);
    ngx_http_clientauth_argv_add_str(&cmds[2], "a");

    ngx_memzero(pw->now, sizeof(pw->now));
    ngx_str_null(&pw->session_now);

    pw->step = NGX_HTTP_CLIENTAUTH_PW_WATCHED;

    return ngx_http_clientauth_txn_call(r, ctx, ngx_http_clientauth_pw_reply,
                                        cmds, 3);
}


static ngx_int_t
ngx_http_clientauth_pw_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    u_char                           *now, *keep, *gen;
    ngx_int_t                         rc, sgen;
    ngx_str_t                         g, *old;
    ngx_uint_t                        n;
    ngx_http_clientauth_argv_t       *cmds;
    ngx_http_clientauth_account_t    *acc = ctx->flow;
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_recipient_t   to;
    char                              key[CA_KEY_MAX], *hkey;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (pw->now[NGX_HTTP_CLIENTAUTH_PF_SGEN].len == 0) {
        /* no revocation yet: the generation logins give is "0" */
        ngx_str_set(&pw->now[NGX_HTTP_CLIENTAUTH_PF_SGEN], "0");
    }

    if (pw->session_now.len == 0
        || !ngx_http_clientauth_str_eq(&pw->now[NGX_HTTP_CLIENTAUTH_PF_SGEN],
                                       &acc->session_gen))
    {
        /* logged out or revoked meanwhile: this session has no say */
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: password change of user %V of account "
                      "%V dropped: its session ended meanwhile", &acc->user,
                      &acc->account);
        return ngx_http_clientauth_send_message(r, NGX_HTTP_UNAUTHORIZED,
                   "unauthenticated", CA_T_LOGIN_TITLE, CA_T_NEED_LOGIN);
    }

    if (!ngx_http_clientauth_str_eq(&pw->now[NGX_HTTP_CLIENTAUTH_PF_HASH],
                                    &pw->field[NGX_HTTP_CLIENTAUTH_PF_HASH])
        || pw->now[NGX_HTTP_CLIENTAUTH_PF_STATUS].len != sizeof("active") - 1
        || ngx_strncmp(pw->now[NGX_HTTP_CLIENTAUTH_PF_STATUS].data, "active",
                       6) != 0)
    {
        /* support (or another session) set a password meanwhile, or the
         * user was locked: the one checked is not the current one */
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: password change of user %V of account "
                      "%V dropped: the user changed meanwhile", &acc->user,
                      &acc->account);
        return ngx_http_clientauth_pw_refused(r, NGX_HTTP_FORBIDDEN,
                                              "wrong_password",
                                              CA_T_WRONG_PASSWORD, 0);
    }

    sgen = ngx_atoi(pw->now[NGX_HTTP_CLIENTAUTH_PF_SGEN].data,
                    pw->now[NGX_HTTP_CLIENTAUTH_PF_SGEN].len);

    now = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    keep = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    gen = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    cmds = ngx_palloc(r->pool,
                      (10 + ngx_http_clientauth_sessions_end_size(pw->sessions))
                      * sizeof(ngx_http_clientauth_argv_t));

    if (sgen == NGX_ERROR || now == NULL || keep == NULL || gen == NULL
        || cmds == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* every session of the user but this one ends: a new generation */
    g.data = gen;
    g.len = ngx_sprintf(gen, "%i", sgen + 1) - gen;

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], pw->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "hash");
    ngx_http_clientauth_argv_add(&cmds[n], pw->hashed.new_hash.data,
                                 pw->hashed.new_hash.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "pwchanged");
    ngx_http_clientauth_argv_add(&cmds[n], now,
                                 ngx_sprintf(now, "%T", ngx_time()) - now);
    ngx_http_clientauth_argv_add_str(&cmds[n], "sgen");
    ngx_http_clientauth_argv_add(&cmds[n++], g.data, g.len);

    /* a reset link asked for earlier must not undo the change */
    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HDEL");
    ngx_http_clientauth_argv_add_str(&cmds[n], pw->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "reset");

    old = &pw->field[NGX_HTTP_CLIENTAUTH_PF_HASH];

    if (ascf->password_history > 1) {
        if (ca_key_user_history(key, sizeof(key), (char *) acc->brand.data,
                                (char *) acc->account.data,
                                (char *) acc->user.data) < 0
            || (hkey = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "LPUSH");
        ngx_http_clientauth_argv_add_str(&cmds[n], hkey);
        ngx_http_clientauth_argv_add(&cmds[n++], old->data, old->len);

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "LTRIM");
        ngx_http_clientauth_argv_add_str(&cmds[n], hkey);
        ngx_http_clientauth_argv_add_str(&cmds[n], "0");
        ngx_http_clientauth_argv_add(&cmds[n++], keep,
                                     ngx_sprintf(keep, "%ui",
                                                 ascf->password_history - 2)
                                     - keep);
    }

    rc = ngx_http_clientauth_sessions_end_others(r, acc, pw->sessions,
                                                 &cmds[n], &g, &pw->ended);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n += rc;

    rc = ngx_http_clientauth_limit_success(r, ascf, &pw->attempt, &cmds[n]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n += rc;

    to.account = (char *) acc->account.data;
    to.user = (char *) acc->user.data;
    to.email = acc->email;
    to.locale = acc->locale;

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n++],
                                           "password_changed", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    /* a failover must not bring back the old password or the sessions */
    n += ngx_http_clientauth_durable(r, &cmds[n]);

    pw->step = NGX_HTTP_CLIENTAUTH_PW_APPLIED;
    pw->aborted = 0;
    pw->applied = 0;

    return ngx_http_clientauth_txn_call(r, ctx, ngx_http_clientauth_pw_reply,
                                        cmds, n);
}


static ngx_int_t
ngx_http_clientauth_pw_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_pw_t *pw)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    if (pw->aborted) {
        /* the user or the session changed between WATCH and EXEC */
        if (++pw->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            pw->ended = 0;
            return ngx_http_clientauth_pw_watch(r, ctx, pw);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: user %V of account %V kept changing "
                      "during its password change", &acc->user,
                      &acc->account);
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_http_clientauth_redis_txn_end(ctx);

    if (!pw->applied) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis did not apply the password change");
        return ngx_http_clientauth_send_unavailable(r);
    }

    /* committed on a connection of its own: the invalidation may come
     * after the answer, the worker forgets the user now */
    ngx_http_clientauth_cache_forget_user(
        ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
        (char *) acc->account.data, (char *) acc->user.data);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: password of user %V of account %V changed, "
                  "%ui other session(s) ended", &acc->user, &acc->account,
                  pw->ended);

    return ngx_http_clientauth_account_ok(r, "password",
                                          CA_T_ACCOUNT_PASSWORD_DONE);
}


static void
ngx_http_clientauth_pw_forget_failures(ngx_http_request_t *r,
    ngx_http_clientauth_pw_t *pw)
{
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ngx_http_clientauth_limit_success(r, ascf, &pw->attempt, &cmd) == 1) {
        (void) ngx_http_clientauth_redis_post(ascf->redis, &cmd, 1);
    }
}


/* Redis failed the change after the attempt was counted: give it back. */

static void
ngx_http_clientauth_pw_unavailable(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t   *acc = ctx->flow;
    ngx_http_clientauth_pw_t        *pw = acc->data;

    ngx_http_clientauth_limit_undo(r,
        ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
        &pw->attempt);
}


/*
 * A refusal: JSON clients get the code and message (422: the rules; 429:
 * Retry-After, broken holds the seconds), browsers the area's page again
 * with the error (429: the "too many attempts" page).
 */

static ngx_int_t
ngx_http_clientauth_pw_refused(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, ca_text_e text, unsigned broken)
{
    ngx_str_t                       body;
    ngx_http_clientauth_ctx_t      *ctx;
    ngx_http_clientauth_account_t  *acc;

    if (status == NGX_HTTP_TOO_MANY_REQUESTS) {
        return ngx_http_clientauth_attempt_wait(r, (time_t) broken);
    }

    if (status == NGX_HTTP_CLIENTAUTH_UNPROCESSABLE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: new password refused (rules 0x%xd)",
                      broken);
    }

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        if (status != NGX_HTTP_CLIENTAUTH_UNPROCESSABLE) {
            return ngx_http_clientauth_send_message(r, status, code,
                                                    CA_T_ACCOUNT_TITLE, text);
        }

        if (ngx_http_clientauth_rules_json(r, broken, &body) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clientauth_send_json(r, status, &body);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_clientauth_module);
    acc = ctx->flow;

    return ngx_http_clientauth_account_page(r, acc, status, broken, text);
}


static void
ngx_http_clientauth_pw_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                      i;
    ngx_str_t                      *out;
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_pw_t       *pw = acc->data;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused a password change "
                      "command: %s", reply->str);
        ctx->redis_error = 1;
        return;
    }

    switch (pw->step) {

    case NGX_HTTP_CLIENTAUTH_PW_RECORD:
        if (n == 1) {
            pw->history = ngx_http_clientauth_reply_strings(r->pool, reply);
            ctx->redis_error |= (pw->history == NULL);
            break;
        }

        if (n == 3) {
            pw->sessions = ngx_http_clientauth_reply_strings(r->pool, reply);
            ctx->redis_error |= (pw->sessions == NULL);
            break;
        }

        if (reply->type != REDIS_REPLY_ARRAY) {
            ctx->redis_error = 1;
            break;
        }

        out = (n == 0) ? pw->field : pw->ids;

        for (i = 0; i < reply->elements
                    && i < (n == 0 ? NGX_HTTP_CLIENTAUTH_PF_LAST
                                   : NGX_HTTP_CLIENTAUTH_PW_IDS); i++)
        {
            if (ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                              &out[i])
                == NGX_ERROR)
            {
                ctx->redis_error = 1;
            }
        }

        break;

    case NGX_HTTP_CLIENTAUTH_PW_THROTTLE:
        if (ngx_http_clientauth_limit_reply(r, &pw->attempt, n, reply)
            != NGX_OK)
        {
            ctx->redis_error = 1;
        }

        break;

    case NGX_HTTP_CLIENTAUTH_PW_BAN:
        ngx_http_clientauth_ban_reply(&pw->attempt, n, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_PW_ESCALATE:
        ngx_http_clientauth_escalate_reply(&pw->attempt, n, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_PW_WATCHED:
        if (n == 2) {
            if (ngx_http_clientauth_reply_str(r->pool, reply,
                                              &pw->session_now)
                == NGX_ERROR)
            {
                ctx->redis_error = 1;
            }

            break;
        }

        for (i = 0; n == 1 && reply->type == REDIS_REPLY_ARRAY
                    && i < reply->elements
                    && i < NGX_HTTP_CLIENTAUTH_PF_LAST; i++)
        {
            if (ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                              &pw->now[i])
                == NGX_ERROR)
            {
                ctx->redis_error = 1;
            }
        }

        break;

    default: /* NGX_HTTP_CLIENTAUTH_PW_APPLIED: MULTI ... EXEC */
        switch (ngx_http_clientauth_exec_reply(r, reply, "password change")) {

        case NGX_DECLINED:
            pw->aborted = 1;
            break;

        case NGX_OK:
            pw->applied = 1;
            break;

        default: /* NGX_AGAIN: +OK of MULTI, +QUEUED; NGX_ERROR */
            break;
        }

        break;
    }
}
