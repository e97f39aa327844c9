"""Checks added for mutants of the RNG capture and the training checkpoint files that the suite let
survive (scripts/mutation.py, docs/mutation.md): every generator restored, including the cached
Gaussians of numpy and Python, through a weights-only checkpoint file."""

from __future__ import annotations

import os
import random
import re
import signal
from pathlib import PurePosixPath

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.harness import checkpoint as ckpt
from ganinv.harness.checkpoint import (
    KILL_ENV,
    TRAIN_FORMAT,
    KillPoint,
    load_training_state,
    read_best,
    read_count,
    remove_stale_temporaries,
    restore_module,
    restore_optimizer,
    restore_plain,
    restoring,
    save_training_state,
)
from ganinv.harness.rng import capture_rng, restore_rng, seed_everything


def _draws() -> tuple:
    """What a training step may consume: each generator, Gaussian caches included."""
    return (
        torch.randn(3).tolist(),
        np.random.standard_normal(3).tolist(),  # legacy Box-Muller: leaves one cached value
        np.random.randint(0, 2**31, 2).tolist(),
        random.random(),
        random.gauss(0, 1),  # leaves gauss_next cached
    )


def test_restore_repeats_every_generator_through_a_checkpoint_file(tmp_path):
    seed_everything(3)
    _draws()  # odd number of Gaussians drawn: numpy and Python both hold a cached value now
    assert np.random.get_state()[3] == 1 and random.getstate()[2] is not None
    path = save_training_state(tmp_path / "ckpt.pt", {"rng": capture_rng(), "step": 7})
    expected = _draws()
    seed_everything(99)  # move every generator elsewhere
    state = load_training_state(path)
    assert state["format"] == TRAIN_FORMAT and state["step"] == 7
    restore_rng(state["rng"])
    assert _draws() == expected


@pytest.mark.parametrize("generator", ["torch", "numpy", "python"])
def test_restore_resets_each_generator_on_its_own(generator):
    seed_everything(5)
    state = capture_rng()
    expected = _draws()
    # Advance only one generator: restoring must bring exactly that one back.
    if generator == "torch":
        torch.rand(5)
    elif generator == "numpy":
        np.random.standard_normal(5)
    else:
        random.gauss(0, 1)
    restore_rng(state)
    assert _draws() == expected


def test_seed_everything_seeds_all_three_and_wraps_numpy():
    seed_everything(2**32 + 11)
    got = (torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random())
    torch.manual_seed(2**32 + 11)
    random.seed(2**32 + 11)
    np.random.seed(11)
    assert got == (torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random())


def test_load_training_state_errors_name_the_file(tmp_path):
    missing = tmp_path / "none.pt"
    with pytest.raises(
        GanInvError,
        match="no training checkpoint at .*none.pt'; start without --resume or point `out` at "
        "the run to continue$",
    ):
        load_training_state(missing)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(GanInvError, match="^training checkpoint '.*garbage.pt'"):
        load_training_state(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "other", "step": 1}, foreign)
    with pytest.raises(
        GanInvError, match=f"foreign.pt.* is not a ganinv training checkpoint \\({TRAIN_FORMAT}\\)"
    ):
        load_training_state(foreign)
    torch.save([1, 2], foreign)
    with pytest.raises(GanInvError, match="is not a ganinv training checkpoint"):
        load_training_state(foreign)


