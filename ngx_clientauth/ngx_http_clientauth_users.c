
/*
 * Sub-users (Axarnet), the account's side: /auth/account/users lists the
 * account's users and pending invitations; users/invite invites (or
 * invites again: a fresh link, the old one dead), users/invite/cancel,
 * users/perms and users/remove change them.  Routed by the self-service
 * area's dispatcher, which has checked the session, the origin and the
 * CSRF token (ngx_http_clientauth_account.h).
 *
 * Only the owner or a user holding "users" manages users; no one grants a
 * permission they do not hold; the owner is never removed nor limited; an
 * address already registered in the brand is never invited.  Each change
 * is a check-and-set on a dedicated connection (WATCH what the decision
 * read, MULTI ... EXEC), retried when a watched key moved.  Live sessions
 * follow at once: validation reads the user's permissions and status on
 * every request, and a removal also ends the sessions and bumps the
 * session generation.
 */


#include <sodium.h>

#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_cache.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_page.h"
#include "ngx_http_clientauth_account.h"
#include "ngx_http_clientauth_users.h"
#include "ngx_http_clientauth_limit.h"

#include "ca_perms.h"


#define NGX_HTTP_CLIENTAUTH_USERS_MAX     200   /* listed, per account */
#define NGX_HTTP_CLIENTAUTH_USERS_ID_LEN  16    /* an invitation's id */
#define NGX_HTTP_CLIENTAUTH_IDENTS        5     /* kinds a user may have */


/* One reply, kept past its callback. */
typedef struct {
    int                          type;         /* REDIS_REPLY_* */
    long long                    integer;
    ngx_str_t                    str;
    ngx_str_t                   *elts;         /* an array's strings */
    ngx_uint_t                   nelts;
} ngx_http_clientauth_users_reply_t;


typedef struct {
    ngx_http_clientauth_users_reply_t  *reply;
    ngx_uint_t                          nreplies;
    ngx_uint_t                          exec;       /* the EXEC's reply */
    ngx_uint_t                          tries;

    /* the request */
    char                                email[CA_IDENT_MAX];
    char                                target[21];     /* a user id */
    ca_perms_t                          perms;
    char                                perms_text[CA_PERMS_MAX];

    /* keys */
    char                               *users_key;
    char                               *invites_key;
    char                               *account_key;
    char                               *ident_key;
    char                               *user_key;
    char                               *idents[NGX_HTTP_CLIENTAUTH_IDENTS];
    ngx_uint_t                          nidents;   /* a removal's indexes */
    char                               *sessions_key;

    /* an invitation's limits: the account's, the inviter's */
    ngx_http_clientauth_window_t        limits[2];

    /* what the check read */
    ngx_str_t                           old_hash;     /* a resent invite's */
    ngx_array_t                        *sessions;     /* of ngx_str_t */

    /* the list */
    ngx_uint_t                          nusers;
    ngx_str_t                          *ids;
    ngx_uint_t                          ninvites;
    ngx_str_t                          *invites;      /* email, hash pairs */
    ngx_uint_t                         *first_session; /* per user */
    ngx_uint_t                         *nsessions;
    ngx_http_clientauth_users_reply_t  *rows;     /* users', invitations' */
} ngx_http_clientauth_users_t;


static ngx_int_t ngx_http_clientauth_users_start(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_begin(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_http_clientauth_users_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_step_pt next,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n, ngx_uint_t txn);
static void ngx_http_clientauth_users_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);
static ngx_int_t ngx_http_clientauth_users_refuse(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t status, const char *code,
    ca_text_e text);
static ngx_int_t ngx_http_clientauth_users_email(ngx_http_request_t *r,
    ngx_http_clientauth_users_t *us, ngx_str_t *value);
static ngx_int_t ngx_http_clientauth_users_read_perms(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us);
static ngx_int_t ngx_http_clientauth_users_ungrantable(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_http_clientauth_users_target(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us);
static char *ngx_http_clientauth_users_key(ngx_http_request_t *r,
    int len, char *key);
static ngx_uint_t ngx_http_clientauth_users_exec_aborted(
    ngx_http_clientauth_users_t *us);

static ngx_int_t ngx_http_clientauth_users_list_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_list_sessions(
    ngx_http_request_t *r, ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_list_send(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_list_json(ngx_http_request_t *r,
    ngx_http_clientauth_users_t *us, int64_t *last);
static ngx_int_t ngx_http_clientauth_users_list_page(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us,
    int64_t *last);

static ngx_int_t ngx_http_clientauth_users_invite_limits(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us);
static ngx_int_t ngx_http_clientauth_users_invite_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_invite_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_invite_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_cancel_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_cancel_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_cancel_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_member_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_member_check(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_idents(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us,
    ngx_str_t *values);
static void ngx_http_clientauth_users_forget(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us);
static ngx_int_t ngx_http_clientauth_users_perms_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_remove_apply(
    ngx_http_request_t *r, ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_users_remove_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);


/* The permissions the invitation form offers, as the brands name them. */
static struct {
    const char                  *name;
    ca_text_e                    text;
} ngx_http_clientauth_users_catalog[] = {
    { "billing", CA_T_PERM_BILLING },
    { "orders", CA_T_PERM_ORDERS },
    { "technical", CA_T_PERM_TECHNICAL },
    { "domains", CA_T_PERM_DOMAINS },
    { "contacts", CA_T_PERM_CONTACTS },
    { "users", CA_T_PERM_USERS },
    { NULL, CA_T_COUNT }
};


/* ------------------------------------------------------------ common */

/*
 * Every users request: the user must manage users (the owner, or "users"
 * held; NGX_DECLINED otherwise), then the account's keys are made.
 */

static ngx_int_t
ngx_http_clientauth_users_start(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    char                            *brand, *account;
    ngx_http_clientauth_users_t     *us;
    ngx_http_clientauth_account_t   *acc = ctx->flow;
    char                             key[CA_KEY_MAX];

    if (!ngx_http_clientauth_users_manager(acc)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: user %V of account %V may not manage "
                      "users", &acc->user, &acc->account);
        return NGX_DECLINED;
    }

    us = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_users_t));
    if (us == NULL) {
        return NGX_ERROR;
    }

    acc->data = us;
    brand = (char *) acc->brand.data;
    account = (char *) acc->account.data;

    us->users_key = ngx_http_clientauth_users_key(r,
                        ca_key_account_users(key, sizeof(key), brand,
                                             account), key);
    us->invites_key = ngx_http_clientauth_users_key(r,
                          ca_key_account_invites(key, sizeof(key), brand,
                                                 account), key);
    us->account_key = ngx_http_clientauth_users_key(r,
                          ca_key_account(key, sizeof(key), brand, account),
                          key);

    if (us->users_key == NULL || us->invites_key == NULL
        || us->account_key == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Whether the session's user manages users: the owner, or "users" held. */

ngx_uint_t
ngx_http_clientauth_users_manager(ngx_http_clientauth_account_t *acc)
{
    return (acc->role.len == 5
            && ngx_strncmp(acc->role.data, "owner", 5) == 0)
           || ngx_http_clientauth_account_held(acc, "users");
}


/* The users page: the area's URL and "users". */

ngx_int_t
ngx_http_clientauth_users_url(ngx_http_request_t *r, ngx_str_t *link)
{
    ngx_str_t  *url;

    url = ngx_http_clientauth_account_url(r);

    link->len = url->len + sizeof("users") - 1;
    link->data = ngx_pnalloc(r->pool, link->len);

    if (link->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(link->data, "%Vusers", url);

    return NGX_OK;
}


/* What a request that may not start answers. */

static ngx_int_t
ngx_http_clientauth_users_begin(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_int_t rc)
{
    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                                "forbidden",
                                                CA_T_USERS_FORBIDDEN);
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static char *
ngx_http_clientauth_users_key(ngx_http_request_t *r, int len, char *key)
{
    return len < 0 ? NULL : ngx_http_clientauth_pool_cstr(r, key);
}


/* Sends n commands; the replies are in us->reply when next runs. */

static ngx_int_t
ngx_http_clientauth_users_call(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_step_pt next,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t n, ngx_uint_t txn)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    us->reply = ngx_pcalloc(r->pool,
                            n * sizeof(ngx_http_clientauth_users_reply_t));
    if (us->reply == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    us->nreplies = n;
    ctx->next = next;

    /* the EXEC is last but for a WAIT (durable writes), whose reply the
     * bridge keeps to itself */
    for (us->exec = n; us->exec > 0; us->exec--) {
        if (ngx_strcmp(cmds[us->exec - 1].argv[0], "EXEC") == 0) {
            break;
        }
    }

    if (txn) {
        return ngx_http_clientauth_txn_call(r, ctx,
                                            ngx_http_clientauth_users_reply,
                                            cmds, n);
    }

    return ngx_http_clientauth_call(r, ctx, ngx_http_clientauth_users_reply,
                                    cmds, n);
}


static void
ngx_http_clientauth_users_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    size_t                              i;
    ngx_http_clientauth_users_reply_t  *out;
    ngx_http_clientauth_account_t      *acc = ctx->flow;
    ngx_http_clientauth_users_t        *us = acc->data;

    if (reply == NULL || n >= us->nreplies) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused a users command: %s",
                      reply->str);
        ctx->redis_error = 1;
        return;
    }

    out = &us->reply[n];
    out->type = reply->type;

    switch (reply->type) {

    case REDIS_REPLY_INTEGER:
        out->integer = reply->integer;
        break;

    case REDIS_REPLY_STRING:
        if (ngx_http_clientauth_reply_str(r->pool, reply, &out->str)
            == NGX_ERROR)
        {
            ctx->redis_error = 1;
        }

        break;

    case REDIS_REPLY_ARRAY:
        out->nelts = reply->elements;
        out->elts = ngx_pcalloc(r->pool,
                                (reply->elements + 1) * sizeof(ngx_str_t));
        if (out->elts == NULL) {
            ctx->redis_error = 1;
            break;
        }

        /* strings; nil and anything else (EXEC's replies) stay empty */
        for (i = 0; i < reply->elements; i++) {
            if (reply->element[i]->type == REDIS_REPLY_STRING
                && ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                                 &out->elts[i])
                   == NGX_ERROR)
            {
                ctx->redis_error = 1;
                return;
            }
        }

        break;

    default:                    /* NIL, STATUS */
        break;
    }
}


