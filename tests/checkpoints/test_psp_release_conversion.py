"""`ganinv convert` of released pSp / e4e / ReStyle checkpoints (synthetic files in the released
layout, `released_layout.py`): every key consumed, shapes exact, opts honoured, one-line refusals,
and the converted encoder's codes equal to an independent forward of the released weights."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import released_layout as rl
import torch
import torch.nn.functional as F

from ganinv.checkpoints import release_conversion
from ganinv.checkpoints.encoder_file import read_encoder_header
from ganinv.checkpoints.native import load_networks
from ganinv.checkpoints.psp_reference import reference_codes
from ganinv.checkpoints.psp_release import (
    Structure,
    looks_like_release,
    read_release,
    released_encoder_layout,
)
from ganinv.checkpoints.rosinality import generator_state_to_ours
from ganinv.checkpoints.rosinality_writer import save_rosinality
from ganinv.cli.main import main
from ganinv.harness.method import build_method
from ganinv.harness.schema import MethodConfig

TYPES = list(rl.INPUT_NC)
OURS = {
    "GradualStyleEncoder": "psp",
    "Encoder4Editing": "e4e",
    "BackboneEncoder": "restyle_psp",
    "ProgressiveBackboneEncoder": "restyle_e4e",
}


def convert(capsys, source: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["convert", str(source), str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(capsys, tmp_path: Path, checkpoint: dict, *needles: str) -> str:
    """Converting `checkpoint` exits 2 with one line holding every needle; nothing is written."""
    source = rl.save(tmp_path / "release.pt", checkpoint)
    out = tmp_path / "enc.safetensors"
    code, _, err = convert(capsys, source, out)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("ganinv convert: error:"), err
    for needle in needles:
        assert needle in err, err
    assert not out.exists() and not (tmp_path / "enc_generator.safetensors").exists()
    return err


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Each released type converted once (with --check): {type: (source, encoder file)}."""
    root = tmp_path_factory.mktemp("released")
    files = {}
    for kind in TYPES:
        source = rl.save(root / f"{kind}.pt", rl.release_checkpoint(kind, seed=3))
        out = root / f"{kind}.safetensors"
        assert main(["convert", str(source), str(out), "--check"]) == 0
        files[kind] = (source, out)
    return files


# -- conversion ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", TYPES)
def test_check_passes_and_prints_the_code_difference(capsys, tmp_path, kind):
    source = rl.save(tmp_path / "release.pt", rl.release_checkpoint(kind))
    code, out, err = convert(capsys, source, tmp_path / "enc.safetensors", "--check")
    assert code == 0, err
    assert f"ganinv encoder {OURS[kind]!r}" in out
    assert "check codes: max abs diff" in out and "check image: max abs diff 0" in out
    assert (tmp_path / "enc_generator.safetensors").is_file()


@pytest.mark.parametrize("kind", TYPES)
def test_every_released_tensor_is_in_the_encoder_file(converted, kind):
    source, out = converted[kind]
    header = read_encoder_header(out)
    released = rl.encoder_layout(kind)
    prefix = "pyramid" if kind in rl.FPN_TYPES else "backbone"
    expected = {k if k.startswith("styles.") else f"{prefix}.{k}": v for k, v in released.items()}
    if kind in ("Encoder4Editing", "ProgressiveBackboneEncoder"):
        expected["trained_steps"] = ()  # e4e's schedule counter, ganinv's own
    assert {k: tuple(t.shape) for k, t in header.tensors.items()} == expected
    checkpoint = torch.load(source, weights_only=True)
    state = release_conversion.read_release(source).encoder
    for key, value in state.items():
        assert torch.equal(checkpoint["state_dict"][f"encoder.{key}"], value)


