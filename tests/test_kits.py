"""The kit without motion sensors (issue 11, decision 3): as if they had never been installed, on the same days.

Fast: a generated home (two PIRs, one of them on the night route to the toilet) and, where the recorded
data is on this machine, house B's recording; no evaluation is run, only streams are built and a table
is printed from the telecare rules on a short generated stream.
"""

from __future__ import annotations

import dataclasses

import pytest

from benchmarks import evaluate, seeds
from benchmarks.homes import DEFAULT_DATA, load_home
from benchmarks.kits import BASIC, FULL, NO_BED, NO_DOOR, NO_MOTION, kit_profile, kits_for, without_motion
from benchmarks.streams import build_streams, profile
from benchmarks.synthetic import synthetic_home
from gateway.config import parse_config_text


def _truth(t) -> tuple:
    return (t.kind, t.onset, t.deadline, t.stream_day, t.source_day, t.start)


def _check_kit(full_p) -> None:
    """The no-motion kit of ``full_p``: no motion sensor in the config or any stream, every other sensor's
    events exactly as in the full kit, the same anomalies at the same moments."""
    motion = {s.id for s in full_p.home.sensors if s.kind == "motion"}
    assert motion, "the home under test must have motion sensors"
    p = kit_profile(full_p, NO_MOTION)
    cfg = parse_config_text(p.home.config_yaml(), "kit.yaml")
    assert {s.id for s in cfg.sensors} == {s.id for s in full_p.home.sensors} - motion
    assert all(s.kind != "motion" for s in cfg.sensors) and not p.motion and not p.kitchen & motion
    assert p.home.events == [e for e in full_p.home.events if e[1] not in motion]
    for d, full_d in zip(p.days, full_p.days, strict=True):  # the same days, their markers unchanged
        assert d.events == [e for e in full_d.events if e[1] not in motion]
        assert (d.wake, d.bedtime, d.first_kitchen) == (full_d.wake, full_d.bedtime, full_d.first_kitchen)
        assert not set(d.start_state) & motion
    clean_full, anom_full, skipped_full = build_streams(full_p, 7, 30, seed=4)
    clean, anom, skipped = build_streams(p, 7, 30, seed=4)
    assert skipped == skipped_full
    assert clean.sources == clean_full.sources  # the same day order
    assert clean.events == [e for e in clean_full.events if e[1] not in motion]
    assert [_truth(t) for t in anom.truths] == [_truth(t) for t in anom_full.truths] != []
    assert not {e[1] for e in anom.events} & motion
    # every other sensor's events exactly; where the home's only night route is a PIR, the kit takes the
    # step after an injected bed exit on another sensor it has, if any (else there is no step to take)
    kept = [e for e in anom_full.events if e[1] not in motion]
    if full_p.night_route in motion and p.night_route is not None:
        assert p.night_route not in motion
        steps = {(t.onset + dt, p.night_route, on) for t in anom.truths if t.kind == "night_bed_exit"
                 for dt, on in ((40, True), (45, False))}
        assert steps and set(anom.events) - set(kept) <= steps
        assert [e for e in anom.events if e not in steps] == [e for e in kept if e not in steps]
    else:
        assert anom.events == kept


def test_generated_home_without_its_motion_sensors():
    home = synthetic_home(days=20, seed=3)
    full_p = profile(home)
    assert full_p.night_route == "toilet_flush"  # not the bathroom PIR: a step both kits see
    _check_kit(full_p)
    assert kit_profile(full_p, FULL) is full_p
    assert kits_for(home) == [FULL, NO_MOTION] and kits_for(home, [NO_MOTION]) == [NO_MOTION]
    assert kits_for(without_motion(home)) == [BASIC]  # a home without motion sensors: one kit


def test_a_home_whose_only_night_route_is_a_pir():
    home = synthetic_home(days=20, seed=3)
    home.sensors = [s for s in home.sensors if s.id != "toilet_flush"]
    home.events = [e for e in home.events if e[1] != "toilet_flush"]
    full_p = profile(home)
    assert full_p.night_route == "pir_bathroom"
    _check_kit(full_p)


