
/*
 * The customer area's pages at request time: the request's language, pages
 * and messages rendered from memory from the theme compiled with the
 * configuration (ngx_http_clientauth_theme.c), with the headers that keep
 * them out of other sites' frames.
 */


#include "ngx_http_clientauth_page.h"

#include "ca_lang.h"
#include "ca_next.h"
#include "ca_policy.h"


typedef struct {
    ngx_str_t                   *vars;
    ca_texts_t                  *texts;
} ngx_http_clientauth_render_t;

static const char *ngx_http_clientauth_page_value(void *data, int is_text,
    int id, size_t *len);
static ngx_int_t ngx_http_clientauth_render(ngx_http_request_t *r,
    ca_tpl_t *tpl, ngx_str_t *vars, ca_texts_t *texts, ngx_str_t *out);
static ngx_int_t ngx_http_clientauth_page_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_clientauth_page_e page, ngx_str_t *vars);
static ngx_int_t ngx_http_clientauth_page_headers(ngx_http_request_t *r,
    ngx_http_clientauth_pages_t *pg, ngx_str_t *tag);
static ngx_int_t ngx_http_clientauth_picker(ngx_http_request_t *r,
    ngx_http_clientauth_pages_t *pg, ngx_uint_t current, ngx_str_t *out);
static ngx_int_t ngx_http_clientauth_identifier_label(ngx_http_request_t *r,
    ca_texts_t *texts, ngx_uint_t kinds, ngx_str_t *out);
static ngx_int_t ngx_http_clientauth_rules_html(ngx_http_request_t *r,
    ca_texts_t *texts, unsigned broken, ngx_str_t *list, ngx_str_t *errors);
static ngx_int_t ngx_http_clientauth_format(ngx_http_request_t *r,
    const char *text, ngx_str_t *arg, ngx_str_t *out);
static ngx_int_t ngx_http_clientauth_json_string(ngx_http_request_t *r,
    ngx_str_t *s, ngx_str_t *out);
static ca_texts_t *ngx_http_clientauth_texts(ngx_http_request_t *r);
static ngx_int_t ngx_http_clientauth_page_password_form(
    ngx_http_request_t *r, ngx_uint_t status, ca_text_e title,
    ngx_str_t *vars, ngx_str_t *token, ngx_str_t *username, unsigned broken);



static const char  ngx_http_clientauth_eye_svg[] =
    "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\" focusable=\"false\" "
    "fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" "
    "stroke-linecap=\"round\" stroke-linejoin=\"round\">"
    "<g class=\"on\"><path d=\"M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z\"/>"
    "<circle cx=\"12\" cy=\"12\" r=\"3\"/></g>"
    "<g class=\"off\"><path d=\"M17.9 17.9A10.5 10.5 0 0 1 12 19c-7 0-11-7-11-7"
    "a19 19 0 0 1 5.1-5.9M9.9 4.2A9.6 9.6 0 0 1 12 4c7 0 11 8 11 8a19 19 0 0 "
    "1-2.2 3.2M14.1 14.1a3 3 0 1 1-4.2-4.2\"/><path d=\"M1 1l22 22\"/></g>"
    "</svg>";

/* Names of languages in themselves, for the picker. */

static const struct {
    const char  *tag;
    const char  *name;
} ngx_http_clientauth_lang_names[] = {
    { "es", "Español" },
    { "fr", "Français" },
    { "en", "English" },
    { "ca", "Català" },
    { "de", "Deutsch" },
    { "it", "Italiano" },
    { "pt", "Português" },
    { "nl", "Nederlands" }
};

/*
 * The request's language: ?lang= (then remembered in a cookie), the
 * clientauth_lang cookie, Accept-Language, the first configured.  What a
 * client sends can only choose among the configured ones; anything else,
 * malformed or oversized, falls back silently.
 */

