"""Property-based fuzzing of the checkpoint loaders (hypothesis): random mutations of a tiny ganinv
safetensors file (byte flips, truncation, header JSON values, tensor dtype/shape/offset lies) and
of a tiny NVlabs-style pickle (byte flips, truncation, wrong objects anywhere in its module trees).

Every case must load or raise `GanInvError`; no other exception, no hang (an alarm per case), no
unbounded memory: the cases run in a child process whose address space may grow by at most 2 GB
beyond what torch and ganinv take, and a refusal may not come from a failed allocation. The
number of cases is fixed (derandomized), a few seconds in CI; set GANINV_FUZZ_EXAMPLES for more.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from checkpoint_files import (
    join_safetensors,
    nvlabs_pickle,
    nvlabs_state,
    run_capped,
    split_safetensors,
    tiny_networks,
    write_native,
)

from ganinv.checkpoints.load import load_networks
from ganinv.core.errors import GanInvError

EXAMPLES = int(os.environ.get("GANINV_FUZZ_EXAMPLES", "25"))  # per mutation family
CASE_SECONDS = 20  # a case slower than this is a hang (a normal one takes ~0.05 s)
ALLOCATION_FAILURES = ("can't allocate", "MemoryError", "Cannot allocate memory")


class Hang(Exception):
    """A case ran past `CASE_SECONDS`."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang(f"a case ran longer than {CASE_SECONDS} s")


