
/*
 * Sub-user invitations, the invitee's side (clientauth_invite_accept): the
 * link of a user_invitation message opens a page where the invitee chooses
 * a password under the brand's rules; the POST creates the sub-user.
 *
 * Redis holds the invitation under the hash of its token only, with the
 * invitation's lifetime as TTL (ca:<brand>:invite:<hash>: account, inviter,
 * email, perms, locale, expires), and the account names its pending ones
 * (ca:{<brand>:<account>}:invites, e-mail -> token hash).  Accepting is a
 * check-and-set on a dedicated connection: WATCH the invitation, the
 * e-mail's login index, the account and the inviter, read them again, and
 * only if the invitation is still there, the address still free, the
 * account still there and the inviter still a user of it who may give
 * what the invitation gives (the owner, or "users" held, and every invited
 * permission held), one MULTI creates the user, its index entry and its
 * place in the account, and spends the invitation.
 * Two submissions of one link, a cancel or a resend racing the password's
 * hashing, or another account taking the address meanwhile all leave
 * nothing half-made.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_hash.h"
#include "ngx_http_clientauth_body.h"
#include "ca_perms.h"

#include <sodium.h>


typedef enum {
    NGX_HTTP_CLIENTAUTH_INVITE_START = 0,
    NGX_HTTP_CLIENTAUTH_INVITE_READ,        /* the invitation */
    NGX_HTTP_CLIENTAUTH_INVITE_HASHED,      /* the new password's hash */
    NGX_HTTP_CLIENTAUTH_INVITE_WATCHED,     /* WATCH, read again, new id */
    NGX_HTTP_CLIENTAUTH_INVITE_APPLIED      /* MULTI ... EXEC */
} ngx_http_clientauth_invite_step_e;


/* invitation hash fields, in the order they are read */
enum {
    NGX_HTTP_CLIENTAUTH_IF_ACCOUNT = 0,
    NGX_HTTP_CLIENTAUTH_IF_EMAIL,
    NGX_HTTP_CLIENTAUTH_IF_PERMS,
    NGX_HTTP_CLIENTAUTH_IF_LOCALE,
    NGX_HTTP_CLIENTAUTH_IF_EXPIRES,
    NGX_HTTP_CLIENTAUTH_IF_INVITER,
    NGX_HTTP_CLIENTAUTH_IF_LAST
};


typedef struct {
    ngx_http_clientauth_invite_step_e  step;
    ca_form_t                          form;
    ngx_str_t                          token;
    ngx_str_t                          password;
    ngx_str_t                          confirm;
    char                               token_hash[CA_TOKEN_HASH_LEN + 1];
    char                              *ikey;       /* the invitation */
    char                              *xkey;       /* the e-mail's index */
    ngx_str_t                          field[NGX_HTTP_CLIENTAUTH_IF_LAST];
    ngx_str_t                          now[NGX_HTTP_CLIENTAUTH_IF_LAST];
    ngx_uint_t                         taken;      /* the address is used */
    ngx_uint_t                         owner;      /* the account exists */
    ngx_str_t                          inviter[2]; /* its role, perms now */
    int64_t                            user_id;    /* from the counter */
    char                               account[21];
    char                               user[21];
    ngx_uint_t                         applied;
    ngx_uint_t                         aborted;
    ngx_uint_t                         tries;
    unsigned                           broken;     /* ca_rule_e bits */
    ngx_http_clientauth_hash_out_t     hashed;
} ngx_http_clientauth_invite_t;


static ngx_int_t ngx_http_clientauth_invite_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static void ngx_http_clientauth_invite_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);
static ngx_int_t ngx_http_clientauth_invite_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv);
static ngx_int_t ngx_http_clientauth_invite_check(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv);
static ngx_uint_t ngx_http_clientauth_invite_valid(ngx_http_request_t *r,
    ngx_str_t *field);
