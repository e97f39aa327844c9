"""Learn the class direction the editability benchmark applies (T-shirt -> pullover by default)
from generator samples labelled by the shipped classifier, and print how often it flips samples:

  python scripts/learn_edit_direction.py [--samples 20000] [--out FILE]

1. Draw `--samples` seeded z, map them to W (no truncation), render (constant noise) and label
   each image with the classifier (argmax).
2. InterFaceGAN on the W codes of the samples labelled `--source` (0) and `--target` (1):
   logistic regression, unit normal = the direction [w_dim] (a W direction applies to every space
   that edits in W or W+, PadInv's and SDIC's included).
3. On fresh samples of the source class: the share the classifier assigns to the target class
   after moving their W by each of `--strengths` (how strong an edit has to be on codes that lie
   on the generator's own distribution; inverted codes may need other strengths).

Learned from generator samples rather than from one method's inversions, so the direction is
no method's and every method is judged with the same one.
"""

from __future__ import annotations

import argparse
import json

import torch

from ganinv.checkpoints.direction_file import DIRECTION_FORMAT
from ganinv.checkpoints.load import load_generator
from ganinv.core.safetensors_io import write_file
from ganinv.core.space import Code
from ganinv.editing.directions import learn_direction
from ganinv.nets.fmnist_classifier import load_classifier
from ganinv.weights.cache import sha256_file


def sample(
    generator: object, classifier: object, count: int, seed: int, chunk: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """(W codes [count, w_dim], classifier labels [count]) of seeded generator samples."""
    rng = torch.Generator().manual_seed(seed)
    ws, labels = [], []
    with torch.no_grad():
        for start in range(0, count, chunk):
            z = torch.randn(min(chunk, count - start), generator.z_dim, generator=rng)
            wplus = generator.mapping(z)
            images = generator.synthesize(wplus, noise_mode="const").clamp(-1, 1)
            ws.append(wplus[:, 0])
            labels.append(classifier.predict(images))
    return torch.cat(ws), torch.cat(labels)


def flip_rates(
    generator: object,
    classifier: object,
    ws: torch.Tensor,
    direction: torch.Tensor,
    target: int,
    strengths: list[float],
) -> dict[float, float]:
    rates = {}
    with torch.no_grad():
        for s in strengths:
            moved = (ws + s * direction).unsqueeze(1).expand(-1, generator.num_ws, -1)
            images = generator.synthesize(moved, noise_mode="const").clamp(-1, 1)
            rates[s] = float((classifier.predict(images) == target).double().mean())
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--generator", default="registry/assets/demo_fmnist32_stylegan2.safetensors"
    )
    parser.add_argument(
        "--classifier", default="registry/assets/demo_fmnist_classifier.safetensors"
    )
    parser.add_argument(
        "--out", default="registry/assets/demo_fmnist_tshirt_to_pullover.safetensors"
    )
    parser.add_argument("--source", type=int, default=0, help="class of label 0 (T-shirt/top)")
    parser.add_argument("--target", type=int, default=2, help="class of label 1 (Pullover)")
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strengths", type=float, nargs="+", default=[0, 1, 2, 3, 4, 6, 8])
    args = parser.parse_args()

    generator = load_generator(args.generator)
    classifier = load_classifier(args.classifier)
    ws, labels = sample(generator, classifier, args.samples, args.seed)
    counts = torch.bincount(labels, minlength=len(classifier.class_names)).tolist()
    print("samples per class:", dict(zip(classifier.class_names, counts)))
    keep = (labels == args.source) | (labels == args.target)
    codes = Code("w", {"w": ws[keep]})
    learned = learn_direction(codes, (labels[keep] == args.target).long(), part="w")
    print(
        f"direction {classifier.class_names[args.source]} -> {classifier.class_names[args.target]}:"
        f" train accuracy {learned.train_accuracy:.3f}, held-out {learned.val_accuracy:.3f} "
        f"({learned.num_negative} source, {learned.num_positive} target samples)"
    )
    # Fresh samples (another seed) of the source class: how often does the edit flip them?
    fresh_ws, fresh_labels = sample(generator, classifier, args.samples // 4, args.seed + 1)
    fresh = fresh_ws[fresh_labels == args.source]
    rates = flip_rates(generator, classifier, fresh, learned.direction, args.target, args.strengths)
    print(f"share of {len(fresh)} fresh source samples classified as target after the edit:")
    for s, rate in rates.items():
        print(f"  strength {s:g}: {rate:.3f}")
    info = {
        **learned.info(),
        "method": "interfacegan (logistic regression) on generator samples labelled by the "
        "classifier",
        "source_class": args.source,
        "target_class": args.target,
        "class_names": [classifier.class_names[args.source], classifier.class_names[args.target]],
        "samples": args.samples,
        "seed": args.seed,
        "generator_sha256": sha256_file(args.generator),
        "classifier_sha256": sha256_file(args.classifier),
        "flip_rate_on_fresh_samples": {f"{s:g}": round(r, 4) for s, r in rates.items()},
        "script": "scripts/learn_edit_direction.py",
    }
    header = {"format": DIRECTION_FORMAT, "info": json.dumps(info)}
    path = write_file(args.out, {"direction": learned.direction.float()}, header)
    print(f"-> {path}")


if __name__ == "__main__":
    main()
