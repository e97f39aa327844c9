"""HyperStyle (Alaluf et al., CVPR 2022): per-image generator weight offsets from a hypernetwork.

On top of a frozen initial encoder (W encoder or e4e), the hypernetwork (`hypernetwork`) reads the
image and the current reconstruction and predicts multiplicative offsets for the tuned modulated
convs, refined over a few iterations. The codes are the initial encoder's (space ``w`` or
``wplus``) plus ganinv's weight-offset parts. Registered through an entry point only: encoder
``hyperstyle`` (`encoder.HyperStyleEncoder`).
"""
