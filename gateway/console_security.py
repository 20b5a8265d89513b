"""What keeps other web pages out of the technicians' console.

The console has no login: reaching it at all (SSH port forwarding to a loopback port, or the home's
own network when a technician binds it there) is the authority. That makes the *technician's browser*
the thing to defend: any page open in it can send requests to ``http://127.0.0.1:8080``. So:

- **Host** (every request): DNS rebinding makes a page on ``evil.example`` talk to the console with
  ``Host: evil.example``. Rebinding needs a *name* the attacker controls, so the console serves only a
  Host that no attacker can point at it: ``localhost``, an IP literal (``127.0.0.1``, ``[::1]``, the
  Pi's LAN address when bound to ``0.0.0.0``), or the configured bind host itself. Any port is
  accepted, because with ``ssh -L 9000:127.0.0.1:8080`` the browser sends ``Host: localhost:9000``.
  Otherwise 421 and nothing is done.
- **State changes** (every POST/PUT/PATCH/DELETE): an ``Origin`` (or, absent, ``Referer``) header must
  be this very origin; the body must be ``application/json`` (415 otherwise: a cross-origin
  ``text/plain`` or form POST is a "simple" request a browser sends without asking, JSON is not); and
  the header ``X-Hearth-CSRF`` must carry this process's token (compared in constant time). The page
  gets the token embedded in its HTML; tools get it from ``GET /api/csrf``. Both are readable only
  same-origin (no CORS headers, and the Host check stops rebinding). A route authenticated by its own
  HMAC signature (the demo inbox's webhook) is marked with :func:`signed_by_hmac` and skips the token.
- **Password** (every request, when ``console.password_file`` is set; required when the console is
  bound anywhere but loopback, see ``ConsoleConfig``): HTTP Basic, any user name, the password compared
  in constant time; 401 without it, and after ``PASSWORD_TRIES`` wrong ones from one address in
  ``PASSWORD_WINDOW_S`` 429 for that address (the right one too) until the window has passed.
- **Headers** (every response): no framing, a CSP the page works under (no inline script or style),
  ``nosniff``, no referrer, ``no-store`` (the page carries the token).

Every refusal is counted per reason (``/api/status`` -> ``console.refused``) and logged.

>>> host_allowed("localhost:9000", bind_host="127.0.0.1")
True
>>> host_allowed("evil.example:8080", bind_host="127.0.0.1")
False
>>> host_allowed("[::1]:8080", bind_host="127.0.0.1"), host_allowed("hearth.local", bind_host="hearth.local")
(True, True)
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import logging
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from yarl import URL

log = logging.getLogger("hearth.console")

TOKEN_HEADER = "X-Hearth-CSRF"
MAX_BODY = 64 * 1024  # the largest legitimate body is a demo webhook of a few kB
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>\d{1,5}))?$")
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})
PASSWORD_TRIES, PASSWORD_WINDOW_S = 10, 900.0
ASK = {"WWW-Authenticate": 'Basic realm="Hearth console", charset="UTF-8"'}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Guard:
    """The per-process token, the bind host and the refusal counts of one console app."""

    def __init__(self, bind_host: str, password: str | None = None) -> None:
        self.bind_host = bind_host
        self.password = password  # None: none asked (loopback); "" (an empty file): nobody gets in
        self.token = secrets.token_urlsafe(32)
        self.refused: Counter[str] = Counter()
        self.wrong: dict[str, deque[float]] = {}  # address -> times of wrong passwords in the window

    def check_password(self, request: web.Request) -> web.Response | None:
        """None when the request carries the console's password (or none is asked); else the 401/429."""
        if self.password is None:
            return None
        where, now = request.remote or "?", time.monotonic()
        tries = self.wrong.get(where, deque())
        while tries and now - tries[0] > PASSWORD_WINDOW_S:
            tries.popleft()
        if len(tries) >= PASSWORD_TRIES:
            return self.refuse("password_tries", 429, f"{PASSWORD_TRIES} wrong console passwords from "
                               f"{where}: wait {PASSWORD_WINDOW_S / 60:.0f} minutes", request)
        given = _basic_password(request.headers.get("Authorization", ""))
        if given is not None and self.password and hmac.compare_digest(given.encode(), self.password.encode()):
            return None
        if given is None:
            response = self.refuse("no_password", 401, "this console asks for its password", request)
        else:
            if len(self.wrong) > 10_000:  # a spray of addresses must not grow memory without bound
                self.wrong = {a: q for a, q in self.wrong.items() if q and now - q[-1] <= PASSWORD_WINDOW_S}
            self.wrong[where] = tries
            tries.append(now)
            response = self.refuse("wrong_password", 401, "wrong console password", request)
        response.headers.update(ASK)
        return response

    def refuse(self, reason: str, status: int, message: str, request: web.Request) -> web.Response:
        self.refused[reason] += 1
        if self.refused[reason] in (1, 10) or self.refused[reason] % 100 == 0:  # an attack must not flood the log
            log.warning("console refused a request: %s", message, extra={"ctx": {
                "reason": reason, "times": self.refused[reason], "method": request.method, "path": request.path,
                "host": request.headers.get("Host"), "origin": request.headers.get("Origin")}})
        return error(status, message)


