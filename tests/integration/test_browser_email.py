"""The primary e-mail change in a real browser (issue 10): headless
Chromium asks for the change from the area, types the code mailed to the
current address, then opens the link mailed to the new one."""

import urllib.parse

import pytest

from helpers import BRAND, add_user
from reset_helpers import outbox

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

from test_browser import browser, log_in, phone, wait  # noqa: E402,F401

PASSWORD = "Sup3r-secret!pw"
OLD = "ana@example.com"
NEW = "ana.nueva@example.com"

LOCATIONS = """
        location = /auth/email/cancel { clientauth_email_cancel; }
"""
SERVER = ("clientauth_languages fr es en;\n"
          "clientauth_login_limit account 1000 1h;\n"
          "clientauth_login_limit address 1000 1h;\n")


def path_of(d):
    parts = urllib.parse.urlsplit(d.current_url)
    return parts.path + ("?" + parts.query if parts.query else "")


def text_of(d):
    return d.find_element(By.TAG_NAME, "main").text


def test_email_change_with_the_code_and_the_link(make_gateway, browser):
    g = make_gateway(server=SERVER, locations=LOCATIONS)
    ana = add_user(g.redis, OLD, PASSWORD)
    d = browser

    d.get(g.url("/auth/login?lang=en&next=%2Fauth%2Faccount%2F"))
    log_in(d, OLD, PASSWORD)
    wait(d, lambda d: path_of(d) == "/auth/account/")
    d.find_element(By.LINK_TEXT, "Change my e-mail address").click()
    wait(d, lambda d: path_of(d) == "/auth/account/email")

    # the form: the new address and the current password (with its eye)
    d.find_element(By.ID, "email").send_keys(NEW)
    d.find_element(By.ID, "current_password").send_keys(PASSWORD)
    eye = d.find_element(By.CSS_SELECTOR,
                         "button.eye[aria-controls=current_password]")
    assert eye.is_displayed()
    d.find_element(By.CSS_SELECTOR, "form button.primary").click()
    wait(d, lambda d: "done=email_requested" in path_of(d))
    assert "We have sent an 8-digit code" in text_of(d)
    assert NEW in text_of(d)

    # the code from the current address's message
    [mail] = outbox(g.redis, type="email_change_code")
    assert mail["to"] == OLD
    d.find_element(By.ID, "code").send_keys(mail["code"])
    d.find_element(By.CSS_SELECTOR, "form button.primary").click()
    wait(d, lambda d: "done=email_confirmed" in path_of(d))
    assert "Code confirmed" in text_of(d)
    assert g.redis.call("HGET", "ca:{%s:%s}:user:%s" % (BRAND, ana.account,
                                                        ana.user),
                        "email") == OLD

    # the link from the new address's message, in the same browser
    [verify] = outbox(g.redis, type="email_verify")
    assert verify["to"] == NEW
    url = verify["url"]
    d.get(url if url.startswith("http") else g.url(url))
    wait(d, lambda d: path_of(d) == "/auth/account/?done=email_changed")
    assert "Your e-mail address has been changed." in text_of(d)
    assert NEW in text_of(d)
    assert g.redis.call("GET", "ca:%s:id:email:%s" % (BRAND, NEW)) == \
        "%s:%s" % (ana.account, ana.user)


def fits_360(d):
    assert d.execute_script("return window.innerWidth") == 360
    return d.execute_script("return document.documentElement.scrollWidth")


def test_self_service_pages_fit_360_px(make_gateway, phone):
    """The reminder page, the change's pages (a long address pending) and
    the "this was not me" page scroll no wider than a phone."""
    g = make_gateway(server=SERVER + "clientauth_email_change_grace 24h;\n",
                     locations=LOCATIONS + """
        location = /auth/remind { clientauth_remind; }
""", identifiers="customer_number domain email")
    add_user(g.redis, OLD, PASSWORD)
    d = phone

    d.get(g.url("/auth/remind?lang=es"))
    assert fits_360(d) <= 360
    d.get(g.url("/auth/login?lang=es&next=%2Fauth%2Faccount%2Femail"))
    log_in(d, OLD, PASSWORD)
    wait(d, lambda d: path_of(d) == "/auth/account/email")
    assert fits_360(d) <= 360

    d.find_element(By.ID, "email").send_keys(
        "a.very.long.address.of.a.customer@subdomain.example.com")
    d.find_element(By.ID, "current_password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "form button.primary").click()
    wait(d, lambda d: "done=email_requested" in path_of(d))
    assert fits_360(d) <= 360

    [mail] = outbox(g.redis, type="email_change_code")
    url = mail["url"]
    d.get(url if url.startswith("http") else g.url(url))
    assert d.find_element(By.CSS_SELECTOR, "form button.primary")
    assert fits_360(d) <= 360
