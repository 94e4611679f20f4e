"""Keep other web pages away from the app: same-origin checks on every request, HttpOnly cookie.

A page from another site that a student has open (or a page on another port of the same
machine) can make the student's browser open a WebSocket to the app and drive a session, or
send it HTTP requests; browsers do not apply the same-origin policy to WebSockets. Solara's
server (Starlette under uvicorn) accepts any ``Origin``. :class:`OriginGuard` is an ASGI
middleware that refuses, before Solara sees them:

* a request whose ``Host`` is not the address the app is served on (the local address the
  connection arrived at; for a loopback address also ``localhost``, ``127.0.0.1``, ``[::1]`` and
  the "any address" names ``0.0.0.0`` and ``[::]`` that a server bound to all interfaces prints;
  plus any name listed in ``GEOGAME_ALLOWED_HOSTS``). This stops DNS rebinding, where a
  foreign name is made to resolve to the app's address;
* a request or WebSocket handshake whose ``Origin`` is not one of those same addresses
  (``Origin: null`` included). Requests without ``Origin`` (a typed URL, a link, ``curl``) pass;
* a request that the browser marks as made by another site or port (``Sec-Fetch-Site`` other
  than ``same-origin``/``none``) unless it is a top-level navigation, so a link to the app from a
  class web page still opens it, but an image, script, fetch or frame from there does not load.

Refused HTTP requests get ``403`` with a one-line text; refused WebSockets are closed before
the handshake completes (uvicorn answers ``403``). Every HTTP response also says
``Content-Security-Policy: frame-ancestors 'self'`` and ``X-Frame-Options: SAMEORIGIN`` so
no other page can frame the app.

:func:`install` puts the guard in front of Solara's Starlette app and turns on Solara's own
``SOLARA_SESSION_HTTP_ONLY`` setting, so the session cookie is ``HttpOnly`` (Solara's page
script does not read it). ``viz/app.py`` calls it on import; it does nothing outside a Solara
server (component tests, scripts).
"""
from __future__ import annotations

import ipaddress
import logging
import os
import sys
import urllib.parse
from collections.abc import Iterable

logger = logging.getLogger("geogame.security")