/* The EXEC's reply: nil when a watched key moved. */

static ngx_uint_t
ngx_http_clientauth_users_exec_aborted(ngx_http_clientauth_users_t *us)
{
    return us->exec == 0
           || us->reply[us->exec - 1].type != REDIS_REPLY_ARRAY;
}


/*
 * A refusal: 4xx with a code and a sentence; browsers get a page with the
 * way back to the users.  Any connection held is given back.
 */

static ngx_int_t
ngx_http_clientauth_users_refuse(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t status, const char *code,
    ca_text_e text)
{
    ngx_http_clientauth_outcome_t  oc;

    ngx_http_clientauth_redis_txn_end(ctx);

    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
    oc.title = status == NGX_HTTP_FORBIDDEN ? CA_T_FORBIDDEN_TITLE
                                            : CA_T_USERS_TITLE;
    oc.text = text;
    oc.link_text = CA_T_USERS_BACK;

    if (ngx_http_clientauth_users_url(r, &oc.link) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_send_outcome(r, status, code, &oc);
}


/* The "email" field, canonical, and its login index key. */

static ngx_int_t
ngx_http_clientauth_users_email(ngx_http_request_t *r,
    ngx_http_clientauth_users_t *us, ngx_str_t *value)
{
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (value->len == 0
        || ca_ident_normalise_kind(CA_ID_EMAIL, NULL, (char *) value->data,
                                   value->len, us->email)
           != CA_ID_EMAIL)
    {
        return NGX_DECLINED;
    }

    us->ident_key = ngx_http_clientauth_users_key(r,
                        ca_key_ident(key, sizeof(key),
                                     (char *) ascf->brand.data, "email",
                                     us->email), key);

    return us->ident_key ? NGX_OK : NGX_ERROR;
}


/*
 * The permissions to give: every "perm" field (the endpoint lets it repeat,
 * as the page's checkboxes send it), each a name, a comma-separated list or
 * "all".  NGX_DECLINED: none or invalid; NGX_ABORT: one the user does not
 * hold ("all" needs "all").
 */

static ngx_int_t
ngx_http_clientauth_users_read_perms(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us)
{
    size_t                  i;
    const ca_form_field_t  *f;

    for (i = 0; i < acc->form.nfields; i++) {
        f = &acc->form.fields[i];

        if (f->name_len == 4 && ngx_strncmp(f->name, "perm", 4) == 0
            && ca_perms_parse(&us->perms, f->value, f->value_len, ',') != 0)
        {
            return NGX_DECLINED;
        }
    }

    if (us->perms.n == 0) {
        return NGX_DECLINED;
    }

    (void) ca_perms_format(&us->perms, us->perms_text);

    if (!ca_perms_covers((char *) acc->permissions.data,
                         acc->permissions.len, &us->perms))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: user %V of account %V may not give "
                      "\"%s\"", &acc->user, &acc->account, us->perms_text);
        return NGX_ABORT;
    }

    return NGX_OK;
}


/* The refusal of permissions that do not parse, or that the user lacks. */

static ngx_int_t
ngx_http_clientauth_users_ungrantable(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_int_t rc)
{
    if (rc == NGX_ABORT) {
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                                "permission_not_held",
                                                CA_T_USERS_NOT_HELD);
    }

    return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                            "invalid_permissions",
                                            CA_T_USERS_MISSING_PERM);
}


/* The "user" field: a user id, and that user's keys. */

static ngx_int_t
ngx_http_clientauth_users_target(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us)
{
    ngx_str_t  value;
    char       key[CA_KEY_MAX];

    ngx_http_clientauth_form_value(&acc->form, "user", &value);

    if (!ca_id_is_valid((char *) value.data, value.len)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(us->target, value.data, value.len);
    us->target[value.len] = '\0';

    us->user_key = ngx_http_clientauth_users_key(r,
                       ca_key_user(key, sizeof(key), (char *) acc->brand.data,
                                   (char *) acc->account.data, us->target),
                       key);
    us->sessions_key = ngx_http_clientauth_users_key(r,
                           ca_key_user_sessions(key, sizeof(key),
                                                (char *) acc->brand.data,
                                                (char *) acc->account.data,
                                                us->target), key);

    return (us->user_key && us->sessions_key) ? NGX_OK : NGX_ERROR;
}


/* ------------------------------------------------------------ the list */

/* GET /auth/account/users: the users and the pending invitations. */

ngx_int_t
ngx_http_clientauth_users_list(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_clientauth_argv_t      cmds[2];
    ngx_http_clientauth_users_t    *us;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    rc = ngx_http_clientauth_users_start(r, ctx);
    if (rc != NGX_OK) {
        return ngx_http_clientauth_users_begin(r, ctx, rc);
    }

    us = acc->data;

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "SMEMBERS");
    ngx_http_clientauth_argv_add_str(&cmds[0], us->users_key);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HGETALL");
    ngx_http_clientauth_argv_add_str(&cmds[1], us->invites_key);

    return ngx_http_clientauth_users_call(r, ctx,
                                          ngx_http_clientauth_users_list_read,
                                          cmds, 2, 0);
}


/* Each user (its fields and session set) and each invitation. */

