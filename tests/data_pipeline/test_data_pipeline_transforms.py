"""Transforms (resize modes, centre crop, pad, flip, mirror), splits and the strict builder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from data_testkit import png_bytes, random_rgb
from PIL import Image

from ganinv.core.errors import GanInvError
from ganinv.data import ImageTransform, build_dataset, resize_images
from ganinv.data.split import split_positions
from ganinv.data.transforms import RESIZE_MODES, center_crop_square, uint8_to_float


def _image(seed: int, size: int = 16) -> torch.Tensor:
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_area_and_bilinear_follow_their_definitions():
    x = _image(0)
    blocks4 = x.reshape(1, 3, 4, 4, 4, 4)  # [.., out_row, in_row, out_col, in_col]
    area = resize_images(x, 4, "area")
    assert torch.allclose(area, blocks4.mean(dim=(3, 5)), atol=1e-6)
    # Plain bilinear (no antialias) at factor 4 samples between in-block pixels 1 and 2.
    bilinear = resize_images(x, 4, "bilinear")
    assert torch.allclose(bilinear, blocks4[:, :, :, 1:3, :, 1:3].mean(dim=(3, 5)), atol=1e-6)
    # Legacy nearest picks source index floor(dst * in / out).
    assert torch.equal(resize_images(x, 4, "nearest"), x[:, :, ::4, ::4])


def test_antialias_matches_pillow_bilinear():
    array = random_rgb(5, 64, 64)
    x = uint8_to_float(torch.from_numpy(array).permute(2, 0, 1))
    ours = resize_images(x, 16, "antialias")
    pil = np.asarray(Image.fromarray(array).resize((16, 16), Image.BILINEAR), dtype=np.float32)
    reference = torch.from_numpy(pil).permute(2, 0, 1) / 127.5 - 1
    assert (ours - reference).abs().max() <= 1.01 / 127.5  # one 8-bit level (Pillow rounds)
    # Antialiasing matters: plain bilinear is much further from the box-filtered result.
    assert (resize_images(x, 16, "bilinear") - reference).abs().mean() > 5 * (
        ours - reference
    ).abs().mean()


def test_bicubic_is_clamped_and_identity_size_is_untouched():
    step = torch.full((1, 3, 8, 8), -1.0)
    step[..., 4:] = 1.0
    up = resize_images(step, 32, "bicubic")
    assert up.min() >= -1 and up.max() <= 1 and up.shape == (1, 3, 32, 32)
    x = _image(1)
    for mode in RESIZE_MODES:
        assert resize_images(x, 16, mode) is x
    with pytest.raises(GanInvError, match="antialias"):
        resize_images(x, 8, "lanczos")


def test_center_crop_of_non_square_images():
    wide = torch.arange(6 * 10).reshape(1, 6, 10)
    assert torch.equal(center_crop_square(wide), wide[:, :, 2:8])
    tall = torch.arange(9 * 4).reshape(1, 9, 4)
    assert torch.equal(center_crop_square(tall), tall[:, 2:6, :])  # odd leftover at the bottom
    image = torch.from_numpy(random_rgb(2, 6, 10)).permute(2, 0, 1)
    out = ImageTransform()(image)
    assert torch.allclose(out, uint8_to_float(image[:, :, 2:8]))
    stretched = ImageTransform(resolution=6, center_crop=False, resize="area")(image)
    assert stretched.shape == (3, 6, 6)


def test_pad_flip_and_protocol():
    image = torch.from_numpy(random_rgb(3, 8, 8)).permute(2, 0, 1)
    padded = ImageTransform(resolution=4, resize="area", pad=2)(image)
    assert padded.shape == (3, 8, 8)
    assert torch.all(padded[:, :2] == -1) and torch.all(padded[:, :, -2:] == -1)
    plain = ImageTransform(resolution=4, resize="area")(image)
    assert torch.equal(padded[:, 2:6, 2:6], plain)
    flipping = ImageTransform(flip=True)
    torch.manual_seed(0)
    outcomes = {bool(torch.equal(flipping(image), uint8_to_float(image))) for _ in range(20)}
    assert outcomes == {True, False}  # both flipped and unflipped occur
    record = ImageTransform(resolution=64, resize="bicubic", pad=2).protocol()
    assert record["resolution"] == 64 and record["resize"] == "bicubic" and record["pad"] == 2
    assert record["range"] == [-1.0, 1.0] and record["pad_value"] == -1.0


def test_splits_are_deterministic_exact_and_disjoint():
    test = split_positions(20, "test", 0.25, seed=0)
    assert test.tolist() == [3, 7, 9, 11, 18]  # fixed forever: results name their split
    assert split_positions(20, "test", 0.25, seed=1).tolist() == [0, 7, 8, 9, 16]
    train = split_positions(20, "train", 0.25, seed=0)
    assert len(train) == 15 and not set(train) & set(test)
    assert sorted([*train, *test]) == list(range(20))
    assert split_positions(20, "all", 0.25, seed=0).tolist() == list(range(20))
    big = split_positions(1000, "test", 0.1, seed=7)
    assert len(big) == 100 and np.array_equal(big, split_positions(1000, "test", 0.1, seed=7))


def _small_folder(root: Path, n: int = 12) -> Path:
    root.mkdir()
    for i in range(n):
        (root / f"{i:02d}.png").write_bytes(png_bytes(random_rgb(i, 6, 6)))
    return root


def test_dataset_split_subset_mirror(tmp_path: Path):
    root = _small_folder(tmp_path / "set")
    spec = {"name": "folder", "path": root, "split": "test", "test_fraction": 0.25, "seed": 3}
    test = build_dataset(spec)
    expected = split_positions(12, "test", 0.25, seed=3)
    assert [test.item_name(i) for i in range(len(test))] == [f"{p:02d}.png" for p in expected]
    picked = build_dataset({**spec, "indices": [2, 0], "limit": 1})
    assert [picked.item_name(0)] == [f"{expected[2]:02d}.png"]
    first = build_dataset({"name": "folder", "path": root, "limit": 4})
    assert [first.item_name(i) for i in range(4)] == ["00.png", "01.png", "02.png", "03.png"]
    mirrored = build_dataset({"name": "folder", "path": root, "limit": 4, "mirror": True})
    assert len(mirrored) == 8
    assert torch.equal(mirrored[5], mirrored[1].flip(-1))
    assert mirrored.item_name(5) == "01.png#mirror"
    protocol = test.protocol()
    assert protocol["split"] == "test" and protocol["test_fraction"] == 0.25
    assert protocol["seed"] == 3 and protocol["count"] == 3


def test_builder_is_strict(tmp_path: Path):
    root = _small_folder(tmp_path / "set", 2)
    with pytest.raises(GanInvError, match="did you mean 'resolution'"):
        build_dataset({"name": "folder", "path": str(root), "resolutoin": 64})
    with pytest.raises(GanInvError, match="resize"):
        build_dataset({"name": "folder", "path": str(root), "resize": "bilinaer"})
    with pytest.raises(GanInvError, match="limit.*expected int"):
        build_dataset({"name": "folder", "path": str(root), "limit": "ten"})
    with pytest.raises(GanInvError, match="did you mean 'folder'"):
        build_dataset({"name": "foldr", "path": str(root)})
    with pytest.raises(GanInvError, match="out of range"):
        build_dataset({"name": "folder", "path": str(root), "indices": [5]})
