"""Class 2, metadata is untrusted input, at run time: arguments in an exported encoder's header
that size what ganinv allocates or computes later (not when the network is built) are bounded.

- `w_std_samples` / `init_samples` of the baseline spaces: drawn and reduced in chunks of 1,000
  (memory is one chunk whatever the count; the numbers are those of the direct formula), and at
  most `MAX_SAMPLES` draws;
- latent-map's ``features.resize_to``: at most `MAX_RESIZE_TO`.
"""

from __future__ import annotations

import math

import pytest
from checkpoint_files import run_capped
from ganinv_baselines.latent_stats import MAX_SAMPLES
from ganinv_latentmap.features import FEATURE_EXTRACTORS, MAX_RESIZE_TO, check_resize_to
from security_testkit import rewrite_method
from tiny_world import tiny_generator

from ganinv.core.errors import GanInvError
from ganinv.core.latent_stats import sample_w, w_std
from ganinv.harness.method import build_method
from ganinv.harness.schema import MethodConfig


def direct_w_std(generator, num_samples: int) -> float:
    """The formula as it was computed before chunking: every sample held at once."""
    ws = sample_w(generator, num_samples).double()
    return float(((ws - ws.mean(0, keepdim=True)).square().sum() / len(ws)).sqrt())


def test_w_std_in_chunks_gives_the_direct_formulas_numbers():
    g = tiny_generator(w_avg_samples=64)
    assert w_std(g, 700) == direct_w_std(g, 700)  # one chunk: the same operations
    for count in (2500, 10000):  # merged chunks: float64 rounding only
        chunked, direct = w_std(g, count), direct_w_std(g, count)
        assert math.isclose(chunked, direct, rel_tol=1e-13), (count, chunked, direct)
    with pytest.raises(GanInvError, match="num_samples=0"):
        w_std(g, 0)


def test_w_std_memory_is_one_chunk_whatever_the_count():
    """100,000 draws of a 512-wide W: held at once they take 205 MB as float32 (and 410 MB more
    as float64). Under a 96 MB cap the chunked estimate runs, its peak RSS growing by little."""
    script = """
from ganinv.core.latent_stats import w_std
torch.set_num_threads(1)

class Stub(torch.nn.Module):  # what w_std reads of a generator: z_dim, w_avg, mapping
    z_dim = 8
    def __init__(self):
        super().__init__()
        self.register_buffer("w_avg", torch.zeros(512))
        self.weight = torch.nn.Parameter(torch.randn(8, 512), requires_grad=False)
    def mapping(self, z):
        return (z @ self.weight)[:, None]

before = peak_rss()
value = w_std(Stub(), 100_000)
print(json.dumps({"value": value, "growth": peak_rss() - before}))
"""
    done = run_capped(script, 96 * 2**20, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    print(f"w_std of 100,000 x 512 draws: peak RSS grew {result['growth'] / 2**20:.1f} MB")
    assert math.isfinite(result["value"]) and result["growth"] < 48 * 2**20


@pytest.mark.parametrize(
    ("space", "key"),
    [
        ({"name": "w", "w_std_samples": 10**12}, "w_std_samples"),
        ({"name": "wplus", "w_std_samples": MAX_SAMPLES + 1}, "w_std_samples"),
        ({"name": "z", "init_samples": 10**12}, "init_samples"),
        ({"name": "z", "init_samples": 0}, "init_samples"),
        ({"name": "w", "w_std_samples": 1.5}, "w_std_samples"),
    ],
)
def test_a_header_cannot_ask_for_unbounded_sampling(tiny, space, key, request):
    path = rewrite_method(tiny["encoder"], f"{request.node.name[-30:]}.safetensors", space=space)
    with pytest.raises(GanInvError) as info:
        build_method(MethodConfig(encoder_checkpoint=str(path)), generator=tiny["generator"])
    message = str(info.value)
    assert "\n" not in message and path.name in message and "method.space" in message, message
    if not isinstance(space.get(key), float):  # a float is refused by the type check first
        assert f"[1, {MAX_SAMPLES}]" in message, message


def test_the_sample_cap_admits_the_papers_count(tiny):
    """10 000 (the StyleGAN2 projector's count, every space's default) and the cap itself build."""
    import ganinv

    for count in (10_000, MAX_SAMPLES):
        space = ganinv.build(
            "spaces", {"name": "w", "w_std_samples": count}, generator=tiny["generator"]
        )
        assert space.w_std_samples == count


def test_a_header_cannot_resize_features_without_bound(tiny):
    encoder = {"name": "latentmap", "features": {"name": "vgg16", "resize_to": 100_000}}
    path = rewrite_method(tiny["encoder"], "latentmap-huge.safetensors", encoder=encoder)
    with pytest.raises(GanInvError) as info:
        build_method(MethodConfig(encoder_checkpoint=str(path)), generator=tiny["generator"])
    message = str(info.value)
    assert "\n" not in message and path.name in message and "method.encoder" in message
    assert f"[1, {MAX_RESIZE_TO}]" in message and "100000" in message, message


def test_resize_to_bounds_are_inclusive():
    check_resize_to(None)
    check_resize_to(1)
    check_resize_to(MAX_RESIZE_TO)
    for bad in (0, MAX_RESIZE_TO + 1, True, 224.0):
        with pytest.raises(GanInvError, match="resize_to"):
            check_resize_to(bad)
    with pytest.raises(GanInvError, match="resize_to"):
        FEATURE_EXTRACTORS.build({"name": "alexnet", "resize_to": 10**6})