static ngx_int_t
ngx_http_clientauth_users_list_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_uint_t                      i, n;
    ngx_http_clientauth_argv_t     *cmds;
    ngx_http_clientauth_users_t    *us;
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    char                            key[CA_KEY_MAX];
    char                           *k;

    us = acc->data;

    us->ids = us->reply[0].elts;
    us->nusers = ngx_min(us->reply[0].nelts, NGX_HTTP_CLIENTAUTH_USERS_MAX);
    us->invites = us->reply[1].elts;
    us->ninvites = ngx_min(us->reply[1].nelts / 2,
                           NGX_HTTP_CLIENTAUTH_USERS_MAX);

    cmds = ngx_palloc(r->pool, (2 * us->nusers + us->ninvites + 1)
                               * sizeof(ngx_http_clientauth_argv_t));
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < us->nusers; i++) {
        if (!ca_id_is_valid((char *) us->ids[i].data, us->ids[i].len)) {
            us->ids[i].data = (u_char *) "0";
            us->ids[i].len = 1;
        }

        k = ngx_http_clientauth_users_key(r,
                ca_key_user(key, sizeof(key), (char *) acc->brand.data,
                            (char *) acc->account.data,
                            (char *) us->ids[i].data), key);
        if (k == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "HMGET");
        ngx_http_clientauth_argv_add_str(&cmds[n], k);
        ngx_http_clientauth_argv_add_str(&cmds[n], "email");
        ngx_http_clientauth_argv_add_str(&cmds[n], "perms");
        ngx_http_clientauth_argv_add_str(&cmds[n], "status");
        ngx_http_clientauth_argv_add_str(&cmds[n++], "role");

        k = ngx_http_clientauth_users_key(r,
                ca_key_user_sessions(key, sizeof(key),
                                     (char *) acc->brand.data,
                                     (char *) acc->account.data,
                                     (char *) us->ids[i].data), key);
        if (k == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "SMEMBERS");
        ngx_http_clientauth_argv_add_str(&cmds[n++], k);
    }

    for (i = 0; i < us->ninvites; i++) {
        if (us->invites[2 * i + 1].len != CA_TOKEN_HASH_LEN) {
            us->invites[2 * i + 1].data = (u_char *) "0";
            us->invites[2 * i + 1].len = 1;
        }

        k = ngx_http_clientauth_users_key(r,
                ca_key_invite(key, sizeof(key), (char *) acc->brand.data,
                              (char *) us->invites[2 * i + 1].data), key);
        if (k == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "HMGET");
        ngx_http_clientauth_argv_add_str(&cmds[n], k);
        ngx_http_clientauth_argv_add_str(&cmds[n], "email");
        ngx_http_clientauth_argv_add_str(&cmds[n], "perms");
        ngx_http_clientauth_argv_add_str(&cmds[n++], "expires");
    }

    if (n == 0) {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n++], "PING");
    }

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_list_sessions, cmds, n, 0);
}


/*
 * The users' last login: the latest creation time of the sessions their
 * index still names.  The user and invitation replies move aside first.
 */

static ngx_int_t
ngx_http_clientauth_users_list_sessions(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_uint_t                          i, j, n, total;
    ngx_str_t                          *hash;
    ngx_http_clientauth_argv_t         *cmds;
    ngx_http_clientauth_users_t        *us;
    ngx_http_clientauth_users_reply_t  *read;
    ngx_http_clientauth_account_t      *acc = ctx->flow;
    char                                key[CA_KEY_MAX];
    char                               *k;

    us = acc->data;
    read = us->reply;

    us->first_session = ngx_pcalloc(r->pool,
                                    (us->nusers + 1) * sizeof(ngx_uint_t));
    us->nsessions = ngx_pcalloc(r->pool,
                                (us->nusers + 1) * sizeof(ngx_uint_t));
    if (us->first_session == NULL || us->nsessions == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (total = 0, i = 0; i < us->nusers; i++) {
        total += ngx_min(read[2 * i + 1].nelts, 64);
    }

    cmds = ngx_palloc(r->pool, (total + 1)
                               * sizeof(ngx_http_clientauth_argv_t));
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < us->nusers; i++) {
        hash = read[2 * i + 1].elts;
        us->first_session[i] = n;

        for (j = 0; j < ngx_min(read[2 * i + 1].nelts, 64); j++) {
            if (hash[j].len != CA_TOKEN_HASH_LEN) {
                continue;
            }

            k = ngx_http_clientauth_users_key(r,
                    ca_key_session(key, sizeof(key), (char *) acc->brand.data,
                                   (char *) acc->account.data,
                                   (char *) hash[j].data), key);
            if (k == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_http_clientauth_argv_reset(&cmds[n]);
            ngx_http_clientauth_argv_add_str(&cmds[n], "HGET");
            ngx_http_clientauth_argv_add_str(&cmds[n], k);
            ngx_http_clientauth_argv_add_str(&cmds[n++], "c");
        }

        us->nsessions[i] = n - us->first_session[i];
    }

    /* the users' and invitations' replies: the next call's replace them */
    us->rows = read;

    if (n == 0) {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n++], "PING");
    }

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_list_send, cmds, n, 0);
}


static ngx_int_t
ngx_http_clientauth_users_list_send(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    int64_t                        *last, c;
    ngx_uint_t                      i, j;
    ngx_http_clientauth_users_t    *us;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    us = acc->data;

    last = ngx_pcalloc(r->pool, (us->nusers + 1) * sizeof(int64_t));
    if (last == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < us->nusers; i++) {
        for (j = us->first_session[i];
             j < us->first_session[i] + us->nsessions[i]; j++)
        {
            if (us->reply[j].type != REDIS_REPLY_STRING) {
                continue;
            }

            c = ngx_atoi(us->reply[j].str.data, us->reply[j].str.len);

            if (c != NGX_ERROR && c > last[i]) {
                last[i] = c;
            }
        }
    }

    /* the users' and invitations' replies again */
    us->reply = us->rows;

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_users_list_json(r, us, last);
    }

    return ngx_http_clientauth_users_list_page(r, acc, us, last);
}


/* A value as a JSON string, quotes included; its end. */

static u_char *
ngx_http_clientauth_users_json_str(u_char *p, ngx_str_t *s)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    return p;
}


/* A comma-separated list as a JSON array of strings; its end. */

