"""InterFaceGAN's conditional boundary against the reference's closed form for two conditions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.editing.conditional import project_out


def reference_two_conditions(primal: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """genforce/interfacegan `project_boundary` with two unit conditions, as written there."""
    p1, p2, c12 = primal.dot(c1), primal.dot(c2), c1.dot(c2)
    alpha = (p1 - p2 * c12) / (1 - c12**2 + 1e-8)
    beta = (p2 - p1 * c12) / (1 - c12**2 + 1e-8)
    new = primal - alpha * c1 - beta * c2
    return new / np.linalg.norm(new)


def test_two_conditions_match_the_reference_and_are_orthogonal():
    g = torch.Generator().manual_seed(0)
    unit = torch.nn.functional.normalize
    primal, c1, c2 = (unit(torch.randn(32, generator=g), dim=0) for _ in "abc")
    got = project_out(primal, [c1, c2])
    want = reference_two_conditions(*(t.double().numpy() for t in (primal, c1, c2)))
    np.testing.assert_allclose(got.double().numpy(), want, atol=1e-6)
    assert abs(float(got @ c1)) < 1e-6 and abs(float(got @ c2)) < 1e-6
    assert float(got.norm()) == pytest.approx(1.0, abs=1e-6)
    # One condition: n - (n.c) c, normalised.
    one = primal - (primal @ c1) * c1
    torch.testing.assert_close(project_out(primal, [c1]), one / one.norm())


def test_a_w_condition_conditions_every_row_of_a_wplus_direction():
    g = torch.Generator().manual_seed(1)
    direction = torch.randn(4, 8, generator=g)
    condition = torch.randn(8, generator=g)
    got = project_out(direction, [condition])
    assert got.shape == (4, 8)
    assert abs(float((got * condition.expand(4, 8)).sum())) < 1e-5
    with pytest.raises(GanInvError, match="condition 0 has shape"):
        project_out(torch.randn(8), [torch.randn(4, 8)])
    with pytest.raises(GanInvError, match="linearly dependent"):
        project_out(direction, [condition, 2 * condition])
    with pytest.raises(GanInvError, match="nothing is left"):
        project_out(condition, [condition])


def test_learn_direction_orthogonal_to_a_condition_file(tmp_path):
    from test_editing_cli import run_cli

    from ganinv.core.space import Code
    from ganinv.editing.directions import load_direction, write_direction

    torch.manual_seed(0)
    truth = torch.nn.functional.normalize(torch.randn(16), dim=0)
    condition = torch.nn.functional.normalize(truth + torch.randn(16), dim=0)  # correlated
    codes, labels = tmp_path / "codes", {}
    for i in range(80):
        w = torch.randn(1, 16) + (1.5 if i % 2 else -1.5) * truth
        Code("w", {"w": w}).save(codes / f"{i:03d}.safetensors")
        labels[f"{i:03d}"] = i % 2
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    write_direction(tmp_path / "cond.safetensors", condition, {"method": "test"})
    status, _, stderr = run_cli(
        "edit", "learn-direction", "--codes", codes, "--labels", tmp_path / "labels.json",
        "--out", tmp_path / "d.safetensors", "--orthogonal-to", tmp_path / "cond.safetensors",
    )  # fmt: skip
    assert status == 0, stderr
    direction, info = load_direction(tmp_path / "d.safetensors")
    assert abs(float(direction @ condition)) < 1e-5
    assert info["conditions"] == [str(tmp_path / "cond.safetensors")]
    # Still the attribute's side of the boundary: positive along the planted direction.
    assert float(direction @ truth) > 0.3
