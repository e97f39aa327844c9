"""`ganinv edit {learn-direction, ganspace, sefa, apply, blend, custom}`: editing inverted codes.

Directions: learned from labelled codes (InterFaceGAN, logistic regression or linear SVM) or in
closed form from the generator alone (GANSpace, SeFa); all are written as one direction file
format that `edit apply` reads."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Annotated, Any

from ganinv.cli.options import add_device
from ganinv.core.config import PositiveFloat, Range, Seed, flag_type

CLASSIFIERS = ("logistic", "svm")  # ganinv.editing.directions.CLASSIFIER_NAMES (no torch import)

NAME = "edit"
HELP = (
    "edit inverted codes: learn or compute a direction (InterFaceGAN, GANSpace, SeFa), apply it, "
    "blend two images, custom one-pair edit"
)

# Share of the labelled codes held out to measure the direction's accuracy (0: none).
ValFraction = Annotated[float, Range(low=0, high=1, high_open=True)]
WRow = Annotated[int, Range(low=0)]
Samples = Annotated[int, Range(low=2, high=100_000_000)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="edit_command", metavar="EDIT", required=True)

    p = sub.add_parser("learn-direction", help="InterFaceGAN: linear classifier on codes")
    p.add_argument("--codes", required=True, help="folder of codes from `ganinv invert`")
    p.add_argument(
        "--labels",
        required=True,
        help="JSON {name: 0|1}, CSV name,label, or the dataset.json of `ganinv data convert` "
        "(class labels: choose --positive and --negative)",
    )
    p.add_argument("--out", required=True, help="direction file (.safetensors)")
    p.add_argument("--part", default=None, help="code part to use (default: the W/W+ part)")
    p.add_argument(
        "--positive",
        type=flag_type(int),
        nargs="+",
        default=None,
        help="class label(s) taken as positive (label 1); the direction points towards them",
    )
    p.add_argument(
        "--negative", type=flag_type(int), nargs="+", default=None, help="class label(s) as 0"
    )
    p.add_argument(
        "--classifier",
        choices=CLASSIFIERS,
        default="logistic",
        help="logistic regression, or svm: InterFaceGAN's linear SVM (LinearSVC's squared hinge)",
    )
    p.add_argument(
        "--svm-c", type=flag_type(PositiveFloat), default=1.0, help="SVM penalty C (svm only)"
    )
    p.add_argument(
        "--val-fraction",
        type=flag_type(ValFraction),
        default=0.2,
        help="share of the codes held out to measure accuracy",
    )
    p.add_argument("--seed", type=flag_type(Seed), default=0, help="seed of the held-out split")
    p.add_argument(
        "--orthogonal-to",
        nargs="+",
        default=[],
        metavar="DIRECTION",
        help="InterFaceGAN's conditional boundary: remove the learned direction's components "
        "along these direction files (attributes the edit should not change)",
    )

    def closed_form_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--generator", required=True, help="generator file or catalogue name")
        q.add_argument("--out", required=True, help="direction file (.safetensors)")
        q.add_argument(
            "--component",
            type=flag_type(Annotated[int, Range(low=0)]),
            default=0,
            help="which direction, 0 = the largest (variance or eigenvalue)",
        )
        q.add_argument(
            "--layers",
            type=flag_type(WRow),
            nargs=2,
            metavar=("START", "END"),
            default=None,
            help="W+ rows START .. END-1 the direction moves (end exclusive; default all)",
        )
        add_device(q)

    p = sub.add_parser("ganspace", help="GANSpace: a principal component of sampled W")
    closed_form_args(p)
    p.add_argument(
        "--samples",
        type=flag_type(Samples),
        default=300_000,
        help="w samples for the PCA (GANSpace's default 300,000)",
    )
    p.add_argument("--seed", type=flag_type(Seed), default=0, help="seed of the z samples")

    p = sub.add_parser("sefa", help="SeFa: an eigenvector of the style affine weights")
    closed_form_args(p)
    p.add_argument(
        "--normalize-rows",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="normalise each style channel's weights (genforce's SeFa; off = rosinality's)",
    )

    def method_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--method", required=True, help="method YAML or exported encoder")
        q.add_argument("--out", required=True, help="output folder")
        add_device(q)

    p = sub.add_parser("apply", help="move a code along a direction")
    method_args(p)
    p.add_argument("--code", required=True, help="code file or image")
    p.add_argument(
        "--direction",
        required=True,
        help="direction file (from learn-direction, ganspace, sefa) or its registry card name",
    )
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
    p.add_argument(
        "--alpha",
        type=flag_type(float),
        default=1.0,
        help="strength of the pair's difference added to the target (default 1)",
    )
    p.add_argument("--parts", nargs="+", default=None, help="code parts to change (default all)")


def run(args: argparse.Namespace) -> int:
    without_method = {"learn-direction": _learn, "ganspace": _ganspace, "sefa": _sefa}
    if args.edit_command in without_method:
        return without_method[args.edit_command](args)
    from ganinv.core.images import save_image, to_uint8
    from ganinv.core.space import Code
    from ganinv.editing import operations as ops
    from ganinv.editing.figures import save_labelled_grid
    from ganinv.harness.configs import load_method
    from ganinv.harness.device import resolve_device
    from ganinv.harness.method import build_method

    method = build_method(load_method(args.method), resolve_device(args.device))
    out = Path(args.out)
    results = []
    columns = []  # the figure: inputs, their reconstructions, then the results

    def source(label: str, value: str) -> Code:
        code, images = ops.code_and_input(method, value)
        if images is not None:
            columns.append((f"{label} (input)", images))
        rendered = "reconstruction" if images is not None else f"code {Path(value).name}"
        columns.append((f"{label} ({rendered})", ops.render(method, code)))
        return code

    if args.edit_command == "apply":
        from ganinv.editing.directions import load_direction

        code = source("image", args.code)
        direction, info = load_direction(args.direction)
        for strength in args.strength:
            results.append(
                (f"strength_{strength:+g}", *ops.apply_direction(method, code, direction, strength))
            )
        record = [str(info["method"])] if "method" in info else []
        record += [f"{k} {info[k]}" for k in ("classifier", "component", "layers") if k in info]
        title = f"{Path(args.direction).name} ({', '.join(record) or 'direction'})"
    elif args.edit_command == "blend":
        structure, appearance = (
            source("structure", args.structure),
            source("appearance", args.appearance),
        )
        results.append(("blend", *ops.blend(method, structure, appearance)))
        title = "blend: structure of one image, appearance of the other"
    else:
        codes = [
            source(n, s)
            for n, s in (("source", args.source), ("edited", args.edited), ("target", args.target))
        ]
        results.append(
            ("custom", *ops.custom_edit(method, *codes, alpha=args.alpha, parts=args.parts))
        )
        title = f"custom edit: target + {args.alpha:g} x (edited - source)"
    for name, code, image in results:
        code.save(out / f"{name}.safetensors")
        arrays = to_uint8(image)
        for i, array in enumerate(arrays):
            stem = name if len(arrays) == 1 else f"{name}_{i:03d}"
            save_image(array, out / f"{stem}.png")
        print(f"wrote {out / name}.safetensors and {len(arrays)} image(s)")
        columns.append((name.replace("_", " "), image))
    if _one_batch_size(columns):
        figure = save_labelled_grid(out / "figure.png", columns, title=title)
        print(f"wrote {figure} (inputs and results side by side)")
    return 0


def _one_batch_size(columns: list) -> bool:
    """A figure has one row per image: every column holds one image or the same number."""
    sizes = {images.shape[0] for _, images in columns} - {1}
    return len(sizes) <= 1


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
    labels_by_name = read_labels(args.labels, args.positive, args.negative)
    keep, labels = align_labels(names, labels_by_name)
    learned = learn_direction(
        codes.select(torch.tensor(keep)),
        labels,
        args.part,
        args.val_fraction,
        args.seed,
        classifier=args.classifier,
        svm_c=args.svm_c,
    )
    if args.orthogonal_to:
        from ganinv.editing.conditional import project_out
        from ganinv.editing.directions import load_direction

        conditions = [load_direction(path)[0] for path in args.orthogonal_to]
        learned.direction = project_out(learned.direction, conditions)
        learned.conditions = [str(path) for path in args.orthogonal_to]
    save_direction(args.out, learned)
    val = "n/a" if learned.val_accuracy is None else f"{learned.val_accuracy:.3f}"
    print(
        f"{args.classifier} direction on {learned.part!r} ({learned.num_positive} positive, "
        f"{learned.num_negative} negative): train accuracy {learned.train_accuracy:.3f}, "
        f"held-out {val}; wrote {args.out}"
    )
    return 0


def _generator(args: argparse.Namespace) -> Any:
    from ganinv.checkpoints.load import load_generator
    from ganinv.harness.device import resolve_device

    return load_generator(args.generator, resolve_device(args.device))


def _generator_record(args: argparse.Namespace) -> dict[str, str]:
    """Which generator a closed-form direction comes from: as given, and the file's sha256."""
    from ganinv.weights.cache import sha256_file

    record = {"generator": str(args.generator)}
    if Path(args.generator).is_file():  # else a catalogue name (its card has the sha256)
        record["generator_sha256"] = sha256_file(args.generator)
    return record


