"""The registry: decorator registration, lookup errors, construction from specs."""

from __future__ import annotations

import pytest

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.registry import Registry


def make_registry() -> Registry:
    reg = Registry("widgets")
    reg._scanned = True  # no built-ins or entry points for a throwaway kind

    @reg.register("round_widget")
    class RoundWidget:
        def __init__(self, radius: float = 1.0, label: str = "r") -> None:
            self.radius = radius
            self.label = label

    return reg


def test_decorator_registers_and_builds_from_name_and_mapping():
    reg = make_registry()
    assert reg.names() == ["round_widget"]
    assert reg.build("round_widget").radius == 1.0
    widget = reg.build({"name": "round_widget", "radius": 3}, label="x")
    assert widget.radius == 3.0 and isinstance(widget.radius, float) and widget.label == "x"


def test_unknown_name_suggests_closest():
    reg = make_registry()
    with pytest.raises(GanInvError, match="did you mean 'round_widget'"):
        reg.get("round_widgit")


def test_unknown_argument_and_wrong_type_are_clear():
    reg = make_registry()
    with pytest.raises(GanInvError, match=r"widgets\.round_widget\.radus.*did you mean 'radius'"):
        reg.build({"name": "round_widget", "radus": 2.0})
    with pytest.raises(GanInvError, match=r"round_widget\.radius.*expected a number"):
        reg.build({"name": "round_widget", "radius": "big"})


def test_spec_without_name_is_rejected():
    reg = make_registry()
    with pytest.raises(GanInvError, match="needs a 'name' key"):
        reg.build({"radius": 2.0})


def test_same_name_twice_is_an_error():
    reg = make_registry()
    with pytest.raises(GanInvError, match="registered twice"):

        @reg.register("round_widget")
        class Other:
            pass


def test_unknown_kind_lists_kinds():
    with pytest.raises(GanInvError, match="did you mean 'spaces'"):
        ganinv.registry("spaeces")
