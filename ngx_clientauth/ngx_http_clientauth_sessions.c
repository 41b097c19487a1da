
/*
 * The customer's sessions, in the self-service area:
 *
 *   GET  /auth/account/sessions          the user's sessions (JSON)
 *   POST /auth/account/sessions/revoke   id=ID: that one ends;
 *                                        all=1: every other one ends
 *
 * A session is named by the opaque id its login gave it (never its token
 * nor the token's hash).  The list is the user's index of sessions, each
 * read back (when it was made, last seen, address, device); an id that is
 * not one of this user's sessions is 404 and changes nothing.  "all" keeps
 * the session that asks (as Keycloak's "sign out other sessions" does): a
 * check-and-set moves the user to a new session generation, which this
 * session joins, and deletes the others, so that even a session the index
 * does not list (a login in flight) is refused from then on, by every
 * worker and every gateway.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_cache.h"
#include "ngx_http_clientauth_body.h"
#include "ngx_http_clientauth_page.h"
#include "ngx_http_clientauth_account.h"
#include "ca_device.h"


/* sessions read back for a list: a user rarely has more */
#define NGX_HTTP_CLIENTAUTH_SESSIONS_MAX  100


typedef enum {
    NGX_HTTP_CLIENTAUTH_SS_INDEX = 0,       /* SMEMBERS */
    NGX_HTTP_CLIENTAUTH_SS_RECORDS,         /* an HMGET of each */
    NGX_HTTP_CLIENTAUTH_SS_REVOKED,         /* DEL, SREM */
    NGX_HTTP_CLIENTAUTH_SS_WATCHED,         /* all: WATCH, read again */
    NGX_HTTP_CLIENTAUTH_SS_APPLIED          /* all: MULTI ... EXEC */
} ngx_http_clientauth_ss_step_e;


/* a session's fields, as the login wrote them */
enum {
    NGX_HTTP_CLIENTAUTH_SF_ID = 0,
    NGX_HTTP_CLIENTAUTH_SF_USER,
    NGX_HTTP_CLIENTAUTH_SF_CREATED,
    NGX_HTTP_CLIENTAUTH_SF_SEEN,
    NGX_HTTP_CLIENTAUTH_SF_ADDRESS,
    NGX_HTTP_CLIENTAUTH_SF_AGENT,
    NGX_HTTP_CLIENTAUTH_SF_LAST
};

static const char  *ngx_http_clientauth_session_fields[] = {
    "i", "u", "c", "s", "ip", "ua"
};


typedef struct {
    ngx_str_t                    hash;
    ngx_str_t                    field[NGX_HTTP_CLIENTAUTH_SF_LAST];
    ngx_uint_t                   current;
} ngx_http_clientauth_session_info_t;


typedef struct {
    ngx_http_clientauth_ss_step_e  step;
    ngx_array_t                   *hashes;     /* of ngx_str_t */
    ngx_http_clientauth_session_info_t  *info;   /* one per hash read */
    ngx_uint_t                     ninfo;
    ngx_http_clientauth_step_pt    then;       /* once the list is in */
    ngx_str_t                      id;         /* revoke: which */
    ngx_uint_t                     all;
    ngx_uint_t                     deleted;
    ngx_uint_t                     ended;
    ngx_uint_t                     tries;
    ngx_uint_t                     aborted;
    ngx_uint_t                     applied;
    ngx_str_t                      sgen;       /* under WATCH */
    ngx_str_t                      alive;      /* this session's "a" */
    char                          *ukey;
    char                          *skey;
} ngx_http_clientauth_ss_t;


static ngx_int_t ngx_http_clientauth_sessions_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_step_pt then);
static ngx_int_t ngx_http_clientauth_sessions_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_sessions_records(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_ss_t *ss);
static ngx_int_t ngx_http_clientauth_sessions_json(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_sessions_page(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_sessions_revoke_one(
    ngx_http_request_t *r, ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_sessions_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
static ngx_int_t ngx_http_clientauth_sessions_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_ss_t *ss);
static ngx_int_t ngx_http_clientauth_sessions_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_ss_t *ss);
static ngx_uint_t ngx_http_clientauth_sessions_listed(
    ngx_http_clientauth_ss_t *ss, ngx_http_clientauth_session_info_t *s);
static u_char *ngx_http_clientauth_sessions_text(u_char *p,
    ca_texts_t *texts, ca_text_e id);
static u_char *ngx_http_clientauth_sessions_time(u_char *p, ngx_str_t *ms,
    ngx_uint_t iso);
static void ngx_http_clientauth_sessions_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply);


