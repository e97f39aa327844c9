"""InterFaceGAN's linear SVM: LinearSVC's objective solved in torch, checked against an
independent solver (liblinear's dual coordinate descent, in numpy) and scikit-learn if present."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv.editing.directions import fit_linear_svm, learn_direction


def planted(n: int, dim: int, margin: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points on both sides of the hyperplane normal to e_0 through x_0 = 0.3, with some overlap."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    labels = (torch.rand(n, generator=g) > 0.5).long()
    x[:, 0] = 0.3 + (labels * 2 - 1) * margin + 0.5 * torch.randn(n, generator=g).double()
    return x, labels


def dual_coordinate_descent(x: np.ndarray, y01: np.ndarray, c: float, epochs: int) -> np.ndarray:
    """liblinear's solver for the L2-loss SVM dual (Hsieh et al. 2008), bias as a constant
    feature 1 (LinearSVC's intercept_scaling=1): returns [w, b]."""
    xa = np.hstack([x, np.ones((len(x), 1))])
    y = y01 * 2.0 - 1
    d = 1 / (2 * c)
    q = (xa * xa).sum(1) + d
    alpha = np.zeros(len(x))
    w = np.zeros(xa.shape[1])
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        for i in rng.permutation(len(x)):
            grad = y[i] * xa[i].dot(w) - 1 + d * alpha[i]
            new = max(alpha[i] - grad / q[i], 0.0)
            w += (new - alpha[i]) * y[i] * xa[i]
            alpha[i] = new
    return w


def test_svm_matches_an_independent_dual_solver():
    x, labels = planted(120, 5, margin=0.6, seed=0)
    w, b = fit_linear_svm(x, labels, c=0.5)
    reference = dual_coordinate_descent(x.numpy(), labels.numpy(), c=0.5, epochs=3000)
    np.testing.assert_allclose(w.numpy(), reference[:-1], rtol=0, atol=1e-5)
    assert float(b) == pytest.approx(reference[-1], abs=1e-5)


def test_svm_matches_scikit_learn_when_installed():
    svm = pytest.importorskip("sklearn.svm")
    x, labels = planted(200, 6, margin=0.5, seed=1)
    w, b = fit_linear_svm(x, labels, c=1.0)
    ref = svm.LinearSVC(C=1.0, tol=1e-12, max_iter=1_000_000).fit(x.numpy(), labels.numpy())
    np.testing.assert_allclose(w.numpy(), ref.coef_[0], rtol=0, atol=1e-4)
    assert float(b) == pytest.approx(float(ref.intercept_[0]), abs=1e-4)


def test_svm_direction_separates_a_planted_boundary_in_wplus():
    torch.manual_seed(0)
    truth = torch.nn.functional.normalize(torch.randn(4 * 16), dim=0).view(4, 16)
    labels = (torch.rand(1000) > 0.5).long()
    latents = torch.randn(1000, 4, 16) + (labels.float() * 2 - 1)[:, None, None] * 1.5 * truth
    codes = Code("wplus", {"wplus": latents})
    learned = learn_direction(codes, labels, classifier="svm")
    assert learned.classifier == "svm" and learned.info()["classifier"] == "svm"
    assert learned.info()["method"] == "interfacegan"
    assert float(learned.direction.norm()) == pytest.approx(1.0, abs=1e-5)
    assert float((learned.direction * truth).sum()) > 0.9
    assert learned.val_accuracy > 0.9
    logistic = learn_direction(codes, labels)  # the default stays logistic regression
    assert logistic.classifier == "logistic"
    assert float((logistic.direction * learned.direction).sum()) > 0.9
    with pytest.raises(GanInvError, match="classifier 'tree'"):
        learn_direction(codes, labels, classifier="tree")
