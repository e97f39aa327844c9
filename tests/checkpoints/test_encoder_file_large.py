"""An exported encoder's network may hold more values than `EXTRA_VALUES` when they are all in
the file (paper-size pSp: 267M); only values outside its state dict are capped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganinv.checkpoints.encoder_file import EXTRA_VALUES, EncoderHeader, _compare
from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import TensorInfo


def _header(module: torch.nn.Module) -> EncoderHeader:
    tensors = {k: TensorInfo("F32", tuple(v.shape)) for k, v in module.state_dict().items()}
    return EncoderHeader(Path("enc.safetensors"), None, "wplus", "psp", tensors)


def test_weights_that_are_in_the_file_are_not_counted_as_extra():
    with torch.device("meta"):
        big = torch.nn.Linear(5000, 4000)  # 20M values, all in the file
    assert big.weight.numel() > EXTRA_VALUES
    _compare(_header(big), big)


def test_values_outside_the_state_dict_are_still_capped():
    with torch.device("meta"):
        module = torch.nn.Linear(2, 2)
        module.register_buffer("hidden", torch.zeros(EXTRA_VALUES + 1), persistent=False)
    with pytest.raises(GanInvError, match="values that are not in the file"):
        _compare(_header(module), module)
