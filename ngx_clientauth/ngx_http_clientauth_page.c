
/*
 * The customer area's pages: the request's language, the brand's theme
 * compiled with the configuration, pages and messages rendered from memory
 * with the headers that keep them out of other sites' frames.
 */


#include "ngx_http_clientauth_module.h"

#include <sodium.h>

#include "ca_lang.h"
#include "ca_next.h"
#include "ca_policy.h"
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
    NGX_HTTP_CLIENTAUTH_P_COUNT
} ngx_http_clientauth_page_e;


/* The variables every template may use; the order of page_vars below. */
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
    NGX_HTTP_CLIENTAUTH_V_COUNT
} ngx_http_clientauth_var_e;


static const ca_tpl_var_t  ngx_http_clientauth_page_vars[] = {
    { "lang", CA_TPL_TEXT },
    { "title", CA_TPL_TEXT },
    { "brand", CA_TPL_TEXT },
    { "head", CA_TPL_HTML },
    { "script", CA_TPL_HTML },
    { "logo", CA_TPL_HTML },
    { "picker", CA_TPL_HTML },
    { "content", CA_TPL_HTML },
    { "notice", CA_TPL_TEXT },
    { "error", CA_TPL_TEXT },
    { "errors", CA_TPL_HTML },
    { "identifier", CA_TPL_TEXT },
    { "identifier_label", CA_TPL_TEXT },
    { "username", CA_TPL_TEXT },
    { "next", CA_TPL_TEXT },
    { "token", CA_TPL_TEXT },
    { "support", CA_TPL_TEXT },
    { "rules", CA_TPL_HTML },
    { "generator", CA_TPL_TEXT },
    { "min", CA_TPL_TEXT },
    { "eye", CA_TPL_HTML },
    { "link_text", CA_TPL_TEXT },
    { "link_url", CA_TPL_URL },
    { "login_url", CA_TPL_URL },
    { "reset_url", CA_TPL_URL },
};


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


typedef struct {
    ngx_str_t                   *vars;
    ca_texts_t                  *texts;
} ngx_http_clientauth_render_t;


static ngx_int_t ngx_http_clientauth_theme_read(ngx_conf_t *cf,
    ngx_str_t *dir, const char *name, ngx_str_t *out);
static ngx_int_t ngx_http_clientauth_pages_texts(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf, ngx_http_clientauth_pages_t *pg);
static ngx_int_t ngx_http_clientauth_pages_templates(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf, ngx_http_clientauth_pages_t *pg);
static ngx_int_t ngx_http_clientauth_pages_assets(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf, ngx_http_clientauth_pages_t *pg);
static void ngx_http_clientauth_pages_cleanup(void *data);
static ngx_int_t ngx_http_clientauth_csp_hash(ngx_conf_t *cf,
    ngx_str_t *content, ngx_str_t *out);
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
    ca_texts_t *texts, ngx_str_t *out);
static ngx_int_t ngx_http_clientauth_rules_html(ngx_http_request_t *r,
    ca_texts_t *texts, unsigned broken, ngx_str_t *list, ngx_str_t *errors);
static ngx_int_t ngx_http_clientauth_format(ngx_http_request_t *r,
    const char *text, ngx_str_t *arg, ngx_str_t *out);
static ngx_int_t ngx_http_clientauth_json_string(ngx_http_request_t *r,
    ngx_str_t *s, ngx_str_t *out);
static ca_texts_t *ngx_http_clientauth_texts(ngx_http_request_t *r);


static const char  *ngx_http_clientauth_page_files[] = {
    "layout.html", "login.html", "reset.html", "sent.html",
    "new_password.html", "message.html"
};


/*
 * The built-in pages.  Values in attributes are always quoted: the
 * template compiler refuses any other place for them.
 */

static const char  ngx_http_clientauth_layout_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"{{lang}}\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<meta name=\"robots\" content=\"noindex\">\n"
    "<title>{{title}} | {{brand}}</title>\n"
    "{{head}}\n"
    "</head>\n"
    "<body>\n"
    "<header class=\"top\"><div class=\"bar\">"
    "<a class=\"mark\" href=\"{{login_url}}\">{{logo}}"
    "<span class=\"wordmark\">{{brand}}</span></a>"
    "<span class=\"area\">{{t.area}}</span></div></header>\n"
    "<main class=\"card\">\n"
    "<h1>{{title}}</h1>\n"
    "{{content}}"
    "</main>\n"
    "<footer class=\"foot\">"
    "<nav class=\"langs\" aria-label=\"{{t.language}}\">{{picker}}</nav>"
    "<p class=\"secure\">{{t.secure_note}}</p></footer>\n"
    "{{script}}\n"
    "</body>\n"
    "</html>\n";