ALLOWED_HOSTS_ENV = "GEOGAME_ALLOWED_HOSTS"
# how a browser on the server machine may name it; 0.0.0.0 and [::] because `solara run --host
# 0.0.0.0` prints that address, and a browser that opens it connects to the loopback interface
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "0.0.0.0", "::")
FRAME_HEADERS = [(b"content-security-policy", b"frame-ancestors 'self'"),
                 (b"x-frame-options", b"SAMEORIGIN")]
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _norm_host(host: str) -> str:
    """Lower-case host name or address without IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_authority(authority: str, scheme: str) -> tuple[str, int] | None:
    """``host[:port]`` (as in a Host header) -> (host, port); None if it cannot be parsed."""
    try:
        parts = urllib.parse.urlsplit(f"//{authority.strip()}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return _norm_host(host), port if port is not None else DEFAULT_PORTS.get(scheme, 80)


def extra_hosts_from_env(environ=os.environ) -> list[str]:
    """Host names (``name`` or ``name:port``) listed, comma-separated, in ``GEOGAME_ALLOWED_HOSTS``."""
    return [h.strip() for h in environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip()]


def allowed_addresses(server: tuple[str, int] | None, extra_hosts: Iterable[str] = ()) -> set[tuple[str, int]]:
    """The (host, port) pairs under which the app may be addressed.

    ``server`` is the local (address, port) the connection arrived at (the ASGI scope's
    ``server``): with ``--host 0.0.0.0`` that is the class-network address the students typed.
    A loopback address also allows the other loopback names; ``extra_hosts`` adds names
    (``name`` means the server's port).
    """
    allowed: set[tuple[str, int]] = set()
    if server is None:  # e.g. a unix socket: fall back to what `solara run` was given
        name, port = os.environ.get("SERVER_NAME"), os.environ.get("SERVER_PORT")
        server = (name, int(port)) if name and port and port.isdigit() else None
    port = None
    if server is not None:
        host, port = _norm_host(str(server[0])), int(server[1])
        allowed.add((host, port))
        if is_loopback(host):
            allowed.update((name, port) for name in LOOPBACK_NAMES)
    for item in extra_hosts:
        parsed = _split_authority(item, "http")
        if parsed is None:
            continue
        name = parsed[0]
        has_port = urllib.parse.urlsplit(f"//{item.strip()}").port is not None
        if has_port:
            allowed.add(parsed)
        elif port is not None:
            allowed.add((name, port))
    return allowed


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers") or []:
        k = key.decode("latin-1").lower()
        v = value.decode("latin-1")
        out[k] = out[k] + "," + v if k in out else v  # repeated headers are joined, as in HTTP
    return out


def refusal(scope, extra_hosts: Iterable[str] = ()) -> str | None:
    """Why this HTTP request or WebSocket handshake must be refused, or None if it may pass."""
    if scope.get("type") not in ("http", "websocket"):
        return None
    headers = _headers(scope)
    scheme = scope.get("scheme", "http")
    allowed = allowed_addresses(scope.get("server"), extra_hosts)
    host = headers.get("host")
    if host is None or "," in host:
        return "no single Host header"
    parsed = _split_authority(host, scheme)
    if parsed is None or parsed not in allowed:
        return "the Host header is not an address this app is served on"
    origin = headers.get("origin")
    if origin is not None:
        try:
            o = urllib.parse.urlsplit(origin.strip())
            o_addr = (_norm_host(o.hostname or ""), o.port or DEFAULT_PORTS.get(o.scheme, -1))
        except ValueError:
            return "the Origin header cannot be parsed"
        if o.scheme not in ("http", "https") or o_addr not in allowed:
            return "the request comes from another origin"
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        navigate = headers.get("sec-fetch-mode") == "navigate"
        framed = headers.get("sec-fetch-dest") in ("iframe", "frame", "embed", "object", "fencedframe")
        if not navigate or framed:
            return "the browser says another site or port made this request"
    return None


class OriginGuard:
    """ASGI middleware: refuse requests from other origins (see the module docstring)."""

    def __init__(self, app, extra_hosts: Iterable[str] | None = None):
        self.app = app
        self.extra_hosts = list(extra_hosts) if extra_hosts is not None else extra_hosts_from_env()

    async def __call__(self, scope, receive, send):
        """Pass the request on to the app, or refuse it; add the anti-framing headers."""
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = refusal(scope, self.extra_hosts)
        if reason is not None:
            client = scope.get("client") or ("?", 0)
            logger.warning("refused %s %s from %s: %s", kind, scope.get("path", ""), client[0], reason)
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": ""})
                return
            body = (f"Refused: {reason}. Open the app at its own address; on a class network the "
                    f"teacher can allow another name with {ALLOWED_HOSTS_ENV}.\n").encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode()),
                                    (b"x-content-type-options", b"nosniff"), *FRAME_HEADERS]})
            await send({"type": "http.response.body", "body": body})
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_frame_headers(message):
            if message.get("type") == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in FRAME_HEADERS if h[0] not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_frame_headers)


def install(app=None) -> bool:
    """Put :class:`OriginGuard` in front of Solara's Starlette app and make its cookie HttpOnly.

    ``app`` defaults to ``solara.server.starlette.app`` when the Solara server is running in
    this process; otherwise (component tests, scripts) nothing happens and False is returned.
    Safe to call again (the app module runs again on hot reload): the guard is added once.
    Solara builds its middleware stack when the server starts, before it runs the app module,
    so the stack is rebuilt here with the guard outermost.
    """
    if app is None:
        module = sys.modules.get("solara.server.starlette")
        if module is None:
            return False
        app = module.app
    import solara.server.settings as solara_settings
    from starlette.middleware import Middleware

    solara_settings.session.http_only = True  # SOLARA_SESSION_HTTP_ONLY: the page's JS never reads it
    if not any(getattr(m.cls, "__name__", "") == OriginGuard.__name__ for m in app.user_middleware):
        app.user_middleware.insert(0, Middleware(OriginGuard))
        if app.middleware_stack is not None:
            app.middleware_stack = app.build_middleware_stack()
    return True
