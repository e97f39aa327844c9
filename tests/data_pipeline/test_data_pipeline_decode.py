"""Robust decoding and the bad-input policy (on_error raise | skip, check header | full)."""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from data_testkit import chw, encode, png_bytes, random_rgb
from PIL import Image
from torch.utils.data import DataLoader

from ganinv.core.errors import GanInvError
from ganinv.data import build_dataset, decode_image
from ganinv.data.decode import ImageDecodeError

# -- handled inputs: each decodes to documented RGB pixels ---------------------------------------


def test_grayscale_is_repeated_on_rgb():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    out = decode_image(encode(Image.fromarray(gray, "L"), "PNG"), "g.png")
    assert out.dtype == torch.uint8 and out.shape == (3, 3, 4)
    for channel in range(3):
        assert np.array_equal(out[channel].numpy(), gray)


def test_rgba_is_composited_on_black():
    rgba = np.array([[[200, 100, 50, 128], [10, 20, 30, 255], [255, 255, 255, 0]]], np.uint8)
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), "a.png").numpy()
    expected = np.floor(rgba[..., :3] * (rgba[..., 3:4] / 255.0) + 0.5).astype(np.uint8)
    assert np.array_equal(out, chw(expected))
    assert out[:, 0, 0].tolist() == [100, 50, 25]


def test_gray_alpha_and_palette_transparency_use_the_same_rule():
    la = Image.fromarray(np.array([[[200, 51]]], np.uint8), "LA")
    assert decode_image(encode(la, "PNG"), "la.png")[:, 0, 0].tolist() == [40, 40, 40]
    palette = Image.new("P", (2, 1))
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    palette.putpixel((0, 0), 0)
    palette.putpixel((1, 0), 1)
    opaque = decode_image(encode(palette, "PNG"), "p.png")
    assert opaque[:, 0, 0].tolist() == [255, 0, 0] and opaque[:, 0, 1].tolist() == [0, 255, 0]
    transparent = decode_image(encode(palette, "PNG", transparency=0), "pt.png")
    assert transparent[:, 0, 0].tolist() == [0, 0, 0]  # index 0 transparent: black
    assert transparent[:, 0, 1].tolist() == [0, 255, 0]


def test_16_bit_grayscale_is_scaled_not_clipped():
    wide = np.array([[0, 257 * 100, 65535, 300]], dtype=np.uint16)
    data = encode(Image.fromarray(wide), "PNG")
    assert Image.open(__import__("io").BytesIO(data)).mode == "I;16"
    out = decode_image(data, "w.png")
    assert out[0].tolist() == [[0, 100, 255, 1]]


def test_16_bit_rgb_keeps_the_high_byte():
    # Pillow cannot write 48-bit PNGs: build one by hand (IHDR bit depth 16, colour type 2).
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    pixels = np.array([[[0, 0, 0], [65535, 257 * 100, 1000], [300, 65280, 128]]], dtype=">u2")
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)
    header = (3).to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes([16, 2, 0, 0, 0])
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    out = decode_image(data + chunk(b"IEND", b""), "rgb16.png")
    assert out[:, 0].T.tolist() == [[0, 0, 0], [255, 100, 3], [1, 255, 0]]


def test_cmyk_converts_to_rgb():
    cmyk = Image.new("CMYK", (2, 1))
    cmyk.putpixel((0, 0), (0, 0, 0, 0))  # white
    cmyk.putpixel((1, 0), (0, 255, 255, 0))  # red
    out = decode_image(encode(cmyk, "TIFF"), "c.tif")
    assert out[:, 0, 0].tolist() == [255, 255, 255] and out[:, 0, 1].tolist() == [255, 0, 0]


def test_exif_orientation_is_applied():
    stored = random_rgb(3, 2, 4)  # stored as 4 wide x 2 high
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = encode(Image.fromarray(stored), "PNG", exif=exif.tobytes())
    out = decode_image(data, "o.png").numpy()
    assert out.shape == (3, 4, 2)  # displayed upright: 2 wide x 4 high
    assert np.array_equal(out, chw(np.rot90(stored, k=-1)))


