
/*
 * The login endpoint.
 *
 * A login is a small state machine driven by Redis replies and the hash
 * task: look the identifier up, read the user, verify the password in the
 * thread pool (against a dummy hash when the account does not exist, so that
 * both cost the same), then create a fresh session.  Each step that waits
 * returns; the request resumes through r->write_event_handler.
 */


#include <sodium.h>

#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_hash.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_limit.h"
#include "ca_next.h"
#include "ca_device.h"


typedef enum {
    NGX_HTTP_CLIENTAUTH_LOGIN_START = 0,
    NGX_HTTP_CLIENTAUTH_LOGIN_PRECHECK,     /* identifier, address, brand */
    NGX_HTTP_CLIENTAUTH_LOGIN_THROTTLE,     /* lockout, account */
    NGX_HTTP_CLIENTAUTH_LOGIN_BAN,
    NGX_HTTP_CLIENTAUTH_LOGIN_ESCALATE,
    NGX_HTTP_CLIENTAUTH_LOGIN_USER,
    NGX_HTTP_CLIENTAUTH_LOGIN_VERIFY,
    NGX_HTTP_CLIENTAUTH_LOGIN_FLOOR,        /* a failure waits its time */
    NGX_HTTP_CLIENTAUTH_LOGIN_SESSION,
    NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADE,      /* WATCH, the hash again */
    NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADED      /* MULTI HSET hash EXEC */
} ngx_http_clientauth_login_step_e;


/* hash status perms email locale sgen */
#define NGX_HTTP_CLIENTAUTH_USER_FIELDS  6

/* the user as it is when the session is written: hash status sgen */
#define NGX_HTTP_CLIENTAUTH_NOW_FIELDS   3


typedef struct {
    ngx_http_clientauth_login_step_e  step;
    ca_form_t                         form;
    ngx_str_t                         identifier;
    ngx_str_t                         password;
    ngx_str_t                         next;
    ngx_http_clientauth_attempt_t     attempt;
    ngx_str_t                         user_field[
                                          NGX_HTTP_CLIENTAUTH_USER_FIELDS];
    ngx_uint_t                        known;       /* the account exists */
    ngx_uint_t                        session_ok;
    ngx_str_t                         now_field[NGX_HTTP_CLIENTAUTH_NOW_FIELDS];
    ngx_str_t                         stored;      /* hash, at the WATCH */
    ngx_uint_t                        upgraded;
    ngx_uint_t                        aborted;     /* EXEC: watched changed */
    ngx_uint_t                        tries;
    char                             *skey;
    char                             *setkey;
    char                             *ukey;
    char                              session_hash[CA_TOKEN_HASH_LEN + 1];
    ngx_http_clientauth_hash_out_t    verified;
    char                              token[CA_TOKEN_LEN + 1];
    char                              csrf[CA_TOKEN_LEN + 1];
    char                              device[CA_DEVICE_NAME_MAX];
    size_t                            device_len;
    char                              print[CA_DEVICE_PRINT_LEN + 1];
    char                             *devkey;      /* new_device notices */
    ngx_str_t                         device_seen; /* ms, or empty */
    char                              session_id[
                                  NGX_HTTP_CLIENTAUTH_SESSION_ID_LEN + 1];
} ngx_http_clientauth_login_t;