@pytest.mark.parametrize("kind", TYPES)
def test_spec_holds_the_structure_read_from_the_file(converted, kind):
    _, out = converted[kind]
    header = read_encoder_header(out)
    spec = header.encoder
    assert spec["name"] == OURS[kind] and header.space == "wplus"
    assert spec["units"] == list(rl.UNITS) and spec["widths"] == list(rl.WIDTHS)
    assert spec["input_resolution"] == rl.RESOLUTION
    if kind in rl.FPN_TYPES:
        assert spec["style_split"] == [3, 7] and spec["start_from_latent_avg"] is True
    else:
        assert spec["inference_steps"] == 5 and spec["train_steps"] == 5
    if kind in ("Encoder4Editing", "ProgressiveBackboneEncoder"):
        assert spec["progressive_start"] is None and spec["w_discriminator"] is False
    assert header.relative == ["generator"]  # stored beside the encoder, by relative path


def test_generator_is_the_decoder_with_latent_avg_as_w_avg(converted):
    source, out = converted["GradualStyleEncoder"]
    checkpoint = torch.load(source, weights_only=True)
    decoder = {
        k[len("decoder.") :]: v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("decoder.")
    }
    _, ours = generator_state_to_ours(decoder)
    networks, _ = load_networks(read_encoder_header(out).generator)
    state = networks["generator"].state_dict()
    for key, value in ours.items():
        assert torch.equal(state[key], value), key
    assert torch.equal(state["w_avg"], checkpoint["latent_avg"][0])


# -- the codes: ganinv's encoder, loaded as every exported encoder is, vs the released forward --
def _load(out: Path):
    return build_method(MethodConfig(encoder_checkpoint=str(out)), torch.device("cpu"))


def _head_by_hand(state: dict, j: int, x: torch.Tensor) -> torch.Tensor:
    """pSp's GradualStyleBlock written out: stride-2 conv + LeakyReLU(0.01) layers, then
    EqualLinear (weight * 1/sqrt(in), lr_mul 1)."""
    k = 0
    while f"encoder.styles.{j}.convs.{k}.weight" in state:
        w, b = (
            state[f"encoder.styles.{j}.convs.{k}.weight"],
            state[f"encoder.styles.{j}.convs.{k}.bias"],
        )
        x = F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), negative_slope=0.01)
        k += 2
    weight = state[f"encoder.styles.{j}.linear.weight"]
    x = x.view(-1, weight.shape[1])
    return x @ (weight / math.sqrt(weight.shape[1])).t() + state[f"encoder.styles.{j}.linear.bias"]


@pytest.mark.parametrize("kind", TYPES)
def test_style_heads_equal_the_released_heads(converted, kind):
    source, out = converted[kind]
    state = torch.load(source, weights_only=True)["state_dict"]
    encoder = _load(out).encoder
    gen = torch.Generator().manual_seed(1)
    for j, spatial in enumerate(rl.head_spatials(kind, rl.N_STYLES, rl.RESOLUTION)):
        x = torch.randn(2, rl.WIDTHS[3], spatial, spatial, generator=gen)
        with torch.no_grad():
            ours = encoder.styles[j](x)
        assert torch.allclose(ours, _head_by_hand(state, j, x), atol=1e-6), j


@pytest.mark.parametrize("kind", TYPES)
def test_codes_equal_the_released_forward(converted, kind):
    source, out = converted[kind]
    checkpoint = torch.load(source, weights_only=True)
    state = {
        k[len("encoder.") :]: v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("encoder.")
    }
    method = _load(out)
    x = torch.rand(3, rl.INPUT_NC[kind], rl.RESOLUTION, rl.RESOLUTION) * 2 - 1
    expected = reference_codes(kind, state, x) + checkpoint["latent_avg"][0]
    with torch.no_grad():
        if kind in rl.FPN_TYPES:
            got = method.encoder.predict_wplus(x)
        else:
            got = method.generator.w_avg + method.encoder.predict_delta(x)
    assert got.shape == (3, rl.N_STYLES, rl.W_DIM)
    assert torch.allclose(got, expected, atol=1e-5)
    if kind in ("Encoder4Editing", "ProgressiveBackboneEncoder"):  # w0 + delta_i, all on
        assert not torch.allclose(got[:, 1], got[:, 0])


