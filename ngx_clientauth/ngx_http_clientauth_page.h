
/*
 * The pages' shared shapes: what ngx_http_clientauth_theme.c compiles when
 * the configuration is read and ngx_http_clientauth_page.c renders.
 */

#ifndef _NGX_HTTP_CLIENTAUTH_PAGE_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_PAGE_H_INCLUDED_


#include "ngx_http_clientauth_module.h"
#include "ca_tpl.h"


#define NGX_HTTP_CLIENTAUTH_LANGS_MAX   15      /* ctx->lang is 4 bits */
#define NGX_HTTP_CLIENTAUTH_THEME_FILE  (256 * 1024)


typedef enum {
    NGX_HTTP_CLIENTAUTH_P_LAYOUT = 0,
    NGX_HTTP_CLIENTAUTH_P_LOGIN,
    NGX_HTTP_CLIENTAUTH_P_RESET,
    NGX_HTTP_CLIENTAUTH_P_SENT,
    NGX_HTTP_CLIENTAUTH_P_NEW_PASSWORD,
    NGX_HTTP_CLIENTAUTH_P_MESSAGE,
    /* self-service area (issue 10) */
    NGX_HTTP_CLIENTAUTH_P_ACCOUNT,
    /* self-service: forgotten identifier */
    NGX_HTTP_CLIENTAUTH_P_REMIND,
    /* self-service: e-mail change */
    NGX_HTTP_CLIENTAUTH_P_EMAIL,
    /* sub-users */
    NGX_HTTP_CLIENTAUTH_P_USERS,
    NGX_HTTP_CLIENTAUTH_P_COUNT
} ngx_http_clientauth_page_e;


/*
 * The variables every template may use, in the order of their names
 * (ngx_http_clientauth_page_vars, ngx_http_clientauth_theme.c).
 */
typedef enum {
    NGX_HTTP_CLIENTAUTH_V_LANG = 0,
    NGX_HTTP_CLIENTAUTH_V_TITLE,
    NGX_HTTP_CLIENTAUTH_V_BRAND,
    NGX_HTTP_CLIENTAUTH_V_HEAD,
    NGX_HTTP_CLIENTAUTH_V_SCRIPT,
    NGX_HTTP_CLIENTAUTH_V_LOGO,
    NGX_HTTP_CLIENTAUTH_V_PICKER,
    NGX_HTTP_CLIENTAUTH_V_CONTENT,
    NGX_HTTP_CLIENTAUTH_V_NOTICE,
    NGX_HTTP_CLIENTAUTH_V_ERROR,
    NGX_HTTP_CLIENTAUTH_V_ERRORS,
    NGX_HTTP_CLIENTAUTH_V_IDENTIFIER,
    NGX_HTTP_CLIENTAUTH_V_IDENTIFIER_LABEL,
    NGX_HTTP_CLIENTAUTH_V_USERNAME,
    NGX_HTTP_CLIENTAUTH_V_NEXT,
    NGX_HTTP_CLIENTAUTH_V_TOKEN,
    NGX_HTTP_CLIENTAUTH_V_SUPPORT,
    NGX_HTTP_CLIENTAUTH_V_RULES,
    NGX_HTTP_CLIENTAUTH_V_GENERATOR,
    NGX_HTTP_CLIENTAUTH_V_MIN,
    NGX_HTTP_CLIENTAUTH_V_EYE,
    NGX_HTTP_CLIENTAUTH_V_LINK_TEXT,
    NGX_HTTP_CLIENTAUTH_V_LINK_URL,
    NGX_HTTP_CLIENTAUTH_V_LOGIN_URL,
    NGX_HTTP_CLIENTAUTH_V_RESET_URL,
    /* self-service area (issue 10) */
    NGX_HTTP_CLIENTAUTH_V_CSRF,
    NGX_HTTP_CLIENTAUTH_V_EMAIL,
    NGX_HTTP_CLIENTAUTH_V_ACCOUNT_URL,
    NGX_HTTP_CLIENTAUTH_V_LOGOUT_URL,
    NGX_HTTP_CLIENTAUTH_V_SESSIONS,
    /* self-service: forgotten identifier */
    NGX_HTTP_CLIENTAUTH_V_REMIND_URL,
    /* self-service: e-mail change */
    NGX_HTTP_CLIENTAUTH_V_NEW_EMAIL,
    NGX_HTTP_CLIENTAUTH_V_EMAIL_URL,
    NGX_HTTP_CLIENTAUTH_V_CANCEL_URL,
    NGX_HTTP_CLIENTAUTH_V_VERIFIED,
    NGX_HTTP_CLIENTAUTH_V_GRACE,
    /* sub-users */
    NGX_HTTP_CLIENTAUTH_V_USERS,
    NGX_HTTP_CLIENTAUTH_V_INVITES,
    NGX_HTTP_CLIENTAUTH_V_PERM_CHOICES,
    NGX_HTTP_CLIENTAUTH_V_USERS_URL,
    NGX_HTTP_CLIENTAUTH_V_COUNT
} ngx_http_clientauth_var_e;

struct ngx_http_clientauth_pages_s {
    ngx_uint_t                   nlangs;
    const char                  *tags[NGX_HTTP_CLIENTAUTH_LANGS_MAX];
    ca_texts_t                   texts[NGX_HTTP_CLIENTAUTH_LANGS_MAX];
    ca_tpl_t                    *tpl[NGX_HTTP_CLIENTAUTH_P_COUNT];
    ngx_str_t                    head;         /* <style>...</style> */
    ngx_str_t                    script;       /* <script>...</script> */
    ngx_str_t                    csp;
    ngx_str_t                    logo;         /* <img> or empty */
};


/*
 * For pages of other files (the self-service area): the request's texts; a
 * page rendered from vars (what every page shows is filled in here); the
 * new-password fields' rules checklist, errors, minimum and generator.
 */
ca_texts_t *ngx_http_clientauth_page_texts(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_page_render(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_clientauth_page_e page, ngx_str_t *vars);
ngx_int_t ngx_http_clientauth_page_password_vars(ngx_http_request_t *r,
    unsigned broken, ngx_str_t *vars);


#endif /* _NGX_HTTP_CLIENTAUTH_PAGE_H_INCLUDED_ */
