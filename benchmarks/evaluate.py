"""``hearth evaluate``: Hearth against fixed telecare rules, HalfSpaceTrees and IsolationForest, side by side.

For every recorded home: build the clean and the anomalous stream (:mod:`benchmarks.streams`), run
every system over both, score (:mod:`benchmarks.scoring`) and print one table per home and one
overall. Hearth runs through :func:`routines.replay.replay`, exactly as ``hearth replay`` does;
until the routine core lands its row says "pending" and the baselines still run.

>>> fmt_recall({"recall": 0.5, "n": 4})
'0.50 (4)'
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.homes import DEFAULT_DATA, HOMES, aware, load_home, local_seconds
from benchmarks.kits import BASIC, FULL, KITS, has_motion, kit_profile, kits_for
from benchmarks.scoring import summarize
from benchmarks.slots import SlotFeatures, run_hst, run_iforest, sensor_groups
from benchmarks.streams import KINDS, HomeProfile, Stream, build_streams, profile
from benchmarks.telecare import Detection, TelecareRules

TARGET_RECALL = 0.95
TARGET_FA_PER_30D = 1.0


LOHO_PRIORS: dict[str, object] = {}  # home -> the prior made from the other homes (filled by evaluate_home)
LOHO_NIGHT: dict[str, str] = {}  # home -> the default night hours made from the other homes (likewise)


def with_night_hours(home, hours: str | None):
    """``home`` with every person's night hours set to ``hours`` (what the technician left as default,
    made without this home: :func:`benchmarks.night_hours.leave_one_out`); unchanged for None."""
    import dataclasses

    if hours is None:
        return home
    return dataclasses.replace(home, people=tuple(dataclasses.replace(q, night_hours=hours) for q in home.people))


class Pending(Exception):
    """A system that cannot run yet (the routine core not merged)."""


def hearth_alerts(p: HomeProfile, stream: Stream, prior: object = None, settings: object = None,
                  night_hours: str | None = None) -> list[tuple[int, Any]]:
    """(local seconds, whole alert) of everything Hearth raises on one stream; ``prior``: the population
    prior to start from (the first-month figures pass one made without this home; default: the shipped
    one); ``night_hours``: likewise the default night hours made without this home."""
    try:
        from routines.replay import replay
    except ImportError as exc:
        raise Pending(f"routines.replay is not available yet ({exc})") from None
    from gateway.config import parse_config_text
    from sensors.events import SensorEvent

    cfg = parse_config_text(p.home.config_yaml(), f"{p.home.name}.yaml")
    home = with_night_hours(cfg.to_home(), night_hours or LOHO_NIGHT.get(p.home.name))
    tz = home.tz
    kinds = {s.id: s.kind for s in home.sensors}
    events = (SensorEvent(aware(t, tz), sid, kinds[sid], on, "replay") for t, sid, on in stream.events)
    return [(local_seconds(a.time.astimezone(tz).replace(tzinfo=None)), a)
            for a in replay(home, events, settings=settings or cfg.routines, tick_every_s=60, until=aware(stream.end, tz),
                            prior=prior or LOHO_PRIORS.get(p.home.name))]  # type: ignore[arg-type]


def detection(t: int, a: Any) -> Detection:
    """An alert as the scoring reads it."""
    return Detection(t, a.kind, str(a.severity), str(a.audience), a.key)


def run_hearth(p: HomeProfile, stream: Stream, seed: int, prior: object = None,
               settings: object = None, night_hours: str | None = None) -> list[Detection]:
    """Hearth on one stream, as the scoring reads it (see :func:`hearth_alerts`)."""
    return [detection(t, a) for t, a in hearth_alerts(p, stream, prior, settings, night_hours)]


def run_telecare(p: HomeProfile, stream: Stream, seed: int) -> list[Detection]:
    bedroom = {s.id for s in p.home.sensors if "bed" in s.room and s.kind != "bed"}
    rules = TelecareRules(set(p.bed), p.kitchen, p.front_door, bedroom)
    return rules.run(stream.events, stream.start, stream.end)


def _slot_rows(p: HomeProfile, stream: Stream):
    bedroom = {s.id for s in p.home.sensors if "bed" in s.room and s.kind != "bed"}
    return SlotFeatures(sensor_groups(p.home), bedroom).rows(stream.events, stream.start, stream.end)


def run_halfspacetrees(p: HomeProfile, stream: Stream, seed: int) -> list[Detection]:
    return run_hst(_slot_rows(p, stream), stream.test_start, seed)


def run_isolationforest(p: HomeProfile, stream: Stream, seed: int) -> list[Detection]:
    return run_iforest(_slot_rows(p, stream), stream.test_start, seed)


SYSTEMS: dict[str, Callable[[HomeProfile, Stream, int], list[Detection]]] = {
    "hearth": run_hearth,
    "telecare": run_telecare,
    "halfspacetrees": run_halfspacetrees,
    "isolationforest": run_isolationforest,
}


def evaluate_home(name: str, data: Path | str = DEFAULT_DATA, learning_days: int = 21, test_days: int = 200,
                  seed: int = 1, systems: tuple[str, ...] = tuple(SYSTEMS), kit: str = FULL) -> dict:
    """Evaluate every system on one recorded home in one kit (:mod:`benchmarks.kits`); a JSON-ready dict.
    Hearth starts from a population prior made without this home (leave-one-home-out), never the shipped
    one that contains it; the prior and the night hours are the same for both kits of a home."""
    if "hearth" in systems and name not in LOHO_PRIORS:
        from benchmarks.prior import leave_one_out

        LOHO_PRIORS[name] = leave_one_out(name, data)
    if "hearth" in systems and name not in LOHO_NIGHT:
        from benchmarks import night_hours

        LOHO_NIGHT[name] = night_hours.leave_one_out(name, str(data))
    rec = load_home(name, data)
    res = evaluate_profile(kit_profile(profile(rec), kit), learning_days, test_days, seed, systems)
    res["kit"] = kit if has_motion(rec) else BASIC
    return res


def evaluate_profile(p: HomeProfile, learning_days: int, test_days: int, seed: int,
                     systems: tuple[str, ...] = tuple(SYSTEMS)) -> dict:
    clean, anomalous, skipped = build_streams(p, learning_days, test_days, seed)
    out: dict = {"home": p.home.name, "kit": FULL, "skipped": skipped, "notes": p.home.notes,
                 "events": len(clean.events) + len(anomalous.events), "learning_days": learning_days,
                 "test_days": test_days, "injected": len(anomalous.truths), "systems": {}}
    for system in systems:
        t0 = time.perf_counter()
        try:
            on_anomalous = SYSTEMS[system](p, anomalous, seed)
            on_clean = SYSTEMS[system](p, clean, seed)
        except Pending as exc:
            out["systems"][system] = {"pending": str(exc)}
            continue
        res = summarize(anomalous.truths, on_anomalous, on_clean, clean.test_start, test_days)
        res["seconds"] = round(time.perf_counter() - t0, 2)
        out["systems"][system] = res
    return out


def overall(results: list[dict]) -> dict:
    """Pool the homes: recall per kind over all injected anomalies, false alarms as the mean per home."""
    systems: dict[str, dict] = {}
    for name in {s for r in results for s in r["systems"]}:
        rows = [r["systems"][name] for r in results if "kinds" in r["systems"].get(name, {})]
        if not rows:
            systems[name] = {"pending": next(r["systems"][name]["pending"] for r in results
                                             if name in r["systems"])}
            continue
        kinds = {}
        for kind in KINDS:
            n = sum(r["kinds"][kind]["n"] for r in rows if kind in r["kinds"])
            if n:
                det = sum(r["kinds"][kind]["detected"] for r in rows if kind in r["kinds"])
                delays = [r["kinds"][kind]["median_delay_min"] for r in rows
                          if kind in r["kinds"] and r["kinds"][kind]["median_delay_min"] is not None]
                kinds[kind] = {"n": n, "detected": det, "recall": det / n,
                               "median_delay_min": sorted(delays)[len(delays) // 2] if delays else None}
        n_all = sum(k["n"] for k in kinds.values())
        delays = [r["median_delay_min"] for r in rows if r["median_delay_min"] is not None]
        systems[name] = {
            "kinds": kinds,
            "recall": sum(k["detected"] for k in kinds.values()) / n_all if n_all else None,
            "median_delay_min": sorted(delays)[len(delays) // 2] if delays else None,
            "false_alarms_per_30d": sum(r["false_alarms_per_30d"] for r in rows) / len(rows),
            "worst_home_false_alarms_per_30d": max(r["false_alarms_per_30d"] for r in rows),
            "technical_per_30d": sum(r["technical_per_30d"] for r in rows) / len(rows),
        }
    return {"home": "overall", "systems": systems, "skipped": {}}


def fmt_recall(k: dict | None) -> str:
    return "-" if k is None else f"{k['recall']:.2f} ({k['n']})"


def _num(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def format_table(result: dict) -> str:
    """One home's (or the overall) table: a row per system, recall per kind with the number injected."""
    head = ["system", *KINDS, "recall", "delay min", "FA/30d", "tech/30d", "target"]
    rows = [head]
    for name in SYSTEMS:
        r = result["systems"].get(name)
        if r is None:
            continue
        if "pending" in r:
            rows.append([name, "pending: " + r["pending"]])
            continue
        row = [name]
        for kind in KINDS:
            row.append(f"skip: {result['skipped'][kind]}" if kind in result["skipped"]
                       else fmt_recall(r["kinds"].get(kind)))
        target = ""
        if name == "hearth" and r["recall"] is not None:
            ok = r["recall"] >= TARGET_RECALL and r.get("worst_home_false_alarms_per_30d",
                                                         r["false_alarms_per_30d"]) <= TARGET_FA_PER_30D
            target = "PASS" if ok else "MISS"
        row += [_num(r["recall"], 2), _num(r["median_delay_min"]), _num(r["false_alarms_per_30d"]),
                _num(r["technical_per_30d"]), target]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows if i < len(r) and len(r) > 2) for i in range(len(head))]
    lines = []
    for r in rows:
        if len(r) == 2:
            lines.append(f"{r[0]:<{widths[0]}}  {r[1]}")
        else:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)


