"""Offline weights: a verified local cache; nothing is ever downloaded at run time.

``load_state_dict("vgg16_imagenet")`` returns verified tensors, converting automatic sources on
first use; user-provided files are installed once with ``ganinv weights install NAME --from PATH``.
"""

from ganinv.weights.cache import CACHE_ENV, cache_dir, sha256_file
from ganinv.weights.catalog import CATALOG, WeightSpec, spec
from ganinv.weights.manager import install, load_state_dict, status, verify, weights_path

__all__ = [
    "CACHE_ENV",
    "CATALOG",
    "WeightSpec",
    "cache_dir",
    "install",
    "load_state_dict",
    "sha256_file",
    "spec",
    "status",
    "verify",
    "weights_path",
]
