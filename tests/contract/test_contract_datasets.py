"""Every registered data set has a length, image items and deterministic reads
(ganinv.testing.check_dataset), each built on a tiny source of its format."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import ganinv
from ganinv.core.registry import registry
from ganinv.testing import (
    check_dataset,
    render_image_folder,
    save_tiny_networks,
    tiny_generator,
    write_idx_folder,
)

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def folder_source(root: Path) -> dict:
    return {"path": str(render_image_folder(root / "images", tiny_generator(), 6, seed=1))}


def zip_source(root: Path) -> dict:
    images = render_image_folder(root / "images", tiny_generator(), 6, seed=1)
    with zipfile.ZipFile(root / "images.zip", "w") as archive:
        for png in sorted(images.iterdir()):
            archive.write(png, png.name)
    return {"path": str(root / "images.zip")}


def lmdb_source(root: Path) -> dict:
    from ganinv.data.convert import convert_dataset

    folder = ganinv.build("datasets", {"name": "folder", **folder_source(root)})
    convert_dataset(folder, root / "images.lmdb", "lmdb", progress=False)
    return {"path": str(root / "images.lmdb")}


def fashion_source(root: Path) -> dict:
    if not (FASHION_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the Fashion-MNIST files are not in {FASHION_MNIST} (scripts/setup)")
    return {"split": "test", "limit": 6}


def synthetic_source(root: Path) -> dict:
    return {
        "generator": str(save_tiny_networks(root / "g.safetensors", tiny_generator())),
        "count": 6,
    }


SOURCES = {
    "folder": folder_source,
    "zip": zip_source,
    "lmdb": lmdb_source,
    "idx": lambda root: {"path": str(write_idx_folder(root / "idx", count=6)), "split": "train"},
    "fashion_mnist": fashion_source,
    "synthetic_pairs": synthetic_source,
    "acme_checker": lambda root: {},
}


@pytest.mark.parametrize("name", registry("datasets").names())
def test_dataset_contract(name, tmp_path):
    if name not in SOURCES:
        pytest.fail(f"data set {name!r} has no tiny source in this suite; add one to SOURCES")
    args = SOURCES[name](tmp_path)
    check_dataset(lambda: ganinv.build("datasets", {"name": name, **args}), length=6)
