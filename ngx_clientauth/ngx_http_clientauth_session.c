
/*
 * Session validation in the access phase.
 *
 * The cookie holds a token that names its user (ca_token_session()) and 192
 * random bits; Redis holds, under the token's hash, the session's account,
 * user, absolute expiry (x), last refresh (s) and the user's session
 * generation when it was made (g), with a key TTL that is the idle
 * deadline.  A request costs one round trip: HMGET of the session and HMGET
 * of its user's status, permissions and generation, pipelined.  So a
 * revocation (sgen moved on), a lock or new permissions apply at once even
 * to a session the user's index of sessions no longer lists.  The idle
 * deadline is pushed back (HSET s + PEXPIRE, no reply awaited) only once
 * clientauth_session_refresh has passed since the last push, so most
 * requests write nothing.
 *
 * With the session cache on (ngx_http_clientauth_cache.c), a session in use
 * costs no round trip: the lookup finds both records in the worker's cache,
 * and its deadlines are checked from them as from a read.  A miss reads as
 * above, each HMGET after CLIENT CACHING yes so that Redis tracks both
 * keys, with PTTL of the session: its key's deadline, which a hit checks
 * too, so a TTL cut short by hand ends the session on time even before
 * Redis's expiry cycle deletes the key.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_cache.h"


static ngx_int_t ngx_http_clientauth_session_lookup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_loc_conf_t *alcf);
static void ngx_http_clientauth_session_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);
static void ngx_http_clientauth_session_record(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, redisReply *reply);
static void ngx_http_clientauth_session_owner(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, redisReply *reply);
static void ngx_http_clientauth_session_deadline(ngx_http_clientauth_ctx_t *ctx,
    redisReply *reply);
static ngx_uint_t ngx_http_clientauth_session_batch(
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t cached, const char *key,
    const char *ukey);
static void ngx_http_clientauth_session_store(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static void ngx_http_clientauth_session_unexpected(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_clientauth_session_decide(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_loc_conf_t *alcf);
static ngx_uint_t ngx_http_clientauth_refreshed_lately(
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf,
    int64_t now);
static void ngx_http_clientauth_session_refresh(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf);
static ngx_uint_t ngx_http_clientauth_satisfy_any(ngx_http_request_t *r);
static ngx_int_t ngx_http_clientauth_deny(ngx_http_request_t *r,
    ngx_http_clientauth_loc_conf_t *alcf);
static ngx_int_t ngx_http_clientauth_permitted(ngx_str_t *held,
    ngx_array_t *required);
static ngx_int_t ngx_http_clientauth_strip_identity(ngx_http_request_t *r);
static ngx_int_t ngx_http_clientauth_set_identity(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf);
static ngx_int_t ngx_http_clientauth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* the session: a u x s g; its user: status perms sgen */
#define NGX_HTTP_CLIENTAUTH_SESSION_FIELDS  5
#define NGX_HTTP_CLIENTAUTH_OWNER_FIELDS    3

/* what each reply of a lookup is: without the cache, and with it */
typedef enum {
    NGX_HTTP_CLIENTAUTH_R_IGNORED = 0,     /* CLIENT CACHING's +OK */
    NGX_HTTP_CLIENTAUTH_R_SESSION,
    NGX_HTTP_CLIENTAUTH_R_OWNER,
    NGX_HTTP_CLIENTAUTH_R_DEADLINE
} ngx_http_clientauth_reply_role_e;

static const u_char  ngx_http_clientauth_plain_roles[] = {
    NGX_HTTP_CLIENTAUTH_R_SESSION, NGX_HTTP_CLIENTAUTH_R_OWNER
};

static const u_char  ngx_http_clientauth_cached_roles[] = {
    NGX_HTTP_CLIENTAUTH_R_IGNORED, NGX_HTTP_CLIENTAUTH_R_SESSION,
    NGX_HTTP_CLIENTAUTH_R_IGNORED, NGX_HTTP_CLIENTAUTH_R_OWNER,
    NGX_HTTP_CLIENTAUTH_R_DEADLINE
};


/* The identity headers, in the order of ngx_http_clientauth_identity_t. */
static ngx_str_t  ngx_http_clientauth_identity_headers[] = {
    ngx_string("X-Client-Account"),
    ngx_string("X-Client-User"),
    ngx_string("X-Client-Permissions"),
    ngx_string("X-Client-Brand")
};

