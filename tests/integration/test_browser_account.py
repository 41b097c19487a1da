"""The self-service area in a real browser (issue 10): the customer opens
"my account", logs in on the way, changes the password from the page, and
signs another device out.  Same stack as test_browser.py."""

import urllib.parse

import pytest

from helpers import session_key
from self_service_helpers import ACCOUNT

pytest.importorskip("selenium.webdriver")

from selenium.webdriver.common.by import By  # noqa: E402
from test_browser import (SERVER, browser, log_in, met, phone,  # noqa: F401
                          wait)

NEW = "N3w-secret!pw"


@pytest.fixture
def g(make_gateway):
    return make_gateway(server=SERVER)


def path_of(d):
    u = urllib.parse.urlsplit(d.current_url)
    return u.path + ("?" + u.query if u.query else "")


def open_account(g, d, who, lang="en"):
    """The way a customer gets there: the area sends them to log in and
    back."""
    d.get(g.url("/auth/login?lang=" + lang))     # remembered in a cookie
    d.get(g.url(ACCOUNT))
    wait(d, lambda d: urllib.parse.urlsplit(d.current_url).path
         == "/auth/login")
    log_in(d, who.email, who.password)
    wait(d, lambda d: urllib.parse.urlsplit(d.current_url).path == ACCOUNT)


def test_password_changed_from_the_account_page(g, browser, owner):
    elsewhere = g.login_token(owner.email, owner.password)
    open_account(g, browser, owner)
    assert browser.find_element(By.TAG_NAME, "h1").text == "My account"

    browser.find_element(By.ID, "current_password").send_keys(owner.password)
    browser.find_element(By.ID, "password").send_keys(NEW)
    browser.find_element(By.ID, "password_confirm").send_keys(NEW)
    rules = met(browser)
    assert all(rules[r] == "yes" for r in ("too_short", "no_upper",
                                           "no_lower", "no_digit",
                                           "no_special", "mismatch"))
    browser.find_element(
        By.CSS_SELECTOR, "form[action$='/password'] button[type=submit]"
    ).click()

    wait(browser, lambda d: path_of(d) == ACCOUNT + "?done=password")
    notice = browser.find_element(By.CSS_SELECTOR, "[role=status]")
    assert "Your password has been changed" in notice.text
    # this browser is still logged in, the other session is not
    assert g.get("/elsewhere", elsewhere).status_code == 401
    assert g.login(owner.email, NEW).status_code == 200
    browser.get(g.url("/portal"))
    assert urllib.parse.urlsplit(browser.current_url).path == "/portal"


def test_wrong_current_password_is_shown_on_the_page(g, browser, owner):
    open_account(g, browser, owner, lang="es")

    browser.find_element(By.ID, "current_password").send_keys("Wr0ng!pass")
    browser.find_element(By.ID, "password").send_keys(NEW)
    browser.find_element(By.ID, "password_confirm").send_keys(NEW)
    browser.find_element(
        By.CSS_SELECTOR, "form[action$='/password'] button[type=submit]"
    ).click()

    alert = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR,
                                                   "[role=alert]"))
    assert alert.text == "La contraseña actual no es correcta."
    assert g.login(owner.email, owner.password).status_code == 200


def test_eyes_on_the_account_page(g, browser, owner):
    open_account(g, browser, owner)

    for field in ("current_password", "password", "password_confirm"):
        eye = browser.find_element(
            By.CSS_SELECTOR, "button.eye[aria-controls=%s]" % field)
        eye.click()
        assert browser.find_element(By.ID, field).get_attribute(
            "type") == "text"


def test_sign_another_device_out_from_the_page(g, browser, owner):
    other = g.login_token(owner.email, owner.password)
    open_account(g, browser, owner)

    buttons = browser.find_elements(
        By.CSS_SELECTOR, "ul.sessions form button[type=submit]")
    assert len(buttons) == 1
    buttons[0].click()

    wait(browser, lambda d: path_of(d) == ACCOUNT + "?done=revoked")
    assert g.get("/other", other).status_code == 401
    assert g.redis.call("EXISTS", session_key(other)) == 0
    assert browser.find_elements(
        By.CSS_SELECTOR, "ul.sessions form button[type=submit]") == []


def test_account_page_fits_360_px(g, phone, owner):
    g.login_token(owner.email, owner.password)
    open_account(g, phone, owner)

    assert phone.execute_script(
        "return document.documentElement.scrollWidth") <= 360