def by_kit(results: list[dict], kits: tuple[str, ...] | list[str] = KITS) -> dict[str, list[dict]]:
    """kit -> one result per home in that kit; a home with one kit only (no motion sensor) is in each.
    What the homes are pooled over for an overall figure per kit."""
    out: dict[str, list[dict]] = {}
    homes = list(dict.fromkeys(r["home"] for r in results))
    for kit in (k for k in kits if k != BASIC):  # a home's only kit is pooled into each of the others
        rows = [next((r for r in results if r["home"] == h and r.get("kit", FULL) in (kit, BASIC)), None)
                for h in homes]
        if any(r is not None and r.get("kit", FULL) == kit for r in rows):
            out[kit] = [r for r in rows if r is not None]
    return out or {BASIC: results}  # no home here has motion sensors: their one kit


def report(results: list[dict], total: dict | list[dict]) -> str:
    """One table per home and kit, then the overall one(s) (a list: one per kit, as :func:`main` makes)."""
    out = []
    for r in [*results, *(total if isinstance(total, list) else [total])]:
        title = r["home"] + (f" ({r['kit']} kit)" if "kit" in r else "")
        if r["home"] != "overall":
            title += (f": {r['events']:,} events, {r['learning_days']} learning + {r['test_days']} test days, "
                      f"{r['injected']} anomalies injected")
        out += [f"== {title}", format_table(r), ""]
    out.append(f"Targets for Hearth: recall >= {TARGET_RECALL} and <= {TARGET_FA_PER_30D:g} false alarm per "
               "30 days in every home. Recall cells: fraction detected within the kind's deadline (number "
               "injected): collapse 4 h, not up 3 h after the real getting-up time, night bed exit 60 min, night "
               "door 45 min, no kitchen by 21:00 (benchmarks.scoring.DEADLINE_S).")
    return "\n".join(out)


