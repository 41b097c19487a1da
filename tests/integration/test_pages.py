"""The customer area's pages (issue 9): the request's language, the brand's
theme, the headers that keep the pages out of other sites' frames, and the
ways on that each page offers."""

import base64
import hashlib
import html
import os
import re
import signal

import pytest

from helpers import (BRAND, HTML, ctl, free_port, gateway_conf, nginx_check,
                     wait_until)
from reset_helpers import RESET_LOCATIONS, ask_link, outbox, reset_conf

LANG_RE = re.compile(r'<html lang="([^"]*)">')
STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)
SCRIPT_RE = re.compile(r"<script>(.*?)</script>", re.S)

THREE = "clientauth_languages fr es en;\n"


def user_key(who):
    return "ca:{%s:%s}:user:%s" % (BRAND, who.account, who.user)


def page_lang(r):
    m = LANG_RE.search(r.text)
    assert m, r.text[:300]
    return m.group(1)


def login_page(g, path="/auth/login", headers=None):
    r = g.get(path, accept=HTML, headers=headers or {})
    assert r.status_code == 200, (r.status_code, r.text)
    return r


@pytest.fixture
def fr(make_gateway):
    """A French-first brand with all three languages and the reset pages."""
    return make_gateway(**reset_conf(THREE))


# ------------------------------------------------------------ languages

@pytest.mark.parametrize("header, lang", [
    (None, "fr"),
    ("es-ES,es;q=0.9", "es"),
    ("en-GB,en;q=0.9,fr;q=0.8", "en"),
    ("de-DE,de;q=0.9,es;q=0.5,en;q=0.4", "es"),
    ("fr;q=0, en;q=0.1", "en"),
    ("*", "fr"),
    ("de", "fr"),                               # unknown: the fallback
    ("es;q=abc", "fr"),                         # malformed
    ("<script>,\x7f;;", "fr"),
    ("es," * 400, "fr"),                        # oversized
])
def test_accept_language_picks_the_page_language(fr, header, lang):
    r = login_page(fr, headers={"Accept-Language": header} if header else {})

    assert page_lang(r) == lang
    assert r.headers["Content-Language"] == lang
    assert "Set-Cookie" not in r.headers


def test_lang_parameter_switches_and_is_remembered(fr):
    r = login_page(fr, "/auth/login?lang=es",
                   headers={"Accept-Language": "en"})

    assert page_lang(r) == "es"
    assert "Acceso a mi área de cliente" in r.text
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("clientauth_lang=es; Path=/;")
    assert "SameSite=Lax" in cookie

    # the cookie wins over Accept-Language on the next page
    r = login_page(fr, "/auth/reset", headers={
        "Accept-Language": "en", "Cookie": "clientauth_lang=es"})
    assert page_lang(r) == "es"
    assert "Set-Cookie" not in r.headers

    # and ?lang= over the cookie
    r = login_page(fr, "/auth/login?lang=en",
                   headers={"Cookie": "clientauth_lang=es"})
    assert page_lang(r) == "en"


@pytest.mark.parametrize("query", [
    "lang=de", "lang=", "lang=e%73", "lang=es-ES", "lang=" + "e" * 5000,
    "lang=%22%3E%3Cscript%3E", "lang=es&lang=en",
])
def test_bad_lang_parameter_falls_back_without_error(fr, query):
    r = login_page(fr, "/auth/login?" + query)

    assert page_lang(r) in ("fr", "es")
    assert "<script>\"" not in r.text
    if page_lang(r) == "fr":
        assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize("cookie", [
    "clientauth_lang=de", "clientauth_lang=", "clientauth_lang=" + "x" * 3000,
    "clientauth_lang=\"es\"",
])
def test_bad_lang_cookie_falls_back(fr, cookie):
    r = login_page(fr, headers={"Cookie": cookie,
                                "Accept-Language": "en"})

    assert page_lang(r) == "en"


def test_picker_links_every_language_and_keeps_the_arguments(fr):
    r = login_page(fr, "/auth/login?next=%2Fbilling%2F&lang=en")

    links = re.findall(r'<a href="([^"]*)" hreflang="(\w+)" lang="\w+"'
                       r'( aria-current="true")?>([^<]*)</a>', r.text)
    assert [(h, l, n) for h, l, _, n in links] == [
        ("?next=%2Fbilling%2F&amp;lang=fr", "fr", "Français"),
        ("?next=%2Fbilling%2F&amp;lang=es", "es", "Español"),
        ("?next=%2Fbilling%2F&amp;lang=en", "en", "English")]
    assert [l for _, l, cur, _ in links if cur] == ["en"]


