"""Class 1, a file is data: nothing an exported encoder's header says is imported or run.

Each hostile file names a module that, if imported, writes a marker file; the module sits in the
working folder and on sys.path, where an import would find it. The marker must never appear.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from security_testkit import read_file, rewrite, rewrite_method

from ganinv.cli.main import main as ganinv_main
from ganinv.core.config import read_yaml
from ganinv.core.errors import GanInvError
from ganinv.harness.method import build_method, load_exported_encoder, resolve_method_config
from ganinv.harness.schema import MethodConfig

EVIL = "ganinv_evil_marker_module"


def plant_module(folder: Path, name: str = EVIL) -> Path:
    """A module that leaves `<name>.ran` in `folder` when imported; returns that marker path."""
    marker = folder / f"{name}.ran"
    (folder / f"{name}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
    )
    return marker


@pytest.fixture
def hostile(tiny, tmp_path, monkeypatch):
    """cwd = a folder holding the planted module (also on sys.path); the encoder's header names
    it in both the old ("imports") and the new ("exported_with_imports") field."""
    marker = plant_module(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(EVIL, None)
    path = rewrite_method(tiny["encoder"], f"{tmp_path.name}.safetensors", imports=[EVIL])
    yield path, marker
    sys.modules.pop(EVIL, None)


def test_header_imports_are_never_imported(tiny, hostile, image):
    path, marker = hostile
    config = resolve_method_config(MethodConfig(encoder_checkpoint=str(path)))
    method = build_method(MethodConfig(encoder_checkpoint=str(path)), generator=tiny["generator"])
    method.invert(image)
    space = method.space
    load_exported_encoder(path, space)
    assert not marker.exists() and EVIL not in sys.modules
    # The resolved config (saved next to results as method.yaml) does not carry the file's list,
    # so re-running a saved config cannot import it either.
    assert config.imports == []


def test_cli_invert_does_not_import_what_the_file_names(tiny, hostile, tmp_path, capsys):
    path, marker = hostile
    from PIL import Image

    Image.new("RGB", (16, 16), (120, 30, 200)).save(tmp_path / "x.png")
    code = ganinv_main(
        ["invert", "--method", str(path), "--input", "x.png", "--out", "out", "--device", "cpu"]
    )
    assert code == 0, capsys.readouterr().err
    assert not marker.exists() and EVIL not in sys.modules
    assert not read_yaml(tmp_path / "out" / "method.yaml").get("imports")


def test_python_m_ganinv_from_the_files_folder_imports_nothing(tiny, hostile, tmp_path):
    """`python -m ganinv` puts the working folder first on sys.path: the real attack."""
    path, marker = hostile
    from PIL import Image

    Image.new("RGB", (16, 16), (10, 200, 30)).save(tmp_path / "x.png")
    args = ["invert", "--method", str(path), "--input", "x.png", "--out", "o", "--device", "cpu"]
    result = subprocess.run(
        [sys.executable, "-m", "ganinv", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


def test_only_the_users_own_imports_run(tiny, hostile, tmp_path):
    path, marker = hostile
    mine = plant_module(tmp_path, "ganinv_users_own_module")
    try:
        build_method(
            MethodConfig(encoder_checkpoint=str(path), imports=["ganinv_users_own_module"]),
            generator=tiny["generator"],
        )
    finally:
        sys.modules.pop("ganinv_users_own_module", None)
    assert mine.exists(), "imports the user typed still run"
    assert not marker.exists()


def test_missing_component_names_it_and_its_distribution(tiny, hostile, tmp_path):
    path, marker = hostile
    header, _ = read_file(path)
    method = json.loads(header["method"])
    method["encoder"] = {**method["encoder"], "name": "not_installed_encoder"}
    method["components"] = {
        "encoder": {"name": "not_installed_encoder", "distribution": "ganinv-not-installed"}
    }
    method["exported_with_imports"] = [EVIL]
    missing = rewrite(path, f"{tmp_path.name}-missing.safetensors", method=json.dumps(method))
    with pytest.raises(GanInvError) as info:
        build_method(MethodConfig(encoder_checkpoint=str(missing)), generator=tiny["generator"])
    message = str(info.value)
    assert "\n" not in message and str(missing) in message
    assert "'not_installed_encoder'" in message and "'ganinv-not-installed'" in message
    assert "method.encoder" in message and EVIL in message  # says what to add, if trusted
    assert not marker.exists()
