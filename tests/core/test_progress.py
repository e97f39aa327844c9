"""Step loops report to the observer of their context and stop when it raises `Cancelled` (every
registered refiner runs through them: tests/contract/test_contract_refiners.py)."""

from __future__ import annotations

import threading

import pytest

from ganinv.core.progress import Cancelled, observe_steps, steps


def test_steps_is_a_plain_range_without_an_observer():
    assert list(steps(4, "x")) == [0, 1, 2, 3]


def test_observer_sees_every_step_before_it_runs_and_can_stop_the_loop():
    seen, done = [], []

    def observer(desc: str, step: int, total: int) -> None:
        seen.append((desc, step, total))
        if step == 2:
            raise Cancelled("stopped")

    with pytest.raises(Cancelled), observe_steps(observer):
        for step in steps(5, "loop"):
            done.append(step)
    assert seen == [("loop", 0, 5), ("loop", 1, 5), ("loop", 2, 5)]
    assert done == [0, 1]  # step 2 never ran
    assert list(steps(2, "after")) == [0, 1]  # the observer left with its block


def test_an_observer_does_not_reach_work_in_another_thread():
    calls = []
    other = []
    with observe_steps(lambda *a: calls.append(a)):
        thread = threading.Thread(target=lambda: other.extend(steps(3, "other")))
        thread.start()
        thread.join()
    assert other == [0, 1, 2] and calls == []
