"""The customer's walk through the pages in a real browser (issue 9):
Debian's headless Chromium driven by chromium-driver and python3-selenium.
A failing test saves a screenshot of the page into its temporary
directory (failure.png)."""

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import HOST, identity_of
from reset_helpers import RESET_LOCATIONS, outbox

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"

if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
    pytest.skip("chromium and chromium-driver are not installed",
                allow_module_level=True)

SERVER = ("clientauth_languages fr es en;\n"
          "clientauth_password_generator on;\n"
          "clientauth_login_limit account 1000 1h;\n"
          "clientauth_login_limit address 1000 1h;\n")

LOGIN_ERROR = {
    "es": "El identificador o la contraseña no son correctos.",
    "fr": "Identifiant ou mot de passe incorrect.",
    "en": "Incorrect identifier or password.",
}


def chrome(width=1280, height=900):
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--force-device-scale-factor=1",
              "--window-size=%d,%d" % (max(width, 500), height)):
        opts.add_argument(a)
    if width < 500:
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {
            "width": width, "height": height, "pixelRatio": 1}})
    # a German browser: a language no brand offers, the fallback is used
    opts.add_experimental_option("prefs", {
        "intl.accept_languages": "de-DE,de"})
    opts.binary_location = CHROMIUM
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_page_load_timeout(20)
    return d


def keep_screenshot_on_failure(request, tmp_path, d):
    failed = request.session.testsfailed

    def save():
        if request.session.testsfailed > failed:
            d.save_screenshot(str(tmp_path / "failure.png"))
            print("screenshot of the failure:", tmp_path / "failure.png")
    return save


@pytest.fixture
def browser(request, tmp_path):
    d = chrome()
    save = keep_screenshot_on_failure(request, tmp_path, d)
    yield d
    try:
        save()
    finally:
        d.quit()


@pytest.fixture
def phone(request, tmp_path):
    d = chrome(360, 740)
    save = keep_screenshot_on_failure(request, tmp_path, d)
    yield d
    try:
        save()
    finally:
        d.quit()


@pytest.fixture
def g(make_gateway):
    return make_gateway(server=SERVER, locations=RESET_LOCATIONS)


def wait(d, what, timeout=10):
    return WebDriverWait(d, timeout).until(what)


def html_lang(d):
    return d.find_element(By.TAG_NAME, "html").get_attribute("lang")


def log_in(d, identifier, password):
    d.find_element(By.ID, "identifier").clear()
    d.find_element(By.ID, "identifier").send_keys(identifier)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def landed_on_portal(g, d, who):
    wait(d, lambda d: urllib.parse.urlsplit(d.current_url).path == "/")
    seen = [r for r in g.backend.requests if r["path"] == "/"]
    assert seen, d.page_source[:500]
    assert identity_of(seen[-1]["headers"])["x-client-user"] == [who.user]


def reset_link(g):
    url = outbox(g.redis, type="password_reset")[-1]["url"]
    return url if url.startswith("http") else g.url(url)


@pytest.mark.parametrize("lang", ["es", "fr", "en"])
def test_log_in_through_the_page_in_each_language(g, browser, owner, lang):
    browser.get(g.url("/auth/login?lang=" + lang))
    assert html_lang(browser) == lang

    log_in(browser, owner.email, owner.password)

    landed_on_portal(g, browser, owner)


