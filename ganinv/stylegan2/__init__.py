"""StyleGAN2 in pure PyTorch: generator with synthesis hooks, discriminator, resampling ops."""

from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator, mix_styles

__all__ = ["StyleGAN2Discriminator", "StyleGAN2Generator", "mix_styles"]