@pytest.mark.parametrize("lang, message", [
    ("es", "El identificador o la contraseña no son correctos."),
    ("fr", "Identifiant ou mot de passe incorrect."),
    ("en", "Incorrect identifier or password."),
])
def test_json_message_is_localized_code_is_not(fr, owner, lang, message):
    r = fr.login(owner.email, "wrong", headers={"Accept-Language": lang})

    assert r.status_code == 401
    assert r.json() == {"ok": False, "error": "invalid_credentials",
                        "message": message}


def test_default_languages_fall_back_to_english(gw):
    r = login_page(gw, headers={"Accept-Language": "de"})

    assert page_lang(r) == "en"
    assert "Log in to your customer area" in r.text


# ------------------------------------------------------------ headers

@pytest.mark.parametrize("path", [
    "/auth/login", "/auth/reset", "/auth/reset/confirm?token=nope",
])
def test_pages_refuse_frames_and_foreign_code(fr, path):
    r = fr.get(path, accept=HTML)

    assert r.headers["X-Frame-Options"] == "DENY"
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert "default-src 'none'" in csp

    # the page's own style and script run: their hashes are in the policy
    for regex, directive in ((STYLE_RE, "style-src"),
                             (SCRIPT_RE, "script-src")):
        body = regex.search(r.text).group(1).encode()
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert "%s 'sha256-%s'" % (directive, digest) in csp
    assert " style=" not in r.text and " onclick=" not in r.text


# ------------------------------------------------------------ login flows

def test_identifier_label_names_the_brands_kinds(make_gateway):
    g = make_gateway(identifiers="customer_number domain email")
    r = login_page(g)

    assert '<label for="identifier">Customer number, domain or e-mail' \
        '</label>' in r.text

    g2 = make_gateway(identifiers="email phone",
                      server="clientauth_phone_country 1;\n" + THREE)
    r = login_page(g2)
    assert "Adresse e-mail ou numéro de téléphone</label>" in r.text


def test_login_page_links_to_the_reset_page(fr):
    r = login_page(fr)

    assert '<a href="/auth/reset">Mot de passe oublié ?</a>' in r.text
    assert 'autocomplete="username"' in r.text
    assert 'autocomplete="current-password"' in r.text


def test_wrong_password_keeps_the_identifier_and_says_why(fr, owner):
    typed = 'owner@example.com"><b>'
    r = fr.login(typed, "wrong", accept=HTML,
                 headers={"Accept-Language": "es"})

    assert r.status_code == 401
    assert 'value="%s"' % html.escape(typed, quote=True) in r.text
    assert "<b>" not in r.text.split("<main", 1)[1]
    assert ('<p class="error" id="form-error" role="alert">'
            'El identificador o la contraseña no son correctos.</p>') in r.text
    assert 'aria-describedby="form-error"' in r.text


def test_too_many_attempts_say_how_long_and_offer_the_reset(make_gateway,
                                                           owner):
    g = make_gateway(**reset_conf(
        THREE + "clientauth_login_limit account 1 15m;\n"))
    g.login(owner.email, "wrong")

    r = g.login(owner.email, "wrong", accept=HTML)
    assert r.status_code == 429
    assert re.search(r"Patientez \d+ minutes? avant de réessayer", r.text), \
        r.text
    assert '<a class="button primary" href="/auth/reset">' \
        'Mot de passe oublié ?</a>' in r.text

    r = g.login(owner.email, "wrong", headers={"Accept-Language": "en"})
    assert r.json()["error"] == "too_many_attempts"
    assert re.search(r"Please wait \d+ minutes? before", r.json()["message"])


def test_locked_account_shows_the_support_contact(make_gateway, owner):
    g = make_gateway(server="clientauth_support_contact "
                            "\"backoffice@magic.example, +33 1 23 45 67 89\";\n")
    ctl(g.redis, "user", "lock", BRAND, owner.email)

    r = g.login(owner.email, owner.password, accept=HTML)

    assert r.status_code == 403
    assert "Retry-After" not in r.headers
    assert "Please contact support" in r.text
    assert ('<p class="support">Support: backoffice@magic.example, '
            '+33 1 23 45 67 89</p>') in r.text


