#!/usr/bin/env python3
"""Bounded mutation testing of ganinv's numerical core with mutmut 3 (a manual check, not CI).

    python3 scripts/mutation.py                       # every group, in priority order
    python3 scripts/mutation.py sg2_ops losses        # some groups
    python3 scripts/mutation.py --rerun-survivors sg2_ops   # after adding tests: survivors only
    python3 scripts/mutation.py --report              # figures of the last runs, no work

Each group (one or a few modules) runs in its own workspace OUTSIDE the checkout (default
/tmp/ganinv-mutation/<group>), a snapshot of `ganinv/`, `plugins/`, `tests/`, `pyproject.toml` from
git HEAD (``--from worktree`` for uncommitted work). mutmut writes its mutated copy into
``<workspace>/mutants/`` only, so nothing here ever writes into the checkout's `ganinv/` and other
people's test runs never see a mutant. Per group only the listed test paths run, and per mutant
only those of them that called the mutated function (mutmut's own selection).

Bounds, because the machine is shared: every mutmut process runs under ``nice -n 19`` with one
torch/BLAS thread and one mutmut worker, each group stops after ``--cap`` seconds and the whole run
after ``--budget`` seconds; the report says how many mutants were actually run.

The settings shared by every group live in ``[tool.mutmut]`` of pyproject.toml; this script adds
the group's ``only_mutate`` and test selection to the workspace's copy of that file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_PATHS = ["ganinv", "plugins", "tests", "pyproject.toml"]


@dataclass(frozen=True)
class Group:
    sources: tuple[str, ...]  # files mutated
    tests: tuple[str, ...]  # test paths that may run against them
    pytest_args: tuple[str, ...] = ()  # e.g. leave out slow tests that run every mutant for long


# Priority order: ops/layers/hooks, losses, RNG and resume, metrics; SWD last (being rewritten).
SG2_TESTS = ("tests/stylegan2",)  # holds test_stylegan2_mutants.py too
METRICS_MUT = "tests/metrics/test_metrics_mutants.py"
GROUPS: dict[str, Group] = {
    "sg2_ops": Group(("ganinv/stylegan2/ops.py",), SG2_TESTS),
    "sg2_layers": Group(("ganinv/stylegan2/layers.py",), SG2_TESTS),
    "sg2_generator": Group(("ganinv/stylegan2/generator.py",), SG2_TESTS),
    "hooks": Group(
        ("ganinv/core/generator.py",),
        SG2_TESTS
        + (
            "tests/padinv/test_padinv_space.py",
            "tests/sdic/test_sdic_space_encoder.py",
            "tests/core/test_core_mutants.py",
        ),
    ),
    "losses": Group(
        tuple(
            f"ganinv/losses/{n}.py"
            for n in (
                "adversarial",
                "base",
                "encoder_consistency",
                "identity",
                "lpips",
                "mse",
                "vgg_perceptual",
                "wnorm",
            )
        ),
        ("tests/losses",),
    ),
    "rng_checkpoint": Group(
        ("ganinv/harness/rng.py", "ganinv/harness/checkpoint.py"),
        (
            "tests/harness/test_harness_resume.py",
            "tests/gan_training/test_train_gan.py",
            "tests/harness/test_harness_mutants.py",
        ),
    ),
    # The resume tests start CLI subprocesses that mutmut 3.8.1's fork runner can reap as if they
    # were its workers (KeyError in wait_for_result): this group runs the in-process tests only.
    "rng_checkpoint_inproc": Group(
        ("ganinv/harness/rng.py", "ganinv/harness/checkpoint.py"),
        ("tests/harness/test_harness_mutants.py", "tests/security/test_call_sites_are_safe.py"),
    ),
    "metrics_pixel": Group(
        ("ganinv/metrics/mse.py", "ganinv/metrics/psnr.py", "ganinv/metrics/ssim.py"),
        ("tests/metrics/test_metrics_pixel.py", "tests/metrics/test_metrics_ssim.py", METRICS_MUT),
    ),
    "metrics_lpips": Group(
        ("ganinv/metrics/lpips.py",), ("tests/metrics/test_metrics_lpips.py", METRICS_MUT)
    ),
    "metrics_fid_kid": Group(
        ("ganinv/metrics/feature_stats.py", "ganinv/metrics/fid.py", "ganinv/metrics/kid.py"),
        ("tests/metrics/test_metrics_fid.py", METRICS_MUT),
    ),
    "metrics_swd": Group(
        ("ganinv/metrics/swd.py", "ganinv/metrics/reservoir.py"),
        ("tests/metrics/test_metrics_swd.py", "tests/metrics/test_swd_mutants.py"),
        ("-m", "not slow"),  # the 1,024-image reference checks take minutes per mutant
    ),
}

# mutmut's exit-code meanings (mutmut.stats.status_by_exit_code), folded into report columns.
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no_tests",
    33: "no_tests",
    34: "skipped",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    None: "not_run",
}


def snapshot(workspace: Path, source: str) -> None:
    """Copy SNAPSHOT_PATHS from git HEAD (or from the working tree) into workspace."""
    workspace.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    (workspace / "SNAPSHOT").write_text(f"{commit}{'' if source == 'head' else ' + worktree'}\n")
    if source == "head":
        data = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "HEAD", "--", *SNAPSHOT_PATHS],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(workspace, filter="data")
        return
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in SNAPSHOT_PATHS:
        src, dst = ROOT / name, workspace / name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def refresh_tests(workspace: Path) -> None:
    """Replace the workspace's tests/ with the committed ones (new *_mutants.py files included)."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD", "--", "tests"], check=True, capture_output=True
    ).stdout
    shutil.rmtree(workspace / "tests")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(workspace, filter="data")


