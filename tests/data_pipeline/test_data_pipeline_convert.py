"""Formats and `ganinv data convert|info`: folder -> zip -> lmdb -> folder keeps pixels, order."""

from __future__ import annotations

import json
from pathlib import Path

import lmdb
import numpy as np
import pytest
import torch
from data_testkit import chw, encode, png_bytes, random_rgb
from PIL import Image
from torch.utils.data import DataLoader

from ganinv.cli.main import main
from ganinv.core.errors import GanInvError
from ganinv.data import build_dataset, detect_format


def _decoded(dataset) -> list[np.ndarray]:
    return [dataset.read_uint8(i).numpy() for i in range(len(dataset))]


def test_round_trip_folder_zip_lmdb_folder(png_folder, tmp_path: Path, capsys):
    root, arrays = png_folder
    source = build_dataset({"name": "folder", "path": str(root)})
    assert [source.item_name(i) for i in range(len(source))] == [
        "a.png",
        "b/c.png",
        "b/d.png",
        "e.png",
        "f.png",
    ]
    expected = [chw(a) for a in arrays]
    assert all(np.array_equal(x, y) for x, y in zip(_decoded(source), expected))

    zip_path, lmdb_path, back = tmp_path / "set.zip", tmp_path / "set_lmdb", tmp_path / "back"
    assert main(["data", "convert", str(root), str(zip_path)]) == 0
    assert main(["data", "convert", str(zip_path), str(lmdb_path), "--format", "lmdb"]) == 0
    assert main(["data", "convert", str(lmdb_path), str(back)]) == 0
    assert "wrote 5 images" in capsys.readouterr().out
    assert [detect_format(p) for p in (root, zip_path, lmdb_path, back)] == [
        "folder",
        "zip",
        "lmdb",
        "folder",
    ]
    for path, name in ((zip_path, "zip"), (lmdb_path, "lmdb"), (back, "folder")):
        dataset = build_dataset({"name": name, "path": str(path), "check": "full"})
        decoded = _decoded(dataset)
        assert len(decoded) == len(expected)
        for got, want in zip(decoded, expected):  # identical pixels, identical order
            assert got.shape == want.shape and np.array_equal(got, want)
    # The images, and the marker that lets --overwrite recognise ganinv's own output.
    names = [".ganinv-output.json"] + [f"{i:08d}.png" for i in range(5)]
    assert sorted(p.name for p in back.iterdir()) == names
    # No temporary files are left next to the outputs.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back", "pngs", "set.zip", "set_lmdb"]


def test_convert_with_resolution_matches_the_transform(png_folder, tmp_path: Path):
    root, _ = png_folder
    out = tmp_path / "small.zip"
    assert main(["data", "convert", str(root), str(out), "--resolution", "6"]) == 0
    converted = build_dataset({"name": "zip", "path": str(out)})
    direct = build_dataset({"name": "folder", "path": str(root), "resolution": 6})
    assert len(converted) == len(direct) == 5
    for i in range(5):
        assert converted.read_uint8(i).shape == (3, 6, 6)
        # The stored image is the transform's output rounded to 8 bits.
        assert torch.allclose(converted[i], direct[i], atol=0.5 / 127.5 + 1e-6)


