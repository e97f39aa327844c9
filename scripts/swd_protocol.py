"""SWD against the original ProGAN implementation's values, at 1,024 and 16,384 images, with memory.

For each reference pair (grey A/A, A/B, A/C and colour A/A, A/B of `tests/data/swd`, rebuilt byte
for byte from the original files) and each image count, the metric runs over several seeds in a
fresh subprocess (peak RSS never decreases inside a process). 16,384 images are the 1,024 images
repeated 16 times, fed in minibatches of 256 as in the reference runs; each repeat draws new
neighbourhoods, as ProGAN would for a larger set. The original's values exist for 1,024 images;
more descriptors bring two samples of one distribution closer, so A/A falls with more images.

    python scripts/swd_protocol.py [--images 1024 16384] [--seeds 20] [--seeds-large 20]
                                   [--pairs grey:A:A colour:A:B ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ("grey:A:A", "grey:A:B", "grey:A:C", "colour:A:A", "colour:A:B")
BATCH = 256


def _rss_mib() -> float:
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(pair: str, images: int, seeds: int, first_seed: int = 0) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "metrics"))
    import swd_sets

    from ganinv.metrics.swd import SWDMetric
    from ganinv.metrics.timing import peak_cpu_rss_bytes

    kind, first, second = pair.split(":")
    data = swd_sets.sets(kind)
    real, fake = swd_sets.to_images(data[first]), swd_sets.to_images(data[second])
    del data
    baseline = _rss_mib()
    values, seconds, spilled = [], [], 0
    for seed in range(first_seed, first_seed + seeds):
        start = time.perf_counter()
        metric = SWDMetric(seed=seed)
        for _ in range(images // real.shape[0]):
            for i in range(0, real.shape[0], BATCH):
                metric.update(real[i : i + BATCH], fake[i : i + BATCH])
        result = metric.compute()
        levels = result.protocol["per_level_x1e3"]
        values.append([levels[32], levels[16], result.value])
        assert result.protocol["descriptors"] == "all"
        spilled = sum(s.nbytes for s in metric.real + metric.fake)
        metric.reset()
        seconds.append(time.perf_counter() - start)
    return {
        "pair": pair,
        "images": images,
        "values": values,
        "seconds_per_evaluation": sum(seconds) / len(seconds),
        "rss_before_metric_mib": baseline,
        "peak_rss_mib": peak_cpu_rss_bytes() / 2**20,
        "spill_file_mib": spilled / 2**20,
    }


def _mean_std(column: list[float]) -> tuple[float, float]:
    mean = sum(column) / len(column)
    var = sum((v - mean) ** 2 for v in column) / max(1, len(column) - 1)
    return mean, var**0.5


def table(results: list[dict]) -> str:
    sys.path.insert(0, str(ROOT / "tests" / "metrics"))
    from swd_sets import REFERENCE

    lines = [
        "| pair | images | seeds | ganinv mean +- std (32 / 16 / avg) | original, 1,024 images | "
        "(ganinv - original) / original std | peak RSS MiB (before metric) | spill MiB | s/eval |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        kind, first, second = r["pair"].split(":")
        ref = REFERENCE[(kind, first, second)]
        stats = [_mean_std([v[i] for v in r["values"]]) for i in range(3)]
        if len(r["values"]) > 1:
            ours = " / ".join(f"{m:.2f} +- {s:.2f}" for m, s in stats)
        else:  # one seed: no spread to show
            ours = " / ".join(f"{m:.2f}" for m, _ in stats)
        theirs = " / ".join(f"{m:.2f} +- {s:.2f}" for m, s in ref)
        z = " / ".join(f"{(m - rm) / rs:+.1f}" for (m, _), (rm, rs) in zip(stats, ref))
        if r["images"] != 1024:  # the original's values are for 1,024 images only
            z = "n/a"
        lines.append(
            f"| {kind} {first}/{second} | {r['images']:,} | {len(r['values'])} | {ours} | "
            f"{theirs} | "
            f"{z} | {r['peak_rss_mib']:.0f} ({r['rss_before_metric_mib']:.0f}) | "
            f"{r['spill_file_mib']:.0f} | {r['seconds_per_evaluation']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[1024, 16384])
    parser.add_argument("--seeds", type=int, default=20, help="seeds at 1,024 images")
    parser.add_argument(
        "--seeds-large", type=int, help="seeds above 1,024 images (default --seeds)"
    )
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=PAIRS)
    parser.add_argument("--first-seed", type=int, default=0, help="to extend an earlier run")
    parser.add_argument("--json", type=Path, help="also write the raw values here")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pair, images, seeds, first = args.child
        print(json.dumps(child(pair, int(images), int(seeds), int(first))))
        return 0
    if any(n % 1024 for n in args.images):
        parser.error("--images must be multiples of 1024 (the sets are repeated)")
    results = []
    for images in args.images:
        seeds = args.seeds if images <= 1024 else (args.seeds_large or args.seeds)
        for pair in args.pairs:
            command = [sys.executable, __file__, "--child", pair, str(images), str(seeds)]
            command.append(str(args.first_seed))
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"done {pair} {images}", file=sys.stderr, flush=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
