"""`ganinv convert --check`: a converted network file against an independent reload of its source
(configs, every tensor, a rendered batch and the discriminator's logits), as Hammer's converters
report the numeric error of every conversion."""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.errors import GanInvError

# Max |difference| of images / logits `--check` accepts (the same weights give bit-equal outputs;
# 1e-5 leaves room for kernels that sum in another order).
CHECK_TOLERANCE = 1e-5


@torch.no_grad()
def max_differences(
    before: dict[str, torch.nn.Module],
    after: dict[str, torch.nn.Module],
    batch: int = 4,
    seed: int = 0,
) -> dict[str, float]:
    """Max |before - after| of the images (and discriminator logits) for a fixed z batch."""
    out: dict[str, float] = {}
    image = None
    if "generator" in before:
        g0, g1 = before["generator"], after["generator"]
        z = torch.randn(batch, g0.z_dim, generator=torch.Generator().manual_seed(seed))
        image = g0(z)
        out["image"] = (image - g1(z)).abs().max().item()
        out["image_trunc0.7"] = (g0(z, 0.7) - g1(z, 0.7)).abs().max().item()
    if "discriminator" in before:
        d0, d1 = before["discriminator"], after["discriminator"]
        if image is None or image.shape[-1] != d0.resolution:
            gen = torch.Generator().manual_seed(seed)
            image = torch.rand(batch, d0.img_channels, d0.resolution, d0.resolution, generator=gen)
            image = image * 2 - 1
        out["logits"] = (d0(image) - d1(image)).abs().max().item()
    return out


def parameter_differences(
    source: dict[str, torch.nn.Module], converted: dict[str, torch.nn.Module]
) -> list[str]:
    """What differs between two sets of networks: names, configs, tensor shapes and values."""
    problems: list[str] = []
    if set(source) != set(converted):
        return [f"networks {sorted(converted)} vs {sorted(source)}"]
    for name, module in source.items():
        other = converted[name]
        if type(other) is not type(module) or other.config != module.config:
            problems.append(f"{name} config differs")
            continue
        own, theirs = module.state_dict(), other.state_dict()
        for key, value in own.items():
            if key not in theirs or theirs[key].shape != value.shape:
                problems.append(f"{name}.{key} missing or reshaped")
            elif not torch.equal(theirs[key].float(), value.float()):
                diff = (theirs[key].float() - value.float()).abs().max().item()
                problems.append(f"{name}.{key} differs by {diff:.3g}")
    return problems


def check_conversion(source: str, output: Any, batch: int = 4, seed: int = 0) -> dict[str, float]:
    """Compare OUT with a fresh load of `source`; raise (and remove OUT, ganinv's own file just
    written) when a tensor, a config, an image or a logit differs. Returns the max absolute
    differences of the rendered batch (and discriminator logits)."""
    from ganinv.checkpoints.load import load_networks
    from ganinv.checkpoints.native import load_networks as load_native

    # Both sides are built anew from their files: a conversion that changed the networks it was
    # given, or wrote other tensors than it read, cannot match itself here.
    expected, _ = load_networks(source)
    converted, _ = load_native(output)
    problems = parameter_differences(expected, converted)
    differences: dict[str, float] = {}
    if not problems:
        differences = max_differences(expected, converted, batch, seed)
        for what, diff in differences.items():
            if not diff <= CHECK_TOLERANCE:
                problems.append(f"{what} differs by {diff:.3g} (tolerance {CHECK_TOLERANCE:g})")
    if problems:
        output.unlink(missing_ok=True)
        raise GanInvError(
            f"--check failed: {output} does not reproduce {source}: {'; '.join(problems[:3])}; "
            "the converted file was removed"
        )
    return differences
