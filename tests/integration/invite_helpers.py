"""Support for the sub-user tests (issue 10, Axarnet's invitations).

- INVITE_LOCATIONS: the invitation page, added to the test gateway.
- plant_invite(): an invitation written as the gateway writes it (the
  invitee's side is tested apart from the account pages that send them).
- accept(), open_invite(): GET and POST on /auth/invite.
- invite_key(), invites_key(): where Redis keeps them.
"""

import secrets
import time

from helpers import BRAND, JSON, token_hash

INVITE_LOCATIONS = """
        location = /auth/invite { clientauth_invite_accept; }
"""

INVITEE = "nuria@example.com"
INVITEE_PASSWORD = "Nur1a-secret!pw"


def invite_key(token, brand=BRAND):
    return "ca:%s:invite:%s" % (brand, token_hash(token))


def invites_key(account, brand=BRAND):
    return "ca:{%s:%s}:invites" % (brand, account)


def new_token():
    return secrets.token_urlsafe(32)


def plant_invite(redis, owner, email=INVITEE, perms="billing,orders",
                 lifetime=7 * 86400, token=None, locale="en"):
    """An invitation of owner's account to email, as the account pages
    store it; its token."""
    token = token or new_token()
    key = invite_key(token)
    redis.call("HSET", key, "account", owner.account, "inviter", owner.user,
               "email", email, "perms", perms, "locale", locale,
               "created", str(int(time.time())),
               "expires", str(int(time.time()) + lifetime))
    redis.call("EXPIRE", key, str(max(lifetime, 1)))
    redis.call("HSET", invites_key(owner.account), email, token_hash(token))
    return token


def open_invite(g, token, accept=JSON, **kwargs):
    return g.get("/auth/invite", params={"token": token}, accept=accept,
                 **kwargs)


def accept(g, token, password=INVITEE_PASSWORD, confirm=None, accept=JSON,
           **kwargs):
    return g.post("/auth/invite", accept=accept,
                  data={"token": token, "password": password,
                        "password_confirm": password if confirm is None
                        else confirm},
                  **kwargs)
