
/*
 * Primary e-mail change (the self-service area, OVH's flow made safer).
 *
 * POST email (email, current_password): the current password is checked in
 * the thread pool, counted by the lockout like a login; then one MULTI
 * stores the pending change (ca_key_user_email_change) and queues two
 * messages: email_change_code to the current address (an 8-digit code,
 * kept hashed, and a "this was not me" link that cancels the change) and
 * email_verify to the new one (a single-use link).  A new request
 * replaces the pending one.
 *
 * The change applies once the code is confirmed (POST email/confirm) and
 * the link opened (GET email/verify), in either order; with
 * clientauth_email_change_grace, also once the link is opened and the grace
 * time has passed without the current address cancelling, which is noticed
 * the next time the user (or the link) touches it: the change's page, the
 * code, the link.  5 wrong codes cancel the change.
 *
 * Every step that reads the change and writes it is a check-and-set on a
 * dedicated connection: WATCH the change and the user, read both, decide in
 * C (ca_email_change_state), then MULTI ... EXEC, again from the start when
 * EXEC says a watched key changed.  Applying also WATCHes the new address's
 * index key, so that a registration of that address racing the change
 * makes one of them lose cleanly; its MULTI moves the login index (old
 * e-mail key deleted, new one set), the user's (and for the owner the
 * account's) address, kills any outstanding reset link, deletes the
 * change and queues email_changed to both addresses.
 */


#include <sodium.h>

#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_hash.h"
#include "ngx_http_clientauth_limit.h"
#include "ngx_http_clientauth_page.h"
#include "ngx_http_clientauth_account.h"
#include "ngx_http_clientauth_email.h"

#include "ca_code.h"


/* a change with a grace time waits this long past it to be touched */
#define NGX_HTTP_CLIENTAUTH_EMAIL_KEEP  ((ngx_msec_t) 30 * 24 * 3600 * 1000)


typedef enum {
    NGX_HTTP_CLIENTAUTH_EMAIL_ASKED = 0,    /* request: user, new index */
    NGX_HTTP_CLIENTAUTH_EMAIL_THROTTLED,    /* request: the lockout's */
    NGX_HTTP_CLIENTAUTH_EMAIL_BANNED,       /* request: a ban elected */
    NGX_HTTP_CLIENTAUTH_EMAIL_ESCALATED,    /* request: its length set */
    NGX_HTTP_CLIENTAUTH_EMAIL_HASHED,       /* request: password checked */
    NGX_HTTP_CLIENTAUTH_EMAIL_STORED,       /* request: MULTI ... EXEC */
    NGX_HTTP_CLIENTAUTH_EMAIL_PEEKED,       /* the area's page: is one due? */
    NGX_HTTP_CLIENTAUTH_EMAIL_READ,         /* WATCH, the change, the user */
    NGX_HTTP_CLIENTAUTH_EMAIL_INDEXED,      /* WATCH, the new address */
    NGX_HTTP_CLIENTAUTH_EMAIL_WRITTEN       /* MULTI ... EXEC */
} ngx_http_clientauth_email_step_e;


/* What the request does with the pending change. */
typedef enum {
    NGX_HTTP_CLIENTAUTH_EMAIL_STATUS = 0,   /* GET email: show it */
    NGX_HTTP_CLIENTAUTH_EMAIL_CONFIRM,      /* the code */
    NGX_HTTP_CLIENTAUTH_EMAIL_VERIFY,       /* the new address's link */
    NGX_HTTP_CLIENTAUTH_EMAIL_GIVE_UP,      /* the user, logged in */
    NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_LINK,  /* the current address's link */
    NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE,  /* GET of that link: a form */
    NGX_HTTP_CLIENTAUTH_EMAIL_VIEW          /* the area's page */
} ngx_http_clientauth_email_op_e;


/* How it ended, once written. */
typedef enum {
    NGX_HTTP_CLIENTAUTH_EMAIL_SHOWN = 0,
    NGX_HTTP_CLIENTAUTH_EMAIL_NONE,         /* none pending, or dead */
    NGX_HTTP_CLIENTAUTH_EMAIL_CONFIRMED,
    NGX_HTTP_CLIENTAUTH_EMAIL_VERIFIED,
    NGX_HTTP_CLIENTAUTH_EMAIL_WRONG_CODE,
    NGX_HTTP_CLIENTAUTH_EMAIL_CODE_DEAD,
    NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK,
    NGX_HTTP_CLIENTAUTH_EMAIL_TAKEN,
    NGX_HTTP_CLIENTAUTH_EMAIL_CHANGED,
    NGX_HTTP_CLIENTAUTH_EMAIL_CANCELLED
} ngx_http_clientauth_email_outcome_e;


/* the pending change's fields, as HMGET reads them */
enum {
    NGX_HTTP_CLIENTAUTH_EC_EMAIL = 0,
    NGX_HTTP_CLIENTAUTH_EC_SALT,
    NGX_HTTP_CLIENTAUTH_EC_CODE,
    NGX_HTTP_CLIENTAUTH_EC_TRIES,
    NGX_HTTP_CLIENTAUTH_EC_EXPIRES,
    NGX_HTTP_CLIENTAUTH_EC_VERIFY,
    NGX_HTTP_CLIENTAUTH_EC_VERIFIED,
    NGX_HTTP_CLIENTAUTH_EC_CONFIRMED,
    NGX_HTTP_CLIENTAUTH_EC_CANCEL,
    NGX_HTTP_CLIENTAUTH_EC_DUE,
    NGX_HTTP_CLIENTAUTH_EC_LAST
};

static const char  *ngx_http_clientauth_email_fields[] = {
    "email", "salt", "code", "tries", "expires", "verify", "verified",
    "confirmed", "cancel", "due"
};

/* the user's */
enum {
    NGX_HTTP_CLIENTAUTH_EU_EMAIL = 0,
    NGX_HTTP_CLIENTAUTH_EU_STATUS,
    NGX_HTTP_CLIENTAUTH_EU_RESET,
    NGX_HTTP_CLIENTAUTH_EU_LOCALE,
    NGX_HTTP_CLIENTAUTH_EU_ROLE,
    NGX_HTTP_CLIENTAUTH_EU_HASH,
    NGX_HTTP_CLIENTAUTH_EU_LAST
};


typedef struct {
    ngx_http_clientauth_email_step_e     step;
    ngx_http_clientauth_email_op_e       op;
    ngx_http_clientauth_email_outcome_e  outcome;

    char                         account[21];
    char                         user[21];
    char                        *ckey;         /* the pending change */
    char                        *ukey;         /* the user */
    char                        *ikey;         /* the new address's index */
    char                        *okey;         /* the old one's */
    ngx_http_clientauth_account_t  *acc;

    ngx_str_t                    new_email;    /* canonical */
    ngx_str_t                    password;
    ngx_str_t                    code;
    ngx_str_t                    token;        /* verify or cancel link */
    char                         token_hash[CA_TOKEN_HASH_LEN + 1];

    ngx_str_t                    rec[NGX_HTTP_CLIENTAUTH_EC_LAST];
    ngx_str_t                    usr[NGX_HTTP_CLIENTAUTH_EU_LAST];
    ngx_str_t                    holder;       /* the new index's value */
    ngx_str_t                    old_holder;   /* the old one's */
    ca_email_change_t            ec;

    ngx_uint_t                   tries;        /* EXEC found a change */
    ngx_uint_t                   aborted;
    ngx_uint_t                   applied;
    ngx_uint_t                   lockout;      /* the request counted */
    ngx_http_clientauth_attempt_t     attempt;
    ngx_http_clientauth_hash_out_t    verified;
} ngx_http_clientauth_email_t;


static ngx_http_clientauth_email_t *ngx_http_clientauth_email_init(
    ngx_http_request_t *r, ngx_http_clientauth_account_t *acc,
    ngx_http_clientauth_email_op_e op);
static ngx_int_t ngx_http_clientauth_email_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static void ngx_http_clientauth_email_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);

