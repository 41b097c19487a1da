
/*
 * The login throttle: per client address, per identifier and per brand
 * sliding windows, and a lockout with growing bans, all in Redis so that
 * every worker and gateway instance counts together.  Everything is decided
 * before any password hashing, so refused attempts cost no CPU.
 *
 * The failure count is raised before the password is checked and cleared on
 * success: concurrent attempts each get their own INCR result, so no more
 * than the allowed number is ever hashed, whatever the concurrency.  No Lua:
 * each counter is one atomic command; all of them travel in one round trip
 * with the identifier lookup.
 */


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_limit.h"
#include "ngx_http_clientauth_body.h"
#include "ca_window.h"


static ngx_str_t  ngx_http_clientauth_login_scopes[] = {
    ngx_string("address"),
    ngx_string("account"),
    ngx_string("brand")
};

static ngx_str_t  ngx_http_clientauth_reset_scopes[] = {
    ngx_string("reset-address"),
    ngx_string("reset-account"),
    ngx_string("reset-brand")
};

/* forgotten identifier: the reset's limits, counted apart */
static ngx_str_t  ngx_http_clientauth_remind_scopes[] = {
    ngx_string("remind-address"),
    ngx_string("remind-account"),
    ngx_string("remind-brand")
};


static char *ngx_http_clientauth_login_key(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    const char *what);
static char *ngx_http_clientauth_pool_int(ngx_http_request_t *r,
    int64_t value, size_t *len);
static ngx_int_t ngx_http_clientauth_attempt_init(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t what);
static ngx_int_t ngx_http_clientauth_attempt_subject(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, const char *account, const char *kind,
    const char *ident);
static ngx_int_t ngx_http_clientauth_address_subject(ngx_http_request_t *r,
    ngx_str_t *subject);
static ngx_uint_t ngx_http_clientauth_limit_in_phase(
    ngx_http_clientauth_attempt_t *a, ngx_uint_t s);
static void ngx_http_clientauth_limit_repair(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a);


static ngx_int_t
ngx_http_clientauth_attempt_init(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t what)
{
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_memzero(a, sizeof(ngx_http_clientauth_attempt_t));

    if (what == NGX_HTTP_CLIENTAUTH_ATTEMPT_RESET) {
        a->limits = ascf->reset_limits;
        a->scopes = ngx_http_clientauth_reset_scopes;

    } else if (what == NGX_HTTP_CLIENTAUTH_ATTEMPT_REMIND) {
        a->limits = ascf->reset_limits;
        a->scopes = ngx_http_clientauth_remind_scopes;

    } else {
        a->limits = ascf->limits;
        a->scopes = ngx_http_clientauth_login_scopes;
        a->lockout = (ascf->lockout.retries != 0);
    }

    a->now = ngx_http_clientauth_now_ms();

    ngx_str_set(&a->subject[NGX_HTTP_CLIENTAUTH_LIMIT_BRAND], "all");

    return ngx_http_clientauth_address_subject(r,
               &a->subject[NGX_HTTP_CLIENTAUTH_LIMIT_ADDRESS]);
}


/*
 * What the attempt is counted against once the identifier was looked up:
 * the account it names, so that all of an account's identifiers share one
 * count; else the canonical identifier itself, so that unknown identifiers
 * are limited exactly like known ones.  kind NULL: no identifier of an
 * accepted shape, only the address and the brand count.
 */

static ngx_int_t
ngx_http_clientauth_attempt_subject(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, const char *account, const char *kind,
    const char *ident)
{
    ngx_str_t  *subject;

    if (account) {
        kind = "account";
        ident = account;
    }

    if (kind == NULL) {
        return NGX_OK;
    }

    a->kind.data = (u_char *) kind;
    a->kind.len = ngx_strlen(kind);
    a->identifier.data = (u_char *) ident;
    a->identifier.len = ngx_strlen(ident);

    subject = &a->subject[NGX_HTTP_CLIENTAUTH_LIMIT_ACCOUNT];

    subject->data = ngx_pnalloc(r->pool, a->kind.len + a->identifier.len + 2);
    if (subject->data == NULL) {
        return NGX_ERROR;
    }

    subject->len = ngx_sprintf(subject->data, "%V:%V%Z", &a->kind,
                               &a->identifier)
                   - subject->data - 1;

    return NGX_OK;
}