static ngx_int_t ngx_http_clientauth_login_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_login_start(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_account(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_throttled(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_banned(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_user(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_verify(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_session(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static size_t ngx_http_clientauth_login_device(ngx_http_request_t *r,
    char *buf);
static ngx_int_t ngx_http_clientauth_login_account_fields(
    ngx_http_request_t *r, ngx_http_clientauth_login_t *lg,
    ngx_http_clientauth_argv_t *cmd, u_char *now, size_t len);
static ngx_int_t ngx_http_clientauth_login_floor(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg);
static void ngx_http_clientauth_login_unusable(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_device_key(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg);
static ngx_uint_t ngx_http_clientauth_login_noticed(
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg,
    int64_t now);
static ngx_int_t ngx_http_clientauth_login_devices(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg, ngx_http_clientauth_argv_t *cmds,
    int64_t now);
static ngx_int_t ngx_http_clientauth_login_notice(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg,
    ngx_http_clientauth_argv_t *cmd);
static ngx_int_t ngx_http_clientauth_login_done(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_keys(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg);
static void ngx_http_clientauth_login_now(ngx_http_clientauth_argv_t *cmd,
    char *ukey);
static void ngx_http_clientauth_login_exec_reply(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg, redisReply *first);
static ngx_int_t ngx_http_clientauth_login_settle(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_upgrade(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_upgrade_write(
    ngx_http_request_t *r, ngx_http_clientauth_ctx_t *ctx,
    ngx_http_clientauth_login_t *lg);
static ngx_int_t ngx_http_clientauth_login_upgraded(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg);
static void ngx_http_clientauth_login_discard(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg);
static void ngx_http_clientauth_login_abandon(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_login_locked(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg);
static void ngx_http_clientauth_login_locale(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg);
static void ngx_http_clientauth_login_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);
static void ngx_http_clientauth_login_unavailable(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_login_failed(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg, const char *why);


ngx_int_t
ngx_http_clientauth_login_handler(ngx_http_request_t *r)
{
    ngx_str_t                        next;
    ngx_http_clientauth_login_t     *lg;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (ngx_http_clientauth_query_arg(r, "next", &next) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clientauth_page_login(r, NGX_HTTP_OK, CA_T_COUNT,
                                              NULL, &next);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_clientauth_not_allowed(r, "GET, HEAD, POST");
    }

    if (!ngx_http_clientauth_same_origin(r)) {
        return ngx_http_clientauth_cross_site(r);
    }

    lg = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_login_t));
    if (lg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_flow_start(r, ngx_http_clientauth_login_next,
                                          lg, 1);
}


static ngx_int_t
ngx_http_clientauth_login_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_login_t  *lg = ctx->flow;

    switch (lg->step) {

    case NGX_HTTP_CLIENTAUTH_LOGIN_START:
        return ngx_http_clientauth_login_start(r, ctx, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_PRECHECK:
        return ngx_http_clientauth_login_account(r, ctx, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_THROTTLE:
        return ngx_http_clientauth_login_throttled(r, ctx, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_BAN:
        return ngx_http_clientauth_login_banned(r, ctx, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_ESCALATE:
        return ngx_http_clientauth_attempt_escalated(r, &lg->attempt);

    case NGX_HTTP_CLIENTAUTH_LOGIN_USER:
        return ngx_http_clientauth_login_verify(r, ctx, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_VERIFY:
        return ngx_http_clientauth_login_session(r, ctx, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_FLOOR:
        return ngx_http_clientauth_login_floor(r, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADE:
        return ngx_http_clientauth_login_upgrade_write(r, ctx, lg);

    case NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADED:
        return ngx_http_clientauth_login_upgraded(r, ctx, lg);

    default: /* NGX_HTTP_CLIENTAUTH_LOGIN_SESSION */
        return ngx_http_clientauth_login_settle(r, ctx, lg);
    }
}


static ngx_int_t
ngx_http_clientauth_login_start(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    ngx_int_t                        rc, n;
    ngx_http_clientauth_argv_t       cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    rc = ngx_http_clientauth_parse_form(r, &lg->form);
    if (rc != NGX_OK) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_send_message(r, rc, "malformed_request",
                   CA_T_BAD_TITLE, CA_T_BAD_REQUEST);
    }

    ngx_http_clientauth_form_value(&lg->form, "identifier", &lg->identifier);
    ngx_http_clientauth_form_value(&lg->form, "password", &lg->password);
    ngx_http_clientauth_form_value(&lg->form, "next", &lg->next);

    if (lg->identifier.len == 0 || lg->password.len == 0) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_send_message(r, NGX_HTTP_BAD_REQUEST,
                   "missing_field", CA_T_BAD_TITLE, CA_T_MISSING_LOGIN);
    }

    if (lg->password.len > ascf->password_max) {
        /* refused whole before any hashing: never truncated */
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_send_message(r, NGX_HTTP_BAD_REQUEST,
                   "password_too_long", CA_T_BAD_TITLE,
                   CA_T_PASSWORD_TOO_LONG);
    }

    n = ngx_http_clientauth_attempt_start(r, &lg->attempt,
                                          NGX_HTTP_CLIENTAUTH_ATTEMPT_LOGIN,
                                          &lg->identifier, cmds);
    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_PRECHECK;

    if (n == 0) {
        return ngx_http_clientauth_login_account(r, ctx, lg);
    }

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_login_reply,
                                    cmds, n);
}


/*
 * The address and the brand allow it: count it against the account the
 * identifier names (or the identifier, when it names none), with the same
 * round trip either way.
 */

static ngx_int_t
ngx_http_clientauth_login_account(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    time_t                           retry;
    ngx_int_t                        n;
    ngx_uint_t                       refused;
    ngx_http_clientauth_argv_t       cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];

    n = ngx_http_clientauth_attempt_account(r, &lg->attempt, cmds, &refused,
                                            &retry);
    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (refused) {
        return ngx_http_clientauth_attempt_wait(r, retry);
    }

    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_THROTTLE;

    if (n == 0) {
        return ngx_http_clientauth_login_throttled(r, ctx, lg);
    }

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_login_reply,
                                    cmds, n);
}


static ngx_int_t
ngx_http_clientauth_login_throttled(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    time_t                           retry;
    ngx_int_t                        rc;
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    rc = ngx_http_clientauth_limit_verdict(r, ascf, &lg->attempt, &retry);

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_attempt_wait(r, retry);
    }

    if (rc == NGX_OK) {
        return ngx_http_clientauth_login_user(r, ctx, lg);
    }

    /* NGX_AGAIN: one failure too many, ban the identifier */

    rc = ngx_http_clientauth_ban_commands(r, ascf, &lg->attempt, cmds);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_BAN;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_login_reply,
                                    cmds, rc);
}


static ngx_int_t
ngx_http_clientauth_login_banned(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    ngx_int_t                    n, rc;
    ngx_http_clientauth_argv_t   cmds[2];

    n = ngx_http_clientauth_attempt_banned(r, &lg->attempt, cmds, &rc);
    if (n == NGX_DECLINED) {
        return rc;
    }

    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_ESCALATE;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_login_reply,
                                    cmds, n);
}


static ngx_int_t
ngx_http_clientauth_login_user(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_USER;

    /* counted from here on: a Redis failure gives the attempt back */
    ctx->abandon = ngx_http_clientauth_login_unavailable;

    /* no account: a user that cannot exist costs the same round trip */
    if (ca_key_user(key, sizeof(key), (char *) ascf->brand.data,
                    lg->attempt.ref.len ? lg->attempt.account : "0",
                    lg->attempt.ref.len ? lg->attempt.user : "0")
        < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[0], key);
    ngx_http_clientauth_argv_add_str(&cmds[0], "hash");
    ngx_http_clientauth_argv_add_str(&cmds[0], "status");
    ngx_http_clientauth_argv_add_str(&cmds[0], "perms");
    ngx_http_clientauth_argv_add_str(&cmds[0], "email");
    ngx_http_clientauth_argv_add_str(&cmds[0], "locale");
    ngx_http_clientauth_argv_add_str(&cmds[0], "sgen");

    lg->device_len = ngx_http_clientauth_login_device(r, lg->device);

    if (ascf->login_notice != NGX_HTTP_CLIENTAUTH_NOTICE_NEW_DEVICE) {
        return ngx_http_clientauth_call(r, ctx,
                                        ngx_http_clientauth_login_reply,
                                        cmds, 1);
    }

    /* when this user last logged in from this device and network */
    if (ngx_http_clientauth_login_device_key(r, ascf, lg) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "ZSCORE");
    ngx_http_clientauth_argv_add_str(&cmds[1], lg->devkey);
    ngx_http_clientauth_argv_add_str(&cmds[1], lg->print);

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_login_reply,
                                    cmds, 2);
}


/*
 * clientauth_login_notice new_device: the user's (device, network) pairs,
 * and this login's (ca_device.h).
 */

static ngx_int_t
ngx_http_clientauth_login_device_key(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg)
{
    size_t                n;
    u_char               *addr;
    const char           *account, *user;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif
    char                  net[CA_DEVICE_NETWORK_MAX], key[CA_KEY_MAX];

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        addr = (u_char *) &sin->sin_addr;
        n = 4;
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        addr = sin6->sin6_addr.s6_addr;
        n = 16;
        break;
#endif

    default: /* a unix socket: one network */
        addr = NULL;
        n = 0;
        break;
    }

    if (n == 0 || ca_device_network(net, addr, n) == 0) {
        ngx_cpystrn((u_char *) net, (u_char *) "local", sizeof(net));
    }

    account = lg->attempt.ref.len ? lg->attempt.account : "0";
    user = lg->attempt.ref.len ? lg->attempt.user : "0";

    ca_device_print(lg->print, account, user, lg->device, net);

    if (ca_key_user_devices(key, sizeof(key), (char *) ascf->brand.data,
                            account, user) < 0)
    {
        return NGX_ERROR;
    }

    lg->devkey = ngx_http_clientauth_pool_cstr(r, key);

    return lg->devkey ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_clientauth_login_verify(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    ngx_int_t                        rc;
    ngx_http_clientauth_hash_in_t    in;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_memzero(&in, sizeof(ngx_http_clientauth_hash_in_t));

    lg->known = (lg->user_field[0].len != 0);

    in.nstored = 1;
    in.stored[0] = lg->known ? (char *) lg->user_field[0].data
                             : ascf->dummy_hash;
    in.password = lg->password;
    in.rehash = lg->known;

    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_VERIFY;

    rc = ngx_http_clientauth_hash_run(r, ctx, ascf, &in, &lg->verified);

    if (rc != NGX_OK) {
        /* not a guess: the password was never checked */
        ngx_http_clientauth_limit_undo(r, ascf, &lg->attempt);
    }

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


static ngx_int_t
ngx_http_clientauth_login_session(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    u_char                          *p;
    int64_t                          now;
    ngx_uint_t                       n;
    ngx_str_t                       *perms, *sgen;
    ngx_int_t                        rc;
    ngx_http_clientauth_argv_t       cmds[16];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                            *hash, *skey, *setkey, *ukey;
    u_char                           expires[NGX_INT64_LEN];
    u_char                           nowbuf[NGX_INT64_LEN];
    u_char                           idle[NGX_INT64_LEN];
    u_char                           lifetime[NGX_INT64_LEN];

    static ngx_str_t  never = ngx_string("0");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (lg->known && lg->verified.error) {
        ngx_http_clientauth_login_unusable(r, lg);
    }

    if (!lg->known || lg->verified.matched != 0) {
        return ngx_http_clientauth_login_floor(r, lg);
    }

    if (lg->user_field[1].len != sizeof("active") - 1
        || ngx_strncmp(lg->user_field[1].data, "active", 6) != 0)
    {
        return ngx_http_clientauth_login_locked(r, lg);
    }

    hash = lg->session_hash;

    if (ca_token_generate_owned(lg->token, lg->attempt.account,
                                lg->attempt.user)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: user %s of account %s has an id a "
                      "session token cannot name", lg->attempt.user,
                      lg->attempt.account);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ca_token_hash(lg->token, CA_TOKEN_LEN, hash) != 0
        || ngx_http_clientauth_login_keys(r, ascf, lg) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the generation this session belongs to; none yet: "0" */
    sgen = &lg->user_field[5];
    if (sgen->len == 0) {
        sgen = &never;
    }

    skey = lg->skey;
    setkey = lg->setkey;
    ukey = lg->ukey;

    now = ngx_http_clientauth_now_ms();
    perms = &lg->user_field[2];
    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    /*
     * The user as it is at EXEC: support may have changed it while the
     * password was checked (ngx_http_clientauth_login_settle()).
     */
    ngx_http_clientauth_login_now(&cmds[n++], ukey);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], skey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "a");
    ngx_http_clientauth_argv_add_str(&cmds[n], lg->attempt.account);
    ngx_http_clientauth_argv_add_str(&cmds[n], "u");
    ngx_http_clientauth_argv_add_str(&cmds[n], lg->attempt.user);
    ngx_http_clientauth_argv_add_str(&cmds[n], "p");
    ngx_http_clientauth_argv_add(&cmds[n], perms->data, perms->len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "x");
    p = ngx_sprintf(expires, "%L", now + (int64_t) ascf->session_lifetime);
    ngx_http_clientauth_argv_add(&cmds[n], expires, p - expires);
    ngx_http_clientauth_argv_add_str(&cmds[n], "s");
    p = ngx_sprintf(nowbuf, "%L", now);
    ngx_http_clientauth_argv_add(&cmds[n], nowbuf, p - nowbuf);
    ngx_http_clientauth_argv_add_str(&cmds[n], "g");
    ngx_http_clientauth_argv_add(&cmds[n], sgen->data, sgen->len);

    if (ngx_http_clientauth_login_account_fields(r, lg, &cmds[n++], nowbuf,
                                                 p - nowbuf)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[n], skey);
    p = ngx_sprintf(idle, "%M", ascf->session_idle);
    ngx_http_clientauth_argv_add(&cmds[n++], idle, p - idle);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "SADD");
    ngx_http_clientauth_argv_add_str(&cmds[n], setkey);
    ngx_http_clientauth_argv_add_str(&cmds[n++], hash);

    /*
     * The index of sessions lives as long as its longest session can, and
     * is never shortened: a login under a shorter clientauth_session_lifetime
     * (another server, a reload) must not drop longer sessions from it.  GT
     * leaves a key without a TTL alone, so a new index gets its TTL from NX.
     */
    p = ngx_sprintf(lifetime, "%M", ascf->session_lifetime);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[n], setkey);
    ngx_http_clientauth_argv_add(&cmds[n], lifetime, p - lifetime);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "NX");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[n], setkey);
    ngx_http_clientauth_argv_add(&cmds[n], lifetime, p - lifetime);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "GT");

    rc = ngx_http_clientauth_limit_success(r, ascf, &lg->attempt, &cmds[n]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n += rc;

    if (ascf->login_notice == NGX_HTTP_CLIENTAUTH_NOTICE_NEW_DEVICE) {
        rc = ngx_http_clientauth_login_devices(r, lg, &cmds[n], now);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n += rc;
    }

    if (ngx_http_clientauth_login_noticed(ascf, lg, now)
        && ngx_http_clientauth_login_notice(r, ascf, lg, &cmds[n++]) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_SESSION;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_login_reply,
                                    cmds, n);
}


/* The device the User-Agent names: "Firefox (Linux)" (ca_device.h). */

static size_t
ngx_http_clientauth_login_device(ngx_http_request_t *r, char *buf)
{
    ngx_table_elt_t  *ua;

    ua = r->headers_in.user_agent;

    return ua ? ca_device_name(buf, (char *) ua->value.data, ua->value.len)
              : ca_device_name(buf, "", 0);
}


/*
 * What the self-service area reads of a session, never the access phase:
 * its CSRF token k (random, 256 bits), an opaque id i for the lists of
 * sessions (random: neither the token nor its hash), when it was made (c,
 * ms), the client's address (ip) and device (ua).
 */

static ngx_int_t
ngx_http_clientauth_login_account_fields(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg, ngx_http_clientauth_argv_t *cmd,
    u_char *now, size_t len)
{
    u_char  id[NGX_HTTP_CLIENTAUTH_SESSION_ID_LEN / 2];

    ca_token_generate(lg->csrf);

    randombytes_buf(id, sizeof(id));
    sodium_bin2hex(lg->session_id, sizeof(lg->session_id), id, sizeof(id));

    ngx_http_clientauth_argv_add_str(cmd, "k");
    ngx_http_clientauth_argv_add_str(cmd, lg->csrf);
    ngx_http_clientauth_argv_add_str(cmd, "i");
    ngx_http_clientauth_argv_add_str(cmd, lg->session_id);
    ngx_http_clientauth_argv_add_str(cmd, "c");
    ngx_http_clientauth_argv_add(cmd, now, len);
    ngx_http_clientauth_argv_add_str(cmd, "ip");
    ngx_http_clientauth_argv_add(cmd, r->connection->addr_text.data,
                                 r->connection->addr_text.len);
    ngx_http_clientauth_argv_add_str(cmd, "ua");
    ngx_http_clientauth_argv_add(cmd, lg->device, lg->device_len);

    return NGX_OK;
}


/*
 * A failed login is answered once its hash task has taken at least the
 * failure floor: the costliest verification the cost bounds allow, so that
 * no stored hash (bcrypt, sha512-crypt, another argon2id cost, a corrupt
 * one) nor the lack of an account shows in the time.  The wait is a timer
 * on the connection, as limit_req's delay: no thread is held.
 */

static ngx_int_t
ngx_http_clientauth_login_floor(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg)
{
    ngx_event_t                     *wev;
    ngx_http_clientauth_srv_conf_t  *ascf;

    wev = r->connection->write;

    if (lg->step != NGX_HTTP_CLIENTAUTH_LOGIN_FLOOR) {
        ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
        lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_FLOOR;

        if (lg->verified.elapsed < ascf->failure_floor) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "clientauth: login failure waits %M ms",
                           ascf->failure_floor - lg->verified.elapsed);

            wev->delayed = 1;
            ngx_add_timer(wev, ascf->failure_floor - lg->verified.elapsed);
        }
    }

    if (wev->delayed) {
        r->read_event_handler = ngx_http_test_reading;

        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DONE;
    }

    return ngx_http_clientauth_login_failed(r, lg, "wrong password");
}


/* A hash beyond the cost bounds, or corrupt: support has to look at it. */

static void
ngx_http_clientauth_login_unusable(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg)
{
    char                             why[160];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ca_pwhash_check((char *) lg->user_field[0].data, &ascf->hash_cost,
                        why, sizeof(why))
        == 0)
    {
        ngx_cpystrn((u_char *) why, (u_char *) "not verifiable",
                    sizeof(why));
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "clientauth: user %s of account %s has an unusable "
                  "password hash (%s): the login fails, the password is "
                  "not checked", lg->attempt.user, lg->attempt.account, why);
}


