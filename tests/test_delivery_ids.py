"""Message ids derive from the alert: the same alert raised again (later, with the policy's state lost in a
crash) repeats the same ids; the same key coming back after it was resolved is a new episode, new ids."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alerts.notifiers.ntfy import sequence_id_for
from tests.test_delivery import make, urgent


def ids(delivery, key: str = "p1:not_up") -> set[str]:
    return {r.message.message_id for r in delivery.outbox.for_alert(key) if r.message.replaces is None}


async def test_a_re_raise_after_a_crash_repeats_the_ids_and_a_new_episode_does_not(tmp_path: Path) -> None:
    delivery, clock, inbox = make(tmp_path)
    assert delivery.submit(urgent()).action == "opened"
    first = ids(delivery)
    assert len(first) == 1  # Sam, the chain's head (Jo is step 1)

    delivery.policy.alerts.clear()  # the policy's state was lost: the gateway died before saving it
    clock.t += timedelta(hours=1)
    again = urgent(msg="Still not up.")
    again.time = clock.t  # the routine core raises it again, an hour later
    assert delivery.submit(again).action == "opened"
    assert ids(delivery) == first  # same ids: nothing new queued, receivers can drop a repeat
    await delivery.tick()
    assert [m.message_id for m, _ in inbox.got] == sorted(first)
    assert {sequence_id_for(i) for i in ids(delivery)} == {sequence_id_for(i) for i in first}

    delivery.resolve("p1:not_up", by="sam", at=clock.now())
    clock.t += timedelta(hours=7)  # past reopen_after: the same key is a new situation
    assert delivery.submit(urgent(msg="Not up again.")).action == "opened"
    assert len(ids(delivery)) == 2 and first < ids(delivery)
    delivery.close()
