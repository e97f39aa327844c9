"""HyperStyle's hypernetwork: which layers it tunes and shares (the released defaults at 1024 px),
the shapes and kinds of offsets each block gives, and starting the backbone from torchvision's
ResNet-34 layout."""

from __future__ import annotations

import pytest
import torch
from ganinv_hyperstyle.backbone import HyperBackbone, load_torchvision_resnet
from ganinv_hyperstyle.hypernetwork import HyperNetwork, shared_layers, tuned_layers
from ganinv_hyperstyle.refinement import RefinementBlock, SharedHypernet, SharedRefinementBlock

from ganinv.core.errors import GanInvError
from ganinv.stylegan2.generator import StyleGAN2Generator


@pytest.fixture(scope="module")
def g1024() -> StyleGAN2Generator:
    """Config-f at 1024 px, built without memory (only its layer table is read)."""
    with torch.device("meta"):
        return StyleGAN2Generator(z_dim=512, w_dim=512, resolution=1024)


def slot_names(generator: StyleGAN2Generator) -> list[str]:
    """HyperStyle's slot index j -> layer name: j = 0 is L0, j = 1 is T0, then per block b the
    slots 3b - 1 (upsampling conv), 3b (conv), 3b + 1 (ToRGB): synthesis order without const."""
    return [info.name for info in generator.layers if info.kind != "const"]


def test_defaults_are_the_released_layers_to_tune_and_shared_layers(g1024):
    slots = slot_names(g1024)
    assert len(slots) == 26
    released_tuned = [0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24]
    released_shared = [0, 2, 3, 5, 6, 8, 9, 11, 12]
    tuned = tuned_layers(g1024, None)
    assert [i.name for i in tuned] == [slots[j] for j in released_tuned]
    assert shared_layers(tuned, None) == [slots[j] for j in released_shared]
    assert all("torgb" not in i.name for i in tuned)


def test_layer_choices_are_checked(g1024):
    tuned = tuned_layers(g1024, ["b64.conv1", "b128.conv0"])
    assert [i.name for i in tuned] == ["b64.conv1", "b128.conv0"]
    with pytest.raises(GanInvError, match="layers_to_tune has unknown \\['b4.torgb'\\]"):
        tuned_layers(g1024, ["b4.torgb"])
    with pytest.raises(GanInvError, match="empty or repeated"):
        tuned_layers(g1024, ["b8.conv1", "b8.conv1"])
    with pytest.raises(GanInvError, match="not among the tuned layers"):
        shared_layers(tuned, ["b8.conv1"])
    with pytest.raises(GanInvError, match="must all map C channels to C"):
        shared_layers(tuned, ["b64.conv1", "b128.conv0"])  # 512 -> 512 and 512 -> 256


def test_refinement_block_gives_channel_wise_offsets_shared_by_the_taps():
    torch.manual_seed(0)
    block = RefinementBlock(6, 5, feature_channels=16, spatial=4, inner_channels=8, head_channels=8)
    delta = block(torch.randn(3, 16, 4, 4))
    assert delta.shape == (3, 5, 6, 3, 3)
    assert torch.equal(delta, delta[..., :1, :1].expand_as(delta))  # one value per (out, in)
    assert not torch.equal(delta[0], delta[1])  # per image
    # log2(4) - 1 = 1 stride-2 conv (4 -> 2), as released (16 -> 2 with three at 256 px).
    assert sum(isinstance(m, torch.nn.Conv2d) for m in block.convs) == 1
    block.zero_init_()
    assert block(torch.randn(2, 16, 4, 4)).abs().max() == 0


def test_shared_hypernet_gives_full_kernels_from_one_parameter_set():
    torch.manual_seed(0)
    hypernet = SharedHypernet(code_dim=4, channels=6)
    assert hypernet.w2.abs().max() < 2 and hypernet.w2.std() < 0.05  # fmod(N(0, 1) / 40, 2)
    heads = [SharedRefinementBlock(16, 4, inner_channels=8, code_dim=4) for _ in range(2)]
    features = torch.randn(3, 16, 4, 4)
    deltas = [head(features, hypernet) for head in heads]
    assert deltas[0].shape == (3, 6, 6, 3, 3)
    assert not torch.equal(deltas[0][..., 0, 0], deltas[0][..., 1, 1])  # a full 3 x 3 kernel
    assert not torch.equal(deltas[0], deltas[1])  # each layer its own head
    # Head: stride-1 conv, then log2(4) = 2 stride-2 convs down to 1 x 1.
    strides = [m.stride[0] for m in heads[0].convs if isinstance(m, torch.nn.Conv2d)]
    assert strides == [1, 2, 2]
    # The offset is the released two-stage product, read in memory order.
    code = heads[0].linear(heads[0].convs(features).flatten(1))
    h_in = (code @ hypernet.w2 + hypernet.b2).reshape(3, 6, 4)
    expected = (h_in @ hypernet.w1 + hypernet.b1).reshape(3, 6, 6, 3, 3)
    torch.testing.assert_close(deltas[0], expected)


def test_hypernetwork_owns_one_shared_hypernet_and_one_block_per_layer(g1024):
    tuned = tuned_layers(g1024, ["b4.conv1", "b8.conv0", "b128.conv0"])
    backbone = HyperBackbone((1, 1, 1, 1), (8, 8, 8, 16), stem_stride=2)
    with torch.device("meta"):
        net = HyperNetwork(backbone.to("meta"), 2, tuned, ["b4.conv1", "b8.conv0"], 8, 8, 8, 4)
    assert set(net.blocks) == {"b4_conv1", "b8_conv0", "b128_conv0"}
    assert isinstance(net.blocks["b128_conv0"], RefinementBlock)
    hypernets = [m for m in net.modules() if isinstance(m, SharedHypernet)]
    assert len(hypernets) == 1 and hypernets[0].channels == 512


def test_backbone_reduces_by_sixteen_and_starts_from_torchvision_resnet34(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    backbone = HyperBackbone()  # ResNet-34, stem stride 2
    assert backbone(torch.zeros(1, 6, 64, 64)).shape == (1, 512, 4, 4)
    reference = torchvision.models.resnet34(weights=None).state_dict()
    path = tmp_path / "resnet34.pth"
    torch.save(reference, path)
    load_torchvision_resnet(backbone, str(path))
    mine = backbone.state_dict()
    assert torch.equal(mine["layer3.5.conv2.weight"], reference["layer3.5.conv2.weight"])
    key = "layer2.0.downsample.1.running_var"
    assert torch.equal(mine[key], reference[key])
    assert torch.equal(mine["conv1.weight"][:, :3], reference["conv1.weight"])
    assert 0.8 < float(mine["conv1.weight"][:, 3:].std()) < 1.2  # N(0, 1) in the other three


def test_backbone_weights_of_another_shape_are_one_error(tmp_path):
    backbone = HyperBackbone((1, 1, 1, 1), (8, 8, 8, 8))
    path = tmp_path / "other.pth"
    torch.save(HyperBackbone((1, 1, 1, 1), (8, 8, 8, 16), in_channels=3).state_dict(), path)
    wrong = "'layer4.0.bn1.bias' is \\[16\\], the backbone needs \\[8\\]"
    with pytest.raises(GanInvError, match=wrong):
        load_torchvision_resnet(backbone, str(path))
    with pytest.raises(GanInvError, match="no such file"):
        load_torchvision_resnet(backbone, str(tmp_path / "missing.pth"))
