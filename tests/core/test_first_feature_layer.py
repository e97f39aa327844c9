"""`ganinv.core.generator.first_feature_layer`: the layer SDIC compensates and HFGI modulates."""

from __future__ import annotations

import pytest

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.generator import first_feature_layer


def test_the_first_feature_layer_at_a_size(tiny_generator) -> None:
    # The const input at 4 px; at 8 and 16 px the upsampling conv, never a toRGB.
    names = {r: first_feature_layer(tiny_generator, r, "-").name for r in (4, 8, 16)}
    assert names == {4: "b4.const", 8: "b8.conv0", 16: "b16.conv0"}
    for space, args in (("sdic", {}), ("hfgi", {"distortion_resolution": 16})):
        built = ganinv.build(
            "spaces", {"name": space, "feature_resolution": 8, **args}, generator=tiny_generator
        )
        assert built.layer.name == "b8.conv0", space


def test_a_missing_size_names_the_purpose_and_the_sizes(tiny_generator) -> None:
    message = (
        r"^the generator has no synthesis layer at 12 px for SDIC's compensation; set "
        r"feature_resolution to one of \[4, 8, 16\]$"
    )
    with pytest.raises(GanInvError, match=message):
        first_feature_layer(tiny_generator, 12, "for SDIC's compensation")
    with pytest.raises(GanInvError, match="at 32 px for HFGI's conditions"):
        ganinv.build("spaces", {"name": "hfgi", "feature_resolution": 32}, generator=tiny_generator)
