"""Tiny real components for the baseline tests: a 16 px StyleGAN2 (16 channels, z/w dim 16),
its checkpoint file and a folder of images it rendered."""

from __future__ import annotations

import torch

from ganinv.stylegan2.generator import StyleGAN2Generator


def make_tiny_generator(seed: int = 0, noise_strength: float = 0.1) -> StyleGAN2Generator:
    """A frozen 16 px generator whose w_avg is the mean of 2000 mapped z (as after training)."""
    torch.manual_seed(seed)
    g = StyleGAN2Generator(
        z_dim=16, w_dim=16, resolution=16, channels={4: 16, 8: 16, 16: 16}, mapping_layers=2
    )
    with torch.no_grad():
        g.w_avg.copy_(g.mapping_w(torch.randn(2000, 16)).mean(0))
        for name, p in g.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(noise_strength)  # so per-layer noise changes the image
    return g.eval().requires_grad_(False)


def make_world(root, count: int = 8):
    """A tiny generator file (with its discriminator) and a folder of images it rendered."""
    import numpy as np
    from PIL import Image

    from ganinv.checkpoints.native import save_networks
    from ganinv.stylegan2.discriminator import StyleGAN2Discriminator

    g = make_tiny_generator()
    d = StyleGAN2Discriminator(resolution=16, channels={4: 16, 8: 16, 16: 16})
    generator_file = save_networks(root / "g.safetensors", {"generator": g, "discriminator": d}, {})
    folder = root / "images"
    folder.mkdir()
    torch.manual_seed(1)
    with torch.no_grad():
        images = g(torch.randn(count, g.z_dim), truncation_psi=0.7).clamp(-1, 1)
    arrays = ((images + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i, array in enumerate(arrays):
        Image.fromarray(np.ascontiguousarray(array)).save(folder / f"{i:03d}.png")
    return generator_file, folder