/*
 * clientauth_login_notice on: every login; new_device: a login from a
 * (device, network) pair this user has not logged in from for 90 days.
 */

static ngx_uint_t
ngx_http_clientauth_login_noticed(ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_login_t *lg, int64_t now)
{
    ngx_int_t  seen;

    switch (ascf->login_notice) {

    case NGX_HTTP_CLIENTAUTH_NOTICE_ALWAYS:
        return 1;

    case NGX_HTTP_CLIENTAUTH_NOTICE_NEW_DEVICE:
        seen = lg->device_seen.len
               ? ngx_atoi(lg->device_seen.data, lg->device_seen.len)
               : NGX_ERROR;

        return seen == NGX_ERROR
               || seen < now - NGX_HTTP_CLIENTAUTH_DEVICE_MEMORY;

    default: /* NGX_HTTP_CLIENTAUTH_NOTICE_OFF */
        return 0;
    }
}


/*
 * The pair's last login is now; pairs older than 90 days are forgotten,
 * and the whole set with the user's last login 90 days on.
 */

static ngx_int_t
ngx_http_clientauth_login_devices(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg, ngx_http_clientauth_argv_t *cmds,
    int64_t now)
{
    u_char  *at, *old, *ttl;

    at = ngx_pnalloc(r->pool, 3 * NGX_INT64_LEN);
    if (at == NULL) {
        return NGX_ERROR;
    }

    old = at + NGX_INT64_LEN;
    ttl = old + NGX_INT64_LEN;

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "ZADD");
    ngx_http_clientauth_argv_add_str(&cmds[0], lg->devkey);
    ngx_http_clientauth_argv_add(&cmds[0], at,
                                 ngx_sprintf(at, "%L", now) - at);
    ngx_http_clientauth_argv_add_str(&cmds[0], lg->print);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "ZREMRANGEBYSCORE");
    ngx_http_clientauth_argv_add_str(&cmds[1], lg->devkey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "-inf");
    ngx_http_clientauth_argv_add(&cmds[1], old,
                                 ngx_sprintf(old, "(%L",
                                     now - NGX_HTTP_CLIENTAUTH_DEVICE_MEMORY)
                                 - old);

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[2], lg->devkey);
    ngx_http_clientauth_argv_add(&cmds[2], ttl,
                                 ngx_sprintf(ttl, "%L",
                                     NGX_HTTP_CLIENTAUTH_DEVICE_MEMORY)
                                 - ttl);

    return 3;
}