def test_remove_stale_temporaries_removes_only_hidden_tmp_files(tmp_path):
    stale = [tmp_path / ".last.pt.a1b2.tmp", tmp_path / ".log.abc.tmp"]
    kept = [tmp_path / "last.pt", tmp_path / "visible.tmp", tmp_path / ".hidden.pt"]
    for p in stale + kept:
        p.write_bytes(b"x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(stale)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in stale)
    assert remove_stale_temporaries(tmp_path / "missing") == []


def _exact(message: str) -> str:
    return f"^{re.escape(message)}$"


def _field(key: str) -> str:
    return f"training checkpoint 'run/last.pt' field {key!r}"


def test_check_tensors_limits_depth_and_names_the_nested_field():
    nested: object = torch.zeros(1)
    for _ in range(ckpt.MAX_DEPTH):
        nested = [nested]
    ckpt._check_tensors(nested, "w", 0)  # the tensor sits exactly MAX_DEPTH levels deep
    with pytest.raises(
        GanInvError,
        match=_exact("w" + "[0]" * 33 + " is nested more than 32 levels deep (corrupt)"),
    ):
        ckpt._check_tensors([nested], "w", 0)
    with pytest.raises(GanInvError, match="nested more than"):
        ckpt._check_tensors({"a": nested}, "w", 0)
    with pytest.raises(GanInvError, match="nested more than"):
        ckpt._check_tensors((nested,), "w", 0)
    repeated = torch.zeros(1).expand(100, 100)  # a stride-0 view: 10,000 values, 4 bytes stored
    key = "k" * 50
    with pytest.raises(GanInvError, match=re.escape(f"w[{'k' * 40!r}][1] claims shape (100, 100)")):
        ckpt._check_tensors({key: [torch.zeros(1), repeated]}, "w", 0)
    with pytest.raises(GanInvError, match=re.escape("w[0] claims shape")):
        ckpt._check_tensors((repeated,), "w", 0)


def test_load_training_state_refuses_a_repeated_tensor_in_the_file(tmp_path):
    path = save_training_state(tmp_path / "s.pt", {"m": {"v": torch.zeros(1).expand(50, 50)}})
    with pytest.raises(GanInvError, match=re.escape("s.pt'['m']['v'] claims shape (50, 50)")):
        load_training_state(path)


@pytest.mark.parametrize(
    ("saved", "own", "same"),
    [
        (True, True, True),
        (1, True, False),
        (True, 1, False),
        (2, 1.5, True),
        (2.5, 1, True),
        ("2", 1, False),
        ([1, 2.0], [3, 4], True),
        ((1, 2), [3, 4], True),
        ([1, 2], (3, 4), True),
        ([1], [3, 4], False),
        ([1, "x"], [3, 4], False),
        ((1, 2), "ab", False),
        ({"a": 1, "b": [1]}, {"a": 2.0, "b": [3]}, True),
        ({"a": 1}, {"a": 2, "b": 3}, False),
        ({"a": 1, "b": 3}, {"a": 2}, False),
        ({"a": "x"}, {"a": 2}, False),
        ([("a", 1)], {"a": 2}, False),
        (torch.zeros(2, 3), torch.ones(2, 3), True),
        (torch.zeros(3, 2), torch.ones(2, 3), False),
        ([[0.0] * 3] * 2, torch.ones(2, 3), False),
        ("a", "b", True),
        (b"a", "b", False),
        (None, None, True),
        (None, "b", False),
    ],
)
def test_same_kind(saved, own, same):
    assert ckpt._same_kind(saved, own) is same


def _net() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))


def test_restore_module_loads_a_matching_state_dict():
    torch.manual_seed(0)
    source, target = _net(), _net()
    restore_module(target, {"g": source.state_dict()}, "g", "run/last.pt")
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        assert torch.equal(a, b), name


def test_restore_module_refuses_wrong_names_shapes_and_kinds():
    good = _net().state_dict()
    not_dict = _exact(f"{_field('g')} is not a state dict (names -> tensors)")
    for bad in (None, [1], {1: torch.zeros(1)}, {"0.weight": torch.zeros(1), 2: 1}):
        with pytest.raises(GanInvError, match=not_dict):
            restore_module(_net(), {"g": bad}, "g", "run/last.pt")
    with pytest.raises(GanInvError, match=not_dict):
        restore_module(_net(), {"h": good}, "g", "run/last.pt")
    tail = "; resume with the config the run used"
    missing = {k: v for k, v in good.items() if k != "0.bias"}
    with pytest.raises(
        GanInvError,
        match=_exact(
            f"{_field('g')} does not match the configured network (missing ['0.bias'], "
            f"unexpected [], different []){tail}"
        ),
    ):
        restore_module(_net(), {"g": missing}, "g", "run/last.pt")
    extra = {**good, "2.weight": torch.zeros(1), "3.x": torch.zeros(1)}
    with pytest.raises(GanInvError, match=re.escape("unexpected ['2.weight', '3.x'], different")):
        restore_module(_net(), {"g": extra}, "g", "run/last.pt")
    wrong = {**good, "0.weight": torch.zeros(2, 4), "1.num_batches_tracked": 1.0}
    with pytest.raises(
        GanInvError,
        match=_exact(
            f"{_field('g')} does not match the configured network (missing [], unexpected [], "
            "different ['0.weight: [2, 4] vs [2, 3]', '1.num_batches_tracked: float vs []'])" + tail
        ),
    ):
        restore_module(_net(), {"g": wrong}, "g", "run/last.pt")
    many = {**good, **{k: torch.zeros(7) for k in list(good)[:5]}}
    with pytest.raises(GanInvError) as info:
        restore_module(_net(), {"g": many}, "g", "run/last.pt")
    assert str(info.value).count(" vs ") == 3  # at most three differences named


