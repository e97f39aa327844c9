"""One training process per run folder: an exclusive `flock` on ``OUT/.ganinv-run.lock``.

The kernel releases a `flock` when its process dies, SIGKILL included, so a lock file left by a
dead run is simply taken over: no stale-lock heuristics, no PID guessing. The file stays in place
(deleting it would let a third process lock a new file while a second still holds the old one);
it holds the PID and command of the last holder, for the message a refused process prints.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType

from ganinv.core.errors import GanInvError

LOCK_NAME = ".ganinv-run.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock
    fcntl = None  # type: ignore[assignment]


class RunLock:
    """Context manager: hold the run folder's lock, or raise `GanInvError` if another process does.

    ``with RunLock(out, "ganinv train"):`` creates `out` when needed.
    """

    def __init__(self, folder: str | os.PathLike[str], command: str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover - Windows: say so rather than pretend
            print(
                f"{self.command}: warning: no flock on this platform; nothing stops a second "
                f"process from writing into {str(self.folder)!r}",
                file=sys.stderr,
            )
            return
        if self.path.is_symlink():
            raise GanInvError(
                f"{str(self.path)!r} is a symbolic link, not ganinv's lock file; remove it or "
                "choose another output folder"
            )
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise GanInvError(
                f"{str(self.folder)!r} is in use by another training process ({holder}); wait "
                "for it to finish or stop it, or choose another output folder"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}: {self.command}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace")
    except OSError:
        text = ""
    first = "".join(c for c in text.split("\n", 1)[0] if c.isprintable()).strip()
    return first or "PID unknown"
