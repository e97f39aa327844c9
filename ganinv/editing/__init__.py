"""Editing inverted codes: learned directions (InterFaceGAN), blending, one-pair custom edits."""
