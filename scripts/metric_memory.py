"""Peak memory of the streaming metrics for 256 vs 2048 images: it should stay flat.

Each run happens in a fresh subprocess (peak RSS never decreases within a process). Images are
random 64x64 batches generated on the fly, so only the metrics hold memory. FID runs its
statistics part with a fixed random 2048-d feature projection (no Inception weights needed);
LPIPS converts its offline weights into the cache on first use.

    python scripts/metric_memory.py [--images 256 2048] [--batch 32]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

METRICS = ("mse", "psnr", "ssim", "ms_ssim", "lpips_alex", "swd", "fid")


def _current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


def measure(images: int, batch: int) -> dict:
    import torch

    from ganinv.core.registry import METRICS as REGISTRY
    from ganinv.metrics.timing import peak_cpu_rss_bytes

    torch.manual_seed(0)
    projection = torch.nn.Sequential(
        torch.nn.AdaptiveAvgPool2d(8), torch.nn.Flatten(), torch.nn.Linear(192, 2048)
    ).requires_grad_(False)
    metrics = {
        name: REGISTRY.build(name, **({"feature_extractor": projection} if name == "fid" else {}))
        for name in METRICS
    }
    generator = torch.Generator().manual_seed(1)

    def batch_pair(n: int):
        real = torch.rand(n, 3, 64, 64, generator=generator) * 2 - 1
        return real, (real + 0.2 * torch.randn(n, 3, 64, 64, generator=generator)).clamp(-1, 1)

    real, fake = batch_pair(batch)
    for metric in metrics.values():  # warm-up: weights loaded, buffers allocated
        metric.update(real, fake)
    baseline = _current_rss_bytes()
    for _ in range(batch, images, batch):
        real, fake = batch_pair(batch)
        for metric in metrics.values():
            metric.update(real, fake)
    values = {name: metric.compute().value for name, metric in metrics.items()}
    state_bytes = sum(
        t.numel() * t.element_size() for m in metrics.values() for t in m.state().values()
    )
    return {
        "images": images,
        "peak_rss_mib": peak_cpu_rss_bytes() / 2**20,
        "rss_after_warmup_mib": baseline / 2**20,
        "state_mib": state_bytes / 2**20,
        "values": values,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs=2, default=[256, 2048])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.batch)))
        return 0
    results = []
    for n in args.images:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), "--batch", str(args.batch)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in results:
        print(
            f"{r['images']:>6} images: peak RSS {r['peak_rss_mib']:.1f} MiB "
            f"(after warm-up {r['rss_after_warmup_mib']:.1f} MiB), metric state "
            f"{r['state_mib']:.1f} MiB"
        )
    small, large = results
    print(f"metrics: {', '.join(METRICS)}; 64x64 images, batch {args.batch}")
    print(
        f"peak RSS ratio {large['images']}/{small['images']}: "
        f"{large['peak_rss_mib'] / small['peak_rss_mib']:.3f}"
    )
    print(f"state size ratio: {large['state_mib'] / small['state_mib']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
