"""One notifier per channel; :func:`build_notifiers` makes the set the delivery service uses.

>>> sorted(build_notifiers(home="ann-home", smtp=None))
['email', 'mqtt', 'ntfy', 'webhook']
"""

from __future__ import annotations

from typing import Any

from alerts.ack import AckSigner
from alerts.channels import SmtpSettings
from alerts.notifiers.base import Notifier
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.mqtt import MqttNotifier
from alerts.notifiers.ntfy import NtfyNotifier
from alerts.notifiers.webhook import WebhookNotifier


def build_notifiers(*, home: str, smtp: SmtpSettings | None, signer: AckSigner | None = None,
                    timeout_s: float = 10.0) -> dict[str, Notifier]:
    """Notifiers keyed by channel name. ``signer`` adds the Acknowledge action (ntfy, MQTT)."""
    return {
        "ntfy": NtfyNotifier(signer=signer, timeout_s=timeout_s),
        "email": EmailNotifier(smtp),
        "webhook": WebhookNotifier(home=home),
        "mqtt": MqttNotifier(home=home, signer=signer, timeout_s=timeout_s),
    }


async def close_notifiers(notifiers: dict[str, Any]) -> None:
    """Close the HTTP sessions some notifiers keep open."""
    for n in notifiers.values():
        close = getattr(n, "close", None)
        if close is not None:
            await close()