static u_char *
ngx_http_clientauth_users_json_list(u_char *p, ngx_str_t *s)
{
    u_char  *q, *comma, *last;

    *p++ = '[';
    last = s->data + s->len;

    for (q = s->data; q && q < last; q = comma + 1) {
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

    *p++ = ']';

    return p;
}


/*
 * {"ok":true,"users":[{"user":"7","email":"…","permissions":["billing"],
 * "role":"subuser","status":"active","last_login":1764550000123|null}],
 * "invitations":[{"id":"…","email":"…","permissions":[…],
 * "expires":1765154800}]}
 */

static ngx_int_t
ngx_http_clientauth_users_list_json(ngx_http_request_t *r,
    ngx_http_clientauth_users_t *us, int64_t *last)
{
    size_t                              len;
    u_char                             *p;
    ngx_str_t                           json, *f, id;
    ngx_uint_t                          i, k;
    ngx_http_clientauth_users_reply_t  *rp;

    len = sizeof("{\"ok\":true,\"users\":[],\"invitations\":[]}");

    for (i = 0; i < us->nusers + us->ninvites; i++) {
        rp = &us->reply[i < us->nusers ? 2 * i : 2 * us->nusers
                                                  + (i - us->nusers)];
        len += 200 + us->ids[0].len + NGX_INT64_LEN;

        for (k = 0; k < rp->nelts; k++) {
            len += 9 * (rp->elts[k].len + 1);
        }
    }

    json.data = ngx_pnalloc(r->pool, len);
    if (json.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(json.data, "{\"ok\":true,\"users\":[",
                   sizeof("{\"ok\":true,\"users\":[") - 1);

    for (i = 0; i < us->nusers; i++) {
        f = us->reply[2 * i].elts;

        if (us->reply[2 * i].nelts != 4 || f[0].len == 0) {
            continue;                   /* named, but gone */
        }

        if (p[-1] != '[') {
            *p++ = ',';
        }

        p = ngx_cpymem(p, "{\"user\":", 8);
        p = ngx_http_clientauth_users_json_str(p, &us->ids[i]);
        p = ngx_cpymem(p, ",\"email\":", 9);
        p = ngx_http_clientauth_users_json_str(p, &f[0]);
        p = ngx_cpymem(p, ",\"permissions\":", 15);
        p = ngx_http_clientauth_users_json_list(p, &f[1]);
        p = ngx_cpymem(p, ",\"role\":", 8);
        p = ngx_http_clientauth_users_json_str(p, &f[3]);
        p = ngx_cpymem(p, ",\"status\":", 10);
        p = ngx_http_clientauth_users_json_str(p, &f[2]);
        p = ngx_cpymem(p, ",\"last_login\":", 14);
        p = last[i] ? ngx_sprintf(p, "%L", last[i])
                    : ngx_cpymem(p, "null", 4);
        *p++ = '}';
    }

    p = ngx_cpymem(p, "],\"invitations\":[",
                   sizeof("],\"invitations\":[") - 1);

    for (i = 0; i < us->ninvites; i++) {
        rp = &us->reply[2 * us->nusers + i];
        f = rp->elts;

        if (rp->nelts != 3 || f[0].len == 0) {
            continue;                   /* expired or spent */
        }

        if (p[-1] != '[') {
            *p++ = ',';
        }

        id.data = us->invites[2 * i + 1].data;
        id.len = ngx_min(us->invites[2 * i + 1].len,
                         NGX_HTTP_CLIENTAUTH_USERS_ID_LEN);

        p = ngx_cpymem(p, "{\"id\":", 6);
        p = ngx_http_clientauth_users_json_str(p, &id);
        p = ngx_cpymem(p, ",\"email\":", 9);
        p = ngx_http_clientauth_users_json_str(p, &f[0]);
        p = ngx_cpymem(p, ",\"permissions\":", 15);
        p = ngx_http_clientauth_users_json_list(p, &f[1]);
        p = ngx_cpymem(p, ",\"expires\":", 11);
        p = ngx_sprintf(p, "%L", (int64_t) ngx_atotm(f[2].data, f[2].len));
        *p++ = '}';
    }

    p = ngx_cpymem(p, "]}", 2);
    json.len = p - json.data;

    return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &json);
}


/* Text for HTML: &, <, >, " escaped. */

static u_char *
ngx_http_clientauth_users_html_esc(u_char *p, ngx_str_t *s)
{
    return (u_char *) ngx_escape_html(p, s->data, s->len);
}


static u_char *
ngx_http_clientauth_users_html_text(u_char *p, ca_texts_t *texts,
    ca_text_e t)
{
    ngx_str_t  s;

    s.data = (u_char *) texts->t[t];
    s.len = ngx_strlen(texts->t[t]);

    return ngx_http_clientauth_users_html_esc(p, &s);
}


/* The catalog's checkboxes, those the user may give, checked as held. */

static u_char *
ngx_http_clientauth_users_html_choices(u_char *p, ca_texts_t *texts,
    ngx_http_clientauth_account_t *acc, ngx_str_t *held)
{
    ngx_uint_t   i;
    const char  *name;

    /* "all" is given by whoever holds "all" only */
    if (acc->permissions.len == 3
        && ngx_strncmp(acc->permissions.data, "all", 3) == 0)
    {
        p = ngx_sprintf(p, "<label><input type=\"checkbox\" name=\"perm\""
                        " value=\"all\"%s> ",
                        held && held->len == 3
                        && ca_perms_held((char *) held->data, held->len,
                                         "all") ? " checked" : "");
        p = ngx_http_clientauth_users_html_text(p, texts, CA_T_USERS_ALL);
        p = ngx_cpymem(p, "</label>", 8);
    }

    for (i = 0; ngx_http_clientauth_users_catalog[i].name; i++) {
        name = ngx_http_clientauth_users_catalog[i].name;

        if (!ngx_http_clientauth_account_held(acc, name)) {
            continue;
        }

        p = ngx_sprintf(p, "<label><input type=\"checkbox\" name=\"perm\""
                        " value=\"%s\"%s> ", name,
                        held && ca_perms_held((char *) held->data, held->len,
                                              name) ? " checked" : "");
        p = ngx_http_clientauth_users_html_text(p, texts,
                ngx_http_clientauth_users_catalog[i].text);
        p = ngx_cpymem(p, "</label>", 8);
    }

    return p;
}


/*
 * The start of a form posting to the area's users/ACTION with the CSRF
 * token and one hidden field; ngx_http_clientauth_users_html_submit()
 * ends it.
 */

static u_char *
ngx_http_clientauth_users_html_form(u_char *p,
    ngx_http_clientauth_account_t *acc, ngx_str_t *url, const char *action,
    const char *name, ngx_str_t *value)
{
    p = ngx_sprintf(p, "<form method=\"post\" action=\"%Vusers/%s\">", url,
                    action);
    p = ngx_cpymem(p, "<input type=\"hidden\" name=\"csrf\" value=\"",
                   sizeof("<input type=\"hidden\" name=\"csrf\" value=\"")
                   - 1);
    p = ngx_http_clientauth_users_html_esc(p, &acc->csrf);
    p = ngx_sprintf(p, "\"><input type=\"hidden\" name=\"%s\" value=\"",
                    name);
    p = ngx_http_clientauth_users_html_esc(p, value);

    return ngx_cpymem(p, "\">", 2);
}


static u_char *
ngx_http_clientauth_users_html_submit(u_char *p, ca_texts_t *texts,
    ca_text_e text)
{
    p = ngx_cpymem(p, "<button type=\"submit\" class=\"secondary\">",
                   sizeof("<button type=\"submit\" class=\"secondary\">")
                   - 1);
    p = ngx_http_clientauth_users_html_text(p, texts, text);

    return ngx_cpymem(p, "</button></form>", 16);
}


/*
 * One user: e-mail, permissions, status, last login; but for the owner,
 * its permissions' form and its removal.  f: email perms status role.
 */

static u_char *
ngx_http_clientauth_users_html_user(u_char *p, ca_texts_t *texts,
    ngx_http_clientauth_account_t *acc, ngx_str_t *url, ngx_str_t *id,
    ngx_str_t *f, int64_t last)
{
    ngx_uint_t  owner;

    owner = (f[3].len == 5 && ngx_strncmp(f[3].data, "owner", 5) == 0);

    p = ngx_cpymem(p, "<li><span class=\"who\">", 22);
    p = ngx_http_clientauth_users_html_esc(p, &f[0]);
    p = ngx_cpymem(p, "</span><span class=\"when\">", 26);

    if (owner) {
        p = ngx_http_clientauth_users_html_text(p, texts, CA_T_USERS_OWNER);

    } else if (f[1].len == 3 && ngx_strncmp(f[1].data, "all", 3) == 0) {
        p = ngx_http_clientauth_users_html_text(p, texts, CA_T_USERS_ALL);

    } else {
        p = ngx_http_clientauth_users_html_esc(p, &f[1]);
    }

    p = ngx_cpymem(p, " · ", sizeof(" · ") - 1);
    p = ngx_http_clientauth_users_html_text(p, texts,
            (f[2].len == 6 && ngx_strncmp(f[2].data, "active", 6) == 0)
            ? CA_T_USERS_ACTIVE : CA_T_USERS_LOCKED);
    p = ngx_cpymem(p, " · ", sizeof(" · ") - 1);
    p = ngx_http_clientauth_users_html_text(p, texts, CA_T_USERS_LAST_LOGIN);
    p = ngx_cpymem(p, ": ", 2);

    if (last) {
        p = ngx_http_time(p, (time_t) (last / 1000));

    } else {
        p = ngx_http_clientauth_users_html_text(p, texts, CA_T_USERS_NEVER);
    }

    p = ngx_cpymem(p, "</span>", 7);

    if (!owner) {
        p = ngx_http_clientauth_users_html_form(p, acc, url, "perms", "user",
                                                id);
        p = ngx_http_clientauth_users_html_choices(p, texts, acc, &f[1]);
        p = ngx_http_clientauth_users_html_submit(p, texts, CA_T_USERS_SAVE);

        p = ngx_http_clientauth_users_html_form(p, acc, url, "remove", "user",
                                                id);
        p = ngx_http_clientauth_users_html_submit(p, texts,
                                                  CA_T_USERS_REMOVE);
    }

    return ngx_cpymem(p, "</li>", 5);
}


/*
 * One pending invitation: its address, permissions and expiry, sending it
 * again (a fresh link, the same permissions) and cancelling it.
 * f: email perms expires.
 */

static u_char *
ngx_http_clientauth_users_html_invite(u_char *p, ca_texts_t *texts,
    ngx_http_clientauth_account_t *acc, ngx_str_t *url, ngx_str_t *hash,
    ngx_str_t *f)
{
    ngx_str_t  id;

    id.data = hash->data;
    id.len = ngx_min(hash->len, NGX_HTTP_CLIENTAUTH_USERS_ID_LEN);

    p = ngx_cpymem(p, "<li id=\"invite-", 15);
    p = ngx_http_clientauth_users_html_esc(p, &id);
    p = ngx_cpymem(p, "\"><span class=\"who\">", 20);
    p = ngx_http_clientauth_users_html_esc(p, &f[0]);
    p = ngx_cpymem(p, "</span><span class=\"when\">", 26);
    p = ngx_http_clientauth_users_html_esc(p, &f[1]);
    p = ngx_cpymem(p, " · ", sizeof(" · ") - 1);
    p = ngx_http_clientauth_users_html_text(p, texts, CA_T_USERS_EXPIRES);
    p = ngx_cpymem(p, ": ", 2);
    p = ngx_http_time(p, ngx_atotm(f[2].data, f[2].len));
    p = ngx_cpymem(p, "</span>", 7);

    p = ngx_http_clientauth_users_html_form(p, acc, url, "invite", "email",
                                            &f[0]);
    p = ngx_cpymem(p, "<input type=\"hidden\" name=\"perm\" value=\"",
                   sizeof("<input type=\"hidden\" name=\"perm\" value=\"")
                   - 1);
    p = ngx_http_clientauth_users_html_esc(p, &f[1]);
    p = ngx_cpymem(p, "\">", 2);
    p = ngx_http_clientauth_users_html_submit(p, texts, CA_T_USERS_RESEND);

    p = ngx_http_clientauth_users_html_form(p, acc, url, "invite/cancel",
                                            "email", &f[0]);
    p = ngx_http_clientauth_users_html_submit(p, texts, CA_T_USERS_CANCEL);

    return ngx_cpymem(p, "</li>", 5);
}


/* ?done=WHAT after a change: the notice the page shows. */

static void
ngx_http_clientauth_users_notice(ngx_http_request_t *r, ca_texts_t *texts,
    ngx_str_t *notice)
{
    ngx_str_t   done;
    ngx_uint_t  i;

    static struct {
        ngx_str_t  done;
        ca_text_e  text;
    } notices[] = {
        { ngx_string("user_invited"), CA_T_USERS_INVITED },
        { ngx_string("invite_cancelled"), CA_T_USERS_INVITE_CANCELLED },
        { ngx_string("perms_changed"), CA_T_USERS_PERMS_CHANGED },
        { ngx_string("user_removed"), CA_T_USERS_REMOVED },
    };

    if (ngx_http_arg(r, (u_char *) "done", 4, &done) != NGX_OK) {
        return;
    }

    for (i = 0; i < sizeof(notices) / sizeof(notices[0]); i++) {
        if (ngx_http_clientauth_str_eq(&done, &notices[i].done)) {
            notice->data = (u_char *) texts->t[notices[i].text];
            notice->len = ngx_strlen(texts->t[notices[i].text]);
        }
    }
}


/* The users' and invitations' lists for the page's template. */

static ngx_int_t
ngx_http_clientauth_users_list_page(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us,
    int64_t *last)
{
    u_char                             *p, *start;
    size_t                              len, row, tsum, vsum;
    ngx_str_t                          *url;
    ngx_uint_t                          i, k, t;
    ca_texts_t                         *texts;
    ngx_http_clientauth_users_reply_t  *rp;
    ngx_str_t                           vars[NGX_HTTP_CLIENTAUTH_V_COUNT];

    texts = ngx_http_clientauth_page_texts(r);
    url = ngx_http_clientauth_account_url(r);
    ngx_memzero(vars, sizeof(vars));

    /*
     * An upper bound: per row (and once more for the form's choices) the
     * markup, every users text twice and every value three times (an
     * invitation's e-mail), each escaped (at most 6 bytes a byte), the URL
     * four times and two dates.
     */
    for (tsum = 0, t = CA_T_USERS_TITLE; t <= CA_T_PERM_USERS; t++) {
        tsum += ngx_strlen(texts->t[t]);
    }

    for (vsum = 0, i = 0; i < 2 * us->nusers + us->ninvites; i++) {
        for (k = 0; k < us->reply[i].nelts; k++) {
            vsum += us->reply[i].elts[k].len;
        }
    }

    row = 4096 + 12 * tsum + 18 * acc->csrf.len + 4 * url->len
          + 6 * NGX_INT64_LEN + 2 * sizeof("Mon, 28 Sep 1970 06:00:00 GMT");

    len = (us->nusers + us->ninvites + 1) * row + 3 * 6 * vsum;

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(start, "<ul class=\"users\">", 18);

    for (i = 0; i < us->nusers; i++) {
        if (us->reply[2 * i].nelts == 4 && us->reply[2 * i].elts[0].len) {
            p = ngx_http_clientauth_users_html_user(p, texts, acc, url,
                                                    &us->ids[i],
                                                    us->reply[2 * i].elts,
                                                    last[i]);
        }
    }

    p = ngx_cpymem(p, "</ul>", 5);
    vars[NGX_HTTP_CLIENTAUTH_V_USERS].data = start;
    vars[NGX_HTTP_CLIENTAUTH_V_USERS].len = p - start;

    start = p;

    for (i = 0; i < us->ninvites; i++) {
        rp = &us->reply[2 * us->nusers + i];

        if (rp->nelts != 3 || rp->elts[0].len == 0) {
            continue;                   /* expired or spent */
        }

        if (p == start) {
            p = ngx_cpymem(p, "<ul class=\"users\">", 18);
        }

        p = ngx_http_clientauth_users_html_invite(p, texts, acc, url,
                                                  &us->invites[2 * i + 1],
                                                  rp->elts);
    }

    if (p != start) {
        p = ngx_cpymem(p, "</ul>", 5);
        vars[NGX_HTTP_CLIENTAUTH_V_INVITES].data = start;
        vars[NGX_HTTP_CLIENTAUTH_V_INVITES].len = p - start;
    }

    vars[NGX_HTTP_CLIENTAUTH_V_PERM_CHOICES].data = p;
    p = ngx_http_clientauth_users_html_choices(p, texts, acc, NULL);
    vars[NGX_HTTP_CLIENTAUTH_V_PERM_CHOICES].len =
                              p - vars[NGX_HTTP_CLIENTAUTH_V_PERM_CHOICES].data;

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                     (u_char *) texts->t[CA_T_USERS_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                     ngx_strlen(texts->t[CA_T_USERS_TITLE]);
    vars[NGX_HTTP_CLIENTAUTH_V_CSRF] = acc->csrf;
    vars[NGX_HTTP_CLIENTAUTH_V_ACCOUNT_URL] = *url;

    ngx_http_clientauth_users_notice(r, texts,
                                     &vars[NGX_HTTP_CLIENTAUTH_V_NOTICE]);

    return ngx_http_clientauth_page_render(r, NGX_HTTP_OK,
                                           NGX_HTTP_CLIENTAUTH_P_USERS, vars);
}


/*
 * Success: JSON {"ok":true,"message":…}; browsers go back to the users'
 * page with the notice.
 */

static ngx_int_t
ngx_http_clientauth_users_ok(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, const char *done, ca_text_e text)
{
    u_char     *p;
    ngx_str_t  *url, location;

    ngx_http_clientauth_redis_txn_end(ctx);

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_message(r, NGX_HTTP_OK, done,
                                                CA_T_USERS_TITLE, text);
    }

    url = ngx_http_clientauth_account_url(r);

    location.data = ngx_pnalloc(r->pool, url->len + sizeof("users?done=") - 1
                                         + ngx_strlen(done));
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(location.data, "%Vusers?done=%s", url, done);
    location.len = p - location.data;

    return ngx_http_clientauth_send_redirect(r, NGX_HTTP_SEE_OTHER,
                                             &location);
}


/* ------------------------------------------------------------ invite */

/* POST users/invite email perm…: a new invitation, or a fresh link. */

ngx_int_t
ngx_http_clientauth_users_invite(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                       email;
    ngx_http_clientauth_users_t    *us;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    rc = ngx_http_clientauth_users_start(r, ctx);
    if (rc != NGX_OK) {
        return ngx_http_clientauth_users_begin(r, ctx, rc);
    }

    us = acc->data;

    ngx_http_clientauth_form_value(&acc->form, "email", &email);

    rc = ngx_http_clientauth_users_email(r, us, &email);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                                "invalid_email",
                                                CA_T_USERS_BAD_EMAIL);
    }

    rc = ngx_http_clientauth_users_read_perms(r, acc, us);
    if (rc != NGX_OK) {
        return ngx_http_clientauth_users_ungrantable(r, ctx, rc);
    }

    if (ngx_http_clientauth_users_invite_limits(r, acc, us) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_users_invite_watch(r, ctx);
}