def _ganspace(args: argparse.Namespace) -> int:
    from ganinv.editing.directions import write_direction
    from ganinv.editing.ganspace import ganspace_direction, ganspace_pca

    generator = _generator(args)
    result = ganspace_pca(
        generator, args.samples, args.seed, components=max(80, args.component + 1)
    )
    direction, info = ganspace_direction(result, args.component, args.layers, generator.num_ws)
    write_direction(args.out, direction, {**info, **_generator_record(args)})
    print(
        f"GANSpace component {args.component} on W+ rows {info['layers'][0]}..."
        f"{info['layers'][1] - 1}: {info['explained_variance_ratio']:.1%} of the variance of "
        f"{args.samples:,} w samples, sigma {info['sigma']:.4g} (strength 1 = 1 sigma); "
        f"wrote {args.out}"
    )
    return 0


def _sefa(args: argparse.Namespace) -> int:
    from ganinv.editing.directions import write_direction
    from ganinv.editing.sefa import sefa, sefa_direction

    generator = _generator(args)
    result = sefa(generator, args.layers, args.normalize_rows)
    direction, info = sefa_direction(result, args.component, generator.num_ws)
    write_direction(args.out, direction, {**info, **_generator_record(args)})
    print(
        f"SeFa direction {args.component} on W+ rows {info['layers'][0]}..."
        f"{info['layers'][1] - 1} ({', '.join(result.layer_names)}): eigenvalue "
        f"{info['eigenvalue']:.4g} ({info['eigenvalue_ratio']:.1%} of the sum); wrote {args.out}"
    )
    return 0
