"""Checkpoint readers and writers: rosinality .pt, NVlabs pickles (no code execution), ours."""