/*
 * Recognises the identifier among the brand's kinds (its recovery kinds for
 * a reminder) and appends the first round trip: GET of its index (when it
 * has an accepted shape) and the address window.  Returns how many
 * commands, or NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_attempt_start(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t what, ngx_str_t *identifier,
    ngx_http_clientauth_argv_t *cmds)
{
    char                            *key;
    ngx_int_t                        n, rc;
    ca_id_kind_e                     kind;
    ca_ident_opts_t                  opts;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             buf[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ngx_http_clientauth_attempt_init(r, a, what) != NGX_OK) {
        return NGX_ERROR;
    }

    opts.accepted = (what == NGX_HTTP_CLIENTAUTH_ATTEMPT_REMIND)
                    ? ascf->recovery_identifiers : ascf->identifiers;
    opts.phone_country = (char *) ascf->phone_country.data;

    kind = ca_ident_normalise(&opts, (char *) identifier->data,
                              identifier->len, a->ident);
    n = 0;

    if (kind != CA_ID_NONE
        && ca_key_ident(buf, sizeof(buf), (char *) ascf->brand.data,
                        ca_ident_kind_name(kind), a->ident) >= 0)
    {
        key = ngx_http_clientauth_pool_cstr(r, buf);
        if (key == NULL) {
            return NGX_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "GET");
        ngx_http_clientauth_argv_add_str(&cmds[n++], key);

        a->ident_kind = ca_ident_kind_name(kind);
    }

    rc = ngx_http_clientauth_limit_commands(r, ascf, a, cmds, n, 1);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    return n + rc;
}


/*
 * Once the first round trip is in: whether the address refuses (*refused,
 * *retry), which account the identifier names, and the
 * second round trip, counted against that account.  Returns how many
 * commands, or NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_attempt_account(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t *refused, time_t *retry)
{
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             esc[CA_LOGESC_SIZE];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    *refused = (ngx_http_clientauth_limit_verdict(r, ascf, a, retry)
                != NGX_OK);

    if (a->ref.len
        && ca_id_ref_parse((char *) a->ref.data, a->ref.len, a->account,
                           a->user) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "clientauth: corrupt identifier index \"%s\"",
                      ngx_http_clientauth_log_safe(esc, &a->ref));
        ngx_str_null(&a->ref);
    }

    if (ngx_http_clientauth_attempt_subject(r, a,
                                            a->ref.len ? a->account : NULL,
                                            a->ident_kind, a->ident)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_clientauth_limit_commands(r, ascf, a, cmds, 0, 2);
}


/*
 * The first round trip of a reset or reminder request: the identifier of
 * the form, its index GET and the address's windows.  With nothing to look
 * up or count it is a PING: every request costs one round trip, as always.
 * Returns how many commands, NGX_ERROR, or NGX_DECLINED once a bad form has
 * been answered (*rc: what the handler returns).
 */

ngx_int_t
ngx_http_clientauth_attempt_ask(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t what, ca_form_t *form,
    ngx_str_t *identifier, ngx_http_clientauth_argv_t *cmds, ngx_int_t *rc)
{
    ngx_int_t  n;

    *rc = ngx_http_clientauth_parse_form(r, form);
    if (*rc != NGX_OK) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        *rc = ngx_http_clientauth_send_message(r, *rc, "malformed_request",
                  CA_T_BAD_TITLE, CA_T_BAD_REQUEST);
        return NGX_DECLINED;
    }

    ngx_http_clientauth_form_value(form, "identifier", identifier);

    if (identifier->len == 0) {
        ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST);
        *rc = ngx_http_clientauth_send_message(r, NGX_HTTP_BAD_REQUEST,
                  "missing_field", CA_T_BAD_TITLE,
                  CA_T_MISSING_IDENTIFIER);
        return NGX_DECLINED;
    }

    n = ngx_http_clientauth_attempt_start(r, a, what, identifier, cmds);
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (n == 0) {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n++], "PING");
    }

    return n;
}


