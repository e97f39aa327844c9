"""Labelled figures of the top GANSpace and SeFa directions of a generator (rows = components,
columns = strengths, one base sample), as `ganinv edit ganspace|sefa` compute them.

  python scripts/closed_form_figure.py [--generator FILE] [--out docs/assets] [--components 5]
      [--samples 300000]

Writes ``ganspace_<name>.png``, ``sefa_<name>.png`` and ``ganspace_layers_<name>.png`` (the first
component on the coarse rows, the fine rows and all rows: GANSpace's layer-wise edits
E(u_i, j-k)) and prints each component's record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ganinv.checkpoints.load import load_generator
from ganinv.editing.figures import save_labelled_grid
from ganinv.editing.ganspace import ganspace_direction, ganspace_pca
from ganinv.editing.sefa import sefa, sefa_direction


def render_edits(generator, base: torch.Tensor, directions, strengths) -> list[torch.Tensor]:  # noqa: ANN001
    """One column [K, 3, R, R] per strength: base W+ [1, num_ws, w_dim] + s * direction_k."""
    columns = []
    with torch.no_grad():
        for s in strengths:
            ws = torch.cat([base + s * d.expand_as(base[0]) for d in directions])
            columns.append(generator.synthesize(ws).clamp(-1, 1))
    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--generator", default="registry/assets/demo_fmnist32_stylegan2.safetensors"
    )
    parser.add_argument("--out", default="docs/assets", help="folder for the two PNGs")
    parser.add_argument("--components", type=int, default=5, help="rows: the top K")
    parser.add_argument("--samples", type=int, default=300_000, help="GANSpace's w samples")
    parser.add_argument("--seed", type=int, default=0, help="seed of GANSpace's samples")
    parser.add_argument("--base-seed", type=int, default=3, help="seed of the base sample")
    parser.add_argument("--psi", type=float, default=0.7, help="truncation of the base sample")
    parser.add_argument("--strengths", type=float, nargs="+", default=[-3, -2, -1, 0, 1, 2, 3])
    parser.add_argument("--sefa-scale", type=float, default=3.0, help="SeFa d = scale * strength")
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = load_generator(args.generator)
    name = Path(args.generator).stem.removeprefix("demo_")
    z = torch.randn(1, generator.z_dim, generator=torch.Generator().manual_seed(args.base_seed))
    with torch.no_grad():
        base = generator.mapping(z, truncation_psi=args.psi)
    out = Path(args.out)
    k = args.components

    pca = ganspace_pca(generator, args.samples, args.seed, components=k)
    rows = [ganspace_direction(pca, i, None, generator.num_ws) for i in range(k)]
    for _, info in rows:
        print({key: info[key] for key in ("component", "explained_variance_ratio", "sigma")})
    columns = render_edits(generator, base, [d for d, _ in rows], args.strengths)
    path = save_labelled_grid(
        out / f"ganspace_{name}.png",
        [(f"{s:+g} sigma", c) for s, c in zip(args.strengths, columns)],
        row_labels=[
            f"PC{i}: {info['explained_variance_ratio']:.1%} var" for i, (_, info) in enumerate(rows)
        ],
        title=f"GANSpace on {name}: top {k} PCs of {args.samples:,} w (seed {args.seed}), "
        f"all {generator.num_ws} W+ rows; base sample seed {args.base_seed}, psi {args.psi}",
        tile=64,
    )
    print(f"wrote {path}")

    half = generator.num_ws // 2
    ranges = [(0, half), (half, generator.num_ws), (0, generator.num_ws)]
    ranged = [ganspace_direction(pca, 0, r, generator.num_ws)[0] for r in ranges]
    columns = render_edits(generator, base, ranged, args.strengths)
    path = save_labelled_grid(
        out / f"ganspace_layers_{name}.png",
        [(f"{s:+g} sigma", c) for s, c in zip(args.strengths, columns)],
        row_labels=[f"PC0 rows {a}-{b - 1}" for a, b in ranges],
        title=f"GANSpace PC0 on {name} applied to W+ rows {ranges[0][0]}-{half - 1} (coarse), "
        f"{half}-{generator.num_ws - 1} (fine) and all; base sample seed {args.base_seed}",
        tile=64,
    )
    print(f"wrote {path}")

    factor = sefa(generator)
    rows = [sefa_direction(factor, i, generator.num_ws) for i in range(k)]
    for _, info in rows:
        print({key: info[key] for key in ("component", "eigenvalue", "eigenvalue_ratio")})
    strengths = [args.sefa_scale * s for s in args.strengths]
    columns = render_edits(generator, base, [d for d, _ in rows], strengths)
    path = save_labelled_grid(
        out / f"sefa_{name}.png",
        [(f"d = {s:+g}", c) for s, c in zip(strengths, columns)],
        row_labels=[f"SeFa {i}: eig {info['eigenvalue']:.3g}" for i, (_, info) in enumerate(rows)],
        title=f"SeFa on {name}: top {k} eigenvectors of the {generator.num_ws} row-normalised "
        f"style affines (all W+ rows; d = {args.sefa_scale:g} x the GANSpace strengths); base "
        f"sample seed {args.base_seed}, psi {args.psi}",
        tile=64,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