/* The brand's mailer tells the customer about the login (seeds' notices). */

static ngx_int_t
ngx_http_clientauth_login_notice(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg,
    ngx_http_clientauth_argv_t *cmd)
{
    ngx_http_clientauth_recipient_t  to;

    to.account = lg->attempt.account;
    to.user = lg->attempt.user;
    to.email = lg->user_field[3];
    to.locale = lg->user_field[4];

    if (ngx_http_clientauth_outbox_message(r, ascf, cmd, "login_notice", &to)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_clientauth_argv_add_str(cmd, "address");
    ngx_http_clientauth_argv_add(cmd, r->connection->addr_text.data,
                                 r->connection->addr_text.len);
    ngx_http_clientauth_argv_add_str(cmd, "device");
    ngx_http_clientauth_argv_add(cmd, lg->device, lg->device_len);

    return NGX_OK;
}


/*
 * The session is written.  Support may have changed the user while its
 * password was checked, and the MULTI read the user as it was at EXEC:
 *
 *   the password changed: the one checked is no longer valid;
 *   its sessions were revoked (sgen moved on) or it was locked: this
 *     session, written too late to be among those revoked, goes too.
 *
 * New permissions need nothing: a request reads its user's current ones.
 */

static ngx_int_t
ngx_http_clientauth_login_settle(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    ngx_str_t  *hash, *status, *sgen;

    if (!lg->session_ok) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis did not store the new session");
        return ngx_http_clientauth_send_unavailable(r);
    }

    hash = &lg->now_field[0];
    status = &lg->now_field[1];
    sgen = &lg->now_field[2];

    if (!ngx_http_clientauth_str_eq(hash, &lg->user_field[0])) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: the password of user %s of account %s "
                      "changed during its login", lg->attempt.user,
                      lg->attempt.account);
        ngx_http_clientauth_login_discard(r, lg);
        return ngx_http_clientauth_login_failed(r, lg, "account changed");
    }

    if (status->len != sizeof("active") - 1
        || ngx_strncmp(status->data, "active", 6) != 0)
    {
        ngx_http_clientauth_login_discard(r, lg);
        return ngx_http_clientauth_login_locked(r, lg);
    }

    if (!ngx_http_clientauth_str_eq(sgen, &lg->user_field[5])) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: the sessions of user %s of account %s "
                      "were revoked during its login", lg->attempt.user,
                      lg->attempt.account);
        ngx_http_clientauth_login_discard(r, lg);
        return ngx_http_clientauth_login_failed(r, lg, "account changed");
    }

    if (lg->verified.new_hash.len) {
        lg->tries = 0;
        return ngx_http_clientauth_login_upgrade(r, ctx, lg);
    }

    return ngx_http_clientauth_login_done(r, lg);
}