/*
 * The second round trip of a reset or reminder request, counted against
 * the account the identifier names (or the identifier itself); requests the
 * address already refuses go on all the same, at the same cost.  The
 * request's user goes to *ref, account and user (as the attempt's).
 * Returns how many commands (a PING at least), or NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_attempt_counted(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_http_clientauth_argv_t *cmds,
    ngx_uint_t *refused, ngx_str_t *ref, char *account, char *user)
{
    time_t     retry;
    ngx_int_t  n;

    n = ngx_http_clientauth_attempt_account(r, a, cmds, refused, &retry);
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    *ref = a->ref;
    ngx_memcpy(account, a->account, sizeof(a->account));
    ngx_memcpy(user, a->user, sizeof(a->user));

    if (n == 0) {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n++], "PING");
    }

    return n;
}


/*
 * Over a limit, or one failure too many: 429 with Retry-After, as every
 * password check counted by the lockout answers.
 */

ngx_int_t
ngx_http_clientauth_attempt_wait(ngx_http_request_t *r, time_t retry)
{
    ngx_http_clientauth_count(NGX_HTTP_CLIENTAUTH_M_LOGIN_THROTTLED);

    if (ngx_http_clientauth_retry_after(r, retry) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_send_wait(r, "too_many_attempts", retry);
}


/*
 * One failure too many: the attempt elected to set the ban escalates it
 * (returns how many commands, in cmds); another only says how long the ban
 * lasts (NGX_DECLINED, *rc: the 429 sent).  Or NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_attempt_banned(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_http_clientauth_argv_t *cmds,
    ngx_int_t *rc)
{
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (!a->banner) {
        *rc = ngx_http_clientauth_attempt_wait(r,
                  (time_t) ((ngx_max(a->lock_ttl, 1000) + 999) / 1000));
        return NGX_DECLINED;
    }

    return ngx_http_clientauth_escalate_commands(r, ascf, a, cmds);
}


/* The escalated ban is in: apply it and say how long it lasts. */

ngx_int_t
ngx_http_clientauth_attempt_escalated(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a)
{
    time_t                           retry;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    retry = ngx_http_clientauth_ban_apply(r, ascf, a);
    if (retry == NGX_ERROR) {
        return ngx_http_clientauth_send_unavailable(r);
    }

    return ngx_http_clientauth_attempt_wait(r, retry);
}


/*
 * A password check of a user who is logged in (the self-service area): no
 * identifier to look up, counted like a login's second round trip, against
 * the account (its failures and lockout, its window) and the brand.
 * Returns how many commands, or NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_attempt_known(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_str_t *account, ngx_str_t *user,
    ngx_http_clientauth_argv_t *cmds)
{
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ngx_http_clientauth_attempt_init(r, a, 0) != NGX_OK
        || account->len >= sizeof(a->account) || user->len >= sizeof(a->user))
    {
        return NGX_ERROR;
    }

    ngx_memcpy(a->account, account->data, account->len);
    ngx_memcpy(a->user, user->data, user->len);

    if (ngx_http_clientauth_attempt_subject(r, a, a->account, NULL, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_clientauth_limit_commands(r, ascf, a, cmds, 0, 2);
}


/*
 * Appends the throttle's commands for one phase.  The first, sent with the
 * identifier lookup, counts the address; the second, once the subject is
 * known, the lockout (PTTL lock, INCR fails, GET bans) and the account's
 * and the brand's windows.  A window is INCR + PEXPIRE of the current bucket
 * and GET of the previous one.  Returns how many were appended, or
 * NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_limit_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmds, ngx_uint_t first, ngx_uint_t phase)
{
    char                         *lock, *fails, *bans, *cur, *prev, *ttl;
    size_t                        len;
    int64_t                       bucket;
    ngx_uint_t                    s, n;
    ngx_http_clientauth_limit_t  *limit;
    char                          key[CA_KEY_MAX];

    n = first;
    a->first = first;
    a->phase = phase;

    if (phase == 2 && a->kind.len && a->lockout) {
        lock = ngx_http_clientauth_login_key(r, ascf, a, "lock");
        fails = ngx_http_clientauth_login_key(r, ascf, a, "fails");
        bans = ngx_http_clientauth_login_key(r, ascf, a, "bans");
        ttl = ngx_http_clientauth_pool_int(r, ascf->lockout.find_time, &len);

        if (lock == NULL || fails == NULL || bans == NULL || ttl == NULL) {
            return NGX_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "PTTL");
        ngx_http_clientauth_argv_add_str(&cmds[n++], lock);

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "INCR");
        ngx_http_clientauth_argv_add_str(&cmds[n++], fails);
        a->fails_key = fails;

        /*
         * find_time slides with each attempt (NX sets it on a new key, GT
         * pushes it back), but never shortens the longer life a ban gives
         * the count.
         */
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
        ngx_http_clientauth_argv_add_str(&cmds[n], fails);
        ngx_http_clientauth_argv_add(&cmds[n], ttl, len);
        ngx_http_clientauth_argv_add_str(&cmds[n++], "NX");

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
        ngx_http_clientauth_argv_add_str(&cmds[n], fails);
        ngx_http_clientauth_argv_add(&cmds[n], ttl, len);
        ngx_http_clientauth_argv_add_str(&cmds[n++], "GT");

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "GET");
        ngx_http_clientauth_argv_add_str(&cmds[n++], bans);
    }

    for (s = 0; s < NGX_HTTP_CLIENTAUTH_LIMITS; s++) {
        limit = &a->limits[s];

        if (!ngx_http_clientauth_limit_in_phase(a, s)) {
            continue;
        }

        bucket = ca_window_bucket(a->now, limit->window);

        if (ca_key_limit(key, sizeof(key), (char *) ascf->brand.data,
                         (char *) a->scopes[s].data,
                         (char *) a->subject[s].data, bucket) < 0)
        {
            return NGX_ERROR;
        }

        cur = ngx_http_clientauth_pool_cstr(r, key);

        if (s == NGX_HTTP_CLIENTAUTH_LIMIT_BRAND) {
            a->brand_key = cur;
        }

        if (ca_key_limit(key, sizeof(key), (char *) ascf->brand.data,
                         (char *) a->scopes[s].data,
                         (char *) a->subject[s].data, bucket - 1) < 0)
        {
            return NGX_ERROR;
        }

        prev = ngx_http_clientauth_pool_cstr(r, key);

        /* a bucket must outlive the next one, which still weighs it */
        ttl = ngx_http_clientauth_pool_int(r, 2 * limit->window, &len);

        if (cur == NULL || prev == NULL || ttl == NULL) {
            return NGX_ERROR;
        }

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "INCR");
        ngx_http_clientauth_argv_add_str(&cmds[n++], cur);

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "PEXPIRE");
        ngx_http_clientauth_argv_add_str(&cmds[n], cur);
        ngx_http_clientauth_argv_add(&cmds[n++], ttl, len);

        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "GET");
        ngx_http_clientauth_argv_add_str(&cmds[n++], prev);
    }

    a->nreplies = n - first;

    return n - first;
}


