"""Shared fixtures: a real mosquitto broker on a free loopback port, restartable; with a password,
or with TLS (a CA and certificates made by the test); a real headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gateway.broker import free_port

if TYPE_CHECKING:
    from playwright.async_api import Browser

FIXTURES = Path(__file__).parent / "fixtures"
# How long any test waits for a condition before calling it broken. Only reached when something truly
# is: on a busy 2-core CI machine a healthy wait can take several seconds, so bounds are never tight.
PATIENCE_S = 60.0


def _mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not found:
        pytest.fail("mosquitto is not installed: run `bash scripts/setup.sh --test` (it installs it with apt-get)")
    return found


class Mosquitto:
    """A real mosquitto on 127.0.0.1:<port> with persistence, so QoS 1 sessions survive a restart."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.host = "127.0.0.1"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "autosave_interval 1\n"
            f"log_dest file {workdir}/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "max_queued_messages 10000\n"
            # As root, mosquitto drops to the `mosquitto` user, which cannot write this temp dir:
            # persistence (and so sessions across a restart) would silently not happen.
            + ("user root\n" if os.geteuid() == 0 else "")
        )

    def start(self) -> None:
        self.proc = subprocess.Popen([_mosquitto_binary(), "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: see {self.workdir}/mosquitto.log") from None
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start listening within {PATIENCE_S:g} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file
            try:
                self.proc.wait(PATIENCE_S)  # SIGTERM saves persistence: killing it loses sessions
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One real broker for the whole session (tests use their own topics / client ids)."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test's own, for tests that stop and restart it."""
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """mosquitto with ``allow_anonymous false`` and a password_file holding hearth / right-password."""
    broker = Mosquitto(tmp_path / "pw-broker")
    pwfile = tmp_path / "pw-broker" / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), "hearth", "right-password"], check=True)
    broker.conf.write_text(broker.conf.read_text().replace("allow_anonymous true",
                                                           f"allow_anonymous false\npassword_file {pwfile}"))
    broker.start()
    yield broker
    broker.stop()


# ---- TLS: a throwaway CA and certificates, made here with `cryptography` ------------------------

TLS_SERVER_NAME = "broker.home.internal"  # the only name in the test broker's certificate (not 127.0.0.1)


@dataclass(frozen=True)
class Pki:
    """A CA (``ca_file``) and a certificate it signed (``cert_file`` / ``key_file``), all PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_pki(where: Path, names: list[str], *, client: bool = False) -> Pki:
    """A fresh CA in ``where`` and a server (or client) certificate for ``names``, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    where.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)

    def build(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey,
              ca: bool) -> x509.Certificate:
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                              content_commitment=False, key_encipherment=False,
                                              data_encipherment=False, key_agreement=False,
                                              encipher_only=False, decipher_only=False), critical=True)
        else:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
            b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        return b.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = f"Hearth test CA {where.name}"
    files = Pki(where / "ca.pem", where / "cert.pem", where / "key.pem")
    files.ca_file.write_bytes(build(ca_name, ca_key, ca_name, ca_key, True).public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(build(names[0], key, ca_name, ca_key, False).public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    files.key_file.chmod(0o600)
    return files


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, Pki]]:
    """mosquitto whose only listener speaks TLS, with a certificate for ``TLS_SERVER_NAME`` signed by
    the returned CA (``pki.ca_file``). A client certificate is not required."""
    broker = Mosquitto(tmp_path / "tls-broker")
    pki = make_pki(tmp_path / "tls-broker" / "pki", [TLS_SERVER_NAME])
    # listener options apply to the listener above them: appended, they belong to the only one
    broker.conf.write_text(broker.conf.read_text() + f"cafile {pki.ca_file}\ncertfile {pki.cert_file}\n"
                                                      f"keyfile {pki.key_file}\n")
    broker.start()
    yield broker, pki
    broker.stop()


# ---- a real headless Chromium: Debian's own, driven by Playwright for Python (no browser download) --

# This network is closed: nothing the browser would fetch for itself (QUIC probes, updates, sync) may
# wait on the internet. Playwright already turns off background networking, component updates and sync.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic"]


@pytest.fixture
async def chromium() -> AsyncIterator[Callable[..., Awaitable[Browser]]]:
    """``browser = await chromium()`` launches Debian's ``chromium`` headless; extra flags are
    arguments, e.g. ``await chromium("--host-resolver-rules=MAP evil.example 127.0.0.1")`` to play a
    DNS-rebinding attacker's name without a DNS server. Every browser is closed after the test."""
    from playwright.async_api import async_playwright, expect

    # expect() retries its check for 5 s by default: too little for a page on a busy 2-core machine
    expect.set_options(timeout=PATIENCE_S * 1000)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.fail("Chromium is not installed: run `bash scripts/setup.sh --test` (it installs it with apt-get)")
    async with async_playwright() as p:
        launched: list[Browser] = []

        async def launch(*flags: str) -> Browser:
            launched.append(await p.chromium.launch(executable_path=binary, args=[*CHROMIUM_FLAGS, *flags]))
            return launched[-1]

        yield launch
        for browser in launched:
            await browser.close()
