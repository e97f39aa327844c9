"""GANSpace and SeFa against the references' maths, on tiny generators."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.editing.ganspace import ganspace_direction, ganspace_pca
from ganinv.editing.sefa import sefa, sefa_direction
from ganinv.testing.world import tiny_generator


@pytest.fixture(scope="module")
def generator():
    """16 px, 6 W+ rows, w_dim 16."""
    return tiny_generator(0, w_avg_samples=64)


# -- SeFa -----------------------------------------------------------------------------------------
def reference_sefa(generator, rows: range) -> tuple[np.ndarray, np.ndarray]:
    """genforce/sefa `factorize_weight`, in numpy: the conv affine of each row (the final ToRGB's
    for the last row), rows normalised, stacked; eigenvectors of A^T A by np.linalg.eig."""
    convs = [f"b{r}.conv{k}" for r in (4, 8, 16) for k in (0, 1) if (r, k) != (4, 0)]
    weights = []
    for row in rows:
        name = convs[row] if row < len(convs) else "b16.torgb"
        block, part = name.split(".")
        affine = getattr(generator.synthesis[block], part).affine
        w = (affine.weight * affine.weight_gain).detach().double().numpy().T  # [w_dim, C]
        weights.append(w / np.linalg.norm(w, axis=0, keepdims=True))
    weight = np.concatenate(weights, axis=1).T  # [sum C, w_dim]
    values, vectors = np.linalg.eig(weight.T.dot(weight))
    order = np.argsort(-values.real)
    return values.real[order], vectors.real[:, order].T


def test_sefa_directions_are_the_eigenvectors_of_the_stacked_normalised_affines(generator):
    result = sefa(generator)
    values, vectors = reference_sefa(generator, range(generator.num_ws))
    assert result.layer_names == [
        "b4.conv1",
        "b8.conv0",
        "b8.conv1",
        "b16.conv0",
        "b16.conv1",
        "b16.torgb",
    ]
    np.testing.assert_allclose(result.eigenvalues.numpy(), values, rtol=1e-8, atol=1e-9)
    for k in range(4):  # distinct leading eigenvalues: vectors equal up to sign
        cosine = float(np.dot(result.directions[k].numpy(), vectors[k]))
        assert abs(cosine) == pytest.approx(1.0, abs=1e-8)
    # Unit norm, descending, and eigenvalue = |A n|^2.
    torch.testing.assert_close(
        result.directions @ result.directions.T, torch.eye(16, dtype=torch.float64)
    )
    assert bool((result.eigenvalues[:-1] >= result.eigenvalues[1:]).all())


def test_sefa_on_a_row_range_and_without_row_normalisation(generator):
    result = sefa(generator, (1, 3))
    values, vectors = reference_sefa(generator, range(1, 3))
    assert result.layer_names == ["b8.conv0", "b8.conv1"]
    np.testing.assert_allclose(result.eigenvalues.numpy(), values, rtol=1e-8, atol=1e-9)
    assert abs(float(np.dot(result.directions[0].numpy(), vectors[0]))) == pytest.approx(1, 1e-8)

    # Rosinality's variant: no row normalisation, so the top eigenvalue is |A|_2^2 of raw weights.
    raw = torch.cat(
        [
            (m.affine.weight * m.affine.weight_gain).double()
            for m in (generator.synthesis.b8.conv0, generator.synthesis.b8.conv1)
        ]
    )
    plain = sefa(generator, (1, 3), normalize_rows=False)
    top = float(torch.linalg.matrix_norm(raw, ord=2)) ** 2
    assert float(plain.eigenvalues[0]) == pytest.approx(top, rel=1e-8)


def test_sefa_direction_moves_only_the_factorised_rows(generator):
    result = sefa(generator, (2, 4))
    direction, info = sefa_direction(result, 1, generator.num_ws)
    assert direction.shape == (6, 16)
    assert torch.equal(direction[:2], torch.zeros(2, 16))
    assert torch.equal(direction[4:], torch.zeros(2, 16))
    torch.testing.assert_close(direction[2], result.directions[1].float())
    torch.testing.assert_close(direction[3], direction[2])
    assert info["method"] == "sefa" and info["layers"] == [2, 4] and info["component"] == 1
    assert info["eigenvalue"] == pytest.approx(float(result.eigenvalues[1]))
    # Every row: one direction of shape [w_dim], usable in W as well.
    full, info = sefa_direction(sefa(generator), 0, generator.num_ws)
    assert full.shape == (16,) and info["part"] == "w"
    with pytest.raises(GanInvError, match="component 16"):
        sefa_direction(result, 16, generator.num_ws)
    with pytest.raises(GanInvError, match="end exclusive"):
        sefa(generator, (3, 3))


# -- GANSpace -------------------------------------------------------------------------------------
class PlantedW(Generator):
    """A 'generator' whose W is Gaussian with standard deviation `scale` along `axis` and 1
    elsewhere: GANSpace's first component must be `axis`, its variance scale^2."""

    def __init__(self, axis: torch.Tensor, scale: float, num_ws: int = 4) -> None:
        super().__init__()
        self.z_dim = self.w_dim = axis.shape[0]
        self.num_ws = num_ws
        self.register_buffer("w_avg", torch.zeros(self.w_dim))
        self.register_buffer("shift", torch.linspace(-1, 1, self.w_dim))
        self.matrix = torch.eye(self.w_dim) + (scale - 1) * torch.outer(axis, axis)

    def mapping(self, z, truncation_psi=1.0, truncation_cutoff=None):  # noqa: ANN001, ANN201
        w = z @ self.matrix + self.shift
        return w[:, None].repeat(1, self.num_ws, 1)


