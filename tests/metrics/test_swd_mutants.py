"""Checks added for mutants of the SWD metric and the reservoir sample that the suite let survive
(scripts/mutation.py group metrics_swd, docs/mutation.md): the uint8 conversion, the pyramid
levels, where descriptors are cut, the seeds of the stores, the distance in memory-bounded passes
against a direct implementation, the user errors and the protocol record."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.metrics import swd
from ganinv.metrics.reservoir import Reservoir
from ganinv.metrics.swd import (
    SWDMetric,
    laplacian_pyramid,
    pyramid_resolutions,
    random_descriptors,
    sliced_wasserstein,
    to_uint8_levels,
)


def _images(n: int, size: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_to_uint8_levels_rounds_and_clips():
    x = torch.tensor([-2.0, -1.0, -0.999, 0.0, 0.5, 0.999, 1.0, 1.5], dtype=torch.float64)
    got = to_uint8_levels(x)
    assert got.dtype == torch.float32
    # 0 -> 127.5 rounds half to even (128); 0.999 -> 254.87 -> 255
    assert got.tolist() == [0.0, 0.0, 0.0, 128.0, 191.0, 255.0, 255.0, 255.0]


def test_pyramid_resolutions_stop_at_16():
    assert pyramid_resolutions(64) == [64, 32, 16]
    assert pyramid_resolutions(16) == [16]
    assert pyramid_resolutions(31) == [31]
    assert pyramid_resolutions(15) == []


def test_laplacian_pyramid_levels_sum_back_to_the_image():
    images = to_uint8_levels(_images(2, 64, 0))
    pyramid = laplacian_pyramid(images, 3)
    assert [p.shape[-1] for p in pyramid] == [64, 32, 16]
    # The residual is the twice-blurred image; each band adds back the detail one level lost.
    recon = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        recon = band + swd.pyr_up(recon)
    torch.testing.assert_close(recon, images, atol=1e-3, rtol=0)
    low = swd.pyr_down(swd.pyr_down(images))
    torch.testing.assert_close(pyramid[-1], low)
    assert laplacian_pyramid(images, 1)[0] is images


def test_blur_is_the_normalised_binomial_filter_per_channel():
    x = torch.zeros(1, 3, 9, 9)
    x[0, 1, 4, 4] = 256.0  # an impulse in the middle channel only
    out = swd._blur(x)
    row = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    assert out[0, 1, 2:7, 2:7].tolist() == torch.outer(row, row).tolist()
    assert out[0, 0].abs().sum() == 0 and out[0, 2].abs().sum() == 0
    assert out[0, 1].sum() == 256.0
    edge = torch.zeros(1, 1, 9, 9)
    edge[0, 0, 0, 4] = 256.0  # mirrored border ('reflect': the edge row is not repeated)
    # 36 and 24 from the impulse itself; replicated borders would add 30 and 6
    assert swd._blur(edge)[0, 0, :2, 4].tolist() == [36.0, 24.0]
    up = swd.pyr_up(torch.ones(1, 1, 8, 8))
    assert up.shape == (1, 1, 16, 16)
    torch.testing.assert_close(up[0, 0, 4:12, 4:12], torch.ones(8, 8))


def test_random_descriptors_are_7x7_windows_of_their_image():
    b, c, size = 3, 3, 16
    # every pixel value names its image, channel, row and column
    level = torch.arange(b * c * size * size, dtype=torch.float32).view(b, c, size, size)
    desc = random_descriptors(level, torch.Generator().manual_seed(0))
    assert desc.shape == (b * 128, 3 * 49)
    again = random_descriptors(level, torch.Generator().manual_seed(0))
    assert torch.equal(desc, again)
    centres_x, centres_y = set(), set()
    for row, d in enumerate(desc.view(-1, 3, 7, 7)):
        image, rest = divmod(int(d[0, 0, 0]), c * size * size)
        assert image == row // 128
        y0, x0 = divmod(rest, size)
        assert torch.equal(d, level[image, :, y0 : y0 + 7, x0 : x0 + 7])
        centres_x.add(x0 + 3)
        centres_y.add(y0 + 3)
    # centres are uniform over the 3-pixel margin: 3..12 on 16 px, every value drawn
    assert centres_x == set(range(3, 13)) and centres_y == set(range(3, 13))


def _reference_distance(a: np.ndarray, b: np.ndarray, generator: torch.Generator) -> float:
    """Direct implementation: per-channel moments over every descriptor, 4 x 128 directions."""

    def normalise(x: np.ndarray) -> np.ndarray:
        x = x.reshape(x.shape[0], 3, 49).astype(np.float64)
        x = (x - x.mean(axis=(0, 2), keepdims=True)) / x.std(axis=(0, 2), keepdims=True)
        return x.reshape(x.shape[0], -1)

    a, b = normalise(a), normalise(b)
    total = 0.0
    for _ in range(4):
        dirs = torch.randn(147, 128, generator=generator, dtype=torch.float64).numpy()
        dirs /= np.sqrt(np.square(dirs).sum(axis=0, keepdims=True))
        pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)
        total += np.abs(pa - pb).mean()
    return total / 4


def _store(rows: np.ndarray) -> Reservoir:
    store = Reservoir(rows.shape[0])
    store.update(torch.from_numpy(rows))
    return store


@pytest.mark.parametrize("memory_bytes", [2**30, 3 * 8 * 50, 8 * 50])  # 128, 3 and 1 per pass
def test_sliced_wasserstein_in_passes_and_blocks_equals_a_direct_version(monkeypatch, memory_bytes):
    monkeypatch.setattr(swd, "BLOCK_ROWS", 7)  # several blocks, the last one short
    rng = np.random.default_rng(0)
    scales = np.repeat([1.0, 20.0, 0.2], 49)  # channels on different scales
    a = (rng.normal(0, 1, (50, 147)) * scales + np.repeat([0, 100, -5], 49)).astype(np.float32)
    b = (rng.normal(0.3, 1.2, (50, 147)) * scales).astype(np.float32)
    got = sliced_wasserstein(_store(a), _store(b), torch.Generator().manual_seed(1), memory_bytes)
    expected = _reference_distance(a, b, torch.Generator().manual_seed(1))
    assert got == pytest.approx(expected, rel=1e-5)
    assert sliced_wasserstein(_store(a), _store(a), torch.Generator(), memory_bytes) == 0


def test_sliced_wasserstein_refuses_unequal_sets():
    a, b = _store(np.ones((5, 147), np.float32)), _store(np.ones((4, 147), np.float32))
    with pytest.raises(GanInvError, match="^SWD needs equally many descriptors per set: 5 vs 4$"):
        sliced_wasserstein(a, b, torch.Generator())
    narrow = _store(np.ones((5, 6), np.float32))
    with pytest.raises(GanInvError, match="^SWD needs equally many descriptors per set: 5 vs 5$"):
        sliced_wasserstein(a, narrow, torch.Generator())


def test_constant_channel_in_either_set_is_refused():
    rng = np.random.default_rng(1)
    good = rng.normal(size=(20, 147)).astype(np.float32)
    flat = good.copy()
    flat[:, 49:98] = 3.0  # the green channel constant
    message = (
        "^SWD: a colour channel is constant over every descriptor of a set (blank images?); "
        "the per-channel normalisation is undefined, so there is no distance to report$"
    )
    for a, b in ((good, flat), (flat, good)):
        with pytest.raises(GanInvError, match=re.escape(message[1:-1])):
            sliced_wasserstein(_store(a), _store(b), torch.Generator())


@pytest.mark.parametrize("bad", [0, -1, 2.5, "512"])
def test_bad_memory_mib_is_a_user_error(bad):
    with pytest.raises(
        GanInvError, match=re.escape(f"swd.memory_mib must be a positive integer, got {bad!r}")
    ):
        SWDMetric(memory_mib=bad)


def test_bad_max_descriptors_message():
    with pytest.raises(
        GanInvError,
        match=re.escape(
            "swd.max_descriptors must be a positive integer or null (every descriptor), got 0"
        ),
    ):
        SWDMetric(max_descriptors=0)
    assert SWDMetric(max_descriptors=1).max_descriptors == 1


def test_update_refuses_wrong_images():
    metric = SWDMetric()
    for shape in ((2, 3, 16, 32), (2, 3, 8, 8), (2, 1, 16, 16), (2, 4, 16, 16)):
        x = torch.zeros(shape)
        with pytest.raises(
            GanInvError,
            match=re.escape(f"SWD needs square RGB images of at least 16 px, got {shape}"),
        ):
            metric.update(x, x)
    metric.update(_images(1, 32, 0), _images(1, 32, 1))
    with pytest.raises(GanInvError, match="^SWD: image size changed from 32 to 16$"):
        metric.update(_images(1, 16, 0), _images(1, 16, 1))
    with pytest.raises(GanInvError, match="^metric 'swd' has seen no images; call update"):
        SWDMetric().compute()


def test_update_feeds_seeded_stores_real_then_fake_per_level():
    """Sampled stores: the descriptors drawn in order (reals' levels, then fakes'), each store
    a reservoir with its own seed (seed + 1 + level, seed + 101 + level)."""
    real, fake = _images(6, 32, 0), _images(6, 32, 1)
    metric = SWDMetric(max_descriptors=300, seed=5)
    for i in (0, 3):
        metric.update(real[i : i + 3], fake[i : i + 3])
    generator = torch.Generator().manual_seed(5)
    stores = {
        f"{s}_{r}": Reservoir(300, 5 + k + i)
        for s, k in (("real", 1), ("fake", 101))
        for i, r in enumerate((32, 16))
    }
    for i in (0, 3):
        for name, images in (("real", real), ("fake", fake)):
            pyramid = laplacian_pyramid(to_uint8_levels(images[i : i + 3]), 2)
            for level, res in zip(pyramid, (32, 16)):
                stores[f"{name}_{res}"].update(random_descriptors(level, generator))
    state = metric.state()
    assert sorted(state) == sorted([*stores, "images"])
    for key, store in stores.items():
        assert torch.equal(state[key], store.values()), key
    assert state["images"].item() == 6 and state["images"].dtype == torch.float64


def test_state_round_trip_and_protocol():
    metric = SWDMetric(seed=2)
    metric.update(_images(3, 32, 0), _images(3, 32, 1))
    metric.update(_images(2, 32, 2), _images(2, 32, 3))
    state = metric.state()
    other = SWDMetric(seed=2)
    other.load_state(state)
    assert other.images == 5 and other.resolutions == [32, 16]
    for key, value in other.state().items():
        assert torch.equal(value, state[key]), key
    other.generator.set_state(metric.generator.get_state())
    first, second = metric.compute(), other.compute()
    assert first.value == second.value
    assert first.value == pytest.approx(sum(first.protocol["per_level_x1e3"].values()) / 2)
    assert first.higher_is_better is False
    assert first.protocol == {
        "definition": "ProGAN sliced Wasserstein distance x1e3, mean over pyramid levels",
        "levels": [32, 16],
        "neighbourhood": "7x7, 128 per image and level",
        "normalisation": "per set and level, per channel mean/std",
        "directions": "4 x 128",
        "range": "uint8 0..255 (round((x + 1) * 127.5))",
        "descriptors": "all",
        "descriptors_per_set_and_level": 5 * 128,
        "max_descriptors": None,
        "images": 5,
        "seed": 2,
        "per_level_x1e3": first.protocol["per_level_x1e3"],
    }
    assert sorted(first.protocol["per_level_x1e3"]) == [16, 32]
    empty = SWDMetric()
    empty.load_state({"images": torch.tensor(0.0)})
    assert empty.resolutions == [] and empty.protocol()["descriptors_per_set_and_level"] == 0


def test_reset_forgets_everything_and_reseeds():
    metric = SWDMetric(seed=4)
    metric.update(_images(2, 16, 0), _images(2, 16, 1))
    metric.reset()
    assert metric.images == 0 and metric.resolutions == [] and metric.real == []
    assert torch.equal(metric.generator.get_state(), torch.Generator().manual_seed(4).get_state())
    metric.update(_images(2, 16, 0), _images(2, 16, 1))
    fresh = SWDMetric(seed=4)
    fresh.update(_images(2, 16, 0), _images(2, 16, 1))
    assert fresh.compute().value == metric.compute().value


def test_reservoir_holds_everything_until_full_then_samples_as_algorithm_r():
    with pytest.raises(ValueError, match="^reservoir capacity must be positive$"):
        Reservoir(0)
    one = Reservoir(1)
    one.update(torch.ones(3, 2))
    assert one.values().tolist() == [[1.0, 1.0]]
    empty = Reservoir(4)
    assert empty.width == 0 and empty.rows == 0 and empty.values().shape == (0, 0)
    store = Reservoir(4, seed=7)
    chunks = [torch.arange(3.0).view(3, 1), torch.arange(3.0, 10.0).view(7, 1)]
    store.update(chunks[0].double())
    assert (
        store.values().flatten().tolist() == [0.0, 1.0, 2.0] and store.buffer.dtype == torch.float32
    )
    store.update(chunks[1])
    # Algorithm R: item i (from 0) replaces slot floor(u * (i + 1)) when that is < capacity.
    expected = [0.0, 1.0, 2.0, 3.0]
    generator = torch.Generator().manual_seed(7)
    draws = torch.rand(6, generator=generator, dtype=torch.float64)
    for item, u in zip(range(4, 10), draws):
        slot = int(u * (item + 1))
        if slot < 4:
            expected[slot] = float(item)
    assert store.values().flatten().tolist() == expected
    assert store.seen == 10 and store.size == store.rows == 4 and store.width == 1
    blocks = list(store.blocks(3))
    assert [start for start, _ in blocks] == [0, 3]
    assert np.concatenate([b for _, b in blocks]).flatten().tolist() == expected


def test_reservoir_inclusion_is_uniform():
    counts = np.zeros(40)
    for seed in range(300):
        store = Reservoir(10, seed)
        for first in range(0, 40, 8):
            store.update(torch.arange(first, first + 8, dtype=torch.float32).view(8, 1))
        counts[store.values().long().flatten().numpy()] += 1
    # each of the 40 items is kept with probability 1/4: 75 +- 7.5 of 300 (binomial std)
    assert np.abs(counts - 75).max() < 4 * 7.5
    assert abs(counts[:10].mean() - 75) < 10 and abs(counts[30:].mean() - 75) < 10


def test_reservoir_matches_algorithm_r_on_many_short_streams():
    # Short streams: replacement decisions are frequent, so an off-by-one in the slot range
    # (2 / (item + 1) as the keep probability) changes the sample for about half the seeds.
    for seed in range(20):
        store = Reservoir(2, seed)
        store.update(torch.arange(0.0, 3.0).view(3, 1))
        store.update(torch.arange(3.0, 8.0).view(5, 1))
        expected = [0, 1]
        generator = torch.Generator().manual_seed(seed)
        first = torch.rand(1, generator=generator, dtype=torch.float64)
        second = torch.rand(5, generator=generator, dtype=torch.float64)
        for item, u in zip(range(2, 8), torch.cat([first, second])):
            slot = int(u * (item + 1))  # kept with probability 2 / (item + 1)
            if slot < 2:
                expected[slot] = item
        assert store.values().flatten().long().tolist() == expected, seed
    default = Reservoir(2)
    default.update(torch.arange(0.0, 8.0).view(8, 1))
    reference = Reservoir(2, seed=0)
    reference.update(torch.arange(0.0, 8.0).view(8, 1))
    assert torch.equal(default.values(), reference.values())  # the default seed is 0


def test_pyramid_of_float64_images_equals_float32():
    images = to_uint8_levels(_images(1, 32, 3))
    for a, b in zip(laplacian_pyramid(images, 2), laplacian_pyramid(images.double(), 2)):
        assert b.dtype == torch.float64
        torch.testing.assert_close(a.double(), b, atol=1e-3, rtol=0)


def test_descriptor_centres_are_the_generators_draws_within_the_margin():
    level = torch.arange(2 * 3 * 20 * 20, dtype=torch.float32).view(2, 3, 20, 20)
    desc = random_descriptors(level, torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(3)
    xs = torch.randint(3, 17, (256,), generator=generator)  # x first, then y, as ProGAN
    ys = torch.randint(3, 17, (256,), generator=generator)
    rest = desc[:, 0].long() % (3 * 20 * 20)  # top-left value of each window, channel 0
    assert torch.equal(rest // 20 + 3, ys) and torch.equal(rest % 20 + 3, xs)


def test_metric_defaults_name_spill_folder_and_float64_upsampling(tmp_path):
    metric = SWDMetric()
    assert (metric.seed, metric.memory_mib, metric.max_descriptors) == (0, 512, None)
    spilled = SWDMetric(spill_dir=str(tmp_path))
    spilled.update(_images(1, 16, 0), _images(1, 16, 1))
    assert spilled.real[0].directory == str(tmp_path)
    assert spilled.fake[0].directory == str(tmp_path)
    result = spilled.compute()
    assert result.name == "swd"
    with pytest.raises(GanInvError, match="^metric 'swd' compares images of the same shape"):
        spilled.update(_images(1, 16, 0), _images(2, 16, 1))
    assert swd.pyr_up(torch.ones(1, 1, 4, 4, dtype=torch.float64)).dtype == torch.float64
