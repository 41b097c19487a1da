"""Support for the password-reset tests (issue 4).

- RESET_LOCATIONS: the two reset endpoints, added to the test gateway's
  server block (the shared template has only login and logout).
- outbox(): the messages of the outbox stream as dicts.
- ask_link(): POST /auth/reset and the token of the link that was mailed.
- check_link(), confirm(): GET and POST on /auth/reset/confirm.
- reset_bytes(): a raw reset request, for byte-exact comparisons, forged
  Host headers and other loopback source addresses.
"""

import re
import urllib.parse

from helpers import BRAND, HOST, JSON, token_hash

OUTBOX = "clientauth:outbox"
FORM = "application/x-www-form-urlencoded"

RESET_LOCATIONS = """
        location = /auth/reset          { clientauth_reset_request; }
        location = /auth/reset/confirm  { clientauth_reset_confirm; }
"""

# Logging in many times (to check which password works) must not trip the
# login throttle or the lockout; the reset tests set their own limits.
ROOMY_LOGIN = ("clientauth_login_limit account 1000 1h;\n"
               "clientauth_login_limit address 1000 1h;\n"
               "clientauth_lockout 100 1h 1s;\n")

# No reset limits at all: for tests that ask for many links.
NO_RESET_LIMITS = ("clientauth_reset_limit address off;\n"
                   "clientauth_reset_limit account off;\n")

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def reset_conf(server="", **conf):
    """make_gateway() keyword arguments of a gateway with the reset
    endpoints; server adds directives to the server block."""
    conf.setdefault("locations", RESET_LOCATIONS)
    conf["server"] = server
    return conf


# ------------------------------------------------------------ outbox

def outbox(redis, key=OUTBOX, type=None):
    """The stream's messages, oldest first, as {field: value} (plus "_id");
    only those of one type when type is given."""
    if redis.call("EXISTS", key) == 0:
        return []
    messages = []
    for msg_id, fields in redis.call("XRANGE", key, "-", "+"):
        m = dict(zip(fields[0::2], fields[1::2]))
        m["_id"] = msg_id
        if type is None or m.get("type") == type:
            messages.append(m)
    return messages


def token_of(url):
    """The token= value of a reset link."""
    query = urllib.parse.urlsplit(url).query
    values = urllib.parse.parse_qs(query).get("token", [])
    assert len(values) == 1, url
    assert TOKEN_RE.match(values[0]), url
    return values[0]


def reset_key(token, brand=BRAND):
    return "ca:%s:reset:%s" % (brand, token_hash(token))


def fails_key(account, brand=BRAND):
    return "ca:%s:fails:account:%s" % (brand, account)


def history_key(account, user, brand=BRAND):
    return "ca:{%s:%s}:user:%s:history" % (brand, account, user)


def sessions_key(account, user, brand=BRAND):
    return "ca:{%s:%s}:user:%s:sessions" % (brand, account, user)


# ------------------------------------------------------------ requests

def ask(g, identifier, accept=JSON, headers=None):
    """POST /auth/reset with a form."""
    return g.post("/auth/reset", accept=accept, headers=headers,
                  data={"identifier": identifier})


def ask_link(g, identifier, key=OUTBOX):
    """Asks for a link; the token of the one password_reset message this
    request appended to the outbox."""
    before = len(outbox(g.redis, key, "password_reset"))
    r = ask(g, identifier)
    assert r.status_code == 202, (r.status_code, r.text)
    sent = outbox(g.redis, key, "password_reset")
    assert len(sent) == before + 1, ("no link sent", identifier, sent)
    return token_of(sent[-1]["url"])


def check_link(g, token, accept=JSON):
    """GET /auth/reset/confirm?token=T"""
    return g.get("/auth/reset/confirm?token=" + urllib.parse.quote(token),
                 accept=accept)


def confirm(g, token, password, password_confirm=None, accept=JSON,
            headers=None, timeout=10):
    """POST /auth/reset/confirm with a form; password_confirm defaults to
    the password."""
    if password_confirm is None:
        password_confirm = password
    return g.post("/auth/reset/confirm", accept=accept, headers=headers,
                  timeout=timeout,
                  data={"token": token, "password": password,
                        "password_confirm": password_confirm})


def change_password(g, identifier, password):
    """The whole flow: a link, then the new password (JSON client)."""
    token = ask_link(g, identifier)
    r = confirm(g, token, password)
    assert r.status_code == 200, (r.status_code, r.text)
    return token


def reset_bytes(port, identifier, accept=JSON, host=None, extra=()):
    """A form POST /auth/reset request's bytes, ending the connection."""
    body = urllib.parse.urlencode({"identifier": identifier}).encode()
    host = host or "%s:%d" % (HOST, port)
    lines = [b"POST /auth/reset HTTP/1.1",
             b"Host: " + host.encode(),
             b"Accept: " + accept.encode(),
             b"Content-Type: " + FORM.encode(),
             b"Content-Length: %d" % len(body)]
    lines += [x.encode() if isinstance(x, str) else x for x in extra]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def without_date(raw):
    """A raw response with its Date line taken out."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = [x for x in head.split(b"\r\n")
             if not x.lower().startswith(b"date:")]
    return b"\r\n".join(lines) + sep + body
