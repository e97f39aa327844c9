"""`check_space`: the contract every `InversionSpace` keeps (see docs/plugins.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.space import CODE_PART_ROLES, Code, InversionSpace
from ganinv.testing.contract import ContractError, expect

# A generator's raw output may overshoot [-1, 1] (ganinv clamps before measuring; an untrained
# tiny generator does so widely): a render may reach this multiple of the larger of 1 and the
# generator's own peak at w_avg; anything beyond is a broken render.
RENDER_LIMIT = 1.5


def generator_peak(space: InversionSpace) -> float:
    """Largest |pixel| of the generator's own image at w_avg (plain synthesis, no hooks)."""
    g = space.generator
    with torch.no_grad():
        return float(g.synthesize(g.w_avg.expand(1, g.num_ws, g.w_dim)).abs().max())


def _same(a: Code, b: Code) -> bool:
    return a.tensors.keys() == b.tensors.keys() and all(torch.equal(a[k], b[k]) for k in a.tensors)


def check_render(space: InversionSpace, code: Code, batch_size: int) -> torch.Tensor:
    """Render `code`; check shape [B, C, R, R], finiteness and range."""
    g = space.generator
    image = space.render(code)
    shape = (batch_size, g.img_channels, g.resolution, g.resolution)
    expect(
        tuple(image.shape) == shape,
        f"space {space.name!r}: render gave {list(image.shape)}, expected {list(shape)}",
    )
    expect(bool(torch.isfinite(image).all()), f"space {space.name!r}: render is not finite")
    peak, limit = float(image.abs().max()), RENDER_LIMIT * max(1.0, generator_peak(space))
    expect(
        peak <= limit,
        f"space {space.name!r}: render reaches {peak:.3g} (limit {limit:.3g}); images are in "
        "[-1, 1]",
    )
    return image


def check_gradients(space: InversionSpace, code: Code) -> None:
    """Every tensor of `trainable(code)` receives a finite, non-zero gradient from the render."""
    params = space.trainable(code)
    expect(len(params) > 0, f"space {space.name!r}: trainable() returned no tensors")
    expect(
        all(p.is_leaf and p.requires_grad for p in params),
        f"space {space.name!r}: trainable() must return leaf tensors requiring grad",
    )
    image = space.render(code)
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(0))
    loss = (image * weights.to(image)).sum() + space.regularizer(code)
    loss.backward()
    for i, p in enumerate(params):
        expect(p.grad is not None, f"space {space.name!r}: trainable tensor {i} gets no gradient")
        assert p.grad is not None
        expect(
            bool(torch.isfinite(p.grad).all()) and float(p.grad.abs().sum()) > 0,
            f"space {space.name!r}: the gradient of trainable tensor {i} "
            f"{list(p.shape)} is zero or not finite",
        )


def check_save_load(space: InversionSpace, code: Code) -> None:
    """`Code.save` / `Code.load` keep space, tensors and meta, and the loaded code renders."""
    with tempfile.TemporaryDirectory() as tmp:
        path = code.save(Path(tmp) / "code.safetensors")
        loaded = Code.load(path, device=space.generator.w_avg.device)
    expect(loaded.space == code.space, f"space {space.name!r}: the space name was not saved")
    expect(loaded.meta == code.meta, f"space {space.name!r}: meta {code.meta} is not JSON-able")
    expect(
        _same(loaded, code.detach().to(loaded[next(iter(loaded.tensors))].device)),
        f"space {space.name!r}: tensors differ after save/load",
    )
    with torch.no_grad():
        expect(
            torch.equal(space.render(loaded), space.render(code)),
            f"space {space.name!r}: a loaded code renders differently",
        )


def check_rejects_foreign(space: InversionSpace, code: Code) -> None:
    """A code of another space is refused by `check` and by `render`, with a GanInvError."""
    foreign = Code(space.name + "_other", dict(code.tensors), dict(code.meta))
    for what, call in (("check", space.check), ("render", space.render)):
        try:
            call(foreign)
        except GanInvError:
            continue
        raise ContractError(
            f"space {space.name!r}: {what}() accepted a code of space {foreign.space!r}; "
            "call self.check(code) first"
        )


def check_optional(space: InversionSpace, code: Code) -> None:
    """Optional methods either work as documented or raise a GanInvError (never another error)."""
    g = space.generator
    keys = list(code.tensors)
    roles = space.code_part_roles()
    expect(
        set(roles) <= set(keys) and set(roles.values()) <= set(CODE_PART_ROLES),
        f"space {space.name!r}: code_part_roles() {roles} must name parts of init_code with "
        f"roles from {list(CODE_PART_ROLES)}",
    )
    for key in keys:
        std = space.latent_noise_std(key)
        expect(
            std is None or float(std) >= 0,
            f"space {space.name!r}: latent_noise_std({key!r}) must be None or >= 0",
        )
    with torch.no_grad():
        try:
            wplus = space.to_wplus(code)
            expect(
                tuple(wplus.shape) == (code.batch_size, g.num_ws, g.w_dim),
                f"space {space.name!r}: to_wplus gave {list(wplus.shape)}",
            )
        except GanInvError:
            pass
        operations = {
            "apply_direction": lambda: space.apply_direction(
                code, torch.zeros(g.w_dim, device=g.w_avg.device), 1.0
            ),
            "blend": lambda: space.blend(code, code),
            "add": lambda: space.add(code, space.difference(code, code)),
        }
        for name, operation in operations.items():
            try:
                out = operation()
            except GanInvError:
                continue  # not supported, and said so
            expect(
                isinstance(out, Code) and out.space == space.name,
                f"space {space.name!r}: {name} must return a code of this space",
            )
            if name != "blend":  # a zero edit changes nothing
                expect(
                    torch.allclose(space.render(out), space.render(code), atol=1e-5),
                    f"space {space.name!r}: {name} with a zero edit changed the image",
                )


def check_space(space: InversionSpace, name: str | None = None, batch_size: int = 2) -> None:
    """Run every space check; `name` is the registered name ``space.name`` must equal."""
    if name is not None:
        expect(
            space.name == name,
            f"space class {type(space).__name__} has name {space.name!r} but is registered as "
            f"{name!r}; set name = {name!r}",
        )
    code = space.init_code(batch_size)
    expect(isinstance(code, Code), f"space {space.name!r}: init_code must return a Code")
    expect(code.space == space.name, f"space {space.name!r}: init_code made {code.space!r}")
    expect(code.batch_size == batch_size, f"space {space.name!r}: init_code batch size")
    device = space.generator.w_avg.device
    expect(
        all(t.device == device for t in code.tensors.values()),
        f"space {space.name!r}: codes must live on the generator's device",
    )
    with torch.no_grad():
        check_render(space, code, batch_size)
    check_gradients(space, space.init_code(batch_size))
    check_save_load(space, code)
    check_rejects_foreign(space, code)
    check_optional(space, code)