ngx_int_t
ngx_http_clientauth_lang(ngx_http_request_t *r, ngx_str_t *tag)
{
    ngx_int_t                        i;
    ngx_str_t                        value, cookie;
    ngx_table_elt_t                 *al;
    ngx_http_clientauth_ctx_t       *ctx;
    ngx_http_clientauth_pages_t     *pg;
    ngx_http_clientauth_srv_conf_t  *ascf;

    static ngx_str_t  name = ngx_string("clientauth_lang");

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    pg = ascf->pages;
    ctx = ngx_http_clientauth_get_ctx(r);

    if (ctx && ctx->lang_known) {
        i = ctx->lang;
        goto found;
    }

    i = -1;

    if (ngx_http_arg(r, (u_char *) "lang", 4, &value) == NGX_OK) {
        i = ca_lang_find(pg->tags, pg->nlangs, (char *) value.data,
                         value.len);

        if (i >= 0) {
            cookie.len = sizeof("clientauth_lang=; Path=/; Max-Age=31536000; "
                                "SameSite=Lax; Secure") - 1
                         + ngx_strlen(pg->tags[i]);
            cookie.data = ngx_pnalloc(r->pool, cookie.len);
            if (cookie.data == NULL) {
                return NGX_ERROR;
            }

            cookie.len = ngx_sprintf(cookie.data, "clientauth_lang=%s; "
                                     "Path=/; Max-Age=31536000; "
                                     "SameSite=Lax%s", pg->tags[i],
                                     ascf->cookie_secure ? "; Secure" : "")
                         - cookie.data;

            if (ngx_http_clientauth_add_header(r, "Set-Cookie", &cookie)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (i < 0
        && ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                             &value)
           != NGX_DECLINED)
    {
        i = ca_lang_find(pg->tags, pg->nlangs, (char *) value.data,
                         value.len);
    }

    al = r->headers_in.accept_language;

    if (i < 0 && al) {
        i = ca_lang_negotiate(pg->tags, pg->nlangs, (char *) al->value.data,
                              al->value.len);
    }

    if (ctx) {
        ctx->lang_chosen = (i >= 0);
    }

    if (i < 0) {
        i = 0;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "clientauth: page language %s", pg->tags[i]);

    if (ctx) {
        ctx->lang = i;
        ctx->lang_known = 1;
    }

found:

    if (tag) {
        tag->data = (u_char *) pg->tags[i];
        tag->len = ngx_strlen(pg->tags[i]);
    }

    return i;
}


/*
 * The language the customer asked for (lang, cookie or Accept-Language),
 * or NGX_DECLINED when the request named none the brand offers: a JSON
 * client's fallback must not replace the locale a user has.
 */

ngx_int_t
ngx_http_clientauth_customer_lang(ngx_http_request_t *r, ngx_str_t *tag)
{
    ngx_http_clientauth_ctx_t  *ctx;

    if (ngx_http_clientauth_lang(r, tag) == NGX_ERROR) {
        return NGX_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_clientauth_module);

    return (ctx && ctx->lang_chosen) ? NGX_OK : NGX_DECLINED;
}


static ca_texts_t *
ngx_http_clientauth_texts(ngx_http_request_t *r)
{
    ngx_int_t                        i;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    i = ngx_http_clientauth_lang(r, NULL);

    return &ascf->pages->texts[i == NGX_ERROR ? 0 : i];
}


static const char *
ngx_http_clientauth_page_value(void *data, int is_text, int id, size_t *len)
{
    ngx_http_clientauth_render_t  *rd = data;

    const char  *v;

    if (is_text) {
        v = rd->texts->t[id];
        *len = ngx_strlen(v);
        return v;
    }

    *len = rd->vars[id].len;

    return (const char *) rd->vars[id].data;
}


static ngx_int_t
ngx_http_clientauth_render(ngx_http_request_t *r, ca_tpl_t *tpl,
    ngx_str_t *vars, ca_texts_t *texts, ngx_str_t *out)
{
    ngx_http_clientauth_render_t  rd;

    rd.vars = vars;
    rd.texts = texts;

    out->len = ca_tpl_render(tpl, ngx_http_clientauth_page_value, &rd, NULL);
    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    (void) ca_tpl_render(tpl, ngx_http_clientauth_page_value, &rd,
                         (char *) out->data);

    return NGX_OK;
}


ngx_str_t *
ngx_http_clientauth_page_url(ngx_http_request_t *r, ngx_uint_t endpoint)
{
    ngx_http_clientauth_srv_conf_t  *ascf;
    ngx_http_clientauth_loc_conf_t  *alcf;

    static ngx_str_t  defaults[NGX_HTTP_CLIENTAUTH_ENDPOINTS] = {
        [NGX_HTTP_CLIENTAUTH_LOGIN] = ngx_string("/auth/login"),
        [NGX_HTTP_CLIENTAUTH_LOGOUT] = ngx_string("/auth/logout"),
        [NGX_HTTP_CLIENTAUTH_RESET_REQUEST] = ngx_string("/auth/reset"),
        [NGX_HTTP_CLIENTAUTH_RESET_CONFIRM] =
                                           ngx_string("/auth/reset/confirm"),
        /* self-service area (issue 10) */
        [NGX_HTTP_CLIENTAUTH_ACCOUNT] = ngx_string("/auth/account/"),
        /* self-service: forgotten identifier */
        [NGX_HTTP_CLIENTAUTH_REMIND] = ngx_string("/auth/remind"),
        [NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL] = ngx_string("/auth/email/cancel"),
        /* sub-users */
        [NGX_HTTP_CLIENTAUTH_INVITE_ACCEPT] = ngx_string("/auth/invite"),
    };

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (endpoint == NGX_HTTP_CLIENTAUTH_LOGIN) {
        /* where this location sends people to log in */
        alcf = ngx_http_get_module_loc_conf(r, ngx_http_clientauth_module);

        if (alcf->login_url.len) {
            return &alcf->login_url;
        }
    }

    if (ascf->urls[endpoint].len) {
        return &ascf->urls[endpoint];
    }

    return &defaults[endpoint];
}


/* Fills what every page shows: language, brand, style, picker, links. */

static ngx_int_t
ngx_http_clientauth_page_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_clientauth_page_e page, ngx_str_t *vars)
{
    ngx_int_t                        lang;
    ngx_str_t                        tag, body;
    ca_texts_t                      *texts;
    ngx_http_clientauth_pages_t     *pg;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    pg = ascf->pages;

    lang = ngx_http_clientauth_lang(r, &tag);
    if (lang == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    texts = &pg->texts[lang];

    vars[NGX_HTTP_CLIENTAUTH_V_LANG] = tag;

    if (texts->t[CA_T_BRAND][0]) {
        vars[NGX_HTTP_CLIENTAUTH_V_BRAND].data =
                                            (u_char *) texts->t[CA_T_BRAND];
        vars[NGX_HTTP_CLIENTAUTH_V_BRAND].len =
                                           ngx_strlen(texts->t[CA_T_BRAND]);

    } else {
        vars[NGX_HTTP_CLIENTAUTH_V_BRAND] = ascf->brand;
    }

    vars[NGX_HTTP_CLIENTAUTH_V_HEAD] = pg->head;
    vars[NGX_HTTP_CLIENTAUTH_V_SCRIPT] = pg->script;
    vars[NGX_HTTP_CLIENTAUTH_V_LOGO] = pg->logo;
    vars[NGX_HTTP_CLIENTAUTH_V_EYE].data =
                                       (u_char *) ngx_http_clientauth_eye_svg;
    vars[NGX_HTTP_CLIENTAUTH_V_EYE].len =
                                       sizeof(ngx_http_clientauth_eye_svg) - 1;
    vars[NGX_HTTP_CLIENTAUTH_V_LOGIN_URL] =
                  *ngx_http_clientauth_page_url(r, NGX_HTTP_CLIENTAUTH_LOGIN);
    vars[NGX_HTTP_CLIENTAUTH_V_RESET_URL] =
          *ngx_http_clientauth_page_url(r, NGX_HTTP_CLIENTAUTH_RESET_REQUEST);

    if (ngx_http_clientauth_picker(r, pg, lang,
                                   &vars[NGX_HTTP_CLIENTAUTH_V_PICKER])
           != NGX_OK
        || ngx_http_clientauth_render(r, pg->tpl[page], vars, texts,
                                      &vars[NGX_HTTP_CLIENTAUTH_V_CONTENT])
           != NGX_OK
        || ngx_http_clientauth_render(r,
                                      pg->tpl[NGX_HTTP_CLIENTAUTH_P_LAYOUT],
                                      vars, texts, &body)
           != NGX_OK
        || ngx_http_clientauth_page_headers(r, pg, &tag) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_send_html(r, status, &body);
}


/* Every page refuses other origins' frames and runs only its own code. */

static ngx_int_t
ngx_http_clientauth_page_headers(ngx_http_request_t *r,
    ngx_http_clientauth_pages_t *pg, ngx_str_t *tag)
{
    static ngx_str_t  deny = ngx_string("DENY");

    if (ngx_http_clientauth_add_header(r, "Content-Security-Policy", &pg->csp)
           != NGX_OK
        || ngx_http_clientauth_add_header(r, "X-Frame-Options", &deny)
           != NGX_OK
        || ngx_http_clientauth_add_header(r, "Content-Language", tag)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Links to this page in each language: the same path and arguments (a
 * reset token must survive), lang replaced.
 */

static ngx_int_t
ngx_http_clientauth_picker(ngx_http_request_t *r,
    ngx_http_clientauth_pages_t *pg, ngx_uint_t current, ngx_str_t *out)
{
    u_char      *p, *a, *end, *amp;
    size_t       len;
    ngx_uint_t   i, j;
    const char  *name;

    if (pg->nlangs < 2) {
        ngx_str_null(out);
        return NGX_OK;
    }

    len = sizeof("<ul></ul>");

    for (i = 0; i < pg->nlangs; i++) {
        len += sizeof("<li><a href=\"?&amp;lang=\" hreflang=\"\" lang=\"\" "
                      "aria-current=\"true\"></a></li>")
               + 3 * ngx_strlen(pg->tags[i]) + 32 + 6 * r->args.len;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, "<ul>", 4);

    for (i = 0; i < pg->nlangs; i++) {
        name = pg->tags[i];

        for (j = 0; j < sizeof(ngx_http_clientauth_lang_names)
                        / sizeof(ngx_http_clientauth_lang_names[0]); j++)
        {
            if (ngx_strcmp(ngx_http_clientauth_lang_names[j].tag, name) == 0) {
                name = ngx_http_clientauth_lang_names[j].name;
            }
        }

        /* "?..." keeps the page's path, whatever it is */
        p = ngx_cpymem(p, "<li><a href=\"?", sizeof("<li><a href=\"?") - 1);

        /* the other arguments, as they came, HTML-escaped */
        a = r->args.data;
        end = a + r->args.len;

        while (a < end) {
            amp = ngx_strlchr(a, end, '&');
            if (amp == NULL) {
                amp = end;
            }

            if (!(amp - a >= 5 && ngx_strncmp(a, "lang=", 5) == 0)
                && amp > a)
            {
                p = (u_char *) ngx_escape_html(p, a, amp - a);
                p = ngx_cpymem(p, "&amp;", 5);
            }

            a = amp + 1;
        }

        p = ngx_sprintf(p, "lang=%s\" hreflang=\"%s\" lang=\"%s\"%s>%s</a>"
                        "</li>", pg->tags[i], pg->tags[i], pg->tags[i],
                        i == current ? " aria-current=\"true\"" : "", name);
    }

    p = ngx_cpymem(p, "</ul>", 5);
    out->len = p - out->data;

    return NGX_OK;
}


/* "Customer number, domain or e-mail": kinds, a mask of ca_id_kind_e. */

static ngx_int_t
ngx_http_clientauth_identifier_label(ngx_http_request_t *r, ca_texts_t *texts,
    ngx_uint_t kinds, ngx_str_t *out)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i, n, k;
    ca_text_e    names[5];

    static const struct {
        ca_id_kind_e  kind;
        ca_text_e     text;
    } order[] = {
        { CA_ID_CUSTOMER_NUMBER, CA_T_ID_CUSTOMER_NUMBER },
        { CA_ID_NIC, CA_T_ID_NIC },
        { CA_ID_DOMAIN, CA_T_ID_DOMAIN },
        { CA_ID_EMAIL, CA_T_ID_EMAIL },
        { CA_ID_PHONE, CA_T_ID_PHONE }
    };

    n = 0;
    len = 0;

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (kinds & order[i].kind) {
            names[n++] = order[i].text;
            len += ngx_strlen(texts->t[order[i].text]) + 2;
        }
    }

    len += ngx_strlen(texts->t[CA_T_ID_OR]) + 2;

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (k = 0; k < n; k++) {
        if (k > 0) {
            p = (k + 1 == n) ? ngx_sprintf(p, " %s ", texts->t[CA_T_ID_OR])
                             : ngx_cpymem(p, ", ", 2);
        }

        p = ngx_sprintf(p, "%s", texts->t[names[k]]);
    }

    out->len = p - out->data;

    /* the first word starts the label: capitalised when it is ASCII */
    if (out->len && out->data[0] >= 'a' && out->data[0] <= 'z') {
        out->data[0] -= 'a' - 'A';
    }

    return NGX_OK;
}


/* text with its {n} replaced by arg. */

static ngx_int_t
ngx_http_clientauth_format(ngx_http_request_t *r, const char *text,
    ngx_str_t *arg, ngx_str_t *out)
{
    char   a[CA_TEXT_LEN_MAX + 1];

    ngx_cpystrn((u_char *) a, arg->data,
                ngx_min(arg->len + 1, sizeof(a)));

    out->len = ca_text_format(NULL, 0, text, a);
    out->data = ngx_pnalloc(r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    (void) ca_text_format((char *) out->data, out->len + 1, text, a);

    return NGX_OK;
}


/* The rules a new password must meet, in the order ca_policy lists them. */

static unsigned
ngx_http_clientauth_rules_shown(ngx_http_clientauth_srv_conf_t *ascf)
{
    unsigned  rules;

    rules = CA_RULE_TOO_SHORT | CA_RULE_IDENTIFIER | CA_RULE_MISMATCH;

    if (ascf->password_policy == CA_POLICY_DEFAULT) {
        rules |= CA_RULE_NO_UPPER | CA_RULE_NO_LOWER | CA_RULE_NO_DIGIT
                 | CA_RULE_NO_SPECIAL | CA_RULE_WHITESPACE;

    } else {
        rules |= CA_RULE_COMMON;
    }

    if (ascf->password_history > 0) {
        rules |= CA_RULE_REUSED;
    }

    return rules;
}


/* The {n} of a rule's text. */

static ngx_uint_t
ngx_http_clientauth_rule_number(ngx_http_clientauth_srv_conf_t *ascf,
    unsigned rule)
{
    switch (rule) {
    case CA_RULE_TOO_SHORT:
        return ascf->password_min;
    case CA_RULE_TOO_LONG:
        return ascf->password_max;
    case CA_RULE_REUSED:
        return ascf->password_history;
    default:
        return 0;
    }
}


static ngx_int_t
ngx_http_clientauth_rule_text(ngx_http_request_t *r, ca_texts_t *texts,
    unsigned rule, ngx_str_t *out)
{
    u_char                           num[NGX_INT_T_LEN];
    ngx_str_t                        arg;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    arg.data = num;
    arg.len = ngx_sprintf(num, "%ui",
                          ngx_http_clientauth_rule_number(ascf, rule)) - num;

    return ngx_http_clientauth_format(r, texts->t[ca_text_rule(rule)], &arg,
                                      out);
}


/*
 * The checklist under the new password (each rule with its number, broken
 * ones marked) and the list of broken rules for the error box.
 */

static ngx_int_t
ngx_http_clientauth_rules_html(ngx_http_request_t *r, ca_texts_t *texts,
    unsigned broken, ngx_str_t *list, ngx_str_t *errors)
{
    u_char                          *p, *e;
    size_t                           len;
    unsigned                         rule, shown;
    ngx_str_t                        text;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    shown = ngx_http_clientauth_rules_shown(ascf) | broken;

    len = sizeof("<div class=\"rules\" id=\"rules\"><p></p><ul></ul></div>")
          + 6 * ngx_strlen(texts->t[CA_T_RULES_TITLE]);

    for (rule = 1; rule <= CA_RULE_LAST; rule <<= 1) {
        if (shown & rule) {
            len += 6 * (CA_TEXT_LEN_MAX + NGX_INT_T_LEN) + 128;
        }
    }

    list->data = ngx_pnalloc(r->pool, len);
    errors->data = ngx_pnalloc(r->pool, len);
    if (list->data == NULL || errors->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(list->data, "<div class=\"rules\" id=\"rules\"><p>",
                   sizeof("<div class=\"rules\" id=\"rules\"><p>") - 1);
    p = (u_char *) ngx_escape_html(p, (u_char *) texts->t[CA_T_RULES_TITLE],
                                   ngx_strlen(texts->t[CA_T_RULES_TITLE]));
    p = ngx_cpymem(p, "</p><ul>", sizeof("</p><ul>") - 1);
    e = ngx_cpymem(errors->data, "<ul>", 4);

    for (rule = 1; rule <= CA_RULE_LAST; rule <<= 1) {
        if (!(shown & rule)) {
            continue;
        }

        if (ngx_http_clientauth_rule_text(r, texts, rule, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(p, "<li data-rule=\"%s\" data-n=\"%ui\"%s>",
                        ca_rule_code(rule),
                        ngx_http_clientauth_rule_number(ascf, rule),
                        (broken & rule) ? " class=\"broken\"" : "");
        p = (u_char *) ngx_escape_html(p, text.data, text.len);
        p = ngx_cpymem(p, "</li>", 5);

        if (broken & rule) {
            e = ngx_cpymem(e, "<li>", 4);
            e = (u_char *) ngx_escape_html(e, text.data, text.len);
            e = ngx_cpymem(e, "</li>", 5);
        }
    }

    p = ngx_cpymem(p, "</ul></div>", sizeof("</ul></div>") - 1);
    e = ngx_cpymem(e, "</ul>", 5);

    list->len = p - list->data;
    errors->len = e - errors->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_clientauth_page_login(ngx_http_request_t *r, ngx_uint_t status,
    ca_text_e error, ngx_str_t *identifier, ngx_str_t *next)
{
    ngx_str_t                        done;
    ca_texts_t                      *texts;
    ngx_str_t                        vars[NGX_HTTP_CLIENTAUTH_V_COUNT];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_memzero(vars, sizeof(vars));

    /* "forgot your customer number?" where the server offers it */
    vars[NGX_HTTP_CLIENTAUTH_V_REMIND_URL] =
                                     ascf->urls[NGX_HTTP_CLIENTAUTH_REMIND];

    texts = ngx_http_clientauth_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                     (u_char *) texts->t[CA_T_LOGIN_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                     ngx_strlen(texts->t[CA_T_LOGIN_TITLE]);

    if (error != CA_T_COUNT) {
        vars[NGX_HTTP_CLIENTAUTH_V_ERROR].data = (u_char *) texts->t[error];
        vars[NGX_HTTP_CLIENTAUTH_V_ERROR].len = ngx_strlen(texts->t[error]);
    }

    /* what the customer was told by the flow that sent them here */
    if (error == CA_T_COUNT && r->method == NGX_HTTP_GET
        && ngx_http_arg(r, (u_char *) "done", 4, &done) == NGX_OK)
    {
        if (done.len == 6 && ngx_strncmp(done.data, "logout", 6) == 0) {
            error = CA_T_LOGGED_OUT;

        } else if (done.len == 5 && ngx_strncmp(done.data, "reset", 5) == 0) {
            error = CA_T_PASSWORD_CHANGED;

        } else if (done.len == 6 && ngx_strncmp(done.data, "invite", 6) == 0) {
            error = CA_T_INVITE_DONE;
        }

        if (error != CA_T_COUNT) {
            vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].data =
                                                  (u_char *) texts->t[error];
            vars[NGX_HTTP_CLIENTAUTH_V_NOTICE].len =
                                                  ngx_strlen(texts->t[error]);
        }
    }

    if (identifier) {
        vars[NGX_HTTP_CLIENTAUTH_V_IDENTIFIER] = *identifier;
    }

    if (next && next->len <= CA_NEXT_MAX) {
        vars[NGX_HTTP_CLIENTAUTH_V_NEXT] = *next;
    }

    if (ngx_http_clientauth_identifier_label(r, texts, ascf->identifiers,
                              &vars[NGX_HTTP_CLIENTAUTH_V_IDENTIFIER_LABEL])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_page_send(r, status,
                                         NGX_HTTP_CLIENTAUTH_P_LOGIN, vars);
}


ngx_int_t
ngx_http_clientauth_page_reset(ngx_http_request_t *r)
{
    ca_texts_t                      *texts;
    ngx_str_t                        vars[NGX_HTTP_CLIENTAUTH_V_COUNT];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_memzero(vars, sizeof(vars));

    texts = ngx_http_clientauth_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                     (u_char *) texts->t[CA_T_RESET_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                     ngx_strlen(texts->t[CA_T_RESET_TITLE]);

    if (ngx_http_clientauth_identifier_label(r, texts, ascf->identifiers,
                              &vars[NGX_HTTP_CLIENTAUTH_V_IDENTIFIER_LABEL])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_page_send(r, NGX_HTTP_OK,
                                         NGX_HTTP_CLIENTAUTH_P_RESET, vars);
}


/* 202 "request sent": a page, or {"ok":true,"message":...}. */

ngx_int_t
ngx_http_clientauth_page_sent(ngx_http_request_t *r)
{
    ca_texts_t  *texts;
    ngx_str_t    vars[NGX_HTTP_CLIENTAUTH_V_COUNT];

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        return ngx_http_clientauth_send_message(r, NGX_HTTP_ACCEPTED, "sent",
                                                CA_T_SENT_TITLE, CA_T_SENT);
    }

    ngx_memzero(vars, sizeof(vars));

    texts = ngx_http_clientauth_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                      (u_char *) texts->t[CA_T_SENT_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                      ngx_strlen(texts->t[CA_T_SENT_TITLE]);

    return ngx_http_clientauth_page_send(r, NGX_HTTP_ACCEPTED,
                                         NGX_HTTP_CLIENTAUTH_P_SENT, vars);
}


/*
 * Forgotten identifier: the form asks for any identifier the brand
 * recovers by; the answer to every well-formed request is one message.
 */

ngx_int_t
ngx_http_clientauth_page_remind(ngx_http_request_t *r)
{
    ca_texts_t                      *texts;
    ngx_str_t                        vars[NGX_HTTP_CLIENTAUTH_V_COUNT];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_memzero(vars, sizeof(vars));

    texts = ngx_http_clientauth_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                     (u_char *) texts->t[CA_T_REMIND_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                     ngx_strlen(texts->t[CA_T_REMIND_TITLE]);
    vars[NGX_HTTP_CLIENTAUTH_V_REMIND_URL] =
                 *ngx_http_clientauth_page_url(r, NGX_HTTP_CLIENTAUTH_REMIND);

    if (ngx_http_clientauth_identifier_label(r, texts,
                              ascf->recovery_identifiers,
                              &vars[NGX_HTTP_CLIENTAUTH_V_IDENTIFIER_LABEL])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_page_send(r, NGX_HTTP_OK,
                                         NGX_HTTP_CLIENTAUTH_P_REMIND, vars);
}


ngx_int_t
ngx_http_clientauth_page_remind_sent(ngx_http_request_t *r)
{
    ngx_http_clientauth_outcome_t  oc;

    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));
    oc.title = CA_T_SENT_TITLE;
    oc.text = CA_T_REMIND_SENT;
    oc.link_text = CA_T_COUNT;

    return ngx_http_clientauth_send_outcome(r, NGX_HTTP_ACCEPTED, "sent",
                                            &oc);
}


ngx_int_t
ngx_http_clientauth_page_new_password(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *token, ngx_str_t *username,
    unsigned broken)
{
    ngx_str_t  vars[NGX_HTTP_CLIENTAUTH_V_COUNT];

    ngx_memzero(vars, sizeof(vars));

    return ngx_http_clientauth_page_password_form(r, status, CA_T_NEW_TITLE,
                                                  vars, token, username,
                                                  broken);
}


/*
 * The invitation's page: the new-password form under its own title, with
 * the address the access is for.
 */

ngx_int_t
ngx_http_clientauth_page_invite(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *token, ngx_str_t *email, unsigned broken)
{
    ca_texts_t  *texts;
    ngx_str_t    vars[NGX_HTTP_CLIENTAUTH_V_COUNT];

    ngx_memzero(vars, sizeof(vars));

    texts = ngx_http_clientauth_texts(r);

    if (ngx_http_clientauth_format(r, texts->t[CA_T_INVITE_INTRO], email,
                                   &vars[NGX_HTTP_CLIENTAUTH_V_NOTICE])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_page_password_form(r, status,
                                                  CA_T_INVITE_TITLE, vars,
                                                  token, email, broken);
}


static ngx_int_t
ngx_http_clientauth_page_password_form(ngx_http_request_t *r,
    ngx_uint_t status, ca_text_e title, ngx_str_t *vars, ngx_str_t *token,
    ngx_str_t *username, unsigned broken)
{
    ca_texts_t  *texts;

    texts = ngx_http_clientauth_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data = (u_char *) texts->t[title];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len = ngx_strlen(texts->t[title]);
    vars[NGX_HTTP_CLIENTAUTH_V_TOKEN] = *token;

    if (username) {
        vars[NGX_HTTP_CLIENTAUTH_V_USERNAME] = *username;
    }

    if (broken) {
        vars[NGX_HTTP_CLIENTAUTH_V_ERROR].data =
                                      (u_char *) texts->t[CA_T_RULES_BROKEN];
        vars[NGX_HTTP_CLIENTAUTH_V_ERROR].len =
                                      ngx_strlen(texts->t[CA_T_RULES_BROKEN]);
    }

    if (ngx_http_clientauth_page_password_vars(r, broken, vars) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_page_send(r, status,
                                      NGX_HTTP_CLIENTAUTH_P_NEW_PASSWORD, vars);
}


/* A new password's fields: the rules checklist, and what it refused. */

ngx_int_t
ngx_http_clientauth_page_password_vars(ngx_http_request_t *r,
    unsigned broken, ngx_str_t *vars)
{
    u_char                          *num;
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    if (ascf->password_generator) {
        ngx_str_set(&vars[NGX_HTTP_CLIENTAUTH_V_GENERATOR], "on");
    }

    num = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (num == NULL) {
        return NGX_ERROR;
    }

    vars[NGX_HTTP_CLIENTAUTH_V_MIN].data = num;
    vars[NGX_HTTP_CLIENTAUTH_V_MIN].len =
                              ngx_sprintf(num, "%ui", ascf->password_min) - num;

    return ngx_http_clientauth_rules_html(r, ngx_http_clientauth_texts(r),
                                          broken,
                                          &vars[NGX_HTTP_CLIENTAUTH_V_RULES],
                                          &vars[NGX_HTTP_CLIENTAUTH_V_ERRORS]);
}


ca_texts_t *
ngx_http_clientauth_page_texts(ngx_http_request_t *r)
{
    return ngx_http_clientauth_texts(r);
}


ngx_int_t
ngx_http_clientauth_page_render(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_clientauth_page_e page, ngx_str_t *vars)
{
    return ngx_http_clientauth_page_send(r, status, page, vars);
}


/* A text as a JSON string, quotes included. */

static ngx_int_t
ngx_http_clientauth_json_string(ngx_http_request_t *r, ngx_str_t *s,
    ngx_str_t *out)
{
    u_char  *p;

    out->len = 2 + s->len + ngx_escape_json(NULL, s->data, s->len);
    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * 422's body: {"ok":false,"error":"password_policy","rules":[codes],
 * "messages":[the broken rules in the request's language]}.
 */

ngx_int_t
ngx_http_clientauth_rules_json(ngx_http_request_t *r, unsigned broken,
    ngx_str_t *json)
{
    u_char      *p;
    size_t       len;
    unsigned     rule;
    ngx_str_t    text, quoted;
    ca_texts_t  *texts;

    texts = ngx_http_clientauth_texts(r);

    len = sizeof("{\"ok\":false,\"error\":\"password_policy\",\"rules\":[],"
                 "\"messages\":[]}");

    for (rule = 1; rule <= CA_RULE_LAST; rule <<= 1) {
        if (broken & rule) {
            len += ngx_strlen(ca_rule_code(rule)) + 4
                   + 6 * (CA_TEXT_LEN_MAX + NGX_INT_T_LEN) + 4;
        }
    }

    json->data = ngx_pnalloc(r->pool, len);
    if (json->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(json->data,
                    "{\"ok\":false,\"error\":\"password_policy\",\"rules\":[");

    for (rule = 1; rule <= CA_RULE_LAST; rule <<= 1) {
        if (broken & rule) {
            p = ngx_sprintf(p, "%s\"%s\"", p[-1] == '[' ? "" : ",",
                            ca_rule_code(rule));
        }
    }

    p = ngx_sprintf(p, "],\"messages\":[");

    for (rule = 1; rule <= CA_RULE_LAST; rule <<= 1) {
        if (!(broken & rule)) {
            continue;
        }

        if (ngx_http_clientauth_rule_text(r, texts, rule, &text) != NGX_OK
            || ngx_http_clientauth_json_string(r, &text, &quoted) != NGX_OK)
        {
            return NGX_ERROR;
        }

        p = ngx_sprintf(p, "%s%V", p[-1] == '[' ? "" : ",", &quoted);
    }

    p = ngx_sprintf(p, "]}");
    json->len = p - json->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_clientauth_send_message(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, ca_text_e title, ca_text_e text)
{
    ngx_http_clientauth_outcome_t  oc;

    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));

    oc.title = title;
    oc.text = text;
    oc.link_text = CA_T_COUNT;

    return ngx_http_clientauth_send_outcome(r, status, code, &oc);
}


/*
 * An outcome with a machine-readable code and a sentence for people in
 * the request's language: {"ok":false,"error":"CODE","message":"TEXT"}
 * ({"ok":true,"message":...} below 400), or a page with the sentence, the
 * support contact and a way on.
 */

ngx_int_t
ngx_http_clientauth_send_outcome(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, ngx_http_clientauth_outcome_t *oc)
{
    u_char                          *p;
    ngx_str_t                        text, quoted, body, contact;
    ca_texts_t                      *texts;
    ngx_str_t                        vars[NGX_HTTP_CLIENTAUTH_V_COUNT];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);
    texts = ngx_http_clientauth_texts(r);

    if (ngx_http_clientauth_format(r, texts->t[oc->text], &oc->arg, &text)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clientauth_accepts(r, "application/json")) {
        if (ngx_http_clientauth_json_string(r, &text, &quoted) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body.data = ngx_pnalloc(r->pool, sizeof("{\"ok\":false,\"error\":\"\","
                                                "\"message\":}")
                                         + ngx_strlen(code) + quoted.len);
        if (body.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (status < NGX_HTTP_BAD_REQUEST) {
            p = ngx_sprintf(body.data, "{\"ok\":true,\"message\":%V}",
                            &quoted);

        } else {
            p = ngx_sprintf(body.data, "{\"ok\":false,\"error\":\"%s\","
                            "\"message\":%V}", code, &quoted);
        }

        body.len = p - body.data;

        return ngx_http_clientauth_send_json(r, status, &body);
    }

    ngx_memzero(vars, sizeof(vars));

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data = (u_char *) texts->t[oc->title];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len = ngx_strlen(texts->t[oc->title]);
    vars[status < NGX_HTTP_BAD_REQUEST ? NGX_HTTP_CLIENTAUTH_V_NOTICE
                                       : NGX_HTTP_CLIENTAUTH_V_ERROR] = text;

    if (oc->support) {
        contact = ascf->support_contact;

        if (contact.len == 0) {
            contact.data = (u_char *) texts->t[CA_T_SUPPORT_CONTACT];
            contact.len = ngx_strlen(contact.data);
        }

        if (contact.len
            && ngx_http_clientauth_format(r, texts->t[CA_T_SUPPORT], &contact,
                                        &vars[NGX_HTTP_CLIENTAUTH_V_SUPPORT])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (oc->link_text != CA_T_COUNT) {
        vars[NGX_HTTP_CLIENTAUTH_V_LINK_TEXT].data =
                                           (u_char *) texts->t[oc->link_text];
        vars[NGX_HTTP_CLIENTAUTH_V_LINK_TEXT].len =
                                           ngx_strlen(texts->t[oc->link_text]);
        vars[NGX_HTTP_CLIENTAUTH_V_LINK_URL] = oc->link;
    }

    return ngx_http_clientauth_page_send(r, status,
                                         NGX_HTTP_CLIENTAUTH_P_MESSAGE, vars);
}


/* 429: how long to wait, in words, and the way out: a new password. */

ngx_int_t
ngx_http_clientauth_send_wait(ngx_http_request_t *r, const char *code,
    time_t retry)
{
    u_char                         words[128];
    ngx_http_clientauth_outcome_t  oc;

    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));

    oc.title = CA_T_TOO_MANY_TITLE;
    oc.text = CA_T_TOO_MANY;
    oc.arg.data = words;
    oc.arg.len = ngx_min(ca_text_duration(ngx_http_clientauth_texts(r),
                                          (long) retry, (char *) words,
                                          sizeof(words)),
                         sizeof(words) - 1);
    oc.link_text = CA_T_FORGOT;
    oc.link = *ngx_http_clientauth_page_url(r,
                                           NGX_HTTP_CLIENTAUTH_RESET_REQUEST);

    return ngx_http_clientauth_send_outcome(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                            code, &oc);
}


/* A locked user can only be helped by support: the page says how. */

ngx_int_t
ngx_http_clientauth_send_locked(ngx_http_request_t *r, ngx_uint_t status,
    const char *code)
{
    ngx_http_clientauth_outcome_t  oc;

    ngx_memzero(&oc, sizeof(ngx_http_clientauth_outcome_t));

    oc.title = CA_T_LOCKED_TITLE;
    oc.text = CA_T_LOCKED;
    oc.link_text = CA_T_COUNT;
    oc.support = 1;

    return ngx_http_clientauth_send_outcome(r, status, code, &oc);
}


/*
 * 303 to the login page after a logout or a reset, which then says so:
 * ?done=logout or ?done=reset (nothing secret, nothing to forge).
 */

ngx_int_t
ngx_http_clientauth_redirect_login(ngx_http_request_t *r, const char *done)
{
    ngx_str_t   location, *login;

    login = ngx_http_clientauth_page_url(r, NGX_HTTP_CLIENTAUTH_LOGIN);

    location.len = login->len + sizeof("?done=") - 1 + ngx_strlen(done);
    location.data = ngx_pnalloc(r->pool, location.len);
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location.len = ngx_sprintf(location.data, "%V%cdone=%s", login,
                               ngx_strlchr(login->data,
                                           login->data + login->len, '?')
                               ? '&' : '?', done)
                   - location.data;

    return ngx_http_clientauth_send_redirect(r, NGX_HTTP_SEE_OTHER,
                                             &location);
}
