"""The hub's web server: pages for each role and a JSON API for a team's own tools.

Without a session every page answers 303 to ``/login`` and every ``/api/`` route 401; a state change
without this session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``) answers 403; a body
over ``MAX_BODY`` 413. Someone else's alert or person answers 404 (whether it exists is not said).
Every view of personal data and every action goes to the audit log.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from typing import Any, TypeVar

from aiohttp import web

from hub import auth, pages, store, views
from hub.db import Db

log = logging.getLogger("hearth.hub.web")
MAX_BODY = 16 * 1024
TOUCH_S = 60.0
COOKIE, LOGIN_COOKIE, CSRF_HEADER = "hearth_hub", "hearth_hub_login", "X-CSRF-Token"
PUBLIC = ("/login", "/static/hub.css", "/healthz", "/favicon.ico")
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                      "frame-ancestors 'none'; base-uri 'none'",
           "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}
T = TypeVar("T")
HUB: web.AppKey[Hub] = web.AppKey("hub")
SESSION: web.RequestKey[auth.Session] = web.RequestKey("session")


class Hub:
    """The web app's handles: the two database threads, the reply sender, the sign-in limiter."""

    def __init__(self, read_db: Db, write_db: Db, reply: Callable[[str, str, str, str, str | None], bool], *,
                 secure_cookies: bool = False, clock: Callable[[], float] = time.time):
        self.read_db, self.write_db = read_db, write_db
        self.reader = ThreadPoolExecutor(1, thread_name_prefix="hub-read")
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="hub-write")
        # Argon2 on its own thread: on the reader, 25 sign-ins from 25 addresses held every page 4.6 s
        self.hasher = ThreadPoolExecutor(1, thread_name_prefix="hub-argon2")
        self.reply = reply
        self.secure_cookies = secure_cookies
        self.clock = clock
        self.limiter = auth.LoginLimiter()
        self.link: Callable[[], dict[str, Any]] = dict  # the intake's broker link and counts (set by the service)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self.reader, fn, self.read_db, *args)

    async def check_login(self, name: str, password: str) -> auth.User | None:
        import asyncio

        row = await self.read(auth.login_row, name)
        return await asyncio.get_running_loop().run_in_executor(self.hasher, auth.verify_login, row, name, password)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self.writer, fn, self.write_db, *args)

    async def audit(self, name: str, action: str, home: str | None = None, person: str | None = None,
                    detail: str = "") -> None:
        """Queue one audit entry on the writer thread (in order, after what is queued there) without
        making the page wait for the intake's batch ahead of it; it is written within that batch's time."""
        at = self.clock()

        def do(db: Db) -> None:
            store.audit(db, at, name, action, home, person, detail)
            db.commit()
        self.writer.submit(do, self.write_db)


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")


def _from_proxy(request: web.Request) -> bool:
    """Whether the peer is this machine (the TLS proxy of ``hub.example.yaml``), whose headers are believed."""
    try:
        ip = ipaddress.ip_address(request.remote or "?")
    except ValueError:
        return False
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback  # ::ffff:127.0.0.1 on a dual-stack socket


def secure(request: web.Request) -> bool:
    """Cookies marked Secure: by ``secure_cookies``, or when the proxy says the browser came over https
    (a hub whose administrator forgot the setting sends no session cookie over plain http)."""
    return request.app[HUB].secure_cookies or (_from_proxy(request)
                                               and request.headers.get("X-Forwarded-Proto", "").lower() == "https")