static ngx_int_t ngx_http_clientauth_email_check(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_hashed(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_issue(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_requested(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es);

static ngx_int_t ngx_http_clientauth_email_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_decide(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_try_code(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_watch_index(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_write(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es,
    ngx_http_clientauth_email_outcome_e outcome, const char *field,
    const char *value);
static ngx_int_t ngx_http_clientauth_email_written(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_answer(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_status_json(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_page(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es, ngx_uint_t status, ca_text_e error,
    ngx_str_t *arg);
static ngx_int_t ngx_http_clientauth_email_refused(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es, ngx_uint_t status, const char *code,
    ca_text_e text, ngx_str_t *arg);
static ngx_int_t ngx_http_clientauth_email_link(ngx_http_request_t *r,
    ngx_str_t *base, const char *token, ngx_str_t *url);
static int64_t ngx_http_clientauth_email_int(ngx_str_t *s);
static ngx_int_t ngx_http_clientauth_email_keys(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es, const char *account, const char *user);
static ngx_int_t ngx_http_clientauth_email_count(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_banned(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static void ngx_http_clientauth_email_abandon(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_email_peeked(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es);
static void ngx_http_clientauth_email_state(ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_verify_password(
    ngx_http_request_t *r, ngx_http_clientauth_ctx_t *ctx,
    ngx_http_clientauth_email_t *es);
static ngx_int_t ngx_http_clientauth_email_cancel_start(
    ngx_http_request_t *r, ngx_http_clientauth_ctx_t *ctx);
static ngx_uint_t ngx_http_clientauth_email_token_is(
    ngx_http_clientauth_email_t *es, ngx_uint_t field);
static ngx_int_t ngx_http_clientauth_email_fields_of(ngx_http_request_t *r,
    redisReply *reply, ngx_str_t *out, ngx_uint_t n);
static ngx_int_t ngx_http_clientauth_email_text(ngx_http_request_t *r,
    const char *text, ngx_str_t *arg, ngx_str_t *out);
static ngx_uint_t ngx_http_clientauth_email_pending(
    ngx_http_clientauth_email_t *es);


/* ------------------------------------------------------------ routes */

/* POST email: email, current_password. */

ngx_int_t
ngx_http_clientauth_email_request(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_str_t                        typed;
    ca_ident_opts_t                  opts;
    ngx_http_clientauth_email_t     *es;
    ngx_http_clientauth_srv_conf_t  *ascf;
    ngx_http_clientauth_account_t   *acc = ctx->flow;
    char                             canon[CA_IDENT_MAX];
    char                             current[CA_IDENT_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    es = ngx_http_clientauth_email_init(r, acc,
                                        NGX_HTTP_CLIENTAUTH_EMAIL_STATUS);
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_form_value(&acc->form, "email", &typed);
    ngx_http_clientauth_form_value(&acc->form, "current_password",
                                   &es->password);

    if (typed.len == 0 || es->password.len == 0) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_email_refused(r, es, NGX_HTTP_BAD_REQUEST,
                   "missing_field", CA_T_MISSING_EMAIL, NULL);
    }

    opts.accepted = CA_ID_EMAIL;
    opts.phone_country = NULL;

    if (ca_ident_normalise(&opts, (char *) typed.data, typed.len, canon)
        != CA_ID_EMAIL)
    {
        return ngx_http_clientauth_email_refused(r, es,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, "invalid_email",
                   CA_T_INVALID_EMAIL, NULL);
    }

    if (es->password.len > ascf->password_max) {
        /* never hashed: no password of the user is that long */
        return ngx_http_clientauth_email_refused(r, es, NGX_HTTP_FORBIDDEN,
                   "wrong_password", CA_T_WRONG_PASSWORD, NULL);
    }

    if (ca_ident_normalise(&opts, (char *) acc->email.data, acc->email.len,
                           current)
        == CA_ID_EMAIL
        && ngx_strcmp(current, canon) == 0)
    {
        return ngx_http_clientauth_email_refused(r, es,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, "same_email",
                   CA_T_SAME_EMAIL, NULL);
    }

    if (ngx_http_clientauth_reply_copy(r->pool, canon, ngx_strlen(canon),
                                       &es->new_email)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_email_check(r, ctx, es);
}


/* GET email: the pending change (and it applies, if it is due). */

ngx_int_t
ngx_http_clientauth_email_status(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_email_t  *es;

    es = ngx_http_clientauth_email_init(r, ctx->flow,
                                        NGX_HTTP_CLIENTAUTH_EMAIL_STATUS);
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_email_watch(r, ctx, es);
}


/*
 * GET the area's page: a change whose grace time has passed applies as the
 * customer looks at the area (one HMGET more, on the shared connection;
 * the check-and-set only when one is due), then the page as it was.
 */

ngx_int_t
ngx_http_clientauth_email_view(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_uint_t                    i;
    ngx_http_clientauth_argv_t    cmd;
    ngx_http_clientauth_email_t  *es;

    es = ngx_http_clientauth_email_init(r, ctx->flow,
                                        NGX_HTTP_CLIENTAUTH_EMAIL_VIEW);
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "HMGET");
    ngx_http_clientauth_argv_add_str(&cmd, es->ckey);

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_EC_LAST; i++) {
        ngx_http_clientauth_argv_add_str(&cmd,
                                         ngx_http_clientauth_email_fields[i]);
    }

    ctx->next = ngx_http_clientauth_email_next;
    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_PEEKED;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_email_reply,
                                    &cmd, 1);
}


static ngx_int_t
ngx_http_clientauth_email_peeked(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    ngx_http_clientauth_email_state(es);

    if (ngx_http_clientauth_email_pending(es)
        && ca_email_change_state(&es->ec, ngx_http_clientauth_now_ms())
           == CA_EC_APPLY)
    {
        return ngx_http_clientauth_email_watch(r, ctx, es);
    }

    return ngx_http_clientauth_account_view(r, ctx);
}


/* POST email/confirm: code. */

ngx_int_t
ngx_http_clientauth_email_confirm(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    char                            hash[CA_CODE_HASH_LEN + 1];
    ngx_http_clientauth_email_t    *es;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    static const char  salt[] = "00000000000000000000000000000000";

    es = ngx_http_clientauth_email_init(r, acc,
                                        NGX_HTTP_CLIENTAUTH_EMAIL_CONFIRM);
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_form_value(&acc->form, "code", &es->code);

    /* not 8 digits: refused before it could count as a try */
    if (ca_code_hash(salt, sizeof(salt) - 1, (char *) es->code.data,
                     es->code.len, hash)
        != 0)
    {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_email_refused(r, es, NGX_HTTP_BAD_REQUEST,
                   "missing_field", CA_T_MISSING_CODE, NULL);
    }

    return ngx_http_clientauth_email_watch(r, ctx, es);
}


/* GET email/verify?token=T: the link sent to the new address. */

ngx_int_t
ngx_http_clientauth_email_verify(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_email_t  *es;

    es = ngx_http_clientauth_email_init(r, ctx->flow,
                                        NGX_HTTP_CLIENTAUTH_EMAIL_VERIFY);
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clientauth_query_arg(r, "token", &es->token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ca_token_hash((char *) es->token.data, es->token.len,
                      es->token_hash)
        != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: malformed e-mail verification link");
        es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK;
        return ngx_http_clientauth_email_answer(r, es);
    }

    return ngx_http_clientauth_email_watch(r, ctx, es);
}


/* POST email/cancel: the user, logged in, gives the change up. */

ngx_int_t
ngx_http_clientauth_email_cancel(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_email_t  *es;

    es = ngx_http_clientauth_email_init(r, ctx->flow,
                                        NGX_HTTP_CLIENTAUTH_EMAIL_GIVE_UP);
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_email_watch(r, ctx, es);
}


/*
 * clientauth_email_cancel (= /auth/email/cancel): the "this was not me"
 * link of email_change_code, for whoever reads the current address, with
 * or without a session.  GET ?token= shows a button (a mail scanner that
 * opens links cancels nothing); POST token cancels.  The token names its
 * user (ca_token_generate_owned): no index is needed.
 */

ngx_int_t
ngx_http_clientauth_email_cancel_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_clientauth_email_op_e  op;
    ngx_http_clientauth_email_t    *es;
    ngx_http_clientauth_account_t  *acc;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        return ngx_http_clientauth_not_allowed(r, "GET, HEAD, POST");
    }

    if (r->method == NGX_HTTP_POST && !ngx_http_clientauth_same_origin(r)) {
        return ngx_http_clientauth_cross_site(r);
    }

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    acc = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_account_t));
    if (acc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op = (r->method == NGX_HTTP_POST) ? NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_LINK
                                      : NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE;

    es = ngx_http_clientauth_email_init(r, acc, op);
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_flow_start(r,
               ngx_http_clientauth_email_cancel_start, acc,
               r->method == NGX_HTTP_POST);
}


static ngx_int_t
ngx_http_clientauth_email_cancel_start(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_clientauth_email_t    *es;
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    char                            account[CA_TOKEN_ID_LEN];
    char                            user[CA_TOKEN_ID_LEN];

    es = acc->data;

    if (r->method == NGX_HTTP_POST) {
        rc = ngx_http_clientauth_parse_form(r, &acc->form);
        if (rc != NGX_OK) {
            ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
            return ngx_http_clientauth_send_message(r, rc,
                       "malformed_request", CA_T_BAD_TITLE,
                       CA_T_BAD_REQUEST);
        }

        ngx_http_clientauth_form_value(&acc->form, "token", &es->token);

    } else if (ngx_http_clientauth_query_arg(r, "token", &es->token)
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ca_token_session((char *) es->token.data, es->token.len,
                         es->token_hash, account, user)
        != 0
        || ngx_http_clientauth_email_keys(r, es, account, user) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: malformed e-mail change cancel link");
        es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK;
        return ngx_http_clientauth_email_answer(r, es);
    }

    return ngx_http_clientauth_email_watch(r, ctx, es);
}


/* ------------------------------------------------------------ state */

static ngx_http_clientauth_email_t *
ngx_http_clientauth_email_init(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_email_op_e op)
{
    ngx_http_clientauth_email_t  *es;

    es = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_email_t));
    if (es == NULL) {
        return NULL;
    }

    es->op = op;
    es->acc = acc;
    acc->data = es;

    if (acc->account.len
        && ngx_http_clientauth_email_keys(r, es, (char *) acc->account.data,
                                          (char *) acc->user.data)
           != NGX_OK)
    {
        return NULL;
    }

    return es;
}


/* The user's keys, once its ids are known (the session, or a link). */

static ngx_int_t
ngx_http_clientauth_email_keys(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es, const char *account, const char *user)
{
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (!ca_id_is_valid(account, ngx_strlen(account))
        || !ca_id_is_valid(user, ngx_strlen(user)))
    {
        return NGX_DECLINED;
    }

    (void) ngx_cpystrn((u_char *) es->account, (u_char *) account,
                       sizeof(es->account));
    (void) ngx_cpystrn((u_char *) es->user, (u_char *) user,
                       sizeof(es->user));

    if (ca_key_user_email_change(key, sizeof(key), (char *) ascf->brand.data,
                                 account, user)
        < 0)
    {
        return NGX_ERROR;
    }

    es->ckey = ngx_http_clientauth_pool_cstr(r, key);

    if (es->ckey == NULL
        || ca_key_user(key, sizeof(key), (char *) ascf->brand.data, account,
                       user)
           < 0)
    {
        return NGX_ERROR;
    }

    es->ukey = ngx_http_clientauth_pool_cstr(r, key);

    return es->ukey ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_clientauth_email_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_email_t    *es;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    es = acc->data;

    switch (es->step) {

    case NGX_HTTP_CLIENTAUTH_EMAIL_ASKED:
        return ngx_http_clientauth_email_count(r, ctx, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_THROTTLED:
        return ngx_http_clientauth_email_verify_password(r, ctx, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_BANNED:
        return ngx_http_clientauth_email_banned(r, ctx, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_ESCALATED:
        return ngx_http_clientauth_attempt_escalated(r, &es->attempt);

    case NGX_HTTP_CLIENTAUTH_EMAIL_HASHED:
        return ngx_http_clientauth_email_hashed(r, ctx, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_STORED:
        return ngx_http_clientauth_email_requested(r, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_PEEKED:
        return ngx_http_clientauth_email_peeked(r, ctx, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_READ:
        return ngx_http_clientauth_email_decide(r, ctx, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_INDEXED:
        return ngx_http_clientauth_email_apply(r, ctx, es);

    default: /* NGX_HTTP_CLIENTAUTH_EMAIL_WRITTEN */
        return ngx_http_clientauth_email_written(r, ctx, es);
    }
}


/* ------------------------------------------------------------ request */

/*
 * Request, step 1: the user (its hash, status, address) and who holds the
 * new address, in one round trip.
 */

static ngx_int_t
ngx_http_clientauth_email_check(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ca_key_ident(key, sizeof(key), (char *) ascf->brand.data, "email",
                     (char *) es->new_email.data)
        < 0)
    {
        return ngx_http_clientauth_email_refused(r, es,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, "invalid_email",
                   CA_T_INVALID_EMAIL, NULL);
    }

    es->ikey = ngx_http_clientauth_pool_cstr(r, key);
    if (es->ikey == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[0], es->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[0], "email");
    ngx_http_clientauth_argv_add_str(&cmds[0], "status");
    ngx_http_clientauth_argv_add_str(&cmds[0], "reset");
    ngx_http_clientauth_argv_add_str(&cmds[0], "locale");
    ngx_http_clientauth_argv_add_str(&cmds[0], "role");
    ngx_http_clientauth_argv_add_str(&cmds[0], "hash");

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "GET");
    ngx_http_clientauth_argv_add_str(&cmds[1], es->ikey);

    ctx->next = ngx_http_clientauth_email_next;
    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_ASKED;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_email_reply,
                                    cmds, 2);
}


/*
 * Request, step 2: the password check is counted like a login of the
 * account (the lockout, the account's and the brand's windows), before any
 * hashing, as the password change does (ngx_http_clientauth_password.c).
 */

static ngx_int_t
ngx_http_clientauth_email_count(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    ngx_int_t                       n;
    ngx_str_t                      *status;
    ngx_http_clientauth_argv_t      cmds[NGX_HTTP_CLIENTAUTH_ATTEMPT_CMDS];

    static ngx_str_t  active = ngx_string("active");

    status = &es->usr[NGX_HTTP_CLIENTAUTH_EU_STATUS];

    if (!ngx_http_clientauth_str_eq(status, &active)) {
        /* locked by support since the session was checked */
        return ngx_http_clientauth_send_locked(r, NGX_HTTP_FORBIDDEN,
                                               "account_locked");
    }

    n = ngx_http_clientauth_attempt_known(r, &es->attempt, &es->acc->account,
                                          &es->acc->user, cmds);
    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_THROTTLED;

    if (n == 0) {
        return ngx_http_clientauth_email_verify_password(r, ctx, es);
    }

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_email_reply,
                                    cmds, n);
}


static ngx_int_t
ngx_http_clientauth_email_banned(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    ngx_int_t                    n, rc;
    ngx_http_clientauth_argv_t   cmds[2];

    n = ngx_http_clientauth_attempt_banned(r, &es->attempt, cmds, &rc);
    if (n == NGX_DECLINED) {
        return rc;
    }

    if (n == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_ESCALATED;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_email_reply,
                                    cmds, n);
}


/* Redis failed the request after the attempt was counted: give it back. */

static void
ngx_http_clientauth_email_abandon(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_email_t    *es = acc->data;

    ngx_http_clientauth_limit_undo(r,
        ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
        &es->attempt);
}


/* Request, step 3: the current password, in the thread pool. */

static ngx_int_t
ngx_http_clientauth_email_verify_password(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    time_t                           retry;
    ngx_int_t                        rc;
    ngx_http_clientauth_argv_t       cmds[2];
    ngx_http_clientauth_hash_in_t    in;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    rc = ngx_http_clientauth_limit_verdict(r, ascf, &es->attempt, &retry);

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_attempt_wait(r, retry);
    }

    if (rc == NGX_AGAIN) {
        /* one failure too many: the account is locked out, as by logins */
        rc = ngx_http_clientauth_ban_commands(r, ascf, &es->attempt, cmds);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        es->step = NGX_HTTP_CLIENTAUTH_EMAIL_BANNED;

        return ngx_http_clientauth_call(r, ctx,
                                        ngx_http_clientauth_email_reply,
                                        cmds, rc);
    }

    /* counted from here on: a Redis failure gives the attempt back */
    ctx->abandon = ngx_http_clientauth_email_abandon;

    ngx_memzero(&in, sizeof(ngx_http_clientauth_hash_in_t));
    /* no hash (an invited user who never set one): nothing matches */
    in.stored[in.nstored++] = es->usr[NGX_HTTP_CLIENTAUTH_EU_HASH].len
                 ? (char *) es->usr[NGX_HTTP_CLIENTAUTH_EU_HASH].data
                 : ascf->dummy_hash;
    in.password = es->password;

    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_HASHED;

    rc = ngx_http_clientauth_hash_run(r, ctx, ascf, &in, &es->verified);

    if (rc != NGX_OK) {
        /* not a guess: the password was never checked */
        ngx_http_clientauth_limit_undo(r, ascf, &es->attempt);
        ctx->abandon = NULL;
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


/*
 * Request, step 3: a wrong password changes nothing; an address another
 * user holds is refused with one answer, whoever holds it, and only to
 * someone who knows the password.
 */

static ngx_int_t
ngx_http_clientauth_email_hashed(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    ctx->abandon = NULL;

    if (es->usr[NGX_HTTP_CLIENTAUTH_EU_HASH].len == 0
        || es->verified.error || es->verified.matched != 0)
    {
        /* a failed login of the account: the failure stays counted */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: e-mail change of user %s of account %s "
                      "refused: wrong current password%s", es->user,
                      es->account,
                      es->verified.error ? " (unusable stored hash)" : "");
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_LOGIN_FAILURE);
        return ngx_http_clientauth_email_refused(r, es, NGX_HTTP_FORBIDDEN,
                   "wrong_password", CA_T_WRONG_PASSWORD, NULL);
    }

    /* the right password clears the failure count, as a login does */
    if (ngx_http_clientauth_limit_success(r, ascf, &es->attempt, &cmd) == 1)
    {
        (void) ngx_http_clientauth_redis_post(ascf->redis, &cmd, 1);
    }

    if (es->holder.len) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: e-mail change of user %s of account %s "
                      "refused: the new address is in use", es->user,
                      es->account);
        es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_TAKEN;
        return ngx_http_clientauth_email_answer(r, es);
    }

    return ngx_http_clientauth_email_issue(r, ctx, es);
}


/*
 * Request, step 4: the pending change, replacing any earlier one, and its
 * two messages, in one MULTI.  The code and the links are only ever in the
 * messages; the change keeps their hashes.
 */

static ngx_int_t
ngx_http_clientauth_email_issue(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    u_char                           *p, *num;
    int64_t                           now;
    ngx_int_t                         rc;
    ngx_str_t                         verify_url, cancel_url, *base;
    ngx_uint_t                        n;
    ngx_msec_t                        ttl;
    ngx_http_clientauth_argv_t        cmds[7];
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_recipient_t   to;
    char                              code[CA_CODE_DIGITS + 1];
    char                              salt[CA_CODE_SALT_LEN + 1];
    char                              code_hash[CA_CODE_HASH_LEN + 1];
    char                              verify[CA_TOKEN_LEN + 1];
    char                              cancel[CA_TOKEN_LEN + 1];
    char                              verify_hash[CA_TOKEN_HASH_LEN + 1];
    char                              cancel_hash[CA_TOKEN_HASH_LEN + 1];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ca_code_generate(code);
    ca_code_salt(salt);
    ca_token_generate(verify);

    if (ca_code_hash(salt, CA_CODE_SALT_LEN, code, CA_CODE_DIGITS, code_hash)
        != 0
        || ca_token_generate_owned(cancel, es->account, es->user) != 0
        || ca_token_hash(verify, CA_TOKEN_LEN, verify_hash) != 0
        || ca_token_hash(cancel, CA_TOKEN_LEN, cancel_hash) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the links come from configuration, never from the request's Host */
    base = ascf->email_verify_url.len ? &ascf->email_verify_url : NULL;

    if (ngx_http_clientauth_email_link(r, base, verify, &verify_url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    base = ascf->email_cancel_url.len
           ? &ascf->email_cancel_url
           : ngx_http_clientauth_page_url(r,
                                          NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL);

    if (ngx_http_clientauth_email_link(r, base, cancel, &cancel_url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sodium_memzero(verify, sizeof(verify));
    sodium_memzero(cancel, sizeof(cancel));

    now = ngx_http_clientauth_now_ms();
    ttl = ascf->email_change_grace
          ? ascf->email_change_grace + NGX_HTTP_CLIENTAUTH_EMAIL_KEEP
          : ascf->reset_lifetime;

    num = ngx_pnalloc(r->pool, 3 * NGX_INT64_LEN);
    if (num == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n++], es->ckey);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], es->ckey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "email");
    ngx_http_clientauth_argv_add(&cmds[n], es->new_email.data,
                                 es->new_email.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "salt");
    ngx_http_clientauth_argv_add_str(&cmds[n], salt);
    ngx_http_clientauth_argv_add_str(&cmds[n], "code");
    ngx_http_clientauth_argv_add_str(&cmds[n], code_hash);
    ngx_http_clientauth_argv_add_str(&cmds[n], "tries");
    ngx_http_clientauth_argv_add_str(&cmds[n], "0");
    ngx_http_clientauth_argv_add_str(&cmds[n], "verify");
    ngx_http_clientauth_argv_add_str(&cmds[n], verify_hash);
    ngx_http_clientauth_argv_add_str(&cmds[n], "cancel");
    ngx_http_clientauth_argv_add_str(&cmds[n], cancel_hash);

    p = num;
    ngx_http_clientauth_argv_add_str(&cmds[n], "expires");
    ngx_http_clientauth_argv_add(&cmds[n], p,
        ngx_sprintf(p, "%L", now + (int64_t) ascf->reset_lifetime) - p);
    p += NGX_INT64_LEN;

    if (ascf->email_change_grace) {
        ngx_http_clientauth_argv_add_str(&cmds[n], "due");
        ngx_http_clientauth_argv_add(&cmds[n], p,
            ngx_sprintf(p, "%L", now + (int64_t) ascf->email_change_grace)
            - p);
        p += NGX_INT64_LEN;
    }

    n++;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[n], es->ckey);
    ngx_http_clientauth_argv_add(&cmds[n++], p, ngx_sprintf(p, "%M", ttl) - p);

    /* to the current address: the code, and the way to refuse */
    to.account = es->account;
    to.user = es->user;
    to.email = es->usr[NGX_HTTP_CLIENTAUTH_EU_EMAIL];
    to.locale = es->usr[NGX_HTTP_CLIENTAUTH_EU_LOCALE];

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n],
                                           "email_change_code", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_add_str(&cmds[n], "code");
    ngx_http_clientauth_argv_add_str(&cmds[n], code);
    ngx_http_clientauth_argv_add_str(&cmds[n], "new_email");
    ngx_http_clientauth_argv_add(&cmds[n], es->new_email.data,
                                 es->new_email.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "url");
    ngx_http_clientauth_argv_add(&cmds[n++], cancel_url.data,
                                 cancel_url.len);

    /* to the new address: the link that proves it is the customer's */
    to.email = es->new_email;

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n],
                                           "email_verify", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_add_str(&cmds[n], "url");
    ngx_http_clientauth_argv_add(&cmds[n++], verify_url.data,
                                 verify_url.len);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_STORED;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: e-mail change of user %s of account %s "
                  "asked for", es->user, es->account);

    /* the call copies the commands: the code is not kept past it */
    rc = ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_email_reply,
                                  cmds, n);

    sodium_memzero(code, sizeof(code));

    return rc;
}


static ngx_int_t
ngx_http_clientauth_email_requested(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es)
{
    u_char     *p;
    ngx_str_t  *url, location;

    if (!es->applied) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis did not store the e-mail change");
        return ngx_http_clientauth_send_unavailable(r);
    }

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_message(r, NGX_HTTP_ACCEPTED,
                   "email_requested", CA_T_ACCOUNT_TITLE,
                   CA_T_EMAIL_REQUESTED);
    }

    /* the page that asks for the code */
    url = ngx_http_clientauth_account_url(r);

    location.data = ngx_pnalloc(r->pool, url->len
                                + sizeof("email?done=email_requested") - 1);
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(location.data, url->data, url->len);
    p = ngx_cpymem(p, "email?done=email_requested",
                   sizeof("email?done=email_requested") - 1);
    location.len = p - location.data;

    return ngx_http_clientauth_send_redirect(r, NGX_HTTP_SEE_OTHER,
                                             &location);
}


/* ------------------------------------------------------ check-and-set */

/* WATCH the change and the user on a dedicated connection; read both. */

static ngx_int_t
ngx_http_clientauth_email_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    ngx_uint_t                   i;
    ngx_http_clientauth_argv_t   cmds[3];

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], es->ckey);
    ngx_http_clientauth_argv_add_str(&cmds[0], es->ukey);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], es->ckey);

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_EC_LAST; i++) {
        ngx_http_clientauth_argv_add_str(&cmds[1],
                                         ngx_http_clientauth_email_fields[i]);
    }

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[2], es->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[2], "email");
    ngx_http_clientauth_argv_add_str(&cmds[2], "status");
    ngx_http_clientauth_argv_add_str(&cmds[2], "reset");
    ngx_http_clientauth_argv_add_str(&cmds[2], "locale");
    ngx_http_clientauth_argv_add_str(&cmds[2], "role");

    ngx_memzero(es->rec, sizeof(es->rec));
    ngx_memzero(es->usr, sizeof(es->usr));
    ngx_str_null(&es->holder);

    ctx->next = ngx_http_clientauth_email_next;
    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_READ;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_email_reply,
                                        cmds, 3);
}


