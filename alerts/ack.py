"""Signed acknowledgements: "I have it in hand", pressed on a locked phone, checked by the home.

A notification carries an **Acknowledge** button whose body is a token the home signed when it sent the
alert: HMAC-SHA256, with the home's secret, over the alert key, the recipient, an expiry time and a random
nonce. The phone publishes the token (as is) to a reply topic the gateway subscribes to, so the person
pressing needs no sign-in and the home needs no open port. The gateway accepts a token once: unsigned,
tampered, expired or replayed tokens are refused and logged (never with the secret).

>>> signer = AckSigner(b"home-secret-of-at-least-16-bytes")
>>> token = signer.issue("p1:not_up:2026-01-05", "sam", now=1_000.0, ttl_s=3600, nonce="n1")
>>> verifier = AckVerifier(signer, SeenNonces())
>>> verifier.verify(token, now=1_010.0).recipient
'sam'
>>> verifier.verify(token, now=1_020.0)
Traceback (most recent call last):
...
alerts.ack.AckRefused: replayed: nonce already used
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "hearth-ack1"
MAX_TOKEN_LEN = 1024


class AckRefused(ValueError):
    """An acknowledgement that was refused; ``reason`` is a stable code (bad_format, bad_signature, ...)."""

    def __init__(self, reason: str, detail: str):
        self.reason = reason
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class Acknowledgement:
    """A verified "I have it in hand" from ``recipient`` for the alert ``alert_key``."""

    alert_key: str
    recipient: str
    expires: int  # unix seconds
    nonce: str
    received_at: float  # unix seconds, when the gateway verified it
    channel: str = "ntfy"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AckSigner:
    """Issues tokens ``hearth-ack1.KEY.RECIPIENT.EXPIRES.NONCE.SIG`` (KEY and RECIPIENT base64url).

    The secret is the home's own (from a file, see :func:`load_home_secret`); it never leaves the home.
    """

    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("the acknowledgement secret must be at least 16 bytes")
        self._secret = secret

    def __repr__(self) -> str:  # never show the secret
        return "AckSigner(<secret>)"

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("utf-8"), hashlib.sha256).digest())

    def issue(self, alert_key: str, recipient: str, *, now: float, ttl_s: float = 24 * 3600,
              nonce: str | None = None) -> str:
        nonce = nonce or secrets.token_urlsafe(12)
        payload = ".".join((PREFIX, _b64(alert_key.encode()), _b64(recipient.encode()),
                            str(int(now + ttl_s)), nonce))
        return f"{payload}.{self._mac(payload)}"

    def check(self, token: str) -> tuple[str, str, int, str]:
        """Check format and signature (not expiry or replay): return (alert_key, recipient, expires, nonce)."""
        token = token.strip()
        if len(token) > MAX_TOKEN_LEN:
            raise AckRefused("bad_format", f"token longer than {MAX_TOKEN_LEN} characters")
        parts = token.split(".")
        if len(parts) != 6 or parts[0] != PREFIX:
            raise AckRefused("bad_format", "not a Hearth acknowledgement token")
        payload, sig = ".".join(parts[:5]), parts[5]
        if not hmac.compare_digest(self._mac(payload), sig):
            raise AckRefused("bad_signature", "signature does not match (forged or altered)")
        try:
            key = _unb64(parts[1]).decode("utf-8")
            recipient = _unb64(parts[2]).decode("utf-8")
            expires = int(parts[3])
        except (ValueError, UnicodeDecodeError):
            raise AckRefused("bad_format", "signed but unreadable fields") from None
        return key, recipient, expires, parts[4]


class SeenNonces:
    """Nonces already used, so a token works once. In memory, or in a SQLite file to survive restarts.

    Old nonces are pruned once their token has expired (an expired token is refused anyway).
    """

    def __init__(self, path: str | Path = ":memory:"):
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("CREATE TABLE IF NOT EXISTS ack_nonce (nonce TEXT PRIMARY KEY, expires INTEGER NOT NULL)")

    def claim(self, nonce: str, expires: int, now: float) -> bool:
        """Record ``nonce``; False when it was already used."""
        with self._lock:
            self._db.execute("DELETE FROM ack_nonce WHERE expires < ?", (int(now),))
            cur = self._db.execute("INSERT OR IGNORE INTO ack_nonce (nonce, expires) VALUES (?, ?)",
                                   (nonce, expires))
            return cur.rowcount == 1

    def close(self) -> None:
        self._db.close()


class AckVerifier:
    """Verifies tokens: signature, expiry, first use. Every refusal is logged and counted by reason."""

    def __init__(self, signer: AckSigner, seen: SeenNonces):
        self.signer = signer
        self.seen = seen
        self.refused: dict[str, int] = {}

    def verify(self, token: str, *, now: float, channel: str = "ntfy") -> Acknowledgement:
        try:
            key, recipient, expires, nonce = self.signer.check(token)
            if now > expires:
                raise AckRefused("expired", f"expired {int(now - expires)} s ago")
            if not self.seen.claim(nonce, expires, now):
                raise AckRefused("replayed", "nonce already used")
        except AckRefused as exc:
            self.refused[exc.reason] = self.refused.get(exc.reason, 0) + 1
            log.warning("acknowledgement refused", extra={"ctx": {"reason": exc.reason, "channel": channel,
                                                                   "detail": str(exc)}})
            raise
        log.info("acknowledgement accepted", extra={"ctx": {"alert_key": key, "recipient": recipient,
                                                            "channel": channel}})
        return Acknowledgement(key, recipient, expires, nonce, now, channel)

    def try_verify(self, token: str, *, now: float, channel: str = "ntfy") -> Acknowledgement | None:
        try:
            return self.verify(token, now=now, channel=channel)
        except AckRefused:
            return None


def load_home_secret(path: Path) -> bytes:
    """Read the home's acknowledgement secret, creating a random one (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    return path.read_text(encoding="ascii").strip().encode("ascii")
