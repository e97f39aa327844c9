"""SDIC (Zhang et al., AAAI 2024): spatial-contextual discrepancy information compensation.

On top of a frozen e4e inversion, the discrepancy prediction network (`dipn.DIPN`) estimates what
the initial reconstruction misses, and the compensation network (`dicn.DICN`) turns that into a
gated residual on one generator feature and an affine correction of the W+ codes. Registered
through entry points only: space ``sdic`` (`space.SDICSpace`) and encoder ``sdic``
(`encoder.SDICEncoder`).
"""
