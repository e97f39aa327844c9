"""`check_encoder`: the contract every `Encoder` keeps (see docs/plugins.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv.core.weight_offsets import check_offsets, offsets_of, without_offsets
from ganinv.testing.contract import expect


def encoder_inputs(encoder: Encoder, batch_size: int = 2, seed: int = 0) -> torch.Tensor:
    """Random images [B, 3, S, S] in [-1, 1] at the encoder's input size (or the generator's)."""
    space = encoder.space
    size = getattr(encoder, "input_resolution", None) or space.generator.resolution
    rng = torch.Generator().manual_seed(seed)
    images = torch.rand(batch_size, 3, size, size, generator=rng) * 2 - 1
    return images.to(space.generator.w_avg.device)


def check_output(encoder: Encoder, images: torch.Tensor) -> Code:
    """A code of the encoder's space with `init_code`'s parts and shapes, which renders."""
    space = encoder.space
    with torch.no_grad():
        code = encoder(images)
        layout = space.init_code(images.shape[0])
    expect(isinstance(code, Code), "encoder: forward must return a Code")
    expect(code.space == space.name, f"encoder: made codes of {code.space!r}, not {space.name!r}")
    # Weight offsets (HyperStyle) are extra parts any space's code may carry; checked apart.
    parts = without_offsets(code.tensors)
    expect(
        list(parts) == list(layout.tensors),
        f"encoder: code parts {list(parts)} differ from the space's {list(layout.tensors)}",
    )
    try:
        check_offsets(space.generator, offsets_of(code.tensors), images.shape[0])
    except GanInvError as exc:
        expect(False, f"encoder: {exc}")
    for key, tensor in parts.items():
        expect(
            tensor.shape == layout[key].shape,
            f"encoder: part {key!r} has shape {list(tensor.shape)}, the space's is "
            f"{list(layout[key].shape)}",
        )
    with torch.no_grad():
        image = space.render(code)
    expect(bool(torch.isfinite(image).all()), "encoder: its code renders non-finite images")
    return code


def check_trains(encoder: Encoder, images: torch.Tensor) -> None:
    """A reconstruction loss through the render sends gradients into the encoder's parameters."""
    params = [p for p in encoder.parameters() if p.requires_grad]
    expect(len(params) > 0, "encoder: no trainable parameters")
    encoder.zero_grad(set_to_none=True)
    code = encoder(images)
    target = torch.zeros_like(encoder.space.render(code.detach()))
    loss = (encoder.space.render(code) - target).square().mean()
    for value in encoder.extra_losses(code).values():
        loss = loss + value
    loss.backward()
    reached = [p for p in params if p.grad is not None and float(p.grad.abs().sum()) > 0]
    expect(len(reached) > 0, "encoder: the render loss gives no parameter a gradient")
    encoder.zero_grad(set_to_none=True)


def check_export(
    encoder: Encoder, space_spec: Any, encoder_spec: Any, images: torch.Tensor
) -> None:
    """Exporting as `ganinv train` does and rebuilding from the file gives the same codes."""
    from ganinv.harness.method import load_exported_encoder, save_encoder
    from ganinv.harness.schema import MethodConfig

    encoder.eval()
    method = MethodConfig(generator="tiny", space=space_spec, encoder=encoder_spec)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_encoder(Path(tmp) / "encoder.safetensors", encoder, method)
        rebuilt = load_exported_encoder(path, encoder.space)
    with torch.no_grad():
        a, b = encoder(images), rebuilt(images)
    for key in a.tensors:
        expect(
            torch.allclose(a[key], b[key], atol=1e-6),
            f"encoder: part {key!r} differs after export and rebuild "
            f"(max {float((a[key] - b[key]).abs().max()):.3g})",
        )


def check_starts_at_init_code(encoder: Encoder, images: torch.Tensor) -> None:
    """An untrained encoder that starts from the space's neutral code outputs it exactly."""
    with torch.no_grad():
        code = encoder(images)
        init = encoder.space.init_code(images.shape[0])
    for key in init.tensors:
        expect(
            torch.equal(code[key], init[key]),
            f"encoder: untrained part {key!r} differs from init_code "
            f"(max {float((code[key] - init[key]).abs().max()):.3g})",
        )


def check_encoder(
    encoder: Encoder,
    space_spec: Any = None,
    encoder_spec: Any = None,
    starts_at_init_code: bool = False,
    batch_size: int = 2,
) -> None:
    """Run every encoder check. With the registry specs of its space and itself (a name or
    ``{name: ..., **args}``) the export round trip runs too; `starts_at_init_code` asserts the
    step-0 behaviour of encoders that promise it (e.g. ``generic``)."""
    images = encoder_inputs(encoder, batch_size)
    encoder.train()
    if starts_at_init_code:
        check_starts_at_init_code(encoder, images)
    check_output(encoder, images)
    check_trains(encoder, images)
    if encoder_spec is not None and space_spec is not None:
        check_export(encoder, space_spec, encoder_spec, images)
