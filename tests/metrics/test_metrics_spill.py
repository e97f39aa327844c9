import os

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.metrics.spill import SpilledRows


def test_rows_come_back_in_order_in_blocks(tmp_path):
    store = SpilledRows(5, str(tmp_path))
    rows = [torch.randn(n, 5, dtype=torch.float64) for n in (3, 0, 7, 1)]
    for r in rows:
        store.update(r)
    expected = torch.cat(rows).float()
    assert store.rows == 11 and store.nbytes == 11 * 5 * 4
    got = [(start, block.copy()) for start, block in store.blocks(4)]
    assert [start for start, _ in got] == [0, 4, 8]
    assert torch.equal(torch.from_numpy(np.concatenate([b for _, b in got])), expected)
    assert torch.equal(store.read_all(), expected)
    store.update(torch.ones(2, 5))  # appending after reading continues at the end
    assert torch.equal(store.read_all()[-2:], torch.ones(2, 5))
    assert store.read_all().shape == (13, 5)


def test_nothing_is_left_on_disk(tmp_path):
    store = SpilledRows(3, str(tmp_path))
    store.update(torch.zeros(1000, 3))
    assert os.listdir(tmp_path) == []  # the file is unlinked when created
    store.close()
    assert os.listdir(tmp_path) == []


def test_wrong_width_and_missing_directory_are_user_errors(tmp_path):
    store = SpilledRows(3, str(tmp_path))
    with pytest.raises(GanInvError, match="3 wide"):
        store.update(torch.zeros(2, 4))
    assert store.rows == 0
    with pytest.raises(GanInvError, match="choose a writable directory"):
        SpilledRows(3, str(tmp_path / "missing"))


def test_empty_store_yields_nothing(tmp_path):
    store = SpilledRows(3, str(tmp_path))
    assert list(store.blocks(8)) == []
    assert store.read_all().shape == (0, 3)
