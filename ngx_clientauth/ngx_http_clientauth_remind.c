
/*
 * Forgotten identifier: "forgot your customer number?".  Any identifier the
 * brand recovers by (clientauth_recovery_identifiers) names the account;
 * its user's primary e-mail address gets an identifier_reminder message in
 * the outbox listing the identifiers that user can log in with.
 *
 * Like the password-reset request, every well-formed request answers 202
 * with the same body after the same Redis round trips, whether it names an
 * account or not and whether the limits allow a message or not: the
 * reset's limiter counts it (per address, per account), under keys of its
 * own.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_limit.h"


typedef enum {
    NGX_HTTP_CLIENTAUTH_REMIND_START = 0,
    NGX_HTTP_CLIENTAUTH_REMIND_PRECHECK,    /* index, address */
    NGX_HTTP_CLIENTAUTH_REMIND_THROTTLE,    /* account */
    NGX_HTTP_CLIENTAUTH_REMIND_USER,        /* the user and its account */
    NGX_HTTP_CLIENTAUTH_REMIND_SENT         /* the message, or a PING */
} ngx_http_clientauth_remind_step_e;


/* user hash fields */
enum {
    NGX_HTTP_CLIENTAUTH_MF_EMAIL = 0,
    NGX_HTTP_CLIENTAUTH_MF_LOCALE,
    NGX_HTTP_CLIENTAUTH_MF_STATUS,
    NGX_HTTP_CLIENTAUTH_MF_ROLE,
    NGX_HTTP_CLIENTAUTH_MF_LAST
};


/* the account's identifiers, which only its owner logs in with */
static const struct {
    const char    *name;
    ca_id_kind_e   kind;
} ngx_http_clientauth_remind_kinds[] = {
    { "customer_number", CA_ID_CUSTOMER_NUMBER },
    { "nic", CA_ID_NIC },
    { "phone", CA_ID_PHONE },
    { "domain", CA_ID_DOMAIN }
};

#define NGX_HTTP_CLIENTAUTH_REMIND_KINDS                                     \
    (sizeof(ngx_http_clientauth_remind_kinds)                                \
     / sizeof(ngx_http_clientauth_remind_kinds[0]))


typedef struct {
    ngx_http_clientauth_remind_step_e  step;
    ca_form_t                          form;
    ngx_str_t                          identifier;
    ngx_uint_t                         refused;
    ngx_str_t                          ref;
    char                               account[21];
    char                               user[21];
    ngx_str_t                          field[NGX_HTTP_CLIENTAUTH_MF_LAST];
    ngx_str_t                          account_field[
                                           NGX_HTTP_CLIENTAUTH_REMIND_KINDS];
    ngx_http_clientauth_attempt_t      attempt;
} ngx_http_clientauth_remind_t;


static ngx_int_t ngx_http_clientauth_remind_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static void ngx_http_clientauth_remind_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);
static ngx_int_t ngx_http_clientauth_remind_ask(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm);
static ngx_int_t ngx_http_clientauth_remind_account(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm);
static ngx_int_t ngx_http_clientauth_remind_lookup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm);
static ngx_int_t ngx_http_clientauth_remind_send(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm);
static ngx_int_t ngx_http_clientauth_remind_list(ngx_http_request_t *r,
    ngx_http_clientauth_remind_t *rm, ngx_http_clientauth_argv_t *cmd);


/* GET: the form; POST identifier: always 202 "if it names an account..." */

ngx_int_t
ngx_http_clientauth_remind_handler(ngx_http_request_t *r)
{
    ngx_http_clientauth_remind_t  *rm;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clientauth_page_remind(r);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_clientauth_not_allowed(r, "GET, HEAD, POST");
    }

    if (!ngx_http_clientauth_same_origin(r)) {
        return ngx_http_clientauth_cross_site(r);
    }

    rm = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_remind_t));
    if (rm == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rm->step = NGX_HTTP_CLIENTAUTH_REMIND_START;

    return ngx_http_clientauth_flow_start(r, ngx_http_clientauth_remind_next,
                                          rm, 1);
}


static ngx_int_t
ngx_http_clientauth_remind_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_remind_t  *rm = ctx->flow;

    switch (rm->step) {

    case NGX_HTTP_CLIENTAUTH_REMIND_START:
        return ngx_http_clientauth_remind_ask(r, ctx, rm);

    case NGX_HTTP_CLIENTAUTH_REMIND_PRECHECK:
        return ngx_http_clientauth_remind_account(r, ctx, rm);

    case NGX_HTTP_CLIENTAUTH_REMIND_THROTTLE:
        return ngx_http_clientauth_remind_lookup(r, ctx, rm);

    case NGX_HTTP_CLIENTAUTH_REMIND_USER:
        return ngx_http_clientauth_remind_send(r, ctx, rm);

    default: /* NGX_HTTP_CLIENTAUTH_REMIND_SENT */
        return ngx_http_clientauth_page_remind_sent(r);
    }
}


