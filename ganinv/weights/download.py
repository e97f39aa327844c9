"""Checked downloads: one public file to a local path, sha256-verified, resumable and atomic.

Only `ganinv weights download` calls this, on a user's request; nothing in ganinv downloads at run
time. The HTTP is `requests` (streaming, HTTP Range for resuming); the bytes go to
``<target>.ganinv-download`` next to the target and reach the target's name only through one
`os.replace` after their sha256 matched, so a failed or corrupted download never leaves a file
under the target's name:

- the server dies or the network drops: the partial file is kept and the next call resumes it
  with a Range request (``resume=False`` starts again);
- the bytes do not match the published sha256: the partial file is removed, nothing is left;
- no published hash: refused unless ``accept_unknown_hash``, in which case the sha256 is returned
  for the caller to record (trust on first use; later loads verify against that record).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ganinv.core.errors import GanInvError
from ganinv.weights.cache import sha256_file

PART_SUFFIX = ".ganinv-download"
_CHUNK = 1 << 16  # small enough that a dropped connection loses little


@dataclass(frozen=True)
class Expected:
    """What the published file must be: its full sha256, a published prefix of it (torch.hub
    names carry eight hex digits), and its size when a source states it."""

    sha256: str | None = None
    sha256_prefix: str | None = None
    size_bytes: int | None = None

    @property
    def has_hash(self) -> bool:
        return bool(self.sha256 or self.sha256_prefix)

    def matches(self, sha: str) -> bool:
        if self.sha256:
            return sha == self.sha256
        return sha.startswith(self.sha256_prefix or "")

    def describe(self) -> str:
        if self.sha256:
            return f"sha256 {self.sha256}"
        return f"a sha256 starting {self.sha256_prefix}" if self.sha256_prefix else "no hash"


def part_path(target: Path) -> Path:
    """Where the bytes of `target` accumulate until they are checked."""
    return target.with_name(target.name + PART_SUFFIX)


def _offline_hint(url: str, target: Path) -> str:
    return (
        f"without network, fetch {url} on a machine that has it and put the file at {target} "
        "(its sha256 is checked when ganinv loads it)"
    )


def download(
    url: str,
    target: str | os.PathLike[str],
    expected: Expected,
    *,
    accept_unknown_hash: bool = False,
    resume: bool = True,
    timeout: float = 30.0,
    progress: bool = True,
) -> str:
    """Fetch `url` to `target` and return its sha256.

    An existing `target` is never replaced: it is checked against `expected` and kept, or the
    call fails naming it. Raises `GanInvError` with one line saying what to do.
    """
    target = Path(target)
    if not url.startswith(("https://", "http://")):
        raise GanInvError(f"download URL {url!r} is not http(s); fix the card or catalogue entry")
    if not expected.has_hash and not accept_unknown_hash:
        raise GanInvError(
            f"{target.name}: no sha256 is published for {url}, so its content cannot be checked; "
            "pass --accept-unknown-hash to download it and record the hash it has now "
            "(later loads check that record)"
        )
    if target.exists() or target.is_symlink():
        return _check_existing(target, expected)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(target)
    if part.exists() and not resume:
        part.unlink()
    try:
        import requests
    except ImportError as exc:  # a core dependency; only a broken environment lacks it
        raise GanInvError(
            "downloads need the `requests` package (pip install requests); "
            + _offline_hint(url, target)
        ) from exc
    try:
        total = _fetch(requests, url, part, expected, timeout, progress)
    except requests.RequestException as exc:
        kept = part.stat().st_size if part.exists() else 0
        resume_note = (
            f"{kept} bytes kept in {part}; run the same command again to resume. " if kept else ""
        )
        raise GanInvError(
            f"could not download {url} ({type(exc).__name__}: {exc}); {resume_note}"
            f"{_offline_hint(url, target)}"
        ) from exc
    size = part.stat().st_size
    if total is not None and size != total:
        raise GanInvError(
            f"{url}: the server sent {size} of {total} bytes; {size} bytes kept in {part}, run "
            "the same command again to resume"
        )
    sha = sha256_file(part)
    if expected.has_hash and not expected.matches(sha):
        part.unlink()
        raise GanInvError(
            f"{url}: the downloaded file has sha256 {sha[:16]}..., expected "
            f"{expected.describe()}: corrupted or a different file; nothing was kept, try again "
            "or fetch it by hand"
        )
    os.replace(part, target)  # same folder: atomic
    return sha


def _check_existing(target: Path, expected: Expected) -> str:
    if not target.is_file():
        raise GanInvError(f"{target} exists and is not a regular file; move it away and retry")
    sha = sha256_file(target)
    if expected.has_hash and not expected.matches(sha):
        raise GanInvError(
            f"{target} exists with sha256 {sha[:16]}..., not {expected.describe()}; ganinv does "
            "not replace a file it did not download: move it away and run the command again"
        )
    return sha


def _fetch(requests, url: str, part: Path, expected: Expected, timeout: float, progress: bool):
    """Append the missing bytes of `url` to `part`; returns the total size when known."""
    from tqdm import tqdm

    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with requests.get(url, stream=True, headers=headers, timeout=timeout) as response:
        if response.status_code == 416 and offset:  # nothing left to send: the part is whole
            return offset
        if response.status_code not in (200, 206):
            raise GanInvError(f"{url}: the server answered HTTP {response.status_code}")
        if response.status_code == 206:
            start = _content_range_start(response.headers.get("Content-Range", ""))
            if start != offset:
                raise GanInvError(
                    f"{url}: the server resumed at byte {start}, not {offset}; run again with "
                    "--no-resume"
                )
        else:
            offset = 0  # the server ignored the Range request: start over
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else expected.size_bytes
        limit = expected.size_bytes or total
        with (
            open(part, "ab" if offset else "wb") as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=part.name.removesuffix(PART_SUFFIX),
                disable=not progress,
            ) as bar,
        ):
            written = offset
            for chunk in response.iter_content(_CHUNK):
                written += len(chunk)
                if limit is not None and written > limit:
                    out.close()
                    part.unlink()
                    raise GanInvError(
                        f"{url}: the server sent more than the {limit} bytes announced; nothing "
                        "was kept"
                    )
                out.write(chunk)
                bar.update(len(chunk))
    return total


def _content_range_start(header: str) -> int:
    # "bytes 100-199/200"
    try:
        return int(header.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return -1
