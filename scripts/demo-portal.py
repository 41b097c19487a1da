#!/usr/bin/python3
"""The demo customer portal behind ngx_clientauth.

A stand-in for the brands' customer areas: it has no login code of its own
and trusts the identity headers the gateway sets (X-Client-Account,
X-Client-User, X-Client-Brand, X-Client-Permissions).  That trust is only
sound because it listens on loopback and nothing but the gateway reaches it:
never expose a portal like this one directly.

Browsers get an HTML page (welcome, permissions, links to the billing and
domain pages, a logout form that posts to the gateway's /auth/logout);
clients sending "Accept: application/json" get the same facts as JSON.

Debian's python3 standard library only:

    /usr/bin/python3 scripts/demo-portal.py [--bind 127.0.0.1] [--port 9000]
"""

import argparse
import html
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# What the brands call their customer area, as in the seed help pages.
BRANDS = {
    "magic": ("Magic Online", "Área de clientes"),
    "nuxit": ("Nuxit / PhpNet", "Espace client"),
    "axarnet": ("Axarnet", "Área Cliente"),
    "xmundo": ("XMundo Networks", "Panel de Clientes"),
    "ovh": ("OVHcloud", "Área de cliente"),
    "magicjack": ("magicJack", "My magicJack"),
}

SECTIONS = {
    "/": "Dashboard",
    "/billing/": "Billing: invoices and payments",
    "/domains/": "Domains: DNS zones and transfers",
}

STYLE = """
body{font-family:sans-serif;background:#f4f5f7;margin:0;color:#222}
main{max-width:40rem;margin:3rem auto;background:#fff;padding:2rem;
border-radius:.5rem}
.brand{color:#666;text-transform:uppercase;font-size:.8rem;margin:0}
dt{font-weight:bold;margin-top:.6rem}dd{margin:0 0 0 1rem}
code{background:#eef;padding:0 .2rem}nav a{margin-right:1rem}
button{margin-top:1.2rem;padding:.5rem 1rem}
"""


def identity(headers):
    """The identity the gateway sent, None when there is none."""
    account = headers.get("X-Client-Account")
    user = headers.get("X-Client-User")
    brand = headers.get("X-Client-Brand")
    perms = headers.get("X-Client-Permissions")
    if not (account and user and brand):
        return None
    return {
        "account": account,
        "user": user,
        "brand": brand,
        "permissions": [p for p in (perms or "").split(",") if p],
    }


class Portal(BaseHTTPRequestHandler):
    server_version = "demo-portal/1"

    def do_GET(self):
        self.answer()

    def do_HEAD(self):
        self.answer(head=True)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 65536))
        self.answer()

    def answer(self, head=False):
        who = identity(self.headers)
        path = self.path.split("?", 1)[0]
        wants_json = "application/json" in (self.headers.get("Accept") or "")

        if who is None:
            # Only reachable by going around the gateway.
            status, facts = 401, {
                "ok": False,
                "error": "no_identity",
                "message": "No identity headers: this portal is only "
                           "reachable through the ngx_clientauth gateway.",
            }
        else:
            status = 200 if path in SECTIONS else 404
            facts = dict(who, ok=status == 200, path=path,
                         section=SECTIONS.get(path, "Not found"))
            facts["message"] = "Welcome, user %s of account %s (brand %s), " \
                "permissions %s" % (who["user"], who["account"],
                                    who["brand"],
                                    ",".join(who["permissions"]) or "none")

        if wants_json:
            body = (json.dumps(facts, ensure_ascii=False) + "\n").encode()
            ctype = "application/json"
        else:
            body = self.page(who, facts).encode()
            ctype = "text/html; charset=utf-8"

        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def page(self, who, facts):
        e = html.escape
        if who is None:
            return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                    "<title>No identity</title></head><body><p>%s</p>"
                    "</body></html>\n" % e(facts["message"]))

        name, area = BRANDS.get(who["brand"], (who["brand"], "Customer area"))
        perms = who["permissions"] or ["none"]
        return """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{area} · {name}</title><style>{style}</style></head><body><main>
<p class="brand">{name} · {area}</p>
<h1>{section}</h1>
<p>Welcome, user <code>{user}</code> of account <code>{account}</code>
(brand <code>{brand}</code>), permissions <code>{perms}</code>.</p>
<nav><a href="/">Dashboard</a><a href="/billing/">Billing</a>
<a href="/domains/">Domains</a></nav>
<dl><dt>Identity headers set by the gateway</dt>
<dd>X-Client-Account: {account}</dd><dd>X-Client-User: {user}</dd>
<dd>X-Client-Brand: {brand}</dd><dd>X-Client-Permissions: {rawperms}</dd>
</dl>
<form method="post" action="/auth/logout"><button type="submit">Log out</button></form>
</main></body></html>
""".format(area=e(area), name=e(name), style=STYLE,
           section=e(facts["section"]), user=e(who["user"]),
           account=e(who["account"]), brand=e(who["brand"]),
           perms=e(", ".join(perms)),
           rawperms=e(",".join(who["permissions"])))

    def log_message(self, fmt, *args):
        sys.stderr.write("demo-portal: %s %s\n" % (self.address_string(),
                                                   fmt % args))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    args = ap.parse_args()

    server = ThreadingHTTPServer((args.bind, args.port), Portal)
    server.daemon_threads = True

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print("demo-portal: listening on http://%s:%d/" % (args.bind, args.port),
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