/* their lower-case names and hashes, made once */
static u_char      ngx_http_clientauth_identity_lowcase[4][32];
static ngx_uint_t  ngx_http_clientauth_identity_hash[4];


static ngx_http_variable_t  ngx_http_clientauth_vars[] = {

    { ngx_string("clientauth_account"), NULL, ngx_http_clientauth_variable,
      offsetof(ngx_http_clientauth_identity_t, account),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("clientauth_user"), NULL, ngx_http_clientauth_variable,
      offsetof(ngx_http_clientauth_identity_t, user),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("clientauth_permissions"), NULL,
      ngx_http_clientauth_variable,
      offsetof(ngx_http_clientauth_identity_t, permissions),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("clientauth_brand"), NULL, ngx_http_clientauth_variable,
      (uintptr_t) -1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * A client never speaks for the gateway, protected URI or not: its
 * identity headers go before any phase (rewrite, limit_req keys, ...) could
 * read them.
 */

ngx_int_t
ngx_http_clientauth_strip_handler(ngx_http_request_t *r)
{
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ascf->brand.len == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_clientauth_strip_identity(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_clientauth_access_handler(ngx_http_request_t *r)
{
    ngx_http_clientauth_ctx_t       *ctx;
    ngx_http_clientauth_srv_conf_t  *ascf;
    ngx_http_clientauth_loc_conf_t  *alcf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ascf->brand.len == 0) {
        /* the configuration makes sure no protected location is here */
        return NGX_DECLINED;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_clientauth_module);

    if (!alcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_clientauth_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->wait) {

    case NGX_HTTP_CLIENTAUTH_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_CLIENTAUTH_REPLIED:
        ctx->wait = NGX_HTTP_CLIENTAUTH_IDLE;
        r->read_event_handler = ngx_http_block_reading;
        return ngx_http_clientauth_session_decide(r, ctx, ascf, alcf);

    default: /* NGX_HTTP_CLIENTAUTH_IDLE */
        return ngx_http_clientauth_session_lookup(r, ctx, ascf, alcf);
    }
}


/*
 * The session token: the value of the one pair named cookie_name in all
 * the request's Cookie lines, parsed strictly (ca_cookie.h) rather than by
 * ngx_http_parse_multi_header_lines(), which also splits on ',' and
 * ignores case: a sibling subdomain could then put its own token first.
 * Sent more than once, it is nobody's session: which one the browser meant
 * cannot be told.  NGX_DECLINED: no session cookie.
 */

ngx_int_t
ngx_http_clientauth_session_cookie(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_str_t *token)
{
    size_t            found, len;
    ngx_uint_t        i;
    const char       *value;
    ngx_table_elt_t **h;

    found = 0;
    value = NULL;
    len = 0;
    h = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        found += ca_cookie_find((char *) h[i]->value.data, h[i]->value.len,
                                (char *) ascf->cookie_name.data,
                                ascf->cookie_name.len, &value, &len);
    }

    if (found == 0) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "clientauth: no session cookie");
        return NGX_DECLINED;
    }

    if (found > 1) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: session cookie sent %uz times, "
                      "ignored", found);
        return NGX_DECLINED;
    }

    token->data = (u_char *) value;
    token->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_clientauth_session_lookup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_loc_conf_t *alcf)
{
    ngx_int_t                    rc;
    ngx_str_t                    cookie;
    ngx_uint_t                   n;
    ngx_http_clientauth_cache_t *cache;
    ngx_http_clientauth_argv_t   cmds[5];
    char                         hash[CA_TOKEN_HASH_LEN + 1];
    char                         key[CA_KEY_MAX], ukey[CA_KEY_MAX];
    char                         account[CA_TOKEN_ID_LEN];
    char                         user[CA_TOKEN_ID_LEN];

    if (ngx_http_clientauth_session_cookie(r, ascf, &cookie) != NGX_OK) {
        return ngx_http_clientauth_session_decide(r, ctx, ascf, alcf);
    }

    if (ca_token_session((char *) cookie.data, cookie.len, hash, account,
                         user)
        != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: malformed session cookie");
        return ngx_http_clientauth_session_decide(r, ctx, ascf, alcf);
    }

    ctx->token_hash.len = CA_TOKEN_HASH_LEN;
    ctx->token_hash.data = ngx_pnalloc(r->pool, CA_TOKEN_HASH_LEN + 1);
    ctx->identity.account.data = ngx_pnalloc(r->pool, 2 * CA_TOKEN_ID_LEN);
    if (ctx->token_hash.data == NULL || ctx->identity.account.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->token_hash.data, hash, CA_TOKEN_HASH_LEN + 1);

    /* whom the token names: the session must say the same */
    ctx->identity.account.len = ngx_strlen(account);
    ngx_memcpy(ctx->identity.account.data, account, CA_TOKEN_ID_LEN);
    ctx->identity.user.len = ngx_strlen(user);
    ctx->identity.user.data = ctx->identity.account.data + CA_TOKEN_ID_LEN;
    ngx_memcpy(ctx->identity.user.data, user, CA_TOKEN_ID_LEN);

    if (ca_key_session(key, sizeof(key), (char *) ascf->brand.data, account,
                       hash)
        < 0
        || ca_key_user(ukey, sizeof(ukey), (char *) ascf->brand.data,
                       account, user) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cache = ngx_http_clientauth_cache_serving(ascf->redis);

    if (cache) {
        rc = ngx_http_clientauth_cache_lookup(r, ctx, cache, key, ukey);

        if (rc == NGX_OK) {
            return ngx_http_clientauth_session_decide(r, ctx, ascf, alcf);
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx->cache_batch = (cache != NULL);
    n = ngx_http_clientauth_session_batch(cmds, ctx->cache_batch, key, ukey);

    rc = ngx_http_clientauth_redis_call(r, ctx, ascf->redis,
                                        ngx_http_clientauth_session_reply,
                                        cmds, n);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->redis_error = 1;
        return ngx_http_clientauth_session_decide(r, ctx, ascf, alcf);
    }

    /* a client that goes away while Redis answers ends the request */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/*
 * The lookup's commands: HMGET of the session and of its user; for the
 * cache, each after CLIENT CACHING yes (tracking is OPTIN), and PTTL.
 */

static ngx_uint_t
ngx_http_clientauth_session_batch(ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t cached, const char *key, const char *ukey)
{
    ngx_uint_t                   i, n;
    ngx_http_clientauth_argv_t  *a;

    n = cached ? sizeof(ngx_http_clientauth_cached_roles)
               : sizeof(ngx_http_clientauth_plain_roles);

    for (i = 0; i < n; i++) {
        a = &cmds[i];
        ngx_http_clientauth_argv_reset(a);

        switch (cached ? ngx_http_clientauth_cached_roles[i]
                       : ngx_http_clientauth_plain_roles[i])
        {
        case NGX_HTTP_CLIENTAUTH_R_IGNORED:
            ngx_http_clientauth_argv_add_str(a, "CLIENT");
            ngx_http_clientauth_argv_add_str(a, "CACHING");
            ngx_http_clientauth_argv_add_str(a, "yes");
            break;

        case NGX_HTTP_CLIENTAUTH_R_SESSION:
            ngx_http_clientauth_argv_add_str(a, "HMGET");
            ngx_http_clientauth_argv_add_str(a, key);
            ngx_http_clientauth_argv_add_str(a, "a");
            ngx_http_clientauth_argv_add_str(a, "u");
            ngx_http_clientauth_argv_add_str(a, "x");
            ngx_http_clientauth_argv_add_str(a, "s");
            ngx_http_clientauth_argv_add_str(a, "g");
            break;

        case NGX_HTTP_CLIENTAUTH_R_OWNER:
            ngx_http_clientauth_argv_add_str(a, "HMGET");
            ngx_http_clientauth_argv_add_str(a, ukey);
            ngx_http_clientauth_argv_add_str(a, "status");
            ngx_http_clientauth_argv_add_str(a, "perms");
            ngx_http_clientauth_argv_add_str(a, "sgen");
            break;

        default: /* NGX_HTTP_CLIENTAUTH_R_DEADLINE */
            ngx_http_clientauth_argv_add_str(a, "PTTL");
            ngx_http_clientauth_argv_add_str(a, key);
            break;
        }
    }

    return n;
}


static void
ngx_http_clientauth_session_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t  role;

    if (reply == NULL) {
        return;
    }

    role = ctx->cache_batch ? ngx_http_clientauth_cached_roles[n]
                            : ngx_http_clientauth_plain_roles[n];

    switch (role) {

    case NGX_HTTP_CLIENTAUTH_R_SESSION:
        ngx_http_clientauth_session_record(r, ctx, reply);
        break;

    case NGX_HTTP_CLIENTAUTH_R_OWNER:
        if (ctx->session_named) {
            ngx_http_clientauth_session_owner(r, ctx, reply);

        } else if (reply->type != REDIS_REPLY_ARRAY) {
            ngx_http_clientauth_session_unexpected(r, ctx, reply);
        }

        break;

    case NGX_HTTP_CLIENTAUTH_R_DEADLINE:
        ngx_http_clientauth_session_deadline(ctx, reply);
        break;

    default:
        break;
    }
}


/* PTTL: the key's deadline (-1: none, -2: gone, and the HMGET said so). */

static void
ngx_http_clientauth_session_deadline(ngx_http_clientauth_ctx_t *ctx,
    redisReply *reply)
{
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0) {
        ctx->session_deadline = ngx_http_clientauth_now_ms()
                                + reply->integer;
    }
}


static void
ngx_http_clientauth_session_unexpected(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, redisReply *reply)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "clientauth: unexpected redis reply to a session "
                  "lookup (type %d)", reply->type);
    ctx->redis_error = 1;
}