static int64_t
ngx_http_clientauth_email_int(ngx_str_t *s)
{
    ngx_int_t  n;

    if (s->len == 0) {
        return 0;
    }

    n = ngx_atoi(s->data, s->len);

    return n == NGX_ERROR ? 0 : (int64_t) n;
}


/* The change's state, from its record. */

static void
ngx_http_clientauth_email_state(ngx_http_clientauth_email_t *es)
{
    es->ec.expires = ngx_http_clientauth_email_int(
                                     &es->rec[NGX_HTTP_CLIENTAUTH_EC_EXPIRES]);
    es->ec.verified = ngx_http_clientauth_email_int(
                                    &es->rec[NGX_HTTP_CLIENTAUTH_EC_VERIFIED]);
    es->ec.due = ngx_http_clientauth_email_int(
                                         &es->rec[NGX_HTTP_CLIENTAUTH_EC_DUE]);
    es->ec.confirmed = (ngx_http_clientauth_email_int(
                               &es->rec[NGX_HTTP_CLIENTAUTH_EC_CONFIRMED])
                        != 0);
    es->ec.tries = (unsigned) ngx_http_clientauth_email_int(
                                       &es->rec[NGX_HTTP_CLIENTAUTH_EC_TRIES]);
}


static ngx_uint_t
ngx_http_clientauth_email_pending(ngx_http_clientauth_email_t *es)
{
    return es->rec[NGX_HTTP_CLIENTAUTH_EC_EMAIL].len != 0;
}


