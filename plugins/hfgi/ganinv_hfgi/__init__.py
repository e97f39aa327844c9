"""HFGI (Wang et al., CVPR 2022): high-fidelity GAN inversion.

On top of a frozen e4e inversion, the distortion map ``D = x - G(w)`` is aligned to the image
being rendered by the Adaptive Distortion Alignment network (`alignment.ADA`), read by the
distortion consultation encoder (`consultation.ConsultationEncoder`) and turned into a scale and
a shift of one generator feature. Registered through entry points only: space ``hfgi``
(`space.HFGISpace`, which owns both networks and renders through them, edited codes included)
and encoder ``hfgi`` (`encoder.HFGIEncoder`, which trains them on pseudo-edited pairs).
"""
