"""A built method: generator x space x (encoder or none) x (refiner or none), ready to invert.

`build_method(config, device)` resolves a `MethodConfig` into live objects; `Method.invert(images)`
is the one inversion path shared by `ganinv invert`, `eval`, `bench` and the Python API. A command
that needs the resolved config itself (bench, train) calls `resolve_method_config` once and
`build_resolved_method` with its result.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.encoder_file import (
    FORMAT,
    build_encoder_for_file,
    check_generator_present,
    check_registered,
    in_file_context,
    read_encoder_header,
    write_encoder_file,
)

# Re-exported for callers of the harness; their public home is ganinv.checkpoints.encoder_file.
from ganinv.checkpoints.encoder_file import load_exported_encoder as load_exported_encoder
from ganinv.checkpoints.encoder_file import read_encoder_file as read_encoder_file
from ganinv.core.assets import asset_path, looks_like_name
from ganinv.core.components import build_component, spec_name
from ganinv.core.config_paths import absolute_paths
from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.refiner import Refiner
from ganinv.core.space import Code, InversionSpace
from ganinv.harness.resize import ENCODER_INPUT_RESIZE, to_encoder_input
from ganinv.harness.schema import MethodConfig

ENCODER_FORMAT = FORMAT
# The largest encoder input size accepted (or the generator's resolution if larger).
MAX_ENCODER_INPUT = 1024


def method_label(config: MethodConfig) -> str:
    """The table row name: the config's label, or ``space + encoder + refiner``."""
    if config.label:
        return config.label
    parts = [spec_name(config.space) if config.space is not None else "?"]
    if config.encoder is not None:
        parts.append(spec_name(config.encoder))
    elif config.encoder_checkpoint:
        parts.append(Path(config.encoder_checkpoint).stem)
    if config.refiner is not None:
        parts.append(spec_name(config.refiner))
    return "+".join(parts)


def load_generator_for(path_or_name: str, device: torch.device) -> Generator:
    """A frozen generator in eval mode on `device`."""
    from ganinv.checkpoints.load import load_generator

    generator = load_generator(path_or_name)
    generator = generator.to(device).eval()
    generator.requires_grad_(False)
    return generator


# -- exported encoders: safetensors weights plus the specs that rebuild them (no pickle) ---------
def save_encoder(
    path: str | os.PathLike[str],
    encoder: Encoder,
    method: MethodConfig,
    info: dict[str, Any] | None = None,
) -> Path:
    """Write the encoder's weights and its generator/space/encoder specs as safetensors.

    Paths among the specs are stored relative to the file; the config's imports are recorded only
    to word the error where the component is missing (a file never causes an import)."""
    specs = {"generator": method.generator, "space": method.space, "encoder": method.encoder}
    return write_encoder_file(path, encoder.state_dict(), specs, info, method.imports)


def import_modules(names: list[str]) -> None:
    """Import the modules the user's own config or command line names (they register components
    as a side effect). Never called with names read from a file."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise GanInvError(
                f"method.imports: cannot import {name!r} ({exc}); is it on PYTHONPATH?"
            ) from exc


def resolve_method_config(
    config: MethodConfig, default_generator: str | None = None
) -> MethodConfig:
    """Fill generator/space/encoder from an exported encoder and the default generator; file
    paths become absolute. Only the user's own `imports` are imported."""
    import_modules(config.imports)
    if config.encoder_checkpoint and looks_like_name(config.encoder_checkpoint):
        # a registry card (e.g. demo_psp): its verified file
        config = replace(config, encoder_checkpoint=str(asset_path(config.encoder_checkpoint)))
    if config.encoder_checkpoint:
        header = read_encoder_header(config.encoder_checkpoint)
        for part, spec in (("space", config.space), ("encoder", config.encoder)):
            if spec is None:  # taken from the file: say which plugin it needs if missing
                check_registered(header, part, getattr(header, part))

        config = replace(
            config,
            encoder_checkpoint=os.path.abspath(config.encoder_checkpoint),
            generator=config.generator or header.generator,
            space=config.space if config.space is not None else header.space,
            encoder=_over_the_file(config.encoder, header.encoder),
        )
    if config.generator is None:
        config = replace(config, generator=default_generator)
    if config.generator is None:
        raise GanInvError("method has no generator: set method.generator (a checkpoint or card)")
    if config.space is None:
        raise GanInvError("method has no space: set method.space (e.g. {name: wplus})")
    if config.encoder_checkpoint and config.encoder is None:
        raise GanInvError("method.encoder_checkpoint does not name its encoder; set method.encoder")
    return absolute_paths(config)  # the header's paths are absolute already


