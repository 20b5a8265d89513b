"""Faults: the broker killed mid-stream, the gateway SIGKILLed at random moments (some within 100 ms of
raising an alert), the disk filling, a receiver answering 500 / 404 / hanging.

Each scenario runs a real `hearth run` with a real mosquitto and a recording webhook receiver, then
counts exactly: events published at QoS 1 vs events stored (per sensor), alerts the core raised
(``--alerts-out`` and the alerts table) vs alerts delivered, and alert-recipient pairs delivered under
more than one idempotency key.
"""

from __future__ import annotations

import random
import resource
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.reliability_rig import (
    ROLES,
    GatewayProc,
    Mosquitto,
    Publisher,
    Receiver,
    Row,
    count_events,
    home_config,
    jsonl_alert_keys,
    sensor_name,
    stored_alert_keys,
    stored_events,
    wait_settled,
    wait_until,
)

HOMES = 10  # enough sensors for one fresh low-battery alert per kill


class Rig:
    """Broker, receiver, gateway and publisher for one fault scenario; :meth:`close` ends them all."""

    def __init__(self, tag: str, answer: Callable[[dict[str, Any]], int | str] | None = None):
        self.work = Path(tempfile.mkdtemp(prefix=f"hearth-rel-{tag}-"))
        self.broker = Mosquitto(self.work / "broker")
        self.broker.start()
        self.rx = Receiver(answer) if answer else Receiver()
        self.gw = GatewayProc(self.work, home_config(self.broker.port, f"rel-{tag}", HOMES, self.rx.url, self.work))
        self.gw.start()
        self.pub = Publisher(self.broker.port, f"rel-{tag}-z2m")
        self.names = [sensor_name(h, r) for h in range(HOMES) for r in ROLES]
        self._low = iter(self.names)
        self._i = 0

    def events(self, n: int) -> None:
        for _ in range(n):
            self.pub.contact(self.names[self._i % len(self.names)])
            self._i += 1

    def low_battery(self) -> str:
        """A message that makes the core raise one new technical alert; returns the sensor's name."""
        name = next(self._low)
        self.pub.contact(name, battery=3)
        return name

    def settle(self) -> None:
        """Wait (on conditions, with a no-progress limit) until the broker has every message, the store
        every event and the receiver every alert the core raised."""
        wait_until(lambda: self.pub.acked() == len(self.pub.infos), within=60)
        wait_settled(lambda: count_events(self.gw.db), self.pub.published, stall_s=20)
        wait_settled(lambda: len(self.delivered_keys() & self.raised_keys()), len(self.raised_keys()), stall_s=25)

    def raised_keys(self) -> set[str]:
        return set(jsonl_alert_keys(self.gw.alerts_out)) | set(stored_alert_keys(self.gw.db))

    def delivered_keys(self) -> set[str]:
        return {key for key, _r in self.rx.keys_by_alert()}

    def counts(self, name: str, recover: str) -> list[Row]:
        """The four figures every fault is judged by."""
        per_sensor = Counter(s for s, _v in stored_events(self.gw.db))
        sent = {_sid(n): len(v) for n, v in self.pub.sent.items()}
        lost = sum(max(0, n - per_sensor[s]) for s, n in sent.items())
        doubled = sum(max(0, per_sensor[s] - n) for s, n in sent.items())
        raised = self.raised_keys()
        alerts_lost = len(raised - self.delivered_keys())
        twice = sum(len(ids) > 1 for ids in self.rx.keys_by_alert().values())
        repeats = redelivered(self.gw.db)
        return [
            Row(name, "events lost (QoS 1)", f"{lost} of {self.pub.published}", "0", lost == 0),
            Row(name, "events stored twice", f"{doubled} ({repeats} repeats recognised: last_seen or packet id)", "0",
                doubled == 0),
            Row(name, "alerts lost", f"{alerts_lost} of {len(raised)}", "0", alerts_lost == 0),
            Row(name, "alerts delivered twice with different ids", str(twice), "0", twice == 0),
            Row(name, "time to recover", recover, "reported", True),
        ]

    def close(self) -> None:
        self.pub.close()
        self.gw.stop()
        self.rx.close()
        self.broker.stop()