/* The link's token is the one the change names (constant time). */

static ngx_uint_t
ngx_http_clientauth_email_token_is(ngx_http_clientauth_email_t *es,
    ngx_uint_t field)
{
    return es->rec[field].len == CA_TOKEN_HASH_LEN
           && sodium_memcmp(es->rec[field].data, es->token_hash,
                            CA_TOKEN_HASH_LEN) == 0;
}


/*
 * What the request does with the change as it is now.  Reading alone ends
 * the WATCH (ngx_http_clientauth_redis_txn_end); a dead change is deleted
 * on the way.
 */

static ngx_int_t
ngx_http_clientauth_email_decide(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    int64_t        now;
    ngx_uint_t     link;
    ca_ec_state_e  state;

    now = ngx_http_clientauth_now_ms();
    link = (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_VERIFY
            || es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_LINK
            || es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE);

    if (!ngx_http_clientauth_email_pending(es)) {
        ngx_http_clientauth_redis_txn_end(ctx);
        es->outcome = link ? NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK
                           : NGX_HTTP_CLIENTAUTH_EMAIL_NONE;
        return ngx_http_clientauth_email_answer(r, es);
    }

    ngx_http_clientauth_email_state(es);

    /* the "this was not me" link works until the change has applied */
    if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_LINK
        || es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE)
    {
        if (!ngx_http_clientauth_email_token_is(es,
                                             NGX_HTTP_CLIENTAUTH_EC_CANCEL))
        {
            ngx_http_clientauth_redis_txn_end(ctx);
            es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK;
            return ngx_http_clientauth_email_answer(r, es);
        }

        if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE) {
            ngx_http_clientauth_redis_txn_end(ctx);
            es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_SHOWN;
            return ngx_http_clientauth_email_answer(r, es);
        }

        return ngx_http_clientauth_email_write(r, ctx, es,
                   NGX_HTTP_CLIENTAUTH_EMAIL_CANCELLED, NULL, NULL);
    }

    if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_VERIFY) {
        if (!ngx_http_clientauth_email_token_is(es,
                                             NGX_HTTP_CLIENTAUTH_EC_VERIFY)
            || (es->ec.verified
                && ca_email_change_state(&es->ec, now) != CA_EC_APPLY))
        {
            /* another change's link, or this one used already */
            ngx_http_clientauth_redis_txn_end(ctx);
            es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK;
            return ngx_http_clientauth_email_answer(r, es);
        }

        if (es->ec.verified == 0 && now < es->ec.expires) {
            es->ec.verified = now;
        }
    }

    state = ca_email_change_state(&es->ec, now);

    if (state == CA_EC_DEAD) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: e-mail change of user %s of account %s "
                      "expired", es->user, es->account);
        return ngx_http_clientauth_email_write(r, ctx, es,
                   link ? NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK
                        : NGX_HTTP_CLIENTAUTH_EMAIL_NONE, NULL, NULL);
    }

    if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_GIVE_UP) {
        return ngx_http_clientauth_email_write(r, ctx, es,
                   NGX_HTTP_CLIENTAUTH_EMAIL_CANCELLED, NULL, NULL);
    }

    if (state == CA_EC_APPLY) {
        return ngx_http_clientauth_email_watch_index(r, ctx, es);
    }

    switch (es->op) {

    case NGX_HTTP_CLIENTAUTH_EMAIL_CONFIRM:
        return ngx_http_clientauth_email_try_code(r, ctx, es);

    case NGX_HTTP_CLIENTAUTH_EMAIL_VERIFY:
        return ngx_http_clientauth_email_write(r, ctx, es,
                   NGX_HTTP_CLIENTAUTH_EMAIL_VERIFIED, "verified", NULL);

    default: /* NGX_HTTP_CLIENTAUTH_EMAIL_STATUS */
        ngx_http_clientauth_redis_txn_end(ctx);
        es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_SHOWN;
        return ngx_http_clientauth_email_answer(r, es);
    }
}


