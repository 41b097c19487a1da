"""The primary e-mail change in a real browser (issue 10): headless
Chromium asks for the change from the area, types the code mailed to the
current address, then opens the link mailed to the new one."""

import urllib.parse

import pytest

from helpers import BRAND, add_user
from reset_helpers import outbox

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

from test_browser import browser, log_in, wait  # noqa: E402,F401

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
