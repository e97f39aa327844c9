"""Exported encoder files (``encoder_*.safetensors``): the weights plus the specs that rebuild them.

The header is data, read as if someone hostile wrote it:

- nothing in it is imported or run. The modules a training config imported are kept only to word
  the error when a component is missing; the component must come from an installed plugin or from
  the user's own ``method.imports``;
- every value is checked (types, sizes) and one bad value is one `GanInvError` line naming the
  file and the field;
- the network it describes is first built on the ``meta`` device (no memory) and must hold exactly
  the file's tensors before a real one is built, so a few bytes of header cannot allocate gigabytes;
- paths in it (the generator, a base encoder) are stored relative to the file itself, so an
  exported encoder works from any working folder as long as the files keep their relative places.

Header fields (strings, as safetensors requires):
  format:  "ganinv-encoder"
  method:  JSON {generator, space, encoder, paths, components, exported_with_imports}
           paths: dotted keys of the values that are paths relative to this file
           components: {space|encoder: {name, distribution}} that provided them at export
  info:    JSON object (training step, best metric, ...), shown to the user only
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.registry import registry
from ganinv.core.safetensors_io import TensorInfo, read_table, read_tensors, write_file
from ganinv.core.space import InversionSpace

FORMAT = "ganinv-encoder"
SPEC_FIELDS = ("generator", "space", "encoder")
METHOD_KEYS = (*SPEC_FIELDS, "paths", "components", "exported_with_imports", "imports")
# Bounds on the JSON a header may hold: far above any real spec, far below what costs memory.
MAX_FIELD_CHARS = 1_000_000
MAX_DEPTH = 12
MAX_NODES = 10_000
MAX_STRING = 4096
# What a network may hold beyond the file's tensors: helper networks a component loads from its
# own registered weights and keeps out of its state dict (latent-map's torchvision VGG16: 32
# tensors), and non-persistent buffers (values). Exported base encoders (SDIC's e4e) are counted
# against their own file.
EXTRA_TENSORS = 10_000
EXTRA_VALUES = 1 << 24
LOADABLE_DTYPES = ("F16", "BF16", "F32", "F64", "I8", "I16", "I32", "I64", "U8", "BOOL")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_DISTRIBUTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,127}")
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_KINDS = {"space": "spaces", "encoder": "encoders"}

Spec = str | dict[str, Any]


@dataclass
class EncoderHeader:
    """A validated header; path values are already resolved against the file's folder."""

    path: Path
    generator: str | None
    space: Spec
    encoder: Spec
    tensors: dict[str, TensorInfo]
    components: dict[str, dict[str, str]] = field(default_factory=dict)
    exported_with_imports: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    relative: list[str] = field(default_factory=list)  # dotted keys stored relative to the file

    def specs(self) -> dict[str, Any]:
        return {"generator": self.generator, "space": self.space, "encoder": self.encoder}


# -- writing --------------------------------------------------------------------------------------
def names_a_file(value: Any) -> bool:
    """Whether a spec value is a path to an existing file (as the loaders would read it now).

    Only strings that look like paths (a separator or a suffix) count, so a registered name that
    happens to match a file in the working folder stays a name.
    """
    if not isinstance(value, str) or not value or "\0" in value:
        return False
    try:
        if "/" not in value and os.sep not in value and not Path(value).suffix:
            return False
        return Path(value).expanduser().is_file()
    except (OSError, RuntimeError, ValueError):  # e.g. "~nobody/x": no such home folder
        return False


def _walk(value: Any, key: str, dotted: bool = False) -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf) of every leaf of a JSON-like tree. Keys that hold a dot are skipped
    unless `dotted` (a dotted key cannot name them, so they are never stored as paths)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if dotted or "." not in k:
                yield from _walk(v, f"{key}.{k}", dotted)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{key}.{i}", dotted)
    else:
        yield key, value