def main(data: Path | str = DEFAULT_DATA, days: int = 200, learning_days: int = 21, seed: int = 1,
         homes: tuple[str, ...] = tuple(HOMES), systems: tuple[str, ...] = tuple(SYSTEMS),
         json_out: Path | str | None = None, echo: Callable[[str], None] = print,
         kits: tuple[str, ...] = KITS) -> dict:
    """Every home in each of ``kits`` it has (:func:`benchmarks.kits.kits_for`); the overall per kit."""
    results = []
    for name in homes:
        for kit in kits_for(load_home(name, data), kits):
            t0 = time.perf_counter()
            results.append(evaluate_home(name, data, learning_days, days, seed, systems, kit))
            echo(f"[{name}, {results[-1]['kit']} kit: {time.perf_counter() - t0:.1f} s]")
    totals = [{**overall(rows), "kit": kit} for kit, rows in by_kit(results, kits).items()]
    total = totals[0]
    echo(report(results, totals))
    if "hearth" in systems:  # issue 14: the first 28 days after installing, leave-one-home-out prior
        from benchmarks.first_month import first_month
        from benchmarks.first_month import table as first_table

        echo("")
        echo(first_table([first_month(name, data, seed) for name in homes]))
    doc = {"seed": seed, "days": days, "learning_days": learning_days, "homes": results, "overall": total,
           "overall_by_kit": totals}
    if json_out:
        Path(json_out).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return doc
