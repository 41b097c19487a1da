"""Sub-users in a real browser (issue 10, Axarnet): the owner invites from
the users' page, the invitee opens the mailed link, chooses a password on a
page with the rules checklist and the eyes, and logs in for the first time.
Same stack as test_browser.py (headless Chromium)."""

import urllib.parse

import pytest

from test_browser import (SERVER, browser, log_in, met,  # noqa: F401
                          wait)
from helpers import identity_of
from invite_helpers import INVITE_LOCATIONS
from reset_helpers import outbox

from selenium.webdriver.common.by import By  # noqa: E402

NEW = "Invit4da-Clave-2026!"


@pytest.fixture
def g(make_gateway):
    return make_gateway(server=SERVER, locations=INVITE_LOCATIONS)


def test_invitation_accepted_and_first_login(g, browser, owner):
    # the owner invites from the users' page, in French
    browser.get(g.url("/auth/login?lang=fr&next=/auth/account/users"))
    log_in(browser, owner.email, owner.password)
    wait(browser, lambda d: urllib.parse.urlsplit(d.current_url).path
         == "/auth/account/users")
    assert "Inviter un utilisateur" in browser.page_source
    browser.find_element(By.ID, "email").send_keys("nuria@example.com")
    browser.find_element(By.CSS_SELECTOR,
                         ".perms input[name=perm][value=billing]").click()
    browser.find_element(By.CSS_SELECTOR,
                         ".perms input[name=perm][value=orders]").click()
    browser.find_element(By.CSS_SELECTOR,
                         "section form button[type=submit].primary").click()
    notice = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR,
                                                    "[role=status]"))
    assert notice.text.startswith("L'invitation a été envoyée")
    assert "nuria@example.com" in browser.page_source

    [msg] = outbox(g.redis, type="user_invitation")
    assert msg["locale"] == "fr" and msg["perms"] == "billing,orders"

    # the invitee, on another device
    browser.delete_all_cookies()
    browser.get(g.url(msg["url"]))
    wait(browser, lambda d: d.find_elements(By.ID, "rules"))
    assert "Activez votre accès" in browser.title
    assert "nuria@example.com" in browser.page_source

    pw = browser.find_element(By.ID, "password")
    eye = browser.find_element(By.CSS_SELECTOR, "button.eye")
    eye.click()
    assert pw.get_attribute("type") == "text"
    eye.click()
    assert pw.get_attribute("type") == "password"
    pw.send_keys("abc")
    assert met(browser)["too_short"] == "no"
    pw.send_keys(NEW[3:])
    assert all(met(browser)[r] == "yes" for r in ("too_short", "no_upper",
                                                   "no_digit", "no_special"))
    browser.find_element(By.ID, "password_confirm").send_keys("abc" + NEW[3:])
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    notice = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR,
                                                    "[role=status]"))
    assert "done=invite" in browser.current_url
    assert notice.text.startswith("Votre accès est activé")

    log_in(browser, "nuria@example.com", "abc" + NEW[3:])
    wait(browser, lambda d: urllib.parse.urlsplit(d.current_url).path == "/")
    seen = [r for r in g.backend.requests if r["path"] == "/"]
    ident = identity_of(seen[-1]["headers"])
    assert ident["x-client-account"] == [owner.account]
    assert ident["x-client-permissions"] == ["billing,orders"]
    assert ident["x-client-user"] != [owner.user]

    # the link was single-use
    browser.get(g.url(msg["url"]))
    assert "Cette invitation est inconnue" in browser.page_source
