
/*
 * The brand's theme, read and checked when the configuration is loaded:
 * texts per language, templates compiled once, the style and script with
 * their hashes for the Content-Security-Policy, the logo.  A broken theme
 * fails nginx -t with the file and line; nothing here runs per request.
 */


#include "ngx_http_clientauth_page.h"

#include <sodium.h>

#include "ca_lang.h"


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
    /* self-service area (issue 10) */
    { "csrf", CA_TPL_TEXT },
    { "email", CA_TPL_TEXT },
    { "account_url", CA_TPL_URL },
    { "logout_url", CA_TPL_URL },
    { "sessions", CA_TPL_HTML },
    /* self-service: forgotten identifier */
    { "remind_url", CA_TPL_URL },
    /* self-service: e-mail change */
    { "new_email", CA_TPL_TEXT },
    { "email_url", CA_TPL_URL },
    { "cancel_url", CA_TPL_URL },
    { "verified", CA_TPL_TEXT },
    { "grace", CA_TPL_TEXT },
    /* sub-users */
    { "users", CA_TPL_HTML },
    { "invites", CA_TPL_HTML },
    { "perm_choices", CA_TPL_HTML },
    { "users_url", CA_TPL_URL },
};

static const char  *ngx_http_clientauth_page_files[] = {
    "layout.html", "login.html", "reset.html", "sent.html",
    "new_password.html", "message.html",
    /* self-service area (issue 10) */
    "account.html",
    /* self-service: forgotten identifier */
    "remind.html",
    /* self-service: e-mail change */
    "email.html",
    /* sub-users */
    "users.html"
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
    "<p class=\"forgot\"><a href=\"{{reset_url}}\">{{t.forgot}}</a>"
    "{{#remind_url}}<br><a href=\"{{remind_url}}\">{{t.forgot_identifier}}"
    "</a>{{/remind_url}}</p>\n"
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
    "{{#notice}}<p class=\"intro\">{{notice}}</p>{{/notice}}\n"
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

/*
 * The self-service area (issue 10): the customer's details, the password
 * change, the open sessions, and for those who manage users a link to
 * their page.  Every form carries the session's CSRF token.
 */

static const char  ngx_http_clientauth_account_html[] =
    "<div class=\"account\">\n"
    "{{#notice}}<p class=\"notice\" role=\"status\">{{notice}}</p>"
    "{{/notice}}\n"
    "<section aria-labelledby=\"h-profile\">\n"
    "<h2 id=\"h-profile\">{{t.account_profile}}</h2>\n"
    "<dl class=\"facts\"><dt>{{t.account_email}}</dt><dd>{{email}}</dd>"
    "</dl>\n"
    /* self-service: e-mail change */
    "<p><a href=\"{{account_url}}email\">{{t.email_change_title}}</a></p>\n"
    "</section>\n"
    "<section aria-labelledby=\"h-password\">\n"
    "<h2 id=\"h-password\">{{t.account_password}}</h2>\n"
    "{{#error}}<div class=\"error\" id=\"form-error\" role=\"alert\">"
    "<p>{{error}}</p>{{errors}}</div>{{/error}}\n"
    "<form method=\"post\" action=\"{{account_url}}password\">\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<input type=\"text\" name=\"username\" value=\"{{email}}\" "
    "autocomplete=\"username\" readonly=\"\" hidden=\"\">\n"
    "<div class=\"field\"><label for=\"current_password\">"
    "{{t.current_password}}</label>\n"
    "<div class=\"pw\"><input id=\"current_password\" "
    "name=\"current_password\" type=\"password\" "
    "autocomplete=\"current-password\" "
    "{{#error}}aria-invalid=\"true\" aria-describedby=\"form-error\" "
    "{{/error}}required>"
    "<button type=\"button\" class=\"eye\" "
    "aria-controls=\"current_password\" aria-pressed=\"false\" "
    "aria-label=\"{{t.show_password}}\" title=\"{{t.show_password}}\" "
    "hidden=\"\">{{eye}}</button></div></div>\n"
    "<div class=\"field\"><label for=\"password\">{{t.new_password}}"
    "</label>\n"
    "<div class=\"pw\"><input id=\"password\" name=\"password\" "
    "type=\"password\" autocomplete=\"new-password\" "
    "aria-describedby=\"rules\" required>"
    "<button type=\"button\" class=\"eye\" aria-controls=\"password\" "
    "aria-pressed=\"false\" aria-label=\"{{t.show_password}}\" "
    "title=\"{{t.show_password}}\" hidden=\"\">{{eye}}</button></div>"
    "</div>\n"
    "{{rules}}\n"
    "{{#generator}}<p class=\"generate\"><button type=\"button\" "
    "class=\"secondary\" id=\"generate\" data-n=\"{{min}}\" hidden=\"\">"
    "{{t.generate}}</button></p>\n"
    "<p class=\"note\" id=\"generated\" role=\"status\" hidden=\"\">"
    "{{t.generated}}</p>{{/generator}}\n"
    "<div class=\"field\"><label for=\"password_confirm\">"
    "{{t.new_confirm}}</label>\n"
    "<div class=\"pw\"><input id=\"password_confirm\" "
    "name=\"password_confirm\" type=\"password\" "
    "autocomplete=\"new-password\" required>"
    "<button type=\"button\" class=\"eye\" "
    "aria-controls=\"password_confirm\" aria-pressed=\"false\" "
    "aria-label=\"{{t.show_password}}\" title=\"{{t.show_password}}\" "
    "hidden=\"\">{{eye}}</button></div></div>\n"
    "<button type=\"submit\" class=\"primary\">"
    "{{t.account_password_button}}</button>\n"
    "</form>\n"
    "</section>\n"
    "{{#sessions}}<section aria-labelledby=\"h-sessions\">\n"
    "<h2 id=\"h-sessions\">{{t.sessions_title}}</h2>\n"
    "<p class=\"intro\">{{t.sessions_intro}}</p>\n"
    "{{sessions}}\n"
    "<form method=\"post\" action=\"{{account_url}}sessions/revoke\">"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">"
    "<input type=\"hidden\" name=\"all\" value=\"1\">"
    "<button type=\"submit\" class=\"secondary\">"
    "{{t.session_revoke_all}}</button></form>\n"
    "</section>{{/sessions}}\n"
    "{{#users_url}}<section aria-labelledby=\"h-users\">\n"
    "<h2 id=\"h-users\">{{t.users_title}}</h2>\n"
    "<p><a class=\"button secondary\" href=\"{{users_url}}\">"
    "{{t.users_link}}</a></p>\n"
    "</section>{{/users_url}}\n"
    "<form class=\"logout\" method=\"post\" action=\"{{logout_url}}\">"
    "<button type=\"submit\" class=\"secondary\">{{t.account_logout}}"
    "</button></form>\n"
    "</div>\n";
/* self-service: forgotten identifier */
static const char  ngx_http_clientauth_remind_html[] =
    "{{#error}}<p class=\"error\" id=\"form-error\" role=\"alert\">"
    "{{error}}</p>{{/error}}\n"
    "<p class=\"intro\">{{t.remind_intro}}</p>\n"
    "<form method=\"post\" action=\"{{remind_url}}\">\n"
    "<div class=\"field\"><label for=\"identifier\">{{identifier_label}}"
    "</label>\n"
    "<input id=\"identifier\" name=\"identifier\" value=\"{{identifier}}\" "
    "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" "
    "autofocus=\"\" required></div>\n"
    "<button type=\"submit\" class=\"primary\">{{t.reset_button}}</button>\n"
    "</form>\n"
    "<p class=\"back\"><a href=\"{{reset_url}}\">{{t.forgot}}</a></p>\n"
    "<p class=\"back\"><a href=\"{{login_url}}\">{{t.back_to_login}}</a>"
    "</p>\n";

/*
 * Self-service: e-mail change.  The change's page (ask, then the code),
 * and with a token the "this was not me" link's page.
 */
static const char  ngx_http_clientauth_email_html[] =
    "{{#notice}}<p class=\"notice\" role=\"status\">{{notice}}</p>"
    "{{/notice}}\n"
    "{{#error}}<p class=\"error\" id=\"form-error\" role=\"alert\">"
    "{{error}}</p>{{/error}}\n"
    "{{#token}}<p class=\"intro\">{{t.email_cancel_intro}}</p>\n"
    "<form method=\"post\" action=\"{{cancel_url}}\">\n"
    "<input type=\"hidden\" name=\"token\" value=\"{{token}}\">\n"
    "<button type=\"submit\" class=\"primary\">{{t.email_cancel_button}}"
    "</button>\n</form>\n"
    "<p class=\"back\"><a href=\"{{login_url}}\">{{t.back_to_login}}</a>"
    "</p>{{/token}}\n"
    "{{^token}}<dl class=\"facts stack\"><dt>{{t.account_email}}</dt>"
    "<dd>{{email}}</dd>{{#new_email}}<dt>{{t.email_new}}</dt>"
    "<dd>{{new_email}}</dd>{{/new_email}}</dl>\n"
    "{{#new_email}}"
    "{{#verified}}<p class=\"note\">{{t.email_verified_note}}</p>"
    "{{/verified}}"
    "{{^verified}}<p class=\"note\">{{t.email_link_sent}}</p>{{/verified}}\n"
    "{{#grace}}<p class=\"note\">{{grace}}</p>{{/grace}}\n"
    "<form method=\"post\" action=\"{{email_url}}/confirm\">\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<div class=\"field\"><label for=\"code\">{{t.email_code}}</label>\n"
    "<input id=\"code\" name=\"code\" inputmode=\"numeric\" "
    "autocomplete=\"one-time-code\" maxlength=\"9\" "
    "{{#error}}aria-invalid=\"true\" aria-describedby=\"form-error\" "
    "{{/error}}autofocus=\"\" required></div>\n"
    "<button type=\"submit\" class=\"primary\">{{t.email_code_button}}"
    "</button>\n</form>\n"
    "<form method=\"post\" action=\"{{email_url}}/cancel\">"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">"
    "<button type=\"submit\" class=\"secondary\">"
    "{{t.email_cancel_button}}</button></form>\n"
    "{{/new_email}}"
    "{{^new_email}}<p class=\"intro\">{{t.email_change_intro}}</p>\n"
    "{{#grace}}<p class=\"note\">{{grace}}</p>{{/grace}}\n"
    "<form method=\"post\" action=\"{{email_url}}\">\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<input type=\"text\" name=\"username\" value=\"{{username}}\" "
    "autocomplete=\"username\" readonly=\"\" hidden=\"\">\n"
    "<div class=\"field\"><label for=\"email\">{{t.email_new}}</label>\n"
    "<input id=\"email\" name=\"email\" type=\"email\" "
    "autocomplete=\"email\" autocapitalize=\"none\" spellcheck=\"false\" "
    "{{#error}}aria-invalid=\"true\" aria-describedby=\"form-error\" "
    "{{/error}}autofocus=\"\" required></div>\n"
    "<div class=\"field\"><label for=\"current_password\">"
    "{{t.current_password}}</label>\n"
    "<div class=\"pw\"><input id=\"current_password\" "
    "name=\"current_password\" type=\"password\" "
    "autocomplete=\"current-password\" required>"
    "<button type=\"button\" class=\"eye\" "
    "aria-controls=\"current_password\" aria-pressed=\"false\" "
    "aria-label=\"{{t.show_password}}\" title=\"{{t.show_password}}\" "
    "hidden=\"\">{{eye}}</button></div></div>\n"
    "<button type=\"submit\" class=\"primary\">{{t.email_change_button}}"
    "</button>\n</form>\n"
    "{{/new_email}}"
    "<p class=\"back\"><a href=\"{{account_url}}\">{{t.account_title}}</a>"
    "</p>{{/token}}\n";

/*
 * Sub-users (Axarnet): the account's users with their permissions, the
 * pending invitations, and the invitation form.  The lists are made by
 * ngx_http_clientauth_users.c; every form carries the CSRF token.
 */

static const char  ngx_http_clientauth_users_html[] =
    "<div class=\"account\">\n"
    "{{#notice}}<p class=\"notice\" role=\"status\">{{notice}}</p>"
    "{{/notice}}\n"
    "{{#error}}<p class=\"error\" role=\"alert\">{{error}}</p>{{/error}}\n"
    "<section>\n"
    "<p class=\"intro\">{{t.users_intro}}</p>\n"
    "{{users}}\n"
    "</section>\n"
    "{{#invites}}<section aria-labelledby=\"h-pending\">\n"
    "<h2 id=\"h-pending\">{{t.users_pending}}</h2>\n"
    "{{invites}}\n"
    "</section>{{/invites}}\n"
    "<section aria-labelledby=\"h-invite\">\n"
    "<h2 id=\"h-invite\">{{t.users_invite_title}}</h2>\n"
    "<form method=\"post\" action=\"{{account_url}}users/invite\">\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<div class=\"field\"><label for=\"email\">{{t.users_email}}</label>\n"
    "<input id=\"email\" name=\"email\" type=\"email\" "
    "autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" "
    "required></div>\n"
    "<fieldset class=\"perms\"><legend>{{t.users_perms}}</legend>\n"
    "{{perm_choices}}</fieldset>\n"
    "<button type=\"submit\" class=\"primary\">{{t.users_invite_button}}"
    "</button>\n"
    "</form>\n"
    "</section>\n"
    "<p class=\"back\"><a href=\"{{account_url}}\">{{t.account_title}}</a>"
    "</p>\n"
    "</div>\n";

static const char  *ngx_http_clientauth_page_builtin[] = {
    ngx_http_clientauth_layout_html,
    ngx_http_clientauth_login_html,
    ngx_http_clientauth_reset_html,
    ngx_http_clientauth_sent_html,
    ngx_http_clientauth_new_password_html,
    ngx_http_clientauth_message_html,
    /* self-service area (issue 10) */
    ngx_http_clientauth_account_html,
    /* self-service: forgotten identifier */
    ngx_http_clientauth_remind_html,
    /* self-service: e-mail change */
    ngx_http_clientauth_email_html,
    /* sub-users */
    ngx_http_clientauth_users_html
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
    "[hidden]{display:none!important}\n"
    /* self-service area (issue 10) */
    ".card:has(.account){max-width:44rem}\n"
    ".account section{border-top:1px solid var(--line);"
    "padding:1.2rem 0 .4rem}\n"
    ".account section:first-of-type{border-top:0;padding-top:0}\n"
    "h2{font-size:1.15rem;margin:0 0 .9rem}\n"
    ".facts{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.3rem 1rem;margin:0 0 1rem}\n"
    ".facts dt{font-weight:600}\n"
    ".facts dd{margin:0;overflow-wrap:anywhere}\n"
    "@media (max-width:30rem){.facts{grid-template-columns:1fr;"
    "gap:0 1rem}.facts dd{margin:0 0 .4rem}}\n"
    ".sessions{list-style:none;margin:0 0 1rem;padding:0}\n"
    ".sessions li{display:flex;justify-content:space-between;"
    "align-items:center;gap:.8rem;flex-wrap:wrap;padding:.7rem 0;"
    "border-bottom:1px solid var(--line)}\n"
    ".sessions .what{font-weight:600}\n"
    ".sessions .when{display:block;color:var(--muted);font-size:.92rem}\n"
    ".sessions .here{color:var(--ok);font-weight:600}\n"
    ".sessions form{margin:0}\n"
    ".logout{margin:1.2rem 0 0;text-align:center}\n"
    /* self-service: e-mail change (long labels and addresses stack) */
    ".facts.stack{grid-template-columns:1fr;gap:.1rem}\n"
    ".facts.stack dd{margin:0 0 .6rem}\n"
    /* sub-users */
    ".users{list-style:none;margin:0 0 1rem;padding:0}\n"
    ".users li{padding:.7rem 0;border-bottom:1px solid var(--line)}\n"
    ".users .who{font-weight:600;overflow-wrap:anywhere}\n"
    ".users .when{display:block;color:var(--muted);font-size:.92rem}\n"
    ".users form{display:flex;flex-wrap:wrap;gap:.4rem .8rem;"
    "align-items:center;margin:.4rem 0 0}\n"
    ".perms{border:0;margin:0 0 1rem;padding:0;display:flex;flex-wrap:wrap;"
    "gap:.4rem 1rem}\n"
    ".perms legend{font-weight:600;margin-bottom:.4rem}\n"
    ".perms label,.users label{display:inline-flex;gap:.35rem;"
    "align-items:center;font-weight:400}\n";


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

    if (theme_css.len) {
        /* no theme style: no data, and memcpy() must not see NULL */
        ngx_memcpy(p, theme_css.data, theme_css.len);
    }

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

