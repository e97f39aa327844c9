"""Class 7: inputs that are not regular files, and decompression bombs.

FIFOs, devices, sockets and symlinks to them are reported (or skipped by policy) without
blocking and without reading without bound; a decompression bomb gives the same message in
every command. Commands that could hang run in a subprocess with a timeout and a memory cap.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganinv.core.errors import GanInvError

BOMB_MESSAGE = "image too large to decode safely (over 89478485 pixels"
MEMORY_CAP = 5 << 30  # address space: torch alone maps about 3.2 GB here
TIMEOUT = 120


def _png(path: Path, seed: int = 0) -> Path:
    array = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(array).save(path)
    return path


def bomb_png(side: int = 15000) -> bytes:
    """A 1-bit PNG of side x side pixels (225 M for 15000, ~25 kB): a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\x00" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


_BATCH = """
import contextlib, io, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from ganinv.cli.main import main
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if args[0] == "__load_inputs__":  # `ganinv invert --input FIFO`
                from ganinv.core.errors import GanInvError
                from ganinv.harness.inputs import load_inputs
                try:
                    load_inputs(args[1], 16)
                    code = 0
                except GanInvError as exc:
                    code = 2
                    print(exc, file=sys.stderr)
            elif args[0] == "__read_image__":  # what `ganinv invert` does with one input file
                from pathlib import Path
                from ganinv.core.errors import GanInvError
                from ganinv.harness.inputs import read_image
                try:
                    read_image(Path(args[1]), 16)
                    code = 0
                except GanInvError as exc:
                    code = 2
                    print(exc, file=sys.stderr)
            else:
                code = main(args)
        except BaseException as exc:  # what escaped the CLI is part of the result
            code, err = -1, io.StringIO(repr(exc))
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def run_cli(*calls: list[str], timeout: int = TIMEOUT) -> list[subprocess.CompletedProcess]:
    """`ganinv ARGS` for each call, in one subprocess under a memory cap (a hang fails the
    test, not the suite; one start-up for all calls)."""
    try:
        ran = subprocess.run(
            [sys.executable, "-c", _BATCH.format(cap=MEMORY_CAP), json.dumps(list(calls))],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"ganinv {calls} did not finish in {timeout} s (blocked?)")
    assert ran.returncode == 0, ran.stderr[-2000:]
    results = json.loads(ran.stdout.strip().splitlines()[-1])
    return [subprocess.CompletedProcess(c, code, o, e) for c, (code, o, e) in zip(calls, results)]


def run_here(*args: str) -> subprocess.CompletedProcess:
    """`ganinv ARGS` in this process (for calls that cannot block)."""
    from ganinv.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def special(tmp_path_factory):
    """A folder with two good PNGs, a FIFO, a symlink to /dev/zero and a socket, all named
    *.png, a FIFO named data.zip and an LMDB folder whose data.mdb is a FIFO; and the results
    of every command on them, run in one subprocess."""
    root = tmp_path_factory.mktemp("special")
    folder = root / "imgs"
    folder.mkdir()
    _png(folder / "a.png", 0)
    _png(folder / "e.png", 1)
    os.mkfifo(folder / "b_fifo.png")
    os.symlink("/dev/zero", folder / "c_zero.png")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "d_socket.png"))
    os.mkfifo(root / "data.zip")
    (root / "db").mkdir()
    os.mkfifo(root / "db" / "data.mdb")
    calls = {
        "info": ["data", "info", str(folder)],
        "convert_skip": ["data", "convert", str(folder), str(root / "out"), "--on-error", "skip"],
        "convert_raise": ["data", "convert", str(folder), str(root / "out2")],
        "zip": ["data", "info", str(root / "data.zip"), "--source-format", "zip"],
        "lmdb": ["data", "info", str(root / "db"), "--source-format", "lmdb"],
        "invert_fifo": ["__read_image__", str(folder / "b_fifo.png")],
        "invert_zero": ["__read_image__", str(folder / "c_zero.png")],
        "invert_input_fifo": ["__load_inputs__", str(folder / "b_fifo.png")],
    }
    results = dict(zip(calls, run_cli(*calls.values())))
    yield root, results
    server.close()


def test_data_info_reports_fifo_device_and_socket_without_blocking(special):
    result = special[1]["info"]
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "images: 5" in result.stdout and "problems (full decode): 3" in result.stdout
    assert "b_fifo.png: not a regular file (a FIFO" in result.stdout
    assert "c_zero.png: not a regular file (a character device)" in result.stdout
    assert "d_socket.png: cannot be read" in result.stdout


def test_data_convert_skips_special_files_by_policy(special):
    root, results = special
    result, refused = results["convert_skip"], results["convert_raise"]
    assert result.returncode == 0, result.stderr
    assert "wrote 2 images" in result.stdout and "skipped 3 unreadable image(s)" in result.stdout
    assert len(list((root / "out").glob("*.png"))) == 2

    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "b_fifo.png" in refused.stderr and "not a regular file (a FIFO" in refused.stderr
    assert not (root / "out2").exists()


def test_zip_and_lmdb_paths_that_are_fifos_are_refused(special):
    for kind in ("zip", "lmdb"):
        result = special[1][kind]
        assert result.returncode == 2 and "not a regular file" in result.stderr, result


def test_invert_inputs_report_a_fifo_and_a_device(special):
    from ganinv.harness.inputs import read_image

    fifo, zero = special[1]["invert_fifo"], special[1]["invert_zero"]
    assert fifo.returncode == 2 and "not a regular file (a FIFO" in fifo.stderr, fifo
    assert zero.returncode == 2 and "not a regular file (a character device" in zero.stderr, zero
    given = special[1]["invert_input_fifo"]
    assert given.returncode == 2 and "not a regular file (a FIFO" in given.stderr, given
    assert read_image(special[0] / "imgs" / "a.png", 16).shape == (3, 16, 16)


def test_a_decompression_bomb_is_reported_the_same_way_everywhere(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _png(folder / "a.png")
    (folder / "bomb.png").write_bytes(bomb_png())  # past Pillow's error limit
    (folder / "bomb_warn.png").write_bytes(bomb_png(9500))  # where Pillow only warns
    assert (folder / "bomb.png").stat().st_size < 64_000

    for quick in ((), ("--quick",)):
        info = run_here("data", "info", str(folder), *quick)
        assert info.returncode == 1 and "Traceback" not in info.stderr, info.stderr
        assert f"bomb.png: {BOMB_MESSAGE}: 225000000 pixels)" in info.stdout
        assert f"bomb_warn.png: {BOMB_MESSAGE}: 9500 x 9500)" in info.stdout

    converted = run_here(
        "data", "convert", str(folder), str(tmp_path / "out"), "--on-error", "skip"
    )
    assert converted.returncode == 0, converted.stderr
    assert "wrote 1 images" in converted.stdout
    assert f"bomb.png: {BOMB_MESSAGE}" in converted.stdout
    assert f"bomb_warn.png: {BOMB_MESSAGE}" in converted.stdout

    from ganinv.harness.inputs import read_image

    with pytest.raises(GanInvError, match=re.escape(BOMB_MESSAGE)):
        read_image(folder / "bomb.png", 16)


def test_a_zip_member_that_inflates_past_the_limit_is_not_read(tmp_path):
    archive = tmp_path / "bomb.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _png(tmp_path / "a.png")
        zf.write(tmp_path / "a.png", "a.png")
        with zf.open("b.png", "w", force_zip64=True) as member:
            member.write(b"\x89PNG\r\n\x1a\n")
            block = b"\x00" * (1 << 20)
            for _ in range(257):  # 257 MiB: past the 256 MiB limit of one image
                member.write(block)
    archive.write_bytes(buffer.getvalue())
    assert archive.stat().st_size < 1 << 20

    result = run_here("data", "info", str(archive))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "b.png: zip member too large" in result.stdout


def test_an_idx_gz_that_inflates_past_its_header_is_not_written_out(tmp_path, monkeypatch):
    import gzip

    cache = tmp_path / "cache"
    monkeypatch.setenv("GANINV_CACHE", str(cache))
    folder = tmp_path / "idx"
    folder.mkdir()
    # The header says 1 image of 28 x 28 (800 bytes in all); 64 MB follow.
    header = (0x00000803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (1, 28, 28))
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(header)
        block = b"\0" * (1 << 20)
        for _ in range(64):
            f.write(block)
    assert (folder / "train-images-idx3-ubyte.gz").stat().st_size < 200_000
    result = run_here("data", "info", str(folder))
    assert result.returncode == 2, result.stdout
    assert "decompresses to more than the 800 bytes its IDX header states" in result.stderr
    written = (
        sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
    )
    assert written == 0