static ngx_int_t ngx_http_clientauth_invite_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv);
static ngx_int_t ngx_http_clientauth_invite_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv);
static ngx_uint_t ngx_http_clientauth_invite_inviter_may(
    ngx_http_clientauth_invite_t *iv);
static ngx_int_t ngx_http_clientauth_invite_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv);
static ngx_int_t ngx_http_clientauth_invite_gone(ngx_http_request_t *r);
static ngx_int_t ngx_http_clientauth_invite_taken(ngx_http_request_t *r);
static ngx_int_t ngx_http_clientauth_invite_rejected(ngx_http_request_t *r,
    ngx_http_clientauth_invite_t *iv);


/* GET ?token=T shows the invitation's page, POST activates the access. */

ngx_int_t
ngx_http_clientauth_invite_accept_handler(ngx_http_request_t *r)
{
    ngx_http_clientauth_invite_t  *iv;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        return ngx_http_clientauth_not_allowed(r, "GET, HEAD, POST");
    }

    if (r->method == NGX_HTTP_POST && !ngx_http_clientauth_same_origin(r)) {
        return ngx_http_clientauth_cross_site(r);
    }

    iv = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_invite_t));
    if (iv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    iv->step = NGX_HTTP_CLIENTAUTH_INVITE_START;

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_discard_request_body(r) != NGX_OK
            || ngx_http_clientauth_query_arg(r, "token", &iv->token)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_clientauth_flow_start(r, ngx_http_clientauth_invite_next,
                                          iv, r->method == NGX_HTTP_POST);
}


static ngx_int_t
ngx_http_clientauth_invite_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_http_clientauth_invite_t  *iv = ctx->flow;

    switch (iv->step) {

    case NGX_HTTP_CLIENTAUTH_INVITE_START:
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_clientauth_invite_read(r, ctx, iv);
        }

        rc = ngx_http_clientauth_parse_form(r, &iv->form);
        if (rc != NGX_OK) {
            ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
            return ngx_http_clientauth_send_message(r, rc,
                       "malformed_request", CA_T_BAD_TITLE,
                       CA_T_BAD_REQUEST);
        }

        ngx_http_clientauth_form_value(&iv->form, "token", &iv->token);
        ngx_http_clientauth_form_value(&iv->form, "password", &iv->password);
        ngx_http_clientauth_form_value(&iv->form, "password_confirm",
                                       &iv->confirm);

        if (iv->token.len == 0 || iv->password.len == 0) {
            ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
            return ngx_http_clientauth_send_message(r, NGX_HTTP_BAD_REQUEST,
                       "missing_field", CA_T_BAD_TITLE, CA_T_MISSING_NEW);
        }

        return ngx_http_clientauth_invite_read(r, ctx, iv);

    case NGX_HTTP_CLIENTAUTH_INVITE_READ:
        return ngx_http_clientauth_invite_check(r, ctx, iv);

    case NGX_HTTP_CLIENTAUTH_INVITE_HASHED:
        if (iv->hashed.new_hash.len == 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "clientauth: could not hash the invitee's "
                          "password");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clientauth_invite_watch(r, ctx, iv);

    case NGX_HTTP_CLIENTAUTH_INVITE_WATCHED:
        return ngx_http_clientauth_invite_apply(r, ctx, iv);

    default: /* NGX_HTTP_CLIENTAUTH_INVITE_APPLIED */
        return ngx_http_clientauth_invite_done(r, ctx, iv);
    }
}


/* Step 1: the invitation the token names. */