/* GET /auth/account/sessions */

ngx_int_t
ngx_http_clientauth_account_sessions(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    return ngx_http_clientauth_sessions_read(r, ctx,
                                             ngx_http_clientauth_sessions_json);
}


/* GET /auth/account/ for browsers: the page with its list of sessions. */

ngx_int_t
ngx_http_clientauth_account_sessions_page(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    return ngx_http_clientauth_sessions_read(r, ctx,
                                             ngx_http_clientauth_sessions_page);
}


/* POST /auth/account/sessions/revoke id=ID | all=1 */

ngx_int_t
ngx_http_clientauth_account_revoke(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    u_char                         *p;
    ngx_str_t                       id, all;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    ngx_http_clientauth_form_value(&acc->form, "id", &id);
    ngx_http_clientauth_form_value(&acc->form, "all", &all);

    if (all.len == 1 && all.data[0] == '1') {
        return ngx_http_clientauth_sessions_read(r, ctx,
                                         ngx_http_clientauth_sessions_watch);
    }

    if (id.len == 0) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_send_message(r, NGX_HTTP_BAD_REQUEST,
                   "missing_field", CA_T_BAD_TITLE, CA_T_BAD_REQUEST);
    }

    for (p = id.data; p < id.data + id.len; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            break;
        }
    }

    if (id.len != NGX_HTTP_CLIENTAUTH_SESSION_ID_LEN || p != id.data + id.len)
    {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        return ngx_http_clientauth_send_message(r, NGX_HTTP_BAD_REQUEST,
                   "malformed_request", CA_T_BAD_TITLE, CA_T_BAD_REQUEST);
    }

    return ngx_http_clientauth_sessions_read(r, ctx,
                                     ngx_http_clientauth_sessions_revoke_one);
}


/* The user's index of sessions, then each session; then "then". */

static ngx_int_t
ngx_http_clientauth_sessions_read(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_step_pt then)
{
    ngx_http_clientauth_ss_t       *ss;
    ngx_http_clientauth_argv_t      cmd;
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    char                            key[CA_KEY_MAX];

    ss = ngx_pcalloc(r->pool, sizeof(ngx_http_clientauth_ss_t));

    if (ss == NULL
        || ca_key_user_sessions(key, sizeof(key), (char *) acc->brand.data,
                                (char *) acc->account.data,
                                (char *) acc->user.data) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ss->then = then;
    acc->data = ss;

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "SMEMBERS");
    ngx_http_clientauth_argv_add_str(&cmd, key);

    ctx->next = ngx_http_clientauth_sessions_next;

    return ngx_http_clientauth_call(r, ctx,
                                    ngx_http_clientauth_sessions_reply,
                                    &cmd, 1);
}


static ngx_int_t
ngx_http_clientauth_sessions_next(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    ngx_http_clientauth_ss_t       *ss = acc->data;

    switch (ss->step) {

    case NGX_HTTP_CLIENTAUTH_SS_INDEX:
        return ngx_http_clientauth_sessions_records(r, ctx, ss);

    case NGX_HTTP_CLIENTAUTH_SS_RECORDS:
        return ss->then(r, ctx);

    case NGX_HTTP_CLIENTAUTH_SS_REVOKED:
        if (!ss->deleted) {
            /* ended meanwhile (logout, expiry): it is gone all the same */
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "clientauth: session revoked was gone already");
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: user %V of account %V ended one of its "
                      "sessions", &acc->user, &acc->account);

        return ngx_http_clientauth_account_ok(r, "revoked",
                                              CA_T_SESSION_REVOKED);

    case NGX_HTTP_CLIENTAUTH_SS_WATCHED:
        return ngx_http_clientauth_sessions_apply(r, ctx, ss);

    default: /* NGX_HTTP_CLIENTAUTH_SS_APPLIED */
        return ngx_http_clientauth_sessions_done(r, ctx, ss);
    }
}


