"""Our StyleGAN2 reproduces the outputs of the original implementations (rosinality, NVlabs,
official PadInv generator) from their checkpoints, and NVlabs pickles load without running code."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from ganinv.checkpoints.nvlabs import load_nvlabs, read_pickle
from ganinv.core.errors import GanInvError
from ganinv.core.generator import SynthesisHooks
from ganinv.stylegan2.generator import mix_styles

# Max abs error against each original's stored outputs (docs/verification.md): measured on the
# project's CPU VM 8.6e-6 (rosinality), 3.2e-6 (NVlabs), 1.9e-6 (PadInv maps); asserted with ~2.5x.
TOL_ROSINALITY = 2e-5
TOL_NVLABS = 8e-6
TOL_PADINV = 5e-6


def _err(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


@torch.no_grad()
def test_sg2_rosinality_reproduces_expected(rosinality_networks, refs):
    G, D = rosinality_networks["generator"], rosinality_networks["discriminator"]
    e = torch.load(refs / "rosinality_s64.expected.pt", weights_only=True)
    assert G.num_ws == 10 and G.channels == {4: 32, 8: 32, 16: 32, 32: 32, 64: 32}
    assert _err(G(e["z"]), e["img"]) <= TOL_ROSINALITY
    assert _err(G.mapping(e["z"])[:, 0], e["w"]) <= TOL_ROSINALITY
    # The checkpoint's latent_avg is the mean latent the reference truncated around.
    assert torch.equal(G.w_avg, e["mean_latent"])
    assert _err(G(e["z"], truncation_psi=0.7), e["img_trunc0.7"]) <= TOL_ROSINALITY
    assert _err(G.synthesize(e["wplus"]), e["img_wplus"]) <= TOL_ROSINALITY
    ws = mix_styles(G.mapping(e["z"]), G.mapping(e["z2"]), e["inject_index"])
    assert _err(G.synthesize(ws), e["img_mix"]) <= TOL_ROSINALITY
    assert _err(D(e["img"]), e["d_out"]) <= TOL_ROSINALITY
    assert _err(D(e["img_wplus"]), e["d_out_wplus"]) <= TOL_ROSINALITY


@torch.no_grad()
def test_sg2_nvlabs_reproduces_expected(nvlabs_networks, refs):
    G, D = nvlabs_networks["generator"], nvlabs_networks["discriminator"]
    e = torch.load(refs / "nvlabs_s64.expected.pt", weights_only=True)
    assert G.num_ws == e["num_ws"]
    assert G.config["mapping_layers"] == 4 and G.config["mapping_lr_mul"] == pytest.approx(0.01)
    assert G.channels == {4: 32, 8: 32, 16: 32, 32: 16, 64: 8}
    assert _err(G(e["z"]), e["img"]) <= TOL_NVLABS
    assert _err(G(e["z"], truncation_psi=0.7), e["img_trunc0_7"]) <= TOL_NVLABS
    assert _err(G.synthesize(e["ws"]), e["img_ws"]) <= TOL_NVLABS
    assert _err(D(e["img"]), e["d_out"]) <= TOL_NVLABS


def test_sg2_nvlabs_payload_never_executes(refs, nvlabs_networks):
    marker = Path("/tmp/GANINV_PWNED")
    marker.unlink(missing_ok=True)
    networks, _ = load_nvlabs(refs / "nvlabs_s64_payload.pkl")
    assert not marker.exists()
    # Same weights as the scrubbed copy (the two differ only in the embedded source text).
    for role in ("generator", "discriminator"):
        ours = networks[role].state_dict()
        for key, value in nvlabs_networks[role].state_dict().items():
            assert torch.equal(ours[key], value), key


class _Evil:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        import builtins

        if self.target == "os.system":
            return (os.system, ("touch /tmp/GANINV_PWNED_SYSTEM",))
        return (builtins.eval, ("__import__('os').system('touch /tmp/GANINV_PWNED_EVAL')",))


@pytest.mark.parametrize("target, marker", [("os.system", "SYSTEM"), ("builtins.eval", "EVAL")])
def test_sg2_malicious_pickle_is_refused(tmp_path, target, marker):
    path = tmp_path / "evil.pkl"
    flag = Path(f"/tmp/GANINV_PWNED_{marker}")
    flag.unlink(missing_ok=True)
    with open(path, "wb") as f:
        pickle.dump({"G_ema": _Evil(target), "D": None}, f)
    with pytest.raises(GanInvError) as info:
        read_pickle(path)
    module = "posix" if target == "os.system" else "builtins"
    name = "system" if target == "os.system" else "eval"
    assert f"{module}.{name}" in str(info.value) or target in str(info.value)
    assert "allow-list" in str(info.value)
    assert not flag.exists()


def test_sg2_embedded_tensor_blob_is_loaded_weights_only(tmp_path):
    # torch's own _load_from_bytes unpickles with weights_only=False; ours must not.
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch /tmp/GANINV_PWNED_BLOB",))

    import io

    import torch.storage

    blob = io.BytesIO()
    torch.save(Evil(), blob, _use_new_zipfile_serialization=True)

    class Blob:
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (blob.getvalue(),))

    path = tmp_path / "blob.pkl"
    with open(path, "wb") as f:
        pickle.dump({"G_ema": Blob()}, f)
    flag = Path("/tmp/GANINV_PWNED_BLOB")
    flag.unlink(missing_ok=True)
    with pytest.raises(GanInvError):
        read_pickle(path)
    assert not flag.exists()


class PadInvMaps(SynthesisHooks):
    """PadInv's padding space written against the hooks API: key 0 replaces the constant input
    (centre 4x4 of the map), keys 1, 3, 5, 7 pad the non-upsampling conv at 4, 8, 16, 32 px."""

    KEY_OF_RESOLUTION = {4: 1, 8: 3, 16: 5, 32: 7}

    def __init__(self, maps: dict[int, torch.Tensor]) -> None:
        self.maps = maps

    def const_input(self, const: torch.Tensor) -> torch.Tensor:
        if 0 not in self.maps:
            return const
        m = self.maps[0]
        top = (m.shape[-1] - 4) // 2
        return m[:, :, top : top + 4, top : top + 4]

    def padding(self, layer, x):
        return self.maps.get(self.KEY_OF_RESOLUTION.get(layer.resolution, -1))


@torch.no_grad()
def test_sg2_padinv_hooks_reproduce_official_generator(nvlabs_networks, refs):
    G = nvlabs_networks["generator"]
    e = torch.load(refs / "padinv_nvlabs_s64.expected.pt", weights_only=True)
    maps = e["padding_maps"]
    assert _err(G.synthesize(e["ws"]), e["img_plain"]) <= TOL_PADINV
    assert _err(G.synthesize(e["ws"], hooks=PadInvMaps(maps)), e["img_padded"]) <= TOL_PADINV
    assert (
        _err(G.synthesize(e["ws"], hooks=PadInvMaps({0: maps[0]})), e["img_const_only"])
        <= TOL_PADINV
    )


@torch.no_grad()
def test_sg2_zero_ring_and_learned_const_equal_plain(nvlabs_networks, refs):
    G = nvlabs_networks["generator"]
    ws = torch.load(refs / "padinv_nvlabs_s64.expected.pt", weights_only=True)["ws"]
    const = G.synthesis["b4"].const
    canvas = torch.zeros(ws.shape[0], const.shape[0], 34, 34)
    canvas[:, :, 15:19, 15:19] = const
    maps = {0: canvas}
    for res, key in PadInvMaps.KEY_OF_RESOLUTION.items():
        channels = G.layer(f"b{res}.conv1").in_channels
        maps[key] = torch.zeros(ws.shape[0], channels, 34, 34)
    plain = G.synthesize(ws)
    assert _err(G.synthesize(ws, hooks=PadInvMaps(maps)), plain) <= 1e-6
    assert torch.equal(G.synthesize(ws, hooks=SynthesisHooks()), plain)


def test_sg2_tensorflow_pickle_gets_a_pointer_to_conversion(tmp_path):
    # A TF pickle references dnnlib.tflib.network.Network; build that reference by hand.
    module, name = b"dnnlib.tflib.network", b"Network"
    payload = (
        b"\x80\x04\x8c" + bytes([len(module)]) + module + b"\x8c" + bytes([len(name)]) + name
    ) + b"\x93)\x81."
    path = tmp_path / "tf.pkl"
    path.write_bytes(payload)
    with pytest.raises(GanInvError, match="TensorFlow StyleGAN2 pickle"):
        read_pickle(path)