GUARD_KEY: web.AppKey[Guard] = web.AppKey("console_guard", Guard)


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def signed_by_hmac(handler: Handler) -> Handler:
    """Mark a route whose requests carry their own HMAC signature (checked by the handler): no CSRF token."""
    handler.signed_by_hmac = True  # type: ignore[attr-defined]
    return handler


def _basic_password(header: str) -> str | None:
    """The password of an HTTP Basic ``Authorization`` header (the user name is not asked), or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] if ":" in decoded else None


def _split_host(value: str) -> tuple[str, int | None] | None:
    m = _HOST.match(value.strip())
    if m is None:
        return None
    return (m["v6"] or m["name"]).lower(), int(m["port"]) if m["port"] else None


def host_allowed(value: str | None, *, bind_host: str) -> bool:
    """Whether a Host header names the console in a way DNS rebinding cannot fake (see the module doc)."""
    parts = _split_host(value or "")
    if parts is None:
        return False
    name = parts[0]
    if name == "localhost" or (bind_host.lower() not in _WILDCARDS and name == bind_host.lower()):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    try:
        u = URL(url)
    except ValueError:
        return None
    if not u.absolute or u.host is None:
        return None
    return u.scheme.lower(), u.host.lower(), u.port


def same_origin(request: web.Request) -> str | None:
    """None when the request's Origin (else Referer) is this console or absent (a tool, not a browser);
    else what is wrong."""
    claimed, header = request.headers.get("Origin"), "Origin"
    if claimed is None:
        claimed, header = request.headers.get("Referer"), "Referer"
    if claimed is None:
        return None
    parts = _split_host(request.headers.get("Host", ""))
    here = None if parts is None else (request.scheme, parts[0], parts[1] or URL(f"{request.scheme}://x").port)
    there = _origin_of(claimed)
    if there is None or there != here:
        return f"cross-origin request refused ({header}: {claimed[:100]})"
    return None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The Host check on every request; origin, JSON and token checks on every state change."""
    g = request.app[GUARD_KEY]
    if not host_allowed(request.headers.get("Host"), bind_host=g.bind_host):
        return g.refuse("foreign_host", 421, f"this console is not served as {request.headers.get('Host', '')[:100]!r}; "
                        "open it as http://localhost:PORT/ or http://127.0.0.1:PORT/", request)
    signed = getattr(request.match_info.handler, "signed_by_hmac", False)
    locked = None if signed else g.check_password(request)
    if locked is not None:
        return locked
    if request.method not in UNSAFE_METHODS:
        return await handler(request)
    wrong = same_origin(request)
    if wrong is not None:
        return g.refuse("cross_origin", 403, wrong, request)
    if request.content_type != "application/json":
        return g.refuse("not_json", 415, f"send Content-Type: application/json, not {request.content_type!r}", request)
    if signed:
        return await handler(request)
    sent = request.headers.get(TOKEN_HEADER)
    if not sent:
        return g.refuse("no_token", 403, f"missing CSRF token: send header {TOKEN_HEADER} (the page has it; "
                        "tools GET /api/csrf)", request)
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), g.token.encode()):
        return g.refuse("bad_token", 403, f"CSRF token in {TOKEN_HEADER} does not match this console's "
                        "(it changes when the gateway restarts: reload the page)", request)
    return await handler(request)


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


async def json_object(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's body as a JSON object, or the 400/413 response saying why not. NaN and Infinity
    literals are refused here; a number too big for a float (``1e400``) becomes ``inf`` and is left to
    the caller's finiteness check."""
    try:
        text = await request.text()
    except web.HTTPRequestEntityTooLarge:
        return error(413, f"request body larger than {MAX_BODY} bytes")
    except UnicodeDecodeError as exc:
        return error(400, f"body is not UTF-8 (byte {exc.start})")
    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        return error(400, f"body is not JSON: {exc}"[:200])
    if not isinstance(body, dict):
        return error(400, "body must be a JSON object")
    return body


def protect(app: web.Application, bind_host: str, password: str | None = None) -> Guard:
    """Install the guard and the headers on ``app`` (make it with ``client_max_size=MAX_BODY``)."""
    app[GUARD_KEY] = g = Guard(bind_host, password)
    app.middlewares.append(guard)
    app.on_response_prepare.append(_security_headers)
    return g