/*
 * Records reply n of a round trip the attempt started: the identifier's
 * index, or one of the throttle's counters.  Returns NGX_ERROR for a reply
 * that is neither expected nor usable.
 */

ngx_int_t
ngx_http_clientauth_limit_reply(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a, ngx_uint_t n, redisReply *reply)
{
    ngx_uint_t  i, s;

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clientauth: redis refused a login check: %s",
                      reply->str);
        return NGX_ERROR;
    }

    if (a->phase == 1 && a->ident_kind && n == 0) {
        return (ngx_http_clientauth_reply_str(r->pool, reply, &a->ref)
                == NGX_ERROR) ? NGX_ERROR : NGX_OK;
    }

    if (n < a->first || n >= a->first + a->nreplies) {
        return NGX_OK;
    }

    i = n - a->first;

    if (a->phase == 2 && a->kind.len && a->lockout) {
        if (i == 0) {
            a->lock_ttl = ca_reply_int(reply);
            return NGX_OK;
        }

        if (i == 1) {
            a->fails = ca_reply_int(reply);

            if (a->fails <= 0) {
                /* a DEL on success raced an undo: set the count right */
                ngx_http_clientauth_limit_repair(r, a);
            }

            return NGX_OK;
        }

        if (i == 4) {
            a->bans = ca_reply_int(reply);
            return NGX_OK;
        }

        if (i < 5) {
            return NGX_OK;
        }

        i -= 5;
    }

    for (s = 0; s < NGX_HTTP_CLIENTAUTH_LIMITS; s++) {
        if (!ngx_http_clientauth_limit_in_phase(a, s)) {
            continue;
        }

        if (i == 0) {
            a->current[s] = ca_reply_int(reply);
            return NGX_OK;
        }

        if (i == 2) {
            a->previous[s] = ca_reply_int(reply);
            return NGX_OK;
        }

        if (i < 3) {
            return NGX_OK;
        }

        i -= 3;
    }

    return NGX_OK;
}


