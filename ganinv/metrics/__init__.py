"""Evaluation metrics: streaming, per image then averaged, each result tagged with its protocol."""
