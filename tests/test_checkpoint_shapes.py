"""A checkpoint written before the state's shape changed restores: the limits then a string-keyed dict
(``PersonState.thr``, now :class:`routines.limits.Thresholds`), the 'not back' and waiting situations' fields
then loose on the person (now ``PersonState.not_back`` and ``PersonState.waiting``). The gateway reads it, the
learned state is carried over, and the alerts after it are those of an uninterrupted run.

The fixture is the real checkpoint of the first half of the stream below, written by the code of commit
b4ae037 (the last with the old shape), with the same generator and seed.
"""

from __future__ import annotations

from pathlib import Path

from test_routines_days import at, make_home, month
from test_routines_month import START

from gateway.checkpoint import unpack
from routines.engine import RoutineEngine
from routines.limits import Thresholds
from routines.replay import replay_into

OLD = Path(__file__).parent / "fixtures" / "routines_checkpoint_b4ae037.bin"


def _rows() -> list[tuple[float, str, bool | float]]:
    def odd_days(i, d, day):  # as tests/test_routines_month.py's restore test: a late day, a day without meals
        if i == 16:
            return [e for e in day if e[0] >= at(d, 12.0)]
        if i == 19:
            return [e for e in day if not e[1].startswith(("kitchen", "fridge", "kettle"))]
        return day

    return [(e.time.timestamp(), e.sensor_id, e.value) for e in month(START, 22, seed=4, edit=odd_days)]


def test_a_checkpoint_of_the_old_shape_restores_to_the_same_alerts() -> None:
    rows = _rows()
    whole = [a.to_json() for a in replay_into(RoutineEngine(make_home()), rows)]
    assert {a["kind"] for a in whole} >= {"not_up", "no_meal"}  # both fall in the part after the checkpoint
    ck = unpack(OLD.read_bytes())  # the gateway's path: a bare engine blob is format 1
    again = RoutineEngine.restore(make_home(), ck.engine)
    p = again._persons["p1"]
    assert isinstance(p.thr, Thresholds) and p.thr.wait_s and p.thr.wake_q_by_type != (0.0, 0.0)
    assert p.not_back.model.n > 0 and p.waiting.models and p.waiting.closed is not None  # learned, carried over
    cut = len(rows) // 2
    first = [a.to_json() for a in replay_into(RoutineEngine(make_home()), rows[:cut])]
    assert first + [a.to_json() for a in replay_into(again, rows[cut:])] == whole


def test_the_old_dict_keeps_the_situations_previous_limits_and_drops_its_caches() -> None:
    thr = Thresholds.from_dict({"wait_s": {"stood_up": 2700.0}, "wake_q": 210.0, "_epochs": {"day": 0.0},
                                "_outing": {"start": 1.0}, "minutes_out_q": 30.0})  # a key removed since
    assert (thr.wait_s, thr.wake_q, thr.epochs, thr.outing) == ({"stood_up": 2700.0}, 210.0, None, None)
