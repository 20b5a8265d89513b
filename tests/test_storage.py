"""gateway.storage against real SQLite files: exact round trips, migrations, batching, crashes, full disks."""

from __future__ import annotations

import doctest
import math
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import gateway.storage
import gateway.storage_errors
import gateway.storage_rows
import gateway.storage_schema
from gateway.storage import (
    DeviceHealthRow,
    RejectionRow,
    SchemaTooNewError,
    StorageCorruptError,
    StorageError,
    StorageFullError,
    StorageReadOnlyError,
    Store,
)
from gateway.storage_errors import StorageBusyError, storage_error
from gateway.storage_schema import SCHEMA_VERSION
from routines.alert import Alert, Audience, Severity
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
DOOR = "0x00158d0001a2b3c4"
BED = "0x00158d0002b3c4d5"
KETTLE = "0xa4c138f00e1d2c3b"


def ev(minutes: float, sensor: str = DOOR, value: bool | float = True, kind: SensorKind = SensorKind.CONTACT,
       source: str = "zigbee2mqtt") -> SensorEvent:
    return SensorEvent(T0 + timedelta(minutes=minutes), sensor, kind, value, source)


def day_of_events(n: int, start: datetime = T0) -> list[SensorEvent]:
    return [SensorEvent(start + timedelta(seconds=7 * i), f"0x{i % 12:016x}", SensorKind.PLUG,
                        float(i % 2500) if i % 3 else bool(i % 2), "zigbee2mqtt") for i in range(n)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "hearth.sqlite3"


@pytest.fixture
def store(db: Path):
    s = Store(db)
    yield s
    s.close()


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as c:
        return c.execute("PRAGMA integrity_check").fetchone()[0]


# ---- round trips ---------------------------------------------------------------------------------

def test_events_round_trip_exactly_with_bool_and_watts_kept_apart(db: Path) -> None:
    london, kolkata = ZoneInfo("Europe/London"), timezone(timedelta(hours=5, minutes=30))
    sent = [
        SensorEvent(datetime(2026, 1, 5, 7, 40, 12, 345678, tzinfo=london), DOOR, SensorKind.CONTACT, True, "zigbee2mqtt"),
        SensorEvent(datetime(2026, 1, 5, 13, 10, 13, 1, tzinfo=kolkata), KETTLE, SensorKind.PLUG, 1.0, "zigbee2mqtt"),
        SensorEvent(datetime(2026, 1, 5, 7, 41, tzinfo=UTC), KETTLE, SensorKind.PLUG, 0.0, "zigbee2mqtt"),
        SensorEvent(datetime(2026, 1, 5, 7, 42, tzinfo=UTC), BED, SensorKind.BED, False, "ble"),
        SensorEvent(datetime(2026, 1, 5, 7, 43, tzinfo=UTC), KETTLE, SensorKind.PLUG, 2183.4567, "replay"),
        SensorEvent(datetime(2026, 1, 5, 7, 44, tzinfo=UTC), "chair-1", SensorKind.CHAIR, True, "demo"),
        SensorEvent(datetime(2026, 1, 5, 7, 45, tzinfo=UTC), "pir", SensorKind.MOTION, False, "ble-mqtt"),
    ]
    with Store(db) as s:
        s.add_events(sent, received=datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    with Store(db) as s:
        got = s.events()
    expected = sorted(sent, key=lambda e: e.time)
    assert got == expected
    # True == 1.0 in Python, so equality alone cannot see a bool turned into watts: compare the types too.
    assert [type(e.value) for e in got] == [type(e.value) for e in expected]
    assert all(e.time.utcoffset() == timedelta(0) for e in got)
    assert [e.time for e in got] == [e.time for e in expected]  # same instants, to the microsecond


def test_events_filters_and_limit_keeps_the_newest_in_time_order(store: Store) -> None:
    events = [ev(i, DOOR if i % 2 else BED, bool(i % 3)) for i in range(10)]
    store.add_events(list(reversed(events)))
    assert store.events() == events  # time order whatever the insert order
    assert store.events(since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=6)) == events[3:6]
    assert store.events(sensor_id=DOOR) == events[1::2]
    assert store.events(limit=3) == events[7:]
    assert store.events(sensor_id=BED, since=T0 + timedelta(minutes=2), limit=2) == [events[6], events[8]]
    assert store.events(limit=0) == []
    assert store.count_events() == 10


def test_bad_values_and_naive_times_are_refused_before_anything_is_written(store: Store) -> None:
    good = ev(1)
    with pytest.raises(ValueError, match="finite"):
        store.add_events([good, ev(2, KETTLE, math.nan, SensorKind.PLUG)])
    with pytest.raises(ValueError, match="timezone-aware"):
        store.mark_seen(DOOR, datetime(2026, 1, 5, 7, 0))
    store.commit()
    assert store.count_events() == 0
    assert store.health() == []


def test_alerts_round_trip_and_filter(store: Store) -> None:
    a1 = Alert(T0 + timedelta(hours=3), "p1", "not_up", Severity.URGENT, Audience.CARE,
               "Ann is usually up by 08:10 (9 days in 10); no movement since 22:40.", key="p1:not_up:2026-01-05",
               evidence={"usual_wake": "08:10", "days": [9, 10], "score": 0.93}, recipients=["care:nina"])
    a2 = Alert(T0 + timedelta(hours=1), "p2", "sensor_silent", Severity.WARNING, Audience.TECHNICAL,
               "The front door sensor has been silent for 26 hours.")
    a3 = Alert(T0 + timedelta(hours=5), "p1", "no_kettle", Severity.INFO, Audience.CARE, "No kettle yet — café?")
    ids = [store.add_alert(a) for a in (a1, a2, a3)]
    assert len(set(ids)) == 3
    store.commit()
    assert store.alerts() == [a2, a1, a3]
    assert store.alerts(person="p1") == [a1, a3]
    assert store.alerts(since=T0 + timedelta(hours=3)) == [a1, a3]
    assert store.alerts(since=T0 + timedelta(hours=4), person="p2") == []
    got = store.alerts(person="p1")[0]
    assert type(got.severity) is Severity and type(got.audience) is Audience


def test_state_checkpoints_replace_and_survive_reopen(db: Path) -> None:
    blob = bytes(range(256)) * 40
    with Store(db) as s:
        assert s.load_state("routines") is None
        s.save_state("routines", b"first")
        s.save_state("routines", blob)
        s.save_state("other", b"")
    with Store(db) as s:
        assert s.load_state("routines") == blob
        assert s.load_state("other") == b""


# ---- device health and rejections ----------------------------------------------------------------

def test_health_merges_none_fields_and_ignores_late_older_values(store: Store) -> None:
    store.update_health(DeviceHealth(T0, DOOR, "zigbee2mqtt", available=True, battery=91.0, linkquality=120.0,
                                     voltage=3005.0, tamper=False))
    store.update_health(DeviceHealth(T0 + timedelta(hours=1), DOOR, "zigbee2mqtt", battery=89.0))
    # A report from before the last one arrives late: it must not roll battery back, but fills no gap here.
    store.update_health(DeviceHealth(T0 + timedelta(minutes=30), DOOR, "zigbee2mqtt", battery=95.0,
                                     available=False))
    store.update_health(DeviceHealth(T0 + timedelta(minutes=5), BED, "ble", linkquality=-71.0))
    store.update_health(DeviceHealth(T0, BED, "ble", battery=60.0))  # older, but fills an empty field
    [door, bed] = store.health()  # ordered by sensor id
    assert door == DeviceHealthRow(DOOR, "zigbee2mqtt", None, True, 89.0, 120.0, 3005.0, False,
                                   T0 + timedelta(hours=1))
    assert bed == DeviceHealthRow(BED, "ble", None, None, 60.0, -71.0, None, None, T0 + timedelta(minutes=5))


def test_mark_seen_only_moves_forward_and_health_does_not_touch_it(store: Store) -> None:
    store.mark_seen(KETTLE, T0 + timedelta(minutes=10))
    store.mark_seen(KETTLE, T0 + timedelta(minutes=2))
    store.update_health(DeviceHealth(T0 + timedelta(hours=2), KETTLE, "zigbee2mqtt", available=False))
    [row] = store.health()
    assert row.last_seen == T0 + timedelta(minutes=10)
    assert row.available is False and row.updated == T0 + timedelta(hours=2)
    assert row.battery is None


def test_rejections_are_counted_with_first_last_and_newest_detail(store: Store) -> None:
    for i, minutes in enumerate([5, 1, 9, 3]):
        store.add_rejection(Rejection(T0 + timedelta(minutes=minutes), "zigbee2mqtt", "not_json",
                                      f"payload {i}: " + "x" * 1000, device=DOOR))
    store.add_rejection(Rejection(T0, "zigbee2mqtt", "unknown_device", "zigbee2mqtt/garage_door"))
    store.add_rejection(Rejection(T0, "replay", "bad_csv_row", "line 12: 3 fields", device=DOOR))
    store.commit()
    rows = store.rejections()
    assert [(r.source, r.reason, r.device, r.count) for r in rows] == [
        ("replay", "bad_csv_row", DOOR, 1), ("zigbee2mqtt", "not_json", DOOR, 4),
        ("zigbee2mqtt", "unknown_device", None, 1)]
    flood = rows[1]
    assert flood == RejectionRow("zigbee2mqtt", "not_json", DOOR, 4, T0 + timedelta(minutes=1),
                                 T0 + timedelta(minutes=9), ("payload 2: " + "x" * 1000)[:300])
    assert len(flood.last_detail) == 300


def test_a_flood_of_junk_devices_stays_a_bounded_number_of_rows(store: Store) -> None:
    for i in range(3000):
        store.add_rejection(Rejection(T0 + timedelta(seconds=i), "zigbee2mqtt", "unknown_device",
                                      "d" * 5000, device=f"zigbee2mqtt/junk_{i}_" + "z" * 500))
    store.commit()
    rows = store.rejections()
    assert len(rows) == 101
    assert sum(r.count for r in rows) == 3000
    other = next(r for r in rows if r.device == "(other devices)")
    assert other.count == 2900 and other.last == T0 + timedelta(seconds=2999)
    assert max(len(r.device or "") for r in rows) <= 128
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    assert pages < 200  # tens of KB, not the megabytes the raw junk weighs


# ---- schema and migrations -----------------------------------------------------------------------

# The v1 schema exactly as the first Hearth release created it (a frozen copy: never edit).
V1_SQL = """
CREATE TABLE events (id INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, sensor_id TEXT NOT NULL,
    kind TEXT NOT NULL, value REAL NOT NULL, is_bool INTEGER NOT NULL CHECK (is_bool IN (0, 1)),
    source TEXT NOT NULL, received_us INTEGER NOT NULL);
CREATE INDEX events_time ON events (time_us);
CREATE TABLE device_health (sensor_id TEXT PRIMARY KEY, source TEXT, last_seen_us INTEGER, available INTEGER,
    battery REAL, linkquality REAL, updated_us INTEGER);
CREATE TABLE rejections (source TEXT NOT NULL, reason TEXT NOT NULL, device TEXT NOT NULL,
    count INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL, last_detail TEXT NOT NULL,
    PRIMARY KEY (source, reason, device));
CREATE TABLE state (key TEXT PRIMARY KEY, blob BLOB NOT NULL, updated_us INTEGER NOT NULL);
PRAGMA user_version = 1;
"""
T0_US = int(T0.timestamp()) * 1_000_000


def make_v1_file(path: Path, extra_sql: str = "") -> None:
    with sqlite3.connect(path) as c:
        c.executescript(V1_SQL + extra_sql + f"""
            INSERT INTO events (time_us, sensor_id, kind, value, is_bool, source, received_us)
                VALUES ({T0_US}, '{DOOR}', 'contact', 1.0, 1, 'zigbee2mqtt', {T0_US}),
                       ({T0_US + 60_000_000}, '{KETTLE}', 'plug', 1.0, 0, 'zigbee2mqtt', {T0_US});
            INSERT INTO device_health VALUES ('{DOOR}', 'zigbee2mqtt', {T0_US}, 1, 77.0, 140.0, {T0_US});
            INSERT INTO rejections VALUES ('zigbee2mqtt', 'not_json', '', 3, {T0_US}, {T0_US}, 'oops');
            INSERT INTO state VALUES ('routines', x'00ff10', {T0_US});
        """)
    c.close()


def test_a_v1_file_migrates_forward_keeping_its_data(db: Path) -> None:
    make_v1_file(db)
    with Store(db) as s:
        assert s.schema_version == SCHEMA_VERSION == 5
        assert s.events() == [ev(0), ev(1, KETTLE, 1.0, SensorKind.PLUG)]
        assert type(s.events()[1].value) is float
        assert s.health() == [DeviceHealthRow(DOOR, "zigbee2mqtt", T0, True, 77.0, 140.0, None, None, T0)]
        assert s.rejections() == [RejectionRow("zigbee2mqtt", "not_json", None, 3, T0, T0, "oops")]
        assert s.load_state("routines") == b"\x00\xff\x10"
        # and what v2 added works on the migrated file
        s.update_health(DeviceHealth(T0 + timedelta(minutes=1), DOOR, "zigbee2mqtt", voltage=2900.0, tamper=True))
        alert = Alert(T0, "p1", "door_open_night", Severity.URGENT, Audience.CARE, "Front door open at 03:10.")
        s.add_alert(alert)
    with Store(db) as s:
        assert s.alerts() == [alert]
        assert s.health()[0].voltage == 2900.0 and s.health()[0].battery == 77.0
        indexes = {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"events_time", "events_sensor_time", "alerts_time"} <= indexes
    assert integrity(db) == "ok"


def test_a_failing_migration_leaves_the_v1_file_as_it_was(db: Path) -> None:
    # An unexpected leftover table makes the v2 step fail half-way through.
    make_v1_file(db, "CREATE TABLE alerts_leftover (x); CREATE INDEX alerts_person_time ON alerts_leftover (x);")
    with pytest.raises(StorageError, match=r"version 2.*left unchanged"):
        Store(db)
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "alerts" not in tables  # created before the failing statement, rolled back with it
        columns = {r[1] for r in c.execute("PRAGMA table_info(device_health)")}
        assert "voltage" not in columns
        assert c.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2
    c.close()


def test_a_newer_schema_is_refused_and_the_file_left_byte_for_byte(db: Path) -> None:
    with sqlite3.connect(db) as c:
        c.executescript("CREATE TABLE future (x); INSERT INTO future VALUES (42); PRAGMA user_version = 7;")
    c.close()
    before = db.read_bytes()
    with pytest.raises(SchemaTooNewError, match=rf"schema version 7 .* up to {SCHEMA_VERSION}.*not changed"):
        Store(db)
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists()


def test_a_file_that_is_not_a_database_is_reported_as_corrupt(db: Path) -> None:
    db.write_bytes(b"this is a config file, not a database\n" * 200)
    with pytest.raises(StorageCorruptError, match=re.escape(str(db))):
        Store(db)


def test_new_file_pragmas(db: Path, store: Store) -> None:
    pragma = lambda name: store._conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") >= 1000
    assert pragma("user_version") == SCHEMA_VERSION
    plan = " ".join(r[3] for r in store._conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM events WHERE sensor_id = ? AND time_us >= ?", (DOOR, 0)))
    assert "events_sensor_time" in plan


# ---- batching, crashes, full disks ---------------------------------------------------------------

def test_writes_are_invisible_to_other_readers_until_commit(db: Path, store: Store) -> None:
    store.add_events([ev(1), ev(2)])
    store.save_state("routines", b"abc")
    assert store.uncommitted == 3
    reader = sqlite3.connect(db)
    assert reader.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    assert store.count_events() == 2  # the writer sees its own batch
    store.commit()
    assert store.uncommitted == 0
    assert reader.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2
    reader.close()


CHILD = r"""
import sys, time
from datetime import UTC, datetime, timedelta
from gateway.storage import Store
from sensors.events import SensorEvent, SensorKind
t0 = datetime(2026, 1, 5, tzinfo=UTC)
def batch(start, n):
    return [SensorEvent(t0 + timedelta(seconds=start + i), "0x%016x" % (i % 9), SensorKind.PLUG,
                        float(i) if i % 2 else True, "zigbee2mqtt") for i in range(n)]
s = Store(sys.argv[1])
s.add_events(batch(0, 1000)); s.save_state("routines", b"v1"); s.commit()
s.add_events(batch(1000, 500)); s.commit()
print("committed", flush=True)
s.save_state("routines", b"v2-uncommitted")
i = 0
while True:  # an endless uncommitted batch, big enough to spill pages into the WAL
    s.add_events(batch(2000 + 200 * i, 200))
    i += 1
    if i == 50:
        print("writing", flush=True)
"""


def test_a_killed_process_keeps_every_committed_batch(db: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "committed"
        assert child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        if child.stdout:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert Path(f"{db}-wal").stat().st_size > 0  # the crash left a WAL behind to recover from
    with Store(db) as s:
        assert s.count_events() == 1500
        assert s.load_state("routines") == b"v1"
        assert s.events(limit=1)[0].time == datetime(2026, 1, 5, tzinfo=UTC) + timedelta(seconds=1499)
        s.add_events([ev(1)])
    assert integrity(db) == "ok"
    with Store(db) as s:
        assert s.count_events() == 1501


def test_a_full_database_raises_storage_full_and_resumes_after_space_is_freed(db: Path) -> None:
    store = Store(db)
    committed = day_of_events(2000)
    store.add_events(committed)
    store.add_alert(Alert(T0, "p1", "not_up", Severity.URGENT, Audience.CARE, "Not up yet."))
    store.commit()
    size = db.stat().st_size + Path(f"{db}-wal").stat().st_size
    store.set_max_bytes(size + 8192)  # SQLite's own limit: the same SQLITE_FULL a full card gives

    # What the service does: keep writing every ~2 s, and on an error keep the batch and retry it.
    pending: list[list[SensorEvent]] = []
    failures = 0
    for n in range(20):
        pending.append(day_of_events(400, T0 + timedelta(days=1, hours=n)))
        try:
            for chunk in pending:
                store.add_events(chunk)
            store.commit()
            pending = []
        except StorageFullError as exc:
            failures += 1
            assert "full" in str(exc) and str(db) in str(exc)
            assert store.uncommitted == 0  # the batch was rolled back as a whole
    assert failures > 0 and pending
    stored_while_full = store.count_events()
    assert store.events(until=T0 + timedelta(days=1)) == committed  # nothing committed was lost
    assert integrity(db) == "ok"

    store.set_max_bytes(None)  # space freed
    for chunk in pending:
        store.add_events(chunk)
    store.commit()
    store.close()
    with Store(db) as s:
        assert s.count_events() == stored_while_full + 400 * len(pending) == 2000 + 20 * 400
        assert len(s.alerts()) == 1
    assert integrity(db) == "ok"


def test_max_bytes_caps_the_file_so_the_sd_card_keeps_room(db: Path) -> None:
    with Store(db, max_bytes=256 * 1024) as s:
        s.add_events(day_of_events(500))
        s.commit()
        with pytest.raises(StorageFullError, match="size limit"):
            s.add_events(day_of_events(20_000, T0 + timedelta(days=1)))
        assert s.count_events() == 500
    assert db.stat().st_size <= 256 * 1024
    assert integrity(db) == "ok"


def test_a_read_only_database_rolls_back_the_whole_batch_and_keeps_committed_data(store: Store) -> None:
    store.add_events([ev(1)])
    store.commit()
    store.add_events([ev(2)])  # part of the batch that will fail
    store._conn.execute("PRAGMA query_only = ON")  # SQLite's SQLITE_READONLY, as on a read-only remount
    with pytest.raises(StorageReadOnlyError, match="read-only"):
        store.add_events([ev(3)])
    assert store.uncommitted == 0
    assert store.events() == [ev(1)]  # exactly the committed data: no half batch left open
    store._conn.execute("PRAGMA query_only = OFF")
    store.add_events([ev(2)])  # the caller retries its whole batch
    store.add_events([ev(3)])
    store.commit()
    assert store.events() == [ev(1), ev(2), ev(3)]


def test_a_second_writer_waits_then_gets_a_clear_busy_error(db: Path, store: Store) -> None:
    store.add_events([ev(1)])  # holds the write lock until commit
    other = Store(db)
    other._conn.execute("PRAGMA busy_timeout = 50")
    with pytest.raises(StorageBusyError, match="lock"):
        other.add_events([ev(2)])
    store.commit()
    other.add_events([ev(3)])
    other.close()
    assert store.events() == [ev(1), ev(3)]


@pytest.mark.parametrize(("message", "cls"), [
    ("database or disk is full", StorageFullError),
    ("attempt to write a readonly database", StorageReadOnlyError),
    ("database is locked", StorageBusyError),
    ("database disk image is malformed", StorageCorruptError),
    ("something else", StorageError),
])
def test_error_messages_map_to_storage_errors(message: str, cls: type[StorageError]) -> None:
    err = storage_error(sqlite3.OperationalError(message), "/var/lib/hearth/hearth.sqlite3", "add_events")
    assert type(err) is cls
    assert "/var/lib/hearth/hearth.sqlite3" in str(err) and message in str(err)


# ---- retention, backup, threads ------------------------------------------------------------------

def test_prune_removes_only_old_raw_events(db: Path) -> None:
    with Store(db, retention_days=30) as s:
        old, edge, recent = ev(0), ev(60 * 24 * 10), ev(60 * 24 * 35)
        s.add_events([old, edge, recent])
        s.add_alert(Alert(T0, "p1", "not_up", Severity.URGENT, Audience.CARE, "Not up."))
        s.update_health(DeviceHealth(T0, DOOR, "zigbee2mqtt", battery=50.0))
        s.add_rejection(Rejection(T0, "zigbee2mqtt", "not_json", "x"))
        s.save_state("routines", b"s")
        now = edge.time + timedelta(days=30)
        assert s.prune(now) == 1
        assert s.prune(now) == 0
    with Store(db, retention_days=30) as s:
        assert s.events() == [edge, recent]
        assert len(s.alerts()) == 1 and len(s.health()) == 1 and len(s.rejections()) == 1
        assert s.load_state("routines") == b"s"


def test_backup_is_a_consistent_copy_of_committed_data(tmp_path: Path, db: Path, store: Store) -> None:
    committed = day_of_events(5000)
    store.add_events(committed)
    store.save_state("routines", b"checkpoint")
    store.commit()
    store.add_events([ev(99999)])  # an open batch: not in the backup
    target = tmp_path / "backups" / "hearth-2026-01-05.sqlite3"
    target.parent.mkdir()
    store.backup_to(target)
    store.commit()
    assert integrity(target) == "ok"
    with Store(target) as copy:
        assert copy.events() == committed
        assert copy.load_state("routines") == b"checkpoint"
    assert sorted(p.name for p in target.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [target.name]
    with pytest.raises(ValueError):
        store.backup_to(db)


def test_many_threads_share_one_store(store: Store) -> None:
    def worker(k: int) -> None:
        for i in range(50):
            store.add_events([ev(k * 1000 + i, f"0x{k:016x}", bool(i % 2))])
            store.mark_seen(f"0x{k:016x}", T0 + timedelta(minutes=k * 1000 + i))
            if i % 10 == 0:
                store.commit()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.commit()
    assert store.count_events() == 300
    assert {h.sensor_id: h.last_seen for h in store.health()} == {
        f"0x{k:016x}": T0 + timedelta(minutes=k * 1000 + 49) for k in range(6)}


@pytest.mark.parametrize("module", [gateway.storage, gateway.storage_errors, gateway.storage_rows,
                                    gateway.storage_schema])
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_outcomes_are_kept_with_who_and_when(tmp_path: Path) -> None:
    with Store(tmp_path / "h.sqlite3") as s:
        s.record_outcome("p1:not_up:2026-01-05", "false_alarm", "sam", T0)
        s.record_outcome("p1:not_up:2026-01-05", "real", "jo", T0 + timedelta(minutes=5))  # latest wins
        s.record_outcome("p1:silence:2026-01-06", "false_alarm", "sam", T0)
        with pytest.raises(ValueError):
            s.record_outcome("p1:x", "maybe", "sam", T0)
        s.commit()
    with Store(tmp_path / "h.sqlite3") as s:
        assert s.outcomes() == {"p1:not_up:2026-01-05": ("real", "jo", T0 + timedelta(minutes=5)),
                                "p1:silence:2026-01-06": ("false_alarm", "sam", T0)}
