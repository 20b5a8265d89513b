"""Recipients sharing a delivery address: ``hearth check-config`` names them and the address, and the gate
sends to that address only what all of them may see (a real ntfy topic on loopback, the real notifier)."""

from __future__ import annotations

from pathlib import Path

from alerts.delivery import AlertDelivery
from alerts.notifiers.ntfy import NtfyNotifier
from gateway.cli import main
from gateway.config import parse_config_text
from routines.alert import Alert, Audience, Severity
from tests.ntfy_server import NtfyServer
from tests.test_delivery import T0, SimClock

HOME = """\
name: ann-home
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - {{id: sam, name: Sam, group: team, ntfy: {{server: "{ntfy}", topic: ann-care, allow_http: true}}}}
  - {{id: jo, name: Jo, group: circle, ntfy: {{server: "{ntfy}", topic: ann-care, allow_http: true}}}}
  - {{id: kim, name: Kim, group: team, ntfy: {{server: "{ntfy}", topic: kim-own, allow_http: true}},
     mqtt: {{host: care.example.org, username: kim}}}}
  - {{id: lee, name: Lee, group: team, mqtt: {{host: care.example.org, username: lee}}}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent, concern]}}
  - {{person: p1, recipient: jo, receives: [urgent]}}
  - {{person: p1, recipient: kim, receives: [urgent, concern]}}
  - {{person: p1, recipient: lee, receives: [urgent, concern]}}
"""


def test_check_config_warns_naming_the_recipients_and_the_shared_address(tmp_path: Path, capsys) -> None:
    conf = tmp_path / "home.yaml"
    conf.write_text(HOME.format(ntfy="https://ntfy.example.org"))
    assert main(["check-config", str(conf)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "WARNING" in line]
    assert warnings == [
        f"{conf}: WARNING: recipients sam, jo share one address (ntfy https://ntfy.example.org/ann-care): each of "
        "them can read what the others are sent, so each gets only what all of them may receive; give each their "
        "own address unless that is intended",
        f"{conf}: WARNING: recipients kim, lee share one address (mqtt care.example.org:8883/hearth/ann-home/alerts): "
        "each of them can read what the others are sent, so each gets only what all of them may receive; give "
        "each their own address unless that is intended",
    ]


async def test_a_concern_for_sam_is_not_sent_to_the_topic_jo_reads_too(tmp_path: Path) -> None:
    async with NtfyServer() as ntfy:
        # the ntfy part of the home (no MQTT broker here)
        text = HOME.format(ntfy=ntfy.url).replace(",\n     mqtt: {host: care.example.org, username: kim}", "")
        text = "\n".join(line for line in text.splitlines() if "lee" not in line)
        cfg = parse_config_text(text, "home.yaml")
        notifier = NtfyNotifier()
        delivery = AlertDelivery(cfg, tmp_path / "h.sqlite3", {"ntfy": notifier}, SimClock())
        try:
            delivery.submit(Alert(T0, "p1", "no_meal", Severity.WARNING, Audience.CARE, "No meal today.",
                                  key="p1:no_meal"))
            delivery.submit(Alert(T0, "p1", "not_up", Severity.URGENT, Audience.CARE, "Not up.", key="p1:not_up"))
            await delivery.tick()
            withheld = delivery.outbox.withheld(reason="shared_address")
        finally:
            await notifier.close()
            delivery.close()
        # the concern reached Kim's own topic, never the topic Jo reads (she did not agree to concerns)
        assert [m["message"] for m in ntfy.topic_messages("kim-own")] == ["No meal today.", "Not up."]
        assert [m["message"] for m in ntfy.topic_messages("ann-care")] == ["Not up.", "Not up."]  # Sam's and Jo's
        assert [(w["recipient"], w["category"]) for w in withheld] == [("sam", "concern")]