static ngx_int_t
ngx_http_clientauth_invite_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv)
{
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ca_token_hash((char *) iv->token.data, iv->token.len, iv->token_hash)
        != 0
        || ca_key_invite(key, sizeof(key), (char *) ascf->brand.data,
                         iv->token_hash) < 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: malformed invitation token");
        return ngx_http_clientauth_invite_gone(r);
    }

    iv->ikey = ngx_http_clientauth_pool_cstr(r, key);
    if (iv->ikey == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "HMGET");
    ngx_http_clientauth_argv_add_str(&cmd, iv->ikey);
    ngx_http_clientauth_argv_add_str(&cmd, "account");
    ngx_http_clientauth_argv_add_str(&cmd, "email");
    ngx_http_clientauth_argv_add_str(&cmd, "perms");
    ngx_http_clientauth_argv_add_str(&cmd, "locale");
    ngx_http_clientauth_argv_add_str(&cmd, "expires");
    ngx_http_clientauth_argv_add_str(&cmd, "inviter");

    iv->step = NGX_HTTP_CLIENTAUTH_INVITE_READ;

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_invite_reply,
                                    &cmd, 1);
}


/*
 * An invitation is usable while its record is whole and its expiry (the
 * key's TTL says the same, to the millisecond) has not passed.
 */

static ngx_uint_t
ngx_http_clientauth_invite_valid(ngx_http_request_t *r, ngx_str_t *field)
{
    time_t  expires;

    if (!ca_id_is_valid((char *) field[NGX_HTTP_CLIENTAUTH_IF_ACCOUNT].data,
                        field[NGX_HTTP_CLIENTAUTH_IF_ACCOUNT].len)
        || !ca_id_is_valid((char *) field[NGX_HTTP_CLIENTAUTH_IF_INVITER].data,
                           field[NGX_HTTP_CLIENTAUTH_IF_INVITER].len)
        || field[NGX_HTTP_CLIENTAUTH_IF_EMAIL].len == 0
        || field[NGX_HTTP_CLIENTAUTH_IF_EMAIL].len >= CA_IDENT_MAX)
    {
        return 0;
    }

    expires = ngx_atotm(field[NGX_HTTP_CLIENTAUTH_IF_EXPIRES].data,
                        field[NGX_HTTP_CLIENTAUTH_IF_EXPIRES].len);

    return expires != NGX_ERROR && expires > ngx_time();
}


/*
 * Step 2: a GET shows the form; a POST checks the rules and hashes the
 * password in the thread pool.
 */

