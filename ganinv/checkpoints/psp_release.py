"""Released pSp / e4e / ReStyle checkpoints, read and mapped onto ganinv's encoders.

The files (``psp_ffhq_encode.pt``, ``e4e_ffhq_encode.pt``, ``restyle_psp_ffhq_encode.pt``,
``restyle_e4e_ffhq_encode.pt``) are what the coaches of eladrich/pixel2style2pixel,
omertov/encoder4editing and yuval-alaluf/restyle-encoder save::

    {'state_dict': {'encoder.*': ..., 'decoder.*': <rosinality StyleGAN2 Generator>},
     'opts': vars(training options),   # a dict of plain values
     'latent_avg': [n_styles, 512] (or [512])}

plus, in checkpoints saved to resume training, 'global_step', 'optimizer', 'best_val_loss' and
e4e's latent discriminator ('discriminator_state_dict', 'discriminator_optimizer_state_dict'),
which inversion does not use and which are left out (named in the converted file's info).

The file is untrusted: it is read with ``torch.load(weights_only=True)`` behind the size checks of
`safe_load.torch_load` (no class is allow-listed: 'opts' must be a dict of numbers, strings, None
and flat lists of those); every top-level key, every 'state_dict' key and every 'opts' value is
checked; the encoder's structure (stem input channels, IR-SE blocks per stage and widths, style
heads and their depth) is read from tensor shapes within fixed bounds, the released key table of
that structure is derived and must equal the file's encoder keys and shapes exactly (missing,
unexpected or mis-shaped keys are named), and ganinv's encoder of that structure is built on the
``meta`` device and must hold exactly the mapped tensors before anything is written.

Which released encoder class a file holds is read from ``opts['encoder_type']`` (pSp's and e4e's
state dicts have identical keys; only the class tells them apart):

=========================== =========== ===========================================
released class              ganinv      what carries over
=========================== =========== ===========================================
GradualStyleEncoder (3 ch)  psp         IR-SE body, latlayer1/2, 3-level style heads
Encoder4Editing             e4e         as psp; w0 from head 0 plus delta_i (all on)
BackboneEncoder (6 ch)      restyle_psp IR-SE body on 6 channels, heads on R/16 map
ProgressiveBackboneEncoder  restyle_e4e as restyle_psp; w0 plus delta_i
=========================== =========== ===========================================

Refused, with the reason: pSp's W / W+ "last layer" encoders, the torchvision ResNet-34 backbones
(ReStyle's non-face releases), ReStyle's FPN encoder on 6 channels, IR (no SE) bodies, a pSp
with ``learn_in_w``, and a 'latent_avg' whose rows differ (ganinv's w_avg is one vector).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from ganinv.checkpoints.safe_load import check_state, check_tensor, torch_load
from ganinv.core.errors import GanInvError

# The coaches' top-level keys; the training-state ones are read (weights_only) but not used.
RELEASE_KEYS = ("state_dict", "opts", "latent_avg")
TRAINING_STATE_KEYS = (
    "global_step",
    "optimizer",
    "best_val_loss",
    "discriminator_state_dict",
    "discriminator_optimizer_state_dict",
)
# Bounds far above the released files (IR-SE-50: 24 blocks; 18 heads of at most 6 convs; opts
# hold about 60 entries) and far below anything that costs memory or time.
MAX_STATE_KEYS = 40_000
MAX_BLOCKS = 256
MAX_HEADS = 64
MAX_HEAD_CONVS = 16
MAX_OPTS = 1_000
MAX_OPT_STRING = 4_096
MAX_OPT_LIST = 1_000
MAX_STEPS = 100  # ReStyle's n_iters_per_batch (5 in the releases)
SE_REDUCTION = 16  # pSp's SEModule(depth, 16)


@dataclass(frozen=True)
class Variant:
    """One released encoder class and the ganinv encoder it maps onto."""

    encoder_type: str  # the released class name (opts['encoder_type'])
    name: str  # the registered ganinv encoder
    prefix: str  # the ganinv module holding input_layer and body
    fpn: bool  # latlayer1/2 and heads on c3/p2/p1 (pSp, e4e) or all heads on the last map
    progressive: bool  # w0 from head 0 plus delta_i from head i (e4e's scheme)
    residual: bool  # ReStyle: the input is the image and the current reconstruction
    input_nc: int  # channels of the stem's input


VARIANTS = {
    v.encoder_type: v
    for v in (
        Variant("GradualStyleEncoder", "psp", "pyramid", True, False, False, 3),
        Variant("Encoder4Editing", "e4e", "pyramid", True, True, False, 3),
        Variant("BackboneEncoder", "restyle_psp", "backbone", False, False, True, 6),
        Variant("ProgressiveBackboneEncoder", "restyle_e4e", "backbone", False, True, True, 6),
    )
}
_RESNET = (
    "a torchvision ResNet-34 backbone (ReStyle's and pSp's non-face releases); ganinv's pSp, "
    "e4e and ReStyle encoders are built on IR-SE blocks, so there is nothing to map it onto"
)
REFUSED = {
    "BackboneEncoderUsingLastLayerIntoW": "pSp's W encoder (one pooled code from the last "
    "stage); ganinv's psp is the feature-pyramid W+ encoder",
    "BackboneEncoderUsingLastLayerIntoWPlus": "pSp's W+ encoder from the last stage through one "
    "linear layer; ganinv's psp is the feature-pyramid W+ encoder",
    "ResNetGradualStyleEncoder": _RESNET,
    "ResNetBackboneEncoder": _RESNET,
    "ResNetProgressiveBackboneEncoder": _RESNET,
}


@dataclass
class Structure:
    """The encoder's shape as read from its tensors."""

    input_nc: int
    stem: int  # the stem's width (the first stage's input)
    blocks: list[tuple[int, int]]  # (in_channel, depth) of every body block, in order
    units: list[int]  # blocks per stage
    widths: list[int]  # each stage's width
    head_convs: list[int]  # stride-2 convs of each style head
    w_dim: int
    input_resolution: int
    style_split: tuple[int, int] | None  # (coarse_end, middle_end); None without the pyramid