/* The session: its user must be the token's. */

static void
ngx_http_clientauth_session_record(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, redisReply *reply)
{
    ngx_str_t           account, user;
    ca_reply_session_t  s;

    switch (ca_reply_session(reply, &s)) {

    case CA_REPLY_OK:
        break;

    case CA_REPLY_NIL:
        /* gone, expired, made before sessions had a generation, or a key
         * that is not a whole session */
        return;

    case CA_REPLY_CORRUPT:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: corrupt session record ignored");
        return;

    default:
        ngx_http_clientauth_session_unexpected(r, ctx, reply);
        return;
    }

    account.data = (u_char *) s.account;
    account.len = s.account_len;
    user.data = (u_char *) s.user;
    user.len = s.user_len;

    if (!ngx_http_clientauth_str_eq(&account, &ctx->identity.account)
        || !ngx_http_clientauth_str_eq(&user, &ctx->identity.user))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: session record of another user ignored");
        return;
    }

    if (ngx_http_clientauth_reply_copy(r->pool, s.generation,
                                       s.generation_len, &ctx->session_gen)
        != NGX_OK)
    {
        return;
    }

    ctx->session_expires = s.expires;
    ctx->session_refreshed = s.refreshed;
    ctx->session_named = 1;
}


/*
 * Its user, as it is now: still active, and no revocation since the session
 * was made.  The permissions are the user's current ones.
 */