/*
 * Invitations sent (and sent again) are limited per account and per
 * inviter (clientauth_invite_limit), so that no one mails arbitrary
 * addresses through the brand's mailer at will.
 */

static ngx_int_t
ngx_http_clientauth_users_invite_limits(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us)
{
    u_char                          *inviter;
    ngx_http_clientauth_limit_t     *limits;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    limits = ascf->invite_limits;

    inviter = ngx_pnalloc(r->pool, acc->account.len + acc->user.len + 2);
    if (inviter == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(inviter, "%V:%V%Z", &acc->account, &acc->user);

    if (ngx_http_clientauth_window_init(r, &us->limits[0], "invite-account",
                                        (char *) acc->account.data,
                                        limits[0].count, limits[0].window)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_clientauth_window_init(r, &us->limits[1],
               "invite-inviter", (char *) inviter, limits[1].count,
               limits[1].window);
}


/*
 * WATCH the address's login index, the account's invitations and the
 * limits' buckets: is the address registered, does it have an invitation
 * to replace, may one more be sent?
 */

static ngx_int_t
ngx_http_clientauth_users_invite_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_argv_t      cmds[7];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], us->ident_key);
    ngx_http_clientauth_argv_add_str(&cmds[0], us->invites_key);
    ngx_http_clientauth_argv_add_str(&cmds[0], us->limits[0].current);
    ngx_http_clientauth_argv_add_str(&cmds[0], us->limits[1].current);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "EXISTS");
    ngx_http_clientauth_argv_add_str(&cmds[1], us->ident_key);

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "HGET");
    ngx_http_clientauth_argv_add_str(&cmds[2], us->invites_key);
    ngx_http_clientauth_argv_add_str(&cmds[2], us->email);

    ngx_http_clientauth_window_read(&us->limits[0], &cmds[3]);
    ngx_http_clientauth_window_read(&us->limits[1], &cmds[5]);

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_invite_apply, cmds, 7, 1);
}


