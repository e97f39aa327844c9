"""A benchmark over baseline combinations on the tiny generator: tables, grids, report, resume."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import torch
import yaml
from harness_testkit import run_cli

from ganinv.harness.bench import run_bench
from ganinv.harness.configs import load
from ganinv.harness.schema import BenchConfig


def bench_config(world, trained_encoder, out):
    return {
        "generator": str(world["generator"]),
        "data": {"name": "folder", "path": str(world["test"]), "resolution": 16, "limit": 4},
        "methods": [
            {
                "label": "W+ optimisation",
                "space": "wplus",
                "refiner": {"name": "optimize", "steps": 4, "lr": 0.05, "losses": {"mse": 1.0}},
            },
            {
                "label": "W optimisation",
                "space": "w",
                "refiner": {"name": "optimize", "steps": 4, "lr": 0.05, "losses": {"mse": 1.0}},
            },
            # The encoder's module is named here: ganinv never imports what a file's header names.
            {
                "label": "tiny encoder",
                "encoder_checkpoint": str(trained_encoder),
                "imports": ["harness_testkit"],
            },
        ],
        "metrics": ["mse", "psnr"],
        "batch_size": 3,
        "grid_images": 3,
        "out": str(out),
        "progress": False,
    }


@pytest.mark.slow
def test_bench_writes_every_format_and_resumes(world, trained_encoder, tmp_path):
    out = tmp_path / "bench"
    config = load(BenchConfig, bench_config(world, trained_encoder, out))
    outcome = run_bench(config, torch.device("cpu"), echo=lambda *_: None)
    assert outcome.ran == ["W+ optimisation", "W optimisation", "tiny encoder"]
    for kind in ("markdown", "csv", "json", "latex", "grid", "report"):
        assert outcome.paths[kind].is_file(), kind

    # JSON: values and best flags that respect each column's direction.
    table = json.loads((out / "table.json").read_text())
    rows = {r["method"]: r for r in table["rows"]}
    for column in table["columns"]:
        key = column["key"]
        values = {m: r["values"][key] for m, r in rows.items()}
        want = (max if column["higher_is_better"] else min)(values.values())
        winners = [m for m, r in rows.items() if r["best"][key]]
        if not column["ranked"]:  # CPU peak memory: cumulative over the bench, never ranked
            assert key == "peak_memory_mib" and winners == []
            continue
        assert winners and all(values[m] == want for m in winners), key
    cols = {c["key"]: c for c in table["columns"]}
    assert cols["psnr"]["higher_is_better"] and not cols["mse"]["higher_is_better"]
    assert "split" in cols["mse"]["protocol"]
    # Each method's result.json holds its own numbers; PSNR agrees with MSE on [-1, 1] images
    # only per image, so just check both are finite and consistent in direction across methods.
    for m, r in rows.items():
        saved = json.loads((out / "methods" / _slug(m) / "result.json").read_text())
        assert saved["metrics"]["mse"]["value"] == pytest.approx(r["values"]["mse"])
        assert saved["num_images"] == 4

    # CSV: the same numbers, and the best_in column.
    parsed = list(csv.DictReader(io.StringIO((out / "table.csv").read_text())))
    assert [p["method"] for p in parsed] == list(rows)
    for p in parsed:
        assert float(p["mse"]) == pytest.approx(rows[p["method"]]["values"]["mse"])
        marked = set(filter(None, p["best_in"].split(";")))
        assert marked == {k for k, v in rows[p["method"]]["best"].items() if v}

    # Markdown bold and LaTeX \textbf on the winners, protocol footnotes in both.
    md = (out / "table.md").read_text()
    best_mse = min(r["values"]["mse"] for r in rows.values())
    assert f"**{best_mse:.4f}**" in md and "[1] mse:" in md and "↓" in md and "↑" in md
    tex = (out / "table.tex").read_text()
    assert r"\begin{tabular}" in tex and r"\textbf{" + f"{best_mse:.4f}" + "}" in tex
    assert "W+ optimisation" in tex

    # The HTML report is self-contained: inline images and SVG, no external references.
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 * (1 + 2 * 3)
    assert "<svg" in html and "git_commit" in html and "W optimisation" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)

    # --resume skips finished methods; a changed method runs again.
    again = run_bench(config, torch.device("cpu"), resume=True, echo=lambda *_: None)
    assert again.ran == [] and len(again.skipped) == 3
    assert again.table.to_markdown() == outcome.table.to_markdown()
    changed = bench_config(world, trained_encoder, out)
    changed["methods"][1]["refiner"]["steps"] = 2
    third = run_bench(
        load(BenchConfig, changed), torch.device("cpu"), resume=True, echo=lambda *_: None
    )
    assert third.ran == ["W optimisation"]


def test_bench_cli_prints_table_and_paths(world, trained_encoder, tmp_path):
    cfg = bench_config(world, trained_encoder, tmp_path / "cli")
    cfg["methods"] = cfg["methods"][2:]
    cfg["data"]["limit"] = 2
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = run_cli(["bench", str(path), "--device", "cpu"])
    assert result.returncode == 0, result.stderr
    assert "| tiny encoder |" in result.stdout and "report.html" in result.stdout
    # A single method is nobody's winner: nothing is bold.
    assert "**" not in (tmp_path / "cli" / "table.md").read_text()


def _slug(label):
    from ganinv.harness.bench import slugify

    return slugify(label)
