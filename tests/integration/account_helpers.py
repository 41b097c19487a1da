"""Support for the accounts, sub-users and permissions tests
(test_accounts.py).

- start_accounts_gateway(): the harness's gateway (brand magic, with
  /billing/ needing billing) plus /billing-tech/ needing billing and
  technical, and two more server blocks sharing the brand nuxit (Nuxit and
  its acquired PhpNet), each on its own loopback port.
- add(): clientauthctl user add in any brand, owner or sub-user.
- identity(): the X-Client-* headers the portal received.
- legacy password hashes for user import.
"""

import re
import threading
import warnings

import requests

from helpers import (BRAND, CTL_COST, HOST, JSON, Gateway, Nginx,
                     check_logs, ctl, free_port, gateway_conf, identity_of,
                     wait_until)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt                                  # Python 3.11: present

ALIAS_BRAND = "nuxit"

ALIAS_SERVER = """
    server {{
        listen {host}:{port};
        server_name {name};
        clientauth_brand nuxit;
        clientauth_identifiers email;
        location = /auth/login  {{ clientauth_login; }}
        location = /auth/logout {{ clientauth_logout; }}
        location / {{
            clientauth on;
            proxy_pass http://{backend};
        }}
    }}
"""

BOTH_LOCATION = """
        location /billing-tech/ {{
            clientauth on;
            clientauth_require billing technical;
            proxy_pass http://{backend};
        }}
"""


# ------------------------------------------------------------ gateway

def start_accounts_gateway(workdir, redis, backend):
    """nginx with the magic server (harness template, plus /billing-tech/)
    and the nuxit and phpnet servers (brand nuxit); the Gateway has
    nuxit_port and phpnet_port besides its port (magic)."""
    be = "%s:%d" % (HOST, backend.port)
    port, nuxit, phpnet = free_port(), free_port(), free_port()
    aliases = "".join(ALIAS_SERVER.format(host=HOST, port=p, name=name,
                                          backend=be)
                      for name, p in (("nuxit", nuxit), ("phpnet", phpnet)))
    text = gateway_conf(workdir, port, redis.port, backend.port,
                        http=aliases,
                        locations=BOTH_LOCATION.format(backend=be))
    nginx = Nginx(workdir, text, port).start(workers=1)
    g = Gateway(nginx, redis, backend)
    g.nuxit_port = nuxit
    g.phpnet_port = phpnet
    return g


def stop_gateway(g):
    """Stops nginx and fails on [alert]/[crit]/... left in its log."""
    try:
        g.nginx.stop()
    finally:
        if g.nginx in Nginx.registry:
            Nginx.registry.remove(g.nginx)
    check_logs([g.nginx])


# ------------------------------------------------------------ accounts

class User:
    def __init__(self, brand, email, password, account, user, perms):
        self.brand = brand
        self.email = email
        self.password = password
        self.account = account
        self.user = user
        self.perms = perms

    @property
    def key(self):
        return user_key(self.account, self.user, self.brand)


def user_key(account, user, brand=BRAND):
    return "ca:{%s:%s}:user:%s" % (brand, account, user)


def show(redis, identifier, brand=BRAND):
    """clientauthctl user show: its "key: value" lines as a dict."""
    out = ctl(redis, "user", "show", brand, identifier).stdout
    return dict(line.split(": ", 1) for line in out.splitlines())


def add(redis, email, password, perms=(), parent=None, brand=BRAND,
        cost=CTL_COST):
    """clientauthctl user add BRAND [--parent P] --email E [--perm ...]
    --password-stdin: the new User."""
    args = ["user", "add", brand]
    if parent is not None:
        args += ["--parent", parent]
    args += ["--email", email]
    for p in perms:
        args += ["--perm", p]
    args.append("--password-stdin")
    out = ctl(redis, *args, password=password, cost=cost).stdout
    m = re.fullmatch(r"account (\d+) user (\d+)\n", out)
    assert m, out
    return User(brand, email, password, m.group(1), m.group(2),
                show(redis, email, brand)["perms"])


def stored_hash(redis, u):
    return redis.call("HGET", u.key, "hash")


# ------------------------------------------------------------ requests

def identity(response):
    """{header: value} of the X-Client-* headers the echoing portal
    received (each must come once)."""
    found = identity_of(response.json()["headers"])
    for name, values in found.items():
        assert len(values) == 1, (name, values)
    return {name: values[0] for name, values in found.items()}


def url(port, path):
    return "http://%s:%d%s" % (HOST, port, path)


def brand_login(port, email, password):
    """A form login (JSON client) on another server: the response."""
    return requests.post(url(port, "/auth/login"), headers={"Accept": JSON},
                         data={"identifier": email, "password": password},
                         allow_redirects=False, timeout=10)


def brand_get(port, path, cookie_name, token):
    return requests.get(url(port, path),
                        headers={"Accept": JSON,
                                 "Cookie": "%s=%s" % (cookie_name, token)},
                        allow_redirects=False, timeout=10)


def set_cookie_token(response, cookie_name):
    setc = response.headers.get("Set-Cookie", "")
    m = re.match(r"%s=([A-Za-z0-9_-]{43});" % re.escape(cookie_name), setc)
    assert m, setc
    return m.group(1)


# ------------------------------------------------------------ hashes

def bcrypt_hash(password, cost=4):
    """$2b$, cost 4 (quick) unless told."""
    h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                           rounds=1 << cost))
    assert h.startswith("$2b$%02d$" % cost), h
    return h


def sha512_crypt_hash(password):
    h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
    assert h.startswith("$6$"), h
    return h


def argon2id_hash(redis, password, brand="scratch"):
    """A hash made by clientauthctl (the test cost, 1:8) for a throwaway
    user of another brand, whose keys are then deleted."""
    u = add(redis, "scratch@example.com", password, brand=brand)
    h = stored_hash(redis, u)
    assert h.startswith("$argon2id$"), h
    for pattern in ("ca:%s:*", "ca:{%s:*"):
        for key in redis.call("KEYS", pattern % brand):
            redis.call("DEL", key)
    return h


# ------------------------------------------------------------ races

SLOW_COST = "4:64"      # argon2id t=4, m=64 MiB: a verification that lasts
                        # (the costliest the cost bounds allow next to t=1)


def login_in_flight(g, email, password):
    """Starts a login in a thread and returns once the gateway has read the
    user (its one HMGET) and is verifying the password in the thread pool;
    returns a function that waits for the response and returns it, and
    one that tells whether the login has answered yet."""
    before = g.redis.commandstats().get("hmget", 0)
    result = {}

    def run():
        try:
            result["r"] = g.login(email, password, timeout=30)
        except Exception as e:                  # re-raised by wait()
            result["e"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    wait_until(lambda: g.redis.commandstats().get("hmget", 0) > before
               or not t.is_alive(), 10, "the login to read the user")
    assert t.is_alive(), ("the login answered before the test could act: "
                          "%r" % result)

    def wait():
        t.join(30)
        assert not t.is_alive(), "the login hung"
        if "e" in result:
            raise result["e"]
        return result["r"]
    return wait, t.is_alive
