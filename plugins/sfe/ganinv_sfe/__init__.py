"""StyleFeatureEditor (Bobkov et al., CVPR 2024): inversion into the F space and editing through a
feature editor.

- `inverter.Inverter` (phase 1): an IR backbone whose third stage keeps its resolution, W+ heads
  on pooled stage outputs, a feature head on stage 3 and the `fuser.Fuser` that merges it with the
  generator's own feature G_k(w) into F_k.
- `fuser.Fuser` also is the feature editor H (phase 2): (F_k, Delta) -> F_k', with
  Delta = G_k(w_E) - G_k(w_E') from the base encoder's (e4e) codes and their edit.
- `space.SFESpace` (space ``sfe``): the F space (``fspace``, ganinv_featurestyle) plus the base
  encoder's W+ codes, editing through the attached feature editor.
- `encoder.SFEEncoder` (encoder ``sfe``): both phases, trained with ``ganinv train``.
- `directions.TrainingDirections`: the edits phase 2 trains on.
"""