static ngx_int_t
ngx_http_clientauth_sessions_records(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_ss_t *ss)
{
    ngx_str_t                      *hash;
    ngx_uint_t                      i, n, f;
    ngx_http_clientauth_argv_t     *cmds;
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    char                            key[CA_KEY_MAX], *copy;

    hash = ss->hashes->elts;
    n = ngx_min(ss->hashes->nelts, NGX_HTTP_CLIENTAUTH_SESSIONS_MAX);

    ss->step = NGX_HTTP_CLIENTAUTH_SS_RECORDS;

    if (n < ss->hashes->nelts) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: user %V of account %V has %ui sessions, "
                      "only %ui are listed", &acc->user, &acc->account,
                      ss->hashes->nelts, n);
    }

    if (n == 0) {
        return ss->then(r, ctx);
    }

    cmds = ngx_palloc(r->pool, n * sizeof(ngx_http_clientauth_argv_t));
    ss->info = ngx_pcalloc(r->pool,
                           n * sizeof(ngx_http_clientauth_session_info_t));
    if (cmds == NULL || ss->info == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        ss->info[i].hash = hash[i];

        if (hash[i].len != CA_TOKEN_HASH_LEN
            || ca_key_session(key, sizeof(key), (char *) acc->brand.data,
                              (char *) acc->account.data,
                              (char *) hash[i].data) < 0
            || (copy = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[i]);
        ngx_http_clientauth_argv_add_str(&cmds[i], "HMGET");
        ngx_http_clientauth_argv_add_str(&cmds[i], copy);

        for (f = 0; f < NGX_HTTP_CLIENTAUTH_SF_LAST; f++) {
            ngx_http_clientauth_argv_add_str(&cmds[i],
                ngx_http_clientauth_session_fields[f]);
        }
    }

    ss->ninfo = n;

    return ngx_http_clientauth_call(r, ctx,
                                    ngx_http_clientauth_sessions_reply,
                                    cmds, n);
}


/* A session of this user that the index still names and Redis holds. */

static ngx_uint_t
ngx_http_clientauth_sessions_listed(ngx_http_clientauth_ss_t *ss,
    ngx_http_clientauth_session_info_t *s)
{
    return s->field[NGX_HTTP_CLIENTAUTH_SF_ID].len
               == NGX_HTTP_CLIENTAUTH_SESSION_ID_LEN
           && s->field[NGX_HTTP_CLIENTAUTH_SF_USER].len;
}


/*
 * {"ok":true,"sessions":[{"id":"…","created":"2026-12-01T01:50:21Z",
 * "last_seen":"…","address":"…","user_agent":"…","current":true},…]}
 */