/*
 * The code: a right one confirms (and applies, when the link was opened);
 * each wrong one counts, the last allowed one cancels the change.
 */

static ngx_int_t
ngx_http_clientauth_email_try_code(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    int         rc;
    ngx_str_t  *salt, *stored;

    salt = &es->rec[NGX_HTTP_CLIENTAUTH_EC_SALT];
    stored = &es->rec[NGX_HTTP_CLIENTAUTH_EC_CODE];

    rc = ca_code_check((char *) salt->data, salt->len, (char *) stored->data,
                       stored->len, (char *) es->code.data, es->code.len);

    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: corrupt e-mail change of user %s of "
                      "account %s deleted", es->user, es->account);
        return ngx_http_clientauth_email_write(r, ctx, es,
                   NGX_HTTP_CLIENTAUTH_EMAIL_NONE, NULL, NULL);
    }

    if (rc == 1) {
        es->ec.confirmed = 1;

        if (es->ec.verified) {
            return ngx_http_clientauth_email_watch_index(r, ctx, es);
        }

        return ngx_http_clientauth_email_write(r, ctx, es,
                   NGX_HTTP_CLIENTAUTH_EMAIL_CONFIRMED, "confirmed", "1");
    }

    es->ec.tries++;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: wrong e-mail change code for user %s of "
                  "account %s (%ui of %d)", es->user, es->account,
                  (ngx_uint_t) es->ec.tries, CA_CODE_TRIES);

    if (es->ec.tries >= CA_CODE_TRIES) {
        return ngx_http_clientauth_email_write(r, ctx, es,
                   NGX_HTTP_CLIENTAUTH_EMAIL_CODE_DEAD, NULL, NULL);
    }

    return ngx_http_clientauth_email_write(r, ctx, es,
               NGX_HTTP_CLIENTAUTH_EMAIL_WRONG_CODE, "tries", NULL);
}


/*
 * One change to the pending change, if it did not change since it was
 * read: field NULL deletes it; value NULL with "tries" counts a wrong code;
 * "verified" is set to now.
 */