def _opt(net: torch.nn.Module, **kw) -> torch.optim.Optimizer:
    groups = [{"params": [net[0].weight, net[0].bias]}, {"params": list(net[1].parameters())}]
    return torch.optim.Adam(groups, lr=0.01, **kw)


def _stepped_state() -> dict:
    torch.manual_seed(1)
    net = _net()
    opt = _opt(net)
    net(torch.randn(4, 3)).square().sum().backward()
    opt.step()
    return opt.state_dict()


def test_restore_optimizer_loads_a_matching_state():
    saved = _stepped_state()
    opt = _opt(_net())
    restore_optimizer(opt, {"o": saved}, "o", "run/last.pt")
    state = opt.state_dict()
    assert state["state"].keys() == saved["state"].keys()
    for pid, entry in saved["state"].items():
        assert torch.equal(state["state"][pid]["exp_avg"], entry["exp_avg"])


def test_restore_optimizer_refuses_wrong_groups_parameters_settings_and_shapes():
    saved = _stepped_state()
    where = _field("o")

    def refused(bad: object, message: str, exact: bool = True) -> None:
        with pytest.raises(GanInvError, match=_exact(message) if exact else re.escape(message)):
            restore_optimizer(_opt(_net()), {"o": bad}, "o", "run/last.pt")

    kind = f"{where} is not an optimiser state ('state' and 'param_groups')"
    for bad in (None, [], {"state": {}}, {"param_groups": []}, {"state": [], "param_groups": []}):
        refused(bad, kind)
    refused({"state": {}, "param_groups": ()}, kind)
    refused(
        {**saved, "param_groups": saved["param_groups"][:1]},
        f"{where} has 1 parameter groups, the optimiser 2; resume with the config the run used",
    )
    groups = [dict(g) for g in saved["param_groups"]]
    groups[1] = {**groups[1], "params": groups[1]["params"][:1]}
    refused(
        {**saved, "param_groups": groups},
        f"{where} group 1 does not hold the optimiser's parameters",
    )
    groups = [dict(g) for g in saved["param_groups"]]
    groups[0] = {**groups[0], "params": tuple(groups[0]["params"])}
    refused(
        {**saved, "param_groups": groups},
        f"{where} group 0 does not hold the optimiser's parameters",
    )
    groups = [dict(g) for g in saved["param_groups"]]
    groups[0] = {**groups[0], "params": [[0], [1]]}  # unhashable ids: refused, not a TypeError
    refused(
        {**saved, "param_groups": groups},
        f"{where} group 0 does not hold the optimiser's parameters",
    )
    refused(
        {**saved, "param_groups": [saved["param_groups"][0], [1, 2]]},
        f"{where} group 1 does not hold the optimiser's parameters",
    )
    groups = [dict(g) for g in saved["param_groups"]]
    groups[1]["lr"] = "0.1"
    refused({**saved, "param_groups": groups}, f"{where} group 1 setting 'lr' is '0.1'")
    groups = [dict(g) for g in saved["param_groups"]]
    groups[0]["betas"] = (0.9,)
    refused({**saved, "param_groups": groups}, f"{where} group 0 setting 'betas' is (0.9,)")
    refused(
        {**saved, "state": {**saved["state"], 9: {}}},
        f"{where} holds state for an unknown parameter '9'",
    )
    refused(
        {**saved, "state": {**saved["state"], "x" * 50: {}}},
        f"{where} holds state for an unknown parameter {'x' * 40!r}",
    )
    refused(
        {**saved, "state": {**saved["state"], 0: [1]}},
        f"{where} holds state for an unknown parameter '0'",
    )
    entry = dict(saved["state"][1])
    entry["exp_avg"] = torch.zeros(3)
    refused(
        {**saved, "state": {**saved["state"], 1: entry}},
        f"{where} state 'exp_avg' of parameter 1 has shape [3], the parameter [2]",
    )
    # A 0-d tensor (Adam's step) is a scalar, not a per-parameter tensor: accepted as it is.
    entry = dict(saved["state"][0])
    entry["step"] = torch.tensor(5.0)
    opt = _opt(_net())
    restore_optimizer(opt, {"o": {**saved, "state": {**saved["state"], 0: entry}}}, "o", "p")
    assert opt.state_dict()["state"][0]["step"].item() == 5.0