def test_float_images_are_rejected_with_the_reason():
    image = Image.fromarray(np.ones((2, 2), np.float32))
    with pytest.raises(ImageDecodeError, match="32-bit float"):
        decode_image(encode(image, "TIFF"), "f.tif")


def test_decode_error_survives_dataloader_reraise():
    # DataLoader re-creates worker exceptions from their message alone.
    error = ImageDecodeError("cannot read image 'x.png': empty file")
    assert isinstance(error, GanInvError) and "x.png" in str(error)


# -- a folder with every kind of bad input ------------------------------------------------------

GOOD = {
    "01_rgb.png": lambda: png_bytes(random_rgb(1)),
    "02_gray.png": lambda: encode(Image.fromarray(random_rgb(2)[..., 0], "L"), "PNG"),
    "03_rgba.png": lambda: encode(
        Image.fromarray(np.concatenate([random_rgb(3), random_rgb(30)[..., :1]], axis=2)), "PNG"
    ),
    "04_palette.gif": lambda: encode(Image.fromarray(random_rgb(4)).convert("P"), "GIF"),
    "05_wide16.png": lambda: encode(
        Image.fromarray(random_rgb(5)[..., 0].astype(np.uint16) * 257), "PNG"
    ),
    "06_cmyk.jpg": lambda: encode(Image.fromarray(random_rgb(6)).convert("CMYK"), "JPEG"),
    "07_small_nonsquare.jpg": lambda: encode(Image.fromarray(random_rgb(7, 5, 9)), "JPEG"),
    "08_large.webp": lambda: encode(Image.fromarray(random_rgb(8, 40, 30)), "WEBP", lossless=True),
}
BAD = {
    "11_truncated.png": (lambda: png_bytes(random_rgb(11, 64, 64))[:300], "truncated"),
    "12_corrupt_body.jpg": (
        lambda: encode(Image.fromarray(random_rgb(12, 32, 32)), "JPEG")[:20] + b"\x00" * 400,
        "corrupt",
    ),
    "13_text.png": (lambda: b"<html>this is not an image</html>", "not an image"),
    "14_empty.jpg": (lambda: b"", "empty file"),
    "15_float.tif": (
        lambda: encode(Image.fromarray(np.ones((4, 4), np.float32)), "TIFF"),
        "32-bit float",
    ),
}