def split_mutmut_table(text: str) -> tuple[list[str], list[str]]:
    """(lines of the [tool.mutmut] table, all other lines) of a pyproject.toml."""
    table, other, in_table = [], [], False
    for line in text.splitlines():
        if line.startswith("["):
            in_table = line.strip() == "[tool.mutmut]"
            if in_table:
                continue
        (table if in_table else other).append(line)
    return table, other


def write_group_config(workspace: Path, group: Group) -> None:
    """The snapshot's pyproject.toml with the checkout's [tool.mutmut] and the group's settings."""
    group_keys = ("only_mutate", "pytest_add_cli_args_test_selection")
    shared, _ = split_mutmut_table((ROOT / "pyproject.toml").read_text())
    _, other = split_mutmut_table((workspace / "pyproject.toml").read_text())
    # The group's *_mutants.py test files join the selection once they exist.
    tests = [t for t in group.tests if (workspace / t).exists()]
    table = [
        "[tool.mutmut]",
        *[s for s in shared if s.strip() and s.split("=")[0].strip() not in group_keys],
        f"only_mutate = {json.dumps(list(group.sources))}",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests + list(group.pytest_args))}",
    ]
    text = "\n".join(other).rstrip() + "\n\n" + "\n".join(table) + "\n"
    (workspace / "pyproject.toml").write_text(text)