static void
ngx_http_clientauth_session_owner(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, redisReply *reply)
{
    ngx_str_t         sgen;
    ca_reply_owner_t  o;

    switch (ca_reply_owner(reply, &o)) {

    case CA_REPLY_OK:
        break;

    case CA_REPLY_CORRUPT:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: corrupt user record of a session "
                      "ignored");
        return;

    default:
        ngx_http_clientauth_session_unexpected(r, ctx, reply);
        return;
    }

    if (!o.active) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "clientauth: session of a user locked or gone");
        return;
    }

    sgen.data = (u_char *) o.generation;
    sgen.len = o.generation_len;

    if (!ngx_http_clientauth_str_eq(&sgen, &ctx->session_gen)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: session of user %V of account %V made "
                      "before its sessions were revoked", &ctx->identity.user,
                      &ctx->identity.account);
        return;
    }

    if (ngx_http_clientauth_reply_copy(r->pool, o.permissions,
                                       o.permissions_len,
                                       &ctx->identity.permissions)
        != NGX_OK)
    {
        return;
    }

    ctx->session_found = 1;
}


static ngx_int_t
ngx_http_clientauth_session_decide(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf,
    ngx_http_clientauth_loc_conf_t *alcf)
{
    int64_t  now;

    if (ctx->redis_error) {
        ngx_http_clientauth_cache_abort(ctx);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: session store unavailable, "
                      "refusing the request");

        if (ngx_http_clientauth_satisfy_any(r)) {
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        return ngx_http_clientauth_finalize(r,
                   ngx_http_clientauth_send_unavailable(r));
    }

    now = ngx_http_clientauth_now_ms();

    if (ctx->cache_reading) {
        ngx_http_clientauth_session_store(r, ctx);
    }

    if (!ctx->session_found
        || now >= ctx->session_expires
        || now - ctx->session_refreshed >= (int64_t) ascf->session_idle
        || (ctx->session_deadline && now >= ctx->session_deadline))
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "clientauth: no valid session");
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SESSION_INVALID);
        return ngx_http_clientauth_deny(r, alcf);
    }

    if (!ngx_http_clientauth_permitted(&ctx->identity.permissions,
                                       alcf->require))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: user %V of account %V lacks a permission "
                      "this location requires", &ctx->identity.user,
                      &ctx->identity.account);
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SESSION_FORBIDDEN);

        if (ngx_http_clientauth_satisfy_any(r)) {
            return NGX_HTTP_FORBIDDEN;
        }

        return ngx_http_clientauth_finalize(r,
                   ngx_http_clientauth_send_message(r, NGX_HTTP_FORBIDDEN,
                       "forbidden", CA_T_FORBIDDEN_TITLE, CA_T_FORBIDDEN));
    }

    if (now - ctx->session_refreshed >= (int64_t) ascf->session_refresh
        && !ngx_http_clientauth_refreshed_lately(ctx, ascf, now))
    {
        ngx_http_clientauth_session_refresh(r, ctx, ascf);
        ctx->session_refreshed = now;
    }

    ctx->session_valid = 1;
    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SESSION_VALID);

    if (ngx_http_clientauth_set_identity(r, ctx, ascf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/*
 * The requests of a page that arrive together all read the same, due
 * refresh time: a small per-worker table remembers the sessions this worker
 * refreshed lately, so that one of them writes, not every one.
 */

#define NGX_HTTP_CLIENTAUTH_RECENT  256

typedef struct {
    u_char                       hash[CA_TOKEN_HASH_LEN];
    int64_t                      at;
} ngx_http_clientauth_recent_t;

static ngx_http_clientauth_recent_t
    ngx_http_clientauth_recent[NGX_HTTP_CLIENTAUTH_RECENT];


static ngx_uint_t
ngx_http_clientauth_refreshed_lately(ngx_http_clientauth_ctx_t *ctx,
    ngx_http_clientauth_srv_conf_t *ascf, int64_t now)
{
    ngx_uint_t                     slot;
    ngx_http_clientauth_recent_t  *recent;

    /* the hash is a digest already: two hex digits make a fair index */
    slot = (ngx_hextoi(ctx->token_hash.data, 2) & 0xff)
           % NGX_HTTP_CLIENTAUTH_RECENT;
    recent = &ngx_http_clientauth_recent[slot];

    if (ngx_memcmp(recent->hash, ctx->token_hash.data, CA_TOKEN_HASH_LEN)
        == 0
        && now - recent->at < (int64_t) ascf->session_refresh)
    {
        return 1;
    }

    ngx_memcpy(recent->hash, ctx->token_hash.data, CA_TOKEN_HASH_LEN);
    recent->at = now;

    return 0;
}


/*
 * Best effort: if it is lost, the session only ends a little early.  A
 * session deleted between the HMGET and this write comes back as a bare
 * {s} hash that no lookup accepts and that expires by itself.
 */

static void
ngx_http_clientauth_session_refresh(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf)
{
    u_char                      *p;
    int64_t                      now, ttl;
    ngx_http_clientauth_argv_t   cmds[2];
    char                         key[CA_KEY_MAX];
    u_char                       nowbuf[NGX_INT64_LEN], ttlbuf[NGX_INT64_LEN];

    now = ngx_http_clientauth_now_ms();
    ttl = ngx_min((int64_t) ascf->session_idle, ctx->session_expires - now);

    if (ttl <= 0
        || ca_key_session(key, sizeof(key), (char *) ascf->brand.data,
                          (char *) ctx->identity.account.data,
                          (char *) ctx->token_hash.data)
           < 0)
    {
        return;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[0], key);
    ngx_http_clientauth_argv_add_str(&cmds[0], "s");
    p = ngx_sprintf(nowbuf, "%L", now);
    ngx_http_clientauth_argv_add(&cmds[0], nowbuf, p - nowbuf);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[1], key);
    p = ngx_sprintf(ttlbuf, "%L", ttl);
    ngx_http_clientauth_argv_add(&cmds[1], ttlbuf, p - ttlbuf);

    if (ngx_http_clientauth_redis_post(ascf->redis, cmds, 2) == NGX_OK) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_SESSION_REFRESHED);
    }

    /* the next request reads the session as this write left it */
    ngx_http_clientauth_cache_forget(ascf->redis, key);
}