/* Step 1: the identifier and the address's window, in one round trip. */

static ngx_int_t
ngx_http_clientauth_remind_ask(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm)
{
    ngx_int_t                    rc, n;
    ngx_http_clientauth_argv_t   cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];

    n = ngx_http_clientauth_attempt_ask(r, &rm->attempt,
                                        NGX_HTTP_CLIENTAUTH_ATTEMPT_REMIND,
                                        &rm->form, &rm->identifier, cmds, &rc);
    if (n == NGX_DECLINED) {
        return rc;
    }

    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rm->step = NGX_HTTP_CLIENTAUTH_REMIND_PRECHECK;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_remind_reply,
                                    cmds, n);
}


/* Step 2: counted against the account named, or the identifier itself. */

static ngx_int_t
ngx_http_clientauth_remind_account(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm)
{
    ngx_int_t                    n;
    ngx_http_clientauth_argv_t   cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];

    n = ngx_http_clientauth_attempt_counted(r, &rm->attempt, cmds,
                                            &rm->refused, &rm->ref,
                                            rm->account, rm->user);
    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rm->step = NGX_HTTP_CLIENTAUTH_REMIND_THROTTLE;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_remind_reply,
                                    cmds, n);
}


/*
 * Step 3: the user and its account.  Unknown and rate-limited requests read
 * a user and an account that cannot exist, at the same cost.
 */

static ngx_int_t
ngx_http_clientauth_remind_lookup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm)
{
    char                            *account, *user;
    time_t                           retry;
    ngx_uint_t                       k;
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             ukey[CA_KEY_MAX], akey[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    account = "0";
    user = "0";

    if (rm->refused
        || ngx_http_clientauth_limit_verdict(r, ascf, &rm->attempt, &retry)
           != NGX_OK)
    {
        ngx_str_null(&rm->ref);

    } else if (rm->ref.len) {
        account = rm->account;
        user = rm->user;
    }

    if (ca_key_user(ukey, sizeof(ukey), (char *) ascf->brand.data, account,
                    user) < 0
        || ca_key_account(akey, sizeof(akey), (char *) ascf->brand.data,
                          account) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[0], ukey);
    ngx_http_clientauth_argv_add_str(&cmds[0], "email");
    ngx_http_clientauth_argv_add_str(&cmds[0], "locale");
    ngx_http_clientauth_argv_add_str(&cmds[0], "status");
    ngx_http_clientauth_argv_add_str(&cmds[0], "role");

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], akey);

    for (k = 0; k < NGX_HTTP_CLIENTAUTH_REMIND_KINDS; k++) {
        ngx_http_clientauth_argv_add_str(&cmds[1],
                                     ngx_http_clientauth_remind_kinds[k].name);
    }

    rm->step = NGX_HTTP_CLIENTAUTH_REMIND_USER;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_remind_reply,
                                    cmds, 2);
}


/*
 * Step 4: the message to an active user's address, or the round trip it
 * would have cost.  A locked user gets no message: support unlocks it.
 */

static ngx_int_t
ngx_http_clientauth_remind_send(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_remind_t *rm)
{
    ngx_str_t                        *status;
    ngx_http_clientauth_argv_t        cmd;
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_recipient_t   to;
    char                              esc[CA_LOGESC_SIZE];

    static ngx_str_t  active = ngx_string("active");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    status = &rm->field[NGX_HTTP_CLIENTAUTH_MF_STATUS];
    rm->step = NGX_HTTP_CLIENTAUTH_REMIND_SENT;

    if (rm->ref.len == 0
        || rm->field[NGX_HTTP_CLIENTAUTH_MF_EMAIL].len == 0
        || !ngx_http_clientauth_str_eq(status, &active))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: no identifier reminder sent for \"%s\"",
                      ngx_http_clientauth_log_safe(esc, &rm->identifier));

        ngx_http_clientauth_argv_reset(&cmd);
        ngx_http_clientauth_argv_add_str(&cmd, "PING");

        return ngx_http_clientauth_call(r, ctx,
                                        ngx_http_clientauth_remind_reply,
                                        &cmd, 1);
    }

    to.account = rm->account;
    to.user = rm->user;
    to.email = rm->field[NGX_HTTP_CLIENTAUTH_MF_EMAIL];
    to.locale = rm->field[NGX_HTTP_CLIENTAUTH_MF_LOCALE];

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmd,
                                           "identifier_reminder", &to)
        != NGX_OK
        || ngx_http_clientauth_remind_list(r, rm, &cmd) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: identifier reminder sent to user %s of "
                  "account %s", rm->user, rm->account);

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_remind_reply,
                                    &cmd, 1);
}