def test_convert_raise_leaves_nothing_and_skip_lists(tmp_path: Path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.png").write_bytes(png_bytes(random_rgb(0)))
    (src / "b.png").write_bytes(png_bytes(random_rgb(1))[:100])  # truncated
    (src / "c.png").write_bytes(png_bytes(random_rgb(2)))
    out = tmp_path / "out.zip"
    assert main(["data", "convert", str(src), str(out)]) == 2
    assert "b.png" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # nothing half-written
    assert main(["data", "convert", str(src), str(out), "--on-error", "skip"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 2 images" in printed and "b.png" in printed
    assert main(["data", "convert", str(src), str(out), "--on-error", "skip"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["data", "convert", str(src), str(out), "--on-error", "skip", "--overwrite"]) == 0
    converted = build_dataset({"name": "zip", "path": str(out)})
    assert np.array_equal(converted.read_uint8(1).numpy(), chw(random_rgb(2)))


def test_info_reports_counts_sizes_and_problems(tmp_path: Path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.png").write_bytes(png_bytes(random_rgb(0, 8, 10)))
    (src / "b.jpg").write_bytes(encode(Image.fromarray(random_rgb(1, 8, 10)[..., 0]), "JPEG"))
    (src / "c.png").write_bytes(png_bytes(random_rgb(2, 16, 16))[:120])
    (src / "d.png").write_bytes(b"")
    assert main(["data", "info", str(src), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 4 and report["readable"] == 2
    assert report["sizes"] == {"10x8": 2}
    assert report["modes"] == {"RGB": 1, "L": 1}
    assert [p["name"] for p in report["problems"]] == ["c.png", "d.png"]
    # --quick reads headers only: the truncated body of c.png goes unnoticed, d.png does not.
    assert main(["data", "info", str(src), "--json", "--quick"]) == 1
    quick = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in quick["problems"]] == ["d.png"]
    assert quick["sizes"] == {"10x8": 2, "16x16": 1}
    assert main(["data", "info", str(src)]) == 1
    text = capsys.readouterr().out
    assert "images: 4" in text and "c.png" in text and "empty file" in text


def _lsun_like(path: Path, arrays: list[np.ndarray]) -> list[bytes]:
    """An LMDB with LSUN's layout: 40-hex-character keys -> WebP bytes, plus a 'length' key."""
    env = lmdb.open(str(path), map_size=1 << 24)
    keys = [f"{(i * 2654435761) % (1 << 64):040x}".encode() for i in range(len(arrays))]
    with env.begin(write=True) as txn:
        for key, array in zip(keys, arrays):
            txn.put(key, encode(Image.fromarray(array), "WEBP", lossless=True))
        txn.put(b"length", str(len(arrays)).encode())
    env.close()
    return keys


def test_lsun_layout_reads_in_key_order(tmp_path: Path):
    arrays = [random_rgb(i, 10, 14) for i in range(6)]
    keys = _lsun_like(tmp_path / "church_val_lmdb", arrays)
    dataset = build_dataset(
        {"name": "lmdb", "path": str(tmp_path / "church_val_lmdb"), "resolution": 8}
    )
    order = sorted(range(len(keys)), key=lambda i: keys[i])  # LMDB orders keys bytewise
    assert [dataset.item_name(i) for i in range(len(dataset))] == [keys[i].decode() for i in order]
    for i, k in enumerate(order):  # lossless WebP: exact pixels
        assert np.array_equal(dataset.read_uint8(i).numpy(), chw(arrays[k]))
    assert dataset[0].shape == (3, 8, 8)


@pytest.mark.parametrize("fmt", ["zip", "lmdb"])
def test_dataloader_workers_open_their_own_handles(png_folder, tmp_path: Path, fmt: str):
    root, _ = png_folder
    out = tmp_path / f"set.{fmt}"
    assert main(["data", "convert", str(root), str(out), "--format", fmt]) == 0
    dataset = build_dataset({"name": fmt, "path": str(out), "resolution": 8})
    assert dataset._handle is None  # nothing open in the parent when workers fork
    serial = torch.stack([dataset[i] for i in range(len(dataset))])
    loader = DataLoader(dataset, batch_size=2, num_workers=2, multiprocessing_context="fork")
    assert torch.equal(torch.cat(list(loader)), serial)
    # Two datasets on one source (train and test split) read side by side in one process.
    train = build_dataset({"name": fmt, "path": str(out), "split": "train", "test_fraction": 0.4})
    test = build_dataset({"name": fmt, "path": str(out), "split": "test", "test_fraction": 0.4})
    assert len(train) + len(test) == len(dataset)
    assert train.read_uint8(0).shape[0] == test.read_uint8(0).shape[0] == 3
    names = {train.item_name(i) for i in range(len(train))}
    assert names.isdisjoint(test.item_name(i) for i in range(len(test)))


def test_labels_survive_conversion_and_lmdb_meta_is_validated(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"{i}.png").write_bytes(png_bytes(random_rgb(i, 4, 4)))
    (src / "dataset.json").write_text(
        json.dumps({"labels": [[f"{i}.png", 3 - i] for i in range(4)]})
    )
    folder = build_dataset({"name": "folder", "path": str(src), "split": "all", "indices": [2, 0]})
    assert folder.labels.tolist() == [1, 3]
    assert main(["data", "convert", str(src), str(tmp_path / "l_lmdb")]) == 0
    converted = build_dataset({"name": "lmdb", "path": str(tmp_path / "l_lmdb"), "mirror": True})
    assert converted.labels.tolist() == [3, 2, 1, 0, 3, 2, 1, 0]
    env = lmdb.open(str(tmp_path / "l_lmdb"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        txn.put(b"__ganinv__", b"{broken")
    env.close()
    with pytest.raises(GanInvError, match="damaged"):
        build_dataset({"name": "lmdb", "path": str(tmp_path / "l_lmdb")})
