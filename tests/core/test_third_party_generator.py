"""A third-party generator class, registered as an entry point in group ``ganinv.generators`` by a
distribution made at test time, saves to and loads from ganinv's own network format: the header
names ``generator/<registered name>``, ganinv looks the class up in the registry (never importing
what a header names) and builds it with the header's config, checked against the class's
``config_bounds``, on the meta device first and only when it matches the file's tensors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from test_third_party_plugin import make_distribution, run_python

GENERATOR_SOURCE = '''
import torch
from torch import nn

from ganinv.core.generator import Generator


class LinearGenerator(Generator):
    """A toy generator: z -> w by one linear layer, all ws -> image by another (tanh)."""

    config_bounds = {
        "resolution": ("pow2", 4, 64),
        "w_dim": ("int", 1, 512),
        "num_ws": ("int", 1, 32),
    }

    def __init__(self, resolution: int = 8, w_dim: int = 8, num_ws: int = 4):
        super().__init__()
        self.config = {"resolution": resolution, "w_dim": w_dim, "num_ws": num_ws}
        self.z_dim = self.w_dim = w_dim
        self.num_ws, self.resolution, self.img_channels = num_ws, resolution, 3
        self.layers = []
        self.map = nn.Linear(w_dim, w_dim)
        self.to_image = nn.Linear(num_ws * w_dim, 3 * resolution * resolution)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def mapping(self, z, truncation_psi=1.0, truncation_cutoff=None):
        w = self.w_avg + truncation_psi * (self.map(z) - self.w_avg)
        return w[:, None].expand(-1, self.num_ws, -1)

    def synthesize(self, ws, hooks=None, noise_mode="const"):
        image = torch.tanh(self.to_image(ws.flatten(1)))
        return image.view(-1, 3, self.resolution, self.resolution)


class Unbounded(LinearGenerator):
    """Registered, but states no config_bounds: ganinv cannot check a file's config for it."""

    config_bounds = None
'''

SCRIPT = """
import json, sys
import torch
from safetensors.torch import save_file
import ganinv
from ganinv.checkpoints.native import save_networks
from acme_linear import LinearGenerator, Unbounded

out = {}
torch.manual_seed(0)
g = LinearGenerator(resolution=8, w_dim=6, num_ws=3)
with torch.no_grad():
    g.w_avg.normal_()
path = save_networks(sys.argv[1] + "/g.safetensors", {"generator": g})
loaded = ganinv.load_generator(str(path))
out["class"] = type(loaded).__module__ + "." + type(loaded).__name__
out["config"] = loaded.config
z = torch.randn(2, 6)
out["same_images"] = bool(torch.equal(g(z), loaded(z)))
space = ganinv.build("spaces", "wplus", generator=loaded)
out["render"] = list(space.render(space.init_code(2)).shape)

def header(cls, config):
    return {"format": "ganinv.networks", "format_version": "1", "meta": "{}",
            "networks": json.dumps({"generator": {"class": cls, "config": config}})}

def error(name, cls, config, tensors=None):
    file = sys.argv[1] + "/" + name + ".safetensors"
    state = {"generator." + k: v for k, v in (tensors or g.state_dict()).items()}
    save_file({k: v.contiguous() for k, v in state.items()}, file, metadata=header(cls, config))
    try:
        ganinv.load_generator(file)
    except ganinv.GanInvError as exc:
        return str(exc)
    return "LOADED"

cfg = dict(g.config)
out["unregistered"] = error("unregistered", "generator/acme_missing", cfg)
out["module_path"] = error("module_path", "generator/acme_linear:LinearGenerator", cfg)
out["too_large"] = error("too_large", "generator/acme_linear", {**cfg, "resolution": 1 << 20})
out["unknown_key"] = error("unknown_key", "generator/acme_linear", {**cfg, "layers": 9})
out["shape_mismatch"] = error("shape_mismatch", "generator/acme_linear", {**cfg, "num_ws": 4})
out["unbounded_load"] = error("unbounded_load", "generator/acme_unbounded", cfg)
try:
    save_networks(sys.argv[1] + "/u.safetensors", {"generator": Unbounded(8, 6, 3)})
    out["unbounded_save"] = "SAVED"
except ganinv.GanInvError as exc:
    out["unbounded_save"] = str(exc)
print(json.dumps(out))
"""


@pytest.fixture()
def plugin_path(tmp_path: Path) -> Path:
    make_distribution(
        tmp_path,
        "acme-linear",
        "acme_linear",
        "ganinv.generators",
        {
            "acme_linear": "acme_linear:LinearGenerator",
            "acme_unbounded": "acme_linear:Unbounded",
        },
        GENERATOR_SOURCE,
    )
    return tmp_path


def test_registered_generator_round_trips_through_the_native_format(plugin_path: Path) -> None:
    work = plugin_path / "work"
    work.mkdir()
    code = f"import sys; sys.argv = ['x', {str(work)!r}]\n" + textwrap.dedent(SCRIPT)
    proc = run_python(code, plugin_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["class"] == "acme_linear.LinearGenerator"
    assert out["config"] == {"resolution": 8, "w_dim": 6, "num_ws": 3}
    assert out["same_images"] is True
    assert out["render"] == [2, 3, 8, 8]
    header = json.loads(_header(work / "g.safetensors")["networks"])
    assert header["generator"]["class"] == "generator/acme_linear"

    assert "'acme_missing', which no installed plugin registers" in out["unregistered"]
    assert "expected 'generator/<registered name>'" in out["module_path"]
    assert "network 'generator' config.resolution is 1048576, expected 4..64" in out["too_large"]
    assert "unknown keys ['layers']" in out["unknown_key"]
    assert "does not match the inferred architecture" in out["shape_mismatch"]
    assert "'acme_unbounded'" in out["unbounded_load"]
    assert "no valid config_bounds" in out["unbounded_load"]
    assert "no valid config_bounds" in out["unbounded_save"]


def _header(path: Path) -> dict[str, str]:
    from ganinv.core.safetensors_io import read_table

    return read_table(path)[0]