static ngx_int_t
ngx_http_clientauth_email_write(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es,
    ngx_http_clientauth_email_outcome_e outcome, const char *field,
    const char *value)
{
    u_char                      *p;
    ngx_http_clientauth_argv_t   cmds[3];

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[1]);

    if (field == NULL) {
        ngx_http_clientauth_argv_add_str(&cmds[1], "DEL");
        ngx_http_clientauth_argv_add_str(&cmds[1], es->ckey);

    } else if (value == NULL && ngx_strcmp(field, "tries") == 0) {
        ngx_http_clientauth_argv_add_str(&cmds[1], "HINCRBY");
        ngx_http_clientauth_argv_add_str(&cmds[1], es->ckey);
        ngx_http_clientauth_argv_add_str(&cmds[1], "tries");
        ngx_http_clientauth_argv_add_str(&cmds[1], "1");

    } else {
        if (value == NULL) {
            p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
            if (p == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            *ngx_sprintf(p, "%L", es->ec.verified) = '\0';
            value = (char *) p;
        }

        ngx_http_clientauth_argv_add_str(&cmds[1], "HSET");
        ngx_http_clientauth_argv_add_str(&cmds[1], es->ckey);
        ngx_http_clientauth_argv_add_str(&cmds[1], field);
        ngx_http_clientauth_argv_add_str(&cmds[1], value);
    }

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "EXEC");

    es->outcome = outcome;
    es->aborted = 0;
    es->applied = 0;
    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_WRITTEN;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_email_reply,
                                        cmds, 3);
}


/*
 * Both done (or verified and due): WATCH the new address's index and the
 * old one, and read who they name.
 */

static ngx_int_t
ngx_http_clientauth_email_watch_index(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    ca_ident_opts_t                  opts;
    ngx_http_clientauth_argv_t       cmds[3];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];
    char                             old[CA_IDENT_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ca_key_ident(key, sizeof(key), (char *) ascf->brand.data, "email",
                     (char *) es->rec[NGX_HTTP_CLIENTAUTH_EC_EMAIL].data)
        < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    es->ikey = ngx_http_clientauth_pool_cstr(r, key);
    if (es->ikey == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the old address's index, as its canonical form names it */
    es->okey = NULL;
    opts.accepted = CA_ID_EMAIL;
    opts.phone_country = NULL;

    if (es->usr[NGX_HTTP_CLIENTAUTH_EU_EMAIL].len
        && ca_ident_normalise(&opts,
                          (char *) es->usr[NGX_HTTP_CLIENTAUTH_EU_EMAIL].data,
                          es->usr[NGX_HTTP_CLIENTAUTH_EU_EMAIL].len, old)
           == CA_ID_EMAIL
        && ca_key_ident(key, sizeof(key), (char *) ascf->brand.data,
                        "email", old)
           >= 0
        && ngx_strcmp(key, es->ikey) != 0)
    {
        es->okey = ngx_http_clientauth_pool_cstr(r, key);
        if (es->okey == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], es->ikey);

    if (es->okey) {
        ngx_http_clientauth_argv_add_str(&cmds[0], es->okey);
    }

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "GET");
    ngx_http_clientauth_argv_add_str(&cmds[1], es->ikey);

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "GET");
    ngx_http_clientauth_argv_add_str(&cmds[2], es->okey ? es->okey
                                                        : es->ikey);

    ngx_str_null(&es->holder);
    ngx_str_null(&es->old_holder);
    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_INDEXED;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_email_reply,
                                        cmds, 3);
}


/*
 * The change applies in one MULTI that runs only if neither the change,
 * the user nor the two index keys changed since they were read: the login
 * index moves, the user's (and the owner's account's) address changes, an
 * outstanding reset link dies, and both addresses hear of it.  An address
 * another user registered meanwhile cancels the change instead.
 */

static ngx_int_t
ngx_http_clientauth_email_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    char                             *copy;
    u_char                           *ref;
    size_t                            len;
    ngx_str_t                        *old, *reset, *new_email;
    ngx_uint_t                        n;
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_recipient_t   to;
    char                              key[CA_KEY_MAX];

    /* MULTI, SET, DEL, HSET, HDEL, DEL, HSET, DEL, 2 XADD, EXEC, WAIT */
    ngx_http_clientauth_argv_t        cmds[12];

    static ngx_str_t  owner = ngx_string("owner");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    new_email = &es->rec[NGX_HTTP_CLIENTAUTH_EC_EMAIL];
    old = &es->usr[NGX_HTTP_CLIENTAUTH_EU_EMAIL];
    reset = &es->usr[NGX_HTTP_CLIENTAUTH_EU_RESET];

    ref = ngx_pnalloc(r->pool, sizeof(es->account) + sizeof(es->user));
    if (ref == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_sprintf(ref, "%s:%s", es->account, es->user) - ref;

    if (es->holder.len
        && (es->holder.len != len
            || ngx_strncmp(es->holder.data, ref, len) != 0))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: e-mail change of user %s of account %s "
                      "cancelled: the new address was registered meanwhile",
                      es->user, es->account);
        return ngx_http_clientauth_email_write(r, ctx, es,
                   NGX_HTTP_CLIENTAUTH_EMAIL_TAKEN, NULL, NULL);
    }

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "SET");
    ngx_http_clientauth_argv_add_str(&cmds[n], es->ikey);
    ngx_http_clientauth_argv_add(&cmds[n++], ref, len);

    /* the old address stops naming the user (only if it still does) */
    if (es->okey && es->old_holder.len == len
        && ngx_strncmp(es->old_holder.data, ref, len) == 0)
    {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
        ngx_http_clientauth_argv_add_str(&cmds[n++], es->okey);
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], es->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "email");
    ngx_http_clientauth_argv_add(&cmds[n++], new_email->data,
                                 new_email->len);

    /* a reset link mailed to the old address dies */
    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HDEL");
    ngx_http_clientauth_argv_add_str(&cmds[n], es->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "reset");

    if (reset->len == CA_TOKEN_HASH_LEN
        && ca_key_reset(key, sizeof(key), (char *) ascf->brand.data, "reset",
                        (char *) reset->data)
           >= 0)
    {
        copy = ngx_http_clientauth_pool_cstr(r, key);
        if (copy == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
        ngx_http_clientauth_argv_add_str(&cmds[n++], copy);
    }

    /* the owner's address is the account's primary one */
    if (ngx_http_clientauth_str_eq(&es->usr[NGX_HTTP_CLIENTAUTH_EU_ROLE],
                                   &owner)
        && ca_key_account(key, sizeof(key), (char *) ascf->brand.data,
                          es->account)
           >= 0)
    {
        copy = ngx_http_clientauth_pool_cstr(r, key);
        if (copy == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
        ngx_http_clientauth_argv_add_str(&cmds[n], copy);
        ngx_http_clientauth_argv_add_str(&cmds[n], "email");
        ngx_http_clientauth_argv_add(&cmds[n++], new_email->data,
                                     new_email->len);
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n++], es->ckey);

    to.account = es->account;
    to.user = es->user;
    to.locale = es->usr[NGX_HTTP_CLIENTAUTH_EU_LOCALE];

    to.email = *old;

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n],
                                           "email_changed", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_add_str(&cmds[n], "old_email");
    ngx_http_clientauth_argv_add(&cmds[n], old->data, old->len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "new_email");
    ngx_http_clientauth_argv_add(&cmds[n++], new_email->data,
                                 new_email->len);

    to.email = *new_email;

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n],
                                           "email_changed", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_add_str(&cmds[n], "old_email");
    ngx_http_clientauth_argv_add(&cmds[n], old->data, old->len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "new_email");
    ngx_http_clientauth_argv_add(&cmds[n++], new_email->data,
                                 new_email->len);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    /* a failover must not bring back the old address or its reset link */
    n += ngx_http_clientauth_durable(r, &cmds[n]);

    es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_CHANGED;
    es->aborted = 0;
    es->applied = 0;
    es->step = NGX_HTTP_CLIENTAUTH_EMAIL_WRITTEN;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_email_reply,
                                        cmds, n);
}


/* EXEC's answer: nil (a watched key changed) starts again from the read. */

static ngx_int_t
ngx_http_clientauth_email_written(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_email_t *es)
{
    if (es->aborted) {
        if (++es->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_email_watch(r, ctx, es);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: the e-mail change of user %s of account "
                      "%s kept changing", es->user, es->account);
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_http_clientauth_redis_txn_end(ctx);

    if (!es->applied) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis did not apply an e-mail change "
                      "step");
        return ngx_http_clientauth_send_unavailable(r);
    }

    if (es->outcome == NGX_HTTP_CLIENTAUTH_EMAIL_CHANGED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: e-mail address of user %s of account %s "
                      "changed", es->user, es->account);

    } else if (es->outcome == NGX_HTTP_CLIENTAUTH_EMAIL_CANCELLED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: e-mail change of user %s of account %s "
                      "cancelled", es->user, es->account);
    }

    return ngx_http_clientauth_email_answer(r, es);
}