static ngx_int_t
ngx_http_clientauth_invite_check(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv)
{
    u_char                          *p;
    ngx_int_t                        rc;
    ngx_str_t                        json, *email;
    ca_policy_t                      policy;
    const char                      *ids[1];
    ngx_http_clientauth_hash_in_t    in;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (!ngx_http_clientauth_invite_valid(r, iv->field)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: unknown, used, cancelled or expired "
                      "invitation");
        return ngx_http_clientauth_invite_gone(r);
    }

    email = &iv->field[NGX_HTTP_CLIENTAUTH_IF_EMAIL];

    if (r->method != NGX_HTTP_POST) {
        if (!ngx_http_clientauth_accepts(r, "application/json")) {
            return ngx_http_clientauth_page_invite(r, NGX_HTTP_OK,
                                                   &iv->token, email, 0);
        }

        json.len = sizeof("{\"ok\":true,\"email\":\"\"}") - 1
                   + email->len + ngx_escape_json(NULL, email->data,
                                                  email->len);
        json.data = ngx_pnalloc(r->pool, json.len);
        if (json.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(json.data, "{\"ok\":true,\"email\":\"",
                       sizeof("{\"ok\":true,\"email\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, email->data, email->len);
        p = ngx_cpymem(p, "\"}", 2);
        json.len = p - json.data;

        return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &json);
    }

    policy.preset = ascf->password_policy;
    policy.min_length = ascf->password_min;
    policy.max_length = ascf->password_max;

    /* the e-mail is the invitee's one identifier (NUL-terminated: pool) */
    ids[0] = (char *) email->data;

    iv->broken = ca_policy_check(&policy, (char *) iv->password.data,
                                 iv->password.len, ids, 1);

    if (iv->confirm.len != iv->password.len
        || ngx_strncmp(iv->confirm.data, iv->password.data,
                       iv->password.len) != 0)
    {
        iv->broken |= CA_RULE_MISMATCH;
    }

    if (iv->broken) {
        return ngx_http_clientauth_invite_rejected(r, iv);
    }

    ngx_memzero(&in, sizeof(ngx_http_clientauth_hash_in_t));
    in.password = iv->password;
    in.hash_new = 1;

    iv->step = NGX_HTTP_CLIENTAUTH_INVITE_HASHED;

    rc = ngx_http_clientauth_hash_run(r, ctx, ascf, &in, &iv->hashed);

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
 * Step 3: on a dedicated connection, WATCH the invitation, the e-mail's
 * login index, the account and the inviter, and read them again (the
 * password was hashed since): the invitation, whether the address is
 * taken, whether the account exists, the inviter's role and permissions,
 * and a fresh user id (the counter is not watched: an id lost to an abort
 * is only a gap).
 */

static ngx_int_t
ngx_http_clientauth_invite_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv)
{
    ngx_str_t                       *account, *email, *inviter;
    ngx_http_clientauth_argv_t       cmds[6];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX], akey[CA_KEY_MAX];
    char                             seq[CA_KEY_MAX], ukey[CA_KEY_MAX];
    char                             user[21];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    account = &iv->field[NGX_HTTP_CLIENTAUTH_IF_ACCOUNT];
    email = &iv->field[NGX_HTTP_CLIENTAUTH_IF_EMAIL];
    inviter = &iv->field[NGX_HTTP_CLIENTAUTH_IF_INVITER];

    ngx_memcpy(iv->account, account->data, account->len);
    iv->account[account->len] = '\0';

    /* invite_valid() checked both are ids; the arguments point here */
    ngx_memcpy(user, inviter->data, ngx_min(inviter->len, sizeof(user) - 1));
    user[ngx_min(inviter->len, sizeof(user) - 1)] = '\0';

    if (ca_key_account(akey, sizeof(akey), (char *) ascf->brand.data,
                       iv->account) < 0
        || ca_key_user(ukey, sizeof(ukey), (char *) ascf->brand.data,
                       iv->account, user) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (iv->xkey == NULL) {
        if (ca_key_ident(key, sizeof(key), (char *) ascf->brand.data,
                         "email", (char *) email->data) < 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        iv->xkey = ngx_http_clientauth_pool_cstr(r, key);
        if (iv->xkey == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], iv->ikey);
    ngx_http_clientauth_argv_add_str(&cmds[0], iv->xkey);
    ngx_http_clientauth_argv_add_str(&cmds[0], akey);
    ngx_http_clientauth_argv_add_str(&cmds[0], ukey);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], iv->ikey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "account");
    ngx_http_clientauth_argv_add_str(&cmds[1], "email");
    ngx_http_clientauth_argv_add_str(&cmds[1], "perms");
    ngx_http_clientauth_argv_add_str(&cmds[1], "locale");
    ngx_http_clientauth_argv_add_str(&cmds[1], "expires");
    ngx_http_clientauth_argv_add_str(&cmds[1], "inviter");

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "EXISTS");
    ngx_http_clientauth_argv_add_str(&cmds[2], iv->xkey);

    ngx_http_clientauth_argv_reset(&cmds[3]);
    ngx_http_clientauth_argv_add_str(&cmds[3], "EXISTS");
    ngx_http_clientauth_argv_add_str(&cmds[3], akey);

    if (iv->user_id == 0) {
        if (ca_key_seq(seq, sizeof(seq), (char *) ascf->brand.data, "user")
            < 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[4]);
        ngx_http_clientauth_argv_add_str(&cmds[4], "INCR");
        ngx_http_clientauth_argv_add_str(&cmds[4], seq);

    } else {
        /* a retry keeps the id it took */
        ngx_http_clientauth_argv_reset(&cmds[4]);
        ngx_http_clientauth_argv_add_str(&cmds[4], "PING");
    }

    ngx_http_clientauth_argv_reset(&cmds[5]);
    ngx_http_clientauth_argv_add_str(&cmds[5], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[5], ukey);
    ngx_http_clientauth_argv_add_str(&cmds[5], "role");
    ngx_http_clientauth_argv_add_str(&cmds[5], "perms");

    ngx_memzero(iv->now, sizeof(iv->now));
    ngx_memzero(iv->inviter, sizeof(iv->inviter));
    iv->taken = 0;
    iv->owner = 0;
    iv->step = NGX_HTTP_CLIENTAUTH_INVITE_WATCHED;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_invite_reply,
                                        cmds, 6);
}