static ngx_int_t
ngx_http_clientauth_users_invite_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    u_char                           *p, *url, *ttl, *now, *expires;
    size_t                            ttl_len;
    time_t                            wait;
    ngx_str_t                         lang;
    ngx_int_t                         rc;
    ngx_uint_t                        i, n;
    ngx_http_clientauth_argv_t        cmds[13];
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_recipient_t   to;
    ngx_http_clientauth_account_t    *acc = ctx->flow;
    ngx_http_clientauth_users_t      *us = acc->data;
    char                              token[CA_TOKEN_LEN + 1];
    char                              hash[CA_TOKEN_HASH_LEN + 1];
    char                              ikey[CA_KEY_MAX], okey[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    for (i = 0; i < 2; i++) {
        wait = ngx_http_clientauth_window_wait(&us->limits[i],
                                               &us->reply[3 + 2 * i].str,
                                               &us->reply[4 + 2 * i].str);
        if (wait == 0) {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: invitation by user %V of account %V "
                      "refused: %ui per %M ms reached for the %s",
                      &acc->user, &acc->account, us->limits[i].count,
                      us->limits[i].window, i ? "inviter" : "account");

        if (ngx_http_clientauth_retry_after(r, wait) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clientauth_users_refuse(r, ctx,
                                                NGX_HTTP_TOO_MANY_REQUESTS,
                                                "too_many_invitations",
                                                CA_T_USERS_TOO_MANY);
    }

    if (us->reply[1].integer != 0) {
        /* whose it is, the inviter is not told */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: invitation from account %V refused: the "
                      "address is already registered", &acc->account);
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_CONFLICT,
                                                "email_taken",
                                                CA_T_USERS_TAKEN);
    }

    us->old_hash = us->reply[2].str;

    ca_token_generate(token);

    if (ca_token_hash(token, CA_TOKEN_LEN, hash) != 0
        || ca_key_invite(ikey, sizeof(ikey), (char *) ascf->brand.data, hash)
           < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the link comes from configuration, never from the request's Host */
    url = ngx_pnalloc(r->pool, ascf->invite_url.len + sizeof("?token=") - 1
                               + CA_TOKEN_LEN);
    ttl = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    now = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    expires = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);

    if (url == NULL || ttl == NULL || now == NULL || expires == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(url, "%V%stoken=%s", &ascf->invite_url,
                    ngx_strlchr(ascf->invite_url.data,
                                ascf->invite_url.data + ascf->invite_url.len,
                                '?') ? "&" : "?", token);

    if (ngx_http_clientauth_lang(r, &lang) == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    if (us->old_hash.len == CA_TOKEN_HASH_LEN
        && ca_key_invite(okey, sizeof(okey), (char *) ascf->brand.data,
                         (char *) us->old_hash.data) >= 0)
    {
        /* resent: the former link dies with the new one's birth */
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
        ngx_http_clientauth_argv_add_str(&cmds[n++], okey);
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], ikey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "account");
    ngx_http_clientauth_argv_add(&cmds[n], acc->account.data,
                                 acc->account.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "inviter");
    ngx_http_clientauth_argv_add(&cmds[n], acc->user.data, acc->user.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "email");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->email);
    ngx_http_clientauth_argv_add_str(&cmds[n], "perms");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->perms_text);
    ngx_http_clientauth_argv_add_str(&cmds[n], "locale");
    ngx_http_clientauth_argv_add(&cmds[n], lang.data, lang.len);
    ngx_http_clientauth_argv_add_str(&cmds[n], "created");
    ngx_http_clientauth_argv_add(&cmds[n], now,
                                 ngx_sprintf(now, "%T", ngx_time()) - now);
    ngx_http_clientauth_argv_add_str(&cmds[n], "expires");
    ngx_http_clientauth_argv_add(&cmds[n++], expires,
                                 ngx_sprintf(expires, "%T",
                                     ngx_time() + (time_t)
                                     (ascf->invite_lifetime / 1000))
                                 - expires);

    ttl_len = ngx_sprintf(ttl, "%M", ascf->invite_lifetime) - ttl;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[n], ikey);
    ngx_http_clientauth_argv_add(&cmds[n++], ttl, ttl_len);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->invites_key);
    ngx_http_clientauth_argv_add_str(&cmds[n], us->email);
    ngx_http_clientauth_argv_add_str(&cmds[n++], hash);

    /*
     * The account's list lives as long as its newest invitation can, and
     * is never shortened (GT; NX gives a new list its TTL): entries of
     * invitations that expired go with it.
     */
    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->invites_key);
    ngx_http_clientauth_argv_add(&cmds[n], ttl, ttl_len);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "NX");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->invites_key);
    ngx_http_clientauth_argv_add(&cmds[n], ttl, ttl_len);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "GT");

    to.account = (char *) acc->account.data;
    to.user = (char *) acc->user.data;
    to.email.data = (u_char *) us->email;
    to.email.len = ngx_strlen(us->email);
    to.locale = lang;

    if (ngx_http_clientauth_outbox_message(r, ascf, &cmds[n],
                                           "user_invitation", &to)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_add_str(&cmds[n], "url");
    ngx_http_clientauth_argv_add(&cmds[n], url, p - url);
    ngx_http_clientauth_argv_add_str(&cmds[n], "perms");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->perms_text);
    ngx_http_clientauth_argv_add_str(&cmds[n], "inviter");
    ngx_http_clientauth_argv_add(&cmds[n++], acc->email.data, acc->email.len);

    for (i = 0; i < 2; i++) {
        rc = ngx_http_clientauth_window_count(r, &us->limits[i], &cmds[n]);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n += rc;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: user %V of account %V %s a sub-user "
                  "(permissions \"%s\")", &acc->user, &acc->account,
                  us->old_hash.len ? "invited again" : "invited",
                  us->perms_text);

    /* the replies go in us->reply: EXEC's is the last */
    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_invite_done, cmds, n, 1);
}


