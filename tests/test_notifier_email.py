"""Email notifier against a real aiosmtpd server on loopback with STARTTLS (self-signed cert) and AUTH."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import ipaddress
import logging
import socket
import ssl
import threading
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerts.channels import SmtpSettings
from alerts.config import RecipientConfig
from alerts.notifiers.base import OutgoingMessage
from alerts.notifiers.email import EmailNotifier, message_id_header
from tests.conftest import PATIENCE_S, free_port

PASSWORD = "correct horse battery staple"


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK queued"


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"hearth" and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(tmp_path: Path):
    cert, key = self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=ctx,
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    yield controller, inbox, cert
    controller.stop()


def settings(port: int, tmp_path: Path, cert: Path | None, password: str = PASSWORD, **kw: object) -> SmtpSettings:
    (tmp_path / "smtp.pw").write_text(password + "\n")
    return SmtpSettings(host="127.0.0.1", port=port, username="hearth", password_file=tmp_path / "smtp.pw",
                        from_address="hearth@ann-home.example.org", ca_file=cert, **kw)


JO = RecipientConfig(id="jo", name="Jo (daughter)", group="circle", email="jo@example.org")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
DIGEST = OutgoingMessage("digest/p1/2026-01-05/jo/email", "jo", "email", "digest", "Ann's day: Monday 5 January",
                         "Up at 07:40 as usual.\nKettle 4 times.", "low",
                         attachments=(("ann-2026-01-05.png", PNG, "image/png"),))


async def test_digest_arrives_over_starttls_with_inline_chart(smtp_server, tmp_path: Path) -> None:
    controller, inbox, cert = smtp_server
    result = await EmailNotifier(settings(controller.port, tmp_path, cert)).send(DIGEST, JO)
    assert result.ok, result.detail
    [got] = inbox.messages
    assert inbox.envelopes == [("hearth@ann-home.example.org", ["jo@example.org"])]
    assert got["Subject"] == "Ann's day: Monday 5 January" and got["To"] == "jo@example.org"
    assert got["Message-ID"] == message_id_header(DIGEST.message_id, "hearth@ann-home.example.org")
    assert result.remote_id == got["Message-ID"]
    assert got.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == "Up at 07:40 as usual.\nKettle 4 times."
    html = got.get_body(("html",)).get_content()
    [image] = [p for p in got.walk() if p.get_content_type() == "image/png"]
    assert image.get_payload(decode=True) == PNG and image.get_content_disposition() == "inline"
    assert f'cid:{image["Content-ID"].strip("<>")}' in html


async def test_update_threads_under_the_original(smtp_server, tmp_path: Path) -> None:
    controller, inbox, cert = smtp_server
    update = OutgoingMessage("a1/jo/email/handled", "jo", "email", "urgent", "Handled by Sam 07:42",
                             "Sam has it in hand.", "default", alert_key="p1:not_up", replaces="a1/jo/email")
    assert (await EmailNotifier(settings(controller.port, tmp_path, cert)).send(update, JO)).ok
    [got] = inbox.messages
    assert got["In-Reply-To"] == message_id_header("a1/jo/email", "hearth@ann-home.example.org")


async def test_wrong_password_fails_without_retry_and_never_reaches_the_logs(smtp_server, tmp_path: Path,
                                                                            caplog) -> None:
    controller, inbox, cert = smtp_server
    wrong = "wrong-password-xyzzy"
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the test server's own protocol trace
    with caplog.at_level(logging.DEBUG):
        bad = await EmailNotifier(settings(controller.port, tmp_path, cert, password=wrong)).send(DIGEST, JO)
        good = await EmailNotifier(settings(controller.port, tmp_path, cert)).send(DIGEST, JO)
    assert (bad.ok, bad.retryable) == (False, False) and "login refused for 'hearth'" in bad.detail
    assert good.ok and len(inbox.messages) == 1
    for secret in (wrong, PASSWORD):
        for form in (secret, base64.b64encode(secret.encode()).decode(),
                     base64.b64encode(f"\0hearth\0{secret}".encode()).decode()):
            assert form not in caplog.text and form not in bad.detail
    assert "email not sent" in caplog.text  # the failure itself is visible


async def test_untrusted_certificate_is_refused(smtp_server, tmp_path: Path) -> None:
    controller, inbox, _ = smtp_server
    (tmp_path / "other").mkdir()
    other_ca, _ = self_signed(tmp_path / "other")
    result = await EmailNotifier(settings(controller.port, tmp_path, other_ca)).send(DIGEST, JO)
    assert (result.ok, result.retryable) == (False, False) and "certificate not trusted" in result.detail
    assert inbox.messages == []


async def test_password_from_environment(smtp_server, tmp_path: Path, monkeypatch) -> None:
    controller, inbox, cert = smtp_server
    monkeypatch.setenv("HEARTH_TEST_SMTP_PW", PASSWORD)
    s = SmtpSettings(host="127.0.0.1", port=controller.port, username="hearth", password_env="HEARTH_TEST_SMTP_PW",
                     from_address="hearth@ann-home.example.org", ca_file=cert)
    assert (await EmailNotifier(s).send(DIGEST, JO)).ok and len(inbox.messages) == 1
    monkeypatch.delenv("HEARTH_TEST_SMTP_PW")
    missing = await EmailNotifier(s).send(DIGEST, JO)
    assert (missing.ok, missing.retryable) == (False, False) and "HEARTH_TEST_SMTP_PW" in missing.detail


async def test_unreachable_and_silent_servers_are_retryable(tmp_path: Path) -> None:
    down = await EmailNotifier(settings(free_port(), tmp_path, None, timeout_s=PATIENCE_S)).send(DIGEST, JO)  # refused at once
    assert (down.ok, down.retryable) == (False, True) and "cannot connect" in down.detail
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        slow = await EmailNotifier(settings(port, tmp_path, None, timeout_s=0.3)).send(DIGEST, JO)
    assert (slow.ok, slow.retryable) == (False, True) and "no answer within 0.3 s" in slow.detail


async def test_send_does_not_block_the_event_loop(smtp_server, tmp_path: Path) -> None:
    """While smtplib talks to the server, other tasks on the loop keep running."""
    controller, _, cert = smtp_server
    ticks = 0
    stop = threading.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    result = await EmailNotifier(settings(controller.port, tmp_path, cert)).send(DIGEST, JO)
    stop.set()
    await task
    assert result.ok and ticks > 1
