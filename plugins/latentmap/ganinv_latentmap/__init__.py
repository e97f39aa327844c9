"""ganinv plugin distribution 'latentmap' (registered through entry points in pyproject.toml)."""
