"""Assets by name: a registry card names a file, and `asset_path("demo_psp")` finds that file.

Cards are looked up in these folders, first match wins:

1. the folders in ``$GANINV_REGISTRY`` (separated by ``os.pathsep``);
2. the ``registry/`` folder of a source checkout (beside the ``ganinv`` package);
3. the folders installed distributions declare under the entry-point group
   ``ganinv.asset_registries`` (an entry point names a module; its folder's ``registry/`` holds
   cards and files, as the ``ganinv-demo-assets`` wheel does).

A config that names its networks by card name can ship beside the cards: ``ganinv bench
demo/bench`` reads ``<registry folder>/../configs/demo/bench.yaml`` when no such file exists
from the working folder (`config_path`).

The file a card describes is ``<card folder>/assets/<file.filename>`` (files shipped with their
cards: the demo networks), else ``assets/<file.filename>`` from the working folder (where
`ganinv weights download` and the paper recipes put public files). A card giving a sha256 is
checked against the file once per process and file version.

Cards are data: only ``name``, ``kind``, ``title``, ``licence`` and ``file.{filename, sha256}``
are read here (the full validation is `ganinv.reproduce.cards`), and a card's file name must stay
inside its folder.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from ganinv.core.errors import GanInvError

REGISTRY_ENV = "GANINV_REGISTRY"
ENTRY_POINT_GROUP = "ganinv.asset_registries"
_MAX_CARD_BYTES = 1 << 20
# (path, size, mtime_ns) -> sha256 already checked in this process.
_CHECKED: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class Asset:
    """One card that names a file.

    path: the file if it is present (None: the card is known, its file is not here)
    """

    name: str
    kind: str
    title: str
    licence: str
    filename: str
    sha256: str | None
    card: Path
    path: Path | None


def registry_folders() -> list[Path]:
    """Every folder cards are looked up in, in order (only existing folders)."""
    given = os.environ.get(REGISTRY_ENV, "").split(os.pathsep)
    folders = [Path(p).expanduser() for p in given if p]
    folders.append(Path(__file__).resolve().parents[2] / "registry")
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:  # where the module is, without importing (running) it
            spec = _module_folder(entry.value)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            folders.append(spec / "registry")
    seen: list[Path] = []
    for folder in folders:
        if folder.is_dir() and folder.resolve() not in [s.resolve() for s in seen]:
            seen.append(folder)
    return seen


def _module_folder(module: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(module.split(":")[0])
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _read_card(path: Path) -> dict[str, Any] | None:
    import yaml

    try:
        if path.stat().st_size > _MAX_CARD_BYTES:
            return None
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _asset(card_path: Path, data: dict[str, Any]) -> Asset | None:
    facts = data.get("file")
    if not isinstance(facts, dict) or not isinstance(facts.get("filename"), str):
        return None
    filename = facts["filename"]
    parts = PurePosixPath(filename).parts
    if not parts or PurePosixPath(filename).is_absolute() or ".." in parts:
        return None  # a card may only name a file inside its folders
    sha = facts.get("sha256") if isinstance(facts.get("sha256"), str) else None
    candidates = [card_path.parent / "assets" / filename, Path("assets") / filename]
    path = next((p for p in candidates if p.is_file()), None)
    return Asset(
        name=card_path.stem,
        kind=str(data.get("kind", "")),
        title=str(data.get("title", "")),
        licence=str(data.get("licence", "")),
        filename=filename,
        sha256=sha,
        card=card_path,
        path=path,
    )


def list_assets() -> list[Asset]:
    """Every card that names a file, from every registry folder (first folder wins a name)."""
    found: dict[str, Asset] = {}
    for folder in registry_folders():
        for card in sorted(folder.glob("*.yaml")):
            if card.stem in found:
                continue
            data = _read_card(card)
            asset = _asset(card, data) if data is not None else None
            if asset is not None:
                found[card.stem] = asset
    return list(found.values())


def find_asset(name: str) -> Asset | None:
    """The card called `name`, or None."""
    if not name or os.sep in name or (os.altsep and os.altsep in name) or name.startswith("."):
        return None
    for folder in registry_folders():
        card = folder / f"{name}.yaml"
        if card.is_file():
            data = _read_card(card)
            return _asset(card, data) if data is not None else None
    return None


def asset_path(name: str, kind: str | None = None) -> Path:
    """The verified local file of the card `name` (of `kind` when given)."""
    asset = find_asset(name)
    if asset is None:
        names = [a.name for a in list_assets() if kind is None or a.kind == kind]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise GanInvError(
            f"no asset called {name!r}: {hint}`ganinv weights list` shows every name "
            f"(cards in {', '.join(map(str, registry_folders())) or 'no registry folder'})"
        )
    if kind is not None and asset.kind != kind:
        raise GanInvError(f"asset {name!r} is a {asset.kind or 'card'}, not a {kind}")
    if asset.path is None:
        raise GanInvError(
            f"asset {name!r} ({asset.title}) names {asset.filename!r}, which is not here: put it "
            f"at {asset.card.parent / 'assets' / asset.filename} or assets/{asset.filename} "
            f"(`ganinv weights download {name}` where the card gives a link; how to get it: "
            f"{asset.card})"
        )
    if asset.sha256:
        _check(asset)
    return asset.path


def _check(asset: Asset) -> None:
    assert asset.path is not None
    info = asset.path.stat()
    key = (str(asset.path.resolve()), info.st_size, info.st_mtime_ns)
    if _CHECKED.get(key) == asset.sha256:
        return
    digest = hashlib.sha256()
    with open(asset.path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    sha = digest.hexdigest()
    if sha != asset.sha256:
        raise GanInvError(
            f"{asset.path} has sha256 {sha[:16]}..., but its card {asset.card} says "
            f"{asset.sha256[:16]}...: the file was replaced or is corrupted; restore it"
        )
    _CHECKED[key] = sha


def config_path(name: str) -> Path | None:
    """A config shipped beside a registry folder (``demo/bench`` ->
    ``<registry folder>/../configs/demo/bench.yaml``), or None."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        return None
    for folder in registry_folders():
        candidate = folder.parent / "configs" / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


def config_file(given: str) -> str:
    """`given` when it is a file; else the config of that name shipped beside the cards
    (`config_path`); else `given` unchanged (the reader then says it does not exist)."""
    if os.path.exists(given):
        return given
    shipped = config_path(given.removesuffix(".yaml"))
    return str(shipped) if shipped is not None else given


def resolve_file(value: str) -> str:
    """`value` itself when it is a path, else the verified file of the card it names."""
    return str(asset_path(value)) if looks_like_name(value) else value


def looks_like_name(value: str | os.PathLike[str]) -> bool:
    """A bare word (no folder separator, no file suffix) that is not an existing path."""
    text = str(value)
    return (
        bool(text)
        and not (os.sep in text or (os.altsep and os.altsep in text))
        and not Path(text).suffix
        and not Path(text).exists()
    )
