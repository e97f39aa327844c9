"""Asset cards: one YAML file per public asset a reproduction needs (`registry/<name>.yaml`).

A card says what the asset is, where the public file comes from, its licence, the layout it is
published in and whether ganinv reads that layout (and if not, what conversion is needed), the
published sha256 when there is one (never invented: null plus a note saying where we looked), and
which facts were verified from the research dossier versus taken on trust.

Three shapes, by ``kind``:

- ``generator`` / ``encoder`` / ``network`` with a ``file`` section: a file the user places in
  the assets directory (``--assets``, default ``assets/``) under ``file.filename``;
- ``network`` with ``weights_catalog``: files managed by the weights cache (`ganinv.weights`); the
  file name and hash live in its catalogue (not repeated here) and ``ganinv weights`` installs them;
- ``dataset`` with a ``dataset`` section: a zip, LMDB or image folder under the data directory
  (``--data``, default ``data/``) named ``dataset.path_name``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ganinv.core.config import NonNegativeInt, PositiveInt, from_dict, read_yaml
from ganinv.core.errors import GanInvError

# Layouts a file card can state. READABLE_FORMATS are the ones ganinv loads today.
FileFormat = Literal[
    "nvlabs",  # stylegan2-ada-pytorch / stylegan3 network pickle (read by a safe unpickler)
    "rosinality",  # rosinality stylegan2-pytorch .pt
    "native",  # ganinv .safetensors networks
    "psp_checkpoint",  # pSp / e4e training checkpoint {'state_dict', 'opts', 'latent_avg'}
    "ganinv_encoder",  # an encoder exported by `ganinv train` (safetensors weights + its specs)
    "ganinv_classifier",  # the editability benchmark's classifier (ganinv.nets.fmnist_classifier)
    "ganinv_direction",  # an edit-direction file (ganinv.checkpoints.direction_file)
    "hammer",  # Hammer / genforce .pth {'models': {...}} (PadInv's release): not readable yet
    "tf_pickle",  # official TensorFlow StyleGAN2 .pkl: not readable (needs a conversion)
    "torch_checkpoint",  # a method's own torch .pt (e.g. StyleFeatureEditor's): not readable
]
READABLE_FORMATS = (
    "nvlabs",
    "rosinality",
    "native",
    "psp_checkpoint",
    "ganinv_encoder",
    "ganinv_classifier",
    "ganinv_direction",
)
CARD_KINDS = ("generator", "encoder", "network", "dataset")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]+")


@dataclass
class FileFacts:
    """A single published file.

    filename:      the name the file is expected under in the assets directory
    format:        its layout (see `FileFormat`)
    size_bytes:    the published size, when a source states it (null otherwise)
    sha256:        the published sha256 (full 64 hex digits), null when none is published
    sha256_prefix: a published prefix (torch.hub file names carry one), when that is all there is
    sha256_note:   where we looked for a published hash (required when `sha256` is null)
    expect:        facts checked after loading: resolution, num_ws, w_dim, z_dim of a generator;
                   encoder and space (registered names) of an exported encoder
    url:           where the public file is, for `ganinv weights download NAME` (null: no direct
                   link, e.g. a Google Drive page)
    """

    filename: str
    format: FileFormat
    size_bytes: NonNegativeInt | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None
    sha256_note: str = ""
    expect: dict[str, Any] = field(default_factory=dict)
    url: str | None = None


@dataclass
class DatasetFacts:
    """A data set as the recipes read it.

    path_name:  the file or folder name under the data directory
    format:     zip, lmdb or folder (what `ganinv.data` reads)
    count:      the number of images the split must hold (null when not pinned down)
    resolution: the side of the stored images, when fixed (null: mixed or unknown)
    split:      which part of the public data set this is
    prepare:    how to build this file from the public download
    """

    path_name: str
    format: Literal["zip", "lmdb", "folder"]
    split: str
    prepare: str
    count: PositiveInt | None = None
    resolution: PositiveInt | None = None


@dataclass
class Provenance:
    """Which facts were checked and where (`verified`), which were not (`unverified`)."""

    verified: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    looked_at: list[str] = field(default_factory=list)


@dataclass
class AssetCard:
    """One public asset (see the module docstring for the three shapes).

    used_for: what ganinv does with it
    obtain:   how a user gets it (nothing is ever downloaded by ganinv)
    readable: whether ganinv loads the published layout as is
    convert:  the conversion to a readable layout (required when `readable` is false)
    """

    name: str
    kind: Literal["generator", "encoder", "network", "dataset"]
    title: str
    used_for: str
    source: str
    licence: str
    obtain: str
    provenance: Provenance
    readable: bool = True
    convert: str = ""
    file: FileFacts | None = None
    weights_catalog: list[str] = field(default_factory=list)
    dataset: DatasetFacts | None = None
    notes: list[str] = field(default_factory=list)


def validate_card(card: AssetCard, stem: str | None = None) -> AssetCard:
    """Rules the types alone do not express; raises `GanInvError` naming the card and the rule."""
    where = f"card {card.name!r}"

    def fail(message: str) -> GanInvError:
        return GanInvError(f"{where}: {message}")

    if stem is not None and card.name != stem:
        raise fail(f"its name must equal its file name {stem!r}.yaml")
    shapes = [card.file is not None, bool(card.weights_catalog), card.dataset is not None]
    if sum(shapes) != 1:
        raise fail("needs exactly one of 'file', 'weights_catalog' or 'dataset'")
    if (card.kind == "dataset") != (card.dataset is not None):
        raise fail("a 'dataset' section goes with kind 'dataset' (and only with it)")
    if card.file is not None:
        facts = card.file
        if facts.sha256 is not None and not _SHA256.fullmatch(facts.sha256):
            raise fail("file.sha256 must be 64 lowercase hex digits or null")
        if facts.sha256_prefix is not None and not _HEX.fullmatch(facts.sha256_prefix):
            raise fail("file.sha256_prefix must be lowercase hex digits")
        if facts.url is not None and not facts.url.startswith(("https://", "http://")):
            raise fail("file.url must be an http(s) address or null")
        if facts.sha256 is None and not facts.sha256_note.strip():
            raise fail("file.sha256 is null: say in file.sha256_note where you looked for one")
        if card.readable != (facts.format in READABLE_FORMATS):
            raise fail(
                f"readable: {card.readable} contradicts format {facts.format!r} (readable "
                f"formats: {', '.join(READABLE_FORMATS)})"
            )
    if card.weights_catalog:
        from ganinv.weights.catalog import CATALOG

        unknown = [n for n in card.weights_catalog if n not in CATALOG]
        if unknown:
            raise fail(f"weights_catalog names {unknown} are not in ganinv.weights.catalog")
    if not card.readable and not card.convert.strip():
        raise fail("readable is false: say in 'convert' what conversion makes it usable")
    if not card.provenance.verified and not card.provenance.unverified:
        raise fail("provenance must list verified and/or unverified facts")
    return card


def load_card(path: str | Path) -> AssetCard:
    """One card from its YAML file, validated strictly."""
    path = Path(path)
    try:
        card = from_dict(AssetCard, read_yaml(path))
    except GanInvError as exc:
        raise GanInvError(f"{path}: {exc}") from exc
    return validate_card(card, stem=path.stem)


def load_registry(directory: str | Path) -> dict[str, AssetCard]:
    """Every card of a registry directory (``*.yaml``, recursively), by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise GanInvError(
            f"registry directory {str(directory)!r} does not exist; run from the repository root "
            "or pass --registry DIR"
        )
    cards: dict[str, AssetCard] = {}
    for path in sorted(directory.rglob("*.yaml")):
        card = load_card(path)
        if card.name in cards:
            raise GanInvError(f"two cards are named {card.name!r} in {directory}")
        cards[card.name] = card
    return cards
