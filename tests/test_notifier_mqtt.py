"""MQTT notifier and acknowledgement listener against a real mosquitto (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import paho.mqtt.client as mqtt

from alerts.ack import AckSigner, AckVerifier, SeenNonces
from alerts.channels import MqttChannel
from alerts.config import RecipientConfig
from alerts.notifiers.base import OutgoingMessage
from alerts.notifiers.mqtt import MqttAckListener, MqttNotifier
from tests.conftest import PATIENCE_S, Mosquitto, free_port

SECRET = b"mqtt-test-home-secret-0123456789"
MSG = OutgoingMessage("a1/team/mqtt", "team", "mqtt", "urgent", "Ann is not up", "Usually up by 08:10.",
                      "urgent", alert_key="p1:not_up:2026-01-05")


class Watcher:
    """The team's app: subscribes to the home's alert topic and collects what arrives."""

    def __init__(self, broker: Mosquitto, topic: str):
        self.got: list[dict] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{free_port()}")
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = lambda _c, _u, m: self.got.append(json.loads(m.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self.ready.wait(PATIENCE_S)

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def team(broker: Mosquitto, **kw: object) -> RecipientConfig:
    ch = MqttChannel(host=broker.host, port=broker.port, tls=False, topic_prefix="care-team", **kw)
    return RecipientConfig(id="team", name="Wellbeing team", group="team", mqtt=ch)


async def wait_for(cond, seconds: float = PATIENCE_S) -> None:
    for _ in range(int(seconds / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_alert_reaches_the_home_topic_and_the_team_acknowledges(mosquitto: Mosquitto) -> None:
    signer = AckSigner(SECRET)
    r = team(mosquitto)
    watcher = Watcher(mosquitto, "care-team/ann-home/alerts")
    result = await MqttNotifier(home="ann-home", signer=signer).send(MSG, r)
    await wait_for(lambda: watcher.got)
    assert result.ok, result.detail
    [got] = watcher.got
    assert (got["home"], got["message_id"], got["title"], got["priority"]) == (
        "ann-home", "a1/team/mqtt", "Ann is not up", "urgent")

    verifier = AckVerifier(signer, SeenNonces())
    acks: list = []
    async with MqttAckListener(r.mqtt, "ann-home", verifier) as listener:
        await asyncio.wait_for(listener.subscribed.wait(), PATIENCE_S)  # the SUBACK: replies are kept for us
        collector = asyncio.create_task(_collect(listener, acks))
        watcher.publish("care-team/ann-home/ack", got["ack_token"])
        watcher.publish("care-team/ann-home/ack", got["ack_token"])  # replayed
        watcher.publish("care-team/ann-home/ack", "hearth-ack1.forged.x.1.n.sig")
        await wait_for(lambda: sum(verifier.refused.values()) == 2)
        collector.cancel()
    watcher.stop()
    assert [(a.alert_key, a.recipient, a.channel) for a in acks] == [("p1:not_up:2026-01-05", "team", "mqtt")]
    assert verifier.refused == {"replayed": 1, "bad_signature": 1}


async def _collect(listener: MqttAckListener, out: list) -> None:
    async for ack in listener.acks():
        out.append(ack)


async def test_unreachable_broker_is_retryable() -> None:
    ch = MqttChannel(host="127.0.0.1", port=free_port(), tls=False)
    result = await MqttNotifier(home="h", timeout_s=PATIENCE_S).send(MSG, RecipientConfig(  # refused at once
        id="team", name="T", group="team", mqtt=ch))
    assert (result.ok, result.retryable) == (False, True) and "cannot connect" in result.detail


async def test_wrong_password_is_not_retried_and_the_right_one_works(password_broker: Mosquitto,
                                                                    tmp_path: Path) -> None:
    (tmp_path / "right").write_text("right-password\n")
    (tmp_path / "wrong").write_text("wrong-password\n")
    notifier = MqttNotifier(home="ann-home", timeout_s=PATIENCE_S)  # the right password must get through
    bad = await notifier.send(MSG, team(password_broker, username="hearth", password_file=tmp_path / "wrong"))
    good = await notifier.send(MSG, team(password_broker, username="hearth", password_file=tmp_path / "right"))
    assert (bad.ok, bad.retryable) == (False, False) and "check the user name and password" in bad.detail
    assert "wrong-password" not in bad.detail
    assert good.ok, good.detail