def _write(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        maker = GOOD[name] if name in GOOD else BAD[name][0]
        (folder / name).write_bytes(maker())
    return folder


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    return _write(tmp_path / "messy", [*GOOD, *BAD])


GOOD_MODES = {
    "01_rgb.png": "RGB",
    "02_gray.png": "L",
    "03_rgba.png": "RGBA",
    "04_palette.gif": "P",
    "05_wide16.png": "I;16",
    "06_cmyk.jpg": "CMYK",
    "07_small_nonsquare.jpg": "RGB",
    "08_large.webp": "RGB",
}


def test_every_good_kind_decodes_to_rgb(messy_folder: Path):
    for name in GOOD:
        with Image.open(messy_folder / name) as stored:
            assert stored.mode == GOOD_MODES[name]  # the file really is of the kind it claims
        image = decode_image((messy_folder / name).read_bytes(), name)
        assert image.dtype == torch.uint8 and image.ndim == 3 and image.shape[0] == 3


@pytest.mark.parametrize("bad_name", sorted(BAD))
def test_raise_names_the_file_and_the_problem(tmp_path: Path, bad_name: str):
    folder = _write(tmp_path / "one_bad", ["01_rgb.png", bad_name])
    with pytest.raises(GanInvError) as info:
        build_dataset({"name": "folder", "path": str(folder), "check": "full"})
    assert bad_name in str(info.value)
    assert BAD[bad_name][1] in str(info.value)


def test_raise_at_read_time_when_only_headers_were_checked(tmp_path: Path):
    folder = _write(tmp_path / "late", ["01_rgb.png", "11_truncated.png"])
    dataset = build_dataset({"name": "folder", "path": str(folder), "resolution": 8})
    assert len(dataset) == 2  # the header of the truncated file is fine
    dataset[0]
    with pytest.raises(GanInvError, match="11_truncated.png"):
        dataset[1]
    # Raised inside a DataLoader worker, it still reaches the caller as a GanInvError.
    loader = DataLoader(dataset, batch_size=2, num_workers=1, multiprocessing_context="fork")
    with pytest.raises(GanInvError, match="11_truncated.png"):
        next(iter(loader))


def test_skip_with_full_check_yields_exactly_the_good_images(messy_folder: Path, caplog):
    with caplog.at_level(logging.WARNING, logger="ganinv.data"):
        dataset = build_dataset(
            {
                "name": "folder",
                "path": str(messy_folder),
                "resolution": 16,
                "on_error": "skip",
                "check": "full",
            }
        )
    assert [dataset.item_name(i) for i in range(len(dataset))] == sorted(GOOD)
    assert [name for name, _ in dataset.skipped] == sorted(BAD)
    for name, problem in dataset.skipped:
        assert BAD[name][1] in problem
        assert name in caplog.text  # the run's log lists what was skipped
    for i in range(len(dataset)):
        x = dataset[i]
        assert x.shape == (3, 16, 16) and x.min() >= -1 and x.max() <= 1
        expected = decode_image((messy_folder / dataset.item_name(i)).read_bytes(), "x")
        assert torch.equal(dataset.read_uint8(i), expected)
    assert dataset.protocol()["skipped"] == len(BAD)


def test_skip_with_header_check(messy_folder: Path):
    dataset = build_dataset(
        {"name": "folder", "path": str(messy_folder), "resolution": 16, "on_error": "skip"}
    )
    # Header check drops the empty file and the non-image at construction ...
    assert sorted(n for n, _ in dataset.skipped) == ["13_text.png", "14_empty.jpg"]
    names = [dataset.item_name(i) for i in range(len(dataset))]
    assert names == sorted([*GOOD, "11_truncated.png", "12_corrupt_body.jpg", "15_float.tif"])
    # ... and a body that fails at read time is replaced by the next readable image, always.
    truncated = names.index("11_truncated.png")
    assert torch.equal(dataset[truncated], dataset[truncated + 2])  # 12_corrupt_body also bad
    assert torch.equal(dataset[truncated], dataset[truncated])
    last = names.index("15_float.tif")
    assert last == len(names) - 1
    assert torch.equal(dataset[last], dataset[0])  # wraps around
    skipped = {n for n, _ in dataset.skipped}
    assert {"11_truncated.png", "12_corrupt_body.jpg", "15_float.tif"} <= skipped


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_empty_source_is_an_error_under_both_policies(tmp_path: Path, on_error: str):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(GanInvError, match="no images found"):
        build_dataset({"name": "folder", "path": str(empty), "on_error": on_error})
    only_bad = _write(tmp_path / "only_bad", ["13_text.png", "14_empty.jpg"])
    with pytest.raises(GanInvError, match="13_text.png"):
        build_dataset({"name": "folder", "path": str(only_bad), "on_error": on_error})


def test_missing_path_is_a_clear_error(tmp_path: Path):
    with pytest.raises(GanInvError, match="does not exist"):
        build_dataset({"name": "folder", "path": str(tmp_path / "nope")})
    with pytest.raises(GanInvError, match="does not exist"):
        build_dataset({"name": "zip", "path": str(tmp_path / "nope.zip")})
    (tmp_path / "fake.zip").write_bytes(b"not a zip")
    with pytest.raises(GanInvError, match="not a readable zip"):
        build_dataset({"name": "zip", "path": str(tmp_path / "fake.zip")})