static ngx_int_t
ngx_http_clientauth_sessions_json(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    u_char                              *p;
    size_t                               len;
    ngx_str_t                            json, *f;
    ngx_uint_t                           i;
    ngx_http_clientauth_ss_t            *ss;
    ngx_http_clientauth_account_t       *acc = ctx->flow;
    ngx_http_clientauth_session_info_t  *s;

    ss = acc->data;

    len = sizeof("{\"ok\":true,\"sessions\":[]}");

    for (i = 0; i < ss->ninfo; i++) {
        f = ss->info[i].field;
        len += sizeof("{\"id\":\"\",\"created\":\"\",\"last_seen\":\"\","
                      "\"address\":\"\",\"user_agent\":\"\","
                      "\"current\":false},")
               + f[NGX_HTTP_CLIENTAUTH_SF_ID].len + 2 * sizeof("YYYY-MM-DDT"
                 "HH:MM:SSZ") + 6 * (f[NGX_HTTP_CLIENTAUTH_SF_ADDRESS].len
                                     + f[NGX_HTTP_CLIENTAUTH_SF_AGENT].len);
    }

    json.data = ngx_pnalloc(r->pool, len);
    if (json.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(json.data, "{\"ok\":true,\"sessions\":[",
                   sizeof("{\"ok\":true,\"sessions\":[") - 1);

    for (i = 0; i < ss->ninfo; i++) {
        s = &ss->info[i];
        f = s->field;

        if (!ngx_http_clientauth_sessions_listed(ss, s)) {
            continue;
        }

        if (p[-1] != '[') {
            *p++ = ',';
        }

        p = ngx_sprintf(p, "{\"id\":\"%V\",\"created\":\"",
                        &f[NGX_HTTP_CLIENTAUTH_SF_ID]);
        p = ngx_http_clientauth_sessions_time(p,
                                      &f[NGX_HTTP_CLIENTAUTH_SF_CREATED], 1);
        p = ngx_cpymem(p, "\",\"last_seen\":\"", 15);
        p = ngx_http_clientauth_sessions_time(p,
                                      &f[NGX_HTTP_CLIENTAUTH_SF_SEEN], 1);
        p = ngx_cpymem(p, "\",\"address\":\"", 13);
        p = (u_char *) ngx_escape_json(p,
                                       f[NGX_HTTP_CLIENTAUTH_SF_ADDRESS].data,
                                       f[NGX_HTTP_CLIENTAUTH_SF_ADDRESS].len);
        p = ngx_cpymem(p, "\",\"user_agent\":\"", 16);
        p = (u_char *) ngx_escape_json(p,
                                       f[NGX_HTTP_CLIENTAUTH_SF_AGENT].data,
                                       f[NGX_HTTP_CLIENTAUTH_SF_AGENT].len);
        p = ngx_sprintf(p, "\",\"current\":%s}",
                        s->current ? "true" : "false");
    }

    p = ngx_cpymem(p, "]}", 2);
    json.len = p - json.data;

    return ngx_http_clientauth_send_json(r, NGX_HTTP_OK, &json);
}


/*
 * The page's list: each session with its device, times and address, and a
 * form that signs it out (this one is marked instead).
 */

static ngx_int_t
ngx_http_clientauth_sessions_page(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    u_char                              *p;
    size_t                               len;
    ngx_str_t                           *f, *url, html;
    ngx_uint_t                           i;
    ca_texts_t                          *texts;
    ngx_http_clientauth_ss_t            *ss;
    ngx_http_clientauth_account_t       *acc = ctx->flow;
    ngx_http_clientauth_session_info_t  *s;

    ss = acc->data;
    texts = ngx_http_clientauth_page_texts(r);
    url = ngx_http_clientauth_account_url(r);

    len = sizeof("<ul class=\"sessions\"></ul>");

    for (i = 0; i < ss->ninfo; i++) {
        f = ss->info[i].field;
        len += 1024 + 6 * (url->len + acc->csrf.len
                           + f[NGX_HTTP_CLIENTAUTH_SF_ADDRESS].len
                           + f[NGX_HTTP_CLIENTAUTH_SF_AGENT].len
                           + f[NGX_HTTP_CLIENTAUTH_SF_ID].len
                           + ngx_strlen(texts->t[CA_T_SESSION_CURRENT])
                           + ngx_strlen(texts->t[CA_T_SESSION_CREATED])
                           + ngx_strlen(texts->t[CA_T_SESSION_SEEN])
                           + ngx_strlen(texts->t[CA_T_SESSION_REVOKE]));
    }

    html.data = ngx_pnalloc(r->pool, len);
    if (html.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(html.data, "<ul class=\"sessions\">", 21);

    for (i = 0; i < ss->ninfo; i++) {
        s = &ss->info[i];
        f = s->field;

        if (!ngx_http_clientauth_sessions_listed(ss, s)) {
            continue;
        }

        p = ngx_cpymem(p, "<li><div><span class=\"what\">", 28);
        p = (u_char *) ngx_escape_html(p, f[NGX_HTTP_CLIENTAUTH_SF_AGENT].data,
                                       f[NGX_HTTP_CLIENTAUTH_SF_AGENT].len);
        p = ngx_cpymem(p, "</span><span class=\"when\">", 26);
        p = ngx_http_clientauth_sessions_text(p, texts, CA_T_SESSION_CREATED);
        *p++ = ' ';
        p = ngx_http_clientauth_sessions_time(p,
                                      &f[NGX_HTTP_CLIENTAUTH_SF_CREATED], 0);
        p = ngx_cpymem(p, " &middot; ", 10);
        p = ngx_http_clientauth_sessions_text(p, texts, CA_T_SESSION_SEEN);
        *p++ = ' ';
        p = ngx_http_clientauth_sessions_time(p,
                                      &f[NGX_HTTP_CLIENTAUTH_SF_SEEN], 0);
        p = ngx_cpymem(p, " &middot; ", 10);
        p = (u_char *) ngx_escape_html(p,
                                       f[NGX_HTTP_CLIENTAUTH_SF_ADDRESS].data,
                                       f[NGX_HTTP_CLIENTAUTH_SF_ADDRESS].len);
        p = ngx_cpymem(p, "</span></div>", 13);

        if (s->current) {
            p = ngx_cpymem(p, "<span class=\"here\">", 19);
            p = ngx_http_clientauth_sessions_text(p, texts,
                                                  CA_T_SESSION_CURRENT);
            p = ngx_cpymem(p, "</span></li>", 12);
            continue;
        }

        p = ngx_cpymem(p, "<form method=\"post\" action=\"", 28);
        p = (u_char *) ngx_escape_html(p, url->data, url->len);
        p = ngx_cpymem(p, "sessions/revoke\"><input type=\"hidden\" "
                       "name=\"csrf\" value=\"", 57);
        p = (u_char *) ngx_escape_html(p, acc->csrf.data, acc->csrf.len);
        p = ngx_sprintf(p, "\"><input type=\"hidden\" name=\"id\" "
                        "value=\"%V\"><button type=\"submit\" "
                        "class=\"secondary\">",
                        &f[NGX_HTTP_CLIENTAUTH_SF_ID]);
        p = ngx_http_clientauth_sessions_text(p, texts, CA_T_SESSION_REVOKE);
        p = ngx_cpymem(p, "</button></form></li>", 21);
    }

    p = ngx_cpymem(p, "</ul>", 5);
    html.len = p - html.data;

    acc->sessions_html = html;

    return ngx_http_clientauth_account_page(r, acc, NGX_HTTP_OK, 0,
                                            CA_T_COUNT);
}


/* id=ID: one of this user's sessions, or 404 and nothing changes. */

static ngx_int_t
ngx_http_clientauth_sessions_revoke_one(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_uint_t                           i, n;
    ngx_http_clientauth_ss_t            *ss;
    ngx_http_clientauth_argv_t           cmds[5];
    ngx_http_clientauth_srv_conf_t      *ascf;
    ngx_http_clientauth_account_t       *acc = ctx->flow;
    ngx_http_clientauth_session_info_t  *s;
    char                                 key[CA_KEY_MAX];
    char                                 set[CA_KEY_MAX];

    ss = acc->data;
    s = NULL;

    ngx_http_clientauth_form_value(&acc->form, "id", &ss->id);

    for (i = 0; i < ss->ninfo; i++) {
        if (ngx_http_clientauth_sessions_listed(ss, &ss->info[i])
            && ngx_http_clientauth_str_eq(
                   &ss->info[i].field[NGX_HTTP_CLIENTAUTH_SF_ID], &ss->id))
        {
            s = &ss->info[i];
            break;
        }
    }

    if (s == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: user %V of account %V asked to end a "
                      "session that is not one of its own", &acc->user,
                      &acc->account);
        return ngx_http_clientauth_send_message(r, NGX_HTTP_NOT_FOUND,
                   "session_not_found", CA_T_ACCOUNT_TITLE,
                   CA_T_SESSION_UNKNOWN);
    }

    if (ca_key_session(key, sizeof(key), (char *) acc->brand.data,
                       (char *) acc->account.data,
                       (char *) s->hash.data) < 0
        || ca_key_user_sessions(set, sizeof(set), (char *) acc->brand.data,
                                (char *) acc->account.data,
                                (char *) acc->user.data) < 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* both or neither: no session left alive out of the index */
    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "DEL");
    ngx_http_clientauth_argv_add_str(&cmds[1], key);

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "SREM");
    ngx_http_clientauth_argv_add_str(&cmds[2], set);
    ngx_http_clientauth_argv_add(&cmds[2], s->hash.data, s->hash.len);

    ngx_http_clientauth_argv_reset(&cmds[3]);
    ngx_http_clientauth_argv_add_str(&cmds[3], "EXEC");

    /* a failover must not bring the session back */
    n = 4 + ngx_http_clientauth_durable(r, &cmds[4]);

    ss->step = NGX_HTTP_CLIENTAUTH_SS_REVOKED;

    /* reads sent after the DEL see it; none may hit before */
    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    ngx_http_clientauth_cache_forget(ascf->redis, key);

    return ngx_http_clientauth_durable_call(r, ctx,
                                            ngx_http_clientauth_sessions_reply,
                                            cmds, n);
}