def _set(tree: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node: Any = tree
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def _distribution(kind: str, name: str) -> str | None:
    """The distribution that provides a component; None for one a config's module registered
    (the registry files those under "ganinv")."""
    for entry in registry(kind).info(try_load=False):
        if entry.name == name:
            ours = entry.target.split(".")[0].split(":")[0] == "ganinv"
            return entry.distribution if entry.distribution != "ganinv" or ours else None
    return None


def write_encoder_file(
    path: str | os.PathLike[str],
    tensors: dict[str, torch.Tensor],
    specs: dict[str, Any],
    info: dict[str, Any] | None = None,
    exported_with_imports: list[str] | None = None,
) -> Path:
    """Write weights and specs {generator, space, encoder}; file paths among the specs are
    stored relative to `path`'s folder."""
    path = Path(path)
    method: dict[str, Any] = json.loads(json.dumps({k: specs.get(k) for k in SPEC_FIELDS}))
    folder = os.path.abspath(path.parent)
    relative = []
    for key, value in [kv for f in SPEC_FIELDS for kv in _walk(method[f], f)]:
        if names_a_file(value):
            try:
                _set(method, key, os.path.relpath(os.path.abspath(value), folder))
            except ValueError:  # another drive (Windows): keep it absolute
                continue
            relative.append(key)
    method["paths"] = relative
    method["components"] = {}
    for kind, spec in ((k, method[k]) for k in _KINDS):
        name = spec if isinstance(spec, str) else spec["name"]
        method["components"][kind] = {"name": name}
        distribution = _distribution(_KINDS[kind], name)
        if distribution:
            method["components"][kind]["distribution"] = distribution
    method["exported_with_imports"] = list(exported_with_imports or [])
    header = {"format": FORMAT, "method": json.dumps(method), "info": json.dumps(info or {})}
    return write_file(path, tensors, header)


# -- reading --------------------------------------------------------------------------------------
def _printable(text: str, limit: int = 200) -> str:
    """Header text as one printable line (control characters escaped), shortened."""
    text = text if text.isprintable() else ascii(text)[1:-1]
    return text if len(text) <= limit else text[:limit] + "..."


def _bad(path: Path, field_name: str, what: str) -> GanInvError:
    field_name, what = _printable(field_name), _printable(what, 400)
    return GanInvError(
        f"exported encoder {str(path)!r}: header field {field_name} {what}; the file is damaged "
        "or was not written by `ganinv train` (export it again)"
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_json(path: Path, field_name: str, text: str) -> Any:
    if len(text) > MAX_FIELD_CHARS:
        raise _bad(path, field_name, f"is {len(text)} characters (at most {MAX_FIELD_CHARS})")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, deep nesting
        detail = " ".join(str(exc).split())[:200]
        raise _bad(path, field_name, f"is not valid JSON ({detail})") from exc


def _check_tree(path: Path, field_name: str, value: Any) -> None:
    """JSON types only, bounded depth, count and string length."""
    nodes = 0
    stack: list[tuple[Any, str, int]] = [(value, field_name, 0)]
    while stack:
        node, where, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            raise _bad(path, field_name, f"nests deeper than {MAX_DEPTH} or holds too many values")
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}", depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{where}.{i}", depth + 1) for i, v in enumerate(node))
        elif isinstance(node, str):
            if len(node) > MAX_STRING or "\0" in node:
                raise _bad(path, where, "holds an overlong string or a NUL character")
        elif not (node is None or isinstance(node, (bool, int, float))):
            raise _bad(path, where, f"holds a {type(node).__name__}")


def _check_spec(path: Path, field_name: str, spec: Any) -> Spec:
    name = spec.get("name") if isinstance(spec, dict) else spec
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _bad(path, field_name, "must be a registered name or a mapping with a 'name'")
    return spec


def _no_special_files(path: Path, method: dict[str, Any]) -> None:
    """A spec value naming a FIFO, device or socket would make a constructor block or read
    without end: refused (regular files and folders pass; their readers check them)."""
    for key, value in [kv for f in SPEC_FIELDS for kv in _walk(method.get(f), f, dotted=True)]:
        if not isinstance(value, str) or ("/" not in value and os.sep not in value):
            continue
        try:
            mode = os.stat(os.path.expanduser(value)).st_mode
        except (OSError, ValueError):
            continue  # absent: the reader that needs it says so
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise _bad(path, f"method.{key}", "names a special file (FIFO, device or socket)")


