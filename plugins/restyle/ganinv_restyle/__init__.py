"""ReStyle (Alaluf et al., ICCV 2021): encoders that refine a W+ code in residual steps.

`restyle_psp` and `restyle_e4e` (entry points in ``ganinv.encoders``) read the image and the
current reconstruction (6 channels), predict an offset added to the current code, and repeat,
starting from the average code and its image (`iterative.py`).
"""
