"""Test a ganinv component the way ganinv tests its own: the tiny world and the contract checks.

Public API for plugin authors (see docs/plugins.md)::

    from ganinv.testing import tiny_generator, check_space
    space = MySpace(tiny_generator())
    check_space(space, name="my_space")

Each ``check_*`` raises `ContractError` (an AssertionError) naming the rule a component breaks.
"""

from ganinv.testing.contract import ContractError
from ganinv.testing.dataset_check import check_dataset
from ganinv.testing.encoder_check import check_encoder
from ganinv.testing.metric_check import check_metric
from ganinv.testing.refiner_check import check_refiner
from ganinv.testing.space_check import check_space
from ganinv.testing.world import (
    TINY_RESOLUTION,
    make_world,
    render_image_folder,
    save_tiny_networks,
    tiny_generator,
    tiny_images,
    write_idx_folder,
)

__all__ = [
    "TINY_RESOLUTION",
    "ContractError",
    "check_dataset",
    "check_encoder",
    "check_metric",
    "check_refiner",
    "check_space",
    "make_world",
    "render_image_folder",
    "save_tiny_networks",
    "tiny_generator",
    "tiny_images",
    "write_idx_folder",
]