def client_address(request: web.Request) -> str:
    """The address a sign-in came from. Behind the TLS proxy on this machine (``hub.example.yaml``:
    ``host: 127.0.0.1``) every request comes from loopback, so a per-address limit on ``request.remote``
    was one limit for the whole team: five wrong passwords from anywhere locked everyone out. From a
    loopback peer the last ``X-Forwarded-For`` entry (the one the proxy appended) is the address; from
    any other peer the header is the client's own word and is ignored."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip() if _from_proxy(request) else ""
    try:
        return str(ipaddress.ip_address(forwarded)) if forwarded else peer
    except ValueError:
        return peer


async def form(request: web.Request) -> dict[str, Any]:
    """The posted form's fields; a body that is not one (bytes that are not UTF-8) is an empty form,
    which every handler refuses in words, not a 500."""
    try:
        return dict(await request.post())
    except (UnicodeDecodeError, ValueError):
        return {}


def _api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    hub = request.app[HUB]
    try:
        response = await _guarded(request, handler, hub)
    except web.HTTPRequestEntityTooLarge:
        response = web.json_response({"error": "body too large"}, status=413)
    except web.HTTPException as exc:
        response = exc
    for k, v in HEADERS.items():
        response.headers[k] = v
    return response


async def _guarded(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                   hub: Hub) -> web.StreamResponse:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return web.json_response({"error": f"body over {MAX_BODY} bytes"}, status=413)
    if request.path in PUBLIC:
        return await handler(request)
    token = request.cookies.get(COOKIE)
    session = await hub.read(auth.session_of, token, hub.clock())
    if session is None:
        if _api(request):
            return web.json_response({"error": "sign in first"}, status=401)
        return see_other("/login")
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.content_type == "application/x-www-form-urlencoded":
            sent = (await form(request)).get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            await hub.audit(session.user.name, "refused: missing or wrong CSRF token", detail=request.path)
            return web.json_response({"error": "missing or wrong CSRF token"}, status=403)
    assert token is not None
    if hub.clock() - session.seen > TOUCH_S:  # idle time is kept to the minute, not written per request
        hub.writer.submit(auth.touch, hub.write_db, token, hub.clock())
    request[SESSION] = session
    return await handler(request)


def session_of(request: web.Request) -> auth.Session:
    return request[SESSION]


# ---- signing in and out ---------------------------------------------------------------------------

async def login_page(request: web.Request) -> web.Response:
    # the same token for every tab and every redirect here (a browser's favicon request lands here too)
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if not (20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(24)
    resp = _html(pages.login(login_token=token))
    resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", secure=secure(request),
                    max_age=1800)
    return resp


async def login_post(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    posted = await form(request)
    cookie_token = request.cookies.get(LOGIN_COOKIE, "")
    sent = posted.get("login_token")
    if not cookie_token or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), cookie_token.encode()):
        return _html(pages.login("Your sign-in page was out of date; please try again."), 403)
    name, password = posted.get("name"), posted.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or len(name) > auth.MAX_NAME or len(password) > 1024:
        return _html(pages.login("Give your name and password.", cookie_token), 400)
    address = client_address(request)
    keys = [f"name:{name.lower()}", f"addr:{address}"]
    now = hub.clock()
    if not hub.limiter.take(keys, now):  # counted before the check: attempts sent at once wait their turn
        await hub.audit(name, "refused: too many sign-in attempts", detail=address)
        return _html(pages.login("Too many attempts. Wait 15 minutes.", cookie_token),
                     429)
    user = await hub.check_login(name, password)
    if user is None:
        await hub.audit(name, "refused: wrong name or password", detail=address)
        return _html(pages.login("That name and password do not match.", cookie_token), 401)
    hub.limiter.succeeded(keys, now)
    token = await hub.write(auth.start_session, user, now)
    await hub.audit(user.name, "signed in", detail=address)
    resp = see_other("/")
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure(request), path="/")
    resp.del_cookie(LOGIN_COOKIE)
    return resp


async def logout(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    await hub.write(auth.end_session, request.cookies.get(COOKIE, ""))
    await hub.audit(session_of(request).user.name, "signed out")
    resp = see_other("/login")
    resp.del_cookie(COOKIE, path="/")
    return resp


async def password_page(request: web.Request) -> web.Response:
    s = session_of(request)
    return _html(pages.password(s.user, s.csrf))


async def password_post(request: web.Request) -> web.Response:
    """A new password: the current one is asked (a borrowed phone's open session is not enough) and
    counted like a sign-in; every other session of the account ends, this browser gets a new one."""
    hub, s = request.app[HUB], session_of(request)
    posted = await form(request)
    current, new, again = (posted.get(k) for k in ("current", "new", "again"))
    if not all(isinstance(v, str) and len(v) <= 1024 for v in (current, new, again)):
        return _html(pages.password(s.user, s.csrf, "Give your password now and the new one twice."), 400)
    keys = [f"name:{s.user.name.lower()}", f"addr:{client_address(request)}"]
    now = hub.clock()
    if not hub.limiter.take(keys, now):
        await hub.audit(s.user.name, "refused: too many password attempts")
        return _html(pages.password(s.user, s.csrf, "Too many attempts. Wait 15 minutes."), 429)
    if await hub.check_login(s.user.name, current) is None:
        await hub.audit(s.user.name, "refused: wrong password to change it")
        return _html(pages.password(s.user, s.csrf, "That is not your password now."), 401)
    hub.limiter.succeeded(keys, now)
    if new != again or len(str(new)) < auth.MIN_PASSWORD:
        why = "The two new ones differ." if new != again else f"A password needs {auth.MIN_PASSWORD} characters or more."
        return _html(pages.password(s.user, s.csrf, why), 400)
    await hub.write(auth.set_password, s.user.name, new)
    token = await hub.write(auth.start_session, s.user, now, s)
    await hub.audit(s.user.name, "changed their password (every other session ended)")
    resp = see_other("/")
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure(request), path="/")
    return resp


async def favicon(_request: web.Request) -> web.Response:
    return web.Response(status=204)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def static(_request: web.Request) -> web.Response:
    return web.Response(text=files("hub").joinpath("web/hub.css").read_text(encoding="utf-8"), content_type="text/css")


def make_app(hub: Hub) -> web.Application:
    from hub import handlers

    app = web.Application(client_max_size=MAX_BODY, middlewares=[guard])
    app[HUB] = hub
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
    app.router.add_get("/password", password_page)
    app.router.add_post("/password", password_post)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/static/hub.css", static)
    handlers.add_routes(app)
    return app


__all__ = ["HUB", "Hub", "make_app", "pages", "session_of", "views"]
