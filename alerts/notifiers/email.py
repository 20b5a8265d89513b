"""Email over SMTP submission: STARTTLS, then login, with the password from a file or the environment.

smtplib blocks, so each send runs in a worker thread (:func:`asyncio.to_thread`); the event loop never
waits on the mail server. The password is read only when sending, never logged, and never put in a
result's detail. The ``Message-ID`` is derived from the message's ``message_id``, so a retry after a crash
carries the same id (mail clients and servers fold repeats); an update (``replaces``) threads under the
original with ``In-Reply-To``. A PNG attachment (the digest chart) is shown inline in the HTML part.

>>> message_id_header("a1/jo/email", "hearth@example.org")
'<hearth-ec611b1cb37cb0c120e5badb4086b744@example.org>'
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from alerts.channels import SmtpSettings
from alerts.notifiers.base import DeliveryResult, OutgoingMessage

log = logging.getLogger(__name__)

_PRIORITY_HEADER = {"urgent": "1 (Highest)", "high": "2 (High)", "default": "3 (Normal)", "low": "5 (Lowest)"}


def message_id_header(message_id: str, from_address: str) -> str:
    domain = from_address.rsplit("@", 1)[-1]
    return f"<hearth-{hashlib.sha256(message_id.encode('utf-8')).hexdigest()[:32]}@{domain}>"


class EmailNotifier:
    """Sends :class:`OutgoingMessage` by email through the home's :class:`SmtpSettings`."""

    channel = "email"

    def __init__(self, smtp: SmtpSettings | None):
        self.smtp = smtp

    def build(self, msg: OutgoingMessage, to_address: str) -> EmailMessage:
        assert self.smtp is not None
        em = EmailMessage()
        em["From"] = self.smtp.from_address
        em["To"] = to_address
        em["Subject"] = msg.title
        em["Date"] = formatdate(localtime=False)
        em["Message-ID"] = message_id_header(msg.message_id, self.smtp.from_address)
        em["X-Priority"] = _PRIORITY_HEADER.get(msg.priority, "3 (Normal)")
        em["X-Hearth-Category"] = msg.category
        if msg.replaces:
            original = message_id_header(msg.replaces, self.smtp.from_address)
            em["In-Reply-To"] = original
            em["References"] = original
        em.set_content(msg.body)
        images = [(n, b, m) for n, b, m in msg.attachments if m == "image/png"]
        if images:
            cids = [f"hearth-{i}-{hashlib.sha256(b).hexdigest()[:12]}" for i, (_, b, _) in enumerate(images)]
            paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in msg.body.split("\n") if p.strip())
            imgs = "".join(f'<p><img src="cid:{c}" alt="{html.escape(n)}" style="max-width:100%"></p>'
                           for c, (n, _, _) in zip(cids, images, strict=True))
            em.add_alternative(f"<html><body style=\"font-family:sans-serif;font-size:16px\">"
                               f"{paragraphs}{imgs}</body></html>", subtype="html")
            html_part = em.get_payload()[1]
            for cid, (name, data, _) in zip(cids, images, strict=True):
                html_part.add_related(data, "image", "png", cid=f"<{cid}>", filename=name, disposition="inline")
        for name, data, mime in msg.attachments:
            if mime != "image/png":
                maintype, _, subtype = mime.partition("/")
                em.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
        return em

    async def send(self, msg: OutgoingMessage, recipient: Any) -> DeliveryResult:
        to_address = getattr(recipient, "email", None)
        if not to_address:
            return DeliveryResult.failed(f"recipient {msg.recipient} has no email address", retryable=False)
        if self.smtp is None:
            return DeliveryResult.failed("no smtp settings in the home's config", retryable=False)
        try:
            password = self.smtp.password_value()
        except ValueError as exc:
            return DeliveryResult.failed(f"smtp password: {exc}", retryable=False)
        em = self.build(msg, to_address)
        try:
            await asyncio.to_thread(self._submit, em, to_address, password)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a result, never an exception
            result = _failure(exc, self.smtp)
            log.warning("email not sent", extra={"ctx": {"message_id": msg.message_id, "detail": result.detail}})
            return result
        return DeliveryResult.delivered(f"accepted by {self.smtp.host}", em["Message-ID"])

    def _submit(self, em: EmailMessage, to_address: str, password: str | None) -> None:
        s = self.smtp
        assert s is not None
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as client:
            client.ehlo()
            if s.starttls:
                client.starttls(context=context)  # raises SMTPNotSupportedError if not offered
                client.ehlo()
            if s.username:
                client.login(s.username, password or "")
            client.send_message(em, from_addr=s.from_address, to_addrs=[to_address])


def _failure(exc: BaseException, s: SmtpSettings) -> DeliveryResult:
    """Word an SMTP failure for a technician, and say whether a retry may help. Never holds the password."""
    where = f"smtp {s.host}:{s.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryResult.failed(f"{where}: login refused for {s.username!r} ({exc.smtp_code}); "
                                     "check the password file", retryable=False)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryResult.failed(f"{where}: server does not offer STARTTLS or AUTH; not sending in clear",
                                     retryable=False)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = ", ".join(f"{a}: {c}" for a, (c, _) in exc.recipients.items())
        return DeliveryResult.failed(f"{where}: recipient refused ({codes})",
                                     retryable=all(c < 500 for c, _ in exc.recipients.values()))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if "timed out" in str(exc):  # smtplib turns a read timeout into a disconnect
            return DeliveryResult.failed(f"{where}: no answer within {s.timeout_s:g} s", retryable=True)
        return DeliveryResult.failed(f"{where}: server disconnected ({exc})", retryable=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return DeliveryResult.failed(f"{where}: {exc.smtp_code} {text}", retryable=exc.smtp_code < 500)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryResult.failed(f"{where}: TLS certificate not trusted ({exc.verify_message})", retryable=False)
    if isinstance(exc, ssl.SSLError):
        return DeliveryResult.failed(f"{where}: TLS failed ({exc.reason})", retryable=True)
    if isinstance(exc, TimeoutError | socket.timeout):
        return DeliveryResult.failed(f"{where}: no answer within {s.timeout_s:g} s", retryable=True)
    if isinstance(exc, OSError):
        return DeliveryResult.failed(f"{where}: cannot connect ({exc.strerror or exc})", retryable=True)
    return DeliveryResult.failed(f"{where}: {type(exc).__name__}: {exc}", retryable=True)
