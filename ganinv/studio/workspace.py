"""Where a studio may write, and how it reads what a browser uploads.

One root folder per server (``tempfile.mkdtemp``, mode 0700), removed when the server stops:
``uploads/`` is the web framework's upload cache (uploads land nowhere else), ``sessions/<id>/``
holds what one browser session produced, removed when that session ends. Nothing is written
outside the root, and only folders this module created are ever removed.

Uploads are untrusted: a file larger than the studio's limit is refused before it is read, and
decoding follows `ganinv.data.decode` (signature check, pixel-count limit from the header before any
pixel is decoded, truncated files refused), then the CLI's own crop and resize
(`ganinv.harness.inputs.read_image`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.progress import Cancelled, observe_steps
from ganinv.core.space import Code

if TYPE_CHECKING:
    from ganinv.studio.catalog import Catalog

_ROOT_PREFIX = "ganinv-studio-"


class Session:
    """One browser session: its folder and its Cancel flag (set by the Cancel button, read
    before every step of the work it stops)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cancel_requested = threading.Event()
        self.image: torch.Tensor | None = None  # the Invert tab's input [1, 3, R, R]
        self.image_version = 0  # bumped with every new input (keys the codes below)
        self.codes: dict[tuple[str, str], Code] = {}  # (method, image key) -> its inversion

    def set_image(self, image: torch.Tensor) -> None:
        self.image = image
        self.image_version += 1

    def code_for(self, catalog: Catalog, label: str, key: str, image: torch.Tensor) -> Code:
        """The code of `image` under method `label`, inverted once per session and kept."""
        if (label, key) not in self.codes:
            # The Edit tab has no Cancel button: a Cancel left over from the Invert tab must
            # not stop it.
            self.cancel_requested.clear()
            with observe_steps(self.check_cancel):
                code, _ = catalog.method(label).invert(image)
            self.codes[(label, key)] = code
        return self.codes[(label, key)]

    def check_cancel(self, desc: str = "", step: int = 0, total: int = 0) -> None:
        """A step observer (`ganinv.core.progress.observe_steps`) that stops on Cancel."""
        if self.cancel_requested.is_set():
            raise Cancelled("cancelled")

    def close(self) -> None:
        self.codes.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


class Workspace:
    """The studio's root folder, its upload cache and its sessions."""

    def __init__(self, max_upload_bytes: int, parent: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=_ROOT_PREFIX, dir=parent))  # mode 0700
        self.uploads = self.root / "uploads"
        self.sessions = self.root / "sessions"
        self.uploads.mkdir(mode=0o700)
        self.sessions.mkdir(mode=0o700)
        self.max_upload_bytes = max_upload_bytes
        self._open: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new_session(self, key: str | None = None) -> Session:
        """A session with a fresh folder; `key` (the browser's session id) finds it again."""
        folder = self.sessions / uuid.uuid4().hex
        folder.mkdir(mode=0o700)
        session = Session(folder)
        with self._lock:
            self._open[key or folder.name] = session
        return session

    def end_session_of(self, key: str) -> None:
        """End the session opened with `key` (the browser left), if it is still open."""
        with self._lock:
            session = self._open.get(key)
        self.end_session(session)

    def end_session(self, session: Session | None) -> None:
        if session is None:
            return
        with self._lock:
            for key in [k for k, v in self._open.items() if v is session]:
                del self._open[key]
        if session.folder.parent == self.sessions:  # only a folder this workspace made
            session.close()

    @property
    def open_sessions(self) -> int:
        with self._lock:
            return len(self._open)

    def read_upload(self, path: str | os.PathLike[str], resolution: int) -> torch.Tensor:
        """An uploaded image file -> [1, 3, R, R] in [-1, 1] (the CLI's crop and resize)."""
        from ganinv.harness.inputs import read_image

        path = Path(path)
        if not _inside(path, self.uploads):
            raise GanInvError("studio: uploads are read only from the studio's upload folder")
        size = path.stat().st_size
        if size > self.max_upload_bytes:
            raise GanInvError(
                f"the upload is {size / 2**20:.1f} MB; the studio takes images up to "
                f"{self.max_upload_bytes / 2**20:.0f} MB (ganinv studio --max-upload-mb)"
            )
        return read_image(path, resolution)[None]

    def close(self) -> None:
        """Remove the root folder and everything in it (the server is stopping)."""
        with self._lock:
            sessions = list(self._open.values())
            self._open.clear()
        for session in sessions:
            session.close()
        if self.root.name.startswith(_ROOT_PREFIX):
            shutil.rmtree(self.root, ignore_errors=True)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
