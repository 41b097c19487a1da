
/*
 * The self-service area (clientauth_account, /auth/account/...): what its
 * handlers share.
 *
 * How a handler is written
 *
 *   1. Add a row to ngx_http_clientauth_account_routes[] in
 *      ngx_http_clientauth_account.c, in a block of your own with a
 *      one-line comment:
 *
 *          { ngx_string("email"), NGX_HTTP_POST, my_email_step, NULL },
 *
 *      The path is what follows the location's prefix, without slashes
 *      around it ("" is the area's own page).  A GET row answers HEAD too.
 *      An unknown path is 404, a known path with another method 405.
 *
 *   2. By the time the step runs, the dispatcher has checked everything a
 *      self-service request needs:
 *        - a valid session (the access phase: browsers without one went to
 *          the login page with ?next=, other clients got 401);
 *        - for POST: the same-origin checks of the login (Sec-Fetch-Site,
 *          Origin) and the session's CSRF token, from the form field "csrf"
 *          or the header X-CSRF-Token, compared in constant time (403
 *          "csrf" otherwise, nothing read from the body is used);
 *        - the body is read and parsed: acc->form (form or JSON); a
 *          field named twice is 400 unless it is the row's fourth member,
 *          the one field the endpoint declares multi-valued ("perm").
 *
 *   3. The step is an ordinary flow step (ngx_http_clientauth_step_pt):
 *
 *          static ngx_int_t
 *          my_email_step(ngx_http_request_t *r,
 *              ngx_http_clientauth_ctx_t *ctx)
 *          {
 *              ngx_http_clientauth_account_t  *acc = ctx->flow;
 *              ...
 *          }
 *
 *      It returns NGX_DONE after ngx_http_clientauth_call() /
 *      ngx_http_clientauth_txn_call() (first set ctx->next to the step that
 *      reads the replies; keep your own state in acc->data), or what to
 *      finalize the request with: ngx_http_clientauth_account_ok(),
 *      ngx_http_clientauth_send_message() / _send_outcome() (JSON or a
 *      page, by Accept), ngx_http_clientauth_send_json(), a page through
 *      ngx_http_clientauth_page_render().  A Redis failure answers 503 by
 *      itself (set ctx->abandon to undo a half-done write).
 *
 *   4. What the session says, in acc: the identity (account, user,
 *      permissions: the user's current ones), the brand, the user's e-mail,
 *      role and locale, the session's own token hash (acc->token_hash: its
 *      key is ca_key_session(brand, account, token_hash), it is "the current
 *      session"), its opaque id and generation (the user's sgen when it was
 *      made) and its CSRF token.  ngx_http_clientauth_account_held() tells
 *      whether the user holds a permission.
 *
 *   5. Pages: the area's page is the template account.html (theme.c) with
 *      every form carrying {{csrf}}; ngx_http_clientauth_account_page()
 *      renders it again after a refusal (status, broken rules or an error
 *      text); a success's ?done=WHAT notice is a row of
 *      ngx_http_clientauth_account_notices[].  Ending the user's other
 *      sessions in a MULTI: ngx_http_clientauth_sessions_end_others().
 *      Every refusal changes nothing in Redis; test it with redis.dump().
 */

#ifndef _NGX_HTTP_CLIENTAUTH_ACCOUNT_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_ACCOUNT_H_INCLUDED_


#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ca_form.h"


typedef struct {
    ngx_str_t                    path;         /* after the prefix */
    ngx_uint_t                   method;       /* NGX_HTTP_GET or _POST */
    ngx_http_clientauth_step_pt  handler;
    const char                  *multi;        /* a field that may repeat */
} ngx_http_clientauth_account_route_t;


typedef struct {
    ngx_http_clientauth_account_route_t  *route;

    /* the session's identity (ctx->identity), and the brand */
    ngx_str_t                    account;
    ngx_str_t                    user;
    ngx_str_t                    permissions;
    ngx_str_t                    brand;

    /* the current session */
    ngx_str_t                    token_hash;   /* its key's hash */
    ngx_str_t                    session_id;   /* opaque, for the lists */
    ngx_str_t                    session_gen;  /* "g": sgen at login */
    ngx_str_t                    csrf;         /* empty: made before CSRF */

    /* its user, read with the session */
    ngx_str_t                    email;
    ngx_str_t                    role;         /* owner, subuser */
    ngx_str_t                    locale;

    ca_form_t                    form;         /* POST: the parsed body */

    ngx_str_t                    sessions_html;   /* the page's list */

    void                        *data;         /* the handler's own state */
} ngx_http_clientauth_account_t;


ngx_int_t ngx_http_clientauth_account_handler(ngx_http_request_t *r);

/* Whether the session's user holds perm ("all" holds every one). */
ngx_uint_t ngx_http_clientauth_account_held(ngx_http_clientauth_account_t *acc,
    const char *perm);

/*
 * Success: JSON {"ok":true} (with the "message" of text, unless
 * CA_T_COUNT), browsers 303 back to the area's page with ?done=WHAT, which
 * the page shows as a notice (see ngx_http_clientauth_account_notices).
 */
ngx_int_t ngx_http_clientauth_account_ok(ngx_http_request_t *r,
    const char *done, ca_text_e text);

/*
 * The area's page (browsers): 200, or after a refused change its status
 * with the new password's broken rules or an error text (else CA_T_COUNT).
 */
ngx_int_t ngx_http_clientauth_account_page(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_uint_t status, unsigned broken,
    ca_text_e error);

/* The area's page (GET), once a due e-mail change applied (…_email.c). */
ngx_int_t ngx_http_clientauth_account_view(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);

/* The area's own URL (the location's prefix). */
ngx_str_t *ngx_http_clientauth_account_url(ngx_http_request_t *r);


/* The routes' steps, by file. */

/* ngx_http_clientauth_password.c */
ngx_int_t ngx_http_clientauth_account_password(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);

/* ngx_http_clientauth_sessions.c */
ngx_int_t ngx_http_clientauth_account_sessions(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_account_sessions_page(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_account_revoke(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);

/*
 * For a MULTI that ends every other session of the user (a password
 * change, "sign out everywhere else"): DEL of the sessions listed (an
 * SMEMBERS of the index) but this one, SREM from the index, and this
 * session's move to the user's new generation gen (which the same MULTI
 * sets).  At most ngx_http_clientauth_sessions_end_size() commands; how
 * many, or NGX_ERROR; *ended counts the sessions.
 */
ngx_int_t ngx_http_clientauth_sessions_end_others(ngx_http_request_t *r,
    ngx_http_clientauth_account_t *acc, ngx_array_t *listed,
    ngx_http_clientauth_argv_t *cmds, ngx_str_t *gen, ngx_uint_t *ended);
ngx_uint_t ngx_http_clientauth_sessions_end_size(ngx_array_t *listed);


#endif /* _NGX_HTTP_CLIENTAUTH_ACCOUNT_H_INCLUDED_ */