def _string_list(path: Path, field_name: str, value: Any, pattern: re.Pattern[str]) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and pattern.fullmatch(v) for v in value
    ):
        raise _bad(path, field_name, "must be a list of names")
    return value


def _resolve_paths(path: Path, method: dict[str, Any], keys: Any) -> list[str]:
    """Replace each listed value by the path it names relative to the file's folder."""
    keys = _string_list(path, "method.paths", keys, re.compile(r"[A-Za-z0-9_.]{1,256}"))
    folder = os.path.abspath(path.parent)
    for key in keys:
        parts = key.split(".")
        node: Any = method
        for part in parts:
            if isinstance(node, dict) and part in node and parts[0] in SPEC_FIELDS:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise _bad(path, "method.paths", f"names {key!r}, which the specs do not hold")
        if not isinstance(node, str) or not node or os.path.isabs(node):
            raise _bad(path, f"method.{key}", "must be a path relative to the file")
        _set(method, key, os.path.normpath(os.path.join(folder, node)))
    return keys


def _components(path: Path, value: Any) -> dict[str, dict[str, str]]:
    ok = isinstance(value, dict) and set(value) <= set(_KINDS)
    for entry in value.values() if ok else ():
        ok = ok and isinstance(entry, dict) and set(entry) <= {"name", "distribution"}
        ok = ok and all(
            isinstance(v, str) and (_NAME if k == "name" else _DISTRIBUTION).fullmatch(v)
            for k, v in entry.items()
        )
    if not ok:
        raise _bad(path, "method.components", "must map space/encoder to {name, distribution}")
    return value


def read_encoder_header(path: str | os.PathLike[str]) -> EncoderHeader:
    """The validated header and tensor table of an exported encoder (no tensor data read)."""
    path = Path(path)
    header, table = read_table(path, "encoder checkpoint")
    if header.get("format") != FORMAT:
        raise GanInvError(
            f"{str(path)!r} is not an encoder exported by `ganinv train` (no "
            f"'format: {FORMAT}' in its header)"
        )
    if "method" not in header:
        raise _bad(path, "method", "is missing")
    method = _parse_json(path, "method", header["method"])
    info = _parse_json(path, "info", header.get("info", "{}"))
    for field_name, value in (("method", method), ("info", info)):
        if not isinstance(value, dict):
            raise _bad(path, field_name, "must be a JSON object")
        _check_tree(path, field_name, value)
    unknown = sorted(set(method) - set(METHOD_KEYS))
    if unknown:
        raise _bad(path, f"method.{unknown[0]}", "is not a field ganinv writes")
    for key in ("space", "encoder"):
        if key not in method:
            raise _bad(path, f"method.{key}", "is missing")
        _check_spec(path, f"method.{key}", method[key])
    generator = method.get("generator")
    if generator is not None and (not isinstance(generator, str) or not generator):
        raise _bad(path, "method.generator", "must be a checkpoint path or a weights name")
    relative = _resolve_paths(path, method, method.get("paths", []))
    _no_special_files(path, method)
    for name, info_ in table.items():
        if info_.dtype not in LOADABLE_DTYPES:
            raise _bad(path, f"tensor {name!r}", f"has dtype {info_.dtype}, not a weight type")
    # Old files call it "imports"; either way it is only quoted in error messages.
    imports = method.get("exported_with_imports", method.get("imports", []))
    return EncoderHeader(
        path=path,
        generator=method.get("generator"),
        space=method["space"],
        encoder=method["encoder"],
        tensors=table,
        components=_components(path, method.get("components", {})),
        exported_with_imports=_string_list(path, "method.exported_with_imports", imports, _MODULE),
        info=info,
        relative=relative,
    )