def test_converted_restyle_iterates_from_the_average_image(converted):
    """The converted ReStyle runs ganinv's iteration: step 1 reads (x, G(w_avg)) from w_avg."""
    _, out = converted["BackboneEncoder"]
    method = _load(out)
    images = torch.rand(2, 3, rl.RESOLUTION, rl.RESOLUTION) * 2 - 1
    with torch.no_grad():
        codes = method.encoder.iterate(images, 2)
        average = method.space.render(method.space.init_code(1)).expand_as(images)
        first = method.generator.w_avg + method.encoder.predict_delta(
            torch.cat([images, average], 1)
        )
    assert torch.allclose(codes[0]["wplus"], first, atol=1e-5)
    assert not torch.allclose(codes[1]["wplus"], codes[0]["wplus"])


# -- opts honoured -----------------------------------------------------------------------------
def test_without_start_from_latent_avg_codes_are_the_raw_heads(capsys, tmp_path):
    checkpoint = rl.release_checkpoint("GradualStyleEncoder")
    checkpoint["opts"]["start_from_latent_avg"] = False
    del checkpoint["latent_avg"]  # pSp saves it only with start_from_latent_avg
    source = rl.save(tmp_path / "release.pt", checkpoint)
    out = tmp_path / "enc.safetensors"
    with pytest.warns(UserWarning, match="no 'latent_avg'"):
        code, stdout, err = convert(capsys, source, out, "--check")
    assert code == 0, err
    assert read_encoder_header(out).encoder["start_from_latent_avg"] is False
    state = read_release(source).encoder
    x = torch.rand(2, 3, rl.RESOLUTION, rl.RESOLUTION) * 2 - 1
    with torch.no_grad():
        got = _load(out).encoder.predict_wplus(x)
    assert torch.allclose(got, reference_codes("GradualStyleEncoder", state, x), atol=1e-5)


def test_restyle_steps_come_from_n_iters_per_batch(capsys, tmp_path):
    checkpoint = rl.release_checkpoint("ProgressiveBackboneEncoder")
    checkpoint["opts"]["n_iters_per_batch"] = 3
    source = rl.save(tmp_path / "release.pt", checkpoint)
    assert convert(capsys, source, tmp_path / "enc.safetensors")[0] == 0
    spec = read_encoder_header(tmp_path / "enc.safetensors").encoder
    assert spec["inference_steps"] == 3 and spec["train_steps"] == 3


def test_a_single_latent_avg_vector_is_accepted(capsys, tmp_path):
    source = rl.save(tmp_path / "r.pt", rl.release_checkpoint("Encoder4Editing", latent_rows=0))
    assert convert(capsys, source, tmp_path / "enc.safetensors", "--check")[0] == 0


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("n_styles", 18, "n_styles 18"),
        ("input_nc", 1, "input_nc 1"),
        ("output_size", 1024, "output_size 1024"),
        ("learn_in_w", True, "learn_in_w"),
        ("start_from_latent_avg", None, "start_from_latent_avg"),
        ("encoder_type", None, "encoder_type"),
        ("encoder_type", "ResNetBackboneEncoder", "ResNet-34"),
        ("encoder_type", "BackboneEncoderUsingLastLayerIntoW", "W encoder"),
        ("encoder_type", "SomethingElse", "not one ganinv converts"),
        ("exp_dir", {"nested": 1}, "'exp_dir'"),
    ],
)
def test_opts_that_disagree_are_refused(capsys, tmp_path, key, value, needle):
    checkpoint = rl.release_checkpoint("GradualStyleEncoder")
    checkpoint["opts"][key] = value
    refused(capsys, tmp_path, checkpoint, needle)


def test_stylegan_size_is_checked_for_e4e(capsys, tmp_path):
    checkpoint = rl.release_checkpoint("Encoder4Editing")
    checkpoint["opts"]["stylegan_size"] = 1024
    refused(capsys, tmp_path, checkpoint, "stylegan_size 1024", "64 px")


def test_restyle_fpn_encoder_on_six_channels_is_refused(capsys, tmp_path):
    checkpoint = rl.release_checkpoint("GradualStyleEncoder")
    table = rl.encoder_layout("GradualStyleEncoder", input_nc=6)
    state = {k: v for k, v in checkpoint["state_dict"].items() if k.startswith("decoder.")}
    state.update({f"encoder.{k}": v for k, v in rl.random_tensors(table, 0).items()})
    checkpoint["state_dict"] = state
    checkpoint["opts"]["input_nc"] = 6
    refused(capsys, tmp_path, checkpoint, "ReStyle's FPN encoder")


