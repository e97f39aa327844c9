"""Layering facts, read from the source (the AST of every module, lazy imports inside functions
included):

- plugins import only ganinv's public surface (`ganinv.plugin_api.PUBLIC_MODULES`): never the
  harness, the CLI, or a module whose name has an ``_``-prefixed part;
- the network, checkpoint, data, loss and metric packages and the core import nothing from the
  layers above them (harness, CLI, reproduce, editing, testing);
- the modules of the public surface sit below the harness (the ``ganinv`` facade, which lazily
  offers ``invert``/``evaluate``/``benchmark``, and ``ganinv.testing`` excepted);
- harness modules import the checkpoint loaders directly, never through the ``ganinv`` facade.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Packages below the harness: they must not reach up.
LOWER = ("core", "stylegan2", "nets", "checkpoints", "data", "losses", "metrics", "weights")
UPPER = (
    "ganinv.harness",
    "ganinv.cli",
    "ganinv.reproduce",
    "ganinv.editing",
    "ganinv.testing",
    "ganinv.studio",
)


def module_name(path: Path) -> str:
    """The dotted name of a source file under the repository (plugins: under their folder)."""
    rel = path.relative_to(ROOT)
    parts = list(rel.with_suffix("").parts)
    if parts[0] == "plugins":
        parts = parts[2:]  # plugins/<dist>/<package>/...
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_module(dotted: str) -> bool:
    """Whether `dotted` names a ganinv module or package in this checkout."""
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`; ``from a import b`` counts ``a.b`` when that is
    a module, and relative imports are resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                stem = package[: len(package) - node.level + 1]
                base = ".".join(stem + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            for alias in node.names:
                if is_module(f"{base}.{alias.name}"):
                    found.append((node.lineno, f"{base}.{alias.name}"))
    return found


def under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def sources(*folders: str) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        files.extend(sorted(ROOT.glob(f"{folder}/**/*.py")))
    return files


PLUGIN_FILES = [
    p for p in sources("plugins") if ".egg-info" not in str(p) and "/tests/" not in str(p)
]
GANINV_FILES = sources("ganinv")


def violations(files: list[Path], bad: object) -> list[str]:
    out = []
    for path in files:
        for line, module in imports_of(path):
            if bad(path, module):  # type: ignore[operator]
                out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return out


def test_the_walk_sees_every_module() -> None:
    # A walk that saw nothing would pass every rule below.
    assert len(PLUGIN_FILES) >= 30 and len(GANINV_FILES) >= 120
    seen = {m for p in PLUGIN_FILES for _, m in imports_of(p)}
    assert "ganinv.core.space" in seen and "ganinv_baselines.psp_parts" in seen


def test_imports_of_resolves_lazy_relative_and_submodule_imports(tmp_path: Path) -> None:
    probe = ROOT / "ganinv" / "harness" / "method.py"
    found = {m for _, m in imports_of(probe)}
    assert "ganinv.core.errors" in found
    assert all(not m.startswith(".") for m in found)
    assert is_module("ganinv.harness") and not is_module("ganinv.harness.no_such_module")


def test_plugins_import_no_harness_cli_or_private_module() -> None:
    def bad(path: Path, module: str) -> bool:
        if not under(module, ("ganinv",)):
            return False
        private = any(part.startswith("_") for part in module.split("."))
        return private or under(module, ("ganinv.harness", "ganinv.cli"))

    assert violations(PLUGIN_FILES, bad) == []


def test_plugins_import_only_the_public_surface() -> None:
    from ganinv.plugin_api import PUBLIC_MODULES

    def bad(path: Path, module: str) -> bool:
        # The facade ``ganinv`` is public as the module alone, not as a prefix of everything.
        public = module == "ganinv" or under(module, PUBLIC_MODULES)
        return under(module, ("ganinv",)) and not public

    assert violations(PLUGIN_FILES, bad) == []


@pytest.mark.parametrize("package", LOWER)
def test_lower_packages_import_nothing_above_them(package: str) -> None:
    files = sources(f"ganinv/{package}")
    assert files, package

    def bad(path: Path, module: str) -> bool:
        return under(module, UPPER)

    assert violations(files, bad) == []


def test_core_imports_only_core() -> None:
    # The interfaces know no implementation: not the networks, not a loss, not a reader.
    def bad(path: Path, module: str) -> bool:
        return under(module, ("ganinv",)) and not under(module, ("ganinv.core",))

    assert violations(sources("ganinv/core"), bad) == []


def test_harness_imports_nothing_above_it() -> None:
    def bad(path: Path, module: str) -> bool:
        above = (
            "ganinv.cli",
            "ganinv.reproduce",
            "ganinv.editing",
            "ganinv.testing",
            "ganinv.studio",
        )
        return under(module, above)

    assert violations(sources("ganinv/harness"), bad) == []


def test_the_public_surface_sits_below_the_harness() -> None:
    from ganinv.plugin_api import PUBLIC_MODULES

    # The facade's invert/evaluate/benchmark are the harness itself; the test kit may drive it.
    below = tuple(m for m in PUBLIC_MODULES if m not in ("ganinv", "ganinv.testing"))
    files = [p for p in GANINV_FILES if under(module_name(p), below)]
    assert len(files) >= 10

    def bad(path: Path, module: str) -> bool:
        return under(module, ("ganinv.harness", "ganinv.cli"))

    assert violations(files, bad) == []


def test_public_modules_exist_and_plugin_api_declares_its_names() -> None:
    import ganinv.plugin_api as api
    from ganinv.plugin_api import PUBLIC_MODULES

    assert all(is_module(name) for name in PUBLIC_MODULES), PUBLIC_MODULES
    assert isinstance(api.__all__, list) and len(api.__all__) >= 15
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert missing == []
    for name in ("InversionSpace", "Encoder", "on_device_of", "load_exported_encoder"):
        assert name in api.__all__, name


def test_harness_does_not_import_the_ganinv_facade() -> None:
    def bad(path: Path, module: str) -> bool:
        return module == "ganinv"

    assert violations(sources("ganinv/harness"), bad) == []


def private_attributes(path: Path) -> list[str]:
    """``obj._name`` uses in `path` on anything but ``self``/``cls`` and the CLI's ``args``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", "args"):
            continue
        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_reproduce_and_cli_use_no_private_attribute_of_harness_objects() -> None:
    # e.g. timing drives the trainer through `Trainer.train_step`, not its private steps.
    files = sources("ganinv/reproduce", "ganinv/cli")
    assert [hit for p in files for hit in private_attributes(p)] == []
    probe = ROOT / "ganinv" / "harness" / "optim.py"
    assert private_attributes(probe), "the check must see a private use where there is one"


def test_safetensors_is_read_and_written_in_one_place() -> None:
    # Regular files only, one-line errors, the table before any data: one helper does it.
    files = [*GANINV_FILES, *PLUGIN_FILES]

    def bad(path: Path, module: str) -> bool:
        return under(module, ("safetensors",)) and path.name != "safetensors_io.py"

    assert violations(files, bad) == []
    helper = ROOT / "ganinv" / "core" / "safetensors_io.py"
    assert {m for _, m in imports_of(helper)} >= {"safetensors", "safetensors.torch"}


def test_the_documented_surface_is_the_declared_one() -> None:
    import re

    import ganinv.plugin_api as api

    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = text.split("## What a plugin may import", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 10
    for row in rows[1:]:
        need, home = row.split(" | ")[:2]
        for module in re.findall(r"`(ganinv[\w.]*)", home):
            module = module.rstrip(".")
            assert under(module, api.PUBLIC_MODULES), module
        for name in re.findall(r"`([A-Za-z_]\w*)`", need):
            assert name in api.__all__, name