static const char  ngx_http_clientauth_login_html[] =
    "{{#notice}}<p class=\"notice\" role=\"status\">{{notice}}</p>"
    "{{/notice}}\n"
    "{{#error}}<p class=\"error\" id=\"form-error\" role=\"alert\">"
    "{{error}}</p>{{/error}}\n"
    "<form method=\"post\" action=\"{{login_url}}\">\n"
    "<input type=\"hidden\" name=\"next\" value=\"{{next}}\">\n"
    "<div class=\"field\"><label for=\"identifier\">{{identifier_label}}"
    "</label>\n"
    "<input id=\"identifier\" name=\"identifier\" value=\"{{identifier}}\" "
    "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" "
    "{{#error}}aria-invalid=\"true\" aria-describedby=\"form-error\" "
    "{{/error}}{{^identifier}}autofocus=\"\" {{/identifier}}required></div>\n"
    "<div class=\"field\"><label for=\"password\">{{t.password}}</label>\n"
    "<div class=\"pw\"><input id=\"password\" name=\"password\" "
    "type=\"password\" autocomplete=\"current-password\" "
    "{{#error}}aria-invalid=\"true\" aria-describedby=\"form-error\" "
    "{{/error}}{{#identifier}}autofocus=\"\" {{/identifier}}required>"
    "<button type=\"button\" class=\"eye\" aria-controls=\"password\" "
    "aria-pressed=\"false\" aria-label=\"{{t.show_password}}\" "
    "title=\"{{t.show_password}}\" hidden=\"\">{{eye}}</button></div></div>\n"
    "<p class=\"forgot\"><a href=\"{{reset_url}}\">{{t.forgot}}</a></p>\n"
    "<button type=\"submit\" class=\"primary\">{{t.login_button}}</button>\n"
    "</form>\n";

static const char  ngx_http_clientauth_reset_html[] =
    "{{#error}}<p class=\"error\" id=\"form-error\" role=\"alert\">"
    "{{error}}</p>{{/error}}\n"
    "<p class=\"intro\">{{t.reset_intro}}</p>\n"
    "<form method=\"post\" action=\"{{reset_url}}\">\n"
    "<div class=\"field\"><label for=\"identifier\">{{identifier_label}}"
    "</label>\n"
    "<input id=\"identifier\" name=\"identifier\" value=\"{{identifier}}\" "
    "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" "
    "{{#error}}aria-invalid=\"true\" aria-describedby=\"form-error\" "
    "{{/error}}autofocus=\"\" required></div>\n"
    "<button type=\"submit\" class=\"primary\">{{t.reset_button}}</button>\n"
    "</form>\n"
    "<p class=\"back\"><a href=\"{{login_url}}\">{{t.back_to_login}}</a>"
    "</p>\n";

static const char  ngx_http_clientauth_sent_html[] =
    "<p class=\"notice\" role=\"status\">{{t.sent}}</p>\n"
    "<p>{{t.sent_spam}}</p>\n"
    "<p><a class=\"button primary\" href=\"{{login_url}}\">"
    "{{t.back_to_login}}</a></p>\n";

static const char  ngx_http_clientauth_new_password_html[] =
    "{{#error}}<div class=\"error\" id=\"form-error\" role=\"alert\">"
    "<p>{{error}}</p>{{errors}}</div>{{/error}}\n"
    "<form method=\"post\">\n"
    "<input type=\"hidden\" name=\"token\" value=\"{{token}}\">\n"
    "<input type=\"text\" name=\"username\" value=\"{{username}}\" "
    "autocomplete=\"username\" readonly=\"\" hidden=\"\">\n"
    "<div class=\"field\"><label for=\"password\">{{t.new_password}}"
    "</label>\n"
    "<div class=\"pw\"><input id=\"password\" name=\"password\" "
    "type=\"password\" autocomplete=\"new-password\" "
    "{{#error}}aria-invalid=\"true\" {{/error}}"
    "aria-describedby=\"rules{{#error}} form-error{{/error}}\" "
    "autofocus=\"\" required>"
    "<button type=\"button\" class=\"eye\" aria-controls=\"password\" "
    "aria-pressed=\"false\" aria-label=\"{{t.show_password}}\" "
    "title=\"{{t.show_password}}\" hidden=\"\">{{eye}}</button></div></div>\n"
    "{{rules}}\n"
    "{{#generator}}<p class=\"generate\"><button type=\"button\" "
    "class=\"secondary\" id=\"generate\" data-n=\"{{min}}\" hidden=\"\">"
    "{{t.generate}}</button></p>\n"
    "<p class=\"note\" id=\"generated\" role=\"status\" hidden=\"\">"
    "{{t.generated}}</p>{{/generator}}\n"
    "<div class=\"field\"><label for=\"password_confirm\">{{t.new_confirm}}"
    "</label>\n"
    "<div class=\"pw\"><input id=\"password_confirm\" "
    "name=\"password_confirm\" type=\"password\" "
    "autocomplete=\"new-password\" required>"
    "<button type=\"button\" class=\"eye\" aria-controls=\"password_confirm\" "
    "aria-pressed=\"false\" aria-label=\"{{t.show_password}}\" "
    "title=\"{{t.show_password}}\" hidden=\"\">{{eye}}</button></div></div>\n"
    "<button type=\"submit\" class=\"primary\">{{t.new_button}}</button>\n"
    "</form>\n";

