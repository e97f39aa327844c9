"""Reusable network building blocks (IR-SE, ...) shared by losses, metrics and encoders."""
