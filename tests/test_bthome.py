"""The BTHome v2 parser against the format's published test vectors (tests/fixtures/bthome/SOURCE.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.bthome import (
    MAX_SERVICE_DATA,
    OBJECTS,
    REASONS,
    BTHomeError,
    BTHomePacket,
    Form,
    Reading,
    encrypt_service_data,
    parse_service_data,
)

FIXTURES = Path(__file__).parent / "fixtures"

VECTORS = json.loads((FIXTURES / "bthome" / "vectors.json").read_text(encoding="utf-8"))


def _key(v: dict) -> bytes | None:
    return bytes.fromhex(v["key"]) if v["key"] else None


def _expected(v: dict) -> BTHomePacket:
    return BTHomePacket(
        encrypted=v["encrypted"],
        trigger_based=v["trigger_based"],
        readings=tuple(Reading(*r) for r in v["readings"]),
        mac=v["payload_mac"],
        counter=v["counter"],
        stopped_at=v["stopped_at"],
    )


@pytest.mark.parametrize("v", VECTORS["plain"] + VECTORS["encrypted"], ids=lambda v: v["name"])
def test_published_vectors_decode_to_documented_values(v: dict) -> None:
    assert parse_service_data(bytes.fromhex(v["hex"]), v["mac"], _key(v)) == _expected(v)


@pytest.mark.parametrize("v", VECTORS["bad"], ids=lambda v: v["name"])
def test_bad_vectors_are_refused_with_their_reason(v: dict) -> None:
    with pytest.raises(BTHomeError) as err:
        parse_service_data(bytes.fromhex(v["hex"]), v["mac"], _key(v))
    assert err.value.reason == v["reason"]
    assert err.value.reason in REASONS


def test_binary_values_follow_bthome_open_is_one() -> None:
    # BTHome: 1 = open (the opposite of zigbee2mqtt's contact: true = closed).
    assert parse_service_data(bytes.fromhex("401a01")).first("door") == Reading(0x1A, "door", True)
    assert parse_service_data(bytes.fromhex("402d00")).first("window") == Reading(0x2D, "window", False)


def test_packet_id_and_first_helpers() -> None:
    p = parse_service_data(bytes.fromhex("40005201643a01"))
    assert p.packet_id == 82
    assert p.first("battery", "voltage") == Reading(1, "battery", 100, "%")
    assert parse_service_data(bytes.fromhex("402301")).packet_id is None


def test_encrypting_reproduces_the_published_ciphertext() -> None:
    key = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
    for counter, hexed in ((1122867, "41e445f3c9962b332211006c7c4519"),
                           (1122868, "413e932cc7175f34221100553876af")):
        assert encrypt_service_data(bytes.fromhex("02ca0903bf13"), "54:48:E6:8F:80:A5", key, counter).hex() == hexed


def test_one_flipped_ciphertext_bit_fails_authentication() -> None:
    key = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
    data = bytearray.fromhex("41e445f3c9962b332211006c7c4519")
    data[3] ^= 0x01
    with pytest.raises(BTHomeError) as err:
        parse_service_data(bytes(data), "54:48:E6:8F:80:A5", key)
    assert err.value.reason == "wrong_key"


def test_same_key_other_mac_fails_authentication() -> None:
    key = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
    with pytest.raises(BTHomeError) as err:
        parse_service_data(bytes.fromhex("41e445f3c9962b332211006c7c4519"), "54:48:E6:8F:80:A6", key)
    assert err.value.reason == "wrong_key"


def test_oversized_and_empty() -> None:
    with pytest.raises(BTHomeError) as err:
        parse_service_data(b"\x40" + b"\x01\x64" * MAX_SERVICE_DATA)
    assert err.value.reason == "too_large"
    with pytest.raises(BTHomeError) as err:
        parse_service_data(b"")
    assert err.value.reason == "too_short"


def test_text_raw_timestamp_and_firmware_objects() -> None:
    text = parse_service_data(bytes.fromhex("44530c48656c6c6f20576f726c6421"))
    assert text.readings == (Reading(0x53, "text", "Hello World!"),)
    raw = parse_service_data(bytes.fromhex("44540c48656c6c6f20576f726c6421"))
    assert raw.readings == (Reading(0x54, "raw", "48656c6c6f20576f726c6421"),)
    ts = parse_service_data(bytes.fromhex("44505d396164"))
    assert ts.readings == (Reading(0x50, "timestamp", datetime(2023, 5, 14, 19, 41, 17, tzinfo=UTC)),)
    fw = parse_service_data(bytes.fromhex("40f100010204f2000106"))
    assert [r.value for r in fw.readings] == ["4.2.1.0", "6.1.0"]


def test_the_table_is_well_formed() -> None:
    for oid, spec in OBJECTS.items():
        assert 0 <= oid <= 0xFF
        assert spec.size > 0 or spec.form in (Form.TEXT, Form.RAW), spec
        if spec.form is Form.BINARY:
            assert spec.size == 1


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, bytes(16), bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")]))
def test_fuzz_never_crashes_only_bthome_errors(data: bytes, key: bytes | None) -> None:
    try:
        packet = parse_service_data(data, "54:48:E6:8F:80:A5", key)
    except BTHomeError as exc:
        assert exc.reason in REASONS
    else:
        assert isinstance(packet, BTHomePacket)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([k for k, s in OBJECTS.items() if s.size]), min_size=1, max_size=8), st.data())
def test_fuzz_well_formed_objects_round_trip_count(ids: list[int], data: st.DataObject) -> None:
    body = b"".join(bytes([i]) + data.draw(st.binary(min_size=OBJECTS[i].size, max_size=OBJECTS[i].size))
                    for i in ids)
    packet = parse_service_data(b"\x40" + body)
    assert [r.object_id for r in packet.readings] == ids
    # Cutting the last byte always yields a stable refusal, never a partial silent success.
    with pytest.raises(BTHomeError) as err:
        parse_service_data(b"\x40" + body[:-1])
    assert err.value.reason == "truncated"