/*
 * A legacy or outdated hash is upgraded now that the password is known, by
 * a check-and-set on a dedicated connection: WATCH the user, read its hash,
 * and only if it is still the one this login checked, MULTI HSET EXEC, which
 * does nothing if the user changed after the WATCH.  A password support set
 * meanwhile is never overwritten, so nothing ever needs putting back.
 */

static ngx_int_t
ngx_http_clientauth_login_upgrade(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    ngx_int_t                        rc;
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], lg->ukey);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], lg->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "hash");

    ngx_str_null(&lg->stored);
    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADE;

    /* the session is written: a 503 from here on must not leave it */
    ctx->abandon = ngx_http_clientauth_login_abandon;

    rc = ngx_http_clientauth_redis_txn_call(r, ctx, ascf->redis,
                                            ngx_http_clientauth_login_reply,
                                            cmds, 2);
    if (rc == NGX_DECLINED) {
        /* the session stands; the next login upgrades */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: password hash of user %s of account %s "
                      "not upgraded: redis unavailable", lg->attempt.user,
                      lg->attempt.account);
        return ngx_http_clientauth_login_done(r, lg);
    }

    return ngx_http_clientauth_wait(r, rc);
}


static ngx_int_t
ngx_http_clientauth_login_upgrade_write(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    ngx_uint_t                  n;
    ngx_http_clientauth_argv_t  cmds[4];

    if (!ngx_http_clientauth_str_eq(&lg->stored, &lg->user_field[0])) {
        /* support set a password after the session was written */
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: the password of user %s of account %s "
                      "changed during its login", lg->attempt.user,
                      lg->attempt.account);
        ngx_http_clientauth_login_discard(r, lg);
        return ngx_http_clientauth_login_failed(r, lg, "account changed");
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[1], lg->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "hash");
    ngx_http_clientauth_argv_add(&cmds[1], lg->verified.new_hash.data,
                                 lg->verified.new_hash.len);

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "EXEC");

    /* a failover must not bring back the weaker hash */
    n = 3 + ngx_http_clientauth_durable(r, &cmds[3]);

    lg->step = NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADED;
    lg->upgraded = 0;
    lg->aborted = 0;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_login_reply,
                                        cmds, n);
}