@pytest.mark.parametrize("lang, title, text, support", [
    ("fr", "Compte bloqué", "Contactez le support",
     "Support : backoffice@magic.example"),
    ("es", "Cuenta bloqueada", "Póngase en contacto con el soporte",
     "Soporte: backoffice@magic.example"),
])
def test_locked_account_page_speaks_the_customers_language(
        make_gateway, owner, lang, title, text, support):
    g = make_gateway(**reset_conf(
        THREE + "clientauth_support_contact backoffice@magic.example;\n"))
    ctl(g.redis, "user", "lock", BRAND, owner.email)
    wrong = g.login(owner.email, "Wrong-Password-1!", accept=HTML,
                    headers={"Accept-Language": lang})

    r = g.login(owner.email, owner.password, accept=HTML,
                headers={"Accept-Language": lang})

    assert r.status_code == 403, (r.status_code, r.text)
    assert page_lang(r) == lang
    assert title in r.text and text in r.text
    assert '<p class="support">%s</p>' % support in r.text
    # a wrong password says nothing of the lock, in any language
    assert wrong.status_code == 401
    assert title not in wrong.text and "backoffice" not in wrong.text

    r = g.login(owner.email, owner.password,
                headers={"Accept-Language": lang})
    assert r.status_code == 403
    assert r.json()["error"] == "account_locked"
    assert text in r.json()["message"]


def test_logout_then_the_login_page_says_so(fr, owner):
    token = fr.login_token(owner.email, owner.password)

    r = fr.post("/auth/logout", token, accept=HTML)
    assert r.status_code == 303
    assert r.headers["Location"] == "/auth/login?done=logout"

    r = login_page(fr, r.headers["Location"])
    assert '<p class="notice" role="status">Vous êtes déconnecté.</p>' \
        in r.text


def test_after_a_reset_the_login_page_says_the_password_changed(fr):
    r = login_page(fr, "/auth/login?done=reset&lang=en")

    assert "Your password has been changed." in r.text
    r = login_page(fr, "/auth/login?done=%3Cb%3E")
    assert 'class="notice"' not in r.text


# ------------------------------------------------------------ reset flows

def test_request_sent_page_has_back_to_login(fr, owner):
    r = fr.post("/auth/reset", accept=HTML, data={"identifier": owner.email},
                headers={"Accept-Language": "es"})

    assert r.status_code == 202
    assert "Su solicitud ha sido enviada" in r.text
    assert '<a class="button primary" href="/auth/login">' \
        'Volver a la pantalla de inicio de sesión</a>' in r.text


def test_used_or_unknown_link_offers_a_new_one(fr):
    r = fr.get("/auth/reset/confirm?token=" + "A" * 43, accept=HTML,
               headers={"Accept-Language": "en"})

    assert r.status_code == 410
    assert '<a class="button primary" href="/auth/reset">' \
        'Ask for a new link</a>' in r.text
    r = fr.get("/auth/reset/confirm?token=" + "A" * 43)
    assert r.json()["error"] == "invalid_token"


def test_new_password_page_lists_the_rules_with_their_numbers(make_gateway,
                                                              owner):
    g = make_gateway(**reset_conf(THREE + "clientauth_password_generator on;\n"
                                  "clientauth_password_min_length 10;\n"))
    token = ask_link(g, owner.email)

    r = g.get("/auth/reset/confirm?token=" + token, accept=HTML,
              headers={"Accept-Language": "en"})

    assert r.status_code == 200
    assert '<li data-rule="too_short" data-n="10">At least 10 characters' \
        '</li>' in r.text
    assert 'data-rule="no_upper"' in r.text
    assert 'id="generate" data-n="10"' in r.text
    assert ('<input type="text" name="username" value="owner@example.com" '
            'autocomplete="username"') in r.text
    assert r.text.count('class="eye"') == 2
    assert r.text.count('autocomplete="new-password"') == 2

    # no generator unless configured
    token = ask_link(g, owner.email)
    plain = make_gateway(**reset_conf())
    r = plain.get("/auth/reset/confirm?token=" + token, accept=HTML)
    assert 'id="generate"' not in r.text


def test_broken_rules_are_marked_and_tied_to_the_field(fr, owner):
    token = ask_link(fr, owner.email)

    r = fr.post("/auth/reset/confirm", accept=HTML, data={
        "token": token, "password": "short", "password_confirm": "short"})

    assert r.status_code == 422
    assert 'aria-describedby="rules form-error"' in r.text
    assert '<li data-rule="too_short" data-n="8" class="broken">' \
        'Au moins 8 caractères</li>' in r.text


# ------------------------------------------------------------ outbox locale

def test_outbox_message_carries_the_customers_language(fr, owner):
    fr.post("/auth/reset", data={"identifier": owner.email},
            headers={"Accept-Language": "es"})

    assert [m["locale"] for m in outbox(fr.redis, type="password_reset")] \
        == ["es"]


