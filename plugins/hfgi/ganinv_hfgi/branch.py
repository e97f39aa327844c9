"""The two trained networks of HFGI in one module: ADA then the consultation encoder.

The ``hfgi`` space owns one `HFGIBranch` and renders through it; the ``hfgi`` encoder adopts the
same object as its submodule ``branch``, so training, checkpoints and exported files hold its
weights and loading an exported encoder puts them where the space renders from.
"""

from __future__ import annotations

import torch
from torch import nn

from ganinv_hfgi.alignment import ADA
from ganinv_hfgi.consultation import ConsultationEncoder


class HFGIBranch(nn.Module):
    """(distortion [B, 3, S, S], rendered image at S) -> (aligned distortion, scale, shift)."""

    def __init__(
        self,
        out_channels: int,
        alignment_widths: tuple[int, int, int, int],
        consultation_widths: tuple[int, int, int],
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        self.ada = ADA(alignment_widths)
        self.consultation = ConsultationEncoder(out_channels, consultation_widths, head_hidden)

    def forward(
        self, distortion: torch.Tensor, image: torch.Tensor, size: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        aligned = self.ada(distortion, image)
        scale, shift = self.consultation(aligned, size)
        return aligned, scale, shift