@dataclass
class Release:
    """A released checkpoint, checked, split and described."""

    path: str
    variant: Variant
    opts: dict[str, Any]
    encoder: dict[str, torch.Tensor]  # released names without 'encoder.'
    decoder: dict[str, torch.Tensor]  # rosinality names without 'decoder.'
    latent_avg: torch.Tensor | None  # one [w_dim] vector (rows checked equal)
    structure: Structure
    start_from_latent_avg: bool
    steps: int | None  # ReStyle's n_iters_per_batch
    dropped: list[str] = field(default_factory=list)  # training-state keys left out


def _fail(path: Any, what: str) -> GanInvError:
    return GanInvError(f"{path}: {what}")


# -- reading ------------------------------------------------------------------------------------
def _check_opts(path: Any, opts: Any) -> dict[str, Any]:
    """'opts' as a dict of plain values, bounded (nothing in it is run or imported)."""
    if not isinstance(opts, dict):
        raise _fail(path, f"'opts' is a {type(opts).__name__}, expected a dict of options")
    if len(opts) > MAX_OPTS:
        raise _fail(path, f"'opts' holds {len(opts):,} entries (at most {MAX_OPTS:,})")

    def plain(value: Any) -> bool:
        if value is None or isinstance(value, (bool, int, float)):
            return True
        return isinstance(value, str) and len(value) <= MAX_OPT_STRING

    for key, value in opts.items():
        if not isinstance(key, str) or len(key) > 128:
            raise _fail(path, "'opts' has a key that is not a short string")
        flat = isinstance(value, (list, tuple)) and len(value) <= MAX_OPT_LIST
        if not (plain(value) or (flat and all(plain(v) for v in value))):
            raise _fail(
                path,
                f"'opts'[{key!r}] is a {type(value).__name__}, not a number, string, None or "
                "short flat list; not a pSp/e4e/ReStyle checkpoint",
            )
    return dict(opts)


def _variant(path: Any, opts: dict[str, Any]) -> Variant:
    kind = opts.get("encoder_type")
    if not isinstance(kind, str):
        raise _fail(
            path,
            "'opts' has no 'encoder_type' string; pSp's and e4e's state dicts have the same keys, "
            "so the released class must be named there (the released files do)",
        )
    if kind in REFUSED:
        raise _fail(path, f"encoder_type {kind!r} is {REFUSED[kind]}; it cannot be converted")
    if kind not in VARIANTS:
        raise _fail(
            path,
            f"encoder_type {kind[:60]!r} is not one ganinv converts (known: {sorted(VARIANTS)})",
        )
    return VARIANTS[kind]