/* all=1: the user and this session, watched and read again. */

static ngx_int_t
ngx_http_clientauth_sessions_watch(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx)
{
    ngx_http_clientauth_ss_t       *ss;
    ngx_http_clientauth_argv_t      cmds[3];
    ngx_http_clientauth_account_t  *acc = ctx->flow;
    char                            key[CA_KEY_MAX];

    ss = acc->data;

    if (ss->ukey == NULL) {
        if (ca_key_user(key, sizeof(key), (char *) acc->brand.data,
                        (char *) acc->account.data, (char *) acc->user.data)
            < 0
            || (ss->ukey = ngx_http_clientauth_pool_cstr(r, key)) == NULL
            || ca_key_session(key, sizeof(key), (char *) acc->brand.data,
                              (char *) acc->account.data,
                              (char *) acc->token_hash.data) < 0
            || (ss->skey = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "WATCH");
    ngx_http_clientauth_argv_add_str(&cmds[0], ss->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[0], ss->skey);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "HGET");
    ngx_http_clientauth_argv_add_str(&cmds[1], ss->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[1], "sgen");

    ngx_http_clientauth_argv_reset(&cmds[2]);
    ngx_http_clientauth_argv_add_str(&cmds[2], "HGET");
    ngx_http_clientauth_argv_add_str(&cmds[2], ss->skey);
    ngx_http_clientauth_argv_add_str(&cmds[2], "a");

    ngx_str_null(&ss->sgen);
    ngx_str_null(&ss->alive);
    ss->all = 1;
    ss->step = NGX_HTTP_CLIENTAUTH_SS_WATCHED;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_sessions_reply,
                                        cmds, 3);
}


