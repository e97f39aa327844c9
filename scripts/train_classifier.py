"""Train the Fashion-MNIST classifier that judges edits in `ganinv bench` (editability section)
and write it with its measured test accuracy:

  python scripts/train_classifier.py [--epochs 6] [--out FILE]  # default: the shipped file

Train split (60,000 images, padded to 32 px as the demo data) with random shifts of up to 2 px
(generator outputs are not always centred), Adam 1e-3, batch 128; accuracy on the 10,000 test
images after training. A checkpoint (network, optimiser, epoch, RNG) is written to
``--work/checkpoint.pt`` after every epoch and resumed from when present.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganinv.checkpoints.safe_load import torch_load
from ganinv.core.io import atomic_write
from ganinv.harness.data import build_dataset, image_of
from ganinv.nets.fmnist_classifier import FmnistClassifier, save_classifier


def load_split(split: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(grey images [N, 1, 32, 32] in [-1, 1], labels [N], class names) of a Fashion-MNIST split."""
    dataset = build_dataset({"name": "fashion_mnist", "split": split})
    images = torch.stack([image_of(dataset[i])[:1] for i in range(len(dataset))])
    return images, torch.from_numpy(np.asarray(dataset.labels)), list(dataset.CLASS_NAMES)


def shifted(images: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Each image moved by a random integer offset in [-max_shift, max_shift] (black fill)."""
    padded = F.pad(images, [max_shift] * 4, value=-1.0)
    size = images.shape[-1]
    out = torch.empty_like(images)
    offsets = torch.randint(0, 2 * max_shift + 1, (images.shape[0], 2), generator=generator)
    for i, (dy, dx) in enumerate(offsets.tolist()):
        out[i] = padded[i, :, dy : dy + size, dx : dx + size]
    return out


def accuracy(network: FmnistClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    network.eval()
    with torch.no_grad():
        pred = torch.cat(
            [network(images[i : i + 1000]).argmax(1) for i in range(0, len(images), 1000)]
        )
    network.train()
    return float((pred == labels).double().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="registry/assets/demo_fmnist_classifier.safetensors")
    parser.add_argument("--work", default="runs/train-classifier", help="checkpoint folder")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images (tests)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train_x, train_y, names = load_split("train")
    if args.limit:
        train_x, train_y = train_x[: args.limit], train_y[: args.limit]
    test_x, test_y, _ = load_split("test")
    config = {"width": args.width, "num_classes": len(names), "resolution": 32}
    network = FmnistClassifier(**config)
    optimizer = torch.optim.Adam(network.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    start_epoch = 0
    checkpoint = Path(args.work) / "checkpoint.pt"
    if checkpoint.is_file():
        state = torch_load(checkpoint, str(checkpoint), kind="the classifier's training checkpoint")
        network.load_state_dict(state["network"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        start_epoch = int(state["epoch"])
        print(f"resumed after epoch {start_epoch}")

    started = time.time()
    for epoch in range(start_epoch, args.epochs):
        order = torch.randperm(len(train_x), generator=generator)
        total, count = 0.0, 0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            logits = network(shifted(train_x[idx], generator))
            loss = F.cross_entropy(logits, train_y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + float(loss.detach()) * len(idx), count + len(idx)
        state = {
            "network": network.state_dict(),
            "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(),
            "epoch": epoch + 1,
        }
        atomic_write(checkpoint, lambda p, s=state: torch.save(s, p))
        print(
            f"epoch {epoch + 1}/{args.epochs}: train loss {total / count:.4f}, "
            f"test accuracy {accuracy(network, test_x, test_y):.4f} "
            f"({time.time() - started:.0f} s)",
            flush=True,
        )

    test_accuracy = accuracy(network, test_x, test_y)
    info = {
        "test_accuracy": round(test_accuracy, 4),
        "test_images": len(test_y),
        "train_images": len(train_y),
        "epochs": args.epochs,
        "recipe": f"Adam lr {args.lr}, batch {args.batch_size}, random shifts of up to 2 px, "
        f"seed {args.seed}, scripts/train_classifier.py",
    }
    path = save_classifier(args.out, network, config, names, info)
    print(f"test accuracy {test_accuracy:.4f} on {len(test_y)} test images -> {path}")


if __name__ == "__main__":
    main()