def test_login_remembers_the_language_as_the_users_locale(fr, owner):
    fr.login(owner.email, owner.password, headers={"Cookie":
                                                   "clientauth_lang=es"})
    wait_until(lambda: fr.redis.hgetall(user_key(owner)).get("locale")
               == "es", 5, "the user's locale to be stored")

    # a client that names no language leaves it alone, later notices too
    fr.login(owner.email, owner.password)
    fr.login(owner.email, owner.password, headers={"Cookie":
                                                   "clientauth_lang=es"})
    assert fr.redis.hgetall(user_key(owner)).get("locale") == "es"
    fr.post("/auth/reset", data={"identifier": owner.email})
    assert [m["locale"] for m in outbox(fr.redis, type="password_reset")] \
        == ["es"]


# ------------------------------------------------------------ themes

def write_theme(d, files):
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def nginx_t(tmp_path, redis, backend, server):
    """nginx -t on a gateway configuration; (exit status, output)."""
    text = gateway_conf(tmp_path, free_port(), redis.port, backend.port,
                        server=server, locations=RESET_LOCATIONS)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    p = nginx_check(tmp_path, conf)
    return p.returncode, p.stdout


@pytest.mark.parametrize("files, message", [
    ({"login.html": "<p>\n{{nope}}</p>"},
     "login.html:2: unknown placeholder {{nope}}"),
    ({"message.html": "<a href={{link_url}}>x</a>"},
     "message.html:1: {{link_url}} would not be escaped here"),
    ({"layout.html": "<p onclick=\"{{brand}}\">"},
     "layout.html:1: {{brand}} would not be escaped here"),
    ({"sent.html": "<script>{{brand}}</script>"},
     "sent.html:1: {{brand}} would not be escaped here"),
    ({"texts.fr.txt": "area = Espace\nbogus = x\n"},
     "texts.fr.txt:2: unknown text \"bogus\""),
    ({"style.css": "p{}</style><script>"}, "contains \"</style\""),
])
def test_broken_theme_fails_nginx_t_with_file_and_line(
        tmp_path, redis_store, backend, files, message):
    theme = write_theme(tmp_path / "theme", files)

    status, out = nginx_t(tmp_path, redis_store, backend,
                          THREE + "clientauth_theme %s;\n" % theme)

    assert status != 0
    assert message in out, out


def test_missing_theme_or_texts_fail_nginx_t(tmp_path, redis_store, backend):
    status, out = nginx_t(tmp_path, redis_store, backend,
                          "clientauth_theme %s/none;\n" % tmp_path)
    assert status != 0 and "no directory" in out, out

    theme = write_theme(tmp_path / "theme", {"texts.de.txt": "area = x\n"})
    status, out = nginx_t(tmp_path, redis_store, backend,
                          "clientauth_languages de en;\n"
                          "clientauth_theme %s;\n" % theme)
    assert status != 0 and "no built-in texts for \"de\"" in out, out


def test_theme_overrides_texts_style_and_logo(make_gateway, tmp_path):
    theme = write_theme(tmp_path / "theme", {
        "texts.txt": "brand = Nuxit\nsupport_contact = support@nuxit.example\n",
        "texts.es.txt": "area = Área de clientes Nuxit\n",
        "style.css": ":root{--brand:#b3202a}\n",
        "logo.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    })
    g = make_gateway(server=THREE + "clientauth_theme %s;\n" % theme)

    r = login_page(g, "/auth/login?lang=es")

    assert '<span class="wordmark">Nuxit</span>' in r.text
    assert "<title>Acceso a mi área de cliente | Nuxit</title>" in r.text
    assert "Área de clientes Nuxit" in r.text
    assert ":root{--brand:#b3202a}" in STYLE_RE.search(r.text).group(1)
    assert 'src="data:image/svg+xml;base64,' in r.text


def test_bad_reload_keeps_the_running_configuration(make_gateway, tmp_path):
    theme = write_theme(tmp_path / "theme", {"texts.txt": "brand = Magic\n"})
    g = make_gateway(server=THREE + "clientauth_theme %s;\n" % theme)
    assert "Magic</span>" in login_page(g).text

    (theme / "login.html").write_text("<p>{{unknown}}</p>")
    (theme / "texts.txt").write_text("brand = Changed\n")
    os.kill(g.nginx.proc.pid, signal.SIGHUP)

    wait_until(lambda: "unknown placeholder" in g.nginx.read_log(), 10,
               "the reload to be refused")
    problems = g.nginx.take_log_problems()
    assert any("login.html:1: unknown placeholder {{unknown}}" in p
               for p in problems), problems

    r = login_page(g)
    assert "Magic</span>" in r.text and "Changed" not in r.text