@pytest.mark.skipif(not (DEFAULT_DATA / "vankasteren-2010-houseABC").is_dir(), reason="no recorded data here")
def test_house_b_without_its_pirs():
    _check_kit(profile(load_home("vk2010-B")))


def test_seeds_table_prints_each_home_in_each_kit():
    """Each home in each of its kits; one overall per kit, pooling the home that has one kit only."""
    home = synthetic_home(days=20, seed=2)
    plain = dataclasses.replace(without_motion(home), name="plain")
    by_seed = {}
    for seed in (1, 2):
        by_seed[seed] = []
        for h in (plain, home):
            for kit in kits_for(h):
                res = evaluate.evaluate_profile(kit_profile(profile(h), kit), 7, 12, seed, ("telecare",))
                by_seed[seed].append({**res, "kit": kit})
    text = seeds.table(by_seed, ["telecare"])
    for kit in (FULL, NO_MOTION):
        assert f"telecare         synthetic  {kit:<14}" in text
        assert f"telecare         overall    {kit:<14}" in text
    assert f"telecare         plain      {BASIC:<14}" in text and f"overall    {BASIC}" not in text
    kinds = seeds.kind_table(by_seed, "telecare").splitlines()
    assert [line.split()[:2] for line in kinds[2:]] == [["plain", BASIC], ["synthetic", FULL],
                                                        ["synthetic", NO_MOTION]]
    pooled = evaluate.by_kit(by_seed[1])
    assert [[(r["home"], r["kit"]) for r in rows] for rows in pooled.values()] == [
        [("plain", BASIC), ("synthetic", FULL)], [("plain", BASIC), ("synthetic", NO_MOTION)]]


def test_hearth_evaluate_refuses_an_unknown_kit(tmp_path, capsys):
    from gateway.cli import main

    assert main(["evaluate", "--data", str(tmp_path), "--kits", "full", "pir-only"]) == 2
    assert "unknown home/system/kit ['pir-only']" in capsys.readouterr().err


def test_the_no_bed_probe_is_the_home_without_its_mats_on_the_same_days() -> None:
    home = synthetic_home(days=12, seed=2)
    assert kits_for(home) == [FULL, NO_MOTION]  # only when asked for
    assert kits_for(home, [NO_BED]) == [NO_BED] and kits_for(home, [FULL, NO_BED]) == [FULL, NO_BED]
    assert kits_for(without_motion(home), [NO_BED]) == [NO_BED]
    full_p = profile(home)
    p = kit_profile(full_p, NO_BED)
    cfg = parse_config_text(p.home.config_yaml(), "kit.yaml")
    assert {s.id for s in cfg.sensors} == {s.id for s in home.sensors} - {"bed"} and p.bed == []
    assert all(e[1] != "bed" for d in p.days for e in d.events)
    assert [d.wake for d in p.days] == [d.wake for d in full_p.days]  # facts of the day, from the mats
    _, anom, skipped = build_streams(p, 7, 20, seed=3)
    assert set(skipped) == {"not_up", "night_bed_exit"} and all(e[1] != "bed" for e in anom.events)
    bare = dataclasses.replace(home, sensors=[s for s in home.sensors if s.kind != "bed"])
    assert kits_for(bare, [NO_BED]) == []  # no mats: nothing to probe


def test_the_no_door_probe_is_the_home_blind_to_going_out() -> None:
    home = synthetic_home(days=12, seed=2)
    assert kits_for(home, [NO_DOOR]) == [NO_DOOR] and kits_for(home, [NO_BED, NO_DOOR]) == [NO_BED, NO_DOOR]
    p = kit_profile(profile(home), NO_DOOR)
    assert p.front_door is None and p.departures == [] and p.bed == ["bed"]
    assert all(s.role != "front_door" for s in p.home.sensors)
    assert all(e[1] != "front_door" for e in p.home.events)
    skipped = build_streams(p, 7, 20, seed=3)[2]
    assert set(skipped) == {"night_door_exit", "not_back"}
