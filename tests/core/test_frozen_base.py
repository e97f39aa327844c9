"""A frozen base encoder (`ganinv.checkpoints.frozen_base`, `attach_frozen`, `frozen_forward`):
what SDIC, HFGI, SFE and HyperStyle build on, and the example in docs/plugins.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from e4e_world import E4E_BACKBONE, TINY_BACKBONE
from tiny_world import save_tiny_networks, tiny_generator

import ganinv
from ganinv.harness.method import save_encoder
from ganinv.harness.schema import MethodConfig
from ganinv.plugin_api import (
    attach_frozen,
    frozen_forward,
    load_base_encoder,
    load_e4e_base,
    load_exported_encoder,
)

ROOT = Path(__file__).resolve().parents[2]
E4E = {"name": "e4e", **E4E_BACKBONE}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("frozen_base")
    generator_file = save_tiny_networks(root / "g.safetensors", tiny_generator(0))
    generator = ganinv.load_generator(str(generator_file))
    files = {"generator": generator_file}
    for space, spec in (("wplus", E4E), ("w", {"name": "w_encoder", **TINY_BACKBONE})):
        torch.manual_seed(1)  # random, untrained weights: outputs differ from the mean code
        encoder = ganinv.build(
            "encoders", spec, space=ganinv.build("spaces", space, generator=generator)
        )
        config = MethodConfig(generator=str(generator_file), space=space, encoder=spec)
        files[space] = save_encoder(root / f"{space}.safetensors", encoder, config)
    return files


def wplus_space(world: dict[str, Path]):
    return ganinv.build("spaces", "wplus", generator=ganinv.load_generator(str(world["generator"])))


def test_loads_the_file_frozen_for_the_given_generator(world: dict[str, Path]) -> None:
    space = wplus_space(world)
    base = load_base_encoder(world["wplus"], space, ("wplus",), "e4e_checkpoint", "use e4e")
    assert not base.training and not any(p.requires_grad for p in base.parameters())
    # Its own space (the file's), on the caller's generator.
    assert base.space is not space and base.space.generator is space.generator
    assert base.space.name == "wplus"
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    code = frozen_forward(base, images)
    assert not code["wplus"].requires_grad
    reference = load_exported_encoder(world["wplus"], space)
    with torch.no_grad():
        expected = reference(images)["wplus"]
    assert torch.equal(code["wplus"], expected)
    assert not torch.equal(expected, space.init_code(2)["wplus"])  # the file's weights, not zeros


def test_a_file_for_another_space_is_refused_with_the_callers_words(world: dict[str, Path]) -> None:
    space = wplus_space(world)
    message = "e4e_checkpoint '.*w.safetensors' predicts codes of space 'w'; SDIC needs 'wplus'"
    with pytest.raises(ganinv.GanInvError, match=message):
        load_base_encoder(world["w"], space, ("wplus",), "e4e_checkpoint", "SDIC needs 'wplus'")
    with pytest.raises(
        ganinv.GanInvError, match="space 'w'; HFGI needs an encoder trained for 'wplus'"
    ):
        load_e4e_base(world["w"], space, "HFGI")
    assert load_e4e_base(world["wplus"], space, "HFGI").space.name == "wplus"
    # `accept` may list several spaces; the base is built on the file's own space.
    base = load_base_encoder(world["w"], space, ("w", "wplus"), "base_encoder", "-")
    assert base.space.name == "w"


def test_attach_frozen_keeps_the_network_out_of_its_owner(world: dict[str, Path]) -> None:
    base = load_base_encoder(world["wplus"], wplus_space(world), ("wplus",), "x", "-")
    owner = torch.nn.Module()
    owner.own = torch.nn.Linear(2, 2)
    owner.base_encoder = torch.nn.Linear(2, 2)  # a submodule of that name stops being one
    attach_frozen(owner, "base_encoder", base)
    assert owner.base_encoder is base
    assert set(owner.state_dict()) == {"own.weight", "own.bias"}
    assert len(list(owner.parameters())) == 2
    owner.train()
    assert not base.training  # the owner's mode does not reach it
    attach_frozen(owner, "base_encoder", None)
    assert owner.base_encoder is None


def test_frozen_forward_gives_no_graph() -> None:
    net = torch.nn.Linear(3, 2)
    x = torch.rand(4, 3, requires_grad=True)
    y = frozen_forward(net, x)
    assert torch.equal(y, net(x).detach()) and not y.requires_grad


def doc_block(first_line: str) -> str:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for body in re.findall(r"^```python\n(.*?)^```", text, re.S | re.M):
        if body.startswith(first_line):
            return body
    raise AssertionError(f"docs/plugins.md has no block starting {first_line!r}")


def test_the_documented_example_builds_on_an_exported_e4e(
    world: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "on_e4e.py").write_text(doc_block("# file: my_plugin/on_e4e.py"))
    # In a fresh process: the example registers an encoder name this suite's contract tests
    # would otherwise find.
    script = f"""
import sys, torch, ganinv
sys.path.insert(0, {str(tmp_path)!r})
import on_e4e
g = ganinv.load_generator({str(world["generator"])!r})
space = ganinv.build("spaces", "wplus", generator=g)
def build(path):
    return ganinv.build("encoders", {{"name": "wplus_on_e4e", "e4e_checkpoint": path}}, space=space)
enc = build({str(world["wplus"])!r})
assert list(enc.state_dict()) == ["offset"], list(enc.state_dict())
x = torch.rand(2, 3, 16, 16) * 2 - 1
with torch.no_grad():
    enc.offset.fill_(0.5)
code = enc(x)
assert torch.equal(code["wplus"], enc.base_encoder(x)["wplus"] + 0.5)
code["wplus"].sum().backward()
assert enc.offset.grad is not None
assert all(p.grad is None for p in enc.base_encoder.parameters())
try:
    build({str(world["w"])!r})
except ganinv.GanInvError as exc:
    assert "predicts codes of space 'w'; give an encoder exported for 'wplus'" in str(exc), exc
else:
    raise AssertionError("a W encoder was accepted as the e4e")
print("ok")
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