/*
 * Step 4: if the invitation is still the one checked and the address still
 * free, one MULTI creates the active sub-user, indexes its e-mail, adds it
 * to the account and spends the invitation.
 */

static ngx_int_t
ngx_http_clientauth_invite_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv)
{
    u_char                          *now, *ref;
    size_t                           reflen;
    ngx_uint_t                       i, n;
    ngx_str_t                       *f;
    ngx_http_clientauth_argv_t       cmds[7];
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             ukey[CA_KEY_MAX], skey[CA_KEY_MAX];
    char                             akey[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_IF_LAST; i++) {
        if (!ngx_http_clientauth_str_eq(&iv->now[i], &iv->field[i])) {
            break;
        }
    }

    if (i < NGX_HTTP_CLIENTAUTH_IF_LAST
        || !ngx_http_clientauth_invite_valid(r, iv->now)
        || !iv->owner)
    {
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: invitation to account %s spent, "
                      "cancelled or resent while the password was hashed",
                      iv->account);
        return ngx_http_clientauth_invite_gone(r);
    }

    if (!ngx_http_clientauth_invite_inviter_may(iv)) {
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: invitation to account %s dead: its "
                      "inviter is gone or may no longer give \"%V\"",
                      iv->account, &iv->field[NGX_HTTP_CLIENTAUTH_IF_PERMS]);
        return ngx_http_clientauth_invite_gone(r);
    }

    if (iv->taken) {
        ngx_http_clientauth_redis_txn_end(ctx);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: invitation to account %s refused: its "
                      "address is already registered", iv->account);
        return ngx_http_clientauth_invite_taken(r);
    }

    if (iv->user_id <= 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: the user id counter gave no id");
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_sprintf((u_char *) iv->user, "%L%Z", iv->user_id);

    if (ca_key_user(ukey, sizeof(ukey), (char *) ascf->brand.data,
                    iv->account, iv->user) < 0
        || ca_key_account_users(skey, sizeof(skey), (char *) ascf->brand.data,
                                iv->account) < 0
        || ca_key_account_invites(akey, sizeof(akey),
                                  (char *) ascf->brand.data, iv->account) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    now = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    ref = ngx_pnalloc(r->pool, CA_ID_REF_MAX);

    if (now == NULL || ref == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    reflen = ngx_sprintf(ref, "%s:%s", iv->account, iv->user) - ref;
    f = iv->field;
    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], ukey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "email");
    ngx_http_clientauth_argv_add(&cmds[n],
                                 f[NGX_HTTP_CLIENTAUTH_IF_EMAIL].data,
                                 f[NGX_HTTP_CLIENTAUTH_IF_EMAIL].len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "hash");
    ngx_http_clientauth_argv_add(&cmds[n], iv->hashed.new_hash.data,
                                 iv->hashed.new_hash.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "perms");
    ngx_http_clientauth_argv_add(&cmds[n],
                                 f[NGX_HTTP_CLIENTAUTH_IF_PERMS].data,
                                 f[NGX_HTTP_CLIENTAUTH_IF_PERMS].len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "status");
    ngx_http_clientauth_argv_add_str(&cmds[n], "active");
    ngx_http_clientauth_argv_add_str(&cmds[n], "locale");
    ngx_http_clientauth_argv_add(&cmds[n],
                                 f[NGX_HTTP_CLIENTAUTH_IF_LOCALE].data,
                                 f[NGX_HTTP_CLIENTAUTH_IF_LOCALE].len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "role");
    ngx_http_clientauth_argv_add_str(&cmds[n], "subuser");
    ngx_http_clientauth_argv_add_str(&cmds[n], "account");
    ngx_http_clientauth_argv_add_str(&cmds[n], iv->account);
    ngx_http_clientauth_argv_add_str(&cmds[n], "invited_by");
    ngx_http_clientauth_argv_add(&cmds[n],
                                 f[NGX_HTTP_CLIENTAUTH_IF_INVITER].data,
                                 f[NGX_HTTP_CLIENTAUTH_IF_INVITER].len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "created");
    ngx_http_clientauth_argv_add(&cmds[n], now,
                                 ngx_sprintf(now, "%T", ngx_time()) - now);
    ngx_http_clientauth_argv_add_str(&cmds[n], "pwchanged");
    ngx_http_clientauth_argv_add(&cmds[n++], now,
                                 ngx_sprintf(now, "%T", ngx_time()) - now);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "SADD");
    ngx_http_clientauth_argv_add_str(&cmds[n], skey);
    ngx_http_clientauth_argv_add_str(&cmds[n++], iv->user);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "SET");
    ngx_http_clientauth_argv_add_str(&cmds[n], iv->xkey);
    ngx_http_clientauth_argv_add(&cmds[n++], ref, reflen);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n++], iv->ikey);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HDEL");
    ngx_http_clientauth_argv_add_str(&cmds[n], akey);
    ngx_http_clientauth_argv_add(&cmds[n++],
                                 f[NGX_HTTP_CLIENTAUTH_IF_EMAIL].data,
                                 f[NGX_HTTP_CLIENTAUTH_IF_EMAIL].len);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    iv->step = NGX_HTTP_CLIENTAUTH_INVITE_APPLIED;
    iv->aborted = 0;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_invite_reply,
                                        cmds, n);
}


