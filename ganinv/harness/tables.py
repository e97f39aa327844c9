"""The benchmark table: one row per method, one column per metric plus time and memory.

Written as Markdown, CSV, JSON and LaTeX; the best value of each column is marked (bold in
Markdown/LaTeX, ``best`` flags in JSON, a ``best_in`` column in CSV), respecting each column's
direction. Metric protocols become numbered footnotes. Per-image metrics also carry the standard
deviation of their per-image values ("mean ± std", a ``<key>_std`` CSV column, a ``std`` object in
JSON), explained by a footnote that also gives the 95% interval of the mean.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

from ganinv.core.errors import GanInvError

# Formats of the columns every table has (the rest: "{:.4f}"); a table read back keeps them.
_FORMATS = {"seconds_per_image": "{:.4g}", "peak_memory_mib": "{:.0f}"}
_MAX_TABLE_CHARS = 4 << 20


@dataclass
class Column:
    key: str
    title: str
    higher_is_better: bool
    fmt: str = "{:.4f}"
    protocol: dict[str, Any] = field(default_factory=dict)
    ranked: bool = True  # False: shown but never marked best (values not comparable)


@dataclass
class BenchTable:
    """Rows of values (None where a method has no value for a column)."""

    columns: list[Column]
    rows: list[tuple[str, dict[str, float | None]]]
    notes: list[str] = field(default_factory=list)
    # method label -> column key -> standard deviation of the per-image values
    spread: dict[str, dict[str, float]] = field(default_factory=dict)

    # -- building -------------------------------------------------------------------------------
    @staticmethod
    def from_results(results: list[dict[str, Any]]) -> BenchTable:
        """From `EvalResult.as_dict()` records (metric order: first appearance)."""
        columns: list[Column] = []
        seen: set[str] = set()
        for result in results:
            for name, m in result["metrics"].items():
                if name not in seen:
                    seen.add(name)
                    note = m.get("protocol", {}).get("note")  # e.g. "3 of 5 scales"
                    columns.append(
                        Column(
                            name,
                            f"{name} ({note})" if note else name,
                            bool(m["higher_is_better"]),
                            protocol=dict(m.get("protocol", {})),
                        )
                    )
        columns.append(
            Column(
                "seconds_per_image",
                "s/img",
                False,
                _FORMATS["seconds_per_image"],
                {"timing": results[0]["protocol"].get("timing", "")} if results else {},
            )
        )
        # CPU peak memory is the process's ru_maxrss, which only grows while a bench runs its
        # methods one after another: shown, but only GPU figures (reset per method) are ranked.
        columns.append(
            Column(
                "peak_memory_mib",
                "peak MiB",
                False,
                _FORMATS["peak_memory_mib"],
                {"memory": results[0]["peak_memory"].get("kind", "")} if results else {},
                ranked=all("cuda" in r["peak_memory"].get("kind", "") for r in results),
            )
        )
        rows = []
        spread: dict[str, dict[str, float]] = {}
        for result in results:
            stds = {
                name: float(m["std"])
                for name, m in result["metrics"].items()
                if _finite(m.get("std"))
            }
            if stds:
                spread[result["label"]] = stds
            values: dict[str, float | None] = {
                c.key: float(result["metrics"][c.key]["value"])
                if c.key in result["metrics"]
                else None
                for c in columns[:-2]
            }
            values["seconds_per_image"] = float(result["seconds_per_image"])
            values["peak_memory_mib"] = result["peak_memory"]["bytes"] / 2**20
            rows.append((result["label"], values))
        return BenchTable(columns, rows, spread=spread)

    @staticmethod
    def from_json(text: str, where: str = "table.json") -> BenchTable:
        """The table `to_json` wrote (a saved bench run), checked as untrusted data: every field
        of the expected type, values numbers or null; anything else is one `GanInvError` line."""

        def bad(what: str) -> GanInvError:
            return GanInvError(f"{where} is not a ganinv bench table ({what}); run `ganinv bench`")

        if len(text) > _MAX_TABLE_CHARS:
            raise bad(f"{len(text):,} characters")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise bad("not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            raise bad("no 'columns' list")
        if not isinstance(data.get("rows"), list):
            raise bad("no 'rows' list")
        columns = []
        for c in data["columns"]:
            if not isinstance(c, dict) or not isinstance(c.get("key"), str):
                raise bad("a column without a 'key' string")
            protocol = c.get("protocol", {})
            columns.append(
                Column(
                    c["key"],
                    str(c.get("title", c["key"])),
                    bool(c.get("higher_is_better", False)),
                    _FORMATS.get(c["key"], "{:.4f}"),
                    protocol if isinstance(protocol, dict) else {},
                    bool(c.get("ranked", True)),
                )
            )
        rows: list[tuple[str, dict[str, float | None]]] = []
        spread: dict[str, dict[str, float]] = {}
        for r in data["rows"]:
            if not isinstance(r, dict) or not isinstance(r.get("method"), str):
                raise bad("a row without a 'method' string")
            values = r.get("values", {})
            if not isinstance(values, dict) or not all(
                v is None or _finite(v) for v in values.values()
            ):
                raise bad(f"row {r['method']!r}: values must be numbers or null")
            rows.append((r["method"], {c.key: values.get(c.key) for c in columns}))
            std = r.get("std", {})
            if isinstance(std, dict):
                kept = {k: float(v) for k, v in std.items() if isinstance(k, str) and _finite(v)}
                if kept:
                    spread[r["method"]] = kept
        return BenchTable(columns, rows, spread=spread)

    def best(self, column: Column) -> float | None:
        values = [v[column.key] for _, v in self.rows if _finite(v.get(column.key))]
        if not values:
            return None
        return max(values) if column.higher_is_better else min(values)

    def is_best(self, column: Column, value: float | None) -> bool:
        # Only mark a winner when there is a comparison to win.
        return (
            column.ranked and _finite(value) and len(self.rows) > 1 and value == self.best(column)
        )

    def _cell(self, column: Column, value: float | None) -> str:
        return "–" if not _finite(value) else column.fmt.format(value)

    def std(self, label: str, column: Column) -> float | None:
        return self.spread.get(label, {}).get(column.key)

    def spread_text(self, label: str, column: Column) -> str:
        """ "± s" in the column's format, or "" when the method has no spread for it."""
        s = self.std(label, column)
        return "" if s is None else "± " + column.fmt.format(s)

    def _spread_keys(self) -> list[str]:
        return [c.key for c in self.columns if any(c.key in v for v in self.spread.values())]

    def spread_note(self) -> str | None:
        if not self.spread:
            return None
        return (
            "± : standard deviation of the per-image values over the test images (sample, ddof 1); "
            "the 95% interval of the mean is mean ± 1.96·std/√images (images: in the column's "
            "footnote)"
        )

    def header_title(self, column: Column) -> str:
        return f"{column.title} {'↑' if column.higher_is_better else '↓'}"

    def footnotes(self) -> list[str]:
        """One line per column with a protocol: ``[n] name: key=value; ...``."""
        out = []
        for i, column in enumerate(self.columns, 1):
            if column.protocol:
                text = "; ".join(f"{k}={_plain(v)}" for k, v in column.protocol.items())
                out.append(f"[{i}] {column.title}: {text}")
        note = self.spread_note()
        return out + ([note] if note else []) + list(self.notes)

    # -- formats --------------------------------------------------------------------------------
    def to_markdown(self) -> str:
        head = ["method"] + [
            self.header_title(c) + (f" [{i}]" if c.protocol else "")
            for i, c in enumerate(self.columns, 1)
        ]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for label, values in self.rows:
            cells = [label]
            for c in self.columns:
                text = self._cell(c, values.get(c.key))
                text = f"**{text}**" if self.is_best(c, values.get(c.key)) else text
                spread = self.spread_text(label, c)
                cells.append(f"{text} {spread}" if spread else text)
            lines.append("| " + " | ".join(cells) + " |")
        notes = self.footnotes()
        if notes:
            lines.append("")
            lines.extend(notes)
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        spread_keys = self._spread_keys()
        writer.writerow(
            ["method"]
            + [c.key for c in self.columns]
            + [f"{k}_std" for k in spread_keys]
            + ["best_in"]
        )
        for label, values in self.rows:
            best_in = [c.key for c in self.columns if self.is_best(c, values.get(c.key))]
            stds = self.spread.get(label, {})
            writer.writerow(
                [label]
                + [
                    "" if not _finite(values.get(c.key)) else repr(values[c.key])
                    for c in self.columns
                ]
                + [repr(stds[k]) if k in stds else "" for k in spread_keys]
                + [";".join(best_in)]
            )
        return buf.getvalue()

    def to_json(self) -> str:
        return json.dumps(
            {
                "columns": [
                    {
                        "key": c.key,
                        "title": c.title,
                        "higher_is_better": c.higher_is_better,
                        "ranked": c.ranked,
                        "protocol": c.protocol,
                    }
                    for c in self.columns
                ],
                "rows": [
                    {
                        "method": label,
                        "values": {c.key: values.get(c.key) for c in self.columns},
                        "best": {c.key: self.is_best(c, values.get(c.key)) for c in self.columns},
                        **({"std": self.spread[label]} if label in self.spread else {}),
                    }
                    for label, values in self.rows
                ],
                "footnotes": self.footnotes(),
            },
            indent=2,
        )

    def to_latex(self) -> str:
        spec = "l" + "r" * len(self.columns)
        head = ["Method"] + [
            _latex_escape(c.title)
            + (r"$\uparrow$" if c.higher_is_better else r"$\downarrow$")
            + (f"$^{{{i}}}$" if c.protocol else "")
            for i, c in enumerate(self.columns, 1)
        ]
        lines = [
            r"\begin{tabular}{" + spec + "}",
            r"\toprule",
            " & ".join(head) + r" \\",
            r"\midrule",
        ]
        for label, values in self.rows:
            cells = [_latex_escape(label)]
            for c in self.columns:
                text = self._cell(c, values.get(c.key)).replace("–", "--")
                text = r"\textbf{" + text + "}" if self.is_best(c, values.get(c.key)) else text
                s = self.std(label, c)
                if s is not None:
                    text += r" {\scriptsize$\pm$" + c.fmt.format(s) + "}"
                cells.append(text)
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        notes = self.footnotes()
        if notes:
            lines.append("% " + "\n% ".join(_latex_escape(n) for n in notes))
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_markdown()


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


_LATEX_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