static const char  ngx_http_clientauth_message_html[] =
    "{{#error}}<p class=\"error\" role=\"alert\">{{error}}</p>{{/error}}\n"
    "{{#notice}}<p class=\"notice\" role=\"status\">{{notice}}</p>"
    "{{/notice}}\n"
    "{{#support}}<p class=\"support\">{{support}}</p>{{/support}}\n"
    "{{#link_text}}<p><a class=\"button primary\" href=\"{{link_url}}\">"
    "{{link_text}}</a></p>{{/link_text}}\n"
    "<p class=\"back\"><a href=\"{{login_url}}\">{{t.back_to_login}}</a>"
    "</p>\n";

static const char  *ngx_http_clientauth_page_builtin[] = {
    ngx_http_clientauth_layout_html,
    ngx_http_clientauth_login_html,
    ngx_http_clientauth_reset_html,
    ngx_http_clientauth_sent_html,
    ngx_http_clientauth_new_password_html,
    ngx_http_clientauth_message_html
};


/*
 * The look of a customer area; a theme's style.css comes after it and
 * sets at least the brand's colours (--brand must keep 4.5:1 on white).
 */

static const char  ngx_http_clientauth_css[] =
    ":root{--brand:#1f4e9c;--brand-dark:#163a75;--brand-ink:#fff;"
    "--ink:#1d2330;--muted:#535b6a;--line:#c9ced8;--bg:#eef1f6;"
    "--card:#fff;--error:#a4001d;--error-bg:#fdeef0;--ok:#176b35;"
    "--ok-bg:#eaf6ee;--radius:10px;"
    "--font:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
    "Arial,sans-serif}\n"
    "*,*::before,*::after{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;min-height:100vh;display:flex;flex-direction:column;"
    "background:var(--bg);color:var(--ink);font:16px/1.5 var(--font)}\n"
    ".top{background:var(--card);border-top:4px solid var(--brand);"
    "border-bottom:1px solid var(--line)}\n"
    ".bar{max-width:60rem;margin:0 auto;padding:.8rem 1.25rem;display:flex;"
    "align-items:center;justify-content:space-between;gap:1rem;"
    "flex-wrap:wrap}\n"
    ".mark{display:flex;align-items:center;gap:.6rem;color:var(--brand);"
    "text-decoration:none}\n"
    ".mark img{height:2rem;width:auto}\n"
    ".wordmark{font-weight:800;font-size:1.45rem;letter-spacing:-.02em}\n"
    ".area{color:var(--muted);font-size:.95rem}\n"
    ".card{width:100%;max-width:28rem;margin:2.5rem auto 1.5rem;"
    "background:var(--card);border:1px solid var(--line);"
    "border-radius:var(--radius);padding:2rem 2rem 1.5rem;"
    "box-shadow:0 6px 24px rgba(20,30,60,.08)}\n"
    "@media (max-width:30rem){.card{margin:1rem auto;border-radius:0;"
    "border-left:0;border-right:0;padding:1.5rem 1.1rem}}\n"
    "h1{font-size:1.45rem;line-height:1.25;margin:0 0 1.25rem}\n"
    "p{margin:0 0 1rem}\n"
    ".intro{color:var(--muted)}\n"
    ".field{margin:0 0 1.1rem}\n"
    "label{display:block;font-weight:600;margin:0 0 .35rem}\n"
    "input{display:block;width:100%;font:inherit;color:var(--ink);"
    "background:#fff;border:1px solid #8a93a3;border-radius:6px;"
    "padding:.65rem .75rem;min-height:2.9rem}\n"
    "input:focus{outline:3px solid color-mix(in srgb,var(--brand) 35%,"
    "transparent);outline-offset:1px;border-color:var(--brand)}\n"
    "input[aria-invalid=true]{border-color:var(--error)}\n"
    ".pw{position:relative}\n"
    ".pw input{padding-right:3.2rem}\n"
    ".eye{position:absolute;top:0;right:0;height:100%;width:3rem;border:0;"
    "background:none;color:var(--muted);cursor:pointer;display:flex;"
    "align-items:center;justify-content:center;border-radius:0 6px 6px 0;"
    "padding:0;min-height:0}\n"
    ".eye[hidden]{display:none}\n"
    ".eye:hover{color:var(--ink)}\n"
    ".eye:focus-visible{outline:3px solid var(--brand);outline-offset:-3px}\n"
    ".eye svg{width:1.4rem;height:1.4rem}\n"
    ".eye .off{display:none}\n"
    ".eye[aria-pressed=true] .on{display:none}\n"
    ".eye[aria-pressed=true] .off{display:inline}\n"
    "button,.button{display:inline-block;font:inherit;font-weight:600;"
    "-webkit-tap-highlight-color:transparent;"
    "border-radius:6px;padding:.7rem 1.2rem;cursor:pointer;"
    "text-align:center;text-decoration:none;min-height:2.9rem}\n"
    ".primary{width:100%;background:var(--brand);color:var(--brand-ink);"
    "border:1px solid var(--brand)}\n"
    ".primary:hover{background:var(--brand-dark)}\n"
    ".primary:focus-visible,.secondary:focus-visible,a:focus-visible{"
    "outline:3px solid var(--ink);outline-offset:2px}\n"
    ".secondary{background:#fff;color:var(--brand-dark);"
    "border:1px solid var(--brand)}\n"
    "a{color:var(--brand-dark)}\n"
    ".forgot{margin:-.4rem 0 1.2rem;text-align:right}\n"
    ".back{margin:1.2rem 0 0;text-align:center}\n"
    ".error,.notice,.support{border-radius:6px;padding:.75rem .9rem;"
    "margin:0 0 1.2rem}\n"
    ".error{background:var(--error-bg);color:var(--error);"
    "border:1px solid var(--error)}\n"
    ".error p{margin:0}\n"
    ".error ul{margin:.4rem 0 0;padding-left:1.2rem}\n"
    ".notice{background:var(--ok-bg);color:var(--ok);"
    "border:1px solid var(--ok)}\n"
    ".support{background:var(--bg);font-weight:600}\n"
    ".rules{margin:-.3rem 0 1.1rem;font-size:.94rem;color:var(--muted)}\n"
    ".rules p{margin:0 0 .3rem}\n"
    ".rules ul{list-style:none;margin:0;padding:0}\n"
    ".rules li{padding-left:1.6rem;position:relative;margin:.1rem 0}\n"
    ".rules li::before{content:\"\\2022\";position:absolute;left:.45rem}\n"
    ".rules li.met{color:var(--ok)}\n"
    ".rules li.met::before{content:\"\\2713\";left:.3rem;font-weight:700}\n"
    ".rules li.broken{color:var(--error)}\n"
    ".rules li.broken::before{content:\"\\2717\";left:.3rem}\n"
    ".generate{margin:0 0 1.1rem}\n"
    ".note{font-size:.94rem;color:var(--ok)}\n"
    ".foot{margin:auto 0 0;padding:1rem 1.25rem 1.5rem;text-align:center;"
    "color:var(--muted);font-size:.9rem}\n"
    ".langs ul{list-style:none;margin:0 0 .5rem;padding:0;display:flex;"
    "justify-content:center;flex-wrap:wrap;gap:.4rem 1rem}\n"
    ".langs a{color:var(--muted);padding:.3rem .2rem}\n"
    ".langs a[aria-current]{color:var(--ink);font-weight:700;"
    "text-decoration:none}\n"
    ".secure{margin:0}\n"
    "[hidden]{display:none!important}\n";


