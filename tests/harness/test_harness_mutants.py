"""Checks added for mutants of the RNG capture and the training checkpoint files that the suite let
survive (scripts/mutation.py, docs/mutation.md): every generator restored, including the cached
Gaussians of numpy and Python, through a weights-only checkpoint file."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.harness.checkpoint import (
    TRAIN_FORMAT,
    load_training_state,
    remove_stale_temporaries,
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
