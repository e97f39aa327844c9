"""Imports every module that registers built-in components (run once by the registry)."""

# ruff: noqa: F401
