"""`ganinv edit {learn-direction, apply, blend, custom}`: editing inverted codes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Annotated

from ganinv.core.config import Range, Seed, flag_type

NAME = "edit"
HELP = "edit inverted codes: learn a direction, apply it, blend two images, custom one-pair edit"

# Share of the labelled codes held out to measure the direction's accuracy (0: none).
ValFraction = Annotated[float, Range(low=0, high=1, high_open=True)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="edit_command", metavar="EDIT", required=True)

    p = sub.add_parser("learn-direction", help="InterFaceGAN: linear classifier on codes")
    p.add_argument("--codes", required=True, help="folder of codes from `ganinv invert`")
    p.add_argument("--labels", required=True, help="JSON {name: 0|1} or CSV name,label")
    p.add_argument("--out", required=True, help="direction file (.safetensors)")
    p.add_argument("--part", default=None, help="code part to use (default: the W/W+ part)")
    p.add_argument("--val-fraction", type=flag_type(ValFraction), default=0.2)
    p.add_argument("--seed", type=flag_type(Seed), default=0)

    def method_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--method", required=True, help="method YAML or exported encoder")
        q.add_argument("--out", required=True, help="output folder")
        q.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))

    p = sub.add_parser("apply", help="move a code along a direction")
    method_args(p)
    p.add_argument("--code", required=True, help="code file or image")
    p.add_argument("--direction", required=True)
    p.add_argument(
        "--strength",
        type=flag_type(float),
        nargs="+",
        required=True,
        help="one or more strengths (one output each)",
    )

    p = sub.add_parser("blend", help="structure of one image, appearance of another")
    method_args(p)
    p.add_argument("--structure", required=True, help="code file or image")
    p.add_argument("--appearance", required=True, help="code file or image")

    p = sub.add_parser("custom", help="apply the edit (source -> edited) to a target")
    method_args(p)
    p.add_argument("--source", required=True, help="code file or image")
    p.add_argument("--edited", required=True, help="code file or image (edited copy of source)")
    p.add_argument("--target", required=True, help="code file or image")
    p.add_argument("--alpha", type=flag_type(float), default=1.0)
    p.add_argument("--parts", nargs="+", default=None, help="code parts to change (default all)")


def run(args: argparse.Namespace) -> int:
    if args.edit_command == "learn-direction":
        return _learn(args)
    from ganinv.core.images import save_image, to_uint8
    from ganinv.editing import operations as ops
    from ganinv.harness.configs import load_method
    from ganinv.harness.device import resolve_device
    from ganinv.harness.method import build_method

    method = build_method(load_method(args.method), resolve_device(args.device))
    out = Path(args.out)
    results = []
    if args.edit_command == "apply":
        from ganinv.editing.directions import load_direction

        code = ops.code_or_inversion(method, args.code)
        direction, _ = load_direction(args.direction)
        for strength in args.strength:
            results.append(
                (f"strength_{strength:+g}", *ops.apply_direction(method, code, direction, strength))
            )
    elif args.edit_command == "blend":
        results.append(
            (
                "blend",
                *ops.blend(
                    method,
                    ops.code_or_inversion(method, args.structure),
                    ops.code_or_inversion(method, args.appearance),
                ),
            )
        )
    else:
        codes = [ops.code_or_inversion(method, s) for s in (args.source, args.edited, args.target)]
        results.append(
            ("custom", *ops.custom_edit(method, *codes, alpha=args.alpha, parts=args.parts))
        )
    for name, code, image in results:
        code.save(out / f"{name}.safetensors")
        arrays = to_uint8(image)
        for i, array in enumerate(arrays):
            stem = name if len(arrays) == 1 else f"{name}_{i:03d}"
            save_image(array, out / f"{stem}.png")
        print(f"wrote {out / name}.safetensors and {len(arrays)} image(s)")
    return 0


def _learn(args: argparse.Namespace) -> int:
    import torch

    from ganinv.editing.directions import (
        align_labels,
        learn_direction,
        load_codes,
        read_labels,
        save_direction,
    )

    codes, names = load_codes(args.codes)
    keep, labels = align_labels(names, read_labels(args.labels))
    learned = learn_direction(
        codes.select(torch.tensor(keep)), labels, args.part, args.val_fraction, args.seed
    )
    save_direction(args.out, learned)
    val = "n/a" if learned.val_accuracy is None else f"{learned.val_accuracy:.3f}"
    print(
        f"direction on {learned.part!r} ({learned.num_positive} positive, "
        f"{learned.num_negative} negative): train accuracy {learned.train_accuracy:.3f}, "
        f"held-out {val}; wrote {args.out}"
    )
    return 0