/* ------------------------------------------------------------ replies */

static ngx_int_t
ngx_http_clientauth_email_fields_of(ngx_http_request_t *r,
    redisReply *reply, ngx_str_t *out, ngx_uint_t n)
{
    ngx_uint_t  i;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != n) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_clientauth_reply_str(r->pool, reply->element[i], &out[i])
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_clientauth_email_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i;
    ngx_http_clientauth_email_t    *es;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    es = acc->data;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused an e-mail change command: "
                      "%s", reply->str);
        ctx->redis_error = 1;
        return;
    }

    rc = NGX_OK;

    switch (es->step) {

    case NGX_HTTP_CLIENTAUTH_EMAIL_ASKED:
        if (n == 0) {
            rc = ngx_http_clientauth_email_fields_of(r, reply, es->usr,
                                               NGX_HTTP_CLIENTAUTH_EU_LAST);
        } else {
            rc = ngx_http_clientauth_reply_str(r->pool, reply, &es->holder);
        }

        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_THROTTLED:
        rc = ngx_http_clientauth_limit_reply(r, &es->attempt, n, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_BANNED:
        ngx_http_clientauth_ban_reply(&es->attempt, n, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_ESCALATED:
        ngx_http_clientauth_escalate_reply(&es->attempt, n, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_PEEKED:
        rc = ngx_http_clientauth_email_fields_of(r, reply, es->rec,
                                                 NGX_HTTP_CLIENTAUTH_EC_LAST);
        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_READ:
        if (n == 1) {
            rc = ngx_http_clientauth_email_fields_of(r, reply, es->rec,
                                               NGX_HTTP_CLIENTAUTH_EC_LAST);
        } else if (n == 2) {
            rc = ngx_http_clientauth_email_fields_of(r, reply, es->usr,
                                           NGX_HTTP_CLIENTAUTH_EU_LAST - 1);
        } else if (reply->type != REDIS_REPLY_STATUS) {
            rc = NGX_ERROR;
        }

        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_INDEXED:
        if (n == 1) {
            rc = ngx_http_clientauth_reply_str(r->pool, reply, &es->holder);
        } else if (n == 2 && es->okey) {
            rc = ngx_http_clientauth_reply_str(r->pool, reply,
                                               &es->old_holder);
        } else if (n == 0 && reply->type != REDIS_REPLY_STATUS) {
            rc = NGX_ERROR;
        }

        break;

    default: /* STORED, WRITTEN: MULTI ... EXEC */
        if (reply->type == REDIS_REPLY_NIL
            && es->step == NGX_HTTP_CLIENTAUTH_EMAIL_WRITTEN)
        {
            es->aborted = 1;
            break;
        }

        if (reply->type != REDIS_REPLY_ARRAY) {
            break;
        }

        es->applied = 1;

        for (i = 0; i < reply->elements; i++) {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "clientauth: redis refused an e-mail change "
                              "write: %s", reply->element[i]->str);
                es->applied = 0;
            }
        }

        break;
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: unexpected redis reply in the e-mail "
                      "change");
        ctx->redis_error = 1;
    }
}


/* ------------------------------------------------------------ answers */

static ngx_int_t
ngx_http_clientauth_email_answer(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es)
{
    u_char                         *p;
    ngx_str_t                       arg, *url, location;
    const char                     *done;
    ngx_http_clientauth_outcome_t   oc;
    u_char                          num[NGX_INT_T_LEN];

    done = NULL;

    if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_VIEW) {
        /* applied (or found dead, or refused) on the way: the area's page */
        if (es->outcome == NGX_HTTP_CLIENTAUTH_EMAIL_CHANGED) {
            es->acc->email = es->rec[NGX_HTTP_CLIENTAUTH_EC_EMAIL];
        }

        return ngx_http_clientauth_account_view(r,
                   ngx_http_get_module_ctx(r, ngx_http_clientauth_module));
    }

    switch (es->outcome) {

    case NGX_HTTP_CLIENTAUTH_EMAIL_SHOWN:
        if (ngx_http_clientauth_accepts(r, "application/json")) {
            return ngx_http_clientauth_email_status_json(r, es);
        }

        return ngx_http_clientauth_email_page(r, es, NGX_HTTP_OK, CA_T_COUNT,
                                              NULL);

    case NGX_HTTP_CLIENTAUTH_EMAIL_NONE:
        if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_STATUS) {
            ngx_memzero(es->rec, sizeof(es->rec));
            es->outcome = NGX_HTTP_CLIENTAUTH_EMAIL_SHOWN;
            return ngx_http_clientauth_email_answer(r, es);
        }

        return ngx_http_clientauth_email_refused(r, es,
                   NGX_HTTP_CLIENTAUTH_GONE, "no_email_change",
                   CA_T_NO_EMAIL_CHANGE, NULL);

    case NGX_HTTP_CLIENTAUTH_EMAIL_WRONG_CODE:
        arg.data = num;
        arg.len = ngx_sprintf(num, "%ui",
                              (ngx_uint_t) (CA_CODE_TRIES - es->ec.tries))
                  - num;
        return ngx_http_clientauth_email_refused(r, es,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, "wrong_code",
                   CA_T_WRONG_CODE, &arg);

    case NGX_HTTP_CLIENTAUTH_EMAIL_CODE_DEAD:
        ngx_memzero(es->rec, sizeof(es->rec));
        return ngx_http_clientauth_email_refused(r, es,
                   NGX_HTTP_CLIENTAUTH_GONE, "code_dead", CA_T_CODE_DEAD,
                   NULL);

    case NGX_HTTP_CLIENTAUTH_EMAIL_TAKEN:
        ngx_memzero(es->rec, sizeof(es->rec));
        return ngx_http_clientauth_email_refused(r, es, NGX_HTTP_CONFLICT,
                   "email_unavailable", CA_T_EMAIL_UNAVAILABLE, NULL);

    case NGX_HTTP_CLIENTAUTH_EMAIL_BAD_LINK:
        ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
        oc.title = CA_T_GONE_TITLE;
        oc.text = CA_T_GONE;
        oc.link_text = CA_T_COUNT;
        return ngx_http_clientauth_send_outcome(r, NGX_HTTP_CLIENTAUTH_GONE,
                                                "invalid_token", &oc);

    case NGX_HTTP_CLIENTAUTH_EMAIL_CONFIRMED:
        done = "email_confirmed";
        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_VERIFIED:
        done = "email_verified";
        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_CHANGED:
        if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_STATUS) {
            /* applied as it was looked at: the page is the account's */
            return ngx_http_clientauth_account_ok(r, "email_changed",
                                                  CA_T_EMAIL_CHANGED);
        }

        return ngx_http_clientauth_account_ok(r, "email_changed",
                                              CA_T_EMAIL_CHANGED);

    default: /* NGX_HTTP_CLIENTAUTH_EMAIL_CANCELLED */
        if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_LINK) {
            ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
            oc.title = CA_T_EMAIL_CANCEL_TITLE;
            oc.text = CA_T_EMAIL_CANCELLED_LINK;
            oc.link_text = CA_T_COUNT;
            return ngx_http_clientauth_send_outcome(r, NGX_HTTP_OK,
                                                    "email_cancelled", &oc);
        }

        return ngx_http_clientauth_account_ok(r, "email_cancelled",
                                              CA_T_EMAIL_CANCELLED);
    }

    /* confirmed or verified: the other half is still to do */
    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_message(r, NGX_HTTP_OK, done,
                   CA_T_ACCOUNT_TITLE,
                   es->outcome == NGX_HTTP_CLIENTAUTH_EMAIL_CONFIRMED
                   ? CA_T_EMAIL_CONFIRMED : CA_T_EMAIL_VERIFIED);
    }

    url = ngx_http_clientauth_account_url(r);

    location.data = ngx_pnalloc(r->pool, url->len + sizeof("email?done=")
                                         + ngx_strlen(done));
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(location.data, url->data, url->len);
    p = ngx_sprintf(p, "email?done=%s", done);
    location.len = p - location.data;

    return ngx_http_clientauth_send_redirect(r, NGX_HTTP_SEE_OTHER,
                                             &location);
}


/*
 * {"ok":true,"pending":true,"email":"…","verified":false,"confirmed":true,
 * "expires":MS,"due":MS|null,"tries_left":N}, or {"ok":true,"pending":false}
 */