def check_generator_present(header: EncoderHeader) -> None:
    """The generator a header names beside the file must be there (or the user names another)."""
    if "generator" in header.relative and not Path(str(header.generator)).exists():
        raise GanInvError(
            f"exported encoder {str(header.path)!r} (header field method.generator) was trained "
            f"on {str(header.generator)!r}, stored relative to the encoder file, which is not "
            "there: keep the two files in the same relative places, or set method.generator"
        )


def check_registered(header: EncoderHeader, part: str, spec: Spec) -> None:
    """A clear error when the component a file needs is not installed (nothing is imported)."""
    name = spec if isinstance(spec, str) else spec["name"]
    if name in registry(_KINDS[part]):
        return
    recorded = header.components.get(part, {})
    where = f"exported encoder {str(header.path)!r} (header field method.{part})"
    message = f"{where} needs the {part} {name!r}, which no installed plugin registers"
    if recorded.get("name") == name and recorded.get("distribution"):
        message += f"; install the distribution {recorded['distribution']!r} that provided it"
    else:
        message += "; install the plugin that provides it (`ganinv plugins` lists what is here)"
    if header.exported_with_imports:
        message += (
            f". It was exported with method.imports {header.exported_with_imports}; ganinv never "
            "imports what a file names: if you trust that code, add it to your own config's "
            "method.imports (or imports=[...] on the command line)"
        )
    raise GanInvError(message)


# -- building the network a header describes, bounded -------------------------------------------
class _Budget:
    """How many tensors a build may register (the innermost build on the stack is charged).

    Counting stops a header from making a constructor loop without end; memory is bounded by
    the meta-device check, which costs nothing however large the tensors.
    """

    def __init__(self, path: Path, tensors: dict[str, TensorInfo]) -> None:
        self.path = path
        self.max_tensors = len(tensors) + EXTRA_TENSORS
        self.tensors = 0

    def charge(self, tensor: torch.Tensor | None) -> None:
        if tensor is None:
            return
        self.tensors += 1
        if self.tensors > self.max_tensors:
            raise GanInvError(
                f"exported encoder {str(self.path)!r}: its header describes a network of more "
                f"than {self.max_tensors:,} tensors while the file holds "
                f"{self.max_tensors - EXTRA_TENSORS:,}; the file is damaged or hostile, so "
                "nothing was built"
            )


_BUDGETS: list[_Budget] = []
_HOOKS: list[Any] = []
_META_PASS = contextvars.ContextVar("ganinv_encoder_meta_pass", default=False)


def _charge(module: torch.nn.Module, name: str, tensor: torch.Tensor | None) -> None:
    if _BUDGETS:
        _BUDGETS[-1].charge(tensor)


@contextlib.contextmanager
def _charging(budget: _Budget) -> Iterator[None]:
    from torch.nn.modules import module as nn_module

    if not _BUDGETS:
        _HOOKS.append(nn_module.register_module_parameter_registration_hook(_charge))
        _HOOKS.append(nn_module.register_module_buffer_registration_hook(_charge))
    _BUDGETS.append(budget)
    try:
        yield
    finally:
        _BUDGETS.pop()
        if not _BUDGETS:
            while _HOOKS:
                _HOOKS.pop().remove()


def _build(header: EncoderHeader, spec: Spec, space: Any, generator: Any, meta: bool) -> Encoder:
    from ganinv.core.components import build_component

    try:
        with _charging(_Budget(header.path, header.tensors)):
            return build_component("encoders", spec, space=space, generator=generator)
    except Exception as exc:  # on the meta device: a constructor refusing the spec's arguments
        if not meta:
            raise  # the real build of a network that built on meta: a bug, not a bad file
        raise in_file_context(header, "encoder", spec, exc) from exc


def in_file_context(header: EncoderHeader, part: str, spec: Spec, exc: Exception) -> GanInvError:
    """`exc` (raised while building `part` from `spec`) as one line naming the file and field."""
    message = " ".join(str(exc).split())[:400] or type(exc).__name__
    if isinstance(exc, GanInvError) and str(header.path) in message:
        return exc
    if not isinstance(exc, GanInvError):
        message = f"{type(exc).__name__}: {message}"
    source = f"header field method.{part}" if spec == getattr(header, part) else f"method.{part}"
    return GanInvError(
        f"exported encoder {str(header.path)!r}: the {part} its {source} describes cannot be "
        f"built ({message})"
    )


