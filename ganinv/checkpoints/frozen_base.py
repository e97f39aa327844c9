"""A frozen base encoder: another method's encoder, exported by ``ganinv train``, that a component
builds on (SDIC, HFGI and StyleFeatureEditor on e4e; HyperStyle on a W encoder or e4e).

The base is rebuilt from its own file each time the component is built, for the component's
generator and the space the file was trained for, frozen and in eval mode. Hold it with
`ganinv.losses.frozen.attach_frozen` (not a submodule: its weights stay in their own file, out of
the component's state dict) and run it with `ganinv.losses.frozen.frozen_forward`. Public: see
docs/plugins.md.
"""

from __future__ import annotations

import os
from collections.abc import Collection

from ganinv.checkpoints.encoder_file import load_exported_encoder, read_encoder_header
from ganinv.core.components import build_component, spec_name
from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import InversionSpace

__all__ = ["load_base_encoder", "load_e4e_base"]


def load_base_encoder(
    path: str | os.PathLike[str],
    space: InversionSpace,
    accept: Collection[str],
    option: str,
    needs: str,
) -> Encoder:
    """The encoder exported at `path`, frozen, on its own space built for `space`'s generator.

    accept: the spaces the base may predict (e.g. ``("wplus",)`` for an e4e); a file trained for
        another raises a `GanInvError` "<option> <path> predicts codes of space <found>; <needs>".
    option: the config argument that named the file (e.g. ``"e4e_checkpoint"``).
    needs: what to do about a wrong file, for that message.
    """
    header = read_encoder_header(path)
    found = spec_name(header.space)
    if found not in accept:
        raise GanInvError(f"{option} {str(path)!r} predicts codes of space {found!r}; {needs}")
    base_space = build_component("spaces", header.space, generator=space.generator)
    return load_exported_encoder(path, base_space)


def load_e4e_base(path: str | os.PathLike[str], space: InversionSpace, method: str) -> Encoder:
    """`load_base_encoder` for an ``e4e_checkpoint`` argument: any encoder exported for
    ``wplus`` (e4e in the papers of SDIC, HFGI and StyleFeatureEditor); `method` names the
    component that needs it in the error."""
    needs = f"{method} needs an encoder trained for 'wplus' (e4e in the paper)"
    return load_base_encoder(path, space, ("wplus",), "e4e_checkpoint", needs)