/*
 * Comfort only: the pages work without it.  The eye shows a password
 * field's text, the checklist follows the rules as the customer types
 * (the server checks again), the generator fills both fields.
 */

static const char  ngx_http_clientauth_js[] =
    "(function(){'use strict';var d=document;"
    "function each(s,f){Array.prototype.forEach.call(d.querySelectorAll(s),"
    "f)}"
    "function show(b,on){var i=d.getElementById("
    "b.getAttribute('aria-controls'));if(!i)return;"
    "b.setAttribute('aria-pressed',on?'true':'false');"
    "i.type=on?'text':'password'}"
    "each('button.eye',function(b){b.hidden=false;"
    "b.addEventListener('click',function(){"
    "show(b,b.getAttribute('aria-pressed')!=='true')})});"
    "var pw=d.getElementById('password'),"
    "cf=d.getElementById('password_confirm'),"
    "rl=d.getElementById('rules');"
    "var ws=/[\\s\\u00a0\\u2000-\\u200b\\u3000]/;"
    "function test(r,n,v,c){switch(r){"
    "case 'too_short':return Array.from(v).length>=n;"
    "case 'no_upper':return /[A-Z]/.test(v);"
    "case 'no_lower':return /[a-z]/.test(v);"
    "case 'no_digit':return /[0-9]/.test(v);"
    "case 'no_special':return /[^A-Za-z0-9\\s\\u00a0\\u2000-\\u200b"
    "\\u3000]/.test(v);"
    "case 'whitespace':return v!==''&&!ws.test(v);"
    "case 'mismatch':return v!==''&&v===c;"
    "default:return null}}"
    "function check(){var v=pw.value,c=cf?cf.value:'';"
    "each('#rules li[data-rule]',function(li){"
    "var m=test(li.getAttribute('data-rule'),"
    "+li.getAttribute('data-n')||0,v,c);if(m===null)return;"
    "li.classList.remove('broken');li.classList.toggle('met',m);"
    "li.setAttribute('data-met',m?'yes':'no')})}"
    "if(pw&&rl){pw.addEventListener('input',check);"
    "if(cf)cf.addEventListener('input',check)}"
    "var g=d.getElementById('generate');"
    "if(g&&pw&&window.crypto){g.hidden=false;"
    "g.addEventListener('click',function(){"
    "var n=Math.max(16,+g.getAttribute('data-n')||0),"
    "sets=['ABCDEFGHJKLMNPQRSTUVWXYZ','abcdefghijkmnopqrstuvwxyz',"
    "'23456789','!#$%&*+-=?@_'],all=sets.join(''),out=[],i,j,t,"
    "r=new Uint32Array(2*n);crypto.getRandomValues(r);"
    "for(i=0;i<sets.length;i++)out.push(sets[i][r[i]%sets[i].length]);"
    "for(;i<n;i++)out.push(all[r[i]%all.length]);"
    "for(i=n-1;i>0;i--){j=r[n+i]%(i+1);t=out[i];out[i]=out[j];out[j]=t}"
    "pw.value=out.join('');if(cf)cf.value=pw.value;"
    "each('button.eye',function(b){show(b,true)});"
    "var note=d.getElementById('generated');if(note)note.hidden=false;"
    "if(rl)check()})}"
    "})();";

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