@pytest.mark.parametrize("lang", ["es", "fr", "en"])
def test_wrong_password_keeps_the_identifier_and_says_why(g, browser, owner,
                                                          lang):
    browser.get(g.url("/auth/login?lang=" + lang))

    log_in(browser, owner.email, "not-the-password")

    alert = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR,
                                                   "[role=alert]"))
    assert alert.text == LOGIN_ERROR[lang]
    assert browser.find_element(By.ID, "identifier").get_attribute(
        "value") == owner.email
    assert browser.find_element(By.ID, "password").get_attribute(
        "aria-describedby") == alert.get_attribute("id")
    # the customer types only the password again
    browser.find_element(By.ID, "password").send_keys(owner.password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    landed_on_portal(g, browser, owner)


def test_picker_switches_language_and_the_choice_survives(g, browser):
    browser.get(g.url("/auth/login"))
    assert html_lang(browser) == "fr"

    browser.find_element(By.CSS_SELECTOR, "nav.langs a[hreflang=es]").click()
    wait(browser, lambda d: html_lang(d) == "es")
    assert "Acceso a mi área de cliente" in browser.title

    browser.find_element(By.LINK_TEXT, "¿Ha olvidado su contraseña?").click()
    wait(browser, lambda d: urllib.parse.urlsplit(d.current_url).path
         == "/auth/reset")
    assert html_lang(browser) == "es"
    assert browser.find_element(
        By.CSS_SELECTOR, "nav.langs a[aria-current=true]").text == "Español"


def test_eye_toggle_reveals_and_hides(g, browser):
    browser.get(g.url("/auth/login?lang=en"))
    field = browser.find_element(By.ID, "password")
    eye = browser.find_element(By.CSS_SELECTOR, "button.eye")
    field.send_keys("s3cret!")

    assert eye.is_displayed()
    assert eye.get_attribute("aria-label") == "Show password"
    assert field.get_attribute("type") == "password"

    eye.click()
    assert field.get_attribute("type") == "text"
    assert eye.get_attribute("aria-pressed") == "true"

    eye.click()
    assert field.get_attribute("type") == "password"
    assert eye.get_attribute("aria-pressed") == "false"
    assert field.get_attribute("value") == "s3cret!"


def met(d):
    return {li.get_attribute("data-rule"): li.get_attribute("data-met")
            for li in d.find_elements(By.CSS_SELECTOR, "#rules li")}


def open_reset_link(g, d, who):
    g.post("/auth/reset", data={"identifier": who.email})
    d.get(reset_link(g))
    wait(d, lambda d: d.find_elements(By.ID, "rules"))


def test_checklist_ticks_as_rules_are_met(g, browser, owner):
    open_reset_link(g, browser, owner)
    pw = browser.find_element(By.ID, "password")

    pw.send_keys("abc")
    rules = met(browser)
    assert rules["too_short"] == "no" and rules["no_lower"] == "yes"
    assert rules["no_upper"] == "no" and rules["no_digit"] == "no"

    pw.send_keys("DEF12!x")
    rules = met(browser)
    assert all(rules[r] == "yes" for r in ("too_short", "no_upper",
                                            "no_lower", "no_digit",
                                            "no_special", "whitespace"))
    assert rules["mismatch"] == "no"
    assert rules["reused"] is None             # the server's to judge

    browser.find_element(By.ID, "password_confirm").send_keys("abcDEF12!x")
    assert met(browser)["mismatch"] == "yes"


def test_generated_password_is_accepted_and_logs_in(g, browser, owner):
    open_reset_link(g, browser, owner)

    browser.find_element(By.ID, "generate").click()
    generated = browser.find_element(By.ID, "password").get_attribute("value")
    assert len(generated) >= 16
    assert browser.find_element(By.ID, "password").get_attribute(
        "type") == "text"
    assert all(v == "yes" for r, v in met(browser).items()
               if v is not None)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    wait(browser, lambda d: "done=reset" in d.current_url)
    log_in(browser, owner.email, generated)
    landed_on_portal(g, browser, owner)


def test_whole_reset_from_the_outbox_link(g, browser, owner):
    browser.get(g.url("/auth/login?lang=es"))
    browser.find_element(By.LINK_TEXT, "¿Ha olvidado su contraseña?").click()
    browser.find_element(By.ID, "identifier").send_keys(owner.email)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(browser, lambda d: "Su solicitud ha sido enviada" in d.page_source)
    assert outbox(g.redis, type="password_reset")[-1]["locale"] == "es"

    browser.get(reset_link(g))
    new = "Nueva-Clave-2026!"
    browser.find_element(By.ID, "password").send_keys(new)
    browser.find_element(By.ID, "password_confirm").send_keys(new)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    # the new-password page has a hidden [role=status] of its own (the
    # generator's note): wait for the login page's notice, not any
    wait(browser, lambda d: "/auth/login" in d.current_url)
    notice = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR,
                                                    "[role=status]"))
    assert notice.text.startswith("Su contraseña ha sido cambiada")
    log_in(browser, owner.email, new)
    landed_on_portal(g, browser, owner)


@pytest.fixture
def other_origin():
    """A page of another origin that frames whatever ?src= names."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            src = urllib.parse.parse_qs(
                urllib.parse.urlsplit(self.path).query)["src"][0]
            body = ('<!DOCTYPE html><title>other</title><iframe id="f" '
                    'src="%s" width="600" height="500"></iframe>'
                    % src).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://localhost:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


def framed_text(d, page):
    d.get(page)
    frame = wait(d, lambda d: d.find_element(By.ID, "f"))
    d.switch_to.frame(frame)
    try:
        return d.find_element(By.TAG_NAME, "body").text
    finally:
        d.switch_to.default_content()


def test_login_page_in_another_origins_frame_does_not_render(
        g, browser, other_origin):
    # the portal's own pages may be framed: the check can see a frame
    shown = framed_text(browser, other_origin + "?src="
                        + urllib.parse.quote(g.url("/public/framed")))
    assert "/public/framed" in shown

    shown = framed_text(browser, other_origin + "?src="
                        + urllib.parse.quote(g.url("/auth/login")))
    assert "Connexion" not in shown and "Mot de passe" not in shown
    browser.switch_to.frame(browser.find_element(By.ID, "f"))
    assert browser.find_elements(By.ID, "password") == []


@pytest.mark.parametrize("path", ["/auth/login?lang=es", "/auth/reset",
                                  "/auth/reset/confirm?token=" + "A" * 43])
def test_no_horizontal_scroll_at_360_px(g, phone, path):
    phone.get(g.url(path))

    width = phone.execute_script("return window.innerWidth")
    scroll = phone.execute_script(
        "return document.documentElement.scrollWidth")
    assert width == 360
    assert scroll <= width


def test_new_password_page_fits_360_px(g, phone, owner):
    open_reset_link(g, phone, owner)
    phone.find_element(By.ID, "generate").click()

    assert phone.execute_script(
        "return document.documentElement.scrollWidth") <= 360
