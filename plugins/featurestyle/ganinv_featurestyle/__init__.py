"""ganinv plugin: inversion in feature space.

- space ``fspace``: W+ codes plus one intermediate generator feature that replaces the feature the
  generator computes at that layer (Feature-Style encoder, Yao et al. ECCV 2022; StyleFeatureEditor,
  Bobkov et al. CVPR 2024);
- encoder ``feature_style``: the Feature-Style encoder (style branch + feature branch).
"""
