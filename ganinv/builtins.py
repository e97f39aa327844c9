"""Imports every module that registers built-in components (run once by the registry)."""

# ruff: noqa: F401
import ganinv.data  # datasets: folder, zip, lmdb, idx, fashion_mnist
import ganinv.stylegan2.generator  # generators: stylegan2
