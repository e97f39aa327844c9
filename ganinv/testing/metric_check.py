"""`check_metric`: the contract every `Metric` keeps (see docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ganinv.metrics.base import Metric
from ganinv.testing.contract import expect


def metric_images(count: int = 8, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """(real, fake) [count, 3, size, size] in [-1, 1]: random images and a noisy copy."""
    rng = torch.Generator().manual_seed(seed)
    real = torch.rand(count, 3, size, size, generator=rng) * 2 - 1
    fake = (real + 0.2 * torch.randn(real.shape, generator=rng)).clamp(-1, 1)
    return real, fake


def feed(metric: Metric, real: torch.Tensor, fake: torch.Tensor, chunks: int) -> None:
    """Update in `chunks` pieces; metrics that record measurements (timing, memory) get one
    measurement per piece instead of images."""
    for r, f in zip(real.chunk(chunks), fake.chunk(chunks)):
        if hasattr(metric, "record_measurement"):
            metric.record_measurement({"seconds": 0.01 * len(r), "peak_bytes": 2.0**20}, len(r))
        else:
            metric.update(r, f)


def merge_states(metric: Metric, states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """What the harness's all-reduce makes of per-rank states (`state_reduction`: sum, max, or
    cat for samples with scalar counters summed)."""
    mode = getattr(metric, "state_reduction", "sum")
    merged = {}
    for key in states[0]:
        values = [s[key] for s in states]
        if mode == "cat" and values[0].ndim > 0:
            merged[key] = torch.cat(values)
        elif mode == "max":
            merged[key] = torch.stack(values).amax(0)
        else:
            merged[key] = torch.stack(values).sum(0)
    return merged


def _value(metric: Metric) -> float:
    return float(metric.compute().value)


def check_metric(
    make: Callable[[], Metric],
    real: torch.Tensor | None = None,
    fake: torch.Tensor | None = None,
    rtol: float = 1e-5,
) -> None:
    """`make()` builds a fresh metric. Updating in chunks equals updating once; the states of
    two simulated ranks, merged as the harness does, give the single-process value; `reset`
    clears; identical images score no worse than different ones. `rtol`: tolerance (metrics
    that sample, such as SWD, need a looser one)."""
    if real is None or fake is None:
        real, fake = metric_images()
    whole = make()
    whole.reset()
    feed(whole, real, fake, 1)
    once = _value(whole)
    chunked = make()
    chunked.reset()
    feed(chunked, real, fake, 4)
    expect(
        abs(_value(chunked) - once) <= rtol * max(abs(once), 1e-8),
        f"metric {whole.name!r}: {_value(chunked):.6g} in 4 chunks vs {once:.6g} at once",
    )
    half = real.shape[0] // 2
    ranks = []
    for part in (slice(0, half), slice(half, None)):
        rank = make()
        rank.reset()
        feed(rank, real[part], fake[part], 1)
        ranks.append(rank.state())
    merged = make()
    merged.reset()
    merged.load_state(merge_states(merged, ranks))
    expect(
        abs(_value(merged) - once) <= rtol * max(abs(once), 1e-8),
        f"metric {whole.name!r}: two ranks merged give {_value(merged):.6g}, one gives {once:.6g}",
    )
    whole.reset()
    feed(whole, real, fake, 1)
    expect(
        abs(_value(whole) - once) <= rtol * max(abs(once), 1e-8),
        f"metric {whole.name!r}: reset() does not clear the state",
    )