/*
 * NGX_OK: go on and check the password.  NGX_DECLINED: locked out or over a
 * limit, *retry says for how long.  NGX_AGAIN: this attempt is one too many,
 * a ban must be set first (ngx_http_clientauth_ban_*).
 */

ngx_int_t
ngx_http_clientauth_limit_verdict(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    time_t *retry)
{
    int64_t                       wait, longest;
    ngx_uint_t                    s;
    ngx_http_clientauth_limit_t  *limit;
    char                          esc[CA_LOGESC_SIZE];

    if (a->phase == 2 && a->lock_ttl > 0) {
        *retry = (time_t) ((a->lock_ttl + 999) / 1000);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: login refused: \"%s\" is locked out for "
                      "%T s", ngx_http_clientauth_log_safe(esc, &a->identifier),
                      *retry);
        ngx_http_clientauth_limit_undo(r, ascf, a);
        return NGX_DECLINED;
    }

    /*
     * The count is not reset by a ban (a reset would race with the undo of
     * attempts refused meanwhile): each ban allows as many tries again.
     */
    if (a->phase == 2 && a->kind.len && a->lockout
        && a->fails > (int64_t) ascf->lockout.retries * (a->bans + 1))
    {
        return NGX_AGAIN;
    }

    longest = 0;

    for (s = 0; s < NGX_HTTP_CLIENTAUTH_LIMITS; s++) {
        limit = &a->limits[s];

        if (!ngx_http_clientauth_limit_in_phase(a, s)
            || ca_window_allows(a->current[s], a->previous[s], a->now,
                                limit->window, limit->count))
        {
            continue;
        }

        wait = ca_window_retry_ms(a->current[s], a->previous[s], a->now,
                                  limit->window, limit->count);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clientauth: login refused: %V limit of %ui per %M ms "
                      "reached for \"%s\"", &a->scopes[s],
                      limit->count, limit->window,
                      ngx_http_clientauth_log_safe(esc, &a->subject[s]));

        longest = ngx_max(longest, wait);
    }

    if (longest) {
        *retry = (time_t) ((longest + 999) / 1000);

        if (a->phase == 2) {
            ngx_http_clientauth_limit_undo(r, ascf, a);
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_clientauth_limit_in_phase(ngx_http_clientauth_attempt_t *a,
    ngx_uint_t s)
{
    if (a->limits[s].count == 0 || a->subject[s].len == 0) {
        return 0;
    }

    /* the address first; the account and the brand once the address allows */
    return (s == NGX_HTTP_CLIENTAUTH_LIMIT_ADDRESS) == (a->phase == 1);
}


/*
 * The count went to zero or below: an undo's DECR came after a success's
 * DEL.  Moved up by as much (INCRBY, not SET, keeps concurrent INCRs), and
 * this attempt counts as the first.
 */

static void
ngx_http_clientauth_limit_repair(ngx_http_request_t *r,
    ngx_http_clientauth_attempt_t *a)
{
    ngx_http_clientauth_argv_t       cmd;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_http_clientauth_argv_reset(&cmd);
    ngx_http_clientauth_argv_add_str(&cmd, "INCRBY");
    ngx_http_clientauth_argv_add_str(&cmd, a->fails_key);
    ngx_http_clientauth_argv_add(&cmd, a->repair, ngx_sprintf(a->repair,
                                 "%L", 1 - a->fails) - a->repair);

    (void) ngx_http_clientauth_redis_post(ascf->redis, &cmd, 1);

    a->fails = 1;
}


/*
 * An attempt refused before hashing is not a failed password, and the
 * brand counts only attempts whose password is checked: a flood refused
 * per address or account does not lock a whole brand's customers out.
 */

void
ngx_http_clientauth_limit_undo(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a)
{
    char                        *fails;
    ngx_uint_t                   n;
    ngx_http_clientauth_argv_t   cmds[2];

    n = 0;

    if (a->kind.len && a->lockout) {
        fails = ngx_http_clientauth_login_key(r, ascf, a, "fails");

        if (fails) {
            ngx_http_clientauth_argv_reset(&cmds[n]);
            ngx_http_clientauth_argv_add_str(&cmds[n], "DECR");
            ngx_http_clientauth_argv_add_str(&cmds[n++], fails);
        }
    }

    if (a->brand_key) {
        ngx_http_clientauth_argv_reset(&cmds[n]);
        ngx_http_clientauth_argv_add_str(&cmds[n], "DECR");
        ngx_http_clientauth_argv_add_str(&cmds[n++], a->brand_key);
        a->brand_key = NULL;
    }

    if (n) {
        (void) ngx_http_clientauth_redis_post(ascf->redis, cmds, n);
    }
}


/*
 * Attempts that all found one failure too many race to lock the identifier
 * out: SET NX elects one of them to count the ban and set its length; the
 * others only learn how long it lasts.  None of them was a guess: each
 * gives its failure back.
 */

ngx_int_t
ngx_http_clientauth_ban_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmds)
{
    char    *lock, *ttl;
    size_t   len;

    lock = ngx_http_clientauth_login_key(r, ascf, a, "lock");
    ttl = ngx_http_clientauth_pool_int(r, ascf->lockout.ban_time, &len);

    if (lock == NULL || ttl == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "SET");
    ngx_http_clientauth_argv_add_str(&cmds[0], lock);
    ngx_http_clientauth_argv_add_str(&cmds[0], "1");
    ngx_http_clientauth_argv_add_str(&cmds[0], "PX");
    ngx_http_clientauth_argv_add(&cmds[0], ttl, len);
    ngx_http_clientauth_argv_add_str(&cmds[0], "NX");

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "PTTL");
    ngx_http_clientauth_argv_add_str(&cmds[1], lock);

    ngx_http_clientauth_limit_undo(r, ascf, a);

    return 2;
}