static ngx_int_t
ngx_http_clientauth_sessions_apply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_ss_t *ss)
{
    u_char                         *gen;
    ngx_int_t                       rc, sgen;
    ngx_str_t                       g;
    ngx_uint_t                      n;
    ngx_http_clientauth_argv_t     *cmds;
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    if (ss->sgen.len == 0) {
        ngx_str_set(&ss->sgen, "0");
    }

    if (ss->alive.len == 0
        || !ngx_http_clientauth_str_eq(&ss->sgen, &acc->session_gen))
    {
        /* this session ended meanwhile: it has no say any more */
        ngx_http_clientauth_redis_txn_end(ctx);
        return ngx_http_clientauth_send_message(r, NGX_HTTP_UNAUTHORIZED,
                   "unauthenticated", CA_T_LOGIN_TITLE, CA_T_NEED_LOGIN);
    }

    sgen = ngx_atoi(ss->sgen.data, ss->sgen.len);
    gen = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    cmds = ngx_palloc(r->pool,
                      (5 + ngx_http_clientauth_sessions_end_size(ss->hashes))
                      * sizeof(ngx_http_clientauth_argv_t));

    if (sgen == NGX_ERROR || gen == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    g.data = gen;
    g.len = ngx_sprintf(gen, "%i", sgen + 1) - gen;

    n = 0;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "MULTI");

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], ss->ukey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "sgen");
    ngx_http_clientauth_argv_add(&cmds[n++], g.data, g.len);

    ss->ended = 0;

    rc = ngx_http_clientauth_sessions_end_others(r, acc, ss->hashes,
                                                 &cmds[n], &g, &ss->ended);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n += rc;

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n++], "EXEC");

    /* a failover must not bring the sessions back */
    n += ngx_http_clientauth_durable(r, &cmds[n]);

    ss->step = NGX_HTTP_CLIENTAUTH_SS_APPLIED;
    ss->aborted = 0;
    ss->applied = 0;

    return ngx_http_clientauth_txn_call(r, ctx,
                                        ngx_http_clientauth_sessions_reply,
                                        cmds, n);
}


