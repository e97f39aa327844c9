"""A quality-vs-time scatter plot as inline SVG text (no plotting library needed)."""

from __future__ import annotations

import math
from html import escape

_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / (count - 1) for i in range(count)]


def scatter_svg(
    points: list[tuple[str, float, float]],
    x_label: str,
    y_label: str,
    log_x: bool = True,
    width: int = 560,
    height: int = 360,
) -> str:
    """points: (label, x, y). Time axes span orders of magnitude, hence log x by default."""
    points = [p for p in points if math.isfinite(p[1]) and math.isfinite(p[2])]
    longest = max((len(p[0]) for p in points), default=0)
    left, top, bottom = 70, 20, 50
    right = max(150, 7 * longest + 40)  # room for the legend
    width = max(width, left + 300 + right)
    pw, ph = width - left - right, height - top - bottom
    if log_x:
        points = [p for p in points if p[1] > 0]

    def fx(x: float) -> float:
        return math.log10(x) if log_x else x

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>',
    ]
    if points:
        xs = [fx(p[1]) for p in points]
        ys = [p[2] for p in points]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        xpad = (x1 - x0) * 0.1 or 0.5
        ypad = (y1 - y0) * 0.1 or (abs(y0) * 0.1 or 0.5)
        x0, x1, y0, y1 = x0 - xpad, x1 + xpad, y0 - ypad, y1 + ypad

        def sx(v: float) -> float:
            return left + (v - x0) / (x1 - x0) * pw

        def sy(v: float) -> float:
            return top + ph - (v - y0) / (y1 - y0) * ph

        for t in _ticks(x0, x1):
            label = f"{10**t:.3g}" if log_x else f"{t:.3g}"
            parts.append(
                f'<line x1="{sx(t):.1f}" y1="{top + ph}" x2="{sx(t):.1f}" '
                f'y2="{top + ph + 4}" stroke="#333"/>'
            )
            parts.append(
                f'<text x="{sx(t):.1f}" y="{top + ph + 16}" text-anchor="middle">{label}</text>'
            )
        for t in _ticks(y0, y1):
            parts.append(
                f'<line x1="{left - 4}" y1="{sy(t):.1f}" x2="{left}" y2="{sy(t):.1f}" '
                'stroke="#333"/>'
            )
            parts.append(
                f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:.3g}</text>'
            )
        for i, (label, x, y) in enumerate(points):
            colour = _COLOURS[i % len(_COLOURS)]
            cx, cy = sx(fx(x)), sy(y)
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}">'
                f"<title>{escape(label)}: {x:.4g}, {y:.4g}</title></circle>"
            )
            ly = top + 14 + 16 * i
            parts.append(f'<circle cx="{left + pw + 14}" cy="{ly - 4}" r="5" fill="{colour}"/>')
            parts.append(f'<text x="{left + pw + 24}" y="{ly}">{escape(label)}</text>')
    else:
        parts.append(
            f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle">'
            "no finite values to plot</text>"
        )
    parts.append(
        f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">'
        f"{escape(x_label)}{' (log scale)' if log_x else ''}</text>"
    )
    parts.append(
        f'<text x="16" y="{top + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + ph / 2})">{escape(y_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