/*
 * A session found valid goes into the cache with its user, as read (the
 * ticket refuses it if either key changed since the read was sent).
 */

static void
ngx_http_clientauth_session_store(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ca_scache_user_t     u;
    ca_scache_session_t  s;

    if (!ctx->session_found || ctx->redis_error
        || ctx->identity.account.len >= CA_SCACHE_ID_MAX
        || ctx->identity.user.len >= CA_SCACHE_ID_MAX
        || ctx->session_gen.len >= CA_SCACHE_ID_MAX
        || ctx->identity.permissions.len >= CA_SCACHE_PERMS_MAX)
    {
        ngx_http_clientauth_cache_abort(ctx);
        return;
    }

    ngx_memzero(&s, sizeof(ca_scache_session_t));
    ngx_memcpy(s.account, ctx->identity.account.data,
               ctx->identity.account.len);
    ngx_memcpy(s.user, ctx->identity.user.data, ctx->identity.user.len);
    ngx_memcpy(s.generation, ctx->session_gen.data, ctx->session_gen.len);
    s.expires = ctx->session_expires;
    s.refreshed = ctx->session_refreshed;
    s.deadline = ctx->session_deadline;

    /* the owner matched: its sgen is the session's g */
    u.active = 1;
    u.perms_len = ctx->identity.permissions.len;
    ngx_memcpy(u.perms, ctx->identity.permissions.data, u.perms_len);
    ngx_memcpy(u.generation, s.generation, sizeof(s.generation));

    ngx_http_clientauth_cache_store(ctx, &s, &u);
}