void
ngx_http_clientauth_ban_reply(ngx_http_clientauth_attempt_t *a, ngx_uint_t n,
    redisReply *reply)
{
    if (n == 0) {
        a->banner = (reply->type == REDIS_REPLY_STATUS);

    } else {
        a->lock_ttl = ca_reply_int(reply);
    }
}


/* The elected attempt counts the ban: INCR bans, kept as long as bans grow. */

ngx_int_t
ngx_http_clientauth_escalate_commands(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmds)
{
    char    *bans, *ttl;
    size_t   len;

    bans = ngx_http_clientauth_login_key(r, ascf, a, "bans");
    ttl = ngx_http_clientauth_pool_int(r, 2 * (int64_t) ascf->lockout.max_ban,
                                       &len);

    if (bans == NULL || ttl == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "INCR");
    ngx_http_clientauth_argv_add_str(&cmds[0], bans);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[1], bans);
    ngx_http_clientauth_argv_add(&cmds[1], ttl, len);

    return 2;
}


void
ngx_http_clientauth_escalate_reply(ngx_http_clientauth_attempt_t *a,
    ngx_uint_t n, redisReply *reply)
{
    if (n == 0) {
        a->bans = ca_reply_int(reply);
    }
}


/*
 * Gives the elected ban its length, doubled for each earlier one, and keeps
 * the failure count as long as the bans are remembered.  Returns the ban's
 * length in seconds, or NGX_ERROR.
 */

