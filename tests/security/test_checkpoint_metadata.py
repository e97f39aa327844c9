"""Class 2, checkpoints: every value read from a checkpoint's header or pickle is checked (type,
range, the memory it implies) before ganinv acts on it. A malformed file gives one `GanInvError`
line naming the file and the field, and `ganinv convert` exits 2 without a traceback."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from checkpoint_files import (
    networks_field,
    nvlabs_pickle,
    nvlabs_state,
    run_capped,
    tiny_networks,
    with_header,
    write_native,
)

from ganinv.cli.main import main


def convert_fails(capsys: pytest.CaptureFixture[str], path: Path, *fields: str) -> str:
    """`ganinv convert path` exits 2 with one stderr line naming the file and each field."""
    out = path.with_name("out.safetensors")
    assert main(["convert", str(path), str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and path.name in err, err
    for field in fields:
        assert field in err, err
    assert not out.exists()
    return err


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_native(tmp_path_factory.mktemp("native") / "tiny.safetensors")


def _config(native: Path, **changes: Any) -> dict[str, Any]:
    described = networks_field(native)
    described["generator"]["config"].update(changes)
    return described


# -- ganinv safetensors header ------------------------------------------------------------------
HEADER_CASES = {
    "version_not_a_number": ({"format_version": "one"}, ["format_version"]),
    "networks_not_json": ({"networks": "{'generator': "}, ["networks", "JSON"]),
    "networks_deeply_nested": ({"networks": "[" * 100_000 + "]" * 100_000}, ["networks"]),
    "networks_a_list": ({"networks": [1, 2]}, ["networks"]),
    "spec_a_string": ({"networks": {"generator": "stylegan2"}}, ["networks.generator"]),
    "class_a_list": (
        {"networks": {"generator": {"class": ["x"], "config": {}}}},
        ["networks.generator.class"],
    ),
    "meta_a_list": ({"meta": [1]}, ["meta"]),
}


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_malformed_native_header_is_one_line(native, tmp_path, capsys, case):
    metadata, fields = HEADER_CASES[case]
    bad = with_header(native, tmp_path / f"{case}.safetensors", **metadata)
    convert_fails(capsys, bad, *fields)


CONFIG_CASES = {
    "resolution_a_string": ({"resolution": "8"}, "config.resolution"),
    "resolution_not_pow2": ({"resolution": 12}, "config.resolution"),
    "z_dim_negative": ({"z_dim": -8}, "config.z_dim"),
    "z_dim_bool": ({"z_dim": True}, "config.z_dim"),
    "lr_mul_nan": ({"mapping_lr_mul": float("nan")}, "config.mapping_lr_mul"),
    "channels_a_list": ({"channels": [8, 8]}, "config.channels"),
    "channel_width_a_dict": ({"channels": {"4": {}, "8": 8}}, "config.channels"),
    "unknown_key": ({"imports": ["os"]}, "unknown keys"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_wrong_config_values_are_one_line(native, tmp_path, capsys, case):
    changes, field = CONFIG_CASES[case]
    bad = with_header(native, tmp_path / f"{case}.safetensors", networks=_config(native, **changes))
    convert_fails(capsys, bad, "'generator'", field)


# Each asks, in a few bytes of header, for a network far beyond memory.
HUGE = {
    "wide": {"channels": {"4": 16384, "8": 16384}, "channel_max": 16384},
    "deep_mapping": {"mapping_layers": 1_000_000_000},
    "tall": {"resolution": 1 << 20, "channels": None, "channel_base": 1 << 30},
    "huge_latent": {"z_dim": 1 << 40, "w_dim": 1 << 40},
}


def test_headers_cannot_make_ganinv_allocate(native, tmp_path):
    """Under a 3 GB address-space cap each header above, and a 10-byte pickle whose PUT names
    memo slot 2**26 (Python zeroed 1 GB for it before reading on), is refused in one line
    naming the file and the field, and the loader's peak resident memory grows < 150 MB."""
    cases = []
    for name, changes in HUGE.items():
        described = _config(native, **changes)
        path = with_header(native, tmp_path / f"{name}.safetensors", networks=described)
        cases.append((str(path), "generator"))
    memo = tmp_path / "memo.pkl"
    memo.write_bytes(b"\x80\x04N" + b"r" + (1 << 26).to_bytes(4, "little") + b"0.")
    cases.append((str(memo), "memo index"))
    script = f"""
import contextlib, io
results = []
with contextlib.redirect_stdout(io.StringIO()):  # warm-up: imports, kernels, allocator pools
    ganinv.cli.main.main(["convert", {str(native)!r}, {str(tmp_path / "ok.safetensors")!r}])
before = peak_rss()
for path, _ in {cases!r}:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = ganinv.cli.main.main(["convert", path, path + ".out.safetensors"])
    results.append([code, err.getvalue()])
print(json.dumps({{"results": results, "growth": peak_rss() - before}}))
"""
    child = run_capped(script, 3_000_000_000)
    assert child.returncode == 0, child.stderr[-3000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    for (path, field), (code, err) in zip(cases, report["results"]):
        assert code == 2 and len(err.strip().splitlines()) == 1, (path, err)
        assert Path(path).name in err and field in err, err
    assert report["growth"] < 150e6, report["growth"]


# -- NVlabs-shaped pickles holding the wrong things -------------------------------------------
def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split("/")
    for part in parents:
        tree = tree[part]
    if value is _DELETE:
        del tree[leaf]
    else:
        tree[leaf] = value


_DELETE = object()
_CONV0 = "G_ema/_modules/synthesis/_modules/b8/_modules/conv0"
PICKLE_CASES = {
    "generator_an_int": ("G_ema", 5, "G_ema"),
    "modules_a_list": ("G_ema/_modules", [1, 2], "G_ema._modules"),
    "parameter_a_string": (f"{_CONV0}/_parameters/weight", "weights", "conv0.weight"),
    "parameter_an_ndarray": (
        f"{_CONV0}/_parameters/weight",
        torch.zeros(8, 8, 3, 3).numpy(),
        "conv0.weight",
    ),
    "resolution_a_string": ("G_ema/img_resolution", "8", "G_ema.img_resolution"),
    "resolution_huge": ("D/img_resolution", 1 << 40, "D.img_resolution"),
    "c_dim_a_list": ("G_ema/c_dim", [1], "G_ema.c_dim"),
    "architecture_an_int": (
        "D/_modules/b8/architecture",
        5,
        "D.b8.architecture",
    ),
    "mbstd_group_a_list": (
        "D/_modules/b4/_modules/mbstd/group_size",
        [4],
        "D.b4.mbstd.group_size",
    ),
    "missing_weight": (f"{_CONV0}/_parameters/weight", _DELETE, "conv0.weight"),
    "missing_mapping": ("G_ema/_modules/mapping", _DELETE, "mapping"),
    "buffers_set_a_string": (
        "G_ema/_non_persistent_buffers_set",
        "abc",
        "_non_persistent_buffers_set",
    ),
    "clamp_a_string": (
        "G_ema/_init_kwargs/synthesis_kwargs/conv_clamp",
        "256",
        "conv_clamp",
    ),
}


@pytest.fixture(scope="module")
def nvlabs_tree() -> dict[str, Any]:
    return nvlabs_state(tiny_networks())


@pytest.mark.parametrize("case", sorted(PICKLE_CASES))
def test_nvlabs_pickle_with_wrong_objects_is_one_line(nvlabs_tree, tmp_path, capsys, case):
    path_in_tree, value, field = PICKLE_CASES[case]
    tree = copy.deepcopy(nvlabs_tree)
    tree["G"] = None  # the generator is read from G_ema
    _set(tree, path_in_tree, value)
    bad = tmp_path / f"{case}.pkl"
    bad.write_bytes(nvlabs_pickle(tree))
    convert_fails(capsys, bad, field)


def test_nvlabs_modules_nested_without_end(nvlabs_tree, tmp_path, capsys):
    tree = copy.deepcopy(nvlabs_tree)
    node = tree["D"]["_modules"]["b4"]
    for _ in range(5000):  # deeper than Python's recursion limit
        child = {"_modules": {}}
        node["_modules"]["x"] = child
        node = child
    bad = tmp_path / "deep.pkl"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)  # to write it; ganinv reads it at the normal limit
    try:
        bad.write_bytes(nvlabs_pickle(tree))
    finally:
        sys.setrecursionlimit(limit)
    convert_fails(capsys, bad, "nested")