def _try_load(data: bytes, suffix: str, outcomes: dict[str, int]) -> None:
    """Write `data`, load it; count 'loaded' or 'refused'; anything else propagates."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"case{suffix}"
        path.write_bytes(data)
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(CASE_SECONDS)
        try:
            networks, _ = load_networks(path)
            assert networks and all(isinstance(m, torch.nn.Module) for m in networks.values())
            outcomes["loaded"] += 1
        except GanInvError as exc:
            message = str(exc)
            assert "\n" not in message, message
            assert not any(s in message for s in ALLOCATION_FAILURES), message
            outcomes["refused"] += 1
        finally:
            signal.alarm(0)


def fuzz(examples: int) -> dict[str, dict[str, Any]]:
    """Run every mutation family for `examples` cases each; returns the outcome counts."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    work = Path(tempfile.mkdtemp())
    native = write_native(work / "tiny.safetensors").read_bytes()
    header, body = split_safetensors(native)
    tree = nvlabs_state(tiny_networks())
    pickled = nvlabs_pickle(tree)
    counts: dict[str, dict[str, int]] = {}
    config = settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )

    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=8,
    )
    flips = st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(0, 255)), min_size=1)

    def flip(data: bytes, changes: list[tuple[int, int]]) -> bytes:
        buffer = bytearray(data)
        for position, value in changes:
            buffer[position % len(buffer)] = value
        return bytes(buffer)

    def family(name: str) -> dict[str, int]:
        return counts.setdefault(name, {"loaded": 0, "refused": 0})

    # -- ganinv safetensors --------------------------------------------------------------------
    @config
    @given(changes=flips.map(lambda c: c[:8]))
    def native_flips(changes: list[tuple[int, int]]) -> None:
        _try_load(flip(native, changes), ".safetensors", family("safetensors byte flips"))

    @config
    @given(length=st.integers(0, len(native) - 1))
    def native_truncated(length: int) -> None:
        _try_load(native[:length], ".safetensors", family("safetensors truncation"))

    config_keys = sorted(json.loads(header["__metadata__"]["networks"])["generator"]["config"])

    @config
    @given(
        network=st.sampled_from(["generator", "discriminator"]),
        key=st.sampled_from([*config_keys, "class", "extra", "imports"]),
        value=json_values,
        field=st.sampled_from(["networks", "meta", "format_version", "format"]),
        whole=st.booleans(),
    )
    def native_header_json(network: str, key: str, value: Any, field: str, whole: bool) -> None:
        mutated = copy.deepcopy(header)
        metadata = mutated["__metadata__"]
        if whole:  # the whole field replaced by any JSON text
            metadata[field] = json.dumps(value)
        else:  # one value inside a network description
            described = json.loads(metadata["networks"])
            target = described[network] if key == "class" else described[network]["config"]
            target[key] = value
            metadata["networks"] = json.dumps(described)
        _try_load(join_safetensors(mutated, body), ".safetensors", family("safetensors header"))

    tensor_names = sorted(k for k in header if k != "__metadata__")
    dims = st.integers(-2, 1 << 40) | st.integers(0, 72)

    @config
    @given(
        name=st.sampled_from(tensor_names),
        dtype=st.sampled_from(["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "Q4"]),
        shape=st.none() | st.lists(dims, max_size=5),
        offsets=st.none() | st.tuples(st.integers(-1, 1 << 40), st.integers(-1, 1 << 40)),
    )
    def native_tensor_lies(name: str, dtype: str, shape: Any, offsets: Any) -> None:
        mutated = copy.deepcopy(header)
        mutated[name]["dtype"] = dtype
        if shape is not None:
            mutated[name]["shape"] = shape
        if offsets is not None:
            mutated[name]["data_offsets"] = list(offsets)
        _try_load(join_safetensors(mutated, body), ".safetensors", family("safetensors tensors"))

    # -- NVlabs-style pickle -------------------------------------------------------------------
    @config
    @given(changes=flips.map(lambda c: c[:8]))
    def pickle_flips(changes: list[tuple[int, int]]) -> None:
        _try_load(flip(pickled, changes), ".pkl", family("pickle byte flips"))

    @config
    @given(length=st.integers(0, len(pickled) - 1))
    def pickle_truncated(length: int) -> None:
        _try_load(pickled[:length], ".pkl", family("pickle truncation"))

    paths = _paths(tree)
    objects = (
        json_values
        | st.builds(torch.zeros, st.lists(st.integers(0, 9), max_size=4))
        | st.builds(lambda n: torch.zeros(1).expand(n, n), st.integers(1, 1 << 20))
        | st.builds(lambda n: np.zeros(n, dtype=np.float32), st.integers(0, 64))
        | st.sets(st.text(max_size=4), max_size=3)
        | st.just(torch.float16)
    )

    @config
    @given(path=st.sampled_from(paths), value=objects)
    def pickle_objects(path: tuple[Any, ...], value: Any) -> None:
        mutated = copy.deepcopy(tree)
        node = mutated
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        _try_load(nvlabs_pickle(mutated), ".pkl", family("pickle objects"))

    started = time.perf_counter()
    for run in (
        native_flips,
        native_truncated,
        native_header_json,
        native_tensor_lies,
        pickle_flips,
        pickle_truncated,
        pickle_objects,
    ):
        run()
    counts["seconds"] = {"total": round(time.perf_counter() - started, 1)}
    return counts


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every (key, key, ...) path to a value in the nested dicts of an NVlabs state."""
    out = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    return out


def test_fuzz_checkpoint_loaders():
    """All families under a 2 GB address-space cap; prints the number of cases and outcomes."""
    script = f"""
import test_fuzz_checkpoints as fuzzing
before = peak_rss()
counts = fuzzing.fuzz({EXAMPLES})
print(json.dumps({{"counts": counts, "growth": peak_rss() - before}}))
"""
    child = run_capped(script, 2_000_000_000, timeout=900)
    assert child.returncode == 0, child.stdout[-2000:] + child.stderr[-6000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    seconds = report["counts"].pop("seconds")["total"]
    total = sum(sum(c.values()) for c in report["counts"].values())
    print(f"fuzz: {total} cases in {seconds} s, peak RSS growth {report['growth'] / 1e6:.0f} MB:")
    for name, outcome in report["counts"].items():
        print(f"  {name}: {outcome}")
    assert total >= 6 * EXAMPLES  # hypothesis may stop a family early when it has seen it all
    assert report["growth"] < 1e9, report["growth"]
