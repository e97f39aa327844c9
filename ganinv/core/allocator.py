"""Process memory policy for CPU runs: keep freed tensor memory for the next step.

glibc's malloc hands blocks above its mmap threshold to the kernel on free, and returns free
memory at the top of the heap once it exceeds the trim threshold. An optimisation frees and
allocates the same activation sizes every step, so each step page-faults its activations in
again: the demo generator's forward + backward (batch 64, 32 px) took 9,000-17,000 minor page
faults and 7-25 % of its CPU time went to them (docs/performance.md). With both thresholds raised
the memory stays in the process and is reused; nothing that is computed changes.

`ganinv` (the command) calls `keep_freed_memory` once at start; a library user may call it too.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

# mallopt parameters (glibc malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX):
# blocks up to 32 MiB come from the heap; larger ones are still mapped and unmapped.
MMAP_THRESHOLD_MAX = 32 * 2**20
TRIM_THRESHOLD = 2**31 - 1  # an int: never trim the heap's top

# Set by a user for glibc (MALLOC_TRIM_THRESHOLD_ etc.): their choice is kept.
MALLOC_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True if applied.

    Does nothing (False) off glibc, or when the user tuned malloc through its environment.
    """
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    if any(name in os.environ for name in MALLOC_ENV):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Setting either one also stops glibc from moving them itself (its dynamic thresholds).
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
