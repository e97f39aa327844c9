"""Atomic writes leave either the old file or the new one, never a partial file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganinv.core.io import atomic_write, atomic_write_text


def test_failed_write_keeps_old_content_and_leaves_no_temp(tmp_path: Path):
    target = tmp_path / "result.json"
    atomic_write_text(target, "old")

    def explode(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
