"""What a network description read from a file may say, checked before anything is built.

A checkpoint's header (ganinv safetensors) or pickle (NVlabs) describes the network to build. A
few bytes there could ask for a 2**30-layer mapping network or a [10**6, 10**6] weight, so every
value is checked for type and range here, the network is then built on the ``meta`` device (no
memory) and its size compared with `MAX_NETWORK_ELEMENTS` and with the tensors the file really
holds (`ganinv.checkpoints.state.build_network`) before a single real parameter is allocated.
"""

from __future__ import annotations

import math
from typing import Any

from ganinv.core.errors import GanInvError

MAX_RESOLUTION = 8192
MAX_WIDTH = 16384  # channels, z_dim, w_dim
# 2**28 values (1 GiB in float32); the 1024 px StyleGAN2 generator holds 33M, its discriminator 29M.
MAX_NETWORK_ELEMENTS = 1 << 28

# Field -> (kind, low, high). Kinds: "int", "pow2" (int power of two), "float" (finite),
# "clamp" (None or finite float), "channels" ({resolution: width}).
_GENERATOR = {
    "z_dim": ("int", 1, MAX_WIDTH),
    "w_dim": ("int", 1, MAX_WIDTH),
    "resolution": ("pow2", 4, MAX_RESOLUTION),
    "channels": ("channels", 1, MAX_WIDTH),
    "channel_base": ("int", 1, MAX_WIDTH * MAX_RESOLUTION),
    "channel_max": ("int", 1, MAX_WIDTH),
    "mapping_layers": ("int", 1, 64),
    "mapping_lr_mul": ("float", 1e-6, 1e3),
    "img_channels": ("int", 1, 64),
    "conv_clamp": ("clamp", 1e-6, 1e9),
}
_DISCRIMINATOR = {
    "resolution": ("pow2", 4, MAX_RESOLUTION),
    "channels": ("channels", 1, MAX_WIDTH),
    "channel_base": ("int", 1, MAX_WIDTH * MAX_RESOLUTION),
    "channel_max": ("int", 1, MAX_WIDTH),
    "mbstd_group_size": ("int", 1, 1024),
    "mbstd_num_channels": ("int", 0, 64),
    "img_channels": ("int", 1, 64),
    "conv_clamp": ("clamp", 1e-6, 1e9),
}
FIELDS: dict[str, dict[str, tuple[str, float, float]]] = {
    "generator/stylegan2": _GENERATOR,
    "discriminator/stylegan2": _DISCRIMINATOR,
}


def _int(value: Any, where: str, low: float, high: float) -> int:
    # bool is an int subclass; a float such as 64.0 is accepted only when it is integral.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GanInvError(f"{where} is {value!r}, expected an integer")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise GanInvError(f"{where} is {value!r}, expected an integer")
    if not low <= value <= high:
        raise GanInvError(f"{where} is {value!r}, expected {low:g}..{high:g}")
    return int(value)


def _float(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GanInvError(f"{where} is {value!r}, expected a number")
    if not (math.isfinite(value) and low <= value <= high):
        raise GanInvError(f"{where} is {value!r}, expected a number in {low:g}..{high:g}")
    return float(value)


def _pow2(value: Any, where: str, low: float, high: float) -> int:
    number = _int(value, where, low, high)
    if number & (number - 1):
        raise GanInvError(f"{where} is {number}, expected a power of two")
    return number


def _channels(value: Any, where: str, low: float, high: float) -> dict[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 16:
        raise GanInvError(f"{where} must be a table {{resolution: channels}} of at most 16 rows")
    table: dict[int, int] = {}
    for res, width in value.items():
        # JSON keys are strings ("4"); accept only plain decimal integers.
        if isinstance(res, str) and res.isascii() and res.isdecimal() and len(res) <= 5:
            res = int(res)
        key = _pow2(res, f"{where} resolution {res!r}", 4, MAX_RESOLUTION)
        table[key] = _int(width, f"{where}[{key}]", low, high)
    return table


_CHECKS = {
    "int": _int,
    "pow2": _pow2,
    "float": _float,
    "clamp": lambda v, w, lo, hi: None if v is None else _float(v, w, lo, hi),
    "channels": _channels,
}


# The kinds a field rule may name (a plugin generator's ``config_bounds`` uses them too).
KINDS = tuple(_CHECKS)


def check_config(
    class_key: str,
    config: Any,
    where: str,
    fields: dict[str, tuple[str, float, float]] | None = None,
) -> dict[str, Any]:
    """The constructor kwargs of network class `class_key`, each checked for type and range.

    `fields` are the rules (`FIELDS[class_key]` for the built-ins; a registered plugin
    generator's ``config_bounds``). `where` names the file and the field in errors
    ("g.safetensors: networks.generator.config").
    """
    fields = fields if fields is not None else FIELDS.get(class_key)
    if fields is None:
        raise GanInvError(f"{where}: unknown network class {class_key!r}; known: {sorted(FIELDS)}")
    if not isinstance(config, dict):
        raise GanInvError(f"{where} is a {type(config).__name__}, expected a JSON object")
    unknown = sorted(str(k) for k in config if k not in fields)
    if unknown:
        raise GanInvError(f"{where} has unknown keys {unknown[:5]}; known: {sorted(fields)}")
    checked: dict[str, Any] = {}
    for key, value in config.items():
        kind, low, high = fields[key]
        checked[key] = _CHECKS[kind](value, f"{where}.{key}", low, high)
    return checked
