"""Time the demo's optimisation rows, this working tree against a git revision, side by side.

    python scripts/bench_optimize.py --baseline HEAD~3 [--rows "W+ optimisation,..."]
        [--images 64] [--steps 20] [--repeats 5] [--threads 2]

Each row of configs/demo/bench.yaml named in --rows (default: every row with a refiner) is built
from the bench config as the demo builds it, with its `steps` set to --steps, and refines the
first --images test images in one batch. Every measurement is a fresh process (imports, network
loading and one warm-up refine of 2 steps excluded from the time), and the two trees run in
turn, baseline then working tree, --repeats times, so a change in machine load hits both alike.
The baseline is exported with ``git archive`` into a temporary folder and put first on
PYTHONPATH (the plugins are resolved by module name, so its plugins are the ones imported).

Each process first applies the memory policy of the `ganinv` command (`ganinv.core.allocator`)
where its tree has one, as the demo's ``ganinv bench`` does. It prints, per row, the median wall
and CPU seconds per optimisation step of each tree and their ratios (CPU time is the steadier
figure on a shared machine), and the largest difference between the two trees' final codes
(relative to the largest code value): a speed-up must not change what is computed beyond float
round-off.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "configs" / "demo" / "bench.yaml"


def python_path(tree: Path) -> str:
    """The tree's ganinv and every plugin of it, ahead of whatever is installed."""
    plugins = sorted(str(p) for p in (tree / "plugins").iterdir() if p.is_dir())
    return os.pathsep.join([str(tree), *plugins])


def worker(args: argparse.Namespace) -> None:
    """One measurement in this process: refine the images, print seconds per step as JSON."""
    import torch

    import ganinv
    from ganinv.core.config import read_yaml
    from ganinv.harness.configs import load, load_method
    from ganinv.harness.data import build_dataset, image_of
    from ganinv.harness.method import build_resolved_method, resolve_method_config
    from ganinv.harness.schema import BenchConfig

    if not Path(ganinv.__file__).resolve().is_relative_to(Path(args.tree).resolve()):
        raise SystemExit(f"imported ganinv from {ganinv.__file__}, not from {args.tree}")
    try:  # what the `ganinv` command does first, where the tree has it
        from ganinv.core.allocator import keep_freed_memory
    except ImportError:
        allocator = False
    else:
        allocator = keep_freed_memory()
    torch.set_num_threads(args.threads)
    bench = load(BenchConfig, read_yaml(BENCH))
    raw = next(m for m in read_yaml(BENCH)["methods"] if m.get("label") == args.row)
    raw = {**raw, "refiner": {**raw["refiner"], "steps": args.steps}}
    config = resolve_method_config(load_method(raw), bench.generator)
    method = build_resolved_method(config, "cpu")
    dataset = build_dataset(bench.data)
    images = torch.stack([image_of(dataset[i]) for i in range(args.images)])
    refiner = method.refiner
    steps = refiner.steps
    refiner.steps = 2  # warm-up: oneDNN primitives, allocator, lazy loads
    method.invert(images)
    refiner.steps = steps
    torch.manual_seed(0)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start, cpu = time.perf_counter(), time.process_time()
    code, _ = method.invert(images)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    torch.save({k: v.clone() for k, v in code.tensors.items()}, args.codes)
    record = {"wall": seconds / steps, "cpu": cpu / steps, "faults": faults / steps}
    record["allocator"] = allocator
    print(json.dumps(record))


def measure(tree: Path, row: str, args: argparse.Namespace, codes: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": python_path(tree), "OMP_NUM_THREADS": str(args.threads)}
    command = [sys.executable, __file__, "--worker", "--tree", str(tree), "--row", row]
    command += ["--images", str(args.images), "--steps", str(args.steps)]
    command += ["--threads", str(args.threads), "--codes", str(codes)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree} / {row} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def code_difference(old: Path, new: Path) -> float:
    from ganinv.checkpoints.safe_load import torch_load

    a, b = torch_load(old, "the old tree's codes"), torch_load(new, "the new tree's codes")
    if a.keys() != b.keys():
        raise SystemExit(f"the trees' codes have different parts: {sorted(a)} vs {sorted(b)}")
    scale = max(float(v.abs().max()) for v in a.values())
    return max(float((a[k] - b[k]).abs().max()) for k in a) / scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="HEAD", help="git revision to compare against")
    parser.add_argument("--rows", default=None, help="comma-separated row labels")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--codes", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    from ganinv.core.config import read_yaml

    rows = [m["label"] for m in read_yaml(BENCH)["methods"] if m.get("refiner")]
    if args.rows:
        rows = [r.strip() for r in args.rows.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.baseline, "ganinv", "plugins"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        (base / "registry").symlink_to(ROOT / "registry")  # the same cards and weights
        print(f"baseline {args.baseline} vs working tree; {args.images} images, {args.steps} steps")
        print(f"{args.threads} thread(s), {args.repeats} alternating runs per tree and row\n")
        print(
            "| row | wall s/step: baseline, tree, ratio | CPU s/step: baseline, tree, ratio "
            "| page faults/step: baseline, tree | max code diff (rel) |"
        )
        print("|---|---|---|---|---|")
        for row in rows:
            old, new = [], []
            for _ in range(args.repeats):
                old.append(measure(base, row, args, Path(tmp) / "old.pt"))
                new.append(measure(ROOT, row, args, Path(tmp) / "new.pt"))
            diff = code_difference(Path(tmp) / "old.pt", Path(tmp) / "new.pt")
            cells = []
            for key in ("wall", "cpu", "faults"):
                a = statistics.median(r[key] for r in old)
                b = statistics.median(r[key] for r in new)
                cells.append(f"{a:.4g}, {b:.4g}, **{b / max(a, 1e-9):.3f}**")
            print(f"| {row} | {' | '.join(cells)} | {diff:.2e} |", flush=True)


if __name__ == "__main__":
    main()