static ngx_int_t
ngx_http_clientauth_users_invite_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    if (ngx_http_clientauth_users_exec_aborted(us)) {
        if (++us->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_users_invite_watch(r, ctx);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: the invitations of account %V kept "
                      "changing", &acc->account);
        return ngx_http_clientauth_send_unavailable(r);
    }

    return ngx_http_clientauth_users_ok(r, ctx, "user_invited",
                                        CA_T_USERS_INVITED);
}


/* ------------------------------------------------------------ cancel */

/* POST users/invite/cancel email */

ngx_int_t
ngx_http_clientauth_users_invite_cancel(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                       email;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    rc = ngx_http_clientauth_users_start(r, ctx);
    if (rc != NGX_OK) {
        return ngx_http_clientauth_users_begin(r, ctx, rc);
    }

    ngx_http_clientauth_form_value(&acc->form, "email", &email);

    rc = ngx_http_clientauth_users_email(r, acc->data, &email);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                                "invalid_email",
                                                CA_T_USERS_BAD_EMAIL);
    }

    return ngx_http_clientauth_users_cancel_watch(r, ctx);
}


static ngx_int_t
ngx_http_clientauth_users_cancel_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_argv_t      cmds[2];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], us->invites_key);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], us->invites_key);
    ngx_http_clientauth_argv_add_str(&cmds[1], us->email);

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_cancel_apply, cmds, 2, 1);
}


static ngx_int_t
ngx_http_clientauth_users_cancel_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_argv_t      cmds[4];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;
    char                            ikey[CA_KEY_MAX];

    if (us->reply[1].str.len != CA_TOKEN_HASH_LEN
        || ca_key_invite(ikey, sizeof(ikey), (char *) acc->brand.data,
                         (char *) us->reply[1].str.data) < 0)
    {
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_NOT_FOUND,
                                                "not_found",
                                                CA_T_USERS_NO_INVITE);
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[1], ikey);

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "HDEL");
    ngx_http_clientauth_argv_add_str(&cmds[2], us->invites_key);
    ngx_http_clientauth_argv_add_str(&cmds[2], us->email);

    ngx_http_clientauth_argv_reset(&cmds[3]);
    ngx_http_clientauth_argv_add_str(&cmds[3], "EXEC");

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_cancel_done, cmds, 4, 1);
}


static ngx_int_t
ngx_http_clientauth_users_cancel_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    if (ngx_http_clientauth_users_exec_aborted(us)) {
        if (++us->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_users_cancel_watch(r, ctx);
        }

        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: user %V of account %V cancelled an "
                  "invitation", &acc->user, &acc->account);

    return ngx_http_clientauth_users_ok(r, ctx, "invite_cancelled",
                                        CA_T_USERS_INVITE_CANCELLED);
}


/* ------------------------------------------------- perms and removal */

/* POST users/perms user perm… */

ngx_int_t
ngx_http_clientauth_users_perms(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_clientauth_users_t    *us;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    rc = ngx_http_clientauth_users_start(r, ctx);
    if (rc != NGX_OK) {
        return ngx_http_clientauth_users_begin(r, ctx, rc);
    }

    us = acc->data;

    rc = ngx_http_clientauth_users_target(r, acc, us);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                                "invalid_user",
                                                CA_T_USERS_UNKNOWN);
    }

    rc = ngx_http_clientauth_users_read_perms(r, acc, us);
    if (rc != NGX_OK) {
        return ngx_http_clientauth_users_ungrantable(r, ctx, rc);
    }

    return ngx_http_clientauth_users_member_watch(r, ctx);
}


/* POST users/remove user */

ngx_int_t
ngx_http_clientauth_users_remove(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    rc = ngx_http_clientauth_users_start(r, ctx);
    if (rc != NGX_OK) {
        return ngx_http_clientauth_users_begin(r, ctx, rc);
    }

    rc = ngx_http_clientauth_users_target(r, acc, acc->data);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                                "invalid_user",
                                                CA_T_USERS_UNKNOWN);
    }

    return ngx_http_clientauth_users_member_watch(r, ctx);
}


/*
 * WATCH the target user and its sessions, and read whether it is a user of
 * this account, whether it is the owner, its login identifiers and its
 * sessions.
 */

static ngx_int_t
ngx_http_clientauth_users_member_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_uint_t                      kind;
    ngx_http_clientauth_argv_t      cmds[5];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], us->user_key);
    ngx_http_clientauth_argv_add_str(&cmds[0], us->sessions_key);
    ngx_http_clientauth_argv_add_str(&cmds[0], us->users_key);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HMGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], us->user_key);
    ngx_http_clientauth_argv_add_str(&cmds[1], "role");

    /* every identifier the record names: "email", ... "domain" */
    for (kind = CA_ID_EMAIL; kind <= CA_ID_DOMAIN; kind <<= 1) {
        ngx_http_clientauth_argv_add_str(&cmds[1], ca_ident_kind_name(kind));
    }

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "SISMEMBER");
    ngx_http_clientauth_argv_add_str(&cmds[2], us->users_key);
    ngx_http_clientauth_argv_add_str(&cmds[2], us->target);

    ngx_http_clientauth_argv_reset(&cmds[3]);
    ngx_http_clientauth_argv_add_str(&cmds[3], "HGET");
    ngx_http_clientauth_argv_add_str(&cmds[3], us->account_key);
    ngx_http_clientauth_argv_add_str(&cmds[3], "owner");

    ngx_http_clientauth_argv_reset(&cmds[4]);
    ngx_http_clientauth_argv_add_str(&cmds[4], "SMEMBERS");
    ngx_http_clientauth_argv_add_str(&cmds[4], us->sessions_key);

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_member_check, cmds, 5, 1);
}


/*
 * A user of the account other than its owner: a permission change is one
 * HSET; a removal also watches the e-mail's login index first.
 */