/*
 * Whether the inviter, as read under WATCH, still may give what the
 * invitation gives: a user of the account, its owner or a holder of
 * "users", holding every invited permission ("all" needs "all").
 */

static ngx_uint_t
ngx_http_clientauth_invite_inviter_may(ngx_http_clientauth_invite_t *iv)
{
    ngx_str_t   *role, *perms, *invited;
    ca_perms_t   given;

    role = &iv->inviter[0];
    perms = &iv->inviter[1];
    invited = &iv->field[NGX_HTTP_CLIENTAUTH_IF_PERMS];

    if (role->len == 0 || perms->len == 0 || invited->len == 0) {
        return 0;
    }

    if (!(role->len == 5 && ngx_strncmp(role->data, "owner", 5) == 0)
        && !ca_perms_held((char *) perms->data, perms->len, "users"))
    {
        return 0;
    }

    ngx_memzero(&given, sizeof(ca_perms_t));

    return ca_perms_parse(&given, (char *) invited->data, invited->len, ',')
           == 0
           && ca_perms_covers((char *) perms->data, perms->len, &given);
}


static ngx_int_t
ngx_http_clientauth_invite_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_invite_t *iv)
{
    static ngx_str_t  ok = ngx_string("{\"ok\":true}");

    if (iv->aborted) {
        /* the invitation or the address changed between WATCH and EXEC */
        if (++iv->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_invite_watch(r, ctx, iv);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: invitation to account %s kept changing "
                      "while it was accepted", iv->account);
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_http_clientauth_redis_txn_end(ctx);

    if (!iv->applied) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis did not apply the invitation");
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: invitation accepted: user %s of account %s "
                  "is active", iv->user, iv->account);

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &ok);
    }

    return ngx_http_clientauth_redirect_login(r, "invite");
}