/*
 * Under "satisfy any" another access module may still let the request in:
 * the refusal is only returned, for the phase engine to weigh.
 */

static ngx_uint_t
ngx_http_clientauth_satisfy_any(ngx_http_request_t *r)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    return clcf->satisfy == NGX_HTTP_SATISFY_ANY;
}


/* Browsers go to the login page with the way back; other clients get 401. */

static ngx_int_t
ngx_http_clientauth_deny(ngx_http_request_t *r,
    ngx_http_clientauth_loc_conf_t *alcf)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   location;

    if (ngx_http_clientauth_satisfy_any(r)) {
        return NGX_HTTP_UNAUTHORIZED;
    }

    if (!ngx_http_clientauth_accepts(r, "text/html")) {
        return ngx_http_clientauth_finalize(r,
                   ngx_http_clientauth_send_message(r, NGX_HTTP_UNAUTHORIZED,
                       "unauthenticated", CA_T_LOGIN_TITLE,
                       CA_T_NEED_LOGIN));
    }

    len = alcf->login_url.len + sizeof("?next=") - 1
          + r->unparsed_uri.len
          + 2 * ngx_escape_uri(NULL, r->unparsed_uri.data,
                               r->unparsed_uri.len, NGX_ESCAPE_URI_COMPONENT);

    location.data = ngx_pnalloc(r->pool, len);
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(location.data, alcf->login_url.data, alcf->login_url.len);
    p = ngx_cpymem(p, "?next=", sizeof("?next=") - 1);
    p = (u_char *) ngx_escape_uri(p, r->unparsed_uri.data,
                                  r->unparsed_uri.len,
                                  NGX_ESCAPE_URI_COMPONENT);
    location.len = p - location.data;

    return ngx_http_clientauth_finalize(r,
               ngx_http_clientauth_send_redirect(r, NGX_HTTP_MOVED_TEMPORARILY,
                                                 &location));
}