static ngx_int_t
ngx_http_clientauth_email_status_json(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es)
{
    u_char     *p;
    ngx_str_t   json, *email;

    email = &es->rec[NGX_HTTP_CLIENTAUTH_EC_EMAIL];

    json.data = ngx_pnalloc(r->pool, 256 + 6 * email->len);
    if (json.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_http_clientauth_email_pending(es)) {
        p = ngx_cpymem(json.data, "{\"ok\":true,\"pending\":false}",
                       sizeof("{\"ok\":true,\"pending\":false}") - 1);

    } else {
        p = ngx_cpymem(json.data, "{\"ok\":true,\"pending\":true,\"email\":\"",
                       sizeof("{\"ok\":true,\"pending\":true,\"email\":\"")
                       - 1);
        p = (u_char *) ngx_escape_json(p, email->data, email->len);
        p = ngx_sprintf(p, "\",\"verified\":%s,\"confirmed\":%s,"
                        "\"expires\":%L,\"due\":",
                        es->ec.verified ? "true" : "false",
                        es->ec.confirmed ? "true" : "false",
                        es->ec.expires);
        p = es->ec.due ? ngx_sprintf(p, "%L", es->ec.due)
                       : ngx_cpymem(p, "null", 4);
        p = ngx_sprintf(p, ",\"tries_left\":%ui}",
                        (ngx_uint_t) (CA_CODE_TRIES - es->ec.tries));
    }

    json.len = p - json.data;

    return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &json);
}


/*
 * A refusal: JSON {"ok":false,"error":CODE,"message":…}; browsers see the
 * change's page again with the error, with its status.
 */

static ngx_int_t
ngx_http_clientauth_email_refused(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es, ngx_uint_t status, const char *code,
    ca_text_e text, ngx_str_t *arg)
{
    ngx_http_clientauth_outcome_t  oc;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: e-mail change step of user %s of account %s "
                  "refused: %s", es->user[0] ? es->user : "-",
                  es->account[0] ? es->account : "-", code);

    if (ngx_http_clientauth_accepts(r, "application/json")
        || es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_LINK
        || es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE)
    {
        ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
        oc.title = CA_T_EMAIL_CHANGE_TITLE;
        oc.text = text;
        oc.link_text = CA_T_COUNT;

        if (arg) {
            oc.arg = *arg;
        }

        return ngx_http_clientauth_send_outcome(r, status, code, &oc);
    }

    return ngx_http_clientauth_email_page(r, es, status, text, arg);
}


/* base?token=T (or base&token=T); base NULL: the area's email/verify. */

static ngx_int_t
ngx_http_clientauth_email_link(ngx_http_request_t *r, ngx_str_t *base,
    const char *token, ngx_str_t *url)
{
    u_char     *p;
    ngx_str_t  *area;

    area = ngx_http_clientauth_account_url(r);

    url->data = ngx_pnalloc(r->pool, (base ? base->len : area->len)
                                     + sizeof("email/verify?token=")
                                     + CA_TOKEN_LEN);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    if (base == NULL) {
        p = ngx_sprintf(url->data, "%Vemail/verify?token=%s", area, token);

    } else {
        p = ngx_sprintf(url->data, "%V%ctoken=%s", base,
                        ngx_strlchr(base->data, base->data + base->len, '?')
                        ? '&' : '?', token);
    }

    url->len = p - url->data;

    return NGX_OK;
}


/* ?done=WHAT on the change's page: what it says */

static struct {
    ngx_str_t                    done;
    ca_text_e                    text;
} ngx_http_clientauth_email_notices[] = {
    { ngx_string("email_requested"), CA_T_EMAIL_REQUESTED },
    { ngx_string("email_confirmed"), CA_T_EMAIL_CONFIRMED },
    { ngx_string("email_verified"), CA_T_EMAIL_VERIFIED },
    { ngx_null_string, CA_T_COUNT }
};


/* A text with its {n}, into the pool. */

static ngx_int_t
ngx_http_clientauth_email_text(ngx_http_request_t *r, const char *text,
    ngx_str_t *arg, ngx_str_t *out)
{
    char  a[CA_TEXT_LEN_MAX + 1];

    ngx_cpystrn((u_char *) a, arg ? arg->data : (u_char *) "",
                arg ? ngx_min(arg->len + 1, sizeof(a)) : 1);

    out->len = ca_text_format(NULL, 0, text, a);
    out->data = ngx_pnalloc(r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    (void) ca_text_format((char *) out->data, out->len + 1, text, a);

    return NGX_OK;
}


/*
 * The change's page: the form that asks for one, or the pending change
 * with the code's form and a way to give it up; the "this was not me"
 * link's page with its button.
 */

static ngx_int_t
ngx_http_clientauth_email_page(ngx_http_request_t *r,
    ngx_http_clientauth_email_t *es, ngx_uint_t status, ca_text_e error,
    ngx_str_t *arg)
{
    u_char                          *p;
    ngx_str_t                        done, words, *area;
    ngx_uint_t                       i;
    ca_texts_t                      *texts;
    ngx_str_t                        vars[NGX_HTTP_CLIENTAUTH_V_COUNT];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             buf[128];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    texts = ngx_http_clientauth_page_texts(r);
    area = ngx_http_clientauth_account_url(r);

    ngx_memzero(vars, sizeof(vars));

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data = (u_char *)
        texts->t[es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE
                 ? CA_T_EMAIL_CANCEL_TITLE : CA_T_EMAIL_CHANGE_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                          ngx_strlen(vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data);

    vars[NGX_HTTP_CLIENTAUTH_V_ACCOUNT_URL] = *area;
    vars[NGX_HTTP_CLIENTAUTH_V_NEW_EMAIL] =
                                     es->rec[NGX_HTTP_CLIENTAUTH_EC_EMAIL];

    if (es->op == NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL_PAGE) {
        vars[NGX_HTTP_CLIENTAUTH_V_TOKEN] = es->token;
        vars[NGX_HTTP_CLIENTAUTH_V_CANCEL_URL] = *ngx_http_clientauth_page_url(
                                        r, NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL);

        return ngx_http_clientauth_page_render(r, status,
                                          NGX_HTTP_CLIENTAUTH_P_EMAIL, vars);
    }

    vars[NGX_HTTP_CLIENTAUTH_V_CSRF] = es->acc->csrf;
    vars[NGX_HTTP_CLIENTAUTH_V_EMAIL] = es->acc->email;
    vars[NGX_HTTP_CLIENTAUTH_V_USERNAME] = es->acc->email;

    vars[NGX_HTTP_CLIENTAUTH_V_EMAIL_URL].data = ngx_pnalloc(r->pool,
                                                  area->len + sizeof("email"));
    if (vars[NGX_HTTP_CLIENTAUTH_V_EMAIL_URL].data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(vars[NGX_HTTP_CLIENTAUTH_V_EMAIL_URL].data, "%Vemail",
                    area);
    vars[NGX_HTTP_CLIENTAUTH_V_EMAIL_URL].len =
                              p - vars[NGX_HTTP_CLIENTAUTH_V_EMAIL_URL].data;

    if (es->ec.verified) {
        ngx_str_set(&vars[NGX_HTTP_CLIENTAUTH_V_VERIFIED], "1");
    }

    if (ascf->email_change_grace) {
        words.data = (u_char *) buf;
        words.len = ngx_min(ca_text_duration(texts,
                                (long) (ascf->email_change_grace / 1000),
                                buf, sizeof(buf)),
                            sizeof(buf) - 1);

        if (ngx_http_clientauth_email_text(r, texts->t[CA_T_EMAIL_GRACE],
                                &words, &vars[NGX_HTTP_CLIENTAUTH_V_GRACE])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (error != CA_T_COUNT) {
        if (ngx_http_clientauth_email_text(r, texts->t[error], arg,
                                        &vars[NGX_HTTP_CLIENTAUTH_V_ERROR])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ngx_http_arg(r, (u_char *) "done", 4, &done) == NGX_OK) {
        for (i = 0; ngx_http_clientauth_email_notices[i].done.len; i++) {
            if (ngx_http_clientauth_str_eq(&done,
                    &ngx_http_clientauth_email_notices[i].done))
            {
                vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].data = (u_char *)
                    texts->t[ngx_http_clientauth_email_notices[i].text];
                vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].len = ngx_strlen(
                    vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].data);
                break;
            }
        }
    }

    return ngx_http_clientauth_page_render(r, status,
                                           NGX_HTTP_CLIENTAUTH_P_EMAIL, vars);
}