static ngx_int_t
ngx_http_clientauth_sessions_done(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_http_clientauth_ss_t *ss)
{
    ngx_http_clientauth_account_t  *acc = ctx->flow;

    if (ss->aborted) {
        /* the user or this session changed between WATCH and EXEC */
        if (++ss->tries < NGX_HTTP_CLIENTAUTH_TXN_TRIES) {
            return ngx_http_clientauth_sessions_watch(r, ctx);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: user %V of account %V kept changing "
                      "while its other sessions were ended", &acc->user,
                      &acc->account);
        return ngx_http_clientauth_send_unavailable(r);
    }

    ngx_http_clientauth_redis_txn_end(ctx);

    if (!ss->applied) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis did not end the other sessions");
        return ngx_http_clientauth_send_unavailable(r);
    }

    /* committed on a connection of its own: the invalidation may come
     * after the answer, the worker forgets the user now */
    ngx_http_clientauth_cache_forget_user(
        ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module),
        (char *) acc->account.data, (char *) acc->user.data);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clientauth: user %V of account %V ended its other "
                  "sessions (%ui listed)", &acc->user, &acc->account,
                  ss->ended);

    return ngx_http_clientauth_account_ok(r, "revoked_all",
                                          CA_T_SESSIONS_REVOKED);
}


/*
 * Appends to a MULTI the end of every session listed but this one (DEL,
 * and out of the index), and this session's move to the generation gen;
 * any not listed (a login in flight) belongs to the old generation, which
 * no request accepts once gen is the user's.  At most
 * ngx_http_clientauth_sessions_end_size() commands; their number, or
 * NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_sessions_end_others(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_array_t *listed,
    ngx_http_clientauth_argv_t *cmds, ngx_str_t *gen, ngx_uint_t *ended)
{
    char        *set, *skey, *copy;
    ngx_int_t    del, srem;
    ngx_str_t   *hash;
    ngx_uint_t   i, n;
    char         key[CA_KEY_MAX];

    if (ca_key_user_sessions(key, sizeof(key), (char *) acc->brand.data,
                             (char *) acc->account.data,
                             (char *) acc->user.data) < 0
        || (set = ngx_http_clientauth_pool_cstr(r, key)) == NULL
        || ca_key_session(key, sizeof(key), (char *) acc->brand.data,
                          (char *) acc->account.data,
                          (char *) acc->token_hash.data) < 0
        || (skey = ngx_http_clientauth_pool_cstr(r, key)) == NULL)
    {
        return NGX_ERROR;
    }

    hash = listed ? listed->elts : NULL;
    del = -1;
    srem = -1;
    n = 0;

    for (i = 0; listed && i < listed->nelts; i++) {
        if (hash[i].len != CA_TOKEN_HASH_LEN
            || ngx_http_clientauth_str_eq(&hash[i], &acc->token_hash)
            || ca_key_session(key, sizeof(key), (char *) acc->brand.data,
                              (char *) acc->account.data,
                              (char *) hash[i].data) < 0)
        {
            continue;
        }

        copy = ngx_http_clientauth_pool_cstr(r, key);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        if (srem < 0 || cmds[srem].argc == NGX_HTTP_CLIENTAUTH_ARGS_MAX) {
            del = n++;
            ngx_http_clientauth_argv_reset(&cmds[del]);
            ngx_http_clientauth_argv_add_str(&cmds[del], "DEL");

            srem = n++;
            ngx_http_clientauth_argv_reset(&cmds[srem]);
            ngx_http_clientauth_argv_add_str(&cmds[srem], "SREM");
            ngx_http_clientauth_argv_add_str(&cmds[srem], set);
        }

        ngx_http_clientauth_argv_add_str(&cmds[del], copy);
        ngx_http_clientauth_argv_add(&cmds[srem], hash[i].data, hash[i].len);
        (*ended)++;
    }

    ngx_http_clientauth_argv_reset(&cmds[n]);
    ngx_http_clientauth_argv_add_str(&cmds[n], "HSET");
    ngx_http_clientauth_argv_add_str(&cmds[n], skey);
    ngx_http_clientauth_argv_add_str(&cmds[n], "g");
    ngx_http_clientauth_argv_add(&cmds[n++], gen->data, gen->len);

    return n;
}


ngx_uint_t
ngx_http_clientauth_sessions_end_size(ngx_array_t *listed)
{
    ngx_uint_t  nlisted;

    nlisted = listed ? listed->nelts : 0;

    /* a DEL and an SREM for each ARGS_MAX - 2 sessions, and the HSET */
    return 2 * (nlisted / (NGX_HTTP_CLIENTAUTH_ARGS_MAX - 2) + 1) + 1;
}