def test_nvlabs_tensor_claiming_huge_shape(nvlabs_tree, tmp_path, capsys):
    """A stride-0 view stores one float but claims [100000, 100000] (40 GB when copied)."""
    tree = copy.deepcopy(nvlabs_tree)
    giant = torch.zeros(1).expand(100_000, 100_000)
    tree["D"]["_modules"]["b4"]["_modules"]["fc"]["_parameters"]["weight"] = giant
    bad = tmp_path / "giant.pkl"
    bad.write_bytes(nvlabs_pickle(tree))
    convert_fails(capsys, bad, "fc.weight", "(100000, 100000)")


# -- rosinality .pt -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rosinality(refs_dir: Path) -> dict[str, Any]:
    return torch.load(refs_dir / "rosinality_s64.pt", weights_only=True)


@pytest.fixture(scope="module")
def refs_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "refs"


ROSINALITY_CASES = {
    "g_ema_a_string": (lambda d: d.update(g_ema="weights"), "'g_ema'"),
    "value_a_list": (lambda d: d["g_ema"].update({"style.1.weight": [1.0]}), "style.1.weight"),
    "latent_avg_a_string": (lambda d: d.update(latent_avg="mean"), "latent_avg"),
    "missing_tensor": (lambda d: d["g_ema"].pop("to_rgb1.conv.weight"), "to_rgb1.conv.weight"),
    "input_one_dim": (
        lambda d: d["g_ema"].update({"input.input": torch.zeros(3)}),
        "input.input",
    ),
    "giant_view": (
        lambda d: d["g_ema"].update({"input.input": torch.zeros(1).expand(1, 100_000, 4, 4)}),
        "input.input",
    ),
    "complex_weights": (
        lambda d: d["d"].update({"final_linear.1.bias": torch.zeros(1, dtype=torch.complex64)}),
        "final_linear.1.bias",
    ),
}


@pytest.mark.parametrize("case", sorted(ROSINALITY_CASES))
def test_rosinality_checkpoint_with_wrong_values_is_one_line(rosinality, tmp_path, capsys, case):
    mutate, field = ROSINALITY_CASES[case]
    data = copy.deepcopy(rosinality)
    mutate(data)
    bad = tmp_path / f"{case}.pt"
    torch.save(data, bad)
    convert_fails(capsys, bad, field)


def test_file_meta_cannot_override_what_ganinv_found(native, tmp_path):
    from ganinv.checkpoints.load import load_networks

    bad = with_header(native, tmp_path / "claims.safetensors", meta={"format": "nvlabs"})
    _, meta = load_networks(bad)
    assert meta["format"] == "native" and meta["source"] == str(bad)
