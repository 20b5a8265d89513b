"""Accounts, sessions and sign-in limits.

Passwords are hashed with Argon2id (memory-hard: 64 MiB, 3 passes), never stored or logged as such.
A session is a random token in an HttpOnly, SameSite=Strict cookie; only its SHA-256 is stored, with
its own CSRF token that every state change must carry. Sessions end after ``IDLE_S`` without use or
``MAX_S`` in all. Sign-in is limited per account and per address (``LoginLimiter``).

>>> h = hash_password("correct horse battery")
>>> verify_password(h, "correct horse battery"), verify_password(h, "wrong")
(True, False)
"""

from __future__ import annotations

import hashlib
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hub.db import Db

ROLES = ("worker", "circle", "technician")
IDLE_S = 8 * 3600  # a shift
MAX_S = 24 * 3600
MIN_PASSWORD = 10
MAX_NAME = 80  # a home takes a worker's action only when its name is 1-80 printable characters
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
_DUMMY = _HASHER.hash("an account that does not exist")  # unknown names take as long as known ones


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class User:
    name: str
    role: str
    home: str | None  # a Circle member's home
    recipient: str | None  # a Circle member's recipient id in that home's config
    team: tuple[str, ...] | None = None  # a worker's homes (None: every home on this hub)


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    previous_visit: float | None  # when this account last signed in before (the handover starts there)
    seen: float = 0.0  # when the session was last used (kept to the minute)


def add_user(db: Db, name: str, role: str, password: str, now: float, home: str | None = None,
             recipient: str | None = None, team: list[str] | None = None) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not (0 < len(name) <= MAX_NAME and name.isprintable() and name == name.strip()):
        raise ValueError(f"a name is 1 to {MAX_NAME} printable characters, without spaces around it, not {name!r}")
    if role == "circle" and not (home and recipient):
        raise ValueError("a Circle member needs --home and --recipient (their id in that home's config)")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if db.one("SELECT 1 FROM users WHERE name=?", (name,)):
        raise ValueError(f"there is already an account named {name!r}")
    db.execute("INSERT INTO users (name, role, hash, home, recipient, team, created) VALUES (?,?,?,?,?,?,?)",
               (name, role, hash_password(password), home, recipient, ",".join(team) if team else None, now))
    db.commit()


def set_password(db: Db, name: str, password: str) -> None:
    """A new password for ``name``, and every session of that account ends (a stolen cookie with them)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if db.one("SELECT 1 FROM users WHERE name=?", (name,)) is None:
        raise ValueError(f"there is no account named {name!r}")
    db.execute("UPDATE users SET hash=? WHERE name=?", (hash_password(password), name))
    db.execute("DELETE FROM sessions WHERE name=?", (name,))
    db.commit()


def remove_user(db: Db, name: str) -> None:
    """The account and every session of it, gone (someone who left the team, a Circle member no longer)."""
    if db.one("SELECT 1 FROM users WHERE name=?", (name,)) is None:
        raise ValueError(f"there is no account named {name!r}")
    db.execute("DELETE FROM sessions WHERE name=?", (name,))
    db.execute("DELETE FROM users WHERE name=?", (name,))
    db.commit()


def check_login(db: Db, name: str, password: str) -> User | None:
    return verify_login(login_row(db, name), name, password)


def login_row(db: Db, name: str) -> tuple[Any, ...] | None:
    """The account's row for :func:`verify_login` (a quick read; the slow part is the hash)."""
    return db.one("SELECT role, hash, home, recipient, team FROM users WHERE name=?", (name,))


def verify_login(row: tuple[Any, ...] | None, name: str, password: str) -> User | None:
    """Argon2's ~0.1 s of work, with no database: the web app runs it on its own thread."""
    if row is None:
        verify_password(_DUMMY, password)
        return None
    role, stored, home, recipient, team = row
    return User(name, role, home, recipient, _team(team)) if verify_password(stored, password) else None


def _team(text: str | None) -> tuple[str, ...] | None:
    return tuple(text.split(",")) if text else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Db, user: User, now: float, carry: Session | None = None) -> str:
    """A new session (a new token and CSRF token); ``carry``: the session it replaces in the same visit
    (a password change), whose "last visit" the handover still starts from."""
    token = secrets.token_urlsafe(32)
    last = (carry.previous_visit,) if carry else db.one("SELECT last_visit FROM users WHERE name=?", (user.name,))
    db.execute("INSERT INTO sessions (token_hash, name, csrf, created, seen, previous_visit) VALUES (?,?,?,?,?,?)",
               (_digest(token), user.name, secrets.token_urlsafe(32), now, now, last[0] if last else None))
    if carry is None:
        db.execute("UPDATE users SET last_visit=? WHERE name=?", (now, user.name))
    db.execute("DELETE FROM sessions WHERE seen < ? OR created < ?", (now - IDLE_S, now - MAX_S))
    db.commit()
    return token


def session_of(db: Db, token: str | None, now: float) -> Session | None:
    if not token or len(token) > 100:
        return None
    row = db.one("SELECT s.csrf, s.created, s.seen, s.previous_visit, u.name, u.role, u.home, u.recipient, u.team "
                 "FROM sessions s JOIN users u ON u.name = s.name WHERE s.token_hash=?", (_digest(token),))
    if row is None:
        return None
    csrf, created, seen, previous, name, role, home, recipient, team = row
    if now - seen > IDLE_S or now - created > MAX_S:
        return None
    return Session(User(name, role, home, recipient, _team(team)), csrf, previous, seen)


def touch(db: Db, token: str, now: float) -> None:
    db.execute("UPDATE sessions SET seen=? WHERE token_hash=?", (now, _digest(token)))
    db.commit()


def end_session(db: Db, token: str) -> None:
    db.execute("DELETE FROM sessions WHERE token_hash=?", (_digest(token),))
    db.commit()


class LoginLimiter:
    """At most ``attempts`` sign-ins per account and per address in ``window_s`` that were not
    successes; then 429.

    An attempt is counted when it *starts* (:meth:`take`), before its password is checked, and
    forgiven only when it succeeds: checking takes Argon2's time on another thread, and counting on
    failure let forty guesses sent at once all be checked before the first was counted."""

    def __init__(self, attempts: int = 5, window_s: float = 900.0, max_keys: int = 10_000):
        self.attempts = attempts
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, keys: list[str], now: float) -> bool:
        return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def take(self, keys: list[str], now: float) -> bool:
        """Count an attempt starting now, or False (nothing counted) when one of ``keys`` is spent.
        Called with no ``await`` between the check and the count, so concurrent attempts queue up."""
        if self.blocked(keys, now):
            return False
        self.failed(keys, now)
        return True

    def failed(self, keys: list[str], now: float) -> None:
        if len(self._failures) > self.max_keys:  # a spray of names must not grow memory without bound
            self._failures = {k: q for k, q in self._failures.items() if q and now - q[-1] <= self.window_s}
        for k in keys:
            self._recent(k, now).append(now)

    def succeeded(self, keys: list[str], started: float) -> None:
        """The attempt taken at ``started`` was right: the account's count ends, and the address is
        given back that one attempt (its earlier failures stay)."""
        self._failures.pop(keys[0], None)
        for k in keys[1:]:
            q = self._failures.get(k)
            if q is not None and started in q:
                q.remove(started)