static u_char *
ngx_http_clientauth_sessions_text(u_char *p, ca_texts_t *texts, ca_text_e id)
{
    return (u_char *) ngx_escape_html(p, (u_char *) texts->t[id],
                                      ngx_strlen(texts->t[id]));
}


/* A time in ms as "2026-12-01T01:50:21Z" (iso) or "2026-12-01 01:50 UTC". */

static u_char *
ngx_http_clientauth_sessions_time(u_char *p, ngx_str_t *ms, ngx_uint_t iso)
{
    int64_t    t;
    ngx_tm_t   tm;

    t = ms->len ? ngx_atoi(ms->data, ms->len) : NGX_ERROR;

    if (t == NGX_ERROR) {
        return p;
    }

    ngx_gmtime((time_t) (t / 1000), &tm);

    if (iso) {
        return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
    }

    return ngx_sprintf(p, "%4d-%02d-%02d %02d:%02d UTC",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min);
}


static void
ngx_http_clientauth_sessions_reply(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t                           i;
    ngx_http_clientauth_ss_t            *ss;
    ngx_http_clientauth_account_t       *acc = ctx->flow;
    ngx_http_clientauth_session_info_t  *s;

    ss = acc->data;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused a sessions command: %s",
                      reply->str);
        ctx->redis_error = 1;
        return;
    }

    switch (ss->step) {

    case NGX_HTTP_CLIENTAUTH_SS_INDEX:
        ss->hashes = ngx_http_clientauth_reply_strings(r->pool, reply);
        ctx->redis_error |= (ss->hashes == NULL);
        break;

    case NGX_HTTP_CLIENTAUTH_SS_RECORDS:
        if (reply->type != REDIS_REPLY_ARRAY
            || reply->elements != NGX_HTTP_CLIENTAUTH_SF_LAST
            || n >= ss->ninfo)
        {
            ctx->redis_error = 1;
            break;
        }

        s = &ss->info[n];

        for (i = 0; i < NGX_HTTP_CLIENTAUTH_SF_LAST; i++) {
            if (ngx_http_clientauth_reply_str(r->pool, reply->element[i],
                                              &s->field[i])
                == NGX_ERROR)
            {
                ctx->redis_error = 1;
            }
        }

        /* the index is the user's: a record of another is not listed */
        if (!ngx_http_clientauth_str_eq(&s->field[NGX_HTTP_CLIENTAUTH_SF_USER],
                                        &acc->user))
        {
            ngx_str_null(&s->field[NGX_HTTP_CLIENTAUTH_SF_USER]);
        }

        s->current = ngx_http_clientauth_str_eq(&s->hash, &acc->token_hash);
        break;

    case NGX_HTTP_CLIENTAUTH_SS_REVOKED:
        if (n < 3) {
            break;              /* +OK of MULTI, +QUEUED */
        }

        /* EXEC: the DEL's count, then the SREM's */
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_INTEGER
            || reply->element[1]->type != REDIS_REPLY_INTEGER)
        {
            ctx->redis_error = 1;
            break;
        }

        ss->deleted = (reply->element[0]->integer == 1);
        break;

    case NGX_HTTP_CLIENTAUTH_SS_WATCHED:
        if (n == 1 || n == 2) {
            if (ngx_http_clientauth_reply_str(r->pool, reply,
                                              n == 1 ? &ss->sgen : &ss->alive)
                == NGX_ERROR)
            {
                ctx->redis_error = 1;
            }
        }

        break;

    default: /* NGX_HTTP_CLIENTAUTH_SS_APPLIED: MULTI ... EXEC */
        switch (ngx_http_clientauth_exec_reply(r, reply, "sessions")) {

        case NGX_DECLINED:
            ss->aborted = 1;
            break;

        case NGX_OK:
            ss->applied = 1;
            break;

        default: /* NGX_AGAIN: +OK of MULTI, +QUEUED; NGX_ERROR */
            break;
        }

        break;
    }
}