time_t
ngx_http_clientauth_ban_apply(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a)
{
    char                        *lock, *fails, *ttl, *keep;
    size_t                       len, klen;
    int64_t                      ban;
    ngx_http_clientauth_argv_t   cmds[2];
    char                         esc[CA_LOGESC_SIZE];

    ban = ca_backoff_ms(ascf->lockout.ban_time, ascf->lockout.max_ban,
                        a->bans > 0 ? a->bans : 1);

    lock = ngx_http_clientauth_login_key(r, ascf, a, "lock");
    fails = ngx_http_clientauth_login_key(r, ascf, a, "fails");
    ttl = ngx_http_clientauth_pool_int(r, ban, &len);
    keep = ngx_http_clientauth_pool_int(r, 2 * (int64_t) ascf->lockout.max_ban,
                                        &klen);

    if (lock == NULL || fails == NULL || ttl == NULL || keep == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[0], lock);
    ngx_http_clientauth_argv_add(&cmds[0], ttl, len);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[1], fails);
    ngx_http_clientauth_argv_add(&cmds[1], keep, klen);

    if (ngx_http_clientauth_redis_post(ascf->redis, cmds, 2) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "clientauth: \"%s\" locked out for %L ms after %ui failed "
                  "logins (ban %L)",
                  ngx_http_clientauth_log_safe(esc, &a->identifier), ban,
                  ascf->lockout.retries, a->bans);

    return (time_t) ((ban + 999) / 1000);
}


/*
 * Appends DEL fails bans to a success's transaction: the next lockout is a
 * first one again.  Returns 1, 0 or NGX_ERROR.
 */

ngx_int_t
ngx_http_clientauth_limit_success(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    ngx_http_clientauth_argv_t *cmd)
{
    char  *fails, *bans;

    if (a->kind.len == 0 || !a->lockout) {
        return 0;
    }

    fails = ngx_http_clientauth_login_key(r, ascf, a, "fails");
    bans = ngx_http_clientauth_login_key(r, ascf, a, "bans");

    if (fails == NULL || bans == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clientauth_argv_reset(cmd);
    ngx_http_clientauth_argv_add_str(cmd, "DEL");
    ngx_http_clientauth_argv_add_str(cmd, fails);
    ngx_http_clientauth_argv_add_str(cmd, bans);

    return 1;
}


static char *
ngx_http_clientauth_login_key(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_http_clientauth_attempt_t *a,
    const char *what)
{
    char  buf[CA_KEY_MAX];

    if (ca_key_login(buf, sizeof(buf), (char *) ascf->brand.data, what,
                     (char *) a->kind.data, (char *) a->identifier.data)
        < 0)
    {
        return NULL;
    }

    return ngx_http_clientauth_pool_cstr(r, buf);
}


static char *
ngx_http_clientauth_pool_int(ngx_http_request_t *r, int64_t value,
    size_t *len)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NULL;
    }

    *len = ngx_sprintf(p, "%L", value) - p;

    return (char *) p;
}


/* The client address after realip, as ca_addr_subject() counts it. */

static ngx_int_t
ngx_http_clientauth_address_subject(ngx_http_request_t *r, ngx_str_t *subject)
{
    size_t                n;
    u_char               *addr;
    ngx_connection_t     *c;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    c = r->connection;

    switch (c->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) c->sockaddr;
        addr = (u_char *) &sin->sin_addr;
        n = 4;
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) c->sockaddr;
        addr = sin6->sin6_addr.s6_addr;
        n = 16;
        break;