static ngx_int_t
ngx_http_clientauth_login_upgraded(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_login_t *lg)
{
    if (lg->aborted) {
        /* the user changed after the WATCH: look at its hash again */
        if (++lg->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_login_upgrade(r, ctx, lg);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: password hash of user %s of account %s "
                      "not upgraded: the user kept changing",
                      lg->attempt.user, lg->attempt.account);
    }

    ngx_http_clientauth_redis_txn_end(ctx);

    if (!lg->upgraded) {
        ngx_str_null(&lg->verified.new_hash);   /* not logged as upgraded */
    }

    return ngx_http_clientauth_login_done(r, lg);
}


/*
 * Locked by support: no session until unlocked.  Only the right password
 * gets here (a wrong one gets the generic 401), and waiting would not help:
 * no Retry-After, one answer for every locked user.
 */

static ngx_int_t
ngx_http_clientauth_login_locked(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: login refused: user %s of account %s is "
                  "locked", lg->attempt.user, lg->attempt.account);

    return ngx_http_clientauth_send_locked(r, NGX_HTTP_FORBIDDEN,
                                           "account_locked");
}


/*
 * Redis failed the upgrade: the session written goes, and the login, which
 * answers 503, gives its place in the brand's window back.  Not its failure:
 * the session's MULTI cleared the count, and a DECR would make it -1.
 */