def test_restore_plain_checks_keys_and_kinds():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    saved = dict(sched.state_dict(), last_epoch=7)
    fresh = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    restore_plain(fresh, {"s": saved}, "s", "run/last.pt")
    assert fresh.last_epoch == 7
    partial = {k: v for k, v in saved.items() if k != "gamma"}
    restore_plain(fresh, {"s": partial}, "s", "run/last.pt")  # older files lack newer keys
    structure = _exact(f"{_field('s')} does not have the structure of this run's s state")
    for bad in (None, [1], {**saved, "extra": 1}):
        with pytest.raises(GanInvError, match=structure):
            restore_plain(fresh, {"s": bad}, "s", "run/last.pt")
    with pytest.raises(GanInvError, match=_exact(f"{_field('s')} entry 'last_epoch' is seven")):
        restore_plain(fresh, {"s": {**saved, "last_epoch": "seven"}}, "s", "run/last.pt")
    with pytest.raises(GanInvError, match=_exact(f"{_field('s')} entry 'gamma' is {'9' * 60}")):
        restore_plain(fresh, {"s": {**saved, "gamma": "9" * 80}}, "s", "run/last.pt")


def test_restoring_yields_the_field_and_names_it_in_errors():
    with restoring({"a": 3}, "a", "run/last.pt") as value:
        assert value == 3
    with restoring({}, "a", "run/last.pt", default=None) as value:
        assert value is None
    with restoring({}, "a", "run/last.pt", default=5) as value:
        assert value == 5
    with pytest.raises(
        GanInvError,
        match=_exact(f"{_field('a')} is missing; the file is not a complete checkpoint"),
    ):
        with restoring({}, "a", "run/last.pt"):
            pass
    with pytest.raises(GanInvError, match=f"^{re.escape(_field('a'))} cannot be restored: bad"):
        with restoring({"a": 1}, "a", "run/last.pt"):
            raise ValueError("bad")
    with pytest.raises(GanInvError, match="^own$"):
        with restoring({"a": 1}, "a", "run/last.pt"):
            raise GanInvError("own")


def test_read_count_accepts_counts_only():
    assert read_count({"step": 0}, "step", "run/last.pt") == 0
    assert read_count({"step": 1 << 48}, "step", "run/last.pt") == 1 << 48
    for value in (-1, (1 << 48) + 1, True, False, 3.0, "3", None):
        with pytest.raises(
            GanInvError, match=_exact(f"{_field('step')} is {value}, expected a count")
        ):
            read_count({"step": value}, "step", "run/last.pt")
    with pytest.raises(GanInvError, match=_exact(f"{_field('kimg')} is None, expected a count")):
        read_count([("step", 3)], "step", "run/last.pt", "kimg")
    with pytest.raises(
        GanInvError, match=_exact(f"{_field('step')} is {'4' * 40}, expected a count")
    ):
        read_count({"step": "4" * 60}, "step", "run/last.pt")


def test_read_best_accepts_an_empty_or_complete_record():
    assert read_best({}, "run/last.pt") == {}
    assert read_best({"best": {}}, "run/last.pt") == {}
    record = {"metric": "psnr", "value": 21.5, "step": 40}
    got = read_best({"best": record}, "run/last.pt")
    assert got == record and got is not record
    assert read_best({"best": {"metric": "psnr", "value": 3, "step": 4}}, "p")["value"] == 3
    message = _exact(f"{_field('best')} must be {{}} or {{metric, value, step}}")
    for bad in (
        None,
        [],
        {"metric": "psnr", "value": 21.5},
        {**record, "extra": 1},
        {**record, "metric": 1},
        {**record, "value": "21.5"},
        {**record, "step": True},
        {**record, "step": [40]},
    ):
        with pytest.raises(GanInvError, match=message):
            read_best({"best": bad}, "run/last.pt")