/* clientauth_languages LANG ...; */

char *
ngx_http_clientauth_languages(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ngx_str_t   *value, *lang;
    ngx_uint_t   i, j;

    if (ascf->languages != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    if (cf->args->nelts - 1 > NGX_HTTP_CLIENTAUTH_LANGS_MAX) {
        return "names too many languages";
    }

    ascf->languages = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_str_t));
    if (ascf->languages == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (!ca_lang_tag_valid((char *) value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is not a language tag", &value[i]);
            return NGX_CONF_ERROR;
        }

        ngx_strlow(value[i].data, value[i].data, value[i].len);

        lang = ascf->languages->elts;

        for (j = 0; j < ascf->languages->nelts; j++) {
            if (lang[j].len == value[i].len
                && ngx_strncmp(lang[j].data, value[i].data, lang[j].len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "language \"%V\" is named twice",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        lang = ngx_array_push(ascf->languages);
        if (lang == NULL) {
            return NGX_CONF_ERROR;
        }

        *lang = value[i];   /* NUL-terminated by the configuration parser */
    }

    return NGX_CONF_OK;
}


/*
 * Everything a server's pages need, built once when the configuration is
 * read: the languages' texts, the compiled templates, the style, the
 * script and their hashes for the Content-Security-Policy.
 */

ngx_int_t
ngx_http_clientauth_pages_init(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *prev, ngx_http_clientauth_srv_conf_t *conf)
{
    ngx_uint_t                    i;
    ngx_str_t                    *lang;
    ngx_pool_cleanup_t           *cln;
    ngx_http_clientauth_pages_t  *pg;

    static ngx_str_t  defaults[] = {
        ngx_string("en"), ngx_string("es"), ngx_string("fr")
    };

    ngx_conf_merge_ptr_value(conf->languages, prev->languages, NULL);
    ngx_conf_merge_str_value(conf->theme, prev->theme, "");
    ngx_conf_merge_str_value(conf->support_contact, prev->support_contact,
                             "");
    ngx_conf_merge_value(conf->password_generator, prev->password_generator,
                         0);

    pg = ngx_pcalloc(cf->pool, sizeof(ngx_http_clientauth_pages_t));
    if (pg == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_clientauth_pages_cleanup;
    cln->data = pg;

    if (conf->languages) {
        lang = conf->languages->elts;
        pg->nlangs = conf->languages->nelts;

    } else {
        lang = defaults;
        pg->nlangs = sizeof(defaults) / sizeof(defaults[0]);
    }

    for (i = 0; i < pg->nlangs; i++) {
        pg->tags[i] = (const char *) lang[i].data;
    }

    if (conf->theme.len
        && ngx_conf_full_name(cf->cycle, &conf->theme, 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_clientauth_pages_texts(cf, conf, pg) != NGX_OK
        || ngx_http_clientauth_pages_templates(cf, conf, pg) != NGX_OK
        || ngx_http_clientauth_pages_assets(cf, conf, pg) != NGX_OK)
    {
        return NGX_ERROR;
    }

    conf->pages = pg;

    return NGX_OK;
}


static void
ngx_http_clientauth_pages_cleanup(void *data)
{
    ngx_http_clientauth_pages_t  *pg = data;

    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_P_COUNT; i++) {
        if (pg->tpl[i]) {
            ca_tpl_free(pg->tpl[i]);
        }
    }
}


/*
 * A theme's file, NUL-terminated, or an empty out when the theme has none;
 * NGX_ERROR after logging why.
 */

static ngx_int_t
ngx_http_clientauth_theme_read(ngx_conf_t *cf, ngx_str_t *dir,
    const char *name, ngx_str_t *out)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t        path;
    ngx_file_info_t  fi;

    ngx_str_null(out);

    if (dir->len == 0) {
        return NGX_OK;
    }

    path.len = dir->len + 1 + ngx_strlen(name);
    path.data = ngx_pnalloc(cf->pool, path.len + 1);
    if (path.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(path.data, "%V/%s%Z", dir, name);

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        if (ngx_errno == NGX_ENOENT) {
            return NGX_OK;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "clientauth_theme: cannot open \"%s\"", path.data);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > NGX_HTTP_CLIENTAUTH_THEME_FILE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth_theme: \"%s\" is not a file of at "
                           "most %d bytes", path.data,
                           NGX_HTTP_CLIENTAUTH_THEME_FILE);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (out->data == NULL) {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, out->data, ngx_file_size(&fi));
    (void) ngx_close_file(fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "clientauth_theme: cannot read \"%s\"", path.data);
        return NGX_ERROR;
    }

    out->len = n;
    out->data[n] = '\0';

    /* an empty file overrides nothing, but counts as found */
    if (n == 0) {
        out->data = (u_char *) "";
    }

    return NGX_OK;
}


/* Built-in texts, then the theme's texts.txt, then its texts.LL.txt. */

static ngx_int_t
ngx_http_clientauth_pages_texts(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf, ngx_http_clientauth_pages_t *pg)
{
    int         missing;
    char        err[256], file[64];
    ngx_str_t   common, own;
    ngx_uint_t  i;

    if (conf->theme.len) {
        if (ngx_file_info(conf->theme.data, &(ngx_file_info_t){ 0 })
            == NGX_FILE_ERROR)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "clientauth_theme: no directory \"%V\"",
                               &conf->theme);
            return NGX_ERROR;
        }
    }

    if (ngx_http_clientauth_theme_read(cf, &conf->theme, "texts.txt",
                                       &common)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < pg->nlangs; i++) {
        ca_texts_init(&pg->texts[i],
                      ca_text_builtin(pg->tags[i], ngx_strlen(pg->tags[i])));

        /* each language parses its own copy: values point into it */
        if (common.data) {
            own.data = ngx_pnalloc(cf->pool, common.len + 1);
            if (own.data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(own.data, common.data, common.len + 1);

            if (ca_texts_parse(&pg->texts[i], (char *) own.data, common.len,
                               "texts.txt", err, sizeof(err))
                != 0)
            {
                goto failed;
            }
        }

        ngx_sprintf((u_char *) file, "texts.%s.txt%Z", pg->tags[i]);

        if (ngx_http_clientauth_theme_read(cf, &conf->theme, file, &own)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (own.data
            && ca_texts_parse(&pg->texts[i], (char *) own.data, own.len, file,
                              err, sizeof(err))
               != 0)
        {
            goto failed;
        }

        missing = ca_texts_missing(&pg->texts[i]);

        if (missing >= 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "clientauth_languages: no built-in texts for "
                               "\"%s\" and the theme's %s lacks \"%s\"",
                               pg->tags[i], file, ca_text_name(missing));
            return NGX_ERROR;
        }
    }

    return NGX_OK;

failed:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "clientauth_theme: \"%V/%s\"",
                       &conf->theme, err);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_clientauth_pages_templates(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf, ngx_http_clientauth_pages_t *pg)
{
    char        err[320], file[NGX_MAX_PATH];
    ngx_str_t   src;
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_CLIENTAUTH_P_COUNT; i++) {
        if (ngx_http_clientauth_theme_read(cf, &conf->theme,
                                           ngx_http_clientauth_page_files[i],
                                           &src)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (src.data) {
            ngx_snprintf((u_char *) file, sizeof(file) - 1, "%V/%s%Z",
                         &conf->theme, ngx_http_clientauth_page_files[i]);

        } else {
            src.data = (u_char *) ngx_http_clientauth_page_builtin[i];
            src.len = ngx_strlen(src.data);
            ngx_sprintf((u_char *) file, "built-in %s%Z",
                        ngx_http_clientauth_page_files[i]);
        }

        pg->tpl[i] = ca_tpl_compile((char *) src.data, src.len, file,
                                    ngx_http_clientauth_page_vars,
                                    NGX_HTTP_CLIENTAUTH_V_COUNT, err,
                                    sizeof(err));
        if (pg->tpl[i] == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "clientauth_theme: %s",
                               err);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* The style (built-in, then the theme's), the script, the logo, the CSP. */

static ngx_int_t
ngx_http_clientauth_pages_assets(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf, ngx_http_clientauth_pages_t *pg)
{
    u_char     *p;
    ngx_str_t   css, theme_css, js, style_hash, script_hash, logo, b64;
    const char *type;

    if (ngx_http_clientauth_theme_read(cf, &conf->theme, "style.css",
                                       &theme_css)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (theme_css.len
        && ngx_strlcasestrn(theme_css.data, theme_css.data + theme_css.len,
                            (u_char *) "</style", 7 - 1) != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "clientauth_theme: "
                           "\"%V/style.css\" contains \"</style\"",
                           &conf->theme);
        return NGX_ERROR;
    }

    css.len = sizeof(ngx_http_clientauth_css) - 1 + theme_css.len;
    css.data = ngx_pnalloc(cf->pool, css.len);
    if (css.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(css.data, ngx_http_clientauth_css,
                   sizeof(ngx_http_clientauth_css) - 1);
    ngx_memcpy(p, theme_css.data, theme_css.len);

    js.data = (u_char *) ngx_http_clientauth_js;
    js.len = sizeof(ngx_http_clientauth_js) - 1;

    if (ngx_http_clientauth_csp_hash(cf, &css, &style_hash) != NGX_OK
        || ngx_http_clientauth_csp_hash(cf, &js, &script_hash) != NGX_OK)
    {
        return NGX_ERROR;
    }

    pg->head.len = sizeof("<style></style>") - 1 + css.len;
    pg->head.data = ngx_pnalloc(cf->pool, pg->head.len);
    pg->script.len = sizeof("<script></script>") - 1 + js.len;
    pg->script.data = ngx_pnalloc(cf->pool, pg->script.len);
    pg->csp.len = sizeof("default-src 'none'; style-src ''; script-src ''; "
                         "img-src data:; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'") - 1
                  + style_hash.len + script_hash.len;
    pg->csp.data = ngx_pnalloc(cf->pool, pg->csp.len);

    if (pg->head.data == NULL || pg->script.data == NULL
        || pg->csp.data == NULL)
    {
        return NGX_ERROR;
    }

    ngx_sprintf(pg->head.data, "<style>%V</style>", &css);
    ngx_sprintf(pg->script.data, "<script>%V</script>", &js);
    ngx_sprintf(pg->csp.data, "default-src 'none'; style-src '%V'; "
                "script-src '%V'; img-src data:; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'",
                &style_hash, &script_hash);

    /* a logo travels inside the page: no request to serve it */
    type = "image/svg+xml";

    if (ngx_http_clientauth_theme_read(cf, &conf->theme, "logo.svg", &logo)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (logo.data == NULL) {
        type = "image/png";

        if (ngx_http_clientauth_theme_read(cf, &conf->theme, "logo.png",
                                           &logo)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (logo.len == 0) {
        ngx_str_null(&pg->logo);
        return NGX_OK;
    }

    b64.len = ngx_base64_encoded_length(logo.len);
    pg->logo.len = sizeof("<img class=\"logo\" alt=\"\" src=\"data:;base64,\">")
                   - 1 + ngx_strlen(type) + b64.len;
    pg->logo.data = ngx_pnalloc(cf->pool, pg->logo.len);
    if (pg->logo.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(pg->logo.data, "<img class=\"logo\" alt=\"\" "
                    "src=\"data:%s;base64,", type);
    b64.data = p;
    ngx_encode_base64(&b64, &logo);
    p = ngx_cpymem(p + b64.len, "\">", 2);
    pg->logo.len = p - pg->logo.data;

    return NGX_OK;
}


/* 'sha256-...' of an inline style or script, for the CSP. */

static ngx_int_t
ngx_http_clientauth_csp_hash(ngx_conf_t *cf, ngx_str_t *content,
    ngx_str_t *out)
{
    u_char     digest[crypto_hash_sha256_BYTES];
    ngx_str_t  raw, b64;

    crypto_hash_sha256(digest, content->data, content->len);

    raw.data = digest;
    raw.len = sizeof(digest);

    out->len = sizeof("sha256-") - 1 + ngx_base64_encoded_length(raw.len);
    out->data = ngx_pnalloc(cf->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    b64.data = ngx_cpymem(out->data, "sha256-", sizeof("sha256-") - 1);
    ngx_encode_base64(&b64, &raw);
    out->len = sizeof("sha256-") - 1 + b64.len;

    return NGX_OK;
}


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

    static ngx_str_t  defaults[] = {
        ngx_null_string,
        ngx_string("/auth/login"),
        ngx_string("/auth/logout"),
        ngx_string("/auth/reset"),
        ngx_string("/auth/reset/confirm")
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
        vars[NGX_HTTP_CLIENTAUTH_V_BRAND].data = (u_char *) texts->t[CA_T_BRAND];
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


/* "Customer number, domain or e-mail": the brand's identifier kinds. */

static ngx_int_t
ngx_http_clientauth_identifier_label(ngx_http_request_t *r, ca_texts_t *texts,
    ngx_str_t *out)
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

    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    n = 0;
    len = 0;

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (ascf->identifiers & order[i].kind) {
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

    ngx_memzero(vars, sizeof(vars));

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

    if (ngx_http_clientauth_identifier_label(r, texts,
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
    ca_texts_t  *texts;
    ngx_str_t    vars[NGX_HTTP_CLIENTAUTH_V_COUNT];

    ngx_memzero(vars, sizeof(vars));

    texts = ngx_http_clientauth_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                     (u_char *) texts->t[CA_T_RESET_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                     ngx_strlen(texts->t[CA_T_RESET_TITLE]);

    if (ngx_http_clientauth_identifier_label(r, texts,
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


ngx_int_t
ngx_http_clientauth_page_new_password(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *token, ngx_str_t *username,
    unsigned broken)
{
    u_char                           num[NGX_INT_T_LEN];
    ca_texts_t                      *texts;
    ngx_str_t                        vars[NGX_HTTP_CLIENTAUTH_V_COUNT];
    ngx_http_clientauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_clientauth_module);

    ngx_memzero(vars, sizeof(vars));

    texts = ngx_http_clientauth_texts(r);

    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].data =
                                       (u_char *) texts->t[CA_T_NEW_TITLE];
    vars[NGX_HTTP_CLIENTAUTH_V_TITLE].len =
                                       ngx_strlen(texts->t[CA_T_NEW_TITLE]);
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

    if (ascf->password_generator) {
        ngx_str_set(&vars[NGX_HTTP_CLIENTAUTH_V_GENERATOR], "on");
    }

    vars[NGX_HTTP_CLIENTAUTH_V_MIN].data = num;
    vars[NGX_HTTP_CLIENTAUTH_V_MIN].len =
                              ngx_sprintf(num, "%ui", ascf->password_min) - num;

    if (ngx_http_clientauth_rules_html(r, texts, broken,
                                       &vars[NGX_HTTP_CLIENTAUTH_V_RULES],
                                       &vars[NGX_HTTP_CLIENTAUTH_V_ERRORS])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clientauth_page_send(r, status,
                                      NGX_HTTP_CLIENTAUTH_P_NEW_PASSWORD, vars);
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
