"""Signed acknowledgements: accepted once, refused when unsigned, forged, altered, expired or replayed."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from alerts.ack import AckRefused, AckSigner, AckVerifier, SeenNonces, load_home_secret

SECRET = b"0123456789abcdef0123456789abcdef"


def make(tmp_path: Path | None = None) -> tuple[AckSigner, AckVerifier]:
    signer = AckSigner(SECRET)
    seen = SeenNonces(tmp_path / "acks.sqlite" if tmp_path else ":memory:")
    return signer, AckVerifier(signer, seen)


def test_valid_token_is_accepted_with_its_key_and_recipient() -> None:
    signer, verifier = make()
    token = signer.issue("p1:not_up:2026-01-05", "sam", now=1000, ttl_s=600, nonce="abc")
    ack = verifier.verify(token, now=1100)
    assert (ack.alert_key, ack.recipient, ack.expires, ack.nonce, ack.received_at) == (
        "p1:not_up:2026-01-05", "sam", 1600, "abc", 1100)


@pytest.mark.parametrize("mangle, reason", [
    (lambda t: "I saw it", "bad_format"),
    (lambda t: "", "bad_format"),
    (lambda t: t.rsplit(".", 1)[0] + ".", "bad_signature"),  # unsigned
    (lambda t: t.replace(".c2Ft.", ".am8."), "bad_signature"),  # recipient sam -> jo
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad_signature"),
    (lambda t: "x" * 5000, "bad_format"),
])
def test_forged_or_altered_tokens_are_refused_and_logged(mangle, reason, caplog) -> None:
    signer, verifier = make()
    token = signer.issue("p1:not_up:2026-01-05", "sam", now=1000, ttl_s=600)
    with caplog.at_level(logging.WARNING, logger="alerts.ack"), pytest.raises(AckRefused) as exc:
        verifier.verify(mangle(token), now=1100)
    assert exc.value.reason == reason
    assert verifier.refused == {reason: 1}
    assert [r.ctx["reason"] for r in caplog.records] == [reason]


def test_token_signed_with_another_homes_secret_is_refused() -> None:
    other = AckSigner(b"another-home-secret-32-bytes-lon")
    _, verifier = make()
    with pytest.raises(AckRefused, match="bad_signature"):
        verifier.verify(other.issue("p1:x", "sam", now=0), now=1)


def test_expired_token_is_refused() -> None:
    signer, verifier = make()
    token = signer.issue("p1:not_up", "sam", now=1000, ttl_s=60)
    assert verifier.try_verify(token, now=1061) is None
    assert verifier.refused == {"expired": 1}


def test_replay_is_refused_even_after_a_restart(tmp_path: Path) -> None:
    signer, verifier = make(tmp_path)
    token = signer.issue("p1:not_up", "sam", now=1000, ttl_s=600)
    assert verifier.verify(token, now=1001).recipient == "sam"
    verifier.seen.close()
    _, restarted = make(tmp_path)  # the same SQLite file, as after a gateway restart
    with pytest.raises(AckRefused, match="replayed"):
        restarted.verify(token, now=1002)


def test_each_issued_token_has_its_own_nonce() -> None:
    signer, verifier = make()
    a = signer.issue("p1:not_up", "sam", now=1000)
    b = signer.issue("p1:not_up", "sam", now=1000)
    assert a != b
    assert verifier.verify(a, now=1001) and verifier.verify(b, now=1001)


def test_short_secret_rejected_and_secret_not_in_repr() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        AckSigner(b"short")
    assert SECRET.decode() not in repr(AckSigner(SECRET))


def test_home_secret_created_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ack.secret"
    first = load_home_secret(path)
    assert len(first) == 64 and load_home_secret(path) == first
    assert os.stat(path).st_mode & 0o077 == 0