def mutant_results(workspace: Path, group: Group) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for source in group.sources:
        meta = workspace / "mutants" / (source + ".meta")
        if meta.is_file():
            out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def summarise(name: str, results: dict[str, int | None]) -> dict[str, object]:
    counts: dict[str, int] = {}
    for code in results.values():
        status = STATUS.get(code, "suspicious")
        counts[status] = counts.get(status, 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    checked = sum(v for k, v in counts.items() if k not in ("not_run", "skipped"))
    return {
        "group": name,
        "mutants": len(results),
        "checked": checked,
        "killed_or_timeout": killed,
        "survived": counts.get("survived", 0),
        "no_tests": counts.get("no_tests", 0),
        "other": checked - killed - counts.get("survived", 0) - counts.get("no_tests", 0),
        "not_run": counts.get("not_run", 0),
        "kill_rate": round(killed / checked, 4) if checked else None,
        "survivors": sorted(
            k for k, c in results.items() if STATUS.get(c, "suspicious") in ("survived", "no_tests")
        ),
    }


def run_mutmut(workspace: Path, names: list[str], cap_s: float) -> int:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = "1"  # one thread each: the machine is shared
    # Subprocesses the tests start (CLI runs) must import the mutated copy, not the editable
    # install that points at the checkout: PYTHONPATH comes before the editable finder.
    # The plugins of the snapshot come first too, so plugin code matches the snapshot's core.
    plugin_dirs = sorted(str(p) for p in (workspace / "plugins").iterdir() if p.is_dir())
    # mutants/ must exist before Python starts: a missing PYTHONPATH entry is cached as "no
    # finder", and the tests would then import the unmutated checkout through the editable install.
    (workspace / "mutants").mkdir(exist_ok=True)
    env["PYTHONPATH"] = os.pathsep.join([str(workspace / "mutants"), *plugin_dirs])
    cmd = ["nice", "-n", "19", "timeout", "--signal=INT", "--kill-after=60", str(int(cap_s))]
    cmd += [sys.executable, "-m", "mutmut", "run", "--max-children", "1", *names]
    done = subprocess.run(cmd, cwd=workspace, env=env, capture_output=True, text=True)
    # Keep the log readable: of each line redrawn with carriage returns keep the last state.
    lines = [line.split("\r")[-1] for line in (done.stdout + done.stderr).splitlines()]
    with open(workspace / "mutmut.log", "a") as log:
        log.write(f"\n$ {' '.join(cmd)}\n" + "\n".join(lines) + "\n")
    return done.returncode


def write_survivor_diffs(workspace: Path, survivors: list[str]) -> None:
    with open(workspace / "survivors.txt", "w") as out:
        for name in survivors:
            shown = subprocess.run(
                [sys.executable, "-m", "mutmut", "show", name],
                cwd=workspace,
                capture_output=True,
                text=True,
            )
            out.write(shown.stdout + "\n")


def print_table(rows: list[dict[str, object]]) -> None:
    print("| group | mutants | run | killed (+timeout) | survived | no tests | kill rate |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        rate = "-" if r["kill_rate"] is None else f"{100 * r['kill_rate']:.1f}%"
        print(
            f"| {r['group']} | {r['mutants']} | {r['checked']} | {r['killed_or_timeout']} | "
            f"{r['survived']} | {r['no_tests']} | {rate} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("groups", nargs="*", help=f"default: all, in order: {' '.join(GROUPS)}")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ganinv-mutation"))
    parser.add_argument("--from", dest="source", choices=("head", "worktree"), default="head")
    parser.add_argument("--cap", type=float, default=900, help="seconds per group")
    parser.add_argument("--budget", type=float, default=4500, help="seconds for the whole run")
    parser.add_argument("--fresh", action="store_true", help="delete the workspaces first")
    parser.add_argument(
        "--rerun-survivors",
        action="store_true",
        help="committed tests/ into the existing workspace; rerun survivors and mutants not run",
    )
    parser.add_argument(
        "--survivors-only",
        action="store_true",
        help="with --rerun-survivors: leave mutants a capped run did not reach for later",
    )
    parser.add_argument(
        "--continue",
        dest="resume",
        action="store_true",
        help="run the mutants a capped run left, in the existing workspace, snapshot unchanged",
    )
    parser.add_argument("--report", action="store_true", help="print the last figures only")
    args = parser.parse_args()
    names = args.groups or list(GROUPS)
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown groups {unknown}; known: {list(GROUPS)}")
    if args.workdir.resolve().is_relative_to(ROOT / "ganinv"):
        parser.error("the workspace must not be inside ganinv/")

    rows, start = [], time.monotonic()
    for name in names:
        group, workspace = GROUPS[name], args.workdir / name
        if not args.report:
            left = args.budget - (time.monotonic() - start)
            if left < 30:
                print(f"{name}: budget spent, not run", file=sys.stderr)
            elif args.rerun_survivors:
                # Survivors, plus what a capped run left (those then run with the new tests).
                results = mutant_results(workspace, group)
                previous = summarise(name, results)["survivors"]
                if not args.survivors_only:
                    previous += [k for k, code in results.items() if code is None]
                config_before = (workspace / "pyproject.toml").read_text()
                refresh_tests(workspace)
                write_group_config(workspace, group)
                if (workspace / "pyproject.toml").read_text() != config_before:
                    # A new *_mutants.py file joined the selection: mutmut resets every result
                    # of the group, so all of its mutants run again.
                    previous = []
                if previous or (workspace / "pyproject.toml").read_text() != config_before:
                    run_mutmut(workspace, list(previous), min(args.cap, left))
            else:
                if args.fresh and workspace.exists():
                    shutil.rmtree(workspace)
                if not (args.resume and (workspace / "SNAPSHOT").is_file()):
                    snapshot(workspace, args.source)
                    write_group_config(workspace, group)
                t0 = time.monotonic()
                run_mutmut(workspace, [], min(args.cap, left))
                print(f"{name}: {time.monotonic() - t0:.0f} s", file=sys.stderr)
        if not workspace.is_dir():
            print(f"{name}: no workspace, nothing to report", file=sys.stderr)
            continue
        summary = summarise(name, mutant_results(workspace, group))
        if (workspace / "SNAPSHOT").is_file():
            summary["snapshot"] = (workspace / "SNAPSHOT").read_text().strip()
        if not args.report:
            write_survivor_diffs(workspace, list(summary["survivors"]))
        label = "after" if args.rerun_survivors else "run"
        summary["label"] = label
        (args.workdir / f"{name}.{label}.json").write_text(json.dumps(summary, indent=1))
        rows.append(summary)
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
