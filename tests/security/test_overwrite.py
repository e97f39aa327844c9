"""Class 5: `--overwrite` / `--force` remove only a previous ganinv output, recognised by the
marker ganinv wrote, never a folder holding the source or anything else; a killed conversion
leaves no hidden partial output after the next run."""

from __future__ import annotations

import os
import signal
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from security_testkit import run_cli as ganinv
from security_testkit import tiny_generator_file


def image_folder(folder: Path, count: int = 3) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    return folder


def hidden_leftovers(destination: Path) -> list[str]:
    return sorted(p.name for p in destination.parent.glob(f".{destination.name}.*"))


def test_overwrite_replaces_only_what_ganinv_wrote(tmp_path):
    src = image_folder(tmp_path / "src")
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "thesis.tex").write_text("my only copy")
    code, _, err = ganinv("data", "convert", src, dst, "--overwrite")
    assert code == 2 and "was not written by `ganinv data convert`" in err
    assert (dst / "thesis.tex").read_text() == "my only copy"
    # The same for a zip archive someone else made, and for a symbolic link.
    other_zip = tmp_path / "theirs.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "keep me")
    code, _, err = ganinv("data", "convert", src, other_zip, "--overwrite")
    assert code == 2 and "no ganinv marker" in err
    assert zipfile.ZipFile(other_zip).read("notes.txt") == b"keep me"
    link = tmp_path / "link"
    link.symlink_to(dst)
    code, _, err = ganinv("data", "convert", src, link, "--overwrite")
    assert code == 2 and "symbolic link" in err and link.is_symlink()

    # What ganinv wrote itself it does replace, in every format.
    less = image_folder(tmp_path / "less", count=2)
    for name in ("out_folder", "out.zip", "out.lmdb"):
        dst = tmp_path / name
        assert ganinv("data", "convert", src, dst)[0] == 0
        code, out, err = ganinv("data", "convert", less, dst, "--overwrite")
        assert code == 0, err
        assert "wrote 2 images" in out
        code, out, _ = ganinv("data", "info", dst)
        assert code == 0 and "images: 2" in out
        assert hidden_leftovers(dst) == []


def test_overwrite_never_replaces_the_folder_holding_the_source(tmp_path):
    src = image_folder(tmp_path / "src")
    out = tmp_path / "out"
    assert ganinv("data", "convert", src, out)[0] == 0
    # Later the user keeps their own images inside the (ganinv-marked) output folder.
    mine = image_folder(out / "mine", count=2)
    code, _, err = ganinv("data", "convert", mine, out, "--overwrite")
    assert code == 2 and "holds the source" in err
    assert sorted(p.name for p in mine.iterdir()) == ["0.png", "1.png"]


def convert_and_die_midway(src: Path, dst: Path) -> int:
    """Run `ganinv data convert SRC DST` in a forked child that SIGKILLs itself after two
    images (as a crash or an OOM kill would); returns the child's wait status."""
    pid = os.fork()
    if pid == 0:  # child: no cleanup of any kind may run
        import ganinv.data.convert as convert

        real, calls = convert.encode_image, []

        def encode_then_die(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        convert.encode_image = encode_then_die
        try:
            ganinv("data", "convert", src, dst)
        finally:
            os._exit(1)
    return os.waitpid(pid, 0)[1]


def test_a_killed_conversion_leaves_nothing_hidden_after_the_next_run(tmp_path):
    src = image_folder(tmp_path / "src", count=5)
    for name in ("out_folder", "out.zip", "out.lmdb"):
        dst = tmp_path / name
        status = convert_and_die_midway(src, dst)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        assert not dst.exists() and hidden_leftovers(dst) != []  # the partial output
        code, out, err = ganinv("data", "convert", src, dst)
        assert code == 0 and "wrote 5 images" in out, err
        assert hidden_leftovers(dst) == []


def test_checkpoint_convert_force_replaces_only_ganinv_files(tmp_path):
    source = tiny_generator_file(tmp_path / "g.safetensors")
    theirs = tmp_path / "theirs.safetensors"
    theirs.write_bytes(b"someone else's file")
    code, _, err = ganinv("convert", source, theirs, "--force")
    assert code == 2 and "was not written by ganinv" in err
    assert theirs.read_bytes() == b"someone else's file"
    before = source.read_bytes()
    code, _, err = ganinv("convert", source, source, "--force")
    assert code == 2 and "is the input" in err and source.read_bytes() == before

    # A previous ganinv output is replaced; a temporary of a dead process next to it goes.
    out = tmp_path / "out.safetensors"
    assert ganinv("convert", source, out)[0] == 0
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)  # a process id that no longer runs
    stale = tmp_path / f".out.safetensors.ganinv-tmp-{dead}-x1y2.tmp"
    stale.write_bytes(b"half a file")
    code, _, err = ganinv("convert", source, out, "--force")
    assert code == 0, err
    assert not stale.exists() and os.path.getsize(out) > 0


def test_weights_install_never_replaces_a_file_ganinv_did_not_install(tmp_path, monkeypatch):
    monkeypatch.setenv("GANINV_CACHE", str(tmp_path / "cache"))
    cache = tmp_path / "cache"
    cache.mkdir()
    theirs = cache / "lpips_alex_v0.1_lin.safetensors"
    theirs.write_bytes(b"a file someone put here")
    for force in ((), ("--force",)):
        code, _, err = ganinv("weights", "install", "lpips_alex_v0.1", *force)
        assert code == 2 and "was not installed by ganinv" in err
        assert theirs.read_bytes() == b"a file someone put here"
    # Once it is gone, ganinv installs its own file, and --force may replace that one.
    theirs.unlink()
    assert ganinv("weights", "install", "lpips_alex_v0.1")[0] == 0
    code, _, err = ganinv("weights", "install", "lpips_alex_v0.1", "--force")
    assert code == 0, err
    assert ganinv("weights", "verify", "lpips_alex_v0.1")[0] == 0