def test_opts_must_be_a_dict(capsys, tmp_path):
    checkpoint = rl.release_checkpoint("GradualStyleEncoder")
    checkpoint["opts"] = [("encoder_type", "GradualStyleEncoder")]
    refused(capsys, tmp_path, checkpoint, "'opts' is a list")


class _OpensAFile:
    """Unpickling this calls open(marker, "w"): what a hostile file could make a plain
    torch.load run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_checkpoint_whose_opts_would_run_code_runs_nothing(capsys, tmp_path):
    marker = tmp_path / "ran"
    checkpoint = rl.release_checkpoint("GradualStyleEncoder")
    checkpoint["opts"] = {**checkpoint["opts"], "extra": _OpensAFile(marker)}
    refused(capsys, tmp_path, checkpoint)
    assert not marker.exists()


def test_latent_avg_rows_that_differ_are_refused(capsys, tmp_path):
    checkpoint = rl.release_checkpoint("GradualStyleEncoder")
    checkpoint["latent_avg"][5] += 1.0
    refused(capsys, tmp_path, checkpoint, "different rows")


# -- keys: missing, extra, mis-shaped ---------------------------------------------------------
def _mutated(change: str) -> dict:
    checkpoint = rl.release_checkpoint("Encoder4Editing")
    state = checkpoint["state_dict"]
    if change == "missing":
        del state["encoder.body.2.res_layer.5.fc1.weight"]
    elif change == "extra encoder":
        state["encoder.styles.3.convs.2.extra"] = torch.zeros(3)
    elif change == "extra decoder":
        state["decoder.to_rgb1.upsample.kernel"] = torch.ones(4, 4)
    elif change == "misshaped":
        state["encoder.latlayer2.weight"] = torch.zeros(64, 16, 1, 1)
    elif change == "stray":
        state["face_pool.weight"] = torch.zeros(1)
    elif change == "top level":
        checkpoint["something"] = torch.zeros(1)
    elif change == "no decoder":
        checkpoint["state_dict"] = {k: v for k, v in state.items() if k.startswith("encoder.")}
    elif change == "ir body":
        for key in [k for k in state if ".res_layer.5." in k]:
            del state[key]
    return checkpoint


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        ("missing", ["encoder.body.2.res_layer.5.fc1.weight", "missing"]),
        ("extra encoder", ["encoder.styles.3.convs.2.extra", "unexpected"]),
        ("extra decoder", ["decoder.to_rgb1.upsample.kernel"]),
        ("misshaped", ["encoder.latlayer2.weight", "[64, 16, 1, 1]", "[64, 32, 1, 1]"]),
        ("stray", ["face_pool.weight"]),
        ("top level", ["something"]),
        ("no decoder", ["decoder.*"]),
        ("ir body", ["IR-SE"]),
    ],
)
def test_keys_that_do_not_fit_are_named(capsys, tmp_path, change, needles):
    refused(capsys, tmp_path, _mutated(change), *needles)


def test_tensors_sharing_one_storage_are_written_apart(capsys, tmp_path):
    checkpoint = rl.release_checkpoint("GradualStyleEncoder")
    state = checkpoint["state_dict"]
    state["encoder.styles.1.linear.bias"] = state["encoder.styles.0.linear.bias"]  # one storage
    source = rl.save(tmp_path / "release.pt", checkpoint)
    assert convert(capsys, source, tmp_path / "enc.safetensors", "--check")[0] == 0


def test_check_catches_a_wrong_mapping_and_removes_both_files(capsys, tmp_path, monkeypatch):
    real = release_conversion.encoder_tensors

    def swapped(release):  # heads 1 and 2 have the same shapes: only the codes tell
        tensors = real(release)
        for name in [k for k in tensors if k.startswith("styles.1.")]:
            other = name.replace("styles.1.", "styles.2.", 1)
            tensors[name], tensors[other] = tensors[other], tensors[name]
        return tensors

    monkeypatch.setattr(release_conversion, "encoder_tensors", swapped)
    source = rl.save(tmp_path / "release.pt", rl.release_checkpoint("GradualStyleEncoder"))
    code, _, err = convert(capsys, source, tmp_path / "enc.safetensors", "--check")
    assert code == 2 and "--check failed" in err and "codes differ" in err
    assert not (tmp_path / "enc.safetensors").exists()
    assert not (tmp_path / "enc_generator.safetensors").exists()


# -- the full-size released structure (meta device: nothing allocated) ----------------------
def _standard(fpn: bool, input_nc: int) -> Structure:
    blocks = [(cin, d) for cin, d, _ in rl.body_blocks((3, 4, 14, 3), (64, 128, 256, 512))]
    return Structure(
        input_nc=input_nc,
        stem=64,
        blocks=blocks,
        units=[3, 4, 14, 3],
        widths=[64, 128, 256, 512],
        head_convs=[4] * 3 + [5] * 4 + [6] * 11 if fpn else [4] * 18,
        w_dim=512,
        input_resolution=256,
        style_split=(3, 7) if fpn else None,
    )


@pytest.mark.parametrize("kind", TYPES)
def test_full_size_layout_matches_the_released_table_and_ganinv(kind):
    from ganinv_baselines.psp_parts import FeaturePyramid, style_heads
    from ganinv_restyle.backbone import ReStyleBackbone, map2style_heads

    fpn = kind in rl.FPN_TYPES
    table = released_encoder_layout(_standard(fpn, rl.INPUT_NC[kind]), fpn)
    helper = rl.encoder_layout(kind, (3, 4, 14, 3), (64, 128, 256, 512), 18, 512, 256)
    assert table == helper  # two independent writings of the released key table agree
    # Facts from released files' key lists (encoder4editing issue #56): fine heads have six
    # convs, styles.<16>.convs.10 is the last.
    if fpn:
        assert "styles.16.convs.10.weight" in table and "styles.16.convs.12.weight" not in table
    with torch.device("meta"):
        if fpn:
            trunk = FeaturePyramid(50)
            heads = style_heads(18, 512, 512, 256, (3, 7))
            prefix = "pyramid"
        else:
            trunk = ReStyleBackbone(50)
            heads = map2style_heads(18, 512, 512, 256)
            prefix = "backbone"
    ours = {f"{prefix}.{k}": tuple(v.shape) for k, v in trunk.state_dict().items()}
    ours.update({f"styles.{k}": tuple(v.shape) for k, v in heads.state_dict().items()})
    renamed = {k if k.startswith("styles.") else f"{prefix}.{k}": v for k, v in table.items()}
    assert ours == renamed


# -- routing and outputs ---------------------------------------------------------------------
def test_rosinality_files_still_convert_to_one_network_file(capsys, tmp_path):
    source = save_rosinality(tmp_path / "g.pt", rl.decoder())
    assert not looks_like_release(source)
    code, out, err = convert(capsys, source, tmp_path / "g.safetensors")
    assert code == 0, err and "generator" in out
    code, _, err = convert(
        capsys, source, tmp_path / "h.safetensors", "--generator-out", "x.safetensors"
    )
    assert code == 2 and "--generator-out is for released" in err


def test_generator_out_and_overwrite(capsys, tmp_path, converted):
    source, _ = converted["BackboneEncoder"]
    out, generator = tmp_path / "enc.safetensors", tmp_path / "sub" / "g.safetensors"
    generator.parent.mkdir()
    assert convert(capsys, source, out, "--generator-out", str(generator))[0] == 0
    assert read_encoder_header(out).generator == str(generator)
    code, _, err = convert(capsys, source, out, "--generator-out", str(generator))
    assert code == 2 and "exists; pass --overwrite" in err
    assert convert(capsys, source, out, "--generator-out", str(generator), "--overwrite")[0] == 0
    (tmp_path / "notes.safetensors").write_bytes(b"not ganinv")
    code, _, err = convert(capsys, source, tmp_path / "notes.safetensors", "--overwrite")
    assert code == 2 and "not written by ganinv" in err
