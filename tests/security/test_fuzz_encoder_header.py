"""Fuzzing an exported encoder's header (hypothesis): random mutations of a tiny file's header,
from changed values (huge, negative, wrong types) to removed and added keys and raw text edits.

Every case either loads (and inverts an image) or raises `GanInvError`: never another exception,
never a hang (each case is timed), never unbounded memory (the address space is capped while the
cases run). Bounded to a few seconds: ``FUZZ_CASES`` cases, derandomised so CI sees the same ones.
"""

from __future__ import annotations

import json
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file
from security_testkit import read_file

from ganinv.core.errors import GanInvError
from ganinv.harness.method import build_method
from ganinv.harness.schema import MethodConfig

FUZZ_CASES = 150
MEMORY_HEADROOM = 2 << 30  # bytes of address space the cases may add to the process's
SLOWEST_CASE_S = 20.0  # far above a real case (~0.05 s): only a hang reaches it

INTS = st.one_of(
    st.integers(-3, 40),
    st.sampled_from([2**31, 2**63, 10**9, 10**18, -(2**31)]),
    st.integers(),
)
LEAVES = st.one_of(st.none(), st.booleans(), INTS, st.floats(allow_nan=False), st.text(max_size=12))
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position in a JSON tree (keys of dicts, indices of lists)."""
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


def _at(tree: Any, path: tuple) -> Any:
    for part in path:
        tree = tree[part]
    return tree


@st.composite
def mutated_headers(draw: st.DrawFn, header: dict[str, str]) -> dict[str, str]:
    header = dict(header)
    kind = draw(st.sampled_from(["replace", "delete", "add", "text", "field"]))
    if kind == "field":  # a whole header field replaced by text or removed
        key = draw(st.sampled_from(["format", "method", "info"]))
        value = draw(st.none() | st.text(max_size=40) | VALUES.map(json.dumps))
        if value is None:
            header.pop(key)
        else:
            header[key] = value
        return header
    if kind == "text":  # raw edits of the method JSON text
        text = header["method"]
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 20)))
        header["method"] = text[:start] + draw(st.text(max_size=10)) + text[end:]
        return header
    field = draw(st.sampled_from(["method", "method", "method", "info"]))
    tree = json.loads(header[field])
    positions = _paths(tree)
    path = draw(st.sampled_from(positions))
    if kind == "replace":
        if path == ():
            tree = draw(VALUES)
        else:
            _at(tree, path[:-1])[path[-1]] = draw(VALUES)
    elif kind == "delete" and path:
        parent = _at(tree, path[:-1])
        del parent[path[-1]]
    else:  # add a key to a mapping on the way, or append to a list
        parent = _at(tree, path)
        if isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(VALUES)
        elif isinstance(parent, list):
            parent.append(draw(VALUES))
    header[field] = json.dumps(tree)
    return header


@pytest.fixture(scope="module")
def original(tiny) -> tuple[dict[str, str], dict]:
    return read_file(tiny["encoder"])


@pytest.fixture(scope="module")
def capped_memory():
    """Cap the address space at what the process holds now plus MEMORY_HEADROOM."""
    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + MEMORY_HEADROOM, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_mutated_headers_load_or_raise_ganinv_error(tiny, original, image, capped_memory):
    header, tensors = original
    outcomes: Counter[str] = Counter()
    slowest = [0.0]
    # Beside the original (its generator path is relative to its folder).
    target = Path(tiny["encoder"]).parent / "fuzzed.safetensors"

    @settings(
        max_examples=FUZZ_CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated_headers(header))
    def case(mutated: dict[str, str]) -> None:
        save_file(tensors, str(target), metadata=mutated)
        start = time.perf_counter()
        try:
            method = build_method(
                MethodConfig(encoder_checkpoint=str(target)), generator=tiny["generator"]
            )
            method.invert(image)
            outcomes["loaded"] += 1
        except GanInvError as exc:
            assert "\n" not in str(exc)
            outcomes["GanInvError"] += 1
        slowest[0] = max(slowest[0], time.perf_counter() - start)

    case()
    ran = sum(outcomes.values())
    print(f"fuzzed {ran} exported-encoder headers: {dict(outcomes)}, slowest {slowest[0]:.2f} s")
    assert ran >= FUZZ_CASES and outcomes["loaded"] > 0 and outcomes["GanInvError"] > 0
    assert slowest[0] < SLOWEST_CASE_S