#endif

    default: /* a unix socket: its name */
        subject->data = ngx_pnalloc(r->pool, c->addr_text.len + 1);
        if (subject->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(subject->data, c->addr_text.data, c->addr_text.len);
        subject->data[c->addr_text.len] = '\0';
        subject->len = c->addr_text.len;

        return NGX_OK;
    }

    subject->data = ngx_pnalloc(r->pool, CA_ADDR_SUBJECT_MAX);
    if (subject->data == NULL) {
        return NGX_ERROR;
    }

    subject->len = ca_addr_subject((char *) subject->data,
                                   CA_ADDR_SUBJECT_MAX, addr, n);

    return subject->len ? NGX_OK : NGX_ERROR;
}


/* ------------------------------------------------------------ windows */

ngx_int_t
ngx_http_clientauth_window_init(ngx_http_request_t *r,
    ngx_http_clientauth_window_t *w, const char *scope, const char *subject,
    ngx_uint_t count, ngx_msec_t window)
{
    int64_t                          bucket;
    ngx_http_clientauth_srv_conf_t  *ascf;
    char                             key[CA_KEY_MAX];

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    /* off (count 0): keys all the same, never judged nor counted */
    w->count = count;
    w->window = count ? window : 60 * 1000;
    w->now = ngx_http_clientauth_now_ms();

    bucket = ca_window_bucket(w->now, w->window);

    if (ca_key_limit(key, sizeof(key), (char *) ascf->brand.data, scope,
                     subject, bucket) < 0)
    {
        return NGX_ERROR;
    }

    w->current = ngx_http_clientauth_pool_cstr(r, key);

    if (ca_key_limit(key, sizeof(key), (char *) ascf->brand.data, scope,
                     subject, bucket - 1) < 0)
    {
        return NGX_ERROR;
    }

    w->previous = ngx_http_clientauth_pool_cstr(r, key);

    return (w->current && w->previous) ? NGX_OK : NGX_ERROR;
}


void
ngx_http_clientauth_window_read(ngx_http_clientauth_window_t *w,
    ngx_http_clientauth_argv_t *cmds)
{
    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "GET");
    ngx_http_clientauth_argv_add_str(&cmds[0], w->current);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "GET");
    ngx_http_clientauth_argv_add_str(&cmds[1], w->previous);
}


/* 0: one more is allowed; else the seconds until it would be. */

time_t
ngx_http_clientauth_window_wait(ngx_http_clientauth_window_t *w,
    ngx_str_t *current, ngx_str_t *previous)
{
    int64_t  cur, prev;

    cur = current->len ? ngx_atoof(current->data, current->len) : 0;
    prev = previous->len ? ngx_atoof(previous->data, previous->len) : 0;

    /* this one included; a count Redis mangled counts as full */
    cur = (cur < 0) ? (int64_t) w->count + 1 : cur + 1;
    prev = (prev < 0) ? (int64_t) w->count : prev;

    if (w->count == 0
        || ca_window_allows(cur, prev, w->now, w->window, w->count))
    {
        return 0;
    }

    return (time_t) ((ca_window_retry_ms(cur, prev, w->now, w->window,
                                         w->count) + 999) / 1000);
}


/* INCR and PEXPIRE: 2 commands (0 when off), or NGX_ERROR. */

ngx_int_t
ngx_http_clientauth_window_count(ngx_http_request_t *r,
    ngx_http_clientauth_window_t *w, ngx_http_clientauth_argv_t *cmds)
{
    char    *ttl;
    size_t   len;

    if (w->count == 0) {
        return 0;
    }

    /* a bucket must outlive the next one, which still weighs it */
    ttl = ngx_http_clientauth_pool_int(r, 2 * (int64_t) w->window, &len);
    if (ttl == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clientauth_argv_reset(&cmds[0]);
    ngx_http_clientauth_argv_add_str(&cmds[0], "INCR");
    ngx_http_clientauth_argv_add_str(&cmds[0], w->current);

    ngx_http_clientauth_argv_reset(&cmds[1]);
    ngx_http_clientauth_argv_add_str(&cmds[1], "PEXPIRE");
    ngx_http_clientauth_argv_add_str(&cmds[1], w->current);
    ngx_http_clientauth_argv_add(&cmds[1], ttl, len);

    return 2;
}
