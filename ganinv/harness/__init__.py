"""The harness: train, invert, evaluate and benchmark any method combination, and write reports."""
