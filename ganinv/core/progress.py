"""Step loops that report their progress and can be stopped from outside.

A refiner (or any long loop of a component) iterates ``for step in steps(n, "optimize")``
instead of ``range(n)``. Nothing changes for the CLI: the loop is a plain range, with a tqdm bar
when ``show`` is set. A driver that wants to follow or stop the work (the studio's progress bar
and Cancel button) wraps the call in ``observe_steps(observer)``: the observer is called before
every step with ``(desc, step, total)`` and may raise `Cancelled` to stop the loop there.

The observer lives in a context variable, so it follows the call that set it (one per thread or
task) and never leaks into other work running at the same time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tqdm import tqdm

from ganinv.core.errors import GanInvError

StepObserver = Callable[[str, int, int], None]

_OBSERVER: ContextVar[StepObserver | None] = ContextVar("ganinv_step_observer", default=None)


class Cancelled(GanInvError):
    """The work was stopped on request (raised by a step observer)."""


def steps(total: int, desc: str, show: bool = False) -> Iterator[int]:
    """``range(total)`` that tells the current observer (if any) about each step first."""
    observer = _OBSERVER.get()
    for step in tqdm(range(total), desc=desc, disable=not show):
        if observer is not None:
            observer(desc, step, total)
        yield step


@contextmanager
def observe_steps(observer: StepObserver) -> Iterator[None]:
    """Call `observer(desc, step, total)` before every step of every `steps` loop run inside."""
    token = _OBSERVER.set(observer)
    try:
        yield
    finally:
        _OBSERVER.reset(token)