@pytest.fixture
def kills(monkeypatch):
    """os.kill replaced by a recorder: KillPoint's SIGKILL becomes a list entry."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: calls.append((pid, sig)))
    return calls


def test_kill_point_unset_or_blank_never_kills(monkeypatch, kills):
    for value in (None, "", "  "):
        if value is None:
            monkeypatch.delenv(KILL_ENV, raising=False)
        else:
            monkeypatch.setenv(KILL_ENV, value)
        point = KillPoint()
        assert point.after is None and point.checkpoints == 0 and point.steps_since == 0
        for _ in range(3):
            point.step_finished()
            point.checkpoint_written()
        assert point.steps_since == 0 and point.checkpoints == 3
    assert kills == []


def test_kill_point_kills_after_the_nth_checkpoint(monkeypatch, kills):
    monkeypatch.setenv(KILL_ENV, " 2 ")
    point = KillPoint()
    assert point.after == (2, 0)
    point.step_finished()
    point.checkpoint_written()
    point.step_finished()
    assert kills == [] and point.steps_since == 0
    point.checkpoint_written()
    assert kills == [(os.getpid(), signal.SIGKILL)]


def test_kill_point_kills_k_steps_after_the_nth_checkpoint(monkeypatch, kills):
    monkeypatch.setenv(KILL_ENV, "1+3")
    point = KillPoint()
    assert point.after == (1, 3)
    point.step_finished()
    assert point.steps_since == 0
    point.checkpoint_written()
    assert kills == []
    point.step_finished()
    point.step_finished()
    assert kills == [] and point.steps_since == 2
    point.step_finished()
    assert kills == [(os.getpid(), signal.SIGKILL)]
    monkeypatch.setenv(KILL_ENV, "12+0")
    assert KillPoint().after == (12, 0)


@pytest.mark.parametrize(
    "value", ["0", "0+2", "x", "2+", "+2", "2+x", "-1", "1.5", "1 + 2", "1+2+3"]
)
def test_kill_point_refuses_malformed_values(monkeypatch, value):
    monkeypatch.setenv(KILL_ENV, value)
    with pytest.raises(
        GanInvError,
        match=_exact(
            f"environment variable {KILL_ENV}={value.strip()!r} must be N or N+K with N >= 1 "
            "(a testing hook); unset it to train normally"
        ),
    ):
        KillPoint()


def test_nesting_limit_counts_each_dict_level_once_from_the_file_root(tmp_path):
    nested: object = torch.zeros(1)
    for _ in range(ckpt.MAX_DEPTH):
        nested = {"k": nested}
    ckpt._check_tensors(nested, "w", 0)  # exactly MAX_DEPTH dict levels: accepted
    inner: object = torch.zeros(1)
    for _ in range(ckpt.MAX_DEPTH - 1):
        inner = [inner]
    # the file's root dict is level 0, so its field's tensor sits at MAX_DEPTH: accepted
    path = save_training_state(tmp_path / "deep.pt", {"x": inner})
    assert torch.equal(
        load_training_state(path)["x"][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][
            0
        ][0][0][0][0][0][0][0][0][0][0],
        torch.zeros(1),
    )  # noqa: E501
    deeper = save_training_state(tmp_path / "deeper.pt", {"x": [inner]})
    with pytest.raises(GanInvError, match="is nested more than 32 levels deep"):
        load_training_state(deeper)


def test_unreadable_file_is_named_as_a_training_checkpoint(tmp_path):
    foreign = tmp_path / "object.pt"
    torch.save({"format": TRAIN_FORMAT, "path": PurePosixPath("a")}, foreign)  # a Python object
    with pytest.raises(
        GanInvError, match="object.pt' cannot be loaded safely as a ganinv training checkpoint: "
    ):
        load_training_state(foreign)


def test_restore_module_names_at_most_three_and_wraps_torch_refusals():
    good = _net().state_dict()
    keys = list(good)
    renamed = {f"x.{k}": v for k, v in good.items()}
    with pytest.raises(GanInvError) as info:
        restore_module(_net(), {"g": renamed}, "g", "run/last.pt")
    message = str(info.value)
    assert (
        f"(missing {sorted(keys)[:3]}, unexpected {sorted(renamed)[:3]}, different [])" in message
    )
    sparse = {**good, "0.weight": torch.zeros(2, 3).to_sparse()}  # same shape: torch refuses it
    with pytest.raises(GanInvError, match=f"^{re.escape(_field('g'))} cannot be restored: "):
        restore_module(_net(), {"g": sparse}, "g", "run/last.pt")
