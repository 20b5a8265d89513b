"""deploy/raspberrypi: shellcheck, systemd-analyze verify/security, and install.sh into a throwaway root.

The tests run as root here, so install.sh's chown into the prefix is real; owners are checked as
the numeric ids the prefix's own /etc/passwd and /etc/group give.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker import free_port
from tests.conftest import PATIENCE_S

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "raspberrypi"
INSTALL = DEPLOY / "install.sh"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def need(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        pytest.fail(f"{tool} is not installed: run `bash scripts/setup.sh --test`")
    return found


def install(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "HEARTH_SERIAL_DIR": str(root.parent / "no-serial"), **(env or {})}
    return subprocess.run(["bash", str(INSTALL), "--root", str(root), "--no-packages", "--skip-pip", *args],
                          capture_output=True, text=True, env=full_env, timeout=120, check=False)


def snapshot(root: Path) -> dict[str, tuple[int, int, int, int, str]]:
    """Every path under root: mode, uid, gid, mtime and content hash (or link target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            digest = "-> " + os.readlink(path)
        elif path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            digest = "dir"
        out[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, digest)
    return out


def ids(root: Path, table: str, name: str) -> int:
    for line in (root / "etc" / table).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise AssertionError(f"{name} not in {root}/etc/{table}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("pi") / "root"
    root.mkdir()
    result = install(root)
    assert result.returncode == 0, result.stderr
    return root, result


# ---- static checks -----------------------------------------------------------------------------

def test_shellcheck_every_script() -> None:
    scripts = [*sorted(DEPLOY.rglob("*.sh")), REPO / "scripts" / "setup.sh"]
    assert INSTALL in scripts
    result = subprocess.run([need("shellcheck"), "--severity=style", *map(str, scripts)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_is_clean(unit: Path, tmp_path: Path) -> None:
    # ExecStart's binary must exist for verify: point a test copy at a throwaway executable
    text = unit.read_text()
    for exe in set(re.findall(r"^ExecStart=(\S+)", text, re.M)):
        fake = tmp_path / Path(exe).name
        fake.write_text("#!/bin/sh\n")
        fake.chmod(0o755)
        text = text.replace(f"ExecStart={exe}", f"ExecStart={fake}")
    copy = tmp_path / unit.name
    copy.write_text(text)
    result = subprocess.run([need("systemd-analyze"), "verify", str(copy)], capture_output=True, text=True,
                            check=False)
    problems = [line for line in (result.stderr + result.stdout).splitlines() if unit.name in line]
    assert result.returncode == 0 and problems == [], result.stderr


def exposure(unit: Path) -> float:
    result = subprocess.run([need("systemd-analyze"), "security", "--offline=true", "--no-pager", str(unit)],
                            capture_output=True, text=True, check=False)
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_hardened_to_exposure_2_or_less(unit: Path) -> None:
    assert exposure(unit) <= 2.0


def test_exposure_parser_sees_an_unhardened_unit(tmp_path: Path) -> None:
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/bin/true\n")
    assert exposure(bare) > 8.0


def test_hearth_unit_has_the_required_settings() -> None:
    text = (DEPLOY / "systemd" / "hearth.service").read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert settings["Type"] == "notify"
    assert settings["Restart"] == "on-failure"
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"  # a reload never ends monitoring
    assert settings["WatchdogSec"] == "60s"
    assert settings["CapabilityBoundingSet"] == ""
    assert settings["RestrictAddressFamilies"] == "AF_UNIX AF_INET AF_INET6"
    assert settings["UMask"] == "0077"
    assert settings["StateDirectory"] == settings["ConfigurationDirectory"] == "hearth"


# ---- install.sh into a throwaway root ----------------------------------------------------------

EXPECTED = {  # path: (mode, user, group)
    "etc/hearth": (0o750, "root", "hearth"),
    "etc/hearth/secrets": (0o750, "root", "hearth"),
    "etc/hearth/secrets/mqtt_password": (0o640, "root", "hearth"),
    "etc/hearth/secrets/zigbee2mqtt_mqtt_password": (0o600, "root", "root"),
    "etc/hearth/home.yaml": (0o640, "root", "hearth"),
    "var/lib/hearth": (0o700, "hearth", "hearth"),
    "var/lib/hearth/backups": (0o700, "hearth", "hearth"),
    "etc/mosquitto/conf.d/hearth.conf": (0o644, "root", "root"),
    "etc/mosquitto/hearth.passwd": (0o640, "root", "root"),  # group mosquitto when mosquitto is installed
    "etc/systemd/system/hearth.service": (0o644, "root", "root"),
    "etc/systemd/journald.conf.d/hearth.conf": (0o644, "root", "root"),
    "opt/hearth": (0o755, "root", "root"),
    "opt/hearth/docs/raspberrypi.md": (0o644, "root", "root"),
}


def test_install_lays_down_files_owners_and_modes(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, _ = installed
    for rel, (mode, user, group) in EXPECTED.items():
        st = (root / rel).stat()
        assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == (
            oct(mode), ids(root, "passwd", user) if user != "root" else 0,
            ids(root, "group", group) if group != "root" else 0), rel
    passwd_line = next(line for line in (root / "etc/passwd").read_text().splitlines() if line.startswith("hearth:"))
    assert passwd_line.endswith(":/var/lib/hearth:/usr/sbin/nologin")
    assert ids(root, "passwd", "hearth") < 1000  # a system user
    assert (root / "opt/hearth/venv/bin/python").exists()
    assert os.readlink(root / "usr/local/bin/hearth") == "/opt/hearth/venv/bin/hearth"
    wants = root / "etc/systemd/system/multi-user.target.wants/hearth.service"
    assert os.readlink(wants) == "/etc/systemd/system/hearth.service"
    assert (root / "etc/mosquitto/conf.d/hearth.conf").read_bytes() == (DEPLOY / "mosquitto/hearth.conf").read_bytes()
    assert len((root / "etc/hearth/secrets/mqtt_password").read_text()) >= 24


def test_installed_config_passes_check_config(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, _ = installed
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "check-config", str(root / "etc/hearth/home.yaml")],
                            capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert ": OK: 1 person(s), 0 sensor(s)" in result.stdout


def test_second_run_changes_nothing(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, first = installed
    assert "done: 0 change(s)" not in first.stdout
    before = snapshot(root)
    again = install(root)
    assert again.returncode == 0, again.stderr
    assert "done: 0 change(s)" in again.stdout
    assert snapshot(root) == before


def test_rerun_repairs_a_wrong_mode_and_keeps_the_secret(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    assert install(root).returncode == 0
    secret = (root / "etc/hearth/secrets/mqtt_password").read_text()
    (root / "etc/hearth/secrets/mqtt_password").chmod(0o644)
    (root / "etc/hearth/home.yaml").write_text("# the technician's own config\n")
    again = install(root)
    assert "done: 1 change(s)" in again.stdout, again.stdout
    assert (root / "etc/hearth/secrets/mqtt_password").stat().st_mode & 0o777 == 0o640
    assert (root / "etc/hearth/secrets/mqtt_password").read_text() == secret
    assert (root / "etc/hearth/home.yaml").read_text() == "# the technician's own config\n"


def test_dry_run_prints_every_step_and_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = install(root, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert list(root.iterdir()) == []
    for step in ("would create system user hearth", "would create directory /etc/hearth",
                 "would create directory /var/lib/hearth", "would generate a random secret in /etc/hearth/secrets/mqtt_password",
                 "would install /etc/mosquitto/conf.d/hearth.conf", "would install /etc/systemd/journald.conf.d/hearth.conf",
                 "would create venv /opt/hearth/venv", "would install /etc/systemd/system/hearth.service",
                 "would run: systemctl --root=", "dry run finished: nothing was changed"):
        assert step in result.stdout, step


@pytest.mark.parametrize(("env", "what"), [
    ({"HEARTH_ARCH": "armv7l"}, "this is a 32-bit system (armv7l)"),
    ({"HEARTH_ARCH": "armv6l"}, "this is a 32-bit system (armv6l)"),
    ({"HEARTH_ARCH": "aarch64", "HEARTH_USERLAND_ARCH": "armhf"}, "the kernel is 64-bit (aarch64) but the OS is 32-bit (armhf)"),
])
def test_32_bit_refused_at_once(tmp_path: Path, env: dict[str, str], what: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = install(root, env=env)
    assert result.returncode == 3
    assert what in result.stderr
    assert "no 32-bit ARM wheels" in result.stderr and "Raspberry Pi OS (64-bit)" in result.stderr
    assert list(root.iterdir()) == []  # stopped before touching anything


def test_64_bit_arm_accepted(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = install(root, "--dry-run", env={"HEARTH_ARCH": "aarch64", "HEARTH_USERLAND_ARCH": "arm64"})
    assert result.returncode == 0, result.stderr


def test_full_sd_card_says_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = install(root, env={"HEARTH_MIN_FREE_MB": str(10**9)})
    assert result.returncode == 1
    assert "the SD card is full" in result.stderr and "What to do: free space" in result.stderr
    assert list(root.iterdir()) == []


def test_no_network_says_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    env = {**os.environ, "HEARTH_NET_HOST": "hearth-no-such-host.invalid", "HEARTH_SERIAL_DIR": str(tmp_path)}
    # without --skip-pip Hearth's packages must be downloaded: the network check stops it first
    result = subprocess.run(["bash", str(INSTALL), "--root", str(root), "--no-packages"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 1
    assert "no network: cannot reach hearth-no-such-host.invalid" in result.stderr
    assert "What to do: connect the Pi to the internet" in result.stderr
    assert not (root / "opt/hearth/venv").exists()  # stopped before building the venv


def test_missing_coordinator_warns_with_the_step(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, result = installed
    assert "no Zigbee USB coordinator found" in result.stderr
    assert "plug the coordinator" in result.stderr


def test_zigbee2mqtt_configured_when_present(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "opt/zigbee2mqtt").mkdir(parents=True)
    (root / "opt/zigbee2mqtt/package.json").write_text('{"name": "zigbee2mqtt", "version": "2.6.0"}\n')
    serial = tmp_path / "by-id"
    serial.mkdir()
    stick = serial / "usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_V2_abc-if00-port0"
    stick.symlink_to("/dev/null")
    result = install(root, env={"HEARTH_SERIAL_DIR": str(serial)})
    assert result.returncode == 0, result.stderr
    assert f"Zigbee coordinator: {stick}" in result.stdout
    conf = (root / "opt/zigbee2mqtt/data/configuration.yaml").read_text()
    assert f"port: {stick}\n" in conf and "user: zigbee2mqtt" in conf
    secret = (root / "etc/hearth/secrets/zigbee2mqtt_mqtt_password").read_text()
    assert (root / "opt/zigbee2mqtt/data/secret.yaml").read_text() == f"mqtt_password: {secret}\n"
    z2m = ids(root, "passwd", "zigbee2mqtt")
    st = (root / "opt/zigbee2mqtt/data/secret.yaml").stat()
    assert (st.st_mode & 0o777, st.st_uid) == (0o600, z2m)
    assert (root / "etc/systemd/system/multi-user.target.wants/zigbee2mqtt.service").is_symlink()
    assert install(root, env={"HEARTH_SERIAL_DIR": str(serial)}).stdout.count("done: 0 change(s)") == 1


# ---- the installed broker config, run by a real mosquitto ------------------------------------------

def _connect(port: int, user: str | None, password: str | None) -> mqtt.ReasonCode | int:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"deploy-test-{user}")
    if user is not None:
        client.username_pw_set(user, password)
    outcome: dict[str, object] = {}
    client.on_connect = lambda c, u, f, rc, p: outcome.setdefault("rc", rc)
    client.connect("127.0.0.1", port, keepalive=10)
    for _ in range(int(PATIENCE_S / 0.05)):  # the CONNACK, however busy the machine
        client.loop(timeout=0.05)
        if "rc" in outcome:
            break
    client.disconnect()
    return outcome["rc"]  # type: ignore[return-value]


@contextlib.contextmanager
def installed_broker(root: Path, tmp_path: Path) -> Iterator[int]:
    """mosquitto running the installed hearth.conf (on a free port, its own persistence dir)."""
    port = free_port()
    conf = (root / "etc/mosquitto/conf.d/hearth.conf").read_text()
    assert "listener 1883 127.0.0.1\n" in conf
    conf = conf.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    conf = conf.replace("/etc/mosquitto/hearth.passwd", str(root / "etc/mosquitto/hearth.passwd"))
    # the pytest tmp dir is root's; on the Pi the file's group is mosquitto, which the broker runs as
    conf += f"persistence_location {tmp_path}/\nuser root\n"
    (tmp_path / "m.conf").write_text(conf)
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(tmp_path / "m.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(int(PATIENCE_S / 0.05)):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(PATIENCE_S)


def test_installed_mosquitto_config_needs_the_installed_passwords(
        installed: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    root, _ = installed
    with installed_broker(root, tmp_path) as port:
        hearth_pw = (root / "etc/hearth/secrets/mqtt_password").read_text()
        z2m_pw = (root / "etc/hearth/secrets/zigbee2mqtt_mqtt_password").read_text()
        assert _connect(port, "hearth", hearth_pw) == 0
        assert _connect(port, "zigbee2mqtt", z2m_pw) == 0
        assert _connect(port, "hearth", "wrong") != 0
        assert _connect(port, None, None) != 0  # no anonymous clients


def _client(port: int, user: str, password: str, client_id: str, persistent: bool) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent,
                    protocol=mqtt.MQTTv311)
    c.username_pw_set(user, password)
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    return c


def _settle(pred: Callable[[], bool], within: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + within
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_installed_broker_keeps_a_burst_for_a_restarting_gateway(
        installed: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    """Well above the old queue limits: zigbee2mqtt keeps publishing while the gateway is away, and
    the gateway's persistent session gets every message when it is back; the broker dropped none."""
    root, _ = installed
    hearth_pw = (root / "etc/hearth/secrets/mqtt_password").read_text()
    z2m_pw = (root / "etc/hearth/secrets/zigbee2mqtt_mqtt_password").read_text()
    burst = 12_000  # above the 10000 this config once held (and mosquitto's default 1000)
    with installed_broker(root, tmp_path) as port:
        gw = _client(port, "hearth", hearth_pw, "hearth-gateway", persistent=True)
        subscribed: list[int] = []
        gw.on_subscribe = lambda c, u, mid, rc, p: subscribed.append(mid)
        gw.subscribe("zigbee2mqtt/#", qos=1)
        _settle(lambda: bool(subscribed))
        gw.disconnect()  # the gateway restarts...
        gw.loop_stop()
        z2m = _client(port, "zigbee2mqtt", z2m_pw, "z2m", persistent=False)
        for i in range(burst):  # ...while sensors go on
            z2m.publish(f"zigbee2mqtt/plug{i % 7}", str(i), qos=1)
        z2m.publish("zigbee2mqtt/last", "end", qos=1).wait_for_publish(30)
        got: list[bytes] = []
        dropped: list[bytes] = []
        back = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hearth-gateway", clean_session=False,
                           protocol=mqtt.MQTTv311)
        back.username_pw_set("hearth", hearth_pw)
        back.on_message = lambda c, u, m: (dropped if m.topic.startswith("$SYS") else got).append(m.payload)
        back.connect("127.0.0.1", port)
        back.loop_start()
        try:
            _settle(lambda: len(got) == burst + 1)
            back.subscribe("$SYS/broker/publish/messages/dropped", qos=0)
            _settle(lambda: bool(dropped))
        finally:
            back.disconnect()
            back.loop_stop()
            z2m.disconnect()
            z2m.loop_stop()
    assert sorted(int(p) for p in got if p != b"end") == list(range(burst))
    assert dropped[-1] == b"0"


# ---- scripts/setup.sh stops on a failure and on Ctrl-C ---------------------------------------------

@pytest.fixture(scope="module")
def setup_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scripts/setup.sh in a throwaway checkout with a real venv (pip included) already made."""
    repo = tmp_path_factory.mktemp("checkout")
    (repo / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    shutil.copy2(REPO / "pyproject.toml", repo / "pyproject.toml")
    subprocess.run(["python3", "-m", "venv", str(repo / ".venv")], check=True, timeout=120)
    return repo


def pip_env(index_port: int) -> dict[str, str]:
    # pip sees only an index on loopback: no cache, no machine pip config, no retries
    return {**os.environ, "PIP_INDEX_URL": f"http://127.0.0.1:{index_port}/simple/", "PIP_NO_CACHE_DIR": "1",
            "PIP_CONFIG_FILE": os.devnull, "PIP_RETRIES": "0", "PIP_TIMEOUT": "60"}


def test_setup_stops_with_a_message_when_pip_fails(setup_copy: Path) -> None:
    result = subprocess.run(["bash", str(setup_copy / "scripts" / "setup.sh")], capture_output=True, text=True,
                            env=pip_env(free_port()), timeout=300, check=False)  # nothing listens: pip fails
    assert result.returncode == 1, result.stdout + result.stderr
    assert ("setup: ERROR: pip could not install Hearth into .venv (see above): check the network and free "
            "space, then run this again") in result.stderr
    assert "setup: ready" not in result.stdout


def test_setup_stops_on_ctrl_c(setup_copy: Path) -> None:
    with socket.socket() as index:  # an index that accepts and never answers: pip waits on it
        index.bind(("127.0.0.1", 0))
        index.listen(8)
        index.settimeout(120)
        proc = subprocess.Popen(["bash", str(setup_copy / "scripts" / "setup.sh")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=pip_env(index.getsockname()[1]),
                                start_new_session=True)
        try:
            conn, _ = index.accept()  # pip is mid-install now
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
            out, err = proc.communicate(timeout=60)
            conn.close()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 130, out + err
    assert "setup: interrupted (Ctrl-C): stopped; run it again to finish" in err
    assert "setup: ready" not in out and "going on" not in out
