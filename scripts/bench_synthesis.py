"""Time StyleGAN2 synthesis (forward, forward+backward) and report achieved GFLOP/s.

    python scripts/bench_synthesis.py [--threads N] [--repeats 7] [--configs small,256]

For each configuration: median (and min) seconds of ``G.synthesize(ws)`` without grad, and of
forward + backward of a scalar loss to ws, with G frozen (inversion: gradient to the code only)
and with G trainable (gradient to the weights too); for comparison, the same network with the
polyphase up-conv (`ops.conv_up2d_polyphase`) and with textbook zero-insertion ops (`*_ref`).
All variants are interleaved repetition by repetition. GFLOP/s counts the convolutions analytically
(2 FLOPs per multiply-add) for the standard formulation: 3x3 conv, stride-2 transposed 3x3 conv,
4x4 depthwise blur, 1x1 ToRGB; backward counts 1x forward for the input gradient and 1x more for
the weight gradient. The machine's matmul GFLOP/s (1024x1024 fp32 GEMM) is measured in the same
run so the two can be compared under the same load.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import platform
import statistics
import time

import torch

from ganinv.stylegan2 import ops
from ganinv.stylegan2.generator import StyleGAN2Generator

CONFIGS = {
    # name: (resolution, channels at every resolution, batch, w_dim)
    "64px-128ch-b8": (64, 128, 8, 128),
    "256px-b2": (256, None, 2, 512),  # NVlabs channel table, channel_base 16384 (cm=1)
}


def conv_macs(G: StyleGAN2Generator, batch: int) -> int:
    """Multiply-adds of one synthesis forward pass (standard formulation)."""
    macs = 0
    for info in G.layers:
        r, cin, cout = info.resolution, info.in_channels, info.out_channels
        if info.kind == "conv":
            macs += cin * cout * 9 * r * r
        elif info.kind == "conv_up":
            lo = r // 2
            macs += cin * cout * 9 * lo * lo  # transposed conv
            macs += cout * 16 * (r + 1) * (r + 1)  # depthwise 4x4 blur over the (2r+1)^2 map
        elif info.kind == "torgb":
            macs += cin * cout * r * r
    return macs * batch


def matmul_gflops(repeats: int) -> float:
    a = torch.randn(1024, 1024)
    a @ a
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * 1024**3 / statistics.median(times) / 1e9


@contextlib.contextmanager
def swapped_ops(**replacements):
    """Temporarily replace functions of `ganinv.stylegan2.ops` (the networks call them through
    the module, so the swap takes effect everywhere)."""
    saved = {name: getattr(ops, name) for name in replacements}
    for name, fn in replacements.items():
        setattr(ops, name, fn)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(ops, name, fn)


# Variants timed in the same run, interleaved repetition by repetition so that a change in the
# machine's load hits all of them alike: (label, G trainable, op replacements, FLOP factor).
VARIANTS = [
    ("fwd+bwd, G frozen", False, {}, 2),
    ("fwd+bwd, G trainable", True, {}, 3),
    ("fwd+bwd, frozen, polyphase up", False, {"conv_up2d": ops.conv_up2d_polyphase}, 2),
    (
        "fwd+bwd, frozen, textbook ops",
        False,
        {"conv_up2d": ops.conv_up2d_ref, "upsample2d": ops.upsample2d_ref},
        2,
    ),
]


def bench(name: str, repeats: int) -> None:
    resolution, width, batch, w_dim = CONFIGS[name]
    if width is None:
        G = StyleGAN2Generator(z_dim=w_dim, w_dim=w_dim, resolution=resolution, channel_base=16384)
    else:
        channels = {2**i: width for i in range(2, int(math.log2(resolution)) + 1)}
        G = StyleGAN2Generator(z_dim=w_dim, w_dim=w_dim, resolution=resolution, channels=channels)
    ws = torch.randn(batch, G.num_ws, w_dim, requires_grad=True)
    flops = 2 * conv_macs(G, batch)

    def forward() -> None:
        G.requires_grad_(False)
        with torch.no_grad():
            G.synthesize(ws)

    def forward_backward(trainable: bool, replacements: dict) -> None:
        G.requires_grad_(trainable)
        ws.grad = None
        with swapped_ops(**replacements):
            G.synthesize(ws).square().mean().backward()

    runs = [("forward", forward, 1)] + [
        (label, functools.partial(forward_backward, trainable, repl), factor)
        for label, trainable, repl, factor in VARIANTS
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in runs}
    for _, fn, _ in runs:
        fn()  # warm-up
    for _ in range(repeats):
        for label, fn, _ in runs:
            t = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t)
    print(f"{name}: {flops / 1e9:.1f} GFLOP per forward (analytic)")
    for label, _, factor in runs:
        median, best = statistics.median(times[label]), min(times[label])
        rate = factor * flops / median / 1e9
        print(f"  {label:<31} median {median:.3f} s  min {best:.3f} s  {rate:6.1f} GFLOP/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}"
    )
    print(f"matmul 1024^2 fp32 (before): {matmul_gflops(args.repeats):.1f} GFLOP/s")
    for name in args.configs.split(","):
        bench(name, args.repeats)
    print(f"matmul 1024^2 fp32 (after):  {matmul_gflops(args.repeats):.1f} GFLOP/s")


if __name__ == "__main__":
    main()