static void
ngx_http_clientauth_login_abandon(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_login_t  *lg = ctx->flow;

    ngx_http_clientauth_login_discard(r, lg);

    lg->attempt.lockout = 0;
    ngx_http_clientauth_login_unavailable(r, ctx);
}


/* The session nobody will get. */

static void
ngx_http_clientauth_login_discard(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg)
{
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[0], lg->skey);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "SREM");
    ngx_http_clientauth_argv_add_str(&cmds[1], lg->setkey);
    ngx_http_clientauth_argv_add_str(&cmds[1], lg->session_hash);

    (void) ngx_http_clientauth_redis_post(ascf->redis, cmds, 2);
}


static ngx_int_t
ngx_http_clientauth_login_keys(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg)
{
    char  *brand;
    char   key[CA_KEY_MAX];

    brand = (char *) ascf->brand.data;

    if (ca_key_session(key, sizeof(key), brand, lg->attempt.account,
                       lg->session_hash)
        < 0
        || (lg->skey = ngx_http_clientauth_pool_cstr(r, key)) == NULL
        || ca_key_user_sessions(key, sizeof(key), brand, lg->attempt.account,
                                lg->attempt.user) < 0
        || (lg->setkey = ngx_http_clientauth_pool_cstr(r, key)) == NULL
        || ca_key_user(key, sizeof(key), brand, lg->attempt.account,
                       lg->attempt.user) < 0
        || (lg->ukey = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_clientauth_login_now(ngx_http_clientauth_argv_t *cmd, char *ukey)
{
    ngx_http_clientauth_argv_reset(cmd);
    ngx_http_clientauth_argv_add_str(cmd, "HMGET");
    ngx_http_clientauth_argv_add_str(cmd, ukey);
    ngx_http_clientauth_argv_add_str(cmd, "hash");
    ngx_http_clientauth_argv_add_str(cmd, "status");
    ngx_http_clientauth_argv_add_str(cmd, "sgen");
}


/* The HMGET that opens each MULTI, as EXEC returns it. */

static void
ngx_http_clientauth_login_exec_reply(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg, redisReply *first)
{
    ngx_uint_t  i;

    if (first->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i < first->elements && i < NGX_HTTP_CLIENTAUTH_NOW_FIELDS;
         i++)
    {
        (void) ngx_http_clientauth_reply_str(r->pool, first->element[i],
                                             &lg->now_field[i]);
    }
}


/*
 * Later notices go out in the language the customer logs in with.  Written
 * once the login stands (the user exists as checked), not in its MULTI,
 * which could otherwise make a record for a user deleted meanwhile.
 */

static void
ngx_http_clientauth_login_locale(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_login_t *lg)
{
    ngx_str_t                   lang;
    ngx_http_clientauth_argv_t  cmd;

    if (ngx_http_clientauth_customer_lang(r, &lang) != NGX_OK
        || ngx_http_clientauth_str_eq(&lang, &lg->user_field[4]))
    {
        return;
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "HSET");
    ngx_http_clientauth_argv_add_str(&cmd, lg->ukey);
    ngx_http_clientauth_argv_add_str(&cmd, "locale");
    ngx_http_clientauth_argv_add(&cmd, lang.data, lang.len);

    (void) ngx_http_clientauth_redis_post(ascf->redis, &cmd, 1);
}


static ngx_int_t
ngx_http_clientauth_login_done(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg)
{
    ngx_str_t                        token, location;
    ngx_http_clientauth_srv_conf_t  *ascf;

    static ngx_str_t  ok = ngx_string("{\"ok\":true}");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: user %s of account %s logged in%s",
                  lg->attempt.user, lg->attempt.account,
                  lg->verified.new_hash.len ? ", password hash upgraded" : "");

    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_LOGIN_SUCCESS);

    if (lg->verified.new_hash.len) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_LOGIN_REHASHED);
    }

    ngx_http_clientauth_login_locale(r, ascf, lg);

    token.data = (u_char *) lg->token;
    token.len = CA_TOKEN_LEN;

    if (ngx_http_clientauth_set_cookie(r, ascf, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &ok);
    }

    if (lg->next.len && ca_next_is_safe((char *) lg->next.data, lg->next.len))
    {
        location = lg->next;

    } else {
        ngx_str_set(&location, "/");
    }

    return ngx_http_clientauth_send_redirect(r, NGX_HTTP_SEE_OTHER, &location);
}


