"""`ganinv.nets.ir_se.encoder_stages`: the IR-SE settings of pSp's pyramid, ReStyle's and
Feature-Style's backbones, checked in one place with the owner's words."""

from __future__ import annotations

import pytest
from ganinv_baselines.psp_parts import FeaturePyramid
from ganinv_featurestyle.branches import StageBackbone
from ganinv_restyle.backbone import ReStyleBackbone

from ganinv.core.errors import GanInvError
from ganinv.nets.ir_se import encoder_stages, stage_specs


def test_same_stages_as_stage_specs() -> None:
    assert encoder_stages(None, [1, 2, 1, 1], [8, 8, 16, 16], "x") == stage_specs(
        None, (1, 2, 1, 1), (8, 8, 16, 16)
    )
    assert encoder_stages(50, None, (64, 128, 256, 512), "x") == stage_specs(50)


@pytest.mark.parametrize(
    ("network", "owner", "settings"),
    [
        (FeaturePyramid, "the pSp pyramid", "IR-SE backbone settings"),
        (ReStyleBackbone, "the ReStyle backbone", "IR-SE backbone settings"),
        (StageBackbone, "feature_style", "feature_style backbone settings"),
    ],
)
def test_wrong_settings_name_their_network(network, owner, settings) -> None:
    with pytest.raises(GanInvError, match=rf"^{owner} needs 4 stage widths, got \[8, 8, 16\]$"):
        network(None, [1, 1, 1], [8, 8, 16])
    with pytest.raises(GanInvError, match=rf"^{settings}: IR-SE depth 51 is not one of"):
        network(51, None, [8, 8, 16, 16])
    with pytest.raises(GanInvError, match=rf"^{settings}: units \(1, 0, 1, 1\)"):
        network(None, [1, 0, 1, 1], [8, 8, 16, 16])