def test_ganspace_recovers_a_planted_direction_with_its_variance():
    torch.manual_seed(0)
    axis = torch.nn.functional.normalize(torch.randn(12), dim=0)
    result = ganspace_pca(PlantedW(axis, scale=3.0), samples=20_000, seed=1, components=5)
    assert result.components.shape == (5, 12)
    assert abs(float(result.components[0] @ axis.double())) > 0.999
    assert float(result.variances[0]) == pytest.approx(9.0, rel=0.05)
    assert float(result.variances[1]) == pytest.approx(1.0, rel=0.1)
    assert float(result.sigma[0]) == pytest.approx(3.0, rel=0.05)  # fresh samples
    torch.testing.assert_close(result.mean, torch.linspace(-1, 1, 12).double(), atol=0.1, rtol=0)
    direction, info = ganspace_direction(result, 0, None, 4)
    assert info["explained_variance_ratio"] == pytest.approx(9 / (9 + 11), rel=0.05)
    # The file's direction is sigma * u: strength 1 moves one standard deviation.
    torch.testing.assert_close(direction.double(), result.sigma[0] * result.components[0])


def test_ganspace_components_orthonormal_ordered_and_seeded(generator):
    result = ganspace_pca(generator, samples=3000, seed=0)
    k = result.components.shape[0]
    assert k == 16  # 80 asked, at most w_dim
    torch.testing.assert_close(
        result.components @ result.components.T, torch.eye(k, dtype=torch.float64)
    )
    assert bool((result.variances[:-1] >= result.variances[1:]).all())
    # Variances are those of the projections of the same samples (exact PCA, not approximate).
    rng = torch.Generator().manual_seed(0)
    w = generator.mapping(torch.randn(3000, 16, generator=rng))[:, 0].double()
    projected = (w - w.mean(0)) @ result.components.T
    torch.testing.assert_close(projected.var(0), result.variances, rtol=1e-6, atol=1e-9)
    again = ganspace_pca(generator, samples=3000, seed=0)
    assert torch.equal(again.components, result.components)
    other = ganspace_pca(generator, samples=3000, seed=1)
    assert not torch.equal(other.components, result.components)


def test_ganspace_layer_range_is_end_exclusive(generator):
    result = ganspace_pca(generator, samples=500, seed=0, components=3)
    direction, info = ganspace_direction(result, 2, (1, 4), generator.num_ws)
    expected = (result.sigma[2] * result.components[2]).float()
    assert direction.shape == (6, 16)
    for row in range(6):
        torch.testing.assert_close(direction[row], expected if 1 <= row < 4 else 0 * expected)
    assert info["layers"] == [1, 4] and info["samples"] == 500 and info["seed"] == 0
    assert info["method"] == "ganspace" and info["component"] == 2
    with pytest.raises(GanInvError, match="component 3"):
        ganspace_direction(result, 3, None, generator.num_ws)
    with pytest.raises(GanInvError, match="<= 6"):
        ganspace_direction(result, 0, (2, 7), generator.num_ws)