def _int_opt(path: Any, opts: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = opts.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(path, f"'opts'[{key!r}] is {value!r}, expected a whole number {low}..{high}")
    return value


def read_release(path: Any) -> Release:
    """Load, check and describe a released checkpoint; one `GanInvError` line on any problem."""
    data = torch_load(path, str(path), kind="a pSp/e4e/ReStyle checkpoint")
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise _fail(path, "is not a pSp/e4e/ReStyle checkpoint (expected a dict)")
    missing = [k for k in ("state_dict", "opts") if k not in data]
    unknown = sorted(k for k in data if k not in RELEASE_KEYS + TRAINING_STATE_KEYS)
    if missing or unknown:
        raise _fail(
            path,
            f"is not a pSp/e4e/ReStyle checkpoint: missing top-level keys {missing}, unknown "
            f"{[k[:60] for k in unknown[:5]]} (expected {list(RELEASE_KEYS)})",
        )
    opts = _check_opts(path, data["opts"])
    variant = _variant(path, opts)
    raw = data["state_dict"]
    if isinstance(raw, dict) and len(raw) > MAX_STATE_KEYS:
        raise _fail(path, f"'state_dict' holds {len(raw):,} entries (at most {MAX_STATE_KEYS:,})")
    state = check_state(raw, f"{path}: 'state_dict'")
    strays = sorted(k for k in state if not k.startswith(("encoder.", "decoder.")))
    if strays:
        raise _fail(path, f"'state_dict' has keys outside encoder.* and decoder.*: {strays[:5]}")
    encoder = {k[len("encoder.") :]: v for k, v in state.items() if k.startswith("encoder.")}
    decoder = {k[len("decoder.") :]: v for k, v in state.items() if k.startswith("decoder.")}
    if not encoder or not decoder:
        raise _fail(path, "'state_dict' lacks the encoder.* or the decoder.* tensors")
    for key, value in encoder.items():
        if not value.is_floating_point() and not key.endswith("num_batches_tracked"):
            raise _fail(path, f"encoder.{key} has dtype {value.dtype}; expected floating point")
    structure = read_structure(path, encoder, variant)
    start = _start_from_latent_avg(path, opts, variant)
    latent_avg = _latent_avg(path, data.get("latent_avg"), structure, start)
    _check_opts_agree(path, opts, variant, structure)
    steps = _int_opt(path, opts, "n_iters_per_batch", 1, MAX_STEPS) if variant.residual else None
    return Release(
        path=str(path),
        variant=variant,
        opts=opts,
        encoder=encoder,
        decoder=decoder,
        latent_avg=latent_avg,
        structure=structure,
        start_from_latent_avg=start,
        steps=steps,
        dropped=sorted(k for k in data if k in TRAINING_STATE_KEYS),
    )


def _start_from_latent_avg(path: Any, opts: dict[str, Any], variant: Variant) -> bool:
    if variant.residual:
        return True  # ReStyle's first step always starts from latent_avg
    value = opts.get("start_from_latent_avg")
    if not isinstance(value, bool):
        raise _fail(path, "'opts' has no boolean 'start_from_latent_avg' (pSp and e4e save one)")
    if opts.get("learn_in_w") is True:
        raise _fail(path, "'opts' sets learn_in_w (pSp's W encoder); ganinv's psp predicts W+")
    return value


def _latent_avg(path: Any, value: Any, structure: Structure, needed: bool) -> torch.Tensor | None:
    """One [w_dim] vector: pSp stores latent_avg repeated per code ([n_styles, 512])."""
    if value is None:
        if needed:
            raise _fail(path, "has no 'latent_avg', which its encoder adds to every code")
        return None
    latent = check_tensor(value, f"{path}: 'latent_avg'")
    w_dim, count = structure.w_dim, len(structure.head_convs)
    if latent.dim() == 1 and latent.shape[0] == w_dim:
        return latent.float()
    if latent.dim() == 2 and latent.shape[1] == w_dim and latent.shape[0] in (1, count):
        if not torch.equal(latent, latent[:1].expand_as(latent)):
            raise _fail(
                path,
                "'latent_avg' holds different rows per code; ganinv's w_avg is one vector, so "
                "this encoder's codes cannot be reproduced",
            )
        return latent[0].float()
    raise _fail(
        path,
        f"'latent_avg' has shape {list(latent.shape)}; expected [{w_dim}] or [{count}, {w_dim}]",
    )


def _check_opts_agree(path: Any, opts: dict[str, Any], variant: Variant, s: Structure) -> None:
    """What 'opts' states must be what the tensors hold."""
    input_nc = _int_opt(path, opts, "input_nc", 1, 64)
    if input_nc is not None and input_nc != s.input_nc:
        raise _fail(path, f"'opts' says input_nc {input_nc}, the encoder's stem takes {s.input_nc}")
    n_styles = _int_opt(path, opts, "n_styles", 1, MAX_HEADS)
    if n_styles is not None and n_styles != len(s.head_convs):
        raise _fail(path, f"'opts' says n_styles {n_styles}, the encoder has {len(s.head_convs)}")
    if s.input_nc != variant.input_nc:
        if variant.encoder_type == "GradualStyleEncoder" and s.input_nc == 6:
            raise _fail(
                path,
                "holds ReStyle's FPN encoder (GradualStyleEncoder on 6 channels); ganinv's "
                "restyle_psp is ReStyle's BackboneEncoder, so it cannot be converted",
            )
        raise _fail(
            path,
            f"its {variant.encoder_type} takes {s.input_nc} input channels; ganinv's "
            f"{variant.name} takes {variant.input_nc} (an image-to-image pSp such as "
            "segmentation or sketch input has no ganinv counterpart)",
        )


def check_output_size(release: Release, resolution: int) -> None:
    """'opts' output_size (pSp, ReStyle) / stylegan_size (e4e) must be the decoder's."""
    for key in ("output_size", "stylegan_size"):
        size = _int_opt(release.path, release.opts, key, 4, 8192)
        if size is not None and size != resolution:
            raise _fail(release.path, f"'opts' says {key} {size}, the decoder is {resolution} px")


# -- the encoder's structure, from its shapes -------------------------------------------------
def _shape(path: Any, state: dict[str, torch.Tensor], key: str, rank: int) -> tuple[int, ...]:
    if key not in state:
        raise _fail(path, f"encoder.{key} is missing")
    shape = tuple(state[key].shape)
    if len(shape) != rank:
        raise _fail(path, f"encoder.{key} has shape {list(shape)}; expected {rank} dimensions")
    return shape


def _indices(path: Any, state: dict[str, torch.Tensor], pattern: str, limit: int, what: str) -> int:
    """How many consecutive indices 0..n-1 the keys matching `pattern` use."""
    found = {int(m.group(1)) for k in state if (m := re.fullmatch(pattern, k))}
    if len(found) > limit or (found and max(found) >= limit):
        raise _fail(path, f"the encoder has more than {limit} {what}")
    if found != set(range(len(found))):
        raise _fail(path, f"the encoder's {what} are not numbered 0..n-1: {sorted(found)[:8]}")
    return len(found)


def read_structure(path: Any, state: dict[str, torch.Tensor], variant: Variant) -> Structure:
    """Stem, IR-SE body and heads as the tensors describe them (exact keys checked later)."""
    stem, input_nc = _shape(path, state, "input_layer.0.weight", 4)[:2]
    count = _indices(path, state, r"body\.(\d+)\..*", MAX_BLOCKS, "body blocks")
    blocks = []
    for i in range(count):
        depth, in_channel = _shape(path, state, f"body.{i}.res_layer.1.weight", 4)[:2]
        blocks.append((in_channel, depth))
    # A stage starts where the width changes (a strided 1x1 conv shortcut, stride 2 in every
    # stage); the first stage starts at block 0 (its shortcut is a parameter-free max-pool).
    starts = [i for i, (cin, d) in enumerate(blocks) if i == 0 or cin != d]
    if len(starts) != 4:
        raise _fail(
            path,
            f"the encoder's IR-SE body has {len(starts)} stages (width changes), not 4; not the "
            "released IR-SE architecture",
        )
    units = [b - a for a, b in zip(starts, [*starts[1:], count])]
    widths = [blocks[a][1] for a in starts]
    if blocks[0][0] != stem or any(
        cin != d for i, (cin, d) in enumerate(blocks) if i not in starts
    ):
        raise _fail(path, "the encoder's body blocks do not chain (input width != previous width)")
    heads = _indices(path, state, r"styles\.(\d+)\..*", MAX_HEADS, "style heads")
    if heads == 0:
        raise _fail(path, "the encoder has no style heads (encoder.styles.*)")
    head_convs = []
    for j in range(heads):
        # convs.<2k> are the stride-2 convolutions, convs.<2k+1> their LeakyReLUs (no tensors).
        found = sorted(
            int(m.group(1))
            for k in state
            if (m := re.fullmatch(rf"styles\.{j}\.convs\.(\d+)\.weight", k))
        )
        if not found or found != list(range(0, 2 * len(found), 2)) or len(found) > MAX_HEAD_CONVS:
            raise _fail(
                path,
                f"style head {j} has convolutions at {found[:8]}; expected convs.0, convs.2, ... "
                f"(at most {MAX_HEAD_CONVS})",
            )
        head_convs.append(len(found))
    w_dim = _shape(path, state, "styles.0.linear.weight", 2)[0]
    first = head_convs[0]
    resolution = 16 * 2**first  # head 0 reads the R/16 map down to 1x1
    split = None
    if variant.fpn:
        coarse = head_convs.count(first)
        middle = coarse + head_convs.count(first + 1)
        expected = [first] * coarse + [first + 1] * (middle - coarse)
        expected += [first + 2] * (heads - middle)
        if head_convs != expected or first < 1:
            raise _fail(
                path,
                f"style heads have {head_convs} convolutions; pSp's pyramid reads R/16, R/8 and "
                "R/4 maps in that order (one more conv per level)",
            )
        split = (coarse, middle)
    elif any(n != first for n in head_convs):
        raise _fail(path, f"style heads have {head_convs} convolutions; ReStyle's all read R/16")
    return Structure(
        input_nc=input_nc,
        stem=stem,
        blocks=blocks,
        units=units,
        widths=widths,
        head_convs=head_convs,
        w_dim=w_dim,
        input_resolution=resolution,
        style_split=split,
    )


def released_encoder_layout(s: Structure, fpn: bool) -> dict[str, tuple[int, ...]]:
    """Every key and shape the released encoder class of structure `s` saves."""
    table: dict[str, tuple[int, ...]] = {}

    def batch_norm(prefix: str, channels: int) -> None:
        for name in ("weight", "bias", "running_mean", "running_var"):
            table[f"{prefix}.{name}"] = (channels,)
        table[f"{prefix}.num_batches_tracked"] = ()

    table["input_layer.0.weight"] = (s.stem, s.input_nc, 3, 3)
    batch_norm("input_layer.1", s.stem)
    table["input_layer.2.weight"] = (s.stem,)
    for i, (cin, depth) in enumerate(s.blocks):
        block = f"body.{i}"
        if cin != depth:
            table[f"{block}.shortcut_layer.0.weight"] = (depth, cin, 1, 1)
            batch_norm(f"{block}.shortcut_layer.1", depth)
        batch_norm(f"{block}.res_layer.0", cin)
        table[f"{block}.res_layer.1.weight"] = (depth, cin, 3, 3)
        table[f"{block}.res_layer.2.weight"] = (depth,)
        table[f"{block}.res_layer.3.weight"] = (depth, depth, 3, 3)
        batch_norm(f"{block}.res_layer.4", depth)
        table[f"{block}.res_layer.5.fc1.weight"] = (depth // SE_REDUCTION, depth, 1, 1)
        table[f"{block}.res_layer.5.fc2.weight"] = (depth, depth // SE_REDUCTION, 1, 1)
    top = s.widths[3]
    for j, convs in enumerate(s.head_convs):
        for k in range(convs):
            table[f"styles.{j}.convs.{2 * k}.weight"] = (s.w_dim, top if k == 0 else s.w_dim, 3, 3)
            table[f"styles.{j}.convs.{2 * k}.bias"] = (s.w_dim,)
        table[f"styles.{j}.linear.weight"] = (s.w_dim, s.w_dim)
        table[f"styles.{j}.linear.bias"] = (s.w_dim,)
    if fpn:
        table["latlayer1.weight"] = (top, s.widths[2], 1, 1)
        table["latlayer1.bias"] = (top,)
        table["latlayer2.weight"] = (top, s.widths[1], 1, 1)
        table["latlayer2.bias"] = (top,)
    return table


def check_encoder_keys(release: Release) -> None:
    """The file's encoder tensors are exactly the released class's: names and shapes."""
    want = released_encoder_layout(release.structure, release.variant.fpn)
    have = {k: tuple(v.shape) for k, v in release.encoder.items()}
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    wrong = sorted(k for k in set(want) & set(have) if want[k] != have[k])
    if missing or extra or wrong:
        detail = (
            f"missing {['encoder.' + k for k in missing[:4]]}"
            if missing
            else f"unexpected {['encoder.' + k for k in extra[:4]]}"
            if extra
            else f"encoder.{wrong[0]} is {list(have[wrong[0]])}, expected {list(want[wrong[0]])}"
        )
        hint = (
            "; ganinv's encoders use IR-SE blocks (pSp's 'ir_se' mode)"
            if any(".res_layer.5." in k for k in missing)
            else ""
        )
        raise _fail(
            release.path,
            f"the encoder tensors are not the released {release.variant.encoder_type} layout "
            f"({detail}){hint}; the file is damaged or another architecture",
        )


# -- onto ganinv ----------------------------------------------------------------------------------
def encoder_spec(release: Release) -> dict[str, Any]:
    """The ganinv encoder spec with the structure read from the file (inference settings)."""
    s, variant = release.structure, release.variant
    standard = s.units == [3, 4, 14, 3] and s.widths == [64, 128, 256, 512]
    spec: dict[str, Any] = {"name": variant.name, "input_resolution": s.input_resolution}
    if standard:
        spec["num_layers"] = 50
    else:
        spec.update(num_layers=None, units=list(s.units), widths=list(s.widths))
    if variant.fpn:
        assert s.style_split is not None
        spec["style_split"] = list(s.style_split)
        spec["start_from_latent_avg"] = release.start_from_latent_avg
    if variant.residual:
        steps = release.steps or 5  # ReStyle's default n_iters_per_batch
        spec.update(train_steps=steps, inference_steps=steps)
    if variant.progressive:
        # The released encoders run at e4e's Inference stage: every delta_i on. The latent
        # discriminator is a training term; inversion does not need it.
        spec.update(progressive_start=None, w_discriminator=False)
    return spec


def encoder_tensors(release: Release) -> dict[str, torch.Tensor]:
    """The released encoder tensors under ganinv's names (the module names inside are pSp's)."""
    prefix = release.variant.prefix
    out: dict[str, torch.Tensor] = {}
    storages: set[int] = set()
    for key, value in release.encoder.items():
        top = key.split(".", 1)[0]
        name = key if top == "styles" else f"{prefix}.{key}"
        # A file may store two names over one storage; safetensors refuses shared memory.
        storage = value.untyped_storage().data_ptr()
        out[name] = value.clone() if storage in storages else value.contiguous()
        storages.add(storage)
    if release.variant.progressive:
        # e4e's schedule counter: unused without a schedule, saved with the weights.
        out["trained_steps"] = torch.zeros((), dtype=torch.long)
    return out


class _Reads(dict):
    """A state dict that records which keys were read, so none is silently left out."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__(state)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> torch.Tensor:
        self.read.add(key)
        return super().__getitem__(key)


def decoder_generator(release: Release) -> Any:
    """The decoder as ganinv's StyleGAN2 generator with w_avg = latent_avg (every key used)."""
    from ganinv.checkpoints.rosinality import estimate_w_avg, generator_state_to_ours
    from ganinv.checkpoints.state import build_network, load_exact
    from ganinv.stylegan2.generator import StyleGAN2Generator

    state = _Reads(release.decoder)
    try:
        config, ours = generator_state_to_ours(state)
    except GanInvError as exc:
        raise _fail(release.path, f"decoder: {exc}") from exc
    unused = sorted(set(release.decoder) - state.read)
    if unused:
        raise _fail(
            release.path,
            f"decoder tensors {['decoder.' + k for k in unused[:4]]} are not part of a "
            "rosinality StyleGAN2 generator; the file is damaged or another architecture",
        )
    w_dim = int(config["w_dim"])
    if release.structure.w_dim != w_dim:
        raise _fail(
            release.path,
            f"the style heads output {release.structure.w_dim} values, the decoder's w is {w_dim}",
        )
    latent = release.latent_avg
    ours["w_avg"] = latent if latent is not None else torch.zeros(w_dim)
    shapes = {k: tuple(v.shape) for k, v in ours.items()}
    what = f"{release.path} decoder"
    generator = build_network("generator/stylegan2", StyleGAN2Generator, config, shapes, what)
    load_exact(generator, ours, what)
    if latent is None:  # pSp/e4e without start_from_latent_avg: w_avg only for truncation
        warnings.warn(
            f"{release.path} has no 'latent_avg'; the generator's w_avg was estimated from "
            "random z (the encoder does not use it)",
            stacklevel=2,
        )
        generator.w_avg.copy_(estimate_w_avg(generator))
    if generator.num_ws != len(release.structure.head_convs):
        raise _fail(
            release.path,
            f"the encoder has {len(release.structure.head_convs)} style heads, the "
            f"{generator.resolution} px decoder takes {generator.num_ws} codes",
        )
    check_output_size(release, generator.resolution)
    return generator.eval().requires_grad_(False)


def check_against_ganinv(release: Release, generator: Any, tensors: dict[str, Any]) -> None:
    """ganinv's encoder of the spec, built on the meta device (nothing allocated), must hold
    exactly `tensors`: the same names and shapes."""
    from ganinv.core.components import build_component

    spec = encoder_spec(release)
    space = build_component("spaces", "wplus", generator=generator)
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            probe = build_component("encoders", spec, space=space, generator=generator)
    except GanInvError:
        raise
    except Exception as exc:
        raise _fail(release.path, f"ganinv's {spec['name']} refuses {spec}: {exc}") from exc
    have = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
    want = {k: tuple(v.shape) for k, v in tensors.items()}
    if have != want:
        missing = sorted(set(have) - set(want))[:3]
        extra = sorted(set(want) - set(have))[:3]
        wrong = sorted(k for k in set(have) & set(want) if have[k] != want[k])[:3]
        raise _fail(
            release.path,
            f"ganinv's {spec['name']} does not hold the converted tensors (its own keys missing "
            f"from the file: {missing}, file keys it lacks: {extra}, shapes differ: {wrong}); "
            "report this with the file's encoder_type",
        )


# -- telling a released checkpoint from a rosinality one, cheaply ---------------------------
_STRING_OPS = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE"}
MAX_PEEK_OPS = 2_000_000
MAX_PEEK_BYTES = 256 << 20  # the pickle record (a released file's is about 100 kB)


def looks_like_release(path: Any) -> bool:
    """Whether a torch zip file's pickle names 'state_dict', 'opts' and encoder.* or decoder.*
    keys: which reader `ganinv convert` hands it to. Only the small pickle record is walked
    (opcode by opcode, nothing built); `read_release` then checks the file fully."""
    import pickletools
    import zipfile

    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive:
            records = [n for n in archive.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
            if len(records) != 1:
                return False
            info = archive.getinfo(records[0])
            # torch stores records uncompressed; anything else could inflate without bound.
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > MAX_PEEK_BYTES:
                return False
            strings: set[str] = set()
            with archive.open(records[0]) as stream:
                for count, (op, arg, _) in enumerate(pickletools.genops(stream)):
                    if count > MAX_PEEK_OPS:
                        return False
                    if op.name in _STRING_OPS and isinstance(arg, str) and len(arg) < 256:
                        strings.add(arg)
    except Exception:  # any damage: not routed here; the rosinality reader reports it
        return False
    return {"state_dict", "opts"} <= strings and any(
        s.startswith(("encoder.", "decoder.")) for s in strings
    )