/*
 * The identifiers the user logs in with, as the brand accepts them now:
 * "identifiers" lists their kinds (comma-separated, login page's order),
 * and a field named after each kind holds its value.  An e-mail address
 * names its own user; the account's other identifiers name its owner.
 */

static ngx_int_t
ngx_http_clientauth_remind_list(ngx_http_request_t *r,
    ngx_http_clientauth_remind_t *rm, ngx_http_clientauth_argv_t *cmd)
{
    u_char                          *list, *p;
    ngx_uint_t                       k, owner;
    ngx_http_clientauth_srv_conf_t  *ascf;

    static ngx_str_t  owner_role = ngx_string("owner");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    owner = ngx_http_clientauth_str_eq(&rm->field[NGX_HTTP_CLIENTAUTH_MF_ROLE],
                                       &owner_role);

    list = ngx_pnalloc(r->pool, sizeof("customer_number,nic,phone,domain,"
                                       "email"));
    if (list == NULL) {
        return NGX_ERROR;
    }

    p = list;

    for (k = 0; owner && k < NGX_HTTP_CLIENTAUTH_REMIND_KINDS; k++) {
        if (!(ascf->identifiers & ngx_http_clientauth_remind_kinds[k].kind)
            || rm->account_field[k].len == 0)
        {
            continue;
        }

        p = ngx_sprintf(p, "%s%s", p == list ? "" : ",",
                        ngx_http_clientauth_remind_kinds[k].name);
    }

    if (ascf->identifiers & CA_ID_EMAIL) {
        p = ngx_sprintf(p, "%s%s", p == list ? "" : ",", "email");
    }

    ngx_http_clientauth_argv_add_str(cmd, "identifiers");
    ngx_http_clientauth_argv_add(cmd, list, p - list);

    for (k = 0; owner && k < NGX_HTTP_CLIENTAUTH_REMIND_KINDS; k++) {
        if ((ascf->identifiers & ngx_http_clientauth_remind_kinds[k].kind)
            && rm->account_field[k].len)
        {
            ngx_http_clientauth_argv_add_str(cmd,
                                     ngx_http_clientauth_remind_kinds[k].name);
            ngx_http_clientauth_argv_add(cmd, rm->account_field[k].data,
                                         rm->account_field[k].len);
        }
    }

    if (ascf->identifiers & CA_ID_EMAIL) {
        ngx_http_clientauth_argv_add_str(cmd, "email");
        ngx_http_clientauth_argv_add(cmd,
                                  rm->field[NGX_HTTP_CLIENTAUTH_MF_EMAIL].data,
                                  rm->field[NGX_HTTP_CLIENTAUTH_MF_EMAIL].len);
    }

    return NGX_OK;
}


static void
ngx_http_clientauth_remind_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                     i;
    ngx_http_clientauth_remind_t  *rm;

    rm = ctx->flow;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused a reminder command: %s",
                      reply->str);
        ctx->redis_error = 1;
        return;
    }

    switch (rm->step) {

    case NGX_HTTP_CLIENTAUTH_REMIND_PRECHECK:
    case NGX_HTTP_CLIENTAUTH_REMIND_THROTTLE:
        if (ngx_http_clientauth_limit_reply(r, &rm->attempt, n, reply)
            != NGX_OK)
        {
            ctx->redis_error = 1;
        }

        break;

    case NGX_HTTP_CLIENTAUTH_REMIND_USER:
        for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
             i++)
        {
            if (n == 0 && i < NGX_HTTP_CLIENTAUTH_MF_LAST) {
                (void) ngx_http_clientauth_reply_str(r->pool,
                                                     reply->element[i],
                                                     &rm->field[i]);

            } else if (n == 1 && i < NGX_HTTP_CLIENTAUTH_REMIND_KINDS) {
                (void) ngx_http_clientauth_reply_str(r->pool,
                                                     reply->element[i],
                                                     &rm->account_field[i]);
            }
        }

        break;

    default: /* SENT: the XADD or the PING */
        break;
    }
}
