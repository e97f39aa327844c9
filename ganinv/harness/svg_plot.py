"""A quality-vs-time scatter plot as inline SVG text (no plotting library needed).

Each method gets a number, a colour and a marker shape; the pair (colour, shape) differs between
any two of the first 50 methods, and the number is drawn beside the point and in the legend, so the
legend maps one-to-one onto the points even in greyscale print. Axes use 1-2-5 ticks; the time axis
is logarithmic with decade ticks; a quantity that cannot be negative (every value >= 0) never gets
a negative axis range.
"""

from __future__ import annotations

import math
from html import escape

# Ten colours far apart for normal and most colour-deficient vision (Tableau 10).
COLOURS = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#404040",
]
MARKERS = ["circle", "square", "triangle", "diamond", "triangle_down"]


def marker_style(index: int) -> tuple[str, str]:
    """(colour, shape) of the method at `index`; unique for index < 50."""
    colour_index, cycle = index % len(COLOURS), index // len(COLOURS)
    return COLOURS[colour_index], MARKERS[(colour_index + cycle) % len(MARKERS)]


def marker_svg(shape: str, cx: float, cy: float, colour: str, r: float = 5.5) -> str:
    """One marker as an SVG element (dark outline so light colours show on white)."""
    style = f'fill="{colour}" stroke="#222" stroke-width="0.8"'
    if shape == "circle":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" {style}/>'
    if shape == "square":
        s = r * 0.9
        return (
            f'<rect x="{cx - s:.1f}" y="{cy - s:.1f}" width="{2 * s:.1f}" '
            f'height="{2 * s:.1f}" {style}/>'
        )
    if shape == "diamond":
        pts = [(cx, cy - r * 1.2), (cx + r, cy), (cx, cy + r * 1.2), (cx - r, cy)]
    elif shape == "triangle":
        pts = [(cx, cy - r * 1.2), (cx + r * 1.1, cy + r * 0.8), (cx - r * 1.1, cy + r * 0.8)]
    else:  # triangle_down
        pts = [(cx, cy + r * 1.2), (cx + r * 1.1, cy - r * 0.8), (cx - r * 1.1, cy - r * 0.8)]
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    return f'<polygon points="{text}" {style}/>'


def nice_ticks(lo: float, hi: float, count: int = 8) -> list[float]:
    """Round ticks (1, 2, 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(0.0 if abs(t) < step * 1e-9 else t)
        t += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick exponents for a log10 axis spanning [lo, hi] (exponents): decades, or 1-2-5 inside."""
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 3:
        return [float(d) for d in decades]
    ticks = []
    for d in range(math.floor(lo) - 1, math.ceil(hi) + 1):
        for m in (1, 2, 5):
            e = d + math.log10(m)
            if lo - 1e-9 <= e <= hi + 1e-9:
                ticks.append(e)
    return ticks


def format_tick(value: float) -> str:
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:.6g}"
    return f"{value:.0e}"


def scatter_svg(
    points: list[tuple[str, float, float]],
    x_label: str,
    y_label: str,
    log_x: bool = True,
    width: int = 1000,
    height: int = 420,
    numbers: list[int] | None = None,
) -> str:
    """points: (label, x, y). Time axes span orders of magnitude, hence log x by default.

    `numbers` are the methods' 1-based numbers (default: position in `points`); they pick the
    marker style, so a method keeps its marker across plots of different metrics even when a
    metric has no value for some methods.
    """
    numbers = numbers if numbers is not None else list(range(1, len(points) + 1))
    kept = [
        (n, p)
        for n, p in zip(numbers, points)
        if math.isfinite(p[1]) and math.isfinite(p[2]) and (p[1] > 0 or not log_x)
    ]
    longest = max((len(p[0]) for _, p in kept), default=0)
    left, top, bottom = 78, 16, 52
    right = min(max(180, int(6.2 * longest) + 60), 460)  # legend column
    legend_rows = max(len(kept), 1)
    height = max(height, top + 16 * legend_rows + 20)
    pw, ph = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fcfcfc" stroke="#999"/>',
    ]
    if kept:
        xs = [math.log10(p[1]) if log_x else p[1] for _, p in kept]
        ys = [p[2] for _, p in kept]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        xpad = (x1 - x0) * 0.08 or 0.3
        ypad = (y1 - y0) * 0.08 or (abs(y0) * 0.1 or 0.5)
        # A quantity that is never negative (errors, distances, times) gets no negative range.
        y_floor = 0.0 if y0 >= 0 else -math.inf
        x0, x1, y0, y1 = x0 - xpad, x1 + xpad, max(y0 - ypad, y_floor), y1 + ypad

        def sx(v: float) -> float:
            return left + (v - x0) / (x1 - x0) * pw

        def sy(v: float) -> float:
            return top + ph - (v - y0) / (y1 - y0) * ph

        for t in log_ticks(x0, x1) if log_x else nice_ticks(x0, x1):
            label = format_tick(10**t if log_x else t)
            parts.append(
                f'<line x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{top + ph + 4}" '
                'stroke="#e4e4e4"/>'
            )
            parts.append(
                f'<text x="{sx(t):.1f}" y="{top + ph + 18}" text-anchor="middle">{label}</text>'
            )
        for t in nice_ticks(y0, y1):
            parts.append(
                f'<line x1="{left - 4}" y1="{sy(t):.1f}" x2="{left + pw}" y2="{sy(t):.1f}" '
                'stroke="#e4e4e4"/>'
            )
            parts.append(
                f'<text x="{left - 7}" y="{sy(t) + 4:.1f}" text-anchor="end">'
                f"{format_tick(t)}</text>"
            )
        for row, ((number, (label, x, y)), xv) in enumerate(zip(kept, xs)):
            colour, shape = marker_style(number - 1)
            cx, cy = sx(xv), sy(y)
            parts.append(
                f'<g class="point" data-method="{escape(label)}">'
                f"<title>{number}. {escape(label)}: {x:.4g} s, {y:.4g}</title>"
                + marker_svg(shape, cx, cy, colour)
                + f'<text x="{cx + 8:.1f}" y="{cy - 6:.1f}" font-size="11" fill="#222">'
                f"{number}</text></g>"
            )
            ly = top + 12 + 16 * row
            lx = left + pw + 18
            parts.append(
                marker_svg(shape, lx, ly - 4, colour, r=5)
                + f'<text x="{lx + 10}" y="{ly}" class="legend">{number}. {escape(label)}</text>'
            )
    else:
        parts.append(
            f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle">'
            "no finite values to plot</text>"
        )
    parts.append(
        f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">'
        f"{escape(x_label)}{' (log scale)' if log_x else ''}</text>"
    )
    parts.append(
        f'<text x="18" y="{top + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {top + ph / 2})">{escape(y_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
