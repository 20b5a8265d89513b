"""What the broker drops is counted by Hearth, not only written in mosquitto's log.

A real mosquitto with a tiny queue (``max_queued_messages 20``) and ``$SYS`` every second; the
gateway's link is connected but not reading or acknowledging, so the broker must drop most of a
burst. Every message of the burst is then accounted for: received by the link, or counted in
``broker_dropped``. ``$SYS`` messages never reach the adapters' queue, and lost connections are counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from gateway.mqtt import MqttLink, MqttMessage
from tests.conftest import Mosquitto
from tests.test_service import wait_for

BURST = 400
QUEUE, INFLIGHT = 20, 10


@pytest.fixture
def small_queue_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "small-queue")
    broker.conf.write_text(broker.conf.read_text().replace("max_queued_messages 10000", f"max_queued_messages {QUEUE}")
                           + f"max_inflight_messages {INFLIGHT}\nsys_interval 1\n")
    broker.start()
    yield broker
    broker.stop()


def publisher(port: int) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="burst-z2m")
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


async def test_a_burst_the_broker_drops_is_counted(small_queue_broker: Mosquitto) -> None:
    port = small_queue_broker.port
    link = MqttLink("127.0.0.1", port, ["burst/#"], client_id="drops-gw", queue_size=5)
    await link.start()
    pub = publisher(port)
    received: list[MqttMessage] = []
    try:
        # the counter's first reading is the baseline: it must come before the burst
        await wait_for(lambda: link.subscribed and link.broker_dropped == 0)
        for i in range(BURST):  # nobody reads link.messages meanwhile: the broker's queue overflows
            pub.publish(f"burst/{i}", str(i), qos=1).wait_for_publish(5)
        await wait_for(lambda: (link.broker_dropped or 0) > 0)
        assert "the broker dropped" in link.status and link.status.startswith(f"connected to 127.0.0.1:{port}; ")

        def drain() -> bool:
            while not link.messages.empty():
                m = link.messages.get_nowait()
                received.append(m)
                link.ack(m)
            return len(received) + (link.broker_dropped or 0) == BURST

        await wait_for(drain)  # every message either arrived or was counted as dropped
    finally:
        pub.loop_stop()
        pub.disconnect()
        await link.stop()
    dropped = link.broker_dropped or 0
    assert dropped >= BURST - (QUEUE + INFLIGHT)  # the broker held only its queue and its inflight window
    assert len(received) == BURST - dropped
    assert [int(m.payload) for m in received] == sorted(int(m.payload) for m in received)  # in order
    assert all(m.topic.startswith("burst/") for m in received)


async def test_sys_messages_never_reach_the_adapters(small_queue_broker: Mosquitto) -> None:
    """Even when a configured topic matches ``$SYS``, its messages are handled inside the link."""
    link = MqttLink("127.0.0.1", small_queue_broker.port, ["$SYS/#", "burst/#"], client_id="sys-gw",
                    watch_broker=False)
    await link.start()
    pub = publisher(small_queue_broker.port)
    try:
        await wait_for(lambda: link.subscribed and link.broker_dropped is not None)  # read on the main link
        pub.publish("burst/1", "1", qos=1).wait_for_publish(5)
        first = await link.messages.get()
        assert first.topic == "burst/1" and link.messages.empty()
    finally:
        pub.loop_stop()
        pub.disconnect()
        await link.stop()


async def test_lost_connections_are_counted(own_mosquitto: Mosquitto) -> None:
    link = MqttLink("127.0.0.1", own_mosquitto.port, ["x/#"], client_id="disconnects-gw")
    await link.start()
    try:
        await wait_for(lambda: link.connected)
        assert link.disconnects == 0
        own_mosquitto.restart()
        await wait_for(lambda: link.disconnects == 1)
        await wait_for(lambda: link.connected)
        assert (link.disconnects, link.connects) == (1, 2)
    finally:
        await link.stop()
    assert link.disconnects == 1  # our own stop is not a lost connection