static ngx_int_t
ngx_http_clientauth_users_member_check(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_str_t                      *f, *owner, *s;
    ngx_uint_t                      i, n, remove;
    ngx_http_clientauth_argv_t      cmds[4];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    remove = (us->perms.n == 0);
    f = us->reply[1].elts;
    owner = &us->reply[3].str;

    if (us->reply[2].integer != 1
        || us->reply[1].nelts != 1 + NGX_HTTP_CLIENTAUTH_IDENTS
        || f[0].len == 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: user %s is no user of account %V",
                      us->target, &acc->account);
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_NOT_FOUND,
                                                "unknown_user",
                                                CA_T_USERS_UNKNOWN);
    }

    if ((f[0].len == 5 && ngx_strncmp(f[0].data, "owner", 5) == 0)
        || (owner->len == ngx_strlen(us->target)
            && ngx_strncmp(owner->data, us->target, owner->len) == 0))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: user %V of account %V may not %s the "
                      "owner", &acc->user, &acc->account,
                      remove ? "remove" : "limit");
        return ngx_http_clientauth_users_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                                "owner",
                                                CA_T_USERS_IS_OWNER);
    }

    if (!remove) {
        ngx_http_clientauth_argv_reset(&cmds[0]);
        ngx_http_clientauth_argv_add_str(&cmds[0], "MULTI");

        ngx_http_clientauth_argv_reset(&cmds[1]);
        ngx_http_clientauth_argv_add_str(&cmds[1], "HSET");
        ngx_http_clientauth_argv_add_str(&cmds[1], us->user_key);
        ngx_http_clientauth_argv_add_str(&cmds[1], "perms");
        ngx_http_clientauth_argv_add_str(&cmds[1], us->perms_text);

        ngx_http_clientauth_argv_reset(&cmds[2]);
        ngx_http_clientauth_argv_add_str(&cmds[2], "EXEC");

        /* a failover must not give the permissions back */
        n = 3 + ngx_http_clientauth_durable(r, &cmds[3]);

        return ngx_http_clientauth_users_call(r, ctx,
                   ngx_http_clientauth_users_perms_done, cmds, n, 1);
    }

    /* a removal: the sessions to end, and the login indexes */
    us->sessions = ngx_array_create(r->pool, us->reply[4].nelts + 1,
                                    sizeof(ngx_str_t));
    if (us->sessions == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < us->reply[4].nelts; i++) {
        s = ngx_array_push(us->sessions);
        if (s == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *s = us->reply[4].elts[i];
    }

    if (ngx_http_clientauth_users_idents(r, acc, us, &f[1]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_reset(&cmds[1]);

    if (us->nidents == 0) {
        ngx_http_clientauth_argv_add_str(&cmds[0], "PING");
        ngx_http_clientauth_argv_add_str(&cmds[1], "PING");

    } else {
        ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
        ngx_http_clientauth_argv_add_str(&cmds[1], "MGET");

        for (i = 0; i < us->nidents; i++) {
            ngx_http_clientauth_argv_add_str(&cmds[0], us->idents[i]);
            ngx_http_clientauth_argv_add_str(&cmds[1], us->idents[i]);
        }
    }

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_remove_apply, cmds, 2, 1);
}


/*
 * The login index keys of the identifiers the user's record names (values:
 * email, customer_number, nic, phone, domain, as stored: canonical).
 */

static ngx_int_t
ngx_http_clientauth_users_idents(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us,
    ngx_str_t *values)
{
    char        *v;
    ngx_uint_t   i, kind;
    char         key[CA_KEY_MAX];

    us->nidents = 0;

    for (i = 0, kind = CA_ID_EMAIL; kind <= CA_ID_DOMAIN; i++, kind <<= 1) {
        if (values[i].len == 0) {
            continue;
        }

        v = ngx_pnalloc(r->pool, values[i].len + 1);
        if (v == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(v, values[i].data, values[i].len);
        v[values[i].len] = '\0';

        /* one too long for any index names none */
        if (values[i].len >= CA_IDENT_MAX
            || ca_key_ident(key, sizeof(key), (char *) acc->brand.data,
                            ca_ident_kind_name(kind), v) < 0)
        {
            continue;
        }

        us->idents[us->nidents] = ngx_http_clientauth_pool_cstr(r, key);
        if (us->idents[us->nidents] == NULL) {
            return NGX_ERROR;
        }

        us->nidents++;
    }

    return NGX_OK;
}


/*
 * Committed on a connection of its own: the invalidation may come after
 * the answer, so the worker forgets the user's cached sessions now.
 */

static void
ngx_http_clientauth_users_forget(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_http_clientauth_users_t *us)
{
    ngx_http_clientauth_cache_forget_user(
        ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
        (char *) acc->account.data, us->target);
}


static ngx_int_t
ngx_http_clientauth_users_perms_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    if (ngx_http_clientauth_users_exec_aborted(us)) {
        if (++us->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_users_member_watch(r, ctx);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: user %s of account %V kept changing "
                      "while user %V changed it", us->target, &acc->account,
                      &acc->user);
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_http_clientauth_users_forget(r, acc, us);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: user %V of account %V gave user %s the "
                  "permissions \"%s\"", &acc->user, &acc->account,
                  us->target, us->perms_text);

    return ngx_http_clientauth_users_ok(r, ctx, "perms_changed",
                                        CA_T_USERS_PERMS_CHANGED);
}


/*
 * One MULTI: every session of the user ends (listed ones deleted, the
 * generation bumped for a login in flight), the user, its place in the
 * account, its password history, the devices it logged in from (login
 * notices) and every login index of its record that
 * still names this user (e-mail, customer number, NIC, phone, domain) go.
 */

static ngx_int_t
ngx_http_clientauth_users_remove_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    u_char                          *ref;
    size_t                           reflen;
    ngx_int_t                        rc;
    ngx_uint_t                       i, n, max, members;
    ngx_http_clientauth_argv_t      *cmds;
    ngx_http_clientauth_srv_conf_t  *ascf;
    ngx_http_clientauth_account_t   *acc = ctx->flow;
    ngx_http_clientauth_users_t     *us = acc->data;
    char                             hkey[CA_KEY_MAX];
    char                             dkey[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    /* MULTI, the revocation, DEL, SREM, DEL of the indexes, EXEC, WAIT */
    max = 6 + ngx_http_clientauth_revoke_size(us->sessions);

    cmds = ngx_palloc(r->pool, max * sizeof(ngx_http_clientauth_argv_t));
    ref = ngx_pnalloc(r->pool, CA_ID_REF_MAX);

    if (cmds == NULL || ref == NULL
        || ca_key_user_history(hkey, sizeof(hkey), (char *) acc->brand.data,
                               (char *) acc->account.data, us->target) < 0
        || ca_key_user_devices(dkey, sizeof(dkey), (char *) acc->brand.data,
                               (char *) acc->account.data, us->target) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    reflen = ngx_sprintf(ref, "%V:%s", &acc->account, us->target) - ref;
    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    rc = ngx_http_clientauth_revoke_commands(r, ascf,
                                             (char *) acc->account.data,
                                             us->target, us->sessions,
                                             &cmds[n], &members);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n += rc;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->user_key);
    ngx_http_clientauth_argv_add_str(&cmds[n], hkey);
    ngx_http_clientauth_argv_add_str(&cmds[n++], dkey);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "SREM");
    ngx_http_clientauth_argv_add_str(&cmds[n], us->users_key);
    ngx_http_clientauth_argv_add_str(&cmds[n++], us->target);

    /* an index that names someone else meanwhile is theirs: kept */
    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");

    for (i = 0; i < us->nidents && i < us->reply[1].nelts; i++) {
        if (us->reply[1].elts[i].len == reflen
            && ngx_strncmp(us->reply[1].elts[i].data, ref, reflen) == 0)
        {
            ngx_http_clientauth_argv_add_str(&cmds[n], us->idents[i]);
        }
    }

    if (cmds[n].argc > 1) {
        n++;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    /* a failover must not bring the user or its sessions back */
    n += ngx_http_clientauth_durable(r, &cmds[n]);

    return ngx_http_clientauth_users_call(r, ctx,
               ngx_http_clientauth_users_remove_done, cmds, n, 1);
}


static ngx_int_t
ngx_http_clientauth_users_remove_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_users_t    *us = acc->data;

    if (ngx_http_clientauth_users_exec_aborted(us)) {
        if (++us->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_users_member_watch(r, ctx);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: user %s of account %V kept changing "
                      "while user %V changed it", us->target, &acc->account,
                      &acc->user);
        return ngx_http_clientauth_send_unavailable(r);
    }

    /*
     * A session written after the read (a login in flight) names a user
     * that is gone: validation refuses it, and it idles out.
     */

    ngx_http_clientauth_users_forget(r, acc, us);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: user %V of account %V removed user %s",
                  &acc->user, &acc->account, us->target);

    return ngx_http_clientauth_users_ok(r, ctx, "user_removed",
                                        CA_T_USERS_REMOVED);
}
