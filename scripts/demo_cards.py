"""(Re)write the registry cards of the demo networks shipped in registry/assets/ (size, sha256,
architecture, how they were trained), from the files themselves. Run after retraining:

  python scripts/demo_cards.py          # writes registry/demo_*.yaml for every shipped demo file

`tests/demo/test_demo_assets.py` fails when a shipped file no longer matches its card.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ganinv.core.components import spec_name
from ganinv.core.safetensors_io import read_table
from ganinv.harness.method import read_encoder_file
from ganinv.weights.cache import sha256_file

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "registry" / "assets"
GENERATOR = "demo_fmnist32_stylegan2"
LICENCE = (
    "MIT (ganinv); trained here on the Fashion-MNIST train split (MIT licence, Zalando Research)"
)
# name -> (title, training config); the generator's config is configs/demo/gan.yaml.
ENCODERS = {
    "demo_w_encoder": (
        "W encoder (pSp backbone, one code)",
        "configs/baselines/demo_w_encoder.yaml",
    ),
    "demo_psp": ("pSp encoder", "configs/baselines/demo_psp.yaml"),
    "demo_e4e": ("e4e encoder", "configs/baselines/demo_e4e.yaml"),
    "demo_padinv": ("PadInv encoder (padding space)", "configs/padinv/demo_padinv.yaml"),
    "demo_padinv_residual": (
        "PadInv encoder with residual maps",
        "configs/padinv/demo_padinv_residual.yaml",
    ),
    "demo_padinv_residual_nownorm": (
        "PadInv encoder with residual maps, without the W-norm term",
        "configs/padinv/demo_padinv_residual_nownorm.yaml",
    ),
    "demo_idinvert": ("IDInvert domain-guided encoder", "configs/idinvert/demo_idinvert.yaml"),
    "demo_sdic": ("SDIC compensation networks on demo_e4e", "configs/sdic/demo_sdic.yaml"),
    "demo_latentmap": ("latent-map (VGG16 conv4_3 -> W+)", "configs/latentmap/demo_latentmap.yaml"),
    "demo_latentmap_masked": (
        "latent-map trained with masked inputs",
        "configs/latentmap/demo_latentmap_masked.yaml",
    ),
    "demo_feature_style": (
        "Feature-Style encoder (F space: W+ plus the 8 px feature)",
        "configs/featurestyle/demo_feature_style.yaml",
    ),
    "demo_restyle_psp": (
        "ReStyle-pSp encoder, 3 residual steps per batch and at inversion (600 batches of 16, not"
        " 4000: each costs 3 encoder and 3 generator passes)",
        "configs/restyle/demo_restyle_psp.yaml",
    ),
    "demo_restyle_e4e": (
        "ReStyle-e4e encoder, 3 residual steps per batch and at inversion (600 batches of 16, not"
        " 4000: each costs 3 encoder and 3 generator passes)",
        "configs/restyle/demo_restyle_e4e.yaml",
    ),
    "demo_hfgi": (
        "HFGI consultation branch and ADA on demo_e4e (batch 8)",
        "configs/hfgi/demo_hfgi.yaml",
    ),
    "demo_hyperstyle": (
        "HyperStyle hypernetwork on demo_e4e (batch 8, 2 scored iterations per batch, 5 at"
        " inversion)",
        "configs/hyperstyle/demo_hyperstyle.yaml",
    ),
    "demo_sfe_inverter": (
        "StyleFeatureEditor inverter, phase 1 (F space: W+ plus the 16 px feature; batch 8)",
        "configs/sfe/demo_sfe_inverter.yaml",
    ),
    "demo_sfe": (
        "StyleFeatureEditor feature editor, phase 2, on demo_sfe_inverter and demo_e4e (batch 8)",
        "configs/sfe/demo_sfe.yaml",
    ),
}

# Where a demo encoder is used besides the demo benchmark (or instead of it).
USED_FOR = {
    "demo_psp": "the demo benchmark and the class direction of scripts/demo_edit.py",
    "demo_padinv": "the demo benchmark and the blending / custom edit of scripts/demo_edit.py",
    "demo_e4e": (
        "the demo benchmark, and the frozen base of demo_sdic, demo_hfgi and demo_hyperstyle"
    ),
    "demo_latentmap": "the demo benchmark and scripts/demo_latentmap.py",
    "demo_latentmap_masked": "scripts/demo_latentmap.py (masked inputs)",
    "demo_restyle_psp": "the ReStyle table (configs/restyle/demo_restyle_bench.yaml)",
    "demo_restyle_e4e": "the ReStyle table (configs/restyle/demo_restyle_bench.yaml)",
    "demo_sfe_inverter": "the frozen inverter of demo_sfe (configs/sfe/demo_sfe.yaml)",
    "demo_sfe": "the SFE demo bench and editability check (configs/sfe/demo_sfe*_bench.yaml)",
}


def card_for(name: str, path: Path, kind: str, title: str, source: str) -> dict[str, Any]:
    """The fields every demo card shares, in the order the other cards use."""
    return {
        "name": name,
        "kind": kind,
        "title": title,
        "used_for": "",
        "source": source,
        "licence": LICENCE,
        "obtain": f"shipped in the repository at registry/assets/{path.name}",
        "file": {
            "filename": path.name,
            "format": None,
            "size_bytes": path.stat().st_size,
            "sha256": sha256_file(path),
            "sha256_note": "computed from the shipped file by scripts/demo_cards.py",
        },
    }


def generator_card(path: Path) -> dict[str, Any]:
    header, _ = read_table(path, "generator file")
    meta = json.loads(header["meta"])
    config = json.loads(header["networks"])["generator"]["config"]
    card = card_for(
        GENERATOR,
        path,
        "generator",
        f"Demo StyleGAN2, Fashion-MNIST 32 px, {meta['kimg']:g} kimg (trained in ganinv)",
        "trained in this repository: bash scripts/train_demo.sh gan (configs/demo/gan.yaml)",
    )
    card["used_for"] = "the generator of every demo config (configs/demo/, configs/*/demo_*.yaml)"
    dataset = meta["dataset"]
    card["file"].update(
        format="native",
        expect={k: config[k] for k in ("resolution", "z_dim", "w_dim")},
    )
    card["provenance"] = {
        "verified": [
            f"trained by `{meta['trainer']}` for {meta['kimg']:g} kimg on the {dataset['split']} "
            f"split of {dataset['name']}",
            "holds generator (with w_avg) and discriminator (docs/results.md: SWD, samples)",
        ],
        "unverified": [],
        "looked_at": ["configs/demo/gan.yaml", "docs/results.md"],
    }
    return card


def _shown(path: str) -> str:
    """A path from a header (absolute once read) as the repository names it."""
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return path


def encoder_card(name: str, path: Path) -> dict[str, Any]:
    title, config = ENCODERS[name]
    specs, _, info = read_encoder_file(path)
    card = card_for(
        name,
        path,
        "encoder",
        f"Demo {title}, {info.get('step', '?')} training steps (trained in ganinv)",
        f"trained in this repository: bash scripts/train_demo.sh encoders {name[5:]} ({config})",
    )
    card["used_for"] = USED_FOR.get(name, "the demo benchmark (configs/demo/bench.yaml)")
    card["file"].update(
        format="ganinv_encoder",
        expect={"encoder": spec_name(specs["encoder"]), "space": spec_name(specs["space"])},
    )
    card["provenance"] = {
        "verified": [
            f"exported by `ganinv train {config}` at step {info.get('step', '?')} (final weights)",
            f"generator {_shown(specs['generator'])}",
        ],
        "unverified": [],
        "looked_at": [config],
    }
    return card


def main() -> None:
    written = []
    for path in sorted(ASSETS.glob("demo_*.safetensors")):
        name = path.stem
        if name == GENERATOR:
            card = generator_card(path)
        elif name in ENCODERS:
            card = encoder_card(name, path)
        else:
            raise SystemExit(f"{path}: no description for this demo file in {__file__}")
        out = ROOT / "registry" / f"{name}.yaml"
        out.write_text(yaml.safe_dump(card, sort_keys=False, width=100))
        written.append(out.relative_to(ROOT))
    print("\n".join(map(str, written)))


if __name__ == "__main__":
    main()