static ngx_int_t
ngx_http_clientauth_permitted(ngx_str_t *held, ngx_array_t *required)
{
    u_char      *p, *last, *comma;
    ngx_str_t   *need;
    ngx_uint_t   i, found;

    if (required == NULL) {
        return 1;
    }

    need = required->elts;
    last = held->data + held->len;

    for (i = 0; i < required->nelts; i++) {
        found = 0;

        for (p = held->data; p < last; p = comma + 1) {
            comma = ngx_strlchr(p, last, ',');
            if (comma == NULL) {
                comma = last;
            }

            if ((comma - p == 3 && ngx_strncmp(p, "all", 3) == 0)
                || ((size_t) (comma - p) == need[i].len
                    && ngx_strncmp(p, need[i].data, need[i].len) == 0))
            {
                found = 1;
                break;
            }
        }

        if (!found) {
            return 0;
        }
    }

    return 1;
}


/*
 * Every X-Client-* header is the gateway's to set, not only the four it
 * sets today: a portal may read others (X-Client-Email, X-Client-Role).
 * "X_Client_*" reaches FastCGI and uwsgi as HTTP_X_CLIENT_* too, so '_'
 * counts as '-'.
 */

static ngx_uint_t
ngx_http_clientauth_is_identity_header(ngx_str_t *key)
{
    u_char             c;
    ngx_uint_t         i;
    static const char  prefix[] = "x-client-";

    if (key->len < sizeof(prefix) - 1) {
        return 0;
    }

    for (i = 0; i < sizeof(prefix) - 1; i++) {
        c = ngx_tolower(key->data[i]);

        if (c == '_') {
            c = '-';
        }

        if (c != (u_char) prefix[i]) {
            return 0;
        }
    }

    return 1;
}


/*
 * Client-sent identity headers are left out of a new header list.  They are
 * not shifted out in place: r->headers_in keeps pointers to the elements
 * (Host, Cookie, ...), which must stay where they are; they stay valid in
 * the old list, which remains in the pool.
 */