def _compare(header: EncoderHeader, encoder: Encoder) -> None:
    """The network's state must be exactly the file's tensors: names and shapes."""
    state = encoder.state_dict()
    have = {k: tuple(v.shape) for k, v in state.items()}
    want = {k: t.shape for k, t in header.tensors.items()}
    if have == want:
        # keep_vars: the parameters and buffers themselves (state_dict() returns detached
        # copies, whose ids never match, which counted every weight as "not in the file").
        stored = {id(v) for v in encoder.state_dict(keep_vars=True).values()}
        visible = [*encoder.parameters(), *encoder.buffers()]
        extra = sum(t.numel() for t in visible if id(t) not in stored)
        if extra > EXTRA_VALUES:  # e.g. a non-persistent buffer sized by a header value
            raise GanInvError(
                f"exported encoder {str(header.path)!r}: the encoder its header describes holds "
                f"{extra:,} values that are not in the file (at most {EXTRA_VALUES:,}); nothing "
                "was built"
            )
        return
    missing = sorted(set(have) - set(want))
    extra = sorted(set(want) - set(have))
    shapes = sorted(k for k in set(have) & set(want) if have[k] != want[k])
    detail = (
        f"missing {missing[:3]}"
        if missing
        else f"unexpected {extra[:3]}"
        if extra
        else f"{shapes[0]!r} is {list(want[shapes[0]])} in the file, {list(have[shapes[0]])} "
        "in the network"
    )
    raise GanInvError(
        f"encoder checkpoint {str(header.path)!r} does not match the encoder its spec builds "
        f"({len(want)} tensors in the file, {len(have)} in the network; {detail})"
    )


def build_encoder_for_file(
    header: EncoderHeader, spec: Spec, space: Any, generator: Any
) -> Encoder:
    """The encoder `spec` describes with the file's weights loaded strictly (on the CPU).

    First built on the meta device, where nothing is allocated, and compared with the file's
    tensor table; only a network that matches is built for real.
    """
    if spec == header.encoder:  # a spec the user wrote gets the registry's own message
        check_registered(header, "encoder", spec)
    token = _META_PASS.set(True)
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")  # base weights copied into meta tensors are no-ops
            probe = _build(header, spec, space, generator, meta=True)
    finally:
        _META_PASS.reset(token)
    _compare(header, probe)
    if _META_PASS.get():
        return probe  # inside an outer check: no real network yet
    encoder = _build(header, spec, space, generator, meta=False)
    _compare(header, encoder)
    state = read_tensors(header.path, "encoder checkpoint")
    try:
        encoder.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as exc:
        raise GanInvError(
            f"encoder checkpoint {str(header.path)!r} does not load into the encoder as "
            f"configured: {' '.join(str(exc).split())[:300]}"
        ) from exc
    return encoder


def in_meta_pass() -> bool:
    """True while a header's network is being checked on the meta device."""
    return _META_PASS.get()


# -- public: what plugins use to build on another method's exported encoder ------------------
def read_encoder_file(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """(specs {generator, space, encoder}, state dict, info) of an exported encoder, validated."""
    header = read_encoder_header(path)
    return header.specs(), read_tensors(path, "encoder checkpoint"), header.info


def load_exported_encoder(path: str | os.PathLike[str], space: InversionSpace) -> Encoder:
    """Rebuild an encoder exported by `ganinv train` for `space` (its spec and weights), frozen
    and in eval mode on the generator's device, as a sub-network of another component (SDIC's
    base e4e, IDInvert's domain regulariser). Bounded like every exported encoder: built on the
    meta device first and matched with the file's tensors."""
    header = read_encoder_header(path)
    generator = space.generator
    encoder = build_encoder_for_file(header, header.encoder, space, generator)
    if in_meta_pass():
        return encoder  # an outer file's network is being checked: nothing real to move
    return encoder.to(generator.w_avg.device).eval().requires_grad_(False)
