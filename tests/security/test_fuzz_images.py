"""Property-based fuzzing of ganinv's image decoding with small PNG and JPEG files.

Random byte changes, insertions and truncations of tiny valid files (PNG checksums are fixed up
half of the time, so changed headers get through) go through `decode_image` and through a folder
dataset's `describe` and `read_uint8` (what every command uses, `ganinv data info` included).
Every case must decode to an RGB uint8 [3, H, W] within the pixel bound or raise `GanInvError`;
never another exception, never a hang (a per-case deadline and a timeout on the whole run) and
never unbounded memory: the cases run in a subprocess (this file run as a script) under an
address-space cap. The number of cases that ran is printed.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zlib

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

MEMORY_CAP = 5 << 30  # address space: torch alone maps about 3.2 GB here
CASES_PER_FORMAT = 300
TIMEOUT = 300
MAX_PIXELS = 89_478_485  # ganinv.data.decode.MAX_PIXELS (Pillow's default limit)


def encoded(fmt: str, mode: str, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (6, 7, 4), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").convert(mode).save(buffer, format=fmt)
    return buffer.getvalue()


SEEDS = {
    "png": [encoded("PNG", m, i) for i, m in enumerate(("RGB", "RGBA", "L", "P", "I;16"))],
    "jpeg": [encoded("JPEG", m, i) for i, m in enumerate(("RGB", "L", "CMYK"))],
}


def hot_offsets(data: bytearray) -> list[int]:
    """Where the width and height are stored (PNG IHDR, JPEG SOF0)."""
    if data.startswith(b"\x89PNG"):
        return list(range(16, 24))
    sof = bytes(data).find(b"\xff\xc0")
    return list(range(sof + 5, sof + 9)) if sof >= 0 else []


def fix_png_crcs(data: bytearray) -> bytearray:
    at = 8
    while at + 12 <= len(data):
        end = at + 8 + int.from_bytes(data[at : at + 4], "big")
        if end + 4 > len(data):
            break
        data[end : end + 4] = zlib.crc32(bytes(data[at + 4 : end])).to_bytes(4, "big")
        at = end + 4
    return data


@st.composite
def mutated(draw, fmt: str) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS[fmt])))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(("flip", "set", "word", "insert", "delete")))
        anywhere = st.integers(0, max(len(data) - 1, 0))
        at = draw(st.one_of(anywhere, st.sampled_from(hot_offsets(data) or [0])))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from((0x00, 0xFF, 0x7F, 0x80)))
        elif kind == "word":  # e.g. a width or height: 65535, 32767, 0, 16384
            data[at : at + 2] = draw(st.sampled_from((b"\xff\xff", b"\x7f\xff", b"\0\0", b"@\0")))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
    if fmt == "png" and draw(st.booleans()):
        data = fix_png_crcs(data)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def fuzz(folder: str, cases: int) -> dict[str, int]:
    """Run the cases (in this process); returns how many ran, decoded and were refused."""
    from ganinv.core.errors import GanInvError
    from ganinv.data.build import build_dataset
    from ganinv.data.decode import decode_image

    path = os.path.join(folder, "x.png")
    with open(path, "wb") as f:
        f.write(SEEDS["png"][0])
    dataset = build_dataset({"name": "folder", "path": folder, "check": "none"})
    counts = {"cases": 0, "decoded": 0, "refused": 0, "too_large": 0}

    def check(data: bytes) -> None:
        counts["cases"] += 1
        with open(path, "wb") as f:
            f.write(data)
        try:
            width, height = dataset.describe(0)["size"]
            assert width * height <= MAX_PIXELS
        except GanInvError as exc:
            counts["too_large"] += "too large" in str(exc)
        outcomes = []
        for read in (lambda: decode_image(data, "fuzz"), lambda: dataset.read_uint8(0)):
            try:
                image = read()
            except GanInvError:
                outcomes.append(None)
                continue
            assert image.dtype == np.uint8 or str(image.dtype) == "torch.uint8"
            assert image.ndim == 3 and image.shape[0] == 3
            assert image.shape[1] * image.shape[2] <= MAX_PIXELS
            outcomes.append(tuple(image.shape))
        assert outcomes[0] == outcomes[1]  # the file path decodes exactly as the bytes do
        counts["decoded" if outcomes[0] else "refused"] += 1

    for fmt in ("png", "jpeg"):
        settings(
            max_examples=cases,
            deadline=5000,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(mutated(fmt))(check))()
    return counts


def test_mutated_png_and_jpeg_decode_or_raise_ganinv_error(tmp_path):
    ran = subprocess.run(
        [sys.executable, __file__, str(tmp_path), str(CASES_PER_FORMAT)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-6000:]
    counts = json.loads(ran.stdout.strip().splitlines()[-1])
    print(f"image fuzz: {counts}")  # shown with -s; the report quotes it
    assert counts["cases"] >= 2 * CASES_PER_FORMAT
    # Every outcome occurs: the mutations are neither all harmless nor all fatal, and some
    # reach the size fields (decompression bombs).
    assert counts["decoded"] > 0 and counts["refused"] > 0 and counts["too_large"] > 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    print(json.dumps(fuzz(sys.argv[1], int(sys.argv[2]))))
