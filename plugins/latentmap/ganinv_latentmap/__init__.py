"""Latent-map inversion ("GAN inversion through latent codes of pretrained encoder").

A frozen pretrained image encoder (a registered feature extractor, `features`) and a small MLP
that maps its pooled features to W or W+ (encoder ``latentmap``), trained on synthetic pairs
(G(w), w) only (dataset ``synthetic_pairs``, loss ``latent_mse``), optionally with random masks
(`masks`) so that it inverts masked images. Registered through entry points only.
"""