def redelivered(db: Path) -> int:
    """Messages known for repeats (QoS 1 is at-least-once) and not stored again: by zigbee2mqtt's last_seen
    (the adapter) or by the packet id and digest of a message already stored (gateway/redelivery.py)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        row = con.execute("SELECT COALESCE(SUM(count), 0) FROM rejections WHERE reason = 'redelivered'").fetchone()
    return int(row[0])


def _sid(friendly_name: str) -> str:
    home, role = friendly_name.split("/")
    return f"s{home[1:]}{role[:3]}"


def _worst(seconds: list[float]) -> str:
    return f"worst {max(seconds):.1f} s, median {sorted(seconds)[len(seconds) // 2]:.1f} s" if seconds else "n/a"


def gateway_kills(kills: int = 20, seed: int = 1) -> list[Row]:
    """SIGKILL `hearth run` ``kills`` times while events flow: every other kill at a random moment, the
    others 0-100 ms after the gateway logs a freshly raised alert. Recovery: kill -> subscribed again."""
    rng = random.Random(seed)
    rig = Rig("kill")
    recover: list[float] = []
    try:
        for k in range(kills):
            rig.events(rng.randint(5, 40))
            if k % 2:
                rig.low_battery()
                rig.gw.wait_log(lambda line: str(line.get("msg", "")).startswith("ALERT"), within=20)
                time.sleep(rng.uniform(0.0, 0.1))
            else:
                time.sleep(rng.uniform(0.0, 1.5))
            rig.gw.kill()
            killed = time.monotonic()
            rig.events(rng.randint(0, 10))  # while it is down: the broker holds them
            rig.gw.start()
            recover.append(time.monotonic() - killed)
        rig.events(20)
        rig.settle()
    finally:
        rig.close()
    return rig.counts(f"gateway SIGKILLed x{kills}", _worst(recover) + " to subscribed")


def broker_kill(seconds: float = 6.0, rate: float = 100.0) -> list[Row]:
    """SIGKILL mosquitto halfway through a steady QoS 1 stream, start it again 1 s later (it keeps its
    persistence file; what it had not saved is what a power cut of the broker loses)."""
    rig = Rig("broker")
    recovered = ""
    try:
        t0, sent = time.monotonic(), 0
        killed = False
        alerts = 0
        while (now := time.monotonic()) - t0 < seconds:
            due = int((now - t0) * rate)
            rig.events(due - sent)
            sent = due
            if now - t0 >= seconds / 2 and not killed:
                rig.low_battery()
                alerts += 1
                assert rig.broker.proc is not None
                rig.broker.proc.kill()
                rig.broker.proc.wait()
                time.sleep(1.0)
                before = count_events(rig.gw.db)
                restarted = time.monotonic()
                rig.broker.start()
                killed = True
                if wait_until(lambda b=before: count_events(rig.gw.db) > b, within=60):
                    recovered = f"{time.monotonic() - restarted:.1f} s from broker start to the next stored event"
            time.sleep(0.01)
        rig.low_battery()
        rig.settle()
    finally:
        rig.close()
    return rig.counts("mosquitto SIGKILLed mid-stream", recovered or "did not recover")


def disk_full(events: int = 60) -> list[Row]:
    """The card fills: every write of the gateway's past a file's first byte is refused (RLIMIT_FSIZE of
    1 byte set on the running process with prlimit, as `ulimit -f` would; no privilege needed). Writes
    fail with EFBIG where a full card gives ENOSPC, and even rewrites of existing pages fail: a harsher
    card than most. Events and an alert arrive meanwhile; then space returns."""
    rig = Rig("disk")
    recovered = ""
    try:
        rig.events(10)
        wait_settled(lambda: count_events(rig.gw.db), rig.pub.published, stall_s=20)
        assert rig.gw.proc is not None
        pid = rig.gw.proc.pid
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        refused_before = _refused(rig.gw)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))
        rig.events(events)
        rig.low_battery()
        rig.gw.wait_log(lambda line: str(line.get("msg", "")).startswith("ALERT"), within=20)
        rig.events(events)
        wait_until(lambda: rig.pub.acked() == len(rig.pub.infos), within=30)
        time.sleep(2.0)  # two commit attempts against the full card
        still_running = rig.gw.alive()
        refused = _refused(rig.gw) - refused_before
        freed = time.monotonic()
        if still_running:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
        if wait_settled(lambda: count_events(rig.gw.db), rig.pub.published, stall_s=20) >= rig.pub.published:
            recovered = f"{time.monotonic() - freed:.1f} s from space freed to every event stored"
        rig.settle()
    finally:
        rig.close()
    rows = rig.counts("disk full, then space freed", recovered or "not every event stored")
    return [*rows, Row("disk full, then space freed", "gateway still running", str(still_running), "True",
                       still_running),
            Row("disk full, then space freed", "commits refused while full (proves the fault bit)", str(refused),
                "> 0", refused > 0)]


def _refused(gw: GatewayProc) -> int:
    return sum(1 for line in gw.lines if str(line.get("msg", "")).startswith("cannot store"))


def receiver_faults(modes: tuple[int | str, ...] = (500, 404, "hang")) -> list[Row]:
    """One alert per mode, each meeting that receiver fault on its first try: 500, 404, or ``"hang"``
    (the request held open, as if for an hour: until the client gives up). Later tries are answered 200."""
    first: dict[str, int | str] = {}

    def answer(body: dict[str, Any]) -> int | str:
        key = body.get("alert_key") or ""
        if key not in first and ":battery_low:" in key and len(first) < len(modes):
            first[key] = modes[len(first)]
            return first[key]
        return 200

    rig = Rig("rx", answer)
    rows: list[Row] = []
    try:
        sent: list[float] = []
        for n in range(1, len(modes) + 1):
            rig.low_battery()
            sent.append(time.monotonic())
            wait_until(lambda n=n: len(first) >= n, within=30)
        rig.settle()
    finally:
        rig.close()
    by_key = rig.rx.keys_by_alert()
    for t, (key, mode) in zip(sent, first.items(), strict=False):
        got = [d.at for d in rig.rx.deliveries if d.body.get("alert_key") == key]
        # a 4xx is a permanent refusal (a wrong URL, an expired token): it is not retried, and it is not
        # lost either when the technicians are told, by a delivery_refused alert, that it was refused
        told = [d.at for d in rig.rx.deliveries if ":delivery_refused:" in str(d.body.get("alert_key") or "")]
        permanent = isinstance(mode, int) and 400 <= mode < 500
        name = f"receiver answers {mode} once"
        ids = len(by_key.get((key, "tech"), set()))
        if got:
            lost, recover = "0 of 1", f"{min(got) - t:.1f} s to delivered"
        elif permanent and told:
            lost, recover = "0 of 1 (refusal reported)", f"{min(told) - t:.1f} s to technicians told"
        else:
            lost, recover = "1 of 1", "never delivered"
        rows += [Row(name, "alerts lost", lost, "0", lost.startswith("0 of")),
                 Row(name, "alerts delivered twice with different ids", str(int(ids > 1)), "0", ids <= 1),
                 Row(name, "time to recover", recover, "reported", True)]
    return rows