static void
ngx_http_clientauth_login_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                    i;
    ngx_http_clientauth_login_t  *lg;

    lg = ctx->flow;

    if (reply == NULL) {
        return;
    }

    switch (lg->step) {

    case NGX_HTTP_CLIENTAUTH_LOGIN_PRECHECK:
    case NGX_HTTP_CLIENTAUTH_LOGIN_THROTTLE:
        if (ngx_http_clientauth_limit_reply(r, &lg->attempt, n, reply)
            != NGX_OK)
        {
            ctx->redis_error = 1;
        }

        break;

    case NGX_HTTP_CLIENTAUTH_LOGIN_BAN:
        ngx_http_clientauth_ban_reply(&lg->attempt, n, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_LOGIN_ESCALATE:
        ngx_http_clientauth_escalate_reply(&lg->attempt, n, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_LOGIN_USER:
        if (n == 1) {
            /* ZSCORE: when this device and network last logged in */
            if (ngx_http_clientauth_reply_str(r->pool, reply,
                                              &lg->device_seen)
                == NGX_ERROR)
            {
                ctx->redis_error = 1;
            }

            break;
        }

        if (reply->type != REDIS_REPLY_ARRAY
            || reply->elements != NGX_HTTP_CLIENTAUTH_USER_FIELDS)
        {
            ctx->redis_error = 1;
            break;
        }

        for (i = 0; i < NGX_HTTP_CLIENTAUTH_USER_FIELDS; i++) {
            if (ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                              &lg->user_field[i])
                == NGX_ERROR)
            {
                ctx->redis_error = 1;
            }
        }

        break;

    case NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADE:
        if (n == 1) {
            (void) ngx_http_clientauth_reply_str(r->pool, reply,
                                                 &lg->stored);
        }

        break;

    case NGX_HTTP_CLIENTAUTH_LOGIN_UPGRADED:
        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "clientauth: redis refused a hash upgrade: %s",
                          reply->str);

        } else if (n == 2) {
            /* EXEC: nil if the user changed after the WATCH */
            lg->aborted = (reply->type == REDIS_REPLY_NIL);
            lg->upgraded = (reply->type == REDIS_REPLY_ARRAY
                            && reply->elements == 1
                            && reply->element[0]->type
                               == REDIS_REPLY_INTEGER);
        }

        break;

    default: /* SESSION: MULTI ... EXEC */
        if (n > 0 && reply->type == REDIS_REPLY_ARRAY && reply->elements) {
            ngx_http_clientauth_login_exec_reply(r, lg, reply->element[0]);
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "clientauth: redis refused a session write: %s",
                          reply->str);
            lg->session_ok = 0;
            break;
        }

        if (n > 0 && reply->type == REDIS_REPLY_ARRAY) {
            lg->session_ok = 1;

            for (i = 0; i < reply->elements; i++) {
                if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                                  "clientauth: redis refused a session "
                                  "write: %s", reply->element[i]->str);
                    lg->session_ok = 0;
                }
            }
        }

        break;
    }
}


/*
 * Redis failed the login after it was counted: no wrong password was given
 * (either none was checked, or the right one was), so the failure and the
 * place in the brand's window go back.  Best effort, like every give-back:
 * it is lost with the connection.
 */

static void
ngx_http_clientauth_login_unavailable(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_login_t  *lg = ctx->flow;

    ngx_http_clientauth_limit_undo(r,
        ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
        &lg->attempt);
}


/*
 * Unknown account, wrong password: one answer, byte for byte, after the same
 * hash work.
 */

static ngx_int_t
ngx_http_clientauth_login_failed(ngx_http_request_t *r,
    ngx_http_clientauth_login_t *lg, const char *why)
{
    char  esc[CA_LOGESC_SIZE];

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: login failed for \"%s\": %s",
                  ngx_http_clientauth_log_safe(esc, &lg->identifier),
                  lg->known ? why : "unknown account");

    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_LOGIN_FAILURE);

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_message(r, NGX_HTTP_UNAUTHORIZED,
                   "invalid_credentials", CA_T_LOGIN_TITLE,
                   CA_T_INVALID_CREDENTIALS);
    }

    /* the identifier stays: only the password was wrong, or both */
    return ngx_http_clientauth_page_login(r, NGX_HTTP_UNAUTHORIZED,
                                          CA_T_INVALID_CREDENTIALS,
                                          &lg->identifier, &lg->next);
}

