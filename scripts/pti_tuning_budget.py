"""PTI's tuning budget on the demo domain: fidelity after the W pivot and after 30 / 100 / 200
tuning steps, beside W+ optimisation, on the first N Fashion-MNIST test images (docs/pti.md):

  python scripts/pti_tuning_budget.py [--images 16] [--steps 30 100 200]

The pivot is the demo bench's W optimisation (100 steps, MSE + LPIPS-alex, lr 0.1); W+
optimisation uses the same losses and steps. Prints MSE and LPIPS-alex of the clamped
reconstructions and the process CPU seconds of each stage (one thread).
"""

from __future__ import annotations

import argparse
import time

import torch
from ganinv_pti.refiner import PTIRefiner

import ganinv
from ganinv.checkpoints.load import load_generator
from ganinv.core.space import Code
from ganinv.harness.data import build_dataset, image_of
from ganinv.nets.lpips_offline import lpips_network

LOSSES = {"mse": 1.0, "lpips_alex": 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--generator", default="registry/assets/demo_fmnist32_stylegan2.safetensors"
    )
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--steps", type=int, nargs="+", default=[30, 100, 200])
    args = parser.parse_args()
    torch.set_num_threads(1)
    g = load_generator(args.generator)
    data = build_dataset({"name": "fashion_mnist", "split": "test", "limit": args.images})
    images = torch.stack([image_of(data[i]) for i in range(args.images)])
    lpips = lpips_network("alex")

    def report(space, code: Code, label: str, seconds: float) -> None:
        with torch.no_grad():
            recon = space.render(code).clamp(-1, 1)
            mse = float((recon - images).square().mean())
            lp = float(lpips(images, recon).mean())
        print(f"{label:28s} mse {mse:.4f} lpips_alex {lp:.4f} cpu_s {seconds:.1f}", flush=True)

    wplus = ganinv.build("spaces", "wplus", generator=g)
    optimize = ganinv.build("refiners", {"name": "optimize", "steps": 100, "losses": LOSSES})
    start = time.process_time()
    code = optimize.refine(wplus, wplus.init_code(args.images), images)
    report(wplus, code, "W+ optimisation (100)", time.process_time() - start)

    w = ganinv.build("spaces", "w", generator=g)
    pti = PTIRefiner(
        pivot_steps=100,
        pivot_lr=0.1,
        pivot_losses=LOSSES,
        pivot_optimize_noise=False,
        tune_steps=0,
        lpips_threshold=None,
    )
    start = time.process_time()
    pivot = pti.refine(w, w.init_code(args.images), images)
    pivot = Code("w", {"w": pivot["w"]})
    report(w, pivot, "W pivot (W optimisation 100)", time.process_time() - start)
    for steps in args.steps:
        tuned = PTIRefiner(pivot_steps=0, tune_steps=steps, lpips_threshold=None)
        start = time.process_time()
        code = tuned.refine(w, pivot, images)
        report(w, code, f"W pivot + PTI ({steps} steps)", time.process_time() - start)


if __name__ == "__main__":
    main()
