"""PTI (Roich et al., ACM TOG 2022): pivot inversion, then tuning the generator around the pivot.

The tuned generator is part of the code (``weight_offset.<layer>`` parts,
`ganinv.core.weight_offsets`), so a batch tunes one generator per image and the shared generator
is never changed.
"""
