"""Add row labels and a title to a grid figure (rows of equal height), e.g. for docs/assets.

    python scripts/label_figure.py grid.png labelled.png --title "..." --rows input blend ...

The image itself is unchanged: a left margin carries one label per row, a top margin the title.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from ganinv.core.images import save_image
from ganinv.harness.grids import label_figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", type=Path, help="the grid image (PNG)")
    parser.add_argument("out", type=Path, help="where to write the labelled figure")
    parser.add_argument("--title", default="", help="caption written above the figure")
    parser.add_argument("--rows", nargs="*", default=[], help="one label per row, top to bottom")
    parser.add_argument("--label-width", type=int, default=150, help="row label column, pixels")
    args = parser.parse_args(argv)
    if not args.figure.is_file():
        print(f"label_figure: {args.figure} does not exist", file=sys.stderr)
        return 2
    if args.out.resolve() == args.figure.resolve():
        print("label_figure: write to another file (labelling twice would stack margins)")
        return 2
    image = np.asarray(Image.open(args.figure).convert("RGB"))
    print(save_image(label_figure(image, args.rows, args.title, args.label_width), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
