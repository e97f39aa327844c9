"""Class 1/2 everywhere: only the reviewed low-level readers may call a deserialiser directly.

Every other module reads files through `ganinv.checkpoints.safe_load` (``torch_load``: regular
files, ``weights_only=True``, sizes checked before torch or pickle allocate, one-line errors) or
`ganinv.core.safetensors_io` (the safetensors table and tensors, one-line errors). This test walks
the AST of every ``.py`` file under ganinv/, plugins/ and scripts/ and fails on any direct use of a
deserialiser outside the allow-list below, so a new call site cannot bypass the helpers unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("ganinv", "plugins", "scripts")

# Qualified names that deserialise a file (or run its code) when referenced at all.
BANNED = {
    "torch.load": "use ganinv.checkpoints.safe_load.torch_load",
    "torch.serialization.load": "use ganinv.checkpoints.safe_load.torch_load",
    "torch.jit.load": "TorchScript files carry code; ganinv does not read them",
    "torch.hub.load": "torch.hub runs the repository's code",
    "safetensors.safe_open": "use ganinv.core.safetensors_io.read_table / read_tensors",
    "safetensors.torch.load_file": "use ganinv.core.safetensors_io.read_tensors",
    "safetensors.torch.load": "use ganinv.core.safetensors_io.read_tensors",
    "safetensors.numpy.load_file": "use ganinv.core.safetensors_io.read_tensors",
    "safetensors.numpy.load": "use ganinv.core.safetensors_io.read_tensors",
    "pickle.load": "pickle runs code; use a restricted reader",
    "pickle.loads": "pickle runs code; use a restricted reader",
    "pickle.Unpickler": "only the reviewed restricted unpicklers may subclass it",
    "_pickle.load": "pickle runs code",
    "_pickle.loads": "pickle runs code",
    "_pickle.Unpickler": "pickle runs code",
    "dill.load": "dill runs code",
    "dill.loads": "dill runs code",
    "cloudpickle.load": "pickle runs code",
    "cloudpickle.loads": "pickle runs code",
    "joblib.load": "joblib unpickles",
    "marshal.load": "marshal reads code objects",
    "marshal.loads": "marshal reads code objects",
    "shelve.open": "shelve unpickles",
    "yaml.unsafe_load": "use yaml.safe_load",
    "yaml.unsafe_load_all": "use yaml.safe_load",
    "yaml.full_load": "use yaml.safe_load",
    "yaml.full_load_all": "use yaml.safe_load",
    "yaml.UnsafeLoader": "use yaml.safe_load",
    "yaml.FullLoader": "use yaml.safe_load",
    "yaml.Loader": "use yaml.safe_load",
}
# Checked only where called: yaml.load needs a safe Loader, numpy.load must not allow pickles.
SAFE_YAML_LOADERS = {"yaml.SafeLoader", "yaml.CSafeLoader", "yaml.BaseLoader"}

# The reviewed low-level readers and exactly what each may use (why, in one line each).
ALLOWED = {
    # torch.load(weights_only=True) after the zip/legacy sizes were checked; a scanner that
    # resolves every global to an inert stand-in.
    "ganinv/checkpoints/safe_load.py": {"torch.load", "pickle.Unpickler"},
    # The one safetensors reader: regular files only, tables before tensors, one-line errors.
    "ganinv/core/safetensors_io.py": {"safetensors.safe_open"},
    # NVlabs pickles: a restricted unpickler (allow-list of globals, check_pickle first).
    "ganinv/checkpoints/nvlabs.py": {"pickle.Unpickler"},
    # Numpy-only restricted unpickler for numpy-pickled weights.
    "ganinv/weights/numpy_pickle.py": {"pickle.Unpickler"},
}


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> qualified name, from the file's imports (any scope)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _qualified(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``a.b.c`` for a Name/Attribute chain whose root is an imported name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def findings(source: str, filename: str = "<snippet>") -> list[str]:
    """Every direct use of a deserialiser in `source`: 'file:line name (advice)'."""
    tree = ast.parse(source, filename)
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = _qualified(node, aliases)
            if name in BANNED:
                found.append((node.lineno, name, BANNED[name]))
        if isinstance(node, ast.Call):
            called = _qualified(node.func, aliases)
            keywords = {k.arg: k.value for k in node.keywords}
            if called == "yaml.load" or called == "yaml.load_all":
                loader = keywords.get("Loader", node.args[1] if len(node.args) > 1 else None)
                if loader is None or _qualified(loader, aliases) not in SAFE_YAML_LOADERS:
                    found.append((node.lineno, called, "use yaml.safe_load"))
            if called == "numpy.load":
                allow = keywords.get("allow_pickle")
                if allow is not None and not _is_false(allow):
                    found.append((node.lineno, "numpy.load(allow_pickle=...)", "pickles run code"))
    return [f"{filename}:{line} {name} ({why})" for line, name, why in sorted(set(found))]


def _python_files() -> list[Path]:
    files = []
    for top in SCANNED:
        files += sorted((ROOT / top).rglob("*.py"))
    return [f for f in files if ".egg-info" not in str(f) and "__pycache__" not in f.parts]


def test_no_direct_deserialisers_outside_the_reviewed_readers() -> None:
    files = _python_files()
    assert len(files) > 50, "the scan found too few files; wrong root?"
    problems = []
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        allowed = ALLOWED.get(relative, set())
        for finding in findings(path.read_text(encoding="utf-8"), relative):
            name = finding.split(" ", 2)[1]
            if name not in allowed:
                problems.append(finding)
    assert not problems, "direct deserialisers outside the safe helpers:\n" + "\n".join(problems)


def test_allow_list_is_minimal() -> None:
    # Every exemption is still used: a stale entry would silently exempt a later edit.
    for relative, allowed in ALLOWED.items():
        path = ROOT / relative
        assert path.is_file(), relative
        used = {f.split(" ", 2)[1] for f in findings(path.read_text(encoding="utf-8"), relative)}
        assert allowed <= used, f"{relative}: {sorted(allowed - used)} no longer used"


@pytest.mark.parametrize(
    "snippet",
    [
        "import torch\nx = torch.load('f.pt', weights_only=True)\n",
        "import torch as t\nx = t.load('f.pt')\n",
        "from torch import load\nx = load('f.pt')\n",
        "import torch\nloader = torch.load\n",
        "import torch.serialization\nx = torch.serialization.load('f')\n",
        "from safetensors import safe_open\nwith safe_open('f', 'pt') as f: pass\n",
        "from safetensors.torch import load_file\nx = load_file('f')\n",
        "import safetensors.torch\nx = safetensors.torch.load_file('f')\n",
        "import pickle\nx = pickle.loads(b'')\n",
        "from pickle import load\nx = load(open('f', 'rb'))\n",
        "import pickle\nclass U(pickle.Unpickler): pass\n",
        "import yaml\nx = yaml.load('a: 1')\n",
        "import yaml\nx = yaml.load('a: 1', Loader=yaml.FullLoader)\n",
        "import yaml\nx = yaml.unsafe_load('a: 1')\n",
        "import numpy as np\nx = np.load('f.npy', allow_pickle=True)\n",
        "import numpy\nx = numpy.load('f.npy', allow_pickle=flag)\n",
        "def f():\n    import torch\n    return torch.load('x')\n",
    ],
)
def test_checker_finds_direct_readers(snippet: str) -> None:
    assert findings(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "import yaml\nx = yaml.safe_load('a: 1')\n",
        "import yaml\nx = yaml.load('a: 1', Loader=yaml.SafeLoader)\n",
        "import numpy as np\nx = np.load('f.npy')\n",
        "import numpy as np\nx = np.load('f.npy', allow_pickle=False)\n",
        "from ganinv.checkpoints.safe_load import torch_load\nx = torch_load('f', 'f')\n",
        "import torch\ntorch.save({}, 'f')\n",
        "import json\nx = json.loads('{}')\n",
    ],
)
def test_checker_passes_safe_readers(snippet: str) -> None:
    assert not findings(snippet), snippet