def _over_the_file(given: Any, saved: Any) -> Any:
    """The encoder spec of a method using an exported file: the file's, with the keys a config
    gives for the same encoder on top (``{name: restyle_psp, inference_steps: 1}`` changes only
    that setting; the file's other arguments, paths relative to it included, stay); a spec
    naming another encoder replaces the file's."""
    if given is None:
        return saved
    if isinstance(saved, dict) and spec_name(given) == spec_name(saved):
        return {**saved, **(given if isinstance(given, dict) else {})}
    return given


@dataclass
class Method:
    """Live objects of one method. `invert` never updates the encoder or generator."""

    config: MethodConfig
    generator: Generator
    space: InversionSpace
    encoder: Encoder | None
    refiner: Refiner | None
    device: torch.device

    @property
    def label(self) -> str:
        return method_label(self.config)

    def encode(self, images: torch.Tensor) -> Code:
        """The starting code: the encoder's prediction, or the space's neutral code."""
        if self.encoder is None:
            return self.space.init_code(images.shape[0])
        resolution = getattr(self.encoder, "input_resolution", None)
        return self.encoder(to_encoder_input(images, resolution))

    def invert(self, images: torch.Tensor) -> tuple[Code, torch.Tensor]:
        """images [B, 3, H, W] in [-1, 1] on any device -> (detached code, recon [B, 3, R, R])."""
        images = images.to(self.device)
        with torch.no_grad():
            code = self.encode(images)
        if self.refiner is not None:
            code = self.refiner.refine(self.space, code.detach(), images)
        code = code.detach()
        with torch.no_grad():
            recon = self.space.render(code)
        return code, recon.clamp(-1, 1)

    def protocol(self) -> dict[str, Any]:
        """How images reach the method (for the protocol record)."""
        out: dict[str, Any] = {"noise_mode": "const"}
        if self.encoder is not None:
            out["encoder_input"] = {
                "resolution": getattr(self.encoder, "input_resolution", None),
                "resize": ENCODER_INPUT_RESIZE,
            }
        return out


def _check_input_resolution(encoder: Encoder, generator: Generator, config: MethodConfig) -> None:
    """Images are resized to the encoder's input size before every call: a size no encoder uses
    (e.g. from a damaged file's header) would allocate without bound, so it is refused here."""
    resolution = getattr(encoder, "input_resolution", None)
    largest = max(MAX_ENCODER_INPUT, int(getattr(generator, "resolution", 0) or 0))
    if resolution is None:
        return
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        ok = False
    else:
        ok = 1 <= resolution <= largest
    if not ok:
        where = config.encoder_checkpoint or "the config"
        raise GanInvError(
            f"method.encoder (from {where}): input_resolution {resolution!r} must be an integer "
            f"in [1, {largest}]"
        )


def build_method(
    config: MethodConfig,
    device: torch.device | str = "cpu",
    default_generator: str | None = None,
    generator: Generator | None = None,
) -> Method:
    """Resolve and build a method; an exported encoder's weights are loaded strictly."""
    config = resolve_method_config(config, default_generator)
    return build_resolved_method(config, device, generator)


def build_resolved_method(
    config: MethodConfig,
    device: torch.device | str = "cpu",
    generator: Generator | None = None,
) -> Method:
    """Build a method from a config `resolve_method_config` returned: a command resolves each
    method once (imports, the exported encoder's header) and builds from that."""
    device = torch.device(device)
    header = read_encoder_header(config.encoder_checkpoint) if config.encoder_checkpoint else None
    if generator is None:
        if header is not None and config.generator == header.generator:
            check_generator_present(header)
        generator = load_generator_for(config.generator, device)
    try:
        space = build_component("spaces", config.space, generator=generator)
    except Exception as exc:
        if header is None or config.space != header.space:
            raise
        raise in_file_context(header, "space", config.space, exc) from exc  # the file's spec
    encoder = None
    if config.encoder is not None:
        if header is not None:
            encoder = build_encoder_for_file(header, config.encoder, space, generator)
        else:
            encoder = build_component("encoders", config.encoder, space=space, generator=generator)
        _check_input_resolution(encoder, generator, config)
        encoder = encoder.to(device).eval()
    refiner = None
    if config.refiner is not None:
        # The method's own encoder is offered to refiners that take one (IDInvert's domain
        # regulariser runs through it).
        refiner = build_component(
            "refiners",
            config.refiner,
            generator=generator,
            space=space,
            device=device,
            encoder=encoder,
        )
    return Method(config, generator, space, encoder, refiner, device)