static ngx_int_t
ngx_http_clientauth_invite_gone(ngx_http_request_t *r)
{
    ngx_http_clientauth_outcome_t  oc;

    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
    oc.title = CA_T_GONE_TITLE;
    oc.text = CA_T_INVITE_GONE;
    oc.link_text = CA_T_COUNT;

    return ngx_http_clientauth_send_outcome(r, NGX_HTTP_CLIENTAUTH_GONE,
                                            "invalid_token", &oc);
}


/* The address has an access already: whose, the invitee is not told. */

static ngx_int_t
ngx_http_clientauth_invite_taken(ngx_http_request_t *r)
{
    ngx_http_clientauth_outcome_t  oc;

    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
    oc.title = CA_T_FORBIDDEN_TITLE;
    oc.text = CA_T_INVITE_TAKEN;
    oc.link_text = CA_T_COUNT;

    return ngx_http_clientauth_send_outcome(r, NGX_HTTP_CONFLICT,
                                            "email_taken", &oc);
}


/* 422 with every rule broken, as the reset's new-password page. */

static ngx_int_t
ngx_http_clientauth_invite_rejected(ngx_http_request_t *r,
    ngx_http_clientauth_invite_t *iv)
{
    ngx_str_t  body;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: invitee's password refused (rules 0x%xd)",
                  iv->broken);

    if (!ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_page_invite(r,
                   NGX_HTTP_CLIENTAUTH_UNPROCESSABLE, &iv->token,
                   &iv->field[NGX_HTTP_CLIENTAUTH_IF_EMAIL], iv->broken);
    }

    if (ngx_http_clientauth_rules_json(r, iv->broken, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_send_json(r, NGX_HTTP_CLIENTAUTH_UNPROCESSABLE,
                                         &body);
}


static void
ngx_http_clientauth_invite_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                     i;
    ngx_str_t                     *into;
    ngx_http_clientauth_invite_t  *iv;

    iv = ctx->flow;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused an invitation command: %s",
                      reply->str);
        ctx->redis_error = 1;
        return;
    }

    switch (iv->step) {

    case NGX_HTTP_CLIENTAUTH_INVITE_READ:
    case NGX_HTTP_CLIENTAUTH_INVITE_WATCHED:
        into = (iv->step == NGX_HTTP_CLIENTAUTH_INVITE_READ) ? iv->field
                                                             : iv->now;

        if ((iv->step == NGX_HTTP_CLIENTAUTH_INVITE_READ && n == 0)
            || n == 1)
        {
            for (i = 0; reply->type == REDIS_REPLY_ARRAY
                        && i < reply->elements
                        && i < NGX_HTTP_CLIENTAUTH_IF_LAST; i++)
            {
                (void) ngx_http_clientauth_reply_str(r->pool,
                                                     reply->element[i],
                                                     &into[i]);
            }

        } else if (n == 2) {
            iv->taken = (reply->integer != 0);

        } else if (n == 3) {
            iv->owner = (reply->integer != 0);

        } else if (n == 4 && reply->type == REDIS_REPLY_INTEGER) {
            iv->user_id = reply->integer;

        } else if (n == 5) {
            for (i = 0; reply->type == REDIS_REPLY_ARRAY
                        && i < reply->elements && i < 2; i++)
            {
                (void) ngx_http_clientauth_reply_str(r->pool,
                                                     reply->element[i],
                                                     &iv->inviter[i]);
            }
        }

        break;

    default: /* APPLIED: MULTI ... EXEC */
        if (reply->type == REDIS_REPLY_NIL) {
            /* EXEC: a watched key changed, nothing was done */
            iv->aborted = 1;
            break;
        }

        if (reply->type != REDIS_REPLY_ARRAY) {
            break;
        }

        iv->applied = 1;

        for (i = 0; i < reply->elements; i++) {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "clientauth: redis refused an invitation "
                              "write: %s", reply->element[i]->str);
                iv->applied = 0;
            }
        }

        break;
    }
}