static ngx_int_t
ngx_http_clientauth_strip_identity(ngx_http_request_t *r)
{
    ngx_uint_t        i, found, n;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *copy;
    char              esc[CA_LOGESC_SIZE];

    found = 0;
    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            n++;

            if (ngx_http_clientauth_is_identity_header(&h[i].key)) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "clientauth: removed client-sent header "
                              "\"%s\"",
                              ngx_http_clientauth_log_safe(esc, &h[i].key));
                found++;
            }
        }
    }

    if (found == 0) {
        return NGX_OK;
    }

    /* the list head is copied: its "last" may point into itself */
    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, n + 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (part = &old.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_clientauth_is_identity_header(&h[i].key)) {
                continue;
            }

            copy = ngx_list_push(&r->headers_in.headers);
            if (copy == NULL) {
                return NGX_ERROR;
            }

            *copy = h[i];
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clientauth_set_identity(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_srv_conf_t *ascf)
{
    ngx_str_t        *values[4];
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    /* an internal redirect validates again: no earlier pass's headers */
    if (ngx_http_clientauth_strip_identity(r) != NGX_OK) {
        return NGX_ERROR;
    }

    values[0] = &ctx->identity.account;
    values[1] = &ctx->identity.user;
    values[2] = &ctx->identity.permissions;
    values[3] = &ascf->brand;

    for (i = 0; i < 4; i++) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->key = ngx_http_clientauth_identity_headers[i];
        h->value = *values[i];
        h->lowcase_key = ngx_http_clientauth_identity_lowcase[i];
        h->hash = ngx_http_clientauth_identity_hash[i];
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_clientauth_add_variables(ngx_conf_t *cf)
{
    ngx_uint_t            i;
    ngx_str_t            *name;
    ngx_http_variable_t  *var, *v;

    for (i = 0; i < 4; i++) {
        name = &ngx_http_clientauth_identity_headers[i];
        ngx_http_clientauth_identity_hash[i] =
            ngx_hash_strlow(ngx_http_clientauth_identity_lowcase[i],
                            name->data, name->len);
    }

    for (v = ngx_http_clientauth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clientauth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                       *s;
    ngx_http_clientauth_ctx_t       *ctx;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_clientauth_module);

    if (ctx == NULL || !ctx->session_valid) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == (uintptr_t) -1) {
        ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
        s = &ascf->brand;

    } else {
        s = (ngx_str_t *) ((u_char *) &ctx->identity + data);
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * Appends the revocation of every session of a user to a MULTI: DEL of the
 * sessions listed earlier (listed, of token hashes), SMEMBERS of the list
 * (sessions written since: ngx_http_clientauth_revoke_late() deletes them
 * once EXEC is in), DEL of the list, and a new session generation, which
 * makes a login still in flight drop the session it writes after this.
 * Needs at most ngx_http_clientauth_revoke_size() commands; *members is
 * set to the index of the SMEMBERS among them.
 */

ngx_int_t
ngx_http_clientauth_revoke_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, const char *account,
    const char *user, ngx_array_t *listed, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t *members)
{
    char        *brand, *set, *copy;
    ngx_int_t    open;
    ngx_str_t   *hash;
    ngx_uint_t   i, n;
    char         key[CA_KEY_MAX];

    brand = (char *) ascf->brand.data;
    hash = listed ? listed->elts : NULL;
    open = -1;
    n = 0;

    for (i = 0; listed && i < listed->nelts; i++) {
        if (hash[i].len != CA_TOKEN_HASH_LEN
            || ca_key_session(key, sizeof(key), brand, account,
                              (char *) hash[i].data)
               < 0)
        {
            continue;
        }

        copy = ngx_http_clientauth_pool_cstr(r, key);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        if (open < 0 || cmds[open].argc == NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
            open = n++;
            ngx_http_clientauth_argv_reset(&cmds[open]);
            ngx_http_clientauth_argv_add_str(&cmds[open], "DEL");
        }

        ngx_http_clientauth_argv_add_str(&cmds[open], copy);
    }

    if (ca_key_user_sessions(key, sizeof(key), brand, account, user) < 0) {
        return NGX_ERROR;
    }

    set = ngx_http_clientauth_pool_cstr(r, key);

    if (set == NULL
        || ca_key_user(key, sizeof(key), brand, account, user) < 0
        || (copy = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
    {
        return NGX_ERROR;
    }

    /* reads sent after this, on this connection, see the revocation */
    ngx_http_clientauth_cache_forget(ascf->redis, copy);

    *members = n;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "SMEMBERS");
    ngx_http_clientauth_argv_add_str(&cmds[n++], set);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[n++], set);

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HINCRBY");
    ngx_http_clientauth_argv_add_str(&cmds[n], copy);
    ngx_http_clientauth_argv_add_str(&cmds[n], "sgen");
    ngx_http_clientauth_argv_add_str(&cmds[n++], "1");

    return n;
}


ngx_uint_t
ngx_http_clientauth_revoke_size(ngx_array_t *listed)
{
    ngx_uint_t  nlisted;

    nlisted = listed ? listed->nelts : 0;

    return nlisted / (NGX_HTTP_CLIENTAUTH_ARGS_MAX - 1) + 1 + 3;
}


/* The sessions the MULTI found listed (an SMEMBERS reply): all gone. */

void
ngx_http_clientauth_revoke_late(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, const char *account,
    redisReply *members)
{
    char                        *copy;
    size_t                       i;
    ngx_http_clientauth_argv_t   cmd, one;
    char                         key[CA_KEY_MAX];

    if (members->type != REDIS_REPLY_ARRAY || members->elements == 0) {
        return;
    }

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "DEL");

    for (i = 0; i < members->elements; i++) {
        if (members->element[i]->type != REDIS_REPLY_STRING
            || members->element[i]->len != CA_TOKEN_HASH_LEN
            || ca_key_session(key, sizeof(key), (char *) ascf->brand.data,
                              account, members->element[i]->str)
               < 0)
        {
            continue;
        }

        copy = ngx_http_clientauth_pool_cstr(r, key);

        if (copy == NULL) {
            /*
             * The revocation is committed: its stragglers must go even
             * without memory to batch them.  hiredis copies the key.
             */
            ngx_http_clientauth_argv_reset(&one);
            ngx_http_clientauth_argv_add_str(&one, "DEL");
            ngx_http_clientauth_argv_add_str(&one, key);
            (void) ngx_http_clientauth_redis_post(ascf->redis, &one, 1);
            continue;
        }

        ngx_http_clientauth_argv_add_str(&cmd, copy);

        if (cmd.argc == NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
            (void) ngx_http_clientauth_redis_post(ascf->redis, &cmd, 1);
            ngx_http_clientauth_argv_reset(&cmd);
            ngx_http_clientauth_argv_add_str(&cmd, "DEL");
        }
    }

    if (cmd.argc > 1) {
        (void) ngx_http_clientauth_redis_post(ascf->redis, &cmd, 1);
    }
}
